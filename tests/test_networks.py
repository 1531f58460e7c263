from __future__ import annotations

import networkx as nx
import numpy as np

from netsim.networks import alignment, classify_graph, components
from netsim.population import GOALS
from netsim.scenario import EmergenceParams


def classify(g, **params):
    return classify_graph(g, month=g.graph["month"], params=EmergenceParams(**params))


def test_structured_network_has_coordinator_agreed_goal_and_recent_activity(structured_graph):
    nets = classify(structured_graph)
    assert nets.types == ["structured"]
    assert nets.coordinated.tolist() == [True]
    assert nets.top_goal.tolist() == [GOALS.index("marketing")]
    assert nets.regular_activity.tolist() == [True]
    assert nets.size.tolist() == [4]
    assert nets.label.tolist() == [0, 0, 0, 0]


def test_network_without_a_strong_leader_is_loose(structured_graph):
    structured_graph.nodes[0]["leadership"] = 0.3
    nets = classify(structured_graph)
    assert nets.types == ["loose"]
    assert not nets.coordinated[0]


def test_strong_leader_tied_to_too_few_members_is_no_coordinator(make_graph):
    g = make_graph(4, [(0, 1), (1, 2), (2, 3), (1, 3)], leadership=[0.9, 0.2, 0.2, 0.2])
    assert classify(g, coordinator_centrality=0.4).types == ["loose"]
    assert classify(g, coordinator_centrality=0.3).types == ["structured"]


def test_network_without_agreed_goal_is_loose(make_graph):
    goals = ["marketing", "marketing", "savings_credit", "savings_credit"]
    g = make_graph(4, [(0, 1), (0, 2), (0, 3), (1, 2)], leadership=[0.9, 0.2, 0.2, 0.2], goal=goals)
    nets = classify(g)
    assert nets.types == ["loose"]
    assert nets.top_goal.tolist() == [-1]
    assert classify(g, goal_agreement=0.5).types == ["structured"]


def test_network_without_recent_joint_activity_is_loose(structured_graph):
    for _, _, d in structured_graph.edges(data=True):
        d["last_activity"] -= 3
    nets = classify(structured_graph, activity_window=3)
    assert nets.types == ["loose"]
    assert not nets.regular_activity[0]
    assert classify(structured_graph, activity_window=4).types == ["structured"]


def test_activity_must_cover_a_share_of_the_ties(structured_graph):
    edges = list(structured_graph.edges)
    for u, v in edges[:2]:  # still counting (within tie_memory) but not recent
        structured_graph.edges[u, v]["last_activity"] = structured_graph.graph["month"] - 5
    assert classify(structured_graph, activity_share=0.5).types == ["structured"]
    assert classify(structured_graph, activity_share=0.75).types == ["loose"]


def test_structured_network_with_aligned_values_has_shared_ideology(make_graph):
    values = [[0.7, 0.6, 0.8]] * 4
    g = make_graph(4, [(0, 1), (0, 2), (0, 3)], leadership=[0.9, 0.2, 0.2, 0.2], values=values)
    nets = classify(g)
    assert nets.types == ["shared_ideology"]
    assert nets.value_alignment[0] == 1.0


def test_values_far_apart_give_no_shared_ideology(structured_graph):
    nets = classify(structured_graph, ideology_threshold=0.9)
    assert nets.value_alignment[0] < 0.9
    assert nets.types == ["structured"]


def test_loose_network_with_aligned_values_is_not_shared_ideology(make_graph):
    g = make_graph(3, [(0, 1), (1, 2)], leadership=0.2, values=[[0.5, 0.5, 0.5]] * 3)
    assert classify(g).types == ["loose"]


def test_cluster_below_min_size_is_no_network(make_graph):
    g = make_graph(5, [(0, 1), (2, 3), (3, 4)], leadership=0.9)
    nets = classify(g, min_size=3)
    assert len(nets.type) == 1
    assert nets.label.tolist() == [-1, -1, 0, 0, 0]
    assert nets.cluster_size.tolist() == [2, 3]
    assert len(classify(g, min_size=4).type) == 0


def test_isolated_groups_form_no_network(make_graph):
    nets = classify(make_graph(4, []))
    assert len(nets.type) == 0
    assert (nets.label == -1).all()
    assert nets.marketing_districts == 0


def test_weak_edge_below_tie_threshold_splits_networks(make_graph):
    triangles = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)]
    g = make_graph(6, triangles, leadership=[0.9, 0.2, 0.2, 0.9, 0.2, 0.2])
    g.add_edge(2, 3, strength=0.3, last_activity=g.graph["month"])
    nets = classify(g, tie_threshold=0.5)
    assert nets.size.tolist() == [3, 3]
    assert nets.label[2] != nets.label[3]
    joined = classify(g, tie_threshold=0.25)
    assert joined.size.tolist() == [6]


