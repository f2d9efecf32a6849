"""The check of 05_best_practices: a Rescaling model passes; a skipped answer, a Lambda layer, the wrong
scale, a model that does not save or load, and something that is not a model are refused."""

import keras
import pytest

from tlcourse.exercises import best_practices as ex


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
    (lambda m: keras.layers.Rescaling(1 / 127.5, -1.0), "build a keras.Model"),
    (lambda m: _custom(), "load_model(..., safe_mode=True) failed"),
], ids=["none", "the lambda model", "1/255", "no offset", "a layer", "unregistered layer"])
def test_safe_model_refuses(lambda_model, make, words):
    res = ex.check_safe_model(make(lambda_model), lambda_model)
    assert not res and words in str(res), str(res)
