"""Every environment variable the course reads, read in one place, once.

No other module reads ``os.environ``. :func:`current` reads it on first use; after changing it at run
time call :func:`reload`, or use :func:`override` for a block of code.

=========================  ====================================================
variable                   what it sets
=========================  ====================================================
``TLCOURSE_DATA_DIR``      folders searched for data sets, ``os.pathsep``-separated
``TLCOURSE_OFFLINE``       never try the network; fail with advice instead
``TLCOURSE_PROFILE``       ``quick`` or ``full``, instead of the choice by hardware
``TLCOURSE_CAPSTONE_DIR``  the photo folder of 06_capstone_your_own_data
``KERAS_HOME``             Keras's cache; ImageNet weights live in its ``models/``
``HF_HUB_OFFLINE``         the Hugging Face client's own offline switch
``HF_HUB_CACHE``           the Hugging Face hub cache (else ``HF_HOME/hub``, else
                           ``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``)
``TF_CPP_MIN_LOG_LEVEL``   TensorFlow's C++ log level: set to 3 where unset
=========================  ====================================================

The Hugging Face cache follows ``huggingface_hub``'s rule, so the course looks where KerasHub loads from.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CAPSTONE_ENV",
    "DATA_ENV",
    "OFFLINE_ENV",
    "PROFILE_ENV",
    "Settings",
    "current",
    "command_environment",
    "is_truthy",
    "native_log_level",
    "override",
    "reload",
]

DATA_ENV = "TLCOURSE_DATA_DIR"
OFFLINE_ENV = "TLCOURSE_OFFLINE"
PROFILE_ENV = "TLCOURSE_PROFILE"
CAPSTONE_ENV = "TLCOURSE_CAPSTONE_DIR"


def is_truthy(value: str | None) -> bool:
    """``"1"``, ``"yes"``, ``"true"`` (any case) and other non-empty words are on; ``""``, ``0``, ``false``, ``no`` off.

    Examples
    --------
    >>> [is_truthy(v) for v in ("1", "TRUE", "", "0", "no", None)]
    [True, True, False, False, False, False]
    """
    return (value or "").strip().lower() not in {"", "0", "false", "no", "off"}


def _default_data_dir() -> Path:
    # In a clone of the course the data cache sits beside the notebooks (git-ignored);
    # an installed package keeps it in the user's cache folder.
    repo = Path(__file__).resolve().parents[1]
    if (repo / "pyproject.toml").exists() and (repo / "notebooks").is_dir():
        return repo / "data" / "cache"
    return Path.home() / ".cache" / "tlcourse" / "data"


@dataclass(frozen=True)
class Settings:
    """What the environment says, as one immutable value (the module's table says which variable sets what).

    ``default_data_dir`` is where data sets are downloaded when no folder of ``data_path`` is writable;
    ``profile`` is lower case, ``None`` to choose by hardware; ``keras_home`` defaults to ``~/.keras``.

    Examples
    --------
    >>> s = Settings.from_env({"TLCOURSE_OFFLINE": "1", "KERAS_HOME": "/k"})
    >>> s.offline, s.keras_home.as_posix(), s.profile
    (True, '/k', None)
    """

    data_path: tuple[Path, ...]
    default_data_dir: Path
    offline: bool
    hf_offline: bool
    profile: str | None
    keras_home: Path
    capstone_dir: Path | None
    hf_hub_cache: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        data_path = tuple(Path(p).expanduser() for p in env.get(DATA_ENV, "").split(os.pathsep) if p.strip())
        keras_home = env.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
        capstone = env.get(CAPSTONE_ENV, "").strip()
        # huggingface_hub.constants' rule, so both look in the same folder.
        xdg = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        hf_home = env.get("HF_HOME") or os.path.join(xdg, "huggingface")
        hf_cache = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE") or os.path.join(hf_home, "hub")
        return cls(
            data_path=data_path,
            default_data_dir=_default_data_dir(),
            offline=is_truthy(env.get(OFFLINE_ENV)),
            hf_offline=is_truthy(env.get("HF_HUB_OFFLINE") or env.get("TRANSFORMERS_OFFLINE")),
            profile=env.get(PROFILE_ENV, "").strip().lower() or None,
            keras_home=Path(keras_home).expanduser(),
            capstone_dir=Path(capstone).expanduser() if capstone else None,
            hf_hub_cache=Path(os.path.expandvars(os.path.expanduser(hf_cache))),
        )

    @property
    def data_dirs(self) -> list[Path]:
        """Folders searched for data sets, in order: ``data_path``, then ``default_data_dir``.

        Examples
        --------
        >>> s = Settings.from_env({"TLCOURSE_DATA_DIR": "/a"})
        >>> [p.as_posix() for p in s.data_dirs][0], len(s.data_dirs)
        ('/a', 2)
        """
        dirs = list(self.data_path)
        if self.default_data_dir not in dirs:
            dirs.append(self.default_data_dir)
        return dirs

    @property
    def weights_dir(self) -> Path:
        """Where Keras keeps ImageNet weights: ``keras_home / "models"``."""
        return self.keras_home / "models"


_CURRENT: Settings | None = None


def current() -> Settings:
    """The settings in force: read from the environment on first use, then kept.

    Introduced in 06_capstone_your_own_data.

    Examples
    --------
    >>> current() is current()  # read once, then kept
    True
    >>> current().offline == is_truthy(os.environ.get(OFFLINE_ENV))
    True
    """
    global _CURRENT
    if _CURRENT is None:
        _CURRENT = Settings.from_env()
    return _CURRENT


def reload() -> Settings:
    """Read the environment again (after changing it in a running kernel or a test).

    Examples
    --------
    >>> reload() == Settings.from_env()
    True
    """
    global _CURRENT
    _CURRENT = Settings.from_env()
    return _CURRENT


@contextlib.contextmanager
def override(**changes: object) -> Iterator[Settings]:
    """Use changed settings inside a ``with`` block, then go back to the previous ones.

    Examples
    --------
    >>> with override(offline=True) as s:
    ...     current().offline
    True
    """
    global _CURRENT
    before = current()
    _CURRENT = dataclasses.replace(before, **changes)  # type: ignore[arg-type]
    try:
        yield _CURRENT
    finally:
        _CURRENT = before


def command_environment() -> dict[str, str]:
    """This process's environment for a ``tlcourse`` command a lesson runs: the same, but TensorFlow's C++
    log lines below fatal filtered out (``TF_CPP_MIN_LOG_LEVEL=3``), as the course's kernel keeps them out
    of notebooks: the lesson shows what the command says, not TensorFlow probing for a GPU.

    Examples
    --------
    >>> command_environment()["TF_CPP_MIN_LOG_LEVEL"]
    '3'
    """
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def native_log_level(environ: MutableMapping[str, str] | None = None) -> int:
    """TensorFlow's C++ log level, ``TF_CPP_MIN_LOG_LEVEL``: set to 3 where unset (a value already set wins).

    TensorFlow reads it when first imported, so :func:`tlcourse.setup` and the ``tlcourse`` command call
    this before that. What TensorFlow 2.21 prints while it loads ignores it: the course's kernel
    (``make install``) keeps those lines out of notebooks, the ``tlcourse`` command filters them.

    Examples
    --------
    >>> env = {}
    >>> native_log_level(env), env
    (3, {'TF_CPP_MIN_LOG_LEVEL': '3'})
    >>> native_log_level({"TF_CPP_MIN_LOG_LEVEL": "0"})
    0
    """
    env = os.environ if environ is None else environ
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        return int(env["TF_CPP_MIN_LOG_LEVEL"])
    except ValueError:
        return 3
