# Two commands do everything on a fresh machine:
#   make run    set up, generate the demo data, run every demo month end to end, print outputs
#   make test   set up, run the test suite (all but the tests marked slow; 15 slowest printed)
# and for contributors: make lint (ruff, sqlfluff), make test-slow (what truly must be slow),
# make test-all (both; what CI runs after make lint).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
export DXMON_WAREHOUSE ?= $(CURDIR)/data/warehouse/dxmon.duckdb
export GX_ANALYTICS_ENABLED := False
export DAGSTER_DISABLE_TELEMETRY := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup browser run test test-slow test-all lint dev bench bench-100m clean

# Debian's Chromium for the headless-browser tests (tests/browser.py: Data Docs and reports opened
# offline). Installed by apt when missing (as root: CI runs as root); Playwright's own browser
# download is not used.
CHROMIUM := /usr/bin/chromium

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	@touch $(STAMP)

setup: $(STAMP) browser
	@mkdir -p $(DAGSTER_HOME) && cp -n dagster.yaml $(DAGSTER_HOME)/dagster.yaml 2>/dev/null || true
	$(BIN)/dxmon prepare
	$(BIN)/python -m expectations.data_docs_offline

browser:
	@if [ -x $(CHROMIUM) ]; then echo "chromium: $(CHROMIUM)"; else \
	  echo "chromium: $(CHROMIUM) missing; installing Debian's chromium package (apt-get update; apt-get install -y --no-install-recommends chromium)"; \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to install chromium (or run: sudo apt-get install chromium)"; exit 1; fi; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; \
	fi

run: setup
	$(BIN)/dxmon demo run

# -n auto: one pytest-xdist worker per core (each builds its own session fixtures; dbt parses once
# under a lock, tests/conftest.py). DXMON_TEST_WORKERS=0 runs in one process, e.g. to debug.
DXMON_TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest tests -q --durations=15 -n $(DXMON_TEST_WORKERS)

test: setup
	$(PYTEST) -m "not slow"

test-slow: setup
	$(PYTEST) -m slow

test-all: setup
	$(PYTEST)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint dbt_project

dev: setup
	$(BIN)/dagster dev -m orchestration.definitions

bench: setup
	$(BIN)/python -m benchmarks.service_index_bench --rows 10000000

bench-100m: setup
	$(BIN)/python -m benchmarks.service_index_bench --rows 100000000 --skip-floor-check

clean:
	rm -rf data dbt_project/target dbt_project/logs
