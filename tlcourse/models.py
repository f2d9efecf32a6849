"""Base models from Keras Applications with ImageNet weights, and model surgery (unfreeze, split, count).

Weights load through Keras's own constructors from ``$KERAS_HOME/models`` (:mod:`tlcourse_assets.weights`
names the files and downloads a missing one); a classroom mirror copied there serves offline. Where the
weights cannot be had, the error names the file and the two ways to get it: nothing falls back to random
weights (ask for them with ``weights=None``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from tlcourse_assets.errors import WeightsNotAvailableError
from tlcourse_assets.weights import (
    BASE_MODELS,
    BaseSpec,
    base_spec,
    download_weights,
    keras_cache_dir,
    resolve_alpha,
    verify_cached_weights,
    weights_file,
)

__all__ = [
    "BASE_MODELS",
    "BaseSpec",
    "WeightsNotAvailableError",
    "all_layers",
    "base_spec",
    "keras_cache_dir",
    "leaf_layers",
    "load_base",
    "preprocess_input",
    "split_at",
    "trainable_summary",
    "unfreeze_top",
    "weights_file",
]


def preprocess_input(name: str) -> Callable[[Any], Any]:
    """The base model's own ``preprocess_input`` (pixels in [0, 255] to what it was trained on).

    Introduced in 01_what_is_transfer_learning.

    Examples
    --------
    >>> import numpy as np
    >>> preprocess_input("mobilenet_v2")(np.array([0.0, 255.0])).tolist()
    [-1.0, 1.0]
    """
    return getattr(keras.applications, base_spec(name).module).preprocess_input


def load_base(
    name: str = "mobilenet_v2",
    *,
    input_size: int | None = None,
    alpha: float | None = None,
    weights: str | None = "imagenet",
    pooling: str | None = None,
) -> Any:
    """Load a Keras Applications base without its classifier (``include_top=False``).

    Introduced in 00_setup_check.

    ``name`` is a key of :data:`BASE_MODELS`; ``alpha`` the MobileNets' width multiplier (default 1.0);
    ``input_size`` defaults to the model's own (224); ``weights=None`` initialises at random. Every input
    size loads the one 224-px weights file of a base and width (convolution weights do not depend on the
    size), the file the lessons' figures were measured on. Raises :class:`WeightsNotAvailableError` if
    the weights are neither cached nor downloadable.

    Examples
    --------
    >>> base = load_base("mobilenet_v2", alpha=0.35, input_size=128)  # doctest: +SKIP
    >>> base.output_shape  # doctest: +SKIP
    (None, 4, 4, 1280)
    """
    spec = base_spec(name)
    alpha = resolve_alpha(spec, alpha)
    size = input_size or spec.default_size
    kwargs: dict[str, Any] = {"include_top": False, "input_shape": (size, size, 3), "pooling": pooling}
    if alpha is not None:
        kwargs["alpha"] = alpha
    constructor = getattr(keras.applications, spec.constructor)
    if weights is None:
        return constructor(weights=None, **kwargs)
    if weights != "imagenet":
        raise ValueError(f"weights must be 'imagenet' or None, not {weights!r}.")

    own = keras_cache_dir() / weights_file(name, alpha=alpha)
    if not own.is_file():
        own = download_weights(name, alpha=alpha)  # raises, naming the file, when it cannot
    verify_cached_weights(name, alpha=alpha)  # a damaged file would load and predict at chance
    try:
        return constructor(weights=str(own), **kwargs)
    except Exception as exc:  # noqa: BLE001 - h5py and Keras raise many kinds of error for a bad file
        raise WeightsNotAvailableError(
            f"{own} is in the cache but Keras could not load it ({exc}). The file may be "
            f"corrupt or from another model: delete it and fetch it again."
        ) from exc


def unfreeze_top(
    model: Any,
    n_layers: int | None = None,
    *,
    from_layer: str | None = None,
    keep_batchnorm_frozen: bool = True,
) -> list[str]:
    """Unfreeze the top of a base model for fine-tuning (the rest stays frozen); the names now trainable.

    Introduced in 03_fine_tuning.

    Give either ``n_layers`` (the last N entries of ``model.layers``) or ``from_layer`` (that layer
    and all after it). BatchNormalization layers stay frozen by default: on small data their
    statistics would drift. Recompile the model that contains it afterwards: Keras 3 reads
    ``trainable`` when ``fit`` first builds the training step (without it, the base did not move).

    Examples
    --------
    >>> import keras
    >>> base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="a"),
    ...                          keras.layers.BatchNormalization(name="bn"), keras.layers.Dense(2, name="b")])
    >>> unfreeze_top(base, 2)
    ['b']
    """
    if (n_layers is None) == (from_layer is None):
        raise ValueError("Give exactly one of n_layers or from_layer.")
    layers = model.layers
    if from_layer is not None:
        names = [layer.name for layer in layers]
        if from_layer not in names:
            raise ValueError(f"{model.name} has no layer {from_layer!r}; its layers run from {names[0]} to {names[-1]}.")
        start = names.index(from_layer)
    else:
        if n_layers < 0 or n_layers > len(layers):
            raise ValueError(f"n_layers must be between 0 and {len(layers)}, not {n_layers}.")
        start = len(layers) - n_layers
    model.trainable = True
    unfrozen = []
    for i, layer in enumerate(layers):
        on = i >= start and not (keep_batchnorm_frozen and isinstance(layer, keras.layers.BatchNormalization))
        layer.trainable = on
        if on and layer.weights:
            unfrozen.append(layer.name)
    return unfrozen


def all_layers(model: Any) -> list[Any]:
    """Every layer of ``model``, nested models included (each container before its own layers).

    Examples
    --------
    >>> import keras
    >>> inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)], name="inner")
    >>> outer = keras.Sequential([keras.Input((2,)), inner, keras.layers.Dense(1)])
    >>> [type(layer).__name__ for layer in all_layers(outer)]
    ['Sequential', 'Dense', 'Dense']
    """
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        out.extend(all_layers(layer))
    return out


def leaf_layers(model: Any) -> list[Any]:
    """The layers of ``model`` that hold no layers of their own: :func:`all_layers` without the containers.

    Examples
    --------
    >>> import keras
    >>> block = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), keras.layers.ReLU()], name="block")
    >>> [type(layer).__name__ for layer in leaf_layers(keras.Sequential([keras.Input((4,)), block]))]
    ['Dense', 'ReLU']
    """
    return [layer for layer in all_layers(model) if not getattr(layer, "layers", None)]


def trainable_summary(model: Any) -> dict[str, int]:
    """Count trainable and frozen parameters (and layers with trainable weights).

    Introduced in 00_setup_check.

    Examples
    --------
    >>> import keras
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    >>> trainable_summary(m)
    {'trainable': 9, 'frozen': 0, 'total': 9, 'trainable_layers': 1}
    """
    import numpy as np

    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    frozen = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    layers = sum(1 for layer in leaf_layers(model) if layer.trainable_weights)
    return {"trainable": trainable, "frozen": frozen, "total": trainable + frozen, "trainable_layers": int(layers)}


def split_at(base: Any, layer_name: str) -> tuple[Any, Any]:
    """Split a functional base into ``(bottom, top)`` at the input of ``layer_name``.

    ``top(bottom(x))`` equals ``base(x)``, and ``top`` shares its layers and weights with ``base``: with
    the bottom frozen, fine-tuning the top on its cached outputs is the same computation, minutes faster
    on a CPU. ``ValueError`` if a skip connection crosses the split (in MobileNetV2, split at a
    ``block_N_expand`` where block N-1 downsamples, such as ``block_14_expand``).

    Examples
    --------
    >>> bottom, top = split_at(base, "block_14_expand")  # doctest: +SKIP
    """
    layer = base.get_layer(layer_name)
    bottom = keras.Model(base.input, layer.input, name=f"{base.name}_bottom")
    top = keras.Model(layer.input, base.output, name=f"{base.name}_top")
    n_top = sum(1 for v in top.weights) + sum(1 for v in bottom.weights)
    if n_top != len(base.weights):
        raise ValueError(f"A connection crosses the input of {layer_name}: split where no skip connection "
                         f"jumps over it (for example after a block that downsamples).")
    return bottom, top
