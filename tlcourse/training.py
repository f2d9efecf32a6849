"""Training helpers: epoch timing, fresh starts without recompiling, the LP-FT linear probe, weight distance.

Keras has no per-layer learning rates; :class:`DiscriminativeAdam` multiplies Adam's step, variable by
variable, by a factor chosen from the variable's path (ULMFiT's discriminative fine-tuning, Howard and
Ruder 2018). No lesson measures it; it is here to try on your own fine-tuning.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np

from tlcourse.models import leaf_layers

__all__ = ["DiscriminativeAdam", "EpochTimer", "fresh_start", "linear_probe", "reset_optimizer", "softmax_weights",
           "weight_distance"]


class EpochTimer(keras.callbacks.Callback):
    """A Keras callback that records the wall time at the end of each epoch (seconds since ``fit`` began).

    Introduced in 01_what_is_transfer_learning.

    Examples
    --------
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> m.compile("sgd", "mse")
    >>> timer = EpochTimer()
    >>> _ = m.fit(np.zeros((4, 2)), np.zeros(4), epochs=2, verbose=0, callbacks=[timer])
    >>> len(timer.times), timer.times == sorted(timer.times)
    (2, True)
    """

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self._start = 0.0

    def on_train_begin(self, logs: Any = None) -> None:
        self._start = time.perf_counter()
        self.times = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.times.append(time.perf_counter() - self._start)


def fresh_start(model: Any, seed: int) -> Any:
    """Re-initialise the trainable layers of a compiled model and reset its optimizer, without recompiling.

    Introduced in 01_what_is_transfer_learning.

    Each ``compile`` costs a graph trace (seconds on a CPU); reusing one compiled model for many runs
    keeps its traced step. Trainable layers get new random weights (seeded), frozen layers keep theirs.

    Examples
    --------
    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> m.compile("adam", "mse")
    >>> _ = m.fit(np.ones((4, 2)), np.ones(4), verbose=0)
    >>> _ = fresh_start(m, 0)
    >>> int(m.optimizer.iterations)
    0
    """

    keras.utils.set_random_seed(seed)
    # A clone has the same architecture with newly initialised weights: its leaves pair up with the model's.
    fresh = keras.models.clone_model(model)
    for layer, new in zip(leaf_layers(model), leaf_layers(fresh)):
        if layer.trainable and layer.weights:
            layer.set_weights(new.get_weights())
    if getattr(model, "optimizer", None) is not None:
        reset_optimizer(model)
    return model


def reset_optimizer(model: Any, learning_rate: float | None = None) -> Any:
    """Put a compiled model's optimizer back to its first step (moments and step count zero), keeping its trace.

    Introduced in 03_fine_tuning.

    The traced step reads ``learning_rate`` from a variable, so runs at several rates share one ``compile``.

    Examples
    --------
    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> m.compile(keras.optimizers.Adam(1e-3), "mse")
    >>> _ = m.fit(np.ones((4, 2)), np.ones(4), verbose=0)
    >>> _ = reset_optimizer(m, 1e-4)
    >>> int(m.optimizer.iterations), round(float(m.optimizer.learning_rate), 6)
    (0, 0.0001)
    """
    for v in model.optimizer.variables:
        if "learning_rate" not in v.path:
            v.assign(np.zeros(v.shape, v.dtype))
    if learning_rate is not None:
        model.optimizer.learning_rate.assign(learning_rate)
    return model


def _divide(f: np.ndarray, by: float) -> np.ndarray:
    return f / by


def linear_probe(f_train: np.ndarray, y_train: np.ndarray, f_val: np.ndarray, y_val: np.ndarray, *,
                 cs: tuple[float, ...] = (0.01, 0.1, 1.0)) -> tuple[Any, list[np.ndarray]]:
    """Feature extraction's classifier, and the same classifier as the weights of a softmax ``Dense`` layer.

    Introduced in 03_fine_tuning.

    A logistic regression, ``C`` chosen on validation (ties go to the smaller), on the features divided
    by one number, their standard deviation over the training set, so one range of ``C`` suits any base
    (a scale per feature would amplify features nearly constant on the training images, which fine-tuning
    then changes). With the scale folded into ``kernel``, ``Dense(n, activation="softmax")`` gives the
    same probabilities on raw features: the "linear probe" LP-FT (Kumar et al. 2022) fine-tunes from.
    Returns the scikit-learn pipeline (on raw features; its ``C`` in ``classifier[-1].C``) and the
    float32 ``[kernel, bias]``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=(90, 4)) + np.repeat(np.eye(3, 4) * 3, 30, axis=0)
    >>> y = np.repeat([0, 1, 2], 30)
    >>> clf, (kernel, bias) = linear_probe(f[::2], y[::2], f[1::2], y[1::2])
    >>> kernel.shape, bias.shape
    ((4, 3), (3,))
    >>> z = f @ kernel + bias
    >>> p = np.exp(z - z.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
    >>> bool(np.allclose(p, clf.predict_proba(f), atol=1e-4)), clf.score(f[1::2], y[1::2]) > 0.9
    (True, True)
    >>> two = y < 2  # two classes: the same softmax layer, one class's row of zeros
    >>> clf, (kernel, bias) = linear_probe(f[two][::2], y[two][::2], f[two][1::2], y[two][1::2])
    >>> z = f[two] @ kernel + bias
    >>> bool(np.allclose(1 / (1 + np.exp(z[:, 0] - z[:, 1])), clf.predict_proba(f[two])[:, 1], atol=1e-4))
    True
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from tlcourse.features import one_blas_thread

    scale = float(np.std(f_train)) or 1.0
    with one_blas_thread():  # measured on 2 busy cores: the 200-a-class probe of 03 took 70 s on two threads
        fits = [make_pipeline(FunctionTransformer(_divide, kw_args={"by": scale}),
                              LogisticRegression(C=c, max_iter=1000)).fit(f_train, y_train) for c in sorted(cs)]
        best = max(fits, key=lambda clf: clf.score(f_val, y_val))  # max keeps the first (smallest C) of a tie
    kernel, bias = softmax_weights(best[-1])
    return best, [kernel / np.float32(scale), bias]


def softmax_weights(clf: Any, n_classes: int | None = None) -> list[np.ndarray]:
    """A fitted scikit-learn ``LogisticRegression`` as the float32 ``[kernel, bias]`` of a softmax ``Dense`` layer.

    Column ``k`` is class ``k`` (``n_classes`` columns, default the largest class seen plus one); a class the
    classifier never saw keeps a column of zeros. Two classes: scikit-learn keeps one row, ``z``, for the
    second class, and ``sigmoid(z)`` is ``softmax([0, z])[1]``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> x, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> clf = LogisticRegression().fit(x, y)
    >>> kernel, bias = softmax_weights(clf)
    >>> z = x @ kernel + bias
    >>> bool(np.allclose(np.exp(z) / np.exp(z).sum(1, keepdims=True), clf.predict_proba(x), atol=1e-6))
    True
    >>> [w.shape for w in softmax_weights(clf, n_classes=3)]
    [(1, 3), (3,)]
    """
    classes = np.asarray(clf.classes_)
    n = int(classes.max()) + 1 if n_classes is None else n_classes
    kernel, bias = np.zeros((clf.coef_.shape[1], n), np.float32), np.zeros(n, np.float32)
    if clf.coef_.shape[0] == 1:  # two classes: the second's logit, against 0 for the first
        kernel[:, classes[1]], bias[classes[1]] = clf.coef_[0], clf.intercept_[0]
    else:
        kernel[:, classes], bias[classes] = clf.coef_.T, clf.intercept_
    return [kernel, bias]


def weight_distance(weights: list[np.ndarray], reference: list[np.ndarray]) -> float:
    """How far weights moved from a reference (for example the pretrained ones): ``||w - w0|| / ||w0||``.

    Introduced in 03_fine_tuning.

    0 means untouched, 1 a change as large as the weights themselves.

    Examples
    --------
    >>> w0 = [np.ones((2, 2)), np.zeros(2)]
    >>> weight_distance(w0, w0), weight_distance([np.full((2, 2), 1.5), np.zeros(2)], w0)
    (0.0, 0.5)
    """
    num = sum(float(np.sum((np.asarray(w, np.float64) - r) ** 2)) for w, r in zip(weights, reference))
    den = sum(float(np.sum(np.asarray(r, np.float64) ** 2)) for r in reference)
    return float(np.sqrt(num / den))


@keras.saving.register_keras_serializable(package="tlcourse")
class DiscriminativeAdam(keras.optimizers.Adam):
    """Adam with layer-wise (discriminative) learning rates.

    ``multipliers`` is ``{substring: factor}``: a variable whose path (``"block_16_expand/kernel"``)
    contains the substring gets ``factor * learning_rate``, the first match in order winning; the rest
    get ``default``. The rate is scaled, not the gradient: Adam's step does not depend on the gradient's scale.

    Examples
    --------
    >>> opt = DiscriminativeAdam(1e-3, multipliers={"block_14": 0.1, "block_16": 0.3})
    >>> opt.multiplier_for("block_14_expand/kernel"), opt.multiplier_for("dense/kernel")
    (0.1, 1.0)
    """

    def __init__(self, learning_rate: Any = 0.001, multipliers: Mapping[str, float] | None = None,
                 default: float = 1.0, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.multipliers = dict(multipliers or {})
        self.default = float(default)

    def multiplier_for(self, path: str) -> float:
        """The factor for a variable path."""
        for key, factor in self.multipliers.items():
            if key in path:
                return float(factor)
        return self.default

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> Any:
        factor = self.multiplier_for(_path(variable))
        if factor == 1.0:
            return super().update_step(gradient, variable, learning_rate)
        return super().update_step(gradient, variable, learning_rate * factor)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"multipliers": self.multipliers, "default": self.default})
        return config


def _path(variable: Any) -> str:
    """The Keras path of the variable :meth:`DiscriminativeAdam.update_step` is given.

    On TensorFlow Keras passes the ``tf.Variable`` it wraps, named by the path and ``":0"``
    (``"/replica_1:0"`` for a ``MirroredStrategy`` copy); on JAX and PyTorch, its own variable.

    Examples
    --------
    >>> import keras
    >>> v = keras.Variable(1.0, name="kernel")
    >>> v.path, _path(v), _path(v.value)
    ('kernel', 'kernel', 'kernel')
    """
    path = getattr(variable, "path", None)
    return path if isinstance(path, str) else re.sub(r"(/replica_\d+)?:\d+$", "", variable.name)
