from __future__ import annotations

import numpy as np

from netsim.codes import GOALS, KINDS
from netsim.population import features
from netsim.scenario import KIND_GOAL_PROFILES, GoalParams
from netsim.state import initial_state
from netsim.ties import PRIOR


def test_prior_ties_join_members_to_cooperatives_and_prior_networks(make_table):
    table = make_table(["A"] * 6, kinds=["cooperative", "savings_group", "credit_union",
                                          "farmer_occupational_group", "farmer_occupational_group",
                                          "farmer_occupational_group"])
    table["parent_id"] = ["", "G000", "G000", "", "", ""]
    table["prior_network"] = ["", "", "", "P1", "P1", "P1"]
    state = initial_state(features(table), rng=np.random.default_rng(0), prior_tie_strength=0.4)
    pairs = list(zip(state.ties.a.tolist(), state.ties.b.tolist(), strict=True))
    assert pairs == [(0, 1), (0, 2), (3, 4), (3, 5), (4, 5)]
    assert (state.ties.kind == PRIOR).all()
    assert (state.ties.formed == 0).all()
    assert np.allclose(state.ties.strength, 0.4)


def test_initial_state_starts_outside_the_programme(make_table):
    table = make_table(["A", "B", "B"])
    state = initial_state(features(table), rng=np.random.default_rng(0), prior_tie_strength=0.5)
    assert not state.participating.any()
    assert (state.joined_month == -1).all()
    assert (state.inspiration == 0).all() and (state.trust == 0).all()
    assert ((state.plan_quality >= 0.3) & (state.plan_quality <= 0.5)).all()
    assert np.allclose(state.goals.sum(axis=1), 1.0)
    assert ((state.values >= 0) & (state.values <= 1)).all()
    assert len(state.ties) == 0


def test_starting_goals_lean_to_the_kinds_emphasis(make_table):
    n = 500
    table = make_table(["A"] * n, kinds=["credit_union"] * n)
    state = initial_state(features(table), rng=np.random.default_rng(1), prior_tie_strength=0.5)
    profile = np.array(KIND_GOAL_PROFILES["credit_union"])
    assert np.abs(state.goals.mean(axis=0) - (0.6 * profile + 0.4 / len(profile))).max() < 0.02
    assert KINDS.index("credit_union") == state.features.kind[0]


def test_the_goal_profiles_are_the_schemas_parameters(make_table):
    n = 400
    f = features(make_table(["A"] * n, kinds=["farmer_occupational_group"] * n))
    shipped = initial_state(f, rng=np.random.default_rng(2), prior_tie_strength=0.5)
    swapped = GoalParams(farmer_occupational_group_marketing=0.40, farmer_occupational_group_production=0.45)
    state = initial_state(f, rng=np.random.default_rng(2), prior_tie_strength=0.5, goals=swapped)
    marketing, production = GOALS.index("marketing"), GOALS.index("production")
    top = shipped.goals.argmax(axis=1)
    assert (top == marketing).mean() > (top == production).mean()  # the shipped profile leans to marketing
    top = state.goals.argmax(axis=1)
    assert (top == production).mean() > (top == marketing).mean()  # the swapped one to production
    own = initial_state(f, rng=np.random.default_rng(2), prior_tie_strength=0.5,
                        goals=GoalParams(kind_share=0.0))
    assert np.abs(own.goals.mean(axis=0) - 0.2).max() < 0.02  # no kind at all: the flat draw's mean
    flat = GoalParams(**{f"farmer_occupational_group_{g}": 0.0 for g in GOALS})
    assert np.allclose(flat.profiles()[KINDS.index("farmer_occupational_group")], 0.2)  # all 0: no emphasis


def test_capacities_are_a_copy_of_the_groups_file(make_table):
    caps = np.linspace(0.1, 0.9, 10).reshape(2, 5)
    f = features(make_table(["A", "A"], capacities=caps))
    state = initial_state(f, rng=np.random.default_rng(0), prior_tie_strength=0.5)
    state.capacities[0, 0] = 1.0
    assert np.array_equal(f.capacities, caps)


def test_the_compiled_processes_see_an_array_that_was_replaced(make_state):
    """``arrays()`` is built once; replacing an array (not changing it in place) must show in it."""
    state = make_state(["A"] * 4)
    first = state.arrays()
    assert state.arrays() is first  # the same record while nothing is replaced
    state.trust[:] = 0.5  # in place: the record holds the same array
    assert np.array_equal(state.arrays().trust, np.full(4, 0.5))
    state.trust = np.full(4, 0.9)
    assert state.arrays() is not first and np.array_equal(state.arrays().trust, np.full(4, 0.9))
    state.participating = np.array([True, False, True, False])
    assert state.arrays().participating.tolist() == [True, False, True, False]
