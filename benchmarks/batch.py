"""Batch throughput: runs per second with 1 and 2 workers, the store's overhead, and the
machine's parallel headroom, all measured in this one run.

    .venv/bin/python benchmarks/batch.py [--runs 2000] [--months 36] [--json out.json]

Figures:

* ``headroom``: how much faster two plain CPU-bound Python processes finish side by side
  than one after the other (these shared machines give 1.4x to 2x), measured before and
  after the batches and averaged.
* ``1 worker`` / ``2 workers``: ``run_batch`` into a fresh store (in-process engine, then
  the local process pool), from engine start to the last chunk stored.
* ``store overhead``: in the 1-worker batch, the time outside the runs themselves (outside
  ``simulate``: build, run, tables) as a share of the time in them: identity columns,
  Parquet encoding, atomic writes, the manifest, resume bookkeeping.
* ``parallel efficiency``: (speed-up of 2 workers over 1) / headroom; the goal is >= 0.9.
* ``10,000 runs on 2 workers``: extrapolated from the 2-worker rate; the goal is < 30 s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

from netsim import batch as nb
from netsim import load_scenario
from netsim.engines import make_engine
from netsim.store import ResultStore

ROOT = Path(__file__).resolve().parent.parent


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def _time_spin(n: int) -> float:
    start = time.perf_counter()
    _spin(n)
    return time.perf_counter() - start


def headroom(seconds: float = 2.0) -> tuple[float, float, float]:
    """(one after the other, side by side, ratio) for two plain CPU-bound processes."""
    n = 200_000
    while _time_spin(n) < 0.2:
        n *= 2
    n = int(n * seconds / 2 / _time_spin(n))
    ctx = mp.get_context("fork")
    start = time.perf_counter()
    for _ in range(2):
        p = ctx.Process(target=_spin, args=(n,))
        p.start()
        p.join()
    serial = time.perf_counter() - start
    start = time.perf_counter()
    procs = [ctx.Process(target=_spin, args=(n,)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    parallel = time.perf_counter() - start
    return serial, parallel, serial / parallel


class TimedSimulate:
    """Wraps ``netsim.batch.simulate`` to add up the time spent in the runs themselves."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.real = nb.simulate

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.real(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def batch(plan: nb.BatchPlan, context: nb.RunContext, workers: int, folder: Path) -> float:
    """Seconds for ``run_batch`` of the plan into a new store (engine start included)."""
    start = time.perf_counter()
    engine = make_engine(context, workers=workers)
    try:
        out = nb.run_batch(plan, ResultStore(folder), engine, command=["benchmarks/batch.py"])
    finally:
        engine.close()
    seconds = time.perf_counter() - start
    assert out.ran == len(plan.runs) and not out.failures
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="baseline runs per measurement")
    parser.add_argument("--months", type=int, default=None, help="months (default: the scenario's 36)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    sc = load_scenario(ROOT / "scenarios" / "baseline.toml")
    if args.months is not None:
        sc = sc.with_overrides({"run.months": args.months})
    plan = nb.make_plan([sc], replicates=args.runs, seed=1)
    context = nb.RunContext.for_plan(plan)
    nb.simulate(sc, seed=0, groups=next(iter(context.groups.values()), None))  # warm up (compile, caches)

    figures: dict[str, float] = {"runs": args.runs, "months": sc.params.run.months}
    _, _, ratio = headroom()
    with tempfile.TemporaryDirectory() as tmp:
        timed = TimedSimulate()
        nb.simulate = timed
        try:
            figures["workers_1_s"] = batch(plan, context, 1, Path(tmp) / "one")
        finally:
            nb.simulate = timed.real
        figures["runs_only_s"] = timed.seconds
        figures["workers_2_s"] = batch(plan, context, 2, Path(tmp) / "two")
        _, _, ratio_after = headroom()
        figures.update(headroom_before=ratio, headroom_after=ratio_after, headroom=(ratio + ratio_after) / 2)
        one, two = ResultStore(Path(tmp) / "one"), ResultStore(Path(tmp) / "two")
        same = one.read("monthly").equals(two.read("monthly"))
        size = sum(f.stat().st_size for f in (Path(tmp) / "two").rglob("*.parquet"))
    n = args.runs
    figures.update(
        runs_only_per_s=n / figures["runs_only_s"],
        workers_1_runs_per_s=n / figures["workers_1_s"],
        workers_2_runs_per_s=n / figures["workers_2_s"],
        store_overhead=(figures["workers_1_s"] - figures["runs_only_s"]) / figures["runs_only_s"],
        speedup=figures["workers_1_s"] / figures["workers_2_s"],
        store_mb=size / 1e6,
    )
    figures["parallel_efficiency"] = figures["speedup"] / figures["headroom"]
    figures["runs_10000_on_2_workers_s"] = 10_000 / figures["workers_2_runs_per_s"]

    rows = [
        ("plain-Python headroom, 2 processes", f"{figures['headroom']:.2f}x (before {ratio:.2f}x, "
                                               f"after {ratio_after:.2f}x)"),
        ("the runs alone (in the 1-worker batch)", f"{figures['runs_only_per_s']:.1f} runs/s"),
        ("batch, 1 worker (in-process)", f"{figures['workers_1_runs_per_s']:.1f} runs/s"),
        ("batch, 2 workers (process pool)", f"{figures['workers_2_runs_per_s']:.1f} runs/s"),
        ("store overhead", f"{figures['store_overhead']:.1%} of the run time "
                           f"({figures['store_mb']:.1f} MB of Parquet)"),
        ("speed-up of 2 workers over 1", f"{figures['speedup']:.2f}x"),
        ("parallel efficiency (speed-up / headroom)", f"{figures['parallel_efficiency']:.2f} (goal >= 0.9)"),
        ("10,000 runs on 2 workers", f"{figures['runs_10000_on_2_workers_s']:.1f} s (goal < 30 s)"),
        ("1 and 2 workers stored the same tables", str(same)),
    ]
    print(f"{n} baseline runs of {figures['months']} months, measured in one run:")
    for label, value in rows:
        print(f"  {label:<42} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
