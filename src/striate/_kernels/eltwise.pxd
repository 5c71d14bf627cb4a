# Public Cython declarations of the eltwise kernels (extern only).
from libc.stdint cimport int32_t, int64_t
