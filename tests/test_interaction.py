from __future__ import annotations

import networkx as nx
import numpy as np

from netsim.agreement import goal_agreement
from netsim.population import GOALS
from netsim.processes.interaction import interact, joint_activity, triadic_closure
from netsim.scenario import InteractionParams
from netsim.stream import seed_stream
from netsim.ties import EXCHANGE, JOINT_ACTIVITY, MARKETING, NEVER

ALWAYS = {"activity_rate": 1.0, "goal_weight": 0.0, "plan_effect": 0.0}


def first(goal: str) -> list[float]:
    return [0.6 if g == goal else 0.1 for g in GOALS]


def test_goal_agreement_is_one_minus_total_variation():
    goals = np.array([first("marketing"), first("marketing"), first("welfare"), [1, 0, 0, 0, 0],
                      [0, 1, 0, 0, 0]])
    got = goal_agreement(goals, np.array([0, 0, 3]), np.array([1, 2, 4]))
    assert np.allclose(got, [1.0, 0.5, 0.0])


def test_joint_activity_strengthens_ties_and_marks_them_active(make_state):
    state = make_state(["A"] * 4)
    state.ties.reinforce(np.array([0, 2]), np.array([1, 3]), 1.0, kind=EXCHANGE, month=1)
    state.ties.strength[:] = 0.999999
    used = joint_activity(state, InteractionParams(activity_gain=0.5, **ALWAYS), np.random.default_rng(0), 4)
    assert sorted(used.tolist()) == [0, 1]
    assert (state.ties.last_activity == 4).all()
    assert (state.ties.last_used == 4).all()
    assert (state.ties.strength > 0.999999).all()


def test_no_joint_activity_at_zero_rate(make_state):
    state = make_state(["A"] * 4)
    state.ties.reinforce(np.array([0, 2]), np.array([1, 3]), 0.9, kind=EXCHANGE, month=1)
    used = joint_activity(state, InteractionParams(activity_rate=0.0), np.random.default_rng(0), 4)
    assert len(used) == 0
    assert (state.ties.last_activity == NEVER).all()
    assert np.allclose(state.ties.strength, 0.9)


def test_ties_to_non_participants_see_no_activity(make_state):
    state = make_state(["A"] * 4, participating=[True, True, True, False])
    state.ties.reinforce(np.array([0, 2]), np.array([1, 3]), 1.0, kind=EXCHANGE, month=1)
    used = joint_activity(state, InteractionParams(**ALWAYS), np.random.default_rng(0), 2)
    assert [(state.ties.a[i], state.ties.b[i]) for i in used] == [(0, 1)]


def test_joint_activity_sets_tie_kind_by_shared_marketing_goal(make_state):
    goals = [first("marketing"), first("marketing"), first("marketing"), first("production")]
    state = make_state(["A"] * 4, goals=goals)
    state.ties.reinforce(np.array([0, 2]), np.array([1, 3]), 1.0, kind=EXCHANGE, month=1)
    joint_activity(state, InteractionParams(**ALWAYS), np.random.default_rng(0), 2)
    assert state.ties.kind.tolist() == [MARKETING, JOINT_ACTIVITY]


def test_agreeing_goals_and_strong_ties_see_more_activity(make_state):
    only_marketing, only_welfare = [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]
    goals = [only_marketing] * 200 + [only_marketing, only_welfare] * 50
    state = make_state(["A"] * 300, goals=goals)
    state.ties.reinforce(np.arange(0, 300, 2), np.arange(1, 300, 2), 1.0, kind=EXCHANGE, month=0)
    strength = np.r_[np.full(50, 1.0), np.full(50, 0.2), np.full(50, 1.0)]
    p = InteractionParams(activity_rate=0.8, goal_weight=0.5)
    used = np.zeros(150, dtype=int)
    for month in range(1, 11):
        state.ties.strength[:] = strength
        used[joint_activity(state, p, np.random.default_rng(month), month)] += 1
    strong_agree, weak_agree, strong_disagree = used[:50], used[50:100], used[100:]
    assert strong_agree.mean() > 1.5 * strong_disagree.mean() > 0
    assert strong_agree.mean() > 2.5 * weak_agree.mean() > 0


def test_uninspired_groups_close_no_triads(make_state):
    state = make_state(["A"] * 5)
    state.ties.reinforce(np.array([0, 1, 2, 3]), np.array([1, 2, 3, 4]), 0.8, kind=EXCHANGE, month=0)
    p = InteractionParams(closure_rate=1.0)
    for month in range(1, 20):
        assert triadic_closure(state, p, np.random.default_rng(month), month) == 0
    assert len(state.ties) == 4


def test_inspired_groups_tie_to_friends_of_friends(make_state):
    state = make_state(["A"] * 6)
    path = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    state.ties.reinforce(np.array([e[0] for e in path]), np.array([e[1] for e in path]), 0.8,
                         kind=EXCHANGE, month=0)
    state.inspiration[:] = 1.0
    p = InteractionParams(closure_rate=1.0, closure_gain=0.25)
    made = triadic_closure(state, p, np.random.default_rng(0), 1)
    assert made > 0
    new = state.ties.formed == 1
    assert new.sum() == made
    assert np.allclose(state.ties.strength[new], 0.25)
    path_graph = nx.path_graph(6)
    for a, b in zip(state.ties.a[new], state.ties.b[new], strict=True):
        assert nx.shortest_path_length(path_graph, int(a), int(b)) == 2


def test_closure_only_among_participants(make_state):
    state = make_state(["A"] * 3, participating=[True, True, False])
    state.ties.reinforce(np.array([0, 1]), np.array([1, 2]), 0.8, kind=EXCHANGE, month=0)
    state.inspiration[:] = 1.0
    for month in range(1, 20):
        triadic_closure(state, InteractionParams(closure_rate=1.0), np.random.default_rng(month), month)
    assert state.ties.find(np.array([0]), np.array([2]))[0] == -1


def test_interact_lets_inspiration_fade(make_state):
    state = make_state(["A"] * 3)
    state.inspiration[:] = [1.0, 0.5, 0.0]
    interact(state, InteractionParams(inspiration_decay=0.1), np.random.default_rng(0), 1)
    assert np.allclose(state.inspiration, [0.9, 0.45, 0.0])


def test_interact_equals_joint_activity_then_closure(baseline):
    from netsim import NetworkModel

    p = InteractionParams(closure_rate=0.5)
    states = []
    for fused in (True, False):
        model = NetworkModel(scenario=baseline, rng=3, run_months=10)
        model.run_model()
        rng = seed_stream(np.random.default_rng(9))  # both draw from the same stream
        if fused:
            interact(model.state, p, rng, 11)
        else:
            joint_activity(model.state, p, rng, 11)
            triadic_closure(model.state, p, rng, 11)
            model.state.inspiration *= 1.0 - p.inspiration_decay
        states.append(model.state)
    fused, separate = states
    assert len(fused.ties) == len(separate.ties) > 0
    for name in ("key", "strength", "kind", "formed", "last_used", "last_activity"):
        assert np.array_equal(getattr(fused.ties, name), getattr(separate.ties, name)), name
    assert np.array_equal(fused.inspiration, separate.inspiration)
