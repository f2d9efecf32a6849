"""AdaBN (Li et al. 2016): re-estimate BatchNormalization statistics on the target domain."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tlcourse.models import all_layers

__all__ = ["adabn", "with_own_statistics"]


def _bn_layers(model: Any) -> list[Any]:

    # all_layers walks `.layers`, which for a subclassed model (DANN, DeepCORAL) holds the sub-models
    # assigned as attributes, so it reaches their BN layers too. A layer shared by two containers
    # appears once per container: keep it once, so each layer is set and restored once.
    layers, seen = [], set()
    for layer in [model, *all_layers(model)]:
        if isinstance(layer, keras.layers.BatchNormalization) and id(layer) not in seen:
            seen.add(id(layer))
            layers.append(layer)
    return layers


def with_own_statistics(model: Any, x: Any, *, batch_size: int = 500) -> np.ndarray:
    """``model(x)`` with every BatchNormalization layer normalising by the statistics of ``x``'s own batches.

    Introduced in 04_domain_adaptation.

    This is how a two-domain model sees each domain during training, whereas ``model(x, training=False)``
    uses the moving statistics. No weight and no moving statistic changes. Every layer runs in training
    mode, so call it on feature extractors without dropout (such as :func:`tlcourse.scratch.digits_cnn`'s).

    Examples
    --------
    >>> import numpy as np
    >>> from tlcourse.scratch import digits_cnn
    >>> fe, _ = digits_cnn()
    >>> x = np.random.default_rng(0).random((64, 28, 28, 1), dtype="float32")
    >>> before = [w.numpy().copy() for w in fe.weights]
    >>> with_own_statistics(fe, x, batch_size=32).shape
    (64, 128)
    >>> all(np.array_equal(a, w.numpy()) for a, w in zip(before, fe.weights))   # nothing moved
    True
    """
    layers = _bn_layers(model)
    saved = [(layer.momentum, layer.trainable) for layer in layers]
    out = []
    try:
        for layer in layers:
            layer.momentum, layer.trainable = 1.0, True   # new = 1 * old + 0 * batch: the moving statistics stay
        for start in range(0, len(x), batch_size):
            out.append(np.asarray(model(np.asarray(x[start : start + batch_size], np.float32), training=True)))
    finally:
        for layer, (momentum, trainable) in zip(layers, saved):
            layer.momentum, layer.trainable = momentum, trainable
    return np.concatenate(out)


def adabn(model: Any, x_target: Any, *, batch_size: int = 256) -> Any:
    """AdaBN (Li et al. 2016): re-estimate every BatchNormalization layer's statistics on target data.

    Introduced in 04_domain_adaptation.

    Each layer's moving mean and variance become the average of its batch statistics over all of
    ``x_target`` (an array, or a ``tf.data.Dataset`` of batches); no weight changes and no label is used.
    BN layers frozen with ``trainable = False`` are unfrozen for the pass only. ``model`` is modified in
    place and returned: copy it first (``keras.models.clone_model`` + ``set_weights``) to keep the original.

    Examples
    --------
    >>> import numpy as np
    >>> from tlcourse.scratch import digits_cnn
    >>> fe, _ = digits_cnn()
    >>> _ = adabn(fe, np.random.default_rng(0).random((64, 28, 28, 1), dtype="float32"), batch_size=32)
    >>> bool(np.all(fe.layers[1].moving_mean.numpy() != 0))
    True
    """
    layers = _bn_layers(model)
    if not layers:
        return model
    saved = [(layer.momentum, layer.trainable) for layer in layers]
    # Weights of everything else must not move: we only call the model, never an optimizer.
    if isinstance(x_target, np.ndarray):
        batches = tf.data.Dataset.from_tensor_slices(x_target.astype(np.float32)).batch(batch_size)
    else:
        batches = x_target
    try:
        for layer in layers:
            layer.trainable = True
        for k, batch in enumerate(batches):
            images = batch[0] if isinstance(batch, (tuple, list)) else batch
            for layer in layers:
                # new = momentum * old + (1 - momentum) * batch: with momentum k/(k+1) this is the
                # running mean of the k+1 batch statistics seen so far.
                layer.momentum = k / (k + 1.0)
            model(images, training=True)
    finally:
        for layer, (momentum, trainable) in zip(layers, saved):
            layer.momentum = momentum
            layer.trainable = trainable
    return model
