from __future__ import annotations

import numpy as np

from netsim.processes.emergence import find_networks, network_ties
from netsim.scenario import EmergenceParams
from netsim.state import LOOSE, NONE, STRUCTURED
from netsim.ties import EXCHANGE

MARKETING = [1, 0, 0, 0, 0]


def test_only_strong_ties_between_participants_count(make_state):
    state = make_state(["A"] * 5, participating=[True, True, True, True, False])
    state.ties.reinforce(np.array([0, 1, 2, 3]), np.array([1, 2, 3, 4]), np.array([0.9, 0.3, 0.6, 0.9]),
                         kind=EXCHANGE, month=1)
    a, b, _ = network_ties(state, EmergenceParams(tie_threshold=0.5))
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == [(0, 1), (2, 3)]


def test_find_networks_records_each_groups_network_and_type(make_state):
    values = np.linspace(0, 1, 7)[:, None].repeat(3, axis=1)
    state = make_state(["A"] * 7, goals=[MARKETING] * 7, values=values)
    state.capacities[0, 0] = 0.9
    state.ties.reinforce(np.array([0, 0, 3, 4]), np.array([1, 2, 4, 5]), 0.9, kind=EXCHANGE, month=1)
    state.ties.last_activity[:] = 2
    nets = find_networks(state, EmergenceParams(), month=2)
    assert nets.types == ["structured", "loose"]
    assert state.network_id.tolist() == [0, 0, 0, 1, 1, 1, -1]
    assert state.network_type.tolist() == [STRUCTURED] * 3 + [LOOSE] * 3 + [NONE]


def test_non_participants_are_in_no_network(make_state):
    state = make_state(["A"] * 3, participating=[True, True, False])
    state.ties.reinforce(np.array([0, 1]), np.array([1, 2]), 0.9, kind=EXCHANGE, month=1)
    find_networks(state, EmergenceParams(), month=1)
    assert (state.network_id == -1).all()
    assert (state.network_type == NONE).all()
