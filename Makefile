# CARE WhatsApp assistant. `make help` lists the targets.
# The two commands a new machine needs: `make run` (the assistant on the embedded default) and `make test`.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
RASA  := $(VENV)/bin/rasa
MODEL := models/care.tar.gz
# ruff and mypy live in their own venv on Python 3.11 (mypy's wheels are cp311 only); mypy checks against .venv
LINT_VENV := .venv-lint
LINT_BIN  := $(LINT_VENV)/bin
# one thread per library: measured faster on 2 cores (docs/performance-notes.md)
export TF_CPP_MIN_LOG_LEVEL ?= 2
export OMP_NUM_THREADS ?= 1
export TF_INTRA_OP_PARALLELISM_THREADS ?= 1
export TF_INTER_OP_PARALLELISM_THREADS ?= 1

.DEFAULT_GOAL := help
.PHONY: help venv lint-venv lint train run check-ports test test-fast bench chat validate clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## create .venv with Python 3.10 and the pinned packages

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt scripts/find_python.sh
	@py=$$(scripts/find_python.sh 3.10) || exit 1; \
	  if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	    echo "creating $(VENV) with $$py"; rm -rf $(VENV); $$py -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip==24.0
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip check
	@touch $@

lint-venv: $(LINT_VENV)/.installed

$(LINT_VENV)/.installed: requirements-lint.txt scripts/find_python.sh
	@py=$$(scripts/find_python.sh 3.11) || exit 1; \
	  if [ ! -x $(LINT_BIN)/python ] || ! $(LINT_BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
	    echo "creating $(LINT_VENV) with $$py"; rm -rf $(LINT_VENV); $$py -m venv $(LINT_VENV) || exit 1; fi
	$(LINT_BIN)/python -m pip install -q --disable-pip-version-check -r requirements-lint.txt
	$(LINT_BIN)/python -m pip check
	@touch $@

# All three run even when one fails, so one run shows everything; the target fails if any did. mypy needs .venv
# (it type-checks against the installed packages), configured in pyproject.toml like ruff. The format check names
# the files (`ruff format --diff .` shows the changes, `ruff format <paths>` makes them).
lint: venv lint-venv ## ruff (lint + format check) and mypy, as configured in pyproject.toml
	@status=0; \
	  echo "ruff check"; $(LINT_BIN)/ruff check . || status=1; \
	  echo "ruff format --check"; $(LINT_BIN)/ruff format --check --output-format concise . || status=1; \
	  echo "mypy"; $(LINT_BIN)/mypy || status=1; \
	  exit $$status

train: venv ## train the model, only when data, domain or config changed (content fingerprint)
	@fp=$$(cat config.yml $$(find domain data -type f -name '*.yml' | sort) | sha256sum | cut -c1-16); \
	if [ -f $(MODEL) ] && [ "$$(cat models/.fingerprint 2>/dev/null)" = "$$fp" ]; then \
	  echo "model is up to date ($$fp)"; \
	else \
	  echo "training the model ($$fp)..."; \
	  $(RASA) train --domain domain --fixed-model-name care --out models --quiet && echo $$fp > models/.fingerprint; \
	fi

# Ports: 9000 CARE, 9001 simulator, 5055 actions, 5005 Rasa; `make run PORTS=free` picks free ones, CARE_PORT,
# SIM_PORT, ACTIONS_PORT, RASA_PORT choose single ones (make variables reach the recipe's environment).
run: venv check-ports train ## run the assistant: sandbox CARE + WhatsApp simulator + action server + Rasa (PORTS=free: any free ports)
	$(PY) -m sandbox.stack

# before training: a taken port is named in one line before anything else happens
check-ports: venv
	@$(PY) -m sandbox.stack --check-ports

# lint first: it takes under a minute and fails fast, before training and the long suite
test: venv lint train ## run lint (ruff, mypy), then the whole test suite (unit, connector, contract, actions, rasa validate + stories, e2e, stores, browser)
	$(PY) -m pytest -q -p no:cacheprovider tests

validate: venv ## rasa data validate
	$(RASA) data validate --domain domain

chat: venv ## terminal chat with the running `make run`, on whatever ports it chose (PHONE=919876543210)
	$(PY) -m sandbox.whatsapp.chat --phone $${PHONE:-919876543210}

bench: venv train ## benchmark: webhook ack and reply latency, throughput, training time, memory
	$(PY) bench/run.py

clean: ## remove the venv, models and run data
	rm -rf $(VENV) $(LINT_VENV) .mypy_cache .ruff_cache models .run results
