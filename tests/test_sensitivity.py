"""Sensitivity analysis: bounds from the schema, runs through the batch store, indices out."""

from __future__ import annotations

import zlib
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
    assert prob["names"] == ["forum.tie_gain", "forum.candidates", "forum.start_month", sa.DUMMY]
    # the declared plausible span where there is one, else the allowed range; the dummy on [0, 1]
    assert prob["bounds"] == [list(spec("forum.tie_gain").span), list(spec("forum.candidates").span),
                              [spec("forum.start_month").low, spec("forum.start_month").high], [0.0, 1.0]]
    X = sa.design(specs, "sobol", samples=8, seed=1)
    assert X.shape == (8 * 6, 4)
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
    # the observer's thresholds only on request; the network forums' own mechanisms are in
    assert {k for k in keys if k.startswith("emergence.")} == {
        "emergence.lapse_months", "emergence.dissolve_after", "emergence.meeting_gain",
        "emergence.leadership_gain"}
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
    assert set(idx["parameter"]) == {"forum.tie_gain", "decay.rate", "followup.visits_per_month", sa.DUMMY}
    assert set(idx["output"]) == {"structured_share", "cross_district_tie_share"}
    assert {"mu", "mu_star", "sigma", "mu_star_conf"} <= set(idx.columns)
    assert idx["mu_star"].notna().all() and (idx["mu_star"] >= 0).all()
    assert idx["mu_star"].gt(0).any()  # the outputs respond to something
    assert (out / "sensitivity.png").stat().st_size > 10_000 and (out / "sensitivity.svg").exists()
    assert (out / "mu_sigma.png").stat().st_size > 10_000 and (out / "mu_sigma.svg").exists()
    assert "noise floor (the dummy's mu_star)" in r.stdout
    # the runs went through the batch store: one per point of each trajectory
    store = ResultStore(out)
    runs = store.read("runs")
    assert len(runs) == 3 * 5 and runs["run_id"].is_unique
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
    Y, missing = sa.responses(store, plan, ["mean_degree", "ties"])
    assert Y.shape == (len(X), 2) and not np.isnan(Y).any()
    idx = sa.analyse(specs, "sobol", X, Y, ["mean_degree", "ties"], seed=2)
    assert len(idx) == 6
    assert {"S1", "S1_conf", "ST", "ST_conf", "noise_floor", "above_noise"} <= set(idx.columns)
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


def test_points_of_a_trajectory_share_their_random_numbers():
    specs = sa.select_params(["forum.tie_gain", "decay.rate"])
    X = sa.design(specs, "morris", samples=3, seed=1)
    plan = sa.plan(load_default(), specs, X, method="morris", samples=3, replicates=2)
    seeds = np.array([r.seed for r in plan.runs]).reshape(3, 4, 2)  # trajectories x points x replicates
    dummy = X[:, -1].reshape(3, 4)
    for t in range(3):
        for p in range(4):
            for q in range(4):
                same_dummy = dummy[t, p] == dummy[t, q]
                assert (seeds[t, p] == seeds[t, q]).all() == same_dummy  # only the dummy re-draws
        assert (seeds[t, :, 0] != seeds[t, :, 1]).all()  # replicates differ
    assert len({tuple(seeds[t, 0]) for t in range(3)}) == 3  # trajectories differ
    assert len({r.run_id for r in plan.runs}) == len(plan.runs)


def load_default():
    from netsim.scenario import Parameters, Scenario

    return Scenario("default", "The defaults.", Parameters())


def test_the_dummy_sets_a_noise_floor_that_a_parameter_without_effect_cannot_clear():
    # a made-up stochastic response: 1.0 x the first parameter, nothing of the second, and noise
    # that depends only on the run's random numbers (its stream)
    specs = sa.select_params(["forum.tie_gain", "decay.rate"])
    X = sa.design(specs, "morris", samples=20, seed=3)
    noise = {s: np.random.default_rng(zlib.crc32(s.encode())).normal(0, 0.05)
             for s in set(sa.streams(X, "morris"))}
    lo, hi = specs[0].bounds
    y = (X[:, 0] - lo) / (hi - lo) + np.array([noise[s] for s in sa.streams(X, "morris")])
    idx = sa.analyse(specs, "morris", X, y[:, None], ["made_up"], seed=3).set_index("parameter")
    assert idx.loc["decay.rate", "mu_star"] == 0  # same random numbers: no effect at all
    assert idx.loc[sa.DUMMY, "mu_star"] > 0.01  # chance alone
    assert idx.loc["forum.tie_gain", "above_noise"] and not idx.loc["decay.rate", "above_noise"]
    assert idx["noise_floor"].eq(idx.loc[sa.DUMMY, "mu_star"]).all()


def test_doubts_name_indices_whose_interval_is_as_large_as_they_are():
    idx = pd.DataFrame({"output": "o", "parameter": ["a", "b", sa.DUMMY], "mu_star": [0.5, 0.1, 0.2],
                        "mu_star_conf": [0.1, 0.15, 0.1], "noise_floor": 0.2,
                        "above_noise": [True, False, False], "ci_as_large": [False, True, False]})
    lines = sa.doubts(idx, "morris")
    assert len(lines) == 1 and "for 1 of 2 parameters (b)" in lines[0]
    lines = sa.doubts(idx.assign(above_noise=False), "morris")
    assert any("no parameter's index clears the noise floor" in line for line in lines)


def test_on_the_baseline_a_threshold_that_cannot_act_ranks_at_the_noise_floor(tmp_path, baseline):
    # emergence.ideology_threshold only classifies networks: it cannot change how many groups are
    # in structured networks. With common random numbers its elementary effects are exactly zero.
    specs = sa.select_params(["followup.visits_per_month", "forum.tie_gain", "emergence.ideology_threshold"])
    X = sa.design(specs, "morris", samples=6, seed=1)
    plan = sa.plan(baseline.with_overrides({"run.months": 18}), specs, X, method="morris", samples=6)
    store = ResultStore(tmp_path / "m")
    nb.run_batch(plan, store, make_engine(nb.RunContext.for_plan(plan), workers=1), command=["test"])
    Y, _ = sa.responses(store, plan, ["structured_share"])
    idx = sa.analyse(specs, "morris", X, Y, ["structured_share"]).set_index("parameter")
    assert idx.loc["emergence.ideology_threshold", "mu_star"] == 0
    assert not idx.loc["emergence.ideology_threshold", "above_noise"]
    assert idx.loc[sa.DUMMY, "mu_star"] > 0


def test_no_sample_of_the_spans_contradicts_the_schemas_rules():
    # sensitivity samples each parameter over its span independently: every corner of the box
    # of two spans must obey the rules that tie pairs of parameters together
    from itertools import product

    from netsim.scenario import CONSISTENCY

    spanned = {s.key: s.span for s in sa.default_params(thresholds=True)}
    for first, second, rule, words in CONSISTENCY:
        if first in spanned and second in spanned:
            for x, y in product(spanned[first], spanned[second]):
                assert rule(x, y), f"{first}={x}, {second}={y}: {words}"
