"""Plain helpers shared by test modules (``from _helpers import numgrad``; tests/ is on
sys.path through tests/conftest.py)."""

import numpy as np

import striate


def numgrad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite-difference gradient of the scalar ``f(x)`` w.r.t. ``x`` (float64),
    perturbing ``x`` in place one element at a time (restored afterwards)."""
    g = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        old = x[j]
        x[j] = old + eps
        fp = f(x)
        x[j] = old - eps
        fm = f(x)
        x[j] = old
        g[j] = (fp - fm) / (2 * eps)
    return g


def per_thread_count(fn, counts=(1, 2)) -> list:
    """``[fn() run with striate at n threads for n in counts]``; the thread count is restored."""
    saved = striate.get_num_threads()
    res = []
    try:
        for n in counts:
            striate.set_num_threads(n)
            res.append(fn())
    finally:
        striate.set_num_threads(saved)
    return res
