# pingan — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint test-unit test-integration test-e2e services bench soak run-services clean help contracts

help:
	@echo "make run       every service in one process (in-memory broker, SQLite in data/), demo data, console"
	@echo "make test      lint, then unit, integration (real RabbitMQ + PostgreSQL, started if needed) and e2e tests"
	@echo "make lint      ruff and mypy (configured in pyproject.toml)"
	@echo "make bench     benchmarks; writes docs/benchmarks.md"
	@echo "make soak      20 commands/s with broker and database faults (SOAK_MINUTES=10); writes docs/reliability.md"
	@echo "make run-services  one process per service against RabbitMQ + PostgreSQL (see README)"
	@echo "make contracts JSON Schemas and AsyncAPI documents into docs/contracts/ (a test checks they are current)"

# Runtime dependencies exactly as locked (hash-checked, the same as the image), then the
# package itself and the test tools.
$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c "import sys; sys.exit(sys.version_info[:2] != (3, 11))" || { echo "pingan needs Python 3.11: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/pingan run

services:
	scripts/ensure-services.sh

# The deployment checks install pinned helm, kubectl, kubernetes-validate and promtool first;
# the integration tier then also scrapes running services with a real Prometheus.
test: $(STAMP) lint services test-deploy
	$(BIN)/python -m pytest tests/unit tests/integration tests/e2e -q -p no:cacheprovider

# Zero findings is the baseline: a new one fails `make test` (and CI). `ruff format` is not used.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

test-integration: $(STAMP) services
	$(BIN)/python -m pytest tests/integration -q

test-e2e: $(STAMP) services
	$(BIN)/python -m pytest tests/e2e -q

bench: $(STAMP) services
	$(BIN)/python -m bench.run

# 20 commands/s for SOAK_MINUTES (default 10) with a broker cut and a database outage in the
# middle; writes its figures into docs/reliability.md. Not part of `make test`.
SOAK_MINUTES ?= 10
soak: $(STAMP) services
	SOAK_MINUTES=$(SOAK_MINUTES) $(BIN)/python -m bench.soak

# One process per service against RabbitMQ and PostgreSQL (databases pingan_<service>).
AMQP_URI ?= amqp://guest:guest@127.0.0.1:5672/
PINGAN_DATABASE_URL ?= postgresql+psycopg2://pingan:pingan@127.0.0.1:5432/pingan_{service}
run-services: $(STAMP) services
	scripts/run-services.sh

# JSON Schemas and AsyncAPI documents of every service's RPCs and events (docs/integration.md);
# refused when a published schema would change incompatibly without a new version.
contracts: $(STAMP)
	$(BIN)/python -m shared.contract_docs $(if $(WITHDRAW),--withdraw)

clean:
	rm -rf $(VENV) data .pytest_cache .tools build

include mk/deploy.mk
