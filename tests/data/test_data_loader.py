"""DataLoader: batching, seeded shuffling, prefetch, normalisation, exact resume."""

import gc
import threading

import numpy as np
import pytest

from striate.data import ArrayDataset, DataFormatError, DataLoader
from striate.data.transforms import Compose, MixUp, RandomCrop, RandomHorizontalFlip


@pytest.fixture
def ds():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (37, 3, 6, 5), dtype=np.uint8)
    return ArrayDataset(images, np.arange(37) % 4)


def _collect(loader):
    return [(x.copy(), y.copy()) for x, y in loader]


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_batches_cover_dataset_once(ds, workers):
    loader = DataLoader(ds, batch_size=8, shuffle=True, seed=3, num_workers=workers)
    batches = _collect(loader)
    assert len(loader) == len(batches) == 5
    assert [b[0].shape[0] for b in batches] == [8, 8, 8, 8, 5]
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    assert x.dtype == np.float32 and x.shape == (37, 3, 6, 5) and y.dtype == np.int64
    order = loader.order(0)
    np.testing.assert_array_equal(y, ds.labels[order])
    np.testing.assert_array_equal(x, ds.images[order].astype(np.float32) / np.float32(255.0))
    assert sorted(order.tolist()) == list(range(37))


def test_no_shuffle_and_drop_last(ds):
    loader = DataLoader(ds, batch_size=8, drop_last=True, num_workers=0)
    assert len(loader) == 4
    batches = _collect(loader)
    assert len(batches) == 4
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), ds.labels[:32])


def test_seeded_epochs(ds):
    a = DataLoader(ds, batch_size=10, shuffle=True, seed=7)
    b = DataLoader(ds, batch_size=10, shuffle=True, seed=7)
    e0a, e0b = _collect(a), _collect(b)
    for (xa, ya), (xb, yb) in zip(e0a, e0b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert a.epoch == 1  # a full pass advances the epoch
    e1 = _collect(a)
    assert not np.array_equal(np.concatenate([y for _, y in e1]),
                              np.concatenate([y for _, y in e0a]))
    a.set_epoch(0)
    np.testing.assert_array_equal(_collect(a)[0][1], e0a[0][1])
    c = DataLoader(ds, batch_size=10, shuffle=True, seed=8)
    assert not np.array_equal(c.order(0), a.order(0))


def test_prefetch_matches_sync_with_transform(ds):
    t = Compose([RandomCrop((6, 5), padding=2), RandomHorizontalFlip()])
    runs = []
    for workers in (0, 1, 3):
        loader = DataLoader(ds, batch_size=5, shuffle=True, seed=1, transform=t,
                            num_workers=workers, prefetch=2)
        runs.append(_collect(loader) + _collect(loader))  # two epochs
    for other in runs[1:]:
        for (x0, y0), (x1, y1) in zip(runs[0], other):
            np.testing.assert_array_equal(x0, x1)
            np.testing.assert_array_equal(y0, y1)


def test_normalisation(ds):
    loader = DataLoader(ds, batch_size=37, mean=[0.1, 0.2, 0.3], std=[0.5, 0.25, 2.0])
    x, _ = next(iter(loader))
    ref = (ds.images / 255.0 - np.array([0.1, 0.2, 0.3])[:, None, None]) / \
        np.array([0.5, 0.25, 2.0])[:, None, None]
    np.testing.assert_allclose(x, ref, rtol=1e-5, atol=1e-6)
    x1, _ = next(iter(DataLoader(ds, batch_size=4, mean=0.5, std=0.5)))
    np.testing.assert_allclose(x1, ds.images[:4] / 127.5 - 1.0, atol=1e-6)
    with pytest.raises(ValueError, match="mean has 2 values, images have 3 channels"):
        DataLoader(ds, mean=[0.1, 0.2], std=[1, 1])
    with pytest.raises(ValueError, match="both mean and std"):
        DataLoader(ds, mean=0.1)


@pytest.mark.parametrize("workers", [0, 2])
def test_exact_resume(ds, workers):
    t = RandomHorizontalFlip()
    ref_loader = DataLoader(ds, batch_size=6, shuffle=True, seed=5, transform=t,
                            num_workers=workers)
    full = _collect(ref_loader) + _collect(ref_loader)
    loader = DataLoader(ds, batch_size=6, shuffle=True, seed=5, transform=t,
                        num_workers=workers)
    it = iter(loader)
    first = [tuple(a.copy() for a in next(it)) for _ in range(3)]
    state = loader.state_dict()
    assert state == {"epoch": 0, "position": 3, "seed": 5}
    del it
    resumed = DataLoader(ds, batch_size=6, shuffle=True, seed=0, transform=t,
                         num_workers=workers)
    resumed.load_state_dict(state)
    rest = _collect(resumed) + _collect(resumed)
    got = first + rest
    assert len(got) == len(full)
    for (x0, y0), (x1, y1) in zip(full, got):
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_array_equal(y0, y1)
    with pytest.raises(ValueError, match="position 99"):
        resumed.load_state_dict({"epoch": 0, "position": 99})


def _loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("striate-loader")]


