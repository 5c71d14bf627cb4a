"""Batch norm + ReLU fusion: Sequential (and batch_norm_relu, used by ResNet and DenseNet)
runs a batch norm and the plain ReLU after it as one call when nothing can observe the tensor
between them.  Fused and unfused runs give the same bits, forward and backward, in training
and eval mode; hooks, subclasses and other activations keep the two calls."""

from __future__ import annotations

import numpy as np
import pytest

import striate
import striate.functional  # noqa: F401
from striate import nn
from striate.models import create
from striate.nn.normalization import _BatchNorm, batch_norm_relu


def _unfused(monkeypatch):
    monkeypatch.setattr(_BatchNorm, "_fuses_relu", lambda self, relu: False)


def _run(model, x, g, train):
    """Output, input gradient and parameter gradients of one pass."""
    model.train(train)
    striate.manual_seed(7)  # the same dropout masks
    for p in model.parameters():
        p.grad = None
    xt = striate.tensor(x, requires_grad=True)
    y = model(xt)
    y.backward(striate.tensor(g.astype(y.data.dtype)))
    grads = [p.grad.data.copy() for p in model.parameters()]
    return y.data.copy(), xt.grad.data.copy(), grads


def _same(a, b):
    ya, ga, pa = a
    yb, gb, pb = b
    np.testing.assert_array_equal(ya, yb)
    np.testing.assert_array_equal(ga, gb)
    assert len(pa) == len(pb)
    for u, v in zip(pa, pb):
        np.testing.assert_array_equal(u, v)


def _conv_net():
    striate.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1),
                         nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8 * 5 * 5, 6, bias=False), nn.BatchNorm1d(6), nn.ReLU(),
                         nn.Linear(6, 3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("train", [True, False])
def test_sequential_fused_equals_unfused(monkeypatch, rng, dtype, train, threads):
    net = _conv_net()
    if dtype == np.float64:
        net = net.double()
    x = rng.standard_normal((4, 3, 10, 10)).astype(dtype)
    g = rng.standard_normal((4, 3))
    net.train(train)
    state = {k: np.array(v) for k, v in net.state_dict().items()}
    acts = []  # the activation each batch norm ran with
    real = _BatchNorm._forward
    monkeypatch.setattr(_BatchNorm, "_forward",
                        lambda self, inp, act: acts.append(act) or real(self, inp, act))
    fused = _run(net, x, g, train)
    assert acts == ["relu"] * 3  # all three batch norms took their ReLU along
    after = {k: np.array(v) for k, v in net.state_dict().items()}
    net.load_state_dict(state)  # running statistics as before the fused pass
    acts.clear()
    with monkeypatch.context() as mp:
        _unfused(mp)
        unfused = _run(net, x, g, train)
    assert acts == ["none"] * 3
    _same(fused, unfused)
    for k, v in net.state_dict().items():  # the same running statistics
        np.testing.assert_array_equal(np.asarray(v), after[k])


def test_fusion_is_taken_and_skipped_where_it_must_be(rng):
    x = striate.tensor(rng.standard_normal((2, 3, 4, 4)).astype(np.float32),
                       requires_grad=True)

    def last_op(model):
        return type(model(x).grad_fn).__name__

    assert last_op(nn.Sequential(nn.BatchNorm2d(3), nn.ReLU())) == "BatchNormTrain"
    assert last_op(nn.Sequential(nn.BatchNorm2d(3))) == "BatchNormTrain"
    assert last_op(nn.Sequential(nn.BatchNorm2d(3), nn.ReLU6())) != "BatchNormTrain"
    assert last_op(nn.Sequential(nn.ReLU(), nn.BatchNorm2d(3))) == "BatchNormTrain"

    class MyReLU(nn.ReLU):
        pass

    class MyBN(nn.BatchNorm2d):
        def forward(self, input):
            return super().forward(input) * 2.0

    assert last_op(nn.Sequential(nn.BatchNorm2d(3), MyReLU())) == "ReLU"
    out = nn.Sequential(MyBN(3), nn.ReLU())(x)
    assert type(out.grad_fn).__name__ == "ReLU"
    ref = striate.functional.relu(nn.BatchNorm2d(3)(x) * 2.0)
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("where", ["bn", "relu"])
def test_hooks_see_the_tensor_between(rng, where):
    bn, relu = nn.BatchNorm2d(3), nn.ReLU()
    seen = []
    target = bn if where == "bn" else relu
    handle = target.register_forward_hook(lambda m, args, out: seen.append(out.data.copy()))
    x = striate.tensor(rng.standard_normal((2, 3, 4, 4)).astype(np.float32))
    y = nn.Sequential(bn, relu)(x)
    assert len(seen) == 1
    if where == "bn":
        assert (seen[0] < 0).any()  # the batch norm's own output, before the ReLU
    np.testing.assert_array_equal(y.data, np.maximum(seen[0], 0))
    handle.remove()
    seen.clear()
    xg = striate.tensor(x.data, requires_grad=True)
    y2 = batch_norm_relu(bn, relu, xg)
    assert not seen and type(y2.grad_fn).__name__ == "BatchNormTrain"  # fused again


def test_batch_norm_relu_falls_back_for_other_modules(rng):
    x = striate.tensor(rng.standard_normal((2, 3, 4, 4)).astype(np.float32))
    y = batch_norm_relu(nn.Identity(), nn.ReLU(), x)
    np.testing.assert_array_equal(y.data, np.maximum(x.data, 0))
    bn, silu = nn.BatchNorm2d(3), nn.SiLU()
    y = batch_norm_relu(bn, silu, x)
    assert (y.data < 0).any()
    np.testing.assert_array_equal(y.data, silu(bn(x)).data)


@pytest.mark.parametrize("name,kw,shape", [
    ("resnet20", {}, (2, 3, 16, 16)),
    ("resnet50", {"num_classes": 5}, (2, 3, 32, 32)),
    ("densenet_bc", {"depth": 10}, (2, 3, 16, 16)),
    ("small_cnn", {}, (3, 1, 28, 28)),
])
def test_models_fused_equals_unfused(monkeypatch, rng, name, kw, shape):
    striate.manual_seed(0)
    model = create(name, in_channels=shape[1], **kw)
    x = rng.standard_normal(shape).astype(np.float32)
    y0 = model.train()(striate.tensor(x))
    g = rng.standard_normal(y0.shape)
    state = {k: np.array(v) for k, v in model.state_dict().items()}
    fused = _run(model, x, g, True)
    model.load_state_dict(state)
    with monkeypatch.context() as mp:
        _unfused(mp)
        unfused = _run(model, x, g, True)
    _same(fused, unfused)
