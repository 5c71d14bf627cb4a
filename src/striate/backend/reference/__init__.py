"""Plain NumPy implementations of every kernel in ``striate.kernels``, with the same
signatures.  Readable rather than fast: they are the oracle the tests compare against."""

from striate.backend.reference._gemm import gemm

__all__ = ["gemm"]
