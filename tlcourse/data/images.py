"""Image folders: find the photos of each class, decode each once, say what was skipped and why.

Introduced in 00_setup_check. One decode path, :func:`read_rgb`, serves the folder
check (:func:`check_image`, :func:`scan_images`) and the ``tf.data`` pipeline, so
what a scan accepts is what training reads, the same way: every format Pillow
decodes, EXIF orientation applied, converted to 8-bit RGB.
"""

from __future__ import annotations

import errno
import functools
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from tlcourse.assets.errors import DataNotFoundError

__all__ = ["DECODABLE_FORMATS", "HEIF_SUFFIXES", "IMAGE_SUFFIXES", "MAX_FLAT_FRACTION", "MAX_PIXELS", "MIN_PHOTO_COLOURS",
           "SYSTEM_NAMES", "ClassScan", "ImageFolder", "ImageReadError", "check_image", "is_hidden", "read_rgb",
           "scan_class_folder", "scan_images"]

#: Photo formats the tests read (Pillow's names; MPO is a camera's JPEG). Any other format Pillow decodes is read too.
DECODABLE_FORMATS = frozenset({"JPEG", "MPO", "PNG", "BMP", "DIB", "GIF", "WEBP", "TIFF", "AVIF", "JPEG2000"})
#: iPhone photos: read only where the ``pillow-heif`` plugin is installed.
HEIF_SUFFIXES = frozenset({".heic", ".heif"})
#: File names looked at as images; anything else in a class folder is skipped as "not an image file".
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".dib", ".gif", ".webp", ".tif",
                            ".tiff", ".mpo", ".avif", ".jp2", ".j2k"}) | HEIF_SUFFIXES
#: Largest image read, in pixels (64 megapixels: a 48-MP phone photo passes, a decompression bomb does not).
MAX_PIXELS = 64_000_000
#: An image whose most common colour covers more of it than this, and which has fewer than
#: :data:`MIN_PHOTO_COLOURS` colours (on a 64x64 grid of samples), is a placeholder or a blank frame.
MAX_FLAT_FRACTION = 0.75
MIN_PHOTO_COLOURS = 64
#: What operating systems, archivers and Jupyter leave in folders (compared lower-case); dot names are hidden too.
SYSTEM_NAMES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r", "__macosx", "$recycle.bin",
                          "system volume information", "@eadir", ".ipynb_checkpoints"})

_CHECK_SIZE = 64  # check_image: JPEGs decoded at the DCT scale nearest above this (all the data read, far faster)
_OPEN_LOCK = threading.Lock()  # warnings filters are process-wide: one open at a time turns bomb warnings into errors
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_HEIF_ADVICE = ("HEIC/HEIF photo (an iPhone's default format), which Pillow reads only with a plugin: convert it "
                "to JPEG (iPhone: Settings > Camera > Formats > Most Compatible; Mac: Preview > Export) "
                "or `pip install pillow-heif`")


class ImageReadError(ValueError):
    """An image file the course cannot read; ``reason`` says why in words, ``path`` which file."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = str(path), reason


def is_hidden(name: str, *, folder: bool = False) -> bool:
    """Whether a scan ignores this file or folder name: dot names, system files, ``__MACOSX`` and ``_`` folders.

    Examples
    --------
    >>> [is_hidden(n) for n in (".DS_Store", "Thumbs.db", "desktop.ini", "_rose.jpg", "rose.jpg")]
    [True, True, True, False, False]
    >>> is_hidden("__MACOSX", folder=True), is_hidden(".ipynb_checkpoints", folder=True), is_hidden("2023", folder=True)
    (True, True, False)
    """
    return name.startswith(".") or name.lower() in SYSTEM_NAMES or (folder and name.startswith("_"))


@functools.lru_cache(maxsize=1)
def _heif_plugin() -> bool:
    try:
        import pillow_heif  # type: ignore[import-not-found]
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _looks_like_heif(path: str | os.PathLike[str]) -> bool:
    with open(path, "rb") as f:
        head = f.read(12)
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _open(path: str | os.PathLike[str]) -> Any:
    """Open an image's header (nothing decoded yet), refusing what cannot or should not be decoded."""
    from PIL import Image, UnidentifiedImageError

    heif = Path(path).suffix.lower() in HEIF_SUFFIXES
    if heif:
        _heif_plugin()
    try:
        empty = os.path.getsize(path) == 0
    except OSError as exc:
        raise ImageReadError(path, f"cannot be read ({exc.strerror or exc})") from None
    if empty:
        raise ImageReadError(path, "empty file (0 bytes)")
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
    except UnidentifiedImageError:
        raise ImageReadError(path, _HEIF_ADVICE if heif or _looks_like_heif(path)
                             else "not an image (unreadable by PIL)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageReadError(path, f"too large: refused as a possible decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(path, f"corrupt or unreadable image ({exc})") from None
    w, h = im.size
    if w * h > MAX_PIXELS:
        im.close()
        raise ImageReadError(path, f"too large: {w}x{h} is {w * h / 1e6:.0f} megapixels, over the limit of "
                                   f"{MAX_PIXELS / 1e6:.0f} (a guard against decompression bombs); shrink it "
                                   f"if it is a real photo")
    return im


def _to_rgb(im: Any) -> Any:
    """8-bit RGB: transparency composited on white, 16-bit and float channels scaled, palettes expanded."""
    from PIL import Image

    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float32)
        hi = float(a.max()) if a.size else 0.0
        if im.mode.startswith("I;16") or 255 < hi <= 65535:
            scale = 1 / 257  # 16 bits to 8: 65535 -> 255
        elif im.mode == "F" and hi <= 1.0:
            scale = 255.0  # floats in [0, 1]
        else:
            scale = 255 / hi if hi > 65535 else 1.0  # wider integers squeezed into 8 bits
        im = Image.fromarray(np.clip(np.rint(a * scale), 0, 255).astype(np.uint8))
    if im.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return im if im.mode == "RGB" else im.convert("RGB")


