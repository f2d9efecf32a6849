"""tlcourse.adapt: gradient reversal, CORAL, AdaBN, and one training step of each model."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from tlcourse import adapt, scratch  # noqa: E402
from tlcourse.models import all_layers  # noqa: E402


def bn_layers(model):
    """The model's BatchNormalization layers, each once (what adabn re-estimates)."""
    found = {id(layer): layer for layer in all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)}
    return list(found.values())


def bn_statistics(model):
    """``{layer path: (moving_mean, moving_variance)}`` of every BatchNormalization layer."""
    return {
        layer.moving_mean.path: (np.array(layer.moving_mean.numpy()), np.array(layer.moving_variance.numpy()))
        for layer in bn_layers(model)
    }


def test_adapt_exposes_every_name_it_lists():
    assert all(getattr(adapt, name) is not None for name in adapt.__all__)
    assert adapt.GradientReversal.__module__ == "tlcourse.adapt.layers"


def test_gradient_reversal_is_identity_forward_and_negated_scaled_gradient_backward():
    layer = adapt.GradientReversal(0.3)
    x = tf.constant(np.random.default_rng(0).normal(size=(5, 4)).astype("float32"))
    w = tf.constant(np.random.default_rng(1).normal(size=(5, 4)).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = layer(x)
        reversed_loss = tf.reduce_sum(w * y)
        identity_loss = tf.reduce_sum(w * tf.identity(x))
    np.testing.assert_allclose(y.numpy(), x.numpy())
    g_rev = tape.gradient(reversed_loss, x).numpy()
    g_id = tape.gradient(identity_loss, x).numpy()
    np.testing.assert_allclose(g_rev, -0.3 * g_id, rtol=1e-6)
    # The coefficient is a variable: ramping it changes the gradient without a new layer.
    layer.coefficient.assign(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(w * layer(x))
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), -2.0 * g_id, rtol=1e-6)


def test_gradient_reversal_works_inside_a_compiled_function():
    layer = adapt.GradientReversal(1.0)

    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(3.0 * layer(x))
        return tape.gradient(loss, x)

    np.testing.assert_allclose(grad(tf.ones((2, 3))).numpy(), -3.0 * np.ones((2, 3)))


def test_dann_schedule_ramps_from_zero_to_one():
    values = [adapt.dann_schedule(p) for p in np.linspace(0, 1, 11)]
    assert values[0] == pytest.approx(0.0)
    assert values[-1] == pytest.approx(1.0, abs=1e-4)
    assert all(b > a for a, b in zip(values, values[1:]))
    assert float(adapt.dann_schedule(tf.constant(0.5))) == pytest.approx(adapt.dann_schedule(0.5), rel=1e-6)


def test_coral_is_zero_for_identical_data_and_grows_with_covariance_shift():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 8)).astype("float32")
    assert float(adapt.coral_loss(x, x)) == pytest.approx(0.0, abs=1e-9)
    # A shift of the mean alone leaves the covariance, hence CORAL, unchanged.
    assert float(adapt.coral_loss(x, x + 5.0)) == pytest.approx(0.0, abs=1e-6)
    losses = [float(adapt.coral_loss(x, s * x)) for s in (1.0, 1.5, 2.0, 3.0)]
    assert losses[0] == pytest.approx(0.0, abs=1e-9)
    assert all(b > a for a, b in zip(losses, losses[1:])), losses
    # Against NumPy's covariance: ||C_s - C_t||_F^2 / (4 d^2).
    y = rng.normal(size=(300, 8)).astype("float32") @ rng.normal(size=(8, 8)).astype("float32")
    expected = np.sum((np.cov(x, rowvar=False) - np.cov(y, rowvar=False)) ** 2) / (4 * 8**2)
    assert float(adapt.coral_loss(x, y)) == pytest.approx(expected, rel=1e-4)


def test_coral_align_gives_source_the_target_covariance():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(2000, 4))
    mix = rng.normal(size=(4, 4))
    target = rng.normal(size=(2000, 4)) @ mix + 2.0
    aligned = adapt.coral_align(source, target, eps=1e-6)
    np.testing.assert_allclose(np.cov(aligned.T), np.cov(target.T), atol=1e-3)
    np.testing.assert_allclose(aligned.mean(0), target.mean(0), atol=1e-4)
    assert not np.allclose(np.cov(source.T), np.cov(target.T), atol=0.1)  # there was something to align


