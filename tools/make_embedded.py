"""Generate the Fashion-MNIST sample shipped in src/striate/data/embedded/.

A stratified, seeded selection from the official Fashion-MNIST files: 1,000 training images
per class (10,000) from the 60,000 training images and 200 test images per class (2,000) from
the 10,000 test images, kept in their original order, written as gzipped IDX files (the same
format and file names as the official release, read by the same code). Output is
byte-reproducible (fixed seed, gzip mtime 0).

Usage:
    python tools/make_embedded.py [--src /usr/share/datasets/fashion-mnist] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from striate.data.datasets import EMBEDDED_DIR, load_idx_pair  # noqa: E402
from striate.data.idx import write_idx  # noqa: E402

PER_CLASS = {"train": 1000, "t10k": 200}


def stratified(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_class`` samples of each class, chosen at random, in original order."""
    picks = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if idx.size < per_class:
            raise SystemExit(f"class {c} has only {idx.size} samples, need {per_class}")
        picks.append(rng.choice(idx, size=per_class, replace=False))
    return np.sort(np.concatenate(picks))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default=EMBEDDED_DIR)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    for split, n in PER_CLASS.items():
        images, labels = load_idx_pair(
            os.path.join(args.src, f"{split}-images-idx3-ubyte.gz"),
            os.path.join(args.src, f"{split}-labels-idx1-ubyte.gz"), 10)
        sel = stratified(labels, n, rng)
        write_idx(os.path.join(args.out, f"{split}-images-idx3-ubyte.gz"), images[sel, 0])
        write_idx(os.path.join(args.out, f"{split}-labels-idx1-ubyte.gz"),
                  labels[sel].astype(np.uint8))
        print(f"{split}: {sel.size} images, per class {np.bincount(labels[sel]).tolist()}")
    for f in sorted(os.listdir(args.out)):
        print(f"  {f}: {os.path.getsize(os.path.join(args.out, f)) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
