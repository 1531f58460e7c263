"""The result store: atomic parts, commit records, resume after an interrupted write, locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from netsim import batch as nb
from netsim.engines import InProcessEngine
from netsim.store import OtherVersionError, ResultStore, StoreError, stored_versions, write_bytes_atomic
from netsim.version import model_version


@pytest.fixture
def small(baseline):
    sc = baseline.with_overrides({"run.months": 3})
    plan = nb.make_plan([sc], sweeps=[nb.parse_sweep("forum.interval=2,4")], replicates=3, seed=4)
    return plan, nb.RunContext.for_plan(plan)


def run_all(plan, context, out: Path, *, chunk: int = 2) -> nb.BatchOutcome:
    return nb.run_batch(plan, ResultStore(out), InProcessEngine(context), chunk=chunk, command=["test"])


def test_write_bytes_atomic_leaves_the_old_file_or_the_new_one(tmp_path):
    target = tmp_path / "part.bin"
    write_bytes_atomic(target, b"old")

    def broken(p: Path) -> None:
        p.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_bytes_atomic(target, broken)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["part.bin"]
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new"


def test_layout_manifest_and_tables(small, tmp_path):
    plan, ctx = small
    out = tmp_path / "s"
    outcome = run_all(plan, ctx, out)
    assert outcome.ran == 6 and not outcome.failures
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == \
        ["groups", "manifest.json", "monthly", "outcomes", "runs"]
    assert len(list((out / "runs").glob("part-*.parquet"))) == 3  # one part per chunk of 2
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "complete" and m["started"] and m["ended"]
    assert m["netsim_version"] and m["command"] == ["test"]
    sc = m["plan"]["scenarios"][0]
    assert sc["name"] == "baseline" and len(sc["file_sha256"]) == 64 and sc["parameters"]["run.months"] == 3
    assert m["plan"]["sweeps"] == {"forum.interval": [2, 4]} and m["plan"]["runs"] == 6
    monthly = pd.read_parquet(out / "monthly")  # any Parquet reader sees the tables
    assert len(monthly) == 6 * 4 and monthly["run_id"].nunique() == 6
    assert {"scenario", "forum.interval", "replicate", "seed", "month", "ties"} <= set(monthly.columns)
    groups = ResultStore(out).read("groups")
    assert (groups["month"] == 3).all() and groups["run_id"].nunique() == 6


def test_parts_without_a_commit_record_are_removed_and_redone(small, tmp_path):
    plan, ctx = small
    out = tmp_path / "s"
    run_all(plan, ctx, out)
    whole = ResultStore(out).read("monthly")
    # an interruption between a chunk's data parts and its commit record, and a temp file
    victim = sorted((out / "runs").glob("part-*.parquet"))[0]
    lost = set(pq.read_table(victim).column("run_id").to_pylist())
    victim.unlink()
    (out / "monthly" / ".part-x.parquet.123.tmp").write_bytes(b"half a file")
    assert ResultStore(out).read("monthly")["run_id"].nunique() == 4  # readers skip the orphan
    outcome = run_all(plan, ctx, out, chunk=5)
    assert outcome.already == 4 and outcome.ran == len(lost) == 2
    after = ResultStore(out).read("monthly")
    pd.testing.assert_frame_equal(after, whole)
    for t in ("runs", "monthly", "groups"):
        files = list((out / t).iterdir())
        assert all(f.name.startswith("part-") for f in files)
        assert pd.read_parquet(out / t)["run_id"].nunique() == 6
    assert len(pd.read_parquet(out / "runs")) == 6


def test_a_truncated_commit_record_counts_as_not_written(small, tmp_path):
    plan, ctx = small
    out = tmp_path / "s"
    run_all(plan, ctx, out)
    part = sorted((out / "runs").glob("part-*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:20])
    outcome = run_all(plan, ctx, out)
    assert outcome.ran == 2
    assert len(ResultStore(out).read("runs")) == 6


def test_another_plan_is_refused_before_anything_is_written(small, tmp_path):
    plan, ctx = small
    out = tmp_path / "s"
    run_all(plan, ctx, out)
    before = (out / "manifest.json").read_text()
    other = nb.make_plan(list(plan.scenarios), sweeps=[nb.parse_sweep("forum.interval=2,6")], replicates=3,
                         seed=4)
    with pytest.raises(StoreError, match=r"different batch \(--sweep was"):
        ResultStore(out).check_plan(other.record())
    with pytest.raises(StoreError, match="different batch"):
        run_all(other, nb.RunContext.for_plan(other), out)
    assert (out / "manifest.json").read_text() == before


def test_a_second_writer_is_refused(small, tmp_path):
    plan, ctx = small
    out = tmp_path / "s"
    store = ResultStore(out)
    store.open(nb.batch_manifest(plan, command=["first"]))
    # the lock is on the open file: another process cannot take it
    code = ("import sys, fcntl, os; fd = os.open(sys.argv[1], os.O_RDWR);"
            "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)")
    r = subprocess.run([sys.executable, "-c", code, str(out / ".lock")], capture_output=True, text=True)
    assert r.returncode != 0 and "BlockingIOError" in r.stderr
    store.close()
    r = subprocess.run([sys.executable, "-c", code, str(out / ".lock")], capture_output=True, text=True)
    assert r.returncode == 0


def test_resume_appends_a_session_and_keeps_the_first_start(small, tmp_path):
    plan, ctx = small
    out = tmp_path / "s"
    run_all(plan, ctx, out)
    first = json.loads((out / "manifest.json").read_text())
    run_all(plan, ctx, out)
    m = json.loads((out / "manifest.json").read_text())
    assert m["started"] == first["started"] and len(m["sessions"]) == 2
    assert m["sessions"][1]["runs_done"] == 0 and m["sessions"][0]["runs_done"] == 6


def test_new_folder_checks(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(StoreError, match="not a folder"):
        ResultStore(f).existing_manifest()
    with pytest.raises(StoreError, match="is a file"):
        ResultStore(f / "sub").existing_manifest()
    assert ResultStore(tmp_path / "new" / "deeper").existing_manifest() is None
    assert not (tmp_path / "new").exists()
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if os.access(ro, os.W_OK):  # root may write anywhere: use a folder no one may write in
            ro = Path("/proc/sys")
        with pytest.raises(StoreError, match="cannot write"):
            ResultStore(ro / "out").existing_manifest()
    finally:
        os.chmod(tmp_path / "ro", 0o700)


# -- the model version ----------------------------------------------------------------------


def _as_if_made_by(out: Path, version: str | None) -> None:
    """Rewrite a store's manifest as an earlier model version (None: before versions were recorded)."""
    m = json.loads((out / "manifest.json").read_text())
    for record in (m, *m["sessions"]):
        if version is None:
            record.pop("model_version", None)
        else:
            record["model_version"] = version
    (out / "manifest.json").write_text(json.dumps(m))


