"""Write benchmarks/RESULTS.md: each claim of the course, the figure a lesson measured for it, and its verdict.

Every lesson records its headline figures as it runs (``tlcourse.claims.Ledger``,
one file per lesson in ``notebooks/outputs/claims/``). After a run of the lessons
this script assembles them: a header saying which commit, machine, profile and
date produced them, then one table of the seed documents' claims
(``tlcourse.claims.SEED_CLAIMS``, in their order; "not recorded" where the lesson
assigned to one did not record it), then a table of every other claim recorded.

    make test                                   # runs every lesson (nbval), which writes the ledgers
    make results                                # python benchmarks/results.py
    python benchmarks/results.py --strict       # exit 1 if a seed claim is missing or a ledger is malformed
    python benchmarks/results.py --claims DIR --output FILE

Problems (a malformed ledger, a seed claim not recorded, or recorded by another
lesson than its own) are printed on stderr, and RESULTS.md is written with what
could be read; ``--strict`` then exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tlcourse.claims import SEED_CLAIMS, VERDICTS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CLAIMS = NOTEBOOKS / "outputs" / "claims"
OUTPUT = ROOT / "benchmarks" / "RESULTS.md"
COMMAND = "make results"
# The fields of one recorded claim and the types a ledger stores (tlcourse.claims.Ledger.record writes them).
ROW_TEXT = ("claim", "section", "figure", "unit", "verdict", "note")
ROW_NUMBERS = ("value", "spread")
DOCUMENT_TEXT = ("notebook", "written", "machine", "profile")

__all__ = ["LedgerError", "Results", "commit", "main", "read_ledger", "read_ledgers", "render"]


class LedgerError(ValueError):
    """A ledger file that cannot be read as the lessons write it; the message names the file."""


@dataclass
class Results:
    """The ledgers read from one folder, by notebook, and what was wrong with the folder."""

    ledgers: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _shown(path: Path) -> str:
    """``path`` relative to the repository (or the working directory) when it is inside one, as given otherwise."""
    for base in (ROOT, Path.cwd()):
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return str(path)


def read_ledger(path: Path) -> dict[str, Any]:
    """One lesson's ledger, checked field by field; :class:`LedgerError` naming ``path`` if it is malformed."""
    where = _shown(path)
    again = f"re-run the lesson {path.stem} to rewrite it, or delete the file"

    def fail(what: str) -> LedgerError:
        return LedgerError(f"{where}: {what}; {again}")

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise fail(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(document, dict):
        raise fail(f"expected a JSON object, found {type(document).__name__}")
    for key in DOCUMENT_TEXT:
        if not isinstance(document.get(key), str):
            raise fail(f"field {key!r} missing or not text")
    if document["notebook"] != path.stem:
        raise fail(f"it names notebook {document['notebook']!r}, not {path.stem!r} (its file name)")
    rows = document.get("claims")
    if not isinstance(rows, list):
        raise fail("field 'claims' missing or not a list")
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise fail(f"claim {i} is not a JSON object")
        for key in ROW_TEXT:
            if not isinstance(row.get(key), str):
                raise fail(f"claim {i}: field {key!r} missing or not text")
        label = f"claim {i} ({row['claim']!r})"
        if not row["claim"].strip() or not row["figure"].strip():
            raise fail(f"{label}: empty claim or figure")
        if row["verdict"] not in VERDICTS:
            raise fail(f"{label}: verdict {row['verdict']!r} is not one of {', '.join(VERDICTS)}")
        for key in ROW_NUMBERS:
            x = row.get(key)
            if x is not None and (isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x)):
                raise fail(f"{label}: {key} {x!r} is not a finite number")
        if row["value"] is None and row["verdict"] != "shown (cited)":
            raise fail(f"{label}: no value, and only a cited claim may have none")
        if row.get("spread") is not None and row["spread"] < 0:
            raise fail(f"{label}: negative spread {row['spread']}")
    return document


