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


def openmp_enabled():
    return bool(st_openmp_enabled())


def get_num_threads():
    return st_get_num_threads()


def set_num_threads(int n):
    st_set_num_threads(n)


def empty_cache():
    with nogil:
        st_empty_cache()


def cache_bytes():
    return st_cache_bytes()


cdef inline int _check(int status) except -1:
    if status == ST_ENOMEM:
        raise MemoryError("striate kernel: out of memory for its workspace")
    if status != ST_OK:
        raise RuntimeError(f"striate kernel failed with status {status}")
    return 0
