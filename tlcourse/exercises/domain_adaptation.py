"""Checks for the exercises of 04_domain_adaptation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tlcourse.checks import Checker, CheckResult
from tlcourse.exercises.probes import refuse_course_code

__all__ = ["check_coral", "check_reversal"]

_COV_HINT = ("np.cov treats each row as a variable: use np.cov(f, rowvar=False), or centred.T @ centred / (n - 1), "
             "for a (d, d) covariance.")


def _coral_variants(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The values the usual slips give on ``(x, y)``, each with what to fix."""
    d = x.shape[1]

    def cov(f: np.ndarray, ddof: int = 1) -> np.ndarray:
        centred = f - f.mean(0)
        return centred.T @ centred / (len(f) - ddof)

    squared = float(np.sum((cov(x) - cov(y)) ** 2))
    return {
        "divide the covariance by n - 1, not by n": float(np.sum((cov(x, 0) - cov(y, 0)) ** 2)) / (4 * d * d),
        "square the Frobenius norm (the sum of squared differences, no square root)": np.sqrt(squared) / (4 * d * d),
        "divide by 4 d^2 (d is the number of features, source.shape[1])": squared,
        "divide by 4 d^2, not by 4 d": squared / (4 * d),
    }


def check_coral(fn: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 1: write the CORAL loss, ``||C_s - C_t||_F^2 / (4 d^2)``, yourself.

    ``fn(source, target)`` takes two feature arrays ``(n, d)`` and returns a scalar. Handing back the
    course's own :func:`tlcourse.adapt.coral_loss` (or a function that calls it) is refused: the check
    compares with that function, and it would be comparing it with itself.

    Examples
    --------
    >>> def mine(s, t):
    ...     cs, ct = np.cov(s, rowvar=False), np.cov(t, rowvar=False)
    ...     return float(np.sum((cs - ct) ** 2) / (4 * s.shape[1] ** 2))
    >>> check_coral(mine).passed
    True
    >>> check_coral(lambda s, t: float(np.mean((s.mean(0) - t.mean(0)) ** 2))).passed
    False
    >>> from tlcourse.adapt import coral_loss
    >>> print(check_coral(coral_loss))
    Exercise 1: the CORAL loss: NOT YET
      [x] my_coral is (or calls) tlcourse.adapt.coral_loss, ...
    """
    from tlcourse.adapt import coral_loss

    c = Checker("Exercise 1: the CORAL loss")
    if not c.given(fn, "write a function my_coral(source, target) and pass it in.") \
            or refuse_course_code(c, fn, {"tlcourse.adapt.coral_loss": coral_loss}, label="my_coral", own="CORAL loss",
                          how=" with NumPy (the check compares with that very function, so it would prove nothing)"):
        return c.result()
    rng = np.random.default_rng(123)
    x = rng.normal(size=(400, 6)).astype("float32")
    mix = rng.normal(size=(6, 6)).astype("float32")
    y = (rng.normal(size=(300, 6)) @ mix).astype("float32")
    ran, raw = c.attempt(lambda: (fn(x, x), fn(x, x + 3.0), fn(x, y)), hint=_COV_HINT)
    if not ran:
        return c.result()
    if any(v is None for v in raw):
        c.given(None, "my_coral returns None: write its body, and return the loss as a float.")
        return c.result()
    arrays = [np.asarray(v, dtype="float64") for v in raw]
    if any(a.size != 1 for a in arrays):
        c.expect(False, f"my_coral returns an array of shape {arrays[0].shape}, not one number: sum the squared "
                        "differences over the whole (d, d) matrix, then divide by 4 d^2.")
        return c.result()
    same, shifted, value = (float(a.reshape(())) for a in arrays)
    expected = float(coral_loss(x, y))
    c.expect(abs(same) < 1e-6, f"identical data should give 0, yours gives {same:.4g}.", ok="0 for identical data")
    c.expect(
        abs(shifted) < 1e-4,
        f"moving every feature by +3 changes the means, not the covariances: CORAL should stay 0, yours gives "
        f"{shifted:.4g}. Centre each domain's features on its own mean before you multiply.",
        ok="blind to a shift of the means (it compares covariances)",
    )
    if np.isclose(value, expected, rtol=1e-3):
        c.expect(True, "", ok=f"matches tlcourse.adapt.coral_loss ({expected:.5g})")
    else:
        slips = [fix for fix, v in _coral_variants(x.astype("float64"), y.astype("float64")).items()
                 if np.isclose(value, v, rtol=1e-3)]
        c.expect(False, f"on two different data sets yours gives {value:.5g}, expected {expected:.5g}: "
                        + (f"{slips[0]}." if slips else "check the covariance (divide by n - 1), the squared "
                           "Frobenius norm (sum of squared differences) and the 1 / (4 d^2)."))
    return c.result()


def check_reversal(layer: Any) -> CheckResult:
    """Exercise 2: a gradient reversal with coefficient 0.5, written with ``tf.custom_gradient``.

    ``layer`` is a callable (a function or a Keras layer) on tensors; the course's own
    :class:`tlcourse.adapt.GradientReversal` is refused, since the exercise is to write one.

    Examples
    --------
    >>> import tensorflow as tf
    >>> @tf.custom_gradient
    ... def mine(x):
    ...     return tf.identity(x), lambda dy: -0.5 * dy
    >>> check_reversal(mine).passed
    True
    >>> check_reversal(lambda x: -0.5 * x).passed
    False
    """
    import tensorflow as tf

    from tlcourse.adapt import GradientReversal

    c = Checker("Exercise 2: gradient reversal")
    if not c.given(layer, "write my_reversal(x) and pass it in.") \
            or refuse_course_code(c, layer, {"tlcourse.adapt.GradientReversal": GradientReversal}, label="my_reversal",
                          own="layer", how=", with tf.custom_gradient"):
        return c.result()
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"))
    w = tf.constant(np.arange(1, 13, dtype="float32").reshape(4, 3))  # no zero: every ratio below is defined

    def forward_and_back() -> tuple[Any, Any]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            if y is None:
                return None, None
            loss = tf.reduce_sum(w * tf.convert_to_tensor(y, tf.float32))
        return y, tape.gradient(loss, x)

    ran, outputs = c.attempt(forward_and_back, failed="calling your function raised")
    if not ran:
        return c.result()
    y, grad = outputs
    if y is None:
        c.given(None, "my_reversal returns None: write its body (hint: tf.custom_gradient).")
        return c.result()
    c.expect(
        np.shape(y) == tuple(x.shape) and np.allclose(np.asarray(y), x.numpy()),
        "on the way forward the function must change nothing (it is the identity); yours changes the values.",
        ok="identity on the way forward",
    )
    c.expect(grad is not None, "no gradient flows through your function (a NumPy value, or tf.stop_gradient?): "
                               "wrap the identity in tf.custom_gradient and return the gradient function.")
    if grad is None:
        return c.result()
    ratio = float(np.median(grad.numpy() / w.numpy()))
    if np.allclose(grad.numpy(), -0.5 * w.numpy(), atol=1e-6):
        c.expect(True, "", ok="multiplies the gradient by -0.5 on the way back")
    else:
        slips = {1.0: "the gradient passes unchanged: the gradient function must return -0.5 * dy",
                 -1.0: "the gradient is reversed with coefficient 1: return -0.5 * dy, not -dy",
                 0.5: "the gradient is halved but not reversed: return -0.5 * dy (mind the minus sign)",
                 0.0: "the gradient is zero: return -0.5 * dy from the gradient function"}
        said = next((s for r, s in slips.items() if abs(ratio - r) < 1e-6), None)
        c.expect(False, f"on the way back {said or f'the gradient is multiplied by about {ratio:.3g}'}; it must be "
                        "multiplied by -0.5 (the reversal coefficient).")
    return c.result()
