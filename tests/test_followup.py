from __future__ import annotations

import numpy as np

from netsim import NetworkModel
from netsim.population import GOALS
from netsim.processes.followup import (
    choose_visits,
    follow_up,
    is_followup_month,
    visits_this_month,
)
from netsim.scenario import FollowupParams
from netsim.ties import EXCHANGE, MARKETING

MARKETING_GOAL = GOALS.index("marketing")


def test_followup_months_follow_start_end_and_capacity():
    p = FollowupParams(visits_per_month=2, start_month=3, end_month=6)
    assert [m for m in range(10) if is_followup_month(p, m)] == [3, 4, 5, 6]
    assert not any(is_followup_month(FollowupParams(visits_per_month=0), m) for m in range(24))


def test_visits_get_easier_as_trust_grows():
    p = FollowupParams(visits_per_month=4, ease_with_trust=0.5)
    assert visits_this_month(p.visits_per_month, p.ease_with_trust, 0.0) == 4
    assert visits_this_month(p.visits_per_month, p.ease_with_trust, 1.0) == 6
    assert visits_this_month(4, 0.0, 1.0) == 4


def test_weakest_policy_visits_lowest_mean_capacity(make_state):
    caps = np.array([[0.5] * 5, [0.2] * 5, [0.9] * 5, [0.3, 0.3, 0.3, 0.3, 0.9], [0.4] * 5, [0.1] * 5])
    state = make_state(["A"] * 6, capacities=caps)
    chosen = choose_visits(state, np.arange(6), 3, "weakest", np.random.default_rng(0))
    assert sorted(chosen.tolist()) == [1, 4, 5]


def test_least_trusted_policy_visits_lowest_trust(make_state):
    state = make_state(["A"] * 6)
    state.trust[:] = [0.9, 0.1, 0.5, 0.0, 0.8, 0.3]
    chosen = choose_visits(state, np.arange(6), 2, "least_trusted", np.random.default_rng(0))
    assert sorted(chosen.tolist()) == [1, 3]


def test_bridge_policy_visits_groups_with_fewest_cross_district_ties(make_state):
    state = make_state(["A", "A", "B", "B", "C"])
    state.ties.reinforce(np.array([0, 0, 1, 2, 3]), np.array([2, 4, 3, 4, 4]), 0.5, kind=EXCHANGE, month=1)
    chosen = choose_visits(state, np.arange(5), 1, "bridge", np.random.default_rng(0))
    assert chosen.tolist() == [1]


def test_random_policy_visits_k_distinct_members(make_state):
    state = make_state(["A"] * 20)
    members = np.arange(0, 20, 2)
    seen = set()
    for seed in range(10):
        chosen = choose_visits(state, members, 3, "random", np.random.default_rng(seed))
        assert len(set(chosen.tolist())) == 3
        assert set(chosen.tolist()) <= set(members.tolist())
        seen |= set(chosen.tolist())
    assert len(seen) > 3


def test_visits_go_in_order_of_priority_then_the_random_draw(make_state):
    # the first k visited are the first k of all members sorted by (priority, draw), in that
    # order, for every policy, with many equal priorities and every k
    rng = np.random.default_rng(5)
    state = make_state(["A", "B", "C"] * 8)
    state.capacities[:] = rng.choice([0.2, 0.5], size=state.capacities.shape)
    state.trust[:] = rng.choice([0.0, 0.3, 0.6], size=state.n)
    state.ties.reinforce(rng.integers(0, 24, 40), rng.integers(0, 24, 40), 0.5, kind=EXCHANGE, month=1)
    t = state.ties
    cross = np.zeros(state.n)
    for u, v in zip(t.a, t.b, strict=True):
        if state.district[u] != state.district[v]:
            cross[u] += 1
            cross[v] += 1
    members = np.array([0, 2, 3, 5, 7, 8, 11, 12, 13, 17, 19, 20, 23])
    priorities = {"random": np.zeros(state.n), "weakest": state.capacities.mean(axis=1),
                  "least_trusted": state.trust, "bridge": cross}
    for policy, priority in priorities.items():
        for seed in range(6):
            draw = np.random.default_rng(seed).random(len(members))
            expected = members[np.lexsort((draw, priority[members]))]
            for k in (0, 1, 4, len(members), len(members) + 3):
                chosen = choose_visits(state, members, k, policy, np.random.default_rng(seed))
                assert chosen.tolist() == expected[:k].tolist(), (policy, seed, k)


def test_capacity_above_members_visits_everyone(make_state):
    state = make_state(["A"] * 4)
    assert sorted(choose_visits(state, np.arange(4), 10, "weakest", np.random.default_rng(0))) == [0, 1, 2, 3]


