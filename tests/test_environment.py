"""environment.yml (conda users) and pyproject.toml (pip users) install the same things."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    assert python.split("=")[1].strip() >= project["requires-python"].lstrip(">=")


def test_dependencies_are_pinned_to_minor_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name = re.split(r"[~=<>\[]", req)[0]
        if name != "h5py":  # left to TensorFlow, which pins its own range
            assert "~=" in req, f"{req} is not pinned to a minor version"
