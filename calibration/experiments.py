"""Experiments on the model through the batch engine, and the outcomes of each run.

Shared by ``mechanisms.py`` (each mechanism switched off or up, against the baseline)
and ``thresholds.py`` (the headline outcomes across each outcome-defining threshold's
plausible span). Runs go through :mod:`netsim.batch` (seeds from ``SeedSequence``, the
same results on any number of workers), with the per-group table stored every month so
that flicker can be measured.

Outcomes of a run (:data:`RUN_OUTCOMES`) come from its monthly and per-group tables:
final-month figures; whether both kinds of network exist at the end, and a cross-district
marketing network at the end and at any month (the conditions of :mod:`netsim.outcomes`,
read as there); the share of participants whose network type changes from one month to
the next; and how long marketing networks last. An outcome whose column the model does
not output (yet) is left out rather than guessed.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netsim import batch as nb  # noqa: E402
from netsim.engines import make_engine  # noqa: E402
from netsim.outcomes import OUTCOMES, timeline  # noqa: E402
from netsim.scenario import Scenario  # noqa: E402
from netsim.store import ResultStore  # noqa: E402

__all__ = ["RUN_OUTCOMES", "Outcome", "marketing_lifetimes", "run_outcomes", "run_plan", "summarise_runs"]


@dataclass(frozen=True)
class Outcome:
    """One outcome of a run.

    Attributes:
        name: Column of :func:`run_outcomes`.
        label: Short heading for tables and charts.
        fmt: Number format in tables.
        needs: Monthly output the outcome is read from (left out if the model lacks it).
    """

    name: str
    label: str
    fmt: str
    needs: str = ""


#: Outcomes of each run, in table order. ``needs`` names the monthly output read, if any.
RUN_OUTCOMES: tuple[Outcome, ...] = (
    Outcome("ties", "ties", "{:.0f}", "ties"),
    Outcome("joint_activity", "joint activity", "{:.1f}", "joint_activity"),
    Outcome("largest_cluster", "largest cluster", "{:.1f}", "largest_cluster"),
    Outcome("loose", "loose", "{:.2f}", "loose"),
    Outcome("structured", "structured", "{:.2f}", "structured"),
    Outcome("shared_ideology", "shared ideology", "{:.2f}", "shared_ideology"),
    Outcome("structured_share", "in structured", "{:.0%}", "structured_share"),
    Outcome("both_kinds", "loose and structured", "{:.0%}", "loose"),
    Outcome("marketing_end", "marketing at end", "{:.0%}", "marketing_network"),
    Outcome("marketing_ever", "marketing ever", "{:.0%}", "marketing_network"),
    Outcome("type_change", "type changes / month", "{:.1%}"),
    Outcome("marketing_lifetime", "marketing lifetime (median months)", "{:.1f}"),
)


def run_plan(plan: nb.BatchPlan, out: Path | None, *, workers: int, quiet: bool = False) -> ResultStore:
    """Run a plan through the batch engine into ``out`` (resumed if there), or a temporary folder."""
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="netsim-experiment-")) / "runs"
    context = nb.RunContext.for_plan(plan)
    engine = make_engine(context, workers=workers)
    try:
        with nb.progress_bar(enabled=not quiet) as bar:
            outcome = nb.run_batch(plan, ResultStore(out), engine, on_start=bar["start"],
                                   on_chunk=bar["chunk"])
    finally:
        engine.close()
    if outcome.failures:
        raise RuntimeError(f"{len(outcome.failures)} runs failed, e.g. {outcome.failures[0]}")
    return ResultStore(out)


def _episodes(flags: np.ndarray) -> list[int]:
    """Lengths of the runs of consecutive 1s in a 0/1 series."""
    padded = np.concatenate([[0], flags.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return (edges[1::2] - edges[::2]).tolist()


def marketing_lifetimes(monthly: pd.DataFrame) -> pd.Series:
    """Each run's marketing-network episodes: lengths in months of consecutive months with one.

    An episode still running at the last month is counted as it stands (censored).
    """
    monthly = monthly.sort_values(["run_id", "month"])
    on = OUTCOMES["marketing"].holds(monthly)
    return on.groupby(monthly["run_id"], sort=False).apply(lambda s: _episodes(s.to_numpy()))


def type_change_share(groups: pd.DataFrame) -> pd.Series:
    """Per run: the share of participant-months whose network type changed since the month before.

    The type is one of :data:`netsim.state.NETWORK_TYPES`; months 1 on. Needs the
    per-group table of every month (``groups_every=1``); a group counts in a month if it
    took part both then and the month before.
    """
    g = groups.sort_values(["run_id", "group_id", "month"], ignore_index=True)
    code = g["network_type"].astype(str).to_numpy(dtype=object)  # one of NETWORK_TYPES
    same = (g["run_id"].to_numpy()[1:] == g["run_id"].to_numpy()[:-1]) \
        & (g["group_id"].to_numpy()[1:] == g["group_id"].to_numpy()[:-1]) \
        & (np.diff(g["month"].to_numpy()) == 1)
    both = same & g["participating"].to_numpy()[1:] & g["participating"].to_numpy()[:-1]
    changed = both & (code[1:] != code[:-1])
    runs = g["run_id"].to_numpy()[1:]
    frame = pd.DataFrame({"run_id": runs[both], "changed": changed[both]})
    return frame.groupby("run_id")["changed"].mean()


def run_outcomes(store: ResultStore, *, by: Sequence[str] = ("scenario",)) -> tuple[pd.DataFrame, pd.Series]:
    """One row per run: its identity columns ``by`` and every outcome the model provides.

    Returns:
        The table, and each run's marketing-network episode lengths (for pooled medians).
    """
    monthly = store.read("monthly")
    last = monthly[monthly["month"] == monthly.groupby("run_id")["month"].transform("max")]
    table = last.set_index("run_id")[list(by)].copy()
    read = {"both_kinds": ("both", "at_end"), "marketing_end": ("marketing", "at_end"),
            "marketing_ever": ("marketing", "ever")}  # conditions of netsim.outcomes, read so
    for o in RUN_OUTCOMES:
        if o.needs and o.needs not in monthly:
            continue
        if o.name in read:
            what, how = read[o.name]
            table[o.name] = timeline(monthly, OUTCOMES[what])[how]
        elif o.needs:
            table[o.name] = last.set_index("run_id")[o.needs]
    groups = store.read("groups", columns=["run_id", "month", "group_id", "participating", "network_type"])
    table["type_change"] = type_change_share(groups)
    episodes = marketing_lifetimes(monthly)
    table["marketing_lifetime"] = episodes.map(lambda e: float(np.median(e)) if e else np.nan)
    return table.reset_index(), episodes


def _ci(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and a normal-approximation 95% confidence interval of the mean."""
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return (np.nan, np.nan, np.nan)
    m = float(values.mean())
    half = 1.96 * float(values.std(ddof=1)) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return (m, m - half, m + half)


