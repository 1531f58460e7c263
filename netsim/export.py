"""Networks out of the model: the ties between participants as a graph for networkx and Gephi.

A network is read from one run at one month: the participating groups as nodes, with
their attributes from the per-group table (id, name, district, kind, registered, origin,
network id and type, capacities, trust, ...; a groups file's extra columns too), and the
ties between them as edges (strength, kind, month formed). :func:`tie_table` takes the
ties from a model's state (what ``netsim batch --keep-ties`` stores for each run's final
month), :func:`network_graph` joins a group table and a tie table into a
:class:`networkx.Graph`, and :func:`write_network` writes it as GraphML or GEXF (both read
by networkx and Gephi) or as two CSV tables, nodes and edges.

Example:
    >>> from netsim import NetworkModel
    >>> model = NetworkModel(rng=1, run_months=6)
    >>> model.run_model()
    >>> graph = network_graph(model.group_table(), model.tie_table())
    >>> graph.number_of_nodes() == model.outputs["participants"]
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from netsim.store import write_bytes_atomic, write_csv
from netsim.ties import TIE_KINDS

if TYPE_CHECKING:
    import networkx as nx

    from netsim.state import GroupState

__all__ = ["FORMATS", "TIE_COLUMNS", "csv_paths", "network_graph", "tie_table", "write_network"]

#: The columns of a tie table: the two groups' ids, then the edge attributes.
TIE_COLUMNS: tuple[str, ...] = ("group_a", "group_b", "strength", "kind", "formed")
#: The formats :func:`write_network` writes.
FORMATS: tuple[str, ...] = ("graphml", "gexf", "csv")
#: Per-group columns that are not node attributes (the month and identity of the run).
_NOT_ATTRIBUTES = ("month", "scenario", "replicate", "seed", "run_id", "participating", "group_id")


def tie_table(state: GroupState) -> dict[str, np.ndarray]:
    """The ties between participating groups, as columns (:data:`TIE_COLUMNS`).

    Ties of a group that takes no part (say, a member group tied to its cooperative
    before the project) are left out, as the monthly measures leave them out.
    """
    t = state.ties
    keep = state.participating[t.a] & state.participating[t.b]
    ids = np.asarray(state.features.group_id, dtype=object)
    return {
        "group_a": ids[t.a[keep]],
        "group_b": ids[t.b[keep]],
        "strength": t.strength[keep].copy(),
        "kind": np.asarray(TIE_KINDS, dtype=object)[t.kind[keep]],
        "formed": t.formed[keep].astype(np.int64),
    }


def _native(value: Any) -> Any:
    """A value GraphML and GEXF can hold: a Python bool, int, float or str (never None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return value


#: Node attributes the export writes itself (``id`` is the CSV nodes table's first column).
_EXPORT_OWN = frozenset({"label", "id"})


def network_graph(groups: pd.DataFrame, ties: pd.DataFrame | dict[str, np.ndarray]) -> nx.Graph:
    """The network of one run at one month as a graph.

    Args:
        groups: The per-group table of that month (one row a group; only participating
            groups become nodes, if the table says who participates).
        ties: The tie table of that month (:data:`TIE_COLUMNS`).

    Returns:
        An undirected graph: nodes named by ``group_id`` with every other per-group
        column as an attribute, and ``name`` and ``label`` (the groups file's name, or the
        id); edges with ``strength`` (also as ``weight``), ``kind`` and ``formed``. A
        groups file's own column named like the export's (``label``, ``id``) is kept as
        ``survey_label``, ``survey_id``.
    """
    import networkx as nx

    groups = groups.reset_index(drop=True)
    if "participating" in groups:
        groups = groups[groups["participating"].astype(bool)]
    ties = pd.DataFrame(ties)
    graph = nx.Graph()
    attributes = [c for c in groups.columns if c not in _NOT_ATTRIBUTES]
    renamed = {c: f"survey_{c}" if c in _EXPORT_OWN else c for c in attributes}
    for row in groups.to_dict("records"):
        node = {renamed[c]: _native(row[c]) for c in attributes}
        node["name"] = str(node.get("name", "") or "") or str(row["group_id"])  # the survey's, or the id
        graph.add_node(str(row["group_id"]), label=node["name"], **node)
    for a, b, strength, kind, formed in ties[list(TIE_COLUMNS)].itertuples(index=False):
        graph.add_edge(str(a), str(b), strength=float(strength), weight=float(strength), kind=str(kind),
                       formed=int(formed))
    return graph


def csv_paths(out: Path) -> tuple[Path, Path]:
    """Where the ``csv`` format writes: ``OUT-nodes.csv`` and ``OUT-edges.csv`` beside ``out``."""
    stem = out.name[: -len(out.suffix)] if out.suffix.lower() == ".csv" else out.name
    return out.with_name(f"{stem}-nodes.csv"), out.with_name(f"{stem}-edges.csv")


def write_network(graph: nx.Graph, out: Path, fmt: str) -> list[Path]:
    """Write ``graph`` as GraphML, GEXF or CSV (a nodes and an edges table); return the files.

    Raises:
        ValueError: A format not in :data:`FORMATS`.
    """
    import networkx as nx

    out = Path(out)
    if fmt == "graphml":
        write_bytes_atomic(out, lambda tmp: nx.write_graphml(graph, tmp, encoding="utf-8"))
        return [out]
    if fmt == "gexf":
        write_bytes_atomic(out, lambda tmp: nx.write_gexf(graph, tmp, encoding="utf-8"))
        return [out]
    if fmt == "csv":
        nodes_path, edges_path = csv_paths(out)
        nodes = pd.DataFrame([{"id": v, **d} for v, d in graph.nodes(data=True)])
        edges = pd.DataFrame([{"source": u, "target": v, **d} for u, v, d in graph.edges(data=True)],
                             columns=["source", "target", "weight", "strength", "kind", "formed"])
        write_csv(nodes_path, nodes)
        write_csv(edges_path, edges)
        return [nodes_path, edges_path]
    raise ValueError(f"format {fmt!r}: one of {', '.join(FORMATS)}")
