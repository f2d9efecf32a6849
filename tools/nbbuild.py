"""Build the course notebooks from their percent-format sources.

Each notebook is written as ``notebooks/src/NN_name.py`` (cells start with
``# %%`` for code and ``# %% [markdown]`` for prose; ``# %% tags=["a", "b"]``
adds cell tags) and built into ``notebooks/NN_name.ipynb`` without outputs.
A cell tagged ``nbval-check-output`` may be followed by ``# %% [output]``:
the commented lines after it are the printed output that nbval expects.
Cells tagged ``solution`` (a lesson's "Solutions" section) get the metadata
``"jupyter": {"source_hidden": true}``: JupyterLab shows them collapsed until
clicked (a markdown cell that is only a heading stays visible), and
``tools/student.py`` leaves them out of the student edition.
Sources diff and review like code; the hygiene test checks that every
notebook equals what its source builds, so the two never drift.

Minutes come from one file, ``tlcourse/minutes.json`` (see ``tlcourse.timings``).
Each source's first cell carries the placeholder line
``# **Estimated time:** (generated from tlcourse/minutes.json)``, which the
build replaces by the notebook's teaching, exercise and computing minutes; the
README's course map gets its minutes columns and total row, between
``<!-- minutes:begin -->`` and ``<!-- minutes:end -->``, from the same file. The
exercise minutes stored there are rewritten from the sources' ``### Exercise N
(about M min)`` headings. After a clean test run, ``tools/update_minutes.py``
merges the measured computing minutes and calls this build.

    python tools/nbbuild.py            # build every notebook, the README's minutes, minutes.json's exercises
    python tools/nbbuild.py --check    # exit 1 if any of them is out of date
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "notebooks" / "src"
OUT = ROOT / "notebooks"
README = ROOT / "README.md"
MINUTES = ROOT / "tlcourse" / "minutes.json"
# This checkout's package, not whichever tlcourse is installed: the build must
# read the timings file it writes.
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]
import backlinks  # noqa: E402 - needs the path above

from tlcourse import timings  # noqa: E402 - needs the path above

__all__ = ["build", "estimated_time_line", "format_minutes", "generated", "main", "render", "render_readme", "stale_files"]

PLACEHOLDER = "# **Estimated time:** (generated from tlcourse/minutes.json)"
BEGIN, END = "<!-- minutes:begin -->", "<!-- minutes:end -->"
# Course-map columns written by hand (kept from README's rows) around the generated minutes columns.
LEADING, TRAILING = ("#", "notebook", "you will learn"), ("GPU needed?",)
MINUTE_COLUMNS = ("teaching min", "exercises min", "CPU min (quick, measured)", "GPU min (full, estimate)")
# Cells of a lesson's "Solutions" section carry this tag: JupyterLab shows them collapsed (a heading
# alone stays visible) and tools/student.py leaves them out of the student edition.
SOLUTION_TAG = "solution"
HEADER = re.compile(r"^# %%(?: \[(?P<kind>markdown|output)\])?(?: tags=(?P<tags>\[.*\]))?\s*$")
METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python", "version": "3.11"},
}


def _cell(kind: str, lines: list[str], tags: list[str], index: int) -> dict:
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if kind in ("markdown", "output"):
        lines = [re.sub(r"^# ?", "", ln) for ln in lines]
    text = "\n".join(lines)
    source = [ln + "\n" for ln in text.split("\n")]
    source[-1] = source[-1].rstrip("\n")
    metadata: dict = {"tags": tags} if tags else {}
    if SOLUTION_TAG in tags and not (kind == "markdown" and re.fullmatch(r"#{1,6} [^\n]*", text)):
        metadata["jupyter"] = {"source_hidden": True}  # JupyterLab shows it collapsed; a click opens it
    cell: dict = {"cell_type": kind, "id": f"cell-{index:03d}", "metadata": metadata, "source": source}
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def format_minutes(x: float) -> str:
    """Minutes as people write them: one decimal at most, none when it is zero.

    Examples
    --------
    >>> format_minutes(1.74), format_minutes(6.0)
    ('1.7', '6')
    """
    return f"{round(x, 1):g}"


def estimated_time_line(m: timings.NotebookMinutes) -> str:
    """The markdown line a notebook's first cell gets for its minutes.

    Examples
    --------
    >>> estimated_time_line(timings.NotebookMinutes("01_x", 25, 15, 1.7, 6))  # doctest: +NORMALIZE_WHITESPACE
    '**Estimated time:** 25 min teaching, 15 min exercises and 1.7 min of computing on a 2-core CPU
    (quick profile; about 6 min on a GPU in the full profile): about 42 min in all.'
    """
    exercises = f"{format_minutes(m.exercises)} min exercises" if m.exercises else "no exercises"
    return (f"**Estimated time:** {format_minutes(m.teaching)} min teaching, {exercises} and "
            f"{format_minutes(m.compute_quick)} min of computing on a 2-core CPU (quick profile; about "
            f"{format_minutes(m.compute_full)} min on a GPU in the "
            f"full profile): about {round(m.total_quick):.0f} min in all.")


def fill_minutes(text: str, m: timings.NotebookMinutes, src: Path) -> str:
    """Replace a source's one placeholder line by its generated "Estimated time" line."""
    lines = text.split("\n")
    at = [i for i, ln in enumerate(lines) if ln.startswith("# **Estimated time:**")]
    if len(at) != 1 or lines[at[0]] != PLACEHOLDER:
        # hand-written minutes are how the three copies drifted apart: refuse them
        raise ValueError(f"{src}: the first cell needs exactly one line {PLACEHOLDER!r} "
                         f"(minutes are generated from tlcourse/minutes.json), found {[lines[i] for i in at]}")
    lines[at[0]] = "# " + estimated_time_line(m)
    return "\n".join(lines)


