"""The checks of 04_domain_adaptation: a hand-written CORAL loss and gradient reversal pass; the course's own
functions handed back, stubs, and the usual slips are refused, each named."""

import functools

import numpy as np
import pytest
import tensorflow as tf

from tlcourse import adapt
from tlcourse.adapt import coral_loss
from tlcourse_exercises import domain_adaptation as ex


def _cov(f, ddof=1):
    centred = f - f.mean(axis=0)
    return centred.T @ centred / (len(f) - ddof)


def my_coral(source, target):
    d = source.shape[1]
    return float(np.sum((_cov(source) - _cov(target)) ** 2) / (4 * d * d))


def calls_the_package(source, target):
    return float(adapt.coral_loss(source, target))  # through the module, as a notebook would write it


def _helper(source, target):
    return coral_loss(source, target)


def hides_it_in_a_helper(source, target):
    return float(_helper(source, target))


def test_coral_passes_a_hand_written_loss():
    res = ex.check_coral(my_coral)
    assert res, str(res)


@pytest.mark.parametrize("fn, words", [
    (None, "you have not answered yet"),
    (lambda s, t: None, "my_coral returns None"),
    (coral_loss, "tlcourse.adapt.coral_loss"),
    (lambda s, t: float(coral_loss(s, t)), "tlcourse.adapt.coral_loss"),
    (functools.partial(coral_loss), "tlcourse.adapt.coral_loss"),
    (calls_the_package, "tlcourse.adapt.coral_loss"),
    (hides_it_in_a_helper, "tlcourse.adapt.coral_loss"),
    (lambda s, t: float(np.sum((s.T @ s / (len(s) - 1) - t.T @ t / (len(t) - 1)) ** 2) / (4 * s.shape[1] ** 2)),
     "Centre each domain's features"),
    (lambda s, t: float(np.sum((_cov(s, 0) - _cov(t, 0)) ** 2) / (4 * s.shape[1] ** 2)), "not by n"),
    (lambda s, t: float(np.sqrt(np.sum((_cov(s) - _cov(t)) ** 2)) / (4 * s.shape[1] ** 2)), "no square root"),
    (lambda s, t: float(np.sum((_cov(s) - _cov(t)) ** 2)), "divide by 4 d^2 (d is"),
    (lambda s, t: float(np.sum((_cov(s) - _cov(t)) ** 2) / (4 * s.shape[1])), "not by 4 d"),
    (lambda s, t: float(np.sum((np.cov(s) - np.cov(t)) ** 2)), "rowvar=False"),
    (lambda s, t: (_cov(s) - _cov(t)) ** 2 / (4 * s.shape[1] ** 2), "not one number"),
], ids=["none", "stub", "coral_loss", "lambda", "partial", "adapt.coral_loss", "helper", "not centred",
        "divide by n", "not squared", "no 1/(4d^2)", "1/(4d)", "np.cov rows", "a matrix"])
def test_coral_refuses(fn, words):
    res = ex.check_coral(fn)
    assert not res and words in str(res), str(res)


def test_coral_says_why_the_package_function_is_refused():
    assert "would prove nothing" in str(ex.check_coral(coral_loss))


def _reversal(coefficient):
    @tf.custom_gradient
    def reverse(x):
        return tf.identity(x), lambda dy: coefficient * dy
    return reverse


def test_reversal_passes_a_custom_gradient():
    res = ex.check_reversal(_reversal(-0.5))
    assert res, str(res)


@pytest.mark.parametrize("make, words", [
    (lambda: None, "you have not answered yet"),
    (lambda: (lambda x: None), "my_reversal returns None"),
    (lambda: adapt.GradientReversal(0.5), "tlcourse.adapt.GradientReversal"),
    (lambda: (lambda x: adapt.GradientReversal(0.5)(x)), "tlcourse.adapt.GradientReversal"),
    (lambda: tf.identity, "passes unchanged"),
    (lambda: _reversal(-1.0), "coefficient 1"),
    (lambda: _reversal(0.5), "mind the minus sign"),
    (lambda: _reversal(-0.25), "multiplied by about -0.25"),
    (lambda: (lambda x: -0.5 * x), "changes the values"),
    (lambda: tf.stop_gradient, "no gradient flows"),
    (lambda: (lambda x: x.numpy()), "no gradient flows"),
], ids=["none", "stub", "the course's layer", "wrapped", "identity", "-1", "+0.5", "-0.25", "forward scaled",
        "stop_gradient", "numpy"])
