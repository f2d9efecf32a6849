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
    if not (c.model_given(model, name="answer1", how="from images to 2 probabilities, around new_base.")
            and c.require(contains(model, base), "new_base is not inside your model: call it on the (rescaled) inputs.")):
        return c.result()
    head, pooling = _n_params(model.trainable_weights), (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)
    c.expect(not base.trainable_weights, "the base still has trainable weights: set new_base.trainable = False before "
             "training the head, so that the random head's first, large gradients do not reach the base (03 measures what "
             "they cost).", ok="the base is frozen")
    c.expect(0 < head < 100_000, f"the model has {head:,} trainable parameters: only the new head (pooling + Dense) should "
                                 "train.", ok=f"only the head trains ({head:,} parameters)")
    c.expect(any(isinstance(layer, pooling) for layer in all_layers(model)), "no pooling after the base: add keras.layers."
             "GlobalAveragePooling2D() (a Flatten gives the head thousands of position-bound inputs).", ok="global pooling")
    output = expect_base_call(c, model, base)  # the model's outputs on two images, None when it did not run (said so)
    if output is not None:
        shape, sums = tuple(getattr(model, "output_shape", output.shape)), output.sum(axis=-1).astype(float)
        c.expect(shape[1:] == (2,) and bool(np.all(output >= 0) and np.allclose(sums, 1, atol=1e-3)),
                 f"the output has shape {shape}: two classes need Dense(2, activation='softmax')." if shape[1:] != (2,) else
                 f"the outputs are not probabilities (on two images they sum to {np.round(sums, 3).tolist()}): end with "
                 "Dense(2, activation='softmax'), which 03's compile (sparse_categorical_crossentropy) expects.",
                 ok="two softmax outputs: two probabilities that sum to 1")
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
    names, bn = [layer.name for layer in base.layers], keras.layers.BatchNormalization
    if not (c.given(model, "unfreeze the top of new_base, compile answer1 again, and pass it in.")
            and c.require(isinstance(model, keras.Model), f"pass answer1, your phase-1 keras.Model, not {type(model).__name__}.")
            and c.require(contains(model, base), "new_base is not inside the model you passed: pass answer1, your phase-1 model.")
            and c.require(from_layer in names, f"the base has no layer {from_layer!r}.")):
        return c.result()
    start = names.index(from_layer)  # the reference: unfreeze_top(new_base, from_layer) trains the layers of `should`
    should = [l for l in base.layers[start:] if l.weights and not isinstance(l, bn)]
    below, frozen = [l.name for l in base.layers[:start] if l.trainable_weights], [l.name for l in should if not l.trainable]
    bns = [l.name for l in base.layers if isinstance(l, bn) and l.trainable]
    c.expect(not below, f"layers below {from_layer} are trainable ({below[:3]}): unfreeze the top only, for example "
             f"models.unfreeze_top(new_base, from_layer={from_layer!r}).", ok=f"everything below {from_layer} stays frozen")
    c.expect(not frozen, f"layers from {from_layer} up are still frozen ({frozen[:3]}): new_base.trainable = True first, "
             "then freeze the bottom layer by layer.", ok=f"the layers from {from_layer} up train")
    c.expect(not bns, f"BatchNormalization layers are trainable ({bns[:3]}): keep them frozen on a small data set "
             "(unfreeze_top does that).", ok="BatchNormalization stays frozen")
    outputs, optimizer = len(getattr(model, "outputs", None) or [None]), getattr(model, "optimizer", None)
    if not (c.require(outputs == 1, f"the model has {outputs} outputs: pass answer1, your phase-1 model, with its one "
                                    "output of 2 probabilities.")
            and c.require(optimizer is not None, "the model is not compiled: call model.compile(...) after changing trainable.")):
        return c.result()
    lr = float(optimizer.learning_rate)  # a variable, or a schedule's current value
    c.expect(head_lr / 100 * (1 - 1e-6) <= lr <= head_lr / 10 * (1 + 1e-6),  # float32 rounding of the rate
             f"the learning rate is {lr:g}: fine-tune at {head_lr / 100:g} to {head_lr / 10:g}, 10-100 times lower than the "
             f"head's {head_lr:g} (larger steps take the base further from what it learned).", ok=f"learning rate {lr:g}")
    if not c.passed:
        return c.result()
    try:  # the flags are right: does the model's own training step (built when it first trained) move those layers?
        moved, evidence = training_step_moves(model, probe_images(model, base)), "did not move them"
    except Exception as err:  # noqa: BLE001 - report the learner's model's error, do not crash the check
        if "Unknown variable" not in str(err):  # else a new trace of the old step met an optimizer of the head only
            c.expect(False, f"one training step on two images raised {type(err).__name__}: {err}")
            return c.result()
        moved, evidence = set(), "failed: the optimizer knows only the phase-1 weights"
    trains = [l for l in should if l.trainable_weights]
    still = [l.name for l in trains if not any(id(v) in moved for v in l.trainable_weights)]
    c.expect(not still, f"one training step did not move {still[:3]}: compile again after changing trainable."
             if len(still) < len(trains) else f"Keras lists the layers from {from_layer} up as trainable, but the model's "
             "training step was built when it first trained, before you unfroze them: fit would still update the head only "
             f"(03's pitfall; here one training step {evidence}). Call compile(...) again after changing trainable, with a new "
             "optimizer.", ok=f"one training step moves the unfrozen layers ({len(trains)} with weights) and nothing below")
    return c.result()
