from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from netsim import NetworkModel
from netsim import batch as nb
from netsim.cli import cli
from netsim.engines import InProcessEngine
from netsim.export import csv_paths, network_graph, write_network
from netsim.store import ResultStore


@pytest.fixture(scope="module")
def model(baseline):
    m = NetworkModel(scenario=baseline, rng=4, run_months=18)
    m.run_model()
    return m


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_export_round_trips_through_networkx_with_its_attributes(tmp_path, model, fmt):
    graph = network_graph(model.group_table(), model.tie_table())
    path = tmp_path / f"net.{fmt}"
    write_network(graph, path, fmt)
    back = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    assert set(back.nodes) == set(graph.nodes) and back.number_of_edges() == graph.number_of_edges()
    groups = model.group_table().set_index("group_id")
    for v, d in back.nodes(data=True):
        row = groups.loc[v]
        assert d["district"] == row["district"] and d["kind"] == row["kind"]
        assert d["network_type"] == row["network_type"] and int(d["network_id"]) == row["network_id"]
        assert d["origin"] == row["origin"] and bool(d["registered"]) == bool(row["registered"])
        assert d["name"] == d["label"] == v  # the baseline file has no names: the id stands in
        assert math.isclose(float(d["trust"]), row["trust"]) and math.isclose(float(d["leadership"]),
                                                                              row["leadership"])
    ties = model.tie_table()
    kinds = {frozenset((a, b)): (s, k, f) for a, b, s, k, f in ties.itertuples(index=False)}
    for u, v, d in back.edges(data=True):
        strength, kind, formed = kinds[frozenset((u, v))]
        assert math.isclose(float(d["strength"]), strength)
        assert d["kind"] == kind and int(d["formed"]) == formed
    assert {d["kind"] for _, _, d in back.edges(data=True)} >= {"exchange"}


def test_the_models_measures_equal_networkx_on_the_exported_graph(tmp_path, model):
    # The export is the network at the end of the month, after that month's decay; the
    # month's outputs are measured before decay (docs/odd.md), so a tie that wore away at
    # the end of the month is in the outputs but not in the export. The model's own measure
    # functions, applied to the state the export reads, must equal networkx's on the file.
    from netsim.measures import average_clustering, district_modularity

    path = tmp_path / "net.graphml"
    write_network(network_graph(model.group_table(), model.tie_table()), path, "graphml")
    g = nx.read_graphml(path)
    st = model.state
    t = st.ties
    keep = st.participating[t.a] & st.participating[t.b]
    a, b = t.a[keep], t.b[keep]
    nodes = np.flatnonzero(st.participating)
    assert len(a) > 10  # a network worth measuring
    assert g.number_of_nodes() == len(nodes) == model.outputs["participants"]
    assert g.number_of_edges() == len(a) <= model.outputs["ties"]
    assert math.isclose(nx.average_clustering(g), average_clustering(st.n, a, b, nodes))
    districts = {}
    for v, d in g.nodes(data=True):
        districts.setdefault(d["district"], set()).add(v)
    assert math.isclose(nx.community.modularity(g, list(districts.values()), weight=None),
                        district_modularity(a, b, st.district))
    cross = sum(g.nodes[u]["district"] != g.nodes[v]["district"] for u, v in g.edges)
    assert cross == int((st.district[a] != st.district[b]).sum())
    assert len({d["district"] for _, d in g.nodes(data=True)}) == model.outputs["districts"]


def test_csv_export_writes_a_nodes_and_an_edges_table(tmp_path, model):
    nodes_path, edges_path = csv_paths(tmp_path / "net.csv")
    write_network(network_graph(model.group_table(), model.tie_table()), tmp_path / "net.csv", "csv")
    nodes, edges = pd.read_csv(nodes_path), pd.read_csv(edges_path)
    assert len(nodes) == model.outputs["participants"] and len(edges) == len(model.tie_table()["group_a"])
    assert {"id", "label", "district", "network_type", "trust"} <= set(nodes.columns)
    assert list(edges.columns[:3]) == ["source", "target", "weight"]
    assert set(edges["source"]) | set(edges["target"]) <= set(nodes["id"])


