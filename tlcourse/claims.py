"""The claims ledger: each lesson records the headline figures it measured, and what they show.

A lesson makes claims ("fine-tuning improves on feature extraction", "AdaBN
closes part of the shift"); the cell that measures one records it::

    ledger = claims.Ledger("03_fine_tuning")
    ledger.record("fine-tuning improves on feature extraction", section="5",
                  figure="LP-FT minus feature extraction, test accuracy", value=0.012, spread=0.008,
                  verdict="shown")   # or "not shown", "mixed", "shown (cited)"

Each call rewrites ``outputs/claims/NN_name.json`` at once (the lesson's
working directory is ``notebooks/``), so an interrupted run keeps what it
measured. ``benchmarks/results.py`` assembles ``benchmarks/RESULTS.md`` from
these files after a run of every lesson: one table of claims with the figure,
the lesson and section that measured it, and the verdict.

A verdict is one of :data:`VERDICTS`; a lesson's key points must say what its
verdicts say (the tests read both).

Examples
--------
>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> ledger = Ledger("09_example", folder=folder)
>>> row = ledger.record("two is more than one", section="1", figure="2 - 1", value=1.0, verdict="shown")
>>> [r["claim"] for r in load(folder)["09_example"]]
['two is more than one']
>>> ledger.record("x", section="1", figure="y", value=1.0, verdict="proven")
Traceback (most recent call last):
...
ValueError: verdict 'proven' is not one of shown, not shown, mixed, shown (cited)
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

from tlcourse import settings

__all__ = ["SEED_CLAIMS", "VERDICTS", "Ledger", "load"]

#: shown: a controlled comparison whose margin the spread supports (and an assert guards it);
#: not shown: measured, and the effect is absent or inside the spread; mixed: it holds in some
#: settings and not in others (the figure says which); shown (cited): a published source, not
#: measured here (``figure`` names the source: author, year, table).
VERDICTS = ("shown", "not shown", "mixed", "shown (cited)")
DEFAULT_FOLDER = Path("outputs") / "claims"

#: The claims of the course's seed documents, each with the lesson that must measure it (or say it
#: did not show it). A lesson records one of these with exactly this text; it may record others too.
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
    "augmentation helps when data is small": "03_fine_tuning",
    "watch over-fitting: stop when validation stops improving": "03_fine_tuning",
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


class Ledger:
    """The claims one lesson records, kept in ``folder / f"{notebook}.json"``; the file starts empty."""

    def __init__(self, notebook: str, folder: str | Path = DEFAULT_FOLDER) -> None:
        self.notebook = notebook
        self.path = Path(folder) / f"{notebook}.json"
        self.rows: list[dict[str, Any]] = []
        self._write()

    def record(self, claim: str, *, section: str, figure: str, value: float | None, verdict: str,
               spread: float | None = None, unit: str = "", note: str = "") -> dict[str, Any]:
        """Record one claim (replacing an earlier row of the same claim: a re-run cell) and save the file.

        ``value`` is the headline figure (``None`` only for a cited claim),
        ``spread`` its spread over seeds (standard deviation, or half the range:
        say which in ``figure``), ``section`` the lesson's section that measured it.
        """
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
        self.rows = [r for r in self.rows if r["claim"] != claim] + [row]
        self._write()
        return row

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"notebook": self.notebook, "written": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "machine": f"{platform.node() or 'unknown'}, {os.cpu_count()} cores, {platform.system()}",
                    "profile": settings.current().profile or "auto (TLCOURSE_PROFILE unset: quick without a GPU)",
                    "claims": self.rows}
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        temporary.replace(self.path)


def load(folder: str | Path = DEFAULT_FOLDER) -> dict[str, list[dict[str, Any]]]:
    """Every lesson's claims in ``folder``, by notebook name, in file order."""
    found = {}
    for path in sorted(Path(folder).glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        found[document["notebook"]] = document["claims"]
    return found
