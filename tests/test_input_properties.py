"""Property-based tests (hypothesis) of what users type: scenario files, ``--set`` and surveys.

Generated and mutated TOML and CSV files go through the command as a user would give them.
Whatever they hold, the command never ends in a traceback: it either works (exit 0) or
rejects the input with exit code 2 and one line per problem, each naming the file (or the
``--set`` text) and the key, row or line at fault. The number of inputs tried is printed at the end
of the test session (``conftest.py``); the ``ci`` profile bounds it, ``HYPOTHESIS_PROFILE=dev``
tries many more.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from netsim.cli import cli
from netsim.population import CAPACITIES, KINDS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, SUPPORT_SOURCES
from netsim.scenario import parameters

ROOT = Path(__file__).resolve().parent.parent
BASELINE = str(ROOT / "scenarios" / "baseline.toml")
SCENARIO_TEXTS = [p.read_bytes() for p in sorted((ROOT / "scenarios").glob("*.toml"))]
SURVEY_TEXT = (ROOT / "calibration" / "baseline_groups.csv").read_bytes()
KEYS = [s.key for s in parameters()]
SECTIONS = sorted({k.split(".")[0] for k in KEYS})
#: What a rejection must point at, besides the file: a key, a row or column, a line of the file.
LOCATION = re.compile(r"key '|row \d|column|line \d|end of document|empty|UTF-8|'base'|no such file|"
                      r"no groups|--set|recruitment\.districts|not a readable CSV")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    # the shipped baseline inherits ../calibration/calibrated.toml: copies of it need that file too
    calibrated = folder.parent / "calibration" / "calibrated.toml"
    calibrated.parent.mkdir(exist_ok=True)
    calibrated.write_bytes((ROOT / "calibration" / "calibrated.toml").read_bytes())
    return folder


def check(args: list[str], named: str, count_input) -> None:
    """Run the command: exit 0, or exit 2 with lines that each name ``named`` and a location."""
    count_input()
    r = CliRunner().invoke(cli, args, catch_exceptions=False)  # a traceback fails the test here
    assert r.exit_code in (0, 2), (r.exit_code, r.output, r.stderr)
    if r.exit_code == 2:  # one line per problem (a scenario file's problems are all reported)
        lines = r.stderr.strip().splitlines()
        assert lines, r.stderr
        for line in lines:
            assert line.startswith("netsim: error: "), r.stderr
            assert named in line, (named, r.stderr)
            assert LOCATION.search(line), r.stderr
    else:
        assert r.stderr == "", r.stderr


# -- TOML, generated -------------------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
scalars = st.one_of(
    st.integers(), st.integers(-5, 50), st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-2, 2), st.booleans(), texts, st.sampled_from(["district", "province", "marketing", "bridge"]),
    st.dates(), st.datetimes(),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["a", "interval", "x y"]), inner, max_size=2),
                      max_leaves=6)


def toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")) if not math.isfinite(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    return v.isoformat()  # dates and datetimes


def near(names: list[str]):
    """One of ``names``, or a near miss of one (a typo), or something else entirely."""
    typo = st.tuples(st.sampled_from(names), st.integers(0, 30)).map(lambda t: t[0][:t[1]] + t[0][t[1] + 1:])
    return st.one_of(st.sampled_from(names), st.sampled_from(names), typo, st.text("abcxyz_.", min_size=1,
                                                                                      max_size=8))


@st.composite
def scenario_texts(draw) -> str:
    lines = []
    for key in draw(st.lists(st.sampled_from(["name", "question", "base", "extra"]), unique=True)):
        if key == "base":
            paths = ["baseline", "forums_only", "..", ".", "/", "../scenarios/baseline", "baseline.toml",
                     "nonexistent", ""]
            v = draw(st.one_of(st.sampled_from(paths), values))
        else:
            v = draw(st.one_of(texts, values))
        lines.append(f"{key} = {toml_value(v)}")
    for section in draw(st.lists(near(SECTIONS), max_size=3, unique=True)):
        lines.append(f"[{toml_key(section)}]")
        names = [k.split(".")[1] for k in KEYS if k.startswith(section + ".")] or ["interval"]
        for name in draw(st.lists(near(names), max_size=4, unique=True)):
            lines.append(f"{toml_key(name)} = {toml_value(draw(values))}")
    return "\n".join(lines) + "\n"


@given(text=scenario_texts())
@example(text='name = "x"\nquestion = "q"\nbase = "/"\n')
@example(text='name = "x"\nquestion = "q"\nbase = "."\n')
@example(text='name = "x"\nquestion = "q"\n"run\\nx" = {months = 1}\n')
@example(text='base = "\\r"\n')  # a file path with a CR in it: still one line per problem
def test_generated_scenario_files_are_loaded_or_rejected_by_name(folder, text, count_input):
    path = folder / "generated.toml"
    path.write_text(text, encoding="utf-8")
    (folder / "baseline.toml").write_bytes(SCENARIO_TEXTS[0])  # something for 'base' to find
    check(["validate", str(path)], str(path), count_input)


# -- bytes, mutated --------------------------------------------------------------------------


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate", "bytes"]))
        if kind == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif kind == "insert":
            token = draw(st.sampled_from(['"', "'", "=", "[", "]", "\n", ",", ";", "\x00", "-1", "1e999",
                                          "nan", "\ufeff", "[[x]]", "=HYPERLINK(1)", "\r\n", "ก"]))
            data[at:at] = token.encode()
        elif kind == "replace":
            data[at:at + draw(st.integers(1, 10))] = draw(texts).encode()
        elif kind == "truncate":
            del data[at:]
        elif kind == "duplicate":
            line_start = data.rfind(b"\n", 0, at) + 1
            line_end = data.find(b"\n", at)
            line = data[line_start:(line_end if line_end >= 0 else len(data)) + 1]
            data[line_start:line_start] = line
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
    return bytes(data)


@given(data=st.data())
def test_mutated_scenario_files_are_loaded_or_rejected_by_name(folder, data, count_input):
    original = data.draw(st.sampled_from(SCENARIO_TEXTS))
    path = folder / "mutated.toml"
    path.write_bytes(data.draw(mutated(original)))
    for name in ("baseline", "forums_only"):
        (folder / f"{name}.toml").write_bytes((ROOT / "scenarios" / f"{name}.toml").read_bytes())
    check(["validate", str(path)], str(path), count_input)


# -- --set -----------------------------------------------------------------------------------

set_values = st.one_of(
    st.integers(-10, 200).map(str), st.floats(allow_nan=True).map(repr), st.sampled_from(
        ["true", "false", "province", "world", "[]", '["Kamalasai"]', '["Nowhere"]', "[1, 2]", "{a=1}", "",
         "'quoted'", '"unterminated', "1_000", "0x10", "1e3", "inf", "-0", "2\nx = 1", "1979-05-27"]),
    texts)


@given(key=near(KEYS), sep=st.sampled_from(["=", "=", " = ", ":", ""]), value=set_values)
def test_set_is_applied_or_rejected_by_name(key, sep, value, count_input):
    text = f"{key}{sep}{value}"
    check(["run", BASELINE, "--months", "4", "--json", "--set", text], "--set", count_input)


# -- survey files (CSV) ----------------------------------------------------------------------

cells = {
    "group_id": st.one_of(st.sampled_from(["G1", "G2", "G3", "G1", ""]), texts),
    "district": st.one_of(st.sampled_from(["Kamalasai", "Somdet", "Na Mon", "", " "]), texts),
    "kind": st.one_of(st.sampled_from(KINDS), texts),
    "registered": st.sampled_from(["true", "false", "yes", "1", "maybe", ""]),
    "parent_id": st.sampled_from(["", "G1", "G2", "G9", "self"]),
    "origin": st.sampled_from(["self", "agency", "Self", ""]),
    "support_sources": st.one_of(
        st.lists(st.sampled_from(SUPPORT_SOURCES), min_size=1, max_size=3).map(";".join), texts),
    "prior_network": st.sampled_from(["", "N1", "N2"]),
    "synthetic": st.sampled_from(["", "true", "x"]),
    "name": texts,
    **{c: st.one_of(st.floats(0, 1).map(lambda v: f"{v:.3f}"), st.sampled_from(["", "1.5", "-0", "nan", "x",
                                                                                "1e-9"]))
       for c in CAPACITIES},
}


@st.composite
def survey_texts(draw) -> str:
    columns = list(REQUIRED_COLUMNS)
    columns += draw(st.lists(st.sampled_from(OPTIONAL_COLUMNS), unique=True, max_size=3))
    if draw(st.booleans()):
        del columns[draw(st.integers(0, len(columns) - 1))]
    if draw(st.integers(0, 4)) == 0:
        columns.append(draw(texts))
    rows = draw(st.lists(st.fixed_dictionaries({c: cells.get(c, texts) for c in columns}), max_size=8))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])
    return buffer.getvalue()


def survey_args(path: Path, everyone: bool) -> list[str]:
    districts = ["--set", "recruitment.districts=[]"] if everyone else []
    return ["run", BASELINE, "--months", "12", "--json", "--groups", str(path), *districts]


@given(text=survey_texts(), everyone=st.booleans())
def test_generated_surveys_are_used_or_rejected_by_name(folder, text, everyone, count_input):
    path = folder / "survey.csv"
    path.write_text(text, encoding="utf-8")
    check(survey_args(path, everyone), str(path), count_input)


@given(data=st.data(), everyone=st.booleans())
def test_mutated_surveys_are_used_or_rejected_by_name(folder, data, everyone, count_input):
    path = folder / "mutated.csv"
    path.write_bytes(data.draw(mutated(SURVEY_TEXT)))
    check(survey_args(path, everyone), str(path), count_input)
