"""``striate`` command line: ``train``, ``evaluate``, ``predict``, ``info``.

Run ``striate COMMAND --help`` for the options of a command. Wrong arguments (an unknown
model, a missing file, a bad number) print one line on stderr and exit with status 2; a
training run that diverges (its loss or weights become NaN/inf) prints one line and exits
with status 1.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad argument found after parsing (exit status 2, one line on stderr)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(EXIT_USAGE)


class _Formatter(argparse.HelpFormatter):
    """Shows ``(default: X)`` for options that have a real default not already described."""

    def _get_help_string(self, action: argparse.Action) -> str:
        h = action.help or ""
        if ("default" not in h and action.default not in (None, False, argparse.SUPPRESS)
                and action.option_strings):
            h += " (default: %(default)s)"
        return h


def _number(kind: type, lo: float | None = None, lo_open: bool = False,
            hi: float | None = None, hi_open: bool = False, what: str = "") -> Any:
    """An argparse ``type=`` converting to ``kind`` and checking the range (floats must also
    be finite: NaN and inf are refused)."""

    def conv(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {what or ('an integer' if kind is int else 'a number')}, "
                f"got {text!r}") from None
        if kind is float and not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        bad = ((lo is not None and (v <= lo if lo_open else v < lo))
               or (hi is not None and (v >= hi if hi_open else v > hi)))
        if bad:
            lo_s = "" if lo is None else ("> " if lo_open else ">= ") + f"{lo:g}"
            hi_s = "" if hi is None else ("< " if hi_open else "<= ") + f"{hi:g}"
            rng = " and ".join(s for s in (lo_s, hi_s) if s)
            raise argparse.ArgumentTypeError(f"expected a value {rng}, got {text!r}")
        return v

    conv.__name__ = what or kind.__name__
    return conv


POS_INT = _number(int, 1, what="a positive integer")
NONNEG_INT = _number(int, 0, what="a non-negative integer")
POS_FLOAT = _number(float, 0, lo_open=True, what="a positive number")
NONNEG_FLOAT = _number(float, 0, what="a non-negative number")
FRACTION = _number(float, 0, hi=1, hi_open=True, what="a fraction in [0, 1)")
# striate.train.run's MAX_MIX_ALPHA and MAX_THREADS (RunConfig.resolved() checks them too;
# a test keeps the two in step, the CLI imports striate.train only when a command runs)
MAX_MIX_ALPHA = 1000.0
MAX_THREADS = 1024
MIX_ALPHA = _number(float, 0, hi=MAX_MIX_ALPHA, what=f"a number in [0, {MAX_MIX_ALPHA:g}]")
THREADS = _number(int, 1, hi=MAX_THREADS, what=f"an integer from 1 to {MAX_THREADS}")
WORKERS = _number(int, 0, hi=MAX_THREADS, what=f"an integer from 0 to {MAX_THREADS}")


def _model_cfg(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE parsed as JSON when possible (``dropout=0.3``,
    ``widths=[32,64]``)."""
    import json

    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    try:
        return k.strip(), json.loads(v)
    except ValueError:
        return k.strip(), v


# -- commands ------------------------------------------------------------------------------------

def _cmd_info(args: argparse.Namespace) -> int:
    import importlib.util

    import striate

    striate.show_config()
    try:
        from striate.models import list_models

        print(f"  models            : {', '.join(list_models())}")
    except ImportError as e:  # pragma: no cover - partial install
        print(f"  models            : unavailable ({e})")
    try:
        from striate.data import dataset_names
        from striate.train.run import default_data_source

        print(f"  datasets          : {', '.join(dataset_names())}")
        print(f"  default data      : {default_data_source()}")
    except ImportError as e:  # pragma: no cover
        print(f"  datasets          : unavailable ({e})")
    extras = []
    for mod, name in (("tqdm", "tqdm"), ("matplotlib", "matplotlib"), ("PIL", "Pillow"),
                      ("safetensors", "safetensors"), ("threadpoolctl", "threadpoolctl")):
        extras.append(f"{name} {'yes' if importlib.util.find_spec(mod) else 'no'}")
    print(f"  optional          : {', '.join(extras)}")
    if args.peak:
        nt = striate.get_num_threads()
        counts = sorted({1, nt})
        for arch in striate.available_archs():
            figs = ", ".join(f"{striate.kernels.fma_peak(t, arch):.0f} GFLOP/s on {t} "
                             f"thread{'s' if t > 1 else ''}" for t in counts)
            print(f"  FMA peak {arch:<9}: {figs}")
    if args.check:
        from striate.selfcheck import run_selfcheck

        ok = run_selfcheck()
        return 0 if ok else 1
    return 0


