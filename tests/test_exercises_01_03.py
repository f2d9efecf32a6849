"""The exercise checks of 01_what_is_transfer_learning and 02_feature_extraction: they pass right
answers and refuse the wrong ones a learner is likely to give, each with a reason that names it."""

import numpy as np
import pytest

from tlcourse_exercises import feature_extraction, what_is_tl

# ---- 01, exercise 1: a classifier on the pretrained features of the chosen photos


@pytest.fixture(scope="module")
def features():
    """Five classes in 64-d, hard enough that 10 photos per class give about 0.7 on the test set."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 64))
    y = np.repeat(np.arange(5), 80)
    x = rng.normal(size=(400, 64)) + 0.35 * centers[y]
    pool, test = np.arange(400) % 2 == 0, np.arange(400) % 2 == 1
    f_pool, y_pool, f_test, y_test = x[pool], y[pool], x[test], y[test]
    chosen = np.concatenate([np.flatnonzero(y_pool == k)[:10] for k in range(5)])
    return {"f_pool": f_pool, "y_pool": y_pool, "f_test": f_test, "y_test": y_test, "chosen": chosen}


def _check_clf(clf, d):
    return what_is_tl.check_feature_classifier(clf, d["f_test"], d["y_test"], features_train=d["f_pool"][d["chosen"]],
                                               y_train=d["y_pool"][d["chosen"]])


def _lr():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000)


def test_feature_classifier_passes_the_classifier_fitted_on_the_chosen_photos(features):
    d = features
    res = _check_clf(_lr().fit(d["f_pool"][d["chosen"]], d["y_pool"][d["chosen"]]), d)
    assert res, str(res)
    assert "photos it never saw" in str(res)


def _fitted_on_test(d):
    return _lr().fit(d["f_test"], d["y_test"])


def _fitted_on_the_whole_pool(d):
    return _lr().fit(d["f_pool"], d["y_pool"])


def _fitted_on_other_photos(d):
    other = np.concatenate([np.flatnonzero(d["y_pool"] == k)[10:20] for k in range(5)])
    return _lr().fit(d["f_pool"][other], d["y_pool"][other])


def _one_class(d):
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="most_frequent").fit(d["f_pool"], d["y_pool"])


def _labels_off_by_one(d):
    return _lr().fit(d["f_pool"][d["chosen"]], d["y_pool"][d["chosen"]] + 1)


def _on_raw_pixels(d):
    rng = np.random.default_rng(1)
    return _lr().fit(rng.uniform(0, 255, size=(50, 300)), d["y_pool"][d["chosen"]])


class _Probabilities:
    """A model whose predict gives probabilities, as a Keras model does."""

    def predict(self, x):
        return np.full((len(x), 5), 0.2)


@pytest.mark.parametrize("make, words", [
    (lambda d: None, "you have not answered yet"),
    (lambda d: _lr(), "NotFittedError"),
    (lambda d: _lr().fit(d["f_pool"][d["chosen"]], d["y_pool"][d["chosen"]]).predict(d["f_test"]), "not a classifier"),
    (_fitted_on_test, "fitted on the test features"),
    (_fitted_on_the_whole_pool, "fitted on other photos"),
    (_fitted_on_other_photos, "fitted on other photos"),
    (_one_class, "one class for every test photo"),
    (_labels_off_by_one, "off by one"),
    (_on_raw_pixels, "not on the images"),
    (lambda d: _Probabilities(), "one class per test photo"),
], ids=["none", "unfitted", "predictions", "test", "whole pool", "other photos", "one class", "off by one",
        "pixels", "probabilities"])
def test_feature_classifier_refuses(features, make, words):
    res = _check_clf(make(features), features)
    assert not res and words in str(res), str(res)


def test_feature_classifier_says_how_far_the_test_fit_is(features):
    res = str(_check_clf(_fitted_on_test(features), features))
    assert "100%" in res and "the same classifier fitted on the chosen photos gets" in res


# ---- 01, exercise 2: conv_part reused, frozen, with a new head; scored on the images it did not train on


@pytest.fixture
def digits():
    """A small stand-in for 01 section 5: source_fe = [conv-like layer, dense top]; conv_part = its first layer."""
    import keras

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(5), 100)
    x = (rng.normal(size=(500, 8)) + 3 * np.eye(8)[y]).astype("float32")
    keras.utils.set_random_seed(0)
    source_fe = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="conv"),
                                  keras.layers.Dense(4, name="dense_top")], name="features")
    conv_part = keras.Sequential(source_fe.layers[:1], name="conv_part")
    conv_part.trainable = False
    train = np.concatenate([np.flatnonzero(y == k)[:20] for k in range(5)])
    return {"x": x, "y": y, "source_fe": source_fe, "conv_part": conv_part, "train": train}


def _head_on(extractor, units=5):
    import keras

    model = keras.Sequential([keras.Input((8,)), extractor, keras.layers.Dense(units)])
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _check_digits(model, d):
    return what_is_tl.check_reused_extractor(model, d["conv_part"], d["x"], d["y"], train=d["train"],
                                             source=d["source_fe"])


def test_reused_extractor_passes_conv_part_with_a_trained_head(digits):
    d = digits
    model = _head_on(d["conv_part"])
    model.fit(d["x"][d["train"]], d["y"][d["train"]], epochs=60, batch_size=16, verbose=0)
    res = _check_digits(model, d)
    assert res, str(res)
    assert f"on the {len(d['y']) - len(d['train'])} images" in str(res)


def test_reused_extractor_refuses_a_head_trained_on_every_image(digits):
    d = digits
    model = _head_on(d["conv_part"])
    model.fit(d["x"], d["y"], epochs=2, batch_size=4, verbose=0)
    res = _check_digits(model, d)
    assert not res and "trained on other images" in str(res), str(res)


def test_reused_extractor_refuses_an_untrained_head(digits):
    res = _check_digits(_head_on(digits["conv_part"]), digits)
    assert not res and "train the head for more epochs" in str(res), str(res)


def _whole_source(d):
    d["source_fe"].trainable = False
    return _head_on(d["source_fe"])


def _new_extractor(d):
    import keras

    fresh = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu")])
    fresh.trainable = False
    return _head_on(fresh)


def _unfrozen(d):
    d["conv_part"].trainable = True
    return _head_on(d["conv_part"])


def _not_compiled(d):
    import keras

    return keras.Sequential([keras.Input((8,)), d["conv_part"], keras.layers.Dense(5)])


@pytest.mark.parametrize("make, words", [
    (lambda d: None, "you have not answered yet"),
    (lambda d: "model", "not a keras.Model"),
    (_whole_source, "the whole of source_fe"),
    (_new_extractor, "does not contain the pretrained `conv_part`"),
    (_unfrozen, "conv_part has trainable weights"),
    (lambda d: _head_on(d["conv_part"], units=10), "expected (None, 5)"),
    (_not_compiled, "not compiled"),
], ids=["none", "string", "whole source_fe", "new extractor", "unfrozen", "10 outputs", "not compiled"])
def test_reused_extractor_refuses(digits, make, words):
    res = _check_digits(make(digits), digits)
    assert not res and words in str(res), str(res)


def test_reused_extractor_refuses_a_train_set_that_leaves_nothing_to_score(digits):
    d = digits
    model = _head_on(d["conv_part"])
    res = what_is_tl.check_reused_extractor(model, d["conv_part"], d["x"], d["y"], train=np.arange(len(d["y"])))
    assert not res and "none to score on" in str(res)


# ---- 02, exercise 1: input, preprocessing, frozen base in inference mode, pooling, dropout, dense


@pytest.fixture
def small_base():
    import keras

    base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization()],
                            name="small_base")
    base.trainable = False
    return base


def _fe_model(base, *, rescale="right", training=False, pool=True, dropout=True, units=3, augment=False):
    import keras

    inp = keras.Input((8, 8, 3))
    h = keras.layers.RandomFlip("horizontal")(inp) if augment else inp
    if rescale == "right":
        h = keras.layers.Rescaling(1 / 127.5, offset=-1)(h)
    elif rescale == "1/255":
        h = keras.layers.Rescaling(1 / 255)(h)
    elif rescale == "twice":
        h = keras.layers.Rescaling(1 / 127.5, offset=-1)(keras.layers.Rescaling(1 / 127.5, offset=-1)(h))
    elif rescale == "preprocess_input":
        h = keras.applications.mobilenet_v2.preprocess_input(h)
    h = base(h, training=False) if training is False else base(h)
    h = keras.layers.GlobalAveragePooling2D()(h) if pool else keras.layers.Flatten()(h)
    if dropout:
        h = keras.layers.Dropout(0.2)(h)
    return keras.Model(inp, keras.layers.Dense(units)(h))


@pytest.mark.parametrize("kwargs", [{}, {"rescale": "preprocess_input"}, {"augment": True}],
                         ids=["rescaling", "preprocess_input", "with augmentation"])
def test_feature_extractor_model_passes(small_base, kwargs):
    res = feature_extraction.check_feature_extractor_model(_fe_model(small_base, **kwargs), small_base, 3)
    assert res, str(res)
    assert "training=False" in str(res) and "preprocessed" in str(res)


def _sequential(base):
    import keras

    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Rescaling(1 / 127.5, offset=-1), base,
                             keras.layers.GlobalAveragePooling2D(), keras.layers.Dropout(0.2), keras.layers.Dense(3)])


def _unfrozen_base(base):
    base.trainable = True
    return _fe_model(base)


def _other_base(base):
    import keras

    other = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    other.trainable = False
    return _fe_model(other)


@pytest.mark.parametrize("make, words", [
    (lambda b: None, "you have not answered yet"),
    (lambda b: b, "fe_base`"),  # the base alone is a model, but not this one
    (lambda b: _fe_model(b, rescale=None), "raw pixels, in [0, 255]"),
    (lambda b: _fe_model(b, rescale="1/255"), "pixels in [0, 1]"),
    (lambda b: _fe_model(b, rescale="twice"), "preprocess once"),
    (lambda b: _fe_model(b, training=None), "without training=False"),
    (_sequential, "keras.Sequential cannot pass"),
    (_unfrozen_base, "has trainable weights"),
    (_other_base, "does not contain `fe_base`"),
    (lambda b: _fe_model(b, pool=False), "no global pooling"),
    (lambda b: _fe_model(b, dropout=False), "no Dropout"),
    (lambda b: _fe_model(b, units=5), "expected (None, 3)"),
    (lambda b: [1, 2], "build it as a keras.Model"),
], ids=["none", "the base itself", "no preprocessing", "1/255", "twice", "no training=False", "sequential",
        "unfrozen", "other base", "flatten", "no dropout", "5 outputs", "a list"])
def test_feature_extractor_model_refuses(small_base, make, words):
    res = feature_extraction.check_feature_extractor_model(make(small_base), small_base, 3)
    assert not res and words in str(res), str(res)


def test_feature_extractor_model_check_leaves_the_model_as_it_was(small_base):
    model = _fe_model(small_base)
    before = [w.copy() for w in model.get_weights()]
    call = small_base.call
    feature_extraction.check_feature_extractor_model(model, small_base, 3)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert "call" not in vars(small_base) and small_base.call == call


# ---- 02, exercise 2: the best layer of the probe


PROBE = {"early": 0.35, "middle": 0.62, "late": 0.64}


@pytest.mark.parametrize("answer", ["late", " late "])
def test_best_layer_passes(answer):
    assert feature_extraction.check_best_layer(answer, PROBE)


def test_best_layer_accepts_either_of_a_tie():
    tie = {"a": 0.3, "b": 0.6, "c": 0.6}
    assert feature_extraction.check_best_layer("b", tie) and feature_extraction.check_best_layer("c", tie)


@pytest.mark.parametrize("answer, words", [
    (None, "you have not answered yet"),
    ("early", "'late' scored 0.640"),
    ("middle", "'middle' scored 0.620"),  # a similar accuracy is still not the best
    ("nope", "not one of the probed layers"),
    (0.64, "is an accuracy"),
    (("late", 0.64), "give the name alone"),
])
def test_best_layer_refuses(answer, words):
    res = feature_extraction.check_best_layer(answer, PROBE)
    assert not res and words in str(res), str(res)


# ---- 02, exercise 3: feature extraction by hand on a far target, an intermediate layer against the last

LAYERS = ["early", "middle", "last"]


@pytest.fixture(scope="module")
def far():
    """A stand-in for multi_digits: three 'layers' (16, 16 and 48 features; the early one sees only noise)."""
    import keras

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(5), 100)
    x = np.concatenate([rng.normal(size=(5, 10))[y] + rng.normal(size=(500, 10)), rng.normal(size=(500, 10))],
                       axis=1).astype("float32")
    keras.utils.set_random_seed(0)
    inp = keras.Input((20,))
    dense = {n: keras.layers.Dense(w, activation="relu", name=n) for n, w in zip(LAYERS, (16, 16, 48))}
    probes = keras.Model(inp, [dense[n](inp) for n in LAYERS])
    w, b = dense["early"].get_weights()
    w[:10] = 0
    dense["early"].set_weights([w, b])
    tr, te = np.split(rng.permutation(500), [200])
    f_tr, f_te = (dict(zip(LAYERS, probes.predict(x[i], verbose=0))) for i in (tr, te))
    return {"probes": probes, "train": (x[tr], y[tr]), "test": (x[te], y[te]), "f_tr": f_tr, "f_te": f_te}


def _fit(features, labels, make=None):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return (make or (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=300, C=0.1))))().fit(
        features, labels)


def _on(d, layer, where="train", labels=None):
    f = d["f_tr"] if where == "train" else d["f_te"]
    y = d["train"][1] if where == "train" else d["test"][1]
    if where == "both":
        f = {n: np.concatenate([d["f_tr"][n], d["f_te"][n]]) for n in LAYERS}
        y = np.r_[d["train"][1], d["test"][1]]
    return _fit(f[layer], y if labels is None else labels)


def _check_far(d, mine, last, layer="middle"):
    return feature_extraction.check_far_target_features(mine, last, layer, d["probes"], LAYERS, d["train"], d["test"])


def test_far_target_features_passes_and_reports_both_accuracies_and_the_gain(far):
    res = _check_far(far, _on(far, "middle"), _on(far, "last"))
    assert res, str(res)
    assert "digits_clf: 0." in str(res) and "last_clf: 0." in str(res) and "the gain of middle over last you measured" in str(res)


def test_far_target_features_passes_another_logistic_regression(far):
    from sklearn.linear_model import LogisticRegression

    plain = _fit(far["f_tr"]["middle"], far["train"][1], make=lambda: LogisticRegression(max_iter=2000))
    res = _check_far(far, plain, _on(far, "last"))
    assert res, str(res)


def _shuffled(d):
    return _on(d, "middle", labels=np.random.default_rng(1).permutation(d["train"][1]))


def _unfitted(d):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression()


@pytest.mark.parametrize("mine, last, layer, words", [
    (lambda d: None, lambda d: _on(d, "last"), "middle", "you have not answered yet"),
    (lambda d: _on(d, "middle"), lambda d: None, "middle", "you have not answered yet"),
    (lambda d: _on(d, "middle"), lambda d: _on(d, "last"), None, "you have not answered yet"),
    (lambda d: _on(d, "last"), lambda d: _on(d, "last"), "last", "not one of the intermediate layers"),
    (lambda d: _on(d, "middle"), lambda d: _on(d, "last"), "nope", "not one of the intermediate layers"),
    (lambda d: _on(d, "middle"), lambda d: _on(d, "last"), float("nan"), "not one of the intermediate layers"),
    (lambda d: _on(d, "middle", "test"), lambda d: _on(d, "last"), "middle", "it has seen the test digits"),
    (lambda d: _on(d, "middle"), lambda d: _on(d, "last", "both"), "middle", "it has seen the test digits"),
    (lambda d: _on(d, "last"), lambda d: _on(d, "last"), "middle", "it was fitted on last"),
    (lambda d: _on(d, "middle"), lambda d: _on(d, "middle"), "middle", "last_clf takes 16 features"),
    (lambda d: _on(d, "early"), lambda d: _on(d, "last"), "middle", "not another layer's"),
    (_shuffled, lambda d: _on(d, "last"), "middle", "with the labels yd_train in order"),
    (_unfitted, lambda d: _on(d, "last"), "middle", "NotFittedError"),
    (lambda d: "digits_clf", lambda d: _on(d, "last"), "middle", "is a str, not a fitted classifier"),
    (lambda d: float("nan"), lambda d: _on(d, "last"), "middle", "is a float, not a fitted classifier"),
    (lambda d: _on(d, "middle").predict(d["f_te"]["middle"]), lambda d: _on(d, "last"), "middle",
     "is a ndarray, not a fitted classifier"),
], ids=["no digits_clf", "no last_clf", "no layer", "the last layer", "a made-up layer", "nan layer",
        "fitted on the test features", "fitted on train and test", "on the last layer's features",
        "last_clf on the middle's", "a layer of the same width", "shuffled labels", "not fitted", "a string", "nan",
        "predictions"])
def test_far_target_features_refuses(far, mine, last, layer, words):
    res = _check_far(far, mine(far), last(far), layer)
    assert not res and words in str(res), str(res)
