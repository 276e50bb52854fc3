# Staff Room Kiosk. `make run` and `make test` work on a fresh machine: they create the
# venv and install what they need (PostgreSQL too, for the tests, through apt-get).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: run test lint format bench demo postgres poppler systemd chromium iproute clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The editable install leaves the kiosk as source; byte-compile it as a wheel install would, so
# that a start does not compile it again (PYTHONDONTWRITEBYTECODE may be set).
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	$(BIN)/python -m compileall -q kiosk
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	$(BIN)/python -m compileall -q kiosk
	@touch $@ $(VENV)/.installed-run

## The kiosk on the demo school (its own SQLite file, built on first run).
run: $(VENV)/.installed-run
	$(BIN)/kiosk --demo

## Every test, on SQLite and on a throwaway PostgreSQL cluster (one per xdist worker, on its
## own port), in PYTEST_WORKERS processes; and, at the same time, the UI tests again on stock
## Textual (KIOSK_TUNING=0: kiosk/ui/tuning switched off; its own tests are skipped there) in
## STOCK_WORKERS processes. The two passes run side by side because a UI test spends much of
## its time waiting (Pilot waits for the app to go idle after each key, polls sleep): one
## after the other, two workers left the 2 cores idle more than half the time. 4 + 3 workers:
## 3 + 2 left them idle a third of the time; 5 + 3 was no faster. The stock pass's report
## follows the main one's; `make test` fails if either fails.
## --dist worksteal: a worker left without tests takes some from a busy one (the long UI
## tests otherwise end the run on one worker).
## PYTHONDONTWRITEBYTECODE is cleared for the tests: with it set, pytest rewrites the asserts of
## every test module again in each worker of each run (about 3.5 s of CPU per worker); without
## it the rewritten modules are kept in tests/**/__pycache__ (ignored by git) and reused.
PYTEST_WORKERS ?= 4
STOCK_WORKERS ?= 3
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest
test: $(VENV)/.installed-dev postgres poppler systemd chromium iproute
	@stock_log=$$(mktemp); \
	KIOSK_TUNING=0 KIOSK_PG_EXPECTED=0 $(PYTEST) -n $(STOCK_WORKERS) --dist worksteal \
		-p no:cacheprovider -q tests/ui >"$$stock_log" 2>&1 & stock=$$!; \
	trap 'kill $$stock 2>/dev/null; rm -f "$$stock_log"; exit 130' INT TERM; \
	$(PYTEST) -n $(PYTEST_WORKERS) --dist worksteal; main=$$?; \
	wait $$stock; stock_status=$$?; \
	echo "=== tests/ui on stock Textual (KIOSK_TUNING=0), run beside the pass above ==="; \
	cat "$$stock_log"; rm -f "$$stock_log"; \
	echo "=== main pass: exit $$main; stock UI pass: exit $$stock_status ==="; \
	[ $$main = 0 ] && [ $$stock_status = 0 ]

## ruff (format + check), mypy and the import-layer contracts.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Speed and memory figures (see bench/README.md); prints ratios and a table.
bench: $(VENV)/.installed-dev postgres
	$(BIN)/python -m bench

demo: $(VENV)/.installed-run
	$(BIN)/kiosk demo

## The tests start their own PostgreSQL cluster; this makes sure its binaries exist.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "Installing PostgreSQL for the tests (apt-get)..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

## The label tests render PDF pages with poppler's pdftoppm and decode them; install it if missing.
poppler:
	@if ! command -v pdftoppm >/dev/null 2>&1; then \
		echo "Installing poppler-utils for the label tests (apt-get)..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq poppler-utils >/dev/null; \
	fi

## The deploy tests check the generated units with systemd-analyze verify (package systemd).
systemd:
	@if ! command -v systemd-analyze >/dev/null 2>&1; then \
		echo "Installing systemd for systemd-analyze (apt-get)..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq systemd >/dev/null; \
	fi

## The browser test drives Debian's Chromium with its chromedriver (Selenium; no browser download).
chromium:
	@if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then \
		echo "Installing Chromium and chromedriver for the browser test (apt-get)..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

## A PostgreSQL test cuts the kiosk's link to the server in a network namespace of its own
## (unshare -n, then ip link set lo down): `ip` is iproute2's.
iproute:
	@if ! command -v ip >/dev/null 2>&1; then \
		echo "Installing iproute2 for the dead-link test (apt-get)..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq iproute2 >/dev/null; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
