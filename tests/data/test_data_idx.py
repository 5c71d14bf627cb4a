"""IDX reader/writer and the IDX datasets (MNIST-style files, embedded sample)."""

import gzip
import math
import os
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from _datagen import make_idx_dataset

from striate.data import (
    KMNIST,
    MNIST,
    DataFormatError,
    EmbeddedFashionMNIST,
    FashionMNIST,
    idx,
    load_dataset,
    read_idx,
    write_idx,
)
from striate.data.datasets import load_idx_pair, search_dirs
from striate.data.idx import encode_idx, parse_idx

SYSTEM_FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_roundtrip(tmp_path, dtype, gz, rng):
    arr = (rng.standard_normal((3, 5, 7)) * 50).astype(dtype)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (3, 5, 7)
    np.testing.assert_array_equal(back, arr)
    raw = open(path, "rb").read()
    assert (raw[:2] == b"\x1f\x8b") == gz


def test_header_is_big_endian():
    data = encode_idx(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32))
    assert data[:4] == bytes([0, 0, 0x0C, 2])
    assert struct.unpack(">II", data[4:12]) == (2, 3)
    assert struct.unpack(">i", data[12:16]) == (1,)


def _write(path, data, gz=False):
    with open(path, "wb") as f:
        f.write(gzip.compress(data) if gz else data)
    return str(path)


GOOD = encode_idx(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))


@pytest.mark.parametrize("data,match", [
    (b"\x01\x02" + GOOD[2:], "bad IDX magic number 0x0102"),
    (GOOD[:2] + b"\x07" + GOOD[3:], "unknown dtype code 0x07"),
    (GOOD[:3] + b"\x00" + GOOD[4:], "0 dimensions"),
    (GOOD[:2], "truncated IDX file"),
    (GOOD[:10], "truncated IDX header"),
    (GOOD[:-5], "truncated IDX data"),
    (GOOD + b"xyz", "header/size mismatch.*3 unexpected trailing bytes"),
])
@pytest.mark.parametrize("gz", [False, True])
def test_corrupt_files_name_file_and_problem(tmp_path, data, match, gz):
    path = _write(tmp_path / "bad-idx3-ubyte", data, gz)
    with pytest.raises(DataFormatError, match=match) as e:
        read_idx(path)
    assert path in str(e.value)


