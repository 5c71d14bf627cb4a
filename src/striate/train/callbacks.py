"""Callbacks: hooks the :class:`~striate.train.Trainer` calls around epochs and batches.

A callback subclasses :class:`Callback` and overrides what it needs. ``logs`` is the dict of
the epoch's scalars (``train_loss``, ``train_accuracy``, ``val_loss``, ``val_accuracy``,
``lr``, ...) and callbacks may add keys to it. Callbacks that hold state across epochs
(best score, patience counter) expose ``state_dict``/``load_state_dict`` so a resumed run
continues exactly.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from striate.train.trainer import Trainer


class Callback:
    """Base class: every hook is a no-op."""

    def on_train_begin(self, trainer: Trainer) -> None:
        pass

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        pass

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, Any]) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        pass

    def on_train_end(self, trainer: Trainer) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def _resolve_mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode: expected 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if ("acc" in monitor or monitor.startswith("top")) else "min"


class _Monitor:
    """Tracks the best value of one logged quantity."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        self.monitor = monitor
        self.mode = _resolve_mode(monitor, mode)
        self.min_delta = abs(float(min_delta))
        self.best: float | None = None

    def value(self, logs: dict[str, Any]) -> float | None:
        v = logs.get(self.monitor)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        return float(v)

    def improved(self, v: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return v < self.best - self.min_delta
        return v > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: a key of the epoch logs, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        patience: epochs without improvement tolerated before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracies, min otherwise).
        min_delta: smallest change that counts as an improvement.

    Example:
        >>> cb = EarlyStopping("val_accuracy", patience=2)
        >>> cb.mode
        'max'
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, mode: str = "auto",
                 min_delta: float = 0.0) -> None:
        if patience < 0:
            raise ValueError(f"patience: expected >= 0, got {patience}")
        self._m = _Monitor(monitor, mode, min_delta)
        self.patience = int(patience)
        self.wait = 0
        self.stopped_epoch: int | None = None

    @property
    def monitor(self) -> str:
        return self._m.monitor

    @property
    def mode(self) -> str:
        return self._m.mode

    @property
    def best(self) -> float | None:
        return self._m.best

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        v = self._m.value(logs)
        if v is None:
            return
        if self._m.improved(v):
            self._m.best, self.wait = v, 0
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            trainer.log(f"early stopping at epoch {epoch}: {self.monitor} has not improved "
                        f"for {self.wait} epochs (best {self._m.best:.4f})")

    def state_dict(self) -> dict[str, Any]:
        return {"best": self._m.best, "wait": self.wait, "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._m.best, self.wait = state.get("best"), int(state.get("wait", 0))
        self.stopped_epoch = state.get("stopped_epoch")


class ModelCheckpoint(Callback):
    """Save the last checkpoint every epoch and the best one by ``monitor``.

    Files (in ``directory``): ``last.safetensors`` (model, optimizer, scheduler, RNG and
    loader state: enough to resume exactly) and ``best.safetensors`` (the same, from the
    epoch with the best ``monitor`` so far). Writes are atomic.

    Args:
        directory: where the checkpoints go.
        monitor: key of the epoch logs ranking the checkpoints (``"val_accuracy"``).
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_best: write ``best.safetensors``.
        save_last: write ``last.safetensors``.
    """

    def __init__(self, directory: str | os.PathLike, monitor: str = "val_accuracy",
                 mode: str = "auto", save_best: bool = True, save_last: bool = True) -> None:
        self.directory = os.fspath(directory)
        self._m = _Monitor(monitor, mode, 0.0)
        self.save_best, self.save_last = save_best, save_last
        self.best_epoch: int | None = None

    @property
    def best_path(self) -> str:
        return os.path.join(self.directory, "best.safetensors")

    @property
    def last_path(self) -> str:
        return os.path.join(self.directory, "last.safetensors")

    @property
    def best(self) -> float | None:
        return self._m.best

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        v = self._m.value(logs)
        is_best = v is not None and self._m.improved(v)
        if is_best:
            self._m.best, self.best_epoch = v, epoch
        # The state saved below includes this callback's updated best, so a resume from
        # either file continues the ranking exactly.
        if self.save_last:
            trainer.save_checkpoint(self.last_path)
        if self.save_best and is_best:
            trainer.save_checkpoint(self.best_path)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self._m.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._m.best, self.best_epoch = state.get("best"), state.get("best_epoch")


class LRLogger(Callback):
    """Record learning rates. Each epoch: ``logs["lr_min"]``/``logs["lr_max"]`` (group 0
    over the epoch's steps, with ``per_batch=True``) and ``logs["lr_group<i>"]`` for every
    group when there are several; with ``per_batch=True`` also the list :attr:`batch_lrs` of
    group 0's rate after every step. (The Trainer itself logs ``lr``: group 0's rate at the
    epoch's last step.)"""

    def __init__(self, per_batch: bool = False) -> None:
        self.per_batch = per_batch
        self.batch_lrs: list[float] = []
        self._epoch_start = 0

    @staticmethod
    def _lrs(trainer: Trainer) -> list[float]:
        opt = trainer.optimizer
        return [float(g["lr"]) for g in opt.param_groups] if opt is not None else []

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self._epoch_start = len(self.batch_lrs)

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, Any]) -> None:
        if self.per_batch:
            lrs = self._lrs(trainer)
            if lrs:
                self.batch_lrs.append(lrs[0])

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        lrs = self._lrs(trainer)
        if len(lrs) > 1:
            for i, lr in enumerate(lrs):
                logs[f"lr_group{i}"] = lr
        seen = self.batch_lrs[self._epoch_start:]
        if seen:
            logs["lr_min"], logs["lr_max"] = min(seen), max(seen)

    def state_dict(self) -> dict[str, Any]:
        return {"batch_lrs": list(self.batch_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.batch_lrs = list(state.get("batch_lrs", []))
