"""The claims ledger: each lesson measures its claims, one rule turns the numbers into a verdict, and it is recorded.

A lesson makes claims ("fine-tuning improves on feature extraction", "AdaBN
closes part of the shift"). The cell that measures one compares two arms run
with the same seeds, in the condition where the claim should hold, and (where
the claim has a "when") in a contrasting condition where it should not::

    far = claims.compare(ft_digits, fe_digits)          # per seed, same seeds
    near = claims.compare(ft_flowers, fe_flowers)
    print(claims.conclusion(far, "fine-tuning", "feature extraction", "on digits"))
    ledger = claims.Ledger("03_fine_tuning")
    ledger.record("fine-tuning improves on feature extraction", section="4",
                  figure="test accuracy, fine-tuning minus feature extraction",
                  comparison=far, condition="digits, far from ImageNet",
                  contrast=near, contrast_condition="flowers, near ImageNet")

:func:`compare` is the one rule: the mean paired difference, its 95%
interval over the seeds (Student's t), the smallest effect the set-up could
have detected, and an outcome: *better*, *worse* or *no difference detected*.
:meth:`Ledger.record` turns the outcome into the claim's verdict (*shown*,
*opposite* or *not detected*); no lesson types a measured verdict by hand.
Each call rewrites ``outputs/claims/NN_name.json`` at once (the lesson's
working directory is ``notebooks/``), so an interrupted run keeps what it
measured. ``benchmarks/results.py`` assembles ``benchmarks/RESULTS.md`` from
these files and, with ``--strict``, fails when a verdict differs from the one
expected in ``benchmarks/expected_verdicts.json``.

Examples
--------
>>> c = compare([0.95, 0.96, 0.95], [0.90, 0.91, 0.91])
>>> c.outcome, round(c.effect, 3)
('better', 0.047)
>>> str(c)
'+0.047 ± 0.014 (95% interval over 3 seeds): better'
>>> compare([0.70, 0.64, 0.69], [0.66, 0.68, 0.66]).outcome
'no difference detected'
>>> import tempfile
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

import json
import math
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from tlcourse import settings

__all__ = ["OUTCOMES", "SEED_CLAIMS", "VERDICTS", "Comparison", "Ledger", "compare", "compare_examples", "conclusion", "load",
           "verdict_of"]

#: What :func:`compare` finds of arm A against arm B.
OUTCOMES = ("better", "worse", "no difference detected")
#: shown: in the stated condition the comparison found the claimed effect (its 95% interval excludes
#: zero); not detected: the interval holds zero (the row says how large an effect could have been seen);
#: opposite: the interval lies on the other side of zero; shown (cited): a published source, not
#: measured here (``figure`` names the source: author, year, table). "not shown" and "mixed" are the
#: verdicts lessons typed by hand before :func:`compare`; kept so that older ledgers still read.
VERDICTS = ("shown", "not detected", "opposite", "not shown", "mixed", "shown (cited)")
_VERDICT_OF = {"better": "shown", "worse": "opposite", "no difference detected": "not detected"}
_POWER_Z = 0.8416  # the normal quantile of 80%: an effect this many standard errors past the interval is seen 4 times in 5
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


@dataclass(frozen=True)
class Comparison:
    """Arm A against arm B over paired runs (the same seeds): what :func:`compare` returns.

    ``effect`` is the mean of A minus B, ``half_width`` the half-width of its
    95% interval, ``detectable`` the smallest effect this set-up would have
    found four times in five, ``n`` the number of paired runs, ``outcome`` one
    of :data:`OUTCOMES`, ``over`` what the interval is over ("3 seeds").
    """

    effect: float
    half_width: float
    detectable: float
    n: int
    outcome: str
    over: str

    def __str__(self) -> str:
        return f"{self.effect:+.3f} ± {self.half_width:.3f} (95% interval over {self.over}): {self.outcome}"


def compare(a: Sequence[float], b: Sequence[float] | None = None, *, se_floor: float = 0.0,
            over: str = "") -> Comparison:
    """The course's one rule for "does A beat B?": paired differences, a 95% interval, an outcome.

    Introduced in 01_what_is_transfer_learning.

    Every lesson's verdicts come from it.

    Parameters
    ----------
    a, b : the two arms' results, one per run, runs paired by seed (``a[i]`` and ``b[i]``
        share seed ``i``); ``b=None`` when ``a`` already holds the differences.
    se_floor : the least standard error to assume, for a single run (where seeds give no
        spread) or a tiny spread: for example the paired bootstrap standard error over test examples.
    over : what the runs are ("3 seeds" by default, from their number).

    Returns
    -------
    Comparison
        ``better`` when the whole interval is above zero, ``worse`` when it is below, else
        ``no difference detected``. The interval is Student's t over the runs (1.96 standard
        errors for a single run with ``se_floor``): with 3 seeds it is wide, as it should be.

    Examples
    --------
    >>> c = compare([0.92, 0.93, 0.92], [0.90, 0.90, 0.90])
    >>> c.outcome, round(c.effect, 3), round(c.half_width, 3)
    ('better', 0.023, 0.014)
    >>> compare([0.52], [0.50], se_floor=0.02).outcome   # one run: its test examples' spread decides
    'no difference detected'
    >>> round(compare([0.02, 0.01, 0.03]).detectable, 3)
    0.03
    """
    d = np.asarray(a, dtype=float) - (0.0 if b is None else np.asarray(b, dtype=float))
    if d.ndim != 1 or d.size == 0 or (b is not None and np.shape(a) != np.shape(b)):
        raise ValueError(f"compare needs two equal lists of paired results, one per seed; got {np.shape(a)} "
                         f"and {np.shape(b) if b is not None else 'nothing'}")
    if not np.all(np.isfinite(d)):
        raise ValueError(f"compare: a result is not a finite number: {d.tolist()}")
    n = int(d.size)
    if n == 1 and se_floor <= 0:
        raise ValueError("compare: one run has no spread; run more seeds or give se_floor (for example the "
                         "paired bootstrap standard error over the test examples)")
    se = max(float(d.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0, float(se_floor))
    crit = float(stats.t.ppf(0.975, n - 1)) if n > 1 else 1.96
    effect, half = float(d.mean()), crit * se
    outcome = "better" if effect - half > 0 else "worse" if effect + half < 0 else "no difference detected"
    return Comparison(effect=effect, half_width=half, detectable=(crit + _POWER_Z) * se, n=n, outcome=outcome,
                      over=over or (f"{n} seeds" if n > 1 else "the test examples of one run"))


def compare_examples(correct_a: Sequence[float], correct_b: Sequence[float], *, draws: int = 2000,
                     seed: int = 0) -> Comparison:
    """:func:`compare` for one run of each arm, scored on the same test examples: the paired bootstrap.

    Introduced in 04_domain_adaptation.

    ``correct_a[i]`` is 1 where arm A got test example ``i`` right (0 otherwise), ``correct_b``
    the same for arm B. The standard error of the accuracy difference is the spread of that
    difference over ``draws`` resamples of the examples (with replacement, the same resample for
    both arms), so the interval says how sure one run is on these examples, not across seeds.

    Examples
    --------
    >>> a = np.r_[np.ones(180), np.zeros(20)]           # 0.90 on 200 examples
    >>> b = np.r_[np.ones(150), np.zeros(50)]           # 0.75 on the same examples
    >>> c = compare_examples(a, b)
    >>> c.outcome, round(c.effect, 2), c.over
    ('better', 0.15, '200 test examples of one run')
    >>> compare_examples(a, a).outcome                   # the same model: no interval to speak of, no difference
    'no difference detected'
    """
    a, b = np.asarray(correct_a, dtype=float), np.asarray(correct_b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(f"compare_examples needs two equal lists of per-example scores; got {a.shape} and {b.shape}")
    idx = np.random.default_rng(seed).integers(0, a.size, (draws, a.size))
    se = float(np.std(a[idx].mean(axis=1) - b[idx].mean(axis=1)))
    return compare([a.mean()], [b.mean()], se_floor=max(se, 1e-12), over=f"{a.size} test examples of one run")


def conclusion(result: Comparison, what: str, against: str, where: str = "") -> str:
    """The sentence a lesson prints for ``result``: it follows this run's numbers, never a typed verdict.

    Introduced in 01_what_is_transfer_learning.

    Examples
    --------
    >>> print(conclusion(compare([0.95, 0.96, 0.95], [0.90, 0.91, 0.91]), "fine-tuning", "feature extraction",
    ...                  "on digits"))
    On digits, fine-tuning beats feature extraction: +0.047 ± 0.014 (95% interval over 3 seeds).
    >>> said = conclusion(compare([0.70, 0.64, 0.69], [0.66, 0.68, 0.66]), "fine-tuning", "feature extraction")
    >>> said.split(": ")[0]
    'No difference between fine-tuning and feature extraction was detected'
    >>> said.split("; ")[1]
    'this set-up could have seen an effect of about 0.129.'
    """
    head = f"{where[:1].upper()}{where[1:]}, " if where else ""
    figure = f"{result.effect:+.3f} ± {result.half_width:.3f} (95% interval over {result.over})"
    if result.outcome == "better":
        return f"{head}{what} beats {against}: {figure}."
    if result.outcome == "worse":
        return f"{head}{what} does worse than {against}: {figure}."
    lead = f"{head}no difference" if head else "No difference"
    return (f"{lead} between {what} and {against} was detected: {figure}; this set-up could have seen an "
            f"effect of about {result.detectable:.3f}.")


def verdict_of(result: Comparison) -> str:
    """The claim's verdict from the comparison in its stated condition: shown, opposite or not detected."""
    return _VERDICT_OF[result.outcome]


