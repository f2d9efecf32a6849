"""How fast and how big: images per second of a prediction, megabytes of a saved model."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["file_size_mb", "images_per_second"]


def images_per_second(fn: Callable[[], Any], n_images: int, *, repeats: int = 3, warmup: int = 1) -> float:
    """Images per second of ``fn`` (which processes ``n_images``), best of ``repeats`` after ``warmup`` calls.

    Introduced in 05_best_practices.

    Examples
    --------
    >>> images_per_second(lambda: sum(range(1000)), 10) > 0
    True
    """
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n_images / max(best, 1e-9)


def file_size_mb(path: str | os.PathLike[str]) -> float:
    """Size of a file, or of everything under a folder, in megabytes.

    Introduced in 05_best_practices.

    Examples
    --------
    >>> file_size_mb(__file__) > 0
    True
    """
    p = Path(path)
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 1e6
    return p.stat().st_size / 1e6
