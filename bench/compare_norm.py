"""Normalisation and GELU workloads: the striate kernels vs the NumPy formulas (the ones the
functional layer ran before these kernels) vs PyTorch, forward and forward+backward, timed in
one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=src python bench/compare_norm.py

Rows: BatchNorm2d training on 64x64x32x32 (the small CNN's layer size), LayerNorm over 384 on
64x197x384 (ViT-S), GELU (exact erf form, and the tanh form) on 64x197x384.  Forward+backward
rows time the forward and the backward kernels (PyTorch: its autograd, gradients of x and of
the affine parameters).
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import print_rows, set_threads, timed_row, torch_or_none

BN_SHAPE = (64, 64, 32, 32)
LN_SHAPE = (64, 197, 384)


# ---- NumPy formulas (as in striate.functional before the kernels) --------------------------

def np_bn_fwd(x, w, b, eps=1e-5):
    n, c = x.shape[:2]
    x3 = x.reshape(n, c, -1)
    inv_m = 1.0 / (n * x3.shape[2])
    mean = np.einsum("ncm->c", x3) * inv_m
    xhat = x3 - mean[:, None]
    var = np.einsum("ncm,ncm->c", xhat, xhat) * inv_m
    invstd = 1.0 / np.sqrt(var + np.float32(eps))
    xhat *= invstd[:, None]
    y = xhat * w[:, None]
    y += b[:, None]
    return y.reshape(x.shape), xhat, invstd


def np_bn_fwd_bwd(x, w, b, g, relu=False):
    y, xhat, invstd = np_bn_fwd(x, w, b)
    g3 = g.reshape(xhat.shape)
    if relu:  # a ReLU after the batch norm: its output, and the gradient through it
        np.maximum(y, 0, out=y)
        g3 = g3 * (y.reshape(g3.shape) > 0)
    gsum = np.einsum("ncm->c", g3)
    gxx = np.einsum("ncm,ncm->c", g3, xhat)
    inv_m = 1.0 / (xhat.shape[0] * xhat.shape[2])
    gx = xhat * (-(gxx * inv_m))[:, None]
    gx += g3
    gx -= (gsum * inv_m)[:, None]
    gx *= (invstd * w)[:, None]
    return y, gx.reshape(g.shape), gxx, gsum


def np_ln_fwd(x2, w, b, eps=1e-5):
    inv_m = 1.0 / x2.shape[1]
    mean = np.einsum("rm->r", x2) * inv_m
    xhat = x2 - mean[:, None]
    var = np.einsum("rm,rm->r", xhat, xhat) * inv_m
    invstd = 1.0 / np.sqrt(var + np.float32(eps))
    xhat *= invstd[:, None]
    y = xhat * w
    y += b
    return y, xhat, invstd


def np_ln_fwd_bwd(x2, w, b, g2):
    y, xhat, invstd = np_ln_fwd(x2, w, b)
    gb = g2.sum(axis=0)
    gw = np.einsum("rm,rm->m", g2, xhat)
    gxh = g2 * w
    inv_m = 1.0 / xhat.shape[1]
    c1 = np.einsum("rm->r", gxh) * inv_m
    c2 = np.einsum("rm,rm->r", gxh, xhat) * inv_m
    gx = xhat * (-c2)[:, None]
    gx += gxh
    gx -= c1[:, None]
    gx *= invstd[:, None]
    return y, gx, gw, gb


def np_erf32(x):
    """Abramowitz & Stegun 7.1.26, in place in three buffers (the functional's float32 erf)."""
    ax = np.abs(x)
    t = ax * np.float32(0.3275911)
    t += 1.0
    np.reciprocal(t, out=t)
    y = t * np.float32(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        y += np.float32(c)
        y *= t
    np.square(ax, out=ax)
    np.negative(ax, out=ax)
    np.exp(ax, out=ax)
    y *= ax
    np.subtract(1.0, y, out=y)
    np.copysign(y, x, out=y)
    return y


def np_gelu_fwd(x):
    cdf = np_erf32(x * np.float32(1.0 / math.sqrt(2.0)))
    cdf += 1.0
    cdf *= 0.5
    return x * cdf, cdf


def np_gelu_fwd_bwd(x, g):
    y, cdf = np_gelu_fwd(x)
    pdf = x * x
    pdf *= -0.5
    np.exp(pdf, out=pdf)
    pdf *= np.float32(1.0 / math.sqrt(2.0 * math.pi))
    pdf *= x
    pdf += cdf
    pdf *= g
    return y, pdf


def np_gelu_tanh_fwd(x):
    k = np.float32(math.sqrt(2.0 / math.pi))
    t = x * x
    t *= np.float32(0.044715) * k
    t += k
    t *= x
    np.tanh(t, out=t)
    y = t + 1.0
    y *= x
    y *= 0.5
    return y, t


def np_gelu_tanh_fwd_bwd(x, g):
    y, t = np_gelu_tanh_fwd(x)
    k = np.float32(math.sqrt(2.0 / math.pi))
    d = x * x
    d *= np.float32(3 * 0.044715) * k
    d += k
    d *= x
    d *= 0.5
    d *= 1.0 - t * t
    d += 0.5
    d += 0.5 * t
    d *= g
    return y, d


# ---- rows ----------------------------------------------------------------------------------

def _torch_operands(torch, x, g, w, b):
    """torch views of the NumPy operands: x, grad_out, a leaf copy of x, weight, bias."""
    tx, tg = torch.from_numpy(x), torch.from_numpy(g)
    return (tx, tg, tx.clone().requires_grad_(), torch.from_numpy(w).requires_grad_(),
            torch.from_numpy(b).requires_grad_())


def _torch_fwd_fb(torch, f, tx, txg, tg, tw, tb):
    """Closures timing torch's ``f(x, weight, bias)``: forward under no_grad, and
    forward+backward from ``tg`` (dx, dweight, dbias)."""

    def t_fwd():
        with torch.no_grad():
            f(tx, tw, tb)

    def t_fb():
        txg.grad = tw.grad = tb.grad = None
        f(txg, tw, tb).backward(tg)

    return t_fwd, t_fb


def rows(threads: int, repeat: int) -> list[dict]:
    from striate import kernels as K

    set_threads(threads)
    torch = torch_or_none(threads)
    rng = np.random.default_rng(0)
    out = []

    def row(workload, s_fn, np_fn, t_fn, note=""):
        out.append(timed_row("norm", workload, s_fn, np_fn, t_fn, repeat, note))

    # BatchNorm2d, training statistics, affine
    x = rng.standard_normal(BN_SHAPE).astype(np.float32)
    g = rng.standard_normal(BN_SHAPE).astype(np.float32)
    c = BN_SHAPE[1]
    w = rng.standard_normal(c).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    t_fwd = t_fb = None
    if torch is not None:
        F = torch.nn.functional
        tx, tg, txg, tw, tb = _torch_operands(torch, x, g, w, b)
        t_fwd, t_fb = _torch_fwd_fb(
            torch, lambda a, wt, bs: F.batch_norm(a, None, None, wt, bs, training=True),
            tx, txg, tg, tw, tb)

    def s_bn_fb():
        _, m, s = K.batch_norm_train_forward(x, w, b)
        return K.batch_norm_backward(g, x, w, m, s)

    name = "batch_norm train 64x64x32x32"
    row(f"{name} fwd", lambda: K.batch_norm_train_forward(x, w, b), lambda: np_bn_fwd(x, w, b),
        t_fwd, "batch statistics + affine")
    row(f"{name} fwd+bwd", s_bn_fb, lambda: np_bn_fwd_bwd(x, w, b, g), t_fb,
        "dx, dweight, dbias")
    if torch is not None:
        _, t_bnr_fb = _torch_fwd_fb(
            torch, lambda a, wt, bs: F.relu(F.batch_norm(a, None, None, wt, bs, training=True)),
            tx, txg, tg, tw, tb)

    def s_bnr_fb():
        _, m, s = K.batch_norm_train_forward(x, w, b, activation="relu")
        return K.batch_norm_backward(g, x, w, m, s, bias=b, activation="relu")

    row("batch_norm+relu train 64x64x32x32 fwd+bwd", s_bnr_fb,
        lambda: np_bn_fwd_bwd(x, w, b, g, relu=True), t_bnr_fb if torch else None,
        "ReLU fused into the normalisation's passes")
    rm, rv = np.zeros(c, np.float32), np.ones(c, np.float32)
    row("batch_norm eval 64x64x32x32 fwd",
        lambda: K.batch_norm_eval_forward(x, rm, rv, w, b),
        lambda: x * (w / np.sqrt(rv + 1e-5))[:, None, None] + (b - rm)[:, None, None],
        (lambda: F.batch_norm(tx, torch.from_numpy(rm), torch.from_numpy(rv), tw.detach(),
                              tb.detach(), training=False)) if torch else None,
        "running statistics")

    # LayerNorm over the last 384 of 64x197x384
    x = rng.standard_normal(LN_SHAPE).astype(np.float32)
    g = rng.standard_normal(LN_SHAPE).astype(np.float32)
    m = LN_SHAPE[-1]
    x2, g2 = x.reshape(-1, m), g.reshape(-1, m)
    w = rng.standard_normal(m).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32)
    if torch is not None:
        tx, tg, txg, tw, tb = _torch_operands(torch, x, g, w, b)
        t_fwd, t_fb = _torch_fwd_fb(torch, lambda a, wt, bs: F.layer_norm(a, (m,), wt, bs),
                                    tx, txg, tg, tw, tb)

    def s_ln_fb():
        _, mu, s = K.layer_norm_forward(x2, w, b)
        return K.layer_norm_backward(g2, x2, w, mu, s)

    name = "layer_norm 64x197x384"
    row(f"{name} fwd", lambda: K.layer_norm_forward(x2, w, b), lambda: np_ln_fwd(x2, w, b),
        t_fwd, "over the last 384, affine")
    row(f"{name} fwd+bwd", s_ln_fb, lambda: np_ln_fwd_bwd(x2, w, b, g2), t_fb,
        "dx, dweight, dbias")

    # GELU on 64x197x384 (the ViT MLP's activation)
    for approx, np_f, np_fb in (("none", np_gelu_fwd, np_gelu_fwd_bwd),
                                ("tanh", np_gelu_tanh_fwd, np_gelu_tanh_fwd_bwd)):
        if torch is not None:
            def t_fwd(approx=approx):
                with torch.no_grad():
                    F.gelu(tx, approximate=approx)

            def t_fb(approx=approx):
                txg.grad = None
                F.gelu(txg, approximate=approx).backward(tg)

        def s_fb(approx=approx):
            y = K.gelu(x, approx)
            return y, K.gelu_backward(x, g, approx)

        name = f"gelu ({'erf' if approx == 'none' else 'tanh'}) 64x197x384"
        row(f"{name} fwd", lambda approx=approx: K.gelu(x, approx), lambda np_f=np_f: np_f(x),
            t_fwd, "")
        row(f"{name} fwd+bwd", s_fb, lambda np_fb=np_fb: np_fb(x, g), t_fb, "")
    return out


if __name__ == "__main__":
    print_rows(rows, 40)
