"""Start-up time of the quick commands: ``netsim --help``, ``netsim validate``, ``netsim scenarios``.

    python benchmarks/startup.py               # 15 fresh processes per command
    python benchmarks/startup.py --repeat 40 --json startup.json
    python benchmarks/startup.py --imports     # and the slowest imports of `netsim --help`

Each command is started as a fresh process of the installed ``netsim`` script (the numba
cache warm, Python's bytecode compiled), as a user starts it, and timed from start to
exit: wall time and CPU time (user + system, of the process and its children). The figure
is the median over the repeats, with the fastest beside it; the target is under 0.3 s.
For scale, the same table gives a bare ``python -c pass`` and ``python -c "import netsim"``
(the whole model: Mesa, numba, pandas), measured in the same run. These machines are
shared: the fastest run is the least disturbed by other work.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET = 0.3


def commands() -> dict[str, list[str]]:
    netsim = str(BIN / "netsim")
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "netsim --help": [netsim, "--help"],
        "netsim validate scenarios/baseline.toml": [netsim, "validate", "scenarios/baseline.toml"],
        "netsim scenarios": [netsim, "scenarios"],
        "python -c 'import netsim'": [sys.executable, "-c", "import netsim"],
    }


def time_once(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(repeat: int) -> list[dict[str, object]]:
    """Each command ``repeat`` times, interleaved so that load affects them alike."""
    cmds = commands()
    for cmd in cmds.values():  # once unmeasured: bytecode compiled, files in the page cache
        time_once(cmd)
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            samples[name].append(time_once(cmd))
    rows = []
    for name, s in samples.items():
        walls, cpus = [w for w, _ in s], [c for _, c in s]
        rows.append({"command": name, "wall_median_s": statistics.median(walls), "wall_min_s": min(walls),
                     "cpu_median_s": statistics.median(cpus), "cpu_min_s": min(cpus), "repeats": repeat})
    return rows


def slowest_imports(n: int = 12) -> list[tuple[int, str]]:
    """The modules whose import (with what they import) takes longest in ``netsim --help``."""
    code = "import sys; sys.argv = ['netsim', '--help']; from netsim.cli import main; main()"
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True,
                       text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    rows = []
    for line in r.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.split("|")
            rows.append((int(cumulative.strip()), name.rstrip()))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="fresh processes per command")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--imports", action="store_true", help="list the slowest imports of --help")
    args = parser.parse_args()
    rows = measure(args.repeat)
    print(f"{'command':44} {'wall median':>11} {'wall min':>9} {'cpu median':>11} {'cpu min':>8}")
    for r in rows:
        flag = "" if r["command"].startswith("python") else (
            "  ok" if r["wall_median_s"] < TARGET else f"  over {TARGET} s")
        print(f"{r['command']:44} {r['wall_median_s']:10.3f}s {r['wall_min_s']:8.3f}s "
              f"{r['cpu_median_s']:10.3f}s {r['cpu_min_s']:7.3f}s{flag}")
    if args.imports:
        print("\nslowest imports of `netsim --help` (cumulative, ms):")
        for us, name in slowest_imports():
            print(f"  {us / 1000:8.1f}  {name}")
    if args.json:
        args.json.write_text(json.dumps({"target_s": TARGET, "python": sys.version.split()[0], "rows": rows},
                                        indent=2))


if __name__ == "__main__":
    main()
