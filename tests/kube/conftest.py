"""The live-cluster tests' server: `apiserver.py` beside this file, a Kubernetes API emulator
started for real on 127.0.0.1 as a process of its own (and stopped after the module), and the
kubeconfig files that point the official client at it.

`cluster.yaml` is the realistic cluster they read: an Istio 1.22 install as Helm leaves it
(istiod, the injector's and the mesh's ConfigMaps, the webhooks of the default revision and of
a `prod-stable` tag pointing at revision 1-23, an ingress gateway) and applications as the API
server returns them (Deployments, their ReplicaSets and Pods with status and owner references,
a Job whose pod is stuck on its proxy). A string `now-5h` in it is replaced by the time five
hours before the test (units s, m, h, d).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
TOKEN = "meshlint-e2e-token"
_AGO = re.compile(r"now-(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _times(value: Any, now: datetime) -> Any:
    if isinstance(value, dict):
        return {k: _times(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_times(v, now) for v in value]
    if isinstance(value, str):
        match = _AGO.fullmatch(value)
        if match:
            when = now - timedelta(**{_UNITS[match[2]]: int(match[1])})
            return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


@pytest.fixture(scope="session")
def kubernetes_client() -> None:
    """The official client must be installed (`make test` installs it); without it the live
    tests are skipped with the reason, and fail under CI."""
    try:
        import kubernetes  # noqa: F401
    except ImportError:
        if __import__("os").environ.get("CI") == "true":
            pytest.fail("the kubernetes client is not installed (make test installs it)")
        pytest.skip("the kubernetes client is not installed: pip install -e '.[kube]'")


@pytest.fixture
def cluster_objects() -> list[dict[str, Any]]:
    """A fresh copy of cluster.yaml's objects, with its relative times resolved."""
    now = datetime.now(UTC)
    with open(HERE / "cluster.yaml", encoding="utf-8") as fh:
        return [_times(doc, now) for doc in yaml.safe_load_all(fh) if doc]


class ApiServer:
    """The running emulator: its URL, and what the tests tell it and ask it."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url = url
        self._tmp = tmp

    def _control(self, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method="GET" if body is None else "POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def serve(self, objects: list[dict[str, Any]], **options: Any) -> None:
        """Serve these objects from now on (options: forbidden, not_installed, expire_continue,
        token), and forget the requests recorded so far."""
        self._control("/_emulator/state", {"objects": objects, "token": TOKEN, **options})

    def requests(self) -> list[dict[str, Any]]:
        """Every API request since the state was served: method, path, query."""
        return self._control("/_emulator/requests")

    def kubeconfig(self, name: str = "kubeconfig", *, context: str = "emulator", namespace: str | None = None,
                   token: str = TOKEN, server: str | None = None, current: str | None = None) -> Path:
        """A kubeconfig file holding one context that points at the emulator (or `server`),
        current unless `current` names another ("" for none)."""
        ctx: dict[str, Any] = {"cluster": f"{context}-cluster", "user": f"{context}-user"}
        if namespace:
            ctx["namespace"] = namespace
        config = {"apiVersion": "v1", "kind": "Config",
                  "clusters": [{"name": f"{context}-cluster", "cluster": {"server": server or self.url}}],
                  "users": [{"name": f"{context}-user", "user": {"token": token}}],
                  "contexts": [{"name": context, "context": ctx}]}
        current = context if current is None else current  # "": no current-context
        if current:
            config["current-context"] = current
        path = self._tmp / name
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory, kubernetes_client) -> Iterator[ApiServer]:
    tmp = tmp_path_factory.mktemp("apiserver")
    state = tmp / "state.json"
    state.write_text(json.dumps({"token": TOKEN, "objects": []}), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(HERE / "apiserver.py"), str(state)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "listening on http://127.0.0.1:PORT"
        assert line.startswith("listening on "), line
        yield ApiServer(line.split()[-1], tmp)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    time.sleep(0.01)
    return port
