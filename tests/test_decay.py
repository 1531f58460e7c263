from __future__ import annotations

import numpy as np
import pytest

from netsim.processes.decay import decay_ties
from netsim.scenario import DecayParams
from netsim.ties import EXCHANGE, Ties


def three_ties() -> Ties:
    ties = Ties(4)
    ties.reinforce(np.array([0, 1, 2]), np.array([1, 2, 3]), 0.8, kind=EXCHANGE, month=1)
    return ties


def test_unused_ties_weaken_by_rate():
    ties = three_ties()
    gone = decay_ties(ties, DecayParams(rate=0.25, floor=0.05), month=2)
    assert gone == 0
    assert np.allclose(ties.strength, 0.8 * 0.75)


def test_ties_used_this_month_do_not_weaken():
    ties = three_ties()
    ties.reinforce(np.array([1]), np.array([2]), 0.5, kind=EXCHANGE, month=2)
    decay_ties(ties, DecayParams(rate=0.25, floor=0.05), month=2)
    assert np.isclose(ties.strength[1], 0.8 + 0.5 * 0.2)
    assert np.allclose(ties.strength[[0, 2]], 0.6)


def test_ties_below_floor_vanish():
    ties = three_ties()
    ties.strength[:] = [0.1, 0.5, 0.12]
    gone = decay_ties(ties, DecayParams(rate=0.5, floor=0.1), month=2)
    assert gone == 2
    assert list(zip(ties.a.tolist(), ties.b.tolist(), strict=True)) == [(1, 2)]
    assert np.isclose(ties.strength[0], 0.25)


def test_zero_rate_keeps_every_tie_unchanged():
    ties = three_ties()
    assert decay_ties(ties, DecayParams(rate=0.0, floor=0.05), month=9) == 0
    assert np.allclose(ties.strength, 0.8)


def test_unused_tie_fades_away_after_enough_months():
    ties = three_ties()
    p = DecayParams(rate=0.1, floor=0.05)
    months = 0
    while len(ties) and months < 100:
        months += 1
        decay_ties(ties, p, month=1 + months)
    expected = int(np.ceil(np.log(0.05 / 0.8) / np.log(0.9)))
    assert len(ties) == 0
    assert months == expected


def test_a_group_keeps_up_only_its_strongest_ties_and_lets_the_rest_wear_even_when_used():
    ties = Ties(6)
    ties.reinforce(np.array([0, 0, 0, 0, 4]), np.array([1, 2, 3, 4, 5]),
                   np.array([0.9, 0.8, 0.7, 0.6, 0.5]), kind=EXCHANGE, month=2)
    decay_ties(ties, DecayParams(rate=0.1, floor=0.05, tie_capacity=2), month=2)  # all used this month
    pairs = zip(ties.a.tolist(), ties.b.tolist(), strict=True)
    strength = dict(zip(pairs, ties.strength.tolist(), strict=True))
    assert strength[(0, 1)] == pytest.approx(0.9)  # group 0's two strongest are kept up
    assert strength[(0, 2)] == pytest.approx(0.8)
    assert strength[(0, 3)] == pytest.approx(0.7 * 0.9)  # beyond its room: wears though used
    assert strength[(0, 4)] == pytest.approx(0.6 * 0.9)
    assert strength[(4, 5)] == pytest.approx(0.5)  # group 4 has room: 0-4 was not kept up
    ample = Ties(6)
    ample.reinforce(np.array([0, 0, 0, 0]), np.array([1, 2, 3, 4]), 0.8, kind=EXCHANGE, month=2)
    decay_ties(ample, DecayParams(rate=0.1, floor=0.05, tie_capacity=8), month=2)
    assert np.allclose(ample.strength, 0.8)


def test_shared_values_slow_the_decay_of_unused_ties():
    values = np.array([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    ties = Ties(4)
    ties.reinforce(np.array([0, 2]), np.array([1, 3]), 0.8, kind=EXCHANGE, month=1)
    decay_ties(ties, DecayParams(rate=0.2, floor=0.05, value_durability=0.5), month=2, values=values)
    aligned, apart = ties.strength  # alignment 1 and 0
    assert np.isclose(aligned, 0.8 * (1 - 0.2 * 0.5)) and np.isclose(apart, 0.8 * (1 - 0.2))


def _kept_up_by_sorting(n, a, b, strength, capacity):
    """The rule stated plainly: each group's ``capacity`` strongest ties (earlier first among equals)."""
    kept = np.ones(len(a), bool)
    for v in range(n):
        mine = [e for e in range(len(a)) if v in (a[e], b[e])]
        ranked = sorted(mine, key=lambda e: (-strength[e], e))
        for e in ranked[capacity:]:
            kept[e] = False
    return kept


@pytest.mark.parametrize("capacity", [0, 1, 2, 3, 6])
def test_kept_up_keeps_each_groups_strongest_ties_earlier_first_among_equals(capacity):
    from netsim.agreement import kept_up

    rng = np.random.default_rng(capacity)
    for _ in range(60):
        n = int(rng.integers(2, 14))
        pairs = [(u, v) for u in range(n) for v in range(u + 1, n) if rng.random() < 0.6]
        if not pairs:
            continue
        a = np.array([p[0] for p in pairs], np.int64)
        b = np.array([p[1] for p in pairs], np.int64)
        strength = rng.choice([0.2, 0.5, 0.5, 0.9, 1.0], size=len(pairs)) if rng.random() < 0.5 \
            else rng.random(len(pairs))  # many equal strengths half the time
        assert kept_up(n, a, b, strength, capacity).tolist() == \
            _kept_up_by_sorting(n, a, b, strength, capacity).tolist()


@pytest.mark.parametrize("capacity", [0, 2, 4])
def test_the_upkeep_after_new_ties_is_the_upkeep_worked_out_afresh(capacity):
    """``kept_ends_after`` ranks again only the groups with a new tie: it must agree with ranking all."""
    from netsim.agreement import BOTH_ENDS, kept_ends, kept_ends_after
    from netsim.ties import Ties

    rng = np.random.default_rng(10 + capacity)
    redone = 0
    for _ in range(80):
        n = int(rng.integers(3, 16))
        ties = Ties(n)
        pairs = [(u, v) for u in range(n) for v in range(u + 1, n) if rng.random() < 0.5]
        if not pairs:
            continue
        strength = rng.choice([0.3, 0.5, 0.5, 0.9], size=len(pairs)) if rng.random() < 0.5 \
            else rng.random(len(pairs))  # many equal strengths half the time
        ties.reinforce(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]), strength,
                       kind=0, month=1)
        ends = kept_ends(n, ties.a, ties.b, ties.strength, capacity)
        key = ties.key.copy()
        kept = ends == BOTH_ENDS  # ties both groups keep up grow stronger, as joint activity does
        ties.strength[kept] += rng.random(int(kept.sum())) * (1 - ties.strength[kept])
        new = rng.integers(0, n, size=(int(rng.integers(1, 5)), 2))  # then closure adds ties, only new ones
        new = new[ties.find(new[:, 0], new[:, 1]) < 0]
        ties.reinforce(new[:, 0], new[:, 1], 0.5, kind=0, month=2)
        redone += len(ties) > len(key)
        after = kept_ends_after(n, ties.a, ties.b, ties.key, ties.strength, capacity, key, ends)
        assert after.tolist() == kept_ends(n, ties.a, ties.b, ties.strength, capacity).tolist()
        assert (after == BOTH_ENDS).tolist() == _kept_up_by_sorting(n, ties.a, ties.b, ties.strength,
                                                                  capacity).tolist()
    assert redone >= 40  # most cases had new ties to rank again
