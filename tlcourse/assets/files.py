"""Files from outside: checksums, verified downloads, archives extracted safely.

Downloads go through ``keras.utils.get_file`` (a progress bar, the file kept
once complete and verified, reused on the next run when its hash still
matches); what it lacks for a classroom is here: a SHA-256 mismatch removes the
file and raises :class:`ChecksumError`, a network failure raises
``ConnectionError`` with the URL, and :func:`safe_extract` refuses any archive
member that would land outside its folder (``zipfile`` has no such filter).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import zipfile
from pathlib import Path

from tlcourse.assets.errors import ChecksumError, UnsafeArchiveError

__all__ = ["check_sha256", "download", "safe_extract", "sha256sum"]


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


def check_sha256(path: str | os.PathLike[str], expected: str, *, decompress: bool = False) -> None:
    """Raise :class:`ChecksumError`, saying what to do, unless ``path`` has SHA-256 ``expected``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"; _ = p.write_bytes(b"abc")
    >>> check_sha256(p, sha256sum(p))
    >>> check_sha256(p, "0" * 64)
    Traceback (most recent call last):
    ...
    tlcourse.assets.errors.ChecksumError: ...
    """
    got = sha256sum(path, decompress=decompress)
    if got != expected:
        raise ChecksumError(
            f"{path} has SHA-256 {got}, expected {expected}. The file is corrupt or not the "
            f"official one: delete it and fetch it again (`tlcourse fetch`), or replace it "
            f"from a trusted mirror."
        )


def download(url: str, dest: str | os.PathLike[str], *, sha256: str | None = None) -> Path:
    """Download ``url`` to ``dest`` with ``keras.utils.get_file``, verifying its SHA-256 when given.

    A file already at ``dest`` with the right hash is kept (an interrupted
    multi-file fetch goes on where it stopped); an interrupted download leaves
    nothing behind.

    Raises
    ------
    ChecksumError
        If the download's SHA-256 differs (the file is removed).
    ConnectionError
        If the URL cannot be reached.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> src = pathlib.Path(tempfile.mkdtemp()) / "x.bin"; _ = src.write_bytes(b"abc")
    >>> download(src.as_uri(), src.with_suffix(".copy")).read_bytes()  # doctest: +ELLIPSIS
    Downloading data from file:///...
    b'abc'
    """
    import keras

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        got = keras.utils.get_file(dest.name, url, file_hash=sha256, hash_algorithm="sha256",
                                   cache_dir=str(dest.parent), cache_subdir="")
    except ValueError as exc:  # get_file's "Incomplete or corrupted file detected"
        dest.unlink(missing_ok=True)
        raise ChecksumError(f"Download of {url} does not have SHA-256 {sha256}; nothing was kept.") from exc
    except Exception as exc:  # noqa: BLE001 - get_file raises a bare Exception on URL failures
        dest.unlink(missing_ok=True)
        raise ConnectionError(f"Could not download {url}: {exc}") from exc
    return Path(got)


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
