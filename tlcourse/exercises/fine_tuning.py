"""Checks for the exercises of 03_fine_tuning."""

from __future__ import annotations

from typing import Any

import numpy as np

from tlcourse.checks import Checker, CheckResult
from tlcourse.models import all_layers

__all__ = ["check_phase_one", "check_phase_two"]


def _n_params(weights: Any) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def check_phase_one(model: Any, base: Any) -> CheckResult:
    """Exercise 1: a phase-1 model, ``base`` inside it and frozen, two softmax outputs, only the head trainable.

    Examples
    --------
    >>> import keras
    >>> base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    >>> base.trainable = False
    >>> inp = keras.Input((8, 8, 3))
    >>> z = keras.layers.GlobalAveragePooling2D()(base(inp, training=False))
    >>> check_phase_one(keras.Model(inp, keras.layers.Dense(2, activation="softmax")(z)), base).passed
    True
    """
    import keras

    c = Checker("Exercise 1: phase 1, the head on a frozen base")
    if not isinstance(model, keras.Model):
        c.expect(False, "answer1 should be a keras.Model from images to 2 probabilities (it is "
                        f"{type(model).__name__}).")
        return c.result()
    c.expect(any(layer is base for layer in all_layers(model)),
             "new_base is not inside your model: call it on the (rescaled) inputs.", ok="the base is part of the model")
    c.expect(not base.trainable and not base.trainable_weights,
             "the base still has trainable weights: set new_base.trainable = False before training the head, "
             "or its features are wrecked by the random head's gradients.", ok="the base is frozen")
    head = _n_params(model.trainable_weights)
    c.expect(0 < head < 100_000,
             f"the model has {head:,} trainable parameters: only the new head (pooling + Dense) should train.",
             ok=f"only the head trains ({head:,} parameters)")
    shape = tuple(model.output_shape)
    c.expect(shape[-1] == 2, f"the output has shape {shape}: two classes need Dense(2, activation='softmax').",
             ok="two outputs")
    last = model.layers[-1]
    act = getattr(getattr(last, "activation", None), "__name__", "")
    c.expect(act == "softmax", f"the last layer's activation is {act or 'missing'}: use softmax so the model "
                               "outputs probabilities (or compile with from_logits=True).", ok="softmax outputs")
    return c.result()


def check_phase_two(model: Any, base: Any, *, head_lr: float, from_layer: str) -> CheckResult:
    """Exercise 2: the top of ``base`` unfrozen from ``from_layer``, BN frozen, recompiled at a lower rate.

    Examples
    --------
    >>> import keras
    >>> base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="a"),
    ...                          keras.layers.BatchNormalization(name="bn"), keras.layers.Dense(2, name="b")])
    >>> m = keras.Sequential([keras.Input((4,)), base])
    >>> from tlcourse.models import unfreeze_top
    >>> _ = unfreeze_top(base, from_layer="bn")
    >>> m.compile(keras.optimizers.Adam(1e-4), "mse")
    >>> check_phase_two(m, base, head_lr=1e-3, from_layer="bn").passed
    True
    """
    import keras

    c = Checker("Exercise 2: phase 2, the top of the base unfrozen")
    if not isinstance(model, keras.Model):
        c.expect(False, f"pass your phase-1 model (a keras.Model), not {type(model).__name__}.")
        return c.result()
    names = [layer.name for layer in base.layers]
    if from_layer not in names:
        c.expect(False, f"the base has no layer {from_layer!r}.")
        return c.result()
    start = names.index(from_layer)
    bn = keras.layers.BatchNormalization
    below = [l.name for l in base.layers[:start] if l.trainable_weights]
    above = [l.name for l in base.layers[start:] if l.weights and not isinstance(l, bn) and not l.trainable]
    bns = [l.name for l in base.layers if isinstance(l, bn) and l.trainable]
    c.expect(not below, f"layers below {from_layer} are trainable ({below[:3]}...): unfreeze the top only, "
                        f"for example models.unfreeze_top(new_base, from_layer={from_layer!r}).",
             ok=f"everything below {from_layer} stays frozen")
    c.expect(not above, f"layers from {from_layer} up are still frozen ({above[:3]}): base.trainable = True "
                        "first, then freeze the bottom layer by layer.", ok=f"the layers from {from_layer} up train")
    c.expect(not bns, f"BatchNormalization layers are trainable ({bns[:3]}): keep them frozen on a small data "
                      "set (unfreeze_top does that).", ok="BatchNormalization stays frozen")
    opt = getattr(model, "optimizer", None)
    if opt is None:
        c.expect(False, "the model is not compiled: call model.compile(...) after changing trainable.")
        return c.result()
    lr = float(keras.ops.convert_to_numpy(opt.learning_rate))
    c.expect(head_lr / 100 - 1e-12 <= lr <= head_lr / 10 + 1e-12,
             f"the learning rate is {lr:g}: for fine-tuning use {head_lr / 100:g} to {head_lr / 10:g} "
             f"(10-100 times lower than the head's {head_lr:g}), or the large updates wreck the pretrained features.",
             ok=f"learning rate {lr:g}, {head_lr / lr:.0f} times lower than the head's")
    return c.result()
