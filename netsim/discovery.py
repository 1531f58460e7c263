"""Scenario discovery: which parameter ranges lead to an outcome, by PRIM over a sweep's runs.

PRIM (the patient rule induction method, Friedman and Fisher 1999) peels a box of
parameter ranges around the runs where an outcome happened, trading *coverage* (the share
of those runs inside the box) against *density* (the share of runs inside the box where
it happened). We use the EMA Workbench's implementation (``ema_workbench.analysis.prim``)
and choose, on its peeling trajectory, the densest box that still covers at least
``min_coverage`` of the cases.

Outcomes are those of :mod:`netsim.outcomes` (a named outcome or a threshold on any
monthly output), read over each run's months in one of its ways: at the end, ever, for at
least K months, or by month M. The runs' varied parameters are the sweep's inputs, the
scenario (when a batch has several) and every parameter on which its scenarios differ;
numbers, integers, text and true/false values are all handled.

EMA Workbench 3.0 under pandas 3 fails in two places that this module steps around: it
writes a category set into a float table when asked for a box's limits
(``PrimBox.inspect(style="data")``), and it writes a non-integer pasting value into an
integer column (quaquel/EMAworkbench#448). The limits are therefore read from the box's
own ``box_lims`` and ``p_values``, and integer columns are given to PRIM as floats (a
box edge between two integers is then narrowed to the integers inside it).

Example:
    >>> import numpy as np, pandas as pd
    >>> x = pd.DataFrame({"a": np.linspace(0, 1, 200), "b": np.tile([0.0, 1.0], 100)})
    >>> found = discover(x, (x["a"] > 0.7).to_numpy())
    >>> round(found.density, 2), found.limits["parameter"].tolist()
    (1.0, ['a'])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from netsim.batch import BatchError
from netsim.outcomes import Outcome, OutcomeError, Reading, outcome, reading, timeline
from netsim.store import ResultStore

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["MIN_CASES", "Discovery", "chart", "discover", "discover_in", "outcome_table"]

#: Fewer runs with (or without) the outcome than this, and a box is not to be trusted.
MIN_CASES = 10
_LIMIT_COLUMNS = ["parameter", "low", "high", "range_low", "range_high", "qp_value"]


@dataclass
class Discovery:
    """A PRIM box.

    Attributes:
        limits: One row per restricted parameter: ``parameter``, ``low``, ``high`` (the
            box), ``range_low``, ``range_high`` (the values the runs spanned) and
            ``qp_value`` (quasi-p value of the restriction).
        coverage: Share of the runs with the outcome that fall in the box.
        density: Share of the runs in the box that have the outcome.
        mass: Share of all runs in the box.
        runs: Runs analysed.
        cases: Runs with the outcome.
        trajectory: PRIM's peeling trajectory (coverage, density, mass, res_dim per step).
        chosen: Index of the chosen box on the trajectory.
        warnings: Why the box may not be trusted (too few cases, a box of zero width).
    """

    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    runs: int
    cases: int
    trajectory: pd.DataFrame
    chosen: int
    warnings: list[str] = field(default_factory=list)


def _prim() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optional extras it does not find (ipyparallel, altair)
        from ema_workbench.analysis import prim
    return prim


def discover(x: pd.DataFrame, y: np.ndarray, *, min_coverage: float = 0.5, peel_alpha: float = 0.05,
             mass_min: float = 0.05) -> Discovery:
    """Find the box of parameter ranges where ``y`` is true.

    Args:
        x: One row per run, one column per parameter (numbers or categories).
        y: Whether each run had the outcome.
        min_coverage: The chosen box is the densest on PRIM's trajectory whose coverage
            is at least this.
        peel_alpha: Share of the runs peeled at each step.
        mass_min: Smallest share of the runs a box may hold.

    Raises:
        BatchError: No run, or every run, had the outcome (nothing to tell apart).
    """
    y = np.asarray(y, dtype=bool)
    if not y.any() or y.all():
        raise BatchError(f"{'no' if not y.any() else 'every'} run of {len(y)} had the outcome; "
                         "PRIM needs runs with and without it (sweep wider ranges, or read the outcome "
                         "another way: --reading ever, for:K, by:M)")
    x = x.reset_index(drop=True).copy()
    integers = [c for c in x.columns if pd.api.types.is_integer_dtype(x[c]) and x[c].dtype != bool]
    for c in x.columns:
        if c in integers:
            x[c] = x[c].astype(float)  # EMA pastes non-integer edges into integer columns
        elif x[c].dtype == bool or not pd.api.types.is_numeric_dtype(x[c]):
            x[c] = x[c].astype(str).astype(object)
    prim = _prim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, y.astype(int), peel_alpha=peel_alpha, mass_min=mass_min)
        box = finder.find_box()
    traj = box.peeling_trajectory.reset_index(drop=True)
    ok = traj.index[traj["coverage"] >= min_coverage - 1e-12]
    chosen = int(ok[traj.loc[ok, "density"].to_numpy().argmax()]) if len(ok) else 0
    limits = _limits(box.box_lims[chosen], finder.box_init, box.p_values[chosen], integers)
    stats = traj.loc[chosen]
    found = Discovery(limits, float(stats["coverage"]), float(stats["density"]), float(stats["mass"]),
                      len(y), int(y.sum()), traj[["coverage", "density", "mass", "res_dim"]], chosen)
    found.warnings.extend(_doubts(found))
    return found


def _limits(lims: pd.DataFrame, init: pd.DataFrame, p_values: dict[str, list[float]],
            integers: Sequence[str]) -> pd.DataFrame:
    """The restricted parameters of a box (what ``PrimBox.inspect(style="data")`` would give)."""
    rows = []
    for param in init.columns:
        low, high = lims[param].iloc[0], lims[param].iloc[1]
        range_low, range_high = init[param].iloc[0], init[param].iloc[1]
        if isinstance(low, set | frozenset):
            if set(low) == set(range_low):
                continue
            low = high = frozenset(low)
            range_low = range_high = frozenset(range_low)
        else:
            if low == range_low and high == range_high:
                continue
            if param in integers:
                low, high = math.ceil(low - 1e-9), math.floor(high + 1e-9)
                range_low, range_high = int(range_low), int(range_high)
            else:
                low, high, range_low, range_high = map(float, (low, high, range_low, range_high))
        qp = [v for v in p_values.get(param, []) if v is not None and v >= 0]
        rows.append(dict(zip(_LIMIT_COLUMNS, (param, low, high, range_low, range_high,
                                               float(max(qp)) if qp else np.nan), strict=True)))
    return pd.DataFrame(rows, columns=_LIMIT_COLUMNS)


def _doubts(found: Discovery) -> list[str]:
    """Why a box may not be trusted."""
    out = []
    if found.cases < MIN_CASES or found.runs - found.cases < MIN_CASES:
        few, which = (found.cases, "had") if found.cases < MIN_CASES else (found.runs - found.cases, "lacked")
        out.append(f"only {few} of {found.runs} runs {which} the outcome; a box drawn around so few "
                   f"runs (fewer than {MIN_CASES}) describes them, not a condition: run more replicates "
                   "or sweep wider ranges")
    flat = [r.parameter for r in found.limits.itertuples()
            if not isinstance(r.low, frozenset) and r.low == r.high and r.range_low != r.range_high]
    if flat:
        out.append(f"the box has zero width in {', '.join(flat)}: it holds one swept value only")
    return out


def outcome_table(store: ResultStore, what: str | Outcome,
                  how: str | Reading = "end") -> tuple[pd.DataFrame, np.ndarray]:
    """The varied parameters of each finished run (``x``) and whether it had the outcome (``y``).

    Args:
        store: A batch's results.
        what: A named outcome or a threshold (:func:`netsim.outcomes.outcome`).
        how: How the run's months are read (:func:`netsim.outcomes.reading`).

    Returns:
        ``x``: the sweep's inputs, ``scenario_name`` if the batch has several scenarios,
        and every parameter on which those scenarios differ (one column each, only those
        that vary); ``y``: one boolean per row of ``x``.

    Raises:
        BatchError: An unknown outcome or reading, an empty store, or one whose runs vary
            nothing.
    """
    try:
        what = outcome(what) if isinstance(what, str) else what
        how = reading(how) if isinstance(how, str) else how
    except OutcomeError as e:
        raise BatchError(str(e)) from None
    manifest = store.manifest_or_disk()
    if not manifest:
        raise BatchError(f"{store.path}: not a netsim results folder (no manifest.json)")
    plan = manifest.get("plan", {})
    inputs = list(plan.get("inputs", []))
    runs = store.read("runs", columns=["run_id", "scenario", *inputs, "status"])
    monthly = store.read("monthly", columns=["run_id", "month", *what.columns])
    if monthly.empty:
        raise BatchError(f"{store.path}: no finished runs to analyse")
    held = how.holds(timeline(monthly, what))
    runs = runs[runs["run_id"].isin(held.index)].drop_duplicates("run_id").reset_index(drop=True)
    x = runs[inputs].copy()
    scenarios = {s["name"]: s.get("parameters", {}) for s in plan.get("scenarios", []) if isinstance(s, dict)}
    if runs["scenario"].nunique() > 1:
        x.insert(0, "scenario_name", runs["scenario"].astype(str))  # PRIM drops a column named "scenario"
        used = [scenarios.get(n, {}) for n in runs["scenario"].unique()]
        keys = [k for k in dict.fromkeys(k for p in used for k in p) if k not in inputs]
        for key in keys:
            if len({repr(p.get(key)) for p in used}) > 1 and all(_scalar(p.get(key)) for p in used):
                x[key] = runs["scenario"].map({n: scenarios.get(n, {}).get(key) for n in scenarios})
    x = x.loc[:, [c for c in x.columns if x[c].nunique() > 1]]
    if x.empty:
        raise BatchError(f"{store.path}: its runs vary no parameter; run a batch with --sweep or "
                         "several scenarios first")
    return x, held.reindex(runs["run_id"]).to_numpy(bool)


def _scalar(v: object) -> bool:
    return isinstance(v, bool | int | float | str)


def discover_in(path: str, what: str, how: str = "end", *, min_coverage: float = 0.5) -> Discovery:
    """Run :func:`discover` over a result store's runs for an outcome read one way."""
    store = ResultStore(path)
    x, y = outcome_table(store, what, how)
    return discover(x, y, min_coverage=min_coverage)


