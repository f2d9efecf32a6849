"""How big and how long: the image size and fine-tuning epochs that fit a time budget on this machine.

``tlcourse train`` gets a budget in seconds (``--budget``, a few minutes by
default), not an image size: a learner cannot know what 224 px costs on their
laptop, and the course can measure it. :func:`measure_speed` times the three
things the run repeats (decoding photos through the frozen bottom of the base,
the top and head forward, a training step of the top and head) on a few of the
folder's own photos; :func:`plan_run` turns the counts of photos and those
speeds into the largest image size, and the most epochs, whose estimate fits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

__all__ = ["SIZES", "Plan", "Speed", "measure_speed", "plan_run"]

#: Candidate image sizes, largest first (the base's own 224, down to where ImageNet features blur).
SIZES = (224, 192, 160, 128)
#: Learning rates tried for fine-tuning (LP-FT), the better one chosen on validation.
LEARNING_RATES = (1e-4, 3e-5)
OVERHEAD_S = 8.0  # building the model, tracing each compiled function: measured a few seconds each


@dataclass(frozen=True)
class Speed:
    """Images per second at ``image_size``: bottom (decode + frozen bottom), head forward, head training."""

    image_size: int
    bottom: float
    head_forward: float
    head_train: float

    def at(self, size: int) -> Speed:
        """The speeds scaled to another size by the number of pixels (convolutions cost per pixel)."""
        f = (self.image_size / size) ** 2
        return Speed(size, self.bottom * f, self.head_forward * f, self.head_train * f)


@dataclass
class Plan:
    """What :func:`plan_run` chose, its estimate, and why."""

    image_size: int
    epochs: int
    learning_rates: tuple[float, ...]
    estimate_s: float
    budget_s: float
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        ft = (f"fine-tuning {self.epochs} epoch(s) at rate(s) {', '.join(f'{r:g}' for r in self.learning_rates)}"
              if self.epochs else "no fine-tuning")
        return (f"plan: {self.image_size} px, {ft}; estimated {self.estimate_s:.0f} s of a {self.budget_s:.0f} s budget"
                + "".join(f"\n  note: {n}" for n in self.notes))


def estimate_seconds(counts: dict[str, int], speed: Speed, epochs: int, n_rates: int) -> float:
    """Seconds a run takes at ``speed.image_size``: caching, features, LP-FT, evaluation.

    Examples
    --------
    >>> s = Speed(160, bottom=500, head_forward=400, head_train=150)
    >>> round(estimate_seconds({"train": 300, "val": 50, "test": 150}, s, 0, 0), 1)
    11.6
    """
    n_all = sum(counts.values())
    n_train = counts["train"]
    cache = (n_all + n_train) / speed.bottom
    features = (n_all + n_train) / speed.head_forward
    per_epoch = 2 * n_train / speed.head_train + counts["val"] / speed.head_forward
    return OVERHEAD_S + cache + features + n_rates * (OVERHEAD_S / 2 + epochs * per_epoch)


def plan_run(counts: dict[str, int], speed: Speed, budget_s: float, *, largest: int = 224,
             max_epochs: int = 8, min_epochs: int = 3) -> Plan:
    """The largest size (up to ``largest``), then the most epochs, whose estimate fits ``budget_s``.

    Both learning rates are tried where they fit, else the first alone; where not even
    ``min_epochs`` fit at the smallest size, the run extracts features only.

    Examples
    --------
    >>> s = Speed(224, bottom=250, head_forward=400, head_train=140)
    >>> plan_run({"train": 500, "val": 90, "test": 300}, s, 240).image_size
    224
    >>> plan_run({"train": 14000, "val": 3000, "test": 3000}, s, 240).epochs
    0
    """
    sizes = [s for s in SIZES if s <= largest] or [SIZES[-1]]
    for size in sizes:
        sp = speed.at(size)
        for rates in (LEARNING_RATES, LEARNING_RATES[:1]):
            for epochs in range(max_epochs, min_epochs - 1, -1):
                estimate = estimate_seconds(counts, sp, epochs, len(rates))
                if estimate <= budget_s:
                    return Plan(size, epochs, rates, estimate, budget_s)
    size = sizes[-1]
    estimate = estimate_seconds(counts, speed.at(size), 0, 0)
    notes = [f"{min_epochs} epochs of fine-tuning do not fit the budget even at {size} px: features only "
             f"(give a larger --budget to fine-tune)"]
    if estimate > budget_s:
        notes.append(f"even feature extraction is estimated at {estimate:.0f} s, over the budget")
    return Plan(size, 0, (), estimate, budget_s, notes)


def measure_speed(bottom: Any, head: Any, files: list[str], *, image_size: int, batch_size: int = 32) -> Speed:
    """Time the run's three repeated steps on up to two batches of the folder's own photos.

    The first batch of each step is a warm-up (tracing), the second is timed.

    Examples
    --------
    >>> speed = measure_speed(bottom, head, splits.train.files, image_size=224)  # doctest: +SKIP
    """
    from tlcourse.capstone.cache import read_batches
    from tlcourse.models import all_layers

    files = list(files[: 2 * batch_size])
    dataset = read_batches(files, image_size=image_size, batch_size=batch_size, failed={})  # changed files: black
    acts = [np.asarray(bottom(b, training=False)) for b, _ in dataset]  # the warm-up: decoding, tracing
    start = time.perf_counter()
    n = sum(len(bottom(b, training=False)) for b, _ in dataset)  # decoding from disk included, as in the run
    bottom_rate = n / max(time.perf_counter() - start, 1e-6)

    def best_rate(fn: Any, items: list[Any]) -> float:
        fn(items[0])
        start = time.perf_counter()
        n = sum(int(fn(b)) for b in items[1:] or items[:1])
        return n / max(time.perf_counter() - start, 1e-6)

    head_rate = best_rate(lambda a: len(head(a, training=False)), acts)
    trainer = keras.models.clone_model(head)  # a throw-away copy: timing must not train the real head
    for layer in all_layers(trainer):  # what fine-tuning trains: everything but BatchNormalization
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    trainer.compile(keras.optimizers.Adam(1e-4), "sparse_categorical_crossentropy")
    labels = [np.zeros(len(a), np.int64) for a in acts]
    pairs = list(zip(acts, labels))
    train_rate = best_rate(lambda p: trainer.train_on_batch(p[0], p[1]) is not None and len(p[0]), pairs)
    return Speed(image_size, bottom_rate, head_rate, train_rate)
