# The README's commands. Everything a fresh machine lacks is installed from this project's files.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.install-stamp
HOST ?= 0.0.0.0
PORT ?= 8000
# Every process `make run` starts uses the development settings, whatever the shell exported
# (gunicorn and celery default to production settings, which refuse the development key).
DEV := DJANGO_SETTINGS_MODULE=config.settings.base

.PHONY: run test bench lint format install services

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

services: install
	@bash scripts/ensure_services.sh

# Beside the server: a Celery worker and beat (the outbox and periodic jobs) and a local mail sink
# on 127.0.0.1:$(MAIL_PORT) that keeps every message in the Maildir .mail/ (read .mail/new/*).
MAIL_PORT ?= 1025

run: services
	$(DEV) $(PY) manage.py ensure_database
	$(DEV) $(PY) manage.py migrate_schemas --shared
	$(DEV) $(PY) manage.py migrate_schemas
	$(DEV) $(PY) manage.py sync_plugins
	$(DEV) $(PY) manage.py seed_demo
	@mkdir -p logs
	export $(DEV); \
	export EMAIL_URL=$${EMAIL_URL:-smtp://127.0.0.1:$(MAIL_PORT)}; \
	link_base='http://{host}:$(PORT)'; export TENANT_LINK_BASE=$${TENANT_LINK_BASE:-$$link_base}; \
	trap 'kill $$(jobs -p) 2>/dev/null' EXIT INT TERM; \
	$(PY) -m aiosmtpd -n -l 127.0.0.1:$(MAIL_PORT) -c aiosmtpd.handlers.Mailbox .mail & \
	$(VENV)/bin/celery -A config worker -l info -P solo & \
	$(VENV)/bin/celery -A config beat -l info -s logs/celerybeat-schedule & \
	DJANGO_DEBUG=$${DJANGO_DEBUG:-True} $(PY) manage.py runserver $(HOST):$(PORT)

test: services
	$(PY) -m pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

bench: services
	$(DEV) $(PY) manage.py ensure_database
	$(PY) -m bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
