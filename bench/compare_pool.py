"""Pooling and elementwise workloads: striate vs NumPy (reshape / strided-view pooling, plain
NumPy expressions) vs PyTorch (NCHW and channels_last), timed in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=src python bench/compare_pool.py
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import print_rows, set_threads, timed_row, torch_or_none

POOL_SHAPE = (64, 64, 28, 28)   # WORKLOADS.md pooling row
GAP_SHAPE = (64, 512, 7, 7)     # global average pool before a classifier head


# ---- NumPy peers ---------------------------------------------------------------------------

def np_maxpool2(x):
    """Maximum of the four strided views (much faster than a reshape + max over axes)."""
    return np.maximum(np.maximum(x[..., 0::2, 0::2], x[..., 0::2, 1::2]),
                      np.maximum(x[..., 1::2, 0::2], x[..., 1::2, 1::2]))


def np_maxpool2_fwd_bwd(x, gy):
    """Windows as a copied (.., 4) array, argmax, then scatter of the gradient."""
    n, c, h, w = x.shape
    v = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, c, h // 2, w // 2, 4)
    a = v.argmax(axis=-1)[..., None]
    y = np.take_along_axis(v, a, axis=-1)[..., 0]
    g = np.zeros_like(v)
    np.put_along_axis(g, a, gy[..., None], axis=-1)
    gx = g.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
    return y, gx


def np_maxpool3s2p1(x):
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))[:, :, ::2, ::2]
    return win.max(axis=(-2, -1))


def np_avgpool2(x):
    """Mean of the four strided views."""
    return ((x[..., 0::2, 0::2] + x[..., 0::2, 1::2]) + (x[..., 1::2, 0::2] + x[..., 1::2, 1::2])
            ) * np.float32(0.25)


def np_xent_fwd_bwd(x, t, gl):
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(axis=1, keepdims=True)
    loss = (np.log(s) + m)[:, 0] - x[np.arange(x.shape[0]), t]
    prob = e / s
    g = prob.copy()
    g[np.arange(x.shape[0]), t] -= 1.0
    return loss, g * gl[:, None]


# ---- rows ----------------------------------------------------------------------------------

def rows(threads: int, repeat: int) -> list[dict]:
    from striate import kernels as K

    set_threads(threads)
    torch = torch_or_none(threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(POOL_SHAPE).astype(np.float32)
    gy2 = rng.standard_normal((64, 64, 14, 14)).astype(np.float32)
    gap = rng.standard_normal(GAP_SHAPE).astype(np.float32)
    bias = rng.standard_normal(POOL_SHAPE[1]).astype(np.float32)
    out = []

    def row(workload, s_fn, np_fn, t_fn, note="", flop=None):
        out.append(timed_row("pool", workload, s_fn, np_fn, t_fn, repeat, note, flop))
        return out[-1]["striate_ms"]

    tx = tcl = txg = tclg = tgy = None
    if torch is not None:
        F = torch.nn.functional
        tx = torch.from_numpy(x)
        tcl = tx.contiguous(memory_format=torch.channels_last)
        txg = tx.clone().requires_grad_()
        tclg = tcl.clone().requires_grad_()
        tgy = torch.from_numpy(gy2)

        def t_fwd(a, *args, **kw):
            def f():
                with torch.no_grad():
                    F.max_pool2d(a, *args, **kw)
            return f

        def t_fb(a, *args, **kw):
            def f():
                a.grad = None
                F.max_pool2d(a, *args, **kw).backward(tgy)
            return f

    name = "maxpool 2x2 s2 64x64x28x28"
    y, i = K.max_pool2d(x, 2)
    s = row(f"{name} fwd", lambda: K.max_pool2d(x, 2), lambda: np_maxpool2(x),
            t_fwd(tx, 2) if torch else None, "striate also writes int32 indices; numpy max of 4 strided views")
    if torch:
        row(f"{name} fwd [torch channels_last]", lambda: K.max_pool2d(x, 2), None,
            t_fwd(tcl, 2), "same striate NCHW kernel vs torch channels_last")
    fb = lambda: K.max_pool2d_backward(gy2, K.max_pool2d(x, 2)[1], x.shape)
    row(f"{name} fwd+bwd", fb, lambda: np_maxpool2_fwd_bwd(x, gy2),
        t_fb(txg, 2) if torch else None, "numpy: window copy + argmax + scatter")
    if torch:
        row(f"{name} fwd+bwd [torch channels_last]", fb, None, t_fb(tclg, 2), "")
    del s, y, i

    name = "maxpool 3x3 s2 p1 64x64x28x28"
    row(f"{name} fwd", lambda: K.max_pool2d(x, 3, 2, 1), lambda: np_maxpool3s2p1(x),
        t_fwd(tx, 3, 2, 1) if torch else None, "numpy sliding_window_view")
    if torch:
        row(f"{name} fwd [torch channels_last]", lambda: K.max_pool2d(x, 3, 2, 1), None,
            t_fwd(tcl, 3, 2, 1), "")
    fb3 = lambda: K.max_pool2d_backward(
        gy2, K.max_pool2d(x, 3, 2, 1)[1], x.shape)
    row(f"{name} fwd+bwd", fb3, None, t_fb(txg, 3, 2, 1) if torch else None, "")

    name = "avgpool 2x2 s2 64x64x28x28"
    row(f"{name} fwd", lambda: K.avg_pool2d(x, 2), lambda: np_avgpool2(x),
        (lambda: torch.nn.functional.avg_pool2d(tx, 2)) if torch else None, "")
    if torch:
        row(f"{name} fwd [torch channels_last]", lambda: K.avg_pool2d(x, 2), None,
            lambda: torch.nn.functional.avg_pool2d(tcl, 2), "")

    tg = torch.from_numpy(gap) if torch else None
    row("global avgpool 64x512x7x7 fwd", lambda: K.global_avg_pool2d(gap),
        lambda: gap.mean(axis=(2, 3), keepdims=True),
        (lambda: torch.nn.functional.adaptive_avg_pool2d(tg, 1)) if torch else None, "")

    b4 = bias[None, :, None, None]
    row("bias+relu 64x64x28x28", lambda: K.bias_act(x, bias, "relu"),
        lambda: np.maximum(x + b4, 0.0),
        (lambda: torch.relu(tx + torch.from_numpy(bias)[None, :, None, None]))
        if torch else None, "new output")
    xc = x.copy()
    row("bias+relu 64x64x28x28 in place", lambda: K.bias_act(xc, bias, "relu", out=xc),
        lambda: np.maximum(np.add(xc, b4, out=xc), 0.0, out=xc),
        (lambda: torch.relu_(torch.from_numpy(xc).add_(torch.from_numpy(b4))))
        if torch else None, "")

    for c in (10, 1000):
        lg = rng.standard_normal((128, c)).astype(np.float32)
        t = rng.integers(0, c, size=128)
        gl = np.full(128, 1.0 / 128, np.float32)

        def s_x(lg=lg, t=t, gl=gl):
            _loss, prob = K.softmax_cross_entropy(lg, t)
            return K.softmax_cross_entropy_backward(prob, t, gl)

        t_x = None
        if torch:
            tl = torch.from_numpy(lg).clone().requires_grad_()
            tt = torch.from_numpy(t)
            tgl = torch.from_numpy(gl)

            def t_x(tl=tl, tt=tt, tgl=tgl):
                tl.grad = None
                torch.nn.functional.cross_entropy(tl, tt, reduction="none").backward(tgl)
        row(f"softmax-xent fwd+bwd N=128 C={c}", s_x,
            lambda lg=lg, t=t, gl=gl: np_xent_fwd_bwd(lg, t, gl), t_x, "")
    return out


if __name__ == "__main__":
    print_rows(rows, 52)
