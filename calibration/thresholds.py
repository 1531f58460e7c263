"""Threshold curves: the headline outcomes across each outcome-defining threshold's span.

    .venv/bin/python calibration/thresholds.py [--seeds 60] [--points 7] [--workers 2]
        [--population-seeds 0] [--out DIR] [--chart docs/threshold_curves.png]

The thresholds are the parameters the schema marks ``defines_outcome`` (what counts as a
network, as structured, as a shared ideology, as a cross-district marketing network):
cut-offs of the observer, not mechanisms. Each is swept alone over its plausible span
(``--points`` values, integers rounded) with the baseline's other values, ``--seeds``
runs per value through the batch engine, and the chart shows, per threshold (rows) and
headline outcome (columns), the mean over runs with its 95% confidence interval, the
default value marked. An outcome that swings from one extreme to the other inside a
threshold's span hangs on where the cut-off falls rather than on the mechanisms.

The outcomes include the flicker measures: the month-to-month share of participants
changing network type, and the median lifetime of a cross-district marketing network.
The chart is written as PNG and SVG beside the path given; the figures as CSV with
``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from experiments import ROOT, RUN_OUTCOMES, run_outcomes, run_plan, summarise_runs  # noqa: E402

from netsim import batch as nb  # noqa: E402
from netsim import load_scenario  # noqa: E402
from netsim.scenario import ParamSpec, parameters  # noqa: E402
from netsim.store import write_bytes_atomic  # noqa: E402

#: The headline outcomes charted (names of ``experiments.RUN_OUTCOMES``), in column order.
HEADLINE = ("loose", "structured", "shared_ideology", "both_kinds", "marketing_ever", "type_change",
            "marketing_lifetime")


def thresholds() -> list[ParamSpec]:
    """The outcome-defining thresholds the schema declares, each with a span to sweep."""
    return [s for s in parameters() if s.defines_outcome and s.span is not None]


def sweep_values(s: ParamSpec, points: int) -> tuple:
    """``points`` evenly spaced values over the span (integers: each whole number once)."""
    lo, hi = s.span  # type: ignore[misc]
    if s.kind == "int":
        return tuple(sorted({int(round(v)) for v in np.linspace(lo, hi, points)}))
    return tuple(float(round(v, 6)) for v in np.linspace(lo, hi, points))


def curves(scenario_path: Path, *, seeds: int, points: int, workers: int, populations: int,
           out: Path | None) -> pd.DataFrame:
    """Run every threshold's sweep; one row per (threshold, value) with each outcome's band."""
    base = load_scenario(scenario_path)
    frames = []
    for s in thresholds():
        values = sweep_values(s, points)
        plan = nb.make_plan([base], sweeps=[(s.key, values)], replicates=seeds, seed=1,
                            populations=populations, groups_every=1)
        print(f"{s.key}: {', '.join(map(str, values))}", file=sys.stderr)
        store = run_plan(plan, out / s.key if out else None, workers=workers)
        table, episodes = run_outcomes(store, by=("scenario", s.key))
        summary = summarise_runs(table, episodes, [s.key],
                                 [o for o in RUN_OUTCOMES if o.name in HEADLINE])
        frames.append(summary.rename(columns={s.key: "value"}).assign(threshold=s.key))
    return pd.concat(frames, ignore_index=True)


def chart(table: pd.DataFrame, path: Path, *, seeds: int, populations: int) -> None:
    """Rows: thresholds; columns: headline outcomes; mean and 95% band; default dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    specs = {s.key: s for s in thresholds()}
    keys = list(dict.fromkeys(table["threshold"]))
    outcomes = [o for o in RUN_OUTCOMES if o.name in HEADLINE and o.name in table]
    fig, axes = plt.subplots(len(keys), len(outcomes), figsize=(2.35 * len(outcomes), 1.75 * len(keys)),
                             squeeze=False, sharey="col")
    for i, key in enumerate(keys):
        part = table[table["threshold"] == key].sort_values("value")
        x = part["value"].to_numpy(dtype=float)
        for j, o in enumerate(outcomes):
            ax = axes[i, j]
            ax.fill_between(x, part[f"{o.name}_lo"], part[f"{o.name}_hi"], color="tab:blue", alpha=0.25,
                            linewidth=0)
            ax.plot(x, part[o.name], color="tab:blue", marker="o", markersize=2.5, linewidth=1.2)
            ax.axvline(float(specs[key].default), color="0.35", linestyle="--", linewidth=0.8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3, linewidth=0.5)
            if i == 0:
                ax.set_title(o.label, fontsize=8)
            if j == 0:  # the row's x axis is this threshold's value
                ax.set_ylabel(f"{key.removeprefix('emergence.').replace('_', ' ')}\n(x: {specs[key].unit})",
                              fontsize=8)
    where = f"{populations} population draws" if populations else "the shipped population"
    fig.suptitle("Headline outcomes across each outcome-defining threshold's plausible span "
                 f"(baseline, {seeds} runs per value, {where}; line: mean, band: 95% CI, "
                 "dashed: default). Counts per run at month 36; shares of runs; type changes: share "
                 "of participants per month; lifetime: median months of a marketing network",
                 fontsize=8.5, wrap=True)
    fig.tight_layout(rect=(0, 0, 1, 0.965))
    for p in (path.with_suffix(".png"), path.with_suffix(".svg")):
        write_bytes_atomic(p, lambda tmp, p=p: fig.savefig(tmp, format=p.suffix[1:], dpi=110))
    plt.close(fig)


def swings(table: pd.DataFrame) -> pd.DataFrame:
    """For each threshold and outcome: the mean at the span's two ends and its widest range."""
    rows = []
    for key, part in table.groupby("threshold", sort=False):
        part = part.sort_values("value")
        for name in HEADLINE:
            if name in part:
                v = part[name].to_numpy(dtype=float)
                rows.append({"threshold": key, "outcome": name, "at_low_end": v[0], "at_high_end": v[-1],
                             "widest_range": np.nanmax(v) - np.nanmin(v)})
    return pd.DataFrame(rows)


def main() -> None:
    """Sweep every threshold, print the swings, and draw the chart."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=60)
    parser.add_argument("--points", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--population-seeds", type=int, default=0)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    parser.add_argument("--out", type=Path, default=None, help="Keep the runs and the figures (CSV) here.")
    parser.add_argument("--chart", type=Path, default=ROOT / "docs" / "threshold_curves.png")
    args = parser.parse_args()
    start = time.perf_counter()
    table = curves(args.scenario, seeds=args.seeds, points=args.points, workers=args.workers,
                   populations=args.population_seeds, out=args.out)
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(swings(table).round(3).to_string(index=False))
    chart(table, args.chart, seeds=args.seeds, populations=args.population_seeds)
    if args.out:
        write_bytes_atomic(args.out / "threshold_curves.csv", lambda p: table.to_csv(p, index=False))
    print(f"wrote {args.chart.with_suffix('.png')} and .svg ({time.perf_counter() - start:.0f} s)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
