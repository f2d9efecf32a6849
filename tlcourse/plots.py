"""Plots the lessons share, each returned as a matplotlib figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["bar_comparison", "confusion_matrix", "image_grid", "learning_curves"]


def _history_dict(h: Any) -> dict[str, list[float]]:
    return dict(h.history) if hasattr(h, "history") else dict(h)


def learning_curves(
    histories: Any | Mapping[str, Any],
    *,
    metrics: Sequence[str] = ("loss", "accuracy"),
    title: str | None = None,
) -> Any:
    """Training and validation curves of one run, or of several side by side: one panel per metric.

    Introduced in 05_best_practices.

    ``histories`` is a Keras ``History`` (or its ``.history`` dict), or ``{run name: history}``. One
    colour per run; ``val_<metric>`` is drawn dashed in its run's colour when the history has it.

    Examples
    --------
    >>> fig = learning_curves({"a": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}}, metrics=["loss"])
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt

    if hasattr(histories, "history") or (
        isinstance(histories, Mapping) and histories and all(isinstance(v, list) for v in histories.values())
    ):
        histories = {"": histories}
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes[0], metrics):
        for i, (name, h) in enumerate(histories.items()):
            h = _history_dict(h)
            color = colors[i % len(colors)]
            label = f"{name} " if name else ""
            if metric in h:
                ax.plot(range(1, len(h[metric]) + 1), h[metric], color=color, label=f"{label}train")
            if f"val_{metric}" in h:
                ax.plot(range(1, len(h[f"val_{metric}"]) + 1), h[f"val_{metric}"], "--", color=color,
                        label=f"{label}validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    class_names: Sequence[str],
    *,
    normalize: bool = True,
    title: str | None = None,
) -> Any:
    """Confusion matrix as a heat map, rows the true class (normalised per row by default).

    Introduced in 02_feature_extraction.

    Examples
    --------
    >>> fig = confusion_matrix([0, 1, 1], [0, 1, 0], ["a", "b"])
    >>> fig.axes[0].get_ylabel()
    'true'
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix as sk_cm

    n = len(class_names)
    cm = sk_cm(np.asarray(y_true), np.asarray(y_pred), labels=list(range(n))).astype(float)
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * n, 0.8 + 0.6 * n))
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.grid(False)
    for i in range(n):
        for j in range(n):
            text = f"{shown[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > 0.6 * shown.max() else "black")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(title or f"accuracy {acc:.3f}")
    fig.tight_layout()
    return fig


def image_grid(
    images: np.ndarray | Sequence[Any],
    labels: Sequence[int] | np.ndarray | None = None,
    *,
    class_names: Sequence[str] | None = None,
    predictions: Sequence[int] | np.ndarray | None = None,
    ncols: int = 6,
    size: float = 1.8,
    title: str | None = None,
) -> Any:
    """Images in a grid, titled with the true label and, if given, the prediction (red when wrong).

    Introduced in 00_setup_check.

    Images may be uint8 or floats in [0, 255] or [0, 1]; one channel is drawn in grey.

    Examples
    --------
    >>> fig = image_grid(np.zeros((3, 8, 8, 3), "uint8"), [0, 1, 0], class_names=["a", "b"])
    >>> len(fig.axes)
    3
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            fig.delaxes(ax)
            continue
        img = images[k].astype(np.float32)
        if img.max() > 1.0:
            img = img / 255.0
        img = np.clip(img, 0, 1)
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)

        def name(i: int) -> str:
            return class_names[int(i)] if class_names is not None else str(int(i))

        if labels is not None and predictions is not None:
            wrong = int(labels[k]) != int(predictions[k])
            ax.set_title(f"{name(labels[k])}\npred: {name(predictions[k])}", fontsize=8,
                         color="red" if wrong else "black")
        elif labels is not None:
            ax.set_title(name(labels[k]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def bar_comparison(
    results: Mapping[str, float | Sequence[float]],
    *,
    ylabel: str = "accuracy",
    title: str | None = None,
    reference: Mapping[str, float] | None = None,
) -> Any:
    """Bars of one figure per method; a list of values (seeds) gives the mean and its spread.

    Introduced in 04_domain_adaptation.

    ``results`` is ``{method: value or [value per seed]}``; ``reference`` gives published or expected
    figures per method, drawn as black ticks.

    Examples
    --------
    >>> fig = bar_comparison({"a": [0.5, 0.6], "b": 0.7})
    >>> len(fig.axes[0].patches)
    2
    """
    import matplotlib.pyplot as plt

    names = list(results)
    vals = [np.atleast_1d(np.asarray(results[k], dtype=float)) for k in names]
    means = [v.mean() for v in vals]
    lo = [m - v.min() for m, v in zip(means, vals)]
    hi = [v.max() - m for m, v in zip(means, vals)]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(names)), 3.5))
    ax.bar(range(len(names)), means, yerr=[lo, hi], capsize=4, color="tab:blue", alpha=0.8)
    for i, v in enumerate(vals):
        if v.size > 1:
            ax.plot([i] * v.size, v, "k.", alpha=0.6)
        ax.text(i, means[i] + 0.01, f"{means[i]:.2f}", ha="center", va="bottom", fontsize=8)
    if reference:
        for i, k in enumerate(names):
            if k in reference:
                ax.plot([i - 0.35, i + 0.35], [reference[k]] * 2, "k-", lw=2)
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
