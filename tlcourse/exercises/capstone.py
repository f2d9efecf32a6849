"""Checks for the exercises of 06_capstone_your_own_data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tlcourse.checks import Checker, CheckResult

__all__ = ["check_per_class_accuracy", "check_test_split"]


def check_test_split(split_name: str, n_test: int, splits: Any) -> CheckResult:
    """Exercise 1: which folder serves as the test set, and how many test images it holds.

    Parameters
    ----------
    split_name
        The name of the folder the test images come from (for a ``<class>/*`` folder: ``"carved"``).
    n_test
        The number of test images.
    splits
        What ``capstone.make_splits`` returned.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from pathlib import Path
    >>> s = SimpleNamespace(test=SimpleNamespace(root=Path("/x/val"), files=["a"] * 5), notes=["... serves ..."])
    >>> check_test_split("val", 5, s).passed
    True
    """
    c = Checker("Exercise 1: the test set")
    carved = any("stratified split" in n for n in splits.notes)
    expected_name = "carved" if carved else splits.test.root.name
    c.expect(
        str(split_name).strip().lower() == expected_name.lower(),
        f"{split_name!r} is not it: `splits.notes` says where the test images come from "
        f"(look at `splits.test.root` too).",
        ok=f"the test images come from {expected_name!r}",
    )
    c.expect(
        int(n_test) == len(splits.test.files),
        f"{n_test} test images is not right: count `splits.test.files` (duplicates are already removed).",
        ok=f"{len(splits.test.files)} test images",
    )
    return c.result()


def check_per_class_accuracy(
    answer: Mapping[str, float],
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    class_names: Sequence[str],
) -> CheckResult:
    """Exercise 2: the test accuracy of each class (recall), as ``{class name: accuracy}``.

    Examples
    --------
    >>> check_per_class_accuracy({"a": 1.0, "b": 0.5}, [0, 1, 1], [0, 1, 0], ["a", "b"]).passed
    True
    """
    c = Checker("Exercise 2: accuracy per class")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if not isinstance(answer, Mapping):
        c.expect(False, "give a dict {class name: accuracy}, for example {'ants': 0.9, 'bees': 0.8}.")
        return c.result()
    c.expect(set(answer) == set(class_names), f"the keys should be the class names {list(class_names)}.",
             ok="one entry per class")
    for i, name in enumerate(class_names):
        if name not in answer or answer[name] is None:
            continue
        mask = y_true == i
        expected = float(np.mean(y_pred[mask] == i)) if mask.any() else float("nan")
        c.expect(
            abs(float(answer[name]) - expected) < 1e-6,
            f"{name}: {answer[name]} is not it. Among the test images whose true class is {name!r}, "
            f"what fraction did the model predict as {name!r}?",
            ok=f"{name}: {expected:.3f}",
        )
    return c.result()
