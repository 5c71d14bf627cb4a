"""SGEMM side by side: striate vs NumPy matmul (its BLAS) vs torch.mm, in one process.

Workloads from WORKLOADS.md: C[M,N] = A[M,K] @ B[K,N], float32.  Run through bench/compare.py
(`python bench/compare.py --only gemm`) or alone: `python bench/compare_gemm.py`.
"""

from __future__ import annotations

import numpy as np

try:
    from _timing import median_ms, set_threads, torch_or_none
except ImportError:  # imported as bench.compare_gemm
    from bench._timing import median_ms, set_threads, torch_or_none

# name: (M, K, N)
WORKLOADS = {
    "sq256": (256, 256, 256),
    "sq512": (512, 512, 512),
    "sq1024": (1024, 1024, 1024),
    "sq2048": (2048, 2048, 2048),
    "conv64x576x1024": (64, 576, 1024),
    "conv128x1152x256": (128, 1152, 256),
    "conv512x4608x16": (512, 4608, 16),
}


def rows(threads: int, repeat: int) -> list[dict]:
    """Time every GEMM workload with `threads` threads; median of `repeat` runs each.

    Returns:
        One dict per workload: family, workload, striate_ms, numpy_ms, torch_ms, flop, note.
    """
    from striate.kernels import gemm

    set_threads(threads)
    torch = torch_or_none(threads)
    rng = np.random.default_rng(0)
    out = []
    for name, (m, k, n) in WORKLOADS.items():
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        c = np.empty((m, n), np.float32)
        flop = 2.0 * m * n * k
        # bigger products need fewer repeats for a stable median
        rep = max(3, min(repeat, int(repeat * 2e9 / max(flop, 1.0))))
        s_ms = median_ms(lambda: gemm(a, b, out=c), repeat=rep, min_time=0.2)
        n_ms = median_ms(lambda: np.matmul(a, b, out=c), repeat=rep, min_time=0.2)
        t_ms = None
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            tc = torch.empty((m, n), dtype=torch.float32)
            t_ms = median_ms(lambda: torch.mm(ta, tb, out=tc), repeat=rep, min_time=0.2)
        out.append({"family": "gemm", "workload": name, "striate_ms": s_ms, "numpy_ms": n_ms,
                    "torch_ms": t_ms, "flop": flop, "note": f"M={m} K={k} N={n}"})
    return out


if __name__ == "__main__":
    import sys

    sys.argv[1:1] = ["--only", "gemm"]
    from compare import main

    main()
