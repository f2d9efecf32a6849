"""Checks for the exercises of 03_fine_tuning."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from tlcourse.checks import Checker, CheckResult
from tlcourse.exercises.probes import contains, expect_base_call, probe_images, training_step_moves
from tlcourse.models import all_layers

__all__ = ["check_phase_one", "check_phase_two"]


def _n_params(weights: Any) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def check_phase_one(model: Any, base: Any) -> CheckResult:
    """Exercise 1: a phase-1 model: preprocessing, ``base`` frozen and called with ``training=False``, pooling,
    two softmax outputs, only the head trainable.

    Introduced in 03_fine_tuning.

    Examples
    --------
    >>> import keras
    >>> base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    >>> inp = keras.Input((8, 8, 3))
    >>> z = keras.layers.GlobalAveragePooling2D()(base(keras.layers.Rescaling(1 / 127.5, -1)(inp), training=False))
    >>> model = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(z))
    >>> check_phase_one(model, base).passed  # the base still trains
    False
    >>> base.trainable = False
    >>> check_phase_one(model, base).passed
    True
    >>> print(check_phase_one(None, base))
    Exercise 1: phase 1, the head on a frozen base: NOT YET
      [x] you have not answered yet: build answer1...
    """
    c = Checker("Exercise 1: phase 1, the head on a frozen base")
    if not c.given(model, "build answer1, a keras.Model from images to 2 probabilities around new_base."):
        return c.result()
    if not isinstance(model, keras.Model):
        c.expect(False, "answer1 should be a keras.Model from images to 2 probabilities (it is "
                        f"{type(model).__name__}).")
        return c.result()
    inside = contains(model, base)
    c.expect(inside, "new_base is not inside your model: call it on the (rescaled) inputs.",
             ok="the base is part of the model")
    c.expect(not base.trainable and not base.trainable_weights,
             "the base still has trainable weights: set new_base.trainable = False before training the head, "
             "so that the random head's first, large gradients do not reach the base (03 measures what they cost).",
             ok="the base is frozen")
    output = expect_base_call(c, model, base) if inside else None
    kinds = {type(layer).__name__ for layer in all_layers(model)}
    c.expect(bool(kinds & {"GlobalAveragePooling2D", "GlobalMaxPooling2D"}),
             "no pooling after the base: add keras.layers.GlobalAveragePooling2D() (a Flatten gives the head "
             "thousands of position-bound inputs).", ok="average pooling")
    head = _n_params(model.trainable_weights)
    c.expect(0 < head < 100_000,
             f"the model has {head:,} trainable parameters: only the new head (pooling + Dense) should train.",
             ok=f"only the head trains ({head:,} parameters)")
    ran, shape = c.attempt(lambda: tuple(model.output_shape), failed="answer1 has no output shape yet:",
                           hint="Start it with keras.Input(...), the size of the images, as the functional API does.")
    if ran:
        c.expect(shape[1:] == (2,), f"the output has shape {shape}: two classes need Dense(2, activation='softmax').",
                 ok="two outputs")
    if output is not None and output.shape[-1:] == (2,):
        sums = output.sum(axis=-1)
        c.expect(bool(np.all(output >= 0) and np.allclose(sums, 1, atol=1e-3)),
                 f"the outputs are not probabilities (on two images they sum to {np.round(sums, 3).tolist()}): end "
                 "with Dense(2, activation='softmax'), which 03's compile (sparse_categorical_crossentropy, "
                 "from probabilities) expects.", ok="softmax outputs: two probabilities that sum to 1")
    return c.result()


def check_phase_two(model: Any, base: Any, *, head_lr: float, from_layer: str) -> CheckResult:
    """Exercise 2: the top of ``base`` unfrozen from ``from_layer``, BN frozen, recompiled at a lower rate.

    Introduced in 03_fine_tuning.

    The flags are not the whole story: Keras builds a model's training step from the weights that were
    trainable when it first trained, so a model that trained before its base was unfrozen and was not
    compiled again still updates the head only (03 measures it). So the check also runs one step of the
    model's own training step on two random images, and sees which weights moved (and puts them back).

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
    c = Checker("Exercise 2: phase 2, the top of the base unfrozen")
    if not c.given(model, "unfreeze the top of new_base, compile answer1 again, and pass it in."):
        return c.result()
    if not isinstance(model, keras.Model):
        c.expect(False, f"pass your phase-1 model (a keras.Model), not {type(model).__name__}.")
        return c.result()
    if not contains(model, base):
        c.expect(False, "new_base is not inside the model you passed: pass answer1, your phase-1 model.")
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
    n_outputs = len(getattr(model, "outputs", None) or [None])
    if n_outputs != 1:
        c.expect(False, f"the model has {n_outputs} outputs: pass answer1, your phase-1 model, with its one output of "
                        "2 probabilities.")
        return c.result()
    opt = getattr(model, "optimizer", None)
    if opt is None:
        c.expect(False, "the model is not compiled: call model.compile(...) after changing trainable.")
        return c.result()
    rate = opt.learning_rate  # a variable (or, with a schedule, the current value)
    lr = float(rate.numpy() if hasattr(rate, "numpy") else rate)
    c.expect(head_lr / 100 * (1 - 1e-6) <= lr <= head_lr / 10 * (1 + 1e-6),  # float32 rounding of the rate
             f"the learning rate is {lr:g}: for fine-tuning use {head_lr / 100:g} to {head_lr / 10:g} "
             f"(10-100 times lower than the head's {head_lr:g}): larger updates move the base further from what it "
             "learned (03 measures how far).",
             ok=f"learning rate {lr:g}, {head_lr / lr:.0f} times lower than the head's")
    if not c.passed:
        return c.result()
    _expect_training_moves(c, model, base, start)
    return c.result()


def _expect_training_moves(c: Checker, model: Any, base: Any, start: int) -> None:
    """One step of the model's own training step: the unfrozen layers of ``base`` move, the others do not."""
    bn = keras.layers.BatchNormalization
    should = [l for l in base.layers[start:] if l.trainable_weights and not isinstance(l, bn)]
    stale = (f"Keras lists {should[0].name} to {should[-1].name} as trainable, but the model's training step was "
             "built when it first trained, before you unfroze them: fit would still update the head only (03's "
             "pitfall; here one training step {evidence}). Call compile(...) again after changing trainable, with "
             "a new optimizer.")
    try:
        moved = training_step_moves(model, probe_images(model, base))
    except ValueError as err:
        if "Unknown variable" not in str(err):
            raise
        # A new trace of the old step meets an optimizer built for the head's weights only.
        c.expect(False, stale.format(evidence="failed: the optimizer knows only the phase-1 weights"))
        return
    except Exception as err:  # noqa: BLE001 - report the learner's model's error, do not crash the check
        c.expect(False, f"one training step on two images raised {type(err).__name__}: {err}")
        return

    def moves(layer: Any) -> bool:
        return any(id(v) in moved for v in layer.trainable_weights)

    still = [l.name for l in should if not moves(l)]
    drifted = [l.name for l in base.layers if any(id(v) in moved for v in l.weights) and l not in should]
    if len(still) == len(should):
        c.expect(False, stale.format(evidence="did not move them"))
        return
    c.expect(not still, f"one training step did not move {still[:3]}: compile again after changing trainable.")
    c.expect(not drifted, f"one training step changed frozen layers {drifted[:3]} (BatchNormalization statistics?): "
                          "keep them frozen.")
    if not still and not drifted:
        c.expect(True, "", ok=f"one training step moves the unfrozen layers ({len(should)} with weights) and nothing "
                              "below")
