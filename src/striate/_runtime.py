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
    if name not in ARCH_NAMES:
        raise ValueError(f"arch: expected one of {list(ARCH_NAMES)}, got {name!r}")
    arch = ARCH_NAMES.index(name)
    if not _C.cpu_supports(arch):
        raise ValueError(
            f"arch: this CPU does not support {name!r}; available: {available_archs()}")
    _C.arch_set(arch)


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
    ]
    print("\n".join(lines), file=file or sys.stdout)


def _init_from_env() -> None:
    name = os.environ.get("STRIATE_ARCH", "").strip().lower()
    if name:
        try:
            set_arch(name)
        except ValueError as e:
            raise ImportError(f"STRIATE_ARCH={name!r}: {e}") from None


_init_from_env()
