"""The checks of 05_best_practices.

Exercise 1: gentle shifts pass; a skipped answer, a flip, a rotation that turns digits round, a layer that
changes the digits at inference, one that changes nothing, and something that is not a layer are refused.
Exercise 2: a Rescaling model passes; a skipped answer, a Lambda layer, the wrong scale, a model that does
not save or load, and something that is not a model are refused."""

import keras
import numpy as np
import pytest

from tlcourse_exercises import best_practices as ex


@pytest.fixture(scope="module")
def lambda_model():
    inp = keras.Input((4, 4, 3))
    return keras.Model(inp, keras.layers.Lambda(lambda t: t / 127.5 - 1.0)(inp))


def _rescaling(scale, offset=0.0):
    inp = keras.Input((4, 4, 3))
    return keras.Model(inp, keras.layers.Rescaling(scale, offset=offset)(inp))


class Unregistered(keras.layers.Layer):
    """A layer of the notebook's own, not registered: it saves, but safe mode cannot find its class."""

    def call(self, x):
        return x / 127.5 - 1.0


def _custom():
    inp = keras.Input((4, 4, 3))
    return keras.Model(inp, Unregistered()(inp))


def test_safe_model_passes(lambda_model):
    res = ex.check_safe_model(_rescaling(1 / 127.5, -1.0), lambda_model)
    assert res, str(res)


@pytest.mark.parametrize("make, words", [
    (lambda m: None, "you have not answered yet"),
    (lambda m: m, "Lambda layer(s)"),
    (lambda m: _rescaling(1 / 255), "the outputs differ"),
    (lambda m: _rescaling(1 / 127.5), "the outputs differ"),
    (lambda m: keras.layers.Rescaling(1 / 127.5, -1.0), "not a keras.Model: build it as a keras.Model"),
    (lambda m: _custom(), "load_model(..., safe_mode=True) failed"),
], ids=["none", "the lambda model", "1/255", "no offset", "a layer", "unregistered layer"])
def test_safe_model_refuses(lambda_model, make, words):
    res = ex.check_safe_model(make(lambda_model), lambda_model)
    assert not res and words in str(res), str(res)


def _blobs():
    """Digits of a toy world: ink on the left is class 0, ink on the right class 1."""
    x = np.zeros((60, 16, 16, 1), "float32")
    x[:30, 6:10, 1:5] = 1.0
    x[30:, 6:10, 11:15] = 1.0
    return x, np.array([0] * 30 + [1] * 30)


def _judge(images):
    images = np.asarray(images)
    return np.stack([images[:, :, :8].sum((1, 2, 3)), images[:, :, 8:].sum((1, 2, 3))], axis=1)


def test_gentle_shifts_pass():
    keras.utils.set_random_seed(0)
    x, y = _blobs()
    good = keras.Sequential([keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
                             keras.layers.RandomRotation(0.03, fill_mode="constant")])
    res = ex.check_augmentation(good, _judge, x, y)
    assert res, str(res)


@pytest.mark.parametrize("make, words", [
    (lambda: None, "you have not answered yet"),
    (lambda: keras.layers.RandomFlip("horizontal"), "flips the digits"),
    (lambda: keras.Sequential([keras.layers.RandomTranslation(0.1, 0.1), keras.layers.RandomFlip("horizontal")]),
     "flips the digits"),
    (lambda: keras.layers.RandomRotation(0.5, fill_mode="constant"), "changes what many digits are"),
    (lambda: keras.layers.Rescaling(0.5), "at inference (training=False) my_augmentation changes"),
    (lambda: keras.layers.Identity(), "leaves the digits (almost) unchanged"),
    (lambda: keras.layers.RandomTranslation(0.0, 0.0), "leaves the digits (almost) unchanged"),
    (lambda: (lambda images: images), "give a Keras layer"),
], ids=["none", "flip", "flip inside", "half-turn rotations", "rescaling", "identity", "zero strength",
        "a function"])
def test_augmentation_refuses(make, words):
    keras.utils.set_random_seed(0)
    x, y = _blobs()
    res = ex.check_augmentation(make(), _judge, x, y)
    assert not res and words in str(res), str(res)
