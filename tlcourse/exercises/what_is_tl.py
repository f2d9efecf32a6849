"""Checks for the exercises of 01_what_is_transfer_learning."""

from __future__ import annotations

from typing import Any

import numpy as np

from tlcourse.checks import Checker, CheckResult
from tlcourse.exercises.probes import contains

__all__ = ["check_feature_classifier", "check_reused_extractor"]


def _same_classifier_on(clf: Any, features: np.ndarray, labels: np.ndarray) -> Any:
    """The learner's kind of classifier (same settings, fresh), fitted on ``features``; else a logistic regression."""
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression

    try:
        return clone(clf).fit(features, labels)
    except Exception:  # noqa: BLE001 - not a scikit-learn estimator: compare with the one the exercise names
        return LogisticRegression(max_iter=2000).fit(features, labels)


def check_feature_classifier(clf: Any, features_test: np.ndarray, y_test: np.ndarray, *,
                             features_train: np.ndarray, y_train: np.ndarray,
                             min_accuracy: float = 0.4, show: bool = False) -> CheckResult:
    """Exercise 1: a classifier fitted on the pretrained features of the chosen photos, scored on the test set.

    Introduced in 01_what_is_transfer_learning.

    Parameters
    ----------
    clf
        The learner's fitted classifier (anything with ``predict``).
    features_test, y_test
        The test features and labels: the classifier must not have seen them.
    features_train, y_train
        The features and labels of the photos the exercise says to fit on (10 per class). The same kind of
        classifier is fitted on them too, the reference: a classifier whose test predictions differ from the
        reference's was fitted on something else, and one that gives the reference's moved by one class was
        fitted on labels moved by one.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], 20); x = rng.normal(size=(60, 3)) + 2 * np.eye(3)[y]
    >>> tr, te = np.arange(60) % 2 == 0, np.arange(60) % 2 == 1
    >>> good = LogisticRegression().fit(x[tr], y[tr])
    >>> bool(check_feature_classifier(good, x[te], y[te], features_train=x[tr], y_train=y[tr]))
    True
    >>> print(check_feature_classifier(None, x[te], y[te], features_train=x[tr], y_train=y[tr]))
    Exercise 1: a classifier on pretrained features: NOT YET
      [x] you have not answered yet: fit a classifier ...
    """
    c = Checker("Exercise 1: a classifier on pretrained features")
    fit = "clf = LogisticRegression(max_iter=1000).fit(f_pool[chosen], y_pool[chosen])"
    what = (f"clf.predict is a {type(clf.predict).__name__}, not a method" if hasattr(clf, "predict")
            else f"`clf` is a {type(clf).__name__}, not a classifier")
    if not (c.given(clf, f"fit a classifier on the features of the chosen photos and store it in `clf`: {fit}.")
            and c.require(callable(getattr(clf, "predict", None)), f"{what}: store what .fit(...) returns ({fit}).")):
        return c.result(show=show)
    ran, raw = c.attempt(lambda: clf.predict(features_test), failed="clf.predict(test features) raised", hint="Fit it on "
                         f"the chosen photos' features ({features_test.shape[1]} numbers each), not on the images: {fit}.")
    pred = c.array(raw, "what clf.predict returns", how=f"one class number per test photo is expected: {fit}.") if ran else None
    if pred is None or not c.require(pred.shape == np.shape(y_test) and np.all(pred % 1 == 0), f"clf.predict gives shape "
                                     f"{pred.shape}, values like {pred.ravel()[:2].tolist()}: one class per test photo was "
                                     f"expected, not probabilities: {fit}."):
        return c.result(show=show)
    ref = _same_classifier_on(clf, features_train, y_train).predict(features_test)  # the same classifier, fitted right
    acc, ref_acc, agree = (float(np.mean(a == b)) for a, b in ((pred, y_test), (ref, y_test), (pred, ref)))
    slips = {  # what is wrong -> whether the predictions show it
        "it predicts one class for every test photo (fitted on a single class?)": len(np.unique(pred)) == 1,
        "its predictions are off by one class (labels moved by one?)": max(np.mean(pred == ref + s) for s in (-1, 1)) > 0.9,
        f"it gets {acc:.0%} of the test photos right, where the same classifier fitted on the chosen photos gets "
        f"{ref_acc:.0%}: it was fitted on the test features, so its score means nothing": acc >= 0.98 and acc > ref_acc + 0.1,
        f"its test predictions agree with the same classifier fitted on the chosen photos for only {agree:.0%} of the "
        "photos: it was fitted on other photos (another seed or number per class, the whole pool?)": agree < 0.9,
        f"test accuracy {acc:.3f} is below {min_accuracy}": acc < min_accuracy}
    c.expect(not any(slips.values()), f"{next((s for s, shown in slips.items() if shown), '')}. Fit on f_pool[chosen] and "
             "y_pool[chosen], 10 photos of each class, with their own labels.", ok=f"fitted on the chosen photos: test "
             f"accuracy {acc:.3f} on photos it never saw (chance {1 / len(set(y_train)):.2f})")
    return c.result(show=show)


