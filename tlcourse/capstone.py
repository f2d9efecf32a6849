"""The capstone: transfer learning on a folder of your own photos, from audit to ``predict``.

Introduced in 06_capstone_your_own_data, and the code behind the ``tlcourse train``
and ``tlcourse predict`` commands. It is the code that meets data nobody has seen,
so it checks before it trains and says what is wrong in words a learner can act on.

The recipe, each stage evaluated on the held-out test split:

1. :func:`audit_folder`: classes, counts, image sizes, unreadable, non-image and
   duplicate files, class imbalance; a :class:`FolderError` for a folder that is wrong.
2. :func:`make_splits`: train/validation/test, from the folder's own splits where
   it has them (``train``, ``val``/``validation``, ``test``), seeded and stratified otherwise.
3. :func:`baseline`: logistic regression on 16x16 colour thumbnails, no pretraining.
4. :func:`feature_extraction`: a frozen ImageNet base, a softmax head trained on its
   cached features.
5. :func:`fine_tune`: the top of the base unfrozen, a low learning rate, augmentation.
6. :func:`save` / :func:`load` / :func:`predict`: a ``.keras`` file that holds its own
   preprocessing (a ``Rescaling`` layer, no ``Lambda``), so it loads in Keras's safe
   mode and classifies a raw image file.

Folder layouts: ``folder/<class>/*`` or ``folder/<split>/<class>/*``.

Command line (wired into ``tlcourse`` by :func:`add_cli`)::

    tlcourse train FOLDER --out DIR
    tlcourse predict DIR IMAGE...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tlcourse import data as _data

__all__ = [
    "Audit",
    "FolderError",
    "Prediction",
    "Splits",
    "StageResult",
    "add_cli",
    "audit_folder",
    "baseline",
    "build_model",
    "cli_predict",
    "cli_train",
    "evaluate",
    "feature_extraction",
    "fine_tune",
    "load",
    "load_split_images",
    "make_splits",
    "predict",
    "save",
    "show_stage",
    "train",
    "worst_mistakes",
]

SPLIT_NAMES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
MODEL_FILE = "model.keras"
CLASSES_FILE = "classes.json"
REPORT_FILE = "report.json"
MIN_PER_CLASS = 3  # one image each for train, validation and test

# Input scaling each base was trained with, as a Rescaling layer (scale, offset):
# a registered Keras layer, so the saved model loads without unsafe deserialisation.
_RESCALE = {
    "mobilenet_v2": (1 / 127.5, -1.0),
    "mobilenet": (1 / 127.5, -1.0),
    "efficientnet_b0": (1.0, 0.0),  # EfficientNet rescales inside the model
}


class FolderError(ValueError):
    """The image folder cannot be used as it is; the message says what to change."""


# --------------------------------------------------------------------------- audit


@dataclass
class Audit:
    """What :func:`audit_folder` found.

    Attributes
    ----------
    root
        The folder audited.
    layout
        ``"class"`` (``root/<class>/*``) or ``"split"`` (``root/<split>/<class>/*``).
    class_names
        Sorted class names; labels index into it.
    splits
        ``{split: ImageFolder}`` with the folder's own splits (``"all"`` for the class layout),
        duplicates already removed.
    skipped
        ``(path, reason)`` for unreadable and non-image files.
    duplicates
        Groups of files with identical bytes (the first of each group is kept).
    sizes
        ``(width, height)`` of every usable image.
    warnings
        Things that do not stop training but deserve a look (imbalance, duplicates, tiny images).
    """

    root: Path
    layout: str
    class_names: list[str]
    splits: dict[str, _data.ImageFolder]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[list[str]] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """Images per class in each of the folder's splits."""
        return {name: folder.counts() for name, folder in self.splits.items()}

    @property
    def imbalance(self) -> float:
        """Largest class over smallest class, over all splits together."""
        totals = np.zeros(len(self.class_names))
        for folder in self.splits.values():
            totals += np.bincount(folder.labels, minlength=len(self.class_names))
        return float(totals.max() / max(totals.min(), 1))

    def summary(self) -> str:
        """A readable report: layout, counts, sizes, skipped files, duplicates, warnings."""
        n = sum(len(f) for f in self.splits.values())
        lines = [f"{self.root}: {n} usable images, {len(self.class_names)} classes, layout "
                 + ("<class>/*" if self.layout == "class" else "<split>/<class>/*")]
        width = max(len(c) for c in self.class_names)
        header = " " * (width + 2) + "".join(f"{s:>8}" for s in self.splits)
        lines.append(header)
        counts = self.counts()
        for c in self.class_names:
            lines.append(f"  {c:<{width}}" + "".join(f"{counts[s][c]:>8}" for s in self.splits))
        if self.sizes:
            w = np.array([s[0] for s in self.sizes])
            h = np.array([s[1] for s in self.sizes])
            lines.append(f"  image sizes: width {w.min()}-{w.max()} (median {int(np.median(w))}), "
                         f"height {h.min()}-{h.max()} (median {int(np.median(h))})")
        lines.append(f"  class imbalance (largest/smallest): {self.imbalance:.2f}")
        lines.append(f"  skipped files: {len(self.skipped)}")
        lines += [f"    {p}: {r}" for p, r in self.skipped[:10]]
        if len(self.skipped) > 10:
            lines.append(f"    ... and {len(self.skipped) - 10} more")
        lines.append(f"  duplicate groups (identical bytes): {len(self.duplicates)}")
        lines += [f"    {' = '.join(g)}" for g in self.duplicates[:5]]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _layout(root: Path) -> tuple[str, dict[str, Path]]:
    subdirs = _visible_dirs(root)
    split_dirs = {p: SPLIT_NAMES[p.name.lower()] for p in subdirs if p.name.lower() in SPLIT_NAMES}
    if subdirs and len(split_dirs) == len(subdirs):
        named: dict[str, Path] = {}
        for p, s in split_dirs.items():
            if s in named:
                raise FolderError(f"{root} has two folders for the {s!r} split ({named[s].name} and {p.name}); "
                                  f"merge them or remove one.")
            named[s] = p
        if "train" not in named:
            raise FolderError(f"{root} has split folders {sorted(p.name for p in subdirs)} but no 'train' folder; "
                              f"rename the folder with the training images to 'train'.")
        return "split", named
    if split_dirs and len(split_dirs) < len(subdirs):
        others = [p.name for p in subdirs if p not in split_dirs]
        raise FolderError(
            f"{root} mixes split folders ({sorted(p.name for p in split_dirs)}) with other folders ({others}). "
            f"Use either {root}/<class>/* or {root}/<split>/<class>/* with splits train, val, test."
        )
    return "class", {"all": root}


def audit_folder(folder: str | Path, *, min_per_class: int = MIN_PER_CLASS) -> Audit:
    """Check a folder of images before any training, and say what is wrong with it.

    Every file is opened and decoded once (unreadable, truncated and non-image
    files are skipped with a reason), hashed to find exact duplicates (kept once:
    a photo in both train and test would inflate the test accuracy), and counted.

    Parameters
    ----------
    folder
        ``folder/<class>/*`` or ``folder/<split>/<class>/*`` (splits ``train``,
        ``val`` or ``validation``, ``test``).
    min_per_class
        Fewest usable images a class may have (in the training split of the split layout).

    Raises
    ------
    FolderError
        If the path does not exist, holds no images, has fewer than two classes, an
        empty (or too small) class, or splits whose classes disagree.

    Examples
    --------
    >>> audit = audit_folder(dataset_path("hymenoptera"))  # doctest: +SKIP
    >>> audit.layout, audit.class_names  # doctest: +SKIP
    ('split', ['ants', 'bees'])
    """
    root = Path(folder).expanduser()
    if not root.exists():
        where = "" if root.is_absolute() else f" (a relative path: from {Path.cwd()})"
        raise FolderError(f"{root} does not exist{where}. Check the path.")
    if not root.is_dir():
        raise FolderError(f"{root} is a file, not a folder. Give the folder that holds one sub-folder per class.")
    layout, split_dirs = _layout(root)
    loose = [p for p in root.iterdir() if p.is_file() and p.suffix.lower() in _data.IMAGE_SUFFIXES]
    if layout == "class" and not _visible_dirs(root):
        if loose:
            raise FolderError(f"{root} holds {len(loose)} images but no class folders. Put the images of each "
                              f"class in a sub-folder named after it: {root}/<class>/*.jpg.")
        raise FolderError(f"{root} has no images and no class folders. Expected {root}/<class>/*.jpg "
                          f"(or {root}/train/<class>/*.jpg ...).")

    skipped: list[tuple[str, str]] = []
    found: dict[str, dict[str, tuple[list[str], list[tuple[int, int]]]]] = {}
    for split, sdir in split_dirs.items():
        classes = _visible_dirs(sdir)
        found[split] = {}
        for cdir in classes:
            files, sizes, bad = _data.scan_class_folder(cdir)
            skipped += bad
            found[split][cdir.name] = (files, sizes)

    train_key = "train" if layout == "split" else "all"
    class_names = sorted(found[train_key])
    total = sum(len(f) for s in found.values() for f, _ in s.values())
    if total == 0:
        raise FolderError(f"{root} has no usable images ({len(skipped)} files skipped"
                          + (f", for example {skipped[0][0]}: {skipped[0][1]}" if skipped else "") + ").")
    where = f"{root}/train" if layout == "split" else str(root)
    if len(class_names) < 2:
        raise FolderError(f"{where} has {len(class_names)} class folder(s) {class_names}: a classifier needs at "
                          f"least two classes, one sub-folder each.")
    empty = [c for c in class_names if not found[train_key][c][0]]
    if empty:
        raise FolderError(f"Class folder(s) with no usable image in {where}: {', '.join(empty)}. Add images or "
                          f"remove the folder." + (f" ({len(skipped)} files were skipped: see the audit.)" if skipped else ""))
    small = {c: len(found[train_key][c][0]) for c in class_names if len(found[train_key][c][0]) < min_per_class}
    if small:
        raise FolderError(f"Too few images in {where} for class(es) {small}: each class needs at least "
                          f"{min_per_class} (one for training, validation and test each); a few dozen is better.")
    for split, classes in found.items():
        if split == train_key:
            continue
        extra = sorted(set(classes) - set(class_names))
        missing = sorted(c for c in class_names if not classes.get(c, ([],))[0])
        if extra:
            raise FolderError(f"{root}/{split_dirs[split].name} has class(es) {extra} that train does not have. "
                              f"Every split needs the same class folders.")
        if missing:
            raise FolderError(f"{root}/{split_dirs[split].name} has no usable images for class(es) {missing}. "
                              f"Every split needs images of every class.")

    # Exact duplicates: keep one copy, preferring the evaluation splits so none leaks into training.
    order = [s for s in ("test", "val", "all", "train") if s in found]
    seen: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    labels_of: dict[str, set[str]] = {}
    splits: dict[str, _data.ImageFolder] = {}
    all_sizes: list[tuple[int, int]] = []
    for split in order:
        files_out, labels_out, sizes_out = [], [], []
        for label, cls in enumerate(class_names):
            files, sizes = found[split].get(cls, ([], []))
            for f, size in zip(files, sizes):
                digest = _data.sha256sum(f)
                labels_of.setdefault(digest, set()).add(cls)
                if digest in seen:
                    groups.setdefault(digest, [seen[digest]]).append(f)
                    continue
                seen[digest] = f
                files_out.append(f)
                labels_out.append(label)
                sizes_out.append(size)
        all_sizes += sizes_out
        splits[split] = _data.ImageFolder(split_dirs[split], list(class_names), files_out,
                                          np.asarray(labels_out, np.int64), [], sizes_out)
    splits = {s: splits[s] for s in ("all", "train", "val", "test") if s in splits}

    audit = Audit(root, layout, class_names, splits, skipped, list(groups.values()), all_sizes)
    if groups:
        n_extra = sum(len(g) - 1 for g in groups.values())
        audit.warnings.append(f"{n_extra} duplicate file(s) removed (kept one copy of each, in the evaluation "
                              f"split where there was one, so no test photo is also a training photo)")
        conflicting = [d for d, cls in labels_of.items() if len(cls) > 1]
        if conflicting:
            audit.warnings.append(f"{len(conflicting)} image(s) appear under two different classes: check their labels")
    for split, sub in splits.items():
        small_after = [c for c, n in sub.counts().items() if n == 0]
        if small_after:
            raise FolderError(f"After removing duplicates, {split} has no image of class(es) {small_after}.")
    if audit.imbalance > 3:
        audit.warnings.append(f"classes are imbalanced (largest/smallest {audit.imbalance:.1f}): accuracy flatters a "
                              f"model that favours the big classes; training weights classes by inverse frequency")
    tiny = sum(1 for w, h in all_sizes if min(w, h) < 64)
    if tiny:
        audit.warnings.append(f"{tiny} image(s) smaller than 64 px on a side: they will be upscaled and blurry")
    if skipped:
        audit.warnings.append(f"{len(skipped)} file(s) skipped (unreadable, not images, or formats the pipeline "
                              f"does not read): listed above")
    return audit


# --------------------------------------------------------------------------- splits


@dataclass
class Splits:
    """Train, validation and test sets, and how they were made (``notes``)."""

    train: _data.ImageFolder
    val: _data.ImageFolder
    test: _data.ImageFolder
    class_names: list[str]
    notes: list[str] = field(default_factory=list)

    def items(self) -> list[tuple[str, _data.ImageFolder]]:
        return [("train", self.train), ("val", self.val), ("test", self.test)]

    def summary(self) -> str:
        lines = [f"  {name:<5} {len(f):>5} images  {f.counts()}" for name, f in self.items()]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])

    def __str__(self) -> str:
        return self.summary()


def _per_class_split(labels: np.ndarray, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Split indices per class by ``fractions`` (of the held-out parts), at least one each; rest first."""
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in range(len(fractions) + 1)]
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        start = 0
        for k, frac in enumerate(fractions, 1):
            n = max(1, int(round(frac * idx.size)))
            n = min(n, idx.size - start - 1)  # leave at least one for training
            parts[k] += idx[start:start + n].tolist()
            start += n
        parts[0] += idx[start:].tolist()
    return [np.sort(np.asarray(p, dtype=int)) for p in parts]


def _cap(folder: _data.ImageFolder, max_per_class: int | None, seed: int) -> _data.ImageFolder:
    if max_per_class is None or max(folder.counts().values()) <= max_per_class:
        return folder
    return folder.subset(_data.few_shot(folder.labels, max_per_class, seed=seed))


def make_splits(
    audit: Audit,
    *,
    val: float = 0.15,
    test: float = 0.15,
    seed: int = 42,
    max_per_class: int | None = None,
) -> Splits:
    """Train/validation/test sets from an audited folder, seeded and stratified.

    ``<class>/*`` folders are split ``1 - val - test`` / ``val`` / ``test`` per class.
    ``<split>/<class>/*`` folders keep their splits; without ``val`` one is carved from
    ``train``; without ``test`` the folder's ``val`` split serves as test (and validation
    is carved from ``train``), because the test split must not be used to choose anything.

    Parameters
    ----------
    max_per_class
        Keep at most this many images of each class in each split (seeded), to bound the
        run time (the quick profile's ``max_per_class``); ``None`` keeps everything.

    Examples
    --------
    >>> splits = make_splits(audit_folder(dataset_path("hymenoptera")))  # doctest: +SKIP
    >>> splits.notes[0]  # doctest: +SKIP
    "no 'test' split: the folder's 'val' split serves as the test set ..."
    """
    notes: list[str] = []
    s = audit.splits
    if audit.layout == "class":
        everything = s["all"]
        if max_per_class is not None and max(everything.counts().values()) > max_per_class:
            cap = int(np.ceil(max_per_class / (1 - val - test)))
            everything = _cap(everything, cap, seed)
            notes.append(f"at most {cap} images per class used (profile max_per_class={max_per_class} for training)")
        tr, va, te = _per_class_split(everything.labels, [val, test], seed)
        train, val_f, test_f = everything.subset(tr), everything.subset(va), everything.subset(te)
        notes.append(f"stratified split of {everything.root}, seed {seed}: {1 - val - test:.0%} train, "
                     f"{val:.0%} validation, {test:.0%} test")
    else:
        train = s["train"]
        if "test" in s:
            test_f = s["test"]
            notes.append("the folder's 'test' split is the test set")
            if "val" in s:
                val_f = s["val"]
            else:
                tr, va = _per_class_split(train.labels, [val], seed)
                train, val_f = train.subset(tr), train.subset(va)
                notes.append(f"no validation split: {val:.0%} of 'train' carved out as validation (seed {seed})")
        elif "val" in s:
            test_f = s["val"]
            tr, va = _per_class_split(train.labels, [val], seed)
            train, val_f = train.subset(tr), train.subset(va)
            notes.append(f"no 'test' split: the folder's '{s['val'].root.name}' split serves as the test set, and "
                         f"{val:.0%} of 'train' is carved out as validation (seed {seed}), so nothing is chosen on "
                         f"the test images")
        else:
            tr, va, te = _per_class_split(train.labels, [val, test], seed)
            train, val_f, test_f = train.subset(tr), train.subset(va), train.subset(te)
            notes.append(f"only a 'train' split: stratified split of it, seed {seed}")
        if max_per_class is not None:
            before = (len(train), len(val_f), len(test_f))
            train = _cap(train, max_per_class, seed)
            val_f = _cap(val_f, max_per_class, seed)
            test_f = _cap(test_f, max_per_class, seed)
            if (len(train), len(val_f), len(test_f)) != before:
                notes.append(f"at most {max_per_class} images per class per split (profile max_per_class)")
    return Splits(train, val_f, test_f, list(audit.class_names), notes)


def load_split_images(splits: Splits, *, image_size: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Decode and resize every split once: ``{"train": (uint8 images, labels), ...}``.

    Examples
    --------
    >>> arrays = load_split_images(splits, image_size=128)  # doctest: +SKIP
    >>> arrays["train"][0].dtype  # doctest: +SKIP
    dtype('uint8')
    """
    return {name: (_data.load_images(f.files, image_size=image_size), np.asarray(f.labels))
            for name, f in splits.items()}


# --------------------------------------------------------------------------- stages


@dataclass
class StageResult:
    """One stage of the recipe: its test accuracy, test probabilities and time."""

    name: str
    test_accuracy: float
    probabilities: np.ndarray
    seconds: float
    val_accuracy: float | None = None
    history: dict[str, list[float]] = field(default_factory=dict)

    @property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    def __str__(self) -> str:
        val = f", validation {self.val_accuracy:.3f}" if self.val_accuracy is not None else ""
        return f"{self.name}: test accuracy {self.test_accuracy:.3f}{val} ({self.seconds:.1f} s)"


def _class_weight(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    return {i: float(len(labels) / (n_classes * max(c, 1))) for i, c in enumerate(counts)}


def baseline(arrays: dict[str, tuple[np.ndarray, np.ndarray]], *, thumb: int = 16) -> StageResult:
    """Logistic regression on ``thumb`` x ``thumb`` colour thumbnails: what no pretraining gets.

    Examples
    --------
    >>> print(baseline(load_split_images(splits, image_size=128)))  # doctest: +SKIP
    baseline: test accuracy 0.601 (0.4 s)
    """
    import tensorflow as tf
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    start = time.perf_counter()

    def flat(x: np.ndarray) -> np.ndarray:
        return tf.image.resize(x, (thumb, thumb), antialias=True).numpy().reshape(len(x), -1)

    (xtr, ytr), (xva, yva), (xte, yte) = arrays["train"], arrays["val"], arrays["test"]
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, class_weight="balanced"))
    clf.fit(flat(xtr), ytr)
    n_classes = int(max(ytr.max(), yte.max()) + 1)
    probs = np.zeros((len(xte), n_classes), np.float32)
    probs[:, clf.classes_] = clf.predict_proba(flat(xte))
    val_acc = float(np.mean(clf.predict(flat(xva)) == yva))
    acc = float(np.mean(probs.argmax(1) == yte))
    return StageResult("baseline", acc, probs, time.perf_counter() - start, val_acc)


def build_model(
    num_classes: int,
    *,
    image_size: int,
    base_name: str = "mobilenet_v2",
    alpha: float | None = 0.35,
    dropout: float = 0.2,
    verbose: bool = False,
) -> tuple[Any, Any]:
    """A classifier that takes raw pixels in [0, 255]: Rescaling, frozen ImageNet base, pooling, softmax.

    The preprocessing is a ``Rescaling`` layer inside the model, so the saved file
    classifies raw images and loads in Keras's safe mode (no ``Lambda`` layer).

    Returns
    -------
    (model, base)
        The classifier and its base (frozen; the base is called with ``training=False``,
        so its BatchNormalization layers stay in inference mode even when unfrozen).

    Examples
    --------
    >>> model, base = build_model(2, image_size=128)  # doctest: +SKIP
    >>> model.layers[1].name  # doctest: +SKIP
    'preprocess'
    """
    import keras

    from tlcourse import models as _models

    if base_name not in _RESCALE:
        raise ValueError(f"The capstone knows the input scaling of {sorted(_RESCALE)}, not {base_name!r}; add it "
                         f"to tlcourse.capstone._RESCALE.")
    base = _models.load_base(base_name, input_size=image_size, alpha=alpha, verbose=verbose)
    base.trainable = False
    scale, offset = _RESCALE[base_name]
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = keras.layers.Rescaling(scale, offset, name="preprocess")(inputs)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="classifier")(x)
    return keras.Model(inputs, outputs, name=f"capstone_{base_name}"), base


def _feature_model(model: Any) -> Any:
    import keras

    return keras.Model(model.inputs, model.get_layer("pool").output)


def evaluate(model: Any, x: np.ndarray, *, batch_size: int = 64) -> np.ndarray:
    """Class probabilities of ``model`` for uint8 images ``x``."""
    return np.asarray(model.predict(x.astype(np.float32), batch_size=batch_size, verbose=0))


def feature_extraction(
    model: Any,
    arrays: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    cs: Sequence[float] = (0.01, 0.1, 1.0, 10.0),
    seed: int = 42,
    verbose: int = 0,
) -> StageResult:
    """Fit the softmax layer on features of the frozen base, computed once (Introduced in 02_feature_extraction).

    The pooled features of the training images go through a multinomial logistic
    regression (class-balanced; its strength ``C`` chosen on the validation split),
    whose weights become the model's ``classifier`` Dense layer: a softmax layer
    *is* a logistic regression, and fitting it this way needs no learning rate and no
    epoch count, which a folder nobody has seen gives no chance to tune. The model is
    then evaluated end to end on the test images.

    Examples
    --------
    >>> print(feature_extraction(model, arrays))  # doctest: +SKIP
    feature_extraction: test accuracy 0.876, validation 0.889 (6.3 s)
    """
    import keras
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    extractor = _feature_model(model)
    feats = {k: evaluate(extractor, x) for k, (x, _) in arrays.items() if k != "test"}
    (ytr, yva), n_classes = (arrays["train"][1], arrays["val"][1]), model.output_shape[-1]
    scores = {}
    for c in cs:
        clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
        clf.fit(feats["train"], ytr)
        proba = np.clip(clf.predict_proba(feats["val"]), 1e-7, 1)
        nll = -np.mean(np.log(proba[np.arange(len(yva)), np.searchsorted(clf.classes_, yva)]))
        scores[c] = (float(np.mean(clf.predict(feats["val"]) == yva)), -nll, clf)
    best_c = max(scores, key=lambda c: scores[c][:2])
    clf = scores[best_c][2]
    kernel = np.zeros((feats["train"].shape[1], n_classes), np.float32)
    bias = np.zeros(n_classes, np.float32)
    if clf.coef_.shape[0] == 1:  # two classes: sigmoid(w.x + b) = softmax([0, w.x + b])[1]
        kernel[:, clf.classes_[1]], bias[clf.classes_[1]] = clf.coef_[0], clf.intercept_[0]
    else:
        kernel[:, clf.classes_], bias[clf.classes_] = clf.coef_.T, clf.intercept_
    model.get_layer("classifier").set_weights([kernel, bias])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    val_acc = float(np.mean(evaluate(model, arrays["val"][0]).argmax(1) == yva))
    probs = evaluate(model, arrays["test"][0])
    acc = float(np.mean(probs.argmax(1) == arrays["test"][1]))
    if verbose:
        print("      validation accuracy by C: " + ", ".join(f"{c}: {v[0]:.3f}" for c, v in scores.items()))
    history = {"C": [float(best_c)], "val_accuracy_by_C": [scores[c][0] for c in cs]}
    return StageResult("feature_extraction", acc, probs, time.perf_counter() - start, val_acc, history)


def augmentation(seed: int = 42) -> Any:
    """Random flips, small rotations and zooms, for photos (applied to training batches only)."""
    import keras

    return keras.Sequential([keras.layers.RandomFlip("horizontal", seed=seed),
                             keras.layers.RandomRotation(0.05, seed=seed),
                             keras.layers.RandomZoom(0.1, seed=seed)], name="augment")


def _train_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> Any:
    import tensorflow as tf

    augment = augmentation(seed)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(lambda a, b: (augment(tf.cast(a, tf.float32), training=True), b),
                                  num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def fine_tune(
    model: Any,
    base: Any,
    arrays: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    epochs: int = 3,
    batch_size: int = 32,
    learning_rate: float = 1e-4,
    unfreeze_fraction: float = 0.2,
    seed: int = 42,
    previous: StageResult | None = None,
    verbose: int = 0,
) -> StageResult:
    """Unfreeze the top of the base and train it with the head at a low rate (Introduced in 03_fine_tuning).

    BatchNormalization layers stay frozen; training batches are augmented. The
    weights of the epoch with the best validation loss are kept; where fine-tuning
    does not beat ``previous`` (the feature-extraction stage) on validation accuracy,
    the model goes back to the weights it started from, and ``history["kept"]`` says so.

    Examples
    --------
    >>> print(fine_tune(model, base, arrays, previous=fe))  # doctest: +SKIP
    fine_tuning: test accuracy 0.915, validation 0.918 (41.2 s)
    """
    import keras

    from tlcourse import models as _models

    start = time.perf_counter()
    before = [w.copy() for w in model.get_weights()]
    n = max(1, int(round(unfreeze_fraction * len(base.layers))))
    _models.unfreeze_top(base, n, keep_batchnorm_frozen=True)
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    keras.utils.set_random_seed(seed)
    (xtr, ytr), (xva, yva) = arrays["train"], arrays["val"]
    stop = keras.callbacks.EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    hist = model.fit(_train_dataset(xtr, ytr, batch_size, seed), validation_data=(xva.astype(np.float32), yva),
                     epochs=epochs, class_weight=_class_weight(ytr, model.output_shape[-1]), callbacks=[stop],
                     shuffle=False, verbose=verbose)
    val_acc = float(np.mean(evaluate(model, xva).argmax(1) == yva))
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    kept = previous is None or previous.val_accuracy is None or val_acc >= previous.val_accuracy
    if not kept:
        model.set_weights(before)
        val_acc = float(previous.val_accuracy)
    history["kept"] = [float(kept)]
    base.trainable = False
    probs = evaluate(model, arrays["test"][0])
    acc = float(np.mean(probs.argmax(1) == arrays["test"][1]))
    return StageResult("fine_tuning", acc, probs, time.perf_counter() - start, val_acc, history)


def worst_mistakes(y_true: np.ndarray, probabilities: np.ndarray, k: int = 12) -> np.ndarray:
    """Indices of the ``k`` wrong predictions made with the highest confidence.

    Examples
    --------
    >>> worst_mistakes(np.array([0, 1, 1]), np.array([[.9, .1], [.8, .2], [.4, .6]]), k=2).tolist()
    [1]
    """
    y_true = np.asarray(y_true)
    pred = probabilities.argmax(1)
    wrong = np.flatnonzero(pred != y_true)
    conf = probabilities[wrong, pred[wrong]]
    return wrong[np.argsort(-conf, kind="stable")][:k]


def show_stage(result: StageResult, arrays: dict[str, tuple[np.ndarray, np.ndarray]], class_names: Sequence[str],
               *, k: int = 12) -> np.ndarray:
    """Draw a stage's test confusion matrix and its ``k`` most confident mistakes; return their indices.

    Examples
    --------
    >>> show_stage(fe, arrays, audit.class_names)  # doctest: +SKIP
    """
    from tlcourse import plots

    x, y = arrays["test"]
    plots.confusion_matrix(y, result.predictions, class_names,
                           title=f"{result.name}: test accuracy {result.test_accuracy:.3f}")
    idx = worst_mistakes(y, result.probabilities, k)
    if idx.size:
        plots.image_grid(x[idx], y[idx], class_names=class_names, predictions=result.predictions[idx],
                         title=f"{result.name}: the {idx.size} most confident mistakes")
    else:
        print(f"{result.name}: no mistakes on the test set")
    return idx


# --------------------------------------------------------------------------- save, load, predict


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
            reason, _ = _data._check_image(path)
        results.append(Prediction(str(f), None, 0.0, reason))
        if reason is None:
            good.append((i, str(f)))
    if good:
        x = _data.load_images([f for _, f in good], image_size=size)
        probs = evaluate(model, x)
        for (i, _), p in zip(good, probs):
            results[i] = Prediction(results[i].path, class_names[int(p.argmax())], float(p.max()))
    return results


# --------------------------------------------------------------------------- the whole recipe


def train(
    folder: str | Path,
    out_dir: str | Path,
    *,
    profile: Any = None,
    seed: int = 42,
    fine_tune_epochs: int | None = None,
    image_size: int | None = None,
    max_per_class: int | None | str = "profile",
    verbose: bool = True,
) -> dict[str, Any]:
    """Audit, baseline, feature extraction and fine-tuning on ``folder``; save to ``out_dir``.

    The steps of 06_capstone_your_own_data without Jupyter (``tlcourse train``).
    Writes ``model.keras`` (the better of the two transfer stages on validation
    accuracy), ``classes.json`` and ``report.json``; returns the report.

    Parameters
    ----------
    profile
        A :class:`tlcourse.runtime.Profile` or its name; default the active one.
    fine_tune_epochs, image_size
        Override the profile's values.
    max_per_class
        ``"profile"`` (the profile's cap), ``None`` (everything) or a number.

    Raises
    ------
    FolderError
        If the folder cannot be used (nothing is trained, nothing written).

    Examples
    --------
    >>> report = train(dataset_path("hymenoptera"), "outputs/capstone")  # doctest: +SKIP
    >>> sorted(report["test_accuracy"])  # doctest: +SKIP
    ['baseline', 'feature_extraction', 'fine_tuning']
    """
    from tlcourse import runtime

    def say(msg: str) -> None:
        if verbose:
            print(msg, flush=True)

    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    if profile is None or isinstance(profile, str):
        profile = runtime.active_profile(profile)
    size = image_size or profile.image_size
    cap = profile.max_per_class if max_per_class == "profile" else max_per_class

    say(f"[1/5] auditing {folder} ...")
    audit = audit_folder(folder)
    say(audit.summary())
    splits = make_splits(audit, seed=seed, max_per_class=cap)
    say(splits.summary())
    arrays = load_split_images(splits, image_size=size)
    seconds["audit"] = round(time.perf_counter() - t0, 1)

    say("[2/5] baseline: logistic regression on 16x16 thumbnails ...")
    base_res = baseline(arrays)
    seconds["baseline"] = round(base_res.seconds, 1)
    say(f"      {base_res}")

    say(f"[3/5] feature extraction: frozen {profile.base_model} (alpha {profile.base_alpha}), {size} px ...")
    model, base = build_model(len(audit.class_names), image_size=size, base_name=profile.base_model,
                              alpha=profile.base_alpha, verbose=verbose)
    fe = feature_extraction(model, arrays, seed=seed, verbose=int(verbose))
    seconds["feature_extraction"] = round(fe.seconds, 1)
    say(f"      {fe}")

    ft_epochs = fine_tune_epochs or profile.fine_tune_epochs
    say(f"[4/5] fine-tuning the top of the base, {ft_epochs} epoch(s) ...")
    ft = fine_tune(model, base, arrays, epochs=ft_epochs, batch_size=profile.batch_size, seed=seed,
                   previous=fe, verbose=2 if verbose else 0)
    seconds["fine_tuning"] = round(ft.seconds, 1)
    kept = bool(ft.history["kept"][0])
    say(f"      {ft}" + ("" if kept else "  (no better than feature extraction on validation: kept those weights)"))

    say(f"[5/5] saving to {out_dir} ...")
    seconds["total"] = round(time.perf_counter() - t0, 1)
    report = {
        "classes": list(audit.class_names),
        "test_accuracy": {r.name: round(r.test_accuracy, 4) for r in (base_res, fe, ft)},
        "val_accuracy": {r.name: round(float(r.val_accuracy), 4) for r in (base_res, fe, ft)},
        "seconds": seconds,
        "saved_stage": "fine_tuning" if kept else "feature_extraction",
        "folder": str(Path(folder).resolve()),
        "layout": audit.layout,
        "split_sizes": {name: len(f) for name, f in splits.items()},
        "split_notes": splits.notes,
        "skipped_files": len(audit.skipped),
        "duplicates_removed": sum(len(g) - 1 for g in audit.duplicates),
        "profile": profile.name,
        "base_model": profile.base_model,
        "base_alpha": profile.base_alpha,
        "image_size": size,
        "seed": seed,
    }
    save(model, audit.class_names, out_dir, report)
    say("test accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in report["test_accuracy"].items()))
    say(f"wrote {Path(out_dir) / MODEL_FILE}, {CLASSES_FILE}, {REPORT_FILE} in {seconds['total']:.0f} s")
    return report


# --------------------------------------------------------------------------- command line


def cli_train(args: argparse.Namespace) -> int:
    """``tlcourse train FOLDER --out DIR``: exit 0 on success, 2 for a folder that cannot be used."""
    from tlcourse import runtime

    try:
        report = runtime.setup(seed=args.seed, profile=args.profile, verbose=False)
        train(args.folder, args.out, profile=report.profile, seed=args.seed,
              fine_tune_epochs=args.fine_tune_epochs, image_size=args.image_size,
              max_per_class=None if args.all_images else "profile", verbose=not args.quiet)
    except FolderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cli_predict(args: argparse.Namespace) -> int:
    """``tlcourse predict DIR IMAGE...``: one line per image; exit 1 if any image could not be read."""
    from tlcourse import runtime

    runtime.setup(seed=0, verbose=False)
    try:
        results = predict(args.model_dir, args.images)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for r in results:
        print(r, file=sys.stderr if r.error else sys.stdout)
    return 1 if any(r.error for r in results) else 0


def add_cli(subparsers: Any) -> None:
    """Register the ``train`` and ``predict`` sub-commands on an argparse ``subparsers`` object.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(); add_cli(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["predict", "out", "a.jpg"]).func.__name__
    'cli_predict'
    """
    p = subparsers.add_parser("train", help="audit a folder of images, train a classifier on it and save it",
                              description="Audit FOLDER (<class>/* or <split>/<class>/*), then baseline, feature "
                                          "extraction and fine-tuning in the active profile; write model.keras, "
                                          "classes.json and report.json to --out.")
    p.add_argument("folder", help="folder of images: FOLDER/<class>/* or FOLDER/<split>/<class>/*")
    p.add_argument("--out", required=True, help="folder to write model.keras, classes.json, report.json to")
    p.add_argument("--profile", choices=["quick", "full"], default=None, help="default: by hardware")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--fine-tune-epochs", type=int, default=None, help="default: the profile's")
    p.add_argument("--image-size", type=int, default=None, help="default: the profile's")
    p.add_argument("--all-images", action="store_true", help="ignore the profile's max_per_class cap")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=cli_train)
    p = subparsers.add_parser("predict", help="classify image files with a model saved by `tlcourse train`")
    p.add_argument("model_dir", help="the --out folder of `tlcourse train`")
    p.add_argument("images", nargs="+", help="image files")
    p.set_defaults(func=cli_predict)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tlcourse.capstone train|predict ...`` (the same as ``tlcourse train|predict``)."""
    parser = argparse.ArgumentParser(prog="python -m tlcourse.capstone")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
