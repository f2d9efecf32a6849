"""Write benchmarks/RESULTS.md: each claim of the course, the figure a lesson measured for it, and its verdict.

Every lesson's headline figures are recorded after it runs in the tests (``benchmarks/ledger.py``, from
the declarations in ``benchmarks/claims/``, one file per lesson in ``notebooks/outputs/claims/``). After a run of the lessons
this script assembles them: a header saying which commit, machine, profile and
date produced them, then one table of the seed documents' claims
(``ledger.SEED_CLAIMS``, in their order; "not recorded" where the lesson
assigned to one did not record it), then a table of every other claim recorded.

    make test                                   # runs every lesson (nbval), which writes the ledgers
    make results                                # python benchmarks/results.py
    python benchmarks/results.py --strict       # exit 1 if a seed claim is missing, a ledger is malformed,
                                                # or a verdict differs from benchmarks/expected_verdicts.json
    python benchmarks/results.py --claims DIR --output FILE
    python benchmarks/results.py --write-expected   # after reviewing a change: the verdicts of this run
                                                    # become the expected ones

Each measured claim is a comparison made by ``tlcourse.claims.compare`` in a
stated condition, often with a contrasting condition beside it (where the
practice should not matter); the table shows both. The verdicts a run reaches
are compared with ``benchmarks/expected_verdicts.json``: a verdict (or a
contrast's outcome) that flips (an expected list accepts any of its verdicts: only for a claim
measured in wall-clock seconds, whose verdict depends on the machine), a claim recorded without an expectation, or an
expectation no lesson recorded is a problem. The decision table (what to do by
data size and distance from the source, each cell citing the figures behind it)
is written into RESULTS.md, ``notebooks/DECISIONS.md`` and the README.

Problems (a malformed ledger, a seed claim not recorded, or recorded by another
lesson than its own, a verdict other than the expected one) are printed on
stderr, and RESULTS.md is written with what could be read; ``--strict`` then
exits with status 1.
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

from tlcourse.claims import OUTCOMES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ledger import SEED_CLAIMS, VERDICTS  # noqa: E402 - the authors' kit beside this script

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CLAIMS = NOTEBOOKS / "outputs" / "claims"
OUTPUT = ROOT / "benchmarks" / "RESULTS.md"
EXPECTED = ROOT / "benchmarks" / "expected_verdicts.json"
DECISIONS = NOTEBOOKS / "DECISIONS.md"
README = ROOT / "README.md"
COMMAND = "make results"
# The fields of one recorded claim and the types a ledger stores (ledger.Ledger.record writes them).
ROW_TEXT = ("claim", "section", "figure", "unit", "verdict", "note")
ROW_NUMBERS = ("value", "spread")
DOCUMENT_TEXT = ("notebook", "written", "machine", "profile")

__all__ = ["LedgerError", "Results", "check_expected", "commit", "decision_table", "expected_of", "main", "read_ledger",
           "read_ledgers", "render"]


#: The decision table: what to do by how many labels there are (rows) and how far the target is from the
#: source the base was trained on (columns). Each cell is advice and the recorded figures it rests on, as
#: ``(claim, "comparison" or "contrast")``: the comparison is the claim's stated condition, the contrast the
#: condition where the literature expects no effect.
DECISION_COLUMNS = ("target near the source (photos of objects, for an ImageNet base)",
                    "target far from the source (digits, scans, drawings)")
DECISION_ROWS: dict[str, tuple[tuple[str, tuple[tuple[str, str], ...]], ...]] = {
    "few labels (tens a class)": (
        ("Feature extraction: a frozen base and a linear head whose strength C (its weight decay) is chosen on "
         "validation. Flipped copies and dropout add little to a head on frozen features.",
         (("transfer needs less labelled data", "comparison"),
          ("augmentation (flipped copies) helps a head on frozen features", "comparison"),
          ("dropout helps", "contrast"))),
        ("Feature extraction, from a middle layer if the last is too specific; for a network that learns, augment "
         "with transforms that keep the label (shifts, small rotations; never a flip that changes it), stop early "
         "on a validation set labelled with care, and fine-tune at a low rate if at all.",
         (("on a far target an intermediate layer's features beat the last layer's", "comparison"),
          ("augmentation helps when data is small", "comparison"), ("augmentation helps when data is small", "contrast"),
          ("watch over-fitting: stop when validation stops improving", "comparison"),
          ("fine-tune with a small learning rate", "comparison"))),
    ),
    "many labels (hundreds a class)": (
        ("Feature extraction is hard to beat; fine-tuning rarely pays for its cost. With enough labels and "
         "training, a model from scratch comes close.",
         (("fine-tuning improves on feature extraction", "contrast"), ("transfer gives better results", "comparison"))),
        ("Fine-tune the whole base: BatchNormalization frozen and `training=False`, the head fitted first (LP-FT), "
         "a learning rate 10x below the head's, decaying over the epochs (cosine).",
         (("fine-tuning improves on feature extraction", "comparison"),
          ("fine-tune with a small learning rate", "contrast"))),
    ),
}
DECISION_ALWAYS = (
    "In every cell: start from the most similar source you have, and reuse its convolutions, not its "
    "class-specific layers; where the data you use differs from the data you trained on, measure the drop and "
    "adapt (AdaBN first: it needs no labels and no training).",
    (("start from a model trained on similar data (negative transfer otherwise)", "comparison"),
     ("start from a model trained on similar data (negative transfer otherwise)", "contrast"),
     ("domain adaptation closes part of a domain shift", "comparison")))

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
    if not all(isinstance(p, str) for p in document.get("problems", [])):
        raise fail("field 'problems' is not a list of text")
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
        for part in ("comparison", "contrast"):
            if part in row:
                c = row[part]
                if not isinstance(c, dict) or c.get("outcome") not in OUTCOMES or not all(
                        isinstance(c.get(k), int | float) and math.isfinite(c[k]) for k in ("effect", "half_width", "n")):
                    raise fail(f"{label}: {part} is not a comparison as tlcourse.claims.compare makes it")
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


def _amount(value: float, spread: float | None) -> str:
    """The value and its spread, the spread to two significant figures, at most four decimal places
    (finer than that, an accuracy's spread is floating-point noise: three seeds that gain the same).

    >>> _amount(0.0876, 0.0072), _amount(2.37, 0.5), _amount(0.044999993, 0.000000042)
    ('0.0876 ± 0.0072', '2.37 ± 0.50', '0.0450 ± 0.0000')
    """
    if spread:  # the spread to two significant figures, the value to the same decimal place
        places = min(4, max(0, 1 - math.floor(math.log10(spread))))
        return f"{value:,.{places}f} ± {spread:,.{places}f}"
    return _number(value) + (" ± 0" if spread == 0 else "")


def _outcome(c: dict[str, Any]) -> str:
    said = f"{c['outcome']} over {c.get('over') or str(c['n']) + ' runs'}"
    if c["outcome"] == "no difference detected" and c.get("detectable"):
        said += f"; could have seen {c['detectable']:.3f}"
    return said


def _figure(row: dict[str, Any]) -> str:
    text = row["figure"].strip()
    if row.get("condition", "").strip():
        text = f"{row['condition'].strip()}: {text}"
    if row["value"] is not None:
        text += f": {_amount(row['value'], row.get('spread'))} {row['unit']}".rstrip()
        if "comparison" in row:
            text += f" (95% interval; {_outcome(row['comparison'])})"
    if row["note"].strip():
        text += f" ({row['note'].strip()})"
    return _cell(text)


def _contrast(row: dict[str, Any]) -> str:
    """Where the practice should not matter: the contrasting condition's comparison, or a dash."""
    c = row.get("contrast")
    if not c:
        return "-"
    where = row.get("contrast_condition", "").strip() or "contrast"
    return _cell(f"{where}: {_amount(c['effect'], c['half_width'])} (95% interval; {_outcome(c)})")


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


def _rows_by_claim(results: Results) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each claim's row (the seed claim's own lesson first), by claim text."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for notebook, document in results.ledgers.items():
        for row in document["claims"]:
            if row["claim"] not in found or SEED_CLAIMS.get(row["claim"]) == notebook:
                found[row["claim"]] = (notebook, row)
    return found


