"""CIFAR-10/100 python batches through the restricted unpickler."""

import os
import pickle

import numpy as np
import pytest
from _datagen import make_cifar10, make_cifar100, write_pickle

from striate.data import CIFAR10, CIFAR100, DataFormatError, load_dataset
from striate.data._safe_pickle import safe_load


def test_cifar10_train_and_test(tmp_path, isolated_paths):
    _, batches = make_cifar10(tmp_path)
    tr = CIFAR10(root=tmp_path, train=True)
    te = load_dataset("cifar10", root=tmp_path, train=False)
    assert len(tr) == 30 and len(te) == 6
    assert tr.images.shape == (30, 3, 32, 32) and tr.images.dtype == np.uint8
    assert tr.labels.dtype == np.int64
    data, labels = batches["data_batch_2"]
    # Row layout of a batch is 1024 R, 1024 G, 1024 B values: that is already CHW.
    np.testing.assert_array_equal(tr.images[6:12], data.reshape(6, 3, 32, 32))
    np.testing.assert_array_equal(tr.images[6, 1, 0, :5], data[0, 1024:1029])
    np.testing.assert_array_equal(tr.labels[6:12], labels)
    assert tr.classes[0] == "airplane" and tr.classes[-1] == "truck"
    # The batches folder itself is accepted as root too.
    assert len(CIFAR10(root=tmp_path / "cifar-10-batches-py", train=False)) == 6


@pytest.mark.parametrize("label_type,n_cls", [("fine", 100), ("coarse", 20)])
def test_cifar100(tmp_path, isolated_paths, label_type, n_cls):
    _, out = make_cifar100(tmp_path)
    ds = CIFAR100(root=tmp_path, train=False, label_type=label_type)
    data, fine, coarse = out["test"]
    np.testing.assert_array_equal(ds.labels, fine if label_type == "fine" else coarse)
    np.testing.assert_array_equal(ds.images.reshape(len(ds), -1), data)
    assert len(ds.classes) == n_cls and ds.classes[3] == f"{label_type}3"
    with pytest.raises(ValueError, match="label_type"):
        CIFAR100(root=tmp_path, label_type="medium")


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_malicious_pickle_is_refused_not_executed(tmp_path, isolated_paths):
    d, _ = make_cifar10(tmp_path)
    marker = tmp_path / "pwned"
    write_pickle(os.path.join(d, "test_batch"), {b"data": _Evil(str(marker)), b"labels": []})
    with pytest.raises(DataFormatError, match="test_batch.*forbidden global (io|builtins).open"):
        CIFAR10(root=tmp_path, train=False)
    assert not marker.exists()
    # Object arrays would unpickle arbitrary elements: refused as well.
    payload = pickle.dumps(np.array([1, "a"], dtype=object), protocol=2)
    with pytest.raises(DataFormatError, match="Python objects|object"):
        safe_load(payload, "x")


@pytest.mark.parametrize("protocol", [0, 2, 3, 4, 5])
def test_safe_load_protocols(protocol):
    obj = {b"data": np.arange(6, dtype=np.uint8).reshape(2, 3), b"labels": [1, 2], "s": "x"}
    back = safe_load(pickle.dumps(obj, protocol=protocol))
    np.testing.assert_array_equal(back[b"data"], obj[b"data"])
    assert back[b"labels"] == [1, 2]


def test_corrupt_batches(tmp_path, isolated_paths):
    d, _ = make_cifar10(tmp_path)
    path = os.path.join(d, "test_batch")
    raw = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(raw[: len(raw) // 2])
    with pytest.raises(DataFormatError, match="test_batch: truncated pickle"):
        CIFAR10(root=tmp_path, train=False)
    cases = [
        ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1]},
         "counts differ: 3 images, 2 labels"),
        ({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]}, r"shape \(N, 3072\)"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "label out of range"),
        ({b"labels": [0]}, "missing key 'data'"),
        ([1, 2, 3], "expected a pickled dict"),
    ]
    for obj, match in cases:
        write_pickle(path, obj)
        with pytest.raises(DataFormatError, match=match) as e:
            CIFAR10(root=tmp_path, train=False)
        assert "test_batch" in str(e.value)


class _Reduce:
    """Pickles as ``func(*args)`` (plus ``state`` when given)."""

    def __init__(self, *rv):
        self.rv = rv

    def __reduce__(self):
        return self.rv


