# nyc-mobility: every daily workflow is a target here. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export MOBILITY_DATA_DIR ?= data
export SQLMESH__DISABLE_ANONYMIZED_ANALYTICS := 1
export RUNTIME__DLTHUB_TELEMETRY := false

MONTHS ?= 2024-09:2024-11
SCALE ?= 0.01
SOURCES ?= yellow,green,zones,citibike,weather
MIRROR ?=
ENV ?= dev
BASE ?= main
PORT ?= 8000

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SQLMESH := $(PY) -m ingest.lock -- $(VENV)/bin/sqlmesh

.PHONY: help setup sample ingest plan run lint format test demo clean

help: ## List every target with one line each
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv from requirements.lock (needs only python3 and pip; no-op when current)

$(STAMP): requirements.lock
	@command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --python $(PY) --compile-bytecode --quiet -r requirements.lock
	@touch $@

sample: $(STAMP) ## Write a deterministic sample mirror: MONTHS=YYYY-MM[:YYYY-MM] SCALE=0.01 (1 = real volume)
	$(PY) -m ingest.sample --months $(MONTHS) --scale $(SCALE) --out $(MOBILITY_DATA_DIR)/mirror

ingest: $(STAMP) ## Land raw data with dlt: SOURCES=yellow,green,zones,citibike,weather MONTHS=... [MIRROR=dir-or-url]
	$(PY) -m ingest --sources $(SOURCES) --months $(MONTHS) $(if $(MIRROR),--mirror $(MIRROR))

plan: $(STAMP) ## Build the dev environment (sqlmesh plan dev), audits included
	$(SQLMESH) plan $(ENV) --auto-apply --no-prompts

run: $(STAMP) ## Run the due intervals in prod (sqlmesh run)
	$(SQLMESH) run

lint: $(STAMP) ## Lint the models (sqlmesh lint) and the Python (ruff)
	$(VENV)/bin/sqlmesh lint
	$(VENV)/bin/ruff check ingest tests
	$(VENV)/bin/ruff format --check ingest tests

format: $(STAMP) ## Format the models (sqlmesh format) and the Python (ruff)
	$(VENV)/bin/sqlmesh format
	$(VENV)/bin/ruff format ingest tests
	$(VENV)/bin/ruff check --fix ingest tests

test: $(STAMP) ## Unit tests, lint, format check and the pytest suite
	$(VENV)/bin/sqlmesh test
	$(VENV)/bin/sqlmesh format --check
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q -m "not ui"

demo: $(STAMP) ## End to end on sample data: sample, ingest, build dev, promote to prod
	$(MAKE) --no-print-directory sample
	$(MAKE) --no-print-directory ingest MIRROR=$(MOBILITY_DATA_DIR)/mirror
	$(MAKE) --no-print-directory plan ENV=dev
	$(SQLMESH) plan --auto-apply --no-prompts

clean: ## Remove the warehouse and generated data (keeps .venv)
	rm -rf $(MOBILITY_DATA_DIR)
