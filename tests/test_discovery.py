"""Scenario discovery: PRIM finds the parameter range an outcome depends on."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from netsim import discovery
from netsim.batch import BatchError
from netsim.cli import cli
from netsim.store import ChunkResult, ResultStore
from netsim.version import model_version


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), buf)
    return buf.getvalue()


def synthetic_sweep(out: Path, *, marketing_from: int | None = 8, n: int = 400, seed: int = 0) -> Path:
    """A store of a sweep where a marketing network forms iff forum.interval >= marketing_from
    (decay.rate and the scenario play no part), in two chunks, as a batch writes it."""
    rng = np.random.default_rng(seed)
    interval = rng.integers(0, 13, n)
    rate = rng.uniform(0.0, 0.5, n).round(3)
    marketing = (interval >= marketing_from).astype(int) if marketing_from is not None else np.zeros(n, int)
    ids = [f"{i:016x}" for i in range(n)]
    ident = pd.DataFrame({"scenario": np.where(np.arange(n) % 2, "baseline", "forums_only"),
                          "forum.interval": interval, "decay.rate": rate, "replicate": 0,
                          "seed": np.arange(n), "run_id": ids})
    months = []
    for month in (0, 6):
        final = month == 6
        months.append(ident.assign(month=month, structured=0, shared_ideology=0,
                                   marketing_network=marketing if final else 0))
    monthly = pd.concat(months, ignore_index=True)
    store = ResultStore(out)
    store.open({"plan": {"sha256": "synthetic", "inputs": ["forum.interval", "decay.rate"]},
                "command": ["test"], "model_version": model_version()})
    for part, rows in enumerate((slice(0, n // 2), slice(n // 2, n))):
        these = ident.iloc[rows]
        store.write_chunk(ChunkResult(f"{part:016x}", {
            "monthly": _parquet(monthly[monthly["run_id"].isin(these["run_id"])]),
            "runs": _parquet(these.assign(status="ok", error="")),
        }, list(these["run_id"])))
    store.finish("complete")
    store.close()
    return out


def test_prim_finds_the_one_parameter_that_matters():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 500), "b": rng.uniform(0, 1, 500), "c": rng.integers(0, 5, 500)})
    y = (x["a"] > 0.6).to_numpy()
    found = discovery.discover(x, y)
    assert list(found.limits["parameter"]) == ["a"]
    assert found.limits["low"].iloc[0] == pytest.approx(0.6, abs=0.05)
    assert found.coverage >= 0.9 and found.density >= 0.95
    assert found.cases == y.sum() and found.runs == 500


def test_outcomes_are_read_at_the_final_month(tmp_path):
    store = ResultStore(synthetic_sweep(tmp_path / "s"))
    x, y = discovery.outcome_table(store, "marketing")
    assert list(x.columns) == ["scenario_name", "forum.interval", "decay.rate"]
    assert len(x) == 400 and y.sum() == (x["forum.interval"] >= 8).sum()
    with pytest.raises(BatchError, match="no run of 400 had the outcome"):
        discovery.discover(*discovery.outcome_table(store, "structured"))


def test_discover_command_names_the_box(tmp_path):
    results = synthetic_sweep(tmp_path / "s")
    r = invoke("discover", str(results), "--outcome", "marketing")
    assert r.exit_code == 0, r.output
    assert "coverage" in r.stdout and "density" in r.stdout
    assert "forum.interval: 8 to 12" in r.stdout
    assert "decay.rate" not in r.stdout
    box = pd.read_csv(results / "discovery" / "discovery-marketing.csv")
    assert list(box["parameter"]) == ["forum.interval"] and box["low"].iloc[0] == 8
    assert box["density"].iloc[0] == 1.0 and box["coverage"].iloc[0] == 1.0
    assert (results / "discovery" / "discovery-marketing.png").stat().st_size > 10_000
    assert (results / "discovery" / "discovery-marketing.svg").exists()


def test_discover_bad_input(tmp_path):
    r = invoke("discover", str(tmp_path), "--outcome", "marketing")
    assert r.exit_code == 2 and "not a netsim results folder" in r.stderr
    results = synthetic_sweep(tmp_path / "none", marketing_from=None)
    r = invoke("discover", str(results), "--outcome", "marketing")
    assert r.exit_code == 2 and "no run of 400 had the outcome" in r.stderr
    assert not (results / "discovery").exists()


def store_of(out: Path, ident: pd.DataFrame, inputs: list[str], marketing: np.ndarray, *,
             scenarios: dict[str, dict] | None = None, trust: np.ndarray | None = None) -> Path:
    """A store whose runs are the rows of ``ident``; ``marketing`` is runs x months (0/1)."""
    n, months = marketing.shape
    ident = ident.assign(replicate=0, seed=np.arange(n), run_id=[f"{i:016x}" for i in range(n)])
    monthly = pd.concat([ident.assign(month=m, structured=0, shared_ideology=0, loose=1,
                                      marketing_network=marketing[:, m],
                                      mean_trust=trust[:, m] if trust is not None else 0.0)
                         for m in range(months)], ignore_index=True)
    plan = {"sha256": "synthetic", "inputs": inputs,
            "scenarios": [{"name": k, "parameters": v} for k, v in (scenarios or {}).items()]}
    store = ResultStore(out)
    store.open({"plan": plan, "command": ["test"], "model_version": model_version()})
    store.write_chunk(ChunkResult("0" * 16, {"monthly": _parquet(monthly),
                                             "runs": _parquet(ident.assign(status="ok", error=""))},
                                  list(ident["run_id"])))
    store.finish("complete")
    store.close()
    return out


SCENARIOS = {"baseline": {"forum.scope": "district", "forum.topic": "general", "decay.rate": 0.1},
             "forums_only": {"forum.scope": "district", "forum.topic": "general", "decay.rate": 0.1},
             "province_forum": {"forum.scope": "province", "forum.topic": "general", "decay.rate": 0.1},
             "marketing_forum": {"forum.scope": "province", "forum.topic": "marketing", "decay.rate": 0.1}}


def test_discover_over_several_scenarios_restricts_the_scenario(tmp_path):
    # 9 scenarios' worth of names, where only the province-wide ones give a marketing network:
    # PRIM must restrict the scenario column (a set of names), which once crashed EMA under pandas 3
    rng = np.random.default_rng(3)
    names = rng.choice(list(SCENARIOS), 400)
    hit = np.isin(names, ["province_forum", "marketing_forum"]) & (rng.random(400) < 0.9)
    results = store_of(tmp_path / "s", pd.DataFrame({"scenario": names}), [],
                       np.stack([np.zeros(400, int), hit.astype(int)], axis=1), scenarios=SCENARIOS)
    x, y = discovery.outcome_table(ResultStore(results), "marketing")
    assert list(x.columns) == ["scenario_name", "forum.scope", "forum.topic"]  # decay.rate never differs
    found = discovery.discover(x, y)
    assert found.density > 0.85 and found.coverage > 0.9
    kept = found.limits.set_index("parameter")["low"]
    assert any(isinstance(v, frozenset) and set(v) <= {"province", "province_forum", "marketing_forum"}
               for v in kept)
    r = invoke("discover", str(results), "--outcome", "marketing")
    assert r.exit_code == 0, r.output
    box = pd.read_csv(results / "discovery" / "discovery-marketing.csv")
    assert box["low"].str.contains("province").any()


def test_discover_over_text_valued_sweeps(tmp_path):
    rng = np.random.default_rng(4)
    policies = ["random", "weakest", "least_trusted", "bridge"]
    ident = pd.DataFrame({"scenario": "baseline", "followup.policy": rng.choice(policies, 400),
                          "forum.scope": rng.choice(["district", "province"], 400)})
    hit = (ident["forum.scope"] == "province") & (ident["followup.policy"] != "random")
    results = store_of(tmp_path / "s", ident, ["followup.policy", "forum.scope"],
                       np.stack([np.zeros(400, int), hit.astype(int)], axis=1))
    found = discovery.discover_in(str(results), "marketing")
    limits = found.limits.set_index("parameter")["low"]
    assert limits["forum.scope"] == frozenset({"province"})
    assert limits["followup.policy"] == frozenset({"weakest", "least_trusted", "bridge"})
    assert found.density == 1.0 and found.coverage == 1.0 and not found.warnings
    r = invoke("discover", str(results), "--outcome", "marketing")
    assert r.exit_code == 0, r.output
    assert "forum.scope: province" in r.stdout


def test_discover_reads_the_outcome_over_the_months(tmp_path):
    # marketing networks form at month 2 where forum.interval >= 8, and are gone by the end
    rng = np.random.default_rng(5)
    interval = rng.integers(0, 13, 300)
    marketing = np.zeros((300, 6), int)
    marketing[interval >= 8, 2] = 1
    marketing[(interval >= 10), 2:5] = 1
    trust = np.tile(np.linspace(0.2, 0.5, 6), (300, 1))
    trust[interval <= 3, 5] = 0.7
    results = store_of(tmp_path / "s", pd.DataFrame({"scenario": "baseline", "forum.interval": interval}),
                       ["forum.interval"], marketing, trust=trust)
    with pytest.raises(BatchError, match="no run of 300 had the outcome"):
        discovery.discover_in(str(results), "marketing")
    ever = discovery.discover_in(str(results), "marketing", "ever").limits.iloc[0]
    assert (ever["low"], ever["high"]) == (8, 12)
    lasting = discovery.discover_in(str(results), "marketing", "for:3").limits.iloc[0]
    assert (lasting["low"], lasting["high"]) == (10, 12)
    with pytest.raises(BatchError, match="no run of 300"):
        discovery.discover_in(str(results), "marketing", "by:1")
    trusting = discovery.discover_in(str(results), "mean_trust>=0.6").limits.iloc[0]
    assert (trusting["low"], trusting["high"]) == (0, 3)
    r = invoke("discover", str(results), "--outcome", "marketing", "--reading", "for:3")
    assert r.exit_code == 0 and "for at least 3 consecutive months" in r.stdout
    assert (results / "discovery" / "discovery-marketing-for_3.csv").exists()
    for bad, says in ((("--outcome", "mean_trust>>0.6"), "a threshold on a monthly output"),
                      (("--outcome", "marketing", "--reading", "for:0"), "K of at least 1"),
                      (("--outcome", "nonsense>=1"), "not a monthly output")):
        r = invoke("discover", str(results), *bad)
        assert r.exit_code == 2 and says in r.stderr, r.stderr


def test_discover_warns_when_too_few_runs_have_the_outcome(tmp_path):
    interval = np.arange(400) % 13
    hit = np.zeros(400, int)
    hit[[5, 18, 31]] = 1  # three runs of 400, all at forum.interval 5
    results = store_of(tmp_path / "s", pd.DataFrame({"scenario": "baseline", "forum.interval": interval}),
                       ["forum.interval"], np.stack([np.zeros(400, int), hit], axis=1))
    found = discovery.discover_in(str(results), "marketing")
    assert found.cases == 3
    assert any("only 3 of 400 runs had the outcome" in w for w in found.warnings)
    assert any("zero width in forum.interval" in w for w in found.warnings)
    r = invoke("discover", str(results), "--outcome", "marketing")
    assert r.exit_code == 0 and "warning: only 3 of 400" in r.stderr
