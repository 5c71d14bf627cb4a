"""Timing helpers shared by the bench scripts (never used by tests)."""

from __future__ import annotations

import os
import time

import numpy as np


def median_ms(fn, repeat: int = 20, warmup: int = 3, min_time: float = 0.0) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeat`` runs after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    t_start = time.perf_counter()
    while len(times) < repeat or (time.perf_counter() - t_start) < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 10 * repeat:
            break
    return float(np.median(times) * 1e3)


def torch_or_none(threads: int):
    """Import torch set to ``threads`` threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def blas_info() -> str:
    """Which BLAS kernel NumPy runs, via threadpoolctl (or a note when unavailable)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    parts = []
    for i in threadpool_info():
        if i.get("user_api") == "blas":
            parts.append(f"{i.get('internal_api')} {i.get('version')} "
                         f"{i.get('architecture')} threads={i.get('num_threads')}")
    env = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ]
    note = f" (WARNING: {', '.join(env)} set: unset them for fair timings)" if env else ""
    return "; ".join(parts) + note


def set_threads(threads: int) -> None:
    """Set striate's and NumPy's BLAS thread counts (threadpoolctl) to ``threads``."""
    import striate

    striate.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads, user_api="blas")
    except ImportError:
        pass
