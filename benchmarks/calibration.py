"""Calibration throughput: simulations per second through `netsim calibrate`, beside the batch engine's own.

    .venv/bin/python benchmarks/calibration.py [--particles 100] [--generations 3] [--workers 2]

Both are measured in this one run, on the same engine and the same number of workers:

* ``batch engine``: ``run_batch`` of as many baseline runs as the calibration simulated,
  into a fresh result store (what ``netsim batch`` does);
* ``calibration``: a fresh ABC-SMC calibration (calibration/targets.toml, the given
  particles and generations), from the first generation to the last stored, divided
  into the simulations it ran;
* ``of which simulating``: the share of the calibration's wall time spent in the batch
  engine (the rest is pyabc: proposals twice, weights, the SQLite history).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from netsim import batch as nb
from netsim import calibration as cal
from netsim.engines import make_engine
from netsim.patterns import read_targets
from netsim.store import ResultStore

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--particles", type=int, default=100)
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--targets", type=Path, default=ROOT / "calibration" / "targets.toml")
    args = ap.parse_args()

    targets = read_targets(args.targets)
    sim = cal.Simulator(targets)
    engine = make_engine(sim.context, workers=args.workers)
    settings = cal.Settings(particles=args.particles, generations=args.generations, budget=10**9, seed=1,
                            min_acceptance=0.0)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = cal.calibrate(targets, Path(tmp) / "bench.db", settings, engine, simulator=sim)
        cal_seconds = time.perf_counter() - start
        n = sim.simulations
        engine.close()

        plan = nb.make_plan([sim.scenario], replicates=n, seed=1)
        context = nb.RunContext.for_plan(plan)
        engine = make_engine(context, workers=args.workers)
        start = time.perf_counter()
        nb.run_batch(plan, ResultStore(Path(tmp) / "batch"), engine, command=["benchmark"])
        batch_seconds = time.perf_counter() - start
        engine.close()
    print(f"{args.workers} worker(s), {result.generations} generations of {args.particles} particles")
    print(f"calibration:       {n} simulations in {cal_seconds:.1f} s = {n / cal_seconds:.0f} simulations/s")
    print(f"  of which simulating: {sim.seconds / cal_seconds:.0%} of the wall time")
    print(f"batch engine:      {n} runs in {batch_seconds:.1f} s = {n / batch_seconds:.0f} runs/s")
    print(f"ratio calibration / batch engine: {batch_seconds / cal_seconds:.2f}")


if __name__ == "__main__":
    main()