def build(src: Path, minutes: timings.NotebookMinutes | None = None) -> dict:
    """Return the notebook (as a dict) that a percent-format source describes.

    ``minutes`` fills the "Estimated time" placeholder (default: this
    notebook's entry in tlcourse/minutes.json).
    """
    if minutes is None:
        minutes = timings.notebook_minutes(read_table())[src.stem]
    cells: list[dict] = []
    kind, tags, lines = None, [], []

    def flush() -> None:
        if kind == "output":
            text = "".join(_cell("markdown", lines, [], 0)["source"]) + "\n"
            cells[-1]["outputs"].append({"name": "stdout", "output_type": "stream", "text": text})
            cells[-1]["execution_count"] = 1  # nbval compares only cells that were "run"
        elif kind is not None:
            cells.append(_cell(kind, lines, tags, len(cells)))

    for line in fill_minutes(src.read_text(encoding="utf-8"), minutes, src).split("\n"):
        m = HEADER.match(line)
        if m:
            flush()
            kind = m.group("kind") or "code"
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            lines = []
            if kind == "output" and (not cells or "nbval-check-output" not in cells[-1]["metadata"].get("tags", [])):
                raise ValueError(f"{src}: '# %% [output]' must follow a cell tagged nbval-check-output")
        elif kind is not None:
            lines.append(line)
    flush()
    return {"cells": cells, "metadata": METADATA, "nbformat": 4, "nbformat_minor": 5}


