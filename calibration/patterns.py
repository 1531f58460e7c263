"""How well the baseline reproduces the field study's six patterns, over many seeds.

    .venv/bin/python calibration/patterns.py [--seeds 60] [--scenario scenarios/baseline.toml]

Runs the scenario for seeds 0, 1, ..., N-1 and prints, for each pattern of the study
(docs/odd.md, Section 1), how often and how closely the runs show it. These are the
figures the ODD's table quotes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netsim import NetworkModel, load_scenario  # noqa: E402


def runs(scenario_path: Path, seeds: int) -> pd.DataFrame:
    """The monthly tables of ``seeds`` runs, stacked, with a ``seed`` column."""
    scenario = load_scenario(scenario_path)
    tables = []
    for seed in range(seeds):
        model = NetworkModel.from_scenario(scenario, rng=seed)
        model.run_model()
        tables.append(model.monthly_table().assign(seed=seed))
    return pd.concat(tables, ignore_index=True)


def report(df: pd.DataFrame, followup_start: int, first_review: int) -> list[str]:
    """One line per pattern."""
    n = df["seed"].nunique()
    last = df[df["month"] == df["month"].max()].set_index("seed")
    start = df[df["month"] == 0].set_index("seed")
    later = df[df["month"] >= followup_start]
    widest = later.groupby("seed")["marketing_network_districts"].max()
    formed = later[later["marketing_network"] == 1].groupby("seed")["month"].min()
    review = df[df["month"] == first_review].set_index("seed")["revised_plan_share"]
    year = df[df["month"] == 12].set_index("seed")["revised_plan_share"]
    trust0 = df[df["month"] == followup_start].set_index("seed")["mean_trust"]
    rises = (last["mean_trust"] > trust0).sum()
    both = ((last["loose"] > 0) & ((last["structured"] + last["shared_ideology"]) > 0)).sum()
    spans = widest.value_counts().sort_index()
    return [
        f"1  participants at month 0: mean {start['participants'].mean():.1f}, median "
        f"{start['participants'].median():.0f}, sd {start['participants'].std():.1f}, range "
        f"{start['participants'].min()}-{start['participants'].max()}; districts "
        f"{start['districts'].min()}-{start['districts'].max()}",
        f"2  a cross-district marketing network from month {followup_start} on in {len(formed)} of "
        f"{n} runs ({len(formed) / n:.0%}); first month {formed.min() if len(formed) else '-'}-"
        f"{formed.max() if len(formed) else '-'} (median {formed.median() if len(formed) else '-'}); "
        f"widest span (districts: runs) { {int(k): int(v) for k, v in spans.items()} }",
        f"3  at the end: loose in {(last['loose'] > 0).sum()}, structured in "
        f"{((last['structured'] + last['shared_ideology']) > 0).sum()}, both in {both} ({both / n:.0%})",
        f"4  shared ideology at the end in {(last['shared_ideology'] > 0).sum()} runs; in any month in "
        f"{df[df['shared_ideology'] > 0]['seed'].nunique()}",
        f"5  revised-plan share at month {first_review}: mean {review.mean():.2f} (range "
        f"{review.min():.2f}-{review.max():.2f}, above 0.5 in {(review > 0.5).sum()}); month 12 mean "
        f"{year.mean():.2f} ({year.min():.2f}-{year.max():.2f}); end {last['revised_plan_share'].min():.2f}-"
        f"{last['revised_plan_share'].max():.2f}",
        f"6  mean trust rises from month {followup_start} to the end in {rises} of {n} runs: "
        f"{trust0.mean():.3f} ({trust0.min():.3f}-{trust0.max():.3f}) to {last['mean_trust'].mean():.2f} "
        f"({last['mean_trust'].min():.2f}-{last['mean_trust'].max():.2f})",
    ]


def main() -> None:
    """Run the seeds and print the six lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=60)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    args = parser.parse_args()
    p = load_scenario(args.scenario).params
    df = runs(args.scenario, args.seeds)
    print(f"{args.scenario.name}, seeds 0-{args.seeds - 1}:")
    for line in report(df, p.followup.start_month, p.review.start_month):
        print(line)


if __name__ == "__main__":
    main()
