"""striate: image recognition with convolutional neural networks on our own kernels."""

__version__ = "0.1.0"

from striate._runtime import (  # noqa: E402
    array_cache_info,
    available_archs,
    get_arch,
    get_num_threads,
    set_arch,
    set_array_cache,
    set_num_threads,
    show_config,
)
from striate import kernels  # noqa: E402
from striate.autograd import (  # noqa: E402
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from striate.random import Generator, initial_seed, manual_seed, seed  # noqa: E402
from striate.tensor import *  # noqa: E402,F401,F403
from striate.tensor import __all__ as _tensor_all  # noqa: E402
from striate._functions import *  # noqa: E402,F401,F403
from striate._functions import __all__ as _functions_all  # noqa: E402
from striate.gradcheck import gradcheck  # noqa: E402
from striate import autograd  # noqa: E402
from striate import functional  # noqa: E402
from striate.functional import pad  # noqa: E402
from striate import nn  # noqa: E402
from striate import optim  # noqa: E402
from striate.serialization import load, load_metadata, save  # noqa: E402


def get_include() -> str:
    """Directory holding striate's C headers (for Cython code that cimports the kernels)."""
    import os

    return os.path.join(os.path.dirname(__file__), "_kernels", "include")


__all__ = list(_tensor_all) + list(_functions_all) + [
    "Generator", "autograd", "enable_grad", "functional", "gradcheck", "inference_mode",
    "initial_seed", "is_grad_enabled", "manual_seed", "no_grad", "pad", "seed", "set_grad_enabled",
    "__version__", "array_cache_info", "available_archs", "get_arch", "get_include",
    "get_num_threads", "kernels",
    "load", "load_metadata", "nn", "optim", "save", "set_arch", "set_array_cache",
    "set_num_threads", "show_config",
]
