# Public Cython declarations of the pool kernels (extern only).
from libc.stdint cimport int32_t, int64_t