def test_edge_exactly_at_tie_threshold_links(make_graph):
    g = make_graph(3, [(0, 1)], strength=0.9)
    g.add_edge(1, 2, strength=0.5, last_activity=g.graph["month"], kind="joint_activity")
    assert classify(g, tie_threshold=0.5).size.tolist() == [3]


def test_a_tie_unused_for_longer_than_tie_memory_does_not_link(make_graph):
    g = make_graph(3, [(0, 1)], strength=0.9)
    g.add_edge(1, 2, strength=0.9, last_activity=g.graph["month"] - 6, kind="joint_activity")
    assert classify(g, tie_memory=6).size.tolist() == []
    assert classify(g, tie_memory=7).size.tolist() == [3]


def test_a_coordinator_of_a_large_network_needs_only_coordinator_ties(make_graph):
    star = [(0, v) for v in range(1, 5)] + [(v, v + 1) for v in range(4, 20)]  # 21 members
    g = make_graph(21, star, leadership=[0.9] + [0.2] * 20)
    assert classify(g, coordinator_centrality=0.4, coordinator_ties=4).types == ["structured"]
    assert classify(g, coordinator_centrality=0.4, coordinator_ties=5).types == ["loose"]
    assert classify(g, coordinator_ties=4).coordinator.tolist() == [0]


def test_marketing_network_spanning_three_districts(make_graph):
    g = make_graph(4, [(0, 1), (0, 2), (0, 3)], district=["A", "B", "C", "A"],
                   leadership=[0.9, 0.2, 0.2, 0.2], kind="marketing")
    nets = classify(g)
    assert nets.types == ["structured"]
    assert nets.districts.tolist() == [3]
    assert nets.marketing_districts == 3
    assert nets.marketing_districts >= EmergenceParams().marketing_min_districts


def test_marketing_network_spanning_two_districts_is_not_cross_district(make_graph):
    g = make_graph(4, [(0, 1), (0, 2), (0, 3)], district=["A", "B", "B", "A"],
                   leadership=[0.9, 0.2, 0.2, 0.2], kind="marketing")
    nets = classify(g)
    assert nets.types == ["structured"]
    assert nets.marketing_districts == 2
    assert nets.marketing_districts < EmergenceParams().marketing_min_districts


def test_loose_or_non_marketing_networks_are_no_marketing_network(make_graph):
    districts = ["A", "B", "C", "D"]
    loose = make_graph(4, [(0, 1), (0, 2), (0, 3)], district=districts, leadership=0.2, kind="marketing")
    working = make_graph(4, [(0, 1), (0, 2), (0, 3)], district=districts,
                         leadership=[0.9, 0.2, 0.2, 0.2], goal="marketing")  # joint activity, not marketing
    assert classify(loose).marketing_districts == 0
    assert classify(working).types == ["structured"]
    assert classify(working).marketing_districts == 0


def test_widest_of_several_marketing_networks_counts(make_graph):
    edges = [(0, 1), (0, 2), (3, 4), (3, 5), (3, 6)]
    g = make_graph(7, edges, district=["A", "B", "B", "A", "B", "C", "D"],
                   leadership=[0.9, 0.2, 0.2, 0.9, 0.2, 0.2, 0.2], kind="marketing")
    nets = classify(g)
    assert nets.districts.tolist() == [2, 4]
    assert nets.marketing_districts == 4


def test_components_match_networkx(make_graph):
    rng = np.random.default_rng(3)
    n = 30
    a = rng.integers(0, n, 25)
    b = rng.integers(0, n, 25)
    keep = a != b
    a, b = a[keep], b[keep]
    label = components(n, a, b)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    expected = {frozenset(c) for c in nx.connected_components(g)}
    found = {frozenset(np.flatnonzero(label == k).tolist()) for k in np.unique(label)}
    assert found == expected


def test_alignment_of_two_members_is_one_minus_mean_absolute_difference():
    x = np.array([[0.2, 0.4, 0.9], [0.6, 0.4, 0.3]])
    got = alignment(x, np.array([0, 0]), 1)
    assert np.isclose(got[0], 1.0 - np.abs(x[0] - x[1]).mean())


def test_alignment_ignores_unlabelled_rows():
    x = np.array([[0.5, 0.5], [0.5, 0.5], [0.0, 1.0]])
    assert alignment(x, np.array([0, 0, -1]), 1).tolist() == [1.0]