def chart(found: Discovery, label: str) -> Figure:
    """The box within the ranges swept (left) and PRIM's coverage-density trade-off (right)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(found.limits), 1)
    fig, (ax, tr) = plt.subplots(1, 2, figsize=(11, max(3.8, 1.8 + 0.45 * n)),
                                 gridspec_kw={"width_ratios": [3, 2]})
    for i, row in enumerate(found.limits.itertuples()):
        if isinstance(row.low, set | frozenset):
            kept = ", ".join(sorted(map(str, row.low)))
            left = ", ".join(sorted(map(str, set(row.range_low) - set(row.low))))
            ax.barh(i, 1.0, color="#dddddd")
            ax.text(0.5, i, f"{kept}  (not: {left})", ha="center", va="center", fontsize=8)
            continue
        base, span = float(row.range_low), float(row.range_high) - float(row.range_low) or 1.0
        lo, hi = (float(row.low) - base) / span, (float(row.high) - base) / span
        ax.barh(i, 1.0, color="#dddddd")
        ax.barh(i, max(hi - lo, 0.004), left=lo, color="#4c72b0")
        label = f"{row.low:.3g}" if row.low == row.high else f"{row.low:.3g} to {row.high:.3g}"
        ax.text(min(max((lo + hi) / 2, 0.08), 0.92), i + 0.42, label, ha="center", va="bottom", fontsize=8)
    ax.set_yticks(range(len(found.limits)), found.limits["parameter"])
    ax.set_ylim(-0.6, n - 0.2)
    ax.set_xlim(0, 1)
    ax.set_xlabel("position within the range swept (0 = lowest, 1 = highest)")
    ax.set_ylabel("parameter")
    ax.set_title(f"PRIM box for '{label}': coverage {found.coverage:.0%}, density {found.density:.0%}\n"
                 f"({found.cases} of {found.runs} runs had the outcome)", fontsize=10)
    if found.warnings:
        fig.text(0.01, 0.01, "warning: " + found.warnings[0], fontsize=7, color="#b22222", wrap=True)
    t = found.trajectory
    sc = tr.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
    tr.scatter([t.loc[found.chosen, "coverage"]], [t.loc[found.chosen, "density"]], s=120,
               facecolors="none", edgecolors="red", label="chosen box")
    tr.set_xlabel("coverage (outcome's runs in the box)")
    tr.set_ylabel("density (box's runs with the outcome)")
    tr.set_xlim(0, 1.05)
    tr.set_ylim(0, 1.05)
    tr.legend(fontsize=8, loc="lower left")
    bar = fig.colorbar(sc, ax=tr, label="restricted parameters")
    bar.locator = matplotlib.ticker.MaxNLocator(integer=True)
    bar.update_ticks()
    tr.set_title("peeling trajectory", fontsize=10)
    fig.tight_layout()
    return fig
