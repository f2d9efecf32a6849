"""Checks for the exercises of 03_fine_tuning."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from tlcourse_exercises.checks import Checker, CheckResult
from tlcourse_exercises.probes import expect_frozen_base_head, expect_outputs, model_around, probe_images, training_step_moves

__all__ = ["check_phase_one", "check_phase_two"]

#: Why a model that trained before its base was unfrozen still trains the head only, and the fix.
_RECOMPILE = ("the model's training step was built when it first trained, before you unfroze the top of new_base, and the "
             "optimizer knows only the phase-1 weights: fit would still update the head only (03's pitfall). Call "
             "compile(...) again after changing trainable, with a new optimizer.")


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
    if not model_around(c, model, base, name="answer1", how="from images to 2 probabilities, around new_base.",
                        missing="new_base is not inside your model: call it on the (rescaled) inputs."):
        return c.result()
    output = expect_frozen_base_head(c, model, base, name="new_base", why=", so that the random head's first, large "
                                     "gradients do not reach the base (03 measures what they cost)")
    if expect_outputs(c, model, 2, name="answer1", fix="two classes need Dense(2, activation='softmax').") and output is not None:
        sums = output.sum(axis=-1)
        c.expect(np.all(output >= 0) and np.allclose(sums, 1, atol=1e-3), f"the outputs are not probabilities (on two images "
                 f"they sum to {np.round(sums, 3).tolist()}): end with Dense(2, activation='softmax'), which 03's compile "
                 "(sparse_categorical_crossentropy) expects.", ok="two softmax outputs: two probabilities that sum to 1")
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
    if not (model_around(c, model, base, name="answer1", how="as in exercise 1, then unfreeze the top of new_base and compile it "
                         "again", missing="new_base is not inside the model you passed: pass answer1, your phase-1 model.")
            and expect_outputs(c, model, 2, name="answer1", fix="pass answer1, your phase-1 model, with its one output.")
            and c.expect(getattr(model, "optimizer", None) is not None, "the model is not compiled: call model.compile(...) "
                         "after changing trainable.")):
        return c.result()
    should = _expect_top_unfrozen(c, base, from_layer)  # the reference: the layers unfreeze_top trains
    lr = float(model.optimizer.learning_rate)  # a variable, or a schedule's current value; float32 rounds it below
    c.expect(head_lr / 100 * (1 - 1e-6) <= lr <= head_lr / 10 * (1 + 1e-6), f"the learning rate is {lr:g}: fine-tune at "
             f"{head_lr / 100:g} to {head_lr / 10:g}, 10-100 times lower than the head's {head_lr:g} (larger steps take the "
             "base further from what it learned).", ok=f"learning rate {lr:g}")
    # Once the flags and the rate are right: does the model's own training step (built when it first trained) move them?
    ran, moved = c.attempt(lambda: training_step_moves(model, probe_images(model, base)), failed="one training step on two "
                           "images raised", hint=f"If it names an unknown variable, {_RECOMPILE}") if c.passed else (False, None)
    if ran:  # against the reference: every layer that should train moved
        still = [l.name for l in should if moved.isdisjoint(map(id, l.trainable_weights))]
        c.expect(not still, f"Keras lists {still[:3]} as trainable, but one training step did not move them: {_RECOMPILE}",
                 ok=f"one training step moves the unfrozen layers ({len(should)} with weights) and nothing below")
    return c.result()


def _expect_top_unfrozen(c: Checker, base: Any, from_layer: str) -> list[Any]:
    """Check the trainable flags against :func:`tlcourse.models.unfreeze_top`'s; return the layers it trains."""
    start, bn = [layer.name for layer in base.layers].index(from_layer), keras.layers.BatchNormalization
    should = [l for l in base.layers[start:] if l.weights and not isinstance(l, bn)]
    below, frozen = [l.name for l in base.layers[:start] if l.trainable_weights], [l.name for l in should if not l.trainable]
    bns = [l.name for l in base.layers if isinstance(l, bn) and l.trainable]
    c.expect(not below, f"layers below {from_layer} are trainable ({below[:3]}): unfreeze the top only, for example "
             f"models.unfreeze_top(new_base, from_layer={from_layer!r}).", ok=f"everything below {from_layer} stays frozen")
    c.expect(not frozen, f"layers from {from_layer} up are still frozen ({frozen[:3]}): new_base.trainable = True first, "
             "then freeze the bottom layer by layer.", ok=f"the layers from {from_layer} up train")
    c.expect(not bns, f"BatchNormalization layers are trainable ({bns[:3]}): keep them frozen on a small data set "
             "(unfreeze_top does that).", ok="BatchNormalization stays frozen")
    return should
