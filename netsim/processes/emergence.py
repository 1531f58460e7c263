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

from netsim.codes import LEADERSHIP
from netsim.networks import EmergenceKernel, Networks, classify_kernel, classify_params, strong_ties
from netsim.scenario import EmergenceParams
from netsim.state import GroupState

__all__ = ["emergence_kernel", "find_networks", "kernel_params", "network_ties"]


def kernel_params(p: EmergenceParams) -> EmergenceKernel:
    """The emergence parameters as the compiled month takes them."""
    return classify_params(p)


@numba.njit(cache=True)
def emergence_kernel(s, a, b, strength, last_activity, month, p):  # pragma: no cover - compiled
    """Classify the networks of the strong ties; write each group's network and type.

    ``s`` is the state's :class:`~netsim.state.StateArrays`; ``a``, ``b``, ``strength`` and
    ``last_activity`` the ties (exactly, no spare room); ``p`` an
    :class:`~netsim.networks.EmergenceKernel`. Returns the :class:`~netsim.networks.Networks`.
    """
    sa, sb, sl = strong_ties(a, b, strength, last_activity, s.participating, p.tie_threshold)
    nets = classify_kernel(len(s.participating), sa, sb, sl, s.district, s.capacities[:, LEADERSHIP],
                     s.goals, s.values, month, p)
    s.network_id[:] = nets.label
    s.network_type[:] = nets.node_type
    return nets


def network_ties(state: GroupState, p: EmergenceParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ties that count for networks (between participants, strong enough): a, b, last activity."""
    t = state.ties
    return strong_ties(t.a, t.b, t.strength, t.last_activity, state.participating, p.tie_threshold)


def find_networks(state: GroupState, p: EmergenceParams, month: int) -> Networks:
    """Classify this month's networks and record each group's network and type."""
    t = state.ties
    return emergence_kernel(state.arrays(), t.a, t.b, t.strength, t.last_activity, month, kernel_params(p))
