"""The course's data sets: where each comes from, where the course looks for it, how it is fetched.

A data set is looked for in the data folders (``$TLCOURSE_DATA_DIR``, ``os.pathsep``-separated, then
the default cache), so a classroom mirror serves it offline; else it is downloaded from its official
source, checked against its published checksum, extracted safely and moved into the first writable
data folder in one step.
"""

from __future__ import annotations

import bz2
import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tlcourse import settings
from tlcourse_assets.errors import DataNotFoundError
from tlcourse_assets.files import check_sha256, download, safe_extract

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "RemoteFile",
    "data_dir",
    "data_dirs",
    "dataset_path",
    "fetch_dataset",
    "writable_data_dir",
]



@dataclass(frozen=True)
class RemoteFile:
    """A file at its official source, with the checksum published for it or the reason there is none.

    ``sha256`` (or ``md5``, where that is all that is published) is as published where ``checksum_source``
    says; every download is refused on a mismatch.
    """

    url: str
    filename: str
    sha256: str | None = None
    md5: str | None = None
    checksum_source: str = ""
    no_checksum_reason: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    """One course data set: where it lives under the data directory and where it comes from.

    ``required`` paths (relative to its folder) must all exist; ``content_sha256`` (of the decompressed
    content, for ``.gz``) is checked whenever the data set is located.
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


def _move_files(src: Path, dst: Path, pattern: str) -> None:
    # Only the downloaded files: the staging folder is made inside ``src``.
    dst.mkdir(parents=True, exist_ok=True)
    for child in src.glob(pattern):
        shutil.move(str(child), str(dst / child.name))


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
# Where the checksums below were published.
_TFDS_MNIST = "tensorflow/datasets, tensorflow_datasets/url_checksums/mnist.txt"
_TORCHVISION_USPS = "pytorch/vision, torchvision/datasets/usps.py, USPS.split_list"

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
                sha256="4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c",
                # TFDS lists the URL http://download.tensorflow.org/example_images/flower_photos.tgz:
                # the same object, served from the Cloud Storage bucket named download.tensorflow.org.
                checksum_source="tensorflow/datasets, tensorflow_datasets/datasets/tf_flowers/checksums.tsv, "
                                "228,813,984 bytes",
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
            RemoteFile(
                "https://download.pytorch.org/tutorial/hymenoptera_data.zip",
                "hymenoptera_data.zip",
                sha256="fbc41b31d544714d18dd1230b1e2b455e1557766e13e67f9f5a7a23af7c02209",
                checksum_source="pytorch/tutorials, .jenkins/download_data.py, download_hymenoptera_data: "
                                "the tutorial's own download script",
            ),
        ),
        prepare=_prepare_hymenoptera,
    ),
    "mnist_test": DatasetSpec(
        name="mnist_test",
        description="MNIST test set, 10,000 handwritten digits, 28x28",
        citation="LeCun, Cortes and Burges, The MNIST database",
        required=("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        downloads=(
            RemoteFile(
                _MNIST + "t10k-images-idx3-ubyte.gz",
                "t10k-images-idx3-ubyte.gz",
                sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                checksum_source=_TFDS_MNIST + ", 1,648,877 bytes",
            ),
            RemoteFile(
                _MNIST + "t10k-labels-idx1-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz",
                sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                checksum_source=_TFDS_MNIST + ", 4,542 bytes",
            ),
        ),
        content_sha256={
            "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        prepare=lambda downloaded, target: _move_files(downloaded, target, "*.gz"),
    ),
    "usps": DatasetSpec(
        name="usps",
        description="USPS handwritten digits, train 7,291 / test 2,007, 16x16",
        citation="Hull, A database for handwritten text recognition research, 1994",
        required=("usps.h5",),
        downloads=(
            # The LIBSVM site publishes no checksum and we found no published SHA-256 of these files:
            # torchvision's MD5s (it downloads the same URLs) are the published checksums.
            RemoteFile(_LIBSVM + "usps.bz2", "usps.bz2", md5="ec16c51db3855ca6c91edd34d0e9b197",
                       checksum_source=_TORCHVISION_USPS),
            RemoteFile(_LIBSVM + "usps.t.bz2", "usps.t.bz2", md5="8ea070ee2aca1ac39742fdd1ef5ed118",
                       checksum_source=_TORCHVISION_USPS),
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
                no_checksum_reason=(
                    "UCI publishes no checksum for this zip, and we found no dataset library (TensorFlow "
                    "Datasets, torchvision) that downloads it with one; the three sentence files inside are "
                    "checked instead, against content_sha256."
                ),
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


# --------------------------------------------------------------------------- where the course looks


def data_dirs() -> list[Path]:
    """Folders searched for data sets, in order: ``$TLCOURSE_DATA_DIR`` then the default cache.

    Examples
    --------
    >>> data_dirs()[-1].name in {"cache", "data"}
    True
    """
    return settings.current().data_dirs


def data_dir() -> Path:
    """The first data folder (the one ``$TLCOURSE_DATA_DIR`` names, or the default cache).

    Examples
    --------
    >>> with settings.override(data_path=(Path("/mirror/datasets"), Path("/elsewhere"))):
    ...     print(data_dir().as_posix())
    /mirror/datasets
    """
    return data_dirs()[0]


def writable_data_dir() -> Path:
    """The first data folder the course may write to (created if needed): where downloads go.

    Raises ``DataNotFoundError`` if none can be written.
    """
    for d in data_dirs():
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(d, os.W_OK):
            return d
    raise DataNotFoundError(f"No writable data folder among {data_dirs()}; set {settings.DATA_ENV} to one.")


def _missing(spec: DatasetSpec, folder: Path) -> list[str]:
    return [r for r in spec.required if not (folder / r).exists()]


_VERIFIED: set[Path] = set()


def _verify(spec: DatasetSpec, folder: Path) -> None:
    if folder in _VERIFIED:
        return
    for rel, expected in spec.content_sha256.items():
        check_sha256(folder / rel, expected, decompress=rel.endswith(".gz"))
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
        f"  2. offline: point {settings.DATA_ENV} at a folder that holds {spec.name}/ "
        f"(a classroom mirror prepared with `tlcourse fetch`)."
    )


def dataset_path(name: str, *, download_if_missing: bool = True) -> Path:
    """Return the folder of a course data set, fetching it if allowed and needed.

    Introduced in 00_setup_check.

    Without ``download_if_missing``, or with ``$TLCOURSE_OFFLINE`` set, it never downloads: a data set
    that is nowhere raises ``DataNotFoundError``, saying how to get it. ``KeyError`` for an unknown name,
    ``ChecksumError`` if a file's content is not the official one.

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
    if settings.current().offline or not download_if_missing:
        reason = "offline mode ($TLCOURSE_OFFLINE) and no data folder has it"
        if partial:
            reason = f"{partial[0]} lacks {', '.join(partial[1])}"
        raise DataNotFoundError(_not_found_message(spec, reason))
    return fetch_dataset(name)


