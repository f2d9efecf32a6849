"""Checks for the exercises of 04_domain_adaptation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tlcourse.adapt import GradientReversal, accuracy, adabn, coral_loss
from tlcourse_exercises.checks import Checker, CheckResult
from tlcourse_exercises.probes import own_output

__all__ = ["check_adabn", "check_coral", "check_reversal"]

_COV_HINT = ("np.cov treats each row as a variable: use np.cov(f, rowvar=False), or centred.T @ centred / (n - 1), "
             "for a (d, d) covariance.")


def check_coral(fn: Callable[[np.ndarray, np.ndarray], Any] | None) -> CheckResult:
    """Exercise 1: write the CORAL loss, ``||C_s - C_t||_F^2 / (4 d^2)``, yourself.

    Introduced in 04_domain_adaptation.

    ``fn(source, target)`` takes two feature arrays ``(n, d)`` and returns a scalar, compared with
    :func:`tlcourse.adapt.coral_loss` on two domains of different sizes, means and covariances; the usual
    slips (no centring, ``/ n``, a square root, no ``/ (4 d^2)``, ``/ (4 d)``) are named. Handing back the
    course's own function (or a function that calls it) is refused: the check would compare it with itself.

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
    c = Checker("Exercise 1: the CORAL loss")
    x, y = np.random.default_rng(1).normal(2.0, 1.0, (50, 6)), np.random.default_rng(2).normal(-1.0, np.arange(1, 7), (30, 6))
    got = own_output(c, fn, (x, y), name="my_coral", args="source, target", course={"tlcourse.adapt.coral_loss": coral_loss},
                     own="CORAL loss", write=" with NumPy (the check compares with that function, so it would prove nothing)",
                     shape=(), how="return the loss as one number: the sum of the squared differences over the whole (d, d) "
                     "matrix, divided by 4 d^2.", hint=_COV_HINT)
    if got is not None:  # against the course's coral_loss, and what the usual slips give
        expected, d4 = float(coral_loss(x, y)), 4 * x.shape[1] ** 2
        c.expect_close(float(got), expected, {
            "the covariances are not centred. Centre each domain's features on its own mean before you multiply.":
                np.sum((x.T @ x / (len(x) - 1) - y.T @ y / (len(y) - 1)) ** 2) / d4,
            "divide the covariance by n - 1, not by n.": np.sum((np.cov(x.T, ddof=0) - np.cov(y.T, ddof=0)) ** 2) / d4,
            "square the Frobenius norm (the sum of squared differences, no square root).": np.sqrt(expected * d4) / d4,
            "divide by 4 d^2 (d is the number of features, source.shape[1]).": expected * d4,
            "divide by 4 d^2, not by 4 d.": expected * x.shape[1]},
            said=f"on two different data sets yours gives {float(got):.5g}, expected {expected:.5g}: ", otherwise="check the "
            "covariance (divide by n - 1), the squared Frobenius norm (sum of squared differences) and the 1 / (4 d^2).",
            ok=f"matches tlcourse.adapt.coral_loss ({expected:.5g})", rtol=1e-3)
    return c.result()


