# Two commands on a fresh machine (Python 3.11-3.13, as pyproject.toml's requires-python says):
#   make lab    install into .venv and open the course in JupyterLab
#   make test   install into .venv and run the unit tests and every notebook (nbval)
# A room without wifi: `make wheelhouse` where there is internet, then `make install-offline` on each laptop.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tlcourse-installed
PYTEST_ARGS ?=
# A folder of wheels to install from instead of PyPI (`make install-offline` sets it to wheelhouse/).
WHEELHOUSE ?=
# Extra `pip download` options, e.g. another machine's wheels:
# PIP_DOWNLOAD_ARGS="--platform manylinux2014_x86_64 --platform manylinux_2_27_x86_64 --python-version 3.12 --only-binary=:all:"
PIP_DOWNLOAD_ARGS ?=
PIP_INSTALL := $(BIN)/python -m pip install --quiet $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE))

# Is $(PYTHON) one that TensorFlow has wheels for? Says which to install instead of failing inside pip.
# The bounds are pyproject.toml's; `make check-python PRETEND_PYTHON=3.14` tries the message.
define PYTHON_CHECK
import re, sys
text = open("pyproject.toml", encoding="utf-8").read()
spec = re.search(r'requires-python\s*=\s*"([^"]+)"', text).group(1)
low = tuple(int(n) for n in re.search(r">=\s*(\d+)\.(\d+)", spec).groups())
below = re.search(r"<\s*(\d+)\.(\d+)", spec)
high = tuple(int(n) for n in below.groups()) if below else (99, 0)
major, below = re.search(r'"tensorflow[^"]*<(\d+)\.(\d+)', text).groups()  # the newest TensorFlow allowed
tf = "%s.%d" % (major, int(below) - 1)
pretend = sys.argv[1] if len(sys.argv) > 1 else ""
v = tuple(int(n) for n in pretend.split(".")[:2]) if pretend else tuple(sys.version_info[:2])
if not low <= v < high:
    last = (high[0], high[1] - 1)
    pick = "%d.%d" % min(max(low, (3, 12)), last)
    why = "TensorFlow %s has no wheel for %d.%d" % ((tf,) + v) if v >= high else "it uses %d.%d's features" % low
    this = "this is Python %d.%d%s" % (v + (" (pretended)" if pretend else " (%s)" % sys.executable,))
    sys.exit("tlcourse needs Python %d.%d-%d.%d (%s); %s.\n"
             "Install one (e.g. pyenv install %s, or apt install python%s) and run `make PYTHON=python%s ...`"
             % (low + last + (why, this, pick, pick, pick)))
endef
export PYTHON_CHECK

# The packages to download into a wheelhouse: the build's, the project's, its dev extra's, pip itself.
define REQUIREMENTS
import tomllib
p = tomllib.load(open("pyproject.toml", "rb"))
print("\n".join(p["build-system"]["requires"] + p["project"]["dependencies"]
                + p["project"]["optional-dependencies"]["dev"] + ["pip", "wheel"]))
endef
export REQUIREMENTS

.PHONY: install install-offline wheelhouse check-python lab test unit lint notebooks student reference results site site-test oldest clean

check-python:
	@$(PYTHON) -c "$$PYTHON_CHECK" $(PRETEND_PYTHON)

$(STAMP): pyproject.toml
	@$(PYTHON) -c "$$PYTHON_CHECK"
	$(if $(WHEELHOUSE),@test -d $(WHEELHOUSE) || { echo "no wheelhouse at $(WHEELHOUSE): run \`make wheelhouse\` where there is internet and copy it here"; exit 1; })
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e ".[dev]"
	$(BIN)/python tools/kernel.py
	touch $(STAMP)

install: $(STAMP)

# Where there is internet: every wheel the course installs, into wheelhouse/ (git-ignored, about a gigabyte).
# Wheels are per system and Python version: run it on a machine like the laptops (or see PIP_DOWNLOAD_ARGS).
wheelhouse:
	@$(PYTHON) -c "$$PYTHON_CHECK"
	mkdir -p $(or $(WHEELHOUSE),wheelhouse)
	$(PYTHON) -c "$$REQUIREMENTS" > $(or $(WHEELHOUSE),wheelhouse)/requirements.txt
	$(PYTHON) -m pip download --dest $(or $(WHEELHOUSE),wheelhouse) $(PIP_DOWNLOAD_ARGS) -r $(or $(WHEELHOUSE),wheelhouse)/requirements.txt

