"""The course's data: a registry with official sources, a data directory, checks.

Every data set is looked for first in the data directory
(``$TLCOURSE_DATA_DIR``; several folders separated by ``os.pathsep`` are
searched in order), so a classroom mirror serves it offline. Where it is not
there, it is downloaded from its official source, verified by checksum and
extracted safely into the first writable data folder.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

__all__ = [
    "DATASETS",
    "ChecksumError",
    "DataNotFoundError",
    "DatasetSpec",
    "ImageFolder",
    "RemoteFile",
    "UnsafeArchiveError",
    "data_dir",
    "data_dirs",
    "dataset_path",
    "download",
    "few_shot",
    "load_digits",
    "load_images",
    "load_mnist",
    "load_sentences",
    "load_usps",
    "make_dataset",
    "offline",
    "safe_extract",
    "scan_class_folder",
    "scan_images",
    "sha256sum",
    "stratified_split",
]

DATA_ENV = "TLCOURSE_DATA_DIR"
OFFLINE_ENV = "TLCOURSE_OFFLINE"

#: Formats the decode pipeline reads (PIL's names; MPO is a camera JPEG).
DECODABLE_FORMATS = {"JPEG", "MPO", "PNG", "BMP"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


class DataNotFoundError(FileNotFoundError):
    """A data set or folder is not where the course looked, and cannot be fetched."""


class ChecksumError(ValueError):
    """A file's SHA-256 is not the one the registry expects."""


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the target folder."""


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class RemoteFile:
    """A file at its official source, with the SHA-256 of the download if known."""

    url: str
    filename: str
    sha256: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """One course data set: where it lives under the data directory and where it comes from.

    ``required`` lists paths (relative to the data set's folder) that must all
    exist; ``content_sha256`` maps files to the SHA-256 of their content
    (decompressed, for ``.gz``), checked whenever the data set is located.
    """

    name: str
    description: str
    citation: str
    required: tuple[str, ...]
    downloads: tuple[RemoteFile, ...]
    content_sha256: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[Path, Path], None] | None = None


def _move_children(src: Path, dst: Path, rename: dict[str, str] | None = None) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for child in src.iterdir():
        name = (rename or {}).get(child.name, child.name)
        shutil.move(str(child), str(dst / name))


def _prepare_flowers(downloaded: Path, target: Path) -> None:
    safe_extract(downloaded / "flower_photos.tgz", downloaded / "x")
    # The official archive names classes in the plural; the course uses singular names.
    rename = {"roses": "rose", "sunflowers": "sunflower", "tulips": "tulip"}
    src = downloaded / "x" / "flower_photos"
    (src / "LICENSE.txt").unlink(missing_ok=True)
    _move_children(src, target, rename)


def _prepare_hymenoptera(downloaded: Path, target: Path) -> None:
    safe_extract(downloaded / "hymenoptera_data.zip", downloaded / "x")
    _move_children(downloaded / "x" / "hymenoptera_data", target)


def _prepare_usps(downloaded: Path, target: Path) -> None:
    # LIBSVM's copy of USPS: "label index:value ..." lines, values in [-1, 1],
    # labels 1-10 for the digits 0-9. Stored as the course's usps.h5 layout.
    import h5py

    def parse(path: Path) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        with bz2.open(path, "rt") as f:
            for line in f:
                parts = line.split()
                row = np.zeros(256, np.float32)
                for item in parts[1:]:
                    i, v = item.split(":")
                    row[int(i) - 1] = float(v)
                xs.append((row + 1.0) / 2.0)
                ys.append(int(float(parts[0])) - 1)
        return np.stack(xs), np.asarray(ys, np.int64)

    target.mkdir(parents=True, exist_ok=True)
    with h5py.File(target / "usps.h5", "w") as h5:
        for split, fname in (("train", "usps.bz2"), ("test", "usps.t.bz2")):
            x, y = parse(downloaded / fname)
            h5.create_dataset(f"{split}/data", data=x)
            h5.create_dataset(f"{split}/target", data=y)


def _prepare_sentences(downloaded: Path, target: Path) -> None:
    safe_extract(downloaded / "sentiment_labelled_sentences.zip", downloaded / "x")
    src = next(p for p in (downloaded / "x").rglob("amazon_cells_labelled.txt")).parent
    target.mkdir(parents=True, exist_ok=True)
    for child in src.iterdir():
        if child.suffix == ".txt":
            shutil.copy2(child, target / child.name)


_MNIST = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_LIBSVM = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/"

DATASETS: dict[str, DatasetSpec] = {
    "flowers": DatasetSpec(
        name="flowers",
        description="Flower photos, 5 classes (TensorFlow's flower_photos)",
        citation="The TensorFlow Team, flower_photos (Flickr photos, CC-BY)",
        required=("daisy", "dandelion", "rose", "sunflower", "tulip"),
        downloads=(
            RemoteFile(
                "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
                "flower_photos.tgz",
            ),
        ),
        prepare=_prepare_flowers,
    ),
    "hymenoptera": DatasetSpec(
        name="hymenoptera",
        description="Ants and bees photos from ImageNet (PyTorch transfer-learning tutorial)",
        citation="PyTorch tutorials, hymenoptera_data (ImageNet images)",
        required=("train/ants", "train/bees", "val/ants", "val/bees"),
        downloads=(
            RemoteFile("https://download.pytorch.org/tutorial/hymenoptera_data.zip", "hymenoptera_data.zip"),
        ),
        prepare=_prepare_hymenoptera,
    ),
    "mnist_test": DatasetSpec(
        name="mnist_test",
        description="MNIST test set, 10,000 handwritten digits, 28x28",
        citation="LeCun, Cortes and Burges, The MNIST database",
        required=("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        downloads=(
            RemoteFile(_MNIST + "t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"),
            RemoteFile(_MNIST + "t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        ),
        content_sha256={
            "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        prepare=lambda downloaded, target: _move_children(downloaded, target),
    ),
    "usps": DatasetSpec(
        name="usps",
        description="USPS handwritten digits, train 7,291 / test 2,007, 16x16",
        citation="Hull, A database for handwritten text recognition research, 1994",
        required=("usps.h5",),
        downloads=(
            RemoteFile(_LIBSVM + "usps.bz2", "usps.bz2"),
            RemoteFile(_LIBSVM + "usps.t.bz2", "usps.t.bz2"),
        ),
        prepare=_prepare_usps,
    ),
    "sentiment_sentences": DatasetSpec(
        name="sentiment_sentences",
        description="UCI Sentiment Labelled Sentences: 1,000 reviews each from Amazon, IMDb, Yelp",
        citation="Kotzias et al., From group to individual labels using deep features, KDD 2015",
        required=("amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"),
        downloads=(
            RemoteFile(
                "https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip",
                "sentiment_labelled_sentences.zip",
            ),
        ),
        content_sha256={
            "amazon_cells_labelled.txt": "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3",
            "imdb_labelled.txt": "aef2e49e3da25714d61175e3a6e68eeef74a20a2f914318dc3be9947ea86512d",
            "yelp_labelled.txt": "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea",
        },
        prepare=_prepare_sentences,
    ),
}


# --------------------------------------------------------------------------- data directory


def _default_data_dir() -> Path:
    repo = Path(__file__).resolve().parents[1]
    if (repo / "pyproject.toml").exists() and (repo / "notebooks").is_dir():
        return repo / "data" / "cache"  # git-ignored
    return Path.home() / ".cache" / "tlcourse" / "data"


def data_dirs() -> list[Path]:
    """Folders searched for data sets, in order: ``$TLCOURSE_DATA_DIR`` then the default cache.

    Examples
    --------
    >>> data_dirs()[-1].name in {"cache", "data"}
    True
    """
    env = os.environ.get(DATA_ENV, "")
    dirs = [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    default = _default_data_dir()
    if default not in dirs:
        dirs.append(default)
    return dirs


def data_dir() -> Path:
    """The first data folder (the one ``$TLCOURSE_DATA_DIR`` names, or the default cache).

    Examples
    --------
    >>> isinstance(data_dir(), Path)
    True
    """
    return data_dirs()[0]


def offline() -> bool:
    """True when ``$TLCOURSE_OFFLINE`` is set: never try to download, fail with advice instead."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in {"", "0", "false", "no"}


def sha256sum(path: str | os.PathLike[str], *, decompress: bool = False) -> str:
    """SHA-256 of a file (of its decompressed content with ``decompress`` and a ``.gz`` file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"; _ = p.write_bytes(b"abc")
    >>> sha256sum(p)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    opener = gzip.open if decompress and str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_sha256(path: Path, expected: str, *, decompress: bool = False) -> None:
    got = sha256sum(path, decompress=decompress)
    if got != expected:
        raise ChecksumError(
            f"{path} has SHA-256 {got}, expected {expected}. The file is corrupt or not the "
            f"official one: delete it and fetch it again (`tlcourse fetch`), or replace it "
            f"from a trusted mirror."
        )


def download(url: str, dest: str | os.PathLike[str], *, sha256: str | None = None, timeout: float = 30) -> Path:
    """Download ``url`` to ``dest``, verifying its SHA-256 when given.

    The file is written to ``dest.part`` and renamed only once complete and
    verified, so an interrupted or corrupt download never looks finished.

    Raises
    ------
    ChecksumError
        If the download's SHA-256 differs (the partial file is removed).
    ConnectionError
        If the URL cannot be reached.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> src = pathlib.Path(tempfile.mkdtemp()) / "x.bin"; _ = src.write_bytes(b"abc")
    >>> download(src.as_uri(), src.with_suffix(".copy")).read_bytes()
    b'abc'
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                h.update(chunk)
                out.write(chunk)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise ConnectionError(f"Could not download {url}: {exc}") from exc
    if sha256 is not None and h.hexdigest() != sha256:
        part.unlink(missing_ok=True)
        raise ChecksumError(f"Download of {url} has SHA-256 {h.hexdigest()}, expected {sha256}; nothing was kept.")
    part.replace(dest)
    return dest


def _member_target(target: Path, name: str) -> Path:
    dest = (target / name).resolve()
    if Path(name).is_absolute() or not dest.is_relative_to(target.resolve()):
        raise UnsafeArchiveError(
            f"Archive member {name!r} would be written outside {target}; refusing to extract "
            f"anything from this archive. Get the archive from its official source."
        )
    return dest


def safe_extract(archive: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Extract a ``.zip`` or tar archive into ``target``, refusing any member that escapes it.

    Every member is checked before anything is written: a member with ``..``,
    an absolute path, or a link pointing outside stops the whole extraction.

    Raises
    ------
    UnsafeArchiveError
        If a member would land outside ``target``.

    Examples
    --------
    >>> import tempfile, pathlib, zipfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with zipfile.ZipFile(d / "a.zip", "w") as z: z.writestr("x/y.txt", "hi")
    >>> (safe_extract(d / "a.zip", d / "out") / "x" / "y.txt").read_text()
    'hi'
    """
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                _member_target(target, info.filename)
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise UnsafeArchiveError(f"Archive member {info.filename!r} is a symbolic link; refusing.")
            z.extractall(target)
        return target
    with tarfile.open(archive) as t:
        members = t.getmembers()
        for m in members:
            _member_target(target, m.name)
            if m.issym() or m.islnk():
                _member_target(target, str(Path(m.name).parent / m.linkname))
            if m.isdev():
                raise UnsafeArchiveError(f"Archive member {m.name!r} is a device file; refusing.")
        t.extractall(target, members=members, filter="data")
    return target


def _missing(spec: DatasetSpec, folder: Path) -> list[str]:
    return [r for r in spec.required if not (folder / r).exists()]


_VERIFIED: set[Path] = set()


def _verify(spec: DatasetSpec, folder: Path) -> None:
    if folder in _VERIFIED:
        return
    for rel, expected in spec.content_sha256.items():
        _check_sha256(folder / rel, expected, decompress=rel.endswith(".gz"))
    _VERIFIED.add(folder)


def _not_found_message(spec: DatasetSpec, reason: str) -> str:
    looked = "\n".join(f"    {d / spec.name}" for d in data_dirs())
    urls = "\n".join(f"    {r.url}" for r in spec.downloads)
    return (
        f"Data set {spec.name!r} ({spec.description}) is not available: {reason}.\n"
        f"  Looked in:\n{looked}\n"
        f"  It needs: {', '.join(spec.required)}\n"
        f"  Two ways to get it:\n"
        f"  1. with internet: `tlcourse fetch {spec.name}` (downloads from\n{urls})\n"
        f"  2. offline: point {DATA_ENV} at a folder that holds {spec.name}/ "
        f"(a classroom mirror prepared with `tlcourse fetch`)."
    )


def dataset_path(name: str, *, download_if_missing: bool = True) -> Path:
    """Return the folder of a course data set, fetching it if allowed and needed.

    Parameters
    ----------
    name
        A key of :data:`DATASETS`.
    download_if_missing
        Download from the official source when no data folder has it (never
        when ``$TLCOURSE_OFFLINE`` is set).

    Raises
    ------
    KeyError
        For an unknown data set name.
    DataNotFoundError
        If it is nowhere and cannot be downloaded; the message says how to get it.
    ChecksumError
        If a file's content is not the official one.

    Examples
    --------
    >>> dataset_path("mnist_test").name  # doctest: +SKIP
    'mnist_test'
    """
    if name not in DATASETS:
        raise KeyError(f"Unknown data set {name!r}; the course has {sorted(DATASETS)}.")
    spec = DATASETS[name]
    partial = None
    for d in data_dirs():
        folder = d / name
        if folder.is_dir():
            missing = _missing(spec, folder)
            if not missing:
                _verify(spec, folder)
                return folder
            partial = (folder, missing)
    if offline() or not download_if_missing:
        reason = "offline mode ($TLCOURSE_OFFLINE) and no data folder has it"
        if partial:
            reason = f"{partial[0]} lacks {', '.join(partial[1])}"
        raise DataNotFoundError(_not_found_message(spec, reason))
    return _fetch(spec)


def _writable_data_dir() -> Path:
    for d in data_dirs():
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(d, os.W_OK):
            return d
    raise DataNotFoundError(f"No writable data folder among {data_dirs()}; set {DATA_ENV} to one.")


def _fetch(spec: DatasetSpec) -> Path:
    root = _writable_data_dir()
    target = root / spec.name
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        tmp_path = Path(tmp)
        try:
            for remote in spec.downloads:
                print(f"Downloading {remote.url} ...", flush=True)
                download(remote.url, tmp_path / remote.filename, sha256=remote.sha256)
        except ConnectionError as exc:
            raise DataNotFoundError(_not_found_message(spec, f"the download failed ({exc})")) from exc
        staging = tmp_path / "staging"
        assert spec.prepare is not None
        spec.prepare(tmp_path, staging)
        missing = _missing(spec, staging)
        if missing:
            raise DataNotFoundError(_not_found_message(spec, f"the download lacks {', '.join(missing)}"))
        _verify(spec, staging)
        _VERIFIED.discard(staging)
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(staging), str(target))
    _verify(spec, target)
    return target


# --------------------------------------------------------------------------- image folders


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

    def subset(self, indices: Sequence[int] | np.ndarray) -> "ImageFolder":
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


def _check_image(path: Path) -> tuple[str | None, tuple[int, int] | None]:
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
        reason, size = _check_image(path) if check else (None, None)
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


# --------------------------------------------------------------------------- splits


def stratified_split(
    labels: Sequence[int] | np.ndarray, *, val: float = 0.15, test: float = 0.15, seed: int = 0
) -> dict[str, np.ndarray]:
    """Split indices into train/val/test with the same class proportions in each.

    Returns
    -------
    dict
        ``{"train": idx, "val": idx, "test": idx}`` (sorted index arrays).

    Examples
    --------
    >>> s = stratified_split([0] * 10 + [1] * 10, val=0.2, test=0.2, seed=0)
    >>> [len(s[k]) for k in ("train", "val", "test")]
    [12, 4, 4]
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    idx = np.arange(len(labels))
    rest, test_idx = (idx, idx[:0]) if test == 0 else train_test_split(
        idx, test_size=test, stratify=labels, random_state=seed
    )
    if val == 0:
        train_idx, val_idx = rest, idx[:0]
    else:
        train_idx, val_idx = train_test_split(
            rest, test_size=val / (1 - test), stratify=labels[rest], random_state=seed
        )
    return {"train": np.sort(train_idx), "val": np.sort(val_idx), "test": np.sort(test_idx)}


def few_shot(
    labels: Sequence[int] | np.ndarray, k: int | None, *, seed: int = 0, indices: Iterable[int] | None = None
) -> np.ndarray:
    """Pick ``k`` indices per class (all of a class that has fewer), seeded.

    Parameters
    ----------
    labels
        Labels of the whole set.
    k
        Images per class; ``None`` keeps everything.
    indices
        Choose only among these (for example a training split).

    Examples
    --------
    >>> few_shot([0, 0, 0, 1, 1, 1], 2, seed=0).size
    4
    """
    labels = np.asarray(labels)
    pool = np.arange(len(labels)) if indices is None else np.asarray(list(indices))
    if k is None:
        return np.sort(pool)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels[pool]):
        members = pool[labels[pool] == c]
        chosen.append(rng.choice(members, size=min(k, members.size), replace=False))
    return np.sort(np.concatenate(chosen))


# --------------------------------------------------------------------------- tf.data


def _decode(path: Any, image_size: int) -> Any:
    import tensorflow as tf

    raw = tf.io.read_file(path)
    img = tf.io.decode_image(raw, channels=3, expand_animations=False, dtype=tf.uint8)
    img.set_shape([None, None, 3])
    return tf.image.resize(img, (image_size, image_size), antialias=True)


def make_dataset(
    files: Sequence[str],
    labels: Sequence[int] | np.ndarray | None,
    *,
    image_size: int,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    cache: bool | str = True,
    augment: Callable[[Any], Any] | None = None,
) -> Any:
    """A ``tf.data`` pipeline: read, decode, resize, cache, shuffle, batch, augment, prefetch.

    Images come out as float32 in [0, 255], the range Keras Applications'
    ``preprocess_input`` functions expect.

    Parameters
    ----------
    files, labels
        Image paths (checked by :func:`scan_images`) and integer labels (or ``None``).
    image_size
        Output height and width.
    shuffle
        Reshuffle each epoch (for training), seeded.
    cache
        ``True`` caches decoded images in memory, a path caches them on disk.
    augment
        A function (for example a ``keras.Sequential`` of random layers) applied
        to each batch after the cache, so each epoch sees new variants.

    Examples
    --------
    >>> ds = make_dataset(folder.files, folder.labels, image_size=128)  # doctest: +SKIP
    """
    import tensorflow as tf

    autotune = tf.data.AUTOTUNE
    if labels is None:
        ds = tf.data.Dataset.from_tensor_slices(list(files)).map(
            lambda p: _decode(p, image_size), num_parallel_calls=autotune
        )
    else:
        ds = tf.data.Dataset.from_tensor_slices((list(files), np.asarray(labels))).map(
            lambda p, y: (_decode(p, image_size), y), num_parallel_calls=autotune
        )
    if cache:
        ds = ds.cache() if cache is True else ds.cache(str(cache))
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        if labels is None:
            ds = ds.map(lambda x: augment(x, training=True), num_parallel_calls=autotune)
        else:
            ds = ds.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=autotune)
    return ds.prefetch(autotune)


