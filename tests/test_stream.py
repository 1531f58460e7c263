"""The compiled random stream is xoshiro256**, seeded from the model's generator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from netsim.stream import as_stream, next_u64, seed_stream, uniforms

MASK = (1 << 64) - 1


def xoshiro256ss(state: list[int], k: int) -> list[int]:
    """The published algorithm (Blackman & Vigna), in plain Python integers."""
    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (64 - r))) & MASK

    s, out = list(state), []
    for _ in range(k):
        out.append(rotl((s[1] * 5) & MASK, 7) * 9 & MASK)
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_draws_are_those_of_the_published_algorithm(seed):
    s = seed_stream(np.random.default_rng(seed))
    expected = xoshiro256ss([int(x) for x in s], 50)
    assert [int(next_u64(s)) for _ in range(50)] == expected


def test_uniforms_are_uniform_on_the_unit_interval():
    u = uniforms(seed_stream(np.random.default_rng(3)), 200_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01  # no lag-1 correlation


def test_same_generator_seed_same_stream_and_the_state_advances():
    a, b = (seed_stream(np.random.default_rng(7)) for _ in range(2))
    first = uniforms(a, 10)
    assert np.array_equal(first, uniforms(b, 10))
    assert not np.array_equal(first, uniforms(a, 10))


def test_as_stream_takes_a_state_or_seeds_one_from_a_generator():
    s = seed_stream(np.random.default_rng(0))
    assert as_stream(s) is s
    assert as_stream(np.random.default_rng(0)).dtype == np.uint64
    with pytest.raises(ValueError, match="4 words"):
        as_stream(np.zeros(3, np.uint64))
