"""Checks for the exercises of 05_best_practices."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tlcourse.checks import Checker, CheckResult
from tlcourse.models import all_layers

__all__ = ["check_safe_model"]


def check_safe_model(model: Any, reference: Any) -> CheckResult:
    """Exercise 1: a model without a ``Lambda`` layer that loads in safe mode and computes what ``reference`` does.

    Parameters
    ----------
    model
        The learner's model (Keras), to be saved and loaded with ``safe_mode=True``.
    reference
        The model with the ``Lambda`` layer; both get the same random images in [0, 255].

    Examples
    --------
    >>> import keras
    >>> inp = keras.Input((4, 4, 3))
    >>> good = keras.Model(inp, keras.layers.Rescaling(1 / 127.5, -1)(inp))
    >>> check_safe_model(good, good).passed
    True
    >>> print(check_safe_model(None, good))
    Exercise 1: a model that loads in safe mode: NOT YET
      [x] you have not answered yet: build safe_model...
    """
    import keras

    c = Checker("Exercise 1: a model that loads in safe mode")
    if not c.given(model, "build safe_model, the same computation as lambda_model without a Lambda layer."):
        return c.result()
    if not isinstance(model, keras.Model):
        c.expect(False, f"safe_model is a {type(model).__name__}: build a keras.Model (for example with "
                        "keras.Model(inputs, outputs)).")
        return c.result()
    lambdas = [layer.name for layer in all_layers(model) if isinstance(layer, keras.layers.Lambda)]
    c.expect(not lambdas, f"the model still has Lambda layer(s) {lambdas}: use keras.layers.Rescaling instead.",
             ok="no Lambda layer")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        ran, _ = c.attempt(lambda: model.save(path), failed="model.save(...) failed:")
        if not ran:
            return c.result()
        ran, loaded = c.attempt(lambda: keras.saving.load_model(path, safe_mode=True),
                                failed="keras.saving.load_model(..., safe_mode=True) failed:",
                                hint="" if lambdas else "A layer class of your own must be registered "
                                     "(keras.saving.register_keras_serializable); a built-in layer needs nothing.")
        if not ran:
            return c.result()
    c.expect(True, "", ok="saved and loaded with safe_mode=True")
    shape = tuple(int(d) for d in reference.input_shape[1:])
    x = np.random.default_rng(0).uniform(0, 255, size=(2,) + shape).astype("float32")
    ran, same = c.attempt(lambda: np.allclose(np.asarray(loaded(x)), np.asarray(reference(x)), atol=1e-4),
                          failed=f"the loaded model does not take the reference's input {shape}:")
    if not ran:
        return c.result()
    c.expect(same, "the outputs differ from the Lambda model's: check the scale and offset of the rescaling "
                   "(x / 127.5 - 1 is scale 1/127.5, offset -1).", ok="same outputs as the Lambda model")
    return c.result()
