from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from netsim import load_scenario
from netsim.cli import cli

ROOT = Path(__file__).resolve().parent.parent
BASELINE = str(ROOT / "scenarios" / "baseline.toml")
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_run_json_has_the_plain_names_and_network_counts():
    result = invoke("run", BASELINE, "--seed", "1", "--months", "6", "--json")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    for key in ("participants", "districts", "ties", "cross_district_tie_share", "mean_trust",
                "goal_alignment", "value_alignment", "marketing_network_districts",
                "loose", "structured", "shared_ideology"):
        assert key in out
    assert out["month"] == 6
    assert out["districts"] == 6


def test_run_months_zero_gives_the_starting_state():
    out = json.loads(invoke("run", BASELINE, "--months", "0", "--json").stdout)
    assert out["month"] == 0
    assert out["mean_trust"] == 0.0 and out["mean_inspiration"] == 0.0


def test_set_overrides_a_dotted_key():
    quiet = json.loads(invoke("run", BASELINE, "--months", "6", "--json",
                              "--set", "forum.interval=0", "--set", "followup.visits_per_month=0").stdout)
    busy = json.loads(invoke("run", BASELINE, "--months", "6", "--json").stdout)
    assert quiet["mean_inspiration"] == 0.0
    assert busy["mean_inspiration"] > 0.0


def test_same_seed_same_json_and_different_seed_differs():
    a = invoke("run", BASELINE, "--seed", "3", "--months", "8", "--json").stdout
    b = invoke("run", BASELINE, "--seed", "3", "--months", "8", "--json").stdout
    c = invoke("run", BASELINE, "--seed", "4", "--months", "8", "--json").stdout
    assert a == b
    assert a != c


