"""ImageNet weights of the Keras Applications bases: their files, where they come from, where they live.

Keras keeps downloaded weights in ``$KERAS_HOME/models`` under official file
names; a classroom mirror copied there serves offline. This module knows those
names and origins (the same ones ``keras.applications`` uses), finds a file in
the cache, downloads one with ``keras.utils.get_file`` (verified where Keras
publishes a hash), and builds the error that names a missing file and the two
ways to get it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tlcourse import settings
from tlcourse.assets.errors import WeightsNotAvailableError
from tlcourse.assets.files import explain_download_failure

__all__ = [
    "BASE_MODELS",
    "BaseSpec",
    "base_spec",
    "cached_weights",
    "download_weights",
    "keras_cache_dir",
    "resolve_alpha",
    "weights_file",
    "weights_not_available",
]

_KERAS_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"


def _mobilenet_v2_file(alpha: float | None, rows: int) -> str:
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha or 1.0)}_{rows}_no_top.h5"


def _mobilenet_file(alpha: float | None, rows: int) -> str:
    alpha_text = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0", 0.25: "2_5"}[float(alpha or 1.0)]
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
    file_name
        ``(alpha, rows) -> official file name`` of the weights without the top.
    origin
        Folder URL the official files are downloaded from.
    md5
        Keras's published MD5 of the file without the top, where there is one.
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
    origin: str
    md5: str | None
    imagenet_top1: dict[float | None, float]


BASE_MODELS: dict[str, BaseSpec] = {
    "mobilenet_v2": BaseSpec(
        "mobilenet_v2", "MobileNetV2", "mobilenet_v2", 224,
        (0.35, 0.5, 0.75, 1.0, 1.3, 1.4), 1.0, (96, 128, 160, 192, 224),
        _mobilenet_v2_file, _KERAS_APPLICATIONS + "mobilenet_v2/", None,
        {0.35: 0.603, 0.5: 0.654, 0.75: 0.698, 1.0: 0.713, 1.4: 0.750},
    ),
    "mobilenet": BaseSpec(
        "mobilenet", "MobileNet", "mobilenet", 224,
        (0.25, 0.5, 0.75, 1.0), 1.0, (128, 160, 192, 224),
        _mobilenet_file, _KERAS_APPLICATIONS + "mobilenet/", None,
        {0.25: 0.506, 0.5: 0.637, 0.75: 0.684, 1.0: 0.706},
    ),
    "efficientnet_b0": BaseSpec(
        "efficientnet_b0", "EfficientNetB0", "efficientnet", 224, None, None, (224,),
        lambda a, r: "efficientnetb0_notop.h5", "https://storage.googleapis.com/keras-applications/",
        "50bc09e76180e00e4465e1a485ddc09d", {None: 0.771},
    ),
    "resnet50": BaseSpec(
        "resnet50", "ResNet50", "resnet50", 224, None, None, (224,),
        lambda a, r: "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", _KERAS_APPLICATIONS + "resnet/",
        "4d473c1dd8becc155b73f8504c6f6626", {None: 0.749},
    ),
}


def base_spec(name: str) -> BaseSpec:
    """The registry entry of a base model (a ``KeyError`` naming the known ones for any other name).

    Examples
    --------
    >>> base_spec("mobilenet_v2").constructor
    'MobileNetV2'
    """
    if name not in BASE_MODELS:
        raise KeyError(f"Unknown base model {name!r}; the course knows {sorted(BASE_MODELS)}.")
    return BASE_MODELS[name]


def resolve_alpha(spec: BaseSpec, alpha: float | None) -> float | None:
    """The width multiplier to use: ``alpha`` checked against the published ones, or the default.

    Examples
    --------
    >>> resolve_alpha(base_spec("mobilenet"), None), resolve_alpha(base_spec("resnet50"), None)
    (1.0, None)
    """
    if spec.alphas is None:
        if alpha is not None:
            raise ValueError(f"{spec.name} has no width multiplier (alpha); leave it out.")
        return None
    alpha = spec.default_alpha if alpha is None else float(alpha)
    if alpha not in spec.alphas:
        raise ValueError(f"{spec.name} has ImageNet weights for alpha in {spec.alphas}, not {alpha}.")
    return alpha


def keras_cache_dir() -> Path:
    """Folder where Keras keeps downloaded weights: ``$KERAS_HOME/models`` (default ``~/.keras/models``).

    Examples
    --------
    >>> keras_cache_dir().name
    'models'
    """
    return settings.current().weights_dir


def weights_file(name: str, *, alpha: float | None = None, input_size: int | None = None) -> str:
    """The official file name Keras looks for (``include_top=False``).

    Examples
    --------
    >>> weights_file("mobilenet_v2", alpha=0.35, input_size=224)
    'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5'
    """
    spec = base_spec(name)
    size = input_size or spec.default_size
    rows = size if size in spec.sizes else spec.default_size
    return spec.file_name(resolve_alpha(spec, alpha), rows)


def cached_weights(name: str, *, alpha: float | None = None, input_size: int | None = None) -> Path | None:
    """Path of the weights file in the Keras cache, or ``None`` if it is not there.

    Examples
    --------
    >>> p = cached_weights("resnet50")
    >>> p is None or p.is_file()
    True
    """
    path = keras_cache_dir() / weights_file(name, alpha=alpha, input_size=input_size)
    return path if path.is_file() else None


def weights_not_available(name: str, fname: str, cause: str) -> WeightsNotAvailableError:
    """The error for weights that are not here: the file Keras looks for and the two ways to get it.

    Examples
    --------
    >>> "mirror" in str(weights_not_available("resnet50", "x.h5", "offline"))
    True
    """
    spec = base_spec(name)
    return WeightsNotAvailableError(
        f"ImageNet weights for {spec.constructor} are not available: {cause}.\n"
        f"  Keras looks for {keras_cache_dir() / fname}\n"
        f"  Two ways to get it:\n"
        f"  1. with internet: run the same code (or `tlcourse fetch`), Keras downloads it;\n"
        f"  2. offline: copy {fname} from a mirror into $KERAS_HOME/models "
        f"(KERAS_HOME is {keras_cache_dir().parent}).\n"
        f"  The course never falls back to random weights; pass weights=None if that is what you want."
    )


def download_weights(name: str, *, alpha: float | None = None, input_size: int | None = None) -> Path:
    """Download a base's ImageNet weights into the Keras cache (verified where Keras publishes a hash).

    Raises
    ------
    WeightsNotAvailableError
        Offline (``$TLCOURSE_OFFLINE``), or when the download fails.

    Examples
    --------
    >>> download_weights("mobilenet_v2", alpha=0.35).name  # doctest: +SKIP
    'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5'
    """
    spec = base_spec(name)
    fname = weights_file(name, alpha=alpha, input_size=input_size)
    if settings.current().offline:
        raise weights_not_available(name, fname, "offline mode ($TLCOURSE_OFFLINE) and not in the Keras cache")
    import keras

    try:
        path = keras.utils.get_file(fname, spec.origin + fname, file_hash=spec.md5,
                                    cache_dir=str(settings.current().keras_home), cache_subdir="models")
    except Exception as exc:  # noqa: BLE001 - get_file raises a bare Exception on URL failures
        advice = explain_download_failure(exc)
        cause = f"the download failed ({exc})" + (f"\n  {advice.rstrip('.')}" if advice else "")
        raise weights_not_available(name, fname, cause) from exc
    return Path(path)