def read_ledgers(folder: Path) -> Results:
    """Every ledger in ``folder`` (``*.json``, by name); a malformed one is left out and named in ``problems``."""
    results = Results()
    for path in sorted(Path(folder).glob("*.json")):
        try:
            results.ledgers[path.stem] = read_ledger(path)
        except LedgerError as exc:
            results.problems.append(str(exc))
    return results


def commit(root: Path = ROOT) -> str:
    """``git rev-parse --short HEAD``, with "with local changes" if tracked files differ from it (RESULTS.md aside)."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                 ".", f":(exclude){OUTPUT.relative_to(ROOT).as_posix()}"],
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} with local changes" if status.strip() else head


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _figure(row: dict[str, Any]) -> str:
    text = row["figure"].strip()
    if row["value"] is not None:
        spread = row.get("spread")
        if spread:  # the spread to two significant figures, the value to the same decimal place
            places = max(0, 1 - math.floor(math.log10(spread)))
            amount = f"{row['value']:,.{places}f} ± {spread:,.{places}f}"
        else:
            amount = _number(row["value"]) + (" ± 0" if spread == 0 else "")
        text += f": {amount} {row['unit']}".rstrip()
    if row["note"].strip():
        text += f" ({row['note'].strip()})"
    return _cell(text)


def _lesson(notebook: str, section: str | None, output: Path) -> str:
    path = NOTEBOOKS / f"{notebook}.ipynb"
    name = f"[{notebook}]({Path(os.path.relpath(path, output.resolve().parent)).as_posix()})" if path.exists() else notebook
    section = (section or "").strip().lstrip("§").strip()
    return f"{name} §{_cell(section)}" if section else name


def _one(values: dict[str, str], what: str) -> str:
    """``values`` by notebook: the one value, or each with its notebooks when they differ."""
    distinct = sorted(set(values.values()))
    if len(distinct) <= 1:
        return distinct[0] if distinct else "unknown"
    by = {v: [n[:2] for n, w in sorted(values.items()) if w == v] for v in distinct}
    return f"several {what}: " + "; ".join(f"{v} ({', '.join(ns)})" for v, ns in by.items())


def _profile(name: str) -> str:
    """A ledger's profile; older ledgers wrote "" where tlcourse.claims now writes what it means."""
    return name or "auto (TLCOURSE_PROFILE unset: quick without a GPU)"


