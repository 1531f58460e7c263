from __future__ import annotations

import numpy as np

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
