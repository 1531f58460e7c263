"""Network forum emergence: find this month's networks and classify them.

The networks are the clusters of participants' ties at least ``tie_threshold`` strong
(see ``netsim/networks.py`` for the classifier: loose, structured, structured with a
shared ideology, and the cross-district marketing network). Each group's network and
type are written to the state for the per-group outputs and the agents; no process reads
them back: networks are observed, they do not act.
"""

from __future__ import annotations

import numba
import numpy as np

from netsim.networks import Networks, _classify, classify_params, strong_ties
from netsim.population import CAPACITIES
from netsim.scenario import EmergenceParams
from netsim.state import GroupState

__all__ = ["find_networks", "kernel_params", "network_ties"]

_LEADERSHIP = CAPACITIES.index("leadership")


def kernel_params(p: EmergenceParams) -> tuple:
    """The emergence parameters in the order :func:`_find_networks` takes them."""
    return (p.tie_threshold, *classify_params(p))


@numba.njit(cache=True)
def _find_networks(participating, district, capacities, goals, values, network_id, network_type,
                   a, b, strength, last_activity, month, tie_threshold, *classify_p):  # pragma: no cover
    """Classify the networks of the strong ties; write each group's network and type."""
    sa, sb, sl = strong_ties(a, b, strength, last_activity, participating, tie_threshold)
    nets = _classify(len(participating), sa, sb, sl, district, capacities[:, _LEADERSHIP], goals,
                     values, month, *classify_p)
    network_id[:] = nets[0]  # label (the results come in the order of Networks' fields)
    network_type[:] = nets[10]  # node_type
    return nets


def network_ties(state: GroupState, p: EmergenceParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ties that count for networks (between participants, strong enough): a, b, last activity."""
    t = state.ties
    return strong_ties(t.a, t.b, t.strength, t.last_activity, state.participating, p.tie_threshold)


def find_networks(state: GroupState, p: EmergenceParams, month: int) -> Networks:
    """Classify this month's networks and record each group's network and type."""
    t = state.ties
    out = _find_networks(state.participating, state.district, state.capacities, state.goals,
                         state.values, state.network_id, state.network_type, t.a, t.b, t.strength,
                         t.last_activity, month, *kernel_params(p))
    return Networks(*out[:-1], marketing_districts=int(out[-1]))
