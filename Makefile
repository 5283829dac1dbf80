# SipTar Billing Server. A bare `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# spyne 2.14 imports on Python 3.11 only (README, "Python version").
PYTHON ?= $(shell command -v python3.11 2>/dev/null || ls -d $$HOME/.pyenv/versions/3.11*/bin/python3.11 /usr/bin/python3.11 2>/dev/null | head -n1)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BIND ?= 127.0.0.1:8080
PYTEST_ARGS ?=

.PHONY: help devenv run demo test test-unit test-integration test-e2e lint format typecheck wsdl check-wsdl bench postgres-bin poppler-bin qt-libs callshop-screenshot clean mutation mutation-credit mutation-recheck mutation-score

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): setup.cfg pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (spyne 2.14 runs on 3.11 only)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,callshop]'
	touch $(STAMP)

devenv: $(STAMP) ## create .venv and install the server with the dev tools

run: $(STAMP) ## migrate, load the demo into an empty database, serve on $(BIND) with the job worker
	$(BIN)/siptar db upgrade
	$(BIN)/siptar demo --if-empty
	$(BIN)/siptar worker & trap 'kill $$!' EXIT; $(BIN)/siptar serve --bind $(BIND)

postgres-bin: ## install Debian's PostgreSQL server if this machine has none
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql packages"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q postgresql; }

poppler-bin: ## install Debian's poppler-utils (pdftoppm: the invoice PDF tests render a page)
	@command -v pdftoppm >/dev/null 2>&1 || { \
	  echo "installing Debian's poppler-utils"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q poppler-utils; }

qt-libs: $(STAMP) ## install the Debian libraries Qt needs (the call-shop desktop tests, offscreen)
	@QT_QPA_PLATFORM=offscreen $(BIN)/python -c 'from PySide6.QtWidgets import QApplication; QApplication([])' >/dev/null 2>&1 || { \
	  echo "installing the Debian libraries of Qt"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	    libegl1 libgl1 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0; }

callshop-screenshot: $(STAMP) qt-libs ## a PNG of the call-shop window with booths in several states (docs/callshop.png)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m tests.callshop.screenshot docs/callshop.png

test: $(STAMP) postgres-bin poppler-bin qt-libs ## run the whole suite on SQLite and on a PostgreSQL it starts itself
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP) ## unit tests only (no database, no sockets)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

test-integration: $(STAMP) postgres-bin ## integration tests (SQLite and PostgreSQL)
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

test-e2e: $(STAMP) postgres-bin poppler-bin qt-libs ## end-to-end tests over HTTP through client/
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP) ## apply ruff's formatting and fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy
	$(BIN)/mypy rating db services ami_listener client bench settings.py cli.py

wsdl: $(STAMP) ## regenerate the four WSDL files in wsdl/
	$(BIN)/siptar wsdl

check-wsdl: wsdl ## fail if the committed WSDLs differ from the code
	git diff --exit-code wsdl/

bench: $(STAMP) postgres-bin ## run the benchmarks under bench/ and print their figures
	$(BIN)/python -m bench

MUTANTS ?=
MUTMUT_ARGS ?=
# MODULE=authorize: mutate services/credit/authorize.py only, with the tests that pin its
# rules (tests/mutation_credit.cfg [modules]), in a directory of its own.
MODULE ?=
MUTATION_CREDIT := build/mutation-credit$(if $(MODULE),-$(MODULE))
# The test databases on tmpfs where there is one: SQLite copies and writes them per test.
MUTATION_TMP := $(if $(wildcard /dev/shm/.),TMPDIR=/dev/shm)

mutation: $(STAMP) ## mutation testing of rating/ with the unit tests (slow: docs/mutation.md); MUTANTS='rating.money*' reruns some
	$(BIN)/mutmut run $(MUTMUT_ARGS) $(MUTANTS)
	$(BIN)/python -m tests.mutation_score mutants

mutation-credit: $(STAMP) ## mutation testing of services/credit/ with its tests on SQLite, in $(MUTATION_CREDIT)
	mkdir -p $(MUTATION_CREDIT)
	git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t $(MUTATION_CREDIT)
	$(BIN)/python -m tests.mutation_config $(MUTATION_CREDIT)/setup.cfg tests/mutation_credit.cfg $(MODULE)
	rm -rf $(MUTATION_CREDIT)/templates
	cd $(MUTATION_CREDIT) && SIPTAR_TEST_TEMPLATE_CACHE=$(CURDIR)/$(MUTATION_CREDIT)/templates $(MUTATION_TMP) \
	  $(CURDIR)/$(BIN)/mutmut run $(MUTMUT_ARGS) $(MUTANTS)
	$(BIN)/python -m tests.mutation_score $(MUTATION_CREDIT)/mutants

mutation-recheck: ## run again, under the CPU limit alone, the timeouts of the last rating/ run (RECHECK=DIR for another); docs/mutation.md
	$(BIN)/python -m tests.mutation_recheck $(or $(RECHECK),mutants)

mutation-score: ## the scores and survivors of the last runs of both
	$(BIN)/python -m tests.mutation_score mutants --survivors
	-$(BIN)/python -m tests.mutation_score $(MUTATION_CREDIT)/mutants --survivors
	-for d in build/mutation-credit-*/mutants; do test -d $$d && $(BIN)/python -m tests.mutation_score $$d --survivors; done

clean: ## remove the virtualenv, caches and the local SQLite database
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info siptar.db
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
