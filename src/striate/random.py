"""Random number generation: a seedable :class:`Generator` and the global default one.

``striate.manual_seed(seed)`` reseeds the default generator used by the random factories
(``randn``, ``rand``, ``randint``, ...), by dropout and by ``nn.init``.  Each of those also
takes ``generator=`` to draw from a private stream instead.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Generator",
    "default_generator",
    "get_generator",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]


class Generator:
    """A seedable random stream (PCG64), like ``torch.Generator``.

    Args:
        seed: initial seed; ``None`` draws one from the OS.

    Example:
        >>> import striate
        >>> g = striate.Generator().manual_seed(0)
        >>> a = striate.randn(3, generator=g)
        >>> b = striate.randn(3, generator=striate.Generator().manual_seed(0))
        >>> bool((a == b).all())
        True
    """

    __slots__ = ("_seed", "rng")

    def __init__(self, seed: int | None = None) -> None:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed the stream; returns ``self``."""
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"manual_seed: expected seed >= 0, got {seed}")
        self._seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def initial_seed(self) -> int:
        """The seed last given to :meth:`manual_seed`."""
        return self._seed

    def get_state(self) -> dict:
        """The stream's state (a dict; pass it to :meth:`set_state`)."""
        return {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}

    def set_state(self, state: dict) -> Generator:
        """Restore a state from :meth:`get_state`; returns ``self``."""
        self._seed = state["seed"]
        self.rng.bit_generator.state = state["bit_generator"]
        return self

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed})"


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (factories, dropout, ``nn.init``); returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the OS and return that seed."""
    s = int(np.random.SeedSequence().entropy % (2**63))
    default_generator.manual_seed(s)
    return s


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    """State of the default generator."""
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(state)


def get_generator(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (the default one when ``None``)."""
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"expected generator to be a striate.Generator, got "
                        f"{type(generator).__name__}")
    return generator.rng
