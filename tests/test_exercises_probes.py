"""What the checks observe of an answer (tlcourse_exercises.probes): the calls of a base inside a model, the
weights one training step moves, the course's code inside a learner's function; and that they put back what
they touch."""

import functools

import keras
import numpy as np

from tlcourse_exercises import probes


def _base_and_model(training=False):
    base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()], name="b")
    inp = keras.Input((4,))
    h = keras.layers.Rescaling(0.5)(inp)
    h = base(h, training=False) if training is False else base(h)
    return base, keras.Model(inp, keras.layers.Dropout(0.5)(h))


def test_watch_calls_sees_the_inputs_and_the_flag_and_restores_call():
    base, model = _base_and_model()
    x = np.full((2, 4), 4.0, "float32")
    calls, out = probes.watch_calls(model, base, x)
    assert len(calls) == 1 and calls[0].training is False and np.allclose(calls[0].inputs, 2.0)
    assert out.shape == (2, 3) and "call" not in vars(base)
    base2, bare = _base_and_model(training=None)
    assert probes.watch_calls(bare, base2, x)[0][0].training is None


def test_watch_calls_in_training_mode_puts_the_batchnorm_statistics_back():
    base, model = _base_and_model(training=None)
    base.trainable = True  # BatchNormalization would move its statistics in training mode
    before = [w.copy() for w in model.get_weights()]
    probes.watch_calls(model, base, np.random.default_rng(0).normal(size=(8, 4)).astype("float32"), training=True)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_training_step_moves_only_what_trains_and_puts_everything_back():
    base, model = _base_and_model()
    base.layers[0].trainable = False
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    moved = probes.training_step_moves(model, np.random.default_rng(0).normal(size=(2, 4)).astype("float32"))
    assert not any(id(v) in moved for v in base.layers[0].weights)
    assert all(id(v) in moved for v in base.layers[1].trainable_weights)
    assert int(model.optimizer.iterations) == 0


def test_training_step_moves_with_a_one_hot_loss():
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    m.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy")
    assert len(probes.training_step_moves(m, np.ones((2, 3), "float32"))) == 2


def _target(x):
    return x


def _learner_helper(x):
    return _target(x)


def test_course_code_in_follows_partials_helpers_and_closures():
    targets = {"target": _target}
    assert probes.course_code_in(_target, targets) == "target"
    assert probes.course_code_in(functools.partial(_target), targets) == "target"
    assert probes.course_code_in(lambda x: _learner_helper(x), targets) == "target"
    inner = _target

    def closure(x):
        return inner(x)

    assert probes.course_code_in(closure, targets) == "target"
    assert probes.course_code_in(lambda x: np.mean(x), targets) is None
    assert probes.course_code_in(np.mean, targets) is None


def test_probe_images_fill_unknown_sizes():
    m = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Rescaling(1.0)])
    x = probes.probe_images(m, None)
    assert x.shape == (2, 32, 32, 3) and 0 <= x.min() and x.max() <= 255
