"""Checked downloads against a local HTTP server on 127.0.0.1 (never the internet)."""

import hashlib
import io
import os
import tarfile

import numpy as np
import pytest
from _datagen import make_cifar10, make_idx_dataset, md5_of

from striate.data import CIFAR10, MNIST, DataFormatError, DownloadError, download_file
from striate.data.download import RESOURCES, DatasetFiles, Resource, download_dataset

FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture
def served_mnist(tmp_path, http_server, monkeypatch):
    """Generated MNIST-like files served locally, with their checksums patched in."""
    src = tmp_path / "src"
    ref = make_idx_dataset(src, n_train=40, n_test=10)
    for name in FILES:
        http_server.files[name] = (src / name).read_bytes()
    resources = [Resource(n, md5_of(src / n)) for n in FILES]
    monkeypatch.setitem(RESOURCES, "mnist", DatasetFiles([http_server.url], resources))
    monkeypatch.delenv("STRIATE_DATA_MIRROR", raising=False)
    monkeypatch.delenv("STRIATE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return http_server, ref


def _leftovers(directory):
    return [f for f in os.listdir(directory) if ".part" in f] if os.path.isdir(directory) else []


def test_download_success_then_cached(tmp_path, served_mnist):
    server, ref = served_mnist
    ds = MNIST(root=tmp_path / "data", train=True, download=True)
    np.testing.assert_array_equal(ds.images[:, 0], ref["train"][0])
    target = tmp_path / "data" / "mnist"
    assert sorted(os.listdir(target)) == sorted(FILES[:2])
    n_hits = len(server.hits)
    assert n_hits == 2
    MNIST(root=tmp_path / "data", train=True, download=True)  # found: nothing fetched
    assert len(server.hits) == n_hits
    te = MNIST(train=False, download=True)  # no root: the user cache
    assert len(te) == 10 and os.path.isdir(tmp_path / "cache" / "striate" / "mnist")


def test_wrong_checksum(tmp_path, served_mnist, monkeypatch):
    server, _ = served_mnist
    bad = [Resource(r.filename, "0" * 32) for r in RESOURCES["mnist"].files]
    monkeypatch.setitem(RESOURCES, "mnist", DatasetFiles([server.url], bad))
    with pytest.raises(DownloadError, match="MD5 checksum mismatch.*file discarded"):
        MNIST(root=tmp_path / "data", download=True)
    target = tmp_path / "data" / "mnist"
    assert not os.path.exists(target / FILES[0]) and _leftovers(target) == []


def test_truncated_transfer(tmp_path, served_mnist):
    server, _ = served_mnist
    server.truncate.add(FILES[0])
    with pytest.raises(DownloadError, match="truncated"):
        MNIST(root=tmp_path / "data", download=True)
    target = tmp_path / "data" / "mnist"
    assert not os.path.exists(target / FILES[0]) and _leftovers(target) == []


def test_http_404(tmp_path, served_mnist):
    server, _ = served_mnist
    del server.files[FILES[1]]
    with pytest.raises(DownloadError, match="HTTP 404"):
        MNIST(root=tmp_path / "data", download=True)
    target = tmp_path / "data" / "mnist"
    assert not os.path.exists(target / FILES[1]) and _leftovers(target) == []


def test_mirror_fallback_and_override(tmp_path, served_mnist, monkeypatch):
    server, _ = served_mnist
    files = RESOURCES["mnist"].files
    monkeypatch.setitem(RESOURCES, "mnist",
                        DatasetFiles(["http://127.0.0.1:9/unreachable/", server.url], files))
    assert len(MNIST(root=tmp_path / "a", train=False, download=True)) == 10
    # An explicit base URL replaces the mirrors (here: one that 404s -> clear error).
    monkeypatch.setenv("STRIATE_DATA_MIRROR", "http://127.0.0.1:9/x/")
    with pytest.raises(DownloadError, match="127.0.0.1:9/x/t10k-images"):
        download_dataset("mnist", str(tmp_path / "b"), files=[FILES[2]])
    monkeypatch.delenv("STRIATE_DATA_MIRROR")
    server.hits.clear()
    download_dataset("mnist", str(tmp_path / "c"), base_url=server.url, files=[FILES[3]])
    assert server.hits == ["/files/" + FILES[3]]


def test_download_file_existing_destination_untouched_on_error(tmp_path, http_server):
    dest = tmp_path / "keep.bin"
    dest.write_bytes(b"old")
    http_server.files["x.bin"] = b"new contents"
    with pytest.raises(DownloadError, match="MD5"):
        download_file(http_server.url + "x.bin", str(dest), md5="1" * 32)
    assert dest.read_bytes() == b"old"
    with pytest.raises(DownloadError, match="SHA-256 checksum mismatch"):
        download_file(http_server.url + "x.bin", str(dest), sha256="2" * 64)
    assert dest.read_bytes() == b"old"
    good = hashlib.sha256(b"new contents").hexdigest()
    download_file(http_server.url + "x.bin", str(dest), sha256=good)
    assert dest.read_bytes() == b"new contents"
    assert [f for f in os.listdir(tmp_path) if ".part" in f] == []


def _tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_cifar_download_and_safe_extraction(tmp_path, http_server, monkeypatch, isolated_paths):
    d, batches = make_cifar10(tmp_path / "src")
    members = [(f"cifar-10-batches-py/{n}", open(os.path.join(d, n), "rb").read())
               for n in sorted(os.listdir(d))]
    blob = _tar_bytes(members + [("readme.html", b"hi")])
    http_server.files["cifar-10-python.tar.gz"] = blob
    monkeypatch.setitem(RESOURCES, "cifar10", DatasetFiles(
        [http_server.url], [Resource("cifar-10-python.tar.gz", hashlib.md5(blob).hexdigest())]))
    ds = CIFAR10(root=tmp_path / "data", train=False, download=True)
    np.testing.assert_array_equal(ds.labels, batches["test_batch"][1])
    assert not os.path.exists(tmp_path / "data" / "cifar10" / "readme.html")
    # An archive with a path escaping the target is refused.
    evil = _tar_bytes([("cifar-10-batches-py/../../evil", b"x")] + members)
    http_server.files["cifar-10-python.tar.gz"] = evil
    monkeypatch.setitem(RESOURCES, "cifar10", DatasetFiles(
        [http_server.url], [Resource("cifar-10-python.tar.gz", hashlib.md5(evil).hexdigest())]))
    with pytest.raises(DataFormatError, match="unsafe archive member"):
        CIFAR10(root=tmp_path / "data2", train=False, download=True)
    assert not os.path.exists(tmp_path / "evil") and not os.path.exists(tmp_path / "data2"
                                                                         / "evil")
