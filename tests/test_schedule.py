"""The compiled month is exactly its processes' Python functions, in the ODD's order."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from netsim import NetworkModel, schedule
from netsim.measures import OUTPUTS, monthly_outputs
from netsim.processes import recruitment
from netsim.processes.decay import decay_ties
from netsim.processes.emergence import find_networks
from netsim.processes.followup import fade_trust, follow_up
from netsim.processes.forum import hold_forums
from netsim.processes.interaction import interact
from netsim.processes.review import hold_review
from netsim.state import GroupState

STATE_ARRAYS = ("capacities", "goals", "values", "participating", "joined_month", "inspiration",
                "trust", "plan_quality", "revisions", "attended", "visits", "network_id",
                "network_type", "degree", "last_visit", "forum_formed", "forum_lapse", "forum_type",
                "forum_grace", "forum_coordinator", "forum_marketing")
TIE_FIELDS = ("key", "a", "b", "strength", "kind", "formed", "last_used", "last_activity")


def month_by_process(state: GroupState, p, month: int, what: schedule.Month,
                     stream: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    """One month, one process function at a time (the plain version of ``schedule.advance``)."""
    visited = np.empty(0, np.int64)
    if what.forum:
        hold_forums(state, p.forum, stream, month)
    if what.followup:
        visited = follow_up(state, p.followup, stream, month)
    fade_trust(state, p.followup, month)
    interact(state, p.interaction, stream, month, p.decay)
    if what.review:
        hold_review(state, p.review, stream)
    outputs = monthly_outputs(state, find_networks(state, p.emergence, month, p.decay), month)
    decay_ties(state.ties, p.decay, month, state.values)
    return outputs, visited


def assert_same_state(x: GroupState, y: GroupState) -> None:
    for name in STATE_ARRAYS:
        assert np.array_equal(getattr(x, name), getattr(y, name)), name
    assert len(x.ties) == len(y.ties)
    for name in TIE_FIELDS:
        assert np.array_equal(getattr(x.ties, name), getattr(y.ties, name)), f"ties.{name}"


@pytest.mark.parametrize("overrides", [
    {},
    {"forum_interval": 2, "forum_topic": "marketing", "followup_policy": "bridge",
     "recruitment_waves": 2, "recruitment_wave_interval": 3},
    {"forum_scope": "province", "forum_topic": "ideology", "followup_policy": "weakest",
     "review_interval": 3, "interaction_closure_rate": 0.5},
])
def test_compiled_month_equals_the_processes_one_by_one(baseline, overrides):
    model = NetworkModel(scenario=baseline, rng=5, run_months=14, **overrides)
    p = model.params
    state, stream = copy.deepcopy(model.state), model._stream.copy()
    held = set()
    for month in range(1, 15):
        what = schedule.plan(p, month)
        held |= {name for name in ("wave", "forum", "followup", "review") if getattr(what, name)}
        rng = copy.deepcopy(model.rng)  # recruitment waves draw from the model's generator
        model.step()
        if what.wave:
            recruitment.recruit(state, p.recruitment, rng, month)
        expected, visited = month_by_process(state, p, month, what, stream)
        assert_same_state(model.state, state)
        assert np.array_equal(model._stream, stream)
        got = model.outputs
        assert list(got) == list(OUTPUTS)
        for name in OUTPUTS:
            assert got[name] == expected[name] or (np.isnan(got[name]) and np.isnan(expected[name])), name
        if what.followup:
            assert np.array_equal(model.facilitator.visited, visited)
    assert held >= {"forum", "followup", "review"}
    assert model.outputs["ties"] > 0
