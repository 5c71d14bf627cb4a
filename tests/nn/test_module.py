"""Module machinery: registration, traversal, state dicts, modes, freezing, hooks, repr,
containers. Uses small modules built from Tensor ops, so it does not depend on the layers."""

import numpy as np
import pytest

import striate
from striate import nn


class Affine(nn.Module):
    def __init__(self, n_in, n_out, bias=True):
        super().__init__()
        self.weight = nn.Parameter(np.arange(n_in * n_out, dtype=np.float32)
                                   .reshape(n_out, n_in) / 10)
        if bias:
            self.bias = nn.Parameter(np.zeros(n_out, np.float32))
        else:
            self.register_parameter("bias", None)
        self.register_buffer("calls", np.array(0, np.int64))
        self.register_buffer("scratch", np.zeros(2, np.float32), persistent=False)

    def forward(self, x):
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return f"{self.weight.shape[1]}, {self.weight.shape[0]}"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(Affine(3, 4), Affine(4, 4, bias=False))
        self.head = Affine(4, 2)

    def forward(self, x):
        return self.head(self.body(x).relu())


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["body.0.weight", "body.0.bias", "body.1.weight", "head.weight",
                     "head.bias"]
    assert [n for n, _ in net.named_buffers()] == ["body.0.calls", "body.0.scratch",
                                                    "body.1.calls", "body.1.scratch",
                                                    "head.calls", "head.scratch"]
    assert [n for n, _ in net.named_children()] == ["body", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "head"]
    assert len(list(net.modules())) == 5
    assert [n for n, _ in net.head.named_parameters(prefix="h")] == ["h.weight", "h.bias"]
    assert len(list(net.parameters(recurse=False))) == 0
    assert net.get_submodule("body.1") is net.body[1]
    assert net.get_parameter("head.bias") is net.head.bias
    assert net.num_parameters() == 12 + 4 + 16 + 8 + 2
    assert isinstance(net.head.calls, striate.Tensor)
    assert net.body[1].bias is None


def test_shared_parameters_counted_once():
    net = Net()
    shared = Affine(2, 2)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.parameters())) == 2
    assert seq.num_parameters() == 6