def render(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def read_table(path: Path | None = None) -> dict[str, Any]:
    """The timings file (default: this checkout's tlcourse/minutes.json), parsed."""
    return json.loads((path or MINUTES).read_text(encoding="utf-8"))


def dump_table(table: dict[str, Any]) -> str:
    """The timings file as committed: one line per notebook, so a change diffs as one line."""
    head = {k: v for k, v in table.items() if k != "notebooks"}
    out = json.dumps(head, indent=2, ensure_ascii=False)[:-2] + ',\n  "notebooks": {\n'
    rows = [f"    {json.dumps(name)}: {json.dumps(entry)}" for name, entry in table["notebooks"].items()]
    return out + ",\n".join(rows) + "\n  }\n}\n"


def with_exercises_from_sources(table: dict[str, Any], sources: list[Path]) -> dict[str, Any]:
    """A copy of ``table`` whose exercise minutes are those the sources' headings add up to."""
    names = [s.stem for s in sources]
    if sorted(table["notebooks"]) != names:
        raise ValueError(f"tlcourse/minutes.json lists {sorted(table['notebooks'])}, the sources are {names}: "
                         "add or remove the entry (teaching, compute_quick, compute_full minutes)")
    new = json.loads(json.dumps(table))
    for src in sources:
        new["notebooks"][src.stem]["exercises"] = timings.exercise_minutes(src.read_text(encoding="utf-8"), str(src))
    return new


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def render_readme(text: str, table: dict[str, Any]) -> str:
    """README with the course map's minutes (between the markers) generated from ``table``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"README.md needs one {BEGIN} ... {END} around the course map")
    before, rest = text.split(BEGIN)
    region, after = rest.split(END)
    rows = [ln for ln in region.split("\n") if ln.startswith("|")]
    header = _cells(rows[0])
    missing = [c for c in LEADING + TRAILING if c not in header]
    if missing:
        raise ValueError(f"README.md course map: no column {missing} in {header}")
    kept = {}
    for row in rows[2:]:
        cells = dict(zip(header, _cells(row)))
        if re.fullmatch(r"\d\d", cells["#"]):
            kept[cells["#"]] = cells
    minutes = timings.notebook_minutes(table)
    numbers = {name[:2]: name for name in minutes}
    if sorted(kept) != sorted(numbers):
        raise ValueError(f"README.md course map has rows {sorted(kept)}, tlcourse/minutes.json has {sorted(numbers)}: "
                         "a new notebook needs its row (number, link, what you will learn) written by hand")
    columns = LEADING + MINUTE_COLUMNS + TRAILING
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for number, name in sorted(numbers.items()):
        m = minutes[name]
        mins = [format_minutes(getattr(m, f)) for f in ("teaching", "exercises", "compute_quick", "compute_full")]
        row = [kept[number][c] for c in LEADING] + mins + [kept[number][c] for c in TRAILING]
        lines.append("| " + " | ".join(row) + " |")
    total = {f: sum(getattr(m, f) for m in minutes.values())
             for f in ("teaching", "exercises", "compute_quick", "compute_full", "total_quick", "total_full")}
    sums = [f"**{format_minutes(total[f])}**" for f in ("teaching", "exercises", "compute_quick", "compute_full")]
    lines.append("| " + " | ".join(["", "**whole course**", ""] + sums + [""] * len(TRAILING)) + " |")
    note = (
        "Minutes: *teaching* is the authors' estimate for teaching or reading a notebook; *exercises* the sum of "
        "its \"Exercise N (about M min)\" headings; *CPU* the time it took end to end in the tests "
        f"({table['measured']}; that machine trains {table['images_per_second']:g} images/s); *GPU* an estimate, "
        f"as no GPU was at hand to measure on. The whole course takes about {total['total_quick'] / 60:.1f} h on a "
        f"2-core CPU, {total['total_full'] / 60:.1f} h on a GPU in the full profile; 00_setup_check scales the "
        "computing to your machine. Generated from `tlcourse/minutes.json` by `tools/nbbuild.py`: edit that file, "
        "not this table."
    )
    lines += ["", textwrap.fill(note, width=80, break_long_words=False, break_on_hyphens=False)]
    return before + BEGIN + "\n" + "\n".join(lines) + "\n" + END + after


def generated() -> dict[Path, str]:
    """Every file the build writes, and its text: the timings file, the README, the notebooks, and the
    package's modules with their "Introduced in" back-links (``tools/backlinks.py``)."""
    sources = sorted(SRC.glob("[0-9][0-9]_*.py"))
    table = with_exercises_from_sources(read_table(), sources)
    outputs = {MINUTES: dump_table(table), README: render_readme(README.read_text(encoding="utf-8"), table)}
    minutes = timings.notebook_minutes(table)
    for src in sources:
        outputs[OUT / (src.stem + ".ipynb")] = render(build(src, minutes[src.stem]))
    outputs.update(backlinks.generated(sources))
    return outputs


def stale_files() -> list[str]:
    """Names of the files that differ from what the build would write."""
    return [str(out.relative_to(ROOT)) for out, text in generated().items()
            if not out.exists() or out.read_text(encoding="utf-8") != text]


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for out, text in generated().items():
        if out.exists() and out.read_text(encoding="utf-8") == text:
            continue
        if check:
            stale.append(str(out.relative_to(ROOT)))
        else:
            out.write_text(text, encoding="utf-8")
            print(f"wrote {out.relative_to(ROOT)}")
    if stale:
        print("out of date (run python tools/nbbuild.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
