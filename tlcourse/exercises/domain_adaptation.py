"""Checks for the exercises of 04_domain_adaptation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tlcourse.checks import Checker, CheckResult

__all__ = ["check_coral", "check_reversal"]


def check_coral(fn: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 1: write the CORAL loss, ``||C_s - C_t||_F^2 / (4 d^2)``, yourself.

    ``fn(source, target)`` takes two feature arrays ``(n, d)`` and returns a scalar.

    Examples
    --------
    >>> from tlcourse.adapt import coral_loss
    >>> check_coral(lambda s, t: float(coral_loss(s, t))).passed
    True
    >>> check_coral(lambda s, t: float(np.mean((s.mean(0) - t.mean(0)) ** 2))).passed
    False
    """
    from tlcourse.adapt import coral_loss

    c = Checker("Exercise 1: the CORAL loss")
    if not c.given(fn, "write a function my_coral(source, target) and pass it in."):
        return c.result()
    rng = np.random.default_rng(123)
    x = rng.normal(size=(400, 6)).astype("float32")
    mix = rng.normal(size=(6, 6)).astype("float32")
    y = (rng.normal(size=(300, 6)) @ mix).astype("float32")
    ran, values = c.attempt(lambda: (float(fn(x, x)), float(fn(x, x + 3.0)), float(fn(x, y))))
    if not ran:
        return c.result()
    same, shifted, value = values
    expected = float(coral_loss(x, y))
    c.expect(abs(same) < 1e-6, f"identical data should give 0, yours gives {same:.4g}.", ok="0 for identical data")
    c.expect(
        abs(shifted) < 1e-4,
        f"moving every feature by +3 changes the means, not the covariances: CORAL should stay 0, yours gives "
        f"{shifted:.4g}. Centre each domain's features on its own mean before you multiply.",
        ok="blind to a shift of the means (it compares covariances)",
    )
    c.expect(
        np.isclose(value, expected, rtol=1e-3),
        f"on two different data sets yours gives {value:.5g}, expected {expected:.5g}. Check the covariance "
        f"(divide by n - 1), the squared Frobenius norm (sum of squared differences) and the 1 / (4 d^2).",
        ok=f"matches tlcourse.adapt.coral_loss ({expected:.5g})",
    )
    return c.result()


def check_reversal(layer: Any) -> CheckResult:
    """Exercise 2: a gradient reversal layer with coefficient 0.5.

    ``layer`` is a callable (a Keras layer or a function) on tensors.

    Examples
    --------
    >>> from tlcourse.adapt import GradientReversal
    >>> check_reversal(GradientReversal(0.5)).passed
    True
    >>> check_reversal(lambda x: -0.5 * x).passed
    False
    """
    import tensorflow as tf

    c = Checker("Exercise 2: gradient reversal")
    if not c.given(layer, "build your layer (or function) and pass it in."):
        return c.result()
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"))
    w = tf.constant(np.arange(12, dtype="float32").reshape(4, 3))

    def forward_and_back() -> tuple[Any, Any]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(w * y)
        return y, tape.gradient(loss, x)

    ran, outputs = c.attempt(forward_and_back, failed="calling your layer raised")
    if not ran:
        return c.result()
    y, grad = outputs
    c.expect(
        np.allclose(np.asarray(y), x.numpy()),
        "on the way forward the layer must change nothing (it is the identity); yours changes the values.",
        ok="identity on the way forward",
    )
    c.expect(grad is not None, "no gradient flows through your layer: wrap the identity in tf.custom_gradient.")
    if grad is not None:
        c.expect(
            np.allclose(grad.numpy(), -0.5 * w.numpy(), atol=1e-6),
            "on the way back the gradient must be multiplied by -0.5 (the reversal coefficient): "
            "return -0.5 * dy from the gradient function.",
            ok="multiplies the gradient by -0.5 on the way back",
        )
    return c.result()
