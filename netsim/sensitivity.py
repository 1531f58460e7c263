"""Global sensitivity analysis (Morris elementary effects, Sobol indices) that tells signal from noise.

The bounds of every parameter come from the scenario schema (:func:`netsim.scenario.parameters`),
never from a second list: its declared plausible span, else its allowed range. By default the
intervention and mechanism parameters are varied; the observer's thresholds that define an
outcome (:attr:`netsim.scenario.ParamSpec.defines_outcome`) only on request.

A stochastic model's output is signal plus chance, and chance must not pass for an effect:

* **Common random numbers.** The points of one Morris trajectory (and of one row of
  Saltelli's Sobol matrices, ``A``, ``B`` and the ``AB_i`` built from them) share their random
  numbers: replicate ``r`` of each point has the same seed (:attr:`netsim.batch.BatchPlan.streams`).
  An elementary effect then compares two runs that differ in one parameter only, not in
  their luck, and a parameter that cannot act has an effect of exactly zero.
* **A dummy parameter** (:data:`DUMMY`) is varied like the others, but all it moves is the
  random numbers: a step in it re-draws the seed. Its index is what chance alone gives, the
  noise floor; a parameter whose index does not clear it (its lower confidence bound at or
  below the dummy's index) cannot be told from noise.
* **Warnings** name the parameters whose confidence interval is as large as their index.

The sample is run as a batch (:mod:`netsim.batch`) into a result store (:mod:`netsim.store`),
so a long analysis is resumable and its runs can go to a Dask cluster like any batch. Each
sample point's response is an output at the final month, averaged over ``replicates``.

Example:
    >>> from netsim.sensitivity import select_params, design
    >>> specs = select_params(["forum.tie_gain", "decay.rate"])
    >>> X = design(specs, "morris", samples=4, seed=1)
    >>> X.shape  # 4 trajectories of 2 parameters and the dummy, 4 points each
    (16, 3)
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from netsim.batch import BatchError, BatchPlan, final_month, make_plan
from netsim.measures import OUTPUTS
from netsim.scenario import ParamSpec, Scenario, ScenarioError, is_finite_range, parameters, spec
from netsim.store import ResultStore

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_OUTPUTS",
    "DUMMY",
    "METHODS",
    "analyse",
    "chart",
    "check_outputs",
    "default_params",
    "design",
    "doubts",
    "mu_sigma_chart",
    "plan",
    "problem",
    "responses",
    "select_params",
    "streams",
]

#: The dummy parameter's name in indices and charts: it moves only the random numbers.
DUMMY = "dummy (random numbers only)"

#: The methods offered.
METHODS = ("morris", "sobol")
#: Outputs analysed unless others are asked for: share of groups in structured networks,
#: share of ties across districts (both at the final month).
DEFAULT_OUTPUTS = ("structured_share", "cross_district_tie_share")


def default_params(*, thresholds: bool = False) -> list[ParamSpec]:
    """The intervention and mechanism parameters: every one the schema gives a plausible span.

    Left out: parameters with no span (the run's length, the population, the calendar's
    start and end months, which switch an activity on or off) and, unless ``thresholds``,
    the observer's thresholds that define an outcome (:attr:`ParamSpec.defines_outcome`,
    such as ``emergence.ideology_threshold``): they say what is counted as an outcome.
    """
    return [s for s in parameters() if s.span is not None and (thresholds or not s.defines_outcome)]


def select_params(keys: Sequence[str] | None, *, thresholds: bool = False) -> list[ParamSpec]:
    """The parameters to vary: ``keys`` checked against the schema, or :func:`default_params`.

    Args:
        keys: Dotted keys; none for the default set.
        thresholds: With the default set, add the outcome-defining thresholds.

    Raises:
        BatchError: An unknown key, a repeated key, or one without a numeric range.
    """
    if not keys:
        return default_params(thresholds=thresholds)
    out = []
    for key in keys:
        try:
            s = spec(key)
        except ScenarioError as e:
            raise BatchError(f"--params: {e}") from None
        if not is_finite_range(s):
            raise BatchError(f"--params: {key} is {s.allowed()}; only numbers with a declared range "
                             "can be varied")
        if s in out:
            raise BatchError(f"--params: {key} is given twice")
        out.append(s)
    return out


def problem(specs: Sequence[ParamSpec]) -> dict[str, Any]:
    """SALib's problem: names and bounds from the schema (:attr:`ParamSpec.bounds`), the dummy last."""
    return {"num_vars": len(specs) + 1, "names": [*(s.key for s in specs), DUMMY],
            "bounds": [*([float(lo), float(hi)] for lo, hi in (s.bounds for s in specs)), [0.0, 1.0]]}


