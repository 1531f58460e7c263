"""Networks: clusters of ties that mean something, and their classification.

The ties that count are those between participants at least ``tie_threshold`` strong
and used for joint activity within the last ``tie_memory`` months (:func:`counting_ties`):
a tie the groups use or have kept, not any tie that happens to be strong. A *network* is
a connected component of at least ``min_size`` groups in the graph of those ties. It is
classified as

* **loose**: linked, but without a coordinator, an agreed top goal, or regular joint
  activity;
* **structured**: a coordinator (a member with leadership at least
  ``coordinator_leadership`` tied to at least ``coordinator_centrality`` of the other
  members or to ``coordinator_ties`` of them, whichever is fewer, so that a large network
  is not structurally barred from having one), an agreed top goal (at least
  ``goal_agreement`` of members put the same goal first) and regular joint activity (at
  least ``activity_share`` of its ties used for joint activity in the last
  ``activity_window`` months);
* **structured with shared ideology**: structured, and value alignment at least
  ``ideology_threshold``.

A structured network's *joint marketing* spans the districts of its members that
marketed together (a marketing tie inside it with joint activity in the last
``activity_window`` months); spanning ``marketing_min_districts`` districts, kept up for
``marketing_months`` months (``netsim/processes/emergence.py``), it is the
**cross-district marketing network** the field study saw arise.

The functions take plain arrays, so they can be called on any graph;
:func:`classify_graph` does it for a hand-made :class:`networkx.Graph`.

Example:
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> for i in range(3):
    ...     G.add_node(i, district="A", leadership=0.9, goals=[1, 0, 0, 0, 0],
    ...                values=[0.5, 0.5, 0.5])
    >>> G.add_edges_from([(0, 1), (1, 2), (0, 2)], strength=0.9, last_activity=5, kind="joint_activity")
    >>> classify_graph(G, month=5).types
    ['shared_ideology']
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from netsim.agreement import degrees, set_alignment, top_goal_of
from netsim.codes import LOOSE, NETWORK_TYPES, SHARED_IDEOLOGY, STRUCTURED
from netsim.compiled import record
from netsim.scenario import EmergenceParams
from netsim.ties import MARKETING, TIE_KINDS

__all__ = ["EmergenceKernel", "Networks", "alignment", "classify", "classify_graph",
           "classify_kernel", "classify_params", "components", "counting_ties"]


@numba.njit(cache=True)
def _root(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving
        x = parent[x]
    return x


@numba.njit(cache=True)
def _components(n: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    parent = np.arange(n)
    for e in range(len(a)):
        ra, rb = _root(parent, a[e]), _root(parent, b[e])
        if ra < rb:
            parent[rb] = ra
        elif rb < ra:
            parent[ra] = rb
    label = np.full(n, -1, np.int64)
    k = 0
    for v in range(n):  # roots are each component's lowest node, met first in this order
        r = _root(parent, v)
        if label[r] < 0:
            label[r] = k
            k += 1
        label[v] = label[r]
    return label, k


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes given the edges ``(a, b)``.

    Labels are ``0 .. k-1``, numbered in order of each component's lowest node
    (union-find with path halving; each root is its component's lowest node).

    Example:
        >>> components(5, np.array([0, 3]), np.array([1, 4])).tolist()
        [0, 0, 1, 2, 2]
    """
    return _components(n, np.asarray(a, np.int64), np.asarray(b, np.int64))[0]


