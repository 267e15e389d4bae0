# Lotse: `make run` starts the product, `make test` runs every test. Both set up what is missing first
# (two virtual environments, translations, the knowledge index, the Rasa model) and are quick when nothing
# changed. `make help` lists the other targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
PY311 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.11*/bin/python3.11) $(shell command -v python3.11))
PY310 ?= $(PYENV_ROOT)/versions/3.10.13/bin/python

APP_VENV := .venv
RASA_VENV := .venv-rasa
APP_PY := $(APP_VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
PIP_FLAGS := --quiet --disable-pip-version-check --no-input

# Nothing may download a model at run time or in tests.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1
# Rasa must not phone home (telemetry, error reports): there is no internet, and users' data stays here.
export RASA_TELEMETRY_ENABLED := false
# Ports and internal URLs (override in the environment; see README "Configuration").
export LOTSE_PORT ?= 8000
export LOTSE_RASA_PORT ?= 5005
export LOTSE_ACTIONS_PORT ?= 5055
export LOTSE_PUBLIC_URL ?= http://127.0.0.1:$(LOTSE_PORT)
export LOTSE_RASA_URL ?= http://127.0.0.1:$(LOTSE_RASA_PORT)
export LOTSE_ACTIONS_URL ?= http://127.0.0.1:$(LOTSE_ACTIONS_PORT)
export LOTSE_TRACKER_DB ?= $(CURDIR)/var/rasa/tracker.sqlite3
export LOTSE_LOG_JSON ?= false

RASA_MODEL := bot/models/lotse.tar.gz
RASA_INPUTS := bot/config.yml bot/domain.yml $(shell find bot/data -name '*.yml' 2>/dev/null) \
	$(wildcard bot/components/*.py)
PO_FILES := $(wildcard locales/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: help run test setup index validate eval tune bench bench-nlu locales extract-messages rasa-validate \
	rasa-test lint lock clean browser engines audit embeddings

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# make run keys the pseudonymous sender ids with a key generated once for this checkout (var/pseudonym.key),
# and Rasa and the action server share a token made for this run; deployments set LOTSE_PSEUDONYM_KEY and
# LOTSE_ACTIONS_TOKEN themselves.
run: setup $(MO_FILES) index $(RASA_MODEL) ## Start Lotse (API, Rasa, actions) and print the demo URL
	@mkdir -p var/rasa var/run
	@echo ""
	@echo "  Lotse is starting. Demo page: $(LOTSE_PUBLIC_URL)/   (Ctrl-C stops everything)"
	@echo ""
	@test -s var/pseudonym.key || $(APP_PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > var/pseudonym.key
	@LOTSE_PSEUDONYM_KEY="$${LOTSE_PSEUDONYM_KEY:-$$(cat var/pseudonym.key)}" \
		LOTSE_ACTIONS_TOKEN="$${LOTSE_ACTIONS_TOKEN:-$$($(APP_PY) -c 'import secrets; print(secrets.token_urlsafe(32))')}" \
		LOTSE_RUN_DIR=$(CURDIR)/var/run $(APP_VENV)/bin/supervisord -c supervisord.conf || true

test: setup $(MO_FILES) index $(RASA_MODEL) browser engines ## Run the whole test suite (lint, unit, API, Rasa, end to end, browser)
	$(APP_VENV)/bin/ruff check api bot knowledge locales tests bench scripts
	$(APP_PY) -m pytest

setup: $(APP_VENV)/.installed $(RASA_VENV)/.installed ## Create both virtual environments

$(APP_VENV)/.installed: requirements/app.txt requirements/dev.txt
	@test -n "$(PY311)" || { echo "Python 3.11 not found; set PY311=/path/to/python3.11"; exit 1; }
	@test -x $(APP_PY) || $(PY311) -m venv $(APP_VENV)
	$(APP_VENV)/bin/pip install $(PIP_FLAGS) -r requirements/app.txt -r requirements/dev.txt
	@touch $@

$(RASA_VENV)/.installed: requirements/rasa.txt
	@test -x $(PY310) || { echo "Python 3.10 not found at $(PY310); set PY310=/path/to/python3.10"; exit 1; }
	@test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install $(PIP_FLAGS) -r requirements/rasa.txt
	@touch $@

index: $(APP_VENV)/.installed ## Validate knowledge files and (re)build the search index incrementally
	$(APP_PY) -m knowledge build

embeddings: index ## Keep the vectors the embedding cache lacks in a new shard of knowledge/embeddings (commit it)
	$(APP_PY) -m knowledge embeddings

validate: $(APP_VENV)/.installed ## Check knowledge entries and tenants (exit 1 on errors)
	$(APP_PY) -m knowledge validate --strict-coverage

# Numbered sets in the order they were written (blind11 after blind10). The newest development set (the default of
# `knowledge eval` and `knowledge tune`) tunes; the older ones teach the classifier (knowledge/question_sets.py).
NEWEST_BLIND := $(shell ls eval/blind*.yaml 2>/dev/null | sort -V | tail -n 1)
NEWEST_CROSS := $(shell ls eval/cross*.yaml 2>/dev/null | sort -V | tail -n 1)

eval: setup index ## Retrieval quality per locale and class: newest development, blind, cross and conversation sets
	$(APP_PY) -m knowledge eval --confused 0
	$(APP_PY) -m knowledge eval --set $(NEWEST_BLIND) --parts --langid
	$(if $(NEWEST_CROSS),$(APP_PY) -m knowledge eval --set $(NEWEST_CROSS))
	$(APP_PY) -m knowledge conversations

tune: setup index ## Re-tune fusion and abstention on the newest development set (writes knowledge/search.yaml)
	$(APP_PY) -m knowledge tune

bench: setup $(MO_FILES) index $(RASA_MODEL) ## Speed, memory and load benchmarks (numbers in docs/benchmarks.md)
	OMP_NUM_THREADS=1 $(APP_PY) -m bench.search
	$(APP_PY) -m bench.search_http
	$(APP_PY) -m bench.index_build
	$(APP_PY) -m bench.chat_turn
	$(APP_PY) -m bench.chat_parts
	$(APP_PY) -m bench.load
	$(APP_PY) -m bench.growth --sizes 100000

bench-nlu: setup $(RASA_MODEL) ## Intent accuracy per locale: the shipped model and the candidate pipelines
	$(RASA_VENV)/bin/python -m bench.nlu_eval
	$(RASA_VENV)/bin/python -m bench.nlu_eval --train bench/nlu_configs/*.yml

$(RASA_MODEL): $(RASA_VENV)/.installed $(RASA_INPUTS)
	cd bot && ../$(RASA) train --fixed-model-name lotse --out models --quiet
	@touch $@

rasa-validate: $(RASA_VENV)/.installed ## rasa data validate
	cd bot && ../$(RASA) data validate --quiet

extract-messages: $(APP_VENV)/.installed ## Extract texts to locales/messages.pot and update every catalog
	$(APP_VENV)/bin/pybabel extract -F locales/babel.cfg -k N_ -o locales/messages.pot --no-location --sort-output \
		--project Lotse --msgid-bugs-address "" .
	$(APP_VENV)/bin/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete
	$(APP_VENV)/bin/pybabel extract -F locales/babel-dashboard.cfg -o locales/dashboard.pot --no-location \
		--sort-output --project Lotse --msgid-bugs-address "" .
	$(APP_VENV)/bin/pybabel update -D dashboard -i locales/dashboard.pot -d locales -l de --no-fuzzy-matching \
		--ignore-obsolete

locales: $(MO_FILES) ## Compile translation catalogs

locales/%.mo: locales/%.po $(APP_VENV)/.installed
	$(APP_VENV)/bin/pybabel compile --statistics -i $< -o $@ 2>&1 | tail -1

browser: ## Install Debian's Chromium for the widget tests if it is missing
	@command -v chromium >/dev/null || { echo "installing chromium (Debian package)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# pip-audit reads the pinned lock files (no resolution, no installs). `make audit` asks PyPI's advisory database
# and needs the network; `make test` runs the same audit offline against a dated snapshot
# (requirements/advisories.json.gz, tests/test_audit.py). Accepted findings: requirements/accepted-advisories.yaml.
# --strict: a package that cannot be looked up fails the audit instead of passing unchecked.

audit: $(APP_VENV)/.installed ## Known vulnerabilities in both lock files (pip-audit; needs the network; offline in make test)
	$(APP_VENV)/bin/python scripts/audit.py online

lint: $(APP_VENV)/.installed ## Ruff
	$(APP_VENV)/bin/ruff check api bot knowledge locales tests bench scripts

lock: ## Re-resolve requirements/*.in into the pinned requirements/*.txt
	PY311=$(PY311) PY310=$(PY310) scripts/lock.sh

clean: ## Remove built artefacts (index, model, compiled catalogs), keep the environments
	rm -rf var/index bot/models bot/.rasa $(MO_FILES)

engines: ## Install Debian's Redis and PostgreSQL for the shared-state tests if they are missing (tests start their own)
	@command -v redis-server >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "installing redis-server and postgresql (Debian packages)"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server postgresql \
		>/dev/null; }
