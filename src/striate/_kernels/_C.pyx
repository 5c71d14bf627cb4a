# cython: language_level=3
"""striate._kernels._C: the one compiled module.  Thin bindings only: typed memoryviews
to C pointers, the GIL released around every kernel.  No validation here (that lives in
striate.kernels); each family's bindings sit in its own .pxi."""

include "_runtime.pxi"
include "_gemm.pxi"
include "_conv.pxi"
include "_pool.pxi"
include "_eltwise.pxi"
include "_norm.pxi"
include "_capi.pxi"
