"""What is measured each month: the model-level outputs.

Every measure is over the participating groups and the ties between them. Measures that
share work (degrees, the participant tie list, the networks) get it computed once, in
:func:`monthly_outputs`; the graph measures are plain functions of an edge list, so they
can be checked against networkx on any graph.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import csr_array

from netsim.networks import Networks
from netsim.state import LOOSE, SHARED_IDEOLOGY, STRUCTURED, GroupState

__all__ = ["OUTPUTS", "average_clustering", "district_modularity", "monthly_outputs"]

#: The monthly model-level outputs, with what each means (the result tables' columns).
OUTPUTS: dict[str, str] = {
    "participants": "groups taking part",
    "districts": "districts with at least one participant",
    "ties": "ties between participants",
    "density": "ties / possible ties among participants",
    "mean_degree": "mean ties per participant",
    "clustering": "average local clustering coefficient of participants (0 below 2 ties)",
    "largest_cluster": "groups in the largest cluster of strong ties",
    "modularity": "modularity of the district partition of participant ties (segregation by district)",
    "cross_district_tie_share": "share of participant ties between districts",
    "networks": "networks (clusters of at least min_size groups)",
    "loose": "loose networks",
    "structured": "structured networks without a shared ideology",
    "shared_ideology": "structured networks with a shared ideology",
    "marketing_network": "a cross-district marketing network exists (1/0)",
    "marketing_network_districts": "districts spanned by the widest structured marketing network",
    "mean_inspiration": "mean inspiration of participants",
    "mean_trust": "mean trust in the team",
    "mean_plan_quality": "mean plan quality",
    "revised_plan_share": "share of participants that revised their plan at least once",
    "goal_alignment": "mean over participant ties of 1 - TV distance between the two groups' goals",
    "value_alignment": "mean over participant ties of 1 - mean absolute difference of values",
    "structured_share": "share of participants in structured networks (with or without ideology)",
}


def average_clustering(n: int, a: np.ndarray, b: np.ndarray, nodes: np.ndarray) -> float:
    """Average local clustering coefficient over ``nodes`` (networkx's convention).

    Args:
        n: Number of nodes in the graph.
        a: First ends of the edges (each undirected edge once, no self-loops).
        b: Second ends of the edges.
        nodes: Nodes to average over; a node with fewer than 2 edges counts as 0.
    """
    if len(nodes) == 0:
        return math.nan
    if len(a) == 0:
        return 0.0
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    used = np.flatnonzero(degree)
    local = np.full(n, -1)
    local[used] = np.arange(len(used))
    m = len(used)
    if m <= 300:
        adj = np.zeros((m, m))
        adj[local[a], local[b]] = 1.0
        adj[local[b], local[a]] = 1.0
        tri = ((adj @ adj) * adj).sum(axis=1) / 2.0
    else:
        ones = np.ones(2 * len(a))
        adj = csr_array((ones, (np.concatenate([local[a], local[b]]),
                                np.concatenate([local[b], local[a]]))), shape=(m, m))
        tri = np.asarray((adj @ adj).multiply(adj).sum(axis=1)).ravel() / 2.0
    d = degree[used].astype(float)
    coef = np.zeros(n)
    coef[used] = np.where(d > 1, 2.0 * tri / np.maximum(d * (d - 1), 1), 0.0)
    return float(coef[nodes].mean())


def district_modularity(a: np.ndarray, b: np.ndarray, district: np.ndarray) -> float:
    """Newman modularity of the partition of the graph into districts.

    High when ties stay within districts, near 0 when they ignore them. NaN with no edges.
    """
    m = len(a)
    if m == 0:
        return math.nan
    k = int(district.max()) + 1
    da, db = district[a], district[b]
    inside = np.bincount(da[da == db], minlength=k)
    ends = np.bincount(da, minlength=k) + np.bincount(db, minlength=k)
    return float(inside.sum() / m - ((ends / (2.0 * m)) ** 2).sum())


def _pair_alignment(a: np.ndarray, b: np.ndarray, state: GroupState) -> tuple[float, float]:
    if len(a) == 0:
        return math.nan, math.nan
    goal = 1.0 - 0.5 * np.abs(state.goals[a] - state.goals[b]).sum(axis=1)
    value = 1.0 - np.abs(state.values[a] - state.values[b]).mean(axis=1)
    return float(goal.mean()), float(value.mean())


def monthly_outputs(state: GroupState, nets: Networks, *, min_districts: int) -> dict[str, float]:
    """Every model-level output of this month (see :data:`OUTPUTS`)."""
    part = state.participating
    members = np.flatnonzero(part)
    p = len(members)
    t = state.ties
    live = part[t.a] & part[t.b]
    a, b = t.a[live], t.b[live]
    ties = len(a)
    state.degree = np.bincount(a, minlength=state.n) + np.bincount(b, minlength=state.n)
    goal_align, value_align = _pair_alignment(a, b, state)
    in_structured = np.isin(state.network_type, (STRUCTURED, SHARED_IDEOLOGY))
    mean = (lambda x: float(x[members].mean())) if p else (lambda x: math.nan)
    return {
        "participants": p,
        "districts": int(len(np.unique(state.district[members]))),
        "ties": ties,
        "density": ties / (p * (p - 1) / 2) if p > 1 else math.nan,
        "mean_degree": 2.0 * ties / p if p else math.nan,
        "clustering": average_clustering(state.n, a, b, members),
        "largest_cluster": int(nets.cluster_size[np.unique(nets.cluster[members])].max(initial=0)),
        "modularity": district_modularity(a, b, state.district),
        "cross_district_tie_share": (float((state.district[a] != state.district[b]).mean())
                                     if ties else math.nan),
        "networks": len(nets.type),
        "loose": nets.count(LOOSE),
        "structured": nets.count(STRUCTURED),
        "shared_ideology": nets.count(SHARED_IDEOLOGY),
        "marketing_network": int(nets.marketing_districts >= min_districts),
        "marketing_network_districts": nets.marketing_districts,
        "mean_inspiration": mean(state.inspiration),
        "mean_trust": mean(state.trust),
        "mean_plan_quality": mean(state.plan_quality),
        "revised_plan_share": mean(state.revisions > 0),
        "goal_alignment": goal_align,
        "value_alignment": value_align,
        "structured_share": float(in_structured[members].mean()) if p else math.nan,
    }

