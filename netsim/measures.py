"""What is measured each month: the model-level outputs.

Every measure is over the participating groups and the ties between them. Measures that
share work (degrees, the participant tie list, the networks) get it computed once, in
:func:`monthly_outputs`; the graph measures are plain functions of an edge list, so they
can be checked against networkx on any graph.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import mesa
import numba
import numpy as np
import pandas as pd

from netsim.agreement import goal_agreement_of, value_alignment_of
from netsim.codes import CAPACITIES, GOALS, KINDS, LOOSE, NETWORK_TYPES, SHARED_IDEOLOGY, STRUCTURED
from netsim.processes.emergence import Emergence
from netsim.state import GroupState

__all__ = ["GROUP_OUTPUTS", "INTEGER_OUTPUTS", "OUTPUTS", "OUTPUT_TABLE", "Collector", "MonthOutputs",
           "Output", "average_clustering", "district_modularity", "group_outputs", "monthly_outputs",
           "output", "outputs_dict", "outputs_markdown", "write_outputs"]


class Output(NamedTuple):
    """One monthly model-level output: everything said about it anywhere, said here.

    Attributes:
        name: Column name in the result tables.
        meaning: What it is, as computed (the list in ``docs/odd.md`` is made from it).
        unit: Unit, in words (chart axes).
        integer: Whether it counts things (an integer in the result tables).
        label: A short title for tables and charts.
        format: How a value is written (a ``str.format`` pattern).
    """

    name: str
    meaning: str
    unit: str
    integer: bool
    label: str
    format: str

    @property
    def mean_format(self) -> str:
        """How a mean over runs is written (a count's mean keeps two decimals)."""
        return "{:.2f}" if self.integer and self.format == "{:.0f}" else self.format


#: The monthly model-level outputs, in the result tables' order. Adding an output is one
#: entry here plus its computation in :func:`_month_outputs`.
OUTPUT_TABLE: tuple[Output, ...] = (
    Output("participants", "number of participating groups", "groups", True,
           "Participating groups", "{:.0f}"),
    Output("districts", "districts with at least one participant", "districts", True,
           "Districts", "{:.0f}"),
    Output("ties", "ties between participants (any strength)", "ties", True,
           "Ties between participants", "{:.0f}"),
    Output("density", "`ties` / (p (p − 1) / 2) for p participants; NaN if p ≤ 1",
           "share of possible ties", False, "Density of ties", "{:.2f}"),
    Output("mean_degree", "2 `ties` / p; NaN if p = 0", "ties per group", False,
           "Mean ties per group", "{:.1f}"),
    Output("clustering", "average local clustering coefficient over participants in the unweighted "
           "graph of participant ties (networkx's convention: a group with fewer than 2 ties counts "
           "0); 0 with no ties, NaN with no participants", "coefficient, 0 to 1", False,
           "Clustering", "{:.2f}"),
    Output("largest_cluster", "size of the largest connected component of participants in the graph "
           "of the ties that count for networks (an isolated participant is a cluster of 1)", "groups",
           True, "Largest cluster", "{:.0f}"),
    Output("modularity", "Newman modularity of the partition of the participant-tie graph "
           "(unweighted) into districts: Σ_d [e_d / M − (k_d / 2M)²], with M ties, e_d ties inside "
           "district d and k_d the sum of degrees in d; high when ties stay inside districts; NaN "
           "with no ties", "modularity", False, "District modularity", "{:.2f}"),
    Output("cross_district_tie_share", "share of participant ties whose ends are in different "
           "districts; NaN with no ties", "share of ties", False, "Ties across districts", "{:.0%}"),
    Output("network_ties", "ties that count for networks: between participants, at least "
           "`emergence.tie_threshold` strong and used for joint activity within "
           "`emergence.tie_memory` months", "ties", True, "Ties that count for networks", "{:.0f}"),
    Output("joint_activity", "ties between participants along which the two groups worked together "
           "this month (Section 7.4)", "ties", True, "Joint activity", "{:.0f}"),
    Output("joint_marketing", "of `joint_activity`, ties whose joint activity was joint marketing "
           "(both groups put marketing first)", "ties", True, "Joint marketing", "{:.0f}"),
    Output("network_density", "`network_ties` / (p (p − 1) / 2) for p participants; NaN if p ≤ 1",
           "share of possible ties", False, "Density of the ties that count", "{:.2f}"),
    Output("network_clustering", "average local clustering coefficient over participants in the graph "
           "of the ties that count (as `clustering`)", "coefficient, 0 to 1", False,
           "Clustering of the ties that count", "{:.2f}"),
    Output("isolated_share", "share of participants with no tie that counts for networks",
           "share of participants", False, "Groups outside every network tie", "{:.0%}"),
    Output("networks", "network forums (Section 7.7: clusters of at least `emergence.min_size` groups "
           "carried from month to month, including those lapsed but not yet dissolved)", "networks",
           True, "Networks", "{:.0f}"),
    Output("loose", "loose network forums", "networks", True, "Loose networks", "{:.0f}"),
    Output("structured", "structured network forums without a shared ideology", "networks", True,
           "Structured networks", "{:.0f}"),
    Output("shared_ideology", "structured network forums with a shared ideology", "networks", True,
           "Networks with a shared ideology", "{:.0f}"),
    Output("networks_formed", "network forums formed this month", "networks", True,
           "Networks formed", "{:.0f}"),
    Output("networks_dissolved", "network forums dissolved this month (after a sustained lapse)",
           "networks", True, "Networks dissolved", "{:.0f}"),
    Output("network_age", "mean age of the network forums, months since each formed; NaN with none",
           "months", False, "Age of the networks", "{:.1f}"),
    Output("marketing_network", "1 if a structured network forum's joint marketing has spanned at least "
           "`emergence.marketing_min_districts` districts for `emergence.marketing_months` months in "
           "a row, else 0", "1 if present, else 0 (a mean: share of runs)", True,
           "Cross-district marketing network", "{:.0%}"),
    Output("marketing_network_districts", "districts spanned by the joint marketing of the widest "
           "cross-district marketing network (0 if none)", "districts", True,
           "Districts in the widest marketing network", "{:.0f}"),
    Output("marketing_network_age", "months the longest-standing cross-district marketing network has "
           "been one (0 if none)", "months", True, "Age of the marketing network", "{:.0f}"),
    Output("mean_inspiration", "mean inspiration of participants", "0 to 1", False,
           "Inspiration", "{:.2f}"),
    Output("mean_trust", "mean trust in the team of participants", "0 to 1", False,
           "Trust in the team", "{:.2f}"),
    Output("mean_plan_quality", "mean plan quality of participants", "0 to 1", False,
           "Plan quality", "{:.2f}"),
    Output("revised_plan_share", "share of participants that revised their plan at least once",
           "share of participants", False, "Groups that revised their plans", "{:.0%}"),
    Output("goal_alignment", "mean over participant ties of 1 − TV(g_i, g_j), where TV is the "
           "total-variation distance ½ Σ |g_i − g_j| between the two groups' goal weights; NaN "
           "with no ties", "0 to 1", False, "Goal alignment along ties", "{:.2f}"),
    Output("value_alignment", "mean over participant ties of 1 − (mean over the 3 value dimensions "
           "of |v_i − v_j|); NaN with no ties", "0 to 1", False, "Value alignment along ties",
           "{:.2f}"),
    Output("structured_share", "share of participants in structured networks (with or without "
           "shared ideology)", "share of participants", False, "Groups in structured networks",
           "{:.0%}"),
)

#: Each output's meaning, by name, in the tables' order (the source of output names).
OUTPUTS: dict[str, str] = {o.name: o.meaning for o in OUTPUT_TABLE}
#: Outputs that count things (integers in the result tables); the others are reals.
INTEGER_OUTPUTS: frozenset[str] = frozenset(o.name for o in OUTPUT_TABLE if o.integer)
_BY_NAME = {o.name: o for o in OUTPUT_TABLE}

#: One month's outputs, by name, as the compiled month computes them (fields in table order).
MonthOutputs = NamedTuple("MonthOutputs", [(o.name, float) for o in OUTPUT_TABLE])


def output(name: str) -> Output:
    """The :class:`Output` called ``name``.

    Raises:
        KeyError: No such output; the message lists them.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a model output; outputs: {', '.join(OUTPUTS)}") from None


def outputs_markdown() -> str:
    """The outputs as the Markdown table of ``docs/odd.md`` (Section 4.11)."""
    lines = ["| output | meaning (as computed) | unit |", "|---|---|---|"]
    lines += [f"| `{o.name}` | {o.meaning} | {o.unit} |" for o in OUTPUT_TABLE]
    return "\n".join(lines) + "\n"


@numba.njit(cache=True)
def _graph_measures(n, a, b, node_in, only_between, district, goals, values,
                    pairs=True):  # pragma: no cover - compiled
    """Degrees, ties, clustering, district modularity, cross share and pair alignments.

    The ties counted are ``(a[e], b[e])``, all of them, or with ``only_between`` those
    whose two ends are both in ``node_in``; clustering is averaged over ``node_in``. The
    ties must be sorted by ``(a, b)`` with ``a < b``, each once (as the tie list keeps
    them), so that each group's ties to later groups are one ascending run. Without
    ``pairs``, the district and pair measures are left out (NaN): degrees, ties and
    clustering only.
    """
    n_districts = (district.max() + 1 if n else 1) if pairs else 1
    inside, ends = np.zeros(n_districts), np.zeros(n_districts)
    degree = np.zeros(n, np.int64)
    start = np.zeros(n + 1, np.int64)  # the ties of each u to partners v > u: one run of the list
    m, cross, goal_sum, value_sum = 0, 0, 0.0, 0.0
    for e in range(len(a)):  # one pass for everything but the triangles
        u, v = a[e], b[e]
        start[u + 1] += 1
        if only_between and not (node_in[u] and node_in[v]):
            continue
        m += 1
        degree[u] += 1
        degree[v] += 1
        if not pairs:
            continue
        ends[district[u]] += 1
        ends[district[v]] += 1
        same = district[u] == district[v]  # no branch on it: either way is as likely
        inside[district[u]] += same
        cross += not same
        goal_sum += goal_agreement_of(goals, u, v)
        value_sum += value_alignment_of(values, u, v)
    for u in range(n):
        start[u + 1] += start[u]
    triangles = np.zeros(n, np.int64)  # each triangle u < v < w found once, from u and its tie u-v
    mark = np.full(n, -1, np.int64)  # mark[w] == u: w is a later partner of u
    for u in range(n):
        if only_between and not node_in[u]:
            continue
        for i in range(start[u], start[u + 1]):
            if not only_between or node_in[b[i]]:
                mark[b[i]] = u
        for i in range(start[u], start[u + 1]):
            v = b[i]
            if mark[v] != u:
                continue  # a tie that is not counted
            found = 0
            for j in range(start[v], start[v + 1]):  # counted without a branch on the hit
                hit = mark[b[j]] == u
                found += hit
                triangles[b[j]] += hit
            triangles[u] += found
            triangles[v] += found
    count, clustering = 0, 0.0
    for v in range(n):
        if node_in[v]:
            count += 1
            if degree[v] > 1:
                clustering += 2.0 * triangles[v] / (degree[v] * (degree[v] - 1))
    clustering = clustering / count if count else np.nan
    if m == 0:
        return degree, 0, (0.0 if count else np.nan), np.nan, np.nan, np.nan, np.nan
    if not pairs:
        return degree, m, clustering, np.nan, np.nan, np.nan, np.nan
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
    "network_id", "network_type", "in_marketing_network", *CAPACITIES, "top_goal", "inspiration",
    "trust", "plan_quality",
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
def _month_outputs(s, a, b, em, month):  # pragma: no cover - compiled
    """Every output of :data:`OUTPUT_TABLE`, by name, and each group's degree.

    ``s`` is the state's :class:`~netsim.state.StateArrays`, ``(a, b)`` the tie list (sorted,
    no spare room) and ``em`` the month's :class:`~netsim.processes.emergence.Emergence`.
    """
    n = len(s.participating)
    nets = em.networks
    degree, ties, clustering, modularity, cross, goal_align, value_align = _graph_measures(
        n, a, b, s.participating, True, s.district, s.goals, s.values)
    counted, m, network_clustering = _graph_measures(n, em.ties_a, em.ties_b, s.participating, True,
                                                     s.district, s.goals, s.values, False)[:3]
    p, districts, means = _group_means(s.participating, s.district, s.inspiration, s.trust,
                                       s.plan_quality, s.revisions, s.network_type >= STRUCTURED)
    counts = np.zeros(SHARED_IDEOLOGY + 1, np.int64)
    alive, age = 0, 0.0
    for slot in range(n):
        if s.forum_formed[slot] >= 0:
            counts[s.forum_type[slot]] += 1
            alive += 1
            age += month - s.forum_formed[slot]
    isolated = 0
    for v in range(n):
        if s.participating[v] and counted[v] == 0:
            isolated += 1
    # (numba needs each value computed before the call, not inline)
    density = ties / (p * (p - 1) / 2) if p > 1 else np.nan
    network_density = m / (p * (p - 1) / 2) if p > 1 else np.nan
    isolated_share = isolated / p if p else np.nan
    mean_degree = 2.0 * ties / p if p else np.nan
    largest_cluster = float(nets.cluster_size.max()) if p else 0.0
    marketing_network = 1.0 if em.marketing_districts > 0 else 0.0
    network_age = age / alive if alive else np.nan
    outputs = MonthOutputs(
        participants=float(p),
        districts=float(districts),
        ties=float(ties),
        density=density,
        mean_degree=mean_degree,
        clustering=clustering,
        largest_cluster=largest_cluster,
        modularity=modularity,
        cross_district_tie_share=cross,
        network_ties=float(m),
        joint_activity=float(em.joint_activity),
        joint_marketing=float(em.joint_marketing),
        network_density=network_density,
        network_clustering=network_clustering,
        isolated_share=isolated_share,
        networks=float(alive),
        loose=float(counts[LOOSE]),
        structured=float(counts[STRUCTURED]),
        shared_ideology=float(counts[SHARED_IDEOLOGY]),
        networks_formed=float(em.formed),
        networks_dissolved=float(em.dissolved),
        network_age=network_age,
        marketing_network=marketing_network,
        marketing_network_districts=float(em.marketing_districts),
        marketing_network_age=float(em.marketing_age),
        mean_inspiration=means[0],
        mean_trust=means[1],
        mean_plan_quality=means[2],
        revised_plan_share=means[3],
        goal_alignment=goal_align,
        value_alignment=value_align,
        structured_share=means[4],
    )
    return outputs, degree


@numba.njit(cache=True)
def write_outputs(out, s, a, b, em, month):  # pragma: no cover - compiled
    """Write every output into ``out`` (in :data:`OUTPUTS` order) and each group's degree into ``s``."""
    outputs, degree = _month_outputs(s, a, b, em, month)
    s.degree[:] = degree
    for i in range(len(outputs)):
        out[i] = outputs[i]
    return out