def test_adabn_reaches_batchnorm_inside_a_two_domain_model():
    # DeepCORAL holds its extractor as an attribute: the layer walk must find the BN layers there.
    keras.utils.set_random_seed(0)
    fe, clf = scratch.digits_cnn(feature_dim=16)
    model = adapt.DeepCORAL(fe, clf)
    model(np.zeros((2, 28, 28, 1), "float32"))
    assert len(bn_layers(model)) == 3
    before = bn_statistics(fe)
    adapt.adabn(model, np.random.default_rng(2).random((64, 28, 28, 1), dtype="float32"), batch_size=32)
    after = bn_statistics(fe)
    assert all(not np.allclose(before[k][0], after[k][0]) for k in before)


def _weights_by_path(model):
    return {v.path: np.array(v.numpy()) for v in model.weights}


def test_adabn_changes_only_batchnorm_statistics():
    keras.utils.set_random_seed(0)
    fe, clf = scratch.digits_cnn(feature_dim=16)
    model = keras.Sequential([fe, clf])
    rng = np.random.default_rng(0)
    model(rng.random((4, 28, 28, 1), dtype="float32"))
    before = _weights_by_path(model)
    stats_paths = {v.path for layer in bn_layers(model) for v in (layer.moving_mean, layer.moving_variance)}
    assert len(stats_paths) == 6
    target = (0.5 + rng.random((96, 28, 28, 1), dtype="float32")).astype("float32")
    adapt.adabn(model, target, batch_size=32)
    after = _weights_by_path(model)
    changed = {p for p in before if not np.allclose(before[p], after[p])}
    assert changed == stats_paths
    # The first BN layer's moving mean is now the mean of its inputs over the target data.
    conv, bn = fe.layers[0], fe.layers[1]
    expected = np.mean(conv(target).numpy(), axis=(0, 1, 2))
    np.testing.assert_allclose(bn.moving_mean.numpy(), expected, rtol=1e-4, atol=1e-5)
    # Momentum and trainability are restored.
    assert bn.momentum == pytest.approx(0.9) and bn.trainable


def test_adabn_reaches_batchnorm_frozen_in_a_frozen_base():
    keras.utils.set_random_seed(0)
    fe, _ = scratch.digits_cnn(feature_dim=16)
    fe.trainable = False
    fe(np.zeros((2, 28, 28, 1), "float32"))
    before = bn_statistics(fe)
    adapt.adabn(fe, np.random.default_rng(1).random((64, 28, 28, 1), dtype="float32"))
    after = bn_statistics(fe)
    assert all(not np.allclose(before[k][0], after[k][0]) for k in before)
    assert not any(layer.trainable for layer in fe.layers)


@pytest.fixture(scope="module")
def tiny_domains():
    rng = np.random.default_rng(0)
    xs = rng.random((64, 28, 28, 1), dtype="float32")
    ys = rng.integers(0, 10, 64)
    xt = (0.5 * rng.random((64, 28, 28, 1), dtype="float32") + 0.3).astype("float32")
    return xs, ys, xt


