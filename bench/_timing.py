"""Timing helpers shared by the bench scripts (never used by tests)."""

from __future__ import annotations

import os
import time

import numpy as np

from striate.train._io import atomic_write_text


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


# glibc's malloc thresholds raised (WORKLOADS.md): freed multi-MB buffers stay in the heap
TUNED_MALLOC = "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=536870912"


def malloc_setting() -> str:
    """'tuned' when this process runs with GLIBC_TUNABLES set, else 'default'."""
    return "tuned" if os.environ.get("GLIBC_TUNABLES") else "default"


def interleaved_ms(fns: dict, repeat: int, threads: int = 1, few: tuple = (),
                   warmup: int = 1, min_time: float = 0.0, settle: float = 0.15) -> dict:
    """Median wall ms of each callable in ``fns`` (None entries give None), timed side by
    side so that load from other processes hits all of them alike.

    One thread: round-robin, one call of each per round.  Several threads: the peers' thread
    pools (OpenBLAS, PyTorch's and striate's OpenMP) keep spinning for a while after each call
    and steal the cores the next library needs, so each round times a block of calls per
    library after ``settle`` seconds of quiet.  The ``few`` (slow) ones get about a quarter
    of the samples.

    Returns:
        {name: median ms or None}; at least ``repeat`` samples (and ``min_time`` s) each.
    """
    live = {k: f for k, f in fns.items() if f is not None}
    times = {k: [] for k in live}
    for f in live.values():
        for _ in range(warmup):
            f()

    def want(k):
        return max(3, repeat // 4) if k in few else repeat

    t_start = time.perf_counter()
    rounds = 0
    block = 1 if threads == 1 else max(1, repeat // 4)
    while (any(len(times[k]) < want(k) for k in live)
           or time.perf_counter() - t_start < min_time):
        for k, f in live.items():
            if len(times[k]) >= want(k) and rounds >= 1:
                continue
            if threads > 1:
                time.sleep(settle)
                f()  # wake this library's pool
            for _ in range(block):
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
        rounds += 1
        if rounds >= 10 * repeat:
            break
    out = {k: float(np.median(v) * 1e3) for k, v in times.items()}
    return {k: out.get(k) for k in fns}


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


def timed_row(family: str, workload: str, s_fn, np_fn, t_fn, repeat: int, note: str = "",
              flop: float | None = None, min_time: float = 0.0) -> dict:
    """One compare_*.py row: median ms (see :func:`median_ms`) of striate's ``s_fn`` and of
    the optional NumPy and torch peers ``np_fn`` / ``t_fn`` (None when absent)."""

    def ms(fn):
        return median_ms(fn, repeat, min_time=min_time) if fn is not None else None

    return {"family": family, "workload": workload, "striate_ms": ms(s_fn),
            "numpy_ms": ms(np_fn), "torch_ms": ms(t_fn), "flop": flop, "note": note}


def print_rows(rows, width: int = 40, threads: tuple = (1, 2)) -> None:
    """Standalone run of a compare_*.py: print ``rows(th, $REPEAT or 20)`` for each thread
    count, with striate's time and the peers' ratios to it."""
    reps = int(os.environ.get("REPEAT", "20"))
    for th in threads:
        for r in rows(th, reps):
            nm, tm, s = r["numpy_ms"], r["torch_ms"], r["striate_ms"]
            print(f"{th}t  {r['workload']:<{width}s} striate {s:8.3f}  "
                  f"numpy {'-' if nm is None else f'{nm:8.3f}'} "
                  f"({'-' if nm is None else f'{nm / s:5.2f}x'})  "
                  f"torch {'-' if tm is None else f'{tm:8.3f}'} "
                  f"({'-' if tm is None else f'{tm / s:5.2f}x'})", flush=True)


def write_json(path: str, obj, indent: int = 1) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (readers never see a torn file)."""
    import json

    atomic_write_text(path, json.dumps(obj, indent=indent) + "\n")
