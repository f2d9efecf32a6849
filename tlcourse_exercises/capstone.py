"""Checks for the exercises of 06_capstone_your_own_data."""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tlcourse_exercises.checks import Checker, CheckResult

__all__ = ["check_per_class_accuracy", "check_test_split"]


def check_test_split(split_name: str | None, n_test: int | None, splits: Any) -> CheckResult:
    """Exercise 1: which folder serves as the test set, and how many test images it holds.

    Introduced in 06_capstone_your_own_data.

    ``split_name`` is the name (or path) of the folder the test images come from, or ``"carved"`` when a
    stratified split made them; ``splits`` is the JSON ``tlcourse audit --splits`` wrote, read back.

    Examples
    --------
    >>> s = {"test": {"root": "/x/val", "files": ["a"] * 5}, "notes": ["... serves ..."]}
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
    folder, n = Path(splits["test"]["root"]).name, len(splits["test"]["files"])
    right = "carved" if any("stratified split" in note for note in splits["notes"]) else folder
    name = Path(str(split_name or "").strip()).name.lower() if isinstance(split_name, (str, os.PathLike, type(None))) else None
    slips = {None: f"test_from is a {type(split_name).__name__}: give the name of the folder the test images come from "
                   'as text (for example "val"), or "carved".',
             "": 'set test_from too: the name of the folder the test images come from, or "carved".',
             folder.lower(): f"the test images were carved out of {folder!r} by a stratified split (read `splits['notes']`): "
                             'answer "carved".'}
    c.expect(name == right.lower(), slips.get(name, f"{split_name!r} is not it: `splits['notes']` says where the test "
                                                   "images come from (look at `splits['test']['root']` too)."),
             ok=f"the test images come from {right!r}")
    if c.given(n_test, "set n_test too: the number of test images.") and (count := c.number(
            n_test, "n_test", whole=True, how="give a whole number of images: count `splits['test']['files']`.")) is not None:
        c.expect(count == n, f"{n_test} test images is not right: count `splits['test']['files']` (duplicates "
                             "are already removed).", ok=f"{n} test images")
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
    >>> print(check_per_class_accuracy({"a": 1.0, "b": 50}, [0, 1, 1], [0, 1, 0], ["a", "b"]))
    Exercise 2: accuracy per class: NOT YET
      [ok] one entry per class
      [ok] a: 1.000
      [x] b: 50 is a percentage: give the fraction, between 0 and 1.
    """
    c = Checker("Exercise 2: accuracy per class")
    names, y_true, y_pred = list(class_names), np.asarray(y_true), np.asarray(y_pred)
    if (c.given(answer, "compute per_class, a dict {class name: accuracy}, for example {'ants': 0.9, 'bees': 0.8}.")
            and c.expect(isinstance(answer, Mapping), f"per_class is a {type(answer).__name__}: give a dict {{name: accuracy}}")):
        numbers = {str(k) for k in answer} == {str(i) for i in range(len(names))}  # class i given as i, not as class_names[i]
        c.expect(set(answer) == set(names), f"the keys {'are class numbers: use' if numbers else 'should be'} the class names "
                                            f"{names} (class i is class_names[i]), not {list(answer)}.", ok="one entry per class")
        # the reference: the recall of each class that has test images (and the precision, a usual slip)
        recall = {n: float(np.mean(y_pred[y_true == i] == i)) for i, n in enumerate(names) if np.any(y_true == i)}
        precision = {n: float(np.mean(y_true[y_pred == i] == i)) for i, n in enumerate(names) if np.any(y_pred == i)}
        c.expect_none_of({f"{n}: there is no test image of {n!r}, so no accuracy to give: use None or float('nan').":
                          _number(answer.get(n)) is not None and not np.isnan(answer[n]) for n in names if n not in recall})
        for name in [n for n in recall if n in answer]:
            how = f"give the share of the test images of class {name!r} that the model predicted as {name!r}, from 0 to 1."
            if (got := c.number(answer[name], name, how=how)) is not None:  # against the recall, and what the slips give
                c.expect_close(got, recall[name], {"a percentage: give the fraction, between 0 and 1.": 100 * recall[name],
                    f"the precision: take images of class {name!r}, not those predicted as {name!r}.": precision.get(name, -1),
                    f"the accuracy over all classes: take only the test images of {name!r}.": float(np.mean(y_true == y_pred)),
                    **{f"the accuracy of {n!r}: class i is class_names[i], in that order.": r for n, r in recall.items()}},
                    said=f"{name}: {got:g} is ", otherwise=f"not it: {how}", ok=f"{name}: {recall[name]:.3f}", rtol=0, atol=1e-6)
    return c.result()