def test_worker_exception_propagates_and_threads_stop(ds):
    def bad(x, y, rng):
        if y[0] == ds.labels[loader.order(0)[12]]:
            raise RuntimeError("boom in transform")
        return x, y

    loader = DataLoader(ds, batch_size=6, transform=bad, shuffle=True, seed=0, num_workers=2)
    with pytest.raises(RuntimeError, match="boom in transform"):
        for _ in loader:
            pass
    gc.collect()
    assert _loader_threads() == []


def test_early_break_shuts_down(ds):
    loader = DataLoader(ds, batch_size=2, num_workers=2, prefetch=3)
    for k, _ in enumerate(loader):
        if k == 2:
            break
    gc.collect()
    assert _loader_threads() == []
    assert loader.position == 3


def test_mixup_soft_targets(ds):
    loader = DataLoader(ds, batch_size=8, transform=MixUp(0.4, num_classes=4), seed=2)
    x, t = next(iter(loader))
    assert t.shape == (8, 4) and t.dtype == np.float32
    np.testing.assert_allclose(t.sum(axis=1), 1.0, rtol=1e-6)


class _ListDataset:
    def __init__(self, n):
        self.items = [(np.full((1, 2, 2), i, np.uint8), i % 3) for i in range(n)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_generic_dataset_without_array_view():
    loader = DataLoader(_ListDataset(7), batch_size=3, num_workers=0)
    batches = _collect(loader)
    assert [b[0].shape for b in batches] == [(3, 1, 2, 2), (3, 1, 2, 2), (1, 1, 2, 2)]
    np.testing.assert_allclose(batches[2][0], 6 / 255.0)
    assert batches[0][1].tolist() == [0, 1, 2]


def test_validation(ds):
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="std must be > 0"):
        DataLoader(ds, mean=0.0, std=0.0)


nan, inf = float("nan"), float("inf")


@pytest.mark.parametrize("kwargs,exc,match", [
    # fuzz2 #12: NaN normalisation was accepted (NaN batches).
    ({"mean": 0.5, "std": nan}, ValueError, r"expected finite std \(float32\), got nan"),
    ({"mean": nan, "std": 0.5}, ValueError, r"expected finite mean \(float32\), got nan"),
    ({"mean": [0.1, inf, 0.3], "std": 1.0}, ValueError, r"expected finite mean.*\[0.1, inf, 0.3\]"),
    ({"mean": 0.0, "std": 1e40}, ValueError, "expected finite std"),  # inf in float32
    ({"mean": 0.0, "std": -1.0}, ValueError, "std must be > 0"),
    ({"mean": "abc", "std": 1.0}, TypeError, "expected mean to be a number or a per-channel"),
    ({"mean": [], "std": []}, ValueError, "expected mean to be a number or a per-channel"),
    # seed=-1 failed only at iteration (numpy's "expected non-negative integer").
    ({"seed": -1}, ValueError, "DataLoader: expected seed >= 0, got -1"),
    ({"seed": 1.5}, TypeError, "DataLoader: expected seed to be an int, got 1.5"),
    # num_workers='2': "'<' not supported"; 1.7 was truncated to 1.
    ({"num_workers": "2"}, TypeError, "expected num_workers to be an int, got '2'"),
    ({"num_workers": None}, TypeError, "expected num_workers to be an int, got None"),
    ({"num_workers": 1.7}, TypeError, "expected num_workers to be an int, got 1.7"),
    ({"num_workers": -1}, ValueError, "expected num_workers >= 0, got -1"),
    ({"prefetch": 2.5}, TypeError, "expected prefetch to be an int, got 2.5"),
    ({"prefetch": 0, "num_workers": 1}, ValueError, "prefetch must be >= 1 with workers"),
    ({"batch_size": True}, TypeError, "expected batch_size to be a positive int, got True"),
    ({"batch_size": 2.0}, TypeError, "expected batch_size to be a positive int, got 2.0"),
    ({"batch_size": -3}, ValueError, "batch_size must be a positive int, got -3"),
    ({"shuffle": "no"}, TypeError, "expected shuffle to be a bool, got 'no'"),
    ({"drop_last": 2}, TypeError, "expected drop_last to be a bool, got 2"),
    ({"transform": "flip"}, TypeError, "expected transform to be callable or None, got str"),
])
def test_constructor_arguments_are_checked(ds, kwargs, exc, match):
    with pytest.raises(exc, match=f"DataLoader: {match}" if "DataLoader" not in match
                       else match):
        DataLoader(ds, **kwargs)


