"""Step 6 of the capstone: save a model that loads in Keras's safe mode, load it, classify image files."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from tlcourse.data import ImageReadError, check_image, read_rgb
from tlcourse.data.images import shown
from tlcourse_cli.capstone.stages import predict_proba

__all__ = ["CLASSES_FILE", "MODEL_FILE", "REPORT_FILE", "SPLITS_FILE", "ModelFolderError", "Prediction", "check_out_dir", "load",
           "predict", "save"]

MODEL_FILE = "model.keras"
CLASSES_FILE = "classes.json"
REPORT_FILE = "report.json"
SPLITS_FILE = "splits.json"
#: What a model folder may hold: its files, and what a file browser leaves after showing it (replaced with it).
_OURS = frozenset({MODEL_FILE, CLASSES_FILE, REPORT_FILE, SPLITS_FILE,
                   ".DS_Store", "Thumbs.db", "desktop.ini", ".ipynb_checkpoints"})


class ModelFolderError(ValueError):
    """A model folder that cannot be written, or read back as a classifier; the message says what to do."""


def check_out_dir(out_dir: str | Path) -> Path:
    """Where a model will be saved (``~`` expanded), checked before any training.

    It must be a new or empty folder, or a model folder of ``tlcourse train`` (replaced whole), in a place
    this user can write to; else :class:`ModelFolderError`.

    Examples
    --------
    >>> d = Path(tempfile.mkdtemp())
    >>> check_out_dir(d / "models" / "flowers") == d / "models" / "flowers"
    True
    >>> _ = (d / "notes.txt").write_text("mine")
    >>> check_out_dir(d)
    Traceback (most recent call last):
    ...
    tlcourse_cli.capstone.saving.ModelFolderError: --out ... already holds other files (notes.txt): ...
    """
    out = Path(out_dir).expanduser().absolute()
    if out.is_symlink() and out.is_dir():
        out = out.resolve()  # replace the folder it points to, not the link
    if out.exists() and not out.is_dir():
        raise ModelFolderError(f"--out {out} is a file, not a folder: give a new folder for the model.")
    if out.is_dir():
        try:
            others = sorted(p.name for p in out.iterdir() if p.name not in _OURS)
        except OSError as exc:
            raise ModelFolderError(f"--out {out} cannot be read ({exc.strerror or exc}).") from None
        if others:
            raise ModelFolderError(f"--out {out} already holds other files ({', '.join(others[:5])}): the model "
                                   f"replaces the whole folder, so give a new or empty folder (or one "
                                   f"`tlcourse train` wrote).")
    existing = out.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ModelFolderError(f"--out {out}: {existing} is a file, so no folder can be made there.")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tlcourse-write-test-", dir=existing))
    except OSError as exc:
        raise ModelFolderError(f"--out {out} cannot be written: {existing} refuses new files "
                               f"({exc.strerror or exc}). Give a folder you can write to.") from None
    return out


def save(model: Any, class_names: Sequence[str], out_dir: str | Path, report: dict | None = None,
         splits: dict | None = None) -> Path:
    """Write ``model.keras``, ``classes.json`` (and ``report.json``, ``splits.json`` when given) to ``out_dir``,
    all or nothing.

    Everything is written to a temporary folder beside ``out_dir``, then renamed into place: an interruption
    (Ctrl-C, a full disk) leaves the previous model folder as it was, never a new model beside old class names.

    Examples
    --------
    >>> save(model, ["ants", "bees"], "outputs/capstone")  # doctest: +SKIP
    PosixPath('outputs/capstone')
    """
    out = check_out_dir(out_dir)
    if int(model.output_shape[-1]) != len(class_names):
        raise ValueError(f"The model has {model.output_shape[-1]} outputs but {len(class_names)} class names.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.saving-", dir=out.parent))
    old = out.parent / f".{out.name}.old-{tmp.name.rsplit('-', 1)[-1]}"
    try:
        model.save(tmp / MODEL_FILE)
        (tmp / CLASSES_FILE).write_text(json.dumps(list(class_names), indent=1) + "\n", encoding="utf-8")
        if report is not None:
            (tmp / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        if splits is not None:
            (tmp / SPLITS_FILE).write_text(json.dumps(splits, indent=1) + "\n", encoding="utf-8")
        if out.exists():
            os.rename(out, old)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out.exists():
            os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return out


def _read_model(path: Path) -> Any:

    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        bad = f"not a .keras archive ({exc})"
    if bad:
        raise ModelFolderError(f"{path} is damaged (first bad member: {bad}): train the model again "
                               f"(`tlcourse train FOLDER --out {path.parent}`).")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds of error for a model it cannot rebuild
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise ModelFolderError(f"{path} holds a Lambda layer (Python code that loading would run): refused. "
                                   f"`tlcourse predict` loads models saved by `tlcourse train`, which hold no code.") from None
        raise ModelFolderError(f"{path} could not be loaded as a Keras model ({type(exc).__name__}: "
                               f"{str(exc).splitlines()[0][:200]}): is it a model saved by `tlcourse train`?") from None


def _image_size(model: Any, class_names: Sequence[str], where: str) -> int:
    """The square input size of an image classifier with one output per class name, or a clear error."""
    shapes = [tuple(t.shape) for t in model.inputs]
    shape = shapes[0] if len(shapes) == 1 else ()
    if len(shape) != 4 or shape[3] != 3 or shape[1] != shape[2] or not isinstance(shape[1], int):
        raise ModelFolderError(f"{where} takes input(s) {shapes}, not square RGB images of one fixed size "
                               f"(None, N, N, 3): it is not an image classifier saved by `tlcourse train`.")
    outputs = tuple(model.output_shape) if len(model.outputs) == 1 else ()
    if len(outputs) != 2 or outputs[1] != len(class_names):
        raise ModelFolderError(f"{where} gives outputs {model.output_shape} but its class list has "
                               f"{len(class_names)} names: the model and its classes.json do not belong together.")
    return int(shape[1])


def load(out_dir: str | Path) -> tuple[Any, list[str]]:
    """Load a saved capstone model and its class names, in Keras's safe mode, and check they fit together.

    Raises ``FileNotFoundError`` if ``model.keras`` or ``classes.json`` is missing (run ``tlcourse train``
    first), :class:`ModelFolderError` if the model is damaged, holds code (a ``Lambda`` layer), is not an
    image classifier of a fixed input size, or does not match its ``classes.json``.
    """
    out = Path(out_dir).expanduser()
    for name in (MODEL_FILE, CLASSES_FILE):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name} does not exist: train a model first "
                                    f"(`tlcourse train FOLDER --out {out}`).")
    try:
        class_names = json.loads((out / CLASSES_FILE).read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise ModelFolderError(f"{out / CLASSES_FILE} is not readable JSON ({exc}).") from None
    if (not isinstance(class_names, list) or not all(isinstance(c, str) for c in class_names)
            or len(set(class_names)) != len(class_names)):
        raise ModelFolderError(f"{out / CLASSES_FILE} must be a list of distinct class names, like "
                               f'["daisy", "rose"]; it holds {str(class_names)[:80]}.')
    model = _read_model(out / MODEL_FILE)
    _image_size(model, class_names, str(out / MODEL_FILE))
    return model, class_names


@dataclass
class Prediction:
    """The class of one image file and its probability (``error`` when the file could not be read)."""

    path: str
    label: str | None
    probability: float
    error: str | None = None

    def __str__(self) -> str:
        if self.error:
            return f"{self.path}: ERROR {self.error}"
        return f"{self.path}: {self.label} ({self.probability:.3f})"


def predict(model: Any, files: Sequence[str | Path], class_names: Sequence[str] | None = None) -> list[Prediction]:
    """Classify image files with a capstone model (or the folder it was saved to).

    Each file is decoded and resized the way training images were; a file that is missing or not an image
    gets a :class:`Prediction` with ``error`` set instead of stopping the others.

    Examples
    --------
    >>> for p in predict("outputs/capstone", ["my_photo.jpg"]):  # doctest: +SKIP
    ...     print(p)
    my_photo.jpg: bees (...)
    """
    if isinstance(model, (str, Path)):
        model, class_names = load(model)
    if class_names is None:
        raise ValueError("Give class_names with a model object (or pass the folder the model was saved to).")
    size = _image_size(model, class_names, "the model")
    results: list[Prediction] = []
    good: list[tuple[int, np.ndarray]] = []
    for i, f in enumerate(files):
        path = Path(f)
        reason = None if path.is_file() else "no such file"
        if reason is None:
            reason, _ = check_image(path)
        if reason is None:
            try:  # read now: the file may have changed since it was checked
                good.append((i, read_rgb(path, size)))
            except ImageReadError as exc:
                reason = exc.reason
        results.append(Prediction(shown(f), None, 0.0, reason))
    if good:
        probs = predict_proba(model, np.stack([x for _, x in good]))
        for (i, _), p in zip(good, probs):
            results[i] = Prediction(results[i].path, class_names[int(p.argmax())], float(p.max()))
    return results
