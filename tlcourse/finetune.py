"""Machinery repeated across lessons 01-03: a small CNN trained from scratch, epoch timing.

Introduced in 01_what_is_transfer_learning (the scratch baseline) and used again in
02_feature_extraction and 03_fine_tuning.
"""

from __future__ import annotations

import time

import numpy as np
from typing import Any

__all__ = ["small_cnn", "EpochTimer", "time_to_reach", "fresh_start"]


def small_cnn(
    num_classes: int,
    input_shape: tuple[int, int, int] = (64, 64, 3),
    *,
    filters: tuple[int, ...] = (16, 32, 64, 128),
    dropout: float = 0.3,
    bn_momentum: float = 0.9,
    rescale: float | None = 1 / 255,
) -> Any:
    """A small CNN to train from scratch: conv blocks with BatchNormalization, pooling, dense logits.

    BatchNormalization's momentum is 0.9, not Keras's 0.99: trained for a few
    dozen steps on a handful of photos, 0.99's moving statistics lag behind the
    weights and the model predicts one class in inference mode (measured on
    flowers, see REFERENCE.md). Inputs are images in [0, 255] (``rescale``
    brings them to [0, 1]; ``None`` leaves them alone). Outputs are logits.

    Examples
    --------
    >>> m = small_cnn(5, (32, 32, 3))
    >>> m.output_shape
    (None, 5)
    """
    import keras
    from keras import layers

    model_layers: list[Any] = [keras.Input(input_shape)]
    if rescale is not None:
        model_layers.append(layers.Rescaling(rescale))
    for f in filters:
        model_layers += [
            layers.Conv2D(f, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=bn_momentum),
            layers.ReLU(),
            layers.MaxPooling2D(),
        ]
    model_layers += [layers.GlobalAveragePooling2D(), layers.Dropout(dropout), layers.Dense(num_classes)]
    return keras.Sequential(model_layers, name="small_cnn")


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


def _leaves(model: Any) -> list[Any]:
    out = []
    for layer in model.layers:
        out.extend(_leaves(layer) if hasattr(layer, "layers") else [layer])
    return out


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
    fresh = keras.models.clone_model(model)
    for layer, new in zip(_leaves(model), _leaves(fresh)):
        if layer.trainable and layer.weights:
            layer.set_weights(new.get_weights())
    if getattr(model, "optimizer", None) is not None:
        for v in model.optimizer.variables:
            if "learning_rate" not in v.path:
                v.assign(np.zeros(v.shape, v.dtype))
    return model
