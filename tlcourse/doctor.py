"""Is this machine ready for the course? What is missing, how long will it take?

Used by ``tlcourse doctor``, ``tlcourse fetch`` and 00_setup_check.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tlcourse import data, models
from tlcourse.text import hf_cache_dir, hf_snapshot

__all__ = [
    "NOTEBOOK_MINUTES",
    "Asset",
    "course_assets",
    "estimate_minutes",
    "fetch",
    "time_training_step",
]

#: Text base model of 07_text_transfer, as a Hugging Face repository.
TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

#: Minutes each notebook took end to end in the quick profile on the 2-core CPU
#: where the course is tested (nbval run), and the training speed measured there
#: by :func:`time_training_step`. Used to scale an estimate for another machine.
NOTEBOOK_MINUTES: dict[str, float] = {
    "00_setup_check": 0.6,
    "01_what_is_transfer_learning": 1.7,
    "02_feature_extraction": 0.7,
    "03_fine_tuning": 2.1,
    "04_domain_adaptation": 2.2,
    "05_best_practices": 1.7,
    "06_capstone_your_own_data": 0.6,
    "07_text_transfer": 1.2,
}
REFERENCE_IMAGES_PER_SECOND = 140.0


@dataclass
class Asset:
    """One thing the course needs: a data set, ImageNet weights or the text model."""

    kind: str
    name: str
    available: bool
    where: str
    advice: str = ""

    def line(self) -> str:
        mark = "ok     " if self.available else "MISSING"
        text = f"[{mark}] {self.kind:8s} {self.name:40s} {self.where}"
        return text + (f"\n           {self.advice}" if self.advice and not self.available else "")


def _weights_needed(profile: str) -> list[tuple[str, float | None]]:
    quick = [("mobilenet_v2", 0.35), ("mobilenet", 0.25)]
    if profile == "quick":
        return quick
    return quick + [("mobilenet_v2", 1.0), ("mobilenet", 1.0), ("efficientnet_b0", None), ("resnet50", None)]


def course_assets(profile: str = "quick") -> list[Asset]:
    """Check, without downloading anything, which data sets and weights are here.

    Examples
    --------
    >>> all(isinstance(a, Asset) for a in course_assets("quick"))  # doctest: +SKIP
    True
    """
    assets: list[Asset] = []
    for name in data.DATASETS:
        try:
            path = data.dataset_path(name, download_if_missing=False)
            assets.append(Asset("data", name, True, str(path)))
        except data.DataNotFoundError:
            assets.append(Asset("data", name, False, "not found",
                                f"run `tlcourse fetch` (internet) or set {data.DATA_ENV} to a mirror"))
        except data.ChecksumError as exc:
            assets.append(Asset("data", name, False, "checksum mismatch", str(exc)))
    for name, alpha in _weights_needed(profile):
        fname = models.weights_file(name, alpha=alpha, input_size=224)
        path = models.keras_cache_dir() / fname
        label = f"{name}" + (f" alpha {alpha}" if alpha is not None else "")
        assets.append(Asset("weights", label, path.is_file(), str(path) if path.is_file() else fname,
                            "run `tlcourse fetch` (internet) or copy it from a mirror into $KERAS_HOME/models"))
    snapshot = hf_snapshot(f"hf://{TEXT_MODEL}")
    ok = snapshot is not None
    assets.append(Asset("text", TEXT_MODEL, ok, str(snapshot) if ok else "not in the Hugging Face cache",
                        "run `tlcourse fetch` (internet) or copy a mirror's huggingface/ to $HF_HOME "
                        "and set HF_HUB_OFFLINE=1"))
    return assets


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True, symlinks=True)
    for p in [dst, *dst.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o200)


def fetch(profile: str = "quick", *, mirror: str | os.PathLike[str] | None = None,
          names: list[str] | None = None) -> list[Asset]:
    """Get everything the course needs ahead of time: download it, or copy it from a mirror.

    Parameters
    ----------
    profile
        ``"quick"`` fetches the small bases; ``"full"`` adds the larger ones.
    mirror
        A folder laid out like the course mirror (``datasets/``, ``keras/models/``,
        ``huggingface/``): copied into the data folder, ``$KERAS_HOME`` and
        ``$HF_HOME`` instead of downloading.
    names
        Only these data sets (default: all, and the weights and text model).

    Returns
    -------
    list of Asset
        The state after fetching.
    """
    mirror_path = Path(mirror) if mirror else None
    wanted = names or list(data.DATASETS)
    for name in wanted:
        if mirror_path is not None:
            src = mirror_path / "datasets" / name
            if not src.is_dir():
                src = mirror_path / name
            if src.is_dir():
                dst = data._writable_data_dir() / name
                if src.resolve() != dst.resolve():
                    print(f"copying {src} -> {dst}")
                    _copy_tree(src, dst)
                continue
        try:
            data.dataset_path(name)
        except (data.DataNotFoundError, data.ChecksumError) as exc:
            print(exc)
    if names is None:
        if mirror_path is not None and (mirror_path / "keras" / "models").is_dir():
            models.keras_cache_dir().mkdir(parents=True, exist_ok=True)
            for f in (mirror_path / "keras" / "models").glob("*.h5"):
                dst = models.keras_cache_dir() / f.name
                if not dst.exists():
                    print(f"copying {f} -> {dst}")
                    shutil.copy2(f, dst)
                    dst.chmod(dst.stat().st_mode | 0o200)
        if mirror_path is not None and (mirror_path / "huggingface").is_dir():
            _copy_tree(mirror_path / "huggingface", hf_cache_dir().parent)
        for name, alpha in _weights_needed(profile):
            try:
                models.load_base(name, alpha=alpha, input_size=224, verbose=False)
            except models.WeightsNotAvailableError as exc:
                print(exc)
        if not data.offline() and mirror_path is None:
            try:
                import keras_hub

                keras_hub.models.BertBackbone.from_preset(f"hf://{TEXT_MODEL}")
                keras_hub.models.BertTokenizer.from_preset(f"hf://{TEXT_MODEL}")
            except Exception as exc:  # noqa: BLE001 - report and go on with the rest
                print(f"Could not download {TEXT_MODEL}: {exc}")
    return course_assets(profile)


def time_training_step(image_size: int = 96, batch_size: int = 32, steps: int = 5) -> dict[str, float]:
    """Time fine-tuning steps of MobileNetV2 (alpha 0.35, random weights) here.

    Random weights are enough to time the arithmetic, and need no download.
    The first call traces the graph; it is timed separately.

    Returns
    -------
    dict
        ``first_step_s`` (tracing included), ``step_s`` and ``images_per_s``.

    Examples
    --------
    >>> t = time_training_step(steps=2)  # doctest: +SKIP
    >>> t["images_per_s"] > 0  # doctest: +SKIP
    True
    """
    import keras

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


def estimate_minutes(images_per_s: float) -> dict[str, float]:
    """Scale the minutes measured on the test machine by this machine's training speed.

    Examples
    --------
    >>> round(estimate_minutes(REFERENCE_IMAGES_PER_SECOND)["00_setup_check"], 1)
    0.6
    """
    factor = REFERENCE_IMAGES_PER_SECOND / max(images_per_s, 1e-6)
    return {k: v * factor for k, v in NOTEBOOK_MINUTES.items()}
