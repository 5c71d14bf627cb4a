"""Learning-rate schedulers: lr (and momentum) sequences against PyTorch, state dicts, errors."""

import numpy as np
import pytest

import striate
from striate import optim
from striate.optim import lr_scheduler as sched


class _Param:
    def __init__(self, data):
        self.data = np.asarray(data, np.float32)
        self.grad = None


def _ours(opt_name="SGD", groups=2, **okw):
    params = [{"params": [_Param([1.0])], "lr": 0.1 * (i + 1)} for i in range(groups)]
    return getattr(optim, opt_name)(params, lr=0.1, **okw)


def _theirs(torch, opt_name="SGD", groups=2, **okw):
    params = [{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1 * (i + 1)}
              for i in range(groups)]
    return getattr(torch.optim, opt_name)(params, lr=0.1, **okw)


def _step_both(opt, s, topt, ts, steps):
    ours, theirs = [s.get_last_lr()], [ts.get_last_lr()]
    mom_ours, mom_theirs = [], []
    for _ in range(steps):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        ours.append(s.get_last_lr())
        theirs.append(ts.get_last_lr())
        for g, tg in zip(opt.param_groups, topt.param_groups):
            if "betas" in g:
                mom_ours.append(g["betas"][0])
                mom_theirs.append(tg["betas"][0])
            else:
                mom_ours.append(g["momentum"])
                mom_theirs.append(tg["momentum"])
    return ours, theirs, mom_ours, mom_theirs


SIMPLE = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 10, 10, 25], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=1e-3)),
    ("CosineAnnealingLR", dict(T_max=12)),
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=8)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.2, total_iters=10)),
]


@pytest.mark.parity
@pytest.mark.parametrize("name, kwargs", SIMPLE)
def test_lr_sequence_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    opt, topt = _ours(momentum=0.9), _theirs(torch, momentum=0.9)
    s = getattr(sched, name)(opt, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    ours, theirs, _, _ = _step_both(opt, s, topt, ts, 40)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parity
def test_lambda_lr_matches_torch():
    torch = pytest.importorskip("torch")
    fns = [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e)]
    opt, topt = _ours(), _theirs(torch)
    ours, theirs, _, _ = _step_both(opt, sched.LambdaLR(opt, fns), topt,
                                    torch.optim.lr_scheduler.LambdaLR(topt, fns), 35)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parity
def test_sequential_warmup_then_cosine_matches_torch():
    torch = pytest.importorskip("torch")
    opt, topt = _ours(), _theirs(torch)
    s = sched.SequentialLR(opt, [sched.LinearLR(opt, start_factor=0.01, total_iters=5),
                                 sched.CosineAnnealingLR(opt, T_max=25)], milestones=[5])
    tl = torch.optim.lr_scheduler
    ts = tl.SequentialLR(topt, [tl.LinearLR(topt, start_factor=0.01, total_iters=5),
                                tl.CosineAnnealingLR(topt, T_max=25)], milestones=[5])
    ours, theirs, _, _ = _step_both(opt, s, topt, ts, 35)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parity
@pytest.mark.parametrize("opt_name, okw", [("SGD", dict(momentum=0.9)), ("Adam", {})])
@pytest.mark.parametrize("kwargs", [
    dict(max_lr=0.5, total_steps=40),
    dict(max_lr=[0.5, 1.0], epochs=4, steps_per_epoch=10, anneal_strategy="linear"),
    dict(max_lr=0.5, total_steps=40, three_phase=True, pct_start=0.25, div_factor=10.0,
         final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9),
])
def test_one_cycle_matches_torch(opt_name, okw, kwargs):
    torch = pytest.importorskip("torch")
    opt, topt = _ours(opt_name, **okw), _theirs(torch, opt_name, **okw)
    s = sched.OneCycleLR(opt, **kwargs)
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, **kwargs)
    ours, theirs, mo, mt = _step_both(opt, s, topt, ts, 39)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(mo, mt, rtol=1e-12)
    with pytest.raises(ValueError, match="Tried to step 41 times"):
        s.step()
        s.step()


def test_step_lr_by_hand():
    opt = _ours(groups=1)
    s = sched.StepLR(opt, step_size=2, gamma=0.5)
    lrs = [s.get_last_lr()[0]]
    for _ in range(5):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert opt.param_groups[0]["lr"] == lrs[-1]


def test_cosine_endpoints():
    opt = _ours(groups=1)
    s = sched.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for _ in range(5):
        s.step()
    np.testing.assert_allclose(s.get_last_lr(), [0.055])
    for _ in range(5):
        s.step()
    np.testing.assert_allclose(s.get_last_lr(), [0.01])


@pytest.mark.parametrize("make", [
    lambda o: sched.StepLR(o, step_size=3),
    lambda o: sched.MultiStepLR(o, milestones=[2, 5]),
    lambda o: sched.CosineAnnealingLR(o, T_max=7),
    lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=20),
    lambda o: sched.SequentialLR(o, [sched.LinearLR(o, total_iters=3),
                                     sched.ExponentialLR(o, gamma=0.8)], milestones=[3]),
])
def test_state_dict_round_trip(make, tmp_path):
    opt = _ours(momentum=0.9)
    s = make(opt)
    for _ in range(6):
        opt.step()
        s.step()
    path = tmp_path / "ckpt.safetensors"
    striate.save({"optimizer": opt.state_dict(), "scheduler": s.state_dict()}, path)
    ckpt = striate.load(path)
    opt2 = _ours(momentum=0.9)
    s2 = make(opt2)
    opt2.load_state_dict(ckpt["optimizer"])
    s2.load_state_dict(ckpt["scheduler"])
    assert s2.get_last_lr() == s.get_last_lr()
    for _ in range(8):
        s.step()
        s2.step()
        assert s2.get_last_lr() == s.get_last_lr()
        assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


def test_errors():
    opt = _ours()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        sched.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        sched.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="total_steps OR"):
        sched.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        sched.OneCycleLR(opt, max_lr=1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        sched.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="momentum or beta1"):
        sched.OneCycleLR(optim.Optimizer([_Param([1.0])], {"lr": 0.1}), max_lr=1.0,
                         total_steps=5)
    with pytest.raises(ValueError, match="one milestone fewer"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 1)], milestones=[2])


@pytest.mark.parity
@pytest.mark.parametrize("kwargs", [
    dict(patience=2),
    dict(mode="max", factor=0.5, patience=1, threshold=0.05, threshold_mode="abs",
         cooldown=2, min_lr=[0.01, 0.05]),
])
def test_reduce_on_plateau_matches_torch(kwargs, tmp_path):
    torch = pytest.importorskip("torch")
    opt, topt = _ours(), _theirs(torch)
    s = sched.ReduceLROnPlateau(opt, **kwargs)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    metrics = np.random.default_rng(0).random(40).cumsum() * 0.01 + np.sin(np.arange(40))
    for i, m in enumerate(metrics):
        s.step(m)
        ts.step(m)
        assert s.get_last_lr() == ts.get_last_lr(), i
        if i == 20:  # resume from a checkpoint half way
            path = tmp_path / "s.safetensors"
            striate.save({"s": s.state_dict()}, path)
            s = sched.ReduceLROnPlateau(opt, **kwargs)
            s.load_state_dict(striate.load(path)["s"])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        sched.ReduceLROnPlateau(opt, factor=1.0)
