from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netsim import NetworkModel, ScenarioError, read_groups
from netsim.population import (
    CAPACITIES,
    KINDS,
    STUDY_SEED,
    TARGET_DISTRICTS,
    generate_baseline,
    generate_population,
    study_draw,
    synthetic_groups,
    validate_groups,
)
from netsim.processes.recruitment import default_join_probability

PROJECT = Path(__file__).resolve().parent.parent

STUDY_COUNTS = {
    "cooperative": 21,
    "womens_cooperative_group": 95,
    "credit_union": 1,
    "savings_group": 4,
    "agricultural_group": 1,
    "farmer_occupational_group": 150,
    "forest_conservation": 2,
    "community_business": 4,
    "alternative_agriculture": 1,
    "folk_healer_network": 1,
}
HEADER = ("group_id,district,kind,parent_id,origin,support_sources,"
          "leadership,finance,production,marketing,knowledge")
ROWS = [
    "C1,A,cooperative,,self,cooperative_promotion,0.5,0.5,0.5,0.5,0.5",
    "M1,A,savings_group,C1,agency,none,0.4,0.4,0.4,0.4,0.4",
    "U1,B,farmer_occupational_group,,self,ngo; local_government,0.3,0.3,0.3,0.3,0.3",
]


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    return generate_population()


def write(tmp_path, text: str, name: str = "groups.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_population_has_the_study_counts_of_each_kind(population):
    assert population["kind"].value_counts().to_dict() == STUDY_COUNTS
    assert len(population) == 280
    assert set(STUDY_COUNTS) == set(KINDS)


def test_member_groups_sit_in_their_cooperative_district(population):
    members = population[population["parent_id"] != ""]
    assert len(members) == 101
    coops = population.set_index("group_id")
    assert (coops.loc[members["parent_id"], "kind"] == "cooperative").all()
    assert (coops.loc[members["parent_id"], "district"].to_numpy() == members["district"].to_numpy()).all()
    assert population["registered"].sum() == 21 + 101


def test_prior_networks_are_small_groups_of_one_district(population):
    prior = population[population["prior_network"] != ""].groupby("prior_network")
    assert len(prior) > 0
    assert prior.size().between(3, 5).all()
    assert (prior["district"].nunique() == 1).all()
    assert not population.loc[population["prior_network"] != "", "registered"].any()


def test_population_is_a_valid_groups_table(population):
    table = validate_groups(population, source="generated")
    assert len(table) == 280
    assert table["group_id"].is_unique
    assert ((table[list(CAPACITIES)] >= 0) & (table[list(CAPACITIES)] <= 1)).all().all()


def test_generated_table_with_boolean_registered_is_valid(population):
    table = validate_groups(population, source="generated")
    assert table["registered"].tolist() == population["registered"].tolist()


def test_population_generation_is_reproducible(population):
    pd.testing.assert_frame_equal(generate_population(), population)
    assert not generate_population(seed=1)[list(CAPACITIES)].equals(population[list(CAPACITIES)])


def test_shipped_population_file_equals_regenerated_population(population):
    shipped = (PROJECT / "calibration" / "population.csv").read_text(encoding="utf-8")
    assert population.to_csv(index=False) == shipped


def test_baseline_groups_file_has_54_groups_in_the_6_target_districts():
    table = pd.read_csv(PROJECT / "calibration" / "baseline_groups.csv", dtype=str, keep_default_na=False)
    assert len(table) == 54
    assert set(table["district"]) == set(TARGET_DISTRICTS)


def test_shipped_baseline_file_equals_regenerated_baseline(population):
    shipped = (PROJECT / "calibration" / "baseline_groups.csv").read_text(encoding="utf-8")
    assert generate_baseline(population, default_join_probability).to_csv(index=False) == shipped


def test_the_study_draw_of_the_default_seed_is_the_shipped_files():
    population, baseline = study_draw(STUDY_SEED, default_join_probability)
    pd.testing.assert_frame_equal(population.table,
                                  read_groups(PROJECT / "calibration" / "population.csv").table)
    pd.testing.assert_frame_equal(baseline.table,
                                  read_groups(PROJECT / "calibration" / "baseline_groups.csv").table)


def test_another_population_seed_redraws_the_study_counts():
    shipped = read_groups(PROJECT / "calibration" / "population.csv")
    assert shipped.redrawn(STUDY_SEED, default_join_probability) is shipped
    other = shipped.redrawn(7, default_join_probability)
    assert other is study_draw(7, default_join_probability)[0]  # drawn once per seed, then shared
    assert other.table["kind"].value_counts().to_dict() == STUDY_COUNTS
    assert not other.table[list(CAPACITIES)].equals(shipped.table[list(CAPACITIES)])
    assert not other.table["district"].equals(shipped.table["district"])
    shipped_baseline = read_groups(PROJECT / "calibration" / "baseline_groups.csv")
    baseline = shipped_baseline.redrawn(7, default_join_probability)
    assert baseline is study_draw(7, default_join_probability)[1]
    assert len(baseline) == 54 and set(baseline.table["district"]) == set(TARGET_DISTRICTS)
    drawn = other.table.set_index("group_id")
    assert drawn.loc[baseline.table["group_id"], "district"].tolist() == baseline.table["district"].tolist()


def test_a_survey_is_not_redrawn(tmp_path):
    survey = read_groups(write(tmp_path, HEADER + "\n" + "\n".join(ROWS)))
    assert survey.redrawn(STUDY_SEED, default_join_probability) is survey
    with pytest.raises(ScenarioError, match=r"groups\.csv: key 'population\.seed' is 3, .* survey file"):
        survey.redrawn(3, default_join_probability)


def test_baseline_groups_file_is_a_readable_groups_file():
    groups = read_groups(PROJECT / "calibration" / "baseline_groups.csv")
    assert len(groups) == 54
    assert groups.table["district"].nunique() == 6


def test_shipped_population_file_reads_back(population):
    groups = read_groups(PROJECT / "calibration" / "population.csv")
    assert len(groups) == 280
    assert groups.table["registered"].dtype == bool
    assert groups.table["registered"].tolist() == population["registered"].tolist()


def test_read_groups_derives_registered_and_normalises_support(tmp_path):
    groups = read_groups(write(tmp_path, "\n".join([HEADER, *ROWS]) + "\n"))
    assert groups.table["registered"].tolist() == [True, True, False]
    assert groups.table["support_sources"].tolist()[2] == "ngo;local_government"
    assert groups.table["leadership"].tolist() == [0.5, 0.4, 0.3]
    assert groups.source.endswith("groups.csv")


def test_read_groups_accepts_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + "\n".join([HEADER, *ROWS]) + "\n").encode("utf-8"))
    assert len(read_groups(path)) == 3


