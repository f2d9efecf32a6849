"""Checks for the exercises of 04_domain_adaptation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tlcourse.checks import Checker, CheckResult
from tlcourse.exercises.probes import own_function

__all__ = ["check_adabn", "check_coral", "check_reversal"]

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

    Introduced in 04_domain_adaptation.

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
    if not own_function(c, fn, name="my_coral", args="source, target",
                        course={"tlcourse.adapt.coral_loss": coral_loss}, own="CORAL loss",
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
    arrays = []
    for v in raw:
        a = c.array(v, "what my_coral returns", how="return the loss as one float.")
        if a is None:
            return c.result()
        arrays.append(a)
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
    from tlcourse.adapt import GradientReversal

    c = Checker("Exercise 2: gradient reversal")
    if not own_function(c, layer, name="my_reversal", args="x",
                        course={"tlcourse.adapt.GradientReversal": GradientReversal}, own="layer",
                        how=", with tf.custom_gradient"):
        return c.result()
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"))
    w = tf.constant(np.arange(1, 13, dtype="float32").reshape(4, 3))  # no zero: every ratio below is defined

    def forward_and_back() -> tuple[Any, Any, bool]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            if y is None or not (tf.is_tensor(y) or c.array(y, "what my_reversal returns", how="return a tensor "
                                                             "the shape of x, tf.identity(x) on the way forward.")
                                 is not None):
                return y, None, False
            if tuple(np.shape(y)) != tuple(x.shape):
                c.expect(False, f"my_reversal returns shape {tuple(np.shape(y))} for x of shape {tuple(x.shape)}: on "
                                "the way forward it must be the identity, tf.identity(x).")
                return y, None, False
            loss = tf.reduce_sum(w * tf.convert_to_tensor(y, tf.float32))
        return y, tape.gradient(loss, x), True

    ran, outputs = c.attempt(forward_and_back, failed="calling your function raised")
    if not ran:
        return c.result()
    y, grad, usable = outputs
    if y is None:
        c.given(None, "my_reversal returns None: write its body (hint: tf.custom_gradient).")
        return c.result()
    if not usable:  # what it returns is not numbers: said above
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


def _course_adabn(original: Any, x: np.ndarray, images: int) -> Any:
    """The course's AdaBN on a copy of ``original``, from ``images`` images of ``x`` (a seeded draw)."""
    from tlcourse.adapt import adabn

    copy = keras.models.clone_model(original)
    copy.set_weights(original.get_weights())
    return adabn(copy, x[np.random.default_rng(0).permutation(len(x))[:images]].astype("float32"), batch_size=500)


def _statistics_gap(model: Any, reference: Any) -> float:
    """The mean relative distance of ``model``'s BatchNormalization statistics from ``reference``'s."""
    pairs = [(a.numpy(), b.numpy()) for a, b in zip(model.weights, reference.weights) if "moving_" in b.path]
    return float(np.mean([np.linalg.norm(a - b) / np.linalg.norm(b) for a, b in pairs]))


def check_adabn(adapted: Any, original: Any, x_target: np.ndarray, x_source: np.ndarray, x_test: np.ndarray,
                y_test: np.ndarray, *, images: int = 2000, show: bool = False) -> CheckResult:
    """Exercise 3: AdaBN by hand: ``adapted`` is a copy of ``original`` with its BatchNormalization statistics
    re-measured on target images, and nothing else changed.

    Introduced in 04_domain_adaptation.

    The check runs the course's :func:`tlcourse.adapt.adabn` on copies of ``original``, with ``images`` target
    images and with as many source images: the learner's statistics must be nearer the target's, and the
    accuracy on ``(x_test, y_test)`` within 0.02 of the course's AdaBN.

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
    from tlcourse.adapt import accuracy

    c = Checker("Exercise 3: AdaBN by hand")
    if not c.model_given(adapted, name="adapted", how="as copy_model(src_models[0]), then its BatchNormalization "
                                                      "statistics re-measured on target images"):
        return c.result(show=show)
    mine, orig = adapted.weights, original.weights
    stat = ["moving_" in w.path for w in orig]
    if not (c.require(len(mine) == len(orig) and all(tuple(a.shape) == tuple(b.shape) for a, b in zip(mine, orig)),
                      f"adapted has {len(mine)} weights, src_models[0] {len(orig)}: copy the whole model, "
                      "feature extractor and classifier (copy_model(src_models[0]))")
            and c.require(not any(a is b for a, b, s in zip(mine, orig, stat) if s),
                          "adapted shares its statistics with src_models[0]: you changed the lesson's model itself. "
                          "Run section 2 again to restore it, then work on copy_model(src_models[0]).")):
        return c.result(show=show)
    moved = [not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(mine, orig)]
    if not c.require(any(m for m, s in zip(moved, stat) if s), "no statistic changed: assign each BatchNormalization "
                     "layer's moving_mean and moving_variance from its input on the target images."):
        return c.result(show=show)
    c.expect(not any(m for m, s in zip(moved, stat) if not s), "weights besides the statistics changed (did it "
             "train, on labels?): AdaBN changes only moving_mean and moving_variance; start again from "
             "copy_model(src_models[0]).", ok="only the BatchNormalization statistics changed")
    refs = {domain: _course_adabn(original, x, images) for domain, x in (("target", x_target), ("source", x_source))}
    if not c.require(_statistics_gap(adapted, refs["target"]) < _statistics_gap(adapted, refs["source"]),
                     "your statistics are nearer those of the source images than the target's: measure them on "
                     "target images (xt), the domain AdaBN adapts to."):
        return c.result(show=show)
    acc, ref, before = (accuracy(m, x_test, y_test) for m in (adapted, refs["target"], original))
    c.expect(acc >= ref - 0.02, f"target test accuracy {acc:.3f}, the course's AdaBN {ref:.3f}: measure each layer's "
             "statistics on its input after the layers before it were re-normalised (walk the layers in order).",
             ok=f"target test accuracy {acc:.3f} (the course's adapt.adabn: {ref:.3f}), source only {before:.3f}: "
                f"new statistics won {acc - before:+.3f}")
    return c.result(show=show)
