"""Run-time configuration of the compiled core: ISA path, threads, configuration report."""

from __future__ import annotations

import os
import sys

from striate._kernels import _C

ARCH_NAMES = tuple(_C.arch_name(a) for a in range(_C.arch_count()))


def available_archs() -> list[str]:
    """ISA paths this CPU can run, oldest first (``generic`` is always there)."""
    return [n for a, n in enumerate(ARCH_NAMES) if _C.cpu_supports(a)]


def get_arch() -> str:
    """Name of the ISA path the kernels use now."""
    return ARCH_NAMES[_C.arch_get()]


def set_arch(name: str) -> None:
    """Force an ISA path (``"generic"``, ``"avx2"`` or ``"avx512"``).

    Raises:
        ValueError: unknown name, or a path this CPU cannot run (never SIGILL).
    """
    _C.arch_set(_arch_index(name))


def _arch_index(name, fn: str = "") -> int:
    """Index of the ISA path `name`; ValueError if unknown or not on this CPU."""
    where = f"{fn}: arch" if fn else "arch"
    if name not in ARCH_NAMES:
        raise ValueError(f"{where}: expected one of {list(ARCH_NAMES)}, got {name!r}")
    arch = ARCH_NAMES.index(name)
    if not _C.cpu_supports(arch):
        raise ValueError(
            f"{where}: this CPU does not support {name!r}; available: {available_archs()}")
    return arch


def get_num_threads() -> int:
    """Number of OpenMP threads the kernels use (1 in a serial build)."""
    return _C.get_num_threads()