def _decode(path: str | os.PathLike[str], size: int, *, nearest: bool = False) -> tuple[np.ndarray, tuple[int, int]]:
    """The upright RGB pixels at ``size`` square, and the file's own upright ``(width, height)``.

    JPEGs are decoded at the smallest DCT scale that keeps ``size`` pixels a side.
    ``nearest`` samples pixels instead of averaging them (to count exact colours).
    """
    from PIL import Image, ImageOps

    im = _open(path)
    try:
        width, height = im.size
        if im.format in ("JPEG", "MPO"):
            im.draft(im.mode, (size, size))  # libjpeg's DCT scaling: 1/2, 1/4 or 1/8 of the pixels to decode
        im.load()  # first frame only for GIF, WEBP, TIFF and MPO; a full decode, so truncated files are found
        before = im.size
        try:
            ImageOps.exif_transpose(im, in_place=True)
        except Exception:  # a garbled EXIF block: the pixels as stored are still the photo
            pass
        if before[0] != before[1] and im.size == before[::-1]:
            width, height = height, width
        rgb = _to_rgb(im)
        if rgb.size != (size, size):
            rgb = rgb.resize((size, size), Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR,
                             reducing_gap=None if nearest else 3.0)
        return np.asarray(rgb, dtype=np.uint8), (width, height)  # a copy: the image can be closed
    except (Image.DecompressionBombError, MemoryError) as exc:
        raise ImageReadError(path, f"too large to decode in memory ({type(exc).__name__})") from None
    except (OSError, SyntaxError, ValueError, IndexError, EOFError) as exc:
        raise ImageReadError(path, f"corrupt or truncated image ({exc})") from None
    finally:
        im.close()


def read_rgb(path: str | os.PathLike[str], size: int) -> np.ndarray:
    """Read any image file Pillow decodes as an upright ``(size, size, 3)`` uint8 RGB array.

    The one decode of the course: :func:`check_image` and the ``tf.data`` pipeline
    (:func:`~tlcourse.data.pipeline.make_dataset`) both go through it.

    - JPEG in any mode (RGB, greyscale, CMYK), MPO, PNG (8 or 16 bits, palette,
      alpha), WEBP, GIF, TIFF, BMP, AVIF: the first frame of an animation or a
      multi-page file; greyscale repeated on three channels, 16 bits scaled to 8.
    - Transparency is composited on **white** (not dropped: a dropped alpha shows
      whatever colour the hidden pixels hold, often black), as a cut-out photo looks
      on a web page.
    - The EXIF orientation is applied (``PIL.ImageOps.exif_transpose``): a photo
      taken upright comes out upright.
    - Resized to ``size`` square (bilinear, antialiased); JPEGs are first decoded
      at the smallest of 1/8, 1/4, 1/2 or full scale that keeps at least ``size``
      pixels a side (``Image.draft``), which is most of the speed on phone photos.
    - HEIC/HEIF is read where ``pillow-heif`` is installed, else refused with advice;
      images over :data:`MAX_PIXELS` are refused before any decode.

    Raises
    ------
    ImageReadError
        With the reason (``.reason``), for a file that cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "grey.png"
    >>> Image.new("LA", (40, 20), (100, 0)).save(p)  # transparent grey
    >>> x = read_rgb(p, 8)
    >>> x.shape, x.dtype, x[0, 0].tolist()  # composited on white
    ((8, 8, 3), dtype('uint8'), [255, 255, 255])
    """
    return _decode(path, size)[0]


def _flatness(pixels: np.ndarray) -> tuple[float, int]:
    """How much of the image its most common colour covers, and how many colours it has."""
    a = pixels.reshape(-1, 3).astype(np.uint32)
    _, counts = np.unique((a[:, 0] << 16) | (a[:, 1] << 8) | a[:, 2], return_counts=True)
    return float(counts.max() / len(a)), len(counts)