def load_images(files: Sequence[str], *, image_size: int, batch_size: int = 64) -> np.ndarray:
    """Decode and resize images into one uint8 array ``(n, size, size, 3)``.

    Examples
    --------
    >>> x = load_images(folder.files[:4], image_size=96)  # doctest: +SKIP
    >>> x.shape  # doctest: +SKIP
    (4, 96, 96, 3)
    """
    ds = make_dataset(files, None, image_size=image_size, batch_size=batch_size, cache=False)
    batches = [np.clip(np.rint(b.numpy()), 0, 255).astype(np.uint8) for b in ds]
    if not batches:
        return np.zeros((0, image_size, image_size, 3), np.uint8)
    return np.concatenate(batches)


# --------------------------------------------------------------------------- digits and text


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _resize_digits(x: np.ndarray, size: int) -> np.ndarray:
    import tensorflow as tf

    if x.shape[1] == size:
        return x
    return tf.image.resize(x, (size, size), antialias=True).numpy().astype(np.float32)


def load_mnist(size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10,000 test digits as ``float32`` in [0, 1], shape ``(n, size, size, 1)``.

    Only the test file is in the offline mirror; the course shuffles and
    splits it (it is ordered: its first half is cleaner than its second).

    Examples
    --------
    >>> x, y = load_mnist()  # doctest: +SKIP
    >>> x.shape, y[:3]  # doctest: +SKIP
    ((10000, 28, 28, 1), array([7, 2, 1]))
    """
    folder = dataset_path("mnist_test")
    x = _read_idx(folder / "t10k-images-idx3-ubyte.gz").astype(np.float32)[..., None] / 255.0
    y = _read_idx(folder / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return _resize_digits(x, size), y


def load_usps(split: str = "train", size: int = 28, *, fit: str = "stretch") -> tuple[np.ndarray, np.ndarray]:
    """USPS digits as ``float32`` in [0, 1], shape ``(n, size, size, 1)``.

    Parameters
    ----------
    split
        ``"train"`` (7,291) or ``"test"`` (2,007).
    size
        Output size (MNIST's is 28).
    fit
        ``"stretch"``: the 16x16 digit fills the frame. ``"box"``: resized to
        ``size * 20 / 28`` and padded, the way MNIST digits sit in a 20-px box.

    Examples
    --------
    >>> x, y = load_usps("test")  # doctest: +SKIP
    >>> x.shape  # doctest: +SKIP
    (2007, 28, 28, 1)
    """
    import h5py

    if split not in {"train", "test"}:
        raise ValueError(f"USPS split must be 'train' or 'test', not {split!r}.")
    if fit not in {"stretch", "box"}:
        raise ValueError(f"fit must be 'stretch' or 'box', not {fit!r}.")
    with h5py.File(dataset_path("usps") / "usps.h5", "r") as h5:
        x = np.asarray(h5[f"{split}/data"], np.float32).reshape(-1, 16, 16, 1)
        y = np.asarray(h5[f"{split}/target"], np.int64)
    if fit == "stretch":
        return _resize_digits(x, size), y
    inner = round(size * 20 / 28)
    small = _resize_digits(x, inner)
    pad = (size - inner) // 2
    out = np.zeros((len(x), size, size, 1), np.float32)
    out[:, pad : pad + inner, pad : pad + inner] = small
    return out, y


def load_digits(name: str, split: str = "test", size: int = 28, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """``load_digits("mnist")`` or ``load_digits("usps", "train")``: digits at a common size.

    Examples
    --------
    >>> x, y = load_digits("usps", "test", size=28)  # doctest: +SKIP
    """
    if name == "mnist":
        if split != "test":
            raise ValueError("Only MNIST's test file (10,000 digits) is in the course data; use split='test'.")
        return load_mnist(size)
    if name == "usps":
        return load_usps(split, size, **kwargs)
    raise KeyError(f"Unknown digits set {name!r}: use 'mnist' or 'usps'.")


SENTENCE_SITES = {"amazon": "amazon_cells_labelled.txt", "imdb": "imdb_labelled.txt", "yelp": "yelp_labelled.txt"}


def load_sentences(site: str) -> tuple[list[str], np.ndarray]:
    """Review sentences of one site (``amazon``, ``imdb`` or ``yelp``) and their labels (1 positive).

    Parsed line by line: a CSV reader silently drops IMDb rows with quotes.

    Examples
    --------
    >>> texts, labels = load_sentences("yelp")  # doctest: +SKIP
    >>> len(texts), int(labels.sum())  # doctest: +SKIP
    (1000, 500)
    """
    if site not in SENTENCE_SITES:
        raise KeyError(f"Unknown site {site!r}; choose one of {sorted(SENTENCE_SITES)}.")
    path = dataset_path("sentiment_sentences") / SENTENCE_SITES[site]
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            try:
                text, label = line.rsplit("\t", 1)
                labels.append(int(label))
            except ValueError as exc:
                raise ValueError(f"{path}, line {n}: expected 'sentence<TAB>0 or 1', got {line!r}") from exc
            texts.append(text.strip())
    return texts, np.asarray(labels, np.int64)
