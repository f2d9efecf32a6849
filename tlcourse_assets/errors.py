"""The errors that say what is missing and how to get it: with internet, or from a classroom mirror.

Nothing in the course falls back to random weights or made-up data when one of these is raised.
"""

from __future__ import annotations

__all__ = [
    "ChecksumError",
    "DataNotFoundError",
    "TextModelNotAvailableError",
    "UnsafeArchiveError",
    "WeightsNotAvailableError",
]


class DataNotFoundError(FileNotFoundError):
    """A data set or folder is not where the course looked, and cannot be fetched."""


class ChecksumError(ValueError):
    """A file's SHA-256 is not the one the registry expects."""


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the target folder."""


class WeightsNotAvailableError(RuntimeError):
    """Pretrained weights are not in the Keras cache and could not be downloaded.

    Introduced in 05_best_practices.
    """


class TextModelNotAvailableError(WeightsNotAvailableError):
    """A KerasHub text preset is not in the Hugging Face cache and could not be downloaded."""
