# Runtime bindings: ISA selection, threads, workspace cache.
from striate._kernels.runtime cimport *


def cpu_supports(int arch):
    return bool(st_cpu_supports(arch))


def arch_best():
    return st_arch_best()


def arch_get():
    return st_arch_get()


def arch_set(int arch):
    return st_arch_set(arch)


def arch_name(int arch):
    return st_arch_name(arch).decode()


def arch_count():
    return ST_ARCH_COUNT


FMA_PEAK_MAX_THREADS = ST_FMA_PEAK_MAX_THREADS


def fma_peak_gflops(int arch, int threads, double seconds):
    cdef double r
    with nogil:
        r = st_fma_peak_gflops(arch, threads, seconds)
    return r


def openmp_enabled():
    return bool(st_openmp_enabled())


def get_num_threads():
    return st_get_num_threads()


def set_num_threads(int n):
    st_set_num_threads(n)


def empty_cache():
    with nogil:
        st_empty_cache()
        st_mc_empty()


def cache_bytes():
    return st_cache_bytes()


cdef inline int _check(int status) except -1:
    if status == ST_ENOMEM:
        raise MemoryError("striate kernel: out of memory for its workspace")
    if status != ST_OK:
        raise RuntimeError(f"striate kernel failed with status {status}")
    return 0


# ---- the array cache as NumPy's data allocator ------------------------------------------
from cpython.pycapsule cimport PyCapsule_New
from libc.stdint cimport uint8_t
from libc.string cimport strncpy


cdef extern from "numpy/arrayobject.h":
    ctypedef struct PyDataMemAllocator:
        void *ctx
        void *(*malloc)(void *ctx, size_t size) noexcept nogil
        void *(*calloc)(void *ctx, size_t nelem, size_t elsize) noexcept nogil
        void *(*realloc)(void *ctx, void *ptr, size_t new_size) noexcept nogil
        void (*free)(void *ctx, void *ptr, size_t size) noexcept nogil
    ctypedef struct PyDataMem_Handler:
        char name[127]
        uint8_t version
        PyDataMemAllocator allocator
    object PyDataMem_SetHandler(object handler)
    object PyDataMem_GetHandler()
    int _import_array() except -1

_import_array()


cdef void *_mc_malloc(void *ctx, size_t n) noexcept nogil:
    return st_mc_malloc(n)


cdef void *_mc_calloc(void *ctx, size_t count, size_t elsize) noexcept nogil:
    return st_mc_calloc(count, elsize)


cdef void *_mc_realloc(void *ctx, void *p, size_t n) noexcept nogil:
    return st_mc_realloc(p, n)


cdef void _mc_free(void *ctx, void *p, size_t n) noexcept nogil:
    st_mc_free(p)


cdef PyDataMem_Handler _handler
strncpy(_handler.name, b"striate_array_cache", 126)
_handler.version = 1
_handler.allocator.ctx = NULL
_handler.allocator.malloc = _mc_malloc
_handler.allocator.calloc = _mc_calloc
_handler.allocator.realloc = _mc_realloc
_handler.allocator.free = _mc_free
_handler_capsule = PyCapsule_New(&_handler, "mem_handler", NULL)


def array_cache_install():
    """Make the array cache NumPy's data allocator in the current context; returns the
    handler it replaces."""
    return PyDataMem_SetHandler(_handler_capsule)


def array_cache_set_handler(handler):
    """Set NumPy's data allocator (a handler returned earlier); returns the previous one."""
    return PyDataMem_SetHandler(handler)


def array_cache_is_current():
    return PyDataMem_GetHandler() is _handler_capsule


def array_cache_set_limit(size_t nbytes):
    return st_mc_set_limit(nbytes)


def array_cache_stats():
    cdef size_t cached, limit
    cdef uint64_t hits, misses
    st_mc_stats(&cached, &limit, &hits, &misses)
    return {"cached_bytes": cached, "limit_bytes": limit, "hits": hits, "misses": misses,
            "min_block_bytes": ST_MC_MIN_BYTES}
