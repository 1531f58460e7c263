"""The security review (docs/security.md), one test for each promise it makes."""

from __future__ import annotations

import ast
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
