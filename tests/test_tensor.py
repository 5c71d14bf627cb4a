"""Tensor ops: every differentiable op through one checker (finite differences in float64,
and forward + gradients against PyTorch when installed), plus tensor behaviour."""

import numpy as np
import pytest

import striate
from striate.testing import check_op

R = np.random.default_rng(7)


def rn(*shape):
    return R.standard_normal(shape)


def pos(*shape):
    return R.uniform(0.5, 2.0, shape)


def away(*shape):
    """Values away from 0 (kinks of abs/sign)."""
    v = R.uniform(0.2, 2.0, shape)
    return v * np.where(R.random(shape) < 0.5, -1, 1)


IDX = np.array([0, 2, 2, 1])
MASK = rn(3, 4) > 0

# (id, striate fn, torch fn, inputs)
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [rn(3, 4), rn(3, 4)]),
    ("add_bcast", lambda a, b: a + b, lambda a, b: a + b, [rn(2, 1, 3), rn(4, 1)]),
    ("sub_bcast", lambda a, b: a - b, lambda a, b: a - b, [rn(3, 4), rn(4)]),
    ("mul_bcast", lambda a, b: a * b, lambda a, b: a * b, [rn(2, 3, 1), rn(1, 4)]),
    ("div_bcast", lambda a, b: a / b, lambda a, b: a / b, [rn(3, 4), pos(3, 1)]),
    ("pow_tt", lambda a, b: a ** b, lambda a, b: a ** b, [pos(3, 4), rn(4)]),
    ("pow_2", lambda a: a ** 2, lambda a: a ** 2, [rn(3, 4)]),
    ("pow_3", lambda a: a ** 3, lambda a: a ** 3, [rn(3, 4)]),
    ("pow_half", lambda a: a ** 0.5, lambda a: a ** 0.5, [pos(3, 4)]),
    ("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [rn(3, 4)]),
    ("scalars", lambda a: (a * 0.5 + 1.0) / 3.0 - 2.0, lambda a: (a * 0.5 + 1.0) / 3.0 - 2.0,
     [rn(3, 4)]),
    ("rsub_rdiv", lambda a: 1.0 - 2.0 / a, lambda a: 1.0 - 2.0 / a, [pos(3, 4)]),
    ("radd_rmul", lambda a: 3 + 2 * a, lambda a: 3 + 2 * a, [rn(3, 4)]),
    ("neg", lambda a: -a, lambda a: -a, [rn(3, 4)]),
    ("matmul_2d", lambda a, b: a @ b, lambda a, b: a @ b, [rn(3, 4), rn(4, 5)]),
    ("matmul_T", lambda a, b: a.T @ b.T, lambda a, b: a.T @ b.T, [rn(4, 3), rn(5, 4)]),
    ("matmul_batched", lambda a, b: a @ b, lambda a, b: a @ b, [rn(2, 3, 4), rn(4, 5)]),
    ("matmul_bcast", lambda a, b: a @ b, lambda a, b: a @ b, [rn(2, 1, 3, 4), rn(3, 4, 2)]),
    ("matmul_vec_mat", lambda a, b: a @ b, lambda a, b: a @ b, [rn(4), rn(4, 5)]),
    ("matmul_mat_vec", lambda a, b: a @ b, lambda a, b: a @ b, [rn(3, 4), rn(4)]),
    ("exp", lambda a: a.exp(), lambda a: a.exp(), [rn(3, 4)]),
    ("log", lambda a: a.log(), lambda a: a.log(), [pos(3, 4)]),
    ("sqrt", lambda a: a.sqrt(), lambda a: a.sqrt(), [pos(3, 4)]),
    ("abs", lambda a: a.abs(), lambda a: a.abs(), [away(3, 4)]),
    ("clamp", lambda a: a.clamp(-0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), [rn(4, 5)]),
    ("clamp_min", lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), [rn(4, 5)]),
    ("maximum", lambda a, b: a.maximum(b), lambda a, b: a.maximum(b), [rn(3, 4), rn(3, 4)]),
    ("minimum", lambda a, b: a.minimum(b), lambda a, b: a.minimum(b), [rn(3, 4), rn(3, 4)]),
    ("sum_all", lambda a: a.sum(), lambda a: a.sum(), [rn(3, 4)]),
    ("sum_dim", lambda a: a.sum(1), lambda a: a.sum(1), [rn(2, 3, 4)]),
    ("sum_dims_keep", lambda a: a.sum((0, 2), keepdim=True),
     lambda a: a.sum((0, 2), keepdim=True), [rn(2, 3, 4)]),
    ("mean_all", lambda a: a.mean(), lambda a: a.mean(), [rn(3, 4)]),
    ("mean_dim_keep", lambda a: a.mean(-1, keepdim=True), lambda a: a.mean(-1, keepdim=True),
     [rn(2, 3, 4)]),
    ("max_all", lambda a: a.max(), lambda a: a.max(), [rn(3, 4)]),
    ("max_dim", lambda a: a.max(1)[0], lambda a: a.max(1)[0], [rn(3, 4)]),
    ("min_dim_keep", lambda a: a.min(0, keepdim=True).values,
     lambda a: a.min(0, keepdim=True).values, [rn(3, 4)]),
    ("amax_dim", lambda a: a.amax(1), lambda a: a.amax(1), [rn(3, 4, 2)]),
    ("amin_dims", lambda a: a.amin((0, 2)), lambda a: a.amin((0, 2)), [rn(3, 4, 2)]),
    ("var_all", lambda a: a.var(), lambda a: a.var(), [rn(3, 4)]),
    ("var_dim_biased", lambda a: a.var(1, unbiased=False), lambda a: a.var(1, unbiased=False),
     [rn(3, 4)]),
    ("std_dim", lambda a: a.std(0, keepdim=True), lambda a: a.std(0, keepdim=True),
     [rn(3, 4)]),
    ("prod_dim", lambda a: a.prod(1), lambda a: a.prod(1), [rn(3, 4)]),
    ("norm", lambda a: a.norm(), lambda a: a.norm(), [rn(3, 4)]),
    ("reshape", lambda a: a.reshape(4, 3) * 2, lambda a: a.reshape(4, 3) * 2, [rn(3, 4)]),
    ("view_flatten", lambda a: a.view(2, -1).flatten(), lambda a: a.view(2, -1).flatten(),
     [rn(2, 3, 2)]),
    ("flatten_1", lambda a: a.flatten(1), lambda a: a.flatten(1), [rn(2, 3, 2)]),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), [rn(2, 3, 4)]),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), [rn(2, 3, 4)]),
    ("squeeze_unsqueeze", lambda a: a.squeeze(1).unsqueeze(0),
     lambda a: a.squeeze(1).unsqueeze(0), [rn(3, 1, 4)]),
    ("expand", lambda a: a.expand(2, 3, 4), lambda a: a.expand(2, 3, 4), [rn(3, 1)]),
    ("repeat", lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), [rn(3, 2)]),
    ("getitem_int", lambda a: a[1], lambda a: a[1], [rn(3, 4)]),
    ("getitem_slices", lambda a: a[::2, 1:3], lambda a: a[::2, 1:3], [rn(5, 4)]),
    ("getitem_none_ellipsis", lambda a: a[None, ..., 0], lambda a: a[None, ..., 0],
     [rn(2, 3, 4)]),
    ("getitem_int_array_dup", lambda a: a[IDX], lambda a: a[IDX], [rn(3, 4)]),
    ("getitem_mixed", lambda a: a[[0, 2], :, 1], lambda a: a[[0, 2], :, 1], [rn(3, 4, 2)]),
    ("getitem_bool", lambda a: a[MASK], lambda a: a[MASK], [rn(3, 4)]),
    ("cat", lambda a, b: striate.cat([a, b], 1), lambda a, b: __import__("torch").cat(
        [a, b], 1), [rn(2, 3), rn(2, 4)]),
    ("stack", lambda a, b: striate.stack([a, b], 1), lambda a, b: __import__("torch").stack(
        [a, b], 1), [rn(2, 3), rn(2, 3)]),
    ("split", lambda a: striate.split(a, 2, 1)[1] * 3, lambda a: a.split(2, 1)[1] * 3,
     [rn(2, 5)]),
    ("chunk", lambda a: a.chunk(3, 0)[2], lambda a: a.chunk(3, 0)[2], [rn(7, 2)]),
    ("where", lambda a, b: striate.where(MASK, a, b),
     lambda a, b: __import__("torch").where(__import__("torch").tensor(MASK), a, b),
     [rn(3, 4), rn(4)]),
    ("masked_fill", lambda a: a.masked_fill(MASK, 0.5),
     lambda a: a.masked_fill(__import__("torch").tensor(MASK), 0.5), [rn(3, 4)]),
    ("gather", lambda a: a.gather(1, striate.tensor([[0, 0], [1, 3], [2, 2]])),
     lambda a: a.gather(1, __import__("torch").tensor([[0, 0], [1, 3], [2, 2]])), [rn(3, 4)]),
    ("topk", lambda a: a.topk(2, 1)[0] * 2, lambda a: a.topk(2, 1)[0] * 2, [rn(3, 5)]),
    ("sort", lambda a: a.sort(0, descending=True).values,
     lambda a: a.sort(0, descending=True).values, [rn(4, 3)]),
    ("cumsum", lambda a: a.cumsum(1), lambda a: a.cumsum(1), [rn(3, 4)]),
    ("log1p_expm1", lambda a: a.log1p() + a.expm1(), lambda a: a.log1p() + a.expm1(),
     [pos(3, 4) - 0.4]),
    ("sin_cos", lambda a: a.sin() * a.cos(), lambda a: a.sin() * a.cos(), [rn(3, 4)]),
    ("logsumexp", lambda a: a.logsumexp(1), lambda a: a.logsumexp(1), [rn(3, 4) * 3]),
    ("logsumexp_keep", lambda a: a.logsumexp((0, 2), keepdim=True),
     lambda a: a.logsumexp((0, 2), keepdim=True), [rn(2, 3, 4)]),
    ("pad_const", lambda a: striate.pad(a, (1, 2, 0, 1), value=0.5),
     lambda a: __import__("torch").nn.functional.pad(a, (1, 2, 0, 1), value=0.5),
     [rn(2, 3, 4)]),
    ("pad_crop", lambda a: striate.pad(a, (-1, 2)),
     lambda a: __import__("torch").nn.functional.pad(a, (-1, 2)), [rn(3, 4)]),
    ("clone_contig", lambda a: a.T.contiguous().clone() * 2,
     lambda a: a.T.contiguous().clone() * 2, [rn(3, 4)]),
    ("sigmoid_method", lambda a: a.sigmoid() * a.tanh(), lambda a: a.sigmoid() * a.tanh(),
     [rn(3, 4)]),
]


