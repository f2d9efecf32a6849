import keras
import matplotlib
import numpy as np
import pytest

from tlcourse import features, plots
from tlcourse_exercises import checks

matplotlib.use("Agg")


@pytest.fixture
def tiny_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])


def test_extract_features_from_array_and_dataset(tiny_model):
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(10, 4)).astype("float32")
    a = features.extract_features(tiny_model, x, batch_size=3)
    ds = tf.data.Dataset.from_tensor_slices((x, np.zeros(10))).batch(4)
    b = features.extract_features(tiny_model, ds)
    assert a.shape == (10, 3) and np.allclose(a, b, atol=1e-5)


def test_cached_features_are_computed_once_then_read_from_disk(tiny_model, tmp_path, monkeypatch):
    x = np.ones((5, 4), "float32")
    first = features.cached_features(tiny_model, x, name="t", cache_dir=tmp_path, verbose=False)
    assert len(list(tmp_path.glob("t-*.npy"))) == 1
    features.clear_memory_cache()
    monkeypatch.setattr(features, "extract_features", lambda *a, **k: pytest.fail("recomputed"))
    again = features.cached_features(tiny_model, x, name="t", cache_dir=tmp_path, verbose=False)
    assert np.array_equal(first, again)


def test_fingerprint_changes_with_weights_and_inputs(tiny_model):
    x = np.ones((2, 4), "float32")
    f0 = features.fingerprint(tiny_model, x)
    assert f0 == features.fingerprint(tiny_model, x)
    assert f0 != features.fingerprint(tiny_model, x * 2)
    tiny_model.layers[0].kernel.assign(tiny_model.layers[0].kernel * 2)
    assert f0 != features.fingerprint(tiny_model, x)


def test_learning_curves_one_or_several_runs():
    h = {"loss": [1.0, 0.5], "val_loss": [1.2, 0.8], "accuracy": [0.5, 0.7], "val_accuracy": [0.4, 0.6]}
    fig = plots.learning_curves(h)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    fig = plots.learning_curves({"a": h, "b": h}, metrics=["loss"])
    assert len(fig.axes[0].lines) == 4


def test_confusion_matrix_and_grid_mark_mistakes():
    fig = plots.confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], ["a", "b"])
    assert fig.axes[0].get_title() == "accuracy 0.750"
    fig = plots.image_grid(np.zeros((2, 8, 8, 1)), [0, 1], class_names=["a", "b"], predictions=[0, 0])
    colors = [ax.title.get_color() for ax in fig.axes]
    assert colors == ["black", "red"]


def test_bar_comparison_spread_and_reference():
    fig = plots.bar_comparison({"a": [0.5, 0.7], "b": 0.9}, reference={"b": 0.8})
    ax = fig.axes[0]
    assert [round(p.get_height(), 2) for p in ax.patches] == [0.6, 0.9]


def test_checker_reports_what_to_fix():
    c = checks.Checker("Exercise 1")
    c.expect(True, "never shown", ok="shape is right")
    c.expect(False, "the base must be frozen")
    res = c.result()
    assert not res and "NOT YET" in str(res) and "[x] the base must be frozen" in str(res)
    assert "[ok] shape is right" in str(res)


def test_checker_attempt_turns_the_learners_error_into_a_point():
    c = checks.Checker("Exercise 1")
    assert c.attempt(lambda: 41 + 1) == (True, 42) and c.passed
    assert c.attempt(lambda: {}["x"], failed="calling your layer raised") == (False, None)
    res = c.result()
    assert not res and "[x] calling your layer raised KeyError: 'x'" in str(res)