def replace(row: int, old: str, new: str) -> str:
    rows = list(ROWS)
    rows[row] = rows[row].replace(old, new, 1)
    return "\n".join([HEADER, *rows]) + "\n"


@pytest.mark.parametrize(("text", "where"), [
    ("\n".join([HEADER.replace(",knowledge", "")] + [r.rsplit(",", 1)[0] for r in ROWS]) + "\n",
     "knowledge"),
    ("\n".join([HEADER, *ROWS, ROWS[2]]) + "\n", "row 5, column 'group_id'"),
    (replace(2, "farmer_occupational_group", "book_club"), "row 4, column 'kind'"),
    (replace(1, ",0.4,0.4,0.4,0.4,0.4", ",0.4,0.4,0.4,0.4,1.4"), "row 3, column 'knowledge'"),
    (replace(0, ",0.5,0.5,0.5,0.5,0.5", ",-0.1,0.5,0.5,0.5,0.5"), "row 2, column 'leadership'"),
    (replace(1, "C1", "M1"), "row 3, column 'parent_id'"),
    (replace(1, "agency", "government"), "row 3, column 'origin'"),
    (replace(0, "cooperative_promotion", "bank"), "row 2, column 'support_sources'"),
    (HEADER + "\n", "no groups"),
    ("", "empty"),
    (HEADER + ",trust\n" + ROWS[0] + ",high\n", "trust"),
    (HEADER + ",village,village\n" + ROWS[0] + ",x,y\n", "'village' comes more than once"),
])
def test_bad_groups_file_names_file_and_place(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        read_groups(path)
    assert str(path) in str(err.value)
    assert where in str(err.value)


def test_parent_outside_the_file_is_allowed_and_gives_no_membership_tie(tmp_path, baseline):
    groups = read_groups(write(tmp_path, replace(1, "C1", "C9")))
    assert groups.table["parent_id"].tolist() == ["", "C9", ""]
    model = NetworkModel(scenario=baseline, groups=groups, rng=0, run_months=0, recruitment_enabled=False)
    assert model.state.features.parent.tolist() == [-1, -1, -1]
    assert len(model.state.ties) == 0


def test_groups_file_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.csv"
    text = "\n".join([HEADER, ROWS[0].replace(",A,", ",Nong Kung S\xed,")]) + "\n"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8") as err:
        read_groups(path)
    assert str(path) in str(err.value)


def test_groups_file_that_is_a_folder_or_missing_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="folder") as err:
        read_groups(tmp_path)
    assert str(tmp_path) in str(err.value)
    missing = tmp_path / "nope.csv"
    with pytest.raises(ScenarioError, match="no such file") as err:
        read_groups(missing)
    assert str(missing) in str(err.value)


