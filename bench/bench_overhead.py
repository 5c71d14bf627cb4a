"""Framework overhead per training step: striate vs PyTorch, side by side in one process.

Workloads (see /work/shared/WORKLOADS.md):

* ``mlp784``: MLP 784-128-10 (ReLU), batch 32, cross entropy, one SGD step.
* ``mlp16-sgd`` / ``mlp16-adam``: MLP 16-16-4, batch 32 -- almost no arithmetic, so the
  time is the framework's own overhead (module calls, graph recording, backward walk,
  optimizer bookkeeping).
* ``cnn``: the small Fashion-MNIST CNN (conv3x3 1->32, ReLU, maxpool2, conv3x3 32->64, ReLU,
  maxpool2, flatten, linear 3136->128, ReLU, linear 128->10), batch 128, Adam.

Each step is ``zero_grad(); loss = criterion(model(x), y); loss.backward(); opt.step()`` on
fixed data. Run as a script (not a test)::

    PYTHONPATH=src python bench/bench_overhead.py [--threads 1 2] [--repeat 50] [--json out]

Prints median microseconds per step and the ratio striate / PyTorch (below 1: striate is
faster), after a header with the load average: on a loaded machine OpenMP threads that spin
while waiting (the default wait policy) make both libraries' 2-thread figures erratic; compare
with ``OMP_WAIT_POLICY=passive``.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import median_ms, set_threads, torch_or_none, write_json

import striate


def _mlp(ns, sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(ns.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(ns.ReLU())
    return ns.Sequential(*layers)


def _cnn(ns):
    return ns.Sequential(
        ns.Conv2d(1, 32, 3, padding=1), ns.ReLU(), ns.MaxPool2d(2),
        ns.Conv2d(32, 64, 3, padding=1), ns.ReLU(), ns.MaxPool2d(2),
        ns.Flatten(), ns.Linear(3136, 128), ns.ReLU(), ns.Linear(128, 10))


WORKLOADS = {
    # name: (model factory, input shape, classes, optimizer name, optimizer kwargs, repeat x)
    "mlp784-sgd": (lambda ns: _mlp(ns, [784, 128, 10]), (32, 784), 10, "SGD", {"lr": 0.01}, 1),
    "mlp16-sgd": (lambda ns: _mlp(ns, [16, 16, 4]), (32, 16), 4, "SGD", {"lr": 0.01}, 1),
    "mlp16-adam": (lambda ns: _mlp(ns, [16, 16, 4]), (32, 16), 4, "Adam", {"lr": 1e-3}, 1),
    "cnn-adam": (_cnn, (128, 1, 28, 28), 10, "Adam", {"lr": 1e-3}, 0.2),
}


def _train_step(lib, make, shape, classes, opt_name, okw):
    """One SGD/Adam training step of ``make(lib.nn)`` on a fixed batch, for ``lib`` striate
    or torch (same seeds, same data)."""
    lib.manual_seed(0)
    rng = np.random.default_rng(0)
    model = make(lib.nn)
    opt = getattr(lib.optim, opt_name)(model.parameters(), **okw)
    crit = lib.nn.CrossEntropyLoss()
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32))
    y = lib.tensor(rng.integers(0, classes, shape[0]))

    def step():
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()

    return step


def rows(threads: int, repeat: int, only: list[str] | None = None) -> list[dict]:
    """One dict per workload: microseconds per step for striate and PyTorch."""
    set_threads(threads)
    torch = torch_or_none(threads)
    out = []
    for name, (make, shape, classes, opt_name, okw, rep_x) in WORKLOADS.items():
        if only and name not in only:
            continue
        n = max(5, int(repeat * rep_x))
        s_us = 1e3 * median_ms(_train_step(striate, make, shape, classes, opt_name, okw), repeat=n,
                               warmup=3)
        t_us = None
        if torch is not None:
            t_us = 1e3 * median_ms(_train_step(torch, make, shape, classes, opt_name, okw),
                                   repeat=n, warmup=3)
        out.append({"workload": name, "threads": threads, "striate_us": s_us,
                    "torch_us": t_us, "ratio": None if t_us is None else s_us / t_us})
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--only", nargs="*", default=None, choices=list(WORKLOADS))
    ap.add_argument("--json", default=None, help="write the rows to this file")
    args = ap.parse_args(argv)
    all_rows = []
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# cpus={os.cpu_count()} load1={load:.1f} "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')} "
          f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(unset)')}")
    print(f"{'workload':<12} {'thr':>3} {'striate us':>11} {'torch us':>10} {'ratio':>6}")
    for t in args.threads:
        for r in rows(t, args.repeat, args.only):
            all_rows.append(r)
            tus = "-" if r["torch_us"] is None else f"{r['torch_us']:.0f}"
            ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
            print(f"{r['workload']:<12} {t:>3} {r['striate_us']:>11.0f} {tus:>10} {ratio:>6}",
                  flush=True)
    if args.json:
        write_json(args.json, all_rows)


if __name__ == "__main__":
    main()
