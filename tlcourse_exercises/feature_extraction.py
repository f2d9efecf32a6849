"""Checks for the exercises of 02_feature_extraction."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tlcourse.models import all_layers
from tlcourse_exercises.checks import Checker, CheckResult
from tlcourse_exercises.probes import expect_frozen_base_head, expect_outputs, model_around, refitted

__all__ = ["check_feature_extractor_model", "check_best_layer", "check_far_target_features"]


def check_feature_extractor_model(model: Any, base: Any, num_classes: int, *, preprocess: Callable | None = None,
                                  show: bool = False) -> CheckResult:
    """Exercise 1: ``model`` = input, preprocessing, frozen ``base`` in inference mode, pooling, dropout, dense head.

    Introduced in 02_feature_extraction.

    The model runs on two random images: the base must receive them preprocessed (``preprocess``, default
    MobileNetV2's ``x / 127.5 - 1``) and be called with ``training=False``.

    Examples
    --------
    >>> import keras
    >>> base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    >>> base.trainable = False
    >>> inp = keras.Input((8, 8, 3))
    >>> h = base(keras.layers.Rescaling(1 / 127.5, offset=-1)(inp), training=False)
    >>> h = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(h))
    >>> check_feature_extractor_model(keras.Model(inp, keras.layers.Dense(3)(h)), base, 3).passed
    True
    >>> print(check_feature_extractor_model(None, base, 3))
    Exercise 1: a feature-extraction model: NOT YET
      [x] you have not answered yet: build fe_model, ...
    """
    c = Checker("Exercise 1: a feature-extraction model")
    if not model_around(c, model, base, name="fe_model", how="with the functional API: keras.Input -> Rescaling -> "
                        "fe_base(x, training=False) -> pooling -> dropout -> Dense", missing="the model does not contain "
                        "`fe_base` (a new base, or the one of section 2?): call fe_base(x, training=False) inside it."):
        return c.result(show=show)
    expect_frozen_base_head(c, model, base, name="fe_base", preprocess=preprocess)
    c.expect(any(isinstance(layer, keras.layers.Dropout) for layer in all_layers(model)), "no Dropout layer: add "
             "keras.layers.Dropout(0.2) before the dense layer.", ok="dropout")
    expect_outputs(c, model, num_classes, name="fe_model", fix="one output per class.")
    return c.result(show=show)


def check_best_layer(answer: Any, probe: Mapping[str, float], *, show: bool = False) -> CheckResult:
    """Exercise 2: the name of the layer whose linear probe scored best (any of them, on a tie).

    Introduced in 02_feature_extraction.

    Examples
    --------
    >>> check_best_layer("b", {"a": 0.5, "b": 0.7}).passed
    True
    >>> print(check_best_layer(0.7, {"a": 0.5, "b": 0.7}))
    Exercise 2: which layer to take features from: NOT YET
      [x] 0.7 is an accuracy: give the layer's name, a key of `probe` (for example 'a').
    """
    c = Checker("Exercise 2: which layer to take features from")
    if not c.given(answer, "put the name of a layer (a key of `probe`) in best_layer."):
        return c.result(show=show)
    best, first, several = max(probe, key=probe.get), next(iter(probe)), isinstance(answer, (tuple, list))
    name = str(answer[0] if several and answer else answer).strip()
    slips = {  # what is wrong with the answer, and the fix -> whether it is so (the first that is, is said)
        f"{answer!r} is a pair: give the name alone, {name!r}.": several and name in probe and isinstance(answer[0], str),
        f"best_layer is a {type(answer).__name__}: give one layer's name, a key of `probe` (for example {first!r}).": several,
        f"{answer!r} is an accuracy: give the layer's name, a key of `probe` (for example {first!r}).":
            isinstance(answer, numbers.Real) and not isinstance(answer, bool),
        f"{answer!r} is not one of the probed layers {list(probe)}.": name not in probe,
        f"{name!r} scored {probe.get(name, 0):.3f}, but {best!r} scored {probe[best]:.3f}: read the highest accuracy in "
        "`probe` (max(probe, key=probe.get)).": probe.get(name) != probe[best]}
    c.expect(not any(slips.values()), next((slip for slip, is_so in slips.items() if is_so), ""),
             ok=f"{name!r} is the best ({probe[best]:.3f}); the first layer ({first!r}, {probe[first]:.3f}) sees edges "
                "and colours, too generic to tell flowers apart")
    return c.result(show=show)


def check_far_target_features(digits_clf: Any, last_clf: Any, layer: Any, probes: Any, layers: list[str],
                              train: tuple, test: tuple, *, show: bool = False) -> CheckResult:
    """Exercise 3: a classifier on an intermediate layer's features of the digits, and one on the last layer's.

    Introduced in 02_feature_extraction.

    ``probes`` gives the average-pooled output of each of ``layers`` (the last one last); ``train`` and
    ``test`` are ``(images, labels)``. The reference: each classifier refitted (same kind and settings;
    else the exercise's standardised logistic regression, ``C=0.1``) on the right layer's training
    features. Both accuracies and the gain of ``layer`` over the last layer are reported, the learner's and
    the reference's.

    Examples
    --------
    >>> import keras, numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> keras.utils.set_random_seed(0)
    >>> inp = keras.Input((6,))
    >>> probes = keras.Model(inp, [keras.layers.Dense(4)(inp), keras.layers.Dense(8)(inp)])
    >>> rng = np.random.default_rng(0); y = np.arange(200) % 2
    >>> x = (rng.normal(size=(200, 6)) + 2 * y[:, None]).astype("float32")
    >>> train, test = (x[:100], y[:100]), (x[100:], y[100:])
    >>> mid, last = probes.predict(x[:100], verbose=0)
    >>> fit = lambda f, labels=y[:100]: LogisticRegression().fit(f, labels)
    >>> check_far_target_features(fit(mid), fit(last), "mid", probes, ["mid", "last"], train, test).passed
    True
    >>> print(check_far_target_features(fit(last), fit(last), "mid", probes, ["mid", "last"], train, test))
    Exercise 3: feature extraction on a far target: NOT YET
      [x] digits_clf takes 8 features, mid's pooled features are 4: it was fitted on last. Fit it on mid's ...
      [ok] last_clf: 0.9...
    >>> check_far_target_features(fit(mid, y[:100][::-1]), fit(last), "mid", probes, ["mid", "last"], train, test).passed
    False
    """
    c, inner, gain = Checker("Exercise 3: feature extraction on a far target"), list(layers[:-1]), np.zeros(2)
    if not (c.given(layer, f"put an intermediate layer's name in digits_layer (one of {inner}).") and c.expect(
            isinstance(layer, str) and layer in inner, f"{layer!r} is not one of the intermediate layers probed, {inner}.")):
        return c.result(show=show)
    f_tr, f_te = (dict(zip(layers, map(np.asarray, probes.predict(x, batch_size=64, verbose=0)))) for x in (train[0], test[0]))
    for label, clf, name, sign in (("digits_clf", digits_clf, layer, 1), ("last_clf", last_clf, layers[-1], -1)):
        accs = _expect_fitted_on(c, label, clf, name, (f_tr, train[1]), (f_te, test[1]))  # (its accuracy, the check's)
        gain += sign * np.array(accs if accs is not None else (0.0, 0.0))  # digits_clf's accuracies minus last_clf's
    if c.passed:  # both classifiers scored, and close to the check's fits
        c.expect(True, "", ok=f"the gain of {layer} over {layers[-1]} you measured: {gain[0]:+.3f} (the check's: {gain[1]:+.3f})")
    return c.result(show=show)


def _expect_fitted_on(c: Checker, label: str, clf: Any, name: str, train: tuple, test: tuple) -> tuple[float, float] | None:
    """Check that ``clf`` was fitted on layer ``name``'s training features, against the same classifier refitted on them.

    ``train`` and ``test`` are ``(features by layer, labels)``; the reference is ``clf`` refitted (same kind and
    settings; else the exercise's standardised logistic regression, ``C=0.1``). Returns ``(test accuracy, the
    reference's)``, or ``None`` when ``clf`` cannot be scored on those features.
    """
    (f_tr, y_tr), (f_te, y_te), fit = train, test, f"{name}'s features of xd_train"
    width, d = getattr(clf, "n_features_in_", f_te[name].shape[1]), f_te[name].shape[1]
    on = " or ".join(n for n in f_te if f_te[n].shape[1] == width) or "something else (the images?)"
    if not (c.given(clf, f"fit {label} on {fit}.") and c.expect(width == d, f"{label} takes {width} features, {name}'s pooled "
                                                                f"features are {d}: it was fitted on {on}. Fit it on {fit}.")
            and (accs := c.output(lambda: [clf.score(f_tr[name], y_tr), clf.score(f_te[name], y_te)],
                                  f"{label}.score", shape=(2,), how=f"give a scikit-learn classifier fitted on {fit}.",
                                  failed=f"{label} is a {type(clf).__name__}, not a fitted classifier: its score raised",
                                  hint=f"Store what make_pipeline(...).fit({fit}, yd_train) returns.")) is not None):
        return None
    exercise = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300, C=0.1))  # the classifier the exercise names
    (fit_acc, acc), ref = accs, float(refitted(clf, f_tr[name], y_tr, exercise).score(f_te[name], y_te))
    said = f"{label}: {acc:.3f} of the test digits right, the same classifier fitted on {fit}: {ref:.3f}"
    c.expect_none_of({f"{said}; it has seen the test digits: fit on {fit}.": acc > ref + 0.04 and acc >= fit_acc - 0.01,
                      f"{said}. Fit on those (not another layer's), with the labels yd_train in order.": acc < ref - 0.05},
                     ok=said)  # what is wrong -> whether the accuracies show it
    return acc, ref
