"""The compiled kernels, validated.  Every function here checks its arguments (naming the
argument, the expected and the actual value) before any C code runs, makes inputs
C-contiguous float32, and has a NumPy twin of the same signature in
``striate.backend.reference``."""

from striate._kernels._C import cache_bytes, empty_cache
from striate.kernels._gemm import gemm

__all__ = ["cache_bytes", "empty_cache", "gemm"]
