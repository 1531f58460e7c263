from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netsim import NetworkModel, ScenarioError
from netsim.measures import OUTPUTS
from netsim.model import GROUP_OUTPUTS
from netsim.population import CAPACITIES, TARGET_DISTRICTS, study_draw
from netsim.processes.recruitment import default_join_probability

NO_INTERVENTION = {"forum_interval": 0, "followup_visits_per_month": 0, "review_interval": 0}


def run(scenario, seed, months=12, **params) -> NetworkModel:
    model = NetworkModel(scenario=scenario, rng=seed, run_months=months, **params)
    model.run_model()
    return model


def test_same_seed_gives_identical_tables(baseline):
    first, second = run(baseline, 7), run(baseline, 7)
    pd.testing.assert_frame_equal(first.monthly_table(), second.monthly_table())
    pd.testing.assert_frame_equal(first.group_table(), second.group_table())
    assert np.array_equal(first.state.ties.key, second.state.ties.key)


def test_different_seeds_give_different_runs(baseline):
    a, b = run(baseline, 1).monthly_table(), run(baseline, 2).monthly_table()
    assert not a.equals(b)


def test_without_intervention_no_new_ties_form(baseline):
    for seed in range(3):
        model = run(baseline, seed, months=18, **NO_INTERVENTION)
        assert (model.state.ties.formed == 0).all()
        table = model.monthly_table()
        assert table["ties"].is_monotonic_decreasing
        assert (table["mean_inspiration"] == 0).all()
        assert (table["mean_trust"] == 0).all()
        assert (table["revised_plan_share"] == 0).all()


def test_monthly_table_has_a_row_per_month_and_every_output(baseline):
    table = run(baseline, 0, months=5).monthly_table()
    assert table["month"].tolist() == list(range(6))
    assert list(table.columns) == ["month", *OUTPUTS]


def test_zero_months_is_the_starting_state(baseline):
    model = NetworkModel(scenario=baseline, rng=0, run_months=0)
    assert not model.running
    model.run_model()
    assert len(model.monthly_table()) == 1
    assert model.month == 0


def test_group_table_is_the_last_month_one_row_a_group(baseline):
    model = run(baseline, 0, months=4)
    groups = model.group_table()
    assert len(groups) == model.state.n
    assert (groups["month"] == 4).all()
    assert set(GROUP_OUTPUTS) <= set(groups.columns)
    assert groups["participating"].sum() == model.monthly_table()["participants"].iloc[-1]
    assert groups["group_id"].is_unique


def test_group_table_every_month_when_asked(baseline):
    model = NetworkModel(scenario=baseline, rng=0, run_months=4, collect_groups_every=2)
    model.run_model()
    months = sorted(model.group_table(every_month=True)["month"].unique().tolist())
    assert {2, 4} <= set(months)


def test_keyword_parameters_override_the_scenario(baseline):
    model = NetworkModel(scenario=baseline, rng=0, run_months=3, forum_interval=2, forum_scope="province")
    assert (model.params.forum.interval, model.params.forum.scope) == (2, "province")
    assert model.params.recruitment.districts == baseline.params.recruitment.districts


def test_bad_keyword_parameters_are_refused(baseline):
    with pytest.raises(TypeError, match="forum_intervall"):
        NetworkModel(scenario=baseline, forum_intervall=2)
    with pytest.raises(ScenarioError, match="forum.interval"):
        NetworkModel(scenario=baseline, forum_interval=99)


def test_scenario_can_be_a_path(baseline_path):
    model = NetworkModel(scenario=baseline_path, rng=0, run_months=1)
    assert model.scenario_name == "baseline"


def test_baseline_invites_only_the_target_districts(baseline):
    model = NetworkModel(scenario=baseline, rng=0, run_months=0)
    names = model.state.features.district_names
    assert set(names) == set(TARGET_DISTRICTS)
    assert model.state.n < 280


def test_default_scenario_invites_the_whole_population():
    model = NetworkModel(rng=0, run_months=0)
    assert model.state.n == 280
    assert len(model.state.features.district_names) == 18


def test_fixed_participants_from_a_table(baseline, make_table):
    table = make_table(["A", "A", "B", "B"])
    model = NetworkModel(scenario=baseline, groups=table, rng=0, run_months=6, recruitment_enabled=False)
    model.run_model()
    assert model.monthly_table()["participants"].tolist() == [4] * 7


def test_target_district_missing_from_groups_is_refused(baseline, make_table):
    with pytest.raises(ScenarioError, match="recruitment.districts"):
        NetworkModel(scenario=baseline, groups=make_table(["A", "B"]), rng=0)


def test_synthetic_population(baseline):
    model = NetworkModel(scenario=baseline, rng=0, run_months=2, population_synthetic_groups=300,
                         population_synthetic_districts=5, recruitment_districts=[])
    model.run_model()
    assert model.state.n == 300
    assert model.monthly_table()["districts"].iloc[-1] == 5


