"""The field study's six patterns as statistics of a run, the targets file, and the distance.

The study publishes patterns, not time series (docs/odd.md, Section 1.2), so the model is
calibrated and checked against *statistics* of each run's monthly outputs, each with an
accepted band:

* a :class:`Statistic` is a number per run, read from the monthly table (through
  :mod:`netsim.outcomes` wherever a spell or a timing matters), e.g. ``marketing_spell``:
  how many months the cross-district marketing network present at the end has lasted,
  counted only if that spell began after follow-up started;
* a *target* (``calibration/targets.toml``, read by :func:`read_targets`) gives a
  statistic its pattern (1-6), its accepted band (``target`` +- ``tolerance``,
  ``at_least`` or ``at_most``), the unit of its distance (``scale``), and whether it is
  fitted (``distance = true``) or only checked afterwards (held out);
* a run *reproduces* pattern k when every fitted statistic of pattern k lies in its band
  (:func:`reproduced`);
* the distance of a run (:func:`distance`) is the Euclidean norm of each fitted
  statistic's distance outside its band, in units of its scale: 0 exactly when the run
  reproduces all six patterns.

Example:
    >>> import pandas as pd
    >>> monthly = pd.DataFrame({"run_id": ["r"] * 5, "month": range(5), "marketing_network": [0, 1, 0, 1, 1]})
    >>> int(STATISTICS["marketing_spell"].of(monthly, Calendar(followup_start=3, first_review=2)).iloc[0])
    2
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from netsim.outcomes import OUTCOMES, timeline
from netsim.scenario import Parameters, ScenarioError, read_user_text, spec

__all__ = [
    "PATTERNS",
    "STATISTICS",
    "Calendar",
    "RunMonths",
    "Statistic",
    "Target",
    "Targets",
    "distance",
    "read_targets",
    "reproduced",
    "run_statistics",
]

#: The study's six patterns, in words (brief/model.md; docs/odd.md, Section 1.2).
PATTERNS: dict[int, str] = {
    1: "about 54 groups join, spread over 6 districts",
    2: "a cross-district marketing network forms after follow-up began and lasts to the end",
    3: "at the end, both loose and structured networks exist",
    4: "no network reaches a shared ideology",
    5: "most participants revise their plans after the first review",
    6: "trust in the team rises over the follow-up months",
}


@dataclass(frozen=True)
class Calendar:
    """The programme's months that statistics are read relative to.

    Attributes:
        followup_start: First month of follow-up visits.
        first_review: Month of the first lessons-learned review (0: no reviews).
    """

    followup_start: int
    first_review: int

    @classmethod
    def of(cls, params: Parameters) -> Calendar:
        """The calendar of a scenario's parameters."""
        review = params.review
        return cls(params.followup.start_month, review.start_month if review.interval > 0 else 0)


def _by_run(monthly: pd.DataFrame) -> pd.DataFrame:
    if "run_id" not in monthly.columns:
        monthly = monthly.assign(run_id="run")
    return monthly.sort_values(["run_id", "month"], kind="stable")


class RunMonths:
    """A monthly table sorted by run and month, with each run's final row found once.

    Args:
        monthly: One row per run x month (a ``run_id`` column; without one, one run).
    """

    def __init__(self, monthly: pd.DataFrame) -> None:
        self.table = _by_run(monthly)
        self.last = self.table.groupby("run_id", sort=True).tail(1).set_index("run_id")
        self.runs = self.last.index

    def at_month(self, column: str, month: int) -> pd.Series:
        """``column`` at ``month`` of each run (NaN if the run has no such month)."""
        m = self.table
        return (
            m.loc[m["month"].to_numpy() == month].set_index("run_id")[column].reindex(self.runs).astype(float)
        )

    def at_end(self, column: str) -> pd.Series:
        """``column`` at each run's final month."""
        return self.last[column].astype(float)


def _participants(r: RunMonths, cal: Calendar) -> pd.Series:
    return r.at_month("participants", 0)


def _districts(r: RunMonths, cal: Calendar) -> pd.Series:
    return r.at_month("districts", 0)


def _marketing_spell(r: RunMonths, cal: Calendar) -> pd.Series:
    t = timeline(r.table, OUTCOMES["marketing"]).reindex(r.runs)
    lasting = t["at_end"].to_numpy(bool) & (t["since"].to_numpy(float) >= cal.followup_start)
    spell = r.last["month"].to_numpy(float) - t["since"].to_numpy(float) + 1
    return pd.Series(np.where(lasting, spell, 0.0), index=r.runs, dtype=float)


def _marketing_districts(r: RunMonths, cal: Calendar) -> pd.Series:
    return r.at_end("marketing_network_districts")


