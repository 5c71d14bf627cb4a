# Public Cython declarations of striate's C kernels (extern only: cimport them from your
# own Cython code and add striate.get_include() to the C include path).
from libc.stdint cimport int32_t, int64_t


cdef extern from "striate/runtime.h" nogil:
    int ST_OK
    int ST_ENOMEM
    int ST_EINVAL
    int ST_ARCH_GENERIC
    int ST_ARCH_AVX2
    int ST_ARCH_AVX512
    int ST_ARCH_COUNT
    int st_cpu_supports(int arch)
    int st_arch_best()
    int st_arch_get()
    int st_arch_set(int arch)
    const char *st_arch_name(int arch)
    int st_arch_from_name(const char *name)
    int st_openmp_enabled()
    int st_get_num_threads()
    void st_set_num_threads(int n)
    void st_empty_cache()
    size_t st_cache_bytes()
