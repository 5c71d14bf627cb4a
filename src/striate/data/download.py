"""Checked downloads of the official dataset files.

Files are fetched with :mod:`urllib` into a temporary file next to the destination, hashed
while streaming, checked against the published MD5 (and SHA-256 when known) and the
``Content-Length``, then renamed into place. On any error the partial file is removed and a
:class:`~striate.data.DownloadError` says which URL failed and why.

The URL bases are the official mirrors; set ``STRIATE_DATA_MIRROR`` (or pass ``base_url``)
to fetch the same file names from another server.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.client import HTTPException

from striate.data._errors import DownloadError


@dataclass(frozen=True)
class Resource:
    """One downloadable file: its name and published checksums."""

    filename: str
    md5: str | None = None
    sha256: str | None = None


@dataclass
class DatasetFiles:
    """The mirrors (URL bases, tried in order) and files of one dataset."""

    mirrors: list[str]
    files: list[Resource] = field(default_factory=list)


#: Official mirrors and published checksums (the MD5s torchvision and the dataset authors
#: publish). Tests replace entries to point at a local server.
RESOURCES: dict[str, DatasetFiles] = {
    "mnist": DatasetFiles(
        ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
        [Resource("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
         Resource("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
         Resource("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
         Resource("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]),
    "fashion-mnist": DatasetFiles(
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        [Resource("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
         Resource("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
         Resource("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
         Resource("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]),
    "kmnist": DatasetFiles(
        ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
        [Resource("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
         Resource("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
         Resource("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
         Resource("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134")]),
    "cifar10": DatasetFiles(
        ["https://www.cs.toronto.edu/~kriz/"],
        [Resource("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a")]),
    "cifar100": DatasetFiles(
        ["https://www.cs.toronto.edu/~kriz/"],
        [Resource("cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85")]),
}

_CHUNK = 1 << 20


def file_digest(path: str, algorithm: str = "md5") -> str:
    """Hex digest of a file's contents."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def check_file(path: str, resource: Resource) -> bool:
    """True when ``path`` exists and matches the resource's checksums."""
    if not os.path.isfile(path):
        return False
    if resource.md5 and file_digest(path, "md5") != resource.md5:
        return False
    if resource.sha256 and file_digest(path, "sha256") != resource.sha256:
        return False
    return True


def download_file(url: str, dest: str, md5: str | None = None, sha256: str | None = None,
                  timeout: float = 60.0) -> str:
    """Download ``url`` to ``dest`` atomically, verifying size and checksums.

    Args:
        url: the URL (http, https or file).
        dest: the final path; its directory is created when missing.
        md5: expected MD5 hex digest, or None.
        sha256: expected SHA-256 hex digest, or None.
        timeout: socket timeout in seconds.

    Returns:
        ``dest``.

    Raises:
        DownloadError: HTTP/network error, truncated transfer or checksum mismatch. No file
            is left at ``dest`` (an existing one is untouched) and the partial file is removed.
    """
    directory = os.path.dirname(os.path.abspath(dest)) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(dest) + ".", suffix=".part", dir=directory)
    h_md5, h_sha = hashlib.md5(), hashlib.sha256()
    received = 0
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                length = r.headers.get("Content-Length") if hasattr(r, "headers") else None
                expected = int(length) if length and length.isdigit() else None
                while True:
                    try:
                        chunk = r.read(_CHUNK)
                    except HTTPException as e:  # IncompleteRead and friends
                        raise DownloadError(
                            f"download of {url} truncated: connection ended after {received} "
                            f"bytes" + (f" of {expected}" if expected is not None else "")
                            + f" ({type(e).__name__})") from e
                    if not chunk:
                        break
                    out.write(chunk)
                    h_md5.update(chunk)
                    h_sha.update(chunk)
                    received += len(chunk)
        except urllib.error.HTTPError as e:
            raise DownloadError(f"download of {url} failed: HTTP {e.code} {e.reason}") from e
        except urllib.error.URLError as e:
            raise DownloadError(f"download of {url} failed: {e.reason}") from e
        except (OSError, HTTPException) as e:
            if isinstance(e, DownloadError):
                raise
            raise DownloadError(f"download of {url} failed: {type(e).__name__}: {e}") from e
        if expected is not None and received != expected:
            raise DownloadError(f"download of {url} truncated: received {received} bytes, "
                                f"Content-Length is {expected}")
        if md5 and h_md5.hexdigest() != md5.lower():
            raise DownloadError(f"download of {url}: MD5 checksum mismatch (expected {md5}, "
                                f"got {h_md5.hexdigest()}, {received} bytes); file discarded")
        if sha256 and h_sha.hexdigest() != sha256.lower():
            raise DownloadError(f"download of {url}: SHA-256 checksum mismatch (expected "
                                f"{sha256}, got {h_sha.hexdigest()}); file discarded")
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return dest


def download_dataset(name: str, directory: str, base_url: str | None = None,
                     files: list[str] | None = None) -> list[str]:
    """Fetch (and verify) the official files of dataset ``name`` into ``directory``.

    Files already present with the right checksum are kept. Mirrors are tried in order; the
    error from the last one is raised when all fail.

    Args:
        name: a key of :data:`RESOURCES` ("mnist", "fashion-mnist", "kmnist", "cifar10",
            "cifar100").
        directory: destination directory.
        base_url: URL base overriding the mirrors (default: ``$STRIATE_DATA_MIRROR`` if set).
        files: restrict to these file names.

    Returns:
        The paths of the files.

    Raises:
        DownloadError: every mirror failed for some file.
        ValueError: unknown dataset name.
    """
    if name not in RESOURCES:
        raise ValueError(f"download: unknown dataset {name!r} (known: {sorted(RESOURCES)})")
    spec = RESOURCES[name]
    base_url = base_url or os.environ.get("STRIATE_DATA_MIRROR") or None
    mirrors = [base_url] if base_url else list(spec.mirrors)
    paths = []
    for res in spec.files:
        if files is not None and res.filename not in files:
            continue
        dest = os.path.join(directory, res.filename)
        if not check_file(dest, res):
            last: DownloadError | None = None
            for base in mirrors:
                url = base.rstrip("/") + "/" + res.filename
                try:
                    download_file(url, dest, md5=res.md5, sha256=res.sha256)
                    last = None
                    break
                except DownloadError as e:
                    last = e
            if last is not None:
                raise last
        paths.append(dest)
    return paths