def set_num_threads(n: int) -> None:
    """Set the number of OpenMP threads of the kernels' pool."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _C.set_num_threads(n)


def openmp_enabled() -> bool:
    return _C.openmp_enabled()


def fma_peak(threads: int | None = None, arch: str | None = None, seconds: float = 0.2) -> float:
    """Measured multiply-add peak of this CPU in GFLOP/s: every thread runs 12 independent
    chains of vector FMAs on the ISA path for about `seconds`.  The ceiling any float32 kernel
    on that path can reach (bench/compare.py reports each workload's share of it).

    Args:
        threads: threads running the loop (default: :func:`get_num_threads`; 1 in a serial
            build whatever is asked).
        arch: ISA path (default: the one in use); the portable path counts a multiply and an
            add.
        seconds: how long to measure, in (0, 60].

    Raises:
        ValueError: threads outside [1, 1024], seconds out of range, unknown or unsupported
            arch.
    """
    fn = "fma_peak"
    if threads is None:
        threads = get_num_threads()
    cap = _C.FMA_PEAK_MAX_THREADS
    if not isinstance(threads, int) or isinstance(threads, bool) or not 1 <= threads <= cap:
        raise ValueError(f"{fn}: threads: expected an int in [1, {cap}], got {threads!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not 0 < seconds <= 60:
        raise ValueError(f"{fn}: seconds: expected a number in (0, 60], got {seconds!r}")
    a = _C.arch_get() if arch is None else _arch_index(arch, fn)
    return float(_C.fma_peak_gflops(a, threads, float(seconds)))


_array_cache = {"previous": None}


def set_array_cache(enabled: bool = True, limit_bytes: int | None = None) -> None:
    """Turn striate's array cache on or off as NumPy's data allocator (in the current thread's
    context), and set how many freed bytes it may keep.

    glibc gives freed multi-MB blocks back to the operating system, so a training step that
    allocates its activations afresh would pay a page fault and a page clear per 4 KiB on
    every step (a DenseNet-BC step on Fashion-MNIST spent a third of its time there).  The
    cache keeps freed arrays of 1 MiB and more, in size classes, and hands them out again.
    It is on by default (``STRIATE_ARRAY_CACHE=0`` at import turns it off;
    ``STRIATE_ARRAY_CACHE_BYTES`` sets the limit, default a quarter of the physical memory).
    :func:`striate.kernels.empty_cache` frees what it holds.

    Args:
        enabled: install (True) or restore NumPy's previous allocator (False).  Arrays keep
            the allocator that made them, so switching is always safe.
        limit_bytes: most bytes of freed arrays kept for reuse (None: unchanged; 0: keep
            none).

    Raises:
        ValueError: a negative or non-int limit.
    """
    if limit_bytes is not None:
        if (not isinstance(limit_bytes, int) or isinstance(limit_bytes, bool)
                or limit_bytes < 0):
            raise ValueError(f"set_array_cache: limit_bytes must be an int >= 0, got "
                             f"{limit_bytes!r}")
        _C.array_cache_set_limit(limit_bytes)
    if enabled and not _C.array_cache_is_current():
        _array_cache["previous"] = _C.array_cache_install()
    elif not enabled and _C.array_cache_is_current():
        _C.array_cache_set_handler(_array_cache["previous"])


def array_cache_info() -> dict:
    """The array cache: ``enabled`` (NumPy's allocator in this context), ``cached_bytes``
    (freed arrays kept), ``limit_bytes``, ``hits`` and ``misses`` (large allocations served
    from the cache or not), ``min_block_bytes``."""
    return {"enabled": bool(_C.array_cache_is_current()), **_C.array_cache_stats()}


def config() -> dict:
    """The build and run-time configuration as a dict."""
    from striate import __version__

    arch = _C.arch_get()
    return {
        "version": __version__,
        "python": sys.version.split()[0],
        "arch": ARCH_NAMES[arch],
        "archs_available": available_archs(),
        "gemm": _C.sgemm_info(arch),
        "openmp": openmp_enabled(),
        "num_threads": get_num_threads(),
        "workspace_cache_bytes": _C.cache_bytes(),
        "array_cache": array_cache_info(),
    }


def show_config(file=None) -> None:
    """Print version, ISA path in use and available, GEMM tile and blocks, OpenMP, threads."""
    c = config()
    g = c["gemm"]
    lines = [
        f"striate {c['version']} (Python {c['python']})",
        f"  ISA in use        : {c['arch']}"
        + ("  (forced by STRIATE_ARCH)" if os.environ.get("STRIATE_ARCH") else ""),
        f"  ISA available     : {', '.join(c['archs_available'])}",
        f"  GEMM micro-kernel : {g['kernel']}  (tile MR x NR = {g['mr']} x {g['nr']})",
        f"  GEMM blocks       : MC={g['mc']} KC={g['kc']} NC={g['nc']}",
        f"  OpenMP            : {'yes' if c['openmp'] else 'NO (serial build)'}",
        f"  threads           : {c['num_threads']}",
        f"  workspace cache   : {c['workspace_cache_bytes'] / 2**20:.1f} MiB",
        (f"  array cache       : {'on' if c['array_cache']['enabled'] else 'off'}, "
         f"{c['array_cache']['cached_bytes'] / 2**20:.1f} MiB kept "
         f"(limit {c['array_cache']['limit_bytes'] / 2**20:.0f} MiB)"),
    ]
    print("\n".join(lines), file=file or sys.stdout)


def _init_from_env() -> None:
    name = os.environ.get("STRIATE_ARCH", "").strip().lower()
    if name:
        try:
            set_arch(name)
        except ValueError as e:
            raise ImportError(f"STRIATE_ARCH={name!r}: {e}") from None
    limit = os.environ.get("STRIATE_ARRAY_CACHE_BYTES", "").strip()
    if limit:
        try:
            nbytes = int(limit)
            if nbytes < 0:
                raise ValueError
        except ValueError:
            raise ImportError(f"STRIATE_ARRAY_CACHE_BYTES={limit!r}: expected an int >= 0 "
                              "(bytes)") from None
        _C.array_cache_set_limit(nbytes)
    flag = os.environ.get("STRIATE_ARRAY_CACHE", "1").strip().lower()
    if flag not in ("0", "1", "off", "on", "false", "true", "no", "yes", ""):
        raise ImportError(f"STRIATE_ARRAY_CACHE={flag!r}: expected 0/1 (off/on)")
    if flag in ("1", "on", "true", "yes", ""):
        set_array_cache(True)


_init_from_env()