def _loose_at_end(r: RunMonths, cal: Calendar) -> pd.Series:
    return r.at_end("loose")


def _structured_at_end(r: RunMonths, cal: Calendar) -> pd.Series:
    return r.at_end("structured") + r.at_end("shared_ideology")


def _ideology_at_end(r: RunMonths, cal: Calendar) -> pd.Series:
    return r.at_end("shared_ideology")


def _ideology_months(r: RunMonths, cal: Calendar) -> pd.Series:
    return timeline(r.table, OUTCOMES["ideology"]).reindex(r.runs)["months"].astype(float)


def _revised_share(r: RunMonths, cal: Calendar) -> pd.Series:
    if cal.first_review <= 0:
        return pd.Series(np.nan, index=r.runs)
    return r.at_month("revised_plan_share", cal.first_review)


def _trust_rise(r: RunMonths, cal: Calendar) -> pd.Series:
    return r.at_end("mean_trust") - r.at_month("mean_trust", max(cal.followup_start - 1, 0))


@dataclass(frozen=True)
class Statistic:
    """A number per run, read from its monthly outputs.

    Attributes:
        name: Its name in the targets file.
        meaning: What it is, in a line.
        columns: The monthly outputs it reads.
        compute: ``(RunMonths, Calendar) -> Series`` indexed by run id (sorted).
    """

    name: str
    meaning: str
    columns: tuple[str, ...]
    compute: Callable[[RunMonths, Calendar], pd.Series]

    def of(self, monthly: pd.DataFrame, calendar: Calendar) -> pd.Series:
        """The statistic of every run of ``monthly``, indexed by run id."""
        return self.compute(RunMonths(monthly), calendar)


#: Every statistic a targets file may name.
STATISTICS: dict[str, Statistic] = {
    s.name: s
    for s in (
        Statistic("participants", "groups taking part at month 0", ("participants",), _participants),
        Statistic("districts", "districts with a participant at month 0", ("districts",), _districts),
        Statistic(
            "marketing_spell",
            "months the cross-district marketing network present at the end has "
            "lasted, if that spell began at or after the first follow-up month (else 0)",
            ("marketing_network",),
            _marketing_spell,
        ),
        Statistic(
            "marketing_districts",
            "districts spanned by the widest marketing network at the end",
            ("marketing_network_districts",),
            _marketing_districts,
        ),
        Statistic("loose_at_end", "loose networks at the final month", ("loose",), _loose_at_end),
        Statistic(
            "structured_at_end",
            "structured networks (with or without a shared ideology) at the final month",
            ("structured", "shared_ideology"),
            _structured_at_end,
        ),
        Statistic(
            "ideology_at_end",
            "networks with a shared ideology at the final month",
            ("shared_ideology",),
            _ideology_at_end,
        ),
        Statistic(
            "ideology_months",
            "months in which some network had a shared ideology",
            ("shared_ideology",),
            _ideology_months,
        ),
        Statistic(
            "revised_share",
            "share of participants that had revised their plan by the first review month",
            ("revised_plan_share",),
            _revised_share,
        ),
        Statistic(
            "trust_rise",
            "mean trust at the end minus mean trust in the month before follow-up began",
            ("mean_trust",),
            _trust_rise,
        ),
    )
}


def run_statistics(monthly: pd.DataFrame, names: Sequence[str], calendar: Calendar) -> pd.DataFrame:
    """The named statistics of every run of ``monthly``: one row per run (sorted by run id)."""
    if monthly.empty:
        return pd.DataFrame(columns=list(names), index=pd.Index([], name="run_id"), dtype=float)
    runs = RunMonths(monthly)
    return pd.DataFrame({n: STATISTICS[n].compute(runs, calendar) for n in names})