def test_assignment_rules():
    m = Affine(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'ndarray' as parameter 'weight'"):
        m.weight = np.zeros((2, 2))
    m.bias = None
    assert "bias" not in m.state_dict()
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_parameter("forward", None)
    with pytest.raises(KeyError, match="empty or contain"):
        m.register_buffer("a.b", np.zeros(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Bad(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(np.zeros(1))
        Bad()
    m.calls = np.array(5, np.int64)  # assigning an array to a buffer wraps it
    assert isinstance(m.calls, striate.Tensor) and m.state_dict()["calls"] == 5
    del m.weight
    assert "weight" not in dict(m.named_parameters())


def test_state_dict_round_trip_and_absent_bias_key_stability(tmp_path):
    a, b = Net(), Net()
    for p in b.parameters():
        p.data[...] = 7.0
    sd = a.state_dict()
    assert list(sd) == ["body.0.weight", "body.0.bias", "body.0.calls", "body.1.weight",
                        "body.1.calls", "head.weight", "head.bias", "head.calls"]
    assert isinstance(sd["head.weight"], np.ndarray)
    assert sd["head.weight"] is a.head.weight.data  # shares memory, like torch
    kept = b.head.weight
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.head.weight is kept  # loaded in place: optimizers keep their parameters
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)
    path = tmp_path / "net.safetensors"
    striate.save(a.state_dict(), path)
    c = Net()
    c.load_state_dict(striate.load(path))
    np.testing.assert_array_equal(c.head.weight.data, a.head.weight.data)
    sd_vars = a.state_dict(keep_vars=True)
    assert sd_vars["head.weight"] is a.head.weight


def test_load_state_dict_strict_errors():
    net = Net()
    sd = dict(net.state_dict())
    del sd["head.bias"]
    sd["extra.weight"] = np.zeros(1)
    sd["body.0.weight"] = np.zeros((5, 5), np.float32)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "head.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for body.0.weight: copying a param with shape (5, 5)" in msg
    sd["body.0.weight"] = np.ones((4, 3), np.float32)
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["head.bias"] and res.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(net.body[0].weight.data, 1.0)
    bad = dict(net.state_dict())
    bad["head.weight"] = np.zeros((3, 3), np.float32)
    with pytest.raises(RuntimeError, match="size mismatch for head.weight"):
        net.load_state_dict(bad, strict=False)


def _snapshot(module):
    return {k: np.array(v, copy=True) for k, v in module.state_dict().items()}


def _assert_unchanged(module, before):
    after = module.state_dict()
    assert list(after) == list(before)
    for k, v in before.items():
        assert after[k].dtype == v.dtype
        np.testing.assert_array_equal(after[k], v, err_msg=k)


def test_load_state_dict_is_atomic_and_names_the_bad_key():
    """A value that cannot be loaded, even the last one, leaves every tensor as it was."""
    net = Net()
    before = _snapshot(net)
    bad = {k: v + 100 for k, v in before.items()}
    bad["head.bias"] = np.array(["x", "y"])
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(bad)
    assert 'cannot load "head.bias": the value has dtype <U1, not numbers' in str(err.value)
    _assert_unchanged(net, before)
    # every bad key is reported, not only the first
    bad["body.0.weight"] = np.full((4, 3), None)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(bad, strict=False)
    msg = str(err.value)
    assert '"head.bias"' in msg and 'cannot load "body.0.weight": the value has dtype object' \
        in msg
    _assert_unchanged(net, before)
    bad["body.0.weight"] = [[1.0, 2.0], [3.0]]   # ragged: not an array at all
    with pytest.raises(RuntimeError, match='cannot load "body.0.weight": not an array'):
        net.load_state_dict(bad)
    _assert_unchanged(net, before)


@pytest.mark.parametrize("key, value, needle", [
    ("head.bias", np.array([None, None], dtype=object), "dtype object, not numbers"),
    ("head.bias", np.array([1 + 2j, 3j]), ("a complex128 value into a float32 tensor: complex "
                                           "values into a real tensor would lose their "
                                           "imaginary part")),
    ("head.calls", np.array(np.nan), ("a float64 value into a int64 tensor: NaN or inf "
                                      "cannot be stored")),
    ("head.calls", np.array(np.inf), "NaN or inf cannot be stored"),
    ("head.calls", np.array(2.5), "non-integer values would be truncated"),
    ("head.calls", np.array(2.0 ** 63), ("do not fit -9223372036854775808 to "
                                         "9223372036854775807")),
    ("head.calls", np.array(2 ** 64 - 1, np.uint64), "do not fit"),
    ("head.bias", np.array([1e40, 0.0]), "1e+40 overflows float32 (it would become inf)"),
    ("head.bias", np.array([2 ** 200, 0], dtype=object), "dtype object"),
    ("head.bias", "ab", "dtype <U2, not numbers"),
    ("head.bias", np.array(["2020-01-01", "2020-01-02"], "M8[D]"), "dtype datetime64[D]"),
])
def test_load_state_dict_refuses_values_that_would_load_silently_wrong(key, value, needle):
    net = Net()
    before = _snapshot(net)
    sd = {k: np.array(v, copy=True) for k, v in before.items()}
    sd[key] = value
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    assert f'"{key}"' in str(err.value) and needle in str(err.value), str(err.value)
    _assert_unchanged(net, before)
    if not isinstance(value, str) and value.dtype.kind in "OUc":
        with pytest.raises(RuntimeError, match=needle.split(":")[0]):
            net.load_state_dict(sd, assign=True)   # assign refuses non-numbers and complex
        _assert_unchanged(net, before)


def test_load_state_dict_converts_what_is_exact_or_rounding_only():
    """Same-kind casts PyTorch users expect still load: float64 into float32 (rounded),
    integral floats and in-range ints into an int64 buffer, ints and bools into floats, NaN
    and inf into a float tensor (kept as they are), complex with a complex target."""
    net = Net()
    sd = {k: np.array(v, copy=True) for k, v in net.state_dict().items()}
    sd["head.bias"] = np.array([0.1, np.nan], np.float64)
    sd["head.calls"] = np.array(7.0)
    sd["head.weight"] = np.arange(8, dtype=np.int64).reshape(2, 4)
    sd["body.0.bias"] = np.array([True, False, True, np.True_])
    sd["body.1.calls"] = np.array(3, np.uint8)
    sd["body.0.calls"] = striate.tensor(np.array(5, np.int32))
    net.load_state_dict(sd)
    out = net.state_dict()
    assert out["head.bias"].dtype == np.float32
    np.testing.assert_array_equal(out["head.bias"], np.array([0.1, np.nan], np.float32))
    assert out["head.calls"].dtype == np.int64 and int(out["head.calls"]) == 7
    np.testing.assert_array_equal(out["head.weight"], np.arange(8).reshape(2, 4))
    np.testing.assert_array_equal(out["body.0.bias"], [1, 0, 1, 1])
    assert int(out["body.1.calls"]) == 3 and int(out["body.0.calls"]) == 5
    sd["head.bias"] = np.array([np.inf, -np.inf], np.float64)   # inf stays inf: not overflow
    net.load_state_dict(sd)
    np.testing.assert_array_equal(net.head.bias.data, [np.inf, -np.inf])
    weight = net.head.weight
    sd["head.weight"] = np.ones((2, 4), np.float64)
    net.load_state_dict(sd, assign=True)    # assign: the dtype follows the value
    assert net.head.weight is weight and net.head.weight.data.dtype == np.float64


def test_load_state_dict_bool_and_narrow_buffers():
    m = nn.Module()
    m.register_buffer("mask", np.zeros(2, bool))
    m.register_buffer("small", np.zeros(2, np.int8))
    m.register_buffer("half", np.zeros(2, np.float16))
    m.load_state_dict({"mask": np.array([1.0, 0.0]), "small": np.array([-128, 127]),
                       "half": np.array([65504.0, 1e-9])})
    np.testing.assert_array_equal(m.mask.data, [True, False])
    for key, value, needle in (("mask", np.array([2, 0]), "do not fit 0 to 1"),
                               ("small", np.array([0, 128]), "do not fit -128 to 127"),
                               ("half", np.array([1e5, 0.0]), "100000.0 overflows float16")):
        sd = {k: np.array(v, copy=True) for k, v in m.state_dict().items()}
        sd[key] = value
        with pytest.raises(RuntimeError, match=needle):
            m.load_state_dict(sd)


def test_train_eval_return_self_and_recurse():
    net = Net()
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net.body.train(False)
    assert net.training and not net.body[0].training
    with pytest.raises(TypeError, match="mode: expected a bool, got str"):
        net.train("yes")


def test_freezing_with_requires_grad_():
    net = Net()
    assert net.body.requires_grad_(False) is net.body
    assert net.num_parameters(trainable_only=True) == 8 + 2
    out = net(striate.randn(5, 3)).sum()
    out.backward()
    assert all(p.grad is None for p in net.body.parameters())
    assert all(p.grad is not None for p in net.head.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_and_double():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Affine", "Affine", "Sequential", "Affine", "Net"]
    w = net.head.weight
    net.double()
    assert net.head.weight is w and w.dtype == np.float64
    assert net.head.calls.dtype == np.int64
    net.float()
    assert w.dtype == np.float32


def test_forward_hooks_and_pre_hooks():
    m = Affine(2, 2)
    x = striate.tensor([[1.0, 2.0]])
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    y = m(x)
    np.testing.assert_allclose(y.data, (x.data * 2) @ m.weight.data.T + 1)
    assert calls == [(1, 2)]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(m(x).data, x.data @ m.weight.data.T)
    with m.register_forward_hook(lambda *a: calls.append("ctx")):
        m(x)
    m(x)
    assert calls == [(1, 2), "ctx"]


def test_full_backward_hook_gives_grad_input_and_grad_output():
    m = Affine(3, 2, bias=False)
    x = striate.randn(4, 3, requires_grad=True)
    record = {}

    def hook(mod, grad_input, grad_output):
        record["gi"] = grad_input[0].data.copy()
        record["go"] = grad_output[0].data.copy()

    handle = m.register_full_backward_hook(hook)
    y = m(x)
    g = np.random.default_rng(0).standard_normal(y.shape).astype(np.float32)
    y.backward(striate.tensor(g))
    np.testing.assert_allclose(record["go"], g)
    np.testing.assert_allclose(record["gi"], g @ m.weight.data, rtol=1e-5)
    np.testing.assert_allclose(x.grad.data, g @ m.weight.data, rtol=1e-5)
    handle.remove()
    record.clear()
    m(x).sum().backward()
    assert record == {}


def test_full_backward_hook_can_replace_grad_input_and_runs_without_input_grad():
    m = Affine(3, 2)
    x = striate.randn(4, 3, requires_grad=True)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0,))
    m(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 0.0)
    assert m.weight.grad is not None
    seen = []
    m2 = Affine(3, 2)
    m2.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))
    m2(striate.randn(4, 3)).sum().backward()
    assert seen == [((None,), (4, 2))]


