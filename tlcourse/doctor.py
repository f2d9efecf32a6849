"""Is this machine ready for the course? What is missing, how long will it take?

Used by ``tlcourse doctor``, ``tlcourse fetch`` and 00_setup_check. What the
course needs and how to get it is :mod:`tlcourse.assets.inventory` (re-exported
here); this module adds how fast the machine trains and what that means for the
course's minutes (:mod:`tlcourse.timings`).
"""

from __future__ import annotations

import time

import numpy as np

from tlcourse import models, timings
from tlcourse.assets.inventory import Asset, course_assets, fetch

__all__ = [
    "Asset",
    "course_assets",
    "estimate_minutes",
    "fetch",
    "time_training_step",
]


def time_training_step(image_size: int = 96, batch_size: int = 32, steps: int = 5) -> dict[str, float]:
    """Time fine-tuning steps of MobileNetV2 (alpha 0.35, random weights) here.

    Random weights are enough to time the arithmetic, and need no download.
    The first call traces the graph; it is timed separately.

    Returns
    -------
    dict
        ``first_step_s`` (tracing included), ``step_s`` and ``images_per_s``.

    Examples
    --------
    >>> t = time_training_step(steps=2)  # doctest: +SKIP
    >>> t["images_per_s"] > 0  # doctest: +SKIP
    True
    """
    import keras

    base = models.load_base("mobilenet_v2", alpha=0.35, input_size=image_size, weights=None)
    model = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5)])
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch_size, image_size, image_size, 3)).astype("float32")
    y = rng.integers(0, 5, batch_size)
    t0 = time.perf_counter()
    model.train_on_batch(x, y)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    step = (time.perf_counter() - t0) / steps
    return {"first_step_s": first, "step_s": step, "images_per_s": batch_size / step}


def estimate_minutes(images_per_s: float) -> dict[str, float]:
    """Scale the minutes measured on the test machine by this machine's training speed.

    The minutes and the test machine's speed come from ``tlcourse/minutes.json``
    (see :mod:`tlcourse.timings`).

    Examples
    --------
    >>> at_reference = estimate_minutes(timings.reference_images_per_second())  # the stored minutes
    >>> at_reference["00_setup_check"] == timings.notebook_minutes()["00_setup_check"].compute_quick
    True
    """
    return timings.estimate_minutes(images_per_s)