@dataclass(frozen=True)
class Target:
    """A statistic's accepted band and its part in the distance.

    Attributes:
        statistic: The statistic's name (:data:`STATISTICS`).
        pattern: The study's pattern it stands for (1-6).
        low: Lowest accepted value (``-inf``: none).
        high: Highest accepted value (``inf``: none).
        scale: The distance unit: a value ``scale`` outside the band adds 1.
        fitted: In the distance (True) or only checked afterwards (held out).
    """

    statistic: str
    pattern: int
    low: float
    high: float
    scale: float
    fitted: bool

    def excess(self, values: np.ndarray) -> np.ndarray:
        """How far each value lies outside the band, in units of the scale (NaN: infinitely)."""
        v = np.asarray(values, float)
        out = np.maximum(np.maximum(self.low - v, v - self.high), 0.0) / self.scale
        return np.where(np.isnan(v), np.inf, out)

    def band(self) -> str:
        """The band in words, e.g. ``48 to 60`` or ``at least 1``."""
        if math.isinf(self.low):
            return f"at most {_num(self.high)}"
        if math.isinf(self.high):
            return f"at least {_num(self.low)}"
        return _num(self.low) if self.low == self.high else f"{_num(self.low)} to {_num(self.high)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Targets:
    """A targets file: the scenario calibrated, its statistics' targets, and the priors.

    Attributes:
        path: The file.
        sha256: Hash of the file's bytes (recorded in a calibration database).
        scenario: The scenario file calibrated.
        targets: The statistics' targets, in file order.
        priors: Free parameters and their uniform prior ``(low, high)``, in file order.
    """

    path: Path
    sha256: str
    scenario: Path
    targets: tuple[Target, ...]
    priors: Mapping[str, tuple[float, float]]

    @property
    def fitted(self) -> tuple[Target, ...]:
        """The targets in the distance."""
        return tuple(t for t in self.targets if t.fitted)

    @property
    def held_out(self) -> tuple[Target, ...]:
        """The targets checked but not fitted."""
        return tuple(t for t in self.targets if not t.fitted)

    @property
    def statistics(self) -> list[str]:
        """Every statistic named, in file order."""
        return [t.statistic for t in self.targets]

    def with_observed(self, observed: Mapping[str, float]) -> Targets:
        """The same targets centred on ``observed`` values (parameter recovery).

        Each statistic's band keeps its half-width (a one-sided band gets half its scale)
        and is centred on the observed value.
        """
        out = []
        for t in self.targets:
            width = (t.high - t.low) / 2 if math.isfinite(t.high - t.low) else t.scale / 2
            v = float(observed[t.statistic])
            out.append(Target(t.statistic, t.pattern, v - width, v + width, t.scale, t.fitted))
        return Targets(self.path, self.sha256, self.scenario, tuple(out), self.priors)


_TARGET_KEYS = {"pattern", "target", "tolerance", "at_least", "at_most", "scale", "distance", "meaning"}
_TOP_KEYS = {"scenario", "statistics", "prior"}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(f"{where}: must be a finite number (got {value!r})")
    return float(value)


def _target(name: str, body: Any, where: str) -> Target:
    if name not in STATISTICS:
        raise ScenarioError(f"{where}: unknown statistic {name!r}; statistics: {', '.join(STATISTICS)}")
    if not isinstance(body, dict):
        raise ScenarioError(f"{where}: must be a table ([statistics.{name}])")
    unknown = sorted(set(body) - _TARGET_KEYS)
    if unknown:
        raise ScenarioError(
            f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_TARGET_KEYS))}"
        )
    pattern = body.get("pattern")
    if isinstance(pattern, bool) or not isinstance(pattern, int) or pattern not in PATTERNS:
        raise ScenarioError(f"{where}.pattern: must be the pattern's number, 1 to 6 (got {pattern!r})")
    sides = [k for k in ("target", "at_least", "at_most") if k in body]
    if len(sides) != 1:
        raise ScenarioError(
            f"{where}: give exactly one of 'target' (with 'tolerance'), 'at_least' or "
            f"'at_most' (got {', '.join(sides) or 'none'})"
        )
    side = sides[0]
    value = _number(body[side], f"{where}.{side}")
    if side == "target":
        if "tolerance" not in body:
            raise ScenarioError(f"{where}: 'target' needs a 'tolerance' (a number 0 or more)")
        tol = _number(body["tolerance"], f"{where}.tolerance")
        if tol < 0:
            raise ScenarioError(f"{where}.tolerance: must be 0 or more (got {body['tolerance']!r})")
        low, high = value - tol, value + tol
    else:
        if "tolerance" in body:
            raise ScenarioError(f"{where}.tolerance: only with 'target'; '{side}' is a one-sided band")
        tol = 0.0
        low, high = (value, math.inf) if side == "at_least" else (-math.inf, value)
    scale = _number(body.get("scale", tol if tol > 0 else 1.0), f"{where}.scale")
    if scale <= 0:
        raise ScenarioError(f"{where}.scale: must be above 0 (got {body.get('scale')!r})")
    fitted = body.get("distance", True)
    if not isinstance(fitted, bool):
        raise ScenarioError(f"{where}.distance: must be true or false (got {fitted!r})")
    if "meaning" in body and not isinstance(body["meaning"], str):
        raise ScenarioError(f"{where}.meaning: must be a text")
    return Target(name, pattern, low, high, scale, fitted)


