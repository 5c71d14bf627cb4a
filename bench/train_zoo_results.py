"""Train zoo models on Fashion-MNIST and write a markdown results table.

For each model: test accuracy, parameter count and seconds per training epoch.  It uses the
same code path as ``striate train`` (:func:`striate.train.run.fit`) when the training package
is present, otherwise a minimal loop (Adam, cross-entropy, standardised inputs) written here.

Full runs take hours on 2 cores; smoke-test with a limit::

    PYTHONPATH=src python bench/train_zoo_results.py --models resnet20 vit_tiny \\
        --epochs 1 --limit 512 --limit-test 256 --out /tmp/zoo.md
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
from typing import Any

import numpy as np

DEFAULT_MODELS = ["resnet20", "resnet56", "resnet18_small", "se_resnet18_small",
                  "cbam_resnet18_small", "vgg11_small",
                  "densenet_bc", "mobilenet_v2", "efficientnet_b0", "vit_tiny"]
FASHION = "/usr/share/datasets/fashion-mnist"


def _idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion(root: str, limit: int | None, limit_test: int | None, seed: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST as standardised float32 (N, 1, 28, 28) arrays and int64 labels."""
    xs = _idx(os.path.join(root, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    ys = _idx(os.path.join(root, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    xt = _idx(os.path.join(root, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    yt = _idx(os.path.join(root, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    rng = np.random.default_rng(seed)
    if limit:
        i = np.sort(rng.permutation(len(xs))[:limit])
        xs, ys = xs[i], ys[i]
    if limit_test:
        i = np.sort(rng.permutation(len(xt))[:limit_test])
        xt, yt = xt[i], yt[i]
    mean, std = float(xs.mean()), float(xs.std())
    norm = (lambda a: ((a - mean) / std)[:, None].astype(np.float32))
    return norm(xs), ys, norm(xt), yt


def minimal_fit(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Adam + cross-entropy, batch ``args.batch_size``, seeded shuffling; test accuracy."""
    import striate
    import striate.functional as F
    from striate.models import create

    xs, ys, xt, yt = load_fashion(args.data, args.limit, args.limit_test, args.seed)
    striate.manual_seed(args.seed)
    model = create(name, num_classes=10, in_channels=1)
    opt = striate.optim.Adam(model.parameters(), lr=args.lr or 1e-3)
    rng = np.random.default_rng(args.seed)
    bs = args.batch_size
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        model.train()
        perm = rng.permutation(len(xs))
        for s in range(0, len(xs) - bs + 1 if len(xs) > bs else 1, bs):
            i = perm[s:s + bs]
            opt.zero_grad()
            loss = F.cross_entropy(model(striate.Tensor(xs[i])), striate.Tensor(ys[i]))
            loss.backward()
            opt.step()
    train_s = time.perf_counter() - t0
    model.eval()
    correct = 0
    with striate.no_grad():
        for s in range(0, len(xt), 256):
            correct += int((model(striate.Tensor(xt[s:s + 256])).data.argmax(1)
                            == yt[s:s + 256]).sum())
    return {"accuracy": correct / len(xt), "train_seconds": train_s, "model": model}


def trainer_fit(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """The ``striate train`` code path (:func:`striate.train.run.fit`)."""
    from striate.train.run import fit

    out = tempfile.mkdtemp(prefix=f"zoo_{name}_")
    kw: dict[str, Any] = {"model": name, "dataset": "fashion-mnist", "data_root": args.data,
                          "epochs": args.epochs, "batch_size": args.batch_size,
                          "optimizer": "adam", "seed": args.seed, "limit_train": args.limit,
                          "limit_test": args.limit_test, "out_dir": out}
    if args.lr:
        kw["lr"] = args.lr
    r = fit(plots=False, progress=False, verbose=args.verbose, **kw)
    return {"accuracy": r.test_accuracy, "train_seconds": r.metrics["train_seconds"],
            "model": r.model}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--limit", type=int, default=None, help="training images (default all)")
    p.add_argument("--limit-test", type=int, default=None, help="test images (default all)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--data", default=FASHION)
    p.add_argument("--loop", choices=["auto", "trainer", "minimal"], default="auto",
                   help="training code: striate.train.run.fit (trainer) or the minimal loop")
    p.add_argument("--out", default="zoo_results.md")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)

    import striate
    import striate.models
    for mod in ("resnet", "vgg", "densenet", "efficientnet", "mobilenet", "vit"):
        __import__(f"striate.models.{mod}")
    if args.threads:
        striate.set_num_threads(args.threads)
    loop = args.loop
    if loop == "auto":
        try:
            import striate.train.run
            loop = "trainer"
        except ImportError:
            loop = "minimal"
    run = trainer_fit if loop == "trainer" else minimal_fit

    rows = []
    for name in args.models:
        print(f"== {name}", flush=True)
        r = run(name, args)
        n_params = sum(int(np.prod(q.shape)) for q in r["model"].parameters())
        rows.append((name, r["accuracy"], n_params, r["train_seconds"] / max(1, args.epochs)))
        print(f"   test accuracy {100 * r['accuracy']:.2f}%  params {n_params:,}  "
              f"{rows[-1][3]:.1f} s/epoch", flush=True)

    n_train = args.limit or 60000
    n_test = args.limit_test or 10000
    lines = [
        (f"# striate zoo on Fashion-MNIST ({n_train} train / {n_test} test images, "
         f"{args.epochs} epochs, batch {args.batch_size}, Adam, seed {args.seed}, "
         f"{striate.get_num_threads()} threads, loop: {loop})"),
        "",
        "| model | test accuracy | parameters | seconds / epoch |",
        "|---|---|---|---|",
    ]
    for name, acc, n_params, spe in rows:
        lines.append(f"| {name} | {100 * acc:.2f}% | {n_params:,} | {spe:.1f} |")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
