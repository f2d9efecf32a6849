"""What domain adaptation computes: Deep CORAL's loss, DANN's ramp, and CORAL in closed form on fixed features."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

__all__ = ["coral_align", "coral_loss", "dann_schedule"]


def dann_schedule(progress: Any, gamma: float = 10.0) -> Any:
    """The adaptation weight of Ganin et al. (2016): ``2 / (1 + exp(-gamma p)) - 1``, for ``p`` the fraction of training done.

    Introduced in 04_domain_adaptation.

    It rises from 0 at ``p = 0`` to almost 1 at ``p = 1``, so the domain classifier's noisy early
    gradients do not disturb the feature extractor before it has learnt anything. ``progress`` may be
    a float, a NumPy array or a tensor.

    Examples
    --------
    >>> round(dann_schedule(0.0), 3), round(dann_schedule(1.0), 3)
    (0.0, 1.0)
    """
    if isinstance(progress, (int, float)):
        return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0

    return 2.0 / (1.0 + keras.ops.exp(-gamma * progress)) - 1.0


def coral_loss(source: Any, target: Any) -> Any:
    """Deep CORAL's loss (Sun & Saenko 2016): ``||C_s - C_t||_F^2 / (4 d^2)`` between feature covariances.

    ``source`` is ``(n_s, d)``, ``target`` ``(n_t, d)``; the result is a scalar tensor, zero when the two
    covariances are equal (a shift of the means alone does not change it).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(100, 4)).astype("float32")
    >>> float(coral_loss(x, x))
    0.0
    >>> float(coral_loss(x, 3 * x)) > 0.1
    True
    """
    ops = keras.ops
    source = ops.convert_to_tensor(source, "float32")
    target = ops.convert_to_tensor(target, "float32")
    d = ops.cast(ops.shape(source)[1], "float32")

    def covariance(x: Any) -> Any:
        n = ops.cast(ops.shape(x)[0], "float32")
        centred = x - ops.mean(x, axis=0, keepdims=True)
        return ops.matmul(ops.transpose(centred), centred) / (n - 1.0)

    diff = covariance(source) - covariance(target)
    return ops.sum(diff * diff) / (4.0 * d * d)


def _matrix_power(cov: np.ndarray, power: float) -> np.ndarray:
    values, vectors = np.linalg.eigh(cov)
    return (vectors * np.clip(values, 1e-12, None) ** power) @ vectors.T


def coral_align(source: np.ndarray, target: np.ndarray, *, eps: float = 1.0) -> np.ndarray:
    """Closed-form CORAL (Sun, Feng & Saenko 2016): re-colour source features with the target's covariance.

    Introduced in 04_domain_adaptation.

    Returns ``source @ C_s^(-1/2) @ C_t^(1/2)`` (float32, with the target's mean), ``C = cov + eps * I``
    in each domain: the source whitened, then given the target's second-order statistics. Train a
    classifier on it and apply it unchanged to the target features: no target label is needed. The
    paper uses ``eps = 1`` on standardised features; scale it with the features' variance.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(500, 3)); t = 3 * rng.normal(size=(500, 3)) + 1
    >>> a = coral_align(s, t, eps=1e-3)
    >>> bool(np.allclose(np.cov(a.T), np.cov(t.T), atol=0.02))
    True
    """
    source = np.asarray(source, np.float64)
    target = np.asarray(target, np.float64)
    d = source.shape[1]
    cs = np.cov(source, rowvar=False) + eps * np.eye(d)
    ct = np.cov(target, rowvar=False) + eps * np.eye(d)
    centred = source - source.mean(0)
    aligned = centred @ _matrix_power(cs, -0.5) @ _matrix_power(ct, 0.5)
    return (aligned + target.mean(0)).astype(np.float32)
