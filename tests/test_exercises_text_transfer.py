"""The checks of 07_text_transfer: hand-written mean pooling and closed-form CORAL pass; stubs, the course's
own functions and the usual slips (padding counted, the sum, the [CLS] vector, the target handed back, no
centring, another whitening) are refused, each named."""

import numpy as np
import pytest

from tlcourse import adapt, text
from tlcourse_exercises import text_transfer as ex


def my_mean_pool(sequence_output, padding_mask):
    mask = padding_mask[..., None].astype(sequence_output.dtype)
    return (sequence_output * mask).sum(1) / np.maximum(mask.sum(1), 1)


def test_mean_pool_passes():
    res = ex.check_mean_pool(my_mean_pool)
    assert res, str(res)


@pytest.mark.parametrize("fn, words", [
    (None, "you have not answered yet"),
    (lambda s, m: None, "my_mean_pool returns None"),
    (text.mean_pool, "tlcourse.text.mean_pool"),
    (lambda s, m: np.asarray(text.mean_pool(s, m)), "tlcourse.text.mean_pool"),
    (lambda s, m: s.mean(axis=1), "padding tokens must not count"),
    (lambda s, m: (s * m[..., None]).sum(1), "that is the sum"),
    (lambda s, m: s[:, 0], "first token's vector"),
    (lambda s, m: (s * m).sum(1), "padding_mask[..., None]"),
    (lambda s, m: s.mean(axis=0), "one vector per sentence"),
], ids=["none", "stub", "the course's", "wrapped", "plain mean", "sum", "cls", "broadcast", "wrong axis"])
def test_mean_pool_refuses(fn, words):
    res = ex.check_mean_pool(fn)
    assert not res and words in str(res), str(res)


def _power(c, p):
    values, vectors = np.linalg.eigh(c)
    return (vectors * values ** p) @ vectors.T


def my_coral(source, target, eps=1e-6):
    eye = eps * np.eye(source.shape[1])
    cs, ct = np.cov(source.T) + eye, np.cov(target.T) + eye
    return (source - source.mean(0)) @ _power(cs, -0.5) @ _power(ct, 0.5) + target.mean(0)


def not_centred(source, target, eps=1e-6):
    eye = eps * np.eye(source.shape[1])
    return source @ _power(np.cov(source.T) + eye, -0.5) @ _power(np.cov(target.T) + eye, 0.5) + target.mean(0)


def no_target_mean(source, target):
    return my_coral(source, target) - target.mean(0)


def whitened_only(source, target):
    return (source - source.mean(0)) @ _power(np.cov(source.T), -0.5) + target.mean(0)


def cholesky(source, target):
    ls, lt = np.linalg.cholesky(np.cov(source.T)), np.linalg.cholesky(np.cov(target.T))
    return (source - source.mean(0)) @ np.linalg.inv(ls).T @ lt.T + target.mean(0)


def test_coral_align_passes():
    res = ex.check_coral_align(my_coral)
    assert res, str(res)


@pytest.mark.parametrize("fn, words", [
    (None, "you have not answered yet"),
    (lambda s, t: None, "my_coral returns None"),
    (adapt.coral_align, "tlcourse.adapt.coral_align"),
    (lambda s, t: adapt.coral_align(s, t, eps=1e-6), "tlcourse.adapt.coral_align"),
    (lambda s, t: t, "that is the target itself"),
    (lambda s, t: s - s.mean(0) + t.mean(0), "the target's covariance"),
    (not_centred, "centre the source on its own mean"),
    (no_target_mean, "the target's mean"),
    (whitened_only, "the target's covariance"),
    (cholesky, "the rows are not CORAL's"),
    (lambda s, t: s @ np.cov(s), "rowvar=False"),
    (lambda s, t: s[:10], "one row per source row"),
], ids=["none", "stub", "the course's", "wrapped", "the target", "means only", "not centred", "no target mean",
        "whitened only", "cholesky", "np.cov rows", "fewer rows"])
def test_coral_align_refuses(fn, words):
    res = ex.check_coral_align(fn)
    assert not res and words in str(res), str(res)