def test_synthetic_groups_are_a_valid_table_with_the_province_mix():
    table = synthetic_groups(5_000, 40, rng=np.random.default_rng(0))
    assert len(validate_groups(table, source="synthetic")) == 5_000
    assert table["district"].nunique() == 40
    share = table["kind"].value_counts(normalize=True)
    assert abs(share["farmer_occupational_group"] - 150 / 280) < 0.03
    assert abs(share["cooperative"] - 21 / 280) < 0.015
    members = table[table["parent_id"] != ""]
    by_id = table.set_index("group_id")
    assert (by_id.loc[members["parent_id"], "kind"] == "cooperative").all()
    assert (by_id.loc[members["parent_id"], "district"].to_numpy() == members["district"].to_numpy()).all()


def test_capacities_depend_on_origin_and_backing_agencies():
    table = synthetic_groups(20_000, 10, rng=np.random.default_rng(1))
    self_made = table["origin"] == "self"
    assert table.loc[self_made, "leadership"].mean() > table.loc[~self_made, "leadership"].mean() + 0.1
    assert table.loc[~self_made, "finance"].mean() > table.loc[self_made, "finance"].mean() + 0.05
    bank = table["support_sources"].str.contains("agricultural_bank")
    assert table.loc[bank, "finance"].mean() > table.loc[~bank, "finance"].mean() + 0.05


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_spreadsheet_survey_with_thai_names_and_extra_columns_runs_and_keeps_them(tmp_path, baseline, bom,
                                                                                      thai_survey):
    path = tmp_path / "survey.csv"
    path.write_bytes(bom + thai_survey.encode("utf-8"))
    groups = read_groups(path)
    assert list(groups.table["district"]) == ["ยางตลาด", "ยางตลาด", "กมลาไสย"]
    model = NetworkModel(scenario=baseline, groups=groups, rng=0, run_months=3, recruitment_enabled=False)
    model.run_model()
    table = model.group_table()
    assert table["name"].tolist() == ["สหกรณ์การเกษตรยางตลาด", "กลุ่มออมทรัพย์บ้านนาดี", "กลุ่มทอผ้าไหม"]
    assert table["village"].tolist() == ["บ้านนาดี", "บ้านนาดี", "บ้านโนน"]
    assert table["phone"].tolist() == ["+66 81 234 5678", "", "081-234-5678"]
    assert list(table.columns[-4:]) == ["name", "village", "phone", "notes"]
    assert [g.name for g in model.groups] == table["name"].tolist()
    assert model.state.features.parent.tolist() == [-1, 0, -1]  # the membership tie still read


def test_a_survey_in_the_thai_windows_code_page_keeps_the_clear_message(tmp_path, thai_survey):
    path = tmp_path / "cp874.csv"
    path.write_bytes(thai_survey.encode("cp874"))
    with pytest.raises(ScenarioError, match="not UTF-8") as err:
        read_groups(path)
    assert str(path) in str(err.value)


def test_a_group_without_a_name_is_labelled_by_its_id(tmp_path, baseline, thai_survey):
    text = thai_survey.replace("C1,สหกรณ์การเกษตรยางตลาด,", "C1,,", 1)
    model = NetworkModel(scenario=baseline, groups=read_groups(write(tmp_path, text)), rng=0,
                         run_months=0, recruitment_enabled=False)
    assert [g.name for g in model.groups][:2] == ["C1", "กลุ่มออมทรัพย์บ้านนาดี"]
