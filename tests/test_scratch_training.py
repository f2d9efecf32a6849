"""tlcourse.scratch (models trained from scratch) and tlcourse.training (timing, fresh starts)."""

import numpy as np
import pytest

from tlcourse import scratch, training


def test_small_cnn_shapes_and_bn_momentum():
    import keras

    m = scratch.small_cnn(3, (32, 32, 3))
    assert m.output_shape == (None, 3)
    bns = [l for l in m.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert bns and all(abs(l.momentum - 0.9) < 1e-9 for l in bns)


@pytest.mark.slow
def test_small_cnn_learns_a_trivial_task():
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0, 60, (40, 16, 16, 3)), rng.uniform(190, 255, (40, 16, 16, 3))]).astype("float32")
    y = np.array([0] * 40 + [1] * 40)
    m = scratch.small_cnn(2, (16, 16, 3), filters=(8, 16))
    m.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    m.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert m.evaluate(x, y, verbose=0)[1] > 0.9


def test_epoch_timer_and_time_to_reach():
    import keras

    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    m.compile("sgd", "mse")
    t = training.EpochTimer()
    m.fit(np.zeros((4, 2)), np.zeros(4), epochs=3, verbose=0, callbacks=[t.callback()])
    assert len(t.times) == 3 and t.times == sorted(t.times)
    assert training.time_to_reach([1, 2], [0.1, 0.9], 0.5, offset=1) == 3.0
    assert training.time_to_reach([1, 2], [0.1, 0.2], 0.5) is None


def test_fresh_start_resets_trainable_layers_and_optimizer_only():
    import keras

    frozen = keras.layers.Dense(3, name="frozen")
    m = keras.Sequential([keras.Input((2,)), frozen, keras.layers.Dense(1, name="head")])
    frozen.trainable = False
    m.compile(keras.optimizers.Adam(1e-2), "mse")
    before_frozen = [w.copy() for w in frozen.get_weights()]
    m.fit(np.ones((8, 2)), np.ones(8) * 5, epochs=3, verbose=0)
    trained = m.layers[-1].get_weights()[0].copy()
    training.fresh_start(m, 0)
    assert int(m.optimizer.iterations) == 0
    assert abs(float(m.optimizer.learning_rate) - 1e-2) < 1e-9
    assert not np.allclose(m.layers[-1].get_weights()[0], trained)
    assert all(np.array_equal(a, b) for a, b in zip(frozen.get_weights(), before_frozen))
    m.fit(np.ones((8, 2)), np.ones(8), epochs=1, verbose=0)  # still trains after the reset


def test_digits_cnn_is_a_feature_extractor_and_a_classifier():
    import keras

    fe, clf = scratch.digits_cnn(feature_dim=16, num_classes=5)
    assert fe.output_shape == (None, 16) and clf.output_shape == (None, 5)
    bns = [l for l in fe.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(bns) == 3 and all(abs(l.momentum - 0.9) < 1e-9 for l in bns)


def test_fresh_start_reaches_layers_inside_a_nested_model():
    import keras

    keras.utils.set_random_seed(1)
    base = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)], name="base")
    base.trainable = False
    m = keras.Sequential([keras.Input((2,)), base, keras.layers.Dense(1, name="head")])
    m.compile(keras.optimizers.Adam(1e-2), "mse")
    m.fit(np.ones((8, 2)), np.ones(8) * 5, epochs=2, verbose=0)
    frozen, trained = base.get_weights(), m.layers[-1].get_weights()
    training.fresh_start(m, 0)
    assert all(np.array_equal(a, b) for a, b in zip(base.get_weights(), frozen))
    assert not np.allclose(m.layers[-1].get_weights()[0], trained[0])
