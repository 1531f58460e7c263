from __future__ import annotations

import numpy as np

from netsim.ties import EXCHANGE, JOINT_ACTIVITY, MARKETING, NEVER, PRIOR, Ties


def test_reinforce_forms_new_ties_with_gain_as_strength():
    ties = Ties(5)
    formed = ties.reinforce(np.array([0, 3]), np.array([2, 1]), 0.3, kind=EXCHANGE, month=4)
    assert formed == 2
    assert ties.a.tolist() == [0, 1]
    assert ties.b.tolist() == [2, 3]
    assert np.allclose(ties.strength, 0.3)
    assert ties.kind.tolist() == [EXCHANGE, EXCHANGE]
    assert ties.formed.tolist() == [4, 4]
    assert ties.last_used.tolist() == [4, 4]
    assert ties.last_activity.tolist() == [NEVER, NEVER]


def test_reinforce_strengthens_existing_tie_by_share_of_gap():
    ties = Ties(4)
    ties.reinforce(np.array([1]), np.array([2]), 0.4, kind=PRIOR, month=0)
    formed = ties.reinforce(np.array([2]), np.array([1]), 0.5, kind=MARKETING, month=7)
    assert formed == 0
    assert len(ties) == 1
    assert np.isclose(ties.strength[0], 0.4 + 0.5 * (1 - 0.4))
    assert ties.kind[0] == MARKETING
    assert ties.formed[0] == 0
    assert ties.last_used[0] == 7


def test_repeated_reinforcement_saturates_below_one():
    ties = Ties(2)
    history = []
    for month in range(30):
        ties.reinforce(np.array([0]), np.array([1]), 0.3, kind=EXCHANGE, month=month)
        history.append(ties.strength[0])
    assert np.all(np.diff(history) > 0)
    assert history[-1] <= 1.0
    assert np.isclose(history[-1], 1 - 0.7**30)
    ties.reinforce(np.array([0]), np.array([1]), 1.0, kind=EXCHANGE, month=31)
    assert ties.strength[0] == 1.0


def test_pair_named_twice_in_one_call_counts_once():
    ties = Ties(4)
    formed = ties.reinforce(np.array([0, 2, 0]), np.array([2, 0, 2]), 0.3, kind=EXCHANGE, month=1)
    assert formed == 1
    assert len(ties) == 1
    assert np.isclose(ties.strength[0], 0.3)
    ties.reinforce(np.array([0, 2]), np.array([2, 0]), 0.5, kind=EXCHANGE, month=2)
    assert np.isclose(ties.strength[0], 0.3 + 0.5 * 0.7)


def test_self_pairs_are_ignored_with_array_gain_and_kind():
    ties = Ties(4)
    a, b = np.array([1, 2, 3]), np.array([1, 0, 3])
    gain = np.array([0.9, 0.2, 0.9])
    kind = np.array([MARKETING, JOINT_ACTIVITY, MARKETING])
    formed = ties.reinforce(a, b, gain, kind=kind, month=3)
    assert formed == 1
    assert (ties.a.tolist(), ties.b.tolist()) == ([0], [2])
    assert np.isclose(ties.strength[0], 0.2)
    assert ties.kind[0] == JOINT_ACTIVITY
    assert ties.reinforce(np.array([2]), np.array([2]), 0.5, kind=EXCHANGE, month=4) == 0
    assert len(ties) == 1


def test_keys_stay_sorted_and_consistent_after_many_insertions():
    n = 40
    rng = np.random.default_rng(7)
    ties = Ties(n)
    for month in range(10):
        ties.reinforce(rng.integers(0, n, 30), rng.integers(0, n, 30), 0.2, kind=EXCHANGE, month=month)
    assert np.all(np.diff(ties.key) > 0)
    assert np.all(ties.a < ties.b)
    assert np.array_equal(ties.key, ties.a * n + ties.b)
    lengths = {len(getattr(ties, c)) for c in
               ("key", "a", "b", "strength", "kind", "formed", "last_used", "last_activity")}
    assert lengths == {len(ties)}


def test_find_returns_index_or_minus_one():
    ties = Ties(6)
    ties.reinforce(np.array([0, 4, 2]), np.array([5, 1, 3]), 0.5, kind=EXCHANGE, month=1)
    idx = ties.find(np.array([5, 1, 0, 3]), np.array([0, 4, 1, 2]))
    assert idx[2] == -1
    found = idx[[0, 1, 3]]
    assert [(ties.a[i], ties.b[i]) for i in found] == [(0, 5), (1, 4), (2, 3)]
    assert Ties(3).find(np.array([0]), np.array([1])).tolist() == [-1]
