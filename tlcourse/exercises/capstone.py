"""Checks for the exercises of 06_capstone_your_own_data."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tlcourse.checks import Checker, CheckResult

__all__ = ["check_per_class_accuracy", "check_test_split"]


def check_test_split(split_name: str | None, n_test: int | None, splits: Any) -> CheckResult:
    """Exercise 1: which folder serves as the test set, and how many test images it holds.

    Introduced in 06_capstone_your_own_data.

    Parameters
    ----------
    split_name
        The name (or path) of the folder the test images come from; ``"carved"`` when a stratified split
        made them (a ``<class>/*`` folder, or one with a ``train`` split only).
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
    >>> print(check_test_split(None, None, s))
    Exercise 1: the test set: NOT YET
      [x] you have not answered yet: set test_from (a folder name, or "carved") and n_test (a number).
    """
    c = Checker("Exercise 1: the test set")
    if not c.given(split_name if split_name is not None else n_test,
                   'set test_from (a folder name, or "carved") and n_test (a number).'):
        return c.result()
    carved = any("stratified split" in n for n in splits.notes)
    expected_name = "carved" if carved else splits.test.root.name
    name = Path(str(split_name).strip()).name.lower() if isinstance(split_name, (str, os.PathLike)) else ""
    if split_name is not None and not isinstance(split_name, (str, os.PathLike)):
        c.expect(False, f"test_from is a {type(split_name).__name__}: give the name of the folder the test images "
                        'come from as text (for example "val"), or "carved".')
    elif not name:
        c.expect(False, 'set test_from too: the name of the folder the test images come from, or "carved".')
    elif carved and name == Path(str(splits.test.root)).name.lower():
        c.expect(False, f"the test images were carved out of {name!r} by a stratified split (read `splits.notes`): "
                        'answer "carved".')
    else:
        c.expect(name == expected_name.lower(),
                 f"{split_name!r} is not it: `splits.notes` says where the test images come from "
                 f"(look at `splits.test.root` too).", ok=f"the test images come from {expected_name!r}")
    n = len(splits.test.files)
    if n_test is None:
        c.expect(False, "set n_test too: the number of test images.")
    elif (count := c.number(n_test, "n_test", whole=True,
                            how="give a whole number of images: count `splits.test.files`.")) is not None:
        c.expect(count == n, f"{n_test} test images is not right: count `splits.test.files` (duplicates are "
                             "already removed).", ok=f"{n} test images")
    return c.result()


def _number(value: Any) -> float | None:
    """``value`` as a float when it is a single number (NumPy scalars too), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | np.integer | np.floating):
        return None
    return float(value)


def check_per_class_accuracy(
    answer: Mapping[str, float] | None,
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    class_names: Sequence[str],
) -> CheckResult:
    """Exercise 2: the test accuracy of each class (its recall), as ``{class name: accuracy}``.

    Introduced in 06_capstone_your_own_data.

    The usual slips are named: a value missing or ``None``, percentages, the overall accuracy given for
    every class, the precision (right among those *predicted* as the class) instead, and another class's
    value (class ``i`` is ``class_names[i]``).

    Examples
    --------
    >>> check_per_class_accuracy({"a": 1.0, "b": 0.5}, [0, 1, 1], [0, 1, 0], ["a", "b"]).passed
    True
    >>> print(check_per_class_accuracy({"a": None, "b": None}, [0, 1, 1], [0, 1, 0], ["a", "b"]))
    Exercise 2: accuracy per class: NOT YET
      [ok] one entry per class
      [x] a: no value: give a number between 0 and 1.
      [x] b: no value: give a number between 0 and 1.
    """
    c = Checker("Exercise 2: accuracy per class")
    if not c.given(answer, "compute per_class, a dict {class name: accuracy} (for example {'ants': 0.9, 'bees': 0.8})."):
        return c.result()
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if not isinstance(answer, Mapping):
        c.expect(False, f"per_class is a {type(answer).__name__}: give a dict {{class name: accuracy}}, for example "
                        "{'ants': 0.9, 'bees': 0.8}.")
        return c.result()
    names = list(class_names)
    if set(answer) == set(range(len(names))) or set(answer) == {str(i) for i in range(len(names))}:
        c.expect(False, f"the keys are class numbers: use the class names {names} (class i is class_names[i]).")
        return c.result()
    c.expect(set(answer) == set(names), f"the keys should be the class names {names}, not {list(answer)}.",
             ok="one entry per class")
    recall = {name: float(np.mean(y_pred[y_true == i] == i)) if np.any(y_true == i) else float("nan")
              for i, name in enumerate(names)}
    precision = {name: float(np.mean(y_true[y_pred == i] == i)) if np.any(y_pred == i) else float("nan")
                 for i, name in enumerate(names)}
    overall = float(np.mean(y_true == y_pred))
    for name in names:
        if name not in answer:
            continue
        expected = recall[name]
        value = _number(answer[name])
        if np.isnan(expected):  # no test image of this class: nothing to measure
            c.expect(value is None or np.isnan(value), f"{name}: there is no test image of {name!r}, so there is "
                                                       "no accuracy to give: use None or float('nan').",
                     ok=f"{name}: no test image")
            continue
        if value is None:
            c.expect(False, f"{name}: {'no value' if answer[name] is None else repr(answer[name])}: give a number "
                            "between 0 and 1.")
        elif not math.isfinite(value):
            c.expect(False, f"{name}: {value:g} is not a number between 0 and 1: give the fraction of the test images "
                            f"of {name!r} that the model predicted as {name!r}.")
        elif abs(value - expected) < 1e-6:
            c.expect(True, "", ok=f"{name}: {expected:.3f}")
        elif abs(value / 100 - expected) < 1e-6:
            c.expect(False, f"{name}: {value:g} is a percentage: give the fraction, between 0 and 1.")
        elif not 0 <= value <= 1:
            c.expect(False, f"{name}: {value:g} is not between 0 and 1: an accuracy is a fraction of the test images "
                            f"of {name!r}.")
        elif abs(value - precision[name]) < 1e-6:
            c.expect(False, f"{name}: {value:.3f} is the precision (of the images predicted as {name!r}, the share "
                            f"that are {name!r}). Take the images whose true class is {name!r} instead.")
        elif abs(value - overall) < 1e-6:
            c.expect(False, f"{name}: {value:.3f} is the accuracy over all classes: take only the test images whose "
                            f"true class is {name!r}.")
        elif any(abs(value - recall[other]) < 1e-6 for other in names if other != name):
            other = next(o for o in names if o != name and abs(value - recall[o]) < 1e-6)
            c.expect(False, f"{name}: {value:.3f} is the accuracy of {other!r}: class i is class_names[i], in that "
                            "order.")
        else:
            c.expect(False, f"{name}: {value:g} is not it. Among the test images whose true class is {name!r}, "
                            f"what fraction did the model predict as {name!r}?")
    return c.result()
