"""What is measured each month: the model-level outputs.

Every measure is over the participating groups and the ties between them. Measures that
share work (degrees, the participant tie list, the networks) get it computed once, in
:func:`monthly_outputs`; the graph measures are plain functions of an edge list, so they
can be checked against networkx on any graph.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mesa
import numba
import numpy as np
import pandas as pd

from netsim.networks import Networks
from netsim.population import CAPACITIES, GOALS, KINDS
from netsim.state import LOOSE, NETWORK_TYPES, SHARED_IDEOLOGY, STRUCTURED, GroupState

__all__ = ["GROUP_OUTPUTS", "INTEGER_OUTPUTS", "OUTPUTS", "Collector", "average_clustering",
           "district_modularity", "group_outputs", "monthly_outputs", "outputs_dict"]

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


@numba.njit(cache=True)
def _graph_measures(n, a, b, node_in, only_between, district, goals, values):  # pragma: no cover
    """Degrees, ties, clustering, district modularity, cross share and pair alignments.

    The ties counted are ``(a[e], b[e])``, all of them, or with ``only_between`` those
    whose two ends are both in ``node_in``; clustering is averaged over ``node_in``. The
    ties must be sorted by ``(a, b)`` with ``a < b``, each once (as the tie list keeps
    them), so that each group's ties to later groups are one ascending run.
    """
    degree = np.zeros(n, np.int64)
    n_districts = district.max() + 1 if n else 1
    inside, ends = np.zeros(n_districts), np.zeros(n_districts)
    m, cross, goal_sum, value_sum = 0, 0, 0.0, 0.0
    for e in range(len(a)):  # one pass for everything but the triangles
        u, v = a[e], b[e]
        if only_between and not (node_in[u] and node_in[v]):
            continue
        m += 1
        degree[u] += 1
        degree[v] += 1
        ends[district[u]] += 1
        ends[district[v]] += 1
        if district[u] == district[v]:
            inside[district[u]] += 1
        else:
            cross += 1
        distance = 0.0
        for j in range(goals.shape[1]):
            distance += abs(goals[u, j] - goals[v, j])
        goal_sum += 1.0 - 0.5 * distance
        distance = 0.0
        for j in range(values.shape[1]):
            distance += abs(values[u, j] - values[v, j])
        value_sum += 1.0 - distance / values.shape[1]
    start = np.zeros(n + 1, np.int64)  # the ties of each u to partners v > u: one run of the list
    for e in range(len(a)):
        start[a[e] + 1] += 1
    for u in range(n):
        start[u + 1] += start[u]
    triangles = np.zeros(n, np.int64)  # each triangle u < v < w found once, from its tie u-v
    for e in range(len(a)):
        u, v = a[e], b[e]
        if only_between and not (node_in[u] and node_in[v]):
            continue
        i, j = e + 1, start[v]  # u's partners after v, and v's partners: both ascending
        while i < start[u + 1] and j < start[v + 1]:
            if b[i] < b[j]:
                i += 1
            elif b[i] > b[j]:
                j += 1
            else:
                w = b[i]
                if not only_between or node_in[w]:
                    triangles[u] += 1
                    triangles[v] += 1
                    triangles[w] += 1
                i += 1
                j += 1
    count, clustering = 0, 0.0
    for v in range(n):
        if node_in[v]:
            count += 1
            if degree[v] > 1:
                clustering += 2.0 * triangles[v] / (degree[v] * (degree[v] - 1))
    clustering = clustering / count if count else np.nan
    if m == 0:
        return degree, 0, (0.0 if count else np.nan), np.nan, np.nan, np.nan, np.nan
    modularity = 0.0
    for d in range(n_districts):
        modularity += inside[d] / m - (ends[d] / (2.0 * m)) ** 2
    return degree, m, clustering, modularity, cross / m, goal_sum / m, value_sum / m


def _sorted_edges(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo = np.minimum(a, b).astype(np.int64)
    hi = np.maximum(a, b).astype(np.int64)
    order = np.lexsort((hi, lo))
    return lo[order], hi[order]


def _no_attributes(n: int) -> np.ndarray:
    return np.zeros((n, 1))


#: Per-group outputs (the per-group table's columns besides ``month``).
GROUP_OUTPUTS: tuple[str, ...] = (
    "group_id", "district", "kind", "registered", "origin", "participating", "degree",
    "network_id", "network_type", *CAPACITIES, "top_goal", "inspiration", "trust",
    "plan_quality",
)


def average_clustering(n: int, a: np.ndarray, b: np.ndarray, nodes: np.ndarray) -> float:
    """Average local clustering coefficient over ``nodes`` (networkx's convention).

    Args:
        n: Number of nodes in the graph.
        a: First ends of the edges (each undirected edge once, no self-loops).
        b: Second ends of the edges.
        nodes: Nodes to average over; a node with fewer than 2 edges counts as 0.
    """
    node_in = np.zeros(n, np.bool_)
    node_in[nodes] = True
    a, b = _sorted_edges(a, b)
    return float(_graph_measures(n, a, b, node_in, False,
                                 np.zeros(n, np.int64), _no_attributes(n), _no_attributes(n))[2])


def district_modularity(a: np.ndarray, b: np.ndarray, district: np.ndarray) -> float:
    """Newman modularity of the partition of the graph into districts.

    High when ties stay within districts, near 0 when they ignore them. NaN with no edges.
    """
    n = len(district)
    a, b = _sorted_edges(a, b)
    return float(_graph_measures(n, a, b,
                                 np.ones(n, np.bool_), False, np.asarray(district, np.int64),
                                 _no_attributes(n), _no_attributes(n))[3])


@numba.njit(cache=True)
def _group_means(participating, district, inspiration, trust, plan_quality, revisions,
                 in_structured):  # pragma: no cover - compiled
    n_districts = district.max() + 1 if len(district) else 1
    present = np.zeros(n_districts, np.bool_)
    p, sums = 0, np.zeros(5)
    for v in range(len(participating)):
        if participating[v]:
            p += 1
            present[district[v]] = True
            sums[0] += inspiration[v]
            sums[1] += trust[v]
            sums[2] += plan_quality[v]
            sums[3] += revisions[v] > 0
            sums[4] += in_structured[v]
    return p, present.sum(), sums / p if p else np.full(5, np.nan)


@numba.njit(cache=True)
def _month_measures(n, a, b, participating, district, goals, values, inspiration, trust,
                    plan_quality, revisions, network_type, network_kinds):  # pragma: no cover
    degree, ties, clustering, modularity, cross, goal_align, value_align = _graph_measures(
        n, a, b, participating, True, district, goals, values)
    p, districts, means = _group_means(participating, district, inspiration, trust, plan_quality,
                                       revisions, network_type >= STRUCTURED)
    counts = np.zeros(SHARED_IDEOLOGY + 1, np.int64)
    for k in network_kinds:
        counts[k] += 1
    return degree, p, districts, ties, clustering, modularity, cross, goal_align, value_align, \
        means, counts


#: Outputs that count things (integers in the result tables); the others are reals.
INTEGER_OUTPUTS: frozenset[str] = frozenset({
    "participants", "districts", "ties", "largest_cluster", "networks", "loose", "structured",
    "shared_ideology", "marketing_network", "marketing_network_districts"})


@numba.njit(cache=True)
def _write_outputs(out, participating, district, goals, values, inspiration, trust, plan_quality,
                   revisions, network_type, degree, a, b, network_kinds, cluster_size,
                   marketing_districts, min_districts):  # pragma: no cover - compiled
    """Write every output of :data:`OUTPUTS`, in its order, into ``out``; and each group's degree."""
    n = len(participating)
    (degree[:], p, districts, ties, clustering, modularity, cross, goal_align, value_align, means,
     counts) = _month_measures(n, a, b, participating, district, goals, values, inspiration, trust,
                               plan_quality, revisions, network_type, network_kinds)
    out[0] = p  # in the order of OUTPUTS
    out[1] = districts
    out[2] = ties
    out[3] = ties / (p * (p - 1) / 2) if p > 1 else np.nan  # density
    out[4] = 2.0 * ties / p if p else np.nan  # mean degree
    out[5] = clustering
    out[6] = cluster_size.max() if p else 0  # largest cluster
    out[7] = modularity
    out[8] = cross
    out[9] = len(network_kinds)
    out[10] = counts[LOOSE]
    out[11] = counts[STRUCTURED]
    out[12] = counts[SHARED_IDEOLOGY]
    out[13] = marketing_districts >= min_districts
    out[14] = marketing_districts
    out[15:19] = means[:4]  # inspiration, trust, plan quality, revised-plan share
    out[19] = goal_align
    out[20] = value_align
    out[21] = means[4]  # structured share
    return out


def outputs_dict(row: np.ndarray) -> dict[str, float | int]:
    """A row written by :func:`_write_outputs` as ``{output: value}`` (counts as integers)."""
    return {name: int(x) if name in INTEGER_OUTPUTS else x
            for name, x in zip(OUTPUTS, row.tolist(), strict=True)}


def monthly_outputs(state: GroupState, nets: Networks, *, min_districts: int) -> dict[str, float]:
    """Every model-level output of this month (see :data:`OUTPUTS`)."""
    t = state.ties
    row = _write_outputs(np.empty(len(OUTPUTS)), state.participating, state.district, state.goals,
                         state.values, state.inspiration, state.trust, state.plan_quality,
                         state.revisions, state.network_type, state.degree, t.a, t.b, nets.type,
                         nets.cluster_size, nets.marketing_districts, min_districts)
    return outputs_dict(row)


def group_outputs(state: GroupState) -> dict[str, np.ndarray]:
    """Every per-group output (see :data:`GROUP_OUTPUTS`), one array each, read from the state."""
    f = state.features
    columns = {
        "group_id": f.group_id,
        "district": np.asarray(f.district_names, dtype=object)[f.district],
        "kind": np.asarray(KINDS, dtype=object)[f.kind],
        "registered": f.registered,
        "origin": np.where(f.self_initiated, "self", "agency").astype(object),
        "participating": state.participating,
        "degree": state.degree,
        "network_id": state.network_id,
        "network_type": np.asarray(NETWORK_TYPES, dtype=object)[state.network_type],
        **{c: state.capacities[:, j] for j, c in enumerate(CAPACITIES)},
        "top_goal": np.asarray(GOALS, dtype=object)[state.goals.argmax(axis=1)],
        "inspiration": state.inspiration,
        "trust": state.trust,
        "plan_quality": state.plan_quality,
    }
    return {name: columns[name] for name in GROUP_OUTPUTS}


def _report(model: Any, name: str) -> Any:  # what each reporter would read; the table is filled whole
    return model.outputs[name]


class Collector(mesa.DataCollector):
    """Mesa's ``DataCollector`` for this model, filled from the array state.

    The monthly outputs are written by the compiled month straight into a table of one
    row a month (:meth:`next_row`); the per-group outputs are kept as arrays, one set a
    month collected. Mesa's views of them are read from those arrays when asked for:
    ``model_vars`` (one list per :data:`OUTPUTS`) and the table ``"groups"`` (columns
    ``month`` and :data:`GROUP_OUTPUTS`) of ``tables`` and ``get_table_dataframe``.

    Args:
        months: Months the table has room for at first (it grows if a run goes on).
    """

    def __init__(self, months: int = 36) -> None:
        self._rows = np.empty((months + 1, len(OUTPUTS)))
        self._collected = 0
        self._group_parts: list[dict[str, np.ndarray]] = []
        super().__init__()
        self.model_reporters = {name: partial(_report, name=name) for name in OUTPUTS}

    @property
    def model_vars(self) -> dict[str, list[float | int]]:
        """Each output's values, one a month collected (counts as integers)."""
        return {name: values.tolist() for name, values in self.monthly_columns().items()
                if name != "month"}

    @model_vars.setter
    def model_vars(self, value: dict) -> None:  # Mesa's __init__ sets it; the table is the store
        pass

    @property
    def tables(self) -> dict[str, dict[str, list[Any]]]:
        """Mesa's tables: ``"groups"``, one list per column."""
        return {"groups": {name: values.tolist() for name, values in self.group_columns().items()}}

    @tables.setter
    def tables(self, value: dict) -> None:  # Mesa's __init__ sets it; the arrays are the store
        pass

    def get_table_dataframe(self, table_name: str) -> pd.DataFrame:
        """The table ``"groups"`` as a DataFrame."""
        if table_name != "groups":
            raise KeyError(f"no table {table_name!r}: this model keeps one table, 'groups'")
        return pd.DataFrame(self.group_columns())

    def monthly_columns(self) -> dict[str, np.ndarray]:
        """``month`` and each output, one value a month collected (counts as integers)."""
        rows = self._rows[: self._collected]
        columns = {"month": np.arange(self._collected)}
        for j, name in enumerate(OUTPUTS):
            columns[name] = rows[:, j].astype(np.int64) if name in INTEGER_OUTPUTS else rows[:, j].copy()
        return columns

    def group_columns(self) -> dict[str, np.ndarray]:
        """``month`` and each per-group output, one value a group and month collected."""
        if not self._group_parts:
            return {name: np.empty(0) for name in ("month", *GROUP_OUTPUTS)}
        if len(self._group_parts) == 1:
            return dict(self._group_parts[0])
        return {name: np.concatenate([part[name] for part in self._group_parts])
                for name in self._group_parts[0]}

    def next_row(self) -> np.ndarray:
        """The row the next month's outputs are to be written into."""
        if self._collected == len(self._rows):
            self._rows = np.concatenate([self._rows, np.empty_like(self._rows)])
        return self._rows[self._collected]

    def last_row(self) -> np.ndarray:
        """The outputs of the last month collected."""
        return self._rows[self._collected - 1]

    def collect(self, model: Any) -> None:
        """Record the month whose outputs were written into :meth:`next_row`."""
        self._collection_steps.append(model.time)
        self._collected += 1

    def collect_groups(self, model: Any) -> None:
        """Record every group's outputs this month (copies: the state moves on)."""
        columns = group_outputs(model.state)
        self._group_parts.append({"month": np.full(model.state.n, model.month, np.int64),
                                  **{name: np.array(values) for name, values in columns.items()}})
