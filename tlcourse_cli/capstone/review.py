"""Looking at a stage's results: its confusion matrix and its most confident mistakes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tlcourse import plots
from tlcourse.data import load_images
from tlcourse_cli.capstone.cache import Cache
from tlcourse_cli.capstone.stages import StageResult

__all__ = ["show_stage", "worst_mistakes"]


def worst_mistakes(y_true: np.ndarray, probabilities: np.ndarray, k: int = 12) -> np.ndarray:
    """Indices of the ``k`` wrong predictions made with the highest confidence.

    Examples
    --------
    >>> worst_mistakes(np.array([0, 1, 1]), np.array([[.9, .1], [.8, .2], [.4, .6]]), k=2).tolist()
    [1]
    """
    y_true = np.asarray(y_true)
    pred = probabilities.argmax(1)
    wrong = np.flatnonzero(pred != y_true)
    conf = probabilities[wrong, pred[wrong]]
    return wrong[np.argsort(-conf, kind="stable")][:k]


def show_stage(result: StageResult, cache: Cache, class_names: Sequence[str], *, k: int = 12,
               image_size: int = 128) -> np.ndarray:
    """Draw a stage's test confusion matrix and its ``k`` most confident mistakes; return their indices.

    Only the photos shown are read from disk again.

    Examples
    --------
    >>> show_stage(fe, cache, audit.class_names)  # doctest: +SKIP
    """
    test = cache["test"]
    y = test.labels
    plots.confusion_matrix(y, result.predictions, class_names,
                           title=f"{result.name}: test accuracy {result.test_accuracy:.3f}")
    idx = worst_mistakes(y, result.probabilities, k)
    if idx.size:
        x = load_images([test.files[i] for i in idx], image_size=image_size)
        plots.image_grid(x, y[idx], class_names=class_names, predictions=result.predictions[idx],
                         title=f"{result.name}: the {idx.size} most confident mistakes")
    else:
        print(f"{result.name}: no mistakes on the test set")
    return idx
