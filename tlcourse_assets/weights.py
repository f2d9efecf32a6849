"""ImageNet weights of the Keras Applications bases: their files, where they come from, where they live.

Keras keeps downloaded weights in ``$KERAS_HOME/models`` under the official file names that
``keras.applications`` uses; a classroom mirror copied there serves offline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tlcourse import settings
from tlcourse_assets.errors import WeightsNotAvailableError
from tlcourse_assets.files import explain_download_failure, file_digest

__all__ = [
    "BASE_MODELS",
    "BaseSpec",
    "base_spec",
    "cached_weights",
    "check_weights_file",
    "download_weights",
    "keras_cache_dir",
    "resolve_alpha",
    "verify_cached_weights",
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
    """Every fact the course uses about a Keras Applications base model, in one place.

    ``file_name(alpha, rows)`` is the official file without the top, at ``origin``; ``md5`` is the
    ``file_hash`` Keras passes to ``get_file`` (none for the MobileNets). ``imagenet_top1``: the full model's
    top-1 accuracy at ``default_size`` px, by alpha. ``rescale`` is the input scaling as ``Rescaling(scale,
    offset)`` of pixels in [0, 255]: ``(1.0, 0.0)`` for EfficientNet, which rescales inside; ``None`` for VGG16
    and ResNet50, which subtract ImageNet's mean colour from BGR pixels (use ``preprocess_input``). The
    capstone caches the base below ``cut_layer``'s input, which no skip connection crosses (``None``: the
    capstone does not offer the base).
    """

    name: str
    constructor: str
    module: str
    default_size: int
    alphas: tuple[float, ...] | None
    default_alpha: float | None
    file_name: Callable[[float | None, int], str]
    origin: str
    md5: str | None
    imagenet_top1: dict[float | None, float]
    top1_source: str
    rescale: tuple[float, float] | None
    cut_layer: str | None


_KERAS_TABLE = "the Keras Applications table (keras.io/api/applications)"
_MOBILENET_TABLE = "the Keras Applications documentation of {}, 224-px models"

BASE_MODELS: dict[str, BaseSpec] = {
    "mobilenet_v2": BaseSpec(
        name="mobilenet_v2", constructor="MobileNetV2", module="mobilenet_v2", default_size=224,
        alphas=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4), default_alpha=1.0, file_name=_mobilenet_v2_file,
        origin=_KERAS_APPLICATIONS + "mobilenet_v2/", md5=None,
        imagenet_top1={0.35: 0.603, 0.5: 0.654, 0.75: 0.698, 1.0: 0.713, 1.4: 0.750},
        top1_source=_MOBILENET_TABLE.format("MobileNetV2"), rescale=(1 / 127.5, -1.0),
        cut_layer="block_13_expand",  # the last three blocks, at the resolution of the last stage
    ),
    "mobilenet": BaseSpec(
        name="mobilenet", constructor="MobileNet", module="mobilenet", default_size=224,
        alphas=(0.25, 0.5, 0.75, 1.0), default_alpha=1.0, file_name=_mobilenet_file,
        origin=_KERAS_APPLICATIONS + "mobilenet/", md5=None,
        imagenet_top1={0.25: 0.506, 0.5: 0.637, 0.75: 0.684, 1.0: 0.706},
        top1_source=_MOBILENET_TABLE.format("MobileNet"), rescale=(1 / 127.5, -1.0), cut_layer="conv_dw_12",
    ),
    "efficientnet_b0": BaseSpec(
        name="efficientnet_b0", constructor="EfficientNetB0", module="efficientnet", default_size=224,
        alphas=None, default_alpha=None, file_name=lambda a, r: "efficientnetb0_notop.h5",
        origin="https://storage.googleapis.com/keras-applications/", md5="50bc09e76180e00e4465e1a485ddc09d",
        imagenet_top1={None: 0.771}, top1_source=_KERAS_TABLE, rescale=(1.0, 0.0),
        cut_layer="block6a_expand_conv",
    ),
    "resnet50": BaseSpec(
        name="resnet50", constructor="ResNet50", module="resnet50", default_size=224, alphas=None,
        default_alpha=None, file_name=lambda a, r: "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        origin=_KERAS_APPLICATIONS + "resnet/", md5="4d473c1dd8becc155b73f8504c6f6626",
        imagenet_top1={None: 0.749}, top1_source=_KERAS_TABLE, rescale=None, cut_layer=None,
    ),
    "vgg16": BaseSpec(
        name="vgg16", constructor="VGG16", module="vgg16", default_size=224, alphas=None, default_alpha=None,
        file_name=lambda a, r: "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        origin=_KERAS_APPLICATIONS + "vgg16/", md5="6d6bbae143d832006294945121d1f1fc",
        imagenet_top1={None: 0.713}, top1_source=_KERAS_TABLE, rescale=None, cut_layer=None,
    ),
    "inception_v3": BaseSpec(
        name="inception_v3", constructor="InceptionV3", module="inception_v3", default_size=299, alphas=None,
        default_alpha=None, file_name=lambda a, r: "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        origin=_KERAS_APPLICATIONS + "inception_v3/", md5="bcbd6486424b2319ff4ef7d526e38f63",
        imagenet_top1={None: 0.779}, top1_source=_KERAS_TABLE, rescale=(1 / 127.5, -1.0), cut_layer=None,
    ),
}


def base_spec(name: str) -> BaseSpec:
    """The registry entry of a base model (a ``KeyError`` naming the known ones for any other name).

    Introduced in 05_best_practices.

    Examples
    --------
    >>> base_spec("mobilenet_v2").constructor
    'MobileNetV2'
    """
    if name not in BASE_MODELS:
        raise KeyError(f"Unknown base model {name!r}; the course knows {sorted(BASE_MODELS)}.")
    return BASE_MODELS[name]


def resolve_alpha(spec: BaseSpec, alpha: float | None) -> float | None:
    """The width multiplier to use: ``alpha`` checked against the published ones (``ValueError``), or the default.

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