def check_reversal(layer: Any) -> CheckResult:
    """Exercise 2: a gradient reversal with coefficient 0.5, written with ``tf.custom_gradient``.

    Introduced in 04_domain_adaptation.

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
    c = Checker("Exercise 2: gradient reversal")
    x, w = tf.random.stateless_normal((4, 3), seed=(0, 0)), tf.reshape(tf.range(1.0, 13.0), (4, 3))  # w: no zero to divide by
    y = own_output(c, layer, (x,), name="my_reversal", args="x", course={"tlcourse.adapt.GradientReversal": GradientReversal},
                   own="layer", write=", with tf.custom_gradient", shape=(4, 3), how="return tf.identity(x) on the way forward.")
    if y is None or not c.expect(np.allclose(y, x.numpy()), "on the way forward the function must change nothing (it is "
                                                             "the identity, tf.identity(x)); yours changes the values."):
        return c.result()
    with tf.GradientTape() as tape:  # the gradient of sum(w * y) over x, divided by w: -0.5 everywhere when right
        tape.watch(x)
        ran, loss = c.attempt(lambda: tf.reduce_sum(w * tf.cast(layer(x), tf.float32)), failed="calling your function raised")
    ran, ratio = c.attempt(lambda: tape.gradient(loss, x, unconnected_gradients="zero").numpy() / w.numpy(),
                           failed="the gradient of your function raised") if ran else (False, None)
    if ran:  # against -0.5, and what the usual slips give
        c.expect_close(ratio, -0.5, {"the gradient passes unchanged": 1.0, "the gradient is reversed with coefficient 1": -1.0,
                                     "the gradient is halved but not reversed (mind the minus sign)": 0.5,
                                     "no gradient flows (a NumPy value, or tf.stop_gradient?)": 0.0}, said="on the way back ",
                       otherwise=f"the gradient is multiplied by about {np.median(ratio):.3g}",
                       then=": in tf.custom_gradient, return tf.identity(x) and a gradient function returning -0.5 * dy.",
                       ok="identity on the way forward; multiplies the gradient by -0.5 on the way back", atol=1e-6)
    return c.result()


def check_adabn(adapted: Any, original: Any, x_target: np.ndarray, x_source: np.ndarray, x_test: np.ndarray,
                y_test: np.ndarray, *, images: int = 2000, show: bool = False) -> CheckResult:
    """Exercise 3: AdaBN by hand: ``adapted`` is a copy of ``original`` with its BatchNormalization statistics
    re-measured on target images, and nothing else changed.

    Introduced in 04_domain_adaptation.

    The check runs the course's :func:`tlcourse.adapt.adabn` on copies of ``original``, with ``images`` target
    images and with as many source images: the learner's statistics must be nearer the target's than the source's,
    and the accuracy on ``(x_test, y_test)`` within 0.02 of the course's AdaBN.

    Examples
    --------
    >>> import keras
    >>> keras.utils.set_random_seed(0)
    >>> original = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization(),
    ...                              keras.layers.Dense(2)])
    >>> rng = np.random.default_rng(0)
    >>> x_source, x_target = rng.normal(size=(200, 4)), rng.normal(3.0, 2.0, size=(200, 4))
    >>> def with_statistics_of(x):
    ...     copy = keras.models.clone_model(original); copy.set_weights(original.get_weights())
    ...     h = np.asarray(copy.layers[0](x))
    ...     copy.layers[1].moving_mean.assign(h.mean(0)); copy.layers[1].moving_variance.assign(h.var(0))
    ...     return copy
    >>> y_test = np.asarray(original.predict(x_target, verbose=0)).argmax(1)
    >>> check_adabn(with_statistics_of(x_target), original, x_target, x_source, x_target, y_test).passed
    True
    >>> print(check_adabn(with_statistics_of(x_source), original, x_target, x_source, x_target, y_test))
    Exercise 3: AdaBN by hand: NOT YET
      [ok] only the BatchNormalization statistics changed
      [x] your statistics are nearer those of the source images than the target's: ...
    >>> print(check_adabn(None, original, x_target, x_source, x_target, y_test))
    Exercise 3: AdaBN by hand: NOT YET
      [x] you have not answered yet: build adapted, ...
    """
    c = Checker("Exercise 3: AdaBN by hand")
    if not c.model_given(adapted, name="adapted", how="as copy_model(src_models[0]), then its BatchNormalization "
                                                      "statistics re-measured on target images"):
        return c.result(show=show)
    pairs = _expect_new_statistics_only(c, adapted, original)  # (mine, original, statistic?) a weight
    if pairs is None:
        return c.result(show=show)
    ref, source = copies = [_course_adabn(original, x, images) for x in (x_target, x_source)]  # the reference
    gap = [sum(np.linalg.norm(a.numpy() - b.numpy()) / np.linalg.norm(b.numpy()) for (a, _, s), b in zip(pairs, m.weights) if s)
           for m in copies]  # how far adapted's statistics are from each copy's, relative to the copy's
    acc, ref_acc, before = (accuracy(m, x_test, y_test) for m in (adapted, ref, original))
    # against the course's AdaBN on target images, and what the same on source images gives
    c.expect_none_of({"your statistics are nearer those of the source images than the target's: measure them on target images "
                      "(xt), the domain AdaBN adapts to.": not gap[0] < gap[1],
                      f"target test accuracy {acc:.3f}, the course's AdaBN {ref_acc:.3f}: measure each layer's statistics on its "
                      "input after the layers before it were re-normalised (walk the layers in order).": acc < ref_acc - 0.02},
                     ok=f"target test accuracy {acc:.3f} (the course's adapt.adabn: {ref_acc:.3f}), source only {before:.3f}: "
                        f"new statistics won {acc - before:+.3f}")
    return c.result(show=show)


def _expect_new_statistics_only(c: Checker, adapted: Any, original: Any) -> list[tuple[Any, Any, bool]] | None:
    """Check that ``adapted`` is a copy of ``original`` whose BatchNormalization statistics, and only those, changed.

    Returns ``(adapted's weight, original's, is it a statistic)`` for each weight, ``None`` when the check cannot go on.
    """
    pairs = [(a, b, "moving_" in b.path) for a, b in zip(adapted.weights, original.weights)]
    if not (c.expect([w.shape for w in adapted.weights] == [w.shape for w in original.weights], f"adapted has "
                      f"{len(adapted.weights)} weights, src_models[0] {len(original.weights)}: copy the whole model, "
                      "feature extractor and classifier (copy_model(src_models[0])).")
            and c.expect(not any(a is b for a, b, s in pairs if s), "adapted shares its statistics with src_models[0]: you "
                          "changed the lesson's model itself. Run section 2 again, then work on copy_model(src_models[0]).")
            and c.expect(any(s and not np.array_equal(a, b) for a, b, s in pairs), "no statistic changed: assign each "
                          "BatchNormalization layer's moving_mean and moving_variance from its input on the target images.")):
        return None
    c.expect(all(s or np.array_equal(a, b) for a, b, s in pairs), "weights besides the statistics changed (did it train?): "
             "AdaBN changes only moving_mean and moving_variance; start again from copy_model(src_models[0]).",
             ok="only the BatchNormalization statistics changed")
    return pairs


def _course_adabn(original: Any, x: np.ndarray, images: int) -> Any:
    """A copy of ``original`` with the course's :func:`~tlcourse.adapt.adabn` statistics of ``images`` images of ``x``."""
    copy = keras.models.clone_model(original)
    copy.set_weights(original.get_weights())
    adabn(copy, np.random.default_rng(0).permutation(x)[:images].astype("float32"), batch_size=500)
    return copy
