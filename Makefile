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
WORKFLOWS ?= $(wildcard .github/workflows/*.yml)
# The SQLMesh gateway of config.yaml every target uses: empty is `local` (DuckDB); `spark` runs the same models,
# checks and gate on Spark (README "Spark"); `postgres` keeps DuckDB with the state in Postgres.
GATEWAY ?=
ifneq ($(GATEWAY),)
export MOBILITY_GATEWAY := $(GATEWAY)
endif
ifeq ($(MOBILITY_GATEWAY),spark)
ifeq ($(shell command -v java || test -x "$$JAVA_HOME/bin/java" && echo yes),)
$(error the spark gateway needs Java 17: install a JDK 17 (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME)
endif
endif

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SQLMESH := $(PY) -m gateway.lock -- $(VENV)/bin/sqlmesh
PYTHON_DIRS := gateway ingest checks ops macros signals linter tests dashboard

.PHONY: help setup sample ingest plan run check promote lint lint-workflows format test demo bench clean state-to-postgres answers dashboard dashboard-stop report sql query docs

help: ## List every target with one line each
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv from requirements.lock (needs only python3 and pip; no-op when current)

$(STAMP): requirements.lock
	@command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --python $(PY) --compile-bytecode --quiet -r requirements.lock
	@# pyspark ships as a source distribution: every install builds it anew into uv's cache (about 1.6 GB each);
	@# prune drops the builds no install refers to any more, so repeated setups do not fill the disk
	$(VENV)/bin/uv cache prune --quiet
	@touch $@

sample: $(STAMP) ## Write a deterministic sample mirror: MONTHS=YYYY-MM[:YYYY-MM] SCALE=0.01 (1 = real volume)
	$(PY) -m ingest.sample --months $(MONTHS) --scale $(SCALE) --out "$(MOBILITY_DATA_DIR)/mirror"

ingest: $(STAMP) ## Land raw data with dlt, then restate changed months in prod: SOURCES=... MONTHS=... [MIRROR=dir-or-url]
	$(PY) -m ops.run --ingest-only --sources $(SOURCES) --months $(MONTHS) $(if $(MIRROR),--mirror "$(MIRROR)")

plan: $(STAMP) ## Build the dev environment (sqlmesh plan dev from the first landed month), audits included; lists months waiting for a source
	@$(PY) -m ops.readiness
	$(SQLMESH) plan $(ENV) $$($(PY) -m ops.readiness --plan-start $(ENV)) --auto-apply --no-prompts

run: $(STAMP) ## Scheduled run: ingest MONTHS (default: next published), restate, sqlmesh run through the checks [OVERRIDE=...]
	$(PY) -m ops.run --sources $(SOURCES) $(if $(filter command line environment,$(origin MONTHS)),--months $(MONTHS)) \
	  $(if $(MIRROR),--mirror "$(MIRROR)") $(if $(filter command line,$(origin OVERRIDE)),--override '$(OVERRIDE)')

check: $(STAMP) ## Soda checks on an environment, read-only: ENV=dev|prod|NAME [OVERRIDE=threshold=value,...]
	@$(PY) -m ops.recover check
	$(PY) -m checks.scan --env $(ENV) $(if $(filter command line,$(origin OVERRIDE)),--override '$(OVERRIDE)')

promote: $(STAMP) ## Build ENV, Soda-check it, promote prod by a virtual update [OVERRIDE=threshold=value,...]
	@$(PY) -m ops.readiness
	$(PY) -m checks.promote --env $(ENV) $(if $(filter command line,$(origin OVERRIDE)),--override '$(OVERRIDE)')

lint: $(STAMP) lint-workflows ## Lint the models (sqlmesh lint), the data dictionary's freshness, the CI workflows and the Python (ruff)
	$(VENV)/bin/sqlmesh lint
	$(PY) -m ops.docs --check
	$(VENV)/bin/ruff check $(PYTHON_DIRS)
	$(VENV)/bin/ruff format --check $(PYTHON_DIRS)

lint-workflows: $(STAMP) ## Validate the GitHub workflows offline against the vendored schema [WORKFLOWS=files]
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)

format: $(STAMP) ## Format the models (sqlmesh format) and the Python (ruff)
	$(VENV)/bin/sqlmesh format
	$(VENV)/bin/ruff format $(PYTHON_DIRS)
	$(VENV)/bin/ruff check --fix $(PYTHON_DIRS)

test: $(STAMP) ## Unit tests, lint, format check and the pytest suite
	$(VENV)/bin/sqlmesh test
	$(VENV)/bin/sqlmesh format --check
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q -m "not ui and not spark"

demo: $(STAMP) ## End to end on sample data: sample, ingest, build dev, Soda gate, promote to prod
	$(MAKE) --no-print-directory sample
	$(MAKE) --no-print-directory ingest MIRROR="$(MOBILITY_DATA_DIR)/mirror"
	$(MAKE) --no-print-directory promote ENV=dev
	@$(PY) -m ops.answers

answers: $(STAMP) ## What prod answers: busiest zone and hour, tip rates, bike share, the wettest hour (read-only)
	@$(PY) -m ops.answers

sql: $(STAMP) ## Open a read-only SQL client (DuckDB CLI) on the warehouse, prod's marts first on the search path [ENV=dev]
	@$(PY) -m ops.sql --env $(if $(filter command line,$(origin ENV)),$(ENV),prod)

query: $(STAMP) ## Run a saved query of queries/ read-only: Q=name (without Q: list them) [ENV=dev]
	@$(PY) -m ops.sql --env $(if $(filter command line,$(origin ENV)),$(ENV),prod) $(if $(Q),--query "$(Q)",--list)

docs: $(STAMP) ## Write docs/data_dictionary.md from the models: marts, columns, code tables, validity rules
	@$(PY) -m ops.docs

bench: $(STAMP) ## Measure ingest, backfill, one-day run, promotion and queries: [SCALE=1] [MONTHS=2024-09:2024-11]
	$(PY) -m ops.bench --scale $(if $(filter command line,$(origin SCALE)),$(SCALE),1) --months $(MONTHS) --out "$(MOBILITY_DATA_DIR)/bench"

clean: $(STAMP) ## Delete the data folder MOBILITY_DATA_DIR (only one this project created; keeps .venv)
	@$(PY) -m ops.clean

.PHONY: diff ui ui-stop restate test-ui parity test-spark

diff: $(STAMP) ## Review the working tree against prod as Markdown: models, SQL diff, backfill, data diff [BASE=main]
	@$(PY) -m ops.diff --base $(BASE)

state-to-postgres: $(STAMP) ## Move SQLMesh's state from the warehouse file into Postgres (gateway postgres, MOBILITY_STATE_*)
	@$(PY) -m ops.state to-postgres

dashboard: $(STAMP) ## Start the Streamlit dashboard over prod on 127.0.0.1 [PORT=8501] in the background (read-only)
	@$(PY) -m ops.dashboard start --port $(if $(filter command line,$(origin PORT)),$(PORT),8501)

dashboard-stop: ## Stop the dashboard started by make dashboard
	@$(PY) -m ops.dashboard stop

report: $(STAMP) ## Write the dashboard's pages as one offline HTML file: $(MOBILITY_DATA_DIR)/report/index.html
	@$(PY) -m ops.report

ui: $(STAMP) ## Start the SQLMesh UI on 127.0.0.1 [PORT=8000] in the background; it holds the write lock while it runs
	@$(PY) -m ops.ui start --port $(PORT)

ui-stop: ## Stop the SQLMesh UI started by make ui (also one whose lock process was killed) and release the lock
	@$(PY) -m ops.ui stop

restate: $(STAMP) ## Recompute MONTH=YYYY-MM[:YYYY-MM] in prod from raw data, through the checks [OVERRIDE=...]
	@test -n "$(MONTH)" || { echo "usage: make restate MONTH=YYYY-MM[:YYYY-MM]"; exit 2; }
	$(PY) -m ops.restate --month $(MONTH) $(if $(filter command line,$(origin OVERRIDE)),--override '$(OVERRIDE)')

parity: $(STAMP) ## The same sample on DuckDB and Spark, every mart compared column by column [SCALE=0.01] [MONTHS=2024-09:2024-10]
	$(PY) -m ops.parity --scale $(SCALE) --months $(if $(filter command line,$(origin MONTHS)),$(MONTHS),2024-09:2024-10) --out "$(MOBILITY_DATA_DIR)/parity"

test-spark: $(STAMP) ## The Spark gateway's longer tests (pytest -m spark: lake landing, gate on Spark); needs Java 17
	$(PY) -m pytest -q -m spark

test-ui: $(STAMP) ## Browser tests of the SQLMesh UI and the dashboard (pytest -m ui; needs chromium at /usr/bin/chromium)
	$(PY) -m pytest -q -m ui
