# The README's commands. Everything a fresh machine lacks is installed from this project's files.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.install-stamp
HOST ?= 0.0.0.0
PORT ?= 8000

.PHONY: run test bench lint format install services

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

services: install
	@bash scripts/ensure_services.sh

run: services
	$(PY) manage.py ensure_database
	$(PY) manage.py migrate_schemas --shared
	$(PY) manage.py migrate_schemas
	$(PY) manage.py seed_demo
	DJANGO_DEBUG=$${DJANGO_DEBUG:-True} $(PY) manage.py runserver $(HOST):$(PORT)

test: services
	$(PY) -m pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

bench: services
	$(PY) manage.py ensure_database
	$(PY) -m bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
