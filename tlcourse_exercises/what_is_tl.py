"""Checks for the exercises of 01_what_is_transfer_learning."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from tlcourse_exercises.checks import Checker, CheckResult
from tlcourse_exercises.probes import contains, expect_outputs, refitted

__all__ = ["check_feature_classifier", "check_reused_extractor"]


def check_feature_classifier(clf: Any, features_test: np.ndarray, y_test: np.ndarray, *,
                             features_train: np.ndarray, y_train: np.ndarray,
                             min_accuracy: float = 0.4, show: bool = False) -> CheckResult:
    """Exercise 1: a classifier fitted on the pretrained features of the chosen photos, scored on the test set.

    Introduced in 01_what_is_transfer_learning.

    ``features_train, y_train`` are the photos the exercise says to fit on (10 per class). The reference is
    the same kind of classifier fitted on them: test predictions that differ from its were fitted on
    something else, and its predictions moved by one class, on labels moved by one.

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
      [x] you have not answered yet: fit a classifier: clf = ...
    """
    c = Checker("Exercise 1: a classifier on pretrained features")
    if (c.given(clf, "fit a classifier: clf = LogisticRegression(max_iter=1000).fit(f_pool[chosen], y_pool[chosen]).")
            and c.expect(hasattr(clf, "predict"), f"`clf` is a {type(clf).__name__}, not a classifier: store what .fit returns.")
            and c.expect(callable(clf.predict), f"clf.predict is a {type(clf.predict).__name__}, not a method.")
            and (pred := c.output(lambda: clf.predict(features_test), "clf.predict", shape=np.shape(y_test), unwritten=False,
                                  failed="clf.predict(test features) raised", hint="Fit it on f_pool[chosen], not on the images.",
                                  how="one class per test photo is expected (a class number, not probabilities).")) is not None):
        ref = refitted(clf, features_train, y_train, LogisticRegression(max_iter=2000)).predict(features_test)  # the reference
        acc, ref_acc, agree = (float(np.mean(a == b)) for a, b in ((pred, y_test), (ref, y_test), (pred, ref)))
        c.expect_none_of({  # what is wrong -> whether the predictions show it
            "its predictions are not class numbers (probabilities?)": not np.all(pred % 1 == 0),
            "it predicts one class for every test photo (fitted on a single class?)": len(np.unique(pred)) == 1,
            "its predictions are off by one class (labels moved by one?)": max(np.mean(pred == ref + s) for s in (-1, 1)) > 0.9,
            f"it gets {acc:.0%} of the test photos right, where the same classifier fitted on the chosen photos gets "
            f"{ref_acc:.0%}: it was fitted on the test features, so its score means nothing": acc >= 0.98 and acc > ref_acc + 0.1,
            f"its test predictions agree with the same classifier fitted on the chosen photos for only {agree:.0%} of the "
            "photos: it was fitted on other photos (another seed or number per class, the whole pool?)": agree < 0.9,
            f"test accuracy {acc:.3f} (< {min_accuracy})": acc < min_accuracy}, then=". Fit on f_pool[chosen], y_pool[chosen].",
            ok=f"fitted on the chosen photos: accuracy {acc:.3f} on the photos it never saw (chance {1 / len(set(y_train)):.2f})")
    return c.result(show=show)


def check_reused_extractor(model: Any, extractor: Any, x: np.ndarray, y: np.ndarray, *, train: np.ndarray,
                           source: Any = None, min_accuracy: float = 0.6, show: bool = False) -> CheckResult:
    """Exercise 2: ``model`` reuses the pretrained ``extractor`` frozen, adds a 5-way head, classifies digits 5-9.

    Introduced in 01_what_is_transfer_learning.

    ``extractor`` is ``conv_part``, the convolutions pretrained on digits 0-4; ``x, y`` all the images of
    digits 5-9 (labels 0-4); ``train`` the indices to train on (the model is scored on the others);
    ``source`` the whole pretrained ``source_fe``, whose dense top must not be in the model.

    Examples
    --------
    >>> print(check_reused_extractor(None, None, np.zeros((1, 2)), np.zeros(1), train=np.arange(1)))
    Exercise 2: reuse the pretrained convolutions: NOT YET
      [x] you have not answered yet: build digits_model, ...
    """
    c = Checker("Exercise 2: reuse the pretrained convolutions")
    if c.model_given(model, name="digits_model", how="keras.Sequential([conv_part, keras.layers.Dense(5)]), conv_part frozen"):
        others, steps = np.setdiff1d(np.arange(len(y)), train), _last_fit_batches(model)  # others: scored on
        c.expect_none_of({  # what is wrong, and the fix -> whether digits_model has it
            "the model does not contain the pretrained `conv_part`: put conv_part itself in it (new layers start from random "
            "weights).": not all(contains(model, layer) for layer in extractor.layers),
            "the model reuses the whole of source_fe: leave out its dense layer, trained on digits 0-4 only (reuse conv_part).":
                any(contains(model, l) for l in getattr(source, "layers", []) if l.weights and not contains(extractor, l)),
            "conv_part has trainable weights: set conv_part.trainable = False before compile, so that 100 images cannot "
            "overwrite what it learned.": bool(extractor.trainable_weights),
            "digits_model is not compiled, so it was not trained: compile it, then fit it on x_high[train_digits], "
            "y_high[train_digits].": getattr(model, "optimizer", None) is None,
            "`train` holds every image, leaving none to score on: train on data.few_shot(y_high, 20, seed=0).": not others.size,
            f"its last fit ran {steps} batches an epoch, more than the {len(train)} images of train_digits: it was trained on "
            "other images (all of x_high?). Train on x_high[train_digits] only; it is scored on the others.": steps > len(train)})
        if expect_outputs(c, model, 5, name="digits_model", fix="one output per digit 5-9.") and c.passed:
            acc = float(np.mean(np.argmax(model.predict(x[others], verbose=0), axis=1) == np.asarray(y)[others]))
            c.expect(acc >= min_accuracy, f"accuracy on the {others.size} images it did not train on is {acc:.3f} (< "
                     f"{min_accuracy}): train the head for more epochs, on the labels 0-4 (digit - 5).", ok="conv_part reused, "
                     f"frozen, 5 outputs: accuracy {acc:.3f} on the {others.size} images of digits 5-9 it did not train on")
    return c.result(show=show)


def _last_fit_batches(model: Any) -> int:
    """Batches an epoch in ``model``'s last ``fit`` (Keras keeps the last fit's ``History``); 0 if it never trained."""
    return (getattr(getattr(model, "history", None), "params", None) or {}).get("steps") or 0
