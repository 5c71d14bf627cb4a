"""A quick self-check of the compiled kernels against the NumPy reference, on every ISA
path this CPU has."""

from __future__ import annotations

import numpy as np


def run_selfcheck(verbose: bool = True) -> bool:
    import striate
    from striate import kernels
    from striate.backend import reference as ref

    rng = np.random.default_rng(0)
    ok = True
    saved = striate.get_arch()
    try:
        for arch in striate.available_archs():
            striate.set_arch(arch)
            a = rng.standard_normal((37, 53), dtype=np.float32)
            b = rng.standard_normal((53, 29), dtype=np.float32)
            err = float(np.max(np.abs(kernels.gemm(a, b) - ref.gemm(a, b))))
            good = err < 1e-3
            ok &= good
            if verbose:
                print(f"  self-check [{arch:8s}] gemm max|err| = {err:.2e}  "
                      f"{'ok' if good else 'FAIL'}")
    finally:
        striate.set_arch(saved)
    return ok
