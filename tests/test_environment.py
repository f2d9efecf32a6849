"""environment.yml (conda users) and pyproject.toml (pip users) install the same things, on a Python
TensorFlow has wheels for; the Makefile checks that Python first and installs from a wheelhouse offline."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def conda_pip_requirements():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if re.match(r"\s*- pip:\s*$", ln))
    reqs = []
    for ln in lines[start + 1:]:
        m = re.match(r"\s{4,}- (.+?)\s*$", ln)
        if not m:
            break
        reqs.append(m.group(1))
    return reqs


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    reqs = conda_pip_requirements()
    assert "-e ." in reqs, "environment.yml must install this package"
    assert set(reqs) - {"-e ."} == wanted
    python = next(ln for ln in (ROOT / "environment.yml").read_text().splitlines() if "python=" in ln)
    assert python.split("=")[1].strip() in SpecifierSet(project["requires-python"])


def test_requires_python_is_what_tensorflow_has_wheels_for():
    """TensorFlow 2.21 has wheels for CPython 3.10-3.13 (none for 3.14); the course itself needs 3.11."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "tensorflow>=2.19.1,<2.22" in project["dependencies"], "TensorFlow moved: check its wheels' Python versions"
    supported = SpecifierSet(project["requires-python"])
    assert [v for v in ["3.10", "3.11", "3.12", "3.13", "3.14"] if v in supported] == ["3.11", "3.12", "3.13"]


def make(*args, cwd=ROOT):
    return subprocess.run(["make", "--no-print-directory", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=60)


@needs_make
@pytest.mark.parametrize("version,why", [("3.14", "TensorFlow 2.21 has no wheel for 3.14"),
                                         ("3.10", "it uses 3.11's features")])
def test_make_says_which_python_to_install(version, why):
    out = make("-s", "check-python", f"PRETEND_PYTHON={version}")
    assert out.returncode != 0
    assert f"tlcourse needs Python 3.11-3.13 ({why})" in out.stderr
    assert "pyenv install 3.12, or apt install python3.12" in out.stderr and "make PYTHON=python3.12" in out.stderr


@needs_make
def test_make_accepts_this_python():
    out = make("-s", "check-python")
    assert out.returncode == 0, out.stderr
    assert make("-s", "check-python", "PRETEND_PYTHON=3.13").returncode == 0


@needs_make
def test_the_venv_is_made_only_after_the_python_check(tmp_path):
    lines = make("-n", "install", f"VENV={tmp_path / 'venv'}").stdout.splitlines()
    check = next(i for i, ln in enumerate(lines) if "PYTHON_CHECK" in ln)
    venv = next(i for i, ln in enumerate(lines) if "-m venv" in ln)
    assert check < venv
    assert not any("--no-index" in ln for ln in lines), "an ordinary install uses PyPI"


@needs_make
def test_wheelhouse_downloads_everything_the_install_needs():
    lines = make("-n", "wheelhouse").stdout.splitlines()
    assert any(re.search(r"pip download --dest wheelhouse .*-r wheelhouse/requirements.txt", ln) for ln in lines)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    script = next(ln for ln in lines if "REQUIREMENTS" in ln)
    assert "> wheelhouse/requirements.txt" in script
    requirements = subprocess.run([sys.executable, "-c", make_variable("REQUIREMENTS")], capture_output=True, text=True,
                                  cwd=ROOT).stdout.split()
    wanted = (project["build-system"]["requires"] + project["project"]["dependencies"]
              + project["project"]["optional-dependencies"]["dev"])
    assert set(wanted) <= set(requirements) and "pip" in requirements


def make_variable(name):
    """The text of a ``define NAME ... endef`` block of the Makefile."""
    text = (ROOT / "Makefile").read_text()
    return re.search(rf"^define {name}\n(.*?)^endef", text, re.M | re.S).group(1)


@needs_make
def test_install_offline_installs_from_the_wheelhouse_only(tmp_path):
    lines = make("-n", "install-offline", f"VENV={tmp_path / 'venv'}").stdout.splitlines()
    pip = [ln for ln in lines if "pip install" in ln]
    assert pip and all("--no-index --find-links wheelhouse" in ln for ln in pip), pip
    assert any('-e ".[dev]"' in ln for ln in pip)
    assert any("test -d wheelhouse" in ln for ln in lines), "a missing wheelhouse is named, not a pip error"


def test_the_wheelhouse_is_not_committed():
    assert "wheelhouse/" in (ROOT / ".gitignore").read_text().splitlines()


def test_dependencies_are_pinned_to_minor_versions_or_to_the_range_checked():
    """``~=`` pins, except TensorFlow and KerasHub: ranges from the oldest pair checked to the one the tests run."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    oldest = {Requirement(line).name: Requirement(line) for line in (ROOT / "tests" / "oldest-supported.txt").read_text()
              .splitlines() if line.strip() and not line.startswith("#")}
    for req in map(Requirement, project["dependencies"] + project["optional-dependencies"]["dev"]):
        if req.name in ("h5py", "huggingface-hub"):  # left to TensorFlow and KerasHub, which pin their own ranges
            continue
        if req.name in ("tensorflow", "keras-hub"):
            lower = next(Version(s.version) for s in req.specifier if s.operator == ">=")
            assert any(s.operator == "<" for s in req.specifier), f"{req}: a range needs an upper bound"
            assert Version(str(oldest[req.name].specifier).removeprefix("==")) == lower, (
                f"{req}: its lower bound is not the oldest checked, {oldest[req.name]}")
        else:
            assert any(s.operator == "~=" for s in req.specifier), f"{req} is not pinned to a minor version"
        if req.name == "keras":
            assert req.specifier.contains(str(oldest["keras"].specifier).removeprefix("==")), f"{oldest['keras']}: not {req}"


def test_the_version_has_one_home_that_the_citation_and_the_package_metadata_show():
    """tlcourse.__version__ is the version: pyproject.toml reads it, CITATION.cff and doctor's report show it."""
    import yaml

    import tlcourse

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"] and "version" not in project["project"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "tlcourse.__version__"}
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["title"] and citation["authors"]
    assert str(citation["version"]) == tlcourse.__version__
    assert citation["license"] == "MIT" and (ROOT / "LICENSE").read_text().startswith("MIT License")
    report = tlcourse.setup(seed=0, verbose=False)
    assert str(report).startswith(f"tlcourse {tlcourse.__version__} set-up")


def test_every_lesson_first_installs_the_course_where_it_is_missing_and_does_nothing_where_it_is(monkeypatch):
    """The cell after each lesson's title: on Colab or Kaggle, pip installs the course from its repository."""
    import importlib.util
    import json

    repository = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: calls.append(command) if check else None)
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cell = json.loads(path.read_text())["cells"][1]
        assert cell["cell_type"] == "code" and cell["metadata"]["tags"] == ["install"], path.name
        exec("".join(cell["source"]), {})  # here the course is installed: nothing runs
        assert calls == [], path.name
        with monkeypatch.context() as m:
            m.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "tlcourse" else object())
            exec("".join(cell["source"]), {})
        assert calls.pop() == [sys.executable, "-m", "pip", "install", "--quiet", f"tlcourse @ git+{repository}"]
