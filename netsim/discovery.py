"""Scenario discovery: which parameter ranges lead to an outcome, by PRIM over a sweep's runs.

PRIM (the patient rule induction method, Friedman and Fisher 1999) peels a box of
parameter ranges around the runs where an outcome happened, trading *coverage* (the share
of those runs inside the box) against *density* (the share of runs inside the box where
it happened). We use the EMA Workbench's implementation (``ema_workbench.analysis.prim``)
and choose, on its peeling trajectory, the densest box that still covers at least
``min_coverage`` of the cases.

Outcomes, read at each run's final month:

* ``structured``: at least one structured network (with or without a shared ideology);
* ``ideology``: at least one structured network with a shared ideology;
* ``marketing``: a marketing network spanning ``emergence.marketing_min_districts`` districts.

Example:
    >>> import numpy as np, pandas as pd
    >>> x = pd.DataFrame({"a": np.linspace(0, 1, 200), "b": np.tile([0.0, 1.0], 100)})
    >>> found = discover(x, (x["a"] > 0.7).to_numpy())
    >>> round(found.density, 2), found.limits["parameter"].tolist()
    (1.0, ['a'])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from netsim.batch import BatchError, final_month
from netsim.store import ResultStore

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["OUTCOMES", "Discovery", "chart", "discover", "discover_in", "outcome_table"]

#: Outcome name -> (what it means, its test on the final-month table).
OUTCOMES: dict[str, tuple[str, Callable[[pd.DataFrame], pd.Series]]] = {
    "structured": ("at least one structured network (with or without a shared ideology)",
                   lambda f: (f["structured"] + f["shared_ideology"]) > 0),
    "ideology": ("at least one structured network with a shared ideology",
                 lambda f: f["shared_ideology"] > 0),
    "marketing": ("a cross-district marketing network", lambda f: f["marketing_network"] == 1),
}
_OUTCOME_COLUMNS = ("structured", "shared_ideology", "marketing_network")


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
    """

    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    runs: int
    cases: int
    trajectory: pd.DataFrame
    chosen: int


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
                         "PRIM needs runs with and without it (sweep wider ranges)")
    x = x.reset_index(drop=True).copy()
    for c in x.columns:
        if x[c].dtype == bool or not pd.api.types.is_numeric_dtype(x[c]):
            x[c] = x[c].astype(str).astype(object)
    prim = _prim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, y.astype(int), peel_alpha=peel_alpha, mass_min=mass_min)
        box = finder.find_box()
    traj = box.peeling_trajectory.reset_index(drop=True)
    ok = traj.index[traj["coverage"] >= min_coverage - 1e-12]
    chosen = int(ok[traj.loc[ok, "density"].to_numpy().argmax()]) if len(ok) else 0
    stats, lims = box.inspect(chosen, style="data")[0]
    init = finder.box_init
    rows = []
    for param in lims.index:
        values = [lims.loc[param].iloc[0], lims.loc[param].iloc[1], init[param].iloc[0], init[param].iloc[1]]
        if pd.api.types.is_integer_dtype(x[param]):
            values = [int(v) for v in values]
        qp = lims.loc[param].iloc[2:].dropna()
        rows.append(dict(zip(("parameter", "low", "high", "range_low", "range_high", "qp_value"),
                             (param, *values, float(qp.max()) if len(qp) else np.nan), strict=True)))
    limits = pd.DataFrame(rows, columns=["parameter", "low", "high", "range_low", "range_high", "qp_value"])
    return Discovery(limits, float(stats["coverage"]), float(stats["density"]), float(stats["mass"]),
                     len(y), int(y.sum()), traj[["coverage", "density", "mass", "res_dim"]], chosen)


def outcome_table(store: ResultStore, outcome: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The varied parameters of each run (``x``) and whether it had ``outcome`` (``y``).

    Raises:
        BatchError: An unknown outcome, an empty store, or one whose runs vary nothing.
    """
    if outcome not in OUTCOMES:
        raise BatchError(f"--outcome {outcome!r}: one of {', '.join(OUTCOMES)}")
    manifest = store.manifest_or_disk()
    if not manifest:
        raise BatchError(f"{store.path}: not a netsim results folder (no manifest.json)")
    inputs = list(manifest.get("plan", {}).get("inputs", []))
    final = final_month(store, columns=["scenario", *inputs, *_OUTCOME_COLUMNS])
    if final.empty:
        raise BatchError(f"{store.path}: no finished runs to analyse")
    x = final[inputs].copy()
    if final["scenario"].nunique() > 1:
        x.insert(0, "scenario_name", final["scenario"].astype(str))  # PRIM drops a column named "scenario"
    x = x.loc[:, [c for c in x.columns if x[c].nunique() > 1]]
    if x.empty:
        raise BatchError(f"{store.path}: its runs vary no parameter; run a batch with --sweep first")
    return x, OUTCOMES[outcome][1](final).to_numpy()


def discover_in(path: str, outcome: str, *, min_coverage: float = 0.5) -> Discovery:
    """Run :func:`discover` over a result store's runs for a named outcome."""
    store = ResultStore(path)
    x, y = outcome_table(store, outcome)
    return discover(x, y, min_coverage=min_coverage)


def chart(found: Discovery, outcome: str) -> Figure:
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
            ax.barh(i, 1.0, color="#dddddd")
            ax.text(0.5, i, ", ".join(sorted(map(str, row.low))), ha="center", va="center", fontsize=8)
            continue
        base, span = float(row.range_low), float(row.range_high) - float(row.range_low) or 1.0
        lo, hi = (float(row.low) - base) / span, (float(row.high) - base) / span
        ax.barh(i, 1.0, color="#dddddd")
        ax.barh(i, hi - lo, left=lo, color="#4c72b0")
        ax.text(lo, i + 0.42, f"{row.low:.3g}", ha="left", va="bottom", fontsize=8)
        ax.text(hi, i + 0.42, f"{row.high:.3g}", ha="right", va="bottom", fontsize=8)
    ax.set_yticks(range(len(found.limits)), found.limits["parameter"])
    ax.set_ylim(-0.6, n - 0.2)
    ax.set_xlim(0, 1)
    ax.set_xlabel("position within the range swept (0 = lowest, 1 = highest)")
    ax.set_ylabel("parameter")
    ax.set_title(f"PRIM box for '{outcome}': coverage {found.coverage:.0%}, density {found.density:.0%}",
                 fontsize=10)
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
