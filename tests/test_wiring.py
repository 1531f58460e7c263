"""Every mechanism parameter reaches the compiled month, at the right place.

Each parameter with a plausible span is moved alone to each end of its span; the months
that result must differ from the default's (same seeds) at one end at least. Parameters whose effect has a
known direction must move that outcome that way (means over seeded replicates). A
parameter left unwired, or two swapped (district and kind homophily, say), fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from netsim import NetworkModel
from netsim.compiled import record
from netsim.processes.forum import ForumKernel
from netsim.scenario import ForumParams, parameters

MONTHS = 18
SEEDS = (1, 2, 3)
#: Every process active early and often, so that each parameter has something to act on:
#: province-wide forums (district homophily acts only where districts meet), reviews every
#: 3 months, follow-up from month 1.
SETTING = {"forum_scope": "province", "forum_interval": 2, "review_interval": 3,
           "review_start_month": 3, "followup_start_month": 1}
#: Parameters that act only in some setting: there, both runs use it. A kind's goal profile
#: acts only on groups of that kind, and some kinds have a single group in the province, so
#: there every group of the province takes part. The ideology threshold acts only where some
#: network's values come near it: with ideology forums.
CONTEXT = {"forum.topic_pull": {"forum_topic": "marketing"},
           "emergence.ideology_threshold": {"forum_topic": "ideology"},
           **{s.key: {"recruitment_enabled": False} for s in parameters() if s.key.startswith("goals.")}}
MECHANISMS = [s for s in parameters() if s.span is not None and s.key.split(".")[0] != "run"
              and s.keyword not in SETTING]


def _ends(s) -> list[float | int]:
    """The ends of the parameter's span that differ from its default."""
    cast = int if s.kind == "int" else float
    return [cast(v) for v in s.span if cast(v) != s.default]


def _run(baseline, seed: int, **moved) -> tuple:
    model = NetworkModel(scenario=baseline, rng=seed, run_months=MONTHS, **{**SETTING, **moved})
    model.run_model()
    s, t = model.state, model.state.ties
    return (model.monthly_table().to_numpy(), s.capacities, s.goals, s.values, s.trust, s.inspiration,
            s.plan_quality, t.a.copy(), t.b.copy(), t.strength.copy(), t.kind.copy())


def _same(x: tuple, y: tuple) -> bool:
    return all(a.shape == b.shape and np.array_equal(a, b, equal_nan=True) for a, b in zip(x, y, strict=True))


@pytest.fixture(scope="module")
def default_runs(baseline):
    return [_run(baseline, seed) for seed in SEEDS]


@pytest.mark.parametrize("spec", MECHANISMS, ids=lambda s: s.key)
def test_each_mechanism_parameter_moved_alone_changes_the_run(baseline, default_runs, spec):
    ends, context = _ends(spec), CONTEXT.get(spec.key, {})
    assert ends
    if context:
        default_runs = [_run(baseline, seed, **context) for seed in SEEDS]
    changed = [any(not _same(_run(baseline, seed, **context, **{spec.keyword: value}), default)
                   for seed, default in zip(SEEDS, default_runs, strict=True)) for value in ends]
    assert any(changed), f"{spec.key} at {ends} changes nothing: is it wired into the compiled month?"


def _mean_final(baseline, measure, **moved) -> float:
    values = []
    for seed in range(1, 9):
        model = NetworkModel(scenario=baseline, rng=seed, run_months=MONTHS, **{**SETTING, **moved})
        model.run_model()
        values.append(measure(model))
    return float(np.nanmean(values))


def _final(name):
    return lambda model: model.outputs[name]


def _same_kind_share(model) -> float:
    s, t = model.state, model.state.ties
    live = s.participating[t.a] & s.participating[t.b]
    return float((s.features.kind[t.a] == s.features.kind[t.b])[live].mean())


def _mean_strength(model) -> float:
    s, t = model.state, model.state.ties
    return float(t.strength[s.participating[t.a] & s.participating[t.b]].mean())


@pytest.mark.parametrize(("key", "before", "after", "measure", "rises"), [
    ("forum_homophily_district", 0.0, 3.0, _final("cross_district_tie_share"), False),
    ("forum_homophily_kind", 0.0, 3.0, _same_kind_share, True),
    ("forum_tie_gain", 0.1, 0.5, _mean_strength, True),
    ("forum_inspiration_gain", 0.1, 0.6, _final("mean_inspiration"), True),
    ("followup_trust_gain", 0.05, 0.5, _final("mean_trust"), True),
    ("followup_introduction_prob", 0.0, 0.5, _final("cross_district_tie_share"), True),
    ("interaction_inspiration_decay", 0.0, 0.1, _final("mean_inspiration"), False),
    ("review_plan_gain", 0.1, 0.5, _final("mean_plan_quality"), True),
    ("decay_rate", 0.02, 0.25, _final("ties"), False),
    ("emergence_ideology_threshold", 0.95, 0.6, _final("shared_ideology"), True),
])
def test_parameters_with_a_known_direction_move_their_outcome_that_way(baseline, key, before, after,
                                                                       measure, rises):
    x, y = (_mean_final(baseline, measure, **{key: v}) for v in (before, after))
    assert (y > x) if rises else (y < x), (key, before, x, after, y)


def test_records_are_built_by_field_name_from_the_schema():
    p = ForumParams(homophily_district=1.5, homophily_kind=0.25)
    k = record(ForumKernel, p, by_district=True, topic=0)
    assert (k.homophily_district, k.homophily_kind) == (1.5, 0.25)
    assert isinstance(k.candidates, int) and isinstance(k.by_district, bool)
    with pytest.raises(TypeError, match="by_district"):
        record(ForumKernel, p, topic=0)  # a field neither in the section nor derived
    with pytest.raises(TypeError, match="no field"):
        record(ForumKernel, p, by_district=True, topic=0, colour=1)
