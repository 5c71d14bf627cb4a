"""``striate.nn.functional``: an alias of :mod:`striate.functional` (as
``torch.nn.functional``), so ``import striate.nn.functional as F`` works."""

from striate.functional import *
from striate.functional import __all__  # noqa: F401
