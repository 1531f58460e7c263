from __future__ import annotations

import numpy as np

from netsim import NetworkModel
from netsim.population import CAPACITIES


def test_group_agents_read_the_array_state(baseline):
    model = NetworkModel(scenario=baseline, rng=0, run_months=0)
    group = model.groups[3]
    model.state.trust[3] = 0.7
    model.state.capacities[3] = [0.65, 0.2, 0.5, 0.1, 0.9]
    model.state.goals[3] = [0.1, 0.1, 0.1, 0.6, 0.1]
    assert group.trust == 0.7
    assert group.capacities == dict(zip(CAPACITIES, [0.65, 0.2, 0.5, 0.1, 0.9], strict=True))
    assert group.strengths == ["leadership", "knowledge"]
    assert group.weaknesses == ["finance", "marketing"]
    assert group.top_goal == "conservation"
    assert group.participating == bool(model.state.participating[3])
    assert group.group_id == model.state.features.group_id[3]


def test_one_group_agent_a_row(baseline):
    model = NetworkModel(scenario=baseline, rng=0, run_months=0)
    assert [g.row for g in model.groups] == list(range(model.state.n))
    assert np.array_equal(np.array([g.district for g in model.groups]),
                          np.array(model.state.features.district_names)[model.state.district])
