"""Side-by-side comparison driver: striate vs NumPy vs PyTorch on the WORKLOADS.md rows.

Discovers every ``bench/compare_<family>.py`` module, calls its ``rows(threads, repeat)`` for
each requested thread count and prints one table (family, workload, threads, times in ms,
striate GFLOP/s and its share of the CPU's measured FMA peak on that many threads, speedups
of striate over NumPy and over PyTorch: > 1 means striate is faster, and "max vs numpy": the
speedup over NumPy a kernel doing the row's FLOPs at the FMA peak would reach, the ceiling of
any implementation of that row; Winograd convolutions do fewer multiplies than the FLOPs
counted, so they can pass 100% and the ceiling).  Run it with NumPy's BLAS at its defaults:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=src python bench/compare.py \
        [--threads 1,2] [--only gemm,conv] [--repeat 20] [--json figures.json] [--malloc tuned]

``--malloc tuned`` reruns the same command with glibc's malloc thresholds raised (WORKLOADS.md);
compare its figures with a default run to see what per-call allocation costs.
"""

from __future__ import annotations

import argparse
import glob
import importlib
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):  # compare_*.py may import `bench._timing` or `_timing`
    if p not in sys.path:
        sys.path.insert(0, p)

from _timing import TUNED_MALLOC, blas_info, malloc_setting, set_threads, write_json


def discover(only: list[str] | None = None) -> dict[str, object]:
    """Import bench/compare_<family>.py modules (those in `only` when given), by family."""
    mods = {}
    for path in sorted(glob.glob(os.path.join(HERE, "compare_*.py"))):
        family = os.path.basename(path)[len("compare_"):-len(".py")]
        if only and family not in only:
            continue
        mod = importlib.import_module(f"compare_{family}")
        if hasattr(mod, "rows"):
            mods[family] = mod
    return mods


def _ratio(peer_ms, striate_ms):
    if peer_ms is None or striate_ms is None or striate_ms <= 0:
        return None
    return peer_ms / striate_ms


def _fmt(v, spec):
    return "-" if v is None else format(v, spec)


def header() -> str:
    import numpy as np

    import striate

    cfg = striate._runtime.config()
    g = cfg["gemm"]
    try:
        import torch

        tv = f"torch {torch.__version__}"
    except ImportError:
        tv = "torch not installed"
    cpu = platform.processor() or platform.machine()
    return "\n".join([
        (f"striate {cfg['version']}  arch={cfg['arch']}  gemm={g['kernel']} "
         f"(MC={g['mc']} KC={g['kc']} NC={g['nc']})  openmp={cfg['openmp']}"),
        f"numpy {np.__version__}  BLAS: {blas_info()}",
        (f"{tv}  python {platform.python_version()}  cpu: {cpu}  cores: {os.cpu_count()}  "
        f"malloc: {malloc_setting()}  conv winograd: {striate.kernels.conv_winograd()}"),
    ])


def fma_peaks(threads: list[int]) -> dict[int, float]:
    """striate's measured FMA peak (GFLOP/s, ISA path in use) for each thread count."""
    import striate

    return {t: striate.kernels.fma_peak(threads=t, seconds=0.3) for t in threads}


def run(families: dict, threads: list[int], repeat: int,
        peaks: dict[int, float] | None = None) -> list[dict]:
    """Run every family's rows for every thread count; returns rows with threads, GFLOP/s and,
    given the FMA peaks, the share of the peak and the ceiling vs NumPy."""
    results = []
    for t in threads:
        for family, mod in families.items():
            set_threads(t)
            t0 = time.perf_counter()
            for r in mod.rows(t, repeat):
                r = dict(r)
                r["threads"] = t
                s = r.get("striate_ms")
                r["striate_gflops"] = (r["flop"] / (s * 1e6)) if r.get("flop") and s else None
                r["vs_numpy"] = _ratio(r.get("numpy_ms"), s)
                r["vs_torch"] = _ratio(r.get("torch_ms"), s)
                peak = (peaks or {}).get(t)
                r["peak_share"] = (r["striate_gflops"] / peak
                                   if peak and r["striate_gflops"] else None)
                r["max_vs_numpy"] = (r["numpy_ms"] * 1e6 * peak / r["flop"]
                                     if peak and r.get("flop") and r.get("numpy_ms") else None)
                results.append(r)
            print(f"  ({family}, {t} thread(s): {time.perf_counter() - t0:.1f} s)",
                  file=sys.stderr)
    return results


def table(results: list[dict]) -> str:
    cols = ["family", "workload", "thr", "striate ms", "numpy ms", "torch ms", "GFLOP/s",
            "% peak", "vs numpy", "max vs numpy", "vs torch", "note"]
    lines = []
    body = []
    for r in results:
        share = r.get("peak_share")
        body.append([r["family"], r["workload"], str(r["threads"]), _fmt(r["striate_ms"], ".3f"),
                     _fmt(r.get("numpy_ms"), ".3f"), _fmt(r.get("torch_ms"), ".3f"),
                     _fmt(r.get("striate_gflops"), ".1f"),
                     _fmt(None if share is None else 100 * share, ".0f"),
                     _fmt(r.get("vs_numpy"), ".2f"), _fmt(r.get("max_vs_numpy"), ".2f"),
                     _fmt(r.get("vs_torch"), ".2f"), r.get("note", "")])
    widths = [max(len(c), *(len(b[i]) for b in body)) if body else len(c)
              for i, c in enumerate(cols)]
    lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    lines.append("  ".join("-" * w for w in widths))
    for b in body:
        lines.append("  ".join(v.ljust(w) if i in (0, 1, len(cols) - 1) else v.rjust(w)
                               for i, (v, w) in enumerate(zip(b, widths))))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (1,2)")
    ap.add_argument("--only", default="", help="comma-separated families, e.g. gemm,conv")
    ap.add_argument("--repeat", type=int, default=20, help="timed runs per measurement")
    ap.add_argument("--json", default="", help="write the figures to this JSON file")
    ap.add_argument("--malloc", choices=["default", "tuned"], default="default",
                    help="tuned: rerun this command with glibc's malloc thresholds raised")
    args = ap.parse_args(argv)
    if args.malloc == "tuned" and malloc_setting() == "default":
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__),
                                   *(sys.argv[1:] if argv is None else argv)],
                  dict(os.environ, GLIBC_TUNABLES=TUNED_MALLOC))
    threads = [int(t) for t in args.threads.split(",") if t.strip()]
    only = [f.strip() for f in args.only.split(",") if f.strip()] or None
    families = discover(only)
    if not families:
        ap.error(f"no bench/compare_*.py module matches --only {args.only!r}")
    print(header(), flush=True)
    peaks = fma_peaks(threads)
    print("FMA peak (striate.kernels.fma_peak): "
          + ", ".join(f"{t} thread(s) {p:.0f} GFLOP/s" for t, p in peaks.items()), flush=True)
    results = run(families, threads, args.repeat, peaks)
    print(table(results))
    if args.json:
        write_json(args.json, {"header": header(), "fma_peak_gflops": peaks, "rows": results})
    return results


if __name__ == "__main__":
    main()