def test_grad_cam_style_capture():
    """A forward hook captures the activation; a hook on it captures its gradient."""
    net = Net()
    store = {}

    def fwd(mod, args, out):
        store["act"] = out
        out.register_hook(lambda g: store.__setitem__("grad", g))

    net.body.register_forward_hook(fwd)
    net(striate.randn(2, 3))[:, 1].sum().backward()
    assert store["act"].shape == (2, 4) and store["grad"].shape == (2, 4)
    relu_mask = (store["act"].data > 0).astype(np.float32)
    expected = relu_mask * net.head.weight.data[1]
    np.testing.assert_allclose(store["grad"].data, expected, rtol=1e-6)


def test_repr_nested():
    text = repr(Net())
    assert text == (
        "Net(\n"
        "  (body): Sequential(\n"
        "    (0): Affine(3, 4)\n"
        "    (1): Affine(4, 4)\n"
        "  )\n"
        "  (head): Affine(4, 2)\n"
        ")")


def test_sequential_container_ops():
    a, b, c = Affine(2, 2), Affine(2, 2), Affine(2, 2)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b
    seq.append(c)
    assert list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    del seq[0]
    assert list(seq) == [b, c] and list(seq._modules) == ["0", "1"]
    seq.insert(0, a)
    assert list(seq) == [a, b, c]
    with pytest.raises(TypeError, match="module: expected a striate.nn.Module, got int"):
        seq.insert(0, 3)
    seq[1] = c
    assert seq[1] is c
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    x = striate.randn(1, 2)
    np.testing.assert_allclose(nn.Sequential(a, b)(x).data, b(a(x)).data)
    from collections import OrderedDict

    named = nn.Sequential(OrderedDict([("first", a), ("second", b)]))
    assert [n for n, _ in named.named_children()] == ["first", "second"]