def fetch_dataset(name: str) -> Path:
    """Download a data set from its official source into the first writable data folder.

    Downloads are kept, verified, in ``<data folder>/downloads/`` (an interrupted fetch goes on from them);
    the data set is prepared in a temporary folder and moved to ``<data folder>/<name>`` only once checked.
    Raises ``DataNotFoundError`` if a download fails or lacks a required file, ``ChecksumError`` if a file is
    not the official one (the data set already there is left as it was).
    """
    spec = DATASETS[name]
    root = writable_data_dir()
    target = root / spec.name
    cache = root / "downloads" / spec.name
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        tmp_path = Path(tmp)
        try:
            for remote in spec.downloads:
                print(f"Downloading {remote.url} ...", flush=True)
                got = download(remote.url, cache / remote.filename, sha256=remote.sha256, md5=remote.md5,
                               source=remote.checksum_source)
                shutil.copy2(got, tmp_path / remote.filename)
        except ConnectionError as exc:
            raise DataNotFoundError(_not_found_message(
                spec, f"the download failed ({exc}); run the fetch again: it goes on from the files already verified"
            )) from exc
        staging = tmp_path / "staging"
        if spec.prepare is None:
            raise DataNotFoundError(f"{name} has no preparation step in the registry.")
        spec.prepare(tmp_path, staging)
        missing = _missing(spec, staging)
        if missing:
            raise DataNotFoundError(_not_found_message(spec, f"the download lacks {', '.join(missing)}"))
        _verify(spec, staging)
        _VERIFIED.discard(staging)
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(staging), str(target))
    shutil.rmtree(cache, ignore_errors=True)
    with contextlib.suppress(OSError):  # downloads/ itself once no other fetch has files there
        cache.parent.rmdir()
    _verify(spec, target)
    return target
