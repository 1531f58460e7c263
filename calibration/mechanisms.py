"""What each mechanism does to the baseline: switched off (or up), over many seeds.

    .venv/bin/python calibration/mechanisms.py [--seeds 60] [--workers 2] [--population-seeds 0]
        [--out DIR] [--only NAME ...] [--odd docs/odd.md]

For each entry of :data:`MECHANISMS` the baseline scenario is run with the entry's
``--set`` overrides, for the same seeds as the baseline itself (``--seeds`` replicates
through the batch engine, so the figures do not depend on the number of workers), and the
means of the run outcomes of ``experiments.RUN_OUTCOMES`` are printed as a markdown table:
ties, joint activity, networks by type, the share of participants in structured networks,
a cross-district marketing network at the end and at any month, the month-to-month share
of participants changing network type, and the marketing network's median lifetime.

The table is written to ``DIR/mechanisms.md`` (with ``--out``) and, with ``--odd``, into
``docs/odd.md`` between the markers ``<!-- mechanism table: ... -->`` and
``<!-- end of mechanism table -->`` (its figures replaced, nothing else touched).

To add a mechanism, add a :class:`Mechanism` to :data:`MECHANISMS`: a name, what it
changes in the groups' behaviour, and the overrides that switch it off (or up).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from experiments import (  # noqa: E402
    ROOT,
    RUN_OUTCOMES,
    formatter,
    run_outcomes,
    run_plan,
    scenario_variant,
    summarise_runs,
)

from netsim import batch as nb  # noqa: E402
from netsim import load_scenario  # noqa: E402
from netsim.store import write_bytes_atomic  # noqa: E402


@dataclass(frozen=True)
class Mechanism:
    """One mechanism of the model and how to switch it off (or up).

    Attributes:
        name: Short name (the table's row).
        changes: What it changes in the groups' behaviour, in a few words.
        overrides: The ``--set`` values that switch it off (or up), by dotted key.
    """

    name: str
    changes: str
    overrides: dict[str, object] = field(default_factory=dict)


#: The mechanisms measured, in table order. Each is switched off unless its name says "up".
MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism("exchange forums off", "groups meet others at forums (ties) and are inspired",
              {"forum.interval": 0}),
    Mechanism("forum homophily off", "forum partners chosen regardless of district and kind",
              {"forum.homophily_district": 0.0, "forum.homophily_kind": 0.0}),
    Mechanism("complementarity off", "forum partners chosen regardless of strengths and weaknesses",
              {"forum.complementarity": 0.0}),
    Mechanism("inspiration off", "forums leave inspiration (attendance, revisions, closure) unchanged",
              {"forum.inspiration_gain": 0.0}),
    Mechanism("follow-up off", "no visits: no trust, capacity or introductions from the team",
              {"followup.visits_per_month": 0}),
    Mechanism("introductions off", "visits never introduce a group to one of another district",
              {"followup.introduction_prob": 0.0}),
    Mechanism("trust effect off", "trust neither adds visits nor raises forum attendance",
              {"followup.ease_with_trust": 0.0, "forum.attendance_trust": 0.0}),
    Mechanism("joint activity off", "groups never act together along their ties",
              {"interaction.activity_rate": 0.0}),
    Mechanism("triadic closure off", "groups never tie to friends of friends",
              {"interaction.closure_rate": 0.0}),
    Mechanism("reviews off", "no plan revisions, no convergence of goals or values",
              {"review.interval": 0}),
    Mechanism("goal convergence off", "reviews leave goals where they are",
              {"review.goal_convergence": 0.0}),
    Mechanism("decay off", "unused ties keep their strength",
              {"decay.rate": 0.0}),
    Mechanism("forum meetings off", "a structured network forum's monthly meeting keeps its members' ties up",
              {"emergence.meeting_gain": 0.0}),
    Mechanism("forum hysteresis off", "forums lapse to loose and dissolve at once, not after a lapse",
              {"emergence.lapse_months": 0, "emergence.dissolve_after": 0}),
    Mechanism("leadership growth off", "coordinating and inspiration no longer grow a group's leadership",
              {"emergence.leadership_gain": 0.0, "interaction.inspiration_leadership": 0.0}),
    Mechanism("plans shape activity off", "a revised (better) plan no longer raises joint activity",
              {"interaction.plan_effect": 0.0}),
    Mechanism("trust can fall off", "trust no longer falls when the team stops coming",
              {"followup.trust_decay": 0.0}),
    Mechanism("supported joint work off", "visits no longer support joint work along new cross-district ties",
              {"followup.network_support": 0.0}),
    Mechanism("tie capacity off", "a group keeps up (works along, meets along, keeps from wearing) "
              "only its strongest ties; off: any number",
              {"decay.tie_capacity": 10000}),
    Mechanism("durable shared values off", "shared values no longer slow the decay of a tie",
              {"decay.value_durability": 0.0}),
    Mechanism("ideology forums (up)", "forums pull the values of the groups who meet together",
              {"forum.topic": "ideology"}),
    Mechanism("intensive follow-up (up)", "three times the visits, bridging districts first",
              {"followup.visits_per_month": 15, "followup.policy": "bridge"}),
)

BASELINE = "baseline"
BEGIN = "<!-- mechanism table: generated by calibration/mechanisms.py; do not edit by hand -->"
END = "<!-- end of mechanism table -->"


def _switch(overrides: dict[str, object]) -> str:
    return ", ".join(f"`{k}={v}`" for k, v in overrides.items()) or "—"


def table_markdown(summary: pd.DataFrame, mechanisms: tuple[Mechanism, ...], *, seeds: int,
                   populations: int) -> str:
    """The markdown table: one row per mechanism, baseline first, means over the runs."""
    outcomes = [o for o in RUN_OUTCOMES if o.name in summary]
    by_name = summary.set_index("scenario")
    head = ["mechanism", "switched by", *(o.label for o in outcomes)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, switch in [(BASELINE, "—"), *((m.name, _switch(m.overrides)) for m in mechanisms)]:
        row = by_name.loc[name]
        cells = [name, switch, *(formatter(o)(row[o.name]) for o in outcomes)]
        lines.append("| " + " | ".join(cells) + " |")
    where = (f"{populations} synthetic draws of the population (replicate r on draw r mod {populations})"
             if populations else "the shipped population")
    lines.append("")
    lines.append(f"Means over {seeds} runs each (batch seeds from `SeedSequence`, base seed 1; {where}); "
                 "final month unless said. Counts of networks are per run; *marketing at end / ever*: "
                 "share of runs with a cross-district marketing network at month 36 / at any month; "
                 "*type changes / month*: share of participants whose network type differs from the "
                 "month before (months 1-36); *marketing lifetime*: median length of the spells of "
                 "consecutive months with a marketing network, pooled over runs (spells running at "
                 "month 36 counted as they stand). Regenerate with `python calibration/mechanisms.py "
                 "--odd docs/odd.md`.")
    return "\n".join(lines)


def changes_markdown(mechanisms: tuple[Mechanism, ...]) -> str:
    """What each mechanism changes in the groups' behaviour (the companion list)."""
    return "\n".join(f"- *{m.name}*: {m.changes}." for m in mechanisms)


def write_into_odd(path: Path, text: str) -> None:
    """Replace what lies between the table's markers in ``path`` (the markers must be there)."""
    doc = path.read_text(encoding="utf-8")
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{path}: no markers {BEGIN!r} ... {END!r} to write the table between")
    start = doc.index(BEGIN) + len(BEGIN)
    doc = doc[:start] + "\n" + text + "\n" + doc[doc.index(END):]
    write_bytes_atomic(path, lambda p: Path(p).write_text(doc, encoding="utf-8"))


def main() -> None:
    """Run the baseline and every mechanism switched, and print (and write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=60,
                        help="Runs of each variant (at least 60 for the ODD).")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--population-seeds", type=int, default=0,
                        help="Run over an ensemble of this many synthetic populations (0: the shipped one).")
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    parser.add_argument("--only", nargs="*", default=None, help="Only these mechanisms (by name).")
    parser.add_argument("--out", type=Path, default=None, help="Keep the runs and the table in this folder.")
    parser.add_argument("--odd", type=Path, default=None, help="Write the table into this ODD file.")
    args = parser.parse_args()
    mechanisms = tuple(m for m in MECHANISMS if args.only is None or m.name in args.only)
    base = load_scenario(args.scenario)
    variants = [scenario_variant(base, BASELINE, {})]
    variants += [scenario_variant(base, m.name, m.overrides) for m in mechanisms]
    plan = nb.make_plan(variants, replicates=args.seeds, seed=1, populations=args.population_seeds,
                        groups_every=1)
    start = time.perf_counter()
    store = run_plan(plan, args.out / "runs" if args.out else None, workers=args.workers)
    table, episodes = run_outcomes(store)
    summary = summarise_runs(table, episodes, ["scenario"])
    text = table_markdown(summary, mechanisms, seeds=args.seeds, populations=args.population_seeds)
    print(text)
    print()
    print(changes_markdown(mechanisms))
    print(f"\n({len(plan.runs)} runs in {time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if args.out:
        write_bytes_atomic(args.out / "mechanisms.md", lambda p: Path(p).write_text(
            text + "\n\n" + changes_markdown(mechanisms) + "\n", encoding="utf-8"))
        write_bytes_atomic(args.out / "mechanisms.csv", lambda p: summary.to_csv(p, index=False))
    if args.odd:
        write_into_odd(args.odd, text + "\n\n" + changes_markdown(mechanisms))


if __name__ == "__main__":
    main()
