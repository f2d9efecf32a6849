"""What the course hands out besides the notebooks: the student edition, reference outputs, Binder, the glossary."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import student  # noqa: E402 - tools/ is not a package

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    student.write_student_edition(out)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_lesson_has_its_solutions_tagged_and_collapsed(path):
    """From the "Solutions" heading on, every cell is a solution, up to the quiz, an extra-code cell or Key points."""
    cells = load(path)["cells"]
    heading = [i for i, c in enumerate(cells) if re.match(r"#{2,3} Solutions\s*$", "".join(c["source"]))]
    assert len(heading) == 1, "one Solutions heading, a cell of its own"
    end = next(i for i in range(heading[0], len(cells)) if not student.is_solution(cells[i]))
    ending = "".join(cells[end]["source"])
    assert ending.startswith(("## Quiz", "## Key points", "# extra code")), ending[:40]
    solutions = cells[heading[0]:end]
    assert any(c["cell_type"] == "code" for c in solutions)
    assert [i for i, c in enumerate(cells) if student.is_solution(c)] == list(range(heading[0], end))
    for c in solutions[1:]:
        assert c["metadata"]["jupyter"] == {"source_hidden": True}, "collapsed in JupyterLab"
    assert "jupyter" not in solutions[0]["metadata"], "the heading itself stays visible"


def test_the_student_edition_is_complete(edition):
    assert sorted(p.name for p in edition.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    assert (edition / "GLOSSARY.md").read_text() == (ROOT / "notebooks" / "GLOSSARY.md").read_text()
    for path in NOTEBOOKS:
        full, mine = load(path), load(edition / path.name)
        nbformat.validate(nbformat.reads(json.dumps(mine), as_version=4))
        assert mine["metadata"] == full["metadata"]
        assert mine["cells"] == [c for c in full["cells"] if not student.is_solution(c)], path.name
        assert not any(student.is_solution(c) for c in mine["cells"])
        assert len(mine["cells"]) < len(full["cells"]), f"{path.name}: no solution removed"
        given_away = student.solution_lines(full)
        assert given_away, f"{path.name}: its solutions have no line of their own"
        text = {ln.strip() for c in mine["cells"] for ln in "".join(c["source"]).splitlines()}
        assert not given_away & text, f"{path.name}: solution code left in: {sorted(given_away & text)[:3]}"
        exercises = [c for c in mine["cells"] if re.search(r"#{2,3} Exercise \d", "".join(c["source"]))]
        assert len(exercises) == len([c for c in full["cells"] if re.search(r"#{2,3} Exercise \d", "".join(c["source"]))])


def test_student_main_writes_where_asked(tmp_path, capsys):
    assert student.main(["--out", str(tmp_path / "class")]) == 0
    assert len(list((tmp_path / "class").glob("*.ipynb"))) == len(NOTEBOOKS)
    assert "wrote" in capsys.readouterr().out


def test_student_and_reference_folders_are_not_committed():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "student/" in ignored and "reference/" in ignored


def make_dry_run(*args: str) -> str:
    out = subprocess.run(["make", "--no-print-directory", "-n", "STAMP=", *args], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


@needs_make
def test_make_student_runs_the_tool():
    assert "tools/student.py" in make_dry_run("student")


@needs_make
def test_make_reference_executes_every_lesson_to_html_in_the_quick_profile():
    cmd = make_dry_run("reference")
    assert "TLCOURSE_PROFILE=quick" in cmd and "nbconvert --to html --execute --output-dir reference" in cmd
    assert re.search(r"--ExecutePreprocessor\.timeout=(\d+)", cmd) and int(
        re.search(r"timeout=(\d+)", cmd).group(1)) >= 900
    assert all(f"notebooks/{p.name}" in cmd for p in NOTEBOOKS)
    assert "display_data_priority=text/plain" in cmd and "widget-view" not in cmd, "quizzes print as text there"
    assert "quiz_answers.txt" in cmd
    one = make_dry_run("reference", "REFERENCE_NOTEBOOKS=notebooks/02_feature_extraction.ipynb")
    assert "notebooks/02_feature_extraction.ipynb" in one and "01_what_is" not in one


def test_binder_installs_the_course_with_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [ln.strip() for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    assert [ln for ln in lines if ln and not ln.startswith("#")] == ["-e ."], "the pins come from pyproject.toml only"
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    version = re.fullmatch(r"python-(3\.\d+)", runtime).group(1)
    assert version in SpecifierSet(project["requires-python"])
    conda = next(ln for ln in (ROOT / "environment.yml").read_text().splitlines() if "python=" in ln)
    assert conda.split("=")[1].strip() == version, "Binder and conda users get the same Python"
    assert "binder/" in (ROOT / "README.md").read_text(), "the README says where Binder's set-up is"


def test_the_glossary_is_linked_from_every_lesson_and_the_readme():
    glossary = (ROOT / "notebooks" / "GLOSSARY.md").read_text(encoding="utf-8")
    entries = re.findall(r"^\*\*(.+?)\*\*.*?\*(\d\d_[a-z0-9_]+)\*$", glossary, re.M | re.S)
    lessons = {p.stem for p in NOTEBOOKS}
    assert len(entries) >= 30 and {lesson for _, lesson in entries} <= lessons
    names = [name for name, _ in entries]
    assert names == sorted(names, key=lambda n: n.strip("`").lower()), "alphabetical order"
    for term in ("AdaBN", "DANN", "LP-FT", "Linear probe", "Negative transfer", "Mixed precision", "Head",
                 "Fine-tuning", "Feature extraction", "Domain, domain shift", "Source, target"):
        assert any(name.startswith(term) for name in names), term
    assert "(notebooks/GLOSSARY.md)" in (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        cells = load(path)["cells"]
        assert "](GLOSSARY.md)" in "".join(cells[0]["source"]), path.name
        last = "".join(cells[-1]["source"])
        assert "**Further reading**" in last and 2 <= len(re.findall(r"^- .+\(\d{4}\)", last, re.M)) <= 4, path.name
