from __future__ import annotations

import numpy as np

from netsim import NetworkModel
from netsim.population import features
from netsim.processes.recruitment import is_wave_month, join_probability, recruit
from netsim.scenario import RecruitmentParams


def probability(table, **params) -> np.ndarray:
    return join_probability(features(table), RecruitmentParams(**params))


def test_join_probability_rises_with_capacity(make_table):
    caps = np.repeat(np.linspace(0.1, 0.9, 5)[:, None], 5, axis=1)
    p = probability(make_table(["A"] * 5, capacities=caps))
    assert np.all(np.diff(p) > 0)
    assert np.allclose(probability(make_table(["A"] * 5, capacities=caps), capacity_effect=0.0), p[2])


def test_self_initiated_groups_join_more_readily(make_table):
    p = probability(make_table(["A", "A"], origins=["agency", "self"]))
    assert p[1] > p[0]


def test_more_backing_agencies_raise_join_probability(make_table):
    support = ["none", "ngo", "ngo;forestry;local_government"]
    p = probability(make_table(["A"] * 3, support=support))
    assert p[0] < p[1] < p[2]


def test_average_agency_group_joins_with_base_logit_chance(make_table):
    table = make_table(["A"], capacities=[[0.5] * 5])
    p = join_probability(features(table), RecruitmentParams(base_logit=1.0))
    assert np.isclose(p[0], 1 / (1 + np.exp(-1.0)))


def test_recruitment_disabled_makes_everyone_participate(make_state):
    state = make_state(["A"] * 6, participating=False)
    joined = recruit(state, RecruitmentParams(enabled=False), np.random.default_rng(0), month=0)
    assert sorted(joined.tolist()) == list(range(6))
    assert state.participating.all()
    assert (state.joined_month == 0).all()


def test_recruitment_invites_only_groups_not_yet_participating(make_state):
    state = make_state(["A"] * 400, participating=[True] * 100 + [False] * 300)
    state.joined_month[:100] = 0
    joined = recruit(state, RecruitmentParams(), np.random.default_rng(0), month=6)
    assert (joined >= 100).all()
    assert 0 < len(joined) < 300
    assert (state.joined_month[joined] == 6).all()
    assert (state.joined_month[:100] == 0).all()


def test_wave_months():
    p = RecruitmentParams(waves=2, wave_interval=6)
    assert [m for m in range(30) if is_wave_month(p, m)] == [6, 12]
    assert not any(is_wave_month(RecruitmentParams(waves=0), m) for m in range(30))
    assert not any(is_wave_month(RecruitmentParams(enabled=False, waves=2), m) for m in range(30))


def test_later_waves_add_participants(baseline):
    for seed in range(2):
        once = NetworkModel(scenario=baseline, rng=seed, run_months=12, recruitment_waves=0)
        waves = NetworkModel(scenario=baseline, rng=seed, run_months=12, recruitment_waves=2,
                             recruitment_wave_interval=4)
        once.run_model()
        waves.run_model()
        assert once.monthly_table()["participants"].nunique() == 1
        participants = waves.monthly_table()["participants"]
        assert participants.iloc[-1] > participants.iloc[0]
        assert sorted(set(waves.state.joined_month[waves.state.participating].tolist())) <= [0, 4, 8]


def test_about_54_groups_in_6_districts_join_at_baseline(baseline):
    joined = []
    for seed in range(8):
        model = NetworkModel(scenario=baseline, rng=seed, run_months=0)
        row = model.monthly_table().iloc[0]
        joined.append(row["participants"])
        assert row["districts"] == 6
    assert 46 <= np.mean(joined) <= 62