def _check_file(path: str, what: str) -> None:
    if not os.path.isfile(path):
        raise UsageError(f"{what} {path!r}: no such file")


def _cmd_train(args: argparse.Namespace) -> int:
    from striate.models import get_spec
    from striate.train.run import RunConfig, default_data_source, fit

    try:
        get_spec(args.model)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.resume is not None:
        _check_file(args.resume, "--resume checkpoint")
    if args.data is not None and not os.path.isdir(args.data):
        raise UsageError(f"--data {args.data!r}: no such directory")
    if args.out is not None and os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out!r}: exists and is not a directory")
    dataset = args.dataset or default_data_source(args.data)
    epochs = args.epochs
    if epochs is None:
        epochs = DEFAULT_EPOCHS.get(dataset, 10)
    cfg = RunConfig(
        model=args.model, dataset=dataset, data_root=args.data, epochs=epochs,
        batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
        weight_decay=args.weight_decay, momentum=args.momentum, schedule=args.schedule,
        augment=args.augment, mixup=args.mixup, cutmix=args.cutmix,
        label_smoothing=args.label_smoothing, seed=args.seed, threads=args.threads,
        val_split=args.val_split, limit_train=args.limit_train, limit_test=args.limit_test,
        max_batches=args.max_batches, model_cfg=dict(args.model_cfg or []), out_dir=args.out,
        num_workers=args.num_workers)
    progress = not args.no_progress
    if args.resume is not None:
        res = fit(resume=args.resume, epochs=args.epochs, out_dir=args.out,
                  threads=args.threads, progress=progress, plots=not args.no_plots)
    else:
        res = fit(cfg, progress=progress, plots=not args.no_plots)
    t = res.metrics["test"]
    print(f"test accuracy: {t['accuracy']:.4f} ({t['n']} images, top-5 {t.get('top5', 0):.4f}) "
          f"after {res.metrics['epochs']} epochs in {res.metrics['wall_seconds']:.1f} s")
    print(f"run directory: {res.out_dir}")
    return 0


def _format_confusion(cm: Sequence[Sequence[int]], names: Sequence[str]) -> str:
    w = max(5, max(len(str(v)) for row in cm for v in row) + 1)
    head = "true\\pred " + "".join(f"{i:>{w}d}" for i in range(len(cm)))
    rows = [head] + [f"{i:>2d} {names[i][:6]:<6s} " + "".join(f"{v:>{w}d}" for v in row)
                     for i, row in enumerate(cm)]
    return "\n".join(rows)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from striate.train.inference import evaluate_checkpoint

    _check_file(args.checkpoint, "checkpoint")
    if args.data is not None and not os.path.isdir(args.data):
        raise UsageError(f"--data {args.data!r}: no such directory")
    r = evaluate_checkpoint(args.checkpoint, dataset=args.dataset, root=args.data,
                            batch_size=args.batch_size, limit=args.limit)
    if args.json:
        import json

        from striate.train._io import to_jsonable

        print(json.dumps(to_jsonable(r), indent=2))
        return 0
    names = r["class_names"]
    print(f"{r['dataset']}: {r['n']} test images")
    print(f"accuracy {r['accuracy']:.4f}   top-5 {r.get('top5', float('nan')):.4f}   "
          f"loss {r['loss']:.4f}")
    print("per-class accuracy:")
    for i, (n, a) in enumerate(zip(names, r["per_class_accuracy"])):
        print(f"  {i:>2d} {n:<20s} {'n/a' if a is None else f'{a:.4f}'}")
    print("confusion matrix (rows: true class, columns: predicted):")
    print(_format_confusion(r["confusion_matrix"], names))
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from striate.train.inference import predict_files

    _check_file(args.checkpoint, "checkpoint")
    for p in args.images:
        _check_file(p, "image")
    results = predict_files(args.checkpoint, args.images, topk=args.topk)
    for p, top in zip(args.images, results):
        print(f"{p}: " + ", ".join(f"{name} {prob:.3f}" for name, prob in top))
    return 0


