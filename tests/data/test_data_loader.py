"""DataLoader: batching, seeded shuffling, prefetch, normalisation, exact resume."""

import gc
import threading

import numpy as np
import pytest

from striate.data import ArrayDataset, DataLoader
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
