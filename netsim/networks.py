"""Networks: clusters of strong ties, and their classification.

A *network* is a connected component of at least ``min_size`` groups in the graph of
ties at least ``tie_threshold`` strong. It is classified as

* **loose**: linked, but without a coordinator, an agreed top goal, or regular joint
  activity;
* **structured**: a coordinator (a member with leadership at least
  ``coordinator_leadership`` tied to at least ``coordinator_centrality`` of the other
  members), an agreed top goal (at least ``goal_agreement`` of members put the same
  goal first) and regular joint activity (at least ``activity_share`` of its ties used
  for joint activity in the last ``activity_window`` months);
* **structured with shared ideology**: structured, and value alignment at least
  ``ideology_threshold``.

A structured network whose agreed goal is marketing and whose members span at least
``marketing_min_districts`` districts is a **cross-district marketing network**, the
network forum the field study saw arise.

The functions take plain arrays, so they can be called on any graph;
:func:`classify_graph` does it for a hand-made :class:`networkx.Graph`.

Example:
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> for i in range(3):
    ...     G.add_node(i, district="A", leadership=0.9, goals=[1, 0, 0, 0, 0],
    ...                values=[0.5, 0.5, 0.5])
    >>> G.add_edges_from([(0, 1), (1, 2), (0, 2)], strength=0.9, last_activity=5)
    >>> classify_graph(G, month=5).types
    ['shared_ideology']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netsim.population import GOALS
from netsim.scenario import EmergenceParams
from netsim.state import LOOSE, NETWORK_TYPES, SHARED_IDEOLOGY, STRUCTURED

__all__ = ["Networks", "alignment", "classify", "classify_graph", "components"]

_MARKETING_GOAL = GOALS.index("marketing")


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes given the edges ``(a, b)``.

    Labels are ``0 .. k-1``, numbered in order of each component's lowest node. Union-find
    with every edge at once: each round hooks the larger root of every edge that still
    crosses two components onto the smaller one, then compresses paths by pointer
    jumping; a few rounds suffice, whatever the graph's size.

    Example:
        >>> components(5, np.array([0, 3]), np.array([1, 4])).tolist()
        [0, 0, 1, 2, 2]
    """
    root = np.arange(n)
    if len(a) == 0:
        return root
    while True:
        ra, rb = root[a], root[b]
        crossing = ra != rb
        if not crossing.any():
            break
        np.minimum.at(root, np.maximum(ra, rb)[crossing], np.minimum(ra, rb)[crossing])
        while True:
            jumped = root[root]
            if np.array_equal(jumped, root):
                break
            root = jumped
    return np.unique(root, return_inverse=True)[1]


def alignment(x: np.ndarray, labels: np.ndarray, k: int, *, scale: float) -> np.ndarray:
    """Alignment of each of ``k`` labelled sets of rows of ``x``.

    ``1 - scale * mean over members of the mean absolute deviation from the set's mean``:
    1 when every member is identical. With ``scale = 2`` for vectors in [0, 1] (values)
    and ``scale = len(GOALS)`` for goal weights (so that the deviation is the L1
    distance to the set's mean), a set of two has alignment ``1 - mean |x - y|`` and
    ``1 - TV(x, y)`` respectively. Rows with label -1 are ignored.
    """
    if k == 0:
        return np.empty(0)
    keep = labels >= 0
    lab, xs = labels[keep], x[keep]
    count = np.bincount(lab, minlength=k).astype(float)
    mean = np.stack([np.bincount(lab, weights=xs[:, j], minlength=k) for j in range(x.shape[1])], axis=1)
    mean /= np.maximum(count, 1)[:, None]
    dev = np.abs(xs - mean[lab]).mean(axis=1)
    return 1.0 - scale * np.bincount(lab, weights=dev, minlength=k) / np.maximum(count, 1)


@dataclass(frozen=True)
class Networks:
    """The networks of one month.

    Attributes:
        label: Network of each node, ``-1`` if in none (its cluster is too small).
        cluster: Connected-component label of each node (any size).
        cluster_size: Size of each component.
        type: Code into :data:`netsim.state.NETWORK_TYPES` of each network.
        size: Members of each network.
        districts: Districts each network spans.
        top_goal: Agreed top goal of each network (index into GOALS), -1 if none agreed.
        coordinated: Whether each network has a coordinator.
        regular_activity: Whether each network has regular joint activity.
        value_alignment: Value alignment of each network.
        marketing_districts: Most districts spanned by a structured marketing network (0 if none).
    """

    label: np.ndarray
    cluster: np.ndarray
    cluster_size: np.ndarray
    type: np.ndarray
    size: np.ndarray
    districts: np.ndarray
    top_goal: np.ndarray
    coordinated: np.ndarray
    regular_activity: np.ndarray
    value_alignment: np.ndarray
    marketing_districts: int

    @property
    def types(self) -> list[str]:
        """Type names of the networks, in label order."""
        return [NETWORK_TYPES[t] for t in self.type]

    def count(self, kind: int) -> int:
        """How many networks are of type ``kind``."""
        return int((self.type == kind).sum())


