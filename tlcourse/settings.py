"""Every environment variable the course reads, read in one place, once.

The bottom layer of the package: nothing here imports the rest of ``tlcourse``,
and no other module reads ``os.environ``. A :class:`Settings` object is made
from the environment the first time it is asked for (:func:`current`); tests
and instructors who change a setting at run time call :func:`reload` after
changing the environment, or :func:`override` for a block of code.

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
=========================  ====================================================

The Hugging Face cache is resolved with ``huggingface_hub``'s own rule (a test
checks the two agree), so the course looks exactly where KerasHub loads from.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.abc
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CAPSTONE_ENV",
    "DATA_ENV",
    "OFFLINE_ENV",
    "PROFILE_ENV",
    "Settings",
    "current",
    "is_truthy",
    "override",
    "quiet_native_logs",
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
    """What the environment says, as one immutable value.

    Attributes
    ----------
    data_path
        Folders named by ``$TLCOURSE_DATA_DIR``, in order.
    default_data_dir
        Where data sets are downloaded when ``data_path`` has no writable folder.
    offline
        ``$TLCOURSE_OFFLINE``: never download.
    hf_offline
        ``$HF_HUB_OFFLINE``: the Hugging Face client will not download either.
    profile
        ``$TLCOURSE_PROFILE`` (lower case), or ``None`` to choose by hardware.
    keras_home
        ``$KERAS_HOME``, default ``~/.keras`` (Keras's own rule).
    capstone_dir
        ``$TLCOURSE_CAPSTONE_DIR``, or ``None``.
    hf_hub_cache
        The Hugging Face hub cache, where KerasHub's ``hf://`` presets are kept.

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

    Examples
    --------
    >>> isinstance(current(), Settings)
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


# What TensorFlow's C++ runtime and absl print by themselves while TensorFlow loads: a log prefix
# (absl's: severity I/W/E/F, MMDD, time, thread, file:line]; or older TensorFlows' date, time and
# severity), absl's note that logging is not initialised, and the second line of the CPU-features
# note. Fatal (F) lines are never dropped: they explain an abort.
_NATIVE_LINE = re.compile(r"^(?:(?P<severity>[IWEF])\d{4} [\d:.]+ +\d+ "
                          r"|\d{4}-\d\d-\d\d [\d:.]+: (?P<old_severity>[IWEF]) )[^\s\]]+:\d+\] ")
_ABSL_PRE_INIT = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_CPU_FEATURES_TAIL = re.compile(r"^To enable the following instructions: .*rebuild TensorFlow with the appropriate")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 99}


def _is_native_noise(line: str, level: int) -> bool:
    """True for a TensorFlow/absl C++ log line below ``level`` (``TF_CPP_MIN_LOG_LEVEL``'s scale)."""
    m = _NATIVE_LINE.match(line)
    if m:
        return _SEVERITY[m.group("severity") or m.group("old_severity")] < level
    return level >= 1 and (line.startswith(_ABSL_PRE_INIT) or bool(_CPU_FEATURES_TAIL.match(line)))


def _write_all(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError):  # a closed stderr: the lines have nowhere to go
        while data:
            data = data[os.write(fd, data):]


def _forward(read_fd: int, write_fd: int, level: int) -> None:
    """Copy lines from ``read_fd`` to ``write_fd`` until end of file, leaving out TensorFlow's log lines."""
    pending = b""
    try:
        while chunk := os.read(read_fd, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            kept = [ln for ln in lines if not _is_native_noise(ln.decode("utf-8", "replace"), level)]
            if kept:
                _write_all(write_fd, b"".join(ln + b"\n" for ln in kept))
        if pending and not _is_native_noise(pending.decode("utf-8", "replace"), level):
            _write_all(write_fd, pending)
    finally:
        os.close(read_fd)


@contextlib.contextmanager
def _native_stderr_filtered(level: int) -> Iterator[None]:
    """Route file descriptor 2 through a filter for the block: C++ writes there, past ``sys.stderr``.

    A thread copies every line at once to the real stderr (Jupyter's, in a kernel), except
    TensorFlow's log lines below ``level``; Python's own output, warnings and tracebacks pass.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr (a windowless app): nothing to filter
        yield
        return
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    thread = threading.Thread(target=_forward, args=(read_fd, saved, level), name="tlcourse-stderr", daemon=True)
    thread.start()
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the thread reads to the end and stops
        thread.join(timeout=2)
        if not thread.is_alive():
            os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run with its C++ log lines filtered out of stderr."""

    def __init__(self, loader: Any, level: int) -> None:
        self.loader, self.level = loader, level

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        _disarm()
        module.__loader__ = module.__spec__.loader = self.loader
        with _native_stderr_filtered(self.level):
            self.loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` with the other finders and wraps its loader in :class:`_QuietLoader`, once."""

    def __init__(self, level: int) -> None:
        self.level = level

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "tensorflow":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and not isinstance(spec.loader, _QuietLoader):
                    spec.loader = _QuietLoader(spec.loader, self.level)
                return spec
        return None


def _disarm() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowImport)]


def quiet_native_logs(environ: MutableMapping[str, str] | None = None) -> bool:
    """Keep TensorFlow's C++ and absl log lines (CUDA probing, oneDNN, CPU features) away from learners.

    Two parts, both effective only before TensorFlow is first imported, which is
    why they live here and run when ``tlcourse`` is imported (and again in
    :func:`tlcourse.setup` and the ``tlcourse`` command):

    1. ``TF_CPP_MIN_LOG_LEVEL=3`` (``setdefault``: a value already in the
       environment wins) hides what TensorFlow logs once running: ``failed
       call to cuInit`` on a machine without a GPU, ``NodeDef mentions
       attribute``, the CPU-features note.
    2. TensorFlow 2.21 ignores that variable for what its libraries print while
       they load (absl's ``All log messages before absl::InitializeLog()``,
       ``oneDNN custom operations are on``, ``Could not find cuda drivers``).
       So the first ``import tensorflow`` (by Keras or anything else) runs with
       file descriptor 2 passed through a filter that drops those lines below
       the level and lets everything else through: Python's warnings and
       tracebacks, fatal (``F``) lines.

    ``TF_CPP_MIN_LOG_LEVEL=0`` in the environment shows everything, unfiltered.

    Parameters
    ----------
    environ
        Only set the variable in this mapping (the filter is for the process's own environment).

    Returns
    -------
    bool
        True if the filter waits for TensorFlow's import; False at level 0, for
        ``environ``, and once TensorFlow is imported (too late: nothing is filtered).

    Examples
    --------
    >>> env = {}
    >>> _ = quiet_native_logs(env)
    >>> env
    {'TF_CPP_MIN_LOG_LEVEL': '3'}
    >>> mine = {"TF_CPP_MIN_LOG_LEVEL": "0"}
    >>> quiet_native_logs(mine), mine
    (False, {'TF_CPP_MIN_LOG_LEVEL': '0'})
    """
    env = os.environ if environ is None else environ
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        level = int(env["TF_CPP_MIN_LOG_LEVEL"])
    except ValueError:
        level = 3
    if environ is not None or level <= 0 or "tensorflow" in sys.modules:
        return False
    if not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport(level))
    return True
