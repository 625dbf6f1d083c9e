# `make run`: install, migrate, load demo data and serve on http://127.0.0.1:$(PORT)
# `make test`: install and run the whole test suite.
# `make lint`: ruff (lint and format) and the import contracts (lint-imports).
SHELL := /bin/bash
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
# Python 3.12+: the first of these that exists (pyenv shims included).
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: run test lint format install install-dev migrate serve worker clean messages extract-messages

$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (pyenv install 3.12)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Translations: the .po catalogues are the source; the .mo files are built
# (git-ignored). GNU gettext's msgfmt: apt-get install gettext.
MO := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
%.mo: %.po
	@command -v msgfmt >/dev/null || { echo "msgfmt is needed to compile translations (apt-get install gettext)"; exit 1; }
	msgfmt --check -o $@ $<
messages: $(MO)
# After changing user-facing text: re-extract, then translate every new or fuzzy entry in hu and he.
extract-messages:
	DEBUG=1 $(PY) manage.py makemessages --no-location -l hu -l he --ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles --ignore=data --ignore=artifacts

# Local settings for `make run` and the commands after it (git-ignored; the
# real environment wins): DEBUG on and a key of its own. Production has none.
.env:
	@printf '# Written by make run for local use; never deploy it.\nDEBUG=1\nSECRET_KEY=%s\n' \
		"$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@
	@echo "Wrote .env (DEBUG=1 and a generated SECRET_KEY) for local commands"

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install messages .env
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v0
	@echo "Serving on http://127.0.0.1:$(PORT)/ (ops console: /admin/); background worker and scheduler alongside"
	$(PY) manage.py db_worker & worker=$$!; $(PY) manage.py scheduler & sched=$$!; \
	trap 'kill $$worker $$sched 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py serve --port $(PORT)

test: install-dev messages
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles data/*.sqlite3*