def test_the_manifest_and_each_session_record_the_model_version(small, tmp_path):
    plan, ctx = small
    run_all(plan, ctx, tmp_path / "s")
    m = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert m["model_version"] == model_version()
    assert [s["model_version"] for s in m["sessions"]] == [model_version()]
    assert stored_versions(m) == [model_version()]


@pytest.mark.parametrize("old", ["0.0.9+0123456789abcdef", None])
def test_another_model_versions_store_is_refused_unless_accepted(small, tmp_path, old):
    plan, ctx = small
    out = tmp_path / "s"
    run_all(plan, ctx, out)
    _as_if_made_by(out, old)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".lock"}
    with pytest.raises(OtherVersionError) as e:
        run_all(plan, ctx, out)
    said = str(e.value)
    assert (old or "unknown") in said and model_version() in said and str(out) in said
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".lock"} == before
    with pytest.raises(OtherVersionError):
        ResultStore(out).check_version(model_version())
    # accepted: the batch resumes (nothing to run) and the manifest names both versions
    outcome = nb.run_batch(plan, ResultStore(out), InProcessEngine(ctx), command=["test"],
                           accept_other_version=True)
    assert outcome.ran == 0 and outcome.already == 6
    versions = stored_versions(json.loads((out / "manifest.json").read_text()))
    assert versions[-1] == model_version() and len(versions) == 2


def test_move_aside_keeps_the_old_results_under_their_version(small, tmp_path):
    plan, ctx = small
    out = tmp_path / "s"
    run_all(plan, ctx, out)
    _as_if_made_by(out, "0.0.9+0123456789abcdef")
    old_runs = ResultStore(out).read("runs")
    moved = ResultStore(out).move_aside()
    assert moved == tmp_path / "s.model-0123456789abcdef" and not out.exists()
    pd.testing.assert_frame_equal(ResultStore(moved).read("runs"), old_runs)
    assert run_all(plan, ctx, out).ran == 6  # afresh
    _as_if_made_by(out, "0.0.9+0123456789abcdef")
    assert ResultStore(out).move_aside().name == "s.model-0123456789abcdef-2"


def test_write_csv_neutralises_formula_cells_and_keeps_numbers(tmp_path):
    from netsim.store import write_csv

    table = pd.DataFrame({
        "name": ["=HYPERLINK(\"http://x\")", "+66 81 234", "-2.5", "@SUM(A1)", "\tx", "\rx", "plain", "กลุ่ม"],
        "value": [-1.5, 2.0, -3.0, 0.0, 1.0, 1.0, 1.0, 1.0],
        "count": [-1, 2, 3, 4, 5, 6, 7, 8],
    })
    path = tmp_path / "t.csv"
    write_csv(path, table)
    back = pd.read_csv(path, dtype={"name": str}, keep_default_na=False)
    assert back["name"].tolist()[:6] == ["'=HYPERLINK(\"http://x\")", "'+66 81 234", "-2.5", "'@SUM(A1)",
                                         "'\tx", "'\rx"]
    assert back["name"].tolist()[6:] == ["plain", "กลุ่ม"]
    assert back["value"].tolist() == table["value"].tolist()  # numbers stay numbers
    assert back["count"].tolist() == table["count"].tolist()
    assert ",-1.5,-1\n" in path.read_text(encoding="utf-8")  # written as numbers, not as text
    head = path.read_bytes()[:12].decode("utf-8")
    assert head.startswith("\ufeff") and head[1:].lstrip('"').startswith("name")  # a spreadsheet reads UTF-8
    assert not list(tmp_path.glob(".*.tmp"))
