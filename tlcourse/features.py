"""Feature extraction with a frozen base, computed once and cached.

A frozen base gives the same features every epoch, so training the head on cached features is
several times faster than running the base each epoch, for the same accuracy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tlcourse_assets.files import file_digest

__all__ = ["cached_features", "clear_memory_cache", "extract_features", "fingerprint", "load_or_compute", "one_blas_thread"]

_MEMORY: dict[str, np.ndarray] = {}


def extract_features(model: Any, x: Any, *, batch_size: int = 64) -> np.ndarray:
    """Run ``model`` in inference mode over images and return the outputs as one array.

    Introduced in 01_what_is_transfer_learning.

    ``x`` is a NumPy array of images or a ``tf.data.Dataset`` of batches (the labels of
    ``(images, labels)`` batches are ignored).

    Examples
    --------
    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> extract_features(m, np.zeros((3, 4), "float32")).shape
    (3, 2)
    """
    if isinstance(x, np.ndarray):
        return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    out = []
    for batch in x:
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        out.append(np.asarray(model(images, training=False)))
    return np.concatenate(out) if out else np.zeros((0,) + tuple(model.output_shape[1:]), np.float32)


def fingerprint(model: Any, x: Any, name: str = "") -> str:
    """A short hash of the model's architecture and weights and, for an array ``x``, of its bytes.

    A changed model, weights or array changes it, so a stale cache is never used.

    Examples
    --------
    >>> import keras, numpy as np
    >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> len(fingerprint(m, np.zeros((3, 4), "float32")))
    16
    """
    h = hashlib.sha256(name.encode())
    h.update(str(model.input_shape).encode() + str(model.output_shape).encode() + model.name.encode())
    for w in model.weights:
        arr = np.asarray(w)
        h.update(str(arr.shape).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    if isinstance(x, np.ndarray):
        h.update(str(x.shape).encode())
        h.update(np.ascontiguousarray(x).tobytes())
    return h.hexdigest()[:16]


def _read_checked(path: Path, rows: int | None) -> tuple[np.ndarray | None, str]:
    """The array at ``path`` if its bytes and shape are the ones recorded beside it (and ``rows`` long)."""
    try:
        meta = json.loads(Path(f"{path}.sha256").read_text(encoding="utf-8"))
        if file_digest(path) != meta["sha256"]:
            return None, "does not match its checksum (changed or damaged)"
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None, "has no checksum beside it"
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        return None, f"cannot be read ({type(exc).__name__})"
    if list(arr.shape) != meta["shape"] or (rows is not None and (arr.ndim == 0 or len(arr) != rows)):
        return None, f"holds shape {arr.shape}, not one row for each of the {rows} inputs"
    return arr, ""


def clear_memory_cache() -> None:
    """Forget the features kept in memory (the files on disk stay)."""
    _MEMORY.clear()


def cached_features(
    model: Any,
    x: Any,
    *,
    name: str,
    cache_dir: str | Path | None = "outputs/features",
    batch_size: int = 64,
    verbose: bool = True,
) -> np.ndarray:
    """Features of ``x`` through ``model``, computed once, then from memory or disk.

    Introduced in 01_what_is_transfer_learning.

    ``name`` names the cache file (``"flowers_train"``); with a ``tf.data.Dataset`` input it must
    identify the data, as only arrays are hashed. ``cache_dir=None`` keeps features in memory only.

    Examples
    --------
    >>> feats = cached_features(extractor, x_train, name="flowers_train")  # doctest: +SKIP
    """
    key = f"{name}-{fingerprint(model, x, name)}"
    if key in _MEMORY:
        return _MEMORY[key].copy()  # a copy: a caller editing its result must not change the next call's
    path = Path(cache_dir) / f"{key}.npy" if cache_dir is not None else None
    feats = load_or_compute(path, lambda: extract_features(model, x, batch_size=batch_size),
                            label=f"features {name}", verbose=verbose,
                            rows=len(x) if isinstance(x, np.ndarray) else None)
    _MEMORY[key] = feats.copy()
    return feats


def load_or_compute(path: Path | None, compute: Callable[[], np.ndarray], *, label: str,
                    verbose: bool = True, rows: int | None = None) -> np.ndarray:
    """Read an array from ``path`` if it is there and intact, else compute it and save it there.

    Written under a temporary name and renamed (no half-written cache after an interruption), with its
    SHA-256 and shape in ``<path>.sha256``; a file that does not match them, or is not ``rows`` long,
    is recomputed, saying so. ``path=None`` only computes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.npy"
    >>> load_or_compute(p, lambda: np.arange(3), label="a", verbose=False).tolist()
    [0, 1, 2]
    >>> load_or_compute(p, lambda: np.zeros(3), label="a", verbose=False).tolist()  # from disk
    [0, 1, 2]
    """
    if path is not None and path.is_file():
        arr, problem = _read_checked(path, rows)
        if arr is not None:
            if verbose:
                print(f"{label}: loaded {arr.shape} from {path}")
            return arr
        print(f"{label}: the cache {path} {problem}: computing it again")
    arr = compute()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, arr)
        meta = {"sha256": file_digest(tmp), "shape": list(np.shape(arr))}
        sidecar = Path(f"{path}.sha256")
        Path(f"{tmp}.sha256").write_text(json.dumps(meta), encoding="utf-8")
        tmp.replace(path)
        Path(f"{tmp}.sha256").replace(sidecar)
    if verbose:
        print(f"{label}: computed {arr.shape}" + (f", saved to {path}" if path else ""))
    return arr


def one_blas_thread() -> Any:
    """A context in which NumPy's linear algebra (and so scikit-learn's fits) runs on one thread.

    Introduced in 01_what_is_transfer_learning.

    On a CPU that TensorFlow keeps busy, two BLAS threads waiting on each other made a logistic
    regression on cached features several times slower (measured on 2 cores: 4.6 s against 0.75 s).

    Examples
    --------
    >>> with one_blas_thread():
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