def _cite(found: dict[str, tuple[str, dict[str, Any]]], claim: str, part: str, output: Path) -> str | None:
    if claim not in found or part not in found[claim][1]:
        return None
    notebook, row = found[claim]
    c = row[part]
    where = (row.get("condition") if part == "comparison" else row.get("contrast_condition")) or ""
    verdict = row["verdict"] if part == "comparison" else c["outcome"]
    return (f"{claim} ({where.strip() or part}): {_amount(c['effect'], c['half_width'])}, {verdict}, "
            f"{_lesson(notebook, row['section'], output)}")


def decision_table(results: Results, output: Path) -> tuple[list[str], list[str]]:
    """The decision table's markdown lines (links relative to ``output``), and the figures it could not cite."""
    found, missing = _rows_by_claim(results), []

    def cell(advice: str, cites: tuple[tuple[str, str], ...]) -> str:
        said = []
        for claim, part in cites:
            text = _cite(found, claim, part, output)
            if text is None:
                missing.append(f"decision table: no {part} recorded for {claim!r}")
                text = f"{claim} ({part}): not measured in this run"
            said.append(text)
        return _cell(advice) + "<br>" + "<br>".join("&rarr; " + _cell(t) for t in said)

    lines = ["| | " + " | ".join(DECISION_COLUMNS) + " |", "|---|" + "---|" * len(DECISION_COLUMNS)]
    for label, cells in DECISION_ROWS.items():
        lines.append(f"| **{label}** | " + " | ".join(cell(a, c) for a, c in cells) + " |")
    lines += ["", cell(*DECISION_ALWAYS).replace("<br>", "\n- ").replace("&rarr; ", "")]
    return lines, missing


