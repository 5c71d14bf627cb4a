"""Loss modules: gradcheck and PyTorch parity (value and input gradient) for each option."""

import numpy as np
import pytest

import striate
from striate import nn

W = np.array([0.5, 2.0, 1.0, 0.25, 1.5], np.float32)


def _data(kind, rng, dtype):
    x = rng.standard_normal((6, 5)).astype(dtype)
    if kind in ("index", "index_all"):
        t = rng.integers(0, 5, 6)
        if kind == "index":
            t[2] = -100  # ignored by the default ignore_index
        return x, t
    if kind == "index_spatial":
        return rng.standard_normal((2, 5, 3, 2)).astype(dtype), rng.integers(0, 5, (2, 3, 2))
    if kind == "probs":
        p = rng.random((6, 5)).astype(dtype)
        return x, p / p.sum(1, keepdims=True)
    if kind == "binary":
        return x, (rng.random((6, 5)) > 0.5).astype(dtype)
    return x, rng.standard_normal((6, 5)).astype(dtype)


LOSSES = [
    ("ce", lambda m, T: m.CrossEntropyLoss(), "index"),
    ("ce_weight_sum", lambda m, T: m.CrossEntropyLoss(weight=T(W), reduction="sum"), "index"),
    ("ce_smooth_none", lambda m, T: m.CrossEntropyLoss(label_smoothing=0.1, reduction="none",
                                                       ignore_index=1), "index_all"),
    ("ce_spatial", lambda m, T: m.CrossEntropyLoss(weight=T(W)), "index_spatial"),
    ("ce_probs", lambda m, T: m.CrossEntropyLoss(label_smoothing=0.2), "probs"),
    ("nll", lambda m, T: m.NLLLoss(weight=T(W)), "index"),
    ("nll_none", lambda m, T: m.NLLLoss(reduction="none"), "index"),
    ("mse", lambda m, T: m.MSELoss(), "real"),
    ("mse_sum", lambda m, T: m.MSELoss(reduction="sum"), "real"),
    ("l1", lambda m, T: m.L1Loss(), "real"),
    ("l1_none", lambda m, T: m.L1Loss(reduction="none"), "real"),
    ("bce_logits", lambda m, T: m.BCEWithLogitsLoss(), "binary"),
    ("bce_logits_weights", lambda m, T: m.BCEWithLogitsLoss(
        weight=T(np.linspace(0.5, 1.5, 5, dtype=np.float32)), pos_weight=T(W),
        reduction="sum"), "binary"),
]
IDS = [e[0] for e in LOSSES]


@pytest.mark.parametrize("name, make, kind", LOSSES, ids=IDS)
def test_gradcheck(name, make, kind):
    loss = make(nn, lambda a: striate.tensor(a.astype(np.float64))).double()
    x, t = _data(kind, np.random.default_rng(0), np.float64)
    if name == "nll" or name == "nll_none":
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
    target = striate.tensor(t)
    assert striate.gradcheck(lambda a: loss(a, target),
                             (striate.tensor(x, requires_grad=True),))


@pytest.mark.parity
@pytest.mark.parametrize("name, make, kind", LOSSES, ids=IDS)
def test_parity_with_torch(name, make, kind):
    torch = pytest.importorskip("torch")
    ours = make(nn, striate.tensor)
    theirs = make(torch.nn, torch.tensor)
    x, t = _data(kind, np.random.default_rng(1), np.float32)
    xs = striate.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, ty = ours(xs, striate.tensor(t)), theirs(xt, torch.tensor(t))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    y.backward(striate.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(xs.grad.data, xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
