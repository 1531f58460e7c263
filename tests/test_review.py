from __future__ import annotations

import numpy as np

from netsim import NetworkModel
from netsim.processes.review import hold_review, is_review_month, move_towards_partners
from netsim.scenario import ReviewParams
from netsim.ties import EXCHANGE

OPPOSITE_GOALS = [[0.8, 0.05, 0.05, 0.05, 0.05], [0.05, 0.05, 0.05, 0.05, 0.8]]
OPPOSITE_VALUES = [[0.1, 0.1, 0.1], [0.9, 0.9, 0.9]]


def goal_alignment(goals, a, b):
    return 1.0 - 0.5 * np.abs(goals[a] - goals[b]).sum()


def value_alignment(values, a, b):
    return 1.0 - np.abs(values[a] - values[b]).mean()


def test_review_months_follow_start_and_interval():
    p = ReviewParams(interval=6, start_month=6)
    assert [m for m in range(25) if is_review_month(p, m)] == [6, 12, 18, 24]
    assert not any(is_review_month(ReviewParams(interval=0), m) for m in range(25))


def test_review_raises_goal_alignment_more_than_value_alignment(make_state):
    state = make_state(["A", "B"], goals=OPPOSITE_GOALS, values=OPPOSITE_VALUES)
    state.ties.reinforce(np.array([0]), np.array([1]), 1.0, kind=EXCHANGE, month=1)
    goals0, values0 = goal_alignment(state.goals, 0, 1), value_alignment(state.values, 0, 1)
    hold_review(state, ReviewParams(), np.random.default_rng(0))
    goal_gain = goal_alignment(state.goals, 0, 1) - goals0
    value_gain = value_alignment(state.values, 0, 1) - values0
    assert value_gain > 0
    assert goal_gain > 5 * value_gain


def test_goal_step_is_degroot_towards_tie_weighted_neighbour_mean(make_state):
    goals = np.array([[0.2, 0.2, 0.2, 0.2, 0.2], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1.0]])
    state = make_state(["A"] * 3, goals=goals)
    state.ties.reinforce(np.array([0, 0]), np.array([1, 2]), np.array([0.75, 0.25]), kind=EXCHANGE, month=1)
    p = ReviewParams(goal_convergence=0.5, value_convergence=0.0)
    values = state.values.copy()
    hold_review(state, p, np.random.default_rng(0))
    target = 0.75 * goals[1] + 0.25 * goals[2]
    assert np.allclose(state.goals[0], goals[0] + 0.5 * (target - goals[0]))
    assert np.allclose(state.goals[1], goals[1] + 0.5 * (goals[0] - goals[1]))
    assert np.allclose(state.goals.sum(axis=1), 1.0)
    assert np.array_equal(state.values, values)


def test_groups_without_participant_ties_keep_their_goals(make_state):
    state = make_state(["A"] * 4, goals=OPPOSITE_GOALS * 2, participating=[True, True, True, False])
    state.ties.reinforce(np.array([2]), np.array([3]), 1.0, kind=EXCHANGE, month=1)
    before = state.goals.copy()
    hold_review(state, ReviewParams(), np.random.default_rng(0))
    assert np.array_equal(state.goals, before)


def test_revisions_raise_plan_quality_of_revisers_only(make_state):
    state = make_state(["A"] * 200, participating=[True] * 150 + [False] * 50)
    before = state.plan_quality.copy()
    revised = hold_review(state, ReviewParams(revise_prob=0.8, plan_gain=0.3), np.random.default_rng(0))
    assert 0 < len(revised) < 150
    assert (revised < 150).all()
    changed = np.flatnonzero(state.plan_quality != before)
    assert np.array_equal(np.sort(revised), changed)
    assert (state.plan_quality[revised] > before[revised]).all()
    knowledge = state.capacities[revised, -1]
    expected = before[revised] + 0.3 * (0.5 + 0.5 * knowledge) * (1 - before[revised])
    assert np.allclose(state.plan_quality[revised], expected)
    assert state.revisions[revised].tolist() == [1] * len(revised)


def test_inspired_groups_revise_more_often(make_state):
    state = make_state(["A"] * 400)
    state.inspiration[:200] = 1.0
    revised = hold_review(state, ReviewParams(revise_prob=0.6), np.random.default_rng(1))
    assert (revised < 200).sum() > 1.5 * (revised >= 200).sum()


def test_move_towards_partners_is_a_degroot_step_on_the_old_values():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [9.0, 9.0]])
    old = x.copy()
    move_towards_partners(x, np.array([0, 1]), np.array([1, 2]), np.array([1.0, 3.0]), 0.5)
    partner_mean = [old[1], (old[0] * 1 + old[2] * 3) / 4, old[1]]
    assert np.allclose(x[:3], old[:3] + 0.5 * (np.array(partner_mean) - old[:3]))
    assert np.array_equal(x[3], old[3])  # no partners: unchanged


def test_reviews_raise_goal_alignment_more_than_value_alignment_in_runs(baseline):
    for seed in range(2):
        tables = {}
        for interval in (0, 3):
            model = NetworkModel(scenario=baseline, rng=seed, run_months=12, review_interval=interval,
                                 review_start_month=3)
            model.run_model()
            tables[interval] = model.monthly_table().iloc[-1]
        goal_gain = tables[3]["goal_alignment"] - tables[0]["goal_alignment"]
        value_gain = tables[3]["value_alignment"] - tables[0]["value_alignment"]
        assert goal_gain > 0
        assert goal_gain > 2 * value_gain
        assert tables[3]["mean_plan_quality"] > tables[0]["mean_plan_quality"]
        assert tables[0]["revised_plan_share"] == 0 < tables[3]["revised_plan_share"]