def design(specs: Sequence[ParamSpec], method: str, *, samples: int, seed: int,
           levels: int = 4) -> np.ndarray:
    """The sample matrix (one row per model evaluation), unrounded; its last column is the dummy.

    Args:
        specs: The parameters.
        method: ``"morris"`` (``samples`` trajectories of ``len(specs) + 2`` points: the
            parameters and the dummy) or ``"sobol"`` (Saltelli's scheme,
            ``samples * (len(specs) + 3)`` points; ``samples`` should be a power of 2).
        samples: Trajectories (Morris) or base samples (Sobol).
        seed: Seed of the sample.
        levels: Grid levels of Morris.

    Raises:
        BatchError: An unknown method, too few samples, no parameters.
    """
    if method not in METHODS:
        raise BatchError(f"--method {method!r}: one of {', '.join(METHODS)}")
    if not specs:
        raise BatchError("--params: no parameters to vary")
    if samples < 2:
        raise BatchError(f"--samples must be 2 or more (got {samples})")
    prob = problem(specs)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(prob, samples, num_levels=levels, seed=seed)
    from SALib.sample import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the power-of-2 advice is in the option's help
        return sobol.sample(prob, samples, calc_second_order=False, seed=seed)


def _point(specs: Sequence[ParamSpec], row: np.ndarray) -> dict[str, Any]:
    return {s.key: int(round(v)) if s.kind == "int" else round(float(v), 12)
            for s, v in zip(specs, row[:len(specs)], strict=True)}


def streams(X: np.ndarray, method: str) -> list[str]:
    """The common-random-numbers label of each row of a design (:attr:`netsim.batch.BatchPlan.streams`).

    A row's stream is its block (a Morris trajectory, or one row ``j`` of Saltelli's matrices
    with the ``AB_i`` built from it) and the value of the dummy: rows of a block share their
    random numbers except across the dummy's own step.
    """
    per_block = X.shape[1] + (1 if method == "morris" else 2)
    return [f"{i // per_block}:{X[i, -1]:.9f}" for i in range(len(X))]


def plan(scenario: Scenario, specs: Sequence[ParamSpec], X: np.ndarray, *, method: str, samples: int,
         replicates: int = 1, seed: int = 1, levels: int = 4) -> BatchPlan:
    """The batch of a design: each row (integers rounded) x replicates, with common random numbers."""
    extra = {"sensitivity": {"method": method, "samples": samples, "levels": levels,
                             "params": [s.key for s in specs], "evaluations": len(X),
                             "common_random_numbers": True}}
    return make_plan([scenario], points=[_point(specs, row) for row in X], replicates=replicates, seed=seed,
                     kind="sensitivity", extra=extra, streams=streams(X, method))


