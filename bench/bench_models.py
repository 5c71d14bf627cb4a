"""ResNet-18 (small-image layout) end to end: striate vs PyTorch CPU in the same process.

Workloads (WORKLOADS.md, "End to end"): 3x3 stem conv 64, no max-pool, BasicBlock
[2, 2, 2, 2], widths 64/128/256/512, 3x32x32 input, 10 classes:

* training throughput, batch 64 (forward + backward + SGD momentum step), images/s;
* inference throughput, batch 64 (eval mode, no grad), images/s;
* inference latency, batch 1, ms;
* inference throughput, batch 64, with striate's batch norms folded into the convs
  (:func:`striate.models.fuse.fuse_conv_bn`), against PyTorch's unfused eval model.

Both frameworks run the same weights (copied from the torch model) at 1 and 2 threads.
``--tuned-malloc`` re-runs everything with glibc's malloc thresholds raised (see
WORKLOADS.md) so both the default and the tuned setting are reported.

    PYTHONPATH=src python bench/bench_models.py [--threads 1 2] [--repeat 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import TUNED_MALLOC, malloc_setting, median_ms, set_threads, torch_or_none, write_json


def torch_resnet18_small(torch):
    """torchvision's ResNet-18 definition with the small-image stem (3x3/1, no max-pool)."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, inp, planes, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inp != planes:
                self.downsample = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False),
                                                nn.BatchNorm2d(planes))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            idt = x if self.downsample is None else self.downsample(x)
            return self.relu(out + idt)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            inp = 64
            for i, planes in enumerate((64, 128, 256, 512)):
                s = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}", nn.Sequential(Block(inp, planes, s),
                                                             Block(planes, planes, 1)))
                inp = planes
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, 10)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return Net()


def run(threads: int, repeat: int) -> list[dict]:
    import striate
    import striate.functional as F
    from striate.models.resnet import resnet18_small

    set_threads(threads)
    torch = torch_or_none(threads)
    rng = np.random.default_rng(0)
    x64 = rng.standard_normal((64, 3, 32, 32)).astype(np.float32)
    y64 = rng.integers(0, 10, 64)
    x1 = x64[:1].copy()

    sm = resnet18_small(num_classes=10, in_channels=3)
    tm = None
    if torch is not None:
        torch.manual_seed(0)
        tm = torch_resnet18_small(torch)
        sm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()},
                           strict=True)
    rows = []

    # training step
    s_opt = striate.optim.SGD(sm.parameters(), lr=0.01, momentum=0.9)
    sx, sy = striate.Tensor(x64), striate.Tensor(y64)

    def s_train():
        s_opt.zero_grad()
        F.cross_entropy(sm(sx), sy).backward()
        s_opt.step()

    sm.train()
    s_ms = median_ms(s_train, repeat=repeat, warmup=2)
    t_ms = None
    if tm is not None:
        t_opt = torch.optim.SGD(tm.parameters(), lr=0.01, momentum=0.9)
        tx, ty = torch.from_numpy(x64), torch.from_numpy(y64)

        def t_train():
            t_opt.zero_grad()
            torch.nn.functional.cross_entropy(tm(tx), ty).backward()
            t_opt.step()

        tm.train()
        t_ms = median_ms(t_train, repeat=repeat, warmup=2)
    rows.append({"workload": "train b64 (img/s)", "striate": 64e3 / s_ms,
                 "torch": None if t_ms is None else 64e3 / t_ms, "higher_is_better": True})

    # inference
    sm.eval()
    for batch, x in ((64, x64), (1, x1)):
        sxt = striate.Tensor(x)

        def s_inf(sxt=sxt):
            with striate.no_grad():
                sm(sxt)

        s_ms = median_ms(s_inf, repeat=repeat * (5 if batch == 1 else 1), warmup=2)
        t_ms = None
        if tm is not None:
            tm.eval()
            txt = torch.from_numpy(x)

            def t_inf(txt=txt):
                with torch.no_grad():
                    tm(txt)

            t_ms = median_ms(t_inf, repeat=repeat * (5 if batch == 1 else 1), warmup=2)
        if batch == 64:
            rows.append({"workload": "infer b64 (img/s)", "striate": 64e3 / s_ms,
                         "torch": None if t_ms is None else 64e3 / t_ms,
                         "higher_is_better": True})
        else:
            rows.append({"workload": "infer b1 latency (ms)", "striate": s_ms, "torch": t_ms,
                         "higher_is_better": False})
    # the same model with batch norms folded into the convs (striate.models.fuse)
    from striate.models.fuse import fuse_conv_bn

    fm = fuse_conv_bn(sm)
    sxt = striate.Tensor(x64)

    def f_inf():
        with striate.no_grad():
            fm(sxt)

    f_ms = median_ms(f_inf, repeat=repeat, warmup=2)
    t64 = rows[1]["torch"]
    rows.append({"workload": "infer b64 conv+BN fused", "striate": 64e3 / f_ms,
                 "torch": t64, "higher_is_better": True})
    if tm is not None:  # same weights: the eval outputs must agree
        with striate.no_grad():
            so = sm(striate.Tensor(x64)).data
        with torch.no_grad():
            to = tm(torch.from_numpy(x64)).numpy()
        err = float(np.abs(so - to).max() / max(np.abs(to).max(), 1e-6))
        for r in rows:
            r["max_rel_err"] = err
    for r in rows:
        r["threads"] = threads
        r["malloc"] = malloc_setting()
        if r["torch"] is not None:
            ratio = r["striate"] / r["torch"] if r["higher_is_better"] else \
                r["torch"] / r["striate"]
            r["speedup_vs_torch"] = ratio
    return rows


def _print(rows: list[dict]) -> None:
    print(f"{'workload':<24}{'thr':>4}{'malloc':>8}{'striate':>12}{'torch':>12}"
          f"{'striate/torch':>15}")
    for r in rows:
        t = "-" if r["torch"] is None else f"{r['torch']:.2f}"
        sp = "-" if r.get("speedup_vs_torch") is None else f"{r['speedup_vs_torch']:.2f}x"
        print(f"{r['workload']:<24}{r['threads']:>4}{r['malloc']:>8}{r['striate']:>12.2f}"
              f"{t:>12}{sp:>15}")
    print("(striate/torch > 1 means striate is faster: throughput ratio, or inverse latency "
          "ratio)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="ResNet-18 small-image: striate vs PyTorch")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json", default=None)
    p.add_argument("--tuned-malloc", action="store_true",
                   help="also run with raised glibc malloc thresholds (in a subprocess)")
    p.add_argument("--_rows-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    rows = []
    for t in args.threads:
        rows += run(t, args.repeat)
    if args.tuned_malloc and not os.environ.get("GLIBC_TUNABLES"):
        env = dict(os.environ, GLIBC_TUNABLES=TUNED_MALLOC)
        out = subprocess.run([sys.executable, __file__, "--_rows-only", "--repeat",
                              str(args.repeat), "--threads", *map(str, args.threads)],
                             env=env, capture_output=True, text=True, check=True).stdout
        rows += json.loads(out.strip().splitlines()[-1])
    if args._rows_only:
        print(json.dumps(rows))
        return 0
    _print(rows)
    if args.json:
        write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
