"""Is this machine ready for the course? What it needs, what is missing, how to get it, how fast it trains.

Behind ``tlcourse doctor``, ``tlcourse fetch`` and 00_setup_check's estimate of each lesson's minutes here.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from tlcourse import settings
from tlcourse_assets import datasets, text_model, weights
from tlcourse_assets.errors import ChecksumError, DataNotFoundError, WeightsNotAvailableError

__all__ = ["Asset", "course_assets", "fetch", "lesson_minutes", "time_training_step", "weights_needed"]


@dataclass
class Asset:
    """One thing the course needs: a data set, ImageNet weights or the text model.

    Examples
    --------
    >>> print(Asset("data", "usps", False, "not found", "run `tlcourse fetch`").line())
    [MISSING] data     usps                                     not found
               run `tlcourse fetch`
    """

    kind: str
    name: str
    available: bool
    where: str
    advice: str = ""

    def line(self) -> str:
        mark = "ok     " if self.available else "MISSING"
        text = f"[{mark}] {self.kind:8s} {self.name:40s} {self.where}"
        return text + (f"\n           {self.advice}" if self.advice and not self.available else "")


def weights_needed(profile: str) -> list[tuple[str, float | None]]:
    """The ImageNet bases (name, alpha) a profile's lessons load.

    Examples
    --------
    >>> weights_needed("quick")
    [('mobilenet_v2', 0.35), ('mobilenet', 0.25)]
    """
    quick: list[tuple[str, float | None]] = [("mobilenet_v2", 0.35), ("mobilenet", 0.25)]
    if profile == "quick":
        return quick
    return quick + [("mobilenet_v2", 1.0), ("mobilenet", 1.0), ("efficientnet_b0", None), ("resnet50", None),
                    ("vgg16", None), ("inception_v3", None)]


def course_assets(profile: str = "quick") -> list[Asset]:
    """Check, without downloading anything, which data sets, weights and text model are here.

    Examples
    --------
    >>> assets = course_assets("quick")  # looks, downloads nothing
    >>> sorted({a.kind for a in assets}), [a.name for a in assets if a.kind == "weights"]
    (['data', 'text', 'weights'], ['mobilenet_v2 alpha 0.35', 'mobilenet alpha 0.25'])
    """
    assets: list[Asset] = []
    absent = [p for p in settings.current().data_path if not p.is_dir()]
    advice = (f"{settings.DATA_ENV} names {', '.join(map(str, absent))}, which is not a folder: correct it (the "
              f"mirror's folder that holds flowers/, usps/ ...), or run `tlcourse fetch` (internet)" if absent else
              f"run `tlcourse fetch` (internet) or set {settings.DATA_ENV} to a mirror")
    for name in datasets.DATASETS:
        try:
            path = datasets.dataset_path(name, download_if_missing=False)
            assets.append(Asset("data", name, True, str(path)))
        except DataNotFoundError:
            assets.append(Asset("data", name, False, "not found", advice))
        except ChecksumError as exc:
            assets.append(Asset("data", name, False, "checksum mismatch", str(exc)))
    for name, alpha in weights_needed(profile):
        path = weights.cached_weights(name, alpha=alpha)
        fname = weights.weights_file(name, alpha=alpha)
        label = name + (f" alpha {alpha}" if alpha is not None else "")
        problem = weights.check_weights_file(path, name) if path else None
        if problem:
            assets.append(Asset("weights", label, False, f"{path} is damaged: {problem}",
                                "delete it and run `tlcourse fetch` (internet), or `tlcourse fetch --mirror DIR`"))
            continue
        assets.append(Asset("weights", label, path is not None, str(path) if path else fname,
                            "run `tlcourse fetch` (internet) or copy it from a mirror into $KERAS_HOME/models"))
    snapshot = text_model.hf_snapshot()
    assets.append(Asset("text", text_model.TEXT_MODEL, snapshot is not None,
                        str(snapshot) if snapshot else "not in the Hugging Face cache",
                        "run `tlcourse fetch` (internet) or copy a mirror's huggingface/ to $HF_HOME "
                        "and set HF_HUB_OFFLINE=1"))
    return assets


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True, symlinks=True)
    for p in [dst, *dst.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o200)


def _copy_from_mirror(mirror: Path, names: list[str], everything: bool) -> list[str]:
    """Copy what the mirror has; return the data sets it did not have."""
    left = []
    for name in names:
        src = mirror / "datasets" / name
        if not src.is_dir():
            src = mirror / name
        if not src.is_dir():
            left.append(name)
            continue
        dst = datasets.writable_data_dir() / name
        if src.resolve() != dst.resolve():
            print(f"copying {src} -> {dst}")
            _copy_tree(src, dst)
    if everything and (mirror / "keras" / "models").is_dir():
        weights.keras_cache_dir().mkdir(parents=True, exist_ok=True)
        for f in sorted((mirror / "keras" / "models").glob("*.h5")):
            dst = weights.keras_cache_dir() / f.name
            if dst.exists() and (dst.resolve() == f.resolve() or not weights.check_weights_file(dst)):
                continue  # a sound copy is here already
            problem = weights.check_weights_file(f)
            if problem:
                print(f"not copying {f}: the mirror's copy is damaged ({problem})")
                continue
            print(f"copying {f} -> {dst}" + (" (replacing a damaged copy)" if dst.exists() else ""))
            tmp = dst.with_name(dst.name + ".part")
            shutil.copy2(f, tmp)
            tmp.chmod(tmp.stat().st_mode | 0o200)
            tmp.replace(dst)
    hub = mirror / "huggingface" / "hub"
    if everything and hub.is_dir() and hub.resolve() != text_model.hf_cache_dir().resolve():
        _copy_tree(hub, text_model.hf_cache_dir())  # not when $HF_HOME is the mirror's huggingface/ already
    return left


def fetch(profile: str = "quick", *, mirror: str | os.PathLike[str] | None = None,
          names: list[str] | None = None) -> list[Asset]:
    """Get everything the course needs ahead of time: download it, or copy it from a mirror; return the state after.

    ``profile="full"`` adds the larger bases. A ``mirror`` (``datasets/``, ``keras/models/``, ``huggingface/hub/``)
    is copied into the data folder, ``$KERAS_HOME/models`` and the Hugging Face cache; the data sets and
    weights it lacks are then downloaded. ``names`` fetches only these data sets, nothing else. Damaged
    weights are downloaded again. Failures are printed, not raised.
    """
    wanted = names or list(datasets.DATASETS)
    if mirror is not None:
        wanted = _copy_from_mirror(Path(mirror), wanted, names is None)
    for name in wanted:
        try:
            datasets.dataset_path(name)
        except (DataNotFoundError, ChecksumError) as exc:
            print(exc)
    if names is None:
        for name, alpha in weights_needed(profile):
            path = weights.cached_weights(name, alpha=alpha)
            damaged = path is not None and weights.check_weights_file(path, name)
            if damaged and not settings.current().offline:
                path.unlink()  # else get_file would keep it: Keras has no hash to check for the MobileNets
            if path is None or damaged:
                try:
                    weights.download_weights(name, alpha=alpha)
                except WeightsNotAvailableError as exc:
                    print(exc)
        if text_model.hf_snapshot() is None and mirror is None:
            try:
                text_model.download_text_model()
            except WeightsNotAvailableError as exc:
                print(exc)
    return course_assets(profile)


def time_training_step(image_size: int = 96, batch_size: int = 32, steps: int = 5) -> dict[str, float]:
    """Time fine-tuning steps of MobileNetV2 (alpha 0.35, random weights) here.

    Returns ``first_step_s`` (the first call, graph tracing included), ``step_s`` and ``images_per_s``.

    Examples
    --------
    >>> t = time_training_step(steps=2)  # doctest: +SKIP
    >>> t["images_per_s"] > 0  # doctest: +SKIP
    True
    """
    import keras  # here, not at the top: `tlcourse fetch` and `doctor`'s first lines need no TensorFlow

    from tlcourse import models

    base = models.load_base("mobilenet_v2", alpha=0.35, input_size=image_size, weights=None)
    model = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5)])
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch_size, image_size, image_size, 3)).astype("float32")
    y = rng.integers(0, 5, batch_size)
    t0 = time.perf_counter()
    model.train_on_batch(x, y)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    step = (time.perf_counter() - t0) / steps
    return {"first_step_s": first, "step_s": step, "images_per_s": batch_size / step}


def lesson_minutes(images_per_s: float, *, full_profile: bool = False) -> dict[str, dict[str, float]]:
    """Minutes each lesson takes here: teaching, exercises, and computing scaled to this machine's speed.

    The course's minutes (``minutes.json``, shipped in the package) were measured on a 2-core CPU that
    trains ``images_per_second`` images a second: a machine twice as fast computes in half the time.
    With ``full_profile`` (a GPU) the computing is the course map's estimate instead.

    Examples
    --------
    >>> table = json.loads(resources.files("tlcourse").joinpath("minutes.json").read_text(encoding="utf-8"))
    >>> same, twice = lesson_minutes(table["images_per_second"]), lesson_minutes(2 * table["images_per_second"])
    >>> same["03_fine_tuning"]["computing"] == table["notebooks"]["03_fine_tuning"]["compute_quick"]
    True
    >>> twice["03_fine_tuning"]["computing"] == same["03_fine_tuning"]["computing"] / 2
    True
    """
    table = json.loads(resources.files("tlcourse").joinpath("minutes.json").read_text(encoding="utf-8"))
    factor = float(table["images_per_second"]) / max(images_per_s, 1e-6)
    return {name: {"teaching": float(m["teaching"]), "exercises": float(m["exercises"]),
                   "computing": float(m["compute_full"]) if full_profile else float(m["compute_quick"]) * factor}
            for name, m in sorted(table["notebooks"].items())}
