"""Seconds per training epoch of ``workload_cnn`` on Fashion-MNIST: striate vs PyTorch CPU.

The WORKLOADS.md end-to-end workload: conv3x3(1->32)+ReLU+maxpool2, conv3x3(32->64)+ReLU+
maxpool2, linear(3136->128)+ReLU, linear(128->10); Adam lr 1e-3, batch 128, seed 0; inputs
scaled to [0, 1] and standardised with the training mean/std. Both frameworks get the very
same batches (striate's seeded DataLoader) and are timed on the training loop only
(evaluation excluded). Test accuracy is reported after the epochs listed in --eval-at.

    python bench/bench_epoch.py                          # 5 epochs, 1 and 2 threads, both
    python bench/bench_epoch.py --max-batches 50 --epochs 1 --eval-at 1   # quick look
    python bench/bench_epoch.py --frameworks striate --threads 2 --json out.json

Run with ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`` for fair NumPy/BLAS timings.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import blas_info, set_threads, torch_or_none, write_json


def _data(dataset: str, root: str | None, limit_test: int | None):
    from striate.data import load_dataset

    train = load_dataset(dataset, root=root, train=True)
    test = load_dataset(dataset, root=root, train=False)
    if limit_test is not None and limit_test < len(test):
        from striate.data import ArrayDataset

        test = ArrayDataset(test.images[:limit_test], test.labels[:limit_test], test.classes)
    return train, test


def _loaders(train, test, batch_size: int, seed: int):
    from striate.data import DataLoader

    mean, std = train.mean_std()
    tl = DataLoader(train, batch_size=batch_size, shuffle=True, seed=seed, mean=mean, std=std)
    vl = DataLoader(test, batch_size=500, mean=mean, std=std)
    return tl, vl


def run_striate(train, test, threads: int, epochs: int, eval_at: set[int],
                max_batches: int | None, batch_size: int, seed: int, lr: float) -> dict:
    import striate
    from striate.models import create
    from striate.train import Trainer

    set_threads(threads)
    tl, vl = _loaders(train, test, batch_size, seed)
    striate.manual_seed(seed)
    model = create("workload_cnn", num_classes=10, in_channels=1)
    opt = striate.optim.Adam(model.parameters(), lr=lr)
    tr = Trainer(model, opt, max_batches=max_batches, progress=False, verbose=False)
    secs, accs, imgs = [], {}, []
    for e in range(1, epochs + 1):
        tl.set_epoch(e)
        r = tr.train_epoch(tl, e)
        tr.epoch = e
        secs.append(r["epoch_seconds"])
        imgs.append(r["images_per_second"])
        if e in eval_at:
            accs[e] = tr.evaluate(vl)["accuracy"]
    return {"seconds": secs, "images_per_second": imgs, "accuracy": accs}


def run_torch(train, test, threads: int, epochs: int, eval_at: set[int],
              max_batches: int | None, batch_size: int, seed: int, lr: float) -> dict | None:
    torch = torch_or_none(threads)
    if torch is None:
        return None
    import torch.nn as tnn
    import torch.nn.functional as tF

    set_threads(threads)
    torch.set_num_threads(threads)
    tl, vl = _loaders(train, test, batch_size, seed)
    torch.manual_seed(seed)
    model = tnn.Sequential(
        tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(64 * 7 * 7, 128), tnn.ReLU(), tnn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    secs, accs, imgs = [], {}, []
    for e in range(1, epochs + 1):
        tl.set_epoch(e)
        model.train()
        n, t0 = 0, time.perf_counter()
        for i, (x, y) in enumerate(tl):
            if max_batches is not None and i >= max_batches:
                break
            out = model(torch.from_numpy(x))
            loss = tF.cross_entropy(out, torch.from_numpy(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
            n += x.shape[0]
        dt = time.perf_counter() - t0
        secs.append(dt)
        imgs.append(n / dt)
        if e in eval_at:
            model.eval()
            correct = total = 0
            with torch.no_grad():
                for x, y in vl:
                    correct += int((model(torch.from_numpy(x)).argmax(1).numpy() == y).sum())
                    total += len(y)
            accs[e] = correct / total
    return {"seconds": secs, "images_per_second": imgs, "accuracy": accs}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--data", default=None, help="data directory")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--eval-at", default="1,3,5", help="epochs after which to test")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--frameworks", default="striate,torch")
    p.add_argument("--max-batches", type=int, default=None,
                   help="stop each epoch after N batches (quick run)")
    p.add_argument("--limit-test", type=int, default=None, help="test on N images")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the results to this file")
    a = p.parse_args(argv)

    import striate

    eval_at = {int(v) for v in a.eval_at.split(",") if v}
    threads = [int(v) for v in a.threads.split(",") if v]
    fws = [f.strip() for f in a.frameworks.split(",") if f.strip()]
    train, test = _data(a.dataset, a.data, a.limit_test)
    print(f"# workload_cnn on {a.dataset}: {len(train)} train / {len(test)} test, batch "
          f"{a.batch_size}, Adam lr {a.lr:g}, seed {a.seed}"
          + (f", {a.max_batches} batches/epoch" if a.max_batches else ""))
    print(f"# striate {striate.__version__} ({striate.get_arch()}); BLAS: {blas_info()}")
    rows = []
    for t in threads:
        for fw in fws:
            fn = run_striate if fw == "striate" else run_torch
            r = fn(train, test, t, a.epochs, eval_at, a.max_batches, a.batch_size, a.seed, a.lr)
            if r is None:
                print(f"# {fw}: not installed, skipped")
                continue
            r.update(framework=fw, threads=t)
            rows.append(r)
            acc = "  ".join(f"acc@{e} {v:.4f}" for e, v in sorted(r["accuracy"].items()))
            full = len(train) / np.median(r["images_per_second"])
            r["full_epoch_seconds"] = float(full)
            proj = f" (full epoch ~{full:.1f} s)" if a.max_batches else ""
            print(f"{fw:8s} {t} thr  {np.median(r['seconds']):7.2f} s/epoch{proj}  "
                  f"{np.median(r['images_per_second']):7.0f} img/s  {acc}", flush=True)
    print("# ratio (striate s/epoch / torch s/epoch; < 1 means striate is faster):")
    for t in threads:
        s = [r for r in rows if r["threads"] == t and r["framework"] == "striate"]
        q = [r for r in rows if r["threads"] == t and r["framework"] == "torch"]
        if s and q:
            print(f"  {t} thr: {np.median(s[0]['seconds']) / np.median(q[0]['seconds']):.2f}")
    if a.json:
        write_json(a.json, rows, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
