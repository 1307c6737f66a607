# Two commands set everything up on a fresh machine:
#   make demo   - create .venv, install meshlint, run it on the bundled examples/ mesh
#   make test   - install the dev dependencies, the test browser and Prometheus, run the linters and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint install dev browser prometheus docs screenshot dist clean bench fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

demo: install
	$(BIN)/meshlint check examples/ --fail-on never

test: dev lint browser prometheus
	$(BIN)/python -m pytest

# The browser the HTML report is tested in: Debian's chromium and chromium-driver (with a font,
# so that pages render alike everywhere). apt runs only when one of the two is missing, and
# needs root (the CI runs as root); elsewhere the browser tests say what to install.
BROWSER_BINARIES := /usr/bin/chromium /usr/bin/chromedriver
browser:
	@if ls $(BROWSER_BINARIES) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver fonts-dejavu-core >/dev/null; \
	else echo "make: the HTML report tests need a browser: sudo apt-get install chromium chromium-driver"; fi

# The fuzz suite (tests/test_robustness.py) with FUZZ times its examples, new ones every run
# (`make test` runs the same ones every time); a failure prints how to replay it. ~20 min.
FUZZ ?= 20
fuzz: dev
	MESHLINT_FUZZ=$(FUZZ) $(BIN)/python -m pytest -p no:cacheprovider tests/test_robustness.py

# Debian's prometheus and promtool: the --prometheus tests backfill telemetry and query a real
# server on 127.0.0.1. Installed once, as root (CI); elsewhere those tests skip, saying why.
prometheus:
	@if command -v prometheus >/dev/null && command -v promtool >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			prometheus >/dev/null; \
	else echo "make: prometheus and promtool are missing (apt-get install prometheus, as root)"; fi

# ruff (style, imports, likely bugs) and mypy (types), as configured in pyproject.toml
lint: dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

# Speed and memory against PyYAML's C parser on generated meshes (see benchmarks/README.md);
# not part of `make test`. Options: make bench BENCH_ARGS="--sizes 1000,5000 --repeat 3"
bench: dev
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# Regenerate the rule reference from the rules' own docstrings.
docs: install
	$(BIN)/meshlint rules --format markdown > docs/rules.md

# The README's picture of the HTML report of examples/, taken by the browser test that checks it.
screenshot: dev browser
	$(BIN)/python -m pytest -q tests/report/test_html_browser.py -k screenshot --screenshot docs/report.png

# The source distribution and the wheel, into dist/ (pip install dist/meshlint-*.whl).
# Built in an isolated environment with the setuptools pyproject.toml asks for.
dist: dev
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
