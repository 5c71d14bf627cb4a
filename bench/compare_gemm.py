"""SGEMM side by side: striate vs NumPy matmul (its BLAS) vs torch.mm, in one process.

Workloads from WORKLOADS.md: C[M,N] = A[M,K] @ B[K,N], float32.  Run through bench/compare.py
(`python bench/compare.py --only gemm`) or alone: `python bench/compare_gemm.py`.
"""

from __future__ import annotations

import numpy as np

try:
    from _timing import interleaved_ms, set_threads, torch_or_none
except ImportError:  # imported as bench.compare_gemm
    from bench._timing import interleaved_ms, set_threads, torch_or_none

# name: (M, K, N)
WORKLOADS = {
    "sq256": (256, 256, 256),
    "sq512": (512, 512, 512),
    "sq1024": (1024, 1024, 1024),
    "sq2048": (2048, 2048, 2048),
    "conv64x576x1024": (64, 576, 1024),
    "conv128x1152x256": (128, 1152, 256),
    "conv512x4608x16": (512, 4608, 16),
    # matrix-vector products (batch-1 linear layers; not WORKLOADS rows)
    "gemv1x4608x512": (1, 4608, 512),
    "gemv512x4608x1": (512, 4608, 1),
    "gemv1x2048x2048": (1, 2048, 2048),
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
        fns = {"striate": lambda a=a, b=b, c=c: gemm(a, b, out=c),
               "numpy": lambda a=a, b=b, c=c: np.matmul(a, b, out=c)}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            tc = torch.empty((m, n), dtype=torch.float32)
            fns["torch"] = lambda ta=ta, tb=tb, tc=tc: torch.mm(ta, tb, out=tc)
        ms = interleaved_ms(fns, rep, threads, min_time=0.3 if threads == 1 else 0.0)
        out.append({"family": "gemm", "workload": name, "striate_ms": ms["striate"],
                    "numpy_ms": ms["numpy"], "torch_ms": ms.get("torch"), "flop": flop,
                    "note": f"M={m} K={k} N={n}"})
    return out


if __name__ == "__main__":
    import sys

    sys.argv[1:1] = ["--only", "gemm"]
    from compare import main

    main()
