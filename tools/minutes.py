"""How long each notebook takes: teaching, exercises and computing, from one file (authors' kit).

``tlcourse/minutes.json`` is the single source of a notebook's minutes. The
README's course map, the "**Estimated time:**" line of every notebook (both
written by ``tools/nbbuild.py``), the workshop timetables (``tools/schedule.py``)
and the estimate 00_setup_check prints for the learner's machine
(``tlcourse_cli.doctor.lesson_minutes``, which reads the file as package data) are
all generated from it, so they cannot disagree.

What the file holds, per notebook:

``teaching``
    Minutes an instructor spends teaching it (or a learner reading it): an
    author's estimate.
``exercises``
    The sum of the ``Exercise N (about M min)`` headers in the notebook's
    source. It is stored so that the package works without the repository
    (an installed wheel has no ``notebooks/src``); ``tools/nbbuild.py`` rewrites
    it from the sources, ``nbbuild.py --check`` and ``tests/test_timings.py``
    fail when it disagrees with them.
``compute_quick``
    Minutes the notebook took end to end in the quick profile on the 2-core
    CPU test machine, whose training speed is the file's ``images_per_second``.
``compute_full``
    Minutes on a GPU in the full profile: an estimate (no GPU to measure on).

Maintainers: after a clean test run, ``python tools/update_minutes.py`` merges
the minutes it measured (``outputs/notebook_minutes.json``, written by the
root ``conftest.py``) into ``compute_quick`` and rebuilds the notebooks and the
README. No lesson imports this module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MINUTES", "NotebookMinutes", "exercise_minutes", "notebook_minutes"]

#: This checkout's timings file (package data of tlcourse, read there by ``doctor.lesson_minutes``).
MINUTES = Path(__file__).resolve().parents[1] / "tlcourse" / "minutes.json"

# A markdown heading (in a percent-format source, a comment line such as
# "# ### Exercise 2 (about 10 min)") that starts with the word "Exercise"; the
# plural "## Exercises" section heading does not match.
_EXERCISE_HEADING = re.compile(r"^#\s+#{1,6}\s+Exercise\b(?P<rest>.*)$")
_EXERCISE_MINUTES = re.compile(r"^\s+(?P<number>\d+)\s+\(about\s+(?P<minutes>\d+)\s+min\)\s*$")


@dataclass(frozen=True)
class NotebookMinutes:
    """Minutes one notebook takes, by kind.

    Examples
    --------
    >>> m = NotebookMinutes("01_x", teaching=25, exercises=15, compute_quick=1.7, compute_full=6)
    >>> round(m.total_quick, 1), m.total_full
    (41.7, 46)
    """

    name: str
    teaching: float
    exercises: float
    compute_quick: float
    compute_full: float

    @property
    def total_quick(self) -> float:
        """Teaching, exercises and computing on a 2-core CPU (quick profile)."""
        return self.teaching + self.exercises + self.compute_quick

    @property
    def total_full(self) -> float:
        """Teaching, exercises and computing on a GPU (full profile, estimate)."""
        return self.teaching + self.exercises + self.compute_full


def exercise_minutes(text: str, source: str = "<text>") -> int:
    """Sum the minutes of the ``Exercise N (about M min)`` headings of a notebook source.

    Strict on purpose: an exercise heading without its minutes, or exercises
    not numbered 1, 2, ... in order, is an error, never a silent zero.

    Parameters
    ----------
    text
        A percent-format notebook source (markdown lines start with ``# ``).
    source
        Name used in the error message.

    Raises
    ------
    ValueError
        If an exercise heading is not of the form ``### Exercise N (about M min)``.

    Examples
    --------
    >>> exercise_minutes("# ### Exercise 1 (about 5 min)\\n# text\\n# ### Exercise 2 (about 10 min)")
    15
    >>> exercise_minutes("# ### Exercise 1")
    Traceback (most recent call last):
    ...
    ValueError: <text> line 1: exercise heading without its minutes, write '### Exercise N (about M min)': '# ### Exercise 1'
    """
    total, numbers = 0, []
    for lineno, line in enumerate(text.split("\n"), start=1):
        heading = _EXERCISE_HEADING.match(line)
        if not heading:
            continue
        marker = _EXERCISE_MINUTES.match(heading.group("rest"))
        if not marker:
            raise ValueError(f"{source} line {lineno}: exercise heading without its minutes, "
                             f"write '### Exercise N (about M min)': {line!r}")
        numbers.append(int(marker.group("number")))
        total += int(marker.group("minutes"))
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"{source}: exercises numbered {numbers}, expected 1, 2, ... in order")
    return total


def notebook_minutes(table: dict[str, Any] | None = None) -> dict[str, NotebookMinutes]:
    """Minutes per notebook, in course order.

    Parameters
    ----------
    table
        A parsed timings file (default: this checkout's ``tlcourse/minutes.json``).

    Examples
    --------
    >>> m = notebook_minutes()["00_setup_check"]
    >>> m.teaching, m.exercises
    (10.0, 3.0)
    """
    table = json.loads(MINUTES.read_text(encoding="utf-8")) if table is None else table
    return {
        name: NotebookMinutes(name, float(entry["teaching"]), float(entry["exercises"]),
                              float(entry["compute_quick"]), float(entry["compute_full"]))
        for name, entry in sorted(table["notebooks"].items())
    }
