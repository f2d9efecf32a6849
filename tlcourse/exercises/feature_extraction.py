"""Checks for the exercises of 02_feature_extraction."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

from tlcourse.checks import Checker, CheckResult
from tlcourse.exercises.probes import expect_base_call
from tlcourse.models import all_layers

__all__ = ["check_feature_extractor_model", "check_best_layer"]


def check_feature_extractor_model(model: Any, base: Any, num_classes: int, *, preprocess: Callable | None = None,
                                  show: bool = False) -> CheckResult:
    """Exercise 1: ``model`` = input, preprocessing, frozen ``base`` in inference mode, pooling, dropout, dense head.

    The model runs on two random images: the base must receive them preprocessed (``preprocess``, default
    MobileNetV2's ``x / 127.5 - 1``) and be called with ``training=False``.

    Examples
    --------
    >>> import keras
    >>> base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    >>> base.trainable = False
    >>> inp = keras.Input((8, 8, 3))
    >>> h = base(keras.layers.Rescaling(1 / 127.5, offset=-1)(inp), training=False)
    >>> h = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(h))
    >>> check_feature_extractor_model(keras.Model(inp, keras.layers.Dense(3)(h)), base, 3).passed
    True
    >>> print(check_feature_extractor_model(None, base, 3))
    Exercise 1: a feature-extraction model: NOT YET
      [x] you have not answered yet: build fe_model, ...
    """

    c = Checker("Exercise 1: a feature-extraction model")
    if not c.model_given(model, name="fe_model", how="with the functional API: keras.Input -> Rescaling -> "
                                                "fe_base(x, training=False) -> pooling -> dropout -> Dense"):
        return c.result(show=show)
    layers = all_layers(model)
    inside = any(layer is base for layer in layers)
    c.expect(inside, "the model does not contain `fe_base` (a new base, or the one of section 2?): call "
                     "fe_base(x, training=False) inside it.", ok="contains the pretrained base")
    c.expect(not base.trainable_weights, "the base has trainable weights: set fe_base.trainable = False before "
                                         "compile.", ok="base frozen")
    if inside:
        expect_base_call(c, model, base, preprocess=preprocess)
    kinds = {type(layer).__name__ for layer in layers}
    c.expect(bool(kinds & {"GlobalAveragePooling2D", "GlobalMaxPooling2D"}),
             "no global pooling layer: add keras.layers.GlobalAveragePooling2D() after the base.", ok="global pooling")
    c.expect("Dropout" in kinds, "no Dropout layer: add keras.layers.Dropout(0.2) before the dense layer.",
             ok="dropout")
    c.expect(tuple(model.output_shape)[1:] == (num_classes,),
             f"output shape {model.output_shape}, expected (None, {num_classes}): one output per class.",
             ok=f"{num_classes} outputs")
    n_trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    c.expect(0 < n_trainable < 100_000, f"{n_trainable:,} trainable parameters: only the dense head should train.",
             ok=f"{n_trainable:,} trainable parameters (the head)")
    return c.result(show=show)


def check_best_layer(answer: Any, probe: Mapping[str, float], *, show: bool = False) -> CheckResult:
    """Exercise 2: the name of the layer whose linear probe scored best (any of them, on a tie).

    Examples
    --------
    >>> check_best_layer("b", {"a": 0.5, "b": 0.7}).passed
    True
    >>> print(check_best_layer(0.7, {"a": 0.5, "b": 0.7}))
    Exercise 2: which layer to take features from: NOT YET
      [x] 0.7 is an accuracy: give the layer's name, a key of `probe` (for example 'a').
    """
    c = Checker("Exercise 2: which layer to take features from")
    if not c.given(answer, "put the name of a layer (a key of `probe`) in best_layer."):
        return c.result(show=show)
    names = list(probe)
    best = max(probe.values())
    if isinstance(answer, (tuple, list)) and answer and answer[0] in probe:
        c.expect(False, f"{answer!r} is a pair: give the name alone, {answer[0]!r}.")
        return c.result(show=show)
    if isinstance(answer, numbers.Real):
        c.expect(False, f"{answer!r} is an accuracy: give the layer's name, a key of `probe` (for example "
                        f"{names[0]!r}).")
        return c.result(show=show)
    name = str(answer).strip()
    c.expect(name in probe, f"{answer!r} is not one of the probed layers {names}.", ok="a probed layer")
    if name in probe:
        top = [n for n in names if probe[n] == best]
        c.expect(probe[name] == best,
                 f"{name!r} scored {probe[name]:.3f}, but {top[0]!r} scored {best:.3f}: read the highest accuracy "
                 "in `probe` (max(probe, key=probe.get)).",
                 ok=f"{name!r} is the best ({best:.3f}); the first layer ({names[0]!r}, {probe[names[0]]:.3f}) "
                    "sees edges and colours, too generic to tell flowers apart")
    return c.result(show=show)
