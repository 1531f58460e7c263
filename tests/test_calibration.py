import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import PROJECT
from scipy.stats import ks_2samp

from netsim import calibration as cal
from netsim.cli import cli
from netsim.engines import make_engine
from netsim.patterns import read_targets
from netsim.scenario import ScenarioError

TINY = cal.Settings(particles=8, generations=2, budget=10_000, seed=5)


@pytest.fixture(scope="module")
def targets_file(tmp_path_factory) -> Path:
    """The shipped targets on a 12-month baseline with three free parameters: a calibration of seconds."""
    folder = tmp_path_factory.mktemp("targets")
    (folder / "short.toml").write_text(
        f'name = "short"\nquestion = "A short baseline."\n'
        f'base = "{PROJECT / "scenarios" / "baseline"}"\n[run]\nmonths = 12\n'
    )
    head = (PROJECT / "calibration" / "targets.toml").read_text().split("[prior]")[0]
    head = head.replace('scenario = "../scenarios/baseline.toml"', 'scenario = "short.toml"')
    (folder / "targets.toml").write_text(
        head + '[prior]\n"recruitment.base_logit" = "span"\n'
        '"followup.trust_gain" = "span"\n"decay.rate" = "span"\n'
    )
    return folder / "targets.toml"


def _calibrate(
    targets_file: Path, db: Path, workers: int, settings: cal.Settings = TINY, **kw
) -> cal.CalibrationResult:
    targets = read_targets(targets_file)
    sim = cal.Simulator(targets)
    engine = make_engine(sim.context, workers=workers)
    try:
        return cal.calibrate(targets, db, settings, engine, simulator=sim, **kw)
    finally:
        engine.close()


def test_same_seed_same_posterior_on_one_and_two_workers_and_after_a_resume(targets_file, tmp_path):
    one = _calibrate(targets_file, tmp_path / "one.db", 1)
    two = _calibrate(targets_file, tmp_path / "two.db", 2)
    pd.testing.assert_frame_equal(one.posterior, two.posterior)
    assert one.generations == 2 and one.simulations == two.simulations
    # stopped after the first generation, then resumed: the same posterior as straight through
    first = _calibrate(
        targets_file, tmp_path / "resumed.db", 2, cal.Settings(**{**TINY.__dict__, "generations": 1})
    )
    assert first.generations == 1
    resumed = _calibrate(targets_file, tmp_path / "resumed.db", 1, TINY, resume=True)
    assert resumed.resumed_from == 1 and resumed.generations == 2
    pd.testing.assert_frame_equal(one.posterior, resumed.posterior)
    # another seed gives another posterior
    other = _calibrate(targets_file, tmp_path / "other.db", 1, cal.Settings(**{**TINY.__dict__, "seed": 6}))
    assert not np.allclose(other.posterior.to_numpy(), one.posterior.to_numpy())


def test_same_posterior_on_dask_as_on_local_processes(targets_file, tmp_path, dask_scheduler):
    targets = read_targets(targets_file)
    sim = cal.Simulator(targets)
    engine = make_engine(sim.context, workers=2, dask=dask_scheduler)
    try:
        on_dask = cal.calibrate(targets, tmp_path / "dask.db", TINY, engine, simulator=sim)
    finally:
        engine.close()
    local = _calibrate(targets_file, tmp_path / "local.db", 2)
    pd.testing.assert_frame_equal(on_dask.posterior, local.posterior)
    assert on_dask.simulations == local.simulations


def test_the_posterior_narrows_towards_runs_that_reproduce_the_patterns(targets_file, tmp_path):
    res = _calibrate(targets_file, tmp_path / "c.db", 1, cal.Settings(particles=12, generations=3, seed=2))
    assert res.epsilon < cal._INITIAL_EPSILON
    assert res.posterior["weight"].sum() == pytest.approx(1.0)
    lo, hi = read_targets(targets_file).priors["decay.rate"]
    assert res.posterior["decay.rate"].between(lo, hi).all()


