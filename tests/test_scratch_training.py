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


def test_epoch_timer_records_one_increasing_time_an_epoch():
    import keras

    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    m.compile("sgd", "mse")
    t = training.EpochTimer()
    m.fit(np.zeros((4, 2)), np.zeros(4), epochs=3, verbose=0, callbacks=[t])
    assert len(t.times) == 3 and t.times == sorted(t.times)


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


def test_fresh_start_makes_a_run_independent_of_the_runs_before_it():
    """05 reuses one compiled model per configuration: a seed's run must not depend on the runs before it,
    random layers (dropout, augmentation) included."""
    import keras

    def cnn():
        aug = keras.Sequential([keras.layers.RandomTranslation(0.2, 0.2), keras.layers.RandomRotation(0.1)])
        m = scratch.tiny_digits_cnn(augmentation=aug, dropout=0.5, filters=(2, 2), hidden=4)
        m.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return m

    x = np.random.default_rng(0).random((16, 28, 28, 1)).astype("float32")
    y = np.arange(16) % 10

    def run(m, seed):
        training.fresh_start(m, seed)
        return m.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history["loss"]

    alone = run(cnn(), 0)
    reused = cnn()
    other = run(reused, 1)
    assert run(reused, 0) == alone  # after another seed's run on the same compiled model
    assert other != alone


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


def test_tiny_digits_cnn_names_its_parts_and_puts_the_augmentation_first():
    import keras

    keras.utils.set_random_seed(0)
    shift = keras.layers.RandomTranslation(0.2, 0.2, fill_mode="constant")
    m = scratch.tiny_digits_cnn(5, augmentation=shift, dropout=0.5)
    assert m.output_shape == (None, 5) and m.layers[0] is shift
    assert m.get_layer("flatten").output.shape == (None, 800)
    assert m.get_layer("dropout").rate == 0.5 and m.get_layer("logits").dtype_policy.compute_dtype == "float32"
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in m.layers)
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    # the augmentation acts in training only: at inference the model sees the images themselves
    without = keras.Sequential(m.layers[1:])
    np.testing.assert_allclose(np.asarray(m(x, training=False)), np.asarray(without(x, training=False)), atol=1e-6)
    convolutions = keras.Model(m.inputs, m.get_layer("flatten").output)
    assert convolutions.output_shape == (None, 800)


def test_linear_probe_head_is_the_classifier_as_a_dense_layer():
    import keras

    rng = np.random.default_rng(1)
    f = np.abs(rng.normal(size=(120, 6))) + np.repeat(np.eye(4, 6) * 2, 30, axis=0)
    f[:, 5] = 1e-4 * rng.normal(size=120)  # a nearly constant feature must not get a huge weight
    y = np.repeat(np.arange(4), 30)
    clf, head = training.linear_probe(f[::2], y[::2], f[1::2], y[1::2], cs=(0.1, 1.0))
    dense = keras.layers.Dense(4, activation="softmax")
    dense.build((None, 6))
    dense.set_weights(head)
    assert np.allclose(dense(f).numpy(), clf.predict_proba(f), atol=1e-4)
    assert clf[-1].C in (0.1, 1.0) and np.abs(head[0][5]).max() < 10 * np.abs(head[0][:5]).max()


def test_linear_probe_of_two_classes_is_a_two_unit_softmax_layer():
    import keras

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    f = rng.normal(size=(40, 3)) + 2 * y[:, None]
    clf, head = training.linear_probe(f[::2], y[::2], f[1::2], y[1::2])
    dense = keras.layers.Dense(2, activation="softmax")
    dense.build((None, 3))
    dense.set_weights(head)
    assert head[0].shape == (3, 2) and not head[0][:, 0].any()
    np.testing.assert_allclose(dense(f).numpy(), clf.predict_proba(f), atol=1e-4)


def test_reset_optimizer_and_weight_distance():
    import keras

    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    m.compile(keras.optimizers.Adam(1e-2), "mse")
    w0 = m.get_weights()
    m.fit(np.ones((8, 2)), np.full(8, 5.0), epochs=3, verbose=0)
    assert training.weight_distance(m.get_weights(), w0) > 0 and training.weight_distance(w0, w0) == 0
    training.reset_optimizer(m, 1e-3)
    assert int(m.optimizer.iterations) == 0 and abs(float(m.optimizer.learning_rate) - 1e-3) < 1e-9
    assert all(not np.any(v.numpy()) for v in m.optimizer.variables if "learning_rate" not in v.path)
