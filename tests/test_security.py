"""The security review (docs/security.md), one test for each promise it makes."""

from __future__ import annotations

import ast
import csv
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from netsim.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "netsim"

# -- nothing in user files is executed --------------------------------------------------------

#: Calls that run or unpickle what they are given: none of them may appear in the package.
FORBIDDEN_CALLS = {
    "eval", "exec", "compile", "__import__", "pickle.load", "pickle.loads", "pickle.Unpickler",
    "cloudpickle.load", "cloudpickle.loads", "marshal.load", "marshal.loads", "shelve.open",
    "pd.read_pickle", "pandas.read_pickle", "yaml.load", "yaml.unsafe_load", "os.system", "os.popen",
    "dill.load", "dill.loads", "joblib.load",
}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def _risky_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in FORBIDDEN_CALLS or name.rsplit(".", 1)[-1] in ("read_pickle", "unsafe_load"):
            found.append(f"{name}()")
        for kw in node.keywords:  # np.load(..., allow_pickle=True), subprocess.run(..., shell=True)
            if kw.arg in ("allow_pickle", "shell") and not (isinstance(kw.value, ast.Constant)
                                                            and kw.value.value is False):
                found.append(f"{name}({kw.arg}=...)")
    return found


def test_the_scan_finds_what_it_looks_for():
    sample = ast.parse("eval(x)\nimport pickle\npickle.loads(b)\nnp.load(f, allow_pickle=True)\n"
                       "subprocess.run(c, shell=True)\npd.read_pickle(p)\nnp.load(f, allow_pickle=False)\n")
    assert _risky_calls(sample) == ["eval()", "pickle.loads()", "np.load(allow_pickle=...)",
                                    "subprocess.run(shell=...)", "pd.read_pickle()"]


def test_no_eval_exec_or_unpickling_anywhere_in_the_package():
    found = {str(p.relative_to(ROOT)): calls for p in sorted(PACKAGE.rglob("*.py"))
             if (calls := _risky_calls(ast.parse(p.read_text(encoding="utf-8"))))}
    assert found == {}


def test_code_in_scenario_and_survey_files_is_data_not_run(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    scenario = tmp_path / "code.toml"
    name = payload.replace("'", "")
    scenario.write_text(f'name = "{name}"\nquestion = "{payload}"\nbase = "baseline"\n'
                        f'[forum]\nscope = "{payload}"\n', encoding="utf-8")
    r = CliRunner().invoke(cli, ["validate", str(scenario)])
    assert r.exit_code == 2 and "forum.scope" in r.stderr  # refused as a value, not run
    scenario.write_text(scenario.read_text().split("[forum]")[0], encoding="utf-8")
    survey = (ROOT / "calibration" / "baseline_groups.csv").read_text(encoding="utf-8").splitlines()
    head, first = survey[0].split(","), survey[1].split(",")
    first[head.index("district")] = payload.replace(",", ";")
    survey[1] = ",".join(first)
    (tmp_path / "survey.csv").write_text("\n".join(survey) + "\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["run", str(scenario), "--months", "3", "--json", "--groups",
                                 str(tmp_path / "survey.csv"), "--set", "recruitment.districts=[]"])
    assert r.exit_code == 0, r.stderr  # a district named like code is only a name
    assert not marker.exists()


# -- output paths stay inside the chosen folder --------------------------------------------------


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/netsim-escaped", "..", "a/b/../../c", "~"])
def test_outputs_stay_in_the_chosen_folder_whatever_the_scenario_is_named(tmp_path, name):
    work = tmp_path / "work"
    work.mkdir()
    scenario = work / "odd.toml"
    scenario.write_text(f'name = "{name}"\nquestion = "Where do my files go?"\nbase = "baseline"\n',
                        encoding="utf-8")
    before = {p for p in tmp_path.rglob("*")}
    out = work / "out"
    runner = CliRunner()
    r = runner.invoke(cli, ["run", str(scenario), "--months", "3", "--out", str(out / "run")])
    assert r.exit_code == 0, r.stderr
    r = runner.invoke(cli, ["batch", str(scenario), "--replicates", "2", "--months", "3", "--workers", "1",
                            "--quiet", "--out", str(out / "batch")])
    assert r.exit_code == 0, r.stderr
    assert runner.invoke(cli, ["report", str(out / "batch")]).exit_code == 0
    new = {p for p in tmp_path.rglob("*")} - before
    assert new and all(p == out or p.is_relative_to(out) for p in new), sorted(map(str, new))
    assert not Path("/tmp/netsim-escaped").exists()


# -- the UI listens on localhost ------------------------------------------------------------------


@pytest.mark.parametrize(("host", "warned"), [(None, False), ("localhost", False), ("::1", False),
                                              ("0.0.0.0", True), ("192.168.1.5", True)])
def test_the_ui_listens_on_localhost_unless_told_otherwise(monkeypatch, host, warned):
    """`netsim ui` starts Solara's server on 127.0.0.1 by default, and warns for any other address.

    The server is not started: the command's last step, replacing itself with Solara's
    server (``os.execv``), is caught with the arguments it would have been given.
    """
    from netsim.ui import assets

    started = []

    def execv(path, args):
        started.append(args)
        raise SystemExit(0)

    monkeypatch.setattr(assets, "missing", lambda: [])  # as after `make ui`
    monkeypatch.setattr(os, "execv", execv)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # the command sets the server's variables
    r = CliRunner().invoke(cli, ["ui", *([] if host is None else ["--host", host])])
    assert r.exit_code == 0, r.output
    [args] = started
    assert args[1:4] == ["-m", "solara", "run"]
    assert args[args.index("--host") + 1] == (host or "127.0.0.1")
    assert ("netsim: warning: listening on" in r.stderr) == warned
    if warned:
        assert host in r.stderr and "other machines" in r.stderr


