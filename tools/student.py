"""Write the student edition: every lesson without its solution cells.

The course's notebooks keep each exercise's solution at the end, in cells tagged
``solution`` (collapsed in JupyterLab). For a class that should try first, this
writes ``student/NN_name.ipynb`` (git-ignored) for every ``notebooks/NN_name.ipynb``:
the same cells, in the same order, minus those tagged ``solution``. Exercise
text, starter and check cells stay, and so do the quizzes. The glossary the
lessons link to is copied beside them.

    python tools/student.py                  # or: make student
    python tools/student.py --out DIR        # another folder
    python tools/student.py --answer-key F   # every quiz with its answers, for instructors (make reference)

The notebooks still need the course installed (``pip install -e .``): they import
``tlcourse`` and find the data as the full edition does.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "student"
SOLUTION_TAG = "solution"  # tools/nbbuild.py's tag of a "Solutions" section's cells
EXTRA_FILES = ("GLOSSARY.md",)

__all__ = ["SOLUTION_TAG", "is_solution", "main", "solution_lines", "student_edition", "write_student_edition"]


def is_solution(cell: dict[str, Any]) -> bool:
    """Whether a notebook cell is tagged ``solution``.

    Examples
    --------
    >>> is_solution({"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": []})
    True
    >>> is_solution({"cell_type": "code", "metadata": {}, "source": []})
    False
    """
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def student_edition(nb: dict[str, Any]) -> dict[str, Any]:
    """A copy of the notebook ``nb`` without its solution cells.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Exercise"]},
    ...                 {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": ["x = 1"]}]}
    >>> [c["source"] for c in student_edition(nb)["cells"]]
    [['# Exercise']]
    """
    out = copy.deepcopy(nb)
    out["cells"] = [cell for cell in out["cells"] if not is_solution(cell)]
    return out


def solution_lines(nb: dict[str, Any]) -> set[str]:
    """The lines (stripped, non-empty) of ``nb``'s solution cells that no other cell has: what gives a solution away.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": ["x = None\\n", "print(x)"]},
    ...                 {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": ["x = 42\\n", "print(x)"]}]}
    >>> solution_lines(nb)
    {'x = 42'}
    """
    def lines(cells: list[dict[str, Any]]) -> set[str]:
        return {ln.strip() for c in cells for ln in "".join(c["source"]).splitlines() if ln.strip()}

    return lines([c for c in nb["cells"] if is_solution(c)]) - lines([c for c in nb["cells"] if not is_solution(c)])


def write_student_edition(out: Path = OUT, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Write every lesson's student edition into ``out``; return the notebooks written."""
    import nbformat

    sources = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no notebooks NN_name.ipynb in {notebooks}: run tools/nbbuild.py first")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        nb = student_edition(json.loads(path.read_text(encoding="utf-8")))
        nbformat.validate(nbformat.from_dict(nb))  # refuse to write a notebook Jupyter could not open
        target = out / path.name
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    for name in EXTRA_FILES:
        if (notebooks / name).is_file():
            shutil.copyfile(notebooks / name, out / name)
    return written


def answer_key(folder: Path = NOTEBOOKS / "quizzes") -> str:
    """Every quiz of ``folder`` with its answers: the instructors' key.

    Examples
    --------
    >>> key = answer_key()
    >>> key.startswith("Quiz: 01 ") and "Answer:" in key
    True
    """
    from tlcourse_exercises import quiz

    paths = sorted(Path(folder).glob("[0-9][0-9]_*.json"))
    return "\n\n\n".join(quiz.as_text(quiz.load(p), answers=True) for p in paths) + "\n"


def main(argv: list[str]) -> int:
    if "--answer-key" in argv:
        Path(argv[argv.index("--answer-key") + 1]).write_text(answer_key(), encoding="utf-8")
        return 0
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else OUT
    for path in write_student_edition(out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
