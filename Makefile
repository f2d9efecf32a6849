# Two commands on a fresh machine (Python 3.11+):
#   make lab    install into .venv and open the course in JupyterLab
#   make test   install into .venv and run the unit tests and every notebook (nbval)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tlcourse-installed
PYTEST_ARGS ?=

.PHONY: install lab test unit lint notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

test: $(STAMP)
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

# The fast tier: unit tests and docstring examples, no notebooks and no training (under a minute).
unit: $(STAMP)
	$(BIN)/python -m pytest -ra -m "not slow" tests tlcourse tools $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# Rebuild notebooks/*.ipynb from their sources in notebooks/src/.
notebooks: $(STAMP)
	$(BIN)/python tools/nbbuild.py

clean:
	rm -rf $(VENV) notebooks/outputs outputs
