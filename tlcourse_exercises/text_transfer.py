"""Checks for the exercises of 07_text_transfer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tlcourse.adapt import coral_align
from tlcourse.text import mean_pool
from tlcourse_exercises.checks import Checker, CheckResult
from tlcourse_exercises.probes import own_output

__all__ = ["check_coral_align", "check_mean_pool"]


def check_mean_pool(fn: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 1: masked mean pooling, ``fn(sequence_output, padding_mask) -> (batch, hidden)``.

    Introduced in 07_text_transfer.

    The course's own :func:`tlcourse.text.mean_pool` (or a function calling it) is refused: the exercise
    is to write it.

    Examples
    --------
    >>> def mine(s, m):
    ...     m = m[..., None]
    ...     return (s * m).sum(1) / m.sum(1)
    >>> check_mean_pool(mine).passed
    True
    >>> check_mean_pool(lambda s, m: s.mean(axis=1)).passed
    False
    >>> print(check_mean_pool(lambda s, m: None))
    Exercise 1: mean pooling that ignores padding: NOT YET
      [x] you have not answered yet: my_mean_pool returns None: ...
    """
    c = Checker("Exercise 1: mean pooling that ignores padding")
    seq = np.random.default_rng(7).normal(size=(3, 5, 4)).astype("float32")  # 3 sentences of 5 tokens, 4 features each
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
    got = own_output(c, fn, (seq, mask), name="my_mean_pool", args="sequence_output, padding_mask",
                     course={"tlcourse.text.mean_pool": mean_pool}, own="pooling", write=" with NumPy", shape=(3, 4),
                     how="return one vector per sentence, an array (batch, hidden): average over the tokens, axis 1.",
                     hint="The mask is (batch, tokens), the output (batch, tokens, hidden): give the mask a last axis, "
                          "padding_mask[..., None].")
    how = "multiply by the mask, then divide by the number of real tokens, padding_mask.sum(1), not by the sequence length"
    if got is not None:  # against the mean over each sentence's real tokens, and what the usual slips give
        c.expect_close(got, [seq[i, mask[i]].mean(0) for i in range(3)], {
            f"that is the mean over every token: padding tokens must not count; {how}.": seq.mean(1),
            "that is the sum over the real tokens: divide by their number, padding_mask.sum(1).": (seq * mask[..., None]).sum(1),
            "that is the first token's vector ([CLS]): average over every real token.": seq[:, 0]},
            otherwise=f"padding tokens must not count: {how}.", ok="each sentence's mean over its real tokens", atol=1e-5)
    return c.result()


def check_coral_align(fn: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 2: closed-form CORAL, ``fn(source, target)`` -> source features re-coloured like the target.

    Introduced in 07_text_transfer.

    Each output row must be its source row, centred, whitened with ``C_s^(-1/2)``, re-coloured with
    ``C_t^(1/2)`` (the symmetric powers, ``C = cov + 1e-6 I``) and moved to the target's mean; the
    course's own :func:`tlcourse.adapt.coral_align` is refused (the exercise is to write it), and so is
    the target handed back, which has the target's statistics too.

    Examples
    --------
    >>> def mine(s, t, eps=1e-6):
    ...     def power(c, p):
    ...         values, vectors = np.linalg.eigh(c)
    ...         return (vectors * values ** p) @ vectors.T
    ...     cs, ct = np.cov(s.T) + eps * np.eye(3), np.cov(t.T) + eps * np.eye(3)
    ...     return (s - s.mean(0)) @ power(cs, -0.5) @ power(ct, 0.5) + t.mean(0)
    >>> check_coral_align(mine).passed
    True
    >>> check_coral_align(lambda s, t: s - s.mean(0) + t.mean(0)).passed
    False
    >>> check_coral_align(lambda s, t: t).passed
    False
    """
    c = Checker("Exercise 2: CORAL by hand")
    rng = np.random.default_rng(11)  # the source has a mean of its own, so that forgetting to centre it shows
    source = rng.normal(size=(3000, 3)) @ [[1.0, 0.0, 0.0], [0.4, 0.8, 0.0], [0.0, 0.3, 1.5]] + [-2.0, 0.5, 3.0]
    target = rng.normal(size=(3000, 3)) @ [[2.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.5]] + 1.0
    got = own_output(c, fn, (source, target), name="my_coral", args="source, target", own="CORAL", write=" with NumPy",
                     course={"tlcourse.adapt.coral_align": coral_align}, shape=(3000, 3), how="return the aligned source "
                     "features, one row per source row.", hint="np.cov treats each row as a variable: np.cov(f, rowvar=False).")
    if got is not None:  # what is wrong -> whether the output shows it; the last: it differs from the course's coral_align
        c.expect_none_of({
            "that is the target itself: CORAL transforms the source, so that a classifier trained on the aligned source (with "
            "the source's labels) applies to the target.": np.allclose(got, target, atol=1e-6),
            "the aligned source should have the target's covariance: whiten with C_s^(-1/2), re-colour with C_t^(1/2) "
            "(np.linalg.eigh gives the matrix powers).": not np.allclose(np.cov(got.T), np.cov(target.T), atol=0.02),
            "the aligned source should have the target's mean: centre the source on its own mean first, then add the target's "
            "mean at the end.": not np.allclose(got.mean(0), target.mean(0), atol=0.02),
            "the statistics match, but the rows are not CORAL's: use the symmetric powers C_s^(-1/2) and C_t^(1/2) from "
            "np.linalg.eigh (a Cholesky factor, for one, rotates the features).":
                not np.allclose(got, coral_align(source, target, eps=1e-6), atol=1e-3)},
            ok="each row is its source row, re-coloured (the same as tlcourse.adapt.coral_align)")
    return c.result()
