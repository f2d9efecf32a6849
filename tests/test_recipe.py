"""Lesson 06's recipe in plain Keras (tlcourse/recipe.py, generated from the lesson's cells tagged export)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tlcourse import recipe


def tiny_base():
    """Two convolutions with BatchNormalization between them: a stand-in for an ImageNet base."""
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="low"),
                             keras.layers.BatchNormalization(name="bn"), keras.layers.Conv2D(4, 3, name="high")],
                            name="base")


def images(n=32, seed=0, flip_labels=False):
    """A batched dataset of random images and labels, as the lesson's pipeline gives."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 255, (n, 8, 8, 3)).astype("float32"), rng.integers(0, 2, n)
    return tf.data.Dataset.from_tensor_slices((x, 1 - y if flip_labels else y)).batch(8)


def weights(layer):
    return [w.copy() for w in layer.get_weights()]


def changed(before, layer):
    return any(not np.array_equal(a, b) for a, b in zip(before, layer.get_weights()))


def test_phase_one_trains_the_head_only():
    base = tiny_base()
    model = recipe.classifier(2, base, image_size=8, augment=keras.layers.RandomFlip("horizontal"))
    assert [layer.name for layer in model.layers][-3:] == ["pool", "dropout", "classifier"]
    before = {layer.name: weights(layer) for layer in base.layers}
    head = weights(model.get_layer("classifier"))
    train = images()
    history = recipe.train_head(model, base, train, train, epochs=2)
    assert len(history.history["loss"]) == 2
    assert not any(changed(before[layer.name], layer) for layer in base.layers)  # BN statistics included
    assert changed(head, model.get_layer("classifier"))


def after_phase_one():
    """A tiny base, its classifier and the training images, after one epoch of the head."""
    base = tiny_base()
    model = recipe.classifier(2, base, image_size=8)
    train = images()
    recipe.train_head(model, base, train, train, epochs=1)
    return base, model, train


def test_phase_two_moves_the_top_only_and_keeps_batchnorm_statistics():
    base, model, train = after_phase_one()
    before = {layer.name: weights(layer) for layer in base.layers}
    recipe.fine_tune(model, base, train, train, epochs=2, learning_rate=1e-3, from_layer="high", patience=None)
    assert changed(before["high"], base.get_layer("high"))
    assert not changed(before["low"], base.get_layer("low"))
    assert not changed(before["bn"], base.get_layer("bn"))  # frozen, so in inference mode: no drift


def test_phase_two_unfreezes_everything_but_batchnorm_by_default_and_stops_early():
    base, model, train = after_phase_one()
    before = {layer.name: weights(layer) for layer in base.layers}
    # a validation set the model cannot learn: its loss stops improving, and early stopping ends the run
    history = recipe.fine_tune(model, base, train, images(seed=1, flip_labels=True), epochs=50, learning_rate=1e-2,
                               patience=1)
    assert len(history.history["loss"]) < 50
    assert changed(before["low"], base.get_layer("low")) and changed(before["high"], base.get_layer("high"))
    assert not changed(before["bn"], base.get_layer("bn"))


def test_an_unknown_layer_is_refused():
    base = tiny_base()
    model = recipe.classifier(2, base, image_size=8)
    train = images()
    with pytest.raises(ValueError):
        recipe.fine_tune(model, base, train, train, epochs=1, from_layer="no_such_layer")


def test_only_definitions_are_exported_from_a_lesson():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import nbbuild

    def lesson(code):
        return {"cells": [{"cell_type": "code", "metadata": {"tags": ["export"]}, "source": [code]}]}

    text = nbbuild.exported_module({"06_x": lesson("RATE = 1e-4\n\n\ndef f(model):\n    return model\n")})
    assert '__all__ = ["f"]' in text and "def f(model):" in text and "06_x" in text
    with pytest.raises(ValueError, match="may only define"):
        nbbuild.exported_module({"06_x": lesson("model.fit(x, y)\n")})


def test_phase_two_unfreezes_a_base_cut_out_of_another():
    # In Keras 3, `trainable = True` on a functional model made from another model's inner tensors does not
    # reach its layers; the capstone fine-tunes exactly such a model (models.split_at's top).
    from tlcourse.models import split_at

    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="low")(inp)
    x = keras.layers.BatchNormalization(name="bn")(x)
    base = keras.Model(inp, keras.layers.Conv2D(4, 3, name="high")(x), name="base")
    _, top = split_at(base, "bn")
    features = keras.Input(top.input_shape[1:])
    head = keras.Model(features, keras.layers.Dense(2, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(top(features, training=False))))
    base.trainable = False
    acts = tf.data.Dataset.from_tensor_slices((np.random.default_rng(0).normal(size=(16, 6, 6, 4)).astype("float32"),
                                               np.arange(16) % 2)).batch(8)
    high = weights(base.get_layer("high"))
    recipe.fine_tune(head, top, acts, acts, epochs=1, learning_rate=1e-2, patience=None)
    assert changed(high, base.get_layer("high"))
    assert not base.get_layer("bn").trainable