def weights_file(name: str, *, alpha: float | None = None) -> str:
    """The one official file (``include_top=False``) the course loads for a base and width, at any input size.

    Keras publishes MobileNet files trained at several input sizes; the course always takes the 224-px one
    (convolutions serve any size), so a learner online, a mirror and the lessons' figures use the same weights.

    Examples
    --------
    >>> weights_file("mobilenet_v2", alpha=0.35)
    'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5'
    """
    spec = base_spec(name)
    return spec.file_name(resolve_alpha(spec, alpha), spec.default_size)


def cached_weights(name: str, *, alpha: float | None = None) -> Path | None:
    """Path of the weights file in the Keras cache, or ``None`` if it is not there.

    Examples
    --------
    >>> p = cached_weights("resnet50")
    >>> p is None or p.is_file()
    True
    """
    path = keras_cache_dir() / weights_file(name, alpha=alpha)
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


def download_weights(name: str, *, alpha: float | None = None) -> Path:
    """Download a base's ImageNet weights into the Keras cache (verified where Keras publishes a hash).

    Raises ``WeightsNotAvailableError`` offline (``$TLCOURSE_OFFLINE``), when the download fails, or when
    the Keras cache is not writable (``get_file`` would save to ``/tmp/.keras`` instead).

    Examples
    --------
    >>> download_weights("mobilenet_v2", alpha=0.35).name  # doctest: +SKIP
    'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5'
    """
    spec = base_spec(name)
    fname = weights_file(name, alpha=alpha)
    if settings.current().offline:
        raise weights_not_available(name, fname, "offline mode ($TLCOURSE_OFFLINE) and not in the Keras cache")
    import keras

    # get_file saves to /tmp/.keras, silently, when the folder it is given is missing or read-only.
    try:
        keras_cache_dir().mkdir(parents=True, exist_ok=True)
        path = Path(keras.utils.get_file(fname, spec.origin + fname, file_hash=spec.md5,
                                         cache_dir=str(settings.current().keras_home), cache_subdir="models"))
    except Exception as exc:  # noqa: BLE001 - get_file raises a bare Exception on URL failures
        advice = explain_download_failure(exc)
        cause = f"the download failed ({exc})" + (f"\n  {advice.rstrip('.')}" if advice else "")
        raise weights_not_available(name, fname, cause) from exc
    if path.parent.resolve() != keras_cache_dir().resolve():
        raise weights_not_available(name, fname, f"{keras_cache_dir()} is not writable, so Keras saved the download "
                                                 f"to {path}; set KERAS_HOME to a folder you can write to")
    return path


