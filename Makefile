# `make example` builds the bundled example's wheels; `make test` runs the test suite.
# Both first make .venv if it is missing or stale: `make example` with wheelworks alone,
# `make test` with its test tools too; `make test` also installs the Debian packages the
# tests need (scripts/system-packages.sh), and checks src/ with ruff and mypy --strict
# (configured in pyproject.toml) before the tests.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: setup system example lint test

setup: $(VENV)/.installed

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed: $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

system:
	./scripts/system-packages.sh

example: $(VENV)/.base
	$(BIN)/wheelworks build --config example/wheelworks.toml

lint: setup
	$(BIN)/ruff check src
	$(BIN)/mypy

test: setup system lint
	$(BIN)/python -m pytest
