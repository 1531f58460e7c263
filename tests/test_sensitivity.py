"""Sensitivity analysis: bounds from the schema, runs through the batch store, indices out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from netsim import batch as nb
from netsim import sensitivity as sa
from netsim.cli import cli
from netsim.engines import make_engine
from netsim.scenario import parameters, spec
from netsim.store import ResultStore

BASELINE = str(Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_bounds_come_from_the_schema():
    specs = sa.select_params(["forum.tie_gain", "forum.candidates", "forum.start_month"])
    prob = sa.problem(specs)
    assert prob["names"] == ["forum.tie_gain", "forum.candidates", "forum.start_month"]
    # the declared plausible span where there is one, else the allowed range
    assert prob["bounds"] == [list(spec("forum.tie_gain").span), list(spec("forum.candidates").span),
                              [spec("forum.start_month").low, spec("forum.start_month").high]]
    X = sa.design(specs, "sobol", samples=8, seed=1)
    assert X.shape == (8 * 5, 3)
    for j, s in enumerate(specs):
        lo, hi = s.bounds
        assert X[:, j].min() >= lo and X[:, j].max() <= hi


def test_default_params_are_the_mechanisms():
    keys = [s.key for s in sa.default_params()]
    assert "forum.tie_gain" in keys and "decay.rate" in keys
    assert not any(k.startswith("run.") for k in keys)
    assert "forum.start_month" not in keys and "emergence.marketing_min_districts" not in keys
    assert all(spec(k).span is not None for k in keys)
    assert all(spec(k).kind in ("int", "float") for k in keys)
    # the observer's thresholds only on request: they change what is counted, not what happens
    assert not any(k.startswith("emergence.") for k in keys)
    marked = {s.key for s in parameters() if s.defines_outcome}
    assert "emergence.ideology_threshold" in marked and not marked & set(keys)
    with_thresholds = [s.key for s in sa.default_params(thresholds=True)]
    assert "emergence.ideology_threshold" in with_thresholds and set(keys) < set(with_thresholds)


@pytest.mark.parametrize(("params", "says"), [
    (["forum.nope"], "unknown parameter"),
    (["forum.topic"], "only numbers with a declared range"),
    (["decay.rate", "decay.rate"], "given twice"),
])
def test_bad_params(params, says):
    with pytest.raises(nb.BatchError, match=says):
        sa.select_params(params)


def test_morris_from_the_command_line(tmp_path):
    out = tmp_path / "m"
    r = invoke("sensitivity", BASELINE, "--method", "morris", "--samples", "3",
               "--params", "forum.tie_gain,decay.rate,followup.visits_per_month", "--months", "6",
               "--workers", "1", "--quiet", "--out", str(out))
    assert r.exit_code == 0, r.output
    idx = pd.read_csv(out / "indices.csv")
    assert set(idx["parameter"]) == {"forum.tie_gain", "decay.rate", "followup.visits_per_month"}
    assert set(idx["output"]) == {"structured_share", "cross_district_tie_share"}
    assert {"mu", "mu_star", "sigma", "mu_star_conf"} <= set(idx.columns)
    assert idx["mu_star"].notna().all() and (idx["mu_star"] >= 0).all()
    assert idx["mu_star"].gt(0).any()  # the outputs respond to something
    assert (out / "sensitivity.png").stat().st_size > 10_000 and (out / "sensitivity.svg").exists()
    # the runs went through the batch store: one per distinct sample point
    store = ResultStore(out)
    runs = store.read("runs")
    assert 1 < len(runs) <= 3 * 4 and runs["run_id"].is_unique
    assert store.manifest_or_disk()["plan"]["kind"] == "sensitivity"
    assert {"forum.tie_gain", "decay.rate", "followup.visits_per_month"} <= set(runs.columns)
    # running it again resumes (nothing to redo) and gives the same indices
    r2 = invoke("sensitivity", BASELINE, "--method", "morris", "--samples", "3",
                "--params", "forum.tie_gain,decay.rate,followup.visits_per_month", "--months", "6",
                "--workers", "1", "--quiet", "--out", str(out))
    assert r2.exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "indices.csv"), idx)


def test_sobol_indices_for_the_requested_outputs(tmp_path, baseline):
    specs = sa.select_params(["interaction.activity_rate", "decay.rate"])
    X = sa.design(specs, "sobol", samples=4, seed=2)
    sc = baseline.with_overrides({"run.months": 5})
    plan = sa.plan(sc, specs, X, method="sobol", samples=4, seed=2)
    ctx = nb.RunContext.for_plan(plan)
    store = ResultStore(tmp_path / "s")
    nb.run_batch(plan, store, make_engine(ctx, workers=2), command=["test"])
    Y, missing = sa.responses(store, specs, X, ["mean_degree", "ties"])
    assert Y.shape == (len(X), 2) and not np.isnan(Y).any()
    idx = sa.analyse(specs, "sobol", X, Y, ["mean_degree", "ties"], seed=2)
    assert len(idx) == 4 and {"S1", "S1_conf", "ST", "ST_conf"} <= set(idx.columns)
    assert set(idx["output"]) == {"mean_degree", "ties"}
    fig = sa.chart(idx, "sobol")
    assert fig.axes[0].get_xlabel().startswith("share of the output")


@pytest.mark.parametrize(("extra", "says"), [
    (["--params", "forum.topic"], "declared range"),
    (["--output", "happiness"], "not a model output"),
    (["--samples", "1"], "--samples"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, extra, says):
    out = tmp_path / "o"
    args = ["sensitivity", BASELINE, "--method", "morris", "--samples", "2", "--params", "decay.rate",
            "--quiet", "--out", str(out)]
    r = invoke(*args, *extra)
    assert r.exit_code == 2 and says in r.stderr
    assert not out.exists()