def test_module_list_and_dict():
    layers = nn.ModuleList([Affine(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(Affine(2, 2))
    layers += [Affine(2, 2)]
    assert len(layers) == 5 and isinstance(layers[1:3], nn.ModuleList)
    del layers[0]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    d = nn.ModuleDict({"a": Affine(2, 2)})
    d["b"] = Affine(2, 3)
    d.update([("c", Affine(3, 1))])
    assert list(d) == ["a", "b", "c"] and "b" in d and len(d) == 3
    assert [n for n, _ in d.named_parameters()][:2] == ["a.weight", "a.bias"]
    d.pop("a")
    assert list(d.keys()) == ["b", "c"]


def test_shared_module_state_dict_round_trip_like_torch():
    shared = Affine(2, 2)
    net = nn.Sequential(shared, nn.Sequential(shared))
    sd = net.state_dict()
    assert [k for k in sd if k.endswith("weight")] == ["0.weight", "1.0.weight"]
    net.load_state_dict(sd)  # strict: both names present
    assert len(list(net.parameters())) == 2


@pytest.mark.parity
def test_container_reprs_match_torch():
    torch = pytest.importorskip("torch")

    def build(m):
        return m.Sequential(
            m.ModuleList([m.Linear(4, 4) for _ in range(3)] + [m.ReLU(), m.ReLU()]),
            m.ModuleDict({"head": m.Linear(4, 2), "act": m.GELU(approximate="tanh")}),
            m.ModuleList())

    assert repr(build(nn)) == repr(build(torch.nn))
