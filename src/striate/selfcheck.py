"""A quick self-check of the compiled kernels against the NumPy reference, on every ISA
path this CPU has."""

from __future__ import annotations

import numpy as np


def run_selfcheck(verbose: bool = True) -> bool:
    import striate
    from striate import kernels
    from striate.backend import reference as ref

    rng = np.random.default_rng(0)
    a = rng.standard_normal((37, 53), dtype=np.float32)
    b = rng.standard_normal((53, 29), dtype=np.float32)
    x = rng.standard_normal((2, 17, 9, 11), dtype=np.float32)
    w = rng.standard_normal((19, 17, 3, 3), dtype=np.float32)
    checks = {  # name: (striate, reference) on the same inputs
        "gemm": (lambda: kernels.gemm(a, b), ref.gemm(a, b)),
        "gemv": (lambda: kernels.gemm(a[:1], b), ref.gemm(a[:1], b)),
        "conv": (lambda: kernels.conv2d(x, w, None, 1, 1, 1, 1),
                 ref.conv2d(x, w, None, 1, 1, 1, 1)),
        "winograd": (lambda: _winograd_conv(kernels, x, w), ref.conv2d(x, w, None, 1, 1, 1, 1)),
    }
    ok = True
    saved = striate.get_arch()
    try:
        for arch in striate.available_archs():
            striate.set_arch(arch)
            for name, (run, want) in checks.items():
                err = float(np.max(np.abs(run() - want)))
                good = err < 1e-3
                ok &= good
                if verbose:
                    print(f"  self-check [{arch:8s}] {name:9s} max|err| = {err:.2e}  "
                          f"{'ok' if good else 'FAIL'}")
    finally:
        striate.set_arch(saved)
    return ok


def _winograd_conv(kernels, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    saved = kernels.set_conv_winograd("always")
    try:
        return kernels.conv2d(x, w, None, 1, 1, 1, 1)
    finally:
        kernels.set_conv_winograd(saved)
