"""Batches: sweeps, seeds, engines (in-process, local processes, a real Dask cluster),
failures, bad input, and a batch killed with kill -9 and resumed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from netsim import NetworkModel, load_scenario
from netsim import batch as nb
from netsim.cli import cli
from netsim.engines import make_engine
from netsim.store import ResultStore, stored_versions
from netsim.version import model_version

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SC = {n: str(ROOT / "scenarios" / f"{n}.toml") for n in ("baseline", "forums_only", "followup_only",
                                                        "marketing_forum")}
SMALL = ("--months", "4", "--quiet")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def tables(out: Path) -> dict[str, pd.DataFrame]:
    store = ResultStore(out)
    runs = store.read("runs").drop(columns=["seconds"])
    return {"monthly": store.read("monthly"), "groups": store.read("groups"), "runs": runs}


# -- sweeps --------------------------------------------------------------------------------


def test_sweep_lists_and_ranges():
    assert nb.parse_sweep("forum.interval=2,4,6") == ("forum.interval", (2, 4, 6))
    assert nb.parse_sweep("forum.topic=general,marketing") == ("forum.topic", ("general", "marketing"))
    assert nb.parse_sweep("decay.rate=0:0.3:4") == ("decay.rate", (0.0, 0.1, 0.2, 0.3))
    assert nb.parse_sweep("forum.interval=0:12:4") == ("forum.interval", (0, 4, 8, 12))
    assert nb.parse_sweep("decay.rate=0.1:0.1:1") == ("decay.rate", (0.1,))
    key, values = nb.parse_sweep("forum.tie_gain=1")
    assert values == (1.0,) and isinstance(values[0], float)


@pytest.mark.parametrize(("text", "says"), [
    ("forum.intervall=2,4", "did you mean 'forum.interval'"),
    ("forum.interval=", "no values"),
    ("forum.interval=2,,4", "empty value"),
    ("forum.interval=6:2:3", "reversed range"),
    ("forum.interval=2:6:0", "empty range"),
    ("forum.interval=0:2:5", "more than once after rounding"),
    ("forum.interval=2,99", "outside the allowed range"),
    ("decay.rate=0:1.5:3", "outside the allowed range"),
    ("forum.interval=2.5", "not an integer"),
    ("forum.topic=general,sports", "one of"),
    ("recruitment.districts=A,B", "cannot be swept"),
    ("forum.interval", "expected KEY=V1,V2"),
])
def test_bad_sweeps_are_named(text, says):
    with pytest.raises(nb.BatchError, match="--sweep") as e:
        nb.parse_sweep(text)
    assert says in str(e.value)


def test_grid_is_every_combination(baseline):
    plan = nb.make_plan([baseline], sweeps=[nb.parse_sweep("forum.interval=2,4"),
                                            nb.parse_sweep("decay.rate=0.1,0.2,0.3")], replicates=2)
    assert len(plan.points) == 6 and len(plan.runs) == 12
    assert plan.inputs == ("forum.interval", "decay.rate")
    assert len({r.run_id for r in plan.runs}) == 12


# -- seeds ---------------------------------------------------------------------------------


def test_seeds_depend_on_the_run_not_on_order_or_company(baseline):
    other = load_scenario(SC["forums_only"])
    a = nb.make_plan([baseline, other], sweeps=[nb.parse_sweep("forum.interval=2,4,6")], replicates=3, seed=5)
    b = nb.make_plan([other, baseline], sweeps=[nb.parse_sweep("forum.interval=6,2")], replicates=2, seed=5)
    seeds_a = {r.run_id: r.seed for r in a.runs}
    seeds_b = {r.run_id: r.seed for r in b.runs}
    assert set(seeds_b) < set(seeds_a)
    assert all(seeds_a[k] == v for k, v in seeds_b.items())
    assert len(set(seeds_a.values())) == len(seeds_a)  # every run its own seed
    c = nb.make_plan([baseline], replicates=3, seed=6)
    assert not {r.seed for r in c.runs} & set(seeds_a.values())  # another base seed, other seeds
    ident = nb.run_identity("baseline", {"forum.interval": 2}, 1)
    assert seeds_a[nb.run_id(ident)] == nb.run_seed(5, ident)


def test_an_ensemble_of_populations_gives_replicate_r_draw_r_mod_n(baseline):
    other = load_scenario(SC["forums_only"])
    plan = nb.make_plan([baseline, other], sweeps=[nb.parse_sweep("forum.interval=2,4")], replicates=5,
                        seed=3, populations=2)
    draws = plan.population_seeds
    assert len(set(draws)) == 2 and draws == nb.population_seeds(3, 2)
    assert all(r.population_seed == draws[r.replicate % 2] for r in plan.runs)  # same in every scenario
    assert len({r.run_id for r in plan.runs}) == len(plan.runs) == 20
    plain = nb.make_plan([baseline, other], sweeps=[nb.parse_sweep("forum.interval=2,4")], replicates=5,
                         seed=3)
    assert not {r.run_id for r in plan.runs} & {r.run_id for r in plain.runs}
    assert set(nb.population_seeds(4, 2)).isdisjoint(draws)
    with pytest.raises(nb.BatchError, match="both swept and drawn"):
        nb.make_plan([baseline], sweeps=[nb.parse_sweep("population.seed=1,2")], populations=2)


def test_an_ensemble_batch_stores_each_draw_and_pools_the_summary(tmp_path):
    outs = {w: tmp_path / f"w{w}" for w in ("1", "2")}
    for w, out in outs.items():
        assert invoke("batch", SC["baseline"], "--replicates", "4", "--population-seeds", "2", "--workers", w,
                      "--out", str(out), *SMALL).exit_code == 0
    one, two = tables(outs["1"]), tables(outs["2"])
    for name in one:
        order = ["run_id", "month"] if "month" in one[name] else ["run_id"]
        pd.testing.assert_frame_equal(one[name].sort_values(order, ignore_index=True),
                                      two[name].sort_values(order, ignore_index=True))
    runs = one["runs"]
    by_draw = runs.groupby("population_seed")["replicate"].apply(sorted).tolist()
    assert sorted(by_draw) == [[0, 2], [1, 3]]
    groups = one["groups"]
    caps = groups.groupby("population_seed")["leadership"].apply(lambda c: tuple(np.round(c, 6)))
    assert caps.nunique() == 2  # two populations, not one
    summary = nb.summarise(ResultStore(outs["1"]))
    assert summary["scenario"].tolist() == ["baseline"] and summary["runs"].tolist() == [4]


def test_groups_every_n_months_are_stored_when_asked(tmp_path, baseline):
    plan = nb.make_plan([baseline.with_overrides({"run.months": 7})], replicates=2, seed=1, groups_every=3)
    engine = make_engine(nb.RunContext.for_plan(plan), workers=1)
    try:
        nb.run_batch(plan, ResultStore(tmp_path / "g"), engine, command=["test"])
    finally:
        engine.close()
    groups = ResultStore(tmp_path / "g").read("groups")
    assert sorted(groups["month"].unique()) == [0, 3, 6, 7]  # the starting state, every 3 months, the last
    per_table = groups.groupby(["run_id", "month"]).size()
    assert len(per_table) == 2 * 4 and per_table.nunique() == 1  # each a whole table of groups
    plain = nb.make_plan([baseline.with_overrides({"run.months": 7})], replicates=2, seed=1)
    assert plain.record()["sha256"] != plan.record()["sha256"]  # another table: not the same batch


def test_a_survey_cannot_join_an_ensemble_of_populations(tmp_path):
    survey = tmp_path / "survey.csv"
    survey.write_text((ROOT / "calibration" / "baseline_groups.csv").read_text(encoding="utf-8")
                      .replace("C0", "X0"), encoding="utf-8")
    out = tmp_path / "out"
    r = invoke("batch", SC["baseline"], "--population-seeds", "2",
               "--set", f"population.groups_file={survey}", "--out", str(out), *SMALL)
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "--population-seeds" in r.stderr and "survey.csv" in r.stderr and "population.seed" in r.stderr
    assert not out.exists()


def test_a_stored_run_is_reproduced_by_its_seed(tmp_path):
    out = tmp_path / "r"
    assert invoke("batch", SC["baseline"], "--replicates", "2", "--workers", "1", "--out", str(out),
                  *SMALL).exit_code == 0
    monthly = ResultStore(out).read("monthly")
    row = monthly.iloc[0]
    alone = NetworkModel.from_scenario(load_scenario(SC["baseline"]).with_overrides({"run.months": 4}),
                                       rng=int(row["seed"]))
    alone.run_model()
    stored = monthly[monthly["run_id"] == row["run_id"]][list(alone.monthly_table().columns)]
    pd.testing.assert_frame_equal(stored.reset_index(drop=True), alone.monthly_table(), check_dtype=False)


# -- engines give identical tables ----------------------------------------------------------


def test_same_tables_on_one_worker_two_workers_and_dask(tmp_path, dask_scheduler):
    args = [SC["baseline"], SC["forums_only"], "--replicates", "3", "--sweep", "forum.tie_gain=0.2,0.4",
            "--seed", "11", *SMALL]
    results = {}
    for name, engine in [("one", ["--workers", "1"]), ("two", ["--workers", "2", "--chunk", "2"]),
                         ("dask", ["--dask", dask_scheduler, "--chunk", "3"])]:
        r = invoke("batch", *args, *engine, "--out", str(tmp_path / name))
        assert r.exit_code == 0, r.output
        results[name] = tables(tmp_path / name)
    assert len(results["one"]["runs"]) == 12 and len(results["one"]["monthly"]) == 12 * 5
    for name in ("two", "dask"):
        for t in ("monthly", "groups", "runs"):
            pd.testing.assert_frame_equal(results["one"][t], results[name][t])
    m = results["one"]["monthly"]
    assert {"scenario", "forum.tie_gain", "replicate", "seed", "run_id", "month"} <= set(m.columns)
    assert m.groupby("run_id")["seed"].nunique().eq(1).all()
    # the replicates differ from one another: the seeds reach the model
    final = m[m["month"] == 4]
    assert final.groupby(["scenario", "forum.tie_gain"])["ties"].nunique().max() > 1


def test_dask_local_cluster_matches(tmp_path):
    args = [SC["followup_only"], "--replicates", "4", "--seed", "3", *SMALL]
    assert invoke("batch", *args, "--workers", "1", "--out", str(tmp_path / "one")).exit_code == 0
    r = invoke("batch", *args, "--dask", "local", "--workers", "1", "--out", str(tmp_path / "local"))
    assert r.exit_code == 0, r.output
    a, b = tables(tmp_path / "one"), tables(tmp_path / "local")
    for t in ("monthly", "groups", "runs"):
        pd.testing.assert_frame_equal(a[t], b[t])


def test_two_fresh_processes_store_identical_tables(tmp_path):
    """The same batch in two new processes (other hash seeds, 1 and 2 workers) and in this one."""
    args = [SC["baseline"], SC["marketing_forum"], "--replicates", "3", "--sweep", "decay.rate=0.05,0.2",
            "--seed", "21", *SMALL]
    for name, hash_seed, workers in (("first", "1", "1"), ("second", "2", "2")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        cmd = [str(VENV_BIN / "netsim"), "batch", *args, "--workers", workers, "--out", str(tmp_path / name)]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
    assert invoke("batch", *args, "--workers", "1", "--out", str(tmp_path / "here")).exit_code == 0
    first = tables(tmp_path / "first")
    assert len(first["runs"]) == 12 and first["monthly"]["ties"].nunique() > 1
    for name in ("second", "here"):
        other = tables(tmp_path / name)
        for t in ("monthly", "groups", "runs"):
            pd.testing.assert_frame_equal(first[t], other[t])


# -- failures --------------------------------------------------------------------------------


def test_a_failing_run_is_recorded_and_the_batch_goes_on(tmp_path, monkeypatch):
    real = nb.simulate

    def flaky(scenario, *, seed, groups, **options):
        if scenario.params.forum.interval == 4:
            raise RuntimeError("the forum hall burned down")
        return real(scenario, seed=seed, groups=groups, **options)

    monkeypatch.setattr(nb, "simulate", flaky)
    out = tmp_path / "f"
    args = ["batch", SC["baseline"], "--sweep", "forum.interval=2,4", "--replicates", "2", "--workers", "1",
            "--out", str(out), *SMALL]
    r = invoke(*args)
    assert r.exit_code == 1
    assert "2 runs failed" in r.stderr and "forum hall burned down" in r.stderr
    assert "baseline forum.interval=4 replicate 0" in r.stderr
    store = ResultStore(out)
    runs = store.read("runs")
    assert len(runs) == 4 and runs["run_id"].is_unique
    bad = runs[runs["status"] == "error"]
    assert list(bad["forum.interval"]) == [4, 4]
    assert bad["error"].str.contains("RuntimeError: the forum hall burned down").all()
    assert bad["traceback"].str.contains("flaky").all()
    plan_seeds = {r.run_id: r.seed for r in nb.make_plan(
        [load_scenario(SC["baseline"]).with_overrides({"run.months": 4})],
        sweeps=[nb.parse_sweep("forum.interval=2,4")], replicates=2).runs}
    assert all(plan_seeds[i] == s for i, s in zip(bad["run_id"], bad["seed"], strict=True))
    assert store.read("monthly")["forum.interval"].unique().tolist() == [2]
    # run again: nothing is redone, the failures are still named
    r2 = invoke(*args)
    assert r2.exit_code == 1 and "2 runs failed" in r2.stderr
    assert len(ResultStore(out).read("runs")) == 4


# -- bad input: exit 2, one message, nothing written -----------------------------------------


@pytest.mark.parametrize(("extra", "says"), [
    (["--sweep", "forum.nope=1,2"], "unknown parameter 'forum.nope'"),
    (["--sweep", "forum.interval=4:2:3"], "reversed range"),
    (["--sweep", "forum.interval=2:4:0"], "empty range"),
    (["--sweep", "decay.rate=0.5,2"], "outside the allowed range"),
    (["--sweep", "forum.interval=2", "--sweep", "forum.interval=4"], "swept twice"),
    (["--set", "forum.interval=99"], "forum.interval"),
    (["--replicates", "0"], "--replicates"),
    (["--workers", "0"], "--workers"),
    (["--dask", "nonsense"], "tcp://HOST:PORT"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, extra, says):
    out = tmp_path / "out"
    r = invoke("batch", SC["baseline"], *extra, "--out", str(out), *SMALL)
    assert r.exit_code == 2
    assert says in r.stderr and r.stderr.count("\n") == 1
    assert not out.exists()


def test_unreachable_dask_is_a_clear_message_within_10s(tmp_path, free_port):
    out = tmp_path / "out"
    start = time.monotonic()
    nobody = f"tcp://127.0.0.1:{free_port}"
    r = invoke("batch", SC["baseline"], "--dask", nobody, "--out", str(out), *SMALL)
    assert time.monotonic() - start < 10
    assert r.exit_code == 2
    assert "no Dask scheduler answered" in r.stderr and r.stderr.count("\n") == 1
    assert not out.exists()


def test_output_that_is_a_file_or_not_writable(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("mine")
    for out, says in [(f, "not a folder"), (f / "sub", "is a file"),
                      (Path("/proc/sys/netsim-results"), "cannot write")]:
        r = invoke("batch", SC["baseline"], "--out", str(out), *SMALL)
        assert r.exit_code == 2 and says in r.stderr, r.stderr
        assert out == f or not out.exists()
    assert f.read_text() == "mine"


def test_a_folder_of_other_things_or_another_batch_is_refused(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    r = invoke("batch", SC["baseline"], "--out", str(other), *SMALL)
    assert r.exit_code == 2 and "not a netsim results folder" in r.stderr
    out = tmp_path / "out"
    assert invoke("batch", SC["baseline"], "--workers", "1", "--out", str(out), *SMALL).exit_code == 0
    before = sorted(p.name for p in (out / "runs").iterdir())
    r = invoke("batch", SC["baseline"], "--seed", "2", "--workers", "1", "--out", str(out), *SMALL)
    assert r.exit_code == 2 and "different batch" in r.stderr and "--seed was 1, now 2" in r.stderr
    assert sorted(p.name for p in (out / "runs").iterdir()) == before


# -- kill -9 and resume ------------------------------------------------------------------------


def test_kill_9_then_rerun_gives_every_run_exactly_once(tmp_path):
    out = tmp_path / "k"
    cmd = [str(VENV_BIN / "netsim"), "batch", *SC.values(), "--replicates", "10", "--seed", "9",
           "--months", "8", "--workers", "2", "--chunk", "2", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 60
    while not list((out / "runs").glob("part-*.parquet")) if (out / "runs").is_dir() else True:
        assert proc.poll() is None, "the batch ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = len(ResultStore(out).read("runs"))
    assert 0 < stored < 40
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    t = tables(out)
    assert len(t["runs"]) == 40 and t["runs"]["run_id"].is_unique and (t["runs"]["status"] == "ok").all()
    assert t["monthly"].groupby("run_id").size().eq(9).all() and t["monthly"]["run_id"].nunique() == 40
    assert (t["groups"]["month"] == 8).all() and t["groups"]["run_id"].nunique() == 40
    assert t["groups"].groupby("run_id").size().nunique() <= 4  # one group count per scenario
    for table in ("runs", "monthly", "groups"):
        files = list((out / table).iterdir())
        assert all(f.name.startswith("part-") for f in files)  # no temporary files left
        for f in files:
            pq.read_table(f)  # every file readable
    plan_ids = {r.run_id for r in nb.make_plan(
        [load_scenario(p).with_overrides({"run.months": 8}) for p in SC.values()],
        replicates=10, seed=9).runs}
    assert set(t["runs"]["run_id"]) == plan_ids


def test_chunks_are_cut_for_cheap_scheduling():
    assert nb.chunk_size(10_000, 2) == 200
    assert nb.chunk_size(200, 2) == 10
    assert nb.chunk_size(5, 2) == 3
    runs = [nb.RunSpec("s", (), i, i, f"{i:016x}") for i in range(25)]
    chunks = nb.make_chunks(runs, 10)
    assert [len(c.runs) for c in chunks] == [10, 10, 5]
    assert len({c.key for c in chunks}) == 3
    assert np.array_equal([r.replicate for c in chunks for r in c.runs], np.arange(25))


def test_a_worker_that_dies_is_replaced_and_its_chunk_redone(tmp_path, baseline):
    import multiprocessing

    plan = nb.make_plan([baseline.with_overrides({"run.months": 6})], replicates=12, seed=2)
    engine = make_engine(nb.RunContext.for_plan(plan), workers=2)
    killed = []

    def kill_a_worker(runs, failed):
        if not killed:  # after the first chunk, while the others are queued or running
            victim = multiprocessing.active_children()[0]
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    try:
        outcome = nb.run_batch(plan, ResultStore(tmp_path / "s"), engine, chunk=2, on_chunk=kill_a_worker,
                               command=["test"])
    finally:
        engine.close()
    assert killed
    assert outcome.ran == 12 and not outcome.failures
    runs = ResultStore(tmp_path / "s").read("runs")
    assert len(runs) == 12 and runs["run_id"].is_unique and (runs["status"] == "ok").all()
    plain = nb.make_plan([baseline.with_overrides({"run.months": 6})], replicates=12, seed=2)
    assert set(runs["run_id"]) == {r.run_id for r in plain.runs}


# -- extending a batch ---------------------------------------------------------------------------


def test_an_extended_batch_equals_the_batch_run_whole(tmp_path):
    out, whole = tmp_path / "ext", tmp_path / "whole"
    small = ["--sweep", "forum.interval=2,4", "--replicates", "2"]
    big = ["--sweep", "forum.interval=2,4,6", "--replicates", "3"]
    common = ["--seed", "5", "--workers", "1", "--chunk", "2", *SMALL]
    assert invoke("batch", SC["baseline"], *small, *common, "--out", str(out)).exit_code == 0
    first = set(ResultStore(out).read("runs")["run_id"])
    r = invoke("batch", SC["baseline"], *big, *common, "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "5 now, 4 before" in r.stdout.replace("\n", " ")  # only the new runs were run
    assert invoke("batch", SC["baseline"], *big, *common, "--out", str(whole)).exit_code == 0
    a, b = tables(out), tables(whole)
    for name in ("monthly", "groups", "runs"):  # every table is read in the same stable order
        pd.testing.assert_frame_equal(a[name], b[name][a[name].columns])
    assert first < set(a["runs"]["run_id"])
    manifest = ResultStore(out).manifest_or_disk()
    assert manifest["plan"]["runs"] == 9
    assert manifest["sessions"][-1]["extended"] == {"runs_before": 4, "runs": 9}
    # fewer replicates, another seed or a dropped sweep value is not an extension
    for other, says in ((["--sweep", "forum.interval=2,4", "--replicates", "1"], "--replicates was 3"),
                        (["--sweep", "forum.interval=2,8", "--replicates", "3"], "--sweep was")):
        r = invoke("batch", SC["baseline"], *other, *common, "--out", str(out))
        assert r.exit_code == 2 and says in r.stderr, r.stderr


# -- results of another model version ------------------------------------------------------------


def _as_if_made_by(out: Path, version: str) -> None:
    m = json.loads((out / "manifest.json").read_text())
    for record in (m, *m["sessions"]):
        record["model_version"] = version
    (out / "manifest.json").write_text(json.dumps(m))


OLD = "0.0.9+0123456789abcdef"


def test_batch_and_report_refuse_another_model_versions_results_unless_told(tmp_path):
    out = tmp_path / "b"
    args = ["batch", SC["baseline"], SC["forums_only"], "--replicates", "2", "--workers", "1", *SMALL]
    assert invoke(*args, "--out", str(out)).exit_code == 0
    _as_if_made_by(out, OLD)
    parts = sorted(p.name for p in (out / "runs").iterdir())
    for command in (args, ["report", str(out)]):
        r = invoke(*command, *(["--out", str(out)] if command is args else []))
        assert r.exit_code == 2 and r.stderr.count("\n") == 1, r.stderr
        assert OLD in r.stderr and model_version() in r.stderr and "--other-version" in r.stderr
    assert sorted(p.name for p in (out / "runs").iterdir()) == parts and not (out / "report").exists()
    # accepted: reported as they are, and the batch is resumed (nothing to do) with both versions recorded
    assert invoke("report", str(out), "--other-version", "accept").exit_code == 0
    assert invoke(*args, "--out", str(out), "--other-version", "accept").exit_code == 0
    assert stored_versions(json.loads((out / "manifest.json").read_text())) == [OLD, model_version()]
    # restart: the old results are kept aside and the batch runs afresh
    _as_if_made_by(out, OLD)
    r = invoke(*args, "--out", str(out), "--other-version", "restart")
    assert r.exit_code == 0 and "moved them to" in r.stderr
    aside = tmp_path / "b.model-0123456789abcdef"
    assert sorted(p.name for p in (aside / "runs").iterdir()) == parts
    m = json.loads((out / "manifest.json").read_text())
    assert stored_versions(m) == [model_version()] and m["sessions"][0]["runs_done"] == 4


def test_make_main_after_a_model_change_reruns_instead_of_showing_old_results(tmp_path):
    """`make main` on a folder of another model version's complete batch runs it again."""
    makefile = (ROOT / "Makefile").read_text()
    names = re.search(r"MAIN_SCENARIOS := .*?,([a-z_ \\\n\t]+)\)\)", makefile, re.S).group(1).split()
    files = [str(ROOT / "scenarios" / f"{n}.toml") for n in names if n != "\\"]
    out = tmp_path / "main"
    # the same plan as `make main REPLICATES=1`, complete, but made by an older model
    assert invoke("batch", *files, "--replicates", "1", "--seed", "1", "--workers", "1", "--quiet",
                  "--out", str(out)).exit_code == 0
    _as_if_made_by(out, OLD)
    r = subprocess.run(["make", "-s", "main", f"RESULTS={out}", "REPLICATES=1"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert stored_versions(m) == [model_version()] and m["sessions"][-1]["runs_done"] == len(files)
    assert (tmp_path / "main.model-0123456789abcdef" / "manifest.json").is_file()
    assert (out / "report" / "report.md").is_file()