def _bad(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    return result.output


def _on_db(targets: Path, out: Path, db: Path, *more: str) -> list[str]:
    """`netsim calibrate` of the tiny calibration's settings on the database ``db``."""
    return ["calibrate", "--targets", str(targets), "--out", str(out), "--db", str(db), "--particles", "8",
            "--seed", "5", "--workers", "1", *more]


def test_a_database_of_another_model_version_or_other_targets_is_refused(targets_file, tmp_path):
    db = tmp_path / "c.db"
    _calibrate(targets_file, db, 1, cal.Settings(**{**TINY.__dict__, "generations": 1}))
    before = db.read_bytes()
    out = _bad(_on_db(targets_file, tmp_path, db))
    assert "--resume continues it" in out  # no silent overwrite
    with sqlite3.connect(db) as con:
        con.execute("UPDATE netsim_calibration SET value = '0.0.0+old' WHERE key = 'model_version'")
    stamped = db.read_bytes()
    out = _bad(_on_db(targets_file, tmp_path, db, "--resume"))
    assert "model_version" in out and str(db) in out
    assert "0.0.0+old" in out and cal.model_version() in out  # both versions named
    assert db.read_bytes() == stamped
    other = tmp_path / "other.toml"
    other.write_text(targets_file.read_text().replace("at_least = 0.5", "at_least = 0.6"))
    (tmp_path / "short.toml").write_text((targets_file.parent / "short.toml").read_text())
    db.write_bytes(before)
    out = _bad(_on_db(other, tmp_path, db, "--resume"))
    assert "targets_sha256" in out and str(other) in out
    assert read_targets(targets_file).sha256 in out and read_targets(other).sha256 in out


def test_bad_targets_and_posterior_files_exit_2_naming_file_and_key(targets_file, tmp_path):
    bad = tmp_path / "targets.toml"
    bad.write_text(targets_file.read_text().replace("[statistics.districts]", "[statistics.distritcs]"))
    out = _bad(["calibrate", "--targets", str(bad), "--out", str(tmp_path / "o")])
    assert "distritcs" in out and str(bad) in out
    assert not (tmp_path / "o").exists()
    post = tmp_path / "posterior.csv"
    post.write_text("forum.tie_gain,forum.nonsense,weight\n0.2,0.1,1\n")
    with pytest.raises(ScenarioError, match="column 'forum.nonsense'"):
        cal.read_posterior(post)
    post.write_text("forum.tie_gain,weight\n1.7,1\n")
    with pytest.raises(ScenarioError, match="row 2, column 'forum.tie_gain'"):
        cal.read_posterior(post)


def test_posterior_draws_are_seeded_and_follow_the_weights():
    post = pd.DataFrame({"forum.tie_gain": [0.1, 0.2, 0.3], "weight": [0.0, 0.25, 0.75]})
    a = cal.posterior_draws(post, 400, seed=3)
    assert a == cal.posterior_draws(post, 400, seed=3)
    values = np.array([d["forum.tie_gain"] for d in a])
    assert 0.1 not in values
    assert 0.65 < np.mean(values == 0.3) < 0.85
    est = cal.point_estimates(post)["forum.tie_gain"]
    assert est[1] <= est[0] <= est[2]


def test_fast_prior_and_kernel_match_pyabc_s_own():
    """The prior's density equals pyabc's; the kernel draws particles by weight, steps by its covariance."""
    import pyabc

    box, kernel, one_model = cal._proposal_classes()
    model_prior, default = one_model("randint", 0, 1), pyabc.RV("randint", 0, 1)
    assert [model_prior.pmf(m) for m in (0, 1, -1)] == [default.pmf(m) for m in (0, 1, -1)]
    np.random.seed(2)  # noqa: NPY002
    a = [model_prior.rvs(), np.random.random_sample()]  # noqa: NPY002
    np.random.seed(2)  # noqa: NPY002
    assert a == [default.rvs(), np.random.random_sample()]  # noqa: NPY002 - it draws as pyabc's does
    rvs = {"a": pyabc.RV("uniform", 0.1, 0.4), "b": pyabc.RV("uniform", -1.0, 3.0)}
    ours, theirs = box(**rvs), pyabc.Distribution(**rvs)
    rng = np.random.default_rng(4)
    for a, b in rng.uniform([-0.2, -2.0], [0.8, 3.0], size=(300, 2)):
        x = pyabc.Parameter(a=a, b=b)
        assert ours.pdf(x) == pytest.approx(theirs.pdf(x))
    edge = ours.pdf({"a": 0.1, "b": 2.0})  # on the box's edge: inside, as for scipy
    assert edge > 0 and edge == pytest.approx(theirs.pdf(pyabc.Parameter(a=0.1, b=2.0)))
    assert ours.copy().pdf({"a": 0.3, "b": 0.0}) > 0

    X = pd.DataFrame({"a": [0.0, 10.0, 20.0], "b": [0.0, 0.0, 5.0]})
    w = np.array([0.7, 0.3, 0.0])
    k, ref = kernel(scaling=2.0), pyabc.MultivariateNormalTransition(scaling=2.0)
    k.fit(X, w)
    ref.fit(X, w)
    assert np.allclose(k.cov, ref.cov)
    np.random.seed(5)  # noqa: NPY002 - pyabc draws from numpy's global state
    draws = pd.DataFrame([k.rvs() for _ in range(6000)])
    theirs = pd.DataFrame([dict(ref.rvs()) for _ in range(6000)])
    mean = (w[:, None] * X.to_numpy()).sum(axis=0)  # the mixture's: weight 0 is never drawn
    sd = np.sqrt(np.diag(k.cov) + np.diag(np.cov(X.to_numpy().T, aweights=w + 1e-12)))
    for d in (draws, theirs):
        assert np.all(np.abs(d.mean().to_numpy() - mean) < 4 * sd / np.sqrt(len(d)))
    assert np.allclose(np.cov(draws.to_numpy().T), np.cov(theirs.to_numpy().T), rtol=0.1, atol=0.05)
    for col in X:
        assert ks_2samp(draws[col], theirs[col]).pvalue > 1e-3
    assert k.pdf(pyabc.Parameter(a=0.5, b=0.1)) == pytest.approx(ref.pdf(pyabc.Parameter(a=0.5, b=0.1)))


def test_check_reports_prior_and_posterior_shares_and_a_held_out_statistic(targets_file, tmp_path):
    res = _calibrate(targets_file, tmp_path / "c.db", 1)
    targets = read_targets(targets_file)
    sim = cal.Simulator(targets)
    engine = make_engine(sim.context, workers=1)
    got = cal.check(targets, engine, posterior=res.posterior, draws=12, seed=1, simulator=sim)
    rows = list(got.table["row"])
    assert rows[:7] == [f"pattern_{k}" for k in range(1, 7)] + ["joint"]
    assert any(r.startswith("held_out:") for r in rows)
    assert got.table[["prior", "posterior"]].apply(lambda c: c.between(0, 1)).all().all()
    # a pattern is reproduced only if all its fitted statistics are: joint <= every pattern
    assert (got.posterior["joint"] <= got.posterior["pattern_1"]).all()
    assert len(got.prior) == len(got.posterior) == 12
    assert set(got.constraints["parameter"]) == set(targets.priors)
    assert len(cal.constraint_lines(got.constraints)) == 7  # six patterns and all six together


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _generations_in(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_leaves_no_worker_and_resume_finishes(targets_file, tmp_path):
    db = tmp_path / "c.db"
    args = [
        sys.executable,
        "-m",
        "netsim.cli",
        "calibrate",
        "--targets",
        str(targets_file),
        "--out",
        str(tmp_path),
        "--db",
        str(db),
        "--particles",
        "8",
        "--seed",
        "5",
        "--workers",
        "2",
        "--quiet",
    ]
    proc = subprocess.Popen(
        [*args, "--generations", "200", "--budget", "1000000", "--min-acceptance", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while _generations_in(db) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read().decode()
    workers = _children(proc.pid)
    assert len(workers) >= 2
    finished = _generations_in(db)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while (
        any(
            Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text()
            for w in workers
        )
        and time.time() < deadline
    ):
        time.sleep(0.1)
    alive = [
        w
        for w in workers
        if Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text()
    ]
    assert not alive, f"orphaned workers {alive}"
    kept = _generations_in(db)
    assert finished <= kept <= finished + 1  # at most the generation in progress is lost
    done = subprocess.run(
        [*args, "--generations", str(kept + 1), "--resume"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert f"{kept + 1} generations, resumed after {kept}" in done.stdout
    assert (tmp_path / "posterior.csv").exists() and (tmp_path / "calibrated.toml").exists()
    # and it ends where a calibration never stopped ends: nothing of the kept generations was lost
    straight = tmp_path / "straight"
    r = CliRunner().invoke(cli, [*args[3:], "--generations", str(kept + 1), "--workers", "1", "--out",
                                 str(straight), "--db", str(straight / "c.db")])
    assert r.exit_code == 0, r.output
    assert (straight / "posterior.csv").read_bytes() == (tmp_path / "posterior.csv").read_bytes()


def test_batch_posterior_draws_each_replicate_and_keeps_a_scenario_s_own_values(tmp_path):
    import json

    from netsim import NetworkModel, load_scenario
    from netsim.store import ResultStore

    base = load_scenario(PROJECT / "scenarios" / "baseline.toml")
    tie, values = base.params.get("forum.tie_gain"), base.params.get("review.value_convergence")
    post = tmp_path / "posterior.csv"
    post.write_text("forum.tie_gain,review.value_convergence,weight\n"
                    f"0.1,0.01,0.25\n{tie},{values},0.5\n0.5,0.09,0.25\n")
    out = tmp_path / "b"
    scenarios = [str(PROJECT / "scenarios" / f"{n}.toml") for n in ("baseline", "ideology_forums")]
    args = ["batch", *scenarios,
            "--replicates", "4", "--months", "4", "--workers", "1", "--quiet", "--posterior", str(post)]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "drawn from" in result.output
    plan = json.loads((out / "manifest.json").read_text())["plan"]
    drawn = plan["posterior"]["drawn"]
    assert drawn["baseline"] == ["forum.tie_gain", "review.value_convergence"]
    assert drawn["ideology_forums"] == ["forum.tie_gain"]  # it sets its own value convergence
    draws = plan["posterior"]["draws"]
    assert len(draws) == 4
    monthly = ResultStore(out).read("monthly")
    for scenario in ("baseline", "ideology_forums"):
        row = monthly[(monthly["scenario"] == scenario) & (monthly["replicate"] == 3)].iloc[0]
        sc = load_scenario(PROJECT / "scenarios" / f"{scenario}.toml").with_overrides(
            {"run.months": 4, **{k: v for k, v in draws[3].items() if k in drawn[scenario]}})
        alone = NetworkModel.from_scenario(sc, rng=int(row["seed"]))
        alone.run_model()
        stored = monthly[monthly["run_id"] == row["run_id"]][list(alone.monthly_table().columns)]
        pd.testing.assert_frame_equal(stored.reset_index(drop=True), alone.monthly_table(), check_dtype=False)
    again = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "again")])
    assert again.exit_code == 0
    manifest = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert manifest["plan"]["posterior"]["draws"] == draws
    post.write_text("forum.tie_gain,forum.wobble,weight\n0.2,0.1,1\n")
    bad = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "forum.wobble" in bad.output and str(post) in bad.output
    assert not (tmp_path / "bad").exists()
