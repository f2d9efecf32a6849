"""The checks of 03_fine_tuning pass right answers and explain wrong ones (small Keras models, no weights)."""

import keras
import numpy as np
import pytest

from tlcourse.models import unfreeze_top
from tlcourse_exercises import fine_tuning as ex

# Keras builds its "Unknown variable" message from a variable's repr inside a trace, which NumPy 2 warns about:
# third-party code about third-party code, raised only on that error path.
UNKNOWN_VARIABLE_REPR = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

X = np.random.default_rng(0).uniform(0, 255, size=(40, 8, 8, 3)).astype("float32")
Y = np.arange(40) % 2


def _base():
    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="c1"),
                             keras.layers.BatchNormalization(name="bn1"), keras.layers.Conv2D(4, 3, name="c2"),
                             keras.layers.BatchNormalization(name="bn2")], name="base")


def _phase_one(base, trainable=False, units=2, activation="softmax", rescale=True, training=False, pool=True,
               softmax_layer=False):
    base.trainable = trainable
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Rescaling(1 / 127.5, -1)(inp) if rescale else inp
    h = base(h, training=False) if training is False else base(h)
    z = keras.layers.GlobalAveragePooling2D()(h) if pool else keras.layers.Flatten()(h)
    if softmax_layer:
        return keras.Model(inp, keras.layers.Softmax()(keras.layers.Dense(units)(z)))
    return keras.Model(inp, keras.layers.Dense(units, activation=activation)(z))


def _compile(model, lr):
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy")
    return model


# ---- exercise 1


@pytest.mark.parametrize("kwargs", [{}, {"softmax_layer": True}], ids=["softmax activation", "Softmax layer"])
def test_phase_one_accepts_a_frozen_base(kwargs):
    base = _base()
    res = ex.check_phase_one(_phase_one(base, **kwargs), base)
    assert res, str(res)


@pytest.mark.parametrize("kwargs, words", [({"trainable": True}, "still has trainable"),
                                           ({"units": 3}, "two classes"),
                                           ({"activation": None}, "not probabilities"),
                                           ({"activation": "sigmoid"}, "not probabilities"),
                                           ({"rescale": False}, "raw pixels"),
                                           ({"training": None}, "without training=False"),
                                           ({"pool": False}, "no pooling")],
                         ids=["trainable", "3 units", "logits", "sigmoid", "no rescaling", "no training=False",
                              "flatten"])
def test_phase_one_explains_mistakes(kwargs, words):
    base = _base()
    res = ex.check_phase_one(_phase_one(base, **kwargs), base)
    assert not res and words in str(res), str(res)


def test_phase_one_rejects_none_and_a_model_without_the_base():
    base = _base()
    assert "you have not answered yet" in str(ex.check_phase_one(None, base))
    assert "answer1 is a str, not a keras.Model" in str(ex.check_phase_one("answer1", base))
    other = _phase_one(_base())
    assert "not inside" in str(ex.check_phase_one(other, base))


# ---- exercise 2


def test_phase_two_passes_a_model_compiled_after_unfreezing():
    base = _base()
    model = _compile(_phase_one(base), 1e-3)
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0)  # phase 1 trained
    unfreeze_top(base, from_layer="c2")
    _compile(model, 1e-4)
    res = ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")
    assert res, str(res)
    assert "one training step moves the unfrozen layers" in str(res)


def test_phase_two_passes_a_model_compiled_before_unfreezing_that_never_trained():
    """Keras 3 builds the training step at the first fit, not at compile: the unfrozen layers will train."""
    base = _base()
    model = _compile(_phase_one(base), 1e-4)
    unfreeze_top(base, from_layer="c2")
    assert ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")


def _trained_then_unfrozen_by_hand():
    """Phase 1 trained, then the top of the base unfrozen and the rate lowered in place, without compile."""
    base = _base()
    model = _compile(_phase_one(base), 1e-3)
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    unfreeze_top(base, from_layer="c2")
    model.optimizer.learning_rate.assign(1e-4)
    return base, model


@UNKNOWN_VARIABLE_REPR
def test_phase_two_refuses_a_model_that_trained_before_unfreezing_and_was_not_compiled_again():
    """The pitfall 03 measures: phase 1 trained, the base unfrozen, the rate lowered by hand, no compile."""
    base, model = _trained_then_unfrozen_by_hand()
    assert base.get_layer("c2").trainable  # the flags look right...
    res = ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")
    assert not res and "training step was built when it first trained" in str(res), str(res)
    assert "compile(...) again" in str(res)


def test_phase_two_sees_the_old_training_step_update_the_head_only():
    """When the check's step reuses the old trace (same batch shape), the evidence is weights that did not move."""
    base = _base()
    model = _compile(_phase_one(base), 1e-3)
    model.train_on_batch(X[:2], Y[:2])  # phase 1, on batches the size of the check's
    unfreeze_top(base, from_layer="c2")
    model.optimizer.learning_rate.assign(1e-4)
    res = ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")
    assert not res and "did not move them" in str(res), str(res)


@UNKNOWN_VARIABLE_REPR
def test_phase_two_refuses_a_recompile_with_the_phase_one_optimizer():
    base, model = _trained_then_unfrozen_by_hand()
    model.compile(model.optimizer, "sparse_categorical_crossentropy")
    res = ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")
    assert not res and "the optimizer knows only the phase-1 weights" in str(res), str(res)


def test_phase_two_check_leaves_weights_and_optimizer_as_they_were():
    base = _base()
    model = _compile(_phase_one(base), 1e-3)
    unfreeze_top(base, from_layer="c2")
    _compile(model, 1e-4)
    model.optimizer.build(model.trainable_variables)
    weights = [w.copy() for w in model.get_weights()]
    state = [v.numpy().copy() for v in model.optimizer.variables]
    assert ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(state, model.optimizer.variables))


def test_phase_two_explains_the_rate_and_the_flags():
    base = _base()
    model = _phase_one(base)
    unfreeze_top(base, from_layer="c2")
    _compile(model, 1e-3)
    assert "learning rate" in str(ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2"))
    _compile(model, 1e-6)
    assert "learning rate is 1e-06" in str(ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2"))
    for layer in base.layers:  # everything trainable (base.trainable = True alone changes nothing: it is True already)
        layer.trainable = True
    res = ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")
    assert not res and "[x] layers below c2 are trainable" in str(res), str(res)
    assert "[x] BatchNormalization layers are trainable" in str(res), str(res)
    unfreeze_top(base, from_layer="bn2")  # one layer too high: c2 stays frozen
    res = ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")
    assert not res and "still frozen" in str(res)
    unfreeze_top(base, from_layer="c2", keep_batchnorm_frozen=False)
    res = ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2")
    assert not res and "BatchNormalization layers are trainable" in str(res)


def test_phase_two_needs_compile_and_the_model_with_the_base():
    base = _base()
    model = _phase_one(base)
    unfreeze_top(base, from_layer="c2")
    assert "not compiled" in str(ex.check_phase_two(model, base, head_lr=1e-3, from_layer="c2"))
    assert "you have not answered yet" in str(ex.check_phase_two(None, base, head_lr=1e-3, from_layer="c2"))
    other = _compile(_phase_one(_base()), 1e-4)
    assert "not inside" in str(ex.check_phase_two(other, base, head_lr=1e-3, from_layer="c2"))
