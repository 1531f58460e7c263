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
                "command": ["test"]})
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
