"""The exercise checks of 01_what_is_transfer_learning and 02_feature_extraction: they pass right
answers and refuse wrong ones (with a reason)."""

import numpy as np
import pytest

from tlcourse.exercises import feature_extraction, what_is_tl


def _blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), n // 4)
    x = rng.normal(size=(n, 8)) + 3 * np.eye(8)[y]
    return x.astype("float32"), y


def test_feature_classifier_check():
    from sklearn.linear_model import LogisticRegression

    x, y = _blobs()
    assert what_is_tl.check_feature_classifier(LogisticRegression().fit(x, y), x, y)
    one_class = LogisticRegression().fit(x[:20], np.r_[[0] * 19, [1]])
    res = what_is_tl.check_feature_classifier(one_class, x, y)
    assert not res and "below" in str(res)
    assert not what_is_tl.check_feature_classifier(None, x, y)


@pytest.mark.slow
def test_reused_extractor_check():
    import keras

    fe = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu")])
    x, y = _blobs()
    y = y % 4
    fe.trainable = False
    good = keras.Sequential([fe, keras.layers.Dense(5)])
    good.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    good.fit(x, y, epochs=60, verbose=0)
    assert what_is_tl.check_reused_extractor(good, fe, x, y)
    fe.trainable = True
    res = what_is_tl.check_reused_extractor(good, fe, x, y)
    assert not res and "trainable" in str(res)
    other = keras.Sequential([keras.Input((8,)), keras.layers.Dense(5)])
    assert not what_is_tl.check_reused_extractor(other, fe, x, y)


def test_feature_extractor_model_check():
    import keras

    base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    base.trainable = False
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(base(inp, training=False)))
    good = keras.Model(inp, keras.layers.Dense(3)(h))
    assert feature_extraction.check_feature_extractor_model(good, base, 3)
    base.trainable = True
    assert not feature_extraction.check_feature_extractor_model(good, base, 3)
    base.trainable = False
    no_dropout = keras.Model(inp, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(base(inp))))
    res = feature_extraction.check_feature_extractor_model(no_dropout, base, 3)
    assert not res and "Dropout" in str(res)
    assert not feature_extraction.check_feature_extractor_model(good, base, 5)


def test_best_layer_check():
    probe = {"early": 0.35, "middle": 0.55, "late": 0.64}
    assert feature_extraction.check_best_layer("late", probe)
    assert not feature_extraction.check_best_layer("early", probe)
    assert not feature_extraction.check_best_layer("nope", probe)
