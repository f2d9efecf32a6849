"""Image folders: find the photos of each class, say what was skipped and why, never a photo under a wrong label.

Each file is decoded once by :func:`~tlcourse.data.decode.check_image`, as training reads it. A class
folder's photos are the files under it; a link from it into another class (or above it) is not followed.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tlcourse.data.decode import IMAGE_SUFFIXES, check_image
from tlcourse_assets.errors import DataNotFoundError

__all__ = ["SYSTEM_NAMES", "ClassScan", "ImageFolder", "is_hidden", "same_folders", "scan_class_folder", "scan_images",
           "shown"]

#: What operating systems, archivers and Jupyter leave in folders (compared lower-case); dot names are hidden too.
SYSTEM_NAMES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r", "__macosx", "$recycle.bin",
                          "system volume information", "@eadir", ".ipynb_checkpoints"})


def is_hidden(name: str, *, folder: bool = False) -> bool:
    """Whether a scan ignores this file or folder name: dot names, system files, ``__`` folders (``__MACOSX``).

    Examples
    --------
    >>> [is_hidden(n) for n in (".DS_Store", "Thumbs.db", "desktop.ini", "_rose.jpg", "rose.jpg")]
    [True, True, True, False, False]
    >>> [is_hidden(n, folder=True) for n in ("__MACOSX", "__pycache__", ".ipynb_checkpoints", "_other", "2023")]
    [True, True, True, False, False]
    """
    return name.startswith(".") or name.lower() in SYSTEM_NAMES or (folder and name.startswith("__"))


def shown(path: str | os.PathLike[str]) -> str:
    """A path as text that can always be printed: bytes that are not UTF-8 shown as ``\\xNN``.

    Examples
    --------
    >>> shown(os.fsdecode(b"caf\\xe9.jpg"))
    'caf\\\\xe9.jpg'
    """
    return os.fsencode(os.fspath(path)).decode("utf-8", "backslashreplace")


def _bad_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        return True
    return False


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class ClassScan(NamedTuple):
    """What :func:`scan_class_folder` found in one class folder."""

    files: list[str]
    sizes: list[tuple[int, int]]
    skipped: list[tuple[str, str]]
    ignored: list[str]


def _walk(folder: Path, skipped: list[tuple[str, str]], ignored: list[str], root: Path | None) -> list[Path]:
    """Every file under ``folder``: hidden entries pruned, links that leave the class or loop not followed."""
    found: list[Path] = []
    top = folder.stat()
    stack = [(folder, {(top.st_dev, top.st_ino): folder})]
    seen = set(stack[0][1])
    real_class = os.path.realpath(folder)
    real_root = os.path.realpath(root) if root is not None else None
    while stack:
        d, ancestors = stack.pop()
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as exc:
            skipped.append((shown(d), f"folder not readable ({exc.strerror or exc})"))
            continue
        for e in entries:
            p = Path(e.path)
            try:
                is_dir, is_file = e.is_dir(), e.is_file()
            except OSError:
                is_dir = is_file = False
            if is_hidden(e.name, folder=is_dir):
                ignored.append(shown(p))
            elif _bad_name(e.name):
                skipped.append((shown(p), "name is not valid UTF-8 (made on another system?): rename it"))
            elif is_dir:
                try:
                    st = p.stat()
                except OSError as exc:
                    skipped.append((shown(p), f"folder not readable ({exc.strerror or exc})"))
                    continue
                key = (st.st_dev, st.st_ino)
                real = os.path.realpath(p)
                if key in ancestors:
                    skipped.append((shown(p), f"symlink loop: leads back to {shown(ancestors[key])}, not followed"))
                elif real_root is not None and _inside(real, real_root) and not _inside(real, real_class):
                    skipped.append((shown(p), f"a link out of its class folder (to {shown(real)}): not followed, "
                                              f"so no photo gets the label of a folder it is not in"))
                elif key in seen:
                    skipped.append((shown(p), "a link to a folder already scanned: not scanned twice"))
                else:
                    seen.add(key)
                    stack.append((p, {**ancestors, key: p}))
            elif is_file:
                found.append(p)
            elif e.is_symlink():
                try:
                    os.stat(p)
                    why = "not a regular file"
                except OSError as exc:
                    why = "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
                skipped.append((shown(p), f"{why} (points to {shown(os.readlink(p))})"))
            else:
                skipped.append((shown(p), "not a regular file"))
    return sorted(found)


def scan_class_folder(
    folder: str | os.PathLike[str], *, check: bool = True, photos_only: bool = True,
    root: str | os.PathLike[str] | None = None,
) -> ClassScan:
    """The images of one class folder (nested folders included), their sizes, what was skipped and ignored.

    A link from this class into another part of ``root`` (a sibling class, ``..``) is skipped with its
    reason; links elsewhere (``daisy/more -> ~/Pictures``) are followed once. ``sizes`` (upright
    ``(width, height)``) is empty with ``check=False``; ``ignored`` holds hidden and system entries.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".DS_Store").write_bytes(b"\\0"); _ = (d / "notes.txt").write_text("hi")
    >>> scan = scan_class_folder(d)
    >>> scan.files, [pathlib.Path(p).name for p in scan.ignored], scan.skipped[0][1]
    ([], ['.DS_Store'], 'not an image file (.txt)')
    """
    files: list[str] = []
    sizes: list[tuple[int, int]] = []
    skipped: list[tuple[str, str]] = []
    ignored: list[str] = []
    for path in _walk(Path(folder), skipped, ignored, Path(root) if root is not None else None):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append((str(path), f"not an image file ({path.suffix or 'no suffix'})"))
            continue
        reason, size = check_image(path, photos_only=photos_only) if check else (None, None)
        if reason:
            skipped.append((str(path), reason))
            continue
        files.append(str(path))
        if size:
            sizes.append(size)
    return ClassScan(files, sizes, skipped, ignored)


def same_folders(folders: Sequence[str | os.PathLike[str]]) -> list[tuple[str, str]]:
    """Pairs of class folders that are one folder, or one inside the other, once links are followed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "rose").mkdir(); (d / "roses").symlink_to(d / "rose")
    >>> same_folders([d / "rose", d / "roses"])
    [('rose', 'roses')]
    """
    real = [(Path(f).name, os.path.realpath(f)) for f in folders]
    return [(a, b) for i, (a, ra) in enumerate(real) for b, rb in real[i + 1:] if _inside(ra, rb) or _inside(rb, ra)]


@dataclass
class ImageFolder:
    """Images found under ``root/<class>/``, with what was skipped and why.

    ``labels`` index into ``class_names``; ``skipped`` is ``(path, reason)`` for every file left out;
    ``sizes`` the upright ``(width, height)`` of each file when the scan decoded them; ``ignored`` the
    hidden and system entries (``.DS_Store``, ``__MACOSX/`` ...).
    """

    root: Path
    class_names: list[str]
    files: list[str]
    labels: np.ndarray
    skipped: list[tuple[str, str]] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

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
        """A short report: counts per class, skipped files with reasons, hidden files ignored."""
        lines = [f"{self.root}: {len(self)} images in {len(self.class_names)} classes"]
        lines += [f"  {c}: {n}" for c, n in self.counts().items()]
        if self.ignored:
            lines.append(f"  ignored {len(self.ignored)} hidden or system file(s) and folder(s) "
                         f"(.DS_Store, Thumbs.db, __MACOSX/ ...)")
        for path, reason in self.skipped:
            lines.append(f"  skipped {path}: {reason}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ImageFolder({str(self.root)!r}, {len(self)} images, classes={self.class_names}, skipped={len(self.skipped)})"


def scan_images(
    root: str | os.PathLike[str],
    *,
    class_names: Sequence[str] | None = None,
    check: bool = True,
    photos_only: bool = True,
) -> ImageFolder:
    """Find the images in ``root/<class>/`` (nested folders included) and check that each one decodes.

    Introduced in 00_setup_check.

    Unreadable, non-image, truncated, blank and too large files are listed in ``.skipped`` with a
    reason, so training never stops mid-epoch on a bad file; hidden and system entries go to ``.ignored``.
    ``class_names`` sets the label order (default: every visible sub-folder, sorted). Raises
    :class:`DataNotFoundError` if ``root`` is missing or has no class folders, ``ValueError`` if a class
    folder has no usable image or two class folders hold the same photos (one links to the other).

    Examples
    --------
    >>> folder = scan_images(dataset_path("hymenoptera") / "train")  # doctest: +SKIP
    >>> folder.skipped[0][1]  # doctest: +SKIP
    'a flat graphic, not a photo: 93% of it is one colour, 27 colour(s) in all (a placeholder or a blank frame)'
    """
    root = Path(root)
    if not root.is_dir():
        raise DataNotFoundError(f"Image folder {root} does not exist (or is not a folder). Check the path.")
    ignored: list[str] = []
    if class_names is None:
        subdirs = sorted(p for p in root.iterdir() if p.is_dir())
        ignored += [str(p) for p in subdirs if is_hidden(p.name, folder=True)]
        class_names = [p.name for p in subdirs if not is_hidden(p.name, folder=True)]
    ignored += [str(p) for p in sorted(root.iterdir()) if not p.is_dir() and is_hidden(p.name)]
    if not class_names:
        raise DataNotFoundError(
            f"{root} has no class folders. Expected one sub-folder per class, for example {root}/cats/*.jpg."
        )
    files: list[str] = []
    labels: list[int] = []
    sizes: list[tuple[int, int]] = []
    skipped: list[tuple[str, str]] = []
    empty: list[str] = []
    for a, b in same_folders([root / c for c in class_names]):
        raise ValueError(f"Class folders {a}/ and {b}/ in {root} are the same photos (one is a link to the other "
                         f"or inside it): each photo needs one class; remove the link.")
    for label, cls in enumerate(class_names):
        cdir = root / cls
        if not cdir.is_dir():
            raise DataNotFoundError(f"Class folder {cdir} does not exist.")
        scan = scan_class_folder(cdir, check=check, photos_only=photos_only, root=root)
        files += scan.files
        labels += [label] * len(scan.files)
        sizes += scan.sizes
        skipped += scan.skipped
        ignored += scan.ignored
        if not scan.files:
            empty.append(cls)
    if empty:
        raise ValueError(
            f"Class folder(s) with no usable image in {root}: {', '.join(empty)}. "
            f"Add images or remove the folder." + (f" Skipped files: {skipped}" if skipped else "")
        )
    return ImageFolder(root, list(class_names), files, np.asarray(labels, dtype=np.int64), skipped, sizes, ignored)
