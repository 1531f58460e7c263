from __future__ import annotations

import numpy as np
import pytest

from netsim import NetworkModel
from netsim.population import GOALS
from netsim.processes.forum import choose_partners, complementarity, hold_forums, is_forum_month
from netsim.scenario import ForumParams
from netsim.ties import EXCHANGE, MARKETING

MARKETING_GOAL = GOALS.index("marketing")
EVERYONE = {"attendance_base": 1.0}


def districts(k: int, per: int) -> list[str]:
    return [f"D{d}" for d in range(k) for _ in range(per)]


def test_forum_months_follow_start_interval_and_end():
    p = ForumParams(interval=4, start_month=2, end_month=10)
    assert [m for m in range(0, 16) if is_forum_month(p, m)] == [2, 6, 10]
    assert not any(is_forum_month(ForumParams(interval=0), m) for m in range(24))


def test_complementarity_is_partner_advantage_in_my_weakest_capacity():
    caps = np.array([[0.5, 0.1, 0.5, 0.5, 0.5], [0.2, 0.7, 0.2, 0.2, 0.2], [0.9, 0.05, 0.9, 0.9, 0.9]])
    got = complementarity(caps, np.array([0, 0, 1]), np.array([1, 2, 0]))
    assert np.allclose(got, [0.6, 0.0, 0.3])


def test_everyone_attending_gains_inspiration_trust_and_ties(make_state):
    state = make_state(districts(2, 5))
    p = ForumParams(**EVERYONE)
    attendees = hold_forums(state, p, np.random.default_rng(0), month=3)
    assert sorted(attendees.tolist()) == list(range(10))
    assert (state.attended == 1).all()
    assert np.allclose(state.inspiration, p.inspiration_gain)
    assert np.allclose(state.trust, p.trust_gain)
    assert len(state.ties) > 0
    assert (state.ties.formed == 3).all()
    assert (state.ties.kind == EXCHANGE).all()
    assert np.allclose(state.ties.strength, p.tie_gain)


def test_nobody_attends_without_base_chance_inspiration_or_trust(make_state):
    state = make_state(districts(2, 5))
    p = ForumParams(attendance_base=0.0)
    assert len(hold_forums(state, p, np.random.default_rng(0), month=1)) == 0
    assert len(state.ties) == 0
    assert (state.inspiration == 0).all()


def test_inspired_and_trusting_groups_attend_more(make_state):
    state = make_state(districts(2, 100))
    state.inspiration[:100] = 1.0
    state.trust[:100] = 1.0
    p = ForumParams(attendance_base=0.2, attendance_inspiration=0.3, attendance_trust=0.3)
    attendees = hold_forums(state, p, np.random.default_rng(1), month=1)
    assert (attendees < 100).sum() > 2 * (attendees >= 100).sum()


def test_non_participants_never_attend(make_state):
    participating = [True] * 6 + [False] * 6
    state = make_state(districts(2, 6), participating=participating)
    attendees = hold_forums(state, ForumParams(**EVERYONE), np.random.default_rng(2), month=1)
    assert set(attendees.tolist()) <= set(range(6))
    assert state.participating[state.ties.a].all() and state.participating[state.ties.b].all()


def test_district_forums_form_no_cross_district_ties(make_state):
    state = make_state(districts(3, 6))
    for month in (1, 2, 3):
        hold_forums(state, ForumParams(scope="district", **EVERYONE), np.random.default_rng(month), month)
    assert len(state.ties) > 0
    assert (state.district[state.ties.a] == state.district[state.ties.b]).all()


def test_province_forum_forms_cross_district_ties(make_state):
    state = make_state(districts(3, 6))
    p = ForumParams(scope="province", homophily_district=0.0, **EVERYONE)
    hold_forums(state, p, np.random.default_rng(0), month=1)
    assert (state.district[state.ties.a] != state.district[state.ties.b]).any()


def test_marketing_forum_makes_marketing_ties_and_pulls_goals_to_marketing(make_state):
    state = make_state(districts(2, 5))
    before = state.goals[:, MARKETING_GOAL].copy()
    hold_forums(state, ForumParams(topic="marketing", **EVERYONE), np.random.default_rng(0), month=1)
    assert (state.ties.kind == MARKETING).all()
    assert (state.goals[:, MARKETING_GOAL] > before).all()
    assert np.allclose(state.goals.sum(axis=1), 1.0)


