"""The autograd engine: accumulation, retain_graph, no_grad, hooks, grad(), deep graphs."""

import numpy as np
import pytest

import striate
from striate import autograd
from striate.gradcheck import GradcheckError


def leaf(*shape, seed=0, dtype=np.float64):
    return striate.Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype),
                          requires_grad=True)


def test_grad_accumulates_across_backward_calls():
    x = leaf(3)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 5.0))


def test_leaf_used_twice_and_shared_subexpressions():
    x = leaf(4)
    u = x * x
    y = (u + u * 2 + x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data + 1)


def test_diamond_graph_topological_order():
    # R = f(A, B) where B depends on A: A's gradient must include B's contribution
    x = leaf(3)
    a = x * 2
    b = a * a
    r = (a + b).sum()
    r.backward()
    np.testing.assert_allclose(x.grad.data, 2 + 8 * x.data)


def test_second_backward_without_retain_graph_raises():
    x = leaf(3)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward_and_accumulates():
    x = leaf(3)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_graph_saved_arrays_freed_after_backward():
    x = leaf(3)
    y = x.exp()
    z = y.sum()
    z.backward()
    assert y.grad_fn.inputs is None and y.grad_fn.out is None


def test_non_scalar_backward_needs_gradient():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
        (x * 2).backward()
    (x * 2).backward(striate.ones(3, dtype=striate.float64))
    np.testing.assert_allclose(x.grad.data, np.full(3, 2.0))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        striate.ones(2).sum().backward()


def test_no_grad_context_and_decorator():
    x = leaf(2)
    with striate.no_grad():
        y = x * 2
        assert not striate.is_grad_enabled()
        with striate.enable_grad():
            z = x * 2
    assert striate.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @striate.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert striate.is_grad_enabled()
    with striate.set_grad_enabled(False):
        assert not (x + 1).requires_grad
    assert striate.is_grad_enabled()


def test_hooks_on_leaf_and_non_leaf():
    x = leaf(3)
    seen = []
    h = x * 2
    h.register_hook(lambda g: seen.append(g.data.copy()))
    handle = x.register_hook(lambda g: g * 10)  # replace the leaf gradient
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * h.data)
    np.testing.assert_allclose(x.grad.data, 10 * 2 * 2 * h.data)
    handle.remove()
    x.grad = None
    (x * 1.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.ones(3))


def test_hook_replacement_flows_downstream():
    x = leaf(3)
    h = x * 2
    h.register_hook(lambda g: g * 0)
    (h * h).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.zeros(3))


def test_retain_grad_keeps_non_leaf_grad():
    x = leaf(3)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)


def test_grads_of_distinct_leaves_never_alias():
    a, b = leaf(3, seed=1), leaf(3, seed=2)
    (a + b).sum().backward()
    a.grad.data += 1
    np.testing.assert_allclose(b.grad.data, np.ones(3))
    g = np.ones(3)
    c = leaf(3)
    (c * 1.0).backward(g)
    c.grad.data[:] = 5
    np.testing.assert_allclose(g, np.ones(3))


def test_needs_input_grad_skips_unrequested_gradients():
    x = leaf(3)
    c = striate.Tensor(np.ones(3))
    y = x * c
    assert y.grad_fn.needs_input_grad == (True, False)
    y.sum().backward()
    assert c.grad is None


def test_autograd_grad_returns_without_accumulating():
    x = leaf(3)
    y = (x * x).sum()
    (gx,) = autograd.grad(y, x)
    np.testing.assert_allclose(gx.data, 2 * x.data)
    assert x.grad is None


def test_deep_graph_has_no_recursion_limit():
    x = leaf(1)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0])


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        striate.tensor([1, 2], requires_grad=True)
    x = leaf(2)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False
    assert x.is_leaf and not y.is_leaf
    assert not y.detach().requires_grad
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with striate.no_grad():
        x.add_(1)  # fine under no_grad


