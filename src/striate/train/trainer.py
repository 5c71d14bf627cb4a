"""The :class:`Trainer`: a model-agnostic training loop with validation, metrics, callbacks,
progress, checkpoints and exact resume."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

import numpy as np

import striate
import striate.random
from striate.train import checkpoint as ckpt
from striate.train.callbacks import Callback, ModelCheckpoint
from striate.train.history import History
from striate.train.metrics import MetricAccumulator
from striate.train.progress import Progress

__all__ = ["Trainer", "TrainingError", "default_loss", "to_tensor"]


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss became NaN)."""


def to_tensor(a: np.ndarray):
    """A constant striate Tensor (no gradient) sharing memory with ``a`` when possible."""
    return striate.as_tensor(np.asarray(a))


def default_loss(logits, target):
    """Cross-entropy of logits ``(N, C)`` against hard labels ``(N,)`` int or soft targets
    ``(N, C)`` float rows (MixUp/CutMix)."""
    import striate.functional as F

    return F.cross_entropy(logits, target)


def make_loss(label_smoothing: float = 0.0) -> Callable:
    """:func:`default_loss` with label smoothing ``eps``: targets become
    ``(1 - eps) * target + eps / C`` (hard labels as one-hot rows)."""
    if not label_smoothing:
        return default_loss
    eps = float(label_smoothing)

    def loss(logits, target):
        import striate.functional as F

        return F.cross_entropy(logits, target, label_smoothing=eps)

    return loss


# -- RNG state of loaders (generators found in their attributes) --------------------------------

def _is_generator(v: Any) -> bool:
    return isinstance(v, (np.random.Generator, striate.random.Generator))