@pytest.mark.parametrize("labels,match", [
    # fuzz2 #7: floats (and bools) were truncated silently, 0.7 -> 0 and 3.9 -> 3.
    ([0.7] * 10 + [3.9] * 10, "'labels' should be a list of integers, got float 0.7 at index 0"),
    ([1] * 19 + [True], "'labels' should be a list of integers, got bool True at index 19"),
    ([0] * 19 + [np.float64(2.0)], r"got float64 np.float64\(2.0\) at index 19"),
    # 2**70: a bare OverflowError before.
    ([2**70] * 20, r"label out of range \[0, 10\) in 'labels': min 1180591620717411303424"),
    ([0] * 19 + [-2**70], r"range \[0, 10\) in 'labels': min -1180591620717411303424, max 0"),
    # 2-D: "counts differ: 20 images, 20 labels" before.
    ([[0]] * 20, r"'labels' should be a list of integers, got list \[0\] at index 0"),
    (np.zeros((20, 1), np.int64), r"integers, got a int64 array of shape \(20, 1\)"),
    (np.full(20, 0.5), r"got a float64 array of shape \(20,\)"),
    (np.full(20, 2**63, np.uint64), "label out of range.*min 9223372036854775808"),
    (b"\x00" * 20, "'labels' should be a list of integers, got bytes"),
])
def test_cifar_labels_must_be_integers_in_range(tmp_path, isolated_paths, labels, match):
    d, _ = make_cifar10(tmp_path, n_per_batch=20)
    path = os.path.join(d, "test_batch")
    write_pickle(path, {b"data": np.zeros((20, 3072), np.uint8), b"labels": labels})
    with pytest.raises(DataFormatError, match=match) as e:
        CIFAR10(root=tmp_path, train=False)
    assert path in str(e.value)


def test_cifar_numpy_integer_labels_load(tmp_path, isolated_paths):
    # list(np_array) pickles NumPy scalars (numpy._core.multiarray.scalar): refused as a
    # "forbidden global" before, now rebuilt from their bytes.
    d, _ = make_cifar10(tmp_path, n_per_batch=4)
    want = [3, 0, 9, 7]
    for dtype in (np.int64, np.uint8, np.int32):
        write_pickle(os.path.join(d, "test_batch"),
                     {b"data": np.zeros((4, 3072), np.uint8),
                      b"labels": list(np.array(want, dtype))})
        ds = CIFAR10(root=tmp_path, train=False)
        assert ds.labels.dtype == np.int64 and ds.labels.tolist() == want
    back = safe_load(pickle.dumps([np.float32(1.5), np.int16(-3)], protocol=2))
    assert back == [1.5, -3] and type(back[0]) is np.float32 and type(back[1]) is np.int16
    scalar = np._core.multiarray.scalar
    with pytest.raises(DataFormatError, match="bad NumPy scalar: int64 needs 8 bytes"):
        safe_load(pickle.dumps(_Reduce(scalar, (np.dtype("i8"), b"\x01")), protocol=2), "s")
    with pytest.raises(DataFormatError, match="NumPy scalar of dtype 'i8'"):
        safe_load(pickle.dumps(_Reduce(scalar, ("i8", b"\x01" * 8)), protocol=2), "s")


def test_pickled_array_sizes_are_checked_before_allocating(tmp_path, isolated_paths):
    # fuzz2 #7: a _reconstruct shape of 2**40 bytes allocated 1 TiB (bare MemoryError).
    d, _ = make_cifar10(tmp_path)
    path = os.path.join(d, "test_batch")
    recon = np._core.multiarray._reconstruct
    huge = _Reduce(recon, (np.ndarray, (2**40,), b"b"),
                   (1, (1,), np.dtype("u1"), False, b"x"))
    write_pickle(path, {b"data": huge, b"labels": []})
    with pytest.raises(DataFormatError, match=r"array of shape \(1099511627776,\) and dtype "
                                              r"int8 declares 1099511627776 bytes, more than the "
                                              r"whole pickle \(\d+ bytes\)") as e:
        CIFAR10(root=tmp_path, train=False)
    assert path in str(e.value)
    # numpy.ndarray is only a marker for _reconstruct: calling it (ndarray(shape)) would
    # allocate any size, and is refused.
    for proto in (2, 4):
        with pytest.raises(DataFormatError, match="not callable|isn't a type"):
            safe_load(pickle.dumps(_Reduce(np.ndarray, ((2**40,), "u1")), protocol=proto), "n")
    # A shape within the pickle's size still loads (how NumPy writes arrays: shape (0,)).
    arr = np.arange(12, dtype=np.int32).reshape(3, 4)
    np.testing.assert_array_equal(safe_load(pickle.dumps(arr, protocol=2)), arr)


def test_cifar_missing(tmp_path, isolated_paths):
    with pytest.raises(FileNotFoundError, match="test_batch"):
        CIFAR10(root=tmp_path, train=False)
