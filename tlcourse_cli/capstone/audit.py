"""Step 1 of the capstone: audit a folder of photos before any training, and say what is wrong with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tlcourse.data import IMAGE_SUFFIXES, ImageFolder, is_hidden, scan_class_folder
from tlcourse.data.images import same_folders, shown
from tlcourse_assets.files import file_digest

__all__ = ["MIN_PER_CLASS", "SPLIT_NAMES", "Audit", "FolderError", "audit_folder"]

SPLIT_NAMES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
MIN_PER_CLASS = 3  # one image each for train, validation and test


class FolderError(ValueError):
    """The image folder cannot be used as it is; the message says what to change.
    """


@dataclass
class Audit:
    """What :func:`audit_folder` found.

    ``layout`` is ``"class"`` (``root/<class>/*``) or ``"split"`` (``root/<split>/<class>/*``); ``splits``
    holds the folder's own splits (``"all"`` for the class layout), duplicates removed. ``skipped`` lists
    ``(path, reason)`` for every file not used, including every copy of a photo found under two classes
    (grouped in ``conflicts``); ``duplicates`` groups identical files in one class (the first is kept);
    ``ignored`` lists hidden and system files and folders (``.DS_Store``, ``__MACOSX/`` ...), left out silently.
    """

    root: Path
    layout: str
    class_names: list[str]
    splits: dict[str, ImageFolder]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[list[str]] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    conflicts: list[list[str]] = field(default_factory=list)

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
        kinds: dict[str, int] = {}
        for _, reason in self.skipped:
            kind = reason.split(" (")[0].split(":")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
        lines.append(f"  skipped files: {len(self.skipped)}"
                     + (f" ({', '.join(f'{n} {k}' for k, n in kinds.items())})" if kinds else ""))
        lines += [f"    {p}: {r}" for p, r in self.skipped[:10]]
        if len(self.skipped) > 10:
            lines.append(f"    ... and {len(self.skipped) - 10} more")
        lines.append(f"  hidden or system files and folders ignored: {len(self.ignored)}"
                     + (" (.DS_Store, Thumbs.db, __MACOSX/ ...)" if self.ignored else ""))
        tops = {str(self.root), *(str(f.root) for f in self.splits.values())}
        lines += [f"    left out {p}/: its name starts with '.' or '__' or is a system folder's, so it is not a "
                  f"class; rename it to make it one" for p in self.ignored
                  if str(Path(p).parent) in tops and Path(p).is_dir()][:5]
        lines.append(f"  duplicate groups (identical bytes): {len(self.duplicates)}")
        lines += [f"    {' = '.join(g)}" for g in self.duplicates[:5]]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _visible_dirs(folder: Path, ignored: list[str] | None = None) -> list[Path]:
    """The sub-folders of ``folder`` that are not hidden; hidden entries (files too) are added to ``ignored``."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise FolderError(f"{folder} cannot be read ({exc.strerror or exc}): check its permissions.") from None
    if ignored is not None:
        ignored += [str(p) for p in entries if is_hidden(p.name, folder=p.is_dir())]
    return [p for p in entries if p.is_dir() and not is_hidden(p.name, folder=True)]


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


def audit_folder(folder: str | Path, *, min_per_class: int = MIN_PER_CLASS, photos_only: bool = True) -> Audit:
    """Check a folder of images before any training, and say what is wrong with it.

    Every file is decoded once, the way training will read it (:func:`tlcourse.data.read_rgb`), and hashed:
    exact duplicates are kept once (a photo in both train and test would inflate the test accuracy), a photo
    under two classes is used under neither, and a link into another class is not followed. Every file is
    either used or in ``skipped`` with a reason (unreadable, not an image, too large, HEIC without its plugin,
    a placeholder: ``photos_only`` skips flat graphics). Split folders: ``train``, ``val`` (``valid``,
    ``validation``), ``test``.

    Raises :class:`FolderError` if the path does not exist, holds no images, has fewer than two classes,
    a class with fewer than ``min_per_class`` usable images (in train), or splits whose classes disagree.

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
    ignored: list[str] = []
    layout, split_dirs = _layout(root)
    top = _visible_dirs(root, ignored)
    loose = [p for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if layout == "class" and not top:
        if loose:
            raise FolderError(f"{root} holds {len(loose)} images but no class folders. Put the images of each "
                              f"class in a sub-folder named after it: {root}/<class>/*.jpg.")
        raise FolderError(f"{root} has no images and no class folders. Expected {root}/<class>/*.jpg "
                          f"(or {root}/train/<class>/*.jpg ...).")

    skipped: list[tuple[str, str]] = []
    for sdir in split_dirs.values():
        for a, b in same_folders(_visible_dirs(sdir)):
            raise FolderError(f"Class folders {a}/ and {b}/ in {sdir} hold the same photos (one is a link to the "
                              f"other, or inside it): each photo needs one class; remove the link.")
    found: dict[str, dict[str, tuple[list[str], list[tuple[int, int]]]]] = {}
    for split, sdir in split_dirs.items():
        classes = _visible_dirs(sdir, ignored if layout == "split" else None)
        for cdir in classes:
            if shown(cdir.name) != cdir.name:
                raise FolderError(f"The class folder {shown(cdir)} has a name that is not valid UTF-8 (made on "
                                  f"another system?): rename it, since its name becomes the class's name.")
        found[split] = {}
        for cdir in classes:
            scan = scan_class_folder(cdir, photos_only=photos_only, root=root)
            skipped += scan.skipped
            ignored += scan.ignored
            found[split][cdir.name] = (scan.files, scan.sizes)

    train_key = "train" if layout == "split" else "all"
    class_names = sorted(found[train_key])
    total = sum(len(f) for s in found.values() for f, _ in s.values())
    if total == 0:
        raise FolderError(f"{root} has no usable images ({len(skipped)} files skipped"
                          + (f", for example {skipped[0][0]}: {skipped[0][1]}" if skipped else "") + ").")
    where = f"{root}/train" if layout == "split" else str(root)
    if len(class_names) < 2:
        inner = _visible_dirs(split_dirs[train_key] / class_names[0]) if class_names else []
        hint = (f" If {class_names[0]}/ holds the class folders ({', '.join(p.name for p in inner[:4])}), give "
                f"{split_dirs[train_key] / class_names[0]} instead." if len(inner) >= 2 else "")
        raise FolderError(f"{where} has {len(class_names)} class folder(s) {class_names}: a classifier needs at "
                          f"least two classes, one sub-folder each.{hint}")
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

    # Exact duplicates: a photo under two classes has no label to trust, so every copy is left out and listed;
    # copies within one class are kept once, in the evaluation split where there is one, so none leaks into training.
    order = [s for s in ("test", "val", "all", "train") if s in found]
    entries = [(split, label, f, size, file_digest(f)) for split in order for label, cls in enumerate(class_names)
               for f, size in zip(*found[split].get(cls, ([], [])))]
    labels_of: dict[str, set[int]] = {}
    for _, label, _, _, digest in entries:
        labels_of.setdefault(digest, set()).add(label)
    seen: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    conflicts: dict[str, list[str]] = {}
    kept: dict[str, tuple[list[str], list[int], list[tuple[int, int]]]] = {s: ([], [], []) for s in order}
    for split, label, f, size, digest in entries:
        if len(labels_of[digest]) > 1:
            conflicts.setdefault(digest, []).append(f)
        elif digest in seen:
            groups.setdefault(digest, [seen[digest]]).append(f)
        else:
            seen[digest] = f
            for part, value in zip(kept[split], (f, label, size)):
                part.append(value)
    for digest, copies in conflicts.items():
        names = sorted({class_names[i] for i in labels_of[digest]})
        for f in copies:
            others = [o for o in copies if o != f]
            skipped.append((f, f"the same photo is under {len(names)} classes ({', '.join(names)}; also "
                               f"{', '.join(others[:3])}): its label is unknown, so no copy is used"))
    splits = {s: ImageFolder(split_dirs[s], list(class_names), kept[s][0], np.asarray(kept[s][1], np.int64), [],
                             kept[s][2]) for s in ("all", "train", "val", "test") if s in kept}
    all_sizes = [size for s in order for size in kept[s][2]]

    audit = Audit(root, layout, class_names, splits, skipped, list(groups.values()), all_sizes, ignored=ignored,
                  conflicts=list(conflicts.values()))
    if groups:
        n_extra = sum(len(g) - 1 for g in groups.values())
        audit.warnings.append(f"{n_extra} duplicate file(s) removed (kept one copy of each, in the evaluation "
                              f"split where there was one, so no test photo is also a training photo)")
    if conflicts:
        audit.warnings.append(f"{len(conflicts)} photo(s) appear under two or more classes ({sum(map(len, conflicts.values()))} "
                              f"files, listed as skipped): none of their copies is used; move each to its one class")
    for split, sub in splits.items():
        small_after = [c for c, n in sub.counts().items() if n == 0]
        if small_after:
            raise FolderError(f"After removing duplicates, {split} has no image of class(es) {small_after}"
                              + (f": {sum(map(len, conflicts.values()))} file(s) are the same photo under two classes "
                                 f"(for example {next(iter(conflicts.values()))[0]}); give each photo one class"
                                 if conflicts else "") + ".")
    if audit.imbalance > 3:
        audit.warnings.append(f"classes are imbalanced (largest/smallest {audit.imbalance:.1f}): accuracy flatters a "
                              f"model that favours the big classes; training weights classes by inverse frequency")
    tiny = sum(1 for w, h in all_sizes if min(w, h) < 64)
    if tiny:
        audit.warnings.append(f"{tiny} image(s) smaller than 64 px on a side: they will be upscaled and blurry")
    if skipped:
        audit.warnings.append(f"{len(skipped)} file(s) skipped (unreadable, not images, placeholders, too large, "
                              f"HEIC without its plugin, names that are not UTF-8, links that loop or leave their "
                              f"class, photos under two classes): listed above with the reason for each")
    return audit