def test_inplace_on_non_leaf_keeps_graph_correct():
    x = leaf(3)
    y = x * 2
    y.mul_(3)
    y[0] = 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 6.0, 6.0])


def test_python_scalars_keep_float32():
    x = striate.randn(3, requires_grad=True)
    for y in (x * 0.5, 0.5 * x, x + 1e-3, x / 3.0, 2.0 - x, x ** 2.0, 1.0 / (x.abs() + 1),
              x * np.float64(2.0), x + np.arange(3)):
        assert y.dtype == np.float32, y
    (x * np.float64(2.0)).sum().backward()
    assert x.grad.dtype == np.float32


class _WrongGrad(autograd.Function):
    """y = a * b with a deliberately wrong gradient for b."""

    __slots__ = ("a", "b")

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        return g * self.b, g * self.a * 1.5


def test_gradcheck_reports_the_failing_input():
    a, b = leaf(3, seed=1), leaf(3, seed=2)
    assert striate.gradcheck(lambda x, y: x * y, (a, b))
    with pytest.raises(GradcheckError,
                       match=r"gradient mismatch for input 1 \(shape \(3,\)\).*max error"):
        striate.gradcheck(_WrongGrad.apply, (a, b))
    assert striate.gradcheck(_WrongGrad.apply, (a, b), raise_exception=False) is False
    # only input 0 requires grad: the wrong gradient of input 1 is never asked for
    c = striate.Tensor(b.data)
    assert striate.gradcheck(_WrongGrad.apply, (a, c))


def test_gradcheck_requires_float64_and_a_grad_input():
    with pytest.raises(TypeError, match="input 0 with dtype float64"):
        striate.gradcheck(lambda x: x * 2, (striate.ones(2, requires_grad=True),))
    with pytest.raises(ValueError, match="at least one input with requires_grad"):
        striate.gradcheck(lambda x: x * 2, (striate.ones(2, dtype=striate.float64),))


def test_backward_of_several_roots_and_grad_allow_unused():
    x, y = leaf(3, seed=1), leaf(3, seed=2)
    a, b = x * 2, (x * y).sum()
    autograd.backward([a, b], [np.ones(3), None])
    np.testing.assert_allclose(x.grad.data, 2 + y.data)
    np.testing.assert_allclose(y.grad.data, x.data)
    z = leaf(2, seed=3)
    out = (x * 3).sum()
    gx, gz = autograd.grad(out, [x, z], allow_unused=True)
    np.testing.assert_allclose(gx.data, np.full(3, 3.0))
    assert gz is None
    with pytest.raises(RuntimeError, match="was not used in the graph"):
        autograd.grad((x * 3).sum(), [z])


def test_leaf_backward_and_gradient_shape_check():
    x = leaf(3)
    x.backward(np.ones(3))
    np.testing.assert_allclose(x.grad.data, np.ones(3))
    with pytest.raises(RuntimeError, match=r"expected a gradient of shape \(3,\)"):
        (x * 2).backward(np.ones(4))


def test_in_place_accumulation_never_touches_shared_gradients():
    # the skip connection passes the same gradient array to two consumers; accumulating
    # into one of them must not change the other
    x = leaf(4)
    h = x * 1.0
    a = h + h          # Add: the same g goes to both inputs (h twice)
    b = a * 1.0
    c = b + a          # a used twice again
    seen = []
    a.register_hook(lambda g: seen.append(g.data.copy()))
    (c * striate.Tensor(np.arange(4.0))).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * np.arange(4.0))
    np.testing.assert_allclose(x.grad.data, 4 * np.arange(4.0))


def test_hook_holding_a_gradient_keeps_it_intact():
    x = leaf(3)
    h = x * 2.0
    kept = []
    h.register_hook(lambda g: kept.append(g))
    y = (h * 3.0 + h * 5.0).sum()  # h's gradient accumulates from two consumers
    y.backward()
    np.testing.assert_allclose(kept[0].data, np.full(3, 8.0))
    np.testing.assert_allclose(x.grad.data, np.full(3, 16.0))