def outputs_dict(row: np.ndarray) -> dict[str, float | int]:
    """A row written by :func:`write_outputs` as ``{output: value}`` (counts as integers)."""
    return {name: int(x) if name in INTEGER_OUTPUTS else x
            for name, x in zip(OUTPUTS, row.tolist(), strict=True)}


def monthly_outputs(state: GroupState, em: Emergence, month: int) -> dict[str, float]:
    """Every model-level output of ``month`` (see :data:`OUTPUTS`), after its emergence step ``em``."""
    t = state.ties
    return outputs_dict(write_outputs(np.empty(len(OUTPUTS)), state.arrays(), t.a, t.b, em, month))


def group_outputs(state: GroupState, marketing_months: int) -> dict[str, np.ndarray]:
    """Every per-group output (see :data:`GROUP_OUTPUTS`), one array each, read from the state.

    ``in_marketing_network`` is whether the group's network forum is a cross-district marketing
    network: its joint marketing has spanned enough districts for ``marketing_months``
    months in a row (``emergence.marketing_months``; :mod:`netsim.processes.emergence`).
    The groups file's ``name`` and extra columns follow, as text (``GroupFeatures.labels``).
    """
    f = state.features
    forum = state.network_id
    in_forum = forum >= 0
    marketing = np.zeros(state.n, np.bool_)
    marketing[in_forum] = state.forum_marketing[forum[in_forum]] >= marketing_months
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
        "in_marketing_network": marketing,
        **{c: state.capacities[:, j] for j, c in enumerate(CAPACITIES)},
        "top_goal": np.asarray(GOALS, dtype=object)[state.goals.argmax(axis=1)],
        "inspiration": state.inspiration,
        "trust": state.trust,
        "plan_quality": state.plan_quality,
    }
    # the groups file's name and extra columns pass through, after the model's own outputs
    return {**{name: columns[name] for name in GROUP_OUTPUTS}, **f.labels}


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
        columns = group_outputs(model.state, model.params.emergence.marketing_months)
        self._group_parts.append({"month": np.full(model.state.n, model.month, np.int64),
                                  **{name: np.array(values) for name, values in columns.items()}})
