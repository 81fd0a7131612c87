# Bandeja: every target explains itself (`make help`).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BANDEJA := $(BIN)/bandeja
PG_INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))

.DEFAULT_GOAL := help
.PHONY: help run test check lint format typecheck pytest system-deps bench-inbox clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

run: $(VENV)/.installed ## Migrate the embedded database, load the demo (first run), start the sandbox platform and serve on :8000
	$(BANDEJA) db upgrade
	$(BANDEJA) demo
	@$(BANDEJA) sandbox & sandbox=$$!; trap 'kill $$sandbox 2>/dev/null' EXIT INT TERM; \
	  $(BANDEJA) serve

system-deps: ## Install what the tests need from Debian (PostgreSQL, Chromium, Redis) when missing
	@missing=""; \
	  [ -n "$(PG_INITDB)" ] || missing="$$missing postgresql"; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	      echo "apt-get install$$missing"; \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	    else \
	      echo "The tests need:$$missing (sudo apt-get install$$missing)" >&2; exit 1; \
	    fi; \
	  fi

test: system-deps $(VENV)/.installed check pytest ## Install what is missing, lint, and run the whole suite on SQLite and PostgreSQL

check: lint typecheck ## Lint, format check, types and layer contracts

lint: $(VENV)/.installed ## ruff lint and format check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed ## mypy (strict) and the import-linter layer contracts
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: $(VENV)/.installed ## The test suite only (BANDEJA_TEST_BACKENDS=sqlite for a quick run)
	$(BIN)/pytest

format: $(VENV)/.installed ## Reformat and auto-fix
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench-inbox: $(VENV)/.installed ## Inbox query benchmark (N=1,000,000 by default; N=20000 make bench-inbox for a quick one)
	$(BIN)/python bench/inbox_queries.py $(if $(N),--conversations $(N),)

clean: ## Remove the virtual environment, caches and the embedded database
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts
