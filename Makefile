# Two commands set everything up on a fresh machine:
#   make demo   - create .venv, install meshlint, run it on the bundled examples/ mesh
#   make test   - install the dev dependencies, run the linters and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint install dev docs dist clean bench prometheus

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

test: dev prometheus lint
	$(BIN)/python -m pytest

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

# The source distribution and the wheel, into dist/ (pip install dist/meshlint-*.whl).
# Built in an isolated environment with the setuptools pyproject.toml asks for.
dist: dev
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