def test_population_seed_draws_another_population_reproducibly(baseline):
    shipped = NetworkModel(scenario=baseline, rng=1, run_months=0)
    drawn = NetworkModel(scenario=baseline, rng=1, run_months=0, population_seed=7)
    again = NetworkModel(scenario=baseline, rng=1, run_months=0, population_seed=7)
    assert not np.array_equal(drawn.state.capacities, shipped.state.capacities)
    assert np.array_equal(drawn.state.capacities, again.state.capacities)
    assert np.array_equal(drawn.state.participating, again.state.participating)
    fixed = NetworkModel(scenario=baseline, rng=1, run_months=0, population_seed=7,
                         population_groups_file="calibration/baseline_groups.csv", recruitment_enabled=False)
    drawn_table = study_draw(7, default_join_probability)[0].table.set_index("group_id")
    assert fixed.state.n == 54  # the 54 of the seed's own draw, with that draw's capacities
    assert np.array_equal(fixed.state.capacities,
                          drawn_table.loc[fixed.state.features.group_id, list(CAPACITIES)].to_numpy())


def test_synthetic_groups_are_drawn_by_the_population_seed(baseline):
    def groups(rng: int, seed: int) -> np.ndarray:
        model = NetworkModel(scenario=baseline, rng=rng, run_months=0, population_synthetic_groups=200,
                             population_synthetic_districts=4, recruitment_districts=[], population_seed=seed)
        return model.state.capacities

    assert np.array_equal(groups(1, 5), groups(2, 5))  # the run's own seed leaves the population alone
    assert not np.array_equal(groups(1, 5), groups(1, 6))


def test_facilitator_records_visits(baseline):
    model = run(baseline, 0, months=4, followup_visits_per_month=3, followup_ease_with_trust=0.0)
    visited = model.facilitator.visited
    assert len(visited) == 3
    assert model.state.participating[visited].all()
    assert model.facilitator.policy == baseline.params.followup.policy


def test_groups_file_next_to_the_scenario_is_used(tmp_path, make_table):
    make_table(["A", "B", "B"]).to_csv(tmp_path / "survey.csv", index=False)
    path = tmp_path / "survey.toml"
    path.write_text('question = "What happens to my three groups?"\n[population]\n'
                    'groups_file = "survey.csv"\n[recruitment]\nenabled = false\n', encoding="utf-8")
    model = NetworkModel(scenario=path, rng=0, run_months=1)
    assert model.state.n == 3
    assert model.state.participating.all()


def test_missing_groups_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "lost.toml"
    path.write_text('question = "q?"\n[population]\ngroups_file = "nowhere.csv"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="nowhere.csv"):
        NetworkModel(scenario=path, rng=0)


def test_group_table_agrees_with_the_mesa_agents(baseline):
    model = NetworkModel(scenario=baseline, rng=5, run_months=9)
    model.run_model()
    table = model.group_table().set_index("group_id")
    assert (table["month"] == 9).all() and len(table) == len(model.groups)
    for group in model.groups:
        row = table.loc[group.group_id]
        for name in ("district", "kind", "registered", "origin", "participating", "degree",
                     "network_id", "network_type", "top_goal", "inspiration", "trust", "plan_quality"):
            assert row[name] == getattr(group, name), name
        for capacity, value in group.capacities.items():
            assert row[capacity] == value


def test_mesa_batch_run_builds_the_model_from_keywords():
    import mesa

    root = Path(__file__).resolve().parent.parent
    rows = pd.DataFrame(mesa.batch_run(
        NetworkModel, parameters={"scenario": str(root / "scenarios" / "baseline.toml"),
                                  "forum_interval": [0, 2], "followup_visits_per_month": 0,
                                  "run_months": 6},
        rng=[1, 2], number_processes=1, data_collection_period=-1, display_progress=False))
    assert len(rows) == 4 and (rows["Step"] == 6).all()
    by = rows.set_index(["forum_interval", "rng"])
    for seed in (1, 2):  # no forums and no visits: no inspiration; forums every 2 months: some
        assert by.loc[(0, seed), "mean_inspiration"] == 0
        assert by.loc[(2, seed), "mean_inspiration"] > 0


def test_groups_collected_each_month_keep_that_months_values(baseline):
    model = NetworkModel(scenario=baseline, rng=0, run_months=4, collect_groups_every=1)
    seen = {}
    while model.running:
        model.step()
        seen[model.month] = model.state.trust.copy()
    table = model.group_table(every_month=True)
    for month, trust in seen.items():
        assert np.array_equal(table.loc[table["month"] == month, "trust"].to_numpy(), trust)
    assert not np.array_equal(seen[1], seen[4])


def test_mesa_views_of_the_collector_agree_with_the_tables(baseline):
    model = run(baseline, 2, months=5)
    dc = model.datacollector
    monthly = model.monthly_table()
    assert dc.get_model_vars_dataframe().equals(monthly.drop(columns="month"))
    assert monthly["participants"].dtype == np.int64 and monthly["density"].dtype == np.float64
    assert dc.tables["groups"]["trust"] == model.group_table()["trust"].tolist()
    assert dc.get_table_dataframe("groups").equals(model.group_table())


def test_stepping_past_the_run_goes_on_by_the_same_calendar(baseline):
    model = NetworkModel(scenario=baseline, rng=4, run_months=2)
    for _ in range(5):
        model.step()
    monthly = model.monthly_table()
    assert monthly["month"].tolist() == list(range(6))
    assert monthly["participants"].gt(0).all() and monthly["ties"].gt(0).all()
    assert model.state.attended.max() >= 2  # forums in months 1 and 5 (every 4 months)
