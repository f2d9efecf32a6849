"""The claims ledger (authors' kit): what each lesson measured of its claims, recorded after it runs.

A lesson measures a claim with ``tlcourse.claims.compare`` (two arms, the same
seeds) and prints the verdict with ``tlcourse.claims.conclusion``; that is all a
learner sees. What goes into ``benchmarks/RESULTS.md`` is declared here, beside
the lessons, one file per lesson: ``benchmarks/claims/NN_name.py`` is a list of
``record(...)`` calls whose arguments are expressions over the lesson's
variables::

    record("fine-tuning improves on feature extraction", section="3",
           figure=f"test accuracy, LP-FT minus feature extraction, {LABELS} labels a class",
           comparison=far, condition="MNIST digits, far from ImageNet",
           contrast=near, contrast_condition="flowers, near ImageNet")

During the test run the root ``conftest.py`` calls :func:`record_lesson` in each
lesson's kernel after its last cell, so the expressions see what the lesson
computed. Each statement runs on its own: one the lesson never reached (a cell
failed) is listed under ``problems`` in the ledger, and ``benchmarks/results.py
--strict`` fails on it. :meth:`Ledger.record` turns a comparison's outcome into
the claim's verdict (*shown*, *opposite* or *not detected*); no verdict is typed
by hand. No lesson imports this module.

Examples
--------
>>> import tempfile
>>> from tlcourse.claims import compare
>>> folder = tempfile.mkdtemp()
>>> ledger = Ledger("09_example", folder=folder)
>>> row = ledger.record("two is more than one", section="1", figure="2 - 1", comparison=compare([2.0, 2.1], [1.0, 1.0]))
>>> row["verdict"], [r["claim"] for r in load(folder)["09_example"]]
('shown', ['two is more than one'])
>>> ledger.record("x", section="1", figure="y", value=1.0, verdict="proven")
Traceback (most recent call last):
...
ValueError: verdict 'proven' is not one of shown, not detected, opposite, not shown, mixed, shown (cited)
"""

from __future__ import annotations

import ast
import functools
import json
import math
import os
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DECLARATIONS", "LEDGERS", "SEED_CLAIMS", "VERDICTS", "Ledger", "declared_names", "load", "record_lesson",
           "verdict_of"]

ROOT = Path(__file__).resolve().parents[1]
#: One file of ``record(...)`` calls per lesson.
DECLARATIONS = ROOT / "benchmarks" / "claims"
#: Where the ledgers are written (git-ignored), one ``NN_name.json`` per lesson.
LEDGERS = ROOT / "notebooks" / "outputs" / "claims"

#: shown: in the stated condition the comparison found the claimed effect (its 95% interval excludes
#: zero); not detected: the interval holds zero (the row says how large an effect could have been seen);
#: opposite: the interval lies on the other side of zero; shown (cited): a published source, not
#: measured here (``figure`` names the source: author, year, table). "not shown" and "mixed" are the
#: verdicts lessons typed by hand before ``compare``; kept so that older ledgers still read.
VERDICTS = ("shown", "not detected", "opposite", "not shown", "mixed", "shown (cited)")
_VERDICT_OF = {"better": "shown", "worse": "opposite", "no difference detected": "not detected"}

#: The claims of the course's seed documents, each with the lesson that must measure it (or say it
#: did not show it). A lesson's declarations record one of these with exactly this text; they may record others.
SEED_CLAIMS: dict[str, str] = {
    "transfer needs less labelled data": "01_what_is_transfer_learning",
    "transfer needs less training time": "01_what_is_transfer_learning",
    "transfer gives better results": "01_what_is_transfer_learning",
    "train a model on plentiful data to reuse it where data is scarce": "01_what_is_transfer_learning",
    "a frozen base plus a new head works": "02_feature_extraction",
    "early layers are generic, later layers specific": "02_feature_extraction",
    "fine-tuning improves on feature extraction": "03_fine_tuning",
    "fine-tune with a small learning rate": "03_fine_tuning",
    "fine-tune with a small batch": "03_fine_tuning",
    "fine-tune gradually rather than all layers at once": "03_fine_tuning",
    "augmentation helps when data is small": "05_best_practices",
    "watch over-fitting: stop when validation stops improving": "05_best_practices",
    "domain adaptation closes part of a domain shift": "04_domain_adaptation",
    "start from a model trained on similar data (negative transfer otherwise)": "05_best_practices",
    "weight decay helps": "05_best_practices",
    "dropout helps": "05_best_practices",
    "a learning-rate schedule helps": "05_best_practices",
    "a pretrained text encoder beats training from scratch": "07_text_transfer",
}


def _number(x: Any, what: str) -> float | None:
    if x is None:
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {x!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value}")
    return value


def verdict_of(result: Any) -> str:
    """The claim's verdict from a ``tlcourse.claims.Comparison`` in its stated condition."""
    return _VERDICT_OF[result.outcome]


def _plain(result: Any) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, float | np.floating) else v) for k, v in asdict(result).items()}


