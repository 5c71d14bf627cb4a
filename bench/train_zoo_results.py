"""Train zoo models with ``striate train`` on the full Fashion-MNIST and write the results table.

Every model has a recipe below: the exact ``striate train`` arguments.  Each run lives in
``<runs>/<model>/`` (checkpoint, history, metrics); a run that was stopped resumes exactly
from its ``last.safetensors``, so the long runs can be spread over several sittings::

    python bench/train_zoo_results.py --models vit_tiny resnet20 --runs ~/zoo-runs
    python bench/train_zoo_results.py --table-only --runs ~/zoo-runs --out zoo.md

Add ``--smoke`` for a tiny check of the whole path (2 epochs on 512/256 images).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from striate.train._io import atomic_write_text

# model -> the `striate train` arguments that trained it (the README table quotes them)
RECIPES: dict[str, list[str]] = {
    "resnet20": ["--model", "resnet20", "--augment", "light", "--optimizer", "sgd",
                 "--lr", "0.1", "--weight-decay", "5e-4", "--schedule", "onecycle",
                 "--epochs", "30"],
    "vit_tiny": ["--model", "vit_tiny", "--augment", "light", "--optimizer", "adamw",
                 "--lr", "2e-3", "--weight-decay", "0.05", "--schedule", "onecycle",
                 "--epochs", "20"],
    # DenseNet-BC, k = 12, depth 64 (three blocks of 10 bottleneck layers): 0.37M parameters,
    # about 350 s per epoch on 2 cores (depth 100, 0.77M, takes about 650 s)
    "densenet_bc64": ["--model", "densenet_bc", "--model-cfg", "depth=64", "--augment", "light",
                      "--optimizer", "sgd", "--lr", "0.1", "--weight-decay", "5e-4",
                      "--schedule", "onecycle", "--epochs", "20"],
    "small_cnn": ["--model", "small_cnn", "--augment", "light", "--model-cfg",
                  "convs_per_stage=2", "--epochs", "15"],
}
SMOKE = ["--epochs", "2", "--limit-train", "512", "--limit-test", "256"]


def _arg(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None


def _read_json(path: str):
    with open(path) as f:
        return json.load(f)


def run_one(model: str, runs: str, threads: int | None, smoke: bool, log) -> None:
    """Train (or resume, or skip when finished) ``model`` in ``<runs>/<model>``."""
    args = RECIPES[model] + (SMOKE if smoke else [])
    epochs = int(_arg(args, "--epochs") if not smoke else 2)
    out = os.path.join(runs, model)
    metrics, last = os.path.join(out, "metrics.json"), os.path.join(out, "last.safetensors")
    if os.path.exists(metrics) and _read_json(metrics).get("epochs") == epochs:
        log(f"== {model}: finished earlier ({metrics})")
        return
    cmd = [sys.executable, "-m", "striate", "train", "--no-progress", "--out", out]
    if threads:
        cmd += ["--threads", str(threads)]
    cmd += ["--resume", last] if os.path.exists(last) else args
    log(f"== {model}: {' '.join(cmd[1:])}")
    with open(os.path.join(runs, f"{model}.log"), "a") as f:
        f.write(f"\n# {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd[1:])}\n")
        f.flush()
        subprocess.run(cmd, check=True, stdout=f, stderr=subprocess.STDOUT)


def table(runs: str, models: list[str]) -> str:
    """The markdown table of the finished runs among ``models``."""
    header = ("| model | parameters | test accuracy | epochs | seconds / epoch (median) | threads "
              "| `striate train` arguments |")
    lines = [header, "|---|---|---|---|---|---|---|"]
    for model in models:
        out = os.path.join(runs, model)
        if not os.path.exists(os.path.join(out, "metrics.json")):
            continue
        m = _read_json(os.path.join(out, "metrics.json"))
        hist = _read_json(os.path.join(out, "history.json"))
        rows = hist["epochs"] if isinstance(hist, dict) else hist
        secs = [r["epoch_seconds"] for r in rows if "epoch_seconds" in r]
        n_params = _count_params(out)
        lines.append(f"| {model} | {n_params:,} | {100 * m['test']['accuracy']:.2f}% | "
                     f"{m['epochs']} | {statistics.median(secs) if secs else 0:.0f} | "
                     f"{m['threads']} | `{' '.join(RECIPES.get(model, []))}` |")
    return "\n".join(lines) + "\n"


def _count_params(out: str) -> int:
    from striate.train.checkpoint import load_checkpoint

    state, _ = load_checkpoint(os.path.join(out, "last.safetensors"))
    return sum(int(v.size) for k, v in state["model"].items()
               if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    p.add_argument("--runs", default="zoo-runs", help="directory of the run directories")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--smoke", action="store_true", help="2 epochs on 512/256 images")
    p.add_argument("--table-only", action="store_true", help="only write the table")
    p.add_argument("--out", default=None, help="write the markdown table here too")
    args = p.parse_args(argv)
    os.makedirs(args.runs, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, flush=True)

    if not args.table_only:
        for model in args.models:
            run_one(model, args.runs, args.threads, args.smoke, log)
    text = table(args.runs, args.models)
    if args.out:
        atomic_write_text(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