_CHECKED: dict[tuple[str, int, int], str | None] = {}
#: Largest absolute value a weight of these networks holds (the real files stay under a few hundred):
#: random bytes written over a file's data give float32 values far beyond it.
_MAX_WEIGHT = 1e5


def _plausible_h5(path: Path) -> str | None:
    """Why an HDF5 weights file is not a sound Keras weights file, or ``None``: every array read, finite,
    in range, and every BatchNormalization variance non-negative."""
    import h5py
    import numpy as np

    problems: list[str] = []

    def visit(name: str, obj: object) -> None:
        if problems or not isinstance(obj, h5py.Dataset):
            return
        a = np.asarray(obj[()], dtype=np.float64)
        if not np.all(np.isfinite(a)):
            problems.append(f"{name} holds NaN or infinite values")
        elif a.size and np.abs(a).max() > _MAX_WEIGHT:
            problems.append(f"{name} holds values up to {np.abs(a).max():.3g}, beyond any trained weight")
        elif "moving_variance" in name and a.size and a.min() < 0:
            problems.append(f"{name} holds negative variances")

    try:
        with h5py.File(path, "r") as f:
            if "layer_names" not in f.attrs:
                return "not a Keras weights file (no layer_names)"
            f.visititems(visit)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        return f"not a readable HDF5 file, truncated or damaged ({exc})"
    return problems[0] if problems else None


def check_weights_file(path: str | os.PathLike[str], name: str | None = None) -> str | None:
    """Why a weights file in the Keras cache cannot be trusted, or ``None`` when it can.

    Where Keras publishes the file's MD5 (every base here but the MobileNets), it must match; the
    MobileNets' files are read whole instead: a truncated file, or values no trained network holds (NaN,
    huge numbers, negative variances), are refused. The answer is kept per file size and modification time.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "efficientnetb0_notop.h5"; _ = p.write_bytes(b"not weights")
    >>> check_weights_file(p, "efficientnet_b0")
    'its MD5 is ... Keras publishes 50bc09e76180e00e4465e1a485ddc09d: damaged or not the official file'
    """
    path = Path(path)
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _CHECKED:
        spec = BASE_MODELS.get(name) if name else next(
            (b for b in BASE_MODELS.values() if b.md5 and b.file_name(None, b.default_size) == path.name), None)
        if spec is not None and spec.md5 and path.name == spec.file_name(None, spec.default_size):
            md5 = file_digest(path, "md5")
            _CHECKED[key] = None if md5 == spec.md5 else (
                f"its MD5 is {md5} where Keras publishes {spec.md5}: damaged or not the official file")
        else:
            _CHECKED[key] = _plausible_h5(path)
    return _CHECKED[key]


def verify_cached_weights(name: str, *, alpha: float | None = None) -> None:
    """Refuse, naming the file and how to get a good copy, a damaged weights file a base would load.

    Raises ``WeightsNotAvailableError`` where :func:`check_weights_file` finds a problem; a missing file is no error here.

    Examples
    --------
    >>> verify_cached_weights("mobilenet_v2", alpha=0.35)  # nothing to say when the file is sound  # doctest: +SKIP
    """
    path = keras_cache_dir() / weights_file(name, alpha=alpha)
    problem = check_weights_file(path, name) if path.is_file() else None
    if problem:
        raise WeightsNotAvailableError(
            f"The ImageNet weights {path} are damaged: {problem}.\n"
            f"  Get a good copy: delete the file and run `tlcourse fetch` (internet), or "
            f"`tlcourse fetch --mirror DIR` (it replaces a damaged copy from a classroom mirror).\n"
            f"  Training on them would give a model no better than chance, so nothing was trained."
        )