@pytest.mark.slow
@pytest.mark.parametrize("method", ["DANN", "DeepCORAL"])
def test_each_model_trains_and_its_losses_are_finite(method, tiny_domains):
    xs, ys, xt = tiny_domains
    keras.utils.set_random_seed(0)
    fe, clf = scratch.digits_cnn(feature_dim=16)
    if method == "DANN":
        dc = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
        model = adapt.DANN(fe, clf, dc, total_steps=4, coefficient=0.5)
    else:
        model = adapt.DeepCORAL(fe, clf, coral_weight=10.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    kernel_before = np.array(fe.layers[0].kernel.numpy())
    history = model.fit(adapt.domain_dataset(xs, ys, xt, batch_size=16), steps_per_epoch=2, epochs=2, verbose=0)
    logs = history.history
    assert "class_loss" in logs and ("domain_acc" in logs if method == "DANN" else "coral_loss" in logs)
    for name, values in logs.items():
        assert np.all(np.isfinite(values)), (name, values)
    assert not np.allclose(kernel_before, fe.layers[0].kernel.numpy())
    assert model(xs[:3]).shape == (3, 10)
    if method == "DANN":
        # After 4 of 4 steps the reversal's coefficient is 0.5 x the full ramp.
        assert float(model.reversal.coefficient.numpy()) == pytest.approx(0.5 * adapt.dann_schedule(3 / 4), rel=1e-4)
        assert 0.0 <= logs["domain_acc"][-1] <= 1.0


@pytest.mark.parametrize(("joint_batch", "mean"), [(False, 10.0), (True, 5.0)])
def test_joint_batch_decides_whether_batchnorm_mixes_the_domains(joint_batch, mean):
    """Source inputs 0, target 10; a BatchNormalization of momentum 0 keeps the last batch's mean: the
    target's after two calls, the two domains' after one call on both (the benchmark's ablation)."""
    bn = keras.layers.BatchNormalization(momentum=0.0)
    fe = keras.Sequential([keras.Input((2,)), bn])
    model = adapt.DeepCORAL(fe, keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]), coral_weight=0.0,
                            joint_batch=joint_batch)
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    xs, xt = np.zeros((4, 2), "float32"), np.full((4, 2), 10.0, "float32")
    model.fit(tf.data.Dataset.from_tensors(((xs, xt), np.zeros(4, "int64"))), epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(bn.moving_mean.numpy(), [mean, mean])


def test_dann_reversal_pushes_features_against_the_domain_classifier(tiny_domains):
    """With the reversal, the extractor's gradient from the domain loss is the negative of plain training's."""
    xs, ys, xt = tiny_domains
    keras.utils.set_random_seed(0)
    fe, clf = scratch.digits_cnn(feature_dim=8)
    dc = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    layer = adapt.GradientReversal(1.0)
    x = tf.concat([xs[:8], xt[:8]], 0)
    labels = tf.concat([tf.ones((8, 1)), tf.zeros((8, 1))], 0)
    grads = []
    for head in (lambda f: dc(f), lambda f: dc(layer(f))):
        with tf.GradientTape() as tape:
            loss = bce(labels, head(fe(x, training=False)))
        grads.append(tape.gradient(loss, fe.layers[0].kernel).numpy())
    np.testing.assert_allclose(grads[1], -grads[0], rtol=1e-5, atol=1e-8)


def test_domain_dataset_shapes_and_shift():
    x = np.zeros((20, 28, 28, 1), "float32")
    x[:, 14, 14] = 1.0
    y = np.arange(20)
    xb, yb = next(iter(adapt.domain_dataset(x, y, batch_size=8, shift=2, seed=0)))
    assert xb.shape == (8, 28, 28, 1) and yb.shape == (8,)
    # Each image still holds its one bright pixel, moved by at most 2 px, and not all in the same place.
    positions = [tuple(np.argwhere(img[..., 0] == 1.0)[0]) for img in xb.numpy()]
    assert all(abs(r - 14) <= 2 and abs(c - 14) <= 2 for r, c in positions)
    assert len(set(positions)) > 1
    xb0, _ = next(iter(adapt.domain_dataset(x, y, batch_size=8, shift=0)))
    assert np.all(xb0.numpy()[:, 14, 14] == 1.0)


def test_accuracy_and_bn_statistics():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, use_bias=False)])
    model.layers[0].kernel.assign(np.eye(2, dtype="float32"))
    x = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], "float32")
    assert adapt.accuracy(model, x, np.array([0, 1, 0, 0])) == pytest.approx(0.75)
    assert bn_statistics(model) == {}


def test_correct_marks_each_example():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, use_bias=False)])
    model.layers[0].kernel.assign(np.eye(2, dtype="float32"))
    x = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], "float32")
    np.testing.assert_array_equal(adapt.correct(model, x, np.array([0, 1, 0, 0])), [True, True, True, False])


def test_with_own_statistics_normalises_by_the_batch_and_leaves_the_model_unchanged():
    keras.utils.set_random_seed(0)
    fe, _ = scratch.digits_cnn(feature_dim=16)
    rng = np.random.default_rng(0)
    fe(rng.random((4, 28, 28, 1), dtype="float32"))
    before = _weights_by_path(fe)
    x = (0.5 * rng.random((64, 28, 28, 1), dtype="float32")).astype("float32")
    own = adapt.with_own_statistics(fe, x, batch_size=64)
    assert all(np.array_equal(before[p], v) for p, v in _weights_by_path(fe).items())   # nothing moved
    assert fe.layers[1].momentum == pytest.approx(0.9) and fe.layers[1].trainable
    # One batch under its own statistics is what AdaBN on that batch, then inference, computes.
    adapted = keras.models.clone_model(fe)
    adapted.set_weights(fe.get_weights())
    adapt.adabn(adapted, x, batch_size=64)
    np.testing.assert_allclose(own, adapted(x, training=False).numpy(), rtol=1e-3, atol=1e-3)
    assert not np.allclose(own, fe(x, training=False).numpy(), atol=1e-2)   # the moving statistics differ
