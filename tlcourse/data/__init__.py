"""Data for the lessons: image folders, splits, the ``tf.data`` pipeline, digits and sentences.

Where a data set lives and how it is fetched is :mod:`tlcourse_assets.datasets`; its names are
re-exported here (``data.dataset_path("flowers")``), so a lesson asks for data in one place.
"""

from tlcourse.data.decode import (
    HEIF_SUFFIXES,
    IMAGE_SUFFIXES,
    MAX_FLAT_FRACTION,
    MAX_PIXELS,
    MIN_PHOTO_COLOURS,
    ImageReadError,
    check_image,
    read_rgb,
)
from tlcourse.data.digits import load_mnist, load_usps
from tlcourse.data.images import ClassScan, ImageFolder, is_hidden, scan_class_folder, scan_images
from tlcourse.data.pipeline import decode_image, load_images, make_dataset
from tlcourse.data.sentences import SENTENCE_SITES, load_sentences
from tlcourse.data.splits import few_shot, stratified_split
from tlcourse.settings import current as _settings
from tlcourse_assets.datasets import DATASETS, DatasetSpec, RemoteFile, data_dir, data_dirs, dataset_path
from tlcourse_assets.errors import ChecksumError, DataNotFoundError, UnsafeArchiveError


def offline() -> bool:
    """True when ``$TLCOURSE_OFFLINE`` is set: never download, fail with advice instead.

    Introduced in 00_setup_check.

    Examples
    --------
    >>> from tlcourse import settings
    >>> with settings.override(offline=True):
    ...     offline()
    True
    """
    return _settings().offline


__all__ = [
    "DATASETS",
    "HEIF_SUFFIXES",
    "IMAGE_SUFFIXES",
    "MAX_FLAT_FRACTION",
    "MAX_PIXELS",
    "MIN_PHOTO_COLOURS",
    "SENTENCE_SITES",
    "ChecksumError",
    "ClassScan",
    "DataNotFoundError",
    "DatasetSpec",
    "ImageFolder",
    "ImageReadError",
    "RemoteFile",
    "UnsafeArchiveError",
    "check_image",
    "data_dir",
    "data_dirs",
    "dataset_path",
    "decode_image",
    "few_shot",
    "is_hidden",
    "load_images",
    "load_mnist",
    "load_sentences",
    "load_usps",
    "make_dataset",
    "offline",
    "read_rgb",
    "scan_class_folder",
    "scan_images",
    "stratified_split",
]
