from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.stats import mannwhitneyu, rankdata

from netsim import batch as nb
from netsim.cli import cli
from netsim.comparison import ReportError, marketing_lifetimes, rank_sum_test, resolve_reference
from netsim.engines import InProcessEngine
from netsim.measures import OUTPUTS
from netsim.outcomes import OUTCOMES, read_outcomes, timeline
from netsim.report import (
    cliffs_delta,
    compare,
    holm,
    marketing_members,
    read_batch,
    representative_runs,
    write_report,
)
from netsim.store import ResultStore


def synthetic_monthly(shift: float, runs: int = 12, months: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for scenario, extra in (("baseline", 0.0), ("more", shift)):
        for r in range(runs):
            for m in range(months + 1):
                row = {name: float(rng.random()) for name in OUTPUTS}
                row["structured_share"] = 0.1 * m / months + extra + 0.02 * rng.standard_normal()
                rows.append({"scenario": scenario, "replicate": r, "seed": r, "month": m, **row})
    return pd.DataFrame(rows)


def test_cliffs_delta_and_holm():
    assert cliffs_delta(np.array([3, 4]), np.array([1, 2])) == 1.0
    assert cliffs_delta(np.array([1, 2]), np.array([3, 4])) == -1.0
    assert cliffs_delta(np.array([1, 2]), np.array([1, 2])) == 0.0
    adjusted = holm([0.01, 0.04, float("nan"), 0.03])
    assert np.isnan(adjusted[2])
    assert adjusted[0] == 0.03 and adjusted[3] == 0.06 and adjusted[1] == 0.06


def test_compare_finds_a_real_difference_and_not_a_null_one():
    shifted = compare(synthetic_monthly(0.3)).table.set_index(["arm", "outcome"])
    row = shifted.loc[("more", "structured_share")]
    assert row["cliffs_delta"] == 1.0 and row["p_holm"] < 0.001 and row["test"] == "exact"
    assert row["ci_low"] < row["mean"] < row["ci_high"]
    null = compare(synthetic_monthly(0.0)).table.set_index(["arm", "outcome"])
    assert null.loc[("more", "structured_share"), "p_holm"] > 0.05
    assert np.isnan(null.loc[("baseline", "structured_share"), "p_value"])


def brute_force_p(x, y):
    pooled = np.concatenate([x, y])
    ranks = rankdata(pooled)
    centre = len(x) * (len(pooled) + 1) / 2
    observed = abs(ranks[: len(x)].sum() - centre)
    sums = [ranks[list(c)].sum() for c in itertools.combinations(range(len(pooled)), len(x))]
    return np.mean([abs(s - centre) >= observed - 1e-9 for s in sums])


def test_rank_sum_test_is_exact_with_ties_and_small_arms():
    rng = np.random.default_rng(3)
    for _ in range(4):
        x, y = rng.integers(0, 3, 6).astype(float), rng.integers(0, 2, 9).astype(float)
        p, method = rank_sum_test(x, y)
        assert method == "exact" and math.isclose(p, brute_force_p(x, y), rel_tol=1e-9)
    # four runs of 1 against a hundred of 0: one split in C(104, 4) is this extreme
    p, method = rank_sum_test(np.ones(4), np.zeros(100))
    assert math.isclose(p, 1 / math.comb(104, 4), rel_tol=1e-9)
    normal = mannwhitneyu(np.ones(4), np.zeros(100), method="asymptotic").pvalue
    assert normal < p / 1000  # what the normal approximation would have claimed
    assert rank_sum_test(np.zeros(3), np.zeros(5)) == (1.0, "exact")
    big = rng.random(300)
    assert rank_sum_test(big, rng.random(300))[1] == "normal"


def test_write_report_makes_charts_and_pages_from_a_table(tmp_path):
    written = write_report(synthetic_monthly(0.2), tmp_path / "rep", formats=["png"], dpi=80)
    names = {p.name for p in written}
    assert {"outcomes.png", "networks.png", "marketing.png", "comparison.csv", "marketing.csv", "report.md",
            "report.html"} <= names
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "| more | 12 |" in text and "Cliff's delta" in text and "## How to read this" in text
    assert "No network snapshots" in text  # no ties given


def test_report_command_refuses_a_folder_that_is_not_results(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "not a results folder" in result.stderr
    assert not (tmp_path / "report").exists()


# -- from real stores: a scenario batch and a sweep ------------------------------------------


def run_store(path, scenarios, *, sweeps=(), replicates=3, months=8, keep_ties=True):
    plan = nb.make_plan([s.with_overrides({"run.months": months}) for s in scenarios],
                        sweeps=[nb.parse_sweep(s) for s in sweeps], replicates=replicates, seed=5,
                        keep_ties=keep_ties)
    nb.run_batch(plan, ResultStore(path), InProcessEngine(nb.RunContext.for_plan(plan)), chunk=3,
                 command=["test"])
    return plan


@pytest.fixture(scope="module")
def scenario_batch(tmp_path_factory, baseline):
    from netsim import load_scenario

    path = tmp_path_factory.mktemp("batch") / "b"
    run_store(path, [baseline, load_scenario("scenarios/no_intervention.toml"),
                     load_scenario("scenarios/marketing_forum.toml")], months=14)
    return path


@pytest.fixture(scope="module")
def sweep_batch(tmp_path_factory, baseline):
    path = tmp_path_factory.mktemp("sweep") / "s"
    run_store(path, [baseline], sweeps=("forum.interval=2,4", "followup.visits_per_month=0,6"),
              replicates=2)
    return path


def test_a_scenario_batch_report_has_every_file_and_its_table_equals_the_results(scenario_batch, tmp_path):
    out = tmp_path / "rep"
    result = CliRunner().invoke(cli, ["report", str(scenario_batch), "--out", str(out), "--format",
                                      "png,svg,pdf", "--dpi", "60"])
    assert result.exit_code == 0, result.output
    for stem in ("outcomes", "networks", "marketing", "snapshot-1", "snapshot-2", "snapshot-3"):
        for fmt in ("png", "svg", "pdf"):
            assert (out / f"{stem}.{fmt}").stat().st_size > 1000, (stem, fmt)
    monthly = ResultStore(scenario_batch).read("monthly")
    final = monthly[monthly["month"] == monthly["month"].max()]
    table = pd.read_csv(out / "comparison.csv")
    for (scenario, outcome), row in table.set_index(["scenario", "outcome"]).iterrows():
        values = final.loc[final["scenario"] == scenario, outcome]
        assert row["runs"] == len(values) == 3
        assert math.isclose(row["mean"], values.mean(), rel_tol=1e-9, abs_tol=1e-12)
    spells = timeline(monthly, OUTCOMES["marketing"])
    lifetimes = pd.read_csv(out / "marketing.csv").set_index("scenario")
    assert list(lifetimes.index) == list(dict.fromkeys(table["scenario"])) == \
        ["baseline", "no_intervention", "marketing_forum"]  # the batch's order, in every table
    for scenario, runs in monthly.groupby("scenario")["run_id"].unique().items():
        assert lifetimes.loc[scenario, "formed"] == int(spells.loc[runs, "ever"].sum())
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "src='outcomes" not in page and "How to read this" in page
    manifest = json.loads((scenario_batch / "manifest.json").read_text())
    sha = manifest["plan"]["sha256"][:12]
    assert sha in page and sha in (out / "report.md").read_text(encoding="utf-8")
    assert f"batch_sha256={manifest['plan']['sha256']}".encode() in (out / "networks.png").read_bytes()
    svg = (out / "networks.svg").read_text(encoding="utf-8")
    assert "<text" in svg and manifest["plan"]["sha256"] in svg  # real text, provenance in metadata
    pdf = (out / "networks.pdf").read_bytes()
    assert b"/FontFile2" in pdf and b"/Type3" not in pdf  # TrueType (Type 42) fonts, embedded


def test_a_sweep_report_puts_the_sweep_on_axes_and_in_columns(sweep_batch, tmp_path):
    out = tmp_path / "rep"
    result = CliRunner().invoke(cli, ["report", str(sweep_batch), "--out", str(out), "--format", "png",
                                      "--dpi", "60", "--reference",
                                      "forum.interval=4 followup.visits_per_month=6"])
    assert result.exit_code == 0, result.output
    assert (out / "sweep-1.png").stat().st_size > 1000 and (out / "snapshot-1.png").exists()
    table = pd.read_csv(out / "comparison.csv")
    assert {"forum.interval", "followup.visits_per_month"} <= set(table.columns)
    assert sorted(set(zip(table["forum.interval"], table["followup.visits_per_month"], strict=True))) == \
        [(2, 0), (2, 6), (4, 0), (4, 6)]
    ref = table[(table["forum.interval"] == 4) & (table["followup.visits_per_month"] == 6)]
    assert ref["p_value"].isna().all() and table["p_value"].notna().sum() == 3 * ref.shape[0]
    bad = CliRunner().invoke(cli, ["report", str(sweep_batch), "--out", str(tmp_path / "x"), "--reference",
                                   "forum.interval=5"])
    assert bad.exit_code == 2 and "matches no arm" in bad.stderr
    assert not (tmp_path / "x" / "report.md").exists()


def test_a_thai_report_draws_with_thai_glyphs(sweep_batch, tmp_path):
    out = tmp_path / "th"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_report(read_batch(sweep_batch), out, formats=["png", "svg"], dpi=60, lang="th")
    assert not [w for w in caught if "missing from font" in str(w.message)]
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "วิธีอ่านรายงานนี้" in text and "กลุ่มในเครือข่ายที่มีโครงสร้าง" in text
    sweep = (out / "sweep-1.svg").read_text(encoding="utf-8")
    assert "ความไว้วางใจต่อทีมวิจัย" in sweep
    # the swept parameters are named on the axes in words, with the unit, and by key
    from netsim.i18n import text as words

    assert words("param.forum.interval.label", "th") in sweep and "forum.interval" in sweep
    assert words("param.forum.interval.unit", "th") in sweep


def test_charts_name_sweep_arms_briefly_and_give_colours_only_when_they_tell_arms_apart():
    from netsim.charts import ARM_COLOURS, arm_names, arm_styles
    from netsim.comparison import Arm

    def sweep(scenarios, keys, values):
        return [Arm(f"{s} " + " ".join(f"{k}={v}" for k in keys), s, dict.fromkeys(keys, v))
                for s in scenarios for v in values]

    one = sweep(["base"], ["forum.interval", "followup.visits_per_month"], [2, 4])
    assert list(arm_names(one).values()) == ["interval=2, visits_per_month=2",
                                             "interval=4, visits_per_month=4"]
    two = sweep(["base", "other"], ["forum.interval"], [2])
    assert list(arm_names(two).values()) == ["base: interval=2", "other: interval=2"]
    clash = sweep(["base"], ["forum.interval", "review.interval"], [3])
    assert list(arm_names(clash).values()) == ["forum.interval=3, review.interval=3"]
    plain = [Arm("baseline", "baseline"), Arm("no_intervention", "no_intervention")]
    assert arm_names(plain) == {"baseline": "baseline", "no_intervention": "no_intervention"}
    few = {v["color"] for v in arm_styles(sweep(["s"], ["forum.interval"], range(3))).values()}
    more = sweep(["s"], ["forum.interval"], range(len(ARM_COLOURS) + 1))
    many = {v["color"] for v in arm_styles(more).values()}
    assert len(few) == 3 and len(many) == 1


def test_an_incomplete_or_running_batch_is_refused_or_flagged(scenario_batch, tmp_path):
    import shutil

    partial = tmp_path / "partial"
    shutil.copytree(scenario_batch, partial)
    part = sorted((partial / "runs").glob("part-*.parquet"))[-1]
    part.unlink()  # a chunk never committed: the batch stopped half-way
    manifest = json.loads((partial / "manifest.json").read_text())
    manifest["status"] = "running"
    (partial / "manifest.json").write_text(json.dumps(manifest))
    refused = CliRunner().invoke(cli, ["report", str(partial)])
    assert refused.exit_code == 2 and "still running" in refused.stderr and "--partial" in refused.stderr
    assert not (partial / "report").exists()
    flagged = CliRunner().invoke(cli, ["report", str(partial), "--partial", "--format", "png", "--dpi", "50"])
    assert flagged.exit_code == 0 and "warning" in flagged.stderr
    page = (partial / "report" / "report.md").read_text(encoding="utf-8")
    assert "INCOMPLETE BATCH" in page and "of 9 runs stored" in page


def test_representative_run_is_the_one_nearest_the_arms_medians():
    monthly = pd.DataFrame({"run_id": ["a", "b", "c", "d"], "replicate": [0, 1, 2, 3], "month": [5] * 4,
                            "ties": [10, 20, 30, 100], "participants": [50] * 4})
    arms = pd.Series(["x"] * 4, index=pd.Index(["a", "b", "c", "d"], name="run_id"))
    assert representative_runs(monthly, arms) == {"x": "b"}  # median 25: b and c tie, b comes first
    assert representative_runs(monthly, arms, candidates={"a", "d"}) == {"x": "a"}


def test_marketing_members_are_the_groups_the_model_marks_in_a_marketing_network():
    groups = pd.DataFrame({
        "group_id": list("abcdefg"), "network_id": [0, 0, 0, 1, 1, 1, -1],
        "network_type": ["structured"] * 6 + ["none"],
        "top_goal": ["marketing"] * 7,  # a shared top goal alone does not make a marketing network
        "in_marketing_network": [True, True, True, False, False, False, False]})
    assert marketing_members(groups) == {"a", "b", "c"}
    assert marketing_members(groups.drop(columns="in_marketing_network")) == set()


def test_snapshot_marks_the_marketing_network_of_a_real_run():
    """The model's own marketing network: a forum whose joint marketing spans enough districts."""
    from netsim.model import NetworkModel
    from netsim.scenario import load_scenario

    found = 0
    baseline = load_scenario(Path(__file__).parents[1] / "scenarios/baseline.toml")
    for seed in range(6):
        model = NetworkModel.from_scenario(baseline, rng=seed)
        model.run_model()
        groups = model.group_table()
        members = marketing_members(groups)
        found += bool(members)
        if members:
            net = groups[groups["group_id"].astype(str).isin(members)]
            assert net["network_id"].nunique() >= 1 and (net["network_id"] >= 0).all()
            assert set(net["network_type"]) <= {"structured", "shared_ideology"}
            assert net["district"].nunique() >= model.params.emergence.marketing_min_districts
        assert (model.outputs["marketing_network_districts"] > 0) == bool(members)
    assert found >= 2


def test_marketing_lifetimes_count_spells_per_arm():
    monthly = pd.DataFrame({"scenario": ["s"] * 8, "replicate": [0] * 4 + [1] * 4,
                            "run_id": ["r0"] * 4 + ["r1"] * 4,
                            "month": [0, 1, 2, 3] * 2, "marketing_network": [0, 1, 1, 0, 0, 0, 0, 0],
                            "marketing_network_districts": [0, 3, 4, 0, 0, 0, 0, 0]})
    row = marketing_lifetimes(read_outcomes(monthly), monthly).iloc[0]
    assert row["runs"] == 2 and row["formed"] == 1 and row["at_end_share"] == 0
    assert row["longest_median"] == 2 and row["first_month_median"] == 1 and row["districts_median"] == 4


def test_reference_can_be_a_scenario_or_a_sweep_point():
    from netsim.comparison import Arm

    arms = [Arm("base x=1", "base", {"x": 1}), Arm("base x=2", "base", {"x": 2}),
            Arm("other x=1", "other", {"x": 1})]
    assert resolve_reference(arms, None, own_values={"base": {"x": 2.0}})[0] == arms[1]
    assert resolve_reference(arms, "base x=1")[0] == arms[0]
    assert resolve_reference(arms, "other")[0] == arms[2]
    with pytest.raises(ReportError, match="matches 2 arms"):
        resolve_reference(arms, "x=1")
