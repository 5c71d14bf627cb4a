"""Optimizers: hand-checked updates, PyTorch trajectory parity, state dicts, errors."""

from types import SimpleNamespace

import numpy as np
import pytest

import striate
from striate import optim


class _Param:
    """The parameter protocol the optimizers rely on: ``.data`` array and ``.grad``."""

    def __init__(self, data):
        self.data = data
        self.grad = None


def _param(values):
    return _Param(np.array(values, dtype=np.float32))


def _grad(values):
    """A gradient as a Tensor-like object (``.data`` is the array), as autograd gives it."""
    return SimpleNamespace(data=np.array(values, dtype=np.float32))


def test_sgd_plain_step_matches_formula():
    p = _param([1.0, -2.0])
    p.grad = _grad([0.5, 1.0])
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.95, -2.1], rtol=1e-6)


def test_sgd_momentum_nesterov_weight_decay_by_hand():
    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.5)
    w, buf = 1.0, None
    for g in [1.0, -2.0, 0.5]:
        p.grad = _grad([g])
        opt.step()
        d = g + 0.5 * w
        buf = d if buf is None else 0.9 * buf + d
        w = w - 0.1 * (d + 0.9 * buf)
        np.testing.assert_allclose(p.data, [w], rtol=1e-5)


def test_adam_first_step_is_lr_times_sign():
    p = _param([1.0, 1.0, 1.0])
    p.grad = _grad([3.0, -0.1, 0.0])
    optim.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, [0.99, 1.01, 1.0], atol=1e-6)


def test_params_without_grad_are_skipped_and_grad_not_modified():
    p, q = _param([1.0]), _param([2.0])
    g = _grad([1.0])
    p.grad = g
    for cls, kw in [(optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True)),
                    (optim.Adam, dict(weight_decay=0.1)), (optim.AdamW, {}),
                    (optim.RMSprop, dict(weight_decay=0.1, centered=True, momentum=0.5))]:
        cls([p, q], **kw).step()
        np.testing.assert_array_equal(g.data, [1.0])
        np.testing.assert_array_equal(q.data, [2.0])


def test_zero_grad():
    p = _param([1.0])
    p.grad = _grad([3.0])
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, [0.0])
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_and_add_param_group():
    a, b = _param([1.0]), _param([1.0])
    opt = optim.SGD([{"params": [a]}], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["momentum"] == 0.9
    a.grad, b.grad = _grad([1.0]), _grad([1.0])
    opt.step()
    np.testing.assert_allclose([a.data[0], b.data[0]], [0.9, 0.99], rtol=1e-6)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    assert "Parameter Group 1" in repr(opt)


@pytest.mark.parametrize("make, match", [
    (lambda ps: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda ps: optim.SGD(ps, lr=-1.0), "Invalid learning rate"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "Nesterov"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.9)), "beta parameter at index 0"),
    (lambda ps: optim.RMSprop(ps, alpha=-0.1), "Invalid alpha"),
    (lambda ps: optim.SGD(ps + ps, lr=0.1), "duplicate"),
])
def test_invalid_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make([_param([1.0])])


def test_set_of_params_rejected():
    with pytest.raises(TypeError, match="ordered"):
        optim.SGD({_param([1.0])}, lr=0.1)


# -- PyTorch parity ------------------------------------------------------------------------------

CONFIGS = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("SGD", dict(lr=0.05, maximize=True, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, weight_decay=1e-2, amsgrad=True)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True, betas=(0.8, 0.99))),
    ("RMSprop", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-2, momentum=0.9, centered=True, weight_decay=1e-2)),
]


