# Two commands: `make run` (service with demo data on http://127.0.0.1:8080) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8080

.PHONY: run test fuzz wheel-check lint bench bench-scale bench-history clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/oms db upgrade
	$(BIN)/oms demo seed --if-empty
	$(BIN)/oms demo keys
	@rm -rf var/prometheus && mkdir -p var/prometheus
	@echo "OMS serving on http://127.0.0.1:$(PORT)  (Ctrl-C stops the API and the scheduler)"
	@bash -c 'export PROMETHEUS_MULTIPROC_DIR=$$PWD/var/prometheus; \
	  $(BIN)/oms scheduler & sched=$$!; trap "kill $$sched 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/oms serve --port $(PORT)'

# pytest-xdist workers: each has its own SQLite files and its own PostgreSQL schema
TEST_WORKERS ?= 2

test: lint
	@# the console's browser tests drive Debian's Chromium (Playwright cannot download its own)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

# ruff, and the layer contracts of import-linter (pyproject's [tool.importlinter])
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Longer schemathesis runs against the served /openapi.json (make test runs a short one):
# SQLite, and the PostgreSQL of OMS_TEST_DATABASE_URL when it is set. FUZZ_SECONDS per key.
FUZZ_SECONDS ?= 300
fuzz: $(VENV)/.installed-dev
	$(BIN)/python fuzz/run.py --max-time $(FUZZ_SECONDS) --max-examples 200
	@if [ -n "$$OMS_TEST_DATABASE_URL" ]; then \
	  $(BIN)/python fuzz/run.py --database-url "$$OMS_TEST_DATABASE_URL" \
	    --max-time $(FUZZ_SECONDS) --max-examples 200; fi

# The wheel as a user installs it (fresh venv, outside the checkout): migrate, validate, serve.
wheel-check: $(VENV)/.installed-dev
	bash .ci/wheel-check

bench: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run_all.py

# Ten times the network (issue 18): 100k, 1M and 10M positions; SIZES=100000,1000000 for less.
bench-scale: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run_scale.py $(if $(SIZES),--sizes $(SIZES))

# Orders placed with a long history (issue 18): ORDERS historical orders against none.
bench-history: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/bench_history.py $(if $(ORDERS),--orders $(ORDERS))

clean:
	rm -rf $(VENV) var .pytest_cache
