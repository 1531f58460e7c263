"""Faults a batch must survive: kill -9 at many moments, dying workers, a full or read-only
disk, Ctrl-C. After each, the same command finishes the batch with every run stored exactly
once, every file readable, and the same tables as a batch that was never disturbed."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from netsim import batch as nb
from netsim import store as ns
from netsim.cli import cli
from netsim.engines import make_engine
from netsim.store import ResultStore

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SC = [str(ROOT / "scenarios" / f"{n}.toml") for n in ("baseline", "forums_only", "followup_only")]
#: 3 scenarios x 4 replicates = 12 runs in 6 chunks of 2.
BATCH = ["batch", *SC, "--replicates", "4", "--seed", "5", "--months", "6", "--workers", "1", "--chunk", "2",
         "--quiet"]
RUNS = 12
#: 3 scenarios x 60 replicates = 180 runs of 24 months in 90 chunks: long enough to be stopped
#: from outside (with 120 runs of 12 months a quick machine could finish the batch between the
#: first stored chunk and the signal, and a batch that has finished exits 0).
BIG = ["batch", *SC, "--replicates", "60", "--seed", "6", "--months", "24", "--workers", "2", "--chunk", "2",
       "--quiet"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def tables(out: Path) -> dict[str, pd.DataFrame]:
    """Every table of a store (without the runs' timings)."""
    store = ResultStore(out)
    return {t: store.read(t).drop(columns=["seconds"] if t == "runs" else []) for t in ns.TABLES
            if (out / t).is_dir()}


def _reference(factory, args: list[str]) -> dict[str, pd.DataFrame]:
    out = factory.mktemp("undisturbed") / "out"
    assert invoke(*args, "--out", str(out)).exit_code == 0
    return tables(out)


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The tables of the small batch run once, with nothing going wrong."""
    return _reference(tmp_path_factory, BATCH)


@pytest.fixture(scope="module")
def undisturbed_big(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The tables of the big batch run once (in this process), with nothing going wrong."""
    return _reference(tmp_path_factory, BIG)


def assert_every_file_whole(out: Path) -> None:
    """Every table file is a readable Parquet file (temporary files aside) and the manifest is JSON."""
    json.loads((out / "manifest.json").read_text())
    for table in ns.TABLES:
        for f in (out / table).iterdir() if (out / table).is_dir() else ():
            if not f.name.startswith("."):
                pq.read_table(f)


def assert_complete(out: Path, undisturbed: dict[str, pd.DataFrame]) -> None:
    """Every run exactly once, no file left over, and the undisturbed batch's tables."""
    t = tables(out)
    assert len(t["runs"]) == len(undisturbed["runs"]) and t["runs"]["run_id"].is_unique
    assert (t["runs"]["status"] == "ok").all()
    for name in t:
        pd.testing.assert_frame_equal(t[name], undisturbed[name])
        assert all(f.name.startswith("part-") for f in (out / name).iterdir()), name  # no temporary files
    assert_every_file_whole(out)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


# -- kill -9 at chosen moments -----------------------------------------------------------------

#: (file, stage, nth write of that file in the session): the batch process kills itself
#: with SIGKILL there. Stages: "half" (the temporary file half written), "written" (the
#: temporary file whole, not yet renamed), "renamed" (in place, before the next write).
MOMENTS = [
    ("manifest.json", "written", 1),  # creating the folder: before any manifest exists
    ("monthly", "renamed", 1),  # a chunk's data part in place, its commit record not yet
    ("runs", "half", 1),  # in the middle of writing a commit record
    ("runs", "renamed", 2),  # two chunks committed, the third not begun
    ("groups", "written", 1),  # a data part written but not renamed
    ("manifest.json", "half", 2),  # every chunk stored, the final status half written
]


def _die_at(target: str, stage: str, nth: int):
    real = ns.write_bytes_atomic
    seen = {"n": 0}

    def write(path: Path, data) -> None:
        hit = path.name == target or path.parent.name == target
        if hit:
            seen["n"] += 1
        if not hit or seen["n"] != nth:
            return real(path, data)
        if stage == "renamed":
            real(path, data)
        else:
            blob = data if isinstance(data, bytes) else b"x" * 1000
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(blob[:len(blob) // 2] if stage == "half" else blob)
        os.kill(os.getpid(), signal.SIGKILL)

    return write


def _session_killed_at(moment: tuple[str, str, int], out: Path) -> int:
    """Run the batch in a forked process that kills itself at ``moment``; return its signal."""
    pid = os.fork()
    if pid == 0:  # the child: the batch command, with the fault
        code = 3
        try:
            ns.write_bytes_atomic = _die_at(*moment)
            CliRunner().invoke(cli, [*BATCH, "--out", str(out)])
        finally:
            os._exit(code)  # only reached if the fault never came
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status)


def test_kill_9_at_six_moments_then_resume_loses_nothing(tmp_path, undisturbed):
    out = tmp_path / "k"
    stored = []
    for moment in MOMENTS:
        assert _session_killed_at(moment, out) == signal.SIGKILL, moment
        if (out / "manifest.json").exists():  # (the first moment dies before there is one)
            assert_every_file_whole(out)
        stored.append(len(ResultStore(out).read("runs")))
    assert stored == [0, 0, 0, 4, 4, RUNS]  # what each killed session left committed
    r = invoke(*BATCH, "--out", str(out))
    assert r.exit_code == 0, r.stderr
    assert_complete(out, undisturbed)
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert len(sessions) >= 5 and sessions[-1]["runs_done"] == 0  # the last session found it complete


def _as_at_a_terminal() -> None:
    """Ctrl-C at its default in the batch, as at a terminal.

    A command started in the background by a non-interactive shell (a CI script's ``&``)
    inherits Ctrl-C ignored, and so would the batch started here; Python then keeps it
    ignored, which is right for such a batch but is not the user this test stands for.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_and_wait_for(out: Path, parts: int) -> subprocess.Popen:
    """Start the big batch as a user would, and return once ``parts`` chunks are stored."""
    cmd = [str(VENV_BIN / "netsim"), *BIG, "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            preexec_fn=_as_at_a_terminal)
    start = len(list((out / "runs").glob("part-*"))) if (out / "runs").is_dir() else 0
    deadline = time.monotonic() + 120
    while not (out / "manifest.json").exists() or len(list((out / "runs").glob("part-*"))) < start + parts:
        assert proc.poll() is None, "the batch ended before it could be stopped"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    return proc


def test_kill_9_from_outside_at_three_moments_then_resume(tmp_path, undisturbed_big):
    """The real command on 2 worker processes, killed with kill -9 three times, then resumed."""
    out = tmp_path / "k"
    for parts in (0, 1, 3):  # as soon as the folder is made; after 1 and after 3 more chunks
        proc = _start_and_wait_for(out, parts)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        assert_every_file_whole(out)
        assert len(ResultStore(out).read("runs")) < len(undisturbed_big["runs"])
    r = subprocess.run([str(VENV_BIN / "netsim"), *BIG, "--out", str(out)], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert_complete(out, undisturbed_big)


# -- workers that die in the middle of a chunk ----------------------------------------------------


class DiesOnce(dict):
    """A plan's scenarios, as a worker sees them, that kill the worker at its second look.

    The worker process dies with SIGKILL in the middle of a chunk, once in the whole
    batch (a marker file says it happened).
    """

    def __init__(self, scenarios, marker: str) -> None:
        super().__init__(scenarios)
        self.marker = marker
        self.looks = 0

    def __getitem__(self, key):
        self.looks += 1
        if self.looks == 2:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return super().__getitem__(key)

    def __reduce__(self):  # sent to workers as what it is, with its marker
        return (DiesOnce, (dict(self), self.marker))


@pytest.mark.parametrize("on_dask", [False, True], ids=["local-pool", "dask"])
def test_a_worker_killed_mid_chunk_is_retried_and_the_batch_completes(tmp_path, baseline, request, on_dask):
    dask = request.getfixturevalue("dask_scheduler") if on_dask else None  # its workers can import DiesOnce
    # chunks of 4 runs over 2 sweep points each: a worker looks its scenario up once per point,
    # so its second look comes after two runs of the chunk are done
    plan = nb.make_plan([baseline.with_overrides({"run.months": 6})],
                        sweeps=[nb.parse_sweep("forum.interval=2,4,6,8")], replicates=2, seed=2)
    plain = nb.RunContext.for_plan(plan)
    marker = tmp_path / "killed"
    context = nb.RunContext(DiesOnce(plain.scenarios, str(marker)), plain.groups, plain.inputs)
    engine = make_engine(context, workers=2, dask=dask)
    try:
        outcome = nb.run_batch(plan, ResultStore(tmp_path / "s"), engine, chunk=4, command=["test"])
    finally:
        engine.close()
    assert marker.exists()  # a worker did die
    assert outcome.ran == 8 and not outcome.failures
    runs = ResultStore(tmp_path / "s").read("runs")
    assert len(runs) == 8 and runs["run_id"].is_unique and (runs["status"] == "ok").all()
    assert set(runs["run_id"]) == {r.run_id for r in plan.runs}
    monthly = ResultStore(tmp_path / "s").read("monthly")
    assert monthly.groupby("run_id").size().eq(7).all() and monthly["run_id"].nunique() == 8


def test_dask_goes_on_after_every_worker_holding_the_batch_s_context_dies(tmp_path, baseline, dask_scheduler):
    """The context every chunk needs outlives the workers that hold it.

    Dask keeps a single copy of a value once no task on another worker needs it, so a
    worker that dies mid-batch may hold the only one. Here every worker dies once the
    engine has sent the context (their nannies start new ones): the batch still completes.
    """
    from distributed import Client

    plan = nb.make_plan([baseline.with_overrides({"run.months": 6})], replicates=4, seed=3)
    engine = make_engine(nb.RunContext.for_plan(plan), workers=2, dask=dask_scheduler)
    try:
        with Client(dask_scheduler, timeout="60s") as client:
            for pid in client.run(os.getpid).values():
                os.kill(pid, signal.SIGKILL)
        outcome = nb.run_batch(plan, ResultStore(tmp_path / "s"), engine, chunk=2, command=["test"])
    finally:
        engine.close()
    assert outcome.ran == 4 and not outcome.failures
    runs = ResultStore(tmp_path / "s").read("runs")
    assert set(runs["run_id"]) == {r.run_id for r in plan.runs} and (runs["status"] == "ok").all()


# -- a full or read-only disk ---------------------------------------------------------------------


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS], ids=["full", "read-only"])
def test_a_full_or_read_only_disk_mid_batch_is_a_clear_error_and_nothing_is_corrupt(
        tmp_path, monkeypatch, undisturbed, error):
    real = ns.write_bytes_atomic
    commits = {"n": 0}

    def failing(path: Path, data) -> None:
        if commits["n"] >= 1:  # the disk fills (or turns read-only) once the first chunk is committed
            def half(tmp: Path) -> None:
                tmp.write_bytes(b"PAR1 half a file")
                raise OSError(error, os.strerror(error))
            return real(path, half)
        result = real(path, data)
        commits["n"] += Path(path).parent.name == "runs"  # a chunk's runs part is its commit record
        return result

    monkeypatch.setattr(ns, "write_bytes_atomic", failing)
    out = tmp_path / "d"
    r = invoke(*BATCH, "--out", str(out))
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output + r.stderr
    assert f"cannot write results in {out}" in lines[0] and os.strerror(error) in lines[0]
    assert "run the same command again to resume" in lines[0]
    assert_every_file_whole(out)
    assert not [f for t in ns.TABLES if (out / t).is_dir()
                for f in (out / t).iterdir() if f.name.startswith(".")]
    assert len(ResultStore(out).read("runs")) == 2  # the first chunk, whole
    monkeypatch.setattr(ns, "write_bytes_atomic", real)  # space again
    assert invoke(*BATCH, "--out", str(out)).exit_code == 0
    assert_complete(out, undisturbed)


# -- Ctrl-C ---------------------------------------------------------------------------------------


def test_ctrl_c_stops_cleanly_says_how_to_resume_and_resumes(tmp_path, undisturbed_big):
    out = tmp_path / "c"
    proc = _start_and_wait_for(out, 1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert f"interrupted; what finished is stored in {out}" in lines[0]
    assert "Run the same command again to resume" in lines[0]
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert_every_file_whole(out)
    assert 0 < len(ResultStore(out).read("runs")) < len(undisturbed_big["runs"])
    r = subprocess.run([str(VENV_BIN / "netsim"), *BIG, "--out", str(out)], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "resuming:" in r.stderr
    assert_complete(out, undisturbed_big)
