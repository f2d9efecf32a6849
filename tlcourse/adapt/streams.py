"""Data through the two-domain models: batches of source and target images in, accuracy out."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

__all__ = ["accuracy", "correct", "domain_dataset"]


def _shift(images: Any, pixels: int, seed: Any) -> Any:

    shape = tf.shape(images)
    padded = tf.pad(images, [[0, 0], [pixels, pixels], [pixels, pixels], [0, 0]])
    # One random offset per image: crop each padded image back to its size.
    n = shape[0]
    offsets = tf.random.stateless_uniform([n, 2], seed=seed, minval=0, maxval=2 * pixels + 1, dtype=tf.int32)
    rows = offsets[:, :1, None] + tf.range(shape[1])[None, :, None]
    cols = offsets[:, None, 1:] + tf.range(shape[2])[None, None, :]
    rows = tf.broadcast_to(rows, [n, shape[1], shape[2]])
    cols = tf.broadcast_to(cols, [n, shape[1], shape[2]])
    batch = tf.broadcast_to(tf.range(n)[:, None, None], [n, shape[1], shape[2]])
    return tf.gather_nd(padded, tf.stack([batch, rows, cols], axis=-1))


def domain_dataset(
    x_source: np.ndarray,
    y_source: np.ndarray,
    x_target: np.ndarray | None = None,
    *,
    batch_size: int = 64,
    shift: int = 2,
    seed: int = 0,
) -> Any:
    """An endless ``tf.data`` stream of shuffled batches, each image shifted by up to ``shift`` pixels (0: none).

    Introduced in 04_domain_adaptation.

    With ``x_target`` it yields ``((x_source, x_target), y_source)``, a source and a target batch drawn
    independently, for :class:`~tlcourse.adapt.DANN` and :class:`~tlcourse.adapt.DeepCORAL`; without it,
    ``(x_source, y_source)`` for a plain ``model.fit``. Endless: give ``fit`` a ``steps_per_epoch``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((10, 28, 28, 1), "float32"); y = np.arange(10)
    >>> (xs, xt), ys = next(iter(domain_dataset(x, y, x, batch_size=4)))
    >>> tuple(xs.shape), tuple(xt.shape), tuple(ys.shape)
    ((4, 28, 28, 1), (4, 28, 28, 1), (4,))
    """
    def stream(x: np.ndarray, y: np.ndarray | None, s: int) -> Any:
        ds = tf.data.Dataset.from_tensor_slices((x,) if y is None else (x, y))
        ds = ds.shuffle(len(x), seed=s, reshuffle_each_iteration=True).repeat().batch(batch_size, drop_remainder=True)
        if shift:
            counter = tf.data.Dataset.counter()
            ds = tf.data.Dataset.zip((ds, counter)).map(
                lambda b, i: (_shift(b[0], shift, tf.stack([tf.cast(i, tf.int32), s])),) + tuple(b[1:]),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        return ds

    source = stream(np.asarray(x_source, np.float32), np.asarray(y_source), seed)
    if x_target is None:
        return source.prefetch(tf.data.AUTOTUNE)
    target = stream(np.asarray(x_target, np.float32), None, seed + 1)
    both = tf.data.Dataset.zip((source, target)).map(lambda s, t: ((s[0], t[0]), s[1]))
    return both.prefetch(tf.data.AUTOTUNE)


def correct(model: Any, x: np.ndarray, y: np.ndarray, *, batch_size: int = 512) -> np.ndarray:
    """Which of ``(x, y)`` ``model`` (logits or probabilities) gets right, in inference mode: booleans.

    Introduced in 04_domain_adaptation.

    Two models' answers on the same images feed :func:`tlcourse.claims.compare_examples`.

    Examples
    --------
    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    >>> correct(m, np.zeros((4, 2), "float32"), np.zeros(4, int)).shape
    (4,)
    """
    preds = []
    for start in range(0, len(x), batch_size):
        preds.append(np.argmax(np.asarray(model(tf.constant(x[start : start + batch_size]), training=False)), -1))
    return np.concatenate(preds) == np.asarray(y)


def accuracy(model: Any, x: np.ndarray, y: np.ndarray, *, batch_size: int = 512) -> float:
    """Classification accuracy of ``model`` (logits or probabilities) on ``(x, y)``, in inference mode.

    Introduced in 04_domain_adaptation.

    Examples
    --------
    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    >>> 0.0 <= accuracy(m, np.zeros((4, 2), "float32"), np.zeros(4, int)) <= 1.0
    True
    """
    return float(np.mean(correct(model, x, y, batch_size=batch_size)))
