"""Decoding one image file: every format Pillow reads, upright, 8-bit RGB, with a reason for each refusal.

:func:`read_rgb` is the one decode: the folder check (:func:`check_image`) and the ``tf.data``
pipeline both use it, so what a scan accepts is what training reads.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["HEIF_SUFFIXES", "IMAGE_SUFFIXES", "MAX_FLAT_FRACTION", "MAX_PIXELS", "MIN_PHOTO_COLOURS",
           "ImageReadError", "check_image", "read_rgb"]

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

_CHECK_SIZE = 64  # check_image: JPEGs decoded at the DCT scale nearest above this (all the data read, far faster)
_OPEN_LOCK = threading.Lock()  # warnings filters are process-wide: one open at a time turns bomb warnings into errors
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_HEIF_ADVICE = ("HEIC/HEIF photo (an iPhone's default format), which Pillow reads only with a plugin: convert it "
                "to JPEG (iPhone: Settings > Camera > Formats > Most Compatible; Mac: Preview > Export) "
                "or `pip install pillow-heif`")


class ImageReadError(ValueError):
    """An image file the course cannot read; ``reason`` says why in words, ``path`` which file.

    Introduced in 06_capstone_your_own_data.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = str(path), reason

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
    """The upright RGB pixels at ``size`` square (``nearest``: sampled, to count colours) and upright ``(width, height)``."""
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

    Introduced in 06_capstone_your_own_data.

    The first frame of an animation or multi-page file, as 8-bit RGB; transparency composited on
    **white** (a dropped alpha shows whatever the hidden pixels hold, often black); EXIF orientation
    applied; resized bilinearly (a JPEG first decoded at the smallest DCT scale that keeps ``size``
    pixels a side). :class:`ImageReadError` (``.reason`` says why) for a file it cannot read, an
    image over :data:`MAX_PIXELS` (before any decode), or HEIC/HEIF without ``pillow-heif``.

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

    The decode is :func:`read_rgb`'s; the size is the upright one, in the file's own pixels.
    ``photos_only`` also refuses flat graphics (over :data:`MAX_FLAT_FRACTION` one colour *and*
    fewer than :data:`MIN_PHOTO_COLOURS` colours), such as placeholders and blank frames; an insect
    on white is 80% white but has hundreds of colours. Pass ``False`` for drawings on a plain background.

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

