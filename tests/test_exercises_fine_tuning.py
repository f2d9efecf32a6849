"""The checks of 03_fine_tuning pass right answers and explain wrong ones (small Keras models, no weights)."""

import keras
import pytest

from tlcourse.exercises import fine_tuning as ex
from tlcourse.models import unfreeze_top


def _base():
    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="c1"),
                             keras.layers.BatchNormalization(name="bn1"), keras.layers.Conv2D(4, 3, name="c2"),
                             keras.layers.BatchNormalization(name="bn2")], name="base")


def _phase_one(base, trainable=False, units=2, activation="softmax"):
    base.trainable = trainable
    inp = keras.Input((8, 8, 3))
    z = keras.layers.GlobalAveragePooling2D()(base(inp, training=False))
    return keras.Model(inp, keras.layers.Dense(units, activation=activation)(z))


def test_phase_one_accepts_a_frozen_base():
    base = _base()
    assert ex.check_phase_one(_phase_one(base), base)


@pytest.mark.parametrize("kwargs, words", [({"trainable": True}, "still has trainable"),
                                           ({"units": 3}, "two classes"),
                                           ({"activation": None}, "softmax")])
def test_phase_one_explains_mistakes(kwargs, words):
    base = _base()
    res = ex.check_phase_one(_phase_one(base, **kwargs), base)
    assert not res and words in str(res)


def test_phase_one_rejects_none_and_a_model_without_the_base():
    base = _base()
    assert not ex.check_phase_one(None, base)
    other = _phase_one(_base())
    assert "not inside" in str(ex.check_phase_one(other, base))


def test_phase_two():
    base = _base()
    model = _phase_one(base)
    unfreeze_top(base, from_layer="c2")
    model.compile(keras.optimizers.Adam(1e-4), "sparse_categorical_crossentropy")
    assert ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    assert "learning rate" in str(ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2"))
    base.trainable = True
    res = ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")
    assert not res and "below c2" in str(res) and "BatchNormalization" in str(res)


def test_phase_two_needs_compile():
    base = _base()
    model = _phase_one(base)
    unfreeze_top(base, from_layer="c2")
    assert "not compiled" in str(ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2"))
