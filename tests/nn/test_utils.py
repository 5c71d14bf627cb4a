"""nn.utils: clip_grad_norm_ / clip_grad_value_ (PyTorch parity), parameter vectors."""

import math

import numpy as np
import pytest

import striate
from striate import nn


def _params(rng, scale):
    ps = []
    for shape in [(4, 3), (3,), (2, 2, 2)]:
        p = nn.Parameter(rng.standard_normal(shape).astype(np.float32))
        p.grad = striate.tensor(rng.standard_normal(shape).astype(np.float32) * scale)
        ps.append(p)
    ps.append(nn.Parameter(np.zeros(2, np.float32)))  # no gradient: skipped
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm, scale", [(1.0, 1.0), (100.0, 1.0), (0.5, 10.0)])
def test_clip_grad_norm_by_hand(norm_type, max_norm, scale):
    ps = _params(np.random.default_rng(0), scale)
    grads = [p.grad.data.copy() for p in ps[:3]]
    flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
    expected = (np.abs(flat).max() if norm_type == math.inf
                else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type))
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    assert isinstance(total, striate.Tensor)
    np.testing.assert_allclose(float(total), expected, rtol=1e-5)
    coef = min(1.0, max_norm / (expected + 1e-6))
    for p, g in zip(ps, grads):
        np.testing.assert_allclose(p.grad.data, g * coef, rtol=1e-5)


@pytest.mark.parity
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_matches_torch(norm_type):
    torch = pytest.importorskip("torch")
    ps = _params(np.random.default_rng(1), 5.0)[:3]
    tps = []
    for p in ps:
        t = torch.tensor(p.data.copy(), requires_grad=True)
        t.grad = torch.tensor(p.grad.data.copy())
        tps.append(t)
    total = nn.utils.clip_grad_norm_(ps, 2.0, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 2.0, norm_type=norm_type)
    np.testing.assert_allclose(float(total), float(ttotal), rtol=1e-5)
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-5, atol=1e-7)
    nn.utils.clip_grad_value_(ps, 0.1)
    torch.nn.utils.clip_grad_value_(tps, 0.1)
    for p, t in zip(ps, tps):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())


def test_nonfinite_and_edge_cases():
    p = nn.Parameter(np.zeros(2, np.float32))
    p.grad = striate.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert float(nn.utils.clip_grad_norm_([nn.Parameter(np.zeros(1, np.float32))], 1.0)) == 0
    q = nn.Parameter(np.zeros(2, np.float32))
    q.grad = striate.tensor([3.0, 4.0])
    assert float(nn.utils.clip_grad_norm_(q, 10.0)) == 5.0  # one tensor is accepted
    np.testing.assert_array_equal(q.grad.data, [3.0, 4.0])
    nn.utils.clip_grad_value_(q, 3.5)
    np.testing.assert_array_equal(q.grad.data, [3.0, 3.5])


def test_parameters_vector_round_trip():
    ps = _params(np.random.default_rng(2), 1.0)
    v = nn.utils.parameters_to_vector(ps)
    assert v.shape == (12 + 3 + 8 + 2,)
    nn.utils.vector_to_parameters(v * 2, ps)
    np.testing.assert_allclose(nn.utils.parameters_to_vector(ps).data, v.data * 2)
    with pytest.raises(ValueError, match="expected a 1-D vector of 25 elements"):
        nn.utils.vector_to_parameters(np.zeros(3), ps)