def test_reversal_refuses(make, words):
    res = ex.check_reversal(make())
    assert not res and words in str(res), str(res)


# ---- exercise 3: AdaBN by hand


@pytest.fixture(scope="module")
def shift():
    """A small stand-in for 04's source-only model: [features with BatchNormalization, classifier], trained on a
    source; the target is the same classes, scaled and moved, where new statistics win back most of the drop."""
    import keras

    rng = np.random.default_rng(0)
    centres = 1.5 * rng.normal(size=(3, 6))

    def domain(n, scale=1.0, offset=0.0):
        y = np.arange(n) % 3
        return ((centres[y] + rng.normal(size=(n, 6))) * scale + offset).astype("float32"), y

    (xs, ys), (xt, _), (xt_test, yt_test) = domain(600), domain(600, 2.0, 6.0), domain(300, 2.0, 6.0)
    keras.utils.set_random_seed(0)
    fe = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, use_bias=False), keras.layers.BatchNormalization(),
                           keras.layers.ReLU(), keras.layers.Dense(8, use_bias=False),
                           keras.layers.BatchNormalization(), keras.layers.ReLU()], name="features")
    model = keras.Sequential([fe, keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])])
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(xs, ys, epochs=5, batch_size=32, verbose=0)
    return {"model": model, "xs": xs, "xt": xt, "xt_test": xt_test, "yt_test": yt_test}


def _copy(model):
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def _by_hand(model, x, *, copy=True):
    """The lesson's solution: each BatchNormalization layer's statistics from its input, walking the layers."""
    import keras

    adapted = _copy(model) if copy else model
    h = x
    for layer in adapted.layers[0].layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(h.mean(axis=0))
            layer.moving_variance.assign(h.var(axis=0))
        h = np.asarray(layer(h, training=False))
    return adapted


def _check_adabn(d, adapted, original=None):
    return ex.check_adabn(adapted, d["model"] if original is None else original, d["xt"], d["xs"], d["xt_test"],
                          d["yt_test"])


def test_adabn_passes_the_statistics_measured_by_hand_and_reports_the_gain(shift):
    res = _check_adabn(shift, _by_hand(shift["model"], shift["xt"]))
    assert res, str(res)
    assert "only the BatchNormalization statistics changed" in str(res) and "source only 0.56" in str(res)
    assert "new statistics won +0.4" in str(res)


def test_adabn_passes_the_course_function_on_a_copy(shift):
    res = _check_adabn(shift, adapt.adabn(_copy(shift["model"]), shift["xt"], batch_size=100))
    assert res, str(res)


def _fine_tuned_on_the_test_labels(d):
    import keras

    model = _copy(d["model"])
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(d["xt_test"], d["yt_test"], epochs=1, batch_size=32, verbose=0)
    return model


def _in_place(d):
    original = _copy(d["model"])   # a copy stands for src_models[0], so the fixture's model stays as it was
    return _check_adabn(d, _by_hand(original, d["xt"], copy=False), original)


def _head_moved(d):
    adapted = _by_hand(d["model"], d["xt"])
    kernel = adapted.layers[1].layers[0].kernel
    kernel.assign(kernel.numpy() * 1.5)
    return adapted


@pytest.mark.parametrize("make, words", [
    (lambda d: None, "you have not answered yet"),
    (lambda d: "adapted", "adapted is a str, not a keras.Model"),
    (lambda d: float("nan"), "adapted is a float, not a keras.Model"),
    (lambda d: _copy(d["model"]), "no statistic changed"),
    (lambda d: _by_hand(d["model"], d["xs"]), "nearer those of the source images"),
    (_fine_tuned_on_the_test_labels, "weights besides the statistics changed"),
    (_head_moved, "weights besides the statistics changed"),
    (lambda d: _copy(d["model"].layers[0]), "copy the whole model"),
], ids=["none", "a string", "nan", "nothing done", "source statistics", "fine-tuned on test labels",
        "classifier changed", "the feature extractor alone"])
def test_adabn_refuses(shift, make, words):
    res = _check_adabn(shift, make(shift))
    assert not res and words in str(res), str(res)


def test_adabn_refuses_the_lesson_model_changed_in_place(shift):
    res = _in_place(shift)
    assert not res and "you changed the lesson's model itself" in str(res), str(res)
