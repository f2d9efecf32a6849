"""The ``tf.data`` pipeline: read, decode, resize, cache, shuffle, batch, augment, prefetch."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from tlcourse.data.decode import read_rgb

__all__ = ["decode_image", "load_images", "make_dataset"]


def decode_image(path: Any, image_size: int) -> Any:
    """Read an image file and resize it to ``image_size`` square, as float32 in [0, 255] (a TensorFlow op).

    :func:`~tlcourse.data.decode.read_rgb` inside ``tf.numpy_function``, so the pipeline reads a file
    exactly as :func:`~tlcourse.data.decode.check_image` did at the scan. Paths may hold any Unicode character.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "été à la plage.webp"
    >>> Image.new("RGB", (60, 40), (10, 200, 30)).save(p, lossless=True)
    >>> x = decode_image(str(p), 16)
    >>> x.shape, x.dtype.name, x.numpy()[0, 0].tolist()
    (TensorShape([16, 16, 3]), 'float32', [10.0, 200.0, 30.0])
    """
    def read(p: Any) -> np.ndarray:  # bytes in a graph, a 0-d array when run eagerly
        return read_rgb(os.fsdecode(p.item() if isinstance(p, np.ndarray) else p), image_size)

    img = tf.numpy_function(read, [path], tf.uint8, stateful=False, name="read_rgb")
    img.set_shape([image_size, image_size, 3])
    return tf.cast(img, tf.float32)


def make_dataset(
    files: Sequence[str],
    labels: Sequence[int] | np.ndarray | None,
    *,
    image_size: int,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    cache: bool | str = True,
    augment: Callable[[Any], Any] | None = None,
) -> Any:
    """A ``tf.data`` pipeline: read, decode, resize, cache, shuffle, batch, augment, prefetch.

    Introduced in 05_best_practices.

    Images come out as float32 in [0, 255], the range Keras Applications' ``preprocess_input``
    expects; ``labels=None`` gives images alone. ``cache=True`` keeps decoded images in memory, a
    path caches them on disk; ``shuffle`` reshuffles each epoch, seeded; ``augment`` (for example a
    ``keras.Sequential`` of random layers) runs on each batch after the cache, so each epoch sees new variants.

    Examples
    --------
    >>> ds = make_dataset(folder.files, folder.labels, image_size=128)  # doctest: +SKIP
    """
    autotune = tf.data.AUTOTUNE
    if labels is None:
        ds = tf.data.Dataset.from_tensor_slices(list(files)).map(
            lambda p: decode_image(p, image_size), num_parallel_calls=autotune
        )
    else:
        ds = tf.data.Dataset.from_tensor_slices((list(files), np.asarray(labels))).map(
            lambda p, y: (decode_image(p, image_size), y), num_parallel_calls=autotune
        )
    if cache:
        ds = ds.cache() if cache is True else ds.cache(str(cache))
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        if labels is None:
            ds = ds.map(lambda x: augment(x, training=True), num_parallel_calls=autotune)
        else:
            ds = ds.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=autotune)
    return ds.prefetch(autotune)


def load_images(files: Sequence[str], *, image_size: int, batch_size: int = 64) -> np.ndarray:
    """Decode and resize images into one uint8 array ``(n, size, size, 3)``.

    Introduced in 00_setup_check.

    Examples
    --------
    >>> x = load_images(folder.files[:4], image_size=96)  # doctest: +SKIP
    >>> x.shape  # doctest: +SKIP
    (4, 96, 96, 3)
    """
    ds = make_dataset(files, None, image_size=image_size, batch_size=batch_size, cache=False)
    batches = [np.clip(np.rint(b.numpy()), 0, 255).astype(np.uint8) for b in ds]
    if not batches:
        return np.zeros((0, image_size, image_size, 3), np.uint8)
    return np.concatenate(batches)