#: epochs of ``striate train`` when --epochs is not given, by data set.
DEFAULT_EPOCHS = {"embedded": 6, "fashion-mnist": 12, "mnist": 6}


# -- parser --------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="striate", description="striate: image recognition with CNNs on our own "
                "C/OpenMP kernels. Run 'striate COMMAND --help' for a command's options.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    pi = sub.add_parser("info", help="print build/run-time configuration, models, data sets",
                        description="Print the version, ISA path, GEMM blocking, OpenMP and "
                        "threads, the registered models and data sets.")
    pi.add_argument("--check", action="store_true",
                    help="also run a kernel self-check against the NumPy reference")
    pi.add_argument("--peak", action="store_true",
                    help="also measure the multiply-add peak (GFLOP/s) of every ISA path on "
                    "1 thread and on all threads (about 0.2 s each)")
    pi.set_defaults(func=_cmd_info)

    pt = sub.add_parser(
        "train", help="train a model (default: small_cnn on Fashion-MNIST or the embedded "
        "sample)", formatter_class=_Formatter,
        description="Train a model and write a run directory (checkpoints, config.json, "
        "history.json/.csv, metrics.json, plots/). With no arguments: the default model on "
        "Fashion-MNIST when it is installed (/usr/share/datasets/fashion-mnist), else on the "
        "embedded 10k/2k sample; the test accuracy is printed at the end.")
    pt.add_argument("--model", default="small_cnn",
                    help="architecture name (see 'striate info')")
    pt.add_argument("--model-cfg", type=_model_cfg, action="append", metavar="KEY=VALUE",
                    help="architecture option, repeatable (e.g. dropout=0.3)")
    pt.add_argument("--dataset", default=None,
                    help="fashion-mnist, mnist, cifar10, embedded, folder:PATH ... "
                    "(default: fashion-mnist when installed, else embedded)")
    pt.add_argument("--data", metavar="DIR", default=None, help="directory holding the data set")
    pt.add_argument("--epochs", type=NONNEG_INT, default=None,
                    help=f"epochs (default by data set: {DEFAULT_EPOCHS}, else 10)")
    pt.add_argument("--batch-size", type=POS_INT, default=128, help="images per batch")
    pt.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default="adam",
                    help="optimizer")
    pt.add_argument("--lr", type=POS_FLOAT, default=None,
                    help="peak learning rate (default: sgd 0.05, adam/adamw 1e-3)")
    pt.add_argument("--weight-decay", type=NONNEG_FLOAT, default=None,
                    help="weight decay (default: sgd 5e-4, adam 0, adamw 0.05)")
    pt.add_argument("--momentum", type=FRACTION, default=0.9, help="SGD momentum, in [0, 1)")
    pt.add_argument("--schedule", choices=["none", "step", "cosine", "onecycle"],
                    default="onecycle", help="learning-rate schedule")
    pt.add_argument("--augment", choices=["none", "light", "standard", "strong"], default="none",
                    help="augmentation preset")
    pt.add_argument("--mixup", type=MIX_ALPHA, default=0.0, metavar="ALPHA",
                    help=f"MixUp alpha, at most {MAX_MIX_ALPHA:g} (0: off)")
    pt.add_argument("--cutmix", type=MIX_ALPHA, default=0.0, metavar="ALPHA",
                    help=f"CutMix alpha, at most {MAX_MIX_ALPHA:g} (0: off)")
    pt.add_argument("--label-smoothing", type=FRACTION, default=0.0, metavar="EPS",
                    help="label smoothing of the cross-entropy targets")
    pt.add_argument("--val-split", type=FRACTION, default=0.0,
                    help="hold out this fraction of the training set for validation "
                    "(0: validate on the test set)")
    pt.add_argument("--seed", type=NONNEG_INT, default=0,
                    help="seed of initialisation, shuffling, augmentation and dropout")
    pt.add_argument("--threads", type=THREADS, default=None,
                    help="kernel threads (default: OMP_NUM_THREADS or all cores)")
    pt.add_argument("--num-workers", type=WORKERS, default=1,
                    help="background threads preparing batches")
    pt.add_argument("--out", metavar="DIR", default=None,
                    help="run directory (default runs/<model>-<dataset>-<time>)")
    pt.add_argument("--resume", metavar="CKPT", default=None,
                    help="continue a run from its last.safetensors (exact resume)")
    pt.add_argument("--limit-train", type=POS_INT, default=None, metavar="N",
                    help="use N training images (seeded subset)")
    pt.add_argument("--limit-test", type=POS_INT, default=None, metavar="N",
                    help="use N test images (seeded subset)")
    pt.add_argument("--max-batches", type=POS_INT, default=None, metavar="N",
                    help="stop each epoch after N batches")
    pt.add_argument("--no-progress", action="store_true", help="no progress bar")
    pt.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    pt.set_defaults(func=_cmd_train)

    pe = sub.add_parser("evaluate", help="test accuracy, per-class accuracy and confusion "
                        "matrix of a checkpoint",
                        description="Evaluate a checkpoint on the test split of its data set "
                        "(or --dataset).")
    pe.add_argument("checkpoint", help="a .safetensors checkpoint written by 'striate train'")
    pe.add_argument("--dataset", default=None, help="data set (default: the training one)")
    pe.add_argument("--data", metavar="DIR", default=None, help="directory holding the data set")
    pe.add_argument("--batch-size", type=POS_INT, default=256, help="images per batch")
    pe.add_argument("--limit", type=POS_INT, default=None, metavar="N",
                    help="evaluate on N test images")
    pe.add_argument("--json", action="store_true", help="print the results as JSON")
    pe.set_defaults(func=_cmd_evaluate)

    pp = sub.add_parser("predict", help="classify image files with a checkpoint",
                        description="Print the top-k classes with probabilities for each "
                        "image. Any size or mode is converted as the model needs (grayscale or "
                        "RGB, resized, normalised as in training).")
    pp.add_argument("checkpoint", help="a .safetensors checkpoint written by 'striate train'")
    pp.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ...)")
    pp.add_argument("--topk", type=POS_INT, default=3, help="classes to show per image")
    pp.set_defaults(func=_cmd_predict)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    prog = f"striate {args.command}"
    try:
        return args.func(args)
    except UsageError as e:
        sys.stderr.write(f"{prog}: error: {e}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return 130
    except Exception as e:
        from striate.train.checkpoint import CheckpointError
        from striate.train.trainer import TrainingError

        usage = isinstance(e, (CheckpointError, FileNotFoundError, ValueError))
        if os.environ.get("STRIATE_DEBUG"):
            raise
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        known = usage or isinstance(e, TrainingError)   # a diverged run: exit 1, no traceback
        hint = "" if known else f" ({type(e).__name__}; STRIATE_DEBUG=1 shows the traceback)"
        sys.stderr.write(f"{prog}: error: {msg}{hint}\n")
        return EXIT_USAGE if usage else 1


if __name__ == "__main__":
    sys.exit(main())
