# cityos — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_SIZE ?= small
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
# pytest-xdist workers (one per core; each has its own test database). A module's tests stay on
# one worker and the browser journeys share one (tests/conftest.py marks the groups).
TEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup
VENDOR := src/cityos/web/static/vendor
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run test install install-dev assets browser lint typecheck test-sqlite test-postgres migrate demo bench clean messages replay

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

# Real GTFS sample feeds (Google's demo feed, Cairns) ship only in gtfs-kit's source package:
# the transit tests and the demo city's bus network read them from var/gtfs.
GTFS_SAMPLES := var/gtfs/.extracted
$(GTFS_SAMPLES): | $(BIN)/python
	mkdir -p var/gtfs/sdist
	$(BIN)/pip download -q --no-deps --no-binary :all: --dest var/gtfs/sdist 'gtfs-kit==13.0.1'
	tar -xzf var/gtfs/sdist/gtfs_kit-13.0.1.tar.gz -C var/gtfs --strip-components=2 \
	  gtfs_kit-13.0.1/data/sample_gtfs.zip gtfs_kit-13.0.1/data/cairns_gtfs.zip
	@touch $@

install: $(VENV)/.installed $(GTFS_SAMPLES)
install-dev: $(VENV)/.installed-dev $(GTFS_SAMPLES)

node_modules/.package-lock.json: package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

$(VENDOR)/.copied: node_modules/.package-lock.json
	mkdir -p $(VENDOR)/htmx $(VENDOR)/echarts $(VENDOR)/maplibre
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	cp node_modules/maplibre-gl/dist/maplibre-gl.js node_modules/maplibre-gl/dist/maplibre-gl.css $(VENDOR)/maplibre/
	@touch $@

assets: $(VENDOR)/.copied

# Debian's Chromium for the browser tests (never a downloaded browser build).
browser:
	@if ! command -v chromium >/dev/null; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; fi
	@command -v chromium >/dev/null && chromium --version

migrate: install
	$(BIN)/cityos db upgrade

demo: migrate
	$(BIN)/cityos demo generate --size $(DEMO_SIZE) --if-missing

# 智慧出行: a generated hour on the demo road network, replayed at 60× with a jam 10 minutes in
# (open /tocc as demo-tocc while it runs; the alert's case lands in demo-jj's inbox).
replay: demo
	$(BIN)/cityos mobility generate-scenario var/scenario-demo --network demo --start now --hours 1 --vehicles 3000
	$(BIN)/cityos mobility replay var/scenario-demo --speed 60 --jam n0_0-n0_1:10:20:0.15

run: install assets migrate
	$(BIN)/cityos demo generate --size $(DEMO_SIZE) --if-missing
	$(BIN)/cityos serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check $(wildcard src tests bench migrations scripts)
	$(BIN)/mypy src/cityos

test-sqlite: install-dev assets browser
	$(PYTEST)

# PostgreSQL pass: always in CI (CITYOS_REQUIRE_SERVICES=1), otherwise when reachable.
test-postgres: install-dev assets
	@if [ "$$CITYOS_REQUIRE_SERVICES" = "1" ] || $(BIN)/python scripts/pg_reachable.py "$(PG_TEST_URL)"; then \
	  CITYOS_TEST_DATABASE_URL="$(PG_TEST_URL)" $(PYTEST) -m "not browser"; \
	else echo "PostgreSQL not reachable at $(PG_TEST_URL): skipping the PostgreSQL pass"; fi

test: lint test-sqlite test-postgres

bench: install-dev assets
	$(BIN)/python bench/locate.py
	$(BIN)/python bench/api_read.py
	$(BIN)/python bench/cases.py
	$(BIN)/python bench/consult.py
	$(BIN)/python bench/apply.py
	$(BIN)/python bench/passes.py
	$(BIN)/python bench/community_dashboard.py
	$(BIN)/python bench/campaign_rollup.py
	$(BIN)/python bench/ngsi_updates.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest.py --database-url $(PG_TEST_URL)
	$(BIN)/python bench/mobility_network.py
	$(BIN)/python bench/indicators.py
	$(BIN)/python bench/forecast.py

messages: install-dev
	$(BIN)/pybabel extract -F babel.cfg -o var/messages.pot src/cityos

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var/cityos.db*