def test_export_command_keeps_a_surveys_thai_names_and_extra_columns(tmp_path, thai_survey):
    survey = tmp_path / "survey.csv"
    survey.write_text(thai_survey, encoding="utf-8")
    out = tmp_path / "net.graphml"
    result = CliRunner().invoke(cli, ["export", "scenarios/baseline.toml", "--groups", str(survey), "--set",
                                      "recruitment.enabled=false", "--month", "4", "--format", "graphml",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    g = nx.read_graphml(out)
    assert g.nodes["C1"]["label"] == g.nodes["C1"]["name"] == "สหกรณ์การเกษตรยางตลาด"
    assert g.nodes["U1"]["village"] == "บ้านโนน"
    assert g.nodes["C1"]["district"] == "ยางตลาด" and g.nodes["U1"]["phone"] == "081-234-5678"
    result = CliRunner().invoke(cli, ["export", "scenarios/baseline.toml", "--groups", str(survey), "--set",
                                      "recruitment.enabled=false", "--format", "csv", "--out",
                                      str(tmp_path / "net.csv")])
    assert result.exit_code == 0, result.output
    nodes = pd.read_csv(tmp_path / "net-nodes.csv", dtype=str, keep_default_na=False).set_index("id")
    assert nodes.loc["C1", "notes"] == "'=1+1"  # a formula-like cell neutralised
    assert nodes.loc["U1", "label"] == "กลุ่มทอผ้าไหม"


def test_a_surveys_own_label_and_id_columns_are_kept_beside_the_exports(tmp_path, thai_survey):
    lines = thai_survey.split("\r\n")
    lines = [lines[0] + ",label,id"] + [f"{line},ป้าย {i},S{i}" for i, line in enumerate(lines[1:-1])]
    survey = tmp_path / "survey.csv"
    survey.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    for fmt, out in (("gexf", tmp_path / "net.gexf"), ("csv", tmp_path / "net.csv")):
        result = CliRunner().invoke(cli, ["export", "scenarios/baseline.toml", "--groups", str(survey),
                                          "--set", "recruitment.enabled=false", "--format", fmt,
                                          "--out", str(out)])
        assert result.exit_code == 0, result.output
    g = nx.read_gexf(tmp_path / "net.gexf")
    assert g.nodes["U1"]["label"] == "กลุ่มทอผ้าไหม" and g.nodes["U1"]["survey_label"] == "ป้าย 2"
    nodes = pd.read_csv(tmp_path / "net-nodes.csv", dtype=str, keep_default_na=False)
    assert list(nodes["id"]) == list(g.nodes) and list(nodes["survey_id"]) == ["S0", "S1", "S2"]


def test_a_batch_that_keeps_ties_exports_a_stored_run(tmp_path, baseline):
    sc = baseline.with_overrides({"run.months": 6})
    plan = nb.make_plan([sc], replicates=2, seed=3, keep_ties=True)
    store = ResultStore(tmp_path / "res")
    nb.run_batch(plan, store, InProcessEngine(nb.RunContext.for_plan(plan)))
    ties = ResultStore(tmp_path / "res").read("ties")
    assert set(ties["run_id"]) == {r.run_id for r in plan.runs}
    run = plan.runs[1]
    again = NetworkModel(scenario=sc, rng=run.seed)
    again.run_model()  # the stored ties are the run's own, reproduced from its seed
    assert len(ties[ties["run_id"] == run.run_id]) == again.outputs["ties"]
    out = tmp_path / "stored.gexf"
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "res"), "--run", run.run_id,
                                      "--format", "gexf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    g = nx.read_gexf(out)
    assert g.number_of_edges() == again.outputs["ties"]
    assert g.number_of_nodes() == again.outputs["participants"]
    bad = CliRunner().invoke(cli, ["export", str(tmp_path / "res"), "--format", "gexf", "--out", str(out)])
    assert bad.exit_code == 2 and "--run is needed" in bad.stderr and run.run_id[:6] in bad.stderr


def test_export_refuses_a_batch_without_ties(tmp_path, baseline):
    plan = nb.make_plan([baseline.with_overrides({"run.months": 2})], replicates=1, seed=3)
    nb.run_batch(plan, ResultStore(tmp_path / "res"), InProcessEngine(nb.RunContext.for_plan(plan)))
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "res"), "--format", "csv", "--out",
                                      str(tmp_path / "n.csv")])
    assert result.exit_code == 2 and "--keep-ties" in result.stderr
    assert not (tmp_path / "n-nodes.csv").exists()
