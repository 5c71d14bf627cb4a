"""Autograd ops side by side: striate.functional vs PyTorch (and a hand-written NumPy forward
+ backward where one is short), forward + backward, in one process.

Rows measure what the op layer adds on top of the kernels: graph recording, the backward
walk, and the NumPy parts of each op (norms, losses, activations).  Run through
bench/compare.py (`python bench/compare.py --only functional`) or alone:
`python bench/compare_functional.py`.
"""

from __future__ import annotations

import numpy as np

try:
    from _timing import set_threads, timed_row, torch_or_none
except ImportError:  # imported as bench.compare_functional
    from bench._timing import set_threads, timed_row, torch_or_none


def _np_mul_add(a, b):
    y = a * b + a
    ga = b + 1.0
    gb = a.copy()
    return y, ga, gb


def _np_xent(x, t):
    m = x.max(1, keepdims=True)
    z = x - m
    e = np.exp(z)
    s = e.sum(1, keepdims=True)
    loss = (np.log(s)[:, 0] - z[np.arange(len(t)), t]).mean()
    p = e / s
    p[np.arange(len(t)), t] -= 1.0
    p /= len(t)
    return loss, p


def rows(threads: int, repeat: int) -> list[dict]:
    """Time each workload with ``threads`` threads; median of ``repeat`` runs each.

    Returns:
        One dict per workload: family, workload, striate_ms, numpy_ms, torch_ms, flop, note.
    """
    import striate
    import striate.functional as F

    set_threads(threads)
    torch = torch_or_none(threads)
    tf = torch.nn.functional if torch is not None else None
    rng = np.random.default_rng(0)
    out = []

    def add(name, s_fn, n_fn, t_fn, note, flop=None):
        out.append(timed_row("functional", name, s_fn, n_fn, t_fn, repeat, note, flop,
                             min_time=0.2))

    def pair(*shape):
        a = rng.standard_normal(shape).astype(np.float32)
        s = striate.Tensor(a.copy(), requires_grad=True)
        t = torch.tensor(a.copy(), requires_grad=True) if torch is not None else None
        return a, s, t

    def grad_out(shape):
        g = rng.standard_normal(shape).astype(np.float32)
        return g, striate.Tensor(g), torch.tensor(g) if torch else None

    # pure overhead: two elementwise ops and their backward on a tiny tensor
    a, sa, ta = pair(16, 16)
    b, sb, tb = pair(16, 16)

    def s_small():
        (sa * sb + sa).sum().backward()

    def t_small():
        (ta * tb + ta).sum().backward()

    add("mul_add_16x16", s_small, lambda: _np_mul_add(a, b),
        t_small if torch else None, "y=a*b+a, sum, backward: per-op overhead")

    # cross entropy, batch 128, 10 and 1000 classes
    for c in (10, 1000):
        x, sx, tx = pair(128, c)
        tgt = rng.integers(0, c, 128)
        st, tt = striate.tensor(tgt), (torch.tensor(tgt) if torch else None)

        def s_ce(sx=sx, st=st):
            F.cross_entropy(sx, st).backward()

        def t_ce(tx=tx, tt=tt):
            tf.cross_entropy(tx, tt).backward()

        add(f"cross_entropy_128x{c}", s_ce, lambda x=x, tgt=tgt: _np_xent(x, tgt),
            t_ce if torch else None, "logits (128, C), class indices, mean, fwd+bwd")

    def norm_case(*shape):
        """Input, gradient and per-channel weight and bias (striate's, torch's or None)."""
        _, sx, tx = pair(*shape)
        _, sg, tg = grad_out(shape)
        c = shape[1]
        sw, sb = striate.ones(c, requires_grad=True), striate.zeros(c, requires_grad=True)
        tw = torch.ones(c, requires_grad=True) if torch else None
        tb = torch.zeros(c, requires_grad=True) if torch else None
        return sx, tx, sg, tg, sw, sb, tw, tb

    # batch norm (train) and layer norm
    sx, tx, sg, tg, sw, sb_, tw, tb_ = norm_case(64, 64, 32, 32)

    def s_bn():
        F.batch_norm(sx, None, None, sw, sb_, training=True).backward(sg)

    def t_bn():
        tf.batch_norm(tx, None, None, tw, tb_, training=True).backward(tg)

    add("batch_norm_train_64x64x32x32", s_bn, None, t_bn if torch else None,
        "affine, batch statistics, fwd+bwd")

    x, sx, tx = pair(64, 197, 384)
    g, sg, tg = grad_out(x.shape)
    lw, lb = striate.ones(384, requires_grad=True), striate.zeros(384, requires_grad=True)
    if torch:
        tlw, tlb = torch.ones(384, requires_grad=True), torch.zeros(384, requires_grad=True)

    def s_ln():
        F.layer_norm(sx, (384,), lw, lb).backward(sg)

    def t_ln():
        tf.layer_norm(tx, (384,), tlw, tlb).backward(tg)

    add("layer_norm_64x197x384", s_ln, None, t_ln if torch else None, "ViT-S sized, fwd+bwd")

    def s_gelu():
        F.gelu(sx).backward(sg)

    def t_gelu():
        tf.gelu(tx).backward(tg)

    add("gelu_64x197x384", s_gelu, None, t_gelu if torch else None, "exact erf form, fwd+bwd")

    def s_sm():
        F.softmax(sx, -1).backward(sg)

    def t_sm():
        tf.softmax(tx, -1).backward(tg)

    add("softmax_64x197x384", s_sm, None, t_sm if torch else None, "last dim, fwd+bwd")

    x, sx, tx = pair(64, 32, 28, 28)
    g, sg, tg = grad_out(x.shape)

    def s_relu():
        F.relu(sx).backward(sg)

    def t_relu():
        tf.relu(tx).backward(tg)

    add("relu_64x32x28x28", s_relu, lambda: (np.maximum(x, 0), g * (x > 0)),
        t_relu if torch else None, "fwd+bwd")

    # batch norm + ReLU (fused in striate's passes), the small CNN's first layer
    sx, tx, sg, tg, sw, sb_, tw, tb_ = norm_case(128, 32, 28, 28)

    def s_bnr():
        F.batch_norm(sx, None, None, sw, sb_, training=True, activation="relu").backward(sg)

    def t_bnr():
        tf.relu(tf.batch_norm(tx, None, None, tw, tb_, training=True)).backward(tg)

    add("batch_norm_relu_128x32x28x28", s_bnr, None, t_bnr if torch else None,
        "training, fwd+bwd; striate fuses the ReLU into the norm's passes")

    # dropout on the small CNN's flattened features
    x, sx, tx = pair(128, 3136)
    g, sg, tg = grad_out(x.shape)
    gen = np.random.default_rng(1)

    def n_drop():
        mask = (gen.random(x.shape, dtype=np.float32) >= 0.25).astype(np.float32) / 0.75
        return x * mask, g * mask

    def s_drop():
        F.dropout(sx, 0.25).backward(sg)

    def t_drop():
        tf.dropout(tx, 0.25).backward(tg)

    add("dropout_128x3136", s_drop, n_drop, t_drop if torch else None,
        "p=0.25, fwd+bwd (mask drawn, applied, gradient)")

    # attention: vit_tiny's shape, batch 128, 4 heads of 16 over 50 tokens
    q, sq, tq = pair(128, 4, 50, 16)
    _, sk, tk = pair(128, 4, 50, 16)
    _, sv, tv = pair(128, 4, 50, 16)
    g, sg, tg = grad_out(q.shape)

    def s_att():
        F.scaled_dot_product_attention(sq, sk, sv).backward(sg)

    def t_att():
        tf.scaled_dot_product_attention(tq, tk, tv).backward(tg)

    add("sdpa_128x4x50x16", s_att, None, t_att if torch else None, "fwd+bwd")

    # one Adam step over four of ResNet-18's conv weights (4.3M floats)
    shapes = [(512, 512, 3, 3), (512, 256, 3, 3), (256, 256, 3, 3), (128, 128, 3, 3)]
    sps = [striate.nn.Parameter(rng.standard_normal(sh).astype(np.float32)) for sh in shapes]
    for p_ in sps:
        p_.grad = striate.tensor(rng.standard_normal(p_.data.shape).astype(np.float32))
    s_opt = striate.optim.Adam(sps, lr=1e-3)
    if torch:
        tps = [torch.nn.Parameter(torch.tensor(p_.data.copy())) for p_ in sps]
        for p_, q_ in zip(tps, sps):
            p_.grad = torch.tensor(q_.grad.data.copy())
        t_opt = torch.optim.Adam(tps, lr=1e-3)
    add("adam_step_4x_resnet_convs", s_opt.step, None, t_opt.step if torch else None,
        f"{sum(int(np.prod(sh)) for sh in shapes) / 1e6:.1f}M parameters")
    return out


if __name__ == "__main__":
    import sys

    sys.argv[1:1] = ["--only", "functional"]
    from compare import main

    main()
