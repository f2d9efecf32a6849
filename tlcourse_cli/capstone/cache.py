"""What the frozen bottom of the base computes, once, for every photo: the cache the later stages train on.

The base is cut where no skip connection crosses (``BaseSpec.cut_layer``); the bottom stays frozen, so its
activations are computed in one pass over the photos, read from disk in batches, plus a horizontally flipped
copy of each training photo. Kept as float32 (about 13 KB a photo at 160 px, 25 KB at 224, for MobileNetV2
0.35), they give the head exactly what the whole model computes, minutes faster than running the base each epoch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from tlcourse import recipe
from tlcourse.data import ImageReadError, read_rgb
from tlcourse.models import base_spec, split_at
from tlcourse_cli.capstone.audit import FolderError
from tlcourse_cli.capstone.splits import Splits

__all__ = ["THUMB", "Cache", "CachedSplit", "ModelParts", "cache_splits", "read_batches", "split_model"]

#: Side of the colour thumbnails the baseline uses.
THUMB = 16


@dataclass
class CachedSplit:
    """One split's cached activations (float32), 16x16 thumbnails (uint8) and labels."""

    activations: np.ndarray
    thumbnails: np.ndarray
    labels: np.ndarray
    files: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class Cache:
    """The cached splits: ``train``, ``train_flipped`` (its mirror images), ``val`` and ``test``.

    ``skipped`` lists ``(path, reason)`` for photos that could not be read any more (changed since the audit).
    """

    image_size: int
    splits: dict[str, CachedSplit]
    seconds: float
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __getitem__(self, name: str) -> CachedSplit:
        return self.splits[name]

    @property
    def megabytes(self) -> float:
        """Memory the cached activations take."""
        return sum(s.activations.nbytes for s in self.splits.values()) / 1e6


@dataclass
class ModelParts:
    """A capstone model cut at the cache: ``bottom`` (pixels to activations), ``head`` (activations to
    probabilities), ``pooled`` (activations to the pooled features) and ``top`` (the base's part in ``head``)."""

    bottom: Any
    head: Any
    pooled: Any
    top: Any


def split_model(model: Any, base: Any, base_name: str) -> ModelParts:
    """Cut a capstone model (:func:`~tlcourse_cli.capstone.stages.build_model`) where the cache is taken:
    lesson 06's :func:`tlcourse.recipe.split_classifier` at the base's cut layer, checked first by
    :func:`tlcourse.models.split_at` (no skip connection crosses it).

    ``head(bottom(x))`` computes ``model(x)``, and ``head`` shares ``model``'s layers (and weights): training
    ``head`` on cached activations trains ``model``.

    Examples
    --------
    >>> model, base = build_model(2, image_size=160)  # doctest: +SKIP
    >>> parts = split_model(model, base, "mobilenet_v2")  # doctest: +SKIP
    >>> parts.bottom.output_shape, parts.head.output_shape  # doctest: +SKIP
    ((None, 10, 10, 32), (None, 2))
    """
    cut_layer = base_spec(base_name).cut_layer
    split_at(base, cut_layer)  # refuses a cut that a skip connection crosses
    bottom, head, top, pooled = recipe.split_classifier(model, base, cut_layer)
    return ModelParts(bottom, head, pooled, top)


def read_batches(files: list[str], *, image_size: int, batch_size: int,
                 failed: dict[int, str]) -> Any:
    """``(images, ok)`` batches of ``files``, decoded in parallel; a file that cannot be read now (deleted,
    overwritten, truncated since the audit) comes out black with ``ok`` False and its reason in ``failed``.

    Examples
    --------
    >>> failed = {}
    >>> [ok.numpy().tolist() for _, ok in read_batches(["/nowhere.jpg"], image_size=8, batch_size=4, failed=failed)]
    [[False]]
    >>> failed[0][:14]
    'cannot be read'
    """
    def read(i: Any) -> tuple[np.ndarray, np.bool_]:
        try:
            return read_rgb(files[int(i)], image_size), np.bool_(True)
        except (ImageReadError, OSError) as exc:
            failed[int(i)] = getattr(exc, "reason", None) or str(exc)
            return np.zeros((image_size, image_size, 3), np.uint8), np.bool_(False)

    def decode(i: Any) -> tuple[Any, Any]:
        img, ok = tf.numpy_function(read, [i], (tf.uint8, tf.bool), stateful=True, name="read_rgb")
        img.set_shape([image_size, image_size, 3])
        ok.set_shape([])
        return tf.cast(img, tf.float32), ok

    ds = tf.data.Dataset.range(len(files)).map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _pass(bottom: Any, files: list[str], labels: np.ndarray, image_size: int, batch_size: int,
          flip: bool, skipped: list[tuple[str, str]]) -> tuple[CachedSplit, CachedSplit | None]:

    acts, acts_flipped, thumbs, oks = [], [], [], []
    failed: dict[int, str] = {}
    for images, ok in read_batches(files, image_size=image_size, batch_size=batch_size, failed=failed):
        oks.append(ok.numpy())
        acts.append(np.asarray(bottom(images, training=False), np.float32))
        if flip:
            acts_flipped.append(np.asarray(bottom(tf.image.flip_left_right(images), training=False), np.float32))
        small = tf.image.resize(images, (THUMB, THUMB), antialias=True)
        thumbs.append(np.clip(np.rint(small.numpy()), 0, 255).astype(np.uint8))
    keep = np.concatenate(oks) if oks else np.zeros(0, bool)
    skipped += [(files[i], f"changed since the audit: {failed[i]}") for i in sorted(failed)]
    shape = (0,) + tuple(bottom.output_shape[1:])
    a = np.concatenate(acts)[keep] if acts else np.zeros(shape, np.float32)
    t = np.concatenate(thumbs)[keep] if thumbs else np.zeros((0, THUMB, THUMB, 3), np.uint8)
    kept_files = [f for f, k in zip(files, keep) if k]
    split = CachedSplit(a, t, np.asarray(labels)[keep], kept_files)
    if not flip:
        return split, None
    flipped = CachedSplit(np.concatenate(acts_flipped)[keep] if acts_flipped else a[:0], t[:, :, ::-1], split.labels,
                          list(kept_files))
    return split, flipped


def cache_splits(bottom: Any, splits: Splits, *, image_size: int, batch_size: int = 32) -> Cache:
    """Run every photo of every split through the frozen bottom once (train twice: as it is and flipped).

    Examples
    --------
    >>> cache = cache_splits(bottom, splits, image_size=160)  # doctest: +SKIP
    >>> sorted(cache.splits), cache["train_flipped"].activations.dtype  # doctest: +SKIP
    (['test', 'train', 'train_flipped', 'val'], dtype('float32'))
    """
    start = time.perf_counter()
    out: dict[str, CachedSplit] = {}
    skipped: list[tuple[str, str]] = []
    for name, folder in splits.items():
        split, flipped = _pass(bottom, folder.files, folder.labels, image_size, batch_size, flip=name == "train",
                               skipped=skipped)
        missing = sorted(set(range(len(splits.class_names))) - set(split.labels.tolist()))
        if missing:
            raise FolderError(f"Photos changed while training ran: {name} has no readable photo of class(es) "
                              f"{[splits.class_names[i] for i in missing]} any more ({len(skipped)} file(s) "
                              f"unreadable, for example {skipped[0][0] if skipped else '?'}). Run the command again.")
        out[name] = split
        if flipped is not None:
            out["train_flipped"] = flipped
    return Cache(image_size, out, time.perf_counter() - start, skipped)