def test_truncated_and_corrupt_gzip(tmp_path):
    full = gzip.compress(GOOD + bytes(5000))
    p = _write(tmp_path / "t.gz", full[: len(full) // 2])
    with pytest.raises(DataFormatError, match="truncated gzip"):
        read_idx(p)
    p = _write(tmp_path / "c.gz", full[:10] + b"\xff" * 20 + full[30:])
    with pytest.raises(DataFormatError, match="gzip"):
        read_idx(p)
    with pytest.raises(DataFormatError, match="cannot read"):
        read_idx(tmp_path / "missing.gz")


def _bomb(path, declared=(1, 1, 1), payload=b"\x07", zeros=16 << 20):
    """A gzip IDX file whose header declares ``declared`` uint8 values, followed by
    ``zeros`` zero bytes (16 MiB compress to ~16 KiB)."""
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = b"\x00\x00\x08" + bytes([len(declared)]) + struct.pack(f">{len(declared)}I",
                                                                    *declared)
    with open(path, "wb") as f:
        f.write(co.compress(head + payload))
        block = bytes(1 << 20)
        f.writelines(co.compress(block) for _ in range(zeros >> 20))
        f.write(co.flush())
    return str(path)


def test_gzip_bomb_stops_one_chunk_past_the_declared_size(tmp_path, monkeypatch):
    # fuzz2 #2: a 3 MB .gz declaring 1x1x1 then 3 GiB of zeros was inflated whole before
    # the size check (3 GB RSS). Cheap form: 16 MiB of zeros, a 64 KiB chunk; count what is
    # decompressed and the peak of Python allocations.
    path = _bomb(tmp_path / "bomb-idx3-ubyte.gz")
    assert os.path.getsize(path) < 100_000
    monkeypatch.setattr(idx, "READ_CHUNK", 64 << 10)
    served = []
    real_read = gzip.GzipFile.read

    def counting_read(self, size=-1):
        assert 0 <= size <= 64 << 10  # never "read everything"
        out = real_read(self, size)
        served.append(len(out))
        return out

    monkeypatch.setattr(gzip.GzipFile, "read", counting_read)
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match=r"header says dims \(1, 1, 1\) of uint8 "
                           r"\(1 bytes\), file has at least 65537 bytes after the header "
                           r"\(at least 65536 unexpected trailing bytes; reading stopped") as e:
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert path in str(e.value)
    assert sum(served) == 16 + 1 + (64 << 10)  # header + declared byte + one chunk, no more
    assert peak < 1 << 20  # gzip.decompress held all 16 MiB


def test_gzip_declaring_more_than_it_holds_is_read_incrementally(tmp_path):
    # A header claiming 1000x1000x1000 bytes over a 16 MiB stream: reported as truncated
    # after reading the 16 MiB (nothing sized by the claim is allocated).
    path = _bomb(tmp_path / "big-idx3-ubyte.gz", (1000, 1000, 1000), b"")
    with pytest.raises(DataFormatError, match=r"truncated IDX data.*\(1000000000 bytes\), "
                                              r"file has 16777216 bytes after the header"):
        read_idx(path)
    raw = _write(tmp_path / "big-idx3-ubyte", b"\x00\x00\x08\x03" +
                 struct.pack(">3I", 1000, 1000, 1000) + bytes(10))
    with pytest.raises(DataFormatError, match=r"\(1000000000 bytes\), file has 10 bytes"):
        read_idx(raw)


@pytest.mark.parametrize("dims", [(2**31, 2**31, 4), (2**31, 2**31, 2), (2**32 - 1,) * 3])
@pytest.mark.parametrize("gz", [False, True])
def test_dims_overflowing_int64_name_the_file(tmp_path, dims, gz):
    # fuzz2 #8: the product wrapped in int64 (bare numpy "cannot reshape" or a negative size).
    path = _write(tmp_path / "wrap-idx3-ubyte",
                  b"\x00\x00\x08\x03" + struct.pack(">3I", *dims), gz)
    with pytest.raises(DataFormatError, match=rf"IDX header dims \({dims[0]}, .*describe "
                                              rf"{math.prod(dims)} values, more than an array "
                                              "can hold") as e:
        read_idx(path)
    assert path in str(e.value)
    with pytest.raises(DataFormatError, match="more than an array can hold"):
        parse_idx(open(path, "rb").read() if not gz else gzip.decompress(
            open(path, "rb").read()), "x")


@pytest.mark.parametrize("gz", [False, True])
def test_more_dimensions_than_numpy_allows(tmp_path, gz):
    top = idx._MAX_NDIM
    ok = _write(tmp_path / "ok", bytes([0, 0, 8, top]) + struct.pack(f">{top}I", *[1] * top)
                + b"\x07", gz)
    arr = read_idx(ok)
    assert arr.shape == (1,) * top and arr.ravel().tolist() == [7]
    for ndim in (top + 1, 255):
        bad = _write(tmp_path / f"n{ndim}", bytes([0, 0, 8, ndim]) +
                     struct.pack(f">{ndim}I", *[1] * ndim) + b"\x07", gz)
        with pytest.raises(DataFormatError, match=f"{bad}: IDX header declares {ndim} "
                                                  f"dimensions, NumPy arrays have at most {top}"):
            read_idx(bad)


def test_parse_idx_native_order():
    arr = parse_idx(encode_idx(np.array([1.5, -2.0], np.float32)))
    assert arr.dtype == np.dtype("float32") and arr.dtype.isnative
    assert arr.flags.writeable


def test_load_idx_pair_cross_checks(tmp_path):
    imgs, labs = tmp_path / "i.gz", tmp_path / "l.gz"
    write_idx(imgs, np.zeros((5, 4, 4), np.uint8))
    write_idx(labs, np.zeros(4, np.uint8))
    with pytest.raises(DataFormatError, match="counts differ.*5 images.*4 labels"):
        load_idx_pair(str(imgs), str(labs))
    write_idx(labs, np.array([0, 1, 2, 3, 12], np.uint8))
    with pytest.raises(DataFormatError, match="label 12 out of range for 10 classes"):
        load_idx_pair(str(imgs), str(labs), 10)
    write_idx(labs, np.zeros((5, 1), np.uint8))
    with pytest.raises(DataFormatError, match="rank 1"):
        load_idx_pair(str(imgs), str(labs))
    write_idx(imgs, np.zeros((5, 16), np.uint8))
    with pytest.raises(DataFormatError, match="rank 3"):
        load_idx_pair(str(imgs), str(labs))


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST, KMNIST])
@pytest.mark.parametrize("gz", [True, False])
def test_idx_datasets_from_root(tmp_path, cls, gz, isolated_paths):
    ref = make_idx_dataset(tmp_path / "d", gz=gz)
    for train, split in ((True, "train"), (False, "t10k")):
        ds = cls(root=tmp_path / "d", train=train)
        images, labels = ref[split]
        assert len(ds) == len(labels)
        assert ds.images.dtype == np.uint8 and ds.images.shape == (len(labels), 1, 28, 28)
        assert ds.labels.dtype == np.int64
        np.testing.assert_array_equal(ds.images[:, 0], images)
        np.testing.assert_array_equal(ds.labels, labels)
        img, lab = ds[3]
        assert img.shape == (1, 28, 28) and lab == int(labels[3])
        assert len(ds.classes) == 10
        x, y = ds.arrays()
        assert x is ds.images and y is ds.labels
    assert ds.hflip_safe == (cls is FashionMNIST)


