"""Build striate's C kernels and their Cython bindings.

* Every C file in ``csrc/`` is compiled with baseline flags (no ``-march``), so a wheel runs
  on any x86-64 CPU.  Files whose name holds ``_avx512_`` or ``_avx2_`` hold the SIMD
  micro-kernels and alone get the matching ISA flags; the path is chosen at run time.
* OpenMP is probed: when the compiler lacks it (or ``STRIATE_NO_OPENMP=1``) a serial build
  is made, with a loud warning.
* ``STRIATE_CYTHON_CHECKS=1`` turns Cython bounds checking on (CI debugging).
"""

import glob
import os
import subprocess
import tempfile
import warnings

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
INCLUDE = os.path.join("src", "striate", "_kernels", "include")

BASE_FLAGS = ["-O3", "-std=gnu11", "-fno-math-errno", "-fno-trapping-math", "-Wall",
              "-Wno-unused-function", "-Wno-unknown-pragmas"]
ISA_FLAGS = {
    "_avx512_": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma",
                 "-mf16c"],
    "_avx2_": ["-mavx2", "-mfma", "-mf16c"],
}


def _isa_flags(path):
    name = os.path.basename(path)
    for tag, flags in ISA_FLAGS.items():
        if tag in name:
            return flags
    return []


def _probe_openmp(compiler_cmd):
    """Return True when the C compiler builds and links a tiny OpenMP program."""
    src = "#include <omp.h>\nint main(void){int n=0;\n#pragma omp parallel reduction(+:n)\nn+=1;\nreturn n>0?0:1;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        cfile = os.path.join(tmp, "probe.c")
        with open(cfile, "w") as f:
            f.write(src)
        try:
            r = subprocess.run(compiler_cmd + ["-fopenmp", cfile, "-o", os.path.join(tmp, "a.out")],
                               capture_output=True, timeout=120)
        except (OSError, subprocess.SubprocessError):
            return False
        return r.returncode == 0


class BuildExt(build_ext):
    def build_extensions(self):
        cc = self.compiler.compiler_so[:1] if hasattr(self.compiler, "compiler_so") else ["cc"]
        use_omp = os.environ.get("STRIATE_NO_OPENMP", "") not in ("1", "true", "yes")
        if use_omp and not _probe_openmp(cc):
            use_omp = False
            warnings.warn("\n" + "*" * 72 + "\n striate: the C compiler has no OpenMP support; "
                          "building SERIAL kernels (one thread).\n" + "*" * 72)
        elif not use_omp:
            warnings.warn("striate: STRIATE_NO_OPENMP set, building serial kernels")
        omp = ["-fopenmp"] if use_omp else []
        macros = [("STRIATE_OPENMP", "1" if use_omp else "0")]
        for ext in self.extensions:
            ext.extra_compile_args = BASE_FLAGS + omp
            ext.extra_link_args = omp
            ext.define_macros = list(ext.define_macros or []) + macros
            # ISA micro-kernels: compiled here with their own flags, linked as objects.
            isa_sources = [s for s in ext.sources if _isa_flags(s)]
            ext.sources = [s for s in ext.sources if not _isa_flags(s)]
            for src in isa_sources:
                objs = self.compiler.compile(
                    [src], output_dir=self.build_temp, macros=ext.define_macros,
                    include_dirs=ext.include_dirs,
                    extra_postargs=BASE_FLAGS + omp + _isa_flags(src))
                ext.extra_objects = list(ext.extra_objects or []) + objs
        super().build_extensions()


def extensions():
    import numpy
    from Cython.Build import cythonize

    checks = os.environ.get("STRIATE_CYTHON_CHECKS", "") == "1"
    csrc = sorted(glob.glob(os.path.join("csrc", "**", "*.c"), recursive=True))
    headers = sorted(glob.glob(os.path.join("csrc", "**", "*.h"), recursive=True)
                     + glob.glob(os.path.join("csrc", "**", "*.inc"), recursive=True)
                     + glob.glob(os.path.join(INCLUDE, "striate", "*.h")))
    ext = Extension(
        "striate._kernels._C",
        sources=[os.path.join("src", "striate", "_kernels", "_C.pyx")] + csrc,
        include_dirs=[INCLUDE, "csrc", numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_22_API_VERSION")],
        # ISA sources are compiled apart and linked as objects: list them (and the headers)
        # as dependencies so editing one alone still relinks the extension.
        depends=csrc + headers,
    )
    return cythonize(
        [ext],
        compiler_directives={
            "language_level": 3,
            "boundscheck": checks,
            "wraparound": checks,
            "initializedcheck": checks,
            "cdivision": True,
            "embedsignature": True,
        },
        include_path=["src"],
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
