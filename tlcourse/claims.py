"""The course's one rule for "does A beat B?", so that no lesson types a measured verdict by hand.

:func:`compare` decides from two arms run with the same seeds; :func:`conclusion` says its outcome in the
sentence a lesson prints. A claim with a "when" is measured where it should hold and where it should not::

    far = claims.compare(ft_digits, fe_digits)          # per seed, same seeds
    near = claims.compare(ft_flowers, fe_flowers)
    print(claims.conclusion(far, "fine-tuning", "feature extraction", "on digits"))

Examples
--------
>>> c = compare([0.95, 0.96, 0.95], [0.90, 0.91, 0.91])
>>> c.outcome, round(c.effect, 3)
('better', 0.047)
>>> str(c)
'+0.047 ± 0.014 (95% interval over 3 seeds): better'
>>> compare([0.70, 0.64, 0.69], [0.66, 0.68, 0.66]).outcome
'no difference detected'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["OUTCOMES", "Comparison", "compare", "compare_examples", "conclusion"]

#: What :func:`compare` finds of arm A against arm B.
OUTCOMES = ("better", "worse", "no difference detected")
_POWER_Z = 0.8416  # the normal quantile of 80%: an effect this many standard errors past the interval is seen 4 times in 5


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

    ``a[i]`` and ``b[i]`` share seed ``i`` (``b=None``: ``a`` holds the differences). The outcome is
    ``better`` when the whole 95% interval of the mean difference is above zero, ``worse`` when it is
    below, else ``no difference detected``. The interval is Student's t over the runs: wide with 3 seeds,
    as it should be. ``se_floor`` is the least standard error to assume (for example the paired bootstrap
    one over test examples); a single run needs it, and then gets 1.96 standard errors. Raises
    ``ValueError`` for unequal or non-finite results, or one run without ``se_floor``.

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

    ``correct_a[i]`` is 1 where arm A got test example ``i`` right, else 0 (``correct_b`` the same for B).
    The standard error is the spread of the accuracy difference over ``draws`` resamples of the examples,
    the same for both arms: the interval is over these examples, not across seeds.

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

    When no difference is detected, it also gives the smallest effect the set-up could have seen.

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
