"""Machinery for 05_best_practices: timing, sizes, and layer-wise learning rates.

Introduced in 05_best_practices, whose speed and saving sections time predictions
(:func:`images_per_second`) and weigh files (:func:`file_size_mb`). Keras has no
per-layer learning rates built in; :class:`DiscriminativeAdam` adds them as a
plain Adam whose step is multiplied, variable by variable, by a factor chosen
from the variable's path (ULMFiT's discriminative fine-tuning, Howard and Ruder
2018). No lesson measures it any more; it is kept for learners who want to try
it on their own fine-tuning.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras

__all__ = ["DiscriminativeAdam", "file_size_mb", "images_per_second"]


@keras.saving.register_keras_serializable(package="tlcourse")
class DiscriminativeAdam(keras.optimizers.Adam):
    """Adam with layer-wise (discriminative) learning rates.

    Parameters
    ----------
    learning_rate
        The base rate (a float or a schedule), as for Adam.
    multipliers
        ``{substring: factor}``: a variable whose path (``"block_16_expand/kernel"``)
        contains the substring gets ``factor * learning_rate``; the first match in
        the mapping's order wins. Unmatched variables use ``default``.
    default
        Factor for variables that match nothing.

    Notes
    -----
    Adam's step size does not depend on the gradient's scale, so scaling
    gradients (a common trick for SGD) does not give layer-wise rates; scaling
    the rate in ``update_step`` does.

    Examples
    --------
    >>> opt = DiscriminativeAdam(1e-3, multipliers={"block_14": 0.1, "block_16": 0.3})
    >>> opt.multiplier_for("block_14_expand/kernel"), opt.multiplier_for("dense/kernel")
    (0.1, 1.0)
    """

    def __init__(self, learning_rate: Any = 0.001, multipliers: Mapping[str, float] | None = None,
                 default: float = 1.0, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.multipliers = dict(multipliers or {})
        self.default = float(default)

    def multiplier_for(self, path: str) -> float:
        """The factor for a variable path."""
        for key, factor in self.multipliers.items():
            if key in path:
                return float(factor)
        return self.default

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> Any:
        factor = self.multiplier_for(_path(variable))
        if factor == 1.0:
            return super().update_step(gradient, variable, learning_rate)
        return super().update_step(gradient, variable, learning_rate * factor)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"multipliers": self.multipliers, "default": self.default})
        return config


def _path(variable: Any) -> str:
    """The Keras path of the variable :meth:`DiscriminativeAdam.update_step` is given.

    On JAX and PyTorch Keras passes its own variable; on TensorFlow, the ``tf.Variable`` it wraps,
    named by the same path and ``":0"`` (``"/replica_1:0"`` for the copy a ``MirroredStrategy``
    keeps on a second device).

    Examples
    --------
    >>> import keras
    >>> v = keras.Variable(1.0, name="kernel")
    >>> v.path, _path(v), _path(v.value)
    ('kernel', 'kernel', 'kernel')
    """
    path = getattr(variable, "path", None)
    return path if isinstance(path, str) else re.sub(r"(/replica_\d+)?:\d+$", "", variable.name)


def images_per_second(fn: Callable[[], Any], n_images: int, *, repeats: int = 3, warmup: int = 1) -> float:
    """Images per second of ``fn`` (which processes ``n_images``), best of ``repeats`` after ``warmup`` calls.

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

    Examples
    --------
    >>> file_size_mb(__file__) > 0
    True
    """
    p = Path(path)
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 1e6
    return p.stat().st_size / 1e6
