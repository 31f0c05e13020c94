# Refuje: `make run` starts everything locally; `make test` runs lint, types and the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Two install stamps: `make run` needs only the runtime set, `make test` adds the dev tools on top.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint types pytest install messages clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt constraints.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	@touch $(RUN_STAMP)

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $(DEV_STAMP)

install: $(DEV_STAMP)

run: $(RUN_STAMP)
	$(PY) scripts/run.py

test: $(DEV_STAMP)
	bash scripts/ensure-services.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	REFUJE_TESTING=1 $(VENV)/bin/mypy .
	$(PY) scripts/check_deploy.py
	REFUJE_TEST_DB=test_refuje_$$(cat */*/migrations/*.py refuje/*/migrations/*.py 2>/dev/null | sha1sum | cut -c1-10) \
		$(VENV)/bin/pytest -n 2 --reuse-db

messages: $(RUN_STAMP)
	$(PY) manage.py makemessages -l ar --no-obsolete --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf var
