"""``Parameter``: a Tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from striate.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor with ``requires_grad=True`` by default; assigning one as a Module
    attribute registers it (it then appears in ``parameters()`` and ``state_dict()``).

    Args:
        data: initial values (an array or Tensor; NumPy arrays are used without a copy).
            ``None`` gives an empty float32 parameter.
        requires_grad: whether the parameter is trained (``False`` freezes it).

    Example:
        >>> import numpy as np
        >>> p = Parameter(np.zeros(3, np.float32))
        >>> p.requires_grad, p.is_leaf
        (True, True)
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, np.float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: int) -> Any:
        return (Parameter, (self.data, self._requires_grad))
