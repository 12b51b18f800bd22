# Sunlight — the two commands: `make run` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
export FLASK_APP := wsgi

.PHONY: run test setup bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

## Serve UI + API on 127.0.0.1:$${PORT:-5000} with a timer worker, on SQLite under instance/.
run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	$(BIN)/flask serve --port $${PORT:-5000}

## The whole suite (SQLite always; PostgreSQL too when TEST_DATABASE_URL is set). Every test session
## migrates fresh databases and runs `alembic check` on them, so model/migration drift fails the run.
test: setup
	$(BIN)/python -m pytest -q -n 2

bench: setup
	$(BIN)/python bench/lifecycle.py

clean:
	rm -rf $(VENV) .pytest_cache
