# The README's commands. Everything a fresh machine lacks is installed from this project's files.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.install-stamp
# `make run` serves this machine only; `make run HOST=0.0.0.0` opens it to the network (every
# demo account's password is published: never on a machine others can reach).
HOST ?= 127.0.0.1
PORT ?= 8000
# Every process `make run` starts uses the development settings, whatever the shell exported
# (gunicorn and celery default to production settings, which refuse the development key).
DEV := DJANGO_SETTINGS_MODULE=config.settings.base

.PHONY: run prepare test test-tools client bench lint format install services

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

services: install
	@bash scripts/ensure_services.sh

# What the tests need beyond the services: a browser, a compose tool, the TypeScript client's
# npm packages. Never installed by `make run`.
test-tools: install
	@bash scripts/ensure_test_tools.sh

# Beside the server: a Celery worker and beat (the outbox and periodic jobs) and a local mail sink
# on 127.0.0.1:$(MAIL_PORT) that keeps every message in the Maildir .mail/ (read .mail/new/*).
MAIL_PORT ?= 1025

# Everything `make run` does before it serves (config/tests/test_quickstart.py runs these steps).
prepare: services
	$(DEV) $(PY) manage.py ensure_database
	$(DEV) $(PY) manage.py migrate_schemas --shared
	$(DEV) $(PY) manage.py migrate_schemas
	$(DEV) $(PY) manage.py sync_plugins
	$(DEV) $(PY) manage.py seed_demo --port $(PORT)

run: prepare
	@mkdir -p logs
	export $(DEV); \
	export EMAIL_URL=$${EMAIL_URL:-smtp://127.0.0.1:$(MAIL_PORT)}; \
	link_base='http://{host}:$(PORT)'; export TENANT_LINK_BASE=$${TENANT_LINK_BASE:-$$link_base}; \
	trap 'kill $$(jobs -p) 2>/dev/null' EXIT INT TERM; \
	$(PY) -m aiosmtpd -n -l 127.0.0.1:$(MAIL_PORT) -c aiosmtpd.handlers.Mailbox .mail & \
	$(VENV)/bin/celery -A config worker -l info -P solo & \
	$(VENV)/bin/celery -A config beat -l info -s logs/celerybeat-schedule & \
	DJANGO_DEBUG=$${DJANGO_DEBUG:-True} $(PY) manage.py runserver $(HOST):$(PORT)

test: services test-tools
	$(PY) -m pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

# Regenerate the TypeScript client's types from the business API's schema; commit the result
# (config/tests/test_typescript_client.py fails while they differ from what the server serves).
client: test-tools
	@schema=$$(mktemp --suffix=.json) \
	  && $(DEV) $(PY) manage.py spectacular --urlconf config.urls_tenant --format openapi-json --file $$schema \
	  && (cd clients/typescript && npm run --silent generate -- $$schema -o src/schema.d.ts); \
	  status=$$?; rm -f $$schema; exit $$status

bench: services
	$(DEV) $(PY) manage.py ensure_database
	$(PY) -m bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
