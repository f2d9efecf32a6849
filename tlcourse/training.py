"""Training helpers repeated across lessons: epoch timing, time to reach a score, re-initialising a model.

Introduced in 01_what_is_transfer_learning, where a model trained from scratch
and a head on pretrained features race to the same accuracy (:class:`EpochTimer`,
:func:`time_to_reach`) over many seeds and data sizes (:func:`fresh_start`);
:class:`EpochTimer` times training again in 02_feature_extraction.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tlcourse.models import leaf_layers

__all__ = ["EpochTimer", "fresh_start", "time_to_reach"]


class EpochTimer:
    """A Keras callback that records the wall time at the end of each epoch (seconds since ``fit`` began).

    Examples
    --------
    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> m.compile("sgd", "mse")
    >>> timer = EpochTimer()
    >>> _ = m.fit(np.zeros((4, 2)), np.zeros(4), epochs=2, verbose=0, callbacks=[timer.callback()])
    >>> len(timer.times)
    2
    """

    def __init__(self) -> None:
        self.times: list[float] = []
        self._start = 0.0

    def callback(self) -> Any:
        """A new ``keras.callbacks.Callback`` that fills :attr:`times` (cleared when ``fit`` begins)."""
        import keras

        timer = self

        class _Cb(keras.callbacks.Callback):
            def on_train_begin(self, logs: Any = None) -> None:
                timer._start = time.perf_counter()
                timer.times = []

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                timer.times.append(time.perf_counter() - timer._start)

        return _Cb()


def time_to_reach(times: list[float], scores: list[float], target: float, *, offset: float = 0.0) -> float | None:
    """The first time (plus ``offset``, e.g. feature extraction) at which ``scores`` reached ``target``.

    Returns ``None`` when the target was never reached.

    Examples
    --------
    >>> time_to_reach([1.0, 2.0, 3.0], [0.5, 0.7, 0.8], 0.7, offset=10)
    12.0
    >>> time_to_reach([1.0], [0.5], 0.9) is None
    True
    """
    for t, s in zip(times, scores):
        if s >= target:
            return float(t + offset)
    return None


def fresh_start(model: Any, seed: int) -> Any:
    """Re-initialise the trainable layers of a compiled model and reset its optimizer, without recompiling.

    Training many small models one after another (seeds, data sizes) costs a
    graph trace per ``compile`` (seconds on a CPU). Reusing one compiled model
    keeps its traced training step: trainable layers get new random weights
    (seeded), frozen layers keep theirs, and the optimizer's state (step count,
    moments) goes back to zero. Introduced in 01_what_is_transfer_learning.

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
    import keras

    keras.utils.set_random_seed(seed)
    # A clone has the same architecture with newly initialised weights: its leaves pair up with the model's.
    fresh = keras.models.clone_model(model)
    for layer, new in zip(leaf_layers(model), leaf_layers(fresh)):
        if layer.trainable and layer.weights:
            layer.set_weights(new.get_weights())
    if getattr(model, "optimizer", None) is not None:
        for v in model.optimizer.variables:
            if "learning_rate" not in v.path:
                v.assign(np.zeros(v.shape, v.dtype))
    return model
