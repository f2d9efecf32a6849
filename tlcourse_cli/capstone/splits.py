"""Step 2 of the capstone: train, validation and test sets from an audited folder, honest about where each comes from."""

from __future__ import annotations

from dataclasses import dataclass, field

from tlcourse.data import ImageFolder, few_shot, stratified_split
from tlcourse_cli.capstone.audit import Audit

__all__ = ["Splits", "make_splits"]


@dataclass
class Splits:
    """Train, validation and test sets, and how they were made (``notes``)."""

    train: ImageFolder
    val: ImageFolder
    test: ImageFolder
    class_names: list[str]
    notes: list[str] = field(default_factory=list)

    def items(self) -> list[tuple[str, ImageFolder]]:
        return [("train", self.train), ("val", self.val), ("test", self.test)]

    def summary(self) -> str:
        lines = [f"  {name:<5} {len(f):>5} images  {f.counts()}" for name, f in self.items()]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])

    def __str__(self) -> str:
        return self.summary()

    def to_json(self) -> dict:
        """The splits as plain data (``splits.json``): the class names, the notes, and each split's folder,
        files and labels, so that a notebook or a script of your own trains on exactly these photos."""
        return {"classes": list(self.class_names), "notes": list(self.notes),
                **{name: {"root": str(f.root), "files": [str(x) for x in f.files], "labels": f.labels.tolist()}
                   for name, f in self.items()}}


def _carve_validation(train: ImageFolder, val: float, seed: int) -> tuple[ImageFolder, ImageFolder]:
    idx = stratified_split(train.labels, val=val, test=0, seed=seed)
    return train.subset(idx["train"]), train.subset(idx["val"])


def _cap(folder: ImageFolder, max_per_class: int | None, seed: int) -> ImageFolder:
    if max_per_class is None or max(folder.counts().values()) <= max_per_class:
        return folder
    return folder.subset(few_shot(folder.labels, max_per_class, seed=seed))


def make_splits(
    audit: Audit,
    *,
    val: float = 0.15,
    test: float = 0.15,
    seed: int = 42,
    max_per_class: int | None = None,
) -> Splits:
    """Train/validation/test sets from an audited folder, seeded and stratified.

    ``<class>/*`` folders are split ``1 - val - test`` / ``val`` / ``test`` per class. ``<split>/<class>/*``
    folders keep their splits; without ``val`` one is carved from ``train``; without ``test`` the folder's
    ``val`` serves as test (and validation is carved from ``train``): nothing may be chosen on the test split.
    ``max_per_class`` caps, seeded, the images of each class in training and validation to bound the run
    time; the test split is never cut, so its accuracy is the model's on every photo held out.

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
        idx = stratified_split(everything.labels, val=val, test=test, seed=seed)
        train, val_f, test_f = (everything.subset(idx[k]) for k in ("train", "val", "test"))
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
                train, val_f = _carve_validation(train, val, seed)
                notes.append(f"no validation split: {val:.0%} of 'train' carved out as validation (seed {seed})")
        elif "val" in s:
            test_f = s["val"]
            train, val_f = _carve_validation(train, val, seed)
            notes.append(f"no 'test' split: the folder's '{s['val'].root.name}' split serves as the test set, and "
                         f"{val:.0%} of 'train' is carved out as validation (seed {seed}), so nothing is chosen on "
                         f"the test images")
        else:
            idx = stratified_split(train.labels, val=val, test=test, seed=seed)
            train, val_f, test_f = (train.subset(idx[k]) for k in ("train", "val", "test"))
            notes.append(f"only a 'train' split: stratified split of it, seed {seed}")
    if max_per_class is not None:
        before = (len(train), len(val_f))
        train, val_f = _cap(train, max_per_class, seed), _cap(val_f, max_per_class, seed)
        if (len(train), len(val_f)) != before:
            notes.append(f"at most {max_per_class} images per class in training and in validation, as asked; "
                         f"the test split is whole")
    return Splits(train, val_f, test_f, list(audit.class_names), notes)
