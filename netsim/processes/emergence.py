"""Network forum emergence: find this month's networks and classify them.

The networks are the clusters of participants' ties at least ``tie_threshold`` strong
(see ``netsim/networks.py`` for the classifier: loose, structured, structured with a
shared ideology, and the cross-district marketing network). Each group's network and
type are written to the state for the per-group outputs and the agents; no process reads
them back: networks are observed, they do not act.
"""

from __future__ import annotations

import numpy as np

from netsim.networks import Networks, classify, strong_ties
from netsim.population import CAPACITIES
from netsim.scenario import EmergenceParams
from netsim.state import GroupState

__all__ = ["network_ties", "find_networks"]

_LEADERSHIP = CAPACITIES.index("leadership")


def network_ties(state: GroupState, p: EmergenceParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ties that count for networks (between participants, strong enough): a, b, last activity."""
    t = state.ties
    return strong_ties(t.a, t.b, t.strength, t.last_activity, state.participating, p.tie_threshold)


def find_networks(state: GroupState, p: EmergenceParams, month: int) -> Networks:
    """Classify this month's networks and record each group's network and type."""
    a, b, last_activity = network_ties(state, p)
    nets = classify(state.n, a, b, last_activity, district=state.district,
                    leadership=state.capacities[:, _LEADERSHIP], goals=state.goals,
                    values=state.values, month=month, p=p)
    state.network_id[:] = nets.label
    state.network_type[:] = nets.node_type
    return nets
