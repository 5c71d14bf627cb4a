"""DataLoader: seeded batching over a dataset's array view with background prefetch.

Each batch is one gather from the dataset's uint8 NCHW array, converted to float32 on the
[0, 1] scale in one vectorised step, then passed through the batch ``transform`` (with its
own seeded generator) and finally normalised with ``mean``/``std``. No Python loop runs over
samples or pixels on this path.

Determinism: the order of epoch ``e`` is ``default_rng([seed, e]).permutation(N)``, and batch
``b`` of epoch ``e`` gets the augmentation generator ``default_rng([seed, e, b, 1])``. A batch
therefore depends only on (seed, epoch, batch index): results are identical with or without
prefetch, with any number of workers, and after resuming from :meth:`DataLoader.state_dict`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from striate.data._checks import channel_vector, non_negative_int
from striate.kernels._validate import flag, integer

Batch = tuple[np.ndarray, np.ndarray]


class DataLoader:
    """Iterate over a dataset in float32 NCHW batches.

    Args:
        dataset: an :class:`~striate.data.ArrayDataset` (anything with ``arrays()`` returning
            ``(images uint8/float (N, C, H, W), labels (N,))``), or any object with ``len`` and
            ``__getitem__ -> (image (C, H, W), label)`` (stacked per batch: slower).
        batch_size: samples per batch (> 0).
        shuffle: a new seeded permutation each epoch.
        seed: base seed of shuffling and augmentation.
        drop_last: drop the final incomplete batch.
        transform: batch-level callable ``transform(images, labels, rng=...)`` returning
            ``(images, targets)``, e.g. :func:`~striate.data.transforms.augmentation_preset`;
            it receives float32 images on the [0, 1] scale.
        mean, std: normalisation applied after ``transform``: ``(x - mean) / std``, scalars or
            per channel (on the [0, 1] scale). None leaves the [0, 1] scale.
        num_workers: background threads preparing batches (0: prepare in the caller's
            thread). NumPy releases the GIL in its copies and arithmetic, so threads overlap
            with training.
        prefetch: batches prepared ahead (bounded; >= 1 when ``num_workers > 0``).

    Raises:
        TypeError: ``batch_size``, ``seed``, ``num_workers`` or ``prefetch`` not an int (bools
            and floats are not truncated), ``shuffle``/``drop_last`` not a bool, ``mean`` or
            ``std`` not numbers, ``transform`` not callable.
        ValueError: ``batch_size`` < 1, ``seed`` or ``num_workers`` < 0, ``prefetch`` < 1
            with workers, ``mean``/``std`` not finite (NaN, inf, past float32), ``std`` <= 0,
            one of ``mean``/``std`` without the other, or a length other than 1 or the
            number of channels.

    Yields:
        ``(images float32 (B, C, H, W), labels int64 (B,))``, or ``(images, soft targets
        float32 (B, num_classes))`` when the transform mixes samples (MixUp/CutMix).

    Example:
        >>> import numpy as np
        >>> from striate.data import ArrayDataset
        >>> ds = ArrayDataset(np.zeros((10, 1, 4, 4), np.uint8), np.arange(10) % 2)
        >>> loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
        >>> [x.shape[0] for x, y in loader], len(loader)
        ([4, 4, 2], 3)
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, seed: int = 0,
                 drop_last: bool = False, transform: Callable[..., Any] | None = None,
                 mean: float | Sequence[float] | None = None,
                 std: float | Sequence[float] | None = None,
                 num_workers: int = 1, prefetch: int = 2) -> None:
        if integer("batch_size", batch_size, "DataLoader", "a positive int") <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        num_workers = non_negative_int("num_workers", num_workers, "DataLoader")
        prefetch = integer("prefetch", prefetch, "DataLoader")
        if num_workers > 0 and prefetch < 1:
            raise ValueError(f"DataLoader: prefetch must be >= 1 with workers, got {prefetch}")
        if (mean is None) != (std is None):
            raise ValueError("DataLoader: give both mean and std, or neither")
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: expected transform to be callable or None, got "
                            f"{type(transform).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = flag("shuffle", shuffle, "DataLoader")
        self.seed = non_negative_int("seed", seed, "DataLoader")
        self.drop_last = flag("drop_last", drop_last, "DataLoader")
        self.transform = transform
        self.num_workers = num_workers
        self.prefetch = prefetch
        self._mean = None if mean is None else channel_vector("mean", mean, "DataLoader")
        self._std = None if std is None else channel_vector("std", std, "DataLoader",
                                                            positive=True)
        self._images, self._labels = self._array_view(dataset)
        if self._images is not None and self._mean is not None:
            c = self._images.shape[1]
            for name, v in (("mean", self._mean), ("std", self._std)):
                if v.size not in (1, c):
                    raise ValueError(f"DataLoader: {name} has {v.size} values, images have "
                                     f"{c} channels")
        self.epoch = 0
        self.position = 0  # batches already yielded in the current epoch

    @staticmethod
    def _array_view(dataset: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
        arrays = getattr(dataset, "arrays", None)
        if arrays is None:
            return None, None
        images, labels = arrays()
        images = np.asarray(images)
        if images.ndim != 4:
            raise ValueError(f"DataLoader: dataset.arrays() images must be (N, C, H, W), got "
                             f"shape {images.shape}")
        labels = np.asarray(labels).astype(np.int64, copy=False)
        if labels.shape != (images.shape[0],):
            raise ValueError(f"DataLoader: {images.shape[0]} images but labels of shape "
                             f"{labels.shape}")
        return images, labels

    # ---------------------------------------------------------------- sizes and state
    def _n(self) -> int:
        return len(self.dataset) if self._labels is None else int(self._labels.shape[0])

    def __len__(self) -> int:
        n = self._n()
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch`` (from its first batch) at the next iteration.

        Raises:
            TypeError, ValueError: ``epoch`` is not an int >= 0.
        """
        self.epoch = non_negative_int("epoch", epoch, "DataLoader.set_epoch")
        self.position = 0

    def state_dict(self) -> dict[str, int]:
        """``{"epoch", "position", "seed"}``: where the next iteration resumes."""
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume exactly: the next iteration yields batch ``position`` of ``epoch``.

        Args:
            state: what :meth:`state_dict` returned: ints ``epoch`` >= 0 and ``position`` in
                ``[0, len(self)]``, and optionally ``seed`` >= 0 (default: keep the seed).

        Raises:
            TypeError: ``state`` is not a dict, or a value is not an int.
            ValueError: a key is missing or a value is out of range (nothing is changed).
        """
        fn = "DataLoader.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{fn}: expected state to be a dict from state_dict(), got "
                            f"{type(state).__name__}")
        missing = [k for k in ("epoch", "position") if k not in state]
        if missing:
            raise ValueError(f"{fn}: expected state with keys 'epoch', 'position' (and "
                             f"optionally 'seed'), got keys {sorted(map(str, state))} "
                             f"(missing {missing})")
        seed = non_negative_int("state['seed']", state.get("seed", self.seed), fn)
        epoch = non_negative_int("state['epoch']", state["epoch"], fn)
        position = non_negative_int("state['position']", state["position"], fn)
        if position > len(self):
            raise ValueError(f"DataLoader: position {position} out of range [0, {len(self)}]")
        self.seed, self.epoch, self.position = seed, epoch, position

    def order(self, epoch: int | None = None) -> np.ndarray:
        """The sample order of ``epoch`` (default: the current one)."""
        e = self.epoch if epoch is None else int(epoch)
        n = self._n()
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, e]).permutation(n)

    # ---------------------------------------------------------------- batch making
    def _make_batch(self, idx: np.ndarray, epoch: int, b: int) -> Batch:
        if self._images is not None:
            raw = self._images[idx]
            labels = self._labels[idx]
        else:
            items = [self.dataset[int(i)] for i in idx]
            raw = np.stack([np.asarray(it[0]) for it in items])
            if raw.ndim == 3:
                raw = raw[:, None]
            labels = np.asarray([int(it[1]) for it in items], dtype=np.int64)
        if raw.dtype == np.uint8:
            x = np.divide(raw, np.float32(255.0), dtype=np.float32)  # exactly v / 255
        else:
            x = raw.astype(np.float32, copy=True)
        y: np.ndarray = labels
        if self.transform is not None:
            rng = np.random.default_rng([self.seed, epoch, b, 1])
            x, y = self.transform(x, labels, rng=rng)
            x = np.asarray(x, dtype=np.float32)
        if self._mean is not None:
            c = x.shape[1]
            mean = self._mean.reshape(-1, 1, 1) if self._mean.size == c else self._mean[0]
            inv = (1.0 / self._std).astype(np.float32)
            inv = inv.reshape(-1, 1, 1) if inv.size == c else inv[0]
            x = np.subtract(x, mean, out=x if x.flags.writeable else None)
            x *= inv
        return x, y

    def _batches(self, epoch: int, start: int) -> list[np.ndarray]:
        order = self.order(epoch)
        nb = len(self)
        return [order[b * self.batch_size:(b + 1) * self.batch_size] for b in range(start, nb)]

    def __iter__(self) -> Iterator[Batch]:
        epoch, start = self.epoch, self.position
        if start >= len(self):  # a finished epoch resumes at the next one
            epoch, start = epoch + 1, 0
            self.epoch, self.position = epoch, 0
        index_lists = self._batches(epoch, start)
        if self.num_workers == 0:
            gen = self._iter_sync(epoch, start, index_lists)
        else:
            gen = self._iter_prefetch(epoch, start, index_lists)
        return gen

    def _advance(self, epoch: int, b: int) -> None:
        self.position = b + 1
        if self.position >= len(self):
            self.epoch, self.position = epoch + 1, 0

    def _iter_sync(self, epoch: int, start: int, lists: list[np.ndarray]) -> Iterator[Batch]:
        for k, idx in enumerate(lists):
            batch = self._make_batch(idx, epoch, start + k)
            self._advance(epoch, start + k)
            yield batch

    def _iter_prefetch(self, epoch: int, start: int,
                       lists: list[np.ndarray]) -> Iterator[Batch]:
        pool = ThreadPoolExecutor(max_workers=self.num_workers,
                                  thread_name_prefix="striate-loader")
        pending: deque[Future[Batch]] = deque()
        nxt = 0
        try:
            while nxt < len(lists) and len(pending) < self.prefetch:
                pending.append(pool.submit(self._make_batch, lists[nxt], epoch, start + nxt))
                nxt += 1
            k = 0
            while pending:
                batch = pending.popleft().result()  # re-raises a worker's exception here
                if nxt < len(lists):
                    pending.append(pool.submit(self._make_batch, lists[nxt], epoch,
                                               start + nxt))
                    nxt += 1
                self._advance(epoch, start + k)
                k += 1
                yield batch
        finally:
            for f in pending:
                f.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    def __repr__(self) -> str:
        return (f"DataLoader(n={self._n()}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last}, "
                f"num_workers={self.num_workers}, prefetch={self.prefetch})")


__all__ = ["DataLoader"]
