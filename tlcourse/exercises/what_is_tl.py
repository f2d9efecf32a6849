"""Checks for the exercises of 01_what_is_transfer_learning."""

from __future__ import annotations

from typing import Any

import numpy as np

from tlcourse.checks import Checker, CheckResult

__all__ = ["check_feature_classifier", "check_reused_extractor"]


def check_feature_classifier(clf: Any, features_test: np.ndarray, y_test: np.ndarray, *,
                             min_accuracy: float = 0.4, show: bool = False) -> CheckResult:
    """Exercise 1: a fitted classifier on pretrained features, clearly better than chance.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> x = np.r_[np.zeros((5, 2)), np.ones((5, 2))]; y = np.r_[[0] * 5, [1] * 5]
    >>> bool(check_feature_classifier(LogisticRegression().fit(x, y), x, y))
    True
    """
    c = Checker("Exercise 1: a classifier on pretrained features")
    if clf is None or not hasattr(clf, "predict"):
        c.expect(False, "store a fitted classifier in `clf` (for example LogisticRegression().fit(features, labels)).")
        return c.result(show=show)
    ran, pred = c.attempt(lambda: np.asarray(clf.predict(features_test)), failed="clf.predict(test features) failed:",
                          hint=f"Fit it on the pooled features (shape {features_test.shape[1:]}), not on images.")
    if not ran:
        return c.result(show=show)
    n_classes = len(np.unique(y_test))
    acc = float(np.mean(pred == y_test))
    c.expect(len(np.unique(pred)) > 1, "it predicts a single class: was it fitted on one class only? "
                                        "Use data.few_shot(y_pool, 10, seed=1) to pick 10 per class.",
             ok=f"predicts {len(np.unique(pred))} of {n_classes} classes")
    c.expect(acc >= min_accuracy, f"test accuracy {acc:.3f} is below {min_accuracy} (chance is {1 / n_classes:.2f}): "
                                  "fit on the features of the chosen photos with their own labels.",
             ok=f"test accuracy {acc:.3f} (chance {1 / n_classes:.2f})")
    return c.result(show=show)


def check_reused_extractor(model: Any, extractor: Any, x: np.ndarray, y: np.ndarray, *,
                           min_accuracy: float = 0.6, show: bool = False) -> CheckResult:
    """Exercise 2: ``model`` reuses ``extractor`` frozen, adds a 5-way head, and classifies digits 5-9.

    Examples
    --------
    >>> check_reused_extractor(None, None, np.zeros((1, 2)), np.zeros(1)).passed
    False
    """
    import keras

    c = Checker("Exercise 2: reuse the pretrained digits extractor")
    if not isinstance(model, keras.Model):
        c.expect(False, "build `digits_model` as a keras.Model, e.g. keras.Sequential([source_fe, Dense(5)]).")
        return c.result(show=show)
    inner = [layer for layer in model.layers if layer is extractor]
    c.expect(bool(inner), "the model does not contain `source_fe` itself: put the pretrained extractor in "
                          "the model (a new digits_cnn() would start from random weights).",
             ok="contains the pretrained extractor")
    c.expect(not extractor.trainable_weights, "the extractor has trainable weights: set source_fe.trainable = False "
                                              "before compile, so 100 images cannot overwrite what it learned.",
             ok="extractor frozen")
    c.expect(tuple(model.output_shape) == (None, 5), f"output shape is {model.output_shape}, expected (None, 5): "
                                                     "one output per digit 5-9.", ok="5 outputs")
    if c.passed:
        acc = float(np.mean(np.argmax(np.asarray(model.predict(x, verbose=0)), axis=1) == y))
        c.expect(acc >= min_accuracy, f"accuracy on digits 5-9 is {acc:.3f} (< {min_accuracy}): train the head "
                                      "for more epochs, on labels 0-4 (digit - 5).", ok=f"accuracy {acc:.3f}")
    return c.result(show=show)
