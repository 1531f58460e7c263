"""What the page does, without the page: scenarios to pick, controls, runs and the comparison.

Everything here is plain Python over the package's own functions, so the page
(:mod:`netsim.ui.app`) stays a thin layer and these parts are tested without a browser:

* :func:`scenario_files` lists a folder's scenario files, each loaded and validated, or
  with the message that says why it cannot be used;
* :data:`CONTROLS` names the intervention parameters a planner sets; everything else about
  them (kind, range, unit, default) comes from the schema (:func:`control`);
* :func:`build_model` builds a run of a scenario with the planner's settings;
* :class:`Comparison` runs plan A and plan B, N replicates each, through the batch engine
  in a background thread (progress, cancel), and :func:`verdict` says in words what the
  outcomes of :mod:`netsim.outcomes` were under each plan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from netsim.i18n import parameter_text, text
from netsim.outcomes import Reading, read_outcomes
from netsim.scenario import ParamSpec, Scenario, ScenarioError, load_scenario, spec

__all__ = ["COMPARED", "CONTROLS", "Comparison", "Control", "ScenarioFile", "build_model", "control",
           "scenario_files", "slider_range", "verdict"]

#: The parameters a planner sets on the page (the interventions), in the order shown.
CONTROLS: tuple[str, ...] = (
    "forum.interval", "forum.scope", "forum.topic", "followup.visits_per_month", "followup.policy",
    "followup.start_month", "review.interval", "run.months",
)
#: The run-level outcomes the comparison reports (at the final month), headline first.
COMPARED: tuple[str, ...] = ("structured", "marketing", "both", "loose", "ideology")
#: Final-month outputs whose distributions the comparison shows side by side.
DISTRIBUTIONS: tuple[str, ...] = ("structured_share", "cross_district_tie_share", "goal_alignment",
                                  "mean_trust")


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario file offered by the picker.

    Attributes:
        path: The file.
        scenario: The validated scenario, or None if it cannot be used.
        error: Why it cannot be used (the loader's message naming the file and key).
    """

    path: Path
    scenario: Scenario | None
    error: str = ""

    @property
    def label(self) -> str:
        """What the picker shows: the scenario's name, or the file's."""
        return self.scenario.name if self.scenario else self.path.stem


def scenario_files(folder: str | Path) -> list[ScenarioFile]:
    """Every ``*.toml`` file of ``folder``, in name order, loaded (or with its error)."""
    out = []
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            out.append(ScenarioFile(path, load_scenario(path)))
        except ScenarioError as e:
            out.append(ScenarioFile(path, None, str(e)))
    return out


@dataclass(frozen=True)
class Control:
    """One control on the page: the schema's parameter, with its words in a language.

    Attributes:
        spec: What the schema declares (kind, range, default, unit, help).
        label: Plain-language label.
        help: Plain-language help.
        unit: Unit, in words.
        choices: ``(value, words)`` of a choice parameter.
    """

    spec: ParamSpec
    label: str
    help: str
    unit: str
    choices: tuple[tuple[str, str], ...] = ()


def control(key: str, lang: str = "en") -> Control:
    """The control of parameter ``key`` in ``lang``; words missing there fall back to the schema's."""
    s = spec(key)

    def words(part: str, fallback: str) -> str:
        return parameter_text(key, part, lang, fallback)

    return Control(s, words("label", key), words("help", s.help), words("unit", s.unit),
                   tuple((c, words(f"choice.{c}", c)) for c in s.choices))


def slider_range(s: ParamSpec, *values: float) -> tuple[int, int]:
    """The range a slider of an integer parameter offers.

    The schema's plausible span if it declares one, else its allowed range, widened to
    include ``values`` (the scenario's own) and kept inside the allowed range.
    """
    lo, hi = s.span if s.span is not None else (s.low, s.high)
    lo = min([lo, *values])
    hi = max([hi, *values])
    return int(max(lo, s.low)), int(min(hi, s.high))


def build_model(scenario: Scenario, settings: Mapping[str, Any], *, seed: int):
    """A model of ``scenario`` with the planner's ``settings`` (dotted keys) applied.

    Raises:
        ScenarioError: A setting out of range, or a scenario whose groups file cannot be used.
    """
    from netsim.model import NetworkModel

    return NetworkModel.from_scenario(scenario.with_overrides(dict(settings), source="the page"), rng=seed)


