"""Checks for the exercises of 05_best_practices."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import keras
import numpy as np

from tlcourse.models import all_layers
from tlcourse_exercises.checks import Checker, CheckResult

__all__ = ["check_augmentation", "check_safe_model"]


def check_safe_model(model: Any, reference: Any) -> CheckResult:
    """Exercise 2: a model without a ``Lambda`` layer that loads in safe mode and computes what ``reference`` does.

    Introduced in 05_best_practices.

    ``model`` is saved, loaded with ``safe_mode=True`` and run on the random images in [0, 255] that
    ``reference``, the model with the ``Lambda`` layer, gets too.

    Examples
    --------
    >>> import keras
    >>> inp = keras.Input((4, 4, 3))
    >>> good = keras.Model(inp, keras.layers.Rescaling(1 / 127.5, -1)(inp))
    >>> check_safe_model(good, good).passed
    True
    >>> print(check_safe_model(None, good))
    Exercise 2: a model that loads in safe mode: NOT YET
      [x] you have not answered yet: build safe_model...
    """
    c = Checker("Exercise 2: a model that loads in safe mode")
    if not (c.model_given(model, name="safe_model", how="computing what lambda_model does, without a Lambda layer.")
            and c.expect(not (lambdas := [l.name for l in all_layers(model) if isinstance(l, keras.layers.Lambda)]),
                          f"the model still has Lambda layer(s) {lambdas}: use keras.layers.Rescaling instead.")):
        return c.result()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        ran, loaded = c.attempt(lambda: model.save(path) or keras.saving.load_model(path, safe_mode=True),
                                failed="model.save(...), then keras.saving.load_model(..., safe_mode=True) failed:",
                                hint="A layer class of your own must be registered "
                                     "(keras.saving.register_keras_serializable); a built-in layer needs nothing.")
    x = np.random.default_rng(0).uniform(0, 255, size=(2, *reference.input_shape[1:])).astype("float32")
    ran, out = c.attempt(lambda: np.asarray(loaded(x)), failed=f"the loaded model does not take the reference's input "
                                                                f"{x.shape[1:]}:") if ran else (False, None)
    if ran:  # its outputs against the Lambda model's, and against what the usual slips give
        c.expect_close(out, np.asarray(reference(x)), {": they are x / 255": x / 255, ": they are x / 127.5": x / 127.5},
                       said="the outputs differ from the Lambda model's", otherwise="", atol=1e-4, then=": check the "
                       "rescaling's scale and offset (x / 127.5 - 1 is scale 1/127.5, offset -1).", ok="saved, loaded with "
                       "safe_mode=True: same outputs as the Lambda model")
    return c.result()


def check_augmentation(augmentation: Any, judge: Any, images: np.ndarray, labels: np.ndarray, *,
                       tolerance: float = 0.35) -> CheckResult:
    """Exercise 1: an augmentation for digits: random in training, nothing at inference, and a digit stays that digit.

    Introduced in 05_best_practices.

    ``judge``, a model trained on many digits (one score per class), must recognise the augmented
    ``images`` (digits it did not train on) nearly as well as the originals, or the augmentation changed
    what they are (a 6 turned half round is a 9). ``tolerance`` is how much lower its accuracy may be:
    measured on 05's judge, shifts of 10% with rotations of 15 degrees cost about 0.28, rotations of up
    to 90 degrees or shifts of 30% 0.49 or more, hence 0.35.

    Examples
    --------
    >>> import keras
    >>> x = np.zeros((40, 16, 16, 1), "float32"); x[:20, 6:10, 1:5] = 1; x[20:, 6:10, 11:15] = 1
    >>> y = np.array([0] * 20 + [1] * 20)
    >>> def judge(images):  # ink on the left: class 0; on the right: class 1
    ...     images = np.asarray(images)
    ...     return np.stack([images[:, :, :8].sum((1, 2, 3)), images[:, :, 8:].sum((1, 2, 3))], axis=1)
    >>> check_augmentation(keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"), judge, x, y).passed
    True
    >>> print(check_augmentation(keras.layers.RandomFlip("horizontal"), judge, x, y).passed)
    False
    """
    c, x = Checker("Exercise 1: an augmentation that keeps a digit a digit"), np.asarray(images, "float32")
    run = {"name": "my_augmentation", "shape": x.shape, "how": "give back images of the shape given (random layers do).",
           "failed": "running my_augmentation on a batch of digits raised", "unwritten": False}
    if (c.given(augmentation, "build my_augmentation, a keras.Sequential of random layers (shifts, small rotations, zoom).")
            and c.expect(isinstance(augmentation, keras.layers.Layer), f"my_augmentation is a {type(augmentation).__name__}: "
                         "give a Keras layer, for example keras.Sequential([keras.layers.RandomTranslation(0.1, 0.1), ...]).")
            and (at_inference := c.output(lambda: augmentation(x, training=False), **run)) is not None
            and (trained := c.output(lambda: augmentation(x, training=True), **run)) is not None):
        flips = [l.name for l in [augmentation, *all_layers(augmentation)] if isinstance(l, keras.layers.RandomFlip)]
        clean, augmented = (float(np.mean(np.asarray(judge(v)).argmax(1) == labels)) for v in (x, trained))  # the reference first
        # what is wrong, and what to do -> whether the outputs show it
        c.expect_none_of({f"{flips} flips the digits: a mirrored 3 is no digit and contradicts its label. Leave them out.": flips,
            "at inference (training=False) my_augmentation changes the digits: it must leave them alone, as random layers do "
            "(Rescaling or a fixed transform do not).": not np.allclose(at_inference, x, atol=1e-5),
            "in training my_augmentation leaves the digits (almost) unchanged: use random layers of a non-zero strength, for "
            "example RandomTranslation(0.1, 0.1).": np.abs(trained - x).mean() <= 1e-3,
            f"a model trained on many digits recognises {augmented:.2f} of your augmented digits, {clean:.2f} of the originals: "
            "it changes what many digits are (a shift too far, a rotation over about 20 degrees): make it gentler.":
                augmented < clean - tolerance},
            ok=f"random in training, nothing at inference, the same digits ({augmented:.2f} recognised, {clean:.2f} before)")
    return c.result()