def test_root_subdirectory_and_env_and_cache(tmp_path, isolated_paths, monkeypatch):
    make_idx_dataset(tmp_path / "r" / "kmnist", n_train=11)
    assert len(KMNIST(root=tmp_path / "r")) == 11
    make_idx_dataset(tmp_path / "env" / "kmnist", n_train=12)
    monkeypatch.setenv("STRIATE_DATA", str(tmp_path / "env"))
    assert len(KMNIST()) == 12
    monkeypatch.delenv("STRIATE_DATA")
    make_idx_dataset(tmp_path / "cache" / "striate" / "kmnist", n_train=13)
    assert len(KMNIST()) == 13
    dirs = search_dirs("kmnist")
    assert dirs[0] == "/usr/share/datasets/kmnist"
    assert dirs[-1] == str(tmp_path / "cache" / "striate" / "kmnist")


def test_missing_files_message(tmp_path, isolated_paths):
    with pytest.raises(FileNotFoundError, match="not found in any of.*download=True"):
        MNIST(root=tmp_path / "nothing")


def test_dataset_with_mismatched_counts(tmp_path, isolated_paths):
    d = tmp_path / "m"
    make_idx_dataset(d)
    write_idx(d / "train-labels-idx1-ubyte.gz", np.zeros(49, np.uint8))
    with pytest.raises(DataFormatError, match="counts differ: .*50 images.*49 labels"):
        MNIST(root=d)


def test_embedded_sample_is_balanced_real_data():
    tr = EmbeddedFashionMNIST(train=True)
    te = load_dataset("fashion-mnist-sample", train=False)
    assert (len(tr), len(te)) == (10000, 2000)
    assert tr.images.shape == (10000, 1, 28, 28) and tr.images.dtype == np.uint8
    assert np.bincount(tr.labels).tolist() == [1000] * 10
    assert np.bincount(te.labels).tolist() == [200] * 10
    assert tr.classes[0] == "T-shirt/top" and tr.hflip_safe
    size = sum(os.path.getsize(f) for f in tr.files + te.files)
    assert size < 6e6
    assert load_dataset("embedded").images.shape == tr.images.shape
    if os.path.isfile(os.path.join(SYSTEM_FASHION, "t10k-images-idx3-ubyte.gz")):
        full = FashionMNIST(root=SYSTEM_FASHION, train=False)
        rows = {full.images[i].tobytes(): int(full.labels[i]) for i in range(len(full))}
        for i in range(0, 2000, 97):  # every sampled image is a real test image, same label
            assert rows[te.images[i].tobytes()] == te.labels[i]


@pytest.mark.skipif(not os.path.isdir(SYSTEM_FASHION), reason="no system Fashion-MNIST")
def test_default_search_finds_system_fashion_mnist(isolated_paths):
    ds = load_dataset("fashion-mnist", train=False)
    assert len(ds) == 10000 and ds.source == SYSTEM_FASHION
    assert np.bincount(ds.labels).tolist() == [1000] * 10


def test_default_dataset_falls_back_to_embedded(tmp_path, isolated_paths):
    from striate.data import default_dataset

    ds = default_dataset(root=tmp_path / "empty", train=False)
    assert isinstance(ds, EmbeddedFashionMNIST) and len(ds) == 2000
    make_idx_dataset(tmp_path / "full", n_test=30)
    assert len(default_dataset(root=tmp_path / "full", train=False)) == 30
    write_idx(tmp_path / "full" / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))
    with pytest.raises(DataFormatError, match="counts differ"):
        default_dataset(root=tmp_path / "full", train=False)


def test_load_dataset_names(tmp_path, isolated_paths):
    make_idx_dataset(tmp_path / "mnist")
    assert isinstance(load_dataset("mnist", root=tmp_path), MNIST)
    assert isinstance(load_dataset("MNIST", root=tmp_path / "mnist"), MNIST)
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'.*fashion-mnist"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="needs a path"):
        load_dataset("folder:")


def test_mean_std():
    from striate.data import ArrayDataset

    x = np.zeros((4, 2, 3, 3), np.uint8)
    x[:, 1] = 255
    x[:2, 0] = 51
    mean, std = ArrayDataset(x, [0, 1, 0, 1]).mean_std()
    np.testing.assert_allclose(mean, [0.1, 1.0])
    np.testing.assert_allclose(std, [0.1, 0.0], atol=1e-9)