# -- every CSV is spreadsheet-safe -------------------------------------------------------------

#: Text a spreadsheet would run as a formula (a DDE command, a function, signs before text).
FORMULAS = ["=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0"]


def _cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return [cell for row in csv.reader(f) for cell in row]


def _unsafe(cells: list[str]) -> list[str]:
    """Cells a spreadsheet would read as a formula (numbers such as -2.5 are fine)."""
    from netsim.store import FORMULA_STARTS

    bad = []
    for cell in cells:
        if cell.startswith(FORMULA_STARTS):
            try:
                float(cell)
            except ValueError:
                bad.append(cell)
    return bad


def test_every_csv_netsim_writes_neutralises_formulas_from_users_files(tmp_path, monkeypatch):
    """A scenario named like a formula and a survey whose name and extra column hold formulas:
    every CSV that `run`, `export` (of a scenario and of a stored run), `batch` + `report`
    and the page's downloads write shows them as text (a leading apostrophe)."""
    import pandas as pd

    from netsim import NetworkModel, load_scenario
    from netsim.store import csv_bytes

    survey = pd.read_csv(ROOT / "calibration" / "baseline_groups.csv", dtype=str, keep_default_na=False)
    survey["name"] = [FORMULAS[(i + 1) % 4] for i in range(len(survey))]
    survey["village"] = [FORMULAS[i % 4] for i in range(len(survey))]
    survey.to_csv(tmp_path / "survey.csv", index=False)  # a user's file, written by the test
    base = ROOT / "scenarios" / "baseline.toml"
    for stem, name in (("odd", FORMULAS[0]), ("plain", "baseline")):
        (tmp_path / f"{stem}.toml").write_text(
            f'name = "{name}"\nquestion = "Is every CSV safe?"\nbase = "{base}"\n'
            '[population]\ngroups_file = "survey.csv"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def ok(*args: str) -> None:
        r = runner.invoke(cli, list(args))
        assert r.exit_code == 0, r.output

    ok("run", "odd.toml", "--months", "3", "--out", "run")
    ok("export", "odd.toml", "--format", "csv", "--out", "net.csv")
    ok("batch", "odd.toml", "plain.toml", "--replicates", "2", "--months", "3", "--workers", "1", "--quiet",
       "--keep-ties", "--out", "b")
    ok("report", "b", "--format", "png", "--dpi", "50")
    stored = pd.read_parquet(tmp_path / "b" / "ties")["run_id"].iloc[0]
    ok("export", "b", "--run", stored, "--format", "csv", "--out", "stored.csv")
    model = NetworkModel.from_scenario(load_scenario(tmp_path / "odd.toml"), rng=1)
    model.run_model()
    (tmp_path / "page-groups.csv").write_bytes(csv_bytes(model.group_table()))
    written = sorted(tmp_path.rglob("*.csv"))
    names = {str(p.relative_to(tmp_path)) for p in written}
    assert {"run/monthly.csv", "run/groups.csv", "net-nodes.csv", "net-edges.csv", "stored-nodes.csv",
            "stored-edges.csv", "b/report/comparison.csv", "b/report/marketing.csv",
            "page-groups.csv"} <= names
    for path in written:
        if path.name == "survey.csv":
            continue
        cells = _cells(path)
        assert _unsafe(cells) == [], path
        if path.name in ("groups.csv", "net-nodes.csv", "stored-nodes.csv", "page-groups.csv"):
            assert {"'" + f for f in FORMULAS} <= set(cells), path  # the survey's text, neutralised
        if path.name in ("comparison.csv", "marketing.csv"):
            assert "'" + FORMULAS[0] in cells, path  # the scenario's name, neutralised
    assert _unsafe(_cells(tmp_path / "survey.csv"))  # the check finds formulas where they are


#: Calls that write CSV outside :func:`netsim.store.write_csv`, allowed with their reason.
CSV_OUTSIDE_STORE = {
    # the study's population goes through CSV text in memory and is read back at once, as
    # `netsim population` writes it and read_groups reads it; nothing is written
    "netsim/population.py": ["to_csv()", "to_csv()"],
}


def _csv_writers(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name.rsplit(".", 1)[-1] in ("to_csv", "writer", "DictWriter"):
                found.append(f"{name.rsplit('.', 1)[-1]}()")
    return found


def test_no_module_writes_csv_but_through_the_store():
    sample = ast.parse("df.to_csv(p)\ncsv.writer(f)\nw = csv.DictWriter(f, x)\nwrite_csv(p, df)\n")
    assert _csv_writers(sample) == ["to_csv()", "writer()", "DictWriter()"]
    found = {str(p.relative_to(ROOT)): calls for p in sorted(PACKAGE.rglob("*.py"))
             if p.name != "store.py" and (calls := _csv_writers(ast.parse(p.read_text(encoding="utf-8"))))}
    assert found == CSV_OUTSIDE_STORE
