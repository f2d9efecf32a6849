"""Image folders: find the photos of each class, decode each once, say what was skipped and why."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tlcourse.assets.errors import DataNotFoundError

__all__ = ["DECODABLE_FORMATS", "IMAGE_SUFFIXES", "ImageFolder", "check_image", "scan_class_folder", "scan_images"]

#: Formats the decode pipeline reads (PIL's names; MPO is a camera JPEG).
DECODABLE_FORMATS = {"JPEG", "MPO", "PNG", "BMP"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


@dataclass
class ImageFolder:
    """Images found under ``root/<class>/``, with what was skipped and why.

    Attributes
    ----------
    root
        The folder scanned.
    class_names
        Sorted class folder names; ``labels`` index into it.
    files, labels
        Readable images and their class indices.
    skipped
        ``(path, reason)`` for every file left out.
    """

    root: Path
    class_names: list[str]
    files: list[str]
    labels: np.ndarray
    skipped: list[tuple[str, str]] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.files)

    def counts(self) -> dict[str, int]:
        """Images per class."""
        return {c: int(np.sum(self.labels == i)) for i, c in enumerate(self.class_names)}

    def subset(self, indices: Sequence[int] | np.ndarray) -> ImageFolder:
        """The same folder restricted to ``indices`` (as returned by the split helpers)."""
        idx = np.asarray(indices, dtype=int)
        return ImageFolder(
            self.root,
            self.class_names,
            [self.files[i] for i in idx],
            self.labels[idx],
            [],
            [self.sizes[i] for i in idx] if self.sizes else [],
        )

    def summary(self) -> str:
        """A short report: counts per class and skipped files with reasons."""
        lines = [f"{self.root}: {len(self)} images in {len(self.class_names)} classes"]
        lines += [f"  {c}: {n}" for c, n in self.counts().items()]
        for path, reason in self.skipped:
            lines.append(f"  skipped {path}: {reason}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ImageFolder({str(self.root)!r}, {len(self)} images, classes={self.class_names}, skipped={len(self.skipped)})"


def check_image(path: str | os.PathLike[str]) -> tuple[str | None, tuple[int, int] | None]:
    """Decode an image file once: ``(None, (width, height))`` if the pipeline can read it, else ``(reason, None)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "note.jpg"; _ = p.write_text("not a photo")
    >>> check_image(p)
    ('not an image (unreadable by PIL)', None)
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            fmt = im.format
            im.load()  # a full decode: finds truncated files, not just bad headers
            size = im.size
    except UnidentifiedImageError:
        return "not an image (unreadable by PIL)", None
    except (OSError, SyntaxError, ValueError) as exc:
        return f"corrupt or truncated image ({exc})", None
    if fmt not in DECODABLE_FORMATS:
        return f"{fmt} format: the pipeline reads JPEG, PNG and BMP; convert it if it is a real photo", None
    return None, size


def scan_class_folder(
    folder: str | os.PathLike[str], *, check: bool = True
) -> tuple[list[str], list[tuple[int, int]], list[tuple[str, str]]]:
    """The images of one class folder (searched recursively), their sizes, and what was skipped.

    Returns
    -------
    files, sizes, skipped
        Readable image paths, their ``(width, height)`` (empty with ``check=False``),
        and ``(path, reason)`` for every file left out. Hidden files are ignored.

    Examples
    --------
    >>> files, sizes, skipped = scan_class_folder(dataset_path("flowers") / "rose")  # doctest: +SKIP
    """
    files: list[str] = []
    sizes: list[tuple[int, int]] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted(Path(folder).rglob("*")):
        if path.is_dir() or path.name.startswith("."):
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append((str(path), f"not an image file ({path.suffix or 'no suffix'})"))
            continue
        reason, size = check_image(path) if check else (None, None)
        if reason:
            skipped.append((str(path), reason))
            continue
        files.append(str(path))
        if size:
            sizes.append(size)
    return files, sizes, skipped


def scan_images(
    root: str | os.PathLike[str],
    *,
    class_names: Sequence[str] | None = None,
    check: bool = True,
) -> ImageFolder:
    """Find the images in ``root/<class>/*`` and check that each one decodes.

    Unreadable, non-image, truncated or unsupported files are skipped and
    listed in ``.skipped`` with a reason, so that training never stops in the
    middle of an epoch on a bad file.

    Parameters
    ----------
    root
        A folder with one sub-folder per class.
    class_names
        The classes to use, in label order (default: every sub-folder, sorted).
    check
        Decode every image once (slower, but finds broken files).

    Raises
    ------
    DataNotFoundError
        If ``root`` does not exist or has no class folders.
    ValueError
        If a class folder has no usable image.

    Examples
    --------
    >>> folder = scan_images(dataset_path("hymenoptera") / "train")  # doctest: +SKIP
    >>> folder.skipped[0][1]  # doctest: +SKIP
    'GIF format: ...'
    """
    root = Path(root)
    if not root.is_dir():
        raise DataNotFoundError(f"Image folder {root} does not exist (or is not a folder). Check the path.")
    if class_names is None:
        class_names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_names:
        raise DataNotFoundError(
            f"{root} has no class folders. Expected one sub-folder per class, for example {root}/cats/*.jpg."
        )
    files: list[str] = []
    labels: list[int] = []
    sizes: list[tuple[int, int]] = []
    skipped: list[tuple[str, str]] = []
    empty: list[str] = []
    for label, cls in enumerate(class_names):
        cdir = root / cls
        if not cdir.is_dir():
            raise DataNotFoundError(f"Class folder {cdir} does not exist.")
        found, found_sizes, bad = scan_class_folder(cdir, check=check)
        files += found
        labels += [label] * len(found)
        sizes += found_sizes
        skipped += bad
        if not found:
            empty.append(cls)
    if empty:
        raise ValueError(
            f"Class folder(s) with no usable image in {root}: {', '.join(empty)}. "
            f"Add images or remove the folder." + (f" Skipped files: {skipped}" if skipped else "")
        )
    return ImageFolder(root, list(class_names), files, np.asarray(labels, dtype=np.int64), skipped, sizes)
