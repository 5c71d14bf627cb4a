"""The array cache (striate.set_array_cache): NumPy's data allocator that keeps freed large
blocks for reuse.  Reuse, zeroing, resizing, limits, switching, threads, environment."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import striate
from striate import kernels as K

MB = 1 << 20


@pytest.fixture
def cache_on():
    saved = striate.array_cache_info()
    striate.set_array_cache(True)
    yield
    striate.set_array_cache(saved["enabled"], limit_bytes=saved["limit_bytes"])


def test_on_by_default_and_reported():
    info = striate.array_cache_info()
    assert info["enabled"] is True
    assert info["min_block_bytes"] == MB
    assert info["limit_bytes"] > 0
    assert striate._runtime.config()["array_cache"]["enabled"] is True


def test_freed_blocks_are_reused_and_emptied(cache_on):
    K.empty_cache()
    a = np.empty(3 * MB // 4, np.float32)  # 3 MiB
    a[:] = 7.0
    del a
    before = striate.array_cache_info()
    assert before["cached_bytes"] >= 3 * MB
    b = np.empty(3 * MB // 4, np.float32)
    after = striate.array_cache_info()
    assert after["hits"] == before["hits"] + 1
    assert before["cached_bytes"] - after["cached_bytes"] == 3 * MB  # its size class
    del b
    K.empty_cache()
    assert striate.array_cache_info()["cached_bytes"] == 0


def test_zeros_from_a_dirty_block_are_zero(cache_on):
    a = np.full(5 * MB // 8, 3.5, np.float64)
    del a
    z = np.zeros(5 * MB // 8, np.float64)
    assert not z.any()
    c = np.zeros((5 * MB // 8,), np.float64) + 0  # calloc then arithmetic
    assert float(c.sum()) == 0.0


def test_resize_keeps_the_data(cache_on):
    x = np.arange(MB // 4, dtype=np.float32)  # 1 MiB: the cached path
    x.resize(MB, refcheck=False)  # grows through realloc
    np.testing.assert_array_equal(x[:MB // 4], np.arange(MB // 4, dtype=np.float32))
    s = np.arange(100, dtype=np.float64)  # small path
    s.resize(200_000, refcheck=False)
    np.testing.assert_array_equal(s[:100], np.arange(100, dtype=np.float64))
    x.resize(10, refcheck=False)  # shrinks
    np.testing.assert_array_equal(x, np.arange(10, dtype=np.float32))


def test_limit_zero_keeps_nothing(cache_on):
    saved = striate.array_cache_info()["limit_bytes"]
    try:
        striate.set_array_cache(True, limit_bytes=0)
        a = np.ones(2 * MB, np.uint8)
        del a
        assert striate.array_cache_info()["cached_bytes"] == 0
    finally:
        striate.set_array_cache(True, limit_bytes=saved)


def test_switching_off_and_on_is_safe(cache_on):
    made_with_cache = np.ones(2 * MB, np.uint8)
    striate.set_array_cache(False)
    assert striate.array_cache_info()["enabled"] is False
    made_without = np.ones(2 * MB, np.uint8)
    del made_with_cache  # freed by the allocator that made it
    striate.set_array_cache(True)
    del made_without
    assert striate.array_cache_info()["enabled"] is True


def test_arrays_cross_threads(cache_on):
    out = []

    def work():
        out.append(np.ones(3 * MB, np.uint8))  # this thread's context: NumPy's default

    t = threading.Thread(target=work)
    t.start()
    t.join()
    big = np.ones(3 * MB, np.uint8)
    assert int(out.pop().sum()) == 3 * MB
    del big


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_bad_limit(bad):
    with pytest.raises(ValueError, match="set_array_cache: limit_bytes must be an int >= 0"):
        striate.set_array_cache(True, limit_bytes=bad)


@pytest.mark.parametrize("env, enabled", [({"STRIATE_ARRAY_CACHE": "0"}, "False"),
                                          ({"STRIATE_ARRAY_CACHE": "on"}, "True"),
                                          ({"STRIATE_ARRAY_CACHE_BYTES": "12345"}, "True")])
def test_environment(env, enabled):
    code = ("import striate; i = striate.array_cache_info(); "
            "print(i['enabled'], i['limit_bytes'])")
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env),
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    got_enabled, limit = out.stdout.split()
    assert got_enabled == enabled
    if "STRIATE_ARRAY_CACHE_BYTES" in env:
        assert limit == "12345"


@pytest.mark.parametrize("env, msg", [({"STRIATE_ARRAY_CACHE": "maybe"}, "STRIATE_ARRAY_CACHE"),
                                      ({"STRIATE_ARRAY_CACHE_BYTES": "-5"},
                                       "STRIATE_ARRAY_CACHE_BYTES")])
def test_bad_environment(env, msg):
    out = subprocess.run([sys.executable, "-c", "import striate"], env=dict(os.environ, **env),
                         capture_output=True, text=True, check=False)
    assert out.returncode != 0
    assert msg in out.stderr and "expected" in out.stderr


def test_absurd_sizes_raise_memory_error(cache_on):
    for nbytes in (2**61, 2**62 + 3):
        with pytest.raises(MemoryError):
            np.empty(nbytes, np.uint8)
    a = np.zeros(10, np.float32)
    with pytest.raises((MemoryError, ValueError)):
        a.resize(2**61, refcheck=False)
    np.testing.assert_array_equal(a, np.zeros(10, np.float32))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_allocates(cache_on):
    big = np.ones(3 * MB, np.uint8)
    del big  # a cached block in the parent
    pid = os.fork()
    if pid == 0:  # child: reuse and allocate through the inherited cache, then leave at once
        ok = int(np.ones(3 * MB, np.uint8).sum()) == 3 * MB and np.zeros(5 * MB).sum() == 0
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