def expected_of(results: Results) -> dict[str, dict[str, dict[str, str | None]]]:
    """The verdicts of ``results`` as ``benchmarks/expected_verdicts.json`` holds them."""
    return {notebook: {row["claim"]: {"verdict": row["verdict"],
                                      "contrast": row["contrast"]["outcome"] if "contrast" in row else None}
                       for row in document["claims"]}
            for notebook, document in sorted(results.ledgers.items())}


def check_expected(results: Results, expected: dict[str, Any]) -> list[str]:
    """Each verdict (and contrast outcome) that differs from ``expected``, and each claim one side lacks."""
    problems = []
    again = "if the change is meant, review the lesson's prose, then `python benchmarks/results.py --write-expected`"
    got = expected_of(results)
    for notebook, rows in got.items():
        for claim, now in rows.items():
            then = expected.get(notebook, {}).get(claim)
            if then is None:
                problems.append(f"{notebook}: {claim!r} has no expected verdict in {_shown(EXPECTED)}; {again}")
                continue
            for key, what in (("verdict", "verdict"), ("contrast", "contrast outcome")):
                allowed = then.get(key) if isinstance(then.get(key), list) else [then.get(key)]
                if now[key] not in allowed:  # a list: a wall-clock claim, whose verdict depends on the machine
                    problems.append(f"{notebook}: {claim!r}: {what} {now[key]!r}, expected "
                                    f"{' or '.join(map(repr, allowed))}; {again}")
        for claim in expected.get(notebook, {}):
            if claim not in rows:
                problems.append(f"{notebook}: expected {claim!r}, which the lesson did not record this run")
    return problems


def _write_between(path: Path, begin: str, end: str, lines: list[str]) -> bool:
    """Replace what ``path`` holds between the two marker lines; False when a marker is missing."""
    text = path.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        return False
    head, rest = text.split(begin, 1)
    path.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")
    return True