@pytest.mark.parametrize("name,fn,tfn,inputs", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn, tfn, inputs):
    check_op(fn, inputs)


@pytest.mark.parity
@pytest.mark.parametrize("name,fn,tfn,inputs", CASES, ids=[c[0] for c in CASES])
def test_parity_with_torch(name, fn, tfn, inputs):
    pytest.importorskip("torch")
    check_op(fn, inputs, tfn, gradcheck_=False)


# ---------------------------------------------------------------------------- behaviour
def test_constructors_and_dtypes():
    assert striate.tensor([1.0, 2.0]).dtype == np.float32
    assert striate.tensor([1, 2]).dtype == np.int64
    assert striate.tensor(np.zeros(2)).dtype == np.float64
    assert striate.Tensor(np.zeros(2, np.float64)).dtype == np.float64
    a = np.ones(3, np.float32)
    assert striate.from_numpy(a).data is a
    assert striate.tensor(a).data is not a
    assert striate.zeros(2, 3).shape == (2, 3) and striate.zeros((2, 3)).dtype == np.float32
    assert striate.ones([2]).dtype == np.float32
    assert striate.full((2,), 7).dtype == np.int64
    assert striate.full((2,), 7.0).dtype == np.float32
    assert striate.arange(5).dtype == np.int64 and striate.arange(0, 1, 0.25).shape == (4,)
    assert striate.empty(2, dtype=striate.float64).dtype == np.float64
    assert striate.zeros_like(striate.ones(2, 2)).shape == (2, 2)
    assert striate.eye(3).numpy().trace() == 3
    assert striate.linspace(0, 1, 5).shape == (5,)
    x = striate.randn(2, 3, requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.grad is None


def test_seeded_factories_reproduce():
    striate.manual_seed(3)
    a = striate.randn(4)
    b = striate.rand(4)
    striate.manual_seed(3)
    assert np.array_equal(a.numpy(), striate.randn(4).numpy())
    assert np.array_equal(b.numpy(), striate.rand(4).numpy())
    g = striate.Generator().manual_seed(9)
    c = striate.randn(3, generator=g)
    assert np.array_equal(c.numpy(), striate.randn(3, generator=striate.Generator(9)).numpy())
    assert striate.randint(0, 5, (10,)).numpy().max() < 5
    assert sorted(striate.randperm(6).tolist()) == list(range(6))
    assert striate.randn(3, dtype=striate.float64).dtype == np.float64


def test_attributes_and_conversions():
    x = striate.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2
    assert x.size() == (2, 3) and x.size(1) == 3 and x.numel() == 6
    assert x.T.shape == (3, 2) and x.t().shape == (3, 2)
    assert x.sum().item() == 21.0
    assert isinstance(x.numpy(), np.ndarray)
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert x.double().dtype == np.float64 and x.long().dtype == np.int64
    assert float(x[0, 0]) == 1.0 and int(x[1, 2]) == 6
    assert len(x) == 2 and [r.shape for r in x] == [(3,), (3,)]
    with pytest.raises(ValueError, match="one element tensors"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    x.data = np.zeros((2, 3), np.float32)
    assert x.sum().item() == 0.0


def test_format_of_scalars():
    assert f"{striate.tensor(0.123456):.3f}" == "0.123"
    assert f"{striate.tensor([1.0, 2.0])}" == "tensor([1., 2.])"


def test_repr():
    assert repr(striate.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    x = striate.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulSBackward>" in repr(x * 2)
    assert "dtype=float64" in repr(striate.zeros(1, dtype=striate.float64))


def test_comparisons_have_no_grad_and_bool_dtype():
    a = striate.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = striate.tensor([3.0, 2.0, 1.0])
    for r, expected in ((a == b, [0, 1, 0]), (a != b, [1, 0, 1]), (a < b, [1, 0, 0]),
                        (a <= b, [1, 1, 0]), (a > b, [0, 0, 1]), (a >= 2, [0, 1, 1])):
        assert r.dtype == np.bool_ and not r.requires_grad
        assert r.numpy().astype(int).tolist() == expected
    assert a.argmax().item() == 2 and b.argmin().item() == 2
    assert striate.tensor([[1, 5], [7, 2]]).argmax(1).tolist() == [1, 0]
    assert striate.tensor([[1, 5], [7, 2]]).argmin(0, keepdim=True).shape == (1, 2)


def test_max_dim_returns_values_and_first_index():
    x = striate.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    values, indices = x.max(1)
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [1, 0]
    values.sum().backward()
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]  # ties: the first index gets it


def test_full_max_splits_gradient_evenly_on_ties():
    x = striate.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


def test_advanced_index_duplicates_accumulate():
    x = striate.zeros(3, requires_grad=True)
    x[striate.tensor([0, 0, 2])].sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 1.0]


def test_where_with_python_numbers_uses_default_dtype():
    r = striate.where(striate.tensor([True, False]), 1.0, 0.0)
    assert r.dtype == np.float32 and r.tolist() == [1.0, 0.0]
    x = striate.tensor([1.0, -1.0], requires_grad=True)
    assert striate.where(x > 0, x, 0.0).tolist() == [1.0, 0.0]


def test_setitem_and_inplace_without_graph():
    x = striate.zeros(2, 3)
    x[0, 1] = 5.0
    x[x > 1] = 2.0
    x.add_(1).mul_(2)
    assert x.tolist() == [[2.0, 6.0, 2.0], [2.0, 2.0, 2.0]]
    x.zero_()
    assert x.sum().item() == 0
    y = striate.ones(3)
    y += 1
    assert y.tolist() == [2.0, 2.0, 2.0]


def test_setitem_in_graph_routes_gradients():
    x = striate.randn(4, requires_grad=True)
    v = striate.randn(2, requires_grad=True)
    y = x * 1.0
    y[1:3] = v
    (y * striate.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 4.0]
    assert v.grad.tolist() == [2.0, 3.0]


def test_ndarray_on_the_left_defers_to_tensor():
    x = striate.ones(3, requires_grad=True)
    y = np.full(3, 2.0, np.float32) * x
    assert isinstance(y, striate.Tensor) and y.requires_grad


def test_bad_inputs():
    with pytest.raises(IndexError, match="out of range"):
        striate.ones(2, 3).sum(2)
    with pytest.raises(RuntimeError, match="not a permutation"):
        striate.ones(2, 3).permute(0, 0)
    with pytest.raises(ValueError, match="cat: expected tensor 1 with shape matching"):
        striate.cat([striate.ones(2, 3), striate.ones(3, 3)], 1)
    with pytest.raises(ValueError, match="stack: expected each tensor to have shape"):
        striate.stack([striate.ones(2), striate.ones(3)])
    with pytest.raises(ValueError, match="split sizes"):
        striate.split(striate.ones(5), [2, 2])
    with pytest.raises(IndexError, match="long, int or bool"):
        striate.ones(3)[striate.tensor([0.5])]
    with pytest.raises(RuntimeError, match="expand"):
        striate.ones(2, 3).expand(3)
    with pytest.raises(ValueError, match="clamp"):
        striate.ones(2).clamp()


def test_no_float64_promotion_in_float32_graph():
    x = striate.randn(8, 4, requires_grad=True)
    w = striate.randn(4, 3, requires_grad=True)
    y = ((x @ w).exp() * 0.1 + 1).log().mean() / 3 + x.var() - x.std(0).sum() * 1e-3
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_module_level_functions_mirror_methods():
    x = striate.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert striate.exp(x).allclose(x.exp())
    assert striate.sum(x, 1).tolist() == [-1.0, 3.5]
    assert striate.max(x).item() == 3.0
    assert striate.max(x, 1).indices.tolist() == [0, 0]
    assert striate.min(x, striate.zeros(2, 2)).tolist() == [[0.0, -2.0], [0.0, 0.0]]
    assert striate.transpose(x, 0, 1).shape == (2, 2)
    assert striate.flatten(x).shape == (4,)
    assert striate.argmax(x).item() == 2
    assert striate.clamp(x, min=0).tolist() == [[1.0, 0.0], [3.0, 0.5]]


def test_topk_sort_indices_and_copies():
    import copy
    import pickle

    x = striate.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
    v, i = x.topk(2)
    assert v.tolist() == [[3.0, 2.0], [5.0, 4.0]] and i.tolist() == [[0, 2], [1, 2]]
    assert x.sort(1).indices.tolist() == [[1, 2, 0], [0, 2, 1]]
    assert x.argsort(1, descending=True).tolist() == [[0, 2, 1], [1, 2, 0]]
    (x * 2).sum().backward()
    for y in (copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert y.requires_grad and y.is_leaf and y.data is not x.data
        assert np.array_equal(y.numpy(), x.numpy()) and y.grad.tolist() == x.grad.tolist()
    assert x.new_zeros(2).dtype == np.float32 and x.new_full((1,), 3.0).tolist() == [3.0]


def test_no_grad_bare_decorator_and_inference_mode():
    @striate.no_grad
    def f(t):
        return t * 2

    x = striate.ones(2, requires_grad=True)
    assert not f(x).requires_grad
    with striate.inference_mode():
        assert not (x * 2).requires_grad
    assert striate.is_grad_enabled()