def classify(n: int, a: np.ndarray, b: np.ndarray, last_activity: np.ndarray, *,
             district: np.ndarray, leadership: np.ndarray, goals: np.ndarray,
             values: np.ndarray, month: int, p: EmergenceParams) -> Networks:
    """Find and classify the networks of a graph.

    Args:
        n: Number of nodes.
        a: First ends of the edges that count (already at least ``tie_threshold`` strong).
        b: Second ends of those edges.
        last_activity: Month of each edge's last joint activity.
        district: District code of each node.
        leadership: Leadership capacity of each node.
        goals: (n, len(GOALS)) goal weights.
        values: (n, d) values in [0, 1].
        month: The current month (for "regular" activity).
        p: Thresholds.
    """
    cluster = components(n, a, b)
    k_all = int(cluster.max()) + 1 if n else 0
    cluster_size = np.bincount(cluster, minlength=k_all)
    big = np.flatnonzero(cluster_size >= p.min_size)
    remap = np.full(k_all, -1)
    remap[big] = np.arange(len(big))
    label = remap[cluster]
    k = len(big)
    size = cluster_size[big]
    edge_label = label[a]
    in_net = edge_label >= 0
    # coordinator: strong leader tied to enough of the others
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    members = label >= 0
    central = degree >= p.coordinator_centrality * (cluster_size[cluster] - 1)
    is_coord = members & (leadership >= p.coordinator_leadership) & central
    coordinated = np.bincount(label[is_coord], minlength=k) > 0
    # agreed top goal
    top = goals.argmax(axis=1)
    g = len(GOALS)
    votes = np.bincount(label[members] * g + top[members], minlength=k * g).reshape(k, g)
    best = votes.argmax(axis=1) if k else np.empty(0, np.int64)
    agreed = votes.max(axis=1, initial=0) >= p.goal_agreement * size
    top_goal = np.where(agreed, best, -1)
    # regular joint activity
    recent = last_activity > month - p.activity_window
    n_edges = np.bincount(edge_label[in_net], minlength=k)
    n_recent = np.bincount(edge_label[in_net & recent], minlength=k)
    regular = n_recent >= p.activity_share * np.maximum(n_edges, 1)
    value_alignment = alignment(values, label, k, scale=2.0)
    # districts spanned
    n_districts = int(district.max(initial=0)) + 1
    spanned = np.unique(label[members] * n_districts + district[members])
    districts = np.bincount(spanned // n_districts, minlength=k)
    structured = coordinated & agreed & regular
    kind = np.where(structured, np.where(value_alignment >= p.ideology_threshold, SHARED_IDEOLOGY,
                                         STRUCTURED), LOOSE).astype(np.int8)
    marketing = structured & (top_goal == _MARKETING_GOAL)
    return Networks(label=label, cluster=cluster, cluster_size=cluster_size, type=kind, size=size,
                    districts=districts, top_goal=top_goal, coordinated=coordinated,
                    regular_activity=regular, value_alignment=value_alignment,
                    marketing_districts=int(districts[marketing].max(initial=0)))


def classify_graph(graph, *, month: int, params: EmergenceParams | None = None) -> Networks:
    """Classify the networks of a :class:`networkx.Graph`.

    Nodes need ``district``, ``leadership``, ``goals`` (weights over
    :data:`netsim.population.GOALS`) and ``values``; edges ``strength`` and
    ``last_activity`` (month). Edges weaker than ``tie_threshold`` are left out.
    """
    p = params or EmergenceParams()
    nodes = list(graph.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    districts = {d: i for i, d in enumerate(sorted({graph.nodes[v]["district"] for v in nodes}))}
    edges = [(index[u], index[v], d.get("last_activity", -10**6))
             for u, v, d in graph.edges(data=True) if d.get("strength", 1.0) >= p.tie_threshold]
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    return classify(
        len(nodes), a, b, np.array([e[2] for e in edges], dtype=np.int64),
        district=np.array([districts[graph.nodes[v]["district"]] for v in nodes]),
        leadership=np.array([graph.nodes[v]["leadership"] for v in nodes], dtype=float),
        goals=np.array([graph.nodes[v]["goals"] for v in nodes], dtype=float),
        values=np.array([graph.nodes[v]["values"] for v in nodes], dtype=float),
        month=month, p=p)
