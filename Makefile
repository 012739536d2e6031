# Two entry points: `make run` and `make test`. Each builds what it needs from scratch:
# the venv (rebuilt when pyproject.toml changes), the project, and a Chromium.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench browser sdk clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

browser: $(STAMP)
	$(BIN)/python -m bots.runtime.browser ensure

# The real posthog-js the demo serves, pinned, from npm into a cache dir (never into git).
sdk: $(STAMP)
	$(BIN)/python -m analytics sdk ensure

# Today's whole plan against the embedded demo, as fast as the pages allow (see README).
run: browser sdk
	$(BIN)/hogfleet run --dwell-scale 0

lint: $(STAMP)
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --check --no-cache .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: browser sdk
	$(BIN)/python -m bots.runtime.browser ensure-xvfb
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: browser sdk
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/capture.py
	$(BIN)/python bench/fleet.py

clean:
	rm -rf $(VENV) .hogfleet
