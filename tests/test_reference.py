"""The compiled fast paths against plain, obviously-correct versions on small random inputs."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from netsim import NetworkModel
from netsim.measures import monthly_outputs
from netsim.networks import classify, components
from netsim.processes.decay import decay_ties
from netsim.processes.emergence import find_networks
from netsim.processes.review import move_towards_partners
from netsim.scenario import DecayParams, EmergenceParams
from netsim.state import LOOSE, SHARED_IDEOLOGY, STRUCTURED
from netsim.ties import NEVER, TIE_KINDS, Ties

MARKETING_TIE = TIE_KINDS.index("marketing")


def random_graph(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = a != b
    pairs = sorted({(min(x, y), max(x, y)) for x, y in zip(a[keep].tolist(), b[keep].tolist(), strict=True)})
    return np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64)


@pytest.mark.parametrize("seed", range(20))
def test_components_match_networkx(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    a, b = random_graph(rng, n, int(rng.integers(0, 80)))
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    label = components(n, a, b)
    expected = sorted(sorted(c) for c in nx.connected_components(g))
    got: dict[int, list[int]] = {}
    for v, lab in enumerate(label.tolist()):
        got.setdefault(lab, []).append(v)
    assert sorted(got.values()) == expected
    assert [min(got[k]) for k in sorted(got)] == sorted(min(c) for c in expected)  # numbered by lowest node


def reference_classify(n, a, b, last_activity, kind, district, leadership, goals, values, month, p):
    """The classification rules, written out one network at a time with networkx."""
    g = nx.Graph()
    g.add_nodes_from(range(n))
    for x, y, last, k in zip(a.tolist(), b.tolist(), last_activity.tolist(), kind.tolist(), strict=True):
        g.add_edge(x, y, last=last, kind=k)
    out = []
    for members in sorted((sorted(c) for c in nx.connected_components(g)), key=min):
        if len(members) < p.min_size:
            continue
        size = len(members)
        tops = [int(np.argmax(goals[v])) for v in members]
        best = max(range(goals.shape[1]), key=lambda k: (tops.count(k), -k))
        agreed = tops.count(best) >= p.goal_agreement * size
        coordinated = any(leadership[v] >= p.coordinator_leadership
                          and g.degree(v) >= min(p.coordinator_centrality * (size - 1), p.coordinator_ties)
                          for v in members)
        edges = list(g.subgraph(members).edges(data="last"))
        recent = sum(1 for _, _, last in edges if last > month - p.activity_window)
        regular = recent >= p.activity_share * max(len(edges), 1)
        mean = values[members].mean(axis=0)
        alignment = 1 - 2 * np.mean([np.abs(values[v] - mean).mean() for v in members])
        if coordinated and agreed and regular:
            kind = SHARED_IDEOLOGY if alignment >= p.ideology_threshold else STRUCTURED
        else:
            kind = LOOSE
        spans = len({int(district[v]) for v in members})
        marketed = {int(district[v]) for x, y, d in g.subgraph(members).edges(data=True)
                    if d["kind"] == MARKETING_TIE and d["last"] > month - p.activity_window for v in (x, y)}
        out.append((members, kind, best if agreed else -1, spans, alignment, len(marketed)))
    return out


@pytest.mark.parametrize("seed", range(30))
def test_classifier_matches_the_rules_written_out(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 40))
    a, b = random_graph(rng, n, int(rng.integers(0, 70)))
    last = rng.integers(0, 12, len(a))
    district = rng.integers(0, 4, n)
    leadership = rng.random(n)
    goals = rng.dirichlet(np.ones(5) * 0.3, n)
    values = 0.5 + rng.normal(0, 0.03 if seed % 2 else 0.2, (n, 3))
    p = EmergenceParams(coordinator_centrality=0.3, goal_agreement=0.5)
    kind = rng.integers(0, 4, len(a)).astype(np.int8)
    nets = classify(n, a, b, last, district=district, leadership=leadership, goals=goals, values=values,
                    month=11, p=p, kind=kind)
    expected = reference_classify(n, a, b, last, kind, district, leadership, goals, values, 11, p)
    assert len(nets.type) == len(expected)
    marketing = 0
    for net, (members, kind, top, spans, alignment, marketed) in enumerate(expected):
        assert np.flatnonzero(nets.label == net).tolist() == members
        assert nets.type[net] == kind
        assert nets.top_goal[net] == top
        assert nets.districts[net] == spans
        assert nets.value_alignment[net] == pytest.approx(alignment)
        assert (nets.node_type[members] == kind).all()
        assert nets.marketing[net] == marketed
        if kind in (STRUCTURED, SHARED_IDEOLOGY):
            marketing = max(marketing, marketed)
    assert nets.marketing_districts == marketing


class ReferenceTies:
    """Ties as a plain dict from (a, b) to their fields."""

    def __init__(self) -> None:
        self.ties: dict[tuple[int, int], dict[str, float]] = {}

    def reinforce(self, a, b, gain, kind, month):
        seen = set()
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
            pair = (min(x, y), max(x, y))
            if x == y or pair in seen:
                continue
            seen.add(pair)
            t = self.ties.get(pair)
            if t is None:
                self.ties[pair] = {"strength": gain[i], "kind": kind[i], "formed": month, "last_used": month,
                                   "last_activity": NEVER}
            else:
                t["strength"] += gain[i] * (1 - t["strength"])
                t["kind"], t["last_used"] = kind[i], month

    def decay(self, rate, floor, month, capacity):
        mine: dict[int, list[tuple[int, int]]] = {}  # each group's ties, in key order
        for pair in sorted(self.ties):
            mine.setdefault(pair[0], []).append(pair)
            mine.setdefault(pair[1], []).append(pair)
        keeps = {v: set(sorted(ps, key=lambda q: -self.ties[q]["strength"])[:capacity])
                 for v, ps in mine.items()}
        kept = {pair for pair in self.ties if pair in keeps[pair[0]] and pair in keeps[pair[1]]}
        for pair in list(self.ties):
            t = self.ties[pair]
            if t["last_used"] < month or pair not in kept:
                t["strength"] *= 1 - rate
            if t["strength"] < floor:
                del self.ties[pair]


@pytest.mark.parametrize("seed", range(20))
def test_tie_list_matches_a_plain_dict(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    fast, slow = Ties(n, capacity=2), ReferenceTies()
    for month in range(1, 12):
        m = int(rng.integers(0, 25))
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
        gain, kind = rng.random(m), rng.integers(0, 4, m).astype(np.int8)
        fast.reinforce(a, b, gain, kind=kind, month=month)
        slow.reinforce(a, b, gain, kind, month)
        decay_ties(fast, DecayParams(rate=0.2, floor=0.1, tie_capacity=3), month)
        slow.decay(0.2, 0.1, month, 3)
        pairs = sorted(slow.ties)
        assert list(zip(fast.a.tolist(), fast.b.tolist(), strict=True)) == pairs
        for field in ("strength", "kind", "formed", "last_used", "last_activity"):
            assert getattr(fast, field).tolist() == pytest.approx([slow.ties[p][field] for p in pairs])


@pytest.mark.parametrize("seed", range(10))
def test_degroot_step_matches_explicit_sums(seed):
    rng = np.random.default_rng(seed)
    n = 12
    a, b = random_graph(rng, n, 20)
    w = rng.random(len(a))
    x = rng.random((n, 3))
    expected = x.copy()
    for v in range(n):
        partners = [(b[e], w[e]) for e in range(len(a)) if a[e] == v] + \
                   [(a[e], w[e]) for e in range(len(a)) if b[e] == v]
        if partners:
            mean = sum(wt * x[u] for u, wt in partners) / sum(wt for _, wt in partners)
            expected[v] = x[v] + 0.3 * (mean - x[v])
    move_towards_partners(x, a, b, w, 0.3)
    assert np.allclose(x, expected)


@pytest.mark.parametrize(("seed", "months"), [(0, 3), (1, 9), (2, 20), (3, 36)])
def test_a_months_outputs_match_networkx_on_the_models_own_state(baseline, seed, months):
    model = NetworkModel(scenario=baseline, rng=seed, run_months=months, forum_scope="province")
    model.run_model()
    s = model.state
    # measure the state as it stands (model.outputs saw it before the month's decay); the
    # compiled month measures with these same kernels (tests/test_schedule.py)
    out = monthly_outputs(s, find_networks(s, model.params.emergence, months, model.params.decay), months)
    members = np.flatnonzero(s.participating).tolist()
    g = nx.Graph()
    g.add_nodes_from(members)
    live = [(u, v, w) for u, v, w in zip(s.ties.a.tolist(), s.ties.b.tolist(), s.ties.strength.tolist(),
                                          strict=True) if s.participating[u] and s.participating[v]]
    g.add_edges_from((u, v) for u, v, _ in live)
    p, m = len(members), g.number_of_edges()
    assert out["participants"] == p and out["ties"] == m
    assert out["density"] == pytest.approx(nx.density(g))
    assert out["mean_degree"] == pytest.approx(2 * m / p)
    assert out["clustering"] == pytest.approx(nx.average_clustering(g))
    by_district: dict[int, set[int]] = {}
    for v in members:
        by_district.setdefault(int(s.district[v]), set()).add(v)
    assert out["modularity"] == pytest.approx(nx.community.modularity(g, by_district.values()))
    cross = sum(s.district[u] != s.district[v] for u, v in g.edges)
    assert out["cross_district_tie_share"] == pytest.approx(cross / m)
    goal = np.mean([1 - 0.5 * np.abs(s.goals[u] - s.goals[v]).sum() for u, v in g.edges])
    value = np.mean([1 - np.abs(s.values[u] - s.values[v]).mean() for u, v in g.edges])
    assert out["goal_alignment"] == pytest.approx(goal)
    assert out["value_alignment"] == pytest.approx(value)
    strong = nx.Graph()
    strong.add_nodes_from(range(s.n))
    e = model.params.emergence
    t = s.ties
    counting = [(u, v) for u, v, w, last in zip(t.a.tolist(), t.b.tolist(), t.strength.tolist(),
                                                 t.last_activity.tolist(), strict=True)
                if s.participating[u] and s.participating[v] and w >= e.tie_threshold
                and last > months - e.tie_memory]
    strong.add_edges_from(counting)
    assert out["largest_cluster"] == max(len(c) for c in nx.connected_components(strong))
    assert list(s.degree[members]) == [g.degree(v) for v in members]