def _pooled_median(episodes: pd.Series, run_ids: Sequence[str], rng: np.random.Generator,
                   draws: int = 400) -> tuple[float, float, float]:
    """Median of the pooled episode lengths of some runs, with a bootstrap (over runs) 95% band."""
    per_run = [episodes.get(r, []) for r in run_ids]
    pooled = [x for e in per_run for x in e]
    if not pooled:
        return (np.nan, np.nan, np.nan)
    meds = []
    for _ in range(draws):
        pick = rng.integers(0, len(per_run), len(per_run))
        sample = [x for i in pick for x in per_run[i]]
        if sample:
            meds.append(np.median(sample))
    lo, hi = np.percentile(meds, [2.5, 97.5])
    return (float(np.median(pooled)), float(lo), float(hi))


def summarise_runs(table: pd.DataFrame, episodes: pd.Series, by: Sequence[str],
                   outcomes: Sequence[Outcome] | None = None) -> pd.DataFrame:
    """Mean and 95% band of each outcome by ``by``: columns ``NAME``, ``NAME_lo``, ``NAME_hi``.

    Shares and counts: the mean over runs and a normal 95% confidence interval. The
    marketing network's lifetime: the median of the episodes pooled over the runs, with
    a bootstrap band over runs. ``runs`` counts the runs.
    """
    outcomes = [o for o in (outcomes or RUN_OUTCOMES) if o.name in table]
    rng = np.random.default_rng(0)
    rows = []
    for key, part in table.groupby(list(by), sort=False):
        row: dict[str, object] = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        row["runs"] = len(part)
        for o in outcomes:
            if o.name == "marketing_lifetime":
                stats = _pooled_median(episodes, part["run_id"].tolist(), rng)
            else:
                stats = _ci(part[o.name].to_numpy(dtype=float))
            row[o.name], row[f"{o.name}_lo"], row[f"{o.name}_hi"] = stats
        rows.append(row)
    return pd.DataFrame(rows)


def scenario_variant(base: Scenario, name: str, overrides: dict[str, object]) -> Scenario:
    """The base scenario with ``overrides`` (validated by the schema), named ``name``."""
    sc = base.with_overrides(overrides, source=name) if overrides else base
    return Scenario(name, sc.question, sc.params, sc.path, sc.sha256, sc.root)


def formatter(outcome: Outcome) -> Callable[[float], str]:
    """Format a value of the outcome for a table (an em dash for none)."""
    return lambda v: "—" if v is None or (isinstance(v, float) and np.isnan(v)) else outcome.fmt.format(v)
