"""Fixtures of the report tests: a mixed input shared by them, the CLI run on it once per format,
and a real browser for the HTML report.

The workspace holds a copy of `examples/` (real findings with related resources), a file with
a YAML syntax error (ML001), an invalid resource with and without a name (ML002), findings
suppressed by the `meshlint.io/ignore` annotation and by the config's `ignore-resources`, a
file whose name and port name need escaping in every format (`workspace.odd_name`,
`workspace.odd_port`), and a document read from stdin (`workspace.stdin`). All paths are given
relative to the workspace, as a CI job would (`workspace.paths`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

MIXED = """\
apiVersion: v1
kind: Service
metadata:
  name: legacy-db
  namespace: shop
  annotations:
    meshlint.io/ignore: "ML101"
spec:
  selector: {app: legacy-db}
  ports:
  - name: db
    port: 5000
  - name: admin
    port: 5001
---
apiVersion: v1
kind: Service
metadata:
  name: metrics
  namespace: ops
spec:
  selector: {app: metrics}
  ports:
  - name: prom
    port: 9090
---
apiVersion: v1
kind: Service
metadata:
  name: broken-ports
  namespace: shop
spec:
  ports: {}
---
apiVersion: v1
kind: Service
metadata:
  namespace: shop
spec:
  ports:
  - name: http
    port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: oops
  namespace: shop
spec:
  ports: [unclosed
"""

# A port name carrying every character the GitHub format must escape.
ODD_NAME = "odd/weird,name:v1.yaml"
ODD_PORT = "100%,a:b\nline2"
ODD = """\
apiVersion: v1
kind: Service
metadata:
  name: escapes
  namespace: edge
spec:
  selector: {app: escapes}
  ports:
  - name: "100%,a:b\\nline2"
    port: 8080
"""

CONFIG = 'ignore-resources:\n- {code: ML101, resource: "Service ops/*"}\n'

STDIN = """\
apiVersion: v1
kind: Service
metadata: {name: piped, namespace: stdin-ns}
spec:
  selector: {app: piped}
  ports:
  - name: custom
    port: 7000
"""

PATHS = ("examples", "mixed.yaml", "odd", "-")


@dataclass
class Workspace:
    root: Path
    run: Callable[..., subprocess.CompletedProcess]
    _runs: dict = field(default_factory=dict)

    paths: ClassVar[tuple[str, ...]] = PATHS
    stdin: ClassVar[str] = STDIN
    odd_name: ClassVar[str] = ODD_NAME
    odd_port: ClassVar[str] = ODD_PORT

    def check(self, *args: str, paths: tuple[str, ...] = PATHS,
              stdin: str | None = STDIN) -> subprocess.CompletedProcess:
        """`meshlint check PATHS ARGS` in the workspace (memoised: each format runs once)."""
        key = (args, paths, stdin)
        if key not in self._runs:
            self._runs[key] = self.run("check", *paths, *args, input=stdin, cwd=self.root)
        return self._runs[key]


@pytest.fixture(scope="session")
def workspace(tmp_path_factory, root, run) -> Workspace:
    path = tmp_path_factory.mktemp("mixed")
    shutil.copytree(root / "examples", path / "examples", ignore=shutil.ignore_patterns("*.md"))
    (path / "mixed.yaml").write_text(MIXED)
    (path / ODD_NAME).parent.mkdir()
    (path / ODD_NAME).write_text(ODD)
    (path / ".meshlint.yaml").write_text(CONFIG)
    return Workspace(path, run)


# --- a real browser --------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Headless, and quiet on the network: without the background-networking switches Chromium
# reaches out at start-up (component updates, sync, variations), which a closed network refuses.
CHROMIUM_SWITCHES = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--hide-scrollbars")
READY = "return window.meshlintReady"  # set by the report's script when it is done setting up


@dataclass
class Browser:
    """A headless Chromium (Debian's, driven through Debian's chromedriver) with what the tests
    read from it: the console and the requests of the page last opened."""

    driver: object

    def open(self, page: Path, width: int = 1400, height: int = 1000) -> float:
        """Load `page` in a viewport of this size; the milliseconds from navigation to the report's
        script being done (its `window.meshlintReady`)."""
        from selenium.webdriver.support.ui import WebDriverWait

        # the size of the page's viewport itself (a window's size would include the browser's frame)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.driver.get_log("browser")  # what earlier pages logged is not this page's
        self.driver.get_log("performance")
        self.driver.get(page.resolve().as_uri())
        return WebDriverWait(self.driver, 15).until(lambda d: d.execute_script(READY))

    def console(self) -> list[dict]:
        return self.driver.get_log("browser")

    def requests(self) -> list[tuple[str, str]]:
        """Every request since the page was opened (Chrome's network log), as (the URL, the
        document that made it). The browser's own pages (chrome://) may be among them."""
        out = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                params = message["params"]
                out.append((params["request"]["url"], params.get("documentURL", "")))
        return out

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def click(self, css: str) -> None:
        """Click the element as a user would, once it is in the middle of the window (where
        WebDriver scrolls it, the page's sticky bar would cover it)."""
        from selenium.webdriver.common.by import By

        element = self.driver.find_element(By.CSS_SELECTOR, css)
        self.js("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()


@pytest.fixture(scope="session")
def browser(tmp_path_factory) -> Iterator[Browser]:
    """The browser the HTML report is tested in. A missing one (`make test` installs it) fails
    the tests under CI=true and skips them elsewhere."""
    missing = [name for name, there in (("pip selenium", importlib.util.find_spec("selenium") is not None),
                                        (str(CHROMIUM), CHROMIUM.exists()), (str(CHROMEDRIVER), CHROMEDRIVER.exists()))
               if not there]
    if missing:
        reason = f"{', '.join(missing)} missing: `make test` installs Debian's chromium and chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)  # both paths given: Selenium Manager never looks online
    for switch in CHROMIUM_SWITCHES:
        options.add_argument(switch)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    yield Browser(driver)
    driver.quit()