def _torch_loss_and_grads(torch, arrays, x, y):
    """Loss of a tiny 2-layer tanh MLP and its gradients, computed by torch (the oracle)."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    w1, b1, w2, b2 = ts
    h = torch.tanh(x @ w1.T + b1)
    loss = ((h @ w2.T + b2 - y) ** 2).mean()
    loss.backward()
    return float(loss.detach()), [t.grad.numpy().copy() for t in ts]


def _init_arrays(rng):
    return [rng.standard_normal((8, 5)).astype(np.float32) * 0.5,
            rng.standard_normal(8).astype(np.float32) * 0.1,
            rng.standard_normal((3, 8)).astype(np.float32) * 0.5,
            np.zeros(3, np.float32)]


@pytest.mark.parity
@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_trajectory_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = _init_arrays(rng)
    x = torch.tensor(rng.standard_normal((16, 5)).astype(np.float32))
    y = torch.tensor(rng.standard_normal((16, 3)).astype(np.float32))
    ours = [_param(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(20):
        _, grads = _torch_loss_and_grads(torch, [p.data for p in ours], x, y)
        for p, g in zip(ours, grads):
            p.grad = _grad(g)
        opt.step()
        topt.zero_grad()
        h = torch.tanh(x @ theirs[0].T + theirs[1])
        ((h @ theirs[2].T + theirs[3] - y) ** 2).mean().backward()
        topt.step()
    for p, t in zip(ours, theirs):
        ref = t.detach().numpy()
        np.testing.assert_allclose(p.data, ref, atol=1e-5 * max(1.0, np.abs(ref).max()),
                                   rtol=1e-4)


# -- state dicts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_state_dict_round_trip_resumes_identically(name, kwargs, tmp_path):
    rng = np.random.default_rng(1)
    a = [_param(rng.standard_normal((4, 3))), _param(rng.standard_normal(3))]
    grads = [[rng.standard_normal(p.data.shape).astype(np.float32) for p in a]
             for _ in range(8)]
    opt = getattr(optim, name)(a, **kwargs)
    for gs in grads[:4]:
        for p, g in zip(a, gs):
            p.grad = _grad(g)
        opt.step()
    path = tmp_path / "opt.safetensors"
    striate.save({"optimizer": opt.state_dict(), "params": [p.data for p in a]}, path)
    ckpt = striate.load(path)
    b = [_param(d) for d in ckpt["params"]]
    opt2 = getattr(optim, name)(b, **kwargs)
    opt2.load_state_dict(ckpt["optimizer"])
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    for gs in grads[4:]:
        for p, q, g in zip(a, b, gs):
            p.grad, q.grad = _grad(g), _grad(g)
        opt.step()
        opt2.step()
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_layout_like_torch():
    a, b = _param([1.0]), _param([2.0, 3.0])
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    b.grad = _grad([1.0, 1.0])
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert list(sd["state"]) == [1]
    np.testing.assert_array_equal(sd["state"][1]["momentum_buffer"], [1.0, 1.0])
    with pytest.raises(ValueError, match="number of parameter groups"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([{"params": [a, b]}, {"params": [_param([0.0])]}], lr=0.1).load_state_dict(sd)


def test_load_state_dict_copies_and_casts():
    p = _param([1.0, 2.0])
    opt = optim.Adam([p])
    state = np.array([5.0, 6.0], dtype=np.float64)
    opt.load_state_dict({"state": {0: {"step": 2, "exp_avg": state, "exp_avg_sq": state}},
                         "param_groups": [dict(opt.state_dict()["param_groups"][0])]})
    st = opt.state[p]
    assert st["exp_avg"].dtype == np.float32 and st["step"] == 2
    state[0] = 100.0
    assert st["exp_avg"][0] == 5.0


@pytest.mark.parity
@pytest.mark.parametrize("name, kwargs", [CONFIGS[0], CONFIGS[4], CONFIGS[5], CONFIGS[8]])
def test_end_to_end_training_matches_torch(name, kwargs):
    """Model, loss and gradients from striate's own autograd, then the optimizer: 20 steps of
    a small MLP with cross entropy give the same weights as PyTorch."""
    torch = pytest.importorskip("torch")
    from striate import nn

    def build(ns):
        return ns.Sequential(ns.Linear(6, 8), ns.Tanh(), ns.Linear(8, 3))

    striate.manual_seed(0)
    ours, theirs = build(nn), build(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(3)
    xa = rng.standard_normal((16, 6)).astype(np.float32)
    ya = rng.integers(0, 3, 16)
    opt = getattr(optim, name)(ours.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
    crit, tcrit = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for _ in range(20):
        opt.zero_grad()
        crit(ours(striate.tensor(xa)), striate.tensor(ya)).backward()
        opt.step()
        topt.zero_grad()
        tcrit(theirs(torch.tensor(xa)), torch.tensor(ya)).backward()
        topt.step()
    tsd = theirs.state_dict()
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(value, tsd[key].numpy(), rtol=1e-4, atol=2e-5, err_msg=key)


@pytest.mark.parametrize("kwargs", [
    {}, dict(weight_decay=0.1, amsgrad=True), dict(weight_decay=0.1, maximize=True),
    dict(weight_decay=0.1, decoupled_weight_decay=True),
])
def test_adam_flat_path_equals_per_parameter_path(kwargs, monkeypatch):
    """Small groups are updated through one flat buffer; the result is bit-identical to the
    per-parameter path, also when a parameter misses a gradient (steps diverge), after a
    state reload, and the state entries stay per parameter."""
    from striate.optim import adam

    rng = np.random.default_rng(4)
    init = [rng.standard_normal(s).astype(np.float32) for s in [(5, 3), (3,), (2, 2, 2)]]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in init] for _ in range(9)]

    def run(flat_max, skip):
        monkeypatch.setattr(adam, "_FLAT_MAX", flat_max)
        ps = [_param(a) for a in init]
        opt = optim.Adam(ps, lr=0.01, **kwargs)
        for i, gs in enumerate(grads):
            for j, (p, g) in enumerate(zip(ps, gs)):
                p.grad = None if (skip and i == 3 and j == 1) else _grad(g)
            opt.step()
            if i == 6:
                opt.load_state_dict(opt.state_dict())
        return ps, opt

    for skip in (False, True):
        flat_ps, flat_opt = run(1 << 18, skip)
        ref_ps, ref_opt = run(0, skip)
        assert not ref_opt._flat_cache
        assert bool(flat_opt._flat_cache) == (not skip)  # diverged steps: per-parameter path
        for p, q in zip(flat_ps, ref_ps):
            np.testing.assert_array_equal(p.data, q.data)
        a, b = flat_opt.state_dict()["state"], ref_opt.state_dict()["state"]
        for k in b:
            assert a[k]["step"] == b[k]["step"]
            for name in b[k]:
                np.testing.assert_array_equal(a[k][name], b[k][name])
                assert np.shape(a[k][name]) == np.shape(b[k][name])


@pytest.mark.parametrize("kwargs", [
    {}, {"weight_decay": 0.1, "amsgrad": True}, {"weight_decay": 0.1, "maximize": True},
    {"weight_decay": 0.1, "decoupled_weight_decay": True, "amsgrad": True},
])
def test_adam_kernel_equals_numpy_path(kwargs, monkeypatch):
    """float32 parameters take the compiled one-pass kernel: the same bits as the NumPy
    per-parameter formulas, on parameters larger than one parallel task."""
    from striate import kernels
    from striate.optim import adam

    rng = np.random.default_rng(5)
    init = [rng.standard_normal(s).astype(np.float32) for s in [(300, 70), (17,), (5, 3)]]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in init] for _ in range(6)]
    calls = []
    real = kernels.adam_step
    monkeypatch.setattr(kernels, "adam_step", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(adam, "_FLAT_MAX", 0)

    def run():
        ps = [_param(a) for a in init]
        opt = optim.Adam(ps, lr=0.01, **kwargs)
        for gs in grads:
            for p, g in zip(ps, gs):
                p.grad = _grad(g)
            opt.step()
        return ps, opt.state_dict()["state"]

    ps, st = run()
    assert len(calls) == len(init) * len(grads)
    with monkeypatch.context() as mp:
        mp.setattr(adam.Adam, "_step_kernel", lambda self, group, p, g: False)
        ref_ps, ref_st = run()
    for p, q in zip(ps, ref_ps):
        np.testing.assert_array_equal(p.data, q.data)
    for k in ref_st:
        for name in ref_st[k]:
            np.testing.assert_array_equal(st[k][name], ref_st[k][name])
