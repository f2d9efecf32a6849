"""Layer-wise learning rates (training.DiscriminativeAdam), splitting a base, timing and sizes (measure)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tlcourse import measure, models, training


def _two_layer_model() -> keras.Model:
    inputs = keras.Input((3,))
    x = keras.layers.Dense(4, name="low")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="high")(x))


def _step(model: keras.Model, optimizer: keras.optimizers.Optimizer) -> dict[str, float]:
    before = {v.path: np.array(v) for v in model.trainable_variables}
    model.compile(optimizer, "mse")
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    model.fit(x, np.ones((16, 2), "float32"), epochs=1, batch_size=16, verbose=0)
    return {v.path: float(np.abs(np.array(v) - before[v.path]).max()) for v in model.trainable_variables}


def test_layerwise_rates_scale_adams_first_step():
    keras.utils.set_random_seed(0)
    model = _two_layer_model()
    moved = _step(model, training.DiscriminativeAdam(0.01, multipliers={"low": 0.1}))
    # Adam's first step moves every weight by about the learning rate, whatever the gradient's size
    assert moved["low/kernel"] == pytest.approx(0.001, rel=0.05)
    assert moved["high/kernel"] == pytest.approx(0.01, rel=0.05)


def test_factor_zero_freezes_a_layer_and_first_match_wins():
    keras.utils.set_random_seed(0)
    model = _two_layer_model()
    opt = training.DiscriminativeAdam(0.01, multipliers={"low/kernel": 0.0, "low": 0.5})
    moved = _step(model, opt)
    assert moved["low/kernel"] == 0.0 and moved["low/bias"] > 0
    assert opt.multiplier_for("something/else") == 1.0


def test_optimizer_config_round_trips():
    opt = training.DiscriminativeAdam(0.002, multipliers={"a": 0.5}, default=0.9)
    again = training.DiscriminativeAdam.from_config(opt.get_config())
    assert again.multipliers == {"a": 0.5} and again.default == 0.9


def test_split_at_reproduces_the_base_and_refuses_a_skip_connection():
    inputs = keras.Input((4,))
    a = keras.layers.Dense(4, name="a")(inputs)
    b = keras.layers.Dense(4, name="b")(a)
    c = keras.layers.Dense(4, name="c")(b)
    d = keras.layers.Dense(2, name="d")(keras.layers.Add(name="add")([a, c]))
    base = keras.Model(inputs, d)
    bottom, top = models.split_at(base, "d")
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(np.array(top(bottom(x))), np.array(base(x)), atol=1e-6)
    with pytest.raises(ValueError):  # Keras's "not connected" or ours
        models.split_at(base, "c")  # the skip a -> add jumps over c's input


def test_images_per_second_and_file_size(tmp_path):
    (tmp_path / "f.bin").write_bytes(b"x" * 2_000_000)
    assert measure.file_size_mb(tmp_path / "f.bin") == pytest.approx(2.0)
    assert measure.file_size_mb(tmp_path) == pytest.approx(2.0)
    assert measure.images_per_second(lambda: None, 100) > 1000