def check_image(
    path: str | os.PathLike[str], *, photos_only: bool = True
) -> tuple[str | None, tuple[int, int] | None]:
    """Decode an image file once: ``(None, (width, height))`` if the pipeline can read it, else ``(reason, None)``.

    The decode is :func:`read_rgb`'s; the size is the upright one (EXIF orientation
    applied), in the file's own pixels.

    Parameters
    ----------
    photos_only
        Also refuse flat graphics: over :data:`MAX_FLAT_FRACTION` of the pixels one
        colour *and* fewer than :data:`MIN_PHOTO_COLOURS` colours in all, such as web
        placeholders ("image not found") and blank frames. A photo of an insect on
        white is 80% white but has hundreds of colours. Pass ``False`` for drawings
        on a plain background.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "note.jpg").write_text("not a photo")
    >>> check_image(d / "note.jpg")
    ('not an image (unreadable by PIL)', None)
    >>> Image.new("RGB", (300, 200), "white").save(d / "blank.gif")
    >>> check_image(d / "blank.gif")[0]
    'a flat graphic, not a photo: 100% of it is one colour, 1 colour(s) in all (a placeholder or a blank frame)'
    >>> check_image(d / "blank.gif", photos_only=False)
    (None, (300, 200))
    """
    try:
        samples, size = _decode(path, _CHECK_SIZE, nearest=True)
    except ImageReadError as exc:
        return exc.reason, None
    if photos_only:
        flat, colours = _flatness(samples)
        if flat > MAX_FLAT_FRACTION and colours < MIN_PHOTO_COLOURS:
            return (f"a flat graphic, not a photo: {flat:.0%} of it is one colour, {colours} colour(s) in all "
                    f"(a placeholder or a blank frame)"), None
    return None, size


class ClassScan(NamedTuple):
    """What :func:`scan_class_folder` found in one class folder."""

    files: list[str]
    sizes: list[tuple[int, int]]
    skipped: list[tuple[str, str]]
    ignored: list[str]


def _walk(folder: Path, skipped: list[tuple[str, str]], ignored: list[str]) -> list[Path]:
    """Every file under ``folder``: hidden entries pruned, folder links followed once, loops reported."""
    found: list[Path] = []
    top = folder.stat()
    stack = [(folder, {(top.st_dev, top.st_ino): folder})]
    seen = set(stack[0][1])
    while stack:
        d, ancestors = stack.pop()
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as exc:
            skipped.append((str(d), f"folder not readable ({exc.strerror or exc})"))
            continue
        for e in entries:
            p = Path(e.path)
            try:
                is_dir, is_file = e.is_dir(), e.is_file()
            except OSError:
                is_dir = is_file = False
            if is_hidden(e.name, folder=is_dir):
                ignored.append(str(p))
            elif is_dir:
                try:
                    st = p.stat()
                except OSError as exc:
                    skipped.append((str(p), f"folder not readable ({exc.strerror or exc})"))
                    continue
                key = (st.st_dev, st.st_ino)
                if key in ancestors:
                    skipped.append((str(p), f"symlink loop: leads back to {ancestors[key]}, not followed"))
                elif key in seen:
                    skipped.append((str(p), "a link to a folder already scanned: not scanned twice"))
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
                skipped.append((str(p), f"{why} (points to {os.readlink(p)})"))
            else:
                skipped.append((str(p), "not a regular file"))
    return sorted(found)


def scan_class_folder(
    folder: str | os.PathLike[str], *, check: bool = True, photos_only: bool = True
) -> ClassScan:
    """The images of one class folder (nested folders included), their sizes, what was skipped and ignored.

    Returns
    -------
    ClassScan
        ``files`` (readable image paths), ``sizes`` (their upright ``(width, height)``,
        empty with ``check=False``), ``skipped`` (``(path, reason)`` for every file left
        out: unreadable, not an image, a symlink loop ...) and ``ignored`` (hidden and
        system entries, see :func:`is_hidden`, left out without a reason).

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
    for path in _walk(Path(folder), skipped, ignored):
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
    sizes
        Upright ``(width, height)`` of each file (when the scan decoded them).
    ignored
        Hidden and system files and folders (``.DS_Store``, ``Thumbs.db``, ``__MACOSX/`` ...).
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

    Unreadable, non-image, truncated, blank and too large files are skipped and
    listed in ``.skipped`` with a reason, so that training never stops in the
    middle of an epoch on a bad file. Hidden and system files and folders are
    left out and listed in ``.ignored``.

    Parameters
    ----------
    root
        A folder with one sub-folder per class.
    class_names
        The classes to use, in label order (default: every visible sub-folder, sorted).
    check
        Decode every image once (slower, but finds broken files).
    photos_only
        Skip placeholders and blank frames (see :func:`check_image`).

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
    for label, cls in enumerate(class_names):
        cdir = root / cls
        if not cdir.is_dir():
            raise DataNotFoundError(f"Class folder {cdir} does not exist.")
        scan = scan_class_folder(cdir, check=check, photos_only=photos_only)
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
