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


def test_cifar_missing(tmp_path, isolated_paths):
    with pytest.raises(FileNotFoundError, match="test_batch"):
        CIFAR10(root=tmp_path, train=False)
