"""Files from outside: checksums, verified downloads, archives extracted safely.

:func:`download` wraps ``keras.utils.get_file`` for a classroom: a checksum mismatch deletes the download,
keeps the file that was there and raises :class:`ChecksumError` saying what to do; a network failure
raises ``ConnectionError`` with the URL and, where :func:`explain_download_failure` recognises the cause,
what to do. :func:`safe_extract` refuses any archive member that would land outside its folder.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import socket
import ssl
import tarfile
import zipfile
from pathlib import Path

from tlcourse_assets.errors import ChecksumError, UnsafeArchiveError

__all__ = ["check_sha256", "download", "explain_download_failure", "file_digest", "safe_extract"]

_CERTIFICATE = (
    "Python could not verify the server's certificate (CERTIFICATE_VERIFY_FAILED). On macOS with Python "
    "from python.org, run \"Install Certificates.command\" (in Applications/Python 3.x); elsewhere "
    "`pip install --upgrade certifi` and set SSL_CERT_FILE to the file `python -m certifi` prints; behind "
    "a network that inspects HTTPS, to the certificate bundle its administrators give you."
)
_PROXY = (
    "A proxy refused the connection (407 Proxy Authentication Required, or no tunnel through it): set "
    "HTTPS_PROXY and HTTP_PROXY to the proxy, with a user name and password if it asks for them "
    "(http://user:password@proxy.example:8080), or copy from a mirror: `tlcourse fetch --mirror DIR`."
)
_NO_NETWORK = (
    "No internet (the server's name did not resolve, or the connection was refused or timed out): use a "
    "mirror, `tlcourse fetch --mirror DIR`, or connect and run the same command again; behind a proxy, "
    "check that HTTPS_PROXY and HTTP_PROXY name it."
)
_PROXY_TEXT = re.compile(r"\b407\b.*proxy|proxy authentication required|tunnel connection failed|proxyerror"
                         r"|unable to connect to proxy|cannot connect to proxy", re.I | re.S)
_NO_NETWORK_TEXT = re.compile(
    r"name or service not known|temporary failure in name resolution|nodename nor servname|getaddrinfo failed"
    r"|no address associated with hostname|failed to resolve|nameresolutionerror|network is unreachable"
    r"|no route to host|connection refused|timed out|failed to establish a new connection", re.I)


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc``, what it was raised from or during, and a ``URLError``'s reason, in that order."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is f for f in found):
            continue
        found.append(e)
        reason = getattr(e, "reason", None)
        todo += [reason if isinstance(reason, BaseException) else None, e.__cause__, e.__context__]
    return found


def explain_download_failure(exc: BaseException) -> str:
    """What a failed download most likely means and how to fix it; ``""`` when the cause is not one of these.

    Looks anywhere in the exception's chain (``keras.utils.get_file`` raises a bare ``Exception`` holding
    urllib's message; the Hugging Face client wraps its HTTP library's errors) for a certificate that cannot
    be verified, a proxy in the way, or no network at all.

    Examples
    --------
    >>> import ssl, socket, urllib.error
    >>> err = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    >>> "Install Certificates.command" in explain_download_failure(urllib.error.URLError(err))
    True
    >>> explain_download_failure(Exception("URL fetch failure on https://x: 407 -- Proxy Authentication Required"))[:22]
    'A proxy refused the co'
    >>> explain_download_failure(urllib.error.URLError(socket.gaierror(-2, "Name or service not known")))[:12]
    'No internet '
    >>> explain_download_failure(ValueError("HTTP Error 404: Not Found"))
    ''
    """
    chain = _causes(exc)
    text = " | ".join(f"{type(e).__name__}: {e}" for e in chain)
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or re.search(
            r"CERTIFICATE_VERIFY_FAILED|certificate verify failed", text, re.I):
        return _CERTIFICATE
    if _PROXY_TEXT.search(text) or any(getattr(e, "code", None) == 407 for e in chain):
        return _PROXY
    if any(isinstance(e, (socket.gaierror, ConnectionRefusedError, TimeoutError)) for e in chain) or \
            _NO_NETWORK_TEXT.search(text):
        return _NO_NETWORK
    return ""


def check_sha256(path: str | os.PathLike[str], expected: str, *, decompress: bool = False) -> None:
    """Raise :class:`ChecksumError`, saying what to do, unless ``path`` has SHA-256 ``expected``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"; _ = p.write_bytes(b"abc")
    >>> check_sha256(p, file_digest(p))
    >>> check_sha256(p, "0" * 64)
    Traceback (most recent call last):
    ...
    tlcourse_assets.errors.ChecksumError: ...
    """
    got = file_digest(path, decompress=decompress)
    if got != expected:
        raise ChecksumError(
            f"{path} has SHA-256 {got}, expected {expected}. The file is corrupt or not the "
            f"official one: delete it and fetch it again (`tlcourse fetch`), or replace it "
            f"from a trusted mirror."
        )


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256", *, decompress: bool = False) -> str:
    """Hex digest of a file, ``"sha256"`` or ``"md5"`` (the two a download registry publishes); with
    ``decompress``, of a ``.gz`` file's decompressed content.

    Examples
    --------
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> with TemporaryDirectory() as folder:
    ...     _ = Path(folder, "a.txt").write_bytes(b"abc")
    ...     print(file_digest(Path(folder, "a.txt"), "md5"), file_digest(Path(folder, "a.txt"))[:12])
    900150983cd24fb0d6963f7d28e17f72 ba7816bf8f01
    """
    opener = gzip.open if decompress and str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.new(algorithm, usedforsecurity=False)).hexdigest()


def download(url: str, dest: str | os.PathLike[str], *, sha256: str | None = None, md5: str | None = None,
             source: str = "") -> Path:
    """Download ``url`` to ``dest`` with ``keras.utils.get_file``, verifying the published checksum when given.

    ``sha256`` or ``md5`` (not both) is ``get_file``'s ``file_hash``; ``source``, where it was published, goes
    into the error. A file already at ``dest`` with that hash is kept; a new download replaces it only once
    verified. Raises :class:`ChecksumError` on a mismatch (the download deleted, nothing else touched),
    ``ConnectionError`` for an unreachable URL (with :func:`explain_download_failure`'s advice).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> src = pathlib.Path(tempfile.mkdtemp()) / "x.bin"; _ = src.write_bytes(b"abc")
    >>> download(src.as_uri(), src.with_suffix(".copy")).read_bytes()  # doctest: +ELLIPSIS
    Downloading data from file:///...
    b'abc'
    """
    import keras

    if sha256 and md5:
        raise ValueError("Give the SHA-256 or the MD5 of a download, not both.")
    algorithm, expected = ("sha256", sha256) if sha256 else ("md5", md5) if md5 else ("sha256", None)
    dest = Path(dest)
    if dest.is_file() and (expected is None or file_digest(dest, algorithm) == expected):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        got = Path(keras.utils.get_file(part.name, url, file_hash=expected, hash_algorithm=algorithm,
                                        cache_dir=str(dest.parent), cache_subdir="", force_download=True))
    except Exception as exc:  # noqa: BLE001 - get_file raises a bare Exception on URL failures
        # get_file removes a partial download itself; a complete one that fails the hash stays for us to check.
        actual = file_digest(part, algorithm) if expected and part.is_file() else None
        part.unlink(missing_ok=True)
        if actual is not None and actual != expected:
            label = {"sha256": "SHA-256", "md5": "MD5"}[algorithm]
            raise ChecksumError(
                f"The download of {dest.name} from {url} is not the published file:\n"
                f"  {label} of the download: {actual}\n"
                f"  {label} expected:        {expected}\n"
                + (f"  (published in {source})\n" if source else "")
                + "  The download was deleted; nothing you had was changed.\n"
                "  What to do: run the same command again (a download altered on the way, by a proxy or a\n"
                "  captive portal, gives another hash). If it fails again, the file at the source has changed:\n"
                "  get the data from a classroom mirror (`tlcourse fetch --mirror DIR`) and tell the course\n"
                "  maintainers, who check the new file and update its checksum in tlcourse_assets/datasets.py."
            ) from exc
        advice = explain_download_failure(exc)
        raise ConnectionError(f"Could not download {url}: {exc}" + (f"\n  {advice.rstrip('.')}" if advice else "")) from exc
    got.replace(dest)
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

    Every member is checked before anything is written: a member with ``..``, an absolute path, a link
    pointing outside (any link, in a zip) or a device file raises :class:`UnsafeArchiveError`.

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