def check_reused_extractor(model: Any, extractor: Any, x: np.ndarray, y: np.ndarray, *, train: np.ndarray,
                           source: Any = None, min_accuracy: float = 0.6, show: bool = False) -> CheckResult:
    """Exercise 2: ``model`` reuses the pretrained ``extractor`` frozen, adds a 5-way head, classifies digits 5-9.

    Introduced in 01_what_is_transfer_learning.

    Parameters
    ----------
    model
        The learner's ``digits_model``.
    extractor
        What to reuse: ``conv_part``, the convolutions of the network pretrained on digits 0-4.
    x, y
        All the images of digits 5-9 and their labels 0-4.
    train
        The indices of ``x`` the model was to be trained on; it is scored on all the others.
    source
        The whole pretrained feature extractor (``source_fe``): its layers beyond ``extractor`` (the dense
        layer trained to separate digits 0-4) must not be in the model, as 01's section 5 explains.

    Examples
    --------
    >>> print(check_reused_extractor(None, None, np.zeros((1, 2)), np.zeros(1), train=np.arange(1)))
    Exercise 2: reuse the pretrained convolutions: NOT YET
      [x] you have not answered yet: build digits_model, ...
    """
    c = Checker("Exercise 2: reuse the pretrained convolutions")
    if not c.model_given(model, name="digits_model", how="from conv_part (frozen) and a new Dense(5), for example "
                         "keras.Sequential([conv_part, keras.layers.Dense(5)]), trained on x_high[train_digits]"):
        return c.result(show=show)
    ran, shape = c.attempt(lambda: tuple(model.output_shape), failed="digits_model has no output shape yet:",
                           hint="Give it an input (keras.Input((28, 28, 1)) first), or train it: fit builds it.")
    top = [] if source is None else [source, *(layer for layer in source.layers if not contains(extractor, layer))]
    train, steps = np.asarray(train), (getattr(getattr(model, "history", None), "params", None) or {}).get("steps") or 0
    others = np.setdiff1d(np.arange(len(y)), train)
    slips = {  # what is wrong, and the fix -> whether digits_model has it (the last: Keras keeps the last fit's History)
        "the model does not contain the pretrained `conv_part`: put conv_part itself in it (new layers start from "
        "random weights).": not all(contains(model, layer) for layer in extractor.layers),
        "the model reuses the whole of source_fe: leave out its dense layer, trained to separate digits 0-4 only (reuse "
        "conv_part).": any(contains(model, layer) for layer in top if layer.weights),
        "conv_part has trainable weights: set conv_part.trainable = False before compile, so that 100 images cannot "
        "overwrite what it learned.": bool(extractor.trainable_weights),
        f"the output shape is {shape}, expected (None, 5): one output per digit 5-9.": ran and shape[1:] != (5,),
        "digits_model is not compiled, so it was not trained: compile it, then fit it on x_high[train_digits], "
        "y_high[train_digits].": getattr(model, "optimizer", None) is None,
        "`train` holds every image, leaving none to score on: train on 20 per class, data.few_shot(y_high, 20, seed=0).":
            not others.size,
        f"its last fit ran {steps} batches an epoch, more than the {len(train)} images of train_digits: it was trained on "
        "other images (all of x_high?). Train on x_high[train_digits] only; the check scores on the others.": steps > len(train)}
    for problem, has in slips.items():
        c.expect(not has, problem)
    if not c.passed:
        return c.result(show=show)
    acc = float(np.mean(np.argmax(np.asarray(model.predict(x[others], verbose=0)), axis=1) == np.asarray(y)[others]))
    c.expect(acc >= min_accuracy, f"accuracy on the {others.size} images it did not train on is {acc:.3f} (< {min_accuracy}): "
                                  "train the head for more epochs, on the labels 0-4 (digit - 5).", ok=f"conv_part reused, "
             f"frozen, 5 outputs: accuracy {acc:.3f} on the {others.size} images of digits 5-9 it did not train on")
    return c.result(show=show)
