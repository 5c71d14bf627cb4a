import subprocess
import sys

import numpy as np
import pytest

import striate


def test_available_archs_has_generic():
    archs = striate.available_archs()
    assert archs[0] == "generic"
    assert striate.get_arch() in archs


def test_set_arch_unknown_is_value_error():
    with pytest.raises(ValueError, match="expected one of"):
        striate.set_arch("sse9")


def test_env_arch_unsupported_is_clear_error():
    # A path the CPU lacks (or an unknown name) must fail at import with a clear message.
    missing = [a for a in ("avx2", "avx512") if a not in striate.available_archs()]
    name = missing[0] if missing else "bogus"
    r = subprocess.run([sys.executable, "-c", "import striate"], capture_output=True, text=True,
                       env={"STRIATE_ARCH": name, "PATH": ""})
    assert r.returncode != 0
    assert "STRIATE_ARCH" in r.stderr and name in r.stderr


@pytest.mark.parametrize("name", ["generic", "avx2", "avx512"])
def test_env_arch_forces_path(name):
    if name not in striate.available_archs():
        pytest.skip(f"CPU lacks {name}")
    r = subprocess.run([sys.executable, "-c", "import striate; print(striate.get_arch())"],
                       capture_output=True, text=True, env={"STRIATE_ARCH": name})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == name


def test_threads_roundtrip():
    saved = striate.get_num_threads()
    try:
        striate.set_num_threads(1)
        assert striate.get_num_threads() == 1
    finally:
        striate.set_num_threads(saved)
    with pytest.raises(ValueError, match="positive int"):
        striate.set_num_threads(0)


def test_show_config_and_info_cli(capsys):
    striate.show_config()
    out = capsys.readouterr().out
    for key in ("ISA in use", "ISA available", "micro-kernel", "blocks", "OpenMP", "threads"):
        assert key in out
    r = subprocess.run([sys.executable, "-m", "striate", "info", "--check"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert "FAIL" not in r.stdout and "self-check" in r.stdout


def test_threadpoolctl_sees_openmp_pool():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not striate._runtime.openmp_enabled():
        pytest.skip("serial build")
    info = threadpoolctl.threadpool_info()
    assert any(i["user_api"] == "openmp" for i in info)


def test_empty_cache_releases_workspaces():
    a = np.ones((300, 300), np.float32)
    striate.kernels.gemm(a, a)
    striate.kernels.empty_cache()
    assert striate.kernels.cache_bytes() == 0


@pytest.mark.parametrize("name", ["generic", "avx2", "avx512"])
def test_fma_peak_each_path(name):
    if name not in striate.available_archs():
        pytest.skip(f"CPU lacks {name}")
    in_use = striate.get_arch()
    g = striate.kernels.fma_peak(threads=1, arch=name, seconds=0.02)
    # a plausible per-core multiply-add rate (GFLOP/s), whatever the load on the machine
    assert 0.1 < g < 10000
    assert striate.get_arch() == in_use  # measuring another path does not switch to it


def test_fma_peak_bad_arguments():
    from striate._kernels import _C
    k = striate.kernels
    with pytest.raises(ValueError,
                       match=r"fma_peak: threads: expected an int in \[1, 1024\], got 0"):
        k.fma_peak(threads=0)
    with pytest.raises(ValueError, match="fma_peak: threads: .* got 1025"):
        k.fma_peak(threads=1025)
    with pytest.raises(ValueError, match="fma_peak: threads: .* got 2.0"):
        k.fma_peak(threads=2.0)
    with pytest.raises(ValueError, match=r"fma_peak: seconds: expected a number in \(0, 60\]"):
        k.fma_peak(seconds=0)
    with pytest.raises(ValueError, match="fma_peak: seconds"):
        k.fma_peak(seconds=float("nan"))
    with pytest.raises(ValueError, match="fma_peak: arch: expected one of"):
        k.fma_peak(arch="sse9")
    # the C entry point refuses what Python would not pass
    assert _C.fma_peak_gflops(99, 1, 0.01) == -1.0
    assert _C.fma_peak_gflops(0, 0, 0.01) == -1.0
    assert _C.fma_peak_gflops(0, 1025, 0.01) == -1.0
    assert _C.fma_peak_gflops(0, 1, 0.0) == -1.0
