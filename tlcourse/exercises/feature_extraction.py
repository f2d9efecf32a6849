"""Checks for the exercises of 02_feature_extraction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tlcourse.checks import Checker, CheckResult
from tlcourse.models import all_layers

__all__ = ["check_feature_extractor_model", "check_best_layer"]


def check_feature_extractor_model(model: Any, base: Any, num_classes: int, *, show: bool = False) -> CheckResult:
    """Exercise 1: ``model`` = frozen ``base`` + pooling + dropout + dense head with ``num_classes`` outputs.

    Examples
    --------
    >>> check_feature_extractor_model(None, None, 2).passed
    False
    """
    import keras

    c = Checker("Exercise 1: a feature-extraction model")
    if not isinstance(model, keras.Model):
        c.expect(False, "build `fe_model` as a keras.Model (functional API: keras.Input -> base -> head).")
        return c.result(show=show)
    layers = all_layers(model)
    c.expect(any(layer is base for layer in layers), "the model does not contain `base`: call base(x, training=False) "
                                                    "inside it.", ok="contains the pretrained base")
    c.expect(not base.trainable_weights, "the base has trainable weights: set base.trainable = False before compile.",
             ok="base frozen")
    kinds = {type(layer).__name__ for layer in layers}
    c.expect(bool(kinds & {"GlobalAveragePooling2D", "GlobalMaxPooling2D"}),
             "no global pooling layer: add keras.layers.GlobalAveragePooling2D() after the base.", ok="global pooling")
    c.expect("Dropout" in kinds, "no Dropout layer: add keras.layers.Dropout(0.2) before the dense layer.",
             ok="dropout")
    c.expect(tuple(model.output_shape) == (None, num_classes),
             f"output shape {model.output_shape}, expected (None, {num_classes}).", ok=f"{num_classes} outputs")
    n_trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    c.expect(0 < n_trainable < 100_000, f"{n_trainable:,} trainable parameters: only the dense head should train.",
             ok=f"{n_trainable:,} trainable parameters (the head)")
    return c.result(show=show)


def check_best_layer(answer: Any, probe: Mapping[str, float], *, show: bool = False) -> CheckResult:
    """Exercise 2: the layer name whose linear probe scored best, and why the earliest one did not.

    Examples
    --------
    >>> check_best_layer("b", {"a": 0.5, "b": 0.7}).passed
    True
    """
    c = Checker("Exercise 2: which layer to take features from")
    best = max(probe, key=probe.get)
    c.expect(answer in probe, f"{answer!r} is not one of the probed layers {list(probe)}.", ok="a probed layer")
    if answer in probe:
        c.expect(answer == best, f"{answer!r} scored {probe[answer]:.3f}, but {best!r} scored {probe[best]:.3f}: "
                                 "read the highest accuracy from `probe`.",
                 ok=f"{best!r} is the best ({probe[best]:.3f}); the first layer ({list(probe)[0]!r}, "
                    f"{probe[list(probe)[0]]:.3f}) sees edges and colours, too generic to tell flowers apart")
    return c.result(show=show)