@dataclass(eq=False)  # compared by identity: a page redraws when it is given a new one
class Comparison:
    """Plan A against plan B, N replicates each, run through the batch engine in a thread.

    Args:
        plan_a: The first plan (the baseline by default on the page).
        plan_b: The second plan (the planner's settings).
        replicates: Runs of each plan.
        seed: Base seed of the batch; the same seed gives the same runs.
        workers: Worker processes (1: the thread runs them itself).

    Attributes:
        done: Runs finished so far.
        total: Runs in all.
        monthly: The runs' monthly tables, once finished (one row per run x month).
        error: Why it stopped, if it failed.
        cancelled: Whether it was cancelled.
    """

    plan_a: Scenario
    plan_b: Scenario
    replicates: int
    seed: int = 1
    workers: int = 1
    done: int = 0
    total: int = 0
    monthly: pd.DataFrame | None = None
    error: str = ""
    cancelled: bool = False
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self, on_progress: Callable[[Comparison], None] = lambda c: None) -> Comparison:
        """Start the runs in a background thread; ``on_progress`` is called after each chunk and at the end.

        The page runs :meth:`run` in its own task instead (so that progress reaches the page).
        """
        self._thread = threading.Thread(target=self.run, args=(on_progress,), daemon=True,
                                        name="netsim-compare")
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop after the chunk in progress (worker processes are stopped at once)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> Comparison:
        """Wait for the thread to end."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    @property
    def running(self) -> bool:
        """Whether the runs are still going."""
        return self._thread is not None and self._thread.is_alive()

    def run(self, on_progress: Callable[[Comparison], None] = lambda c: None) -> Comparison:
        """Do the runs here and now (what :meth:`start` does in a thread); errors are kept in ``error``."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from netsim.batch import RunContext, make_chunks, make_plan
        from netsim.engines import make_engine

        engine = None
        try:
            plan = make_plan([self.plan_a, self.plan_b], replicates=self.replicates, seed=self.seed)
            self.total = len(plan.runs)
            context = RunContext.for_plan(plan)
            engine = make_engine(context, workers=self.workers)
            size = max(1, min(10, self.total // (4 * engine.slots) or 1))
            parts = []
            for result in engine.results(make_chunks(plan.runs, size)):
                if "monthly" in result.tables:
                    parts.append(pq.read_table(pa.BufferReader(result.tables["monthly"])))
                if result.failures:
                    self.error = result.failures[0]["error"]
                self.done += len(result.run_ids)
                on_progress(self)
                if self._stop.is_set():
                    self.cancelled = True
                    break
            if not self.cancelled and parts:
                self.monthly = pa.concat_tables(parts).to_pandas()
        except Exception as e:  # noqa: BLE001 - shown on the page instead of ending the server
            self.error = f"{type(e).__name__}: {e}"
        finally:
            if engine is not None:
                engine.close()
            on_progress(self)
        return self

    def outcomes(self) -> pd.DataFrame:
        """Per run (index ``run_id``): its plan (``scenario``) and each compared outcome at the final month.

        Read through :func:`netsim.outcomes.read_outcomes`, as the batch summary and the report
        read theirs.
        """
        if self.monthly is None:
            return pd.DataFrame()
        per_run = read_outcomes(self.monthly).set_index("run_id")
        at_end = Reading("end")
        return pd.DataFrame({o: at_end.of(per_run, o) for o in COMPARED}).assign(scenario=per_run["scenario"])

    def final(self) -> pd.DataFrame:
        """The final month of every run (one row per run), with its plan in ``scenario``."""
        if self.monthly is None:
            return pd.DataFrame()
        m = self.monthly
        last = m.groupby("run_id", sort=False)["month"].transform("max")
        return m[m["month"] == last].reset_index(drop=True)

    def shares(self) -> pd.DataFrame:
        """Share of runs with each compared outcome, one row a plan (A then B)."""
        table = self.outcomes()
        if table.empty:
            return pd.DataFrame()
        names = [self.plan_a.name, self.plan_b.name]
        return table.groupby("scenario")[list(COMPARED)].mean().reindex(names)


def verdict(comparison: Comparison, lang: str = "en", *, names: Sequence[str] | None = None) -> list[str]:
    """The comparison in plain words, one sentence an outcome.

    For example "Plan B leads to a structured network in 62% of runs, the baseline in 40%".

    Args:
        comparison: A finished comparison.
        lang: Language of the words.
        names: What to call plan A and plan B (default: their scenario names).
    """
    shares = comparison.shares()
    if shares.empty:
        return []
    a_name, b_name = names or (comparison.plan_a.name, comparison.plan_b.name)
    out = []
    for o in COMPARED:
        a, b = (float(np.round(100 * shares[o].iloc[i])) for i in (0, 1))
        words = text("ui.verdict", lang, plan_b=b_name, plan_a=a_name, outcome=text(f"outcome.{o}", lang),
                     b=f"{b:.0f}", a=f"{a:.0f}")
        out.append(words[:1].upper() + words[1:])
    return out
