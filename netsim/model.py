"""``NetworkModel``: the monthly schedule of forums, follow-up and reviews.

One ``step()`` is one month, in the order of ``docs/odd.md``: (1) recruitment waves,
(2) exchange forums, (3) follow-up visits, (4) self-organised interaction, (5) lessons-
learned reviews, (6) network emergence, then the month's outputs are measured, then
(7) unused ties decay. Recruitment at month 0 happens when the model is built, and
month 0 is measured then, so ``months = 0`` gives the starting state.

Example:
    >>> from netsim import NetworkModel, load_scenario
    >>> model = NetworkModel.from_scenario(load_scenario("scenarios/baseline.toml"), rng=1)
    >>> model.run_model()
    >>> model.monthly_table().iloc[-1]["participants"]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from netsim import schedule
from netsim.agents import Facilitator, Group
from netsim.measures import GROUP_OUTPUTS, Collector, outputs_dict
from netsim.population import (
    GroupFeatures,
    Groups,
    features,
    invited,
    read_groups,
    synthetic_groups,
    validate_groups,
)
from netsim.processes import recruitment
from netsim.scenario import Parameters, Scenario, iter_keywords, load_scenario
from netsim.state import GroupState, initial_state
from netsim.stream import seed_stream

__all__ = ["GROUP_OUTPUTS", "NetworkModel"]

@lru_cache(maxsize=16)
def _groups_file(path: str, mtime_ns: int, size: int) -> Groups:
    # Keyed on the file's modification time and size, so an edited file is read again.
    return read_groups(path)


class NetworkModel(mesa.Model):
    """Community groups forming alliance networks under an action-research programme.

    Args:
        scenario: A :class:`~netsim.scenario.Scenario`, or the path of a scenario
            file; ``None`` uses the schema's defaults.
        groups: The groups (a :class:`~netsim.population.Groups`, a table, or a CSV
            path) instead of the scenario's ``population.groups_file``.
        rng: Seed or generator; the only source of randomness.
        **parameters: Parameter overrides by keyword: the scenario's dotted keys with
            ``_`` for ``.``, e.g. ``forum_interval=2`` (what ``mesa.batch_run`` and
            ``SolaraViz`` pass).

    Attributes:
        params: Every parameter's value.
        scenario_name: Name of the scenario.
        state: The array state (``netsim/state.py``).
        month: Months simulated so far.
        outputs: This month's model-level outputs.
        datacollector: Mesa ``DataCollector`` (:class:`netsim.measures.Collector`) of the
            monthly model outputs, and of the per-group outputs (its table ``"groups"``)
            at the last month and every ``collect_groups_every`` months if above 0.
        facilitator: The research team.
    """

    def __init__(self, *, scenario: Scenario | str | Path | None = None,
                 groups: Groups | pd.DataFrame | str | Path | None = None,
                 rng: Any = None, collect_groups_every: int = 0, **parameters: Any) -> None:
        super().__init__(rng=rng)
        if scenario is None:
            scenario = Scenario("default", "The schema's default parameters.", Parameters(),
                                root=Path(__file__).resolve().parent.parent)
        elif not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        if parameters:
            scenario = scenario.with_overrides(dict(iter_keywords(parameters)), source="parameters")
        self.params: Parameters = scenario.params
        self.scenario_name = scenario.name
        self.collect_groups_every = collect_groups_every
        self.state: GroupState = initial_state(
            self._groups_features(scenario, groups), rng=self.rng,
            prior_tie_strength=self.params.population.prior_tie_strength, goals=self.params.goals)
        self.groups = [Group(self, row) for row in range(self.state.n)]
        self.facilitator = Facilitator(self)
        self.month = 0
        self.datacollector = Collector(self.params.run.months)
        self._kernel_params = schedule.kernel_params(self.params)
        self._stream = seed_stream(self.rng)
        recruitment.recruit(self.state, self.params.recruitment, self.rng, month=0)
        schedule.measure(self.state, self._kernel_params, 0, self.datacollector.next_row())
        self._collect()
        self.running = self.params.run.months > 0

    def _groups_features(self, scenario: Scenario, groups: Any) -> GroupFeatures:
        pop, rec = self.params.population, self.params.recruitment
        districts = rec.districts if rec.enabled and rec.districts else ()
        if groups is None and pop.synthetic_groups > 0:
            table = synthetic_groups(pop.synthetic_groups, pop.synthetic_districts,
                                     rng=np.random.default_rng(pop.seed))
            return features(invited(table, districts, "synthetic groups"))
        if isinstance(groups, pd.DataFrame):
            groups = Groups(validate_groups(groups, source="groups table"), "groups table")
        elif not isinstance(groups, Groups):
            path = Path(groups) if groups is not None else scenario.resolve(pop.groups_file)
            try:
                st = os.stat(path)
            except OSError:
                st = None
            if st is None or not stat.S_ISREG(st.st_mode):
                read_groups(path)  # raises the clear message
            groups = _groups_file(str(path), st.st_mtime_ns, st.st_size)
        return groups.redrawn(pop.seed, recruitment.default_join_probability).features(districts)

    @classmethod
    def from_scenario(cls, scenario: Scenario | str | Path, *, rng: Any = None,
                      groups: Groups | pd.DataFrame | str | Path | None = None,
                      **kwargs: Any) -> NetworkModel:
        """Build the model of a scenario (an object or a file path)."""
        return cls(scenario=scenario, groups=groups, rng=rng, **kwargs)

    def step(self) -> None:
        """Advance one month (``netsim/schedule.py``)."""
        self.month += 1
        what = self._kernel_params.month(self.month)
        if what.wave:
            recruitment.recruit(self.state, self.params.recruitment, self.rng, self.month)
        visited = schedule.advance(self.state, self._kernel_params, self.month, what, self._stream,
                                   self.datacollector.next_row())
        if what.followup:
            self.facilitator.visited = visited
        self._collect()
        if self.month >= self.params.run.months:
            self.running = False

    @property
    def outputs(self) -> dict[str, float | int]:
        """The model-level outputs of the month just simulated (:data:`netsim.measures.OUTPUTS`)."""
        return outputs_dict(self.datacollector.last_row())

    def _collect(self) -> None:
        self.datacollector.collect(self)
        every = self.collect_groups_every
        if self.month >= self.params.run.months or (every and self.month % every == 0):
            self.datacollector.collect_groups(self)

    def monthly_columns(self) -> dict[str, np.ndarray]:
        """The monthly model outputs as columns (``month`` first): what :meth:`monthly_table` holds."""
        return self.datacollector.monthly_columns()

    def monthly_table(self) -> pd.DataFrame:
        """The monthly model outputs, one row a month (month 0 is the starting state)."""
        return pd.DataFrame(self.monthly_columns())

    def group_columns(self) -> dict[str, np.ndarray]:
        """The per-group outputs of every month collected, as columns (``month`` first)."""
        return self.datacollector.group_columns()

    def group_table(self, *, every_month: bool = False) -> pd.DataFrame:
        """The per-group outputs of the last month collected (or of every month collected)."""
        df = self.datacollector.get_table_dataframe("groups")
        if not every_month:
            df = df[df["month"] == df["month"].max()]
        return df.reset_index(drop=True)

    def tie_table(self) -> pd.DataFrame:
        """The ties between participating groups now (:func:`netsim.export.tie_table`)."""
        from netsim.export import tie_table

        return pd.DataFrame(tie_table(self.state))