# Without internet: the same installation as `make install`, from wheelhouse/ only.
install-offline:
	$(MAKE) install WHEELHOUSE=$(or $(WHEELHOUSE),wheelhouse)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

test: $(STAMP)
	$(BIN)/python -m pytest -ra $(PYTEST_ARGS)

# The fast tier: unit tests and docstring examples, no notebooks and no training (under a minute).
unit: $(STAMP)
	$(BIN)/python -m pytest -ra -m "not slow" tests tlcourse tlcourse_assets tlcourse_exercises tlcourse_cli tools $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# Rebuild notebooks/*.ipynb from their sources in notebooks/src/.
notebooks: $(STAMP)
	$(BIN)/python tools/nbbuild.py

# The student edition: student/NN_*.ipynb (git-ignored), every lesson without its solution cells.
student: $(STAMP)
	$(BIN)/python tools/student.py

# Reference outputs for instructors: every lesson run in the quick profile, as HTML in reference/
# (git-ignored; about 10 min on 2 cores), and the quizzes' answer key. One notebook:
# `make reference REFERENCE_NOTEBOOKS=notebooks/02_feature_extraction.ipynb`.
REFERENCE_NOTEBOOKS ?= $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
REFERENCE_TIMEOUT ?= 1800
# nbconvert's HTML order of outputs without the widget view: a quiz shows as text, which needs no kernel.
REFERENCE_MIMETYPES := text/html text/markdown image/svg+xml text/vnd.mermaid text/latex image/png image/jpeg text/plain
reference: $(STAMP)
	mkdir -p reference
	env -u MPLBACKEND TLCOURSE_PROFILE=quick $(BIN)/jupyter nbconvert --to html --execute --output-dir reference \
		--ExecutePreprocessor.timeout=$(REFERENCE_TIMEOUT) --ExecutePreprocessor.store_widget_state=False \
		$(foreach t,$(REFERENCE_MIMETYPES),--NbConvertBase.display_data_priority=$(t)) $(REFERENCE_NOTEBOOKS)
	$(BIN)/python tools/student.py --answer-key reference/quiz_answers.txt
	@echo "open reference/*.html in a browser; the quizzes' answers are in reference/quiz_answers.txt"

# benchmarks/RESULTS.md: every claim the lessons recorded as they ran (notebooks/outputs/claims/, so run
# them first: `make test`), with its figure, lesson and verdict. `make results RESULTS_ARGS=--strict`
# fails if a seed claim is not recorded or a ledger is malformed.
RESULTS_ARGS ?=
results: $(STAMP)
	$(BIN)/python benchmarks/results.py $(RESULTS_ARGS)

# The oldest TensorFlow/Keras the course supports (tests/oldest-supported.txt, pyproject's lower bounds), in a
# second environment: the unit tests and lesson 07 (KerasHub's text model, the most version-sensitive).
# Python 3.11-3.12 (TensorFlow 2.19 has no wheel for 3.13); it downloads about 1 GB and takes about 15 minutes.
OLDEST_VENV ?= .venv-oldest
oldest:
	@$(PYTHON) -c "$$PYTHON_CHECK"
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install --quiet -c tests/oldest-supported.txt -e ".[dev]"
	$(OLDEST_VENV)/bin/python tools/kernel.py
	$(OLDEST_VENV)/bin/python -c "import tensorflow as tf, keras; print('TensorFlow', tf.__version__, 'Keras', keras.__version__)"
	$(OLDEST_VENV)/bin/python -m pytest -q tests tlcourse tlcourse_assets tlcourse_exercises tlcourse_cli tools --ignore=tests/test_browser.py \
		--ignore=tests/test_jupyterhub.py $(PYTEST_ARGS)
	$(OLDEST_VENV)/bin/python -m pytest -q notebooks/07_text_transfer.ipynb

# The course's website in site/_build/html (git-ignored): the course map, every lesson with the outputs and
# figures of the last test run (outputs/executed/, written by `make test`: nothing is run again), the
# glossary, results, decisions and instructors' pages, search. Sphinx with MyST-NB, offline, about a minute.
# `make site SITE_ARGS=--allow-missing` builds with only some lessons run (each missing one says so).
SITE_ARGS ?=
site: $(STAMP)
	$(BIN)/python tools/website.py $(SITE_ARGS)

# The built site in Chromium: every internal link resolves, every lesson shows its figures and run buttons.
site-test: $(STAMP)
	$(BIN)/python -m pytest -ra tests/test_site.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) notebooks/outputs outputs site/_build
