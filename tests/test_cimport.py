"""Other Cython code can cimport striate's kernels (public .pxd files + C-API capsule)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import striate

PYX = textwrap.dedent("""
    # cython: language_level=3
    from striate._kernels._C cimport c_sgemm

    def matmul(const float[:, ::1] a, const float[:, ::1] b, float[:, ::1] c):
        cdef int status
        with nogil:
            status = c_sgemm(0, 0, a.shape[0], b.shape[1], a.shape[1], 1.0, &a[0, 0],
                             a.shape[1], &b[0, 0], b.shape[1], 0.0, &c[0, 0], c.shape[1])
        return status
""")

SETUP = textwrap.dedent("""
    from setuptools import Extension, setup
    from Cython.Build import cythonize
    import striate, os
    src = os.path.dirname(os.path.dirname(striate.__file__))
    setup(ext_modules=cythonize([Extension("userext", ["userext.pyx"],
                                           include_dirs=[striate.get_include()])],
                                include_path=[src], quiet=True))
""")


def test_third_party_cython_cimports_sgemm(tmp_path):
    pytest.importorskip("Cython")
    (tmp_path / "userext.pyx").write_text(PYX)
    (tmp_path / "setup.py").write_text(SETUP)
    r = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    code = textwrap.dedent("""
        import numpy as np, striate, userext
        rng = np.random.default_rng(0)
        a = rng.standard_normal((17, 33), dtype=np.float32)
        b = rng.standard_normal((33, 9), dtype=np.float32)
        c = np.empty((17, 9), np.float32)
        assert userext.matmul(a, b, c) == 0
        print(float(np.abs(c - a.astype(np.float64) @ b).max()))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path), os.path.dirname(os.path.dirname(striate.__file__))]))
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert float(r.stdout.strip()) < 1e-4
    assert np.isfinite(float(r.stdout.strip()))
