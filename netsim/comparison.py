"""Comparing the arms of a batch: final-month statistics, honest tests, how long networks last.

An *arm* is one scenario at one sweep point (just the scenario when nothing is swept);
its runs are the replicates. :func:`arms_of` names them, :func:`resolve_reference` finds
the arm the others are compared with (a scenario, or a sweep point), and :func:`compare`
gives, for each arm and key outcome at the final month, the number of runs, the mean and
a 95% bootstrap interval of the mean, and against the reference the effect size
(Cliff's delta) and a two-sided Wilcoxon-Mann-Whitney test, Holm-adjusted.

The test is exact when it can be: :func:`rank_sum_test` counts every way of splitting
the pooled runs (ties kept as mid-ranks) into the two arms, so small arms and outcomes
with many equal values (counts of networks, 0/1 outcomes) get the p-value they really
have, not the normal approximation's, which is far too small when ties are heavy. Only
for large arms does it fall back to the normal approximation with the tie correction.

:func:`marketing_lifetimes` reads the cross-district marketing network of each run
through :mod:`netsim.outcomes` (how often it forms, when, how long it lasts) and how many
districts it spans.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from netsim.outcomes import Reading

__all__ = ["EXACT_LIMIT", "KEY_OUTCOMES", "Arm", "Comparison", "ReportError", "arms_of", "cliffs_delta",
           "compare", "final_rows", "holm", "marketing_lifetimes", "rank_sum_test", "resolve_reference",
           "wilson_interval"]

#: Outcomes compared at the final month, in the order the report shows them.
KEY_OUTCOMES: tuple[str, ...] = (
    "structured_share", "loose", "structured", "shared_ideology", "marketing_network",
    "marketing_network_districts", "cross_district_tie_share", "mean_trust", "goal_alignment",
    "value_alignment", "participants",
)
#: Work bound of the exact rank-sum test (2 N^2 k^2 for N pooled runs, k in the smaller
#: arm: about a quarter of a second); above it the normal approximation is used.
EXACT_LIMIT = 6e7


class ReportError(ValueError):
    """A report that cannot be made as asked; the message says why and what is allowed."""


@dataclass(frozen=True)
class Arm:
    """One scenario at one sweep point.

    Attributes:
        label: Its name in tables and charts: the scenario, then ``key=value`` per swept key.
        scenario: The scenario's name.
        point: The swept values, ``{key: value}`` (empty when nothing is swept).
    """

    label: str
    scenario: str
    point: Mapping[str, Any] = field(default_factory=dict)


def _value_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v)) if abs(v) < 1e15 else str(v)
    return str(v)


def arms_of(monthly: pd.DataFrame, inputs: Sequence[str]) -> tuple[pd.Series, list[Arm]]:
    """The arm of each row and the arms in order of first appearance.

    Args:
        monthly: Rows with ``scenario`` and the swept keys ``inputs``.
        inputs: The batch's swept keys (the manifest's ``plan.inputs``).
    """
    inputs = [k for k in inputs if k in monthly.columns]
    keys = monthly[["scenario", *inputs]].astype(object)
    labels = keys["scenario"].astype(str)
    for k in inputs:
        labels = labels + " " + k + "=" + keys[k].map(_value_text)
    arms: dict[str, Arm] = {}
    for label, row in zip(labels, keys.itertuples(index=False), strict=True):
        if label not in arms:
            arms[label] = Arm(label, str(row[0]), dict(zip(inputs, row[1:], strict=True)))
    return labels.rename("arm"), list(arms.values())


def _same(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return str(a) == str(b)


def resolve_reference(arms: Sequence[Arm], wanted: str | None, *,
                      own_values: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[Arm, str]:
    """The arm the others are compared with, and how it was chosen.

    Args:
        arms: The batch's arms.
        wanted: ``--reference``: an arm's label, a scenario's name (if it has one arm or
            one arm at its own parameter values), or ``KEY=VALUE`` pairs (with or without
            the scenario's name) naming one sweep point, e.g. ``forum.interval=4``.
        own_values: Each scenario's own parameter values (``{scenario: {key: value}}``),
            to find the sweep point that is the scenario as written.

    Returns:
        The arm, and how it was chosen: ``baseline`` (the default), ``first_scenario``
        (no baseline: the batch's first scenario), ``own_point`` (the sweep point at the
        scenario's own values), ``first_point`` (the scenario's first sweep point) or
        ``given`` (``--reference``); the words are ``report.reference.HOW``.

    Raises:
        ReportError: ``wanted`` names no arm, or more than one.
    """
    own_values = own_values or {}

    def own_point(candidates: Sequence[Arm]) -> Arm | None:
        for arm in candidates:
            values = own_values.get(arm.scenario, {})
            if arm.point and all(k in values and _same(values[k], v) for k, v in arm.point.items()):
                return arm
        return None

    if wanted is None:
        scenarios = list(dict.fromkeys(a.scenario for a in arms))
        name = "baseline" if "baseline" in scenarios else scenarios[0]
        mine = [a for a in arms if a.scenario == name]
        if len(mine) == 1:
            return mine[0], "baseline" if name == "baseline" else "first_scenario"
        own = own_point(mine)
        if own is not None:
            return own, "own_point"
        return mine[0], "first_point"
    text = wanted.strip()
    exact = [a for a in arms if a.label == text]
    if exact:
        return exact[0], "given"
    tokens = [t for t in text.replace(",", " ").split() if t]
    pairs = dict(t.split("=", 1) for t in tokens if "=" in t)
    names = [t for t in tokens if "=" not in t]
    found = [a for a in arms
             if (not names or a.scenario == " ".join(names))
             and all(k in a.point and _same(a.point[k], v) for k, v in pairs.items())]
    if len(found) > 1 and not pairs:
        own = own_point(found)
        found = [own] if own is not None else found
    if len(found) == 1:
        return found[0], "given"
    shown = ", ".join(a.label for a in arms[:8]) + (" ..." if len(arms) > 8 else "")
    what = "matches no arm" if not found else f"matches {len(found)} arms"
    raise ReportError(f"--reference {text!r} {what}; name a scenario, an arm, or a sweep point as "
                      f"KEY=VALUE (with the scenario's name if there are several). Arms: {shown}")


def cliffs_delta(x: np.ndarray, y: np.ndarray) -> float:
    """Cliff's delta: P(x > y) - P(x < y) over all pairs, in [-1, 1] (0: no difference).

    Example:
        >>> cliffs_delta(np.array([3, 4]), np.array([1, 2]))
        1.0
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) == 0 or len(y) == 0:
        return math.nan
    return float(np.sign(x[:, None] - y[None, :]).mean())


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of p-values for multiple comparisons (NaN kept)."""
    p = np.array(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[i]))
        out[i] = running
    return out.tolist()


def _exact_rank_sum_p(doubled_ranks: np.ndarray, k: int, observed: int) -> float:
    """Two-sided exact p of a rank sum: the share of all ``k``-subsets at least as extreme.

    ``doubled_ranks`` are twice the mid-ranks (integers). The null distribution of the sum
    of ``k`` of them is counted by dynamic programming over the ranks, one at a time.
    """
    top = int(np.sort(doubled_ranks)[::-1][:k].sum())
    counts = np.zeros((k + 1, top + 1))
    counts[0, 0] = 1.0
    reach = 0  # the largest sum any subset of the ranks seen so far can have
    for i, r in enumerate(np.sort(doubled_ranks)):
        r = int(r)
        reach = min(top, reach + r)
        # taking this rank: a subset of j-1 summing to s - r becomes one of j summing to s
        # (j downwards, so that each rank is taken at most once)
        for j in range(min(i + 1, k), 0, -1):
            counts[j, r: reach + 1] += counts[j - 1, : reach + 1 - r]
    dist = counts[k]
    sums = np.arange(top + 1)
    centre = k * (len(doubled_ranks) + 1)  # the mean of the doubled rank sum
    extreme = np.abs(sums - centre) >= abs(observed - centre) - 1e-9
    return float(min(1.0, dist[extreme].sum() / dist.sum()))


def rank_sum_test(x: np.ndarray, y: np.ndarray) -> tuple[float, str]:
    """Two-sided Wilcoxon-Mann-Whitney test of ``x`` against ``y``: (p, method).

    Exact (every split of the pooled values into groups of these sizes, ties as
    mid-ranks) while the work stays under :data:`EXACT_LIMIT` (say 50 runs against 50, or
    4 against 1,000); beyond that, the arms are large enough for the normal approximation
    with the tie correction (scipy's ``asymptotic`` method). Identical samples give p = 1.

    Example:
        >>> p, method = rank_sum_test(np.array([1, 1, 1, 1.0]), np.zeros(100))
        >>> method, round(p * 1e7, 1)  # 1 of the C(104, 4) splits is this extreme
        ('exact', 2.2)
    """
    from scipy.stats import mannwhitneyu, rankdata

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) == 0 or len(y) == 0:
        return math.nan, ""
    pooled = np.concatenate([x, y])
    if np.unique(pooled).size == 1:
        return 1.0, "exact"
    k = min(len(x), len(y))
    if 2.0 * len(pooled) ** 2 * k ** 2 > EXACT_LIMIT:
        return float(mannwhitneyu(x, y, alternative="two-sided", method="asymptotic").pvalue), "normal"
    doubled = np.rint(2 * rankdata(pooled)).astype(np.int64)
    small = doubled[: len(x)] if len(x) <= len(y) else doubled[len(x):]
    return _exact_rank_sum_p(doubled, k, int(small.sum())), "exact"


def _bootstrap_ci(x: np.ndarray, rng: np.random.Generator, draws: int = 2000) -> tuple[float, float]:
    if len(x) < 2:
        return (math.nan, math.nan)
    means = rng.choice(x, (draws, len(x)), replace=True).mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


@dataclass(frozen=True)
class Comparison:
    """The final-month comparison: one row per arm and outcome.

    Attributes:
        table: Columns ``scenario``, the swept keys, ``arm``, ``outcome``, ``runs``,
            ``mean``, ``ci_low``, ``ci_high``, ``cliffs_delta``, ``p_value``, ``test``,
            ``p_holm``.
        reference: The reference arm.
        reference_how: How the reference was chosen (see :func:`resolve_reference`).
        arms: Every arm, in the batch's order.
    """

    table: pd.DataFrame
    reference: Arm
    reference_how: str
    arms: list[Arm]


def final_rows(monthly: pd.DataFrame) -> pd.DataFrame:
    """The final month of each run (``run_id``, or scenario and replicate, names a run)."""
    by = "run_id" if "run_id" in monthly.columns else None
    if by is None:
        keys = [c for c in monthly.columns if c in ("scenario", "replicate") or "." in c]
        last = monthly.groupby(keys, dropna=False)["month"].transform("max")
    else:
        last = monthly.groupby(by)["month"].transform("max")
    return monthly[monthly["month"] == last]


def compare(monthly: pd.DataFrame, *, inputs: Sequence[str] = (), reference: str | None = None,
            own_values: Mapping[str, Mapping[str, Any]] | None = None, seed: int = 0,
            outcomes: Sequence[str] = KEY_OUTCOMES) -> Comparison:
    """Compare every arm of a batch with the reference arm at the final month.

    Args:
        monthly: The store's monthly table (scenario, swept keys, replicate, month, outputs).
        inputs: The swept keys.
        reference: ``--reference`` (see :func:`resolve_reference`); default: baseline.
        own_values: Each scenario's own parameter values (to find its own sweep point).
        seed: Seed of the bootstrap.
        outcomes: The outputs compared.
    """
    inputs = [k for k in inputs if k in monthly.columns]
    labels, arms = arms_of(monthly, inputs)
    final = final_rows(monthly.assign(arm=labels))
    ref, how = resolve_reference(arms, reference, own_values=own_values)
    rng = np.random.default_rng(seed)
    rows = []
    by_arm = {label: part for label, part in final.groupby("arm", sort=False)}
    for outcome in outcomes:
        if outcome not in final.columns:
            continue
        y = by_arm[ref.label][outcome].dropna().to_numpy(float)
        for arm in arms:
            x = by_arm[arm.label][outcome].dropna().to_numpy(float)
            lo, hi = _bootstrap_ci(x, rng)
            row = {"scenario": arm.scenario, **{k: arm.point.get(k) for k in inputs}, "arm": arm.label,
                   "outcome": outcome, "runs": len(x), "mean": x.mean() if len(x) else math.nan,
                   "ci_low": lo, "ci_high": hi, "cliffs_delta": math.nan, "p_value": math.nan, "test": ""}
            if arm.label != ref.label and len(x) and len(y):
                row["cliffs_delta"] = cliffs_delta(x, y)
                row["p_value"], row["test"] = rank_sum_test(x, y)
            rows.append(row)
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p_value"].tolist()) if len(table) else []
    return Comparison(table, ref, how, arms)


def marketing_lifetimes(per_run: pd.DataFrame, monthly: pd.DataFrame, *,
                        inputs: Sequence[str] = ()) -> pd.DataFrame:
    """How often a cross-district marketing network forms in each arm, when, and for how long.

    Read from the batch's run-level outcomes (:func:`netsim.outcomes.read_outcomes`, outcome
    ``marketing``); per arm: ``runs``; ``formed`` and ``formed_share`` (runs in which it held
    in some month); ``at_end_share``; ``first_month_median`` (median first month, over runs
    where it formed); ``longest_median`` and ``months_mean`` (longest unbroken spell and
    months held, over those runs); ``districts_median`` (the most districts it spanned in a
    run, from ``monthly``, median over those runs).

    Args:
        per_run: :func:`netsim.outcomes.read_outcomes` of the batch.
        monthly: The batch's monthly table (``run_id``, ``marketing_network_districts``).
        inputs: The swept keys.
    """
    inputs = [k for k in inputs if k in per_run.columns]
    labels, arms = arms_of(per_run, inputs)
    widest = monthly.groupby("run_id")["marketing_network_districts"].max()
    runs = pd.DataFrame({"arm": labels.to_numpy(),
                         "ever": Reading("ever").of(per_run, "marketing").to_numpy(),
                         "at_end": Reading("end").of(per_run, "marketing").to_numpy(),
                         "first_month": per_run["marketing_first_month"].to_numpy(float),
                         "longest": per_run["marketing_longest"].to_numpy(float),
                         "months": per_run["marketing_months"].to_numpy(float),
                         "districts": widest.reindex(per_run["run_id"]).to_numpy(float)})
    rows = []
    for arm in arms:
        r = runs[runs["arm"] == arm.label]
        formed = r[r["ever"]]
        rows.append({"scenario": arm.scenario, **{k: arm.point.get(k) for k in inputs}, "arm": arm.label,
                     "runs": len(r), "formed": int(r["ever"].sum()),
                     "formed_share": float(r["ever"].mean()) if len(r) else math.nan,
                     "at_end_share": float(r["at_end"].mean()) if len(r) else math.nan,
                     "first_month_median": float(formed["first_month"].median()) if len(formed) else math.nan,
                     "longest_median": float(formed["longest"].median()) if len(formed) else math.nan,
                     "months_mean": float(formed["months"].mean()) if len(formed) else math.nan,
                     "districts_median": float(formed["districts"].median()) if len(formed) else math.nan})
    return pd.DataFrame(rows)


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a share (good for small n and shares near 0 or 1)."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))
