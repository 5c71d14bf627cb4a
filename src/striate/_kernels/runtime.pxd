# Public Cython declarations of striate's C kernels (extern only: cimport them from your
# own Cython code and add striate.get_include() to the C include path).
from libc.stdint cimport int32_t, int64_t, uint64_t


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
    int ST_FMA_PEAK_MAX_THREADS
    double st_fma_peak_gflops(int arch, int threads, double seconds)
    int st_openmp_enabled()
    int st_get_num_threads()
    void st_set_num_threads(int n)
    void st_empty_cache()
    size_t st_cache_bytes()
    size_t ST_MC_MIN_BYTES
    size_t ST_MC_FALLBACK_LIMIT
    void *st_mc_malloc(size_t n)
    void *st_mc_calloc(size_t count, size_t elsize)
    void *st_mc_realloc(void *p, size_t n)
    void st_mc_free(void *p)
    void st_mc_empty()
    size_t st_mc_set_limit(size_t nbytes)
    void st_mc_stats(size_t *cached, size_t *limit, uint64_t *hits, uint64_t *misses)
