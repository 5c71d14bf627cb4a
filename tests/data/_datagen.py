"""Generators of small test datasets (IDX files, CIFAR batches) for the data tests."""

from __future__ import annotations

import hashlib
import os
import pickle

import numpy as np

from striate.data.idx import write_idx


def make_idx_dataset(directory, n_train=50, n_test=20, h=28, w=28, seed=0, gz=True):
    """Write train/t10k IDX files into ``directory``; return the arrays."""
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    suffix = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, h, w), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(os.path.join(directory, f"{split}-images-idx3-ubyte{suffix}"), images)
        write_idx(os.path.join(directory, f"{split}-labels-idx1-ubyte{suffix}"), labels)
        out[split] = (images, labels)
    return out


def write_pickle(path, obj, protocol=2):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def make_cifar10(directory, n_per_batch=6, seed=0):
    """A miniature cifar-10-batches-py folder (same keys and layout as the real one)."""
    d = os.path.join(directory, "cifar-10-batches-py")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n_per_batch)]
        write_pickle(os.path.join(d, name), {b"batch_label": name.encode(), b"labels": labels,
                                             b"data": data,
                                             b"filenames": [b"f.png"] * n_per_batch})
        batches[name] = (data, labels)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
             b"ship", b"truck"]
    write_pickle(os.path.join(d, "batches.meta"), {b"label_names": names,
                                                   b"num_cases_per_batch": n_per_batch})
    return d, batches


def make_cifar100(directory, n=8, seed=0):
    d = os.path.join(directory, "cifar-100-python")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for name in ("train", "test"):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        fine = [int(v) for v in rng.integers(0, 100, n)]
        coarse = [f // 5 for f in fine]
        write_pickle(os.path.join(d, name), {b"data": data, b"fine_labels": fine,
                                             b"coarse_labels": coarse})
        out[name] = (data, fine, coarse)
    write_pickle(os.path.join(d, "meta"), {
        b"fine_label_names": [f"fine{i}".encode() for i in range(100)],
        b"coarse_label_names": [f"coarse{i}".encode() for i in range(20)]})
    return d, out


def md5_of(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()
