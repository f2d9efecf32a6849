"""Checks for the exercises of 07_text_transfer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tlcourse.checks import Checker, CheckResult

__all__ = ["check_coral_align", "check_mean_pool"]


def check_mean_pool(fn: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 1: masked mean pooling, ``fn(sequence_output, padding_mask) -> (batch, hidden)``.

    Examples
    --------
    >>> from tlcourse.text import mean_pool
    >>> check_mean_pool(lambda s, m: np.asarray(mean_pool(s, m))).passed
    True
    >>> check_mean_pool(lambda s, m: s.mean(axis=1)).passed
    False
    """
    c = Checker("Exercise 1: mean pooling that ignores padding")
    if not c.given(fn, "write my_mean_pool(sequence_output, padding_mask) and pass it in."):
        return c.result()
    rng = np.random.default_rng(7)
    seq = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
    expected = np.stack([seq[i, mask[i]].mean(0) for i in range(3)])
    ran, got = c.attempt(lambda: np.asarray(fn(seq, mask), dtype="float32"))
    if not ran:
        return c.result()
    c.expect(got.shape == (3, 4), f"expected one vector per sentence, shape (3, 4); yours has {got.shape}.",
             ok="one vector per sentence")
    if got.shape == (3, 4):
        c.expect(np.allclose(got[1], expected[1], atol=1e-5), "a sentence without padding should get the plain mean.",
                 ok="plain mean where there is no padding")
        c.expect(np.allclose(got, expected, atol=1e-5),
                 "padding tokens must not count: multiply by the mask and divide by the number of real tokens, "
                 "not by the sequence length.", ok="padding ignored")
    return c.result()


def check_coral_align(fn: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 2: closed-form CORAL, ``fn(source, target)`` -> source features re-coloured like the target.

    Examples
    --------
    >>> from tlcourse.adapt import coral_align
    >>> check_coral_align(lambda s, t: coral_align(s, t, eps=1e-6)).passed
    True
    >>> check_coral_align(lambda s, t: s - s.mean(0) + t.mean(0)).passed
    False
    """
    c = Checker("Exercise 2: CORAL by hand")
    if not c.given(fn, "write my_coral(source, target) and pass it in."):
        return c.result()
    rng = np.random.default_rng(11)
    source = rng.normal(size=(3000, 3))
    target = rng.normal(size=(3000, 3)) @ np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.5]]) + 1.0
    ran, got = c.attempt(lambda: np.asarray(fn(source, target), dtype="float64"))
    if not ran:
        return c.result()
    c.expect(got.shape == source.shape, f"return one row per source row, shape {source.shape}; yours {got.shape}.",
             ok="same shape as the source")
    if got.shape != source.shape:
        return c.result()
    c.expect(np.allclose(np.cov(got.T), np.cov(target.T), atol=0.02),
             "the aligned source should have the target's covariance: whiten with C_s^(-1/2), re-colour with "
             "C_t^(1/2) (use np.linalg.eigh for the matrix powers).", ok="covariance matches the target's")
    c.expect(np.allclose(got.mean(0), target.mean(0), atol=0.02),
             "the aligned source should also have the target's mean.", ok="mean matches the target's")
    return c.result()
