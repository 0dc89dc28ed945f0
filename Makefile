# keel — the two commands of the README are `make run` and `make test`.
# Every target sets up what it needs itself, so a fresh clone works.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KEEL_HOME ?= $(CURDIR)/var
export KEEL_HOME
export DAGSTER_HOME := $(KEEL_HOME)/dagster
HOST ?= 127.0.0.1
PORT ?= 3000
REVIEW_PORT ?= 3001
DEMO_DAYS ?= 10
BENCH_ROWS ?= 100000

.PHONY: install run test test-fast bench upgrade-check browser clean

install: $(VENV)/.installed

# Reinstall whenever the dependencies or the dbt project change; the dbt
# manifest is prepared here once, not at every definitions load.
$(VENV)/.installed: pyproject.toml $(shell find dbt_project -name '*.sql' -o -name '*.yml' 2>/dev/null | grep -v target)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/keel prepare
	touch $@

# Debian's chromium for the browser test (never a downloaded browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "could not install chromium with apt-get (need root and Debian's package registry)"; exit 1; }; \
	fi

run: install
	$(BIN)/keel serve --host $(HOST) --port $(PORT) --review-port $(REVIEW_PORT) --check
	$(BIN)/keel demo --days $(DEMO_DAYS) --if-empty
	$(BIN)/keel serve --host $(HOST) --port $(PORT) --review-port $(REVIEW_PORT)

test: install browser
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not integration and not browser"

bench: install
	$(BIN)/keel bench --rows $(BENCH_ROWS)

# A home made by an earlier keel, used by this checkout: `make upgrade-check FROM=<commit or tag>`.
upgrade-check: install
	@test -n "$(FROM)" || { echo "name the earlier keel: make upgrade-check FROM=<commit or tag>"; exit 2; }
	$(BIN)/python -m keel.upgrade_check '$(FROM)'

clean:
	rm -rf $(VENV) var dbt_project/target dbt_project/logs
