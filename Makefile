# `make example` builds the bundled example's wheels; `make test` runs the test suite.
# Both first make .venv (with wheelworks and its test tools) if it is missing or stale.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: setup example test

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

example: setup
	$(BIN)/wheelworks build --config example/wheelworks.toml

test: setup
	$(BIN)/python -m pytest
