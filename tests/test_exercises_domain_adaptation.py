"""The checks of 04_domain_adaptation: a hand-written CORAL loss and gradient reversal pass; the course's own
functions handed back, stubs, and the usual slips are refused, each named."""

import functools

import numpy as np
import pytest
import tensorflow as tf

from tlcourse import adapt
from tlcourse.adapt import coral_loss
from tlcourse.exercises import domain_adaptation as ex


def _cov(f, ddof=1):
    centred = f - f.mean(axis=0)
    return centred.T @ centred / (len(f) - ddof)


def my_coral(source, target):
    d = source.shape[1]
    return float(np.sum((_cov(source) - _cov(target)) ** 2) / (4 * d * d))


def calls_the_package(source, target):
    return float(adapt.coral_loss(source, target))  # through the module, as a notebook would write it


def _helper(source, target):
    return coral_loss(source, target)


def hides_it_in_a_helper(source, target):
    return float(_helper(source, target))


def test_coral_passes_a_hand_written_loss():
    res = ex.check_coral(my_coral)
    assert res, str(res)


@pytest.mark.parametrize("fn, words", [
    (None, "you have not answered yet"),
    (lambda s, t: None, "my_coral returns None"),
    (coral_loss, "tlcourse.adapt.coral_loss"),
    (lambda s, t: float(coral_loss(s, t)), "tlcourse.adapt.coral_loss"),
    (functools.partial(coral_loss), "tlcourse.adapt.coral_loss"),
    (calls_the_package, "tlcourse.adapt.coral_loss"),
    (hides_it_in_a_helper, "tlcourse.adapt.coral_loss"),
    (lambda s, t: float(np.sum((s.T @ s / (len(s) - 1) - t.T @ t / (len(t) - 1)) ** 2) / (4 * s.shape[1] ** 2)),
     "Centre each domain's features"),
    (lambda s, t: float(np.sum((_cov(s, 0) - _cov(t, 0)) ** 2) / (4 * s.shape[1] ** 2)), "not by n"),
    (lambda s, t: float(np.sqrt(np.sum((_cov(s) - _cov(t)) ** 2)) / (4 * s.shape[1] ** 2)), "no square root"),
    (lambda s, t: float(np.sum((_cov(s) - _cov(t)) ** 2)), "divide by 4 d^2 (d is"),
    (lambda s, t: float(np.sum((_cov(s) - _cov(t)) ** 2) / (4 * s.shape[1])), "not by 4 d"),
    (lambda s, t: float(np.sum((np.cov(s) - np.cov(t)) ** 2)), "rowvar=False"),
    (lambda s, t: (_cov(s) - _cov(t)) ** 2 / (4 * s.shape[1] ** 2), "not one number"),
], ids=["none", "stub", "coral_loss", "lambda", "partial", "adapt.coral_loss", "helper", "not centred",
        "divide by n", "not squared", "no 1/(4d^2)", "1/(4d)", "np.cov rows", "a matrix"])
def test_coral_refuses(fn, words):
    res = ex.check_coral(fn)
    assert not res and words in str(res), str(res)


def test_coral_says_why_the_package_function_is_refused():
    assert "would prove nothing" in str(ex.check_coral(coral_loss))


def _reversal(coefficient):
    @tf.custom_gradient
    def reverse(x):
        return tf.identity(x), lambda dy: coefficient * dy
    return reverse


def test_reversal_passes_a_custom_gradient():
    res = ex.check_reversal(_reversal(-0.5))
    assert res, str(res)


@pytest.mark.parametrize("make, words", [
    (lambda: None, "you have not answered yet"),
    (lambda: (lambda x: None), "my_reversal returns None"),
    (lambda: adapt.GradientReversal(0.5), "tlcourse.adapt.GradientReversal"),
    (lambda: (lambda x: adapt.GradientReversal(0.5)(x)), "tlcourse.adapt.GradientReversal"),
    (lambda: tf.identity, "passes unchanged"),
    (lambda: _reversal(-1.0), "coefficient 1"),
    (lambda: _reversal(0.5), "mind the minus sign"),
    (lambda: _reversal(-0.25), "multiplied by about -0.25"),
    (lambda: (lambda x: -0.5 * x), "changes the values"),
    (lambda: tf.stop_gradient, "no gradient flows"),
    (lambda: (lambda x: x.numpy()), "no gradient flows"),
], ids=["none", "stub", "the course's layer", "wrapped", "identity", "-1", "+0.5", "-0.25", "forward scaled",
        "stop_gradient", "numpy"])
def test_reversal_refuses(make, words):
    res = ex.check_reversal(make())
    assert not res and words in str(res), str(res)