def render(results: Results, output: Path = OUTPUT, revision: str = "", generated: str = "") -> tuple[str, list[str]]:
    """RESULTS.md's text for ``results`` (links relative to ``output``'s folder), and the problems found.

    ``revision`` and ``generated`` default to :func:`commit` and the time now.
    """
    problems = list(results.problems)
    ledgers = results.ledgers
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for notebook, document in ledgers.items():
        if not (NOTEBOOKS / f"{notebook}.ipynb").exists():
            problems.append(f"{notebook}: a ledger for a notebook the course does not have (notebooks/{notebook}.ipynb)")
        for row in document["claims"]:
            found.setdefault(row["claim"], []).append((notebook, row))

    seed_rows, counts, used = [], dict.fromkeys(VERDICTS + ("not recorded",), 0), set()
    for claim, lesson in SEED_CLAIMS.items():
        mine = [(n, r) for n, r in found.get(claim, []) if n == lesson]
        elsewhere = [(n, r) for n, r in found.get(claim, []) if n != lesson]
        if mine or elsewhere:
            notebook, row = (mine or elsewhere)[0]
            used.add((notebook, claim))
            where = _lesson(notebook, row["section"], output)
            if not mine:
                problems.append(f"seed claim {claim!r} was recorded by {notebook}, not by {lesson}, its lesson")
                where += f" (its lesson: {lesson})"
            seed_rows.append(f"| {_cell(claim)} | {_figure(row)} | {where} | {row['verdict']} |")
            counts[row["verdict"]] += 1
        else:
            state = "not run" if lesson not in ledgers else "ran, did not record it"
            problems.append(f"seed claim {claim!r} not recorded (its lesson, {lesson}: {state})")
            seed_rows.append(f"| {_cell(claim)} | not recorded ({state}) | {_lesson(lesson, None, output)} | not recorded |")
            counts["not recorded"] += 1
    other_rows = [f"| {_cell(row['claim'])} | {_figure(row)} | {_lesson(notebook, row['section'], output)} | {row['verdict']} |"
                  for notebook, document in ledgers.items() for row in document["claims"]
                  if (notebook, row["claim"]) not in used]

    written = sorted(d["written"] for d in ledgers.values())
    lessons = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    silent = [n for n in lessons if n not in ledgers]
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    lines = [
        "# Results: the course's claims and what the lessons measured",
        "",
        "Generated by `benchmarks/results.py` from the ledgers the lessons write as they run",
        "(`notebooks/outputs/claims/`); do not edit it by hand. To regenerate it, run the lessons, then the script:",
        "",
        "```bash",
        "make test       # every lesson under nbval (or: .venv/bin/pytest --nbval-lax --nbval-current-env notebooks/)",
        f"{COMMAND}    # this file; `make results RESULTS_ARGS=--strict` fails if a claim is missing",
        "```",
        "",
        f"- Commit: {revision or commit()}",
        f"- Machine: {_cell(_one({n: d['machine'] for n, d in ledgers.items()}, 'machines'))}",
        f"- Profile: {_cell(_one({n: _profile(d['profile']) for n, d in ledgers.items()}, 'profiles'))}",
        f"- Lessons run: {written[0]} to {written[-1]}" if written else "- Lessons run: none",
        f"- Ledgers: {len(ledgers)} of {len(lessons)} lessons" + (f" (none from {', '.join(silent)})" if silent else ""),
        f"- Generated: {generated or time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "Verdicts: *shown*, a controlled comparison whose margin is beyond the spread over seeds, guarded by an",
        "assert in the lesson; *not shown*, measured, and the effect is absent or inside the spread; *mixed*, it",
        "holds in some settings and not in others; *shown (cited)*, a published source, not measured here.",
        "A figure is the value ± its spread over seeds (the figure's text says which spread).",
        "",
        f"## The seed documents' claims ({len(SEED_CLAIMS)}: {tally})",
        "",
        "| claim | figure | lesson | verdict |",
        "|---|---|---|---|",
        *seed_rows,
        "",
        f"## Other claims the lessons recorded ({len(other_rows)})",
        "",
    ]
    if other_rows:
        lines += ["| claim | figure | lesson | verdict |", "|---|---|---|---|", *other_rows]
    else:
        lines.append("None.")
    if results.problems:
        lines += ["", "## Ledgers that could not be read", "", *(f"- {_cell(p)}" for p in results.problems)]
    return "\n".join(lines) + "\n", problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=Path, default=CLAIMS, help="folder of the lessons' ledgers (NN_name.json)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the markdown file to write")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if a seed claim is not recorded or a ledger is malformed")
    args = parser.parse_args(argv)
    files = sorted(args.claims.glob("*.json")) if args.claims.is_dir() else []
    if not files:
        print(f"results: no ledgers in {_shown(args.claims)}: run the lessons first (`make test`, or nbval on "
              "notebooks/), each writes its NN_name.json there", file=sys.stderr)
        return 1
    results = read_ledgers(args.claims)
    text, problems = render(results, args.output)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    claims = {row["claim"] for document in results.ledgers.values() for row in document["claims"]}
    print(f"wrote {_shown(args.output)}: {len(claims & set(SEED_CLAIMS))} of {len(SEED_CLAIMS)} seed claims recorded, "
          f"{len(claims - set(SEED_CLAIMS))} others, from {len(results.ledgers)} ledgers")
    for problem in problems:
        print(f"results: {problem}", file=sys.stderr)
    return 1 if args.strict and problems else 0


if __name__ == "__main__":
    sys.exit(main())
