"""Step 6 of the capstone: save a model that loads in Keras's safe mode, load it, classify image files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tlcourse.capstone.stages import predict_proba
from tlcourse.data import check_image, load_images

__all__ = ["CLASSES_FILE", "MODEL_FILE", "REPORT_FILE", "Prediction", "load", "predict", "save"]

MODEL_FILE = "model.keras"
CLASSES_FILE = "classes.json"
REPORT_FILE = "report.json"


def save(model: Any, class_names: Sequence[str], out_dir: str | Path, report: dict | None = None) -> Path:
    """Write ``model.keras``, ``classes.json`` (and ``report.json`` when given) to ``out_dir``.

    Examples
    --------
    >>> save(model, ["ants", "bees"], "outputs/capstone")  # doctest: +SKIP
    PosixPath('outputs/capstone')
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / MODEL_FILE)
    (out / CLASSES_FILE).write_text(json.dumps(list(class_names), indent=1) + "\n", encoding="utf-8")
    if report is not None:
        (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return out


def load(out_dir: str | Path) -> tuple[Any, list[str]]:
    """Load a saved capstone model and its class names, in Keras's safe mode.

    Raises
    ------
    FileNotFoundError
        If the folder lacks ``model.keras`` or ``classes.json`` (run ``tlcourse train`` first).
    """
    import keras

    out = Path(out_dir)
    for name in (MODEL_FILE, CLASSES_FILE):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name} does not exist: train a model first "
                                    f"(`tlcourse train FOLDER --out {out}`).")
    model = keras.saving.load_model(out / MODEL_FILE, compile=False, safe_mode=True)
    class_names = json.loads((out / CLASSES_FILE).read_text(encoding="utf-8"))
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

    Each file is decoded and resized the way training images were; files that are
    missing or not images get a :class:`Prediction` with ``error`` set instead of
    stopping the others.

    Examples
    --------
    >>> for p in predict("outputs/capstone", ["my_photo.jpg"]):  # doctest: +SKIP
    ...     print(p)
    my_photo.jpg: bees (0.973)
    """
    if isinstance(model, (str, Path)):
        model, class_names = load(model)
    if class_names is None:
        raise ValueError("Give class_names with a model object (or pass the folder the model was saved to).")
    size = int(model.input_shape[1])
    results: list[Prediction] = []
    good: list[tuple[int, str]] = []
    for i, f in enumerate(files):
        path = Path(f)
        reason = None
        if not path.is_file():
            reason = "no such file"
        else:
            reason, _ = check_image(path)
        results.append(Prediction(str(f), None, 0.0, reason))
        if reason is None:
            good.append((i, str(f)))
    if good:
        x = load_images([f for _, f in good], image_size=size)
        probs = predict_proba(model, x)
        for (i, _), p in zip(good, probs):
            results[i] = Prediction(results[i].path, class_names[int(p.argmax())], float(p.max()))
    return results
