"""Side-by-side timings of the conv workloads a..h of WORKLOADS.md (and i, a layer with few
outputs): striate vs a NumPy im2col baseline (sliding_window_view + matmul, col2im by
strided adds) vs PyTorch, in one process.  ``rows(threads, repeat)`` is discovered by
bench/compare.py; run this file alone for a table:
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/compare_conv.py
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import blas_info, interleaved_ms, set_threads, torch_or_none

import striate
from striate import kernels as K

# name: (N, Cin, Cout, H, W, k, pad, groups, fwd_only)
WORKLOADS = {
    "a": (64, 1, 32, 28, 28, 3, 1, 1, False),
    "b": (64, 32, 64, 14, 14, 3, 1, 1, False),
    "c": (32, 64, 64, 32, 32, 3, 1, 1, False),
    "d": (32, 128, 128, 16, 16, 3, 1, 1, False),
    "e": (32, 256, 256, 8, 8, 3, 1, 1, False),
    "f": (1, 64, 64, 56, 56, 3, 1, 1, True),
    "g": (32, 256, 64, 16, 16, 1, 0, 1, False),
    "h": (32, 128, 128, 16, 16, 3, 1, 128, False),
    # not in WORKLOADS.md: a layer down to 3 channels (an image out of a generator, a
    # segmentation head), striate's row kernels
    "i": (32, 64, 3, 32, 32, 3, 1, 1, False),
}


class NumpyIm2col:
    """A straightforward but honest im2col convolution in NumPy (stride 1, square pad)."""

    def __init__(self, x, w, pad, groups):
        self.x, self.w, self.pad, self.g = x, w, pad, groups

    def _col(self, x):
        n = x.shape[0]
        _, cg, kh, kw = self.w.shape
        p = self.pad
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        v = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # n c P Q kh kw
        P, Q = v.shape[2], v.shape[3]
        g = self.g
        # (g, n*P*Q, cg*kh*kw)
        col = v.reshape(n, g, cg, P, Q, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)
        return np.ascontiguousarray(col).reshape(g, n * P * Q, cg * kh * kw), P, Q

    def forward(self):
        n = self.x.shape[0]
        k, cg, kh, kw = self.w.shape
        g = self.g
        col, P, Q = self._col(self.x)
        wm = self.w.reshape(g, k // g, cg * kh * kw)
        y = np.matmul(col, wm.transpose(0, 2, 1))  # g, nPQ, kg
        y = y.reshape(g, n, P, Q, k // g).transpose(1, 0, 4, 2, 3).reshape(n, k, P, Q)
        return np.ascontiguousarray(y), col

    def backward(self, gy, col):
        n, c, h, wd = self.x.shape
        k, cg, kh, kw = self.w.shape
        g, p = self.g, self.pad
        P, Q = gy.shape[2], gy.shape[3]
        gm = np.ascontiguousarray(
            gy.reshape(n, g, k // g, P, Q).transpose(1, 0, 3, 4, 2)).reshape(g, n * P * Q, -1)
        dw = np.matmul(gm.transpose(0, 2, 1), col).reshape(k, cg, kh, kw)
        wm = self.w.reshape(g, k // g, cg * kh * kw)
        dcol = np.matmul(gm, wm).reshape(g, n, P, Q, cg, kh, kw)
        dxp = np.zeros((n, g, cg, h + 2 * p, wd + 2 * p), np.float32)
        for r in range(kh):
            for s in range(kw):
                dxp[:, :, :, r:r + P, s:s + Q] += dcol[..., r, s].transpose(1, 0, 4, 2, 3)
        dx = dxp[:, :, :, p:p + h, p:p + wd].reshape(n, c, h, wd)
        return dx, dw


def _workload_rows(name: str, torch, repeat: int, rng, threads: int = 1) -> list[dict]:
    n, cin, cout, h, w, k, pad, g, fwd_only = WORKLOADS[name]
    x = rng.standard_normal((n, cin, h, w)).astype(np.float32)
    wt = (rng.standard_normal((cout, cin // g, k, k)) * 0.1).astype(np.float32)
    y_shape = K.conv2d_output_shape(x.shape, wt.shape, 1, pad, 1, g)
    gy = rng.standard_normal(y_shape).astype(np.float32)
    flop = 2.0 * n * cout * y_shape[2] * y_shape[3] * (cin // g) * k * k
    base = NumpyIm2col(x, wt, pad, g)

    def s_fwd():
        return K.conv2d(x, wt, None, 1, pad, 1, g)

    def s_fb():
        K.conv2d(x, wt, None, 1, pad, 1, g)
        K.conv2d_backward_data(gy, wt, x.shape, 1, pad, 1, g)
        K.conv2d_backward_weight(gy, x, wt.shape, 1, pad, 1, g)

    def n_fwd():
        return base.forward()

    def n_fb():
        _, col = base.forward()
        base.backward(gy, col)

    t_fwd = t_fb = None
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_(True)
        tw = torch.from_numpy(wt).requires_grad_(True)
        tg = torch.from_numpy(gy)
        F = torch.nn.functional

        def t_fwd():
            with torch.no_grad():
                return F.conv2d(tx, tw, None, 1, pad, 1, g)

        def t_fb():
            tx.grad = None
            tw.grad = None
            F.conv2d(tx, tw, None, 1, pad, 1, g).backward(tg)

    out = []
    for kind, fs, fnp, ft, mult in (("fwd", s_fwd, n_fwd, t_fwd, 1.0),
                                    ("fwd+bwd", s_fb, n_fb, t_fb, 3.0)):
        if fwd_only and kind != "fwd":
            continue
        ms = interleaved_ms({"striate": fs, "numpy": fnp, "torch": ft}, repeat, threads,
                            few=("numpy",))
        out.append({
            "family": "conv",
            "workload": f"{name} {kind}",
            "striate_ms": ms["striate"],
            "numpy_ms": ms["numpy"],
            "torch_ms": ms["torch"],
            "flop": flop * mult,
            "note": f"{n}x{cin}->{cout} {h}x{w} k{k}" + (f" g{g}" if g > 1 else ""),
        })
    return out


def rows(threads: int, repeat: int) -> list[dict]:
    """Time every conv workload forward and forward+backward (dX + dW) on ``threads``."""
    set_threads(threads)
    torch = torch_or_none(threads)
    rng = np.random.default_rng(0)
    out = []
    for name in WORKLOADS:
        out += _workload_rows(name, torch, repeat, rng, threads)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--only", default="", help="workload letters, e.g. 'ah'")
    args = ap.parse_args()
    if args.only:
        for key in list(WORKLOADS):
            if key not in args.only:
                del WORKLOADS[key]
    print(f"striate arch={striate.get_arch()}; numpy BLAS: {blas_info()}")
    print(f"{'thr':>3} {'workload':<12} {'striate':>9} {'numpy':>9} {'torch':>9} "
          f"{'GF/s':>6} {'x numpy':>8} {'x torch':>8}")
    for t in args.threads:
        for r in rows(t, args.repeat):
            s, nm, tm = r["striate_ms"], r["numpy_ms"], r["torch_ms"]
            print(f"{t:>3} {r['workload']:<12} {s:9.3f} {nm:9.3f} "
                  f"{(tm if tm else float('nan')):9.3f} {r['flop'] / s / 1e6:6.1f} "
                  f"{nm / s:8.2f} {(tm / s if tm else float('nan')):8.2f}")


if __name__ == "__main__":
    main()
