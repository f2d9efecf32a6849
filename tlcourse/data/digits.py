"""Handwritten digits: MNIST's test set and USPS, as arrays at a common size."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import tensorflow as tf

from tlcourse_assets.datasets import dataset_path

__all__ = ["load_mnist", "load_usps"]


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _resize_digits(x: np.ndarray, size: int) -> np.ndarray:

    if x.shape[1] == size:
        return x
    return tf.image.resize(x, (size, size), antialias=True).numpy().astype(np.float32)


def load_mnist(size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10,000 test digits as ``float32`` in [0, 1], shape ``(n, size, size, 1)``.

    Introduced in 00_setup_check.

    Only the test file is in the offline mirror; the course shuffles and
    splits it (it is ordered: its first half is cleaner than its second).

    Examples
    --------
    >>> x, y = load_mnist()  # doctest: +SKIP
    >>> x.shape, y[:3]  # doctest: +SKIP
    ((10000, 28, 28, 1), array([7, 2, 1]))
    """
    folder = dataset_path("mnist_test")
    x = _read_idx(folder / "t10k-images-idx3-ubyte.gz").astype(np.float32)[..., None] / 255.0
    y = _read_idx(folder / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return _resize_digits(x, size), y


def load_usps(split: str = "train", size: int = 28, *, fit: str = "stretch") -> tuple[np.ndarray, np.ndarray]:
    """USPS digits as ``float32`` in [0, 1], shape ``(n, size, size, 1)``.

    Introduced in 00_setup_check.

    ``split`` is ``"train"`` (7,291 digits) or ``"test"`` (2,007). ``fit="stretch"``: the 16x16 digit
    fills the frame; ``"box"``: resized to ``size * 20 / 28`` and padded, as MNIST digits sit in a 20-px box.

    Examples
    --------
    >>> x, y = load_usps("test")  # doctest: +SKIP
    >>> x.shape  # doctest: +SKIP
    (2007, 28, 28, 1)
    """
    import h5py

    if split not in {"train", "test"}:
        raise ValueError(f"USPS split must be 'train' or 'test', not {split!r}.")
    if fit not in {"stretch", "box"}:
        raise ValueError(f"fit must be 'stretch' or 'box', not {fit!r}.")
    with h5py.File(dataset_path("usps") / "usps.h5", "r") as h5:
        x = np.asarray(h5[f"{split}/data"], np.float32).reshape(-1, 16, 16, 1)
        y = np.asarray(h5[f"{split}/target"], np.int64)
    if fit == "stretch":
        return _resize_digits(x, size), y
    inner = round(size * 20 / 28)
    small = _resize_digits(x, inner)
    pad = (size - inner) // 2
    out = np.zeros((len(x), size, size, 1), np.float32)
    out[:, pad : pad + inner, pad : pad + inner] = small
    return out, y