def test_ideology_forum_pulls_values_of_partners_together(make_state):
    rng = np.random.default_rng(5)
    values = rng.uniform(0, 1, (12, 3))
    general = make_state(districts(2, 6), values=values)
    ideology = make_state(districts(2, 6), values=values)
    hold_forums(general, ForumParams(**EVERYONE), np.random.default_rng(0), month=1)
    hold_forums(ideology, ForumParams(topic="ideology", **EVERYONE), np.random.default_rng(0), month=1)
    assert np.array_equal(general.values, values)
    t = ideology.ties
    gap_before = np.abs(values[t.a] - values[t.b]).mean()
    gap_after = np.abs(ideology.values[t.a] - ideology.values[t.b]).mean()
    assert gap_after < gap_before


def test_partners_are_others_in_the_same_room(make_state):
    state = make_state(districts(3, 5))
    attendees = np.arange(15)
    room = state.district[attendees]
    a, b = choose_partners(state, attendees, room, ForumParams(), np.random.default_rng(0))
    assert len(a) == 15 * ForumParams().meetings
    assert (a != b).all()
    assert (room[a] == room[b]).all()


def test_lone_attendee_meets_no_one_else(make_state):
    state = make_state(["A", "B", "B"])
    a, b = choose_partners(state, np.array([0, 1, 2]), np.array([0, 1, 1]), ForumParams(),
                           np.random.default_rng(0))
    assert set(b[a == 0].tolist()) <= {0}
    assert set(b[a == 1].tolist()) == {2}


def test_no_meetings_means_no_pairs(make_state):
    state = make_state(districts(2, 4))
    a, b = choose_partners(state, np.arange(8), np.zeros(8, np.int64), ForumParams(meetings=0),
                           np.random.default_rng(0))
    assert len(a) == len(b) == 0


@pytest.mark.parametrize("weight", ["homophily_district", "homophily_kind"])
def test_homophily_biases_meetings_to_alike_groups(make_state, weight):
    n = 80
    kinds = ["cooperative", "farmer_occupational_group"] * (n // 2)
    state = make_state(districts(4, n // 4), kinds=kinds)
    attr = state.district if weight == "homophily_district" else state.features.kind
    shares = []
    for w in (0.0, 3.0):
        p = ForumParams(**{"homophily_district": 0.0, "homophily_kind": 0.0, "complementarity": 0.0,
                           weight: w})
        a, b = choose_partners(state, np.arange(n), np.zeros(n, np.int64), p, np.random.default_rng(0))
        shares.append((attr[a] == attr[b]).mean())
    assert shares[1] > shares[0] + 0.2


def test_complementarity_biases_meetings_to_groups_strong_where_i_am_weak(make_state):
    rng = np.random.default_rng(3)
    n = 80
    state = make_state(["A"] * n, capacities=rng.uniform(0.05, 0.95, (n, 5)))
    means = []
    for w in (0.0, 10.0):
        p = ForumParams(homophily_district=0.0, homophily_kind=0.0, complementarity=w)
        a, b = choose_partners(state, np.arange(n), np.zeros(n, np.int64), p, np.random.default_rng(0))
        means.append(complementarity(state.capacities, a, b).mean())
    assert means[1] > 1.5 * means[0]


def test_forums_raise_tie_counts(baseline):
    quiet = {"followup_visits_per_month": 0, "review_interval": 0, "run_months": 12}
    for seed in range(3):
        on = NetworkModel(scenario=baseline, rng=seed, forum_interval=3, **quiet)
        off = NetworkModel(scenario=baseline, rng=seed, forum_interval=0, **quiet)
        on.run_model()
        off.run_model()
        assert on.monthly_table()["ties"].iloc[-1] > off.monthly_table()["ties"].iloc[-1]
        assert (on.state.ties.formed > 0).sum() > 0
        assert on.monthly_table()["mean_inspiration"].iloc[-1] > 0
        assert off.monthly_table()["mean_inspiration"].iloc[-1] == 0
