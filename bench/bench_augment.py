"""Throughput of the batch augmentation transforms and presets (striate.data.transforms).

Workload: a batch of 128 images, 1x28x28 (Fashion-MNIST) and 3x32x32 (CIFAR), float32 on the
[0, 1] scale. Reports the median milliseconds per batch and images per second, a per-sample
Python loop doing the same crop + flip as a baseline (the way per-image pipelines work), and
the loader path (gather + uint8 -> float32 + standard preset + normalise).

Target (issue 4): the "standard" preset under 4 ms per batch of 128, i.e. under 10% of one
training step of the small CNN.

Usage:
    python bench/bench_augment.py [--repeat 20]            # table
    pytest bench/bench_augment.py --benchmark-only          # pytest-benchmark
For the malloc-tuned figures run with
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=134217728
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import median_ms

from striate.data import ArrayDataset, DataLoader
from striate.data import transforms as T

SHAPES = {"28x28x1": (128, 1, 28, 28), "32x32x3": (128, 3, 32, 32)}


def transform_table(c: int, h: int) -> dict[str, T.Transform]:
    rgb = c == 3
    return {
        "Normalize": T.Normalize([0.5] * c, [0.25] * c),
        "RandomCrop(pad 4)": T.RandomCrop(h, padding=4),
        "RandomCrop(pad 4, reflect)": T.RandomCrop(h, padding=4, padding_mode="reflect"),
        "RandomHorizontalFlip": T.RandomHorizontalFlip(),
        "RandomAffine(15, 0.1, 0.9-1.1, 10)": T.RandomAffine(15, (0.1, 0.1), (0.9, 1.1), 10),
        "RandomResizedCrop": T.RandomResizedCrop(h),
        "RandomErasing(p=0.5)": T.RandomErasing(p=0.5),
        "ColorJitter": T.ColorJitter(0.4, 0.4, 0.4 if rgb else 0.0, 0.1 if rgb else 0.0),
        "MixUp(0.2)": T.MixUp(0.2, 10),
        "CutMix(1.0)": T.CutMix(1.0, 10),
        "TrivialAugmentWide": T.TrivialAugmentWide(),
        "preset none": T.augmentation_preset("none", (c, h, h)),
        "preset standard": T.augmentation_preset("standard", (c, h, h), hflip=True),
        "preset strong": T.augmentation_preset("strong", (c, h, h), hflip=True),
    }


def per_sample_crop_flip(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Baseline: the same pad-4 crop + flip one image at a time (per-image pipelines)."""
    out = np.empty_like(x)
    h, w = x.shape[2:]
    for i in range(x.shape[0]):
        p = np.pad(x[i], ((0, 0), (4, 4), (4, 4)))
        oy, ox = rng.integers(0, 9, 2)
        img = p[:, oy:oy + h, ox:ox + w]
        out[i] = img[:, :, ::-1] if rng.random() < 0.5 else img
    return out


def rows(repeat: int = 20) -> list[dict]:
    out = []
    for label, shape in SHAPES.items():
        n, c, h, _ = shape
        rng = np.random.default_rng(0)
        x = rng.random(shape, dtype=np.float32)
        y = rng.integers(0, 10, n)
        for name, t in transform_table(c, h).items():
            needs_labels = isinstance(t, T.MixUp)
            g = np.random.default_rng(1)
            fn = (lambda t=t, g=g: t(x, y, rng=g)) if needs_labels else \
                (lambda t=t, g=g: t(x, rng=g))
            ms = median_ms(fn, repeat=repeat)
            out.append({"shape": label, "transform": name, "ms": ms, "img_s": n / ms * 1e3})
        g = np.random.default_rng(1)
        ms = median_ms(lambda: per_sample_crop_flip(x, g), repeat=repeat)
        out.append({"shape": label, "transform": "baseline: per-sample loop crop+flip",
                    "ms": ms, "img_s": n / ms * 1e3})
        u8 = rng.integers(0, 256, (4096,) + shape[1:], dtype=np.uint8)
        ds = ArrayDataset(u8, rng.integers(0, 10, 4096))
        for pname in ("none", "standard"):
            loader = DataLoader(ds, batch_size=n, shuffle=True, num_workers=0, mean=0.5, std=0.25,
                                transform=T.augmentation_preset(pname, (c, h, h), hflip=True))
            it = iter(loader)

            def step(loader=loader) -> None:
                nonlocal it
                try:
                    next(it)
                except StopIteration:
                    it = iter(loader)
                    next(it)

            ms = median_ms(step, repeat=repeat)
            out.append({"shape": label, "transform": f"loader batch ({pname} + normalise)",
                        "ms": ms, "img_s": n / ms * 1e3})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="augmentation throughput, batch 128")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    print(f"numpy {np.__version__}; GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(unset)')}")
    print(f"{'shape':8} {'transform':42} {'ms/batch':>9} {'images/s':>10}")
    for r in rows(args.repeat):
        print(f"{r['shape']:8} {r['transform']:42} {r['ms']:9.3f} {r['img_s']:10.0f}")


# ---------------------------------------------------------------- pytest-benchmark entry points
try:
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

if pytest is not None:
    _CASES = [(label, name) for label, shape in SHAPES.items()
              for name in transform_table(shape[1], shape[2])]

    @pytest.mark.parametrize("label,name", _CASES)
    def test_augment(benchmark, label, name):
        shape = SHAPES[label]
        rng = np.random.default_rng(0)
        x = rng.random(shape, dtype=np.float32)
        y = rng.integers(0, 10, shape[0])
        t = transform_table(shape[1], shape[2])[name]
        if isinstance(t, T.MixUp):
            benchmark(lambda: t(x, y, rng=rng))
        else:
            benchmark(lambda: t(x, rng=rng))


if __name__ == "__main__":
    main()
