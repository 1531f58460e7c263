from __future__ import annotations

import numpy as np
import pandas as pd
from click.testing import CliRunner

from netsim.cli import cli
from netsim.measures import OUTPUTS
from netsim.report import cliffs_delta, compare, holm, write_report


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
    assert row["cliffs_delta"] == 1.0 and row["p_holm"] < 0.001
    assert row["ci_low"] < row["mean"] < row["ci_high"]
    null = compare(synthetic_monthly(0.0)).table.set_index(["arm", "outcome"])
    assert null.loc[("more", "structured_share"), "p_holm"] > 0.05
    assert np.isnan(null.loc[("baseline", "structured_share"), "p_value"])


def test_write_report_makes_charts_and_pages(tmp_path):
    written = write_report(synthetic_monthly(0.2), tmp_path / "rep")
    names = {p.name for p in written}
    assert {"outcomes.png", "outcomes.svg", "networks.png", "networks.svg", "comparison.csv",
            "report.md", "report.html"} <= names
    assert all(p.stat().st_size > 0 for p in written)
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "| more | 12 |" in text and "Cliff's delta" in text
    assert (tmp_path / "rep" / "outcomes.png").read_bytes()[:4] == b"\x89PNG"


def test_report_command_refuses_a_folder_that_is_not_results(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "not a results folder" in result.stderr
    assert not (tmp_path / "report").exists()