class Ledger:
    """The claims one lesson records, kept in ``folder / f"{notebook}.json"``; the file starts empty.

    Introduced in 01_what_is_transfer_learning.
    """

    def __init__(self, notebook: str, folder: str | Path = DEFAULT_FOLDER) -> None:
        self.notebook = notebook
        self.path = Path(folder) / f"{notebook}.json"
        self.rows: list[dict[str, Any]] = []
        self._write()

    def record(self, claim: str, *, section: str, figure: str, comparison: Comparison | None = None,
               condition: str = "", contrast: Comparison | None = None, contrast_condition: str = "",
               value: float | None = None, spread: float | None = None, verdict: str | None = None,
               unit: str = "", note: str = "") -> dict[str, Any]:
        """Record one claim (replacing an earlier row of the same claim: a re-run cell) and save the file.

        A measured claim passes ``comparison`` (from :func:`compare`, in the stated
        ``condition``) and, where the claim has a "when", ``contrast`` in
        ``contrast_condition``; its value is the effect, its spread the 95%
        interval's half-width, its verdict :func:`verdict_of` the comparison.
        A cited claim passes ``verdict="shown (cited)"`` and ``value=None``. A
        single figure that is no comparison (a ratio, one accuracy) passes
        ``value`` and ``spread`` and the verdict the lesson computed from them.
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"notebook": self.notebook, "written": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "machine": f"{platform.node() or 'unknown'}, {os.cpu_count()} cores, {platform.system()}",
                    "profile": settings.current().profile or "auto (TLCOURSE_PROFILE unset: quick without a GPU)",
                    "claims": self.rows}
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        temporary.replace(self.path)


def _plain(result: Comparison) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, float | np.floating) else v) for k, v in asdict(result).items()}


def load(folder: str | Path = DEFAULT_FOLDER) -> dict[str, list[dict[str, Any]]]:
    """Every lesson's claims in ``folder``, by notebook name, in file order."""
    found = {}
    for path in sorted(Path(folder).glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        found[document["notebook"]] = document["claims"]
    return found
