"""This tree's baseline run against an earlier revision's, side by side in one run.

    python benchmarks/versus.py 128473f                # 5 rounds of each
    python benchmarks/versus.py 128473f --rounds 9 --json versus.json

The earlier revision is checked out into a temporary worktree (``git worktree``; removed
afterwards). Each round runs ``bench_baseline`` of ``benchmarks/run.py``, each tree's own,
in a fresh process for the earlier tree and then for this one (the order alternates from
round to round), so both see the same machine within seconds of each other. Each gives
its baseline run (54-group study, 36 months), the empty Mesa model of as many agents and
months measured beside it, and their ratio, which does not depend on the machine's speed.

Printed: each round's ratios, and over the rounds the median of each tree's ratio and the
median of the per-round quotient (this tree's ratio / the earlier one's). That quotient
is what "no more than 20% slower than the earlier model" is about: at most 1.2.

The earlier revision's numba kernels are compiled on its first run (a minute or two).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_PROBE = """
import importlib.util, json, sys
root = sys.argv[1]
sys.path.insert(0, root)
spec = importlib.util.spec_from_file_location("bench", root + "/benchmarks/run.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
print(json.dumps(bench.bench_baseline(int(sys.argv[2]))))
"""


def _fail(message: str) -> None:
    print(f"versus.py: {message}", file=sys.stderr)
    raise SystemExit(2)


def measure(tree: Path, repeats: int) -> dict[str, float]:
    """``bench_baseline`` of ``tree``'s own benchmarks/run.py, in a fresh process started in it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", _PROBE, str(tree), str(repeats)], cwd=tree, env=env,
                         capture_output=True, text=True)
    if out.returncode:
        last = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
        _fail(f"the benchmark of {tree} failed: {last}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", help="the earlier revision (any git revision: a commit, a tag)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each timing both trees")
    parser.add_argument("--repeats", type=int, default=21, help="timed runs of each tree per round")
    parser.add_argument("--json", type=Path, help="write the rounds and medians here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="netsim-versus-") as tmp:
        earlier = Path(tmp) / "earlier"
        added = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(earlier),
                                args.revision], capture_output=True, text=True)
        if added.returncode:
            _fail(f"cannot check out {args.revision!r}: "
                  f"{added.stderr.strip().splitlines()[-1] if added.stderr.strip() else 'git failed'}")
        try:
            print(f"compiling {args.revision}'s kernels (first run) ...", flush=True)
            measure(earlier, 1)
            rounds = []
            for i in range(args.rounds):
                order = [("earlier", earlier), ("this", ROOT)]
                got = dict((name, measure(tree, args.repeats)) for name, tree in
                           (order if i % 2 == 0 else order[::-1]))
                quotient = got["this"]["ratio_to_floor"] / got["earlier"]["ratio_to_floor"]
                rounds.append({**got, "quotient": quotient})
                print(f"round {i + 1}: {args.revision} {got['earlier']['baseline_run_ms']:.2f} ms / "
                      f"{got['earlier']['empty_mesa_floor_ms']:.2f} ms = "
                      f"{got['earlier']['ratio_to_floor']:.2f};  this tree "
                      f"{got['this']['baseline_run_ms']:.2f} ms / {got['this']['empty_mesa_floor_ms']:.2f} ms"
                      f" = {got['this']['ratio_to_floor']:.2f};  quotient {quotient:.2f}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(earlier)],
                           check=False)
    medians = {name: statistics.median(r[name]["ratio_to_floor"] for r in rounds)
               for name in ("earlier", "this")}
    quotient = statistics.median(r["quotient"] for r in rounds)
    print(f"median ratio to the Mesa floor: {args.revision} {medians['earlier']:.2f}, this tree "
          f"{medians['this']:.2f}; median quotient {quotient:.2f} (at most 1.2: no more than 20% slower)")
    if args.json:
        args.json.write_text(json.dumps({"revision": args.revision, "rounds": rounds,
                                         "median_ratio": medians, "median_quotient": quotient}, indent=2))


if __name__ == "__main__":
    main()
