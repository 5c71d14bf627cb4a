"""One call from names to a trained model and a run directory: :func:`fit`.

A run directory holds::

    config.json            the RunConfig (everything needed to repeat the run)
    history.json / .csv    one row per epoch (losses, accuracies, lr, img/s)
    metrics.json           final test metrics (accuracy, top-5, per-class, confusion, times)
    last.safetensors       model + optimizer + scheduler + RNG state after the last epoch
    best.safetensors       the same at the best validation accuracy
    plots/curves.png, plots/confusion_matrix.png, plots/misclassified.png
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import striate
from striate.train._io import write_json
from striate.train.callbacks import Callback
from striate.train.checkpoint import available as ckpt_available
from striate.train.trainer import Trainer, make_loss

__all__ = [
    "AUGMENTS",
    "OPTIMIZERS",
    "SCHEDULES",
    "RunConfig",
    "RunResult",
    "default_data_source",
    "fit",
]

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "step", "cosine", "onecycle")
AUGMENTS = ("none", "light", "standard", "strong")
_DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}
#: Largest MixUp/CutMix alpha: Beta(1000, 1000) already gives lam = 0.5 +- 0.011, a larger
#: alpha changes nothing but NumPy's Beta sampler breaks down near the float limit.
MAX_MIX_ALPHA = 1000.0
#: Largest number of kernel threads / loader workers a run asks for.
MAX_THREADS = 1024
_DEFAULT_WD = {"sgd": 5e-4, "adam": 0.0, "adamw": 5e-2}


def default_data_source(root: str | None = None) -> str:
    """``"fashion-mnist"`` when its files are found (in ``root``, then striate's search paths,
    e.g. /usr/share/datasets/fashion-mnist), else ``"embedded"`` (the 10k/2k Fashion-MNIST
    sample shipped with striate)."""
    from striate.data import load_dataset

    try:
        load_dataset("fashion-mnist", root=root, train=False)
    except FileNotFoundError:
        return "embedded"
    return "fashion-mnist"


@dataclass
class RunConfig:
    """Everything that defines a training run (saved as ``config.json`` and in checkpoints).

    ``lr``/``weight_decay`` of ``None`` pick the optimizer's default (SGD 0.05 / 5e-4,
    Adam 1e-3 / 0, AdamW 1e-3 / 5e-2). ``val_split`` > 0 holds out that fraction of the
    training set for validation; 0 validates on the test set each epoch (reported as ``val``).
    """

    model: str = "small_cnn"
    dataset: str = "auto"
    data_root: str | None = None
    epochs: int = 5
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float | None = None
    weight_decay: float | None = None
    momentum: float = 0.9
    schedule: str = "onecycle"
    augment: str = "none"
    mixup: float = 0.0
    cutmix: float = 0.0
    label_smoothing: float = 0.0
    seed: int = 0
    threads: int | None = None
    val_split: float = 0.0
    limit_train: int | None = None
    limit_test: int | None = None
    max_batches: int | None = None
    model_cfg: dict[str, Any] = field(default_factory=dict)
    out_dir: str | None = None
    num_workers: int = 1

    def resolved(self) -> RunConfig:
        """A copy with ``auto``/``None`` defaults filled in and every value checked.

        Raises:
            ValueError: a bad value (the message names the option and what it expects):
                NaN/inf, momentum outside [0, 1), a MixUp/CutMix alpha above
                :data:`MAX_MIX_ALPHA`, more than :data:`MAX_THREADS` threads or workers,
                ``num_classes``/``in_channels`` in ``model_cfg`` (they follow the data set).
        """
        c = dataclasses.replace(self, model_cfg=dict(self.model_cfg))
        if c.dataset == "auto":
            c.dataset = default_data_source(c.data_root)
        if c.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got "
                             f"{c.optimizer!r}")
        if c.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {c.schedule!r}")
        if c.augment not in AUGMENTS:
            raise ValueError(f"augment must be one of {', '.join(AUGMENTS)}, got {c.augment!r}")
        if c.lr is None:
            c.lr = _DEFAULT_LR[c.optimizer]
        if c.weight_decay is None:
            c.weight_decay = _DEFAULT_WD[c.optimizer]
        def num(v: Any) -> bool:   # a finite real number (not bool, not NaN/inf)
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        def whole(v: Any, lo: int) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and v >= lo

        checks = [
            ("epochs", whole(c.epochs, 0), "an integer >= 0"),
            ("batch_size", whole(c.batch_size, 1), "an integer >= 1"),
            ("lr", num(c.lr) and c.lr > 0, "a finite number > 0"),
            ("weight_decay", num(c.weight_decay) and c.weight_decay >= 0,
             "a finite number >= 0"),
            ("momentum", num(c.momentum) and 0 <= c.momentum < 1, "a number in [0, 1)"),
            ("mixup", num(c.mixup) and 0 <= c.mixup <= MAX_MIX_ALPHA,
             f"a number in [0, {MAX_MIX_ALPHA:g}]"),
            ("cutmix", num(c.cutmix) and 0 <= c.cutmix <= MAX_MIX_ALPHA,
             f"a number in [0, {MAX_MIX_ALPHA:g}]"),
            ("label_smoothing", num(c.label_smoothing) and 0 <= c.label_smoothing < 1,
             "a number in [0, 1)"),
            ("val_split", num(c.val_split) and 0 <= c.val_split < 1, "a number in [0, 1)"),
            ("seed", whole(c.seed, 0), "an integer >= 0"),
            ("threads", c.threads is None or whole(c.threads, 1) and c.threads <= MAX_THREADS,
             f"None or an integer from 1 to {MAX_THREADS}"),
            ("num_workers", whole(c.num_workers, 0) and c.num_workers <= MAX_THREADS,
             f"an integer from 0 to {MAX_THREADS}"),
            ("limit_train", c.limit_train is None or whole(c.limit_train, 1),
             "None or an integer >= 1"),
            ("limit_test", c.limit_test is None or whole(c.limit_test, 1),
             "None or an integer >= 1"),
            ("max_batches", c.max_batches is None or whole(c.max_batches, 1),
             "None or an integer >= 1"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"{name}: expected {expected}, got {getattr(c, name)!r}")
        if not all(isinstance(k, str) for k in c.model_cfg):
            raise ValueError(f"model_cfg: expected option names, got {list(c.model_cfg)!r}")
        fixed = sorted(set(c.model_cfg) & {"num_classes", "in_channels"})
        if fixed:
            raise ValueError(f"model_cfg: {', '.join(fixed)} cannot be set, it follows the "
                             "data set (its classes and image channels)")
        if c.out_dir is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            c.out_dir = os.path.join("runs", f"{c.model}-{c.dataset.replace(':', '_')}-{stamp}")
        return c

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class RunResult:
    """What :func:`fit` returns."""

    model: Any
    trainer: Trainer
    config: RunConfig
    metrics: dict[str, Any]
    out_dir: str

    @property
    def test_accuracy(self) -> float:
        return float(self.metrics["test"]["accuracy"])


def _subset(ds: Any, n: int | None, seed: int) -> Any:
    """The first ``n`` samples of a seeded permutation of ``ds`` (all when ``n`` is None)."""
    from striate.data import ArrayDataset

    if n is None or n >= len(ds):
        return ds
    idx = np.sort(np.random.default_rng([seed, 7]).permutation(len(ds))[:n])
    return ArrayDataset(ds.images[idx], ds.labels[idx], classes=ds.classes,
                        hflip_safe=getattr(ds, "hflip_safe", True), source=ds.source)


def _split(ds: Any, fraction: float, seed: int) -> tuple[Any, Any]:
    from striate.data import ArrayDataset

    perm = np.random.default_rng([seed, 11]).permutation(len(ds))
    n_val = max(1, round(len(ds) * fraction))
    parts = []
    for idx in (np.sort(perm[n_val:]), np.sort(perm[:n_val])):
        parts.append(ArrayDataset(ds.images[idx], ds.labels[idx], classes=ds.classes,
                                  hflip_safe=getattr(ds, "hflip_safe", True), source=ds.source))
    return parts[0], parts[1]


def _transform(cfg: RunConfig, image_shape: tuple[int, int, int], num_classes: int,
               hflip_safe: bool):
    """The batch transform of the training loader (augmentation preset, then MixUp and/or
    CutMix: one of the two per batch, at random, when both are on)."""
    if cfg.augment == "none" and not cfg.mixup and not cfg.cutmix:
        return None
    from striate.data import transforms as T

    steps = []
    if cfg.augment != "none":
        steps.append(T.augmentation_preset(cfg.augment, image_shape, hflip=hflip_safe))
    mix = []
    if cfg.mixup:
        mix.append(T.MixUp(alpha=cfg.mixup, num_classes=num_classes))
    if cfg.cutmix:
        mix.append(T.CutMix(alpha=cfg.cutmix, num_classes=num_classes))
    if mix:
        steps.append(mix[0] if len(mix) == 1 else T.RandomChoice(mix))
    return steps[0] if len(steps) == 1 else T.Compose(steps)


def _optimizer(cfg: RunConfig, params: list):
    from striate import optim

    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                         nesterov=cfg.momentum > 0)
    if cfg.optimizer == "adam":
        return optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def _scheduler(cfg: RunConfig, opt: Any, steps_per_epoch: int) -> tuple[Any, str]:
    from striate.optim import lr_scheduler as S

    total = max(1, cfg.epochs * steps_per_epoch)
    if cfg.schedule == "none":
        return None, "epoch"
    if cfg.schedule == "step":
        return S.StepLR(opt, step_size=max(1, cfg.epochs // 3), gamma=0.1), "epoch"
    if cfg.schedule == "cosine":
        return S.CosineAnnealingLR(opt, T_max=total), "batch"
    if total < 4:  # too short to warm up and anneal
        return None, "epoch"
    pct = max(0.25, min(0.5, 2.0 / total))  # at least two steps in each phase
    return S.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=pct), "batch"


def _model_kwargs(name: str, cfg: RunConfig, image_shape: tuple[int, int, int]) -> dict:
    from striate.models import get_spec

    kw = dict(cfg.model_cfg)
    try:
        params = inspect.signature(get_spec(name).factory).parameters
    except (TypeError, ValueError):
        params = {}
    if "input_size" in params and "input_size" not in kw:
        kw["input_size"] = [int(image_shape[1]), int(image_shape[2])]
    return kw


def fit(config: RunConfig | None = None, *, resume: str | None = None,
        callbacks: tuple[Callback, ...] = (), progress: bool = True, verbose: bool = True,
        plots: bool = True, **overrides: Any) -> RunResult:
    """Train a registered model on a named dataset and write a run directory.

    Args:
        config: a :class:`RunConfig` (default: its defaults).
        resume: a checkpoint (``last.safetensors``) to continue from: its saved RunConfig is
            used, with ``epochs``/``out_dir``/``threads`` from ``overrides`` when given.
        callbacks: extra callbacks for the :class:`Trainer`.
        progress: progress bar; ``verbose``: one line per epoch; ``plots``: write PNGs.
        **overrides: RunConfig fields, e.g. ``model="lenet5", epochs=3``.

    Returns:
        A :class:`RunResult` (model, trainer, config, test metrics, run directory).

    Example:
        >>> r = fit(dataset="embedded", epochs=1, limit_train=512)   # doctest: +SKIP
        >>> r.test_accuracy                                           # doctest: +SKIP
    """
    from striate.data import DataLoader, load_dataset
    from striate.models import create
    from striate.train.checkpoint import CheckpointError, load_checkpoint

    resume_state = None
    if resume is not None:
        resume_state, meta = load_checkpoint(resume)
        if "run_config" not in meta or "trainer" not in resume_state:
            raise ValueError(f"resume: {resume!r} is not a checkpoint written by striate train")
        base = RunConfig.from_dict(meta["run_config"])
        for k in ("epochs", "out_dir", "threads", "num_workers"):
            if overrides.get(k) is not None:
                setattr(base, k, overrides[k])
        if base.epochs != meta["run_config"]["epochs"] and base.schedule in ("cosine",
                                                                             "onecycle"):
            raise ValueError(f"resume: a {base.schedule} schedule was planned for "
                             f"{meta['run_config']['epochs']} epochs; it cannot be stretched "
                             f"to {base.epochs} (use the schedule 'none' or 'step' to extend "
                             "runs)")
        try:
            cfg = base.resolved()
        except (TypeError, ValueError) as e:   # the saved RunConfig comes from the file
            raise CheckpointError(f"checkpoint {resume!r}: run_config: {e}") from e
    else:
        cfg = dataclasses.replace(config or RunConfig(), **overrides).resolved()
    if cfg.threads is not None:
        striate.set_num_threads(int(cfg.threads))
    t_start = time.perf_counter()

    train_ds = load_dataset(cfg.dataset, root=cfg.data_root, train=True)
    test_ds = load_dataset(cfg.dataset, root=cfg.data_root, train=False)
    train_ds = _subset(train_ds, cfg.limit_train, cfg.seed)
    test_ds = _subset(test_ds, cfg.limit_test, cfg.seed)
    val_ds = test_ds
    if cfg.val_split > 0:
        train_ds, val_ds = _split(train_ds, cfg.val_split, cfg.seed)
    classes = list(train_ds.classes)
    image_shape = tuple(int(s) for s in train_ds.image_shape)
    mean, std = train_ds.mean_std()
    std = tuple(max(s, 1e-3) for s in std)

    transform = _transform(cfg, image_shape, len(classes), getattr(train_ds, "hflip_safe", True))
    train_loader = DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True, seed=cfg.seed,
                              drop_last=len(train_ds) > cfg.batch_size, transform=transform,
                              mean=mean, std=std, num_workers=cfg.num_workers)
    eval_bs = max(cfg.batch_size, 256)
    val_loader = DataLoader(val_ds, batch_size=eval_bs, mean=mean, std=std,
                            num_workers=cfg.num_workers)
    test_loader = val_loader if val_ds is test_ds else DataLoader(
        test_ds, batch_size=eval_bs, mean=mean, std=std, num_workers=cfg.num_workers)

    striate.manual_seed(cfg.seed)
    model = create(cfg.model, num_classes=len(classes), in_channels=image_shape[0],
                   **_model_kwargs(cfg.model, cfg, image_shape))
    opt = _optimizer(cfg, list(model.parameters()))
    steps = len(train_loader)
    if cfg.max_batches is not None:
        steps = min(steps, cfg.max_batches)
    sched, interval = _scheduler(cfg, opt, steps)

    os.makedirs(cfg.out_dir, exist_ok=True)
    meta = {
        "normalization": {"mean": list(mean), "std": list(std)},
        "input_shape": list(image_shape),
        "dataset": cfg.dataset,
        "run_config": cfg.to_dict(),
    }
    trainer = Trainer(model, opt, loss_fn=make_loss(cfg.label_smoothing), scheduler=sched, scheduler_interval=interval,
                      callbacks=callbacks, num_classes=len(classes), class_names=classes,
                      metadata=meta, out_dir=cfg.out_dir, max_batches=cfg.max_batches,
                      progress=progress, verbose=verbose)
    if resume_state is not None:
        trainer.load_state_dict(resume_state)
    write_json(os.path.join(cfg.out_dir, "config.json"), cfg.to_dict())
    if verbose:
        n_params = sum(int(np.prod(p.shape)) for p in model.parameters())
        print(f"striate train: {cfg.model} ({n_params:,} parameters) on {cfg.dataset} "
              f"({len(train_ds)} train / {len(val_ds)} "
              f"{'val' if val_ds is not test_ds else 'test'} images), {cfg.epochs} epochs, "
              f"{cfg.optimizer} lr {cfg.lr:g}, {striate.get_num_threads()} threads, "
              f"out {cfg.out_dir}", flush=True)
    t_fit = time.perf_counter()
    trainer.fit(train_loader, val_loader, epochs=cfg.epochs)
    fit_seconds = time.perf_counter() - t_fit

    last = os.path.join(cfg.out_dir, "last.safetensors")
    if not os.path.exists(last) and ckpt_available():  # e.g. epochs=0: still leave one
        trainer.save_checkpoint(last)
    test = trainer.evaluate(test_loader, collect_misclassified=36 if plots else 0)
    mis = test.pop("misclassified", None)
    hist = trainer.history
    ips = [r.get("images_per_second") for r in hist if r.get("images_per_second")]
    metrics = {
        "test": test,
        "model": cfg.model,
        "dataset": cfg.dataset,
        "class_names": classes,
        "epochs": trainer.epoch,
        "train_seconds": fit_seconds,
        "wall_seconds": time.perf_counter() - t_start,
        "images_per_second": float(np.mean(ips)) if ips else None,
        "threads": striate.get_num_threads(),
        "checkpoint": last if os.path.exists(last) else None,
    }
    write_json(os.path.join(cfg.out_dir, "metrics.json"), metrics)
    if plots:
        from striate.train import plots as P

        pdir = os.path.join(cfg.out_dir, "plots")
        P.plot_history(hist, os.path.join(pdir, "curves.png"))
        P.plot_confusion_matrix(np.asarray(test["confusion_matrix"]), classes,
                                os.path.join(pdir, "confusion_matrix.png"))
        if mis is not None:
            P.plot_misclassified(mis["images"], mis["true"], mis["pred"], classes,
                                 os.path.join(pdir, "misclassified.png"), mean=mean, std=std)
    return RunResult(model, trainer, cfg, metrics, cfg.out_dir)
