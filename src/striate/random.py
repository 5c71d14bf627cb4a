"""Random number generation: a seedable :class:`Generator` and the global default one.

``striate.manual_seed(seed)`` reseeds the default generator used by the random factories
(``randn``, ``rand``, ``randint``, ...), by dropout and by ``nn.init``.  Each of those also
takes ``generator=`` to draw from a private stream instead.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "Generator",
    "default_generator",
    "dropout_keep",
    "get_generator",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "philox4x32_10",
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


_MASK32 = 0xFFFFFFFF


def philox4x32_10(ctr, key, xp=np):
    """Philox4x32-10 (Salmon, Moraes, Dror and Shaw, SC 2011), elementwise over arrays of
    counters: ``ctr`` four uint32 arrays (or ints), ``key`` two ints; returns the four
    uint32 output words.  ``xp``: the array module (NumPy or CuPy).  The same function as the
    compiled ``st_philox4x32_10``."""
    u64 = xp.uint64
    c = [xp.asarray(v, dtype=u64) & u64(_MASK32) for v in ctr]
    a, b = int(key[0]) & _MASK32, int(key[1]) & _MASK32
    for _ in range(10):
        p0 = c[0] * u64(0xD2511F53)
        p1 = c[2] * u64(0xCD9E8D57)
        c = [(p1 >> u64(32)) ^ c[1] ^ u64(a), p1 & u64(_MASK32),
             (p0 >> u64(32)) ^ c[3] ^ u64(b), p0 & u64(_MASK32)]
        a = (a + 0x9E3779B9) & _MASK32
        b = (b + 0xBB67AE85) & _MASK32
    return [v.astype(xp.uint32) for v in c]


def dropout_keep(shape, p: float, seed: int, xp=np):
    """Dropout's keep mask (bool, ``shape``) from stream ``seed``: flat element
    ``i = 64 g + 16 w + l`` is kept when ``(word >> 8) / 2**24 >= p``, ``word`` being word
    ``w`` of Philox4x32-10 with counter ``(16 g + l, 0, 0)`` (64 bits over the first two
    words) and key ``(seed & 0xFFFFFFFF, seed >> 32)``: the mask of the compiled
    ``striate.kernels.dropout``, computed with ``xp`` (NumPy or CuPy) for the other paths."""
    n = math.prod(int(d) for d in shape)
    groups = -(-n // 64)
    ctr = xp.arange(groups * 16, dtype=xp.uint64)
    words = philox4x32_10((ctr & xp.uint64(_MASK32), ctr >> xp.uint64(32), 0, 0),
                          (int(seed) & _MASK32, int(seed) >> 32), xp)
    w = xp.stack(words).reshape(4, groups, 16).transpose(1, 0, 2).reshape(-1)[:n]
    t24 = min(max(math.ceil(float(p) * 2.0**24), 0), 1 << 24)
    return ((w >> xp.uint32(8)) >= t24).reshape(shape)


def get_generator(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (the default one when ``None``)."""
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"expected generator to be a striate.Generator, got "
                        f"{type(generator).__name__}")
    return generator.rng
