"""How big and how long: the image size validation prefers, and the fine-tuning epochs that fit a time budget.

``tlcourse train`` gets a budget in seconds, not an image size: a learner cannot know which size their
photos need or what 224 px costs on their laptop, and the course can measure both on the folder's own
photos: validation chooses the size (:func:`probe_sizes`), a timing the epochs that fit (:func:`plan_run`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from tlcourse.claims import compare_examples

__all__ = ["SIZES", "Plan", "Speed", "choose_size", "largest_useful_size", "measure_speed", "plan_run", "probe_sizes"]

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
    #: Validation accuracy of the linear probe by image size (:func:`probe_sizes`), where it ran.
    probe: dict[int, float] = field(default_factory=dict)
    #: The size the photos' pixels suggested (:func:`largest_useful_size`), which validation kept or overruled.
    guess: int | None = None

    def __str__(self) -> str:
        ft = (f"fine-tuning {self.epochs} epoch(s) at rate(s) {', '.join(f'{r:g}' for r in self.learning_rates)}"
              if self.epochs else "no fine-tuning")
        probe = ("\n  probe: validation accuracy " + ", ".join(f"{v:.3f} at {k} px" for k, v in self.probe.items())
                 + f"; the photos suggested {self.guess} px" if self.probe else "")
        return (f"plan: {self.image_size} px, {ft}; estimated {self.estimate_s:.0f} s of a {self.budget_s:.0f} s budget"
                + probe + "".join(f"\n  note: {n}" for n in self.notes))


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
    from tlcourse.models import all_layers
    from tlcourse_cli.capstone.cache import read_batches

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


def largest_useful_size(sizes: list[tuple[int, int]]) -> int:
    """The photos' own guess at a size: the smallest candidate at least as large as most photos' short side.

    Never under 160 px, where the small ImageNet bases start to see what they learnt to see.

    Examples
    --------
    >>> largest_useful_size([(500, 375)] * 3), largest_useful_size([(128, 96)] * 3)
    (224, 160)
    """
    if not sizes:
        return SIZES[0]
    short = float(np.median([min(w, h) for w, h in sizes]))
    fitting = [s for s in sorted(SIZES) if s >= short]
    return max(160, fitting[0] if fitting else SIZES[0])


def choose_size(correct: dict[int, np.ndarray], guess: int) -> int:
    """The size whose probe validation says is better than the photos' ``guess``; else the guess.

    ``correct[size]`` is 1 where the probe at that size got a validation photo right (the same photos at
    every size). The best size wins only where ``claims.compare_examples`` (a paired bootstrap) says
    *better*: 36 validation photos cannot tell 0.92 from 0.86, and a size chosen on noise costs accuracy
    as often as it wins.

    Examples
    --------
    >>> right = lambda k, n: np.r_[np.ones(k), np.zeros(n - k)]
    >>> choose_size({224: right(180, 200), 160: right(150, 200)}, 160)   # 0.90 against 0.75: validation can tell
    224
    >>> choose_size({224: right(33, 36), 160: right(31, 36)}, 160)       # 2 photos of 36: it cannot
    160
    """
    best = max(sorted(correct), key=lambda size: float(np.mean(correct[size])))  # of a tie, the smallest
    if guess not in correct or (best != guess and compare_examples(correct[best], correct[guess]).outcome == "better"):
        return best
    return guess


def probe_sizes(splits: Any, *, base_name: str = "mobilenet_v2", alpha: float | None = 0.35,
                sizes: tuple[int, ...] = (224, 160), per_class: int = 50, seed: int = 0,
                batch_size: int = 32) -> dict[int, np.ndarray]:
    """Which validation photos a linear probe on the frozen base's pooled features gets right, at each size.

    At most ``per_class`` training and validation photos of each class, the same at every size; the probe
    is a logistic regression on the features (divided by their spread), its strength chosen on validation.
    A validation photo unreadable since the audit counts as wrong. A few seconds a size on a laptop.

    Examples
    --------
    >>> correct = probe_sizes(splits)  # doctest: +SKIP
    >>> {size: round(float(c.mean()), 3) for size, c in correct.items()}  # doctest: +SKIP
    {224: ..., 160: ...}
    """
    from sklearn.linear_model import LogisticRegression

    from tlcourse_cli.capstone.cache import read_batches
    from tlcourse_cli.capstone.stages import build_model

    rng = np.random.default_rng(seed)

    def sample(folder: Any) -> tuple[list[str], np.ndarray]:
        labels = np.asarray(folder.labels)
        rows = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class]
                                       for c in np.unique(labels)]))
        return [folder.files[i] for i in rows], labels[rows]

    chosen = {"train": sample(splits.train), "val": sample(splits.val)}
    correct = {}
    for size in sizes:
        model, _ = build_model(2, image_size=size, base_name=base_name, alpha=alpha)  # the run's own model
        pooled = keras.Model(model.inputs, model.get_layer("pool").output)  # up to its pooled features
        features = {}
        for name, (files, labels) in chosen.items():
            parts = [(np.asarray(pooled(x, training=False)), ok.numpy())
                     for x, ok in read_batches(files, image_size=size, batch_size=batch_size, failed={})]
            features[name] = np.concatenate([f for f, _ in parts]), labels, np.concatenate([ok for _, ok in parts])
        (f_train, y_train, ok_train), (f_val, y_val, ok_val) = features["train"], features["val"]
        scale = float(np.std(f_train[ok_train])) or 1.0
        fits = [LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
                .fit(f_train[ok_train] / scale, y_train[ok_train]) for c in (0.1, 1.0)]
        right = [(clf.predict(f_val / scale) == y_val) & ok_val for clf in fits]
        correct[size] = max(right, key=lambda r: float(r.mean())).astype(np.float32)
    return correct