def _prior(key: str, value: Any, where: str) -> tuple[float, float]:
    try:
        s = spec(key)
    except ScenarioError as e:
        raise ScenarioError(f"{where}: {e}") from None
    if s.defines_outcome:
        raise ScenarioError(f"{where}: {key} is a threshold that defines an outcome, not a mechanism; "
                            "outcome-defining thresholds are not calibrated")
    if s.kind != "float":
        raise ScenarioError(
            f"{where}: {key} is {s.allowed()}; only real-valued parameters can be "
            "calibrated (integers and choices are the programme's design)"
        )
    if value == "span":
        if s.span is None:
            raise ScenarioError(f"{where}: {key} has no plausible span in the schema; give [low, high]")
        lo, hi = (float(v) for v in s.span)
    elif isinstance(value, list) and len(value) == 2:
        lo, hi = (_number(v, where) for v in value)
    else:
        raise ScenarioError(f'{where}: must be [low, high] or "span" (the schema\'s plausible span)')
    if not lo < hi:
        raise ScenarioError(f"{where}: [{_num(lo)}, {_num(hi)}] is empty or reversed; low must be below high")
    if lo < s.low or hi > s.high:
        raise ScenarioError(
            f"{where}: [{_num(lo)}, {_num(hi)}] is outside the schema's allowed range; "
            f"{key} must be {s.allowed()}"
        )
    return lo, hi


def read_targets(path: str | Path) -> Targets:
    """Read and check a targets file.

    Raises:
        ScenarioError: A missing or unreadable file, TOML errors, an unknown key or
            statistic, a malformed band or tolerance, a prior outside the schema's range;
            the message names the file and the key.
    """
    path = Path(path)
    text = read_user_text(
        path,
        expected="a targets file (.toml)",
        if_empty="a targets file needs [statistics.NAME] tables and a [prior] table",
    )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: TOML syntax error: {e}") from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ScenarioError(
            f"{path}: unknown key {unknown[0]!r}; allowed at the top: {', '.join(sorted(_TOP_KEYS))}"
        )
    scenario = data.get("scenario")
    if not isinstance(scenario, str) or not scenario:
        raise ScenarioError(
            f"{path}: key 'scenario': the scenario file calibrated, as a path relative to this file (text)"
        )
    stats = data.get("statistics")
    if not isinstance(stats, dict) or not stats:
        raise ScenarioError(
            f"{path}: key 'statistics': at least one [statistics.NAME] table is needed; "
            f"statistics: {', '.join(STATISTICS)}"
        )
    targets = tuple(_target(name, body, f"{path}: statistics.{name}") for name, body in stats.items())
    missing = sorted(set(PATTERNS) - {t.pattern for t in targets if t.fitted})
    if missing:
        raise ScenarioError(
            f"{path}: key 'statistics': no fitted statistic for pattern {missing[0]}; "
            "each of the six patterns needs at least one with distance = true"
        )
    prior = data.get("prior")
    if not isinstance(prior, dict) or not prior:
        raise ScenarioError(
            f"{path}: key 'prior': a [prior] table naming at least one free parameter "
            '("section.name" = [low, high] or "span") is needed'
        )
    priors = {key: _prior(key, value, f"{path}: prior.{key}") for key, value in prior.items()}
    return Targets(path, hashlib.sha256(text.encode()).hexdigest(), (path.parent / scenario), targets, priors)


def distance(stats: pd.DataFrame, targets: Sequence[Target]) -> np.ndarray:
    """Each run's distance: the norm of its fitted statistics' excess outside their bands.

    0 exactly when every fitted statistic is in its band; a missing statistic (NaN) makes
    the distance infinite.
    """
    fitted = [t for t in targets if t.fitted]
    if stats.empty:
        return np.zeros(0)
    parts = np.column_stack([t.excess(stats[t.statistic].to_numpy(float)) for t in fitted])
    with np.errstate(invalid="ignore", over="ignore"):
        return np.sqrt((parts**2).sum(axis=1))


def reproduced(stats: pd.DataFrame, targets: Sequence[Target]) -> pd.DataFrame:
    """Per run, whether it reproduces each pattern, all six, and each held-out statistic.

    Columns: ``pattern_1`` ... ``pattern_6``, ``joint`` and ``held_out:NAME``.
    """
    out = {}
    for k in PATTERNS:
        mine = [t for t in targets if t.fitted and t.pattern == k]
        ok = np.ones(len(stats), bool)
        for t in mine:
            ok &= t.excess(stats[t.statistic].to_numpy(float)) == 0
        out[f"pattern_{k}"] = ok
    out["joint"] = np.logical_and.reduce([out[f"pattern_{k}"] for k in PATTERNS])
    for t in targets:
        if not t.fitted:
            out[f"held_out:{t.statistic}"] = t.excess(stats[t.statistic].to_numpy(float)) == 0
    return pd.DataFrame(out, index=stats.index)