def test_out_writes_monthly_and_group_tables(tmp_path):
    out = tmp_path / "res"
    result = invoke("run", BASELINE, "--months", "4", "--out", str(out))
    assert result.exit_code == 0
    monthly = pd.read_csv(out / "monthly.csv")
    groups = pd.read_csv(out / "groups.csv")
    assert list(monthly["month"]) == [0, 1, 2, 3, 4]
    assert (groups["month"] == 4).all()
    assert groups["group_id"].is_unique
    record = json.loads((out / "run.json").read_text())
    assert record["scenario"] == "baseline" and len(record["scenario_sha256"]) == 64
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_groups_option_uses_a_survey_file(tmp_path):
    survey = pd.read_csv(ROOT / "calibration" / "baseline_groups.csv").head(20)
    path = tmp_path / "survey.csv"
    survey.to_csv(path, index=False)
    out = json.loads(invoke("run", BASELINE, "--months", "1", "--json", "--groups", str(path),
                            "--set", "recruitment.enabled=false").stdout)
    assert out["participants"] == 20


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates_and_runs(scenario):
    assert invoke("validate", str(scenario)).exit_code == 0
    args = ["run", str(scenario), "--months", "3", "--json"]
    if scenario.stem == "national_scale":  # reduced: the full size is for benchmarks/
        args += ["--set", "population.synthetic_groups=3000", "--set", "population.synthetic_districts=30",
                 "--set", "followup.visits_per_month=150"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["participants"] > 0


def test_scenarios_lists_each_file_with_its_question():
    result = CliRunner().invoke(cli, ["scenarios", "--dir", str(ROOT / "scenarios")])
    assert result.exit_code == 0
    for path in SCENARIOS:
        assert path.name in result.stdout
        assert load_scenario(path).question in result.stdout


BAD_TOML = {
    "syntax": ("name = 'x'\nquestion = 'q?'\n[forum\ninterval = 2\n", "TOML syntax error"),
    "unknown section": ("name='x'\nquestion='q?'\n[fora]\ninterval=2\n", "unknown key 'fora'"),
    "unknown key": ("name='x'\nquestion='q?'\n[forum]\nintervall=2\n", "unknown key 'forum.intervall'"),
    "wrong type": ("name='x'\nquestion='q?'\n[forum]\ninterval='2'\n", "key 'forum.interval'"),
    "out of range": ("name='x'\nquestion='q?'\n[review]\nplan_gain=1.5\n", "from 0 to 1"),
    "bad choice": ("name='x'\nquestion='q?'\n[forum]\nscope='world'\n", "'district', 'province'"),
    "no question": ("name='x'\n", "'question' is missing"),
    "empty": ("", "empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOML))
def test_bad_scenario_file_exits_2_with_one_message_and_writes_nothing(tmp_path, case):
    text, expected = BAD_TOML[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert str(path) in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_not_utf8_directory_and_missing_scenario_exit_2(tmp_path):
    latin = tmp_path / "latin.toml"
    latin.write_bytes("name = 'กาฬสินธุ์'\nquestion = 'q?'\n".encode("utf-16"))
    for target, expected in ((latin, "not UTF-8"), (tmp_path, "is a folder"),
                             (tmp_path / "missing.toml", "no such file")):
        result = CliRunner().invoke(cli, ["run", str(target)])
        assert result.exit_code == 2
        assert expected in result.stderr


def test_bad_set_and_bad_groups_file_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["run", BASELINE, "--set", "forum.intervall=2"])
    assert result.exit_code == 2 and "forum.intervall" in result.stderr
    result = CliRunner().invoke(cli, ["run", BASELINE, "--set", "forum.interval=99"])
    assert result.exit_code == 2 and "from 0 to 36" in result.stderr
    survey = pd.read_csv(ROOT / "calibration" / "baseline_groups.csv")
    survey.loc[3, "group_id"] = survey.loc[2, "group_id"]
    path = tmp_path / "dup.csv"
    survey.to_csv(path, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", BASELINE, "--groups", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "row 5" in result.stderr and "duplicate" in result.stderr
    assert not out.exists()


def test_out_that_is_a_file_exits_2(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    result = CliRunner().invoke(cli, ["run", BASELINE, "--out", str(target)])
    assert result.exit_code == 2 and "not a folder" in result.stderr


def test_validate_reports_each_bad_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name='x'\nquestion='q?'\n[decay]\nrate=-1\n")
    result = CliRunner().invoke(cli, ["validate", BASELINE, str(bad)])
    assert result.exit_code == 2
    assert "ok" in result.stdout and "decay.rate" in result.stderr


def test_every_command_has_help():
    for command in cli.commands:
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_validate_reports_every_error_of_a_file_with_hints(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name='x'\n[decay]\nrate=-1\n[forum]\nintervall=2\nscope='world'\n[folowup]\nvisits=1\n")
    result = CliRunner().invoke(cli, ["validate", str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith(f"netsim: error: {bad}: ") for line in lines)
    text = result.stderr
    assert "'decay.rate'" in text and "'forum.scope'" in text and "key 'question' is missing" in text
    assert "did you mean 'forum.interval'?" in text and "did you mean 'followup'?" in text


@pytest.mark.parametrize("command", [["run"], ["batch", "--workers", "1"],
                                     ["export", "--format", "csv", "--out", "x.csv"]], ids=lambda c: c[0])
def test_every_command_prints_each_problem_of_a_file_on_its_own_line(tmp_path, command):
    bad = tmp_path / "bad.toml"
    bad.write_text("name='x'\nquestion='q?'\nbase='baseline'\n[decay]\nrate=-1\n[forum]\nintervall=2\n")
    odd = tmp_path / "odd.toml"  # a base whose name holds a line break: printed escaped, on its line
    odd.write_text('name = "x"\nquestion = "q?"\nbase = "a\\r\\nb"\n')
    for path, problems in ((bad, 2), (odd, 1)):
        result = CliRunner().invoke(cli, [command[0], str(path), *command[1:]])
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == problems and all(line.startswith(f"netsim: error: {path}: ") for line in lines)
    assert "'a\\r\\nb'" in result.stderr


def test_a_scenario_in_its_own_folder_inherits_baseline_from_anywhere(tmp_path, monkeypatch):
    mine = tmp_path / "study"
    mine.mkdir()
    (mine / "monthly_forums.toml").write_text(
        'name = "monthly_forums"\nquestion = "What if forums were monthly?"\nbase = "baseline"\n'
        "[forum]\ninterval = 1\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = str(mine / "monthly_forums.toml")
    assert invoke("validate", path).exit_code == 0
    r = invoke("run", path, "--months", "3", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["participants"] > 0
    # a groups file it declares is read from beside it, from any working folder
    survey = ROOT / "calibration" / "baseline_groups.csv"
    (mine / "survey.csv").write_bytes(survey.read_bytes())
    (mine / "own.toml").write_text('question = "Our own survey?"\nbase = "monthly_forums"\n[population]\n'
                                   'groups_file = "survey.csv"\n[recruitment]\nenabled = false\n')
    r = invoke("run", str(mine / "own.toml"), "--months", "2", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["participants"] == len(pd.read_csv(survey))
    # a missing data file is found by validate, not only when run
    (mine / "lost.toml").write_text('question = "?"\nbase = "baseline"\n'
                                    '[population]\ngroups_file = "gone.csv"\n')
    r = invoke("validate", str(mine / "lost.toml"))
    assert r.exit_code == 2 and str(mine / "gone.csv") in r.stderr
    # and a shipped scenario can be named from anywhere
    assert invoke("run", "baseline", "--months", "1", "--json").exit_code == 0


#: What the model and the analyses import; none of it is needed to print help or check a file.
HEAVY = ("numpy", "pandas", "numba", "mesa", "scipy", "matplotlib", "pyarrow", "networkx")


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["batch", "--help"],
                                  ["validate", BASELINE], ["scenarios"]], ids=" ".join)
def test_quick_commands_do_not_import_the_model(args):
    """`netsim --help`, `validate` and `scenarios` start quickly because they import no heavy library.

    A property, not a timing: benchmarks/startup.py measures the time.
    """
    import subprocess
    import sys

    code = ("import sys\nfrom netsim.cli import main\nsys.argv = ['netsim', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    assert done.stdout  # the command did its work (help text, "ok", the list)
    assert done.stderr.strip().splitlines()[-1] == "[]"