def _walk_generators(obj: Any, path: str = "", depth: int = 0, seen: set | None = None):
    """Yield ``(path, generator)`` for every NumPy/striate generator reachable from ``obj``
    through instance attributes, lists, tuples and dicts (depth-limited, cycles skipped)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 4:
        return
    seen.add(id(obj))
    if _is_generator(obj):
        yield path, obj
        return
    if isinstance(obj, (str, bytes, int, float, bool, np.ndarray)) or obj is None:
        return
    if isinstance(obj, dict):
        items = [(str(k), v) for k, v in obj.items()]
    elif isinstance(obj, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(obj)]
    else:
        d = getattr(obj, "__dict__", None)
        if d is None:
            slots = getattr(type(obj), "__slots__", ())
            d = {s: getattr(obj, s) for s in slots if hasattr(obj, s)}
        items = list(d.items())
    for k, v in items:
        if isinstance(v, (np.ndarray, str, bytes, int, float)) or callable(v) and not \
                hasattr(v, "__dict__"):
            continue
        yield from _walk_generators(v, f"{path}.{k}" if path else k, depth + 1, seen)


def _gen_state(g: Any) -> dict:
    if isinstance(g, np.random.Generator):
        return {"numpy": g.bit_generator.state}
    return {"striate": g.get_state()}


def _set_gen_state(g: Any, st: dict) -> None:
    if "numpy" in st:
        g.bit_generator.state = st["numpy"]
    else:
        g.set_state(st["striate"])


def loader_state(loader: Any) -> dict:
    """The random state of a data loader at an epoch boundary (its ``state_dict()`` when it
    has one, else the state of every generator it holds)."""
    if hasattr(loader, "state_dict") and callable(loader.state_dict):
        return {"state_dict": loader.state_dict()}
    return {"generators": {p: _gen_state(g) for p, g in _walk_generators(loader)}}


def set_loader_state(loader: Any, state: dict) -> None:
    """Restore what :func:`loader_state` returned."""
    if "state_dict" in state:
        loader.load_state_dict(state["state_dict"])
        return
    gens = dict(_walk_generators(loader))
    for p, st in state.get("generators", {}).items():
        if p in gens:
            _set_gen_state(gens[p], st)


def _num_batches(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def _labels(y: np.ndarray) -> np.ndarray:
    return np.argmax(y, axis=1) if y.ndim == 2 else y


class Trainer:
    """Train and evaluate a classifier.

    Args:
        model: a ``striate.nn.Module`` mapping ``(N, C, H, W)`` to logits ``(N, classes)``.
        optimizer: a ``striate.optim`` optimizer over the model's parameters.
        loss_fn: ``loss_fn(logits, targets) -> scalar Tensor``; default :func:`default_loss`
            (cross-entropy; accepts soft targets).
        scheduler: an ``lr_scheduler`` (optional).
        scheduler_interval: step the scheduler every ``"epoch"`` or every ``"batch"``.
        callbacks: :class:`~striate.train.callbacks.Callback` instances.
        num_classes: classes (default: read from the first batch of logits).
        class_names: names of the classes, stored in checkpoints.
        metadata: extra checkpoint metadata (``arch``, ``normalization``, ``input_shape``,
            ``dataset``); ``arch`` defaults to the model's registry config.
        out_dir: when given, history (JSON/CSV) is written there every epoch, checkpoints
            ``last``/``best`` too (unless a ModelCheckpoint is among ``callbacks``), and the
            curves plot at the end.
        monitor: what ranks the best checkpoint (``"val_accuracy"``).
        topk: extra top-k accuracies computed on evaluation.
        grad_clip: clip the global gradient norm to this value (None: no clipping).
        max_batches: stop each training epoch after this many batches (quick runs).
        progress: show a progress bar (tqdm on a TTY, plain lines otherwise).
        verbose: print one summary line per epoch.
        stream: where lines go (default ``sys.stdout``; the bar uses ``sys.stderr``).

    Example:
        >>> trainer = Trainer(model, striate.optim.Adam(model.parameters()))  # doctest: +SKIP
        >>> history = trainer.fit(train_loader, val_loader, epochs=5)          # doctest: +SKIP
    """

    def __init__(self, model: Any, optimizer: Any = None, loss_fn: Callable | None = None,
                 scheduler: Any = None, scheduler_interval: str = "epoch",
                 callbacks: Sequence[Callback] = (), num_classes: int | None = None,
                 class_names: Sequence[str] | None = None,
                 metadata: dict[str, Any] | None = None, out_dir: str | os.PathLike | None = None,
                 monitor: str = "val_accuracy", topk: Sequence[int] = (5,),
                 grad_clip: float | None = None, max_batches: int | None = None,
                 progress: bool = True, verbose: bool = True, stream: IO[str] | None = None,
                 log_every: int = 0) -> None:
        if scheduler_interval not in ("epoch", "batch"):
            raise ValueError(f"scheduler_interval: expected 'epoch' or 'batch', got "
                             f"{scheduler_interval!r}")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn or default_loss
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.callbacks: list[Callback] = list(callbacks)
        self.num_classes = num_classes
        self.class_names = list(class_names) if class_names is not None else None
        self.metadata = dict(metadata or {})
        self.out_dir = os.fspath(out_dir) if out_dir is not None else None
        self.topk = tuple(topk)
        self.grad_clip = grad_clip
        self.max_batches = max_batches
        self.progress = progress
        self.verbose = verbose
        self.stream = stream
        self.log_every = log_every
        self.history = History()
        self.epoch = 0                 # completed epochs
        self.global_step = 0           # optimizer steps so far
        self.stop_training = False
        self._pending_loader_state: dict | None = None
        if self.out_dir is not None and not any(isinstance(c, ModelCheckpoint)
                                                for c in self.callbacks):
            if ckpt.available():
                self.callbacks.append(ModelCheckpoint(self.out_dir, monitor=monitor))
            else:
                self.log("warning: safetensors is not installed, so no checkpoints are "
                         "written (pip install 'striate[weights]')")

    # -- logging ---------------------------------------------------------------------------

    def log(self, msg: str) -> None:
        if self.verbose:
            print(msg, file=self.stream if self.stream is not None else sys.stdout, flush=True)

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    # -- one epoch ---------------------------------------------------------------------------

    def _forward_loss(self, x: np.ndarray, y: np.ndarray):
        out = self.model(to_tensor(x))
        loss = self.loss_fn(out, to_tensor(y))
        return out, loss

    def train_epoch(self, loader: Iterable, epoch: int) -> dict[str, float]:
        """One pass of training over ``loader``; returns ``train_loss``, ``train_accuracy``,
        ``images_per_second``, ``epoch_seconds`` and ``lr`` (the learning rate of the last
        step)."""
        self.model.train()
        total = _num_batches(loader)
        if self.max_batches is not None:
            total = min(total, self.max_batches) if total is not None else self.max_batches
        bar = Progress(total, f"epoch {epoch}", enabled=self.progress, log_every=self.log_every)
        loss_sum, correct, seen = 0.0, 0, 0
        last_lr: float | None = None
        t0 = time.perf_counter()
        try:
            for i, (x, y) in enumerate(loader):
                if self.max_batches is not None and i >= self.max_batches:
                    break
                out, loss = self._forward_loss(x, y)
                if self.optimizer is not None:
                    self.optimizer.zero_grad()
                    loss.backward()
                    if self.grad_clip is not None:
                        from striate.nn.utils import clip_grad_norm_

                        clip_grad_norm_(self.model.parameters(), self.grad_clip)
                    self.optimizer.step()
                    self.global_step += 1
                    last_lr = float(self.optimizer.param_groups[0]["lr"])
                    if self.scheduler is not None and self.scheduler_interval == "batch":
                        self.scheduler.step()
                lv = float(loss.item())
                if not math.isfinite(lv):
                    lrs = [g["lr"] for g in self.optimizer.param_groups] if self.optimizer else []
                    raise TrainingError(f"loss became {lv} at epoch {epoch}, batch {i + 1} "
                                        f"(learning rate {lrs}); try a lower --lr")
                n = int(x.shape[0])
                logits = out.data
                if self.num_classes is None:
                    self.num_classes = int(logits.shape[1])
                correct += int((np.argmax(logits, axis=1) == _labels(np.asarray(y))).sum())
                loss_sum += lv * n
                seen += n
                bar.update(n, loss_sum / seen, correct / seen)
                self._call("on_batch_end", i, {"loss": lv, "batch_size": n})
        finally:
            bar.close()
        if self.optimizer is not None and seen:
            # the loss of a batch is computed before its step: the epoch's last step can
            # still have made the weights NaN/inf (e.g. a huge learning rate or momentum)
            named = getattr(self.model, "named_parameters", None)
            for name, p in named() if callable(named) else ():
                if not np.isfinite(p.data).all():
                    lrs = [g["lr"] for g in self.optimizer.param_groups]
                    raise TrainingError(f"parameter {name!r} became NaN or inf at epoch "
                                        f"{epoch} (learning rate {lrs}); try a lower --lr")
        dt = time.perf_counter() - t0
        out = {"train_loss": loss_sum / max(seen, 1), "train_accuracy": correct / max(seen, 1),
               "images_per_second": seen / dt if dt > 0 else 0.0, "epoch_seconds": dt}
        if last_lr is not None:
            out["lr"] = last_lr   # the rate of the epoch's last optimizer step
        return out

    def evaluate(self, loader: Iterable, collect_misclassified: int = 0,
                 progress: bool = False) -> dict[str, Any]:
        """Loss, accuracy, top-k, per-class accuracy and confusion matrix over ``loader``
        (eval mode, no gradients).

        Args:
            loader: yields ``(images, labels)``.
            collect_misclassified: also return up to this many misclassified inputs
                (``"misclassified": {"images", "true", "pred"}``).
            progress: show a progress bar.
        """
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        acc: MetricAccumulator | None = None
        mis_x: list[np.ndarray] = []
        mis_t: list[np.ndarray] = []
        mis_p: list[np.ndarray] = []
        n_mis = 0
        bar = Progress(_num_batches(loader), "evaluate", enabled=progress)
        t0 = time.perf_counter()
        try:
            with striate.no_grad():
                for x, y in loader:
                    out, loss = self._forward_loss(x, y)
                    logits = out.data
                    if acc is None:
                        nc = self.num_classes or int(logits.shape[1])
                        acc = MetricAccumulator(nc, self.topk)
                    y = np.asarray(y)
                    acc.update(logits, y, float(loss.item()))
                    bar.update(int(x.shape[0]), float(loss.item()), None)
                    if n_mis < collect_misclassified:
                        pred = np.argmax(logits, axis=1)
                        t = _labels(y)
                        wrong = np.nonzero(pred != t)[0][: collect_misclassified - n_mis]
                        if wrong.size:
                            mis_x.append(np.asarray(x)[wrong])
                            mis_t.append(t[wrong])
                            mis_p.append(pred[wrong])
                            n_mis += wrong.size
        finally:
            bar.close()
            if was_training:
                self.model.train()
        if acc is None:
            raise ValueError("evaluate: the loader yielded no batches")
        res = acc.compute()
        res["seconds"] = time.perf_counter() - t0
        if collect_misclassified:
            res["misclassified"] = {
                "images": np.concatenate(mis_x) if mis_x else np.zeros((0,)),
                "true": np.concatenate(mis_t) if mis_t else np.zeros((0,), np.int64),
                "pred": np.concatenate(mis_p) if mis_p else np.zeros((0,), np.int64),
            }
        return res

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Logits of ``x`` ``(N, C, H, W)`` (eval mode, no gradients), as a NumPy array."""
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        outs = []
        try:
            with striate.no_grad():
                for i in range(0, x.shape[0], batch_size):
                    outs.append(np.array(self.model(to_tensor(x[i:i + batch_size])).data))
        finally:
            if was_training:
                self.model.train()
        return np.concatenate(outs) if outs else np.zeros((0, self.num_classes or 0), np.float32)

    # -- the loop ------------------------------------------------------------------------------

    def fit(self, train_loader: Iterable, val_loader: Iterable | None = None,
            epochs: int = 10) -> History:
        """Train until ``epochs`` epochs are complete (counting epochs already done before a
        resume), validating after each one; returns the :class:`History`.

        Calls ``loader.set_epoch(epoch)`` before each epoch when the loader has it.

        Raises:
            TrainingError: the training loss, a parameter or the validation loss became NaN
                or inf; nothing of that epoch is recorded or checkpointed.
        """
        if epochs < 0:
            raise ValueError(f"epochs: expected >= 0, got {epochs}")
        if self._pending_loader_state is not None:
            set_loader_state(train_loader, self._pending_loader_state)
            self._pending_loader_state = None
        self._train_loader = train_loader
        self._infer_metadata(train_loader)
        self.stop_training = False
        self._call("on_train_begin")
        while self.epoch < epochs and not self.stop_training:
            epoch = self.epoch + 1
            if hasattr(train_loader, "set_epoch"):
                train_loader.set_epoch(epoch)
            self._call("on_epoch_begin", epoch)
            logs: dict[str, Any] = {"epoch": epoch}
            logs.update(self.train_epoch(train_loader, epoch))
            if val_loader is not None:
                v = self.evaluate(val_loader)
                if not math.isfinite(v["loss"]):
                    raise TrainingError(f"validation loss became {v['loss']} at epoch {epoch} "
                                        "(the model's outputs overflow)")
                logs["val_loss"] = v["loss"]
                logs["val_accuracy"] = v["accuracy"]
                for k in self.topk:
                    if k > 1 and f"top{k}" in v:
                        logs[f"val_top{k}"] = v[f"top{k}"]
            if self.scheduler is not None and self.scheduler_interval == "epoch":
                self.scheduler.step()
            self.epoch = epoch
            # Recorded before the callbacks run (a checkpoint they write holds this epoch);
            # the record is the logs dict itself, so keys callbacks add land in it too.
            self.history.records.append(logs)
            self._call("on_epoch_end", epoch, logs)
            self.log(self._epoch_line(logs, epochs))
            if self.out_dir is not None:
                self.history.save(self.out_dir)
        self._call("on_train_end")
        if self.out_dir is not None and len(self.history):
            from striate.train.plots import plot_history

            plot_history(self.history, os.path.join(self.out_dir, "plots", "curves.png"))
        return self.history

    def _infer_metadata(self, loader: Any) -> None:
        """Record the loader's normalisation and the input shape in the checkpoint metadata
        when the caller did not give them (so ``predict`` can feed images as in training)."""
        if "normalization" not in self.metadata:
            mean = getattr(loader, "mean", getattr(loader, "_mean", None))
            std = getattr(loader, "std", getattr(loader, "_std", None))
            if mean is not None and std is not None:
                self.metadata["normalization"] = {
                    "mean": [float(v) for v in np.asarray(mean).ravel()],
                    "std": [float(v) for v in np.asarray(std).ravel()]}
        if "input_shape" not in self.metadata:
            images = getattr(loader, "_images", None)
            if images is not None and getattr(images, "ndim", 0) == 4:
                self.metadata["input_shape"] = [int(v) for v in images.shape[1:]]
        if self.class_names is None:
            classes = getattr(getattr(loader, "dataset", None), "classes", None)
            if classes:
                self.class_names = [str(c) for c in classes]

    @staticmethod
    def _epoch_line(logs: dict[str, Any], epochs: int) -> str:
        s = (f"epoch {logs['epoch']}/{epochs}  train loss {logs['train_loss']:.4f} "
             f"acc {logs['train_accuracy']:.4f}")
        if "val_loss" in logs:
            s += f" | val loss {logs['val_loss']:.4f} acc {logs['val_accuracy']:.4f}"
        if logs.get("lr") is not None:
            s += f" | lr {logs['lr']:.3g}"
        s += f" | {logs['epoch_seconds']:.1f} s, {logs['images_per_second']:.0f} img/s"
        return s

    # -- checkpoints ---------------------------------------------------------------------------

    def _model_state(self) -> dict[str, np.ndarray]:
        return {k: np.array(getattr(v, "data", v)) for k, v in self.model.state_dict().items()}

    def checkpoint_meta(self) -> dict[str, Any]:
        """The metadata written into every checkpoint."""
        from striate.models.registry import model_config

        meta = dict(self.metadata)
        if "arch" not in meta:
            arch = model_config(self.model)
            if arch is not None:
                meta["arch"] = arch
        if self.class_names is not None:
            meta["class_names"] = self.class_names
        meta["epoch"] = self.epoch
        return meta

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue training exactly: model, optimizer, scheduler,
        callbacks, history, counters and RNG states (striate's global generator, NumPy's
        legacy global state, the training loader's generators)."""
        legacy = np.random.get_state()
        st: dict[str, Any] = {
            "model": self._model_state(),
            "trainer": {
                "epoch": self.epoch, "global_step": self.global_step,
                "history": self.history.state_dict()["records"],
                "callbacks": [cb.state_dict() for cb in self.callbacks],
                "num_classes": self.num_classes,
            },
            "rng": {
                "striate": striate.random.get_rng_state(),
                "numpy_legacy": [legacy[0], legacy[1], int(legacy[2]), int(legacy[3]),
                                 float(legacy[4])],
            },
        }
        if self.optimizer is not None:
            st["optimizer"] = self.optimizer.state_dict()
        if self.scheduler is not None:
            st["scheduler"] = {k: v for k, v in self.scheduler.state_dict().items()
                               if not callable(v)}
        loader = getattr(self, "_train_loader", None)
        if loader is not None:
            st["rng"]["train_loader"] = loader_state(loader)
        return st

    def save_checkpoint(self, path: str | os.PathLike) -> str:
        """Write :meth:`state_dict` and :meth:`checkpoint_meta` to ``path`` (atomically)."""
        return ckpt.save_checkpoint(path, self.state_dict(), self.checkpoint_meta())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        if self.optimizer is not None and "optimizer" in state:
            self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])
        tr = state.get("trainer", {})
        self.epoch = int(tr.get("epoch", 0))
        self.global_step = int(tr.get("global_step", 0))
        self.history = History(tr.get("history", []))
        if tr.get("num_classes") is not None:
            self.num_classes = int(tr["num_classes"])
        for cb, cs in zip(self.callbacks, tr.get("callbacks", [])):
            cb.load_state_dict(cs)
        rng = state.get("rng", {})
        if "striate" in rng:
            striate.random.set_rng_state(rng["striate"])
        if "numpy_legacy" in rng:
            k, keys, pos, has_gauss, cached = rng["numpy_legacy"]
            np.random.set_state((k, np.asarray(keys, np.uint32), pos, has_gauss, cached))
        self._pending_loader_state = rng.get("train_loader")

    def resume(self, path: str | os.PathLike) -> dict[str, Any]:
        """Load a checkpoint written by :meth:`save_checkpoint` to continue training: the
        next :meth:`fit` starts at the epoch after the saved one, with the same random
        streams. Returns the checkpoint's metadata."""
        state, meta = ckpt.load_checkpoint(path)
        if "trainer" not in state:
            raise ckpt.CheckpointError(f"checkpoint {os.fspath(path)!r}: holds no training "
                                       "state to resume from")
        self.load_state_dict(state)
        return meta
