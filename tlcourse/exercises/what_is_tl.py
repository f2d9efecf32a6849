"""Checks for the exercises of 01_what_is_transfer_learning."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tlcourse.checks import Checker, CheckResult
from tlcourse.models import all_layers

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
        classifier is fitted on them too: a classifier whose test predictions differ from it was fitted on
        something else.

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
    fit_hint = "clf = LogisticRegression(max_iter=1000).fit(f_pool[chosen], y_pool[chosen])"
    if not c.given(clf, f"fit a classifier on the features of the chosen photos and store it in `clf`: {fit_hint}."):
        return c.result(show=show)
    if not hasattr(clf, "predict"):
        c.expect(False, f"`clf` is a {type(clf).__name__}, not a classifier: store what .fit(...) returns "
                        f"({fit_hint}), not its predictions or its score.")
        return c.result(show=show)
    if not callable(clf.predict):
        c.expect(False, f"clf.predict is a {type(clf.predict).__name__}, not a method: store the fitted classifier "
                        f"itself in `clf` ({fit_hint}).")
        return c.result(show=show)
    y_test = np.asarray(y_test)
    ran, raw = c.attempt(lambda: clf.predict(features_test), failed="clf.predict(test features) raised",
                         hint=f"Fit it first, on the pooled features of the chosen photos (vectors of "
                              f"{features_test.shape[1]} numbers), not on the images: {fit_hint}.")
    if not ran:
        return c.result(show=show)
    if raw is None or isinstance(raw, Iterator):
        c.expect(False, f"clf.predict returns {'None' if raw is None else f'a {type(raw).__name__}'}, not one class "
                        f"per test photo: store a fitted scikit-learn classifier in `clf` ({fit_hint}).")
        return c.result(show=show)
    pred = np.asarray(raw)
    if pred.shape != y_test.shape:
        c.expect(False, f"clf.predict gives an array of shape {pred.shape}; one class per test photo was expected, "
                        f"shape {y_test.shape} (a Keras model gives probabilities: use a scikit-learn classifier).")
        return c.result(show=show)
    whole = pred.dtype.kind in "iu" or (pred.dtype.kind == "f" and bool(np.all(np.isfinite(pred)))
                                        and bool(np.all(pred % 1 == 0)))
    if y_test.dtype.kind in "iu" and not whole:  # labels are class numbers: so must the predictions be
        what = {"U": "text", "S": "text", "c": "complex numbers", "b": "True/False", "O": "objects"}.get(
            pred.dtype.kind, "numbers that are not whole (or nan)")
        c.expect(False, f"clf.predict gives {what} ({pred[:3].tolist()!r}...), not class numbers like y_test's "
                        f"({np.unique(y_test)[:5].tolist()}...): fit the classifier on the labels themselves, "
                        f"{fit_hint}.")
        return c.result(show=show)
    n_classes = len(np.unique(y_test))
    acc = float(np.mean(pred == y_test))
    predicted = len(np.unique(pred))
    c.expect(predicted > 1, "it predicts one class for every test photo: was it fitted on a single class? "
                            "Fit on all the chosen photos, f_pool[chosen] and y_pool[chosen] (10 of each class).",
             ok=f"predicts {predicted} of {n_classes} classes")
    if predicted == 1:
        return c.result(show=show)
    shifted = max(float(np.mean(pred == y_test + s)) for s in (-1, 1))
    if shifted > max(acc + 0.2, min_accuracy):  # right up to a shift: the labels it learned were moved
        c.expect(False, f"its predictions are off by one class ({shifted:.0%} right once shifted by one): fit on the "
                        f"labels as they are, y_pool[chosen], not moved by one.")
        return c.result(show=show)
    same = _same_classifier_on(clf, features_train, y_train)
    ref_acc = float(same.score(features_test, y_test))
    if acc >= 0.98 and acc > ref_acc + 0.1:
        c.expect(False, f"it gets {acc:.0%} of the test photos right, where the same classifier fitted on the chosen "
                        f"photos gets {ref_acc:.0%}: it was fitted on the test features. Fit on f_pool[chosen] and "
                        "y_pool[chosen]; a test photo seen in training makes the test score meaningless.")
        return c.result(show=show)
    agree = float(np.mean(pred == same.predict(features_test)))
    c.expect(agree >= 0.9, f"its test predictions agree with those of the same classifier fitted on the chosen photos "
                           f"for only {agree:.0%} of the photos: it was fitted on other photos (another seed, another "
                           "number per class, the whole pool?). Fit on f_pool[chosen] and y_pool[chosen].",
             ok=f"fitted on the chosen photos ({len(y_train)} of them)")
    c.expect(acc >= min_accuracy, f"test accuracy {acc:.3f} is below {min_accuracy} (chance is {1 / n_classes:.2f}): "
                                  "fit on the features of the chosen photos with their own labels.",
             ok=f"test accuracy {acc:.3f} on photos it never saw (chance {1 / n_classes:.2f})")
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
    layers = all_layers(model)

    def inside(layer: Any) -> bool:
        return any(layer is other for other in layers)

    c.expect(inside(extractor) or all(inside(layer) for layer in extractor.layers),
             "the model does not contain the pretrained `conv_part`: put conv_part itself in the model "
             "(new layers, or a new digits_cnn(), would start from random weights).",
             ok="reuses the pretrained convolutions")
    if source is not None:
        beyond = [layer for layer in source.layers if layer.weights and not any(layer is e for e in extractor.layers)]
        c.expect(not (inside(source) or any(inside(layer) for layer in beyond)),
                 "the model reuses the whole of source_fe, its dense layer included: section 5 reuses only the "
                 "convolutions (conv_part, up to Flatten), since that dense layer was trained to separate digits "
                 "0-4 and keeps little else.", ok="leaves out the dense layer trained for digits 0-4")
    c.expect(not any(layer.trainable_weights for layer in extractor.layers),
             "conv_part has trainable weights: set conv_part.trainable = False before compile, so 100 images "
             "cannot overwrite what it learned.", ok="the convolutions are frozen")
    ran, shape = c.attempt(lambda: tuple(model.output_shape), failed="digits_model has no output shape yet:",
                           hint="Give it an input (keras.Input((28, 28, 1)) first), or train it: fit builds it.")
    if ran:
        c.expect(shape[1:] == (5,), f"the output shape is {shape}, expected (None, 5): one output per digit 5-9.",
                 ok="5 outputs")
    if not c.passed:
        return c.result(show=show)
    if getattr(model, "optimizer", None) is None:
        c.expect(False, "digits_model is not compiled, so it was not trained: compile it, then fit it on "
                        "x_high[train_digits], y_high[train_digits].")
        return c.result(show=show)
    train = np.asarray(train)
    others = np.setdiff1d(np.arange(len(y)), train)
    if not others.size:
        c.expect(False, "`train` holds every image, which leaves none to score on: train on 20 per class, "
                        "data.few_shot(y_high, 20, seed=0).")
        return c.result(show=show)
    # Keras keeps the last fit's History on the model: more batches an epoch than training images means
    # it was trained on more than `train` (on images the score below counts).
    steps = (getattr(getattr(model, "history", None), "params", None) or {}).get("steps")
    if steps and steps > len(train):
        c.expect(False, f"its last fit ran {steps} batches an epoch, more than the {len(train)} images of "
                        "train_digits: it was trained on other images (all of x_high?). Train on "
                        "x_high[train_digits], y_high[train_digits] only; the check scores on the others.")
        return c.result(show=show)
    acc = float(np.mean(np.argmax(np.asarray(model.predict(x[others], verbose=0)), axis=1) == np.asarray(y)[others]))
    c.expect(acc >= min_accuracy, f"accuracy on the {others.size} images it did not train on is {acc:.3f} "
                                  f"(< {min_accuracy}): train the head for more epochs, on the labels 0-4 (digit - 5).",
             ok=f"accuracy {acc:.3f} on the {others.size} images of digits 5-9 it did not train on")
    return c.result(show=show)
