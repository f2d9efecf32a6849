"""Base models from Keras Applications, with ImageNet weights and honest failures.

Weights load through Keras's own path (``keras.applications.X(weights="imagenet")``),
which looks in ``$KERAS_HOME/models`` before it downloads: a classroom mirror
copied there serves offline. Where the weights are nowhere to be had, the
error names the file and the two ways to get it. Nothing here falls back to
random weights: ask for them explicitly with ``weights=None``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

__all__ = [
    "BASE_MODELS",
    "BaseSpec",
    "WeightsNotAvailableError",
    "all_layers",
    "cached_weights",
    "freeze",
    "keras_cache_dir",
    "load_base",
    "preprocess_input",
    "split_at",
    "trainable_summary",
    "unfreeze_top",
    "weights_file",
]


class WeightsNotAvailableError(RuntimeError):
    """Pretrained weights are not in the Keras cache and could not be downloaded."""


def _mobilenet_v2_file(alpha: float, rows: int) -> str:
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}_no_top.h5"


def _mobilenet_file(alpha: float, rows: int) -> str:
    alpha_text = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0", 0.25: "2_5"}[float(alpha)]
    return f"mobilenet_{alpha_text}_{rows}_tf_no_top.h5"


@dataclass(frozen=True)
class BaseSpec:
    """A Keras Applications base model the course knows how to load.

    Attributes
    ----------
    constructor
        Name of the function in ``keras.applications``.
    module
        Name of its module there (holds ``preprocess_input``).
    default_size
        Input size its ImageNet weights were trained at.
    alphas
        Width multipliers with ImageNet weights (``None`` where there is no alpha).
    sizes
        Input sizes with their own weight files (others use the default size's).
    imagenet_top1
        ImageNet top-1 accuracy of the full model (Keras Applications table).
    """

    name: str
    constructor: str
    module: str
    default_size: int
    alphas: tuple[float, ...] | None
    default_alpha: float | None
    sizes: tuple[int, ...]
    file_name: Callable[[float | None, int], str]
    imagenet_top1: dict[float | None, float]


BASE_MODELS: dict[str, BaseSpec] = {
    "mobilenet_v2": BaseSpec(
        "mobilenet_v2", "MobileNetV2", "mobilenet_v2", 224,
        (0.35, 0.5, 0.75, 1.0, 1.3, 1.4), 1.0, (96, 128, 160, 192, 224),
        lambda a, r: _mobilenet_v2_file(a, r),
        {0.35: 0.603, 0.5: 0.654, 0.75: 0.698, 1.0: 0.713, 1.4: 0.750},
    ),
    "mobilenet": BaseSpec(
        "mobilenet", "MobileNet", "mobilenet", 224,
        (0.25, 0.5, 0.75, 1.0), 1.0, (128, 160, 192, 224),
        lambda a, r: _mobilenet_file(a, r),
        {0.25: 0.506, 0.5: 0.637, 0.75: 0.684, 1.0: 0.706},
    ),
    "efficientnet_b0": BaseSpec(
        "efficientnet_b0", "EfficientNetB0", "efficientnet", 224, None, None, (224,),
        lambda a, r: "efficientnetb0_notop.h5", {None: 0.771},
    ),
    "resnet50": BaseSpec(
        "resnet50", "ResNet50", "resnet50", 224, None, None, (224,),
        lambda a, r: "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", {None: 0.749},
    ),
}


def _spec(name: str) -> BaseSpec:
    if name not in BASE_MODELS:
        raise KeyError(f"Unknown base model {name!r}; the course knows {sorted(BASE_MODELS)}.")
    return BASE_MODELS[name]


def keras_cache_dir() -> Path:
    """Folder where Keras keeps downloaded weights: ``$KERAS_HOME/models`` (default ``~/.keras/models``).

    Examples
    --------
    >>> keras_cache_dir().name
    'models'
    """
    try:
        from keras.src.backend.config import keras_home

        home = keras_home()
    except ImportError:  # pragma: no cover - older Keras
        home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return Path(home) / "models"


def _alpha(spec: BaseSpec, alpha: float | None) -> float | None:
    if spec.alphas is None:
        if alpha is not None:
            raise ValueError(f"{spec.name} has no width multiplier (alpha); leave it out.")
        return None
    alpha = spec.default_alpha if alpha is None else float(alpha)
    if alpha not in spec.alphas:
        raise ValueError(f"{spec.name} has ImageNet weights for alpha in {spec.alphas}, not {alpha}.")
    return alpha


def weights_file(name: str, *, alpha: float | None = None, input_size: int | None = None) -> str:
    """The official file name Keras looks for (``include_top=False``).

    Examples
    --------
    >>> weights_file("mobilenet_v2", alpha=0.35, input_size=224)
    'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5'
    """
    spec = _spec(name)
    size = input_size or spec.default_size
    rows = size if size in spec.sizes else spec.default_size
    return spec.file_name(_alpha(spec, alpha), rows)


def cached_weights(name: str, *, alpha: float | None = None, input_size: int | None = None) -> Path | None:
    """Path of the weights file in the Keras cache, or ``None`` if it is not there.

    Examples
    --------
    >>> cached_weights("resnet50") is None or cached_weights("resnet50").exists()
    True
    """
    path = keras_cache_dir() / weights_file(name, alpha=alpha, input_size=input_size)
    return path if path.is_file() else None


def preprocess_input(name: str) -> Callable[[Any], Any]:
    """The base model's own ``preprocess_input`` (pixels in [0, 255] to what it was trained on).

    Examples
    --------
    >>> float(preprocess_input("mobilenet_v2")(255.0))
    1.0
    """
    import keras

    return getattr(keras.applications, _spec(name).module).preprocess_input


def _not_available(spec: BaseSpec, fname: str, cause: str) -> WeightsNotAvailableError:
    return WeightsNotAvailableError(
        f"ImageNet weights for {spec.constructor} are not available: {cause}.\n"
        f"  Keras looks for {keras_cache_dir() / fname}\n"
        f"  Two ways to get it:\n"
        f"  1. with internet: run the same code (or `tlcourse fetch`), Keras downloads it;\n"
        f"  2. offline: copy {fname} from a mirror into $KERAS_HOME/models "
        f"(KERAS_HOME is {keras_cache_dir().parent}).\n"
        f"  The course never falls back to random weights; pass weights=None if that is what you want."
    )


def load_base(
    name: str = "mobilenet_v2",
    *,
    input_size: int | None = None,
    alpha: float | None = None,
    weights: str | None = "imagenet",
    pooling: str | None = None,
    verbose: bool = True,
) -> Any:
    """Load a Keras Applications base without its classifier (``include_top=False``).

    Parameters
    ----------
    name
        A key of :data:`BASE_MODELS`.
    input_size
        Height and width of the input (default: the model's own, 224).
    alpha
        Width multiplier for the MobileNets (default 1.0).
    weights
        ``"imagenet"`` or ``None`` (random initialisation, asked for explicitly).
    pooling
        ``None``, ``"avg"`` or ``"max"``, as in Keras.

    Notes
    -----
    The MobileNets have ImageNet files for a few input sizes only. Where the
    file for ``input_size`` is missing but the 224-px one is cached, that file
    is used: convolution weights do not depend on the input size, so the
    224-px weights work at any size from 96 up (a note says so).

    Raises
    ------
    WeightsNotAvailableError
        If the weights are neither cached nor downloadable.

    Examples
    --------
    >>> base = load_base("mobilenet_v2", alpha=0.35, input_size=128)  # doctest: +SKIP
    >>> base.output_shape  # doctest: +SKIP
    (None, 4, 4, 1280)
    """
    import keras

    from tlcourse.data import offline

    spec = _spec(name)
    alpha = _alpha(spec, alpha)
    size = input_size or spec.default_size
    kwargs: dict[str, Any] = {"include_top": False, "input_shape": (size, size, 3), "pooling": pooling}
    if alpha is not None:
        kwargs["alpha"] = alpha
    constructor = getattr(keras.applications, spec.constructor)
    if weights is None:
        return constructor(weights=None, **kwargs)
    if weights != "imagenet":
        raise ValueError(f"weights must be 'imagenet' or None, not {weights!r}.")

    fname = weights_file(name, alpha=alpha, input_size=size)
    own = keras_cache_dir() / fname
    default = keras_cache_dir() / spec.file_name(alpha, spec.default_size)
    uses_default_file = size != spec.default_size and (size not in spec.sizes or not own.is_file())
    if uses_default_file and default.is_file():
        if verbose:
            print(
                f"Note: no {size}-px ImageNet file for {spec.constructor} in the cache; using the "
                f"{spec.default_size}-px weights ({default.name}), which fit any input size."
            )
        return constructor(weights=str(default), **kwargs)
    if not own.is_file() and offline():
        raise _not_available(spec, fname, "offline mode ($TLCOURSE_OFFLINE) and not in the Keras cache")
    try:
        return constructor(weights="imagenet", **kwargs)
    except Exception as exc:  # noqa: BLE001 - Keras raises a bare Exception on URL failure
        if own.is_file() and "fetch" not in str(exc).lower():
            raise WeightsNotAvailableError(
                f"{own} is in the cache but Keras could not load it ({exc}). The file may be "
                f"corrupt or from another model: delete it and fetch it again."
            ) from exc
        raise _not_available(spec, fname, f"the download failed ({exc})") from exc


def freeze(model: Any) -> Any:
    """Freeze every layer (``model.trainable = False``) and return the model.

    Recompile the model that contains it afterwards: ``trainable`` is read at ``compile``.

    Examples
    --------
    >>> import keras
    >>> m = freeze(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    >>> len(m.trainable_weights)
    0
    """
    model.trainable = False
    return model


def unfreeze_top(
    model: Any,
    n_layers: int | None = None,
    *,
    from_layer: str | None = None,
    keep_batchnorm_frozen: bool = True,
) -> list[str]:
    """Unfreeze the top of a base model for fine-tuning; the rest stays frozen.

    Give either ``n_layers`` (the last N entries of ``model.layers``) or
    ``from_layer`` (that layer and everything after it). BatchNormalization layers stay frozen by default:
    on small data their statistics would drift (see 03_fine_tuning).

    Returns
    -------
    list of str
        Names of the layers now trainable.

    Examples
    --------
    >>> import keras
    >>> base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="a"),
    ...                          keras.layers.BatchNormalization(name="bn"), keras.layers.Dense(2, name="b")])
    >>> unfreeze_top(base, 2)
    ['b']
    """
    import keras

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


def _leaf_layers(model: Any) -> list[Any]:
    return [layer for layer in all_layers(model) if not getattr(layer, "layers", None)]


def trainable_summary(model: Any) -> dict[str, int]:
    """Count trainable and frozen parameters (and layers with trainable weights).

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
    layers = sum(1 for layer in _leaf_layers(model) if layer.trainable_weights)
    return {"trainable": trainable, "frozen": frozen, "total": trainable + frozen, "trainable_layers": int(layers)}


def split_at(base: Any, layer_name: str) -> tuple[Any, Any]:
    """Split a functional base into ``(bottom, top)`` at the input of ``layer_name``.

    ``top(bottom(x))`` equals ``base(x)``, and ``top`` shares its layers (and weights)
    with ``base``. With the bottom frozen, its outputs can be computed once and cached,
    and fine-tuning the top trains on the cache: the same computation, minutes faster
    on a CPU (introduced in 03_fine_tuning). The split point must not be crossed by a skip connection (in MobileNetV2,
    the input of ``block_N_expand`` where block N-1 downsamples, such as ``block_14_expand``).

    Examples
    --------
    >>> bottom, top = split_at(base, "block_14_expand")  # doctest: +SKIP
    """
    import keras

    layer = base.get_layer(layer_name)
    bottom = keras.Model(base.input, layer.input, name=f"{base.name}_bottom")
    top = keras.Model(layer.input, base.output, name=f"{base.name}_top")
    n_top = sum(1 for v in top.weights) + sum(1 for v in bottom.weights)
    if n_top != len(base.weights):
        raise ValueError(f"A connection crosses the input of {layer_name}: split where no skip connection "
                         f"jumps over it (for example after a block that downsamples).")
    return bottom, top