class Ledger:
    """The claims one lesson records, kept in ``folder / f"{notebook}.json"``; the file starts empty."""

    def __init__(self, notebook: str, folder: str | Path = LEDGERS) -> None:
        self.notebook = notebook
        self.path = Path(folder) / f"{notebook}.json"
        self.rows: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self._write()

    def record(self, claim: str, *, section: str, figure: str, comparison: Any = None,
               condition: str = "", contrast: Any = None, contrast_condition: str = "",
               value: float | None = None, spread: float | None = None, verdict: str | None = None,
               unit: str = "", note: str = "") -> dict[str, Any]:
        """Record one claim (replacing an earlier row of the same claim) and save the file.

        A measured claim passes ``comparison`` (from ``tlcourse.claims.compare``, in the
        stated ``condition``) and, where the claim has a "when", ``contrast`` in
        ``contrast_condition``; its value is the effect, its spread the 95%
        interval's half-width, its verdict :func:`verdict_of` the comparison.
        A cited claim passes ``verdict="shown (cited)"`` and ``value=None``. A
        single figure that is no comparison passes ``value`` and ``spread`` and
        the verdict computed from them.
        """
        if comparison is not None:
            if value is not None or verdict is not None:
                raise ValueError(f"claim {claim!r}: a comparison brings its own value and verdict; pass one or the other")
            value, spread, verdict = comparison.effect, comparison.half_width, verdict_of(comparison)
        if contrast is not None and comparison is None:
            raise ValueError(f"claim {claim!r}: a contrast is measured beside a comparison, not alone")
        if verdict not in VERDICTS:
            raise ValueError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        if not claim.strip() or not figure.strip():
            raise ValueError("a claim needs its text and the figure that supports it")
        if spread is not None and _number(spread, "spread") < 0:
            raise ValueError(f"claim {claim!r}: a spread is a size, not negative: {spread}")
        if value is None and verdict != "shown (cited)":
            raise ValueError(f"claim {claim!r}: only a cited claim may have no measured value")
        row = {"claim": claim, "section": str(section), "figure": figure, "value": _number(value, "value"),
               "spread": _number(spread, "spread"), "unit": unit, "verdict": verdict, "note": note}
        if comparison is not None:
            row["condition"] = condition
            row["comparison"] = _plain(comparison)
        if contrast is not None:
            row["contrast_condition"] = contrast_condition
            row["contrast"] = _plain(contrast)
        self.rows = [r for r in self.rows if r["claim"] != claim] + [row]
        self._write()
        return row

    def _write(self) -> None:
        from tlcourse import settings

        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"notebook": self.notebook, "written": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "machine": f"{platform.node() or 'unknown'}, {os.cpu_count()} cores, {platform.system()}",
                    "profile": settings.current().profile or "auto (TLCOURSE_PROFILE unset: quick without a GPU)",
                    "data": photos_used(),
                    "claims": self.rows, "problems": self.problems}
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        temporary.replace(self.path)


@functools.cache
def photos_used() -> str:
    """The photo sets the lessons read, as found: how many photos, and their sizes (from the files' headers).

    A classroom mirror's copy and the official download may differ: RESULTS.md says which photos the figures
    were measured on.
    """
    from PIL import Image

    from tlcourse import data

    described = []
    for name in ("flowers", "hymenoptera"):
        try:
            files = data.scan_images(data.dataset_path(name, download_if_missing=False), check=False).files
        except (FileNotFoundError, ValueError) as err:
            described.append(f"{name}: not found ({type(err).__name__})")
            continue
        sides = set()
        for f in files:
            with Image.open(f) as im:
                sides.add(max(im.size))
        size = f"{min(sides)} px" if len(sides) == 1 else f"{min(sides)}-{max(sides)} px on the long side"
        described.append(f"{name} {len(files):,} photos at {size}")
    return "; ".join(described)


def load(folder: str | Path = LEDGERS) -> dict[str, list[dict[str, Any]]]:
    """Every lesson's claims in ``folder``, by notebook name, in file order."""
    found = {}
    for path in sorted(Path(folder).glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        found[document["notebook"]] = document["claims"]
    return found


def _statements(notebook: str) -> list[ast.stmt]:
    path = DECLARATIONS / f"{notebook}.py"
    return ast.parse(path.read_text(encoding="utf-8"), str(path)).body


def declared_names(notebook: str) -> set[str]:
    """The names a lesson's declarations read that they do not define: the lesson must define each one.

    ``record`` (given by :func:`record_lesson`) and builtins aside.
    """
    import builtins

    defined, read = {"record"}, set()
    for statement in _statements(notebook):
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in defined:
                read.add(node.id)
        if isinstance(statement, ast.Assign):
            defined |= {t.id for t in statement.targets if isinstance(t, ast.Name)}
    return {name for name in read if not hasattr(builtins, name)}


def record_lesson(notebook: str, namespace: dict[str, Any], folder: str | Path = LEDGERS) -> str:
    """Run ``benchmarks/claims/{notebook}.py`` over a lesson's variables (``namespace``) and write its ledger.

    Each statement runs on its own; one that fails (the lesson never computed what it reads) is listed
    under ``problems`` and the others are still recorded. Returns one line saying what was recorded.
    """
    ledger = Ledger(notebook, folder)
    scope = {**namespace, "record": ledger.record}
    path = DECLARATIONS / f"{notebook}.py"
    for statement in _statements(notebook):
        try:
            exec(compile(ast.Module([statement], type_ignores=[]), str(path), "exec"), scope)  # noqa: S102
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the others
            ledger.problems.append(f"{path.name} line {statement.lineno}: {type(exc).__name__}: {exc}")
    ledger._write()
    return (f"ledger {ledger.path.name}: {len(ledger.rows)} claims recorded"
            + (f", {len(ledger.problems)} problems: {'; '.join(ledger.problems)}" if ledger.problems else ""))
