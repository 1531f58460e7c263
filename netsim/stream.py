"""The model's random stream inside compiled code: xoshiro256** on a four-word state.

A month is one compiled call (``netsim/schedule.py``), so its random numbers are drawn
there, from a generator whose whole state is a ``uint64`` array of four words that the
model owns. The state is seeded once from the model's NumPy generator (``model.rng``),
which stays the only source of randomness: the same seed gives the same stream, whatever
else runs in the process. xoshiro256** (Blackman & Vigna 2018) passes BigCrush and takes
a few nanoseconds a draw; a uniform is the top 53 bits of a draw, in [0, 1).

Example:
    >>> import numpy as np
    >>> s = seed_stream(np.random.default_rng(0))
    >>> u = uniforms(s, 3)
    >>> bool(((0 <= u) & (u < 1)).all())
    True
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["as_stream", "next_u64", "seed_stream", "uniform", "uniforms"]

_2_POW_MINUS_53 = 1.0 / 9007199254740992.0


@numba.njit(cache=True, inline="always")
def _rotl(x: np.uint64, k: int) -> np.uint64:  # pragma: no cover - compiled
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@numba.njit(cache=True)
def next_u64(s: np.ndarray) -> np.uint64:  # pragma: no cover - compiled
    """The next 64-bit draw of the state ``s`` (advanced in place)."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@numba.njit(cache=True)
def uniform(s: np.ndarray) -> float:  # pragma: no cover - compiled
    """One uniform in [0, 1) from the state ``s``."""
    return float(next_u64(s) >> np.uint64(11)) * _2_POW_MINUS_53


@numba.njit(cache=True)
def uniforms(s: np.ndarray, k: int) -> np.ndarray:  # pragma: no cover - compiled
    """``k`` uniforms in [0, 1) from the state ``s``, in order."""
    out = np.empty(k)
    for i in range(k):
        out[i] = uniform(s)
    return out


def seed_stream(rng: np.random.Generator) -> np.ndarray:
    """A fresh stream state: four raw 64-bit draws of ``rng``'s bit generator (never all zero)."""
    state = rng.bit_generator.random_raw(4)
    state[0] |= np.uint64(1)
    return state


def as_stream(rng: np.random.Generator | np.ndarray) -> np.ndarray:
    """``rng`` itself if it is a stream state, else a stream seeded from the generator."""
    if isinstance(rng, np.ndarray):
        if rng.dtype != np.uint64 or rng.shape != (4,):
            raise ValueError("a stream state is a uint64 array of 4 words")
        return rng
    return seed_stream(rng)
