"""Global sensitivity analysis (Morris elementary effects, Sobol indices) with SALib.

The bounds of every parameter come from the scenario schema (:func:`netsim.scenario.parameters`),
never from a second list: its declared plausible span, else its allowed range. The sample is run as a
batch (:mod:`netsim.batch`) into a result store (:mod:`netsim.store`), so a long analysis
is resumable and its runs can go to a Dask cluster like any batch. Each sample point's
response is an output at the final month, averaged over replicates.

Example:
    >>> from netsim.sensitivity import select_params, design
    >>> specs = select_params(["forum.tie_gain", "decay.rate"])
    >>> X = design(specs, "morris", samples=4, seed=1)
    >>> X.shape
    (12, 2)
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
    "METHODS",
    "analyse",
    "chart",
    "check_outputs",
    "default_params",
    "design",
    "plan",
    "problem",
    "responses",
    "select_params",
]

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
    such as ``emergence.ideology_threshold``): they change what is counted, not what happens.
    """
    return [s for s in parameters() if s.span is not None and (thresholds or not s.defines_outcome)]


def select_params(keys: Sequence[str] | None) -> list[ParamSpec]:
    """The parameters to vary: ``keys`` checked against the schema, or :func:`default_params`.

    Raises:
        BatchError: An unknown key, a repeated key, or one without a numeric range.
    """
    if not keys:
        return default_params()
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
    """SALib's problem definition: names, and bounds from the schema (:attr:`ParamSpec.bounds`)."""
    return {"num_vars": len(specs), "names": [s.key for s in specs],
            "bounds": [[float(lo), float(hi)] for lo, hi in (s.bounds for s in specs)]}


def design(specs: Sequence[ParamSpec], method: str, *, samples: int, seed: int,
           levels: int = 4) -> np.ndarray:
    """The sample matrix (one row per model evaluation), unrounded.

    Args:
        specs: The parameters.
        method: ``"morris"`` (``samples`` trajectories of ``len(specs) + 1`` points) or
            ``"sobol"`` (Saltelli's scheme, ``samples * (len(specs) + 2)`` points;
            ``samples`` should be a power of 2).
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
            for s, v in zip(specs, row, strict=True)}


def plan(scenario: Scenario, specs: Sequence[ParamSpec], X: np.ndarray, *, method: str, samples: int,
         replicates: int = 1, seed: int = 1, levels: int = 4) -> BatchPlan:
    """The batch of a sample: each distinct point (integers rounded) x replicates."""
    points = list({tuple(sorted(_point(specs, row).items())): None for row in X})
    extra = {"sensitivity": {"method": method, "samples": samples, "levels": levels,
                             "params": [s.key for s in specs], "evaluations": len(X)}}
    return make_plan([scenario], points=[dict(p) for p in points], replicates=replicates, seed=seed,
                     kind="sensitivity", extra=extra)


def responses(store: ResultStore, specs: Sequence[ParamSpec], X: np.ndarray,
              outputs: Sequence[str]) -> tuple[np.ndarray, int]:
    """Each sample row's outputs at the final month, averaged over replicates.

    Returns:
        ``Y`` (rows of ``X`` x outputs) and how many missing values (failed runs, or an
        output undefined in a run, e.g. the share of cross-district ties with no ties)
        were filled with the output's mean.
    """
    keys = [s.key for s in specs]
    final = final_month(store, columns=[*keys, *outputs])
    means = final.groupby(keys, as_index=False)[list(outputs)].mean()
    rows = pd.DataFrame([_point(specs, row) for row in X], columns=keys)
    Y = rows.merge(means, on=keys, how="left")[list(outputs)].to_numpy(dtype=float)
    missing = int(np.isnan(Y).sum())
    if missing:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            col_mean = np.nan_to_num(np.nanmean(Y, axis=0), nan=0.0)
        Y = np.where(np.isnan(Y), col_mean, Y)
    return Y, missing


def analyse(specs: Sequence[ParamSpec], method: str, X: np.ndarray, Y: np.ndarray, outputs: Sequence[str], *,
            levels: int = 4, seed: int = 1) -> pd.DataFrame:
    """The sensitivity indices, one row per output x parameter.

    Morris gives ``mu``, ``mu_star``, ``sigma`` and ``mu_star_conf`` (elementary effects
    per unit of the parameter's range, from the unrounded design); Sobol gives first-order
    ``S1`` and total ``ST`` indices with 95% confidence half-widths.
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
        for i, s in enumerate(specs):
            rows.append({"output": name, "parameter": s.key, "unit": s.unit,
                         **{c: float(np.asarray(res[c])[i]) for c in cols}})
    return pd.DataFrame(rows)


def chart(indices: pd.DataFrame, method: str, *, title: str = "") -> Figure:
    """Bar charts of the indices, one panel per output, parameters sorted by importance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(indices["output"]))
    n = indices["parameter"].nunique()
    fig, axes = plt.subplots(1, len(outputs), figsize=(6.5 * len(outputs), 2.4 + 0.32 * n), squeeze=False)
    for ax, name in zip(axes[0], outputs, strict=True):
        d = indices[indices["output"] == name]
        if method == "morris":
            d = d.sort_values("mu_star")
            y = np.arange(len(d))
            ax.barh(y, d["mu_star"], xerr=d["mu_star_conf"], color="#4c72b0", label="μ* (mean |effect|)")
            ax.plot(d["sigma"], y, "o", color="#dd8452", label="σ (spread of effects)")
            ax.set_xlabel("elementary effect: change in the output\nover the parameter's whole range")
        else:
            d = d.sort_values("ST")
            y = np.arange(len(d))
            ax.barh(y - 0.2, d["ST"], 0.4, xerr=d["ST_conf"], color="#4c72b0", label="total (ST)")
            ax.barh(y + 0.2, d["S1"], 0.4, xerr=d["S1_conf"], color="#dd8452", label="first order (S1)")
            ax.set_xlabel("share of the output's variance")
        ax.set_yticks(y, d["parameter"])
        ax.set_ylabel("parameter")
        ax.set_title(textwrap.fill(f"{name}: {OUTPUTS.get(name, '')}", 60), fontsize=9)
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title or f"{method.capitalize()} sensitivity", fontsize=11)
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
