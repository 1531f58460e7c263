"""The Mesa agents: ``Group`` (one community group) and ``Facilitator`` (the research team).

A ``Group`` is the readable face of one row of the model's array state
(``netsim/state.py``): its properties read the arrays, so ``group.trust`` is always the
model's current value. The monthly processes work on the arrays directly, all groups at
once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from netsim.population import CAPACITIES, GOALS, KINDS
from netsim.state import NETWORK_TYPES

if TYPE_CHECKING:
    from netsim.model import NetworkModel

__all__ = ["Facilitator", "Group"]


class Group(mesa.Agent):
    """One community group, cooperative or member group.

    Attributes:
        row: The group's row in the model's arrays.
    """

    def __init__(self, model: NetworkModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def _state(self):
        return self.model.state

    @property
    def group_id(self) -> str:
        """Id from the groups file."""
        return str(self._state.features.group_id[self.row])

    @property
    def name(self) -> str:
        """The group's name from the groups file (any script), or its id if it has none."""
        return self._state.features.label(self.row)

    @property
    def district(self) -> str:
        """District name."""
        f = self._state.features
        return f.district_names[f.district[self.row]]

    @property
    def kind(self) -> str:
        """Kind of group (one of the study's categories)."""
        return KINDS[self._state.features.kind[self.row]]

    @property
    def registered(self) -> bool:
        """Registered cooperative or member group."""
        return bool(self._state.features.registered[self.row])

    @property
    def origin(self) -> str:
        """``self`` (self-initiated) or ``agency`` (agency-initiated)."""
        return "self" if self._state.features.self_initiated[self.row] else "agency"

    @property
    def participating(self) -> bool:
        """Whether the group joined the programme."""
        return bool(self._state.participating[self.row])

    @property
    def capacities(self) -> dict[str, float]:
        """Capacity in each dimension, in [0, 1]."""
        return dict(zip(CAPACITIES, self._state.capacities[self.row].tolist(), strict=True))

    @property
    def strengths(self) -> list[str]:
        """Capacities of 0.6 or more."""
        return [c for c, v in self.capacities.items() if v >= 0.6]

    @property
    def weaknesses(self) -> list[str]:
        """Capacities below 0.3."""
        return [c for c, v in self.capacities.items() if v < 0.3]

    @property
    def goals(self) -> dict[str, float]:
        """Weights over the shared purposes."""
        return dict(zip(GOALS, self._state.goals[self.row].tolist(), strict=True))

    @property
    def top_goal(self) -> str:
        """The purpose the group puts first."""
        return GOALS[int(np.argmax(self._state.goals[self.row]))]

    @property
    def inspiration(self) -> float:
        """Inspiration (a broader view), in [0, 1]."""
        return float(self._state.inspiration[self.row])

    @property
    def trust(self) -> float:
        """Trust in the research team, in [0, 1]."""
        return float(self._state.trust[self.row])

    @property
    def plan_quality(self) -> float:
        """Quality of the group's development plan, in [0, 1]."""
        return float(self._state.plan_quality[self.row])

    @property
    def degree(self) -> int:
        """Ties to other participants (as of the last measurement)."""
        return int(self._state.degree[self.row])

    @property
    def network_id(self) -> int:
        """The network forum the group belongs to (lasting from month to month), -1 for none."""
        return int(self._state.network_id[self.row])

    @property
    def network_type(self) -> str:
        """``none``, ``loose``, ``structured`` or ``shared_ideology``."""
        return NETWORK_TYPES[self._state.network_type[self.row]]


class Facilitator(mesa.Agent):
    """The action-research team: a visit capacity and a follow-up policy.

    Attributes:
        visited: Rows of the groups visited in the last month of follow-up.
    """

    def __init__(self, model: NetworkModel) -> None:
        super().__init__(model)
        self.visited: np.ndarray = np.empty(0, dtype=np.int64)

    @property
    def policy(self) -> str:
        """Whom the team visits first."""
        return self.model.params.followup.policy

    @property
    def visits_per_month(self) -> int:
        """Visits the team can make in a month before trust makes it easier."""
        return self.model.params.followup.visits_per_month