def test_accepted_argument_forms(ds):
    loader = DataLoader(ds, batch_size=np.int64(5), seed=np.uint32(2**31), shuffle=np.bool_(1),
                        drop_last=0, num_workers=np.int8(0), mean=(0.5,), std=np.float32(0.25))
    assert (loader.batch_size, loader.seed, loader.shuffle, loader.drop_last) == \
        (5, 2**31, True, False)
    x, _ = next(iter(loader))
    ref = (ds.images[loader.order(0)[:5]] / 255.0 - 0.5) / 0.25
    np.testing.assert_allclose(x, ref, rtol=1e-5, atol=1e-5)
    assert DataLoader(ds, seed=2**70).order(0).shape == (len(ds),)  # any size of seed


def test_load_state_dict_checks_and_is_atomic(ds):
    loader = DataLoader(ds, batch_size=6, shuffle=True, seed=3)
    before = loader.state_dict()
    cases = [
        # fuzz2 #12: KeyError: 'epoch' before.
        ({}, ValueError, (r"expected state with keys 'epoch', 'position' \(and optionally "
                          r"'seed'\), got keys \[\] \(missing \['epoch', 'position'\]\)")),
        ({"epoch": 1}, ValueError, r"missing \['position'\]"),
        ([1, 2], TypeError, "expected state to be a dict from state_dict\\(\\), got list"),
        ({"epoch": -1, "position": 0}, ValueError, r"expected state\['epoch'\] >= 0, got -1"),
        ({"epoch": 1.5, "position": 0}, TypeError, r"state\['epoch'\] to be an int, got 1.5"),
        ({"epoch": 1, "position": 0, "seed": -4}, ValueError, r"state\['seed'\] >= 0, got -4"),
        ({"epoch": 1, "position": 99, "seed": 8}, ValueError, "position 99 out of range"),
    ]
    for state, exc, match in cases:
        with pytest.raises(exc, match=match):
            loader.load_state_dict(state)
        assert loader.state_dict() == before  # nothing half-applied
    loader.load_state_dict({"epoch": np.int64(2), "position": 1})
    assert loader.state_dict() == {"epoch": 2, "position": 1, "seed": 3}
    with pytest.raises(ValueError, match=r"DataLoader.set_epoch: expected epoch >= 0, got -2"):
        loader.set_epoch(-2)
    with pytest.raises(TypeError, match=r"DataLoader.set_epoch: expected epoch to be an int"):
        loader.set_epoch("3")


def test_array_dataset_uint64_labels_do_not_wrap():
    # fuzz2 #12: "negative label -9223372036854775808" for a uint64 label of 2**63.
    with pytest.raises(DataFormatError, match="arrays: label 9223372036854775808 out of the "
                                              "int64 range"):
        ArrayDataset(np.zeros((2, 1, 2, 2), np.uint8), np.array([0, 2**63], np.uint64))
    ok = ArrayDataset(np.zeros((2, 1, 2, 2), np.uint8), np.array([0, 3], np.uint64))
    assert ok.labels.dtype == np.int64 and ok.labels.tolist() == [0, 3]


def test_next_batch_prepared_in_background_while_current_is_used(ds):
    started = {}
    lock = threading.Lock()

    def record(x, y, rng):
        with lock:
            k = len(started)
            started[k] = (threading.current_thread().name, threading.Event())
        started[k][1].set()
        return x, y

    loader = DataLoader(ds, batch_size=8, transform=record, num_workers=1, prefetch=2)
    it = iter(loader)
    next(it)
    # While the caller holds batch 0, batches 1 and 2 are being prepared on the worker.
    deadline = threading.Event()
    for k in (1, 2):
        for _ in range(500):
            if k in started:
                break
            deadline.wait(0.01)
        assert k in started and started[k][1].wait(5.0)
        assert started[k][0].startswith("striate-loader")
    assert len(started) <= 3  # bounded: no more than prefetch batches ahead
    del it
