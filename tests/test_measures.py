from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from netsim.measures import OUTPUTS, average_clustering, district_modularity, monthly_outputs
from netsim.processes.emergence import find_networks
from netsim.scenario import EmergenceParams
from netsim.ties import EXCHANGE, MARKETING


def edge_arrays(g: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    edges = np.array(list(g.edges), dtype=np.int64).reshape(-1, 2)
    return edges[:, 0], edges[:, 1]


@pytest.mark.parametrize(("n", "p", "seed"), [(30, 0.15, 1), (60, 0.05, 2), (400, 0.01, 3)])
def test_average_clustering_equals_networkx(n, p, seed):
    g = nx.gnp_random_graph(n, p, seed=seed)
    a, b = edge_arrays(g)
    rng = np.random.default_rng(seed)
    nodes = np.sort(rng.choice(n, n // 2, replace=False))
    assert math.isclose(average_clustering(n, a, b, nodes), nx.average_clustering(g, nodes.tolist()))
    assert math.isclose(average_clustering(n, a, b, np.arange(n)), nx.average_clustering(g))


def test_average_clustering_of_triangle_with_pendant():
    g = nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3)])
    a, b = edge_arrays(g)
    assert math.isclose(average_clustering(4, a, b, np.arange(4)), (1 + 1 + 1 / 3 + 0) / 4)
    assert average_clustering(4, a[:0], b[:0], np.arange(4)) == 0.0
    assert math.isnan(average_clustering(4, a, b, np.arange(0)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_district_modularity_equals_networkx(seed):
    rng = np.random.default_rng(seed)
    n = 40
    district = rng.integers(0, 4, n)
    g = nx.gnp_random_graph(n, 0.1, seed=seed)
    a, b = edge_arrays(g)
    partition = [set(np.flatnonzero(district == d).tolist()) for d in range(4)]
    partition = [c for c in partition if c]
    expected = nx.community.modularity(g, partition)
    assert math.isclose(district_modularity(a, b, district), expected, abs_tol=1e-12)


def test_modularity_is_high_when_ties_stay_in_districts():
    district = np.array([0, 0, 0, 1, 1, 1])
    inside = district_modularity(np.array([0, 1, 3, 4]), np.array([1, 2, 4, 5]), district)
    across = district_modularity(np.array([0, 1, 2]), np.array([3, 4, 5]), district)
    assert inside > 0.4
    assert across < 0
    assert math.isnan(district_modularity(np.array([], np.int64), np.array([], np.int64), district))


@pytest.fixture
def measured_state(make_state):
    goals = [[1, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0]]
    values = [[0.5] * 3, [0.7] * 3, [0.5] * 3, [0.1] * 3, [0.5] * 3]
    state = make_state(["A", "A", "B", "B", "C"], goals=goals, values=values,
                       participating=[True, True, True, True, False])
    state.ties.reinforce(np.array([0, 0, 1, 3]), np.array([1, 2, 3, 4]), 0.8, kind=EXCHANGE, month=1)
    state.ties.last_activity[:] = [1, 1, -20, 1]  # 1-3 not used lately: it does not count for networks
    state.trust[:] = [0.2, 0.4, 0.6, 0.8, 1.0]
    state.revisions[:] = [1, 0, 0, 2, 5]
    return state


def outputs(state):
    return monthly_outputs(state, find_networks(state, EmergenceParams(meeting_gain=0.0), month=1), 1)


def test_monthly_outputs_count_only_participants_and_their_ties(measured_state):
    out = outputs(measured_state)
    assert set(out) == set(OUTPUTS)
    assert out["participants"] == 4
    assert out["districts"] == 2
    assert out["ties"] == 3
    assert math.isclose(out["density"], 3 / 6)
    assert math.isclose(out["mean_degree"], 1.5)
    assert math.isclose(out["cross_district_tie_share"], 2 / 3)
    assert math.isclose(out["mean_trust"], 0.5)
    assert math.isclose(out["revised_plan_share"], 0.5)
    assert out["largest_cluster"] == 3  # 0-1, 0-2 count; 1-3 is stale, 3-4 has a non-participant
    assert out["network_ties"] == 2 and math.isclose(out["network_density"], 2 / 6)
    assert math.isclose(out["isolated_share"], 1 / 4)  # group 3
    assert out["networks"] == 1 and out["networks_formed"] == 1 and out["network_age"] == 0
    assert measured_state.degree.tolist() == [2, 2, 1, 1, 0]


def test_monthly_alignment_is_mean_over_participant_ties(measured_state):
    out = outputs(measured_state)
    assert math.isclose(out["goal_alignment"], (1.0 + 0.0 + 1.0) / 3)
    assert math.isclose(out["value_alignment"], (0.8 + 1.0 + 0.4) / 3)


def test_monthly_outputs_with_no_participants_are_empty(make_state):
    state = make_state(["A", "B"], participating=False)
    out = outputs(state)
    assert out["participants"] == 0 and out["ties"] == 0
    assert math.isnan(out["mean_trust"]) and math.isnan(out["goal_alignment"])


def test_marketing_network_outputs_follow_the_sustained_joint_marketing(make_state):
    state = make_state(["A", "B", "C", "A"], goals=[[1, 0, 0, 0, 0]] * 4)
    state.capacities[:, 0] = 0.1
    state.capacities[0, 0] = 0.9
    state.ties.reinforce(np.array([0, 0, 0]), np.array([1, 2, 3]), 0.9, kind=MARKETING, month=1)
    p = EmergenceParams(marketing_months=2)
    got = []
    for month in (1, 2, 3):
        state.ties.last_activity[:] = month
        out = monthly_outputs(state, find_networks(state, p, month), month)
        got.append((out["marketing_network"], out["marketing_network_districts"],
                    out["marketing_network_age"]))
    assert got == [(0, 0, 0), (1, 3, 1), (1, 3, 2)]
