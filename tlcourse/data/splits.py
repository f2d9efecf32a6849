"""Splits: train/validation/test per class, and a few labelled examples per class, both seeded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["few_shot", "stratified_split"]


def stratified_split(
    labels: Sequence[int] | np.ndarray, *, val: float = 0.15, test: float = 0.15, seed: int = 0
) -> dict[str, np.ndarray]:
    """Split indices into sorted ``{"train", "val", "test"}`` arrays with the class proportions of the whole, seeded.

    Each class is shuffled and cut on its own: ``round(val * n)`` images to
    validation, then ``round(test * n)`` to test, at least one each where a
    fraction is above zero, and always at least one left for training; so a
    class of three photos still gives one to each split.

    Examples
    --------
    >>> s = stratified_split([0] * 10 + [1] * 10, val=0.2, test=0.2, seed=0)
    >>> [len(s[k]) for k in ("train", "val", "test")]
    [12, 4, 4]
    >>> [len(v) for v in stratified_split([0, 0, 0, 1, 1, 1], val=0.1, test=0.1).values()]
    [2, 2, 2]
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        start = 0
        for name, fraction in (("val", val), ("test", test)):
            if fraction <= 0:
                continue
            n = min(max(1, int(round(fraction * idx.size))), idx.size - start - 1)
            parts[name] += idx[start:start + n].tolist()
            start += n
        parts["train"] += idx[start:].tolist()
    return {name: np.sort(np.asarray(p, dtype=int)) for name, p in parts.items()}


def few_shot(
    labels: Sequence[int] | np.ndarray, k: int | None, *, seed: int = 0, indices: Iterable[int] | None = None
) -> np.ndarray:
    """Pick ``k`` indices per class (all of a class that has fewer), seeded.

    Introduced in 00_setup_check.

    ``k=None`` keeps everything; ``indices`` limits the choice (for example to a training split).

    Examples
    --------
    >>> few_shot([0, 0, 0, 1, 1, 1], 2, seed=0).size
    4
    """
    labels = np.asarray(labels)
    pool = np.arange(len(labels)) if indices is None else np.asarray(list(indices))
    if k is None:
        return np.sort(pool)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels[pool]):
        members = pool[labels[pool] == c]
        chosen.append(rng.choice(members, size=min(k, members.size), replace=False))
    return np.sort(np.concatenate(chosen))
