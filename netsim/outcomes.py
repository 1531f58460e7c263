"""Run-level outcomes: what a run's months add up to, defined once for every reader.

An *outcome* is a condition on one month's outputs ("a structured network exists", "a
cross-district marketing network exists", or a threshold on any output such as
``mean_trust>=0.6``). A run is more than its final month: the same condition can hold at
the end, at some month, for a sustained spell, or by a deadline, and a one-month flicker
is not what a field study means by "a network formed". :func:`timeline` reads each run's
months once and gives, per run, when the outcome first held, how many months it held,
its longest unbroken spell, and whether (and since when) it held at the end;
:class:`Reading` turns that into yes or no ("at the end", "ever", "for at least K months",
"by month M").

The batch summary, the report, scenario discovery, the calibration's pattern statistics
and the planner's page all read outcomes through this module, so "structured" means the
same thing everywhere.

Example:
    >>> import pandas as pd
    >>> monthly = pd.DataFrame({"run_id": ["r"] * 4, "month": [0, 1, 2, 3],
    ...                         "marketing_network": [0, 1, 1, 0]})
    >>> row = timeline(monthly, OUTCOMES["marketing"]).iloc[0]
    >>> bool(row["ever"]), bool(row["at_end"]), int(row["first_month"]), int(row["longest"])
    (True, False, 1, 2)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from netsim.store import ResultStore

__all__ = ["MODES", "OUTCOMES", "TIMELINE_FIELDS", "Outcome", "OutcomeError", "Reading", "outcome",
           "read_outcomes", "reading", "run_outcomes", "timeline"]


class OutcomeError(ValueError):
    """An outcome or a way of reading it that cannot be understood; the message says what is allowed."""


@dataclass(frozen=True)
class Outcome:
    """A condition on one month's outputs.

    Attributes:
        name: Its short name (a column prefix in run-level tables).
        meaning: What it means, in a line.
        columns: The monthly outputs it reads.
        test: One month's rows (a DataFrame with ``columns``) -> a boolean Series.
    """

    name: str
    meaning: str
    columns: tuple[str, ...]
    test: Callable[[pd.DataFrame], pd.Series]

    def holds(self, monthly: pd.DataFrame) -> pd.Series:
        """Whether the outcome holds in each row (month) of ``monthly``."""
        missing = [c for c in self.columns if c not in monthly.columns]
        if missing:
            raise OutcomeError(f"outcome {self.name!r} needs the monthly output(s) {', '.join(missing)}")
        return self.test(monthly).astype(bool)


def _any_structured(m: pd.DataFrame) -> pd.Series:
    return (m["structured"] + m["shared_ideology"]) > 0


#: The named outcomes. Each is a condition on one month; how a run's months are read is a
#: :class:`Reading`.
OUTCOMES: dict[str, Outcome] = {o.name: o for o in (
    Outcome("structured", "at least one structured network (with or without a shared ideology)",
            ("structured", "shared_ideology"), _any_structured),
    Outcome("ideology", "at least one structured network with a shared ideology",
            ("shared_ideology",), lambda m: m["shared_ideology"] > 0),
    Outcome("loose", "at least one loose network", ("loose",), lambda m: m["loose"] > 0),
    Outcome("both", "both a loose and a structured network (the study's outcome)",
            ("loose", "structured", "shared_ideology"), lambda m: (m["loose"] > 0) & _any_structured(m)),
    Outcome("marketing", "a cross-district marketing network", ("marketing_network",),
            lambda m: m["marketing_network"] > 0),
)}

_THRESHOLD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<|==)\s*([-+0-9.eE]+)\s*$")
_COMPARE = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less, "==": np.equal}


def outcome(text: str, *, outputs: Iterable[str] | None = None) -> Outcome:
    """The outcome named by ``text``: a name of :data:`OUTCOMES` or a threshold ``OUTPUT OP NUMBER``.

    Args:
        text: ``"structured"``, ``"marketing"``, ..., or e.g. ``"mean_trust>=0.6"`` (``>=``,
            ``<=``, ``>``, ``<``, ``==``).
        outputs: The monthly outputs a threshold may name (default: every output of
            :data:`netsim.measures.OUTPUTS`).

    Raises:
        OutcomeError: Neither a named outcome nor a threshold on a known output.
    """
    if text in OUTCOMES:
        return OUTCOMES[text]
    found = _THRESHOLD.match(text)
    if outputs is None:
        from netsim.measures import OUTPUTS

        outputs = OUTPUTS
    outputs = list(outputs)
    if not found:
        raise OutcomeError(f"outcome {text!r}: one of {', '.join(OUTCOMES)}, or a threshold on a monthly "
                           f"output such as 'mean_trust>=0.6'")
    column, op, number = found.groups()
    if column not in outputs:
        raise OutcomeError(f"outcome {text!r}: {column!r} is not a monthly output; "
                           f"one of {', '.join(outputs)}")
    try:
        value = float(number)
    except ValueError:
        raise OutcomeError(f"outcome {text!r}: {number!r} is not a number") from None
    compare = _COMPARE[op]
    return Outcome(f"{column}{op}{number}", f"{column} {op} {number}", (column,),
                   lambda m: pd.Series(compare(m[column].to_numpy(float), value), index=m.index))


#: The ways a run's months can be read.
MODES = ("end", "ever", "for", "by")


@dataclass(frozen=True)
class Reading:
    """How a run's months are turned into yes or no.

    Attributes:
        mode: ``"end"`` (holds at the final month), ``"ever"`` (in some month), ``"for"``
            (for at least ``months`` consecutive months) or ``"by"`` (first held at or
            before month ``months``).
        months: K of ``"for"``, M of ``"by"``.
    """

    mode: str = "end"
    months: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise OutcomeError(f"reading {self.mode!r}: one of end, ever, for:K, by:M")
        if self.mode in ("for", "by") and self.months < (1 if self.mode == "for" else 0):
            raise OutcomeError(f"reading {self.mode}:{self.months}: for:K needs K of at least 1 "
                               "(one of end, ever, for:K, by:M)")

    def __str__(self) -> str:
        return self.mode if self.mode in ("end", "ever") else f"{self.mode}:{self.months}"

    def describe(self) -> str:
        """The reading in words."""
        return {"end": "at the final month", "ever": "in at least one month",
                "for": f"for at least {self.months} consecutive months",
                "by": f"by month {self.months}"}[self.mode]

    def holds(self, runs: pd.DataFrame) -> pd.Series:
        """Whether each run of a :func:`timeline` table has the outcome under this reading."""
        if self.mode == "end":
            return runs["at_end"].astype(bool)
        if self.mode == "ever":
            return runs["ever"].astype(bool)
        if self.mode == "for":
            return runs["longest"] >= self.months
        return runs["first_month"].le(self.months).fillna(False).astype(bool)

    def of(self, per_run: pd.DataFrame, name: str) -> pd.Series:
        """Whether each run of a :func:`read_outcomes` (or :func:`run_outcomes`) table has outcome ``name``.

        Raises:
            OutcomeError: The table does not hold that outcome.
        """
        columns = {f: f"{name}_{f}" for f in TIMELINE_FIELDS}
        missing = [c for c in columns.values() if c not in per_run.columns]
        if missing:
            raise OutcomeError(f"outcome {name!r} is not in this table (no column(s) {', '.join(missing)})")
        return self.holds(per_run[list(columns.values())].set_axis(list(columns), axis=1)).rename(name)


def reading(text: str) -> Reading:
    """Parse ``"end"``, ``"ever"``, ``"for:K"`` or ``"by:M"``.

    Raises:
        OutcomeError: Anything else.
    """
    mode, _, months = text.strip().partition(":")
    if mode in ("end", "ever") and not months:
        return Reading(mode)
    if mode in ("for", "by") and months.strip().isdigit():
        return Reading(mode, int(months))
    raise OutcomeError(f"reading {text!r}: one of end, ever, for:K (K months in a row), by:M (by month M)")


#: The columns of a :func:`timeline` table, after the run identity.
TIMELINE_FIELDS: dict[str, str] = {
    "at_end": "holds at the run's final month",
    "ever": "holds in at least one month",
    "first_month": "first month it holds (empty if never)",
    "months": "months in which it holds",
    "longest": "longest unbroken spell, in months",
    "since": "first month of the spell that lasts to the end (empty if it does not hold at the end)",
}


def timeline(monthly: pd.DataFrame, what: Outcome, *, by: str = "run_id") -> pd.DataFrame:
    """Per run, when and for how long ``what`` held.

    Args:
        monthly: One row per run x month (the batch's ``monthly`` table or a single run's
            monthly table); needs ``month``, the run column ``by`` (optional for a single
            run) and the outcome's columns.
        what: The outcome.
        by: The column naming the run.

    Returns:
        One row per run, indexed by ``by``, with the columns of :data:`TIMELINE_FIELDS`.
    """
    if by not in monthly.columns:
        monthly = monthly.assign(**{by: "run"})
    m = monthly.sort_values([by, "month"], kind="stable")
    on = what.holds(m).to_numpy(bool)
    if not len(m):
        return pd.DataFrame({f: pd.Series(dtype=float if f in ("first_month", "since") else
                                          bool if f in ("at_end", "ever") else np.int64)
                             for f in TIMELINE_FIELDS}, index=pd.Index([], name=by))
    run = m[by].to_numpy()
    month = m["month"].to_numpy(np.int64)
    n = len(m)
    first_row = np.ones(n, bool)
    first_row[1:] = run[1:] != run[:-1]
    run_no = np.cumsum(first_row) - 1
    prev_on = np.zeros(n, bool)
    prev_on[1:] = on[:-1]
    spell_start = on & (first_row | ~prev_on)
    spell = np.cumsum(spell_start)  # the spell each "on" row belongs to
    spell_len = np.bincount(spell[on], minlength=spell[-1] + 1)
    runs = int(run_no[-1]) + 1
    longest = np.zeros(runs, np.int64)
    np.maximum.at(longest, run_no[on], spell_len[spell[on]])
    months = np.bincount(run_no[on], minlength=runs)
    first_month = np.full(runs, np.nan)
    starts = np.flatnonzero(spell_start)
    # the earliest spell start of each run: starts are in row order, so the first one seen wins
    runs_of_starts = run_no[starts]
    firsts = np.unique(runs_of_starts, return_index=True)
    first_month[firsts[0]] = month[starts[firsts[1]]]
    last_row = np.ones(n, bool)
    last_row[:-1] = first_row[1:]
    at_end = on[last_row]
    since = np.full(runs, np.nan)
    # the start of the spell that the last row belongs to
    spell_first_month = np.full(spell[-1] + 1, np.nan)
    spell_first_month[spell[starts]] = month[starts]
    ends_on = last_row & on
    since[run_no[ends_on]] = spell_first_month[spell[ends_on]]
    return pd.DataFrame({"at_end": at_end, "ever": months > 0, "first_month": first_month,
                         "months": months, "longest": longest, "since": since},
                        index=pd.Index(run[last_row], name=by))


def run_outcomes(monthly: pd.DataFrame, outcomes: Sequence[Outcome] | None = None, *,
                 by: str = "run_id") -> pd.DataFrame:
    """Every outcome's :func:`timeline`, side by side: columns ``NAME_at_end``, ``NAME_ever``, ...

    Args:
        monthly: One row per run x month.
        outcomes: The outcomes (default: every named one whose columns ``monthly`` has).
        by: The column naming the run.
    """
    if outcomes is None:
        outcomes = [o for o in OUTCOMES.values() if all(c in monthly.columns for c in o.columns)]
    parts = [timeline(monthly, o, by=by).add_prefix(f"{o.name}_") for o in outcomes]
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=pd.Index([], name=by))


_IDENTITY = ("scenario", "replicate", "seed", "run_id")


def read_outcomes(source: ResultStore | pd.DataFrame, *, inputs: Sequence[str] | None = None) -> pd.DataFrame:
    """A batch's run-level outcomes: one row per finished run, its identity and :func:`run_outcomes`.

    What the batch summary, the report and the planner's page read when they speak of
    "formed", "at the end" or "ever", so that these words mean the same everywhere.

    Args:
        source: A :class:`netsim.store.ResultStore`, read from its ``outcomes`` table, which
            each chunk of a batch writes beside its monthly rows (a store written before that
            table existed has its outcomes computed from its ``monthly`` table instead, with
            the same result); or a batch's ``monthly`` table itself (one row per run x month,
            with ``run_id``), as the planner's page holds its runs.
        inputs: The swept keys kept as identity columns (default: the store's plan's; for a
            table, its columns named like ``section.key``).
    """
    if isinstance(source, pd.DataFrame):
        if inputs is None:
            inputs = [c for c in source.columns if "." in c]
        return _outcomes_of(source, None, inputs)
    table = source.read("outcomes")
    if not table.empty:
        return table
    if inputs is None:
        inputs = list(source.manifest_or_disk().get("plan", {}).get("inputs", []))
    columns = list(dict.fromkeys(c for o in OUTCOMES.values() for c in o.columns))
    monthly = source.read("monthly", columns=["run_id", "month", *columns])
    if monthly.empty:
        return pd.DataFrame()
    return _outcomes_of(monthly, source.read("runs", columns=[*_IDENTITY, *inputs]), inputs)


def _outcomes_of(monthly: pd.DataFrame, runs: pd.DataFrame | None, inputs: Sequence[str]) -> pd.DataFrame:
    """:func:`run_outcomes` of ``monthly`` after each run's identity (from ``runs``, or ``monthly``'s own)."""
    if monthly.empty:
        return pd.DataFrame()
    order = [c for c in ("scenario", *inputs, "replicate", "seed", "run_id")
             if runs is not None or c in monthly.columns]
    if runs is None:
        runs = monthly.drop_duplicates("run_id")[order]
    per_run = run_outcomes(monthly)
    runs = runs[runs["run_id"].isin(per_run.index)].reset_index(drop=True)
    return pd.concat([runs[order], per_run.reindex(runs["run_id"]).reset_index(drop=True)], axis=1)