def test_visit_raises_trust_and_weakest_capacity_only(make_state):
    caps = np.array([[0.5, 0.2, 0.6, 0.7, 0.8]] * 4)
    state = make_state(["A", "A", "B", "B"], capacities=caps, participating=[True, True, True, False])
    p = FollowupParams(visits_per_month=10, trust_gain=0.25, capacity_gain=0.5, introduction_prob=0.0)
    visited = follow_up(state, p, np.random.default_rng(0), month=3)
    assert sorted(visited.tolist()) == [0, 1, 2]
    assert np.allclose(state.trust[:3], 0.25) and state.trust[3] == 0
    assert state.visits.tolist() == [1, 1, 1, 0]
    assert np.allclose(state.capacities[:3, 1], 0.2 + 0.5 * 0.25 * 0.8)  # support accepted as far as trusted
    assert np.array_equal(state.capacities[:3, [0, 2, 3, 4]], caps[:3, [0, 2, 3, 4]])
    assert np.array_equal(state.capacities[3], caps[3])
    assert len(state.ties) == 0


def test_introductions_tie_groups_of_different_districts(make_state):
    rng = np.random.default_rng(4)
    state = make_state(["A"] * 6 + ["B"] * 6 + ["C"] * 6, capacities=rng.uniform(0.1, 0.9, (18, 5)))
    state.trust[:] = 1.0  # every introduction taken up
    p = FollowupParams(visits_per_month=18, introduction_prob=1.0, introduction_gain=0.5)
    follow_up(state, p, np.random.default_rng(0), month=5)
    t = state.ties
    assert len(t) > 0
    assert (state.district[t.a] != state.district[t.b]).all()
    assert np.allclose(t.strength, 0.5)
    assert (t.formed == 5).all()


def test_introduction_between_marketing_first_groups_is_a_marketing_tie(make_state):
    rng = np.random.default_rng(2)
    goals = rng.dirichlet(np.ones(len(GOALS)), 12)
    goals[:6, MARKETING_GOAL] = 2.0  # half the groups put marketing first
    goals /= goals.sum(axis=1, keepdims=True)
    state = make_state(["A", "B", "C"] * 4, goals=goals)
    state.trust[:] = 1.0
    p = FollowupParams(visits_per_month=12, introduction_prob=1.0, candidates=30)
    follow_up(state, p, np.random.default_rng(0), month=1)
    t = state.ties
    market_first = state.goals.argmax(axis=1) == MARKETING_GOAL
    both = market_first[t.a] & market_first[t.b]
    assert both.any() and (~both).any()
    assert (t.kind[both] == MARKETING).all()
    assert (t.kind[~both] == EXCHANGE).all()


def test_no_introductions_without_chance(make_state):
    state = make_state(["A"] * 5 + ["B"] * 5)
    follow_up(state, FollowupParams(visits_per_month=10, introduction_prob=0.0),
              np.random.default_rng(0), month=3)
    assert len(state.ties) == 0


def test_introductions_raise_cross_district_tie_share(baseline):
    shares = {}
    for prob in (0.0, 0.8):
        shares[prob] = []
        for seed in range(3):
            model = NetworkModel(scenario=baseline, rng=seed, run_months=12, followup_introduction_prob=prob)
            model.run_model()
            shares[prob].append(model.monthly_table()["cross_district_tie_share"].iloc[-1])
    assert min(shares[0.8]) > max(shares[0.0])


def test_introductions_are_taken_up_as_far_as_the_group_trusts_the_team(make_state):
    made = []
    for trust in (0.0, 0.5, 1.0):
        state = make_state(["A", "B", "C"] * 10)
        state.trust[:] = trust
        p = FollowupParams(visits_per_month=30, introduction_prob=1.0, trust_gain=0.0)
        follow_up(state, p, np.random.default_rng(1), month=3)
        made.append(len(state.ties))
    assert made[0] == 0 < made[1] < made[2]


def test_trust_falls_when_the_team_stops_coming(baseline):
    for seed in range(2):
        model = NetworkModel(scenario=baseline, rng=seed, run_months=30, followup_end_month=12,
                             forum_interval=0)
        model.run_model()
        trust = model.monthly_table()["mean_trust"]
        assert trust.iloc[30] < trust.iloc[12] * 0.6
        kept = NetworkModel(scenario=baseline, rng=seed, run_months=30, followup_end_month=12,
                            forum_interval=0, followup_trust_decay=0.0)
        kept.run_model()
        assert kept.monthly_table()["mean_trust"].iloc[30] >= trust.iloc[12]


def test_trust_in_team_rises_over_followup_months(baseline):
    for seed in range(2):
        model = NetworkModel(scenario=baseline, rng=seed, run_months=12, forum_interval=0,
                             followup_trust_decay=0.0)
        model.run_model()
        trust = model.monthly_table()["mean_trust"]
        start = baseline.params.followup.start_month
        assert (trust.iloc[:start] == 0).all()
        assert (np.diff(trust.iloc[start - 1:]) > 0).all()