def responses(store: ResultStore, batch: BatchPlan, outputs: Sequence[str]) -> tuple[np.ndarray, int]:
    """Each design row's outputs at the final month, averaged over its replicates.

    Returns:
        ``Y`` (rows of the design x outputs) and how many missing values (failed runs, or an
        output undefined in a run, e.g. the share of cross-district ties with no ties)
        were filled with the output's mean.
    """
    final = final_month(store, columns=list(outputs)).set_index("run_id")[list(outputs)]
    ids = [r.run_id for r in batch.runs]
    values = final.reindex(ids).to_numpy(dtype=float)
    values = values.reshape(len(batch.points), batch.replicates, len(outputs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        Y = np.nanmean(values, axis=1)
    missing = int(np.isnan(Y).sum())
    if missing:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            col_mean = np.nan_to_num(np.nanmean(Y, axis=0), nan=0.0)
        Y = np.where(np.isnan(Y), col_mean, Y)
    return Y, missing


def analyse(specs: Sequence[ParamSpec], method: str, X: np.ndarray, Y: np.ndarray, outputs: Sequence[str], *,
            levels: int = 4, seed: int = 1) -> pd.DataFrame:
    """The sensitivity indices, one row per output x parameter, the dummy last.

    Morris gives ``mu``, ``mu_star``, ``sigma`` and ``mu_star_conf`` (elementary effects
    per unit of the parameter's range, from the unrounded design); Sobol gives first-order
    ``S1`` and total ``ST`` indices with 95% confidence half-widths. Every row also has
    ``noise_floor`` (the dummy's ``mu_star`` or ``ST`` for that output), ``above_noise``
    (the index's lower 95% bound is above the noise floor) and ``ci_as_large`` (the
    confidence half-width is at least the index).
    """
    prob = problem(specs)
    rows = []
    for j, name in enumerate(outputs):
        y = Y[:, j]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            if method == "morris":
                from SALib.analyze import morris

                res = morris.analyze(prob, X, y, num_levels=levels, seed=seed)
                cols = ("mu", "mu_star", "sigma", "mu_star_conf")
            else:
                from SALib.analyze import sobol

                res = sobol.analyze(prob, y, calc_second_order=False, seed=seed)
                cols = ("S1", "S1_conf", "ST", "ST_conf")
        units = [*(s.unit for s in specs), ""]
        for i, key in enumerate(prob["names"]):
            rows.append({"output": name, "parameter": key, "unit": units[i],
                         **{c: float(np.asarray(res[c])[i]) for c in cols}})
    table = pd.DataFrame(rows)
    key = "mu_star" if method == "morris" else "ST"
    floor = table[table["parameter"] == DUMMY].set_index("output")[key]
    table["noise_floor"] = table["output"].map(floor)
    low = table[key] - table[f"{key}_conf"]
    table["above_noise"] = (low > table["noise_floor"]) & (table["parameter"] != DUMMY)
    table["ci_as_large"] = table[f"{key}_conf"].abs() >= table[key].abs()
    return table


def doubts(indices: pd.DataFrame, method: str) -> list[str]:
    """What a reader of the indices should be warned of, one line per output."""
    key = "mu_star" if method == "morris" else "ST"
    out = []
    for name, d in indices.groupby("output", sort=False):
        real = d[d["parameter"] != DUMMY]
        wide = real[real["ci_as_large"] & (real[key] > 0)]["parameter"].tolist()
        if wide:
            out.append(f"{name}: the 95% confidence interval is as large as the index for {len(wide)} of "
                       f"{len(real)} parameters ({', '.join(wide[:6])}{', ...' if len(wide) > 6 else ''}); "
                       "their ranking is chance: add trajectories (--samples) or --replicates")
        if not real["above_noise"].any():
            out.append(f"{name}: no parameter's index clears the noise floor (the dummy's "
                       f"{key} {d['noise_floor'].iloc[0]:.3g})")
    return out


def chart(indices: pd.DataFrame, method: str, *, title: str = "") -> Figure:
    """Bar charts of the indices, one panel per output, parameters sorted by importance.

    The dummy's bar is red, and a dashed line marks its index, the noise floor: bars whose
    lower confidence bound does not clear it are drawn pale.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(indices["output"]))
    n = indices["parameter"].nunique()
    fig, axes = plt.subplots(1, len(outputs), figsize=(6.5 * len(outputs), 2.6 + 0.32 * n), squeeze=False)
    for ax, name in zip(axes[0], outputs, strict=True):
        d = indices[indices["output"] == name]
        key = "mu_star" if method == "morris" else "ST"
        d = d.sort_values(key)
        y = np.arange(len(d))
        colors = ["#c0392b" if p == DUMMY else "#4c72b0" if ok else "#b8c4d8"
                  for p, ok in zip(d["parameter"], d["above_noise"], strict=True)]
        if method == "morris":
            ax.barh(y, d["mu_star"], xerr=d["mu_star_conf"], color=colors, label="μ* (mean |effect|)")
            ax.plot(d["sigma"], y, "o", color="#dd8452", label="σ (spread of effects)")
            ax.set_xlabel("elementary effect: change in the output\nover the parameter's whole range")
        else:
            ax.barh(y - 0.2, d["ST"], 0.4, xerr=d["ST_conf"], color=colors, label="total (ST)")
            ax.barh(y + 0.2, d["S1"], 0.4, xerr=d["S1_conf"], color="#dd8452", label="first order (S1)")
            ax.set_xlabel("share of the output's variance")
        ax.axvline(d["noise_floor"].iloc[0], color="#c0392b", ls="--", lw=1,
                   label="noise floor (the dummy's index)")
        ax.set_yticks(y, d["parameter"])
        ax.set_ylabel("parameter (pale: not above the noise floor)")
        ax.set_title(textwrap.fill(f"{name}: {OUTPUTS.get(name, '')}", 60), fontsize=9)
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title or f"{method.capitalize()} sensitivity", fontsize=11)
    fig.tight_layout()
    return fig


def mu_sigma_chart(indices: pd.DataFrame, *, title: str = "") -> Figure:
    """Morris's μ*-σ plane, one panel per output, with the dummy's μ* as the noise floor.

    Parameters right of the floor (by their lower 95% bound) act; near the diagonal
    σ ≈ μ* their effect depends on the other parameters or is non-linear. Labelled: the
    dummy, the parameters above the floor (dark) and the five largest μ* (grey if not above).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(indices["output"]))
    fig, axes = plt.subplots(1, len(outputs), figsize=(6.5 * len(outputs), 5.8), squeeze=False)
    for ax, name in zip(axes[0], outputs, strict=True):
        d = indices[indices["output"] == name]
        floor = float(d["noise_floor"].iloc[0])
        top = max(float(d["mu_star"].max()), float(d["sigma"].max()), floor, 1e-9) * 1.1
        ax.axvspan(0, floor, color="#c0392b", alpha=0.08, label="at or below the noise floor")
        ax.plot([0, top], [0, top], color="#999999", lw=0.8, ls=":", label="σ = μ*")
        real = d[d["parameter"] != DUMMY]
        ax.errorbar(real["mu_star"], real["sigma"], xerr=real["mu_star_conf"], fmt="none", ecolor="#cccccc",
                    lw=0.8)
        ax.scatter(real["mu_star"], real["sigma"], s=22,
                   c=np.where(real["above_noise"], "#4c72b0", "#b8c4d8"), zorder=3, label="parameter")
        dummy = d[d["parameter"] == DUMMY]
        ax.scatter(dummy["mu_star"], dummy["sigma"], s=60, marker="D", color="#c0392b", zorder=4,
                   label="dummy (random numbers only)")
        largest = set(real.nlargest(5, "mu_star")["parameter"])
        for r in d[d["above_noise"] | (d["parameter"] == DUMMY) | d["parameter"].isin(largest)].itertuples():
            ax.annotate(r.parameter, (r.mu_star, r.sigma), fontsize=7, xytext=(4, 2),
                        textcoords="offset points", color="#222222" if r.above_noise else "#777777")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("μ*: mean |elementary effect| over the parameter's whole range")
        ax.set_ylabel("σ: spread of the elementary effects")
        ax.set_title(textwrap.fill(f"{name}: {OUTPUTS.get(name, '')}", 60), fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(alpha=0.3)
    fig.suptitle(title or "Morris μ*-σ", fontsize=11)
    fig.tight_layout()
    return fig


def check_outputs(outputs: Sequence[str]) -> list[str]:
    """The outputs to analyse: those named (each a model output), or :data:`DEFAULT_OUTPUTS`.

    Raises:
        BatchError: A name that is not a model output.
    """
    bad = [o for o in outputs if o not in OUTPUTS]
    if bad:
        raise BatchError(f"--output {bad[0]!r}: not a model output; outputs: {', '.join(OUTPUTS)}")
    return list(dict.fromkeys(outputs)) or list(DEFAULT_OUTPUTS)
