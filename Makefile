# Qijia: `make demo` sets everything up and serves the platform; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/qijia
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo install test test-fast lint bench clean messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py load_reference
	$(BIN)/python manage.py seed --scale demo --if-empty
	$(BIN)/python manage.py demo_accounts
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(BIN)/ruff check qijia config
	QIJIA_TESTING=1 QIJIA_VAR_DIR=$$(mktemp -d) $(BIN)/mypy qijia config
	QIJIA_TESTING=1 QIJIA_VAR_DIR=$$(mktemp -d) $(BIN)/python manage.py makemigrations --check --dry-run -v 0
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) QIJIA_TESTING=1 QIJIA_TASKS_EAGER=1 \
	  QIJIA_FAST_HASHER=1 $(BIN)/pytest $(PYTEST_ARGS)
	# and on the demo's SQLite, whose raw-SQL paths differ (naive datetimes, reused ids)
	$(MAKE) --no-print-directory test-fast

# The suite on the embedded SQLite default (quick local loop, no services needed).
test-fast: $(STAMP)
	QIJIA_TESTING=1 QIJIA_FAST_HASHER=1 QIJIA_VAR_DIR=$$(mktemp -d) $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check qijia config
	$(BIN)/ruff format --check qijia config
	QIJIA_TESTING=1 QIJIA_VAR_DIR=$$(mktemp -d) $(BIN)/mypy qijia config

bench: $(STAMP)
	$(BIN)/python -m qijia.bench $(BENCH_ARGS)

# Refresh the English catalogue from the Chinese source strings and compile it (needs gettext).
messages: $(STAMP)
	QIJIA_TESTING=1 $(BIN)/python manage.py makemessages -l en --ignore=.venv --ignore=bench-data --ignore=var
	QIJIA_TESTING=1 $(BIN)/python manage.py compilemessages -l en --ignore=.venv

clean:
	rm -rf var staticfiles