def alignment(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Value alignment of each of ``k`` labelled sets of rows of ``x`` (label -1: in none).

    ``1 - 2 *`` the mean over members of the mean absolute deviation from the set's mean:
    1 when every member is identical; a set of two has alignment ``1 - mean |x - y|``.
    This is the value alignment :func:`classify` uses for shared ideology
    (:func:`netsim.agreement.set_alignment`).
    """
    return set_alignment(np.asarray(x, np.float64), np.asarray(labels, np.int64), k)


class Networks(NamedTuple):
    """The networks of one month (what the compiled classifier returns, by name).

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
        node_type: Type code of each node's network (0, ``none``, for a node in no network).
        coordinator: The coordinating node of each network (-1 if none).
        marketing: Districts spanned by each network's recent joint marketing.
        marketing_districts: Most districts spanned by the joint marketing of a structured
            network (0 if none).
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
    node_type: np.ndarray
    coordinator: np.ndarray
    marketing: np.ndarray
    marketing_districts: int

    @property
    def types(self) -> list[str]:
        """Type names of the networks, in label order."""
        return [NETWORK_TYPES[t] for t in self.type]

    def number_of(self, kind: int) -> int:
        """How many networks are of type ``kind``."""
        return int((self.type == kind).sum())


class EmergenceKernel(NamedTuple):
    """The emergence parameters as the compiled classifier reads them (see :func:`classify_params`)."""

    tie_threshold: float
    min_size: int
    coordinator_leadership: float
    coordinator_centrality: float
    goal_agreement: float
    activity_window: int
    activity_share: float
    ideology_threshold: float
    marketing_min_districts: int
    tie_memory: int
    coordinator_ties: int
    marketing_months: int
    lapse_months: int
    dissolve_after: int
    meeting_gain: float
    leadership_gain: float
    tie_capacity: int


def classify_params(p: EmergenceParams, tie_capacity: int = 0) -> EmergenceKernel:
    """The emergence parameters as the compiled classifier takes them.

    ``tie_capacity`` (``decay.tie_capacity``) is read only by the emergence step's upkeep of
    ties, which its meetings and the month's decay use (``processes/emergence.py``);
    classifying alone does not need it.
    """
    return record(EmergenceKernel, p, tie_capacity=tie_capacity)


@numba.njit(cache=True)
def classify_kernel(n, a, b, last_activity, kind, district, leadership, goals, values, month,
                    p):  # pragma: no cover - compiled
    """Find the networks of the edges ``(a, b)`` (those that count) and classify each.

    ``p`` is an :class:`EmergenceKernel`. A network is a component of at least
    ``p.min_size`` nodes; it is structured if it has a coordinator, an agreed top goal and
    regular joint activity, with a shared ideology if its value alignment also reaches
    ``p.ideology_threshold``. Returns :class:`Networks`.
    """
    cluster, k_all = _components(n, a, b)
    cluster_size = np.zeros(k_all, np.int64)
    for v in range(n):
        cluster_size[cluster[v]] += 1
    network_of = np.full(k_all, -1, np.int64)
    k = 0
    for c in range(k_all):
        if cluster_size[c] >= p.min_size:
            network_of[c] = k
            k += 1
    label = np.empty(n, np.int64)
    for v in range(n):
        label[v] = network_of[cluster[v]]
    degree = degrees(n, a, b, np.ones(n, np.bool_))
    n_goals = goals.shape[1]
    n_districts = district.max() + 1 if n else 1
    size = np.zeros(k, np.int64)
    votes = np.zeros((k, n_goals), np.int64)
    coordinated = np.zeros(k, np.bool_)
    coordinator = np.full(k, -1, np.int64)
    spans = np.zeros((k, n_districts), np.bool_)
    districts = np.zeros(k, np.int64)
    for v in range(n):
        net = label[v]
        if net < 0:
            continue
        size[net] += 1
        votes[net, top_goal_of(goals, v)] += 1
        # a coordinator: a strong leader tied to enough of the other members (the best tied)
        needed = min(p.coordinator_centrality * (cluster_size[cluster[v]] - 1), p.coordinator_ties)
        if leadership[v] >= p.coordinator_leadership and degree[v] >= needed:
            coordinated[net] = True
            c = coordinator[net]
            if c < 0 or degree[v] > degree[c] or (degree[v] == degree[c] and leadership[v] > leadership[c]):
                coordinator[net] = v
        if not spans[net, district[v]]:
            spans[net, district[v]] = True
            districts[net] += 1
    marketed = np.zeros((k, n_districts), np.bool_)  # districts that marketed together, by network
    marketing = np.zeros(k, np.int64)
    for e in range(len(a)):
        net = label[a[e]]
        if net >= 0 and kind[e] == MARKETING and last_activity[e] > month - p.activity_window:
            for v in (a[e], b[e]):
                if not marketed[net, district[v]]:
                    marketed[net, district[v]] = True
                    marketing[net] += 1
    value_alignment = set_alignment(values, label, k)
    ties, recent = np.zeros(k, np.int64), np.zeros(k, np.int64)
    for e in range(len(a)):
        net = label[a[e]]
        if net >= 0:
            ties[net] += 1
            recent[net] += last_activity[e] > month - p.activity_window
    top_goal = np.full(k, -1, np.int64)
    regular = np.zeros(k, np.bool_)
    net_type = np.empty(k, np.int8)
    marketing_districts = 0
    for net in range(k):
        best = np.argmax(votes[net])
        if votes[net, best] >= p.goal_agreement * size[net]:
            top_goal[net] = best
        regular[net] = recent[net] >= p.activity_share * max(ties[net], 1)
        if coordinated[net] and top_goal[net] >= 0 and regular[net]:
            net_type[net] = SHARED_IDEOLOGY if value_alignment[net] >= p.ideology_threshold else STRUCTURED
            marketing_districts = max(marketing_districts, marketing[net])
        else:
            net_type[net] = LOOSE
    node_type = np.zeros(n, np.int8)
    for v in range(n):
        if label[v] >= 0:
            node_type[v] = net_type[label[v]]
    return Networks(label=label, cluster=cluster, cluster_size=cluster_size, type=net_type, size=size,
                    districts=districts, top_goal=top_goal, coordinated=coordinated,
                    regular_activity=regular, value_alignment=value_alignment, node_type=node_type,
                    coordinator=coordinator, marketing=marketing,
                    marketing_districts=marketing_districts)


@numba.njit(cache=True)
def counting_ties(a, b, strength, last_activity, kind, participating, month, p):  # pragma: no cover
    """The ties that count for networks: between participants, at least ``p.tie_threshold``
    strong and used for joint activity within ``p.tie_memory`` months.

    Returns their ``(a, b, last_activity, kind)``.
    """  # noqa: D205
    m = len(a)
    ca, cb = np.empty(m, np.int64), np.empty(m, np.int64)
    cl, ck = np.empty(m, last_activity.dtype), np.empty(m, kind.dtype)
    k = 0
    for e in range(m):  # one pass, in list order
        if participating[a[e]] and participating[b[e]] and strength[e] >= p.tie_threshold \
                and last_activity[e] > month - p.tie_memory:
            ca[k], cb[k], cl[k], ck[k] = a[e], b[e], last_activity[e], kind[e]
            k += 1
    return ca[:k], cb[:k], cl[:k], ck[:k]


def classify(n: int, a: np.ndarray, b: np.ndarray, last_activity: np.ndarray, *,
             district: np.ndarray, leadership: np.ndarray, goals: np.ndarray,
             values: np.ndarray, month: int, p: EmergenceParams,
             kind: np.ndarray | None = None) -> Networks:
    """Find and classify the networks of a graph.

    Args:
        n: Number of nodes.
        a: First ends of the edges that count (already strong and recently used enough).
        b: Second ends of those edges.
        last_activity: Month of each edge's last joint activity.
        district: District code of each node.
        leadership: Leadership capacity of each node.
        goals: (n, len(GOALS)) goal weights; a node's top goal is its largest weight.
        values: (n, d) values in [0, 1]; alignment as in :func:`alignment`.
        month: The current month (for "regular" activity).
        p: Thresholds.
        kind: Code into :data:`netsim.ties.TIE_KINDS` of each edge (default: joint activity).
    """
    kind = np.full(len(a), TIE_KINDS.index("joint_activity"), np.int8) if kind is None \
        else np.asarray(kind, np.int8)
    return classify_kernel(n, np.asarray(a, np.int64), np.asarray(b, np.int64),
                           np.asarray(last_activity, np.int64), kind, np.asarray(district, np.int64),
                           np.asarray(leadership, np.float64), np.asarray(goals, np.float64),
                           np.asarray(values, np.float64), month, classify_params(p))


def classify_graph(graph, *, month: int, params: EmergenceParams | None = None) -> Networks:
    """Classify the networks of a :class:`networkx.Graph`.

    Nodes need ``district``, ``leadership``, ``goals`` (weights over
    :data:`netsim.codes.GOALS`) and ``values``; edges ``strength``, ``last_activity``
    (month) and ``kind`` (one of :data:`netsim.ties.TIE_KINDS`, default
    ``joint_activity``). Edges that do not count (:func:`counting_ties`) are left out.
    """
    p = params or EmergenceParams()
    nodes = list(graph.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    districts = {d: i for i, d in enumerate(sorted({graph.nodes[v]["district"] for v in nodes}))}
    edges = [(index[u], index[v], d.get("last_activity", -10**6),
              TIE_KINDS.index(d.get("kind", "joint_activity")))
             for u, v, d in graph.edges(data=True)
             if d.get("strength", 1.0) >= p.tie_threshold
             and d.get("last_activity", -10**6) > month - p.tie_memory]
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    return classify(
        len(nodes), a, b, np.array([e[2] for e in edges], dtype=np.int64),
        kind=np.array([e[3] for e in edges], dtype=np.int8),
        district=np.array([districts[graph.nodes[v]["district"]] for v in nodes]),
        leadership=np.array([graph.nodes[v]["leadership"] for v in nodes], dtype=float),
        goals=np.array([graph.nodes[v]["goals"] for v in nodes], dtype=float),
        values=np.array([graph.nodes[v]["values"] for v in nodes], dtype=float),
        month=month, p=p)