def decisions_page(results: Results, output: Path = DECISIONS) -> str:
    """``notebooks/DECISIONS.md``: the decision table as the module's last page."""
    table, _ = decision_table(results, output)
    return "\n".join([
        "# What to do when: the module's decision table",
        "",
        "Which recipe to use, by how many labelled examples you have and how far your images are from what the",
        "base was trained on. Every arrow is a figure the lessons measured (effect ± 95% interval, the verdict,",
        "where), written by `benchmarks/results.py` from the lessons' last run; "
        f"[RESULTS.md]({Path(os.path.relpath(OUTPUT, output.resolve().parent)).as_posix()}) has every claim.",
        "",
        *table,
    ]) + "\n"


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
        problems += [f"{notebook}: a declared claim was not recorded: {p}" for p in document.get("problems", [])]
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
            seed_rows.append(f"| {_cell(claim)} | {_figure(row)} | {_contrast(row)} | {where} | {row['verdict']} |")
            counts[row["verdict"]] += 1
        else:
            state = "not run" if lesson not in ledgers else "ran, did not record it"
            problems.append(f"seed claim {claim!r} not recorded (its lesson, {lesson}: {state})")
            seed_rows.append(f"| {_cell(claim)} | not recorded ({state}) | - | {_lesson(lesson, None, output)} | not recorded |")
            counts["not recorded"] += 1
    other_rows = [f"| {_cell(row['claim'])} | {_figure(row)} | {_contrast(row)} | {_lesson(notebook, row['section'], output)} "
                  f"| {row['verdict']} |"
                  for notebook, document in ledgers.items() for row in document["claims"]
                  if (notebook, row["claim"]) not in used]

    written = sorted(d["written"] for d in ledgers.values())
    lessons = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    silent = [n for n in lessons if n not in ledgers]
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    table, missing = decision_table(results, output)
    problems += missing
    decision_lines = ["## What to do when: the decision table", "", *table, ""]
    lines = [
        "# Results: the course's claims and what the lessons measured",
        "",
        "Generated by `benchmarks/results.py` from the ledgers recorded after each lesson runs in the tests",
        "(`notebooks/outputs/claims/`); do not edit it by hand. To regenerate it, run the lessons, then the script:",
        "",
        "```bash",
        "make test       # every lesson under nbval, which records the claims of benchmarks/claims/ after each",
        f"{COMMAND}    # this file; `make results RESULTS_ARGS=--strict` fails if a claim is missing",
        "```",
        "",
        f"- Commit: {revision or commit()}",
        f"- Machine: {_cell(_one({n: d['machine'] for n, d in ledgers.items()}, 'machines'))}",
        f"- Profile: {_cell(_one({n: _profile(d['profile']) for n, d in ledgers.items()}, 'profiles'))}",
        f"- Photos: {_cell(_one({n: d.get('data', 'not recorded') for n, d in ledgers.items()}, 'data folders'))}. "
        "The official download (`tlcourse fetch`) is TensorFlow's flower_photos, 3,670 photos at their original",
        "  sizes (TensorFlow's image classification tutorial); a classroom mirror may hold another copy. No lesson",
        "  depends on the count or the size, but figures measured on other photos differ a little.",
        f"- Lessons run: {written[0]} to {written[-1]}" if written else "- Lessons run: none",
        f"- Ledgers: {len(ledgers)} of {len(lessons)} lessons" + (f" (none from {', '.join(silent)})" if silent else ""),
        f"- Generated: {generated or time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "Each claim is measured as a controlled comparison, `tlcourse.claims.compare`: two arms run with the same",
        "seeds, the effect is the mean paired difference and ± its 95% interval (Student's t over the seeds; for a",
        "single run, the test examples' bootstrap). *Where it should help* is the condition the claim is about;",
        "*where it should not* is the contrast, the same code where the literature expects no effect.",
        "Verdicts, computed from the numbers by that one rule: *shown*, the interval lies above zero; *not",
        "detected*, it holds zero (\"could have seen\" is the smallest effect the set-up would have found four times",
        "in five); *opposite*, it lies below zero; *shown (cited)*, a published source, not measured here.",
        "*not shown* and *mixed* are verdicts an older lesson typed by hand. CI fails when a verdict differs from",
        f"[the expected one]({Path(os.path.relpath(EXPECTED, output.resolve().parent)).as_posix()}).",
        "",
        *decision_lines,
        f"## The seed documents' claims ({len(SEED_CLAIMS)}: {tally})",
        "",
        "| claim | where it should help: figure | where it should not | lesson | verdict |",
        "|---|---|---|---|---|",
        *seed_rows,
        "",
        f"## Other claims the lessons recorded ({len(other_rows)})",
        "",
    ]
    if other_rows:
        lines += ["| claim | where it should help: figure | where it should not | lesson | verdict |", "|---|---|---|---|---|",
                  *other_rows]
    else:
        lines.append("None.")
    if results.problems:
        lines += ["", "## Ledgers that could not be read", "", *(f"- {_cell(p)}" for p in results.problems)]
    return "\n".join(lines) + "\n", problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=Path, default=CLAIMS, help="folder of the lessons' ledgers (NN_name.json)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the markdown file to write")
    parser.add_argument("--expected", type=Path, default=EXPECTED, help="the expected verdicts (JSON)")
    parser.add_argument("--decisions", type=Path, default=None,
                        help="the decision table's page to write (default: notebooks/DECISIONS.md, and the README's "
                             "copy, when --output is the default; else DECISIONS.md beside --output)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if a seed claim is not recorded, a ledger is malformed or a verdict is not the expected one")
    parser.add_argument("--write-expected", action="store_true",
                        help="write this run's verdicts as the expected ones (after reviewing what changed)")
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
    default = args.output.resolve() == OUTPUT.resolve()
    args.decisions = args.decisions or (DECISIONS if default else args.output.parent / "DECISIONS.md")
    args.decisions.parent.mkdir(parents=True, exist_ok=True)
    args.decisions.write_text(decisions_page(results, args.decisions), encoding="utf-8")
    if default:
        table, _ = decision_table(results, README)
        if not _write_between(README, "<!-- decisions:begin -->", "<!-- decisions:end -->", table):
            problems.append("README.md has no <!-- decisions:begin --> / <!-- decisions:end --> markers")
    if args.write_expected:
        args.expected.write_text(json.dumps(expected_of(results), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {_shown(args.expected)}: the verdicts of this run are now the expected ones")
    elif not args.expected.is_file():
        problems.append(f"no expected verdicts at {_shown(args.expected)}: write them with --write-expected")
    else:
        problems += check_expected(results, json.loads(args.expected.read_text(encoding="utf-8")))
    claims = {row["claim"] for document in results.ledgers.values() for row in document["claims"]}
    print(f"wrote {_shown(args.output)} and {_shown(args.decisions)}: {len(claims & set(SEED_CLAIMS))} of "
          f"{len(SEED_CLAIMS)} seed claims recorded, {len(claims - set(SEED_CLAIMS))} others, "
          f"from {len(results.ledgers)} ledgers")
    for problem in problems:
        print(f"results: {problem}", file=sys.stderr)
    return 1 if args.strict and problems else 0


if __name__ == "__main__":
    sys.exit(main())
