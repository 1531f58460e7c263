from __future__ import annotations

import pytest
from click.testing import CliRunner

from netsim import ScenarioError, load_scenario, parameters
from netsim.cli import cli
from netsim.scenario import (
    ForumParams,
    Parameters,
    apply_overrides,
    iter_keywords,
    parse_assignment,
    spec,
)

HEAD = 'name = "test"\nquestion = "Does it validate?"\n'


def write(tmp_path, text: str, name: str = "scenario.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path) -> str:
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    return str(err.value)


def test_baseline_scenario_loads_with_a_question(baseline, baseline_path):
    assert baseline.name == "baseline"
    assert baseline.question.strip()
    assert baseline.path == baseline_path
    assert len(baseline.params.recruitment.districts) == 6
    assert len(baseline.sha256) == 64


def test_minimal_file_takes_every_default(tmp_path):
    scenario = load_scenario(write(tmp_path, HEAD))
    assert scenario.params == Parameters()
    assert scenario.params.flat() == {s.key: s.default for s in parameters()}


def test_name_defaults_to_file_stem(tmp_path):
    scenario = load_scenario(write(tmp_path, 'question = "q?"\n', name="my_case.toml"))
    assert scenario.name == "my_case"


def test_child_overrides_a_few_values_and_inherits_the_rest(tmp_path):
    write(tmp_path, HEAD + "[forum]\ninterval = 2\nscope = \"province\"\n[review]\ninterval = 3\n",
          name="parent.toml")
    child = write(tmp_path, 'name = "child"\nquestion = "And with fewer forums?"\nbase = "parent"\n'
                            "[forum]\ninterval = 6\n[decay]\nrate = 0.2\n", name="child.toml")
    scenario = load_scenario(child)
    assert scenario.name == "child"
    assert scenario.question == "And with fewer forums?"
    assert scenario.params.forum.interval == 6
    assert scenario.params.forum.scope == "province"
    assert scenario.params.review.interval == 3
    assert scenario.params.decay.rate == 0.2
    assert scenario.params.followup == Parameters().followup


def test_inheritance_is_recursive_and_accepts_a_relative_path(tmp_path):
    (tmp_path / "lib").mkdir()
    write(tmp_path, HEAD + "[forum]\ninterval = 2\n[review]\ninterval = 3\n", name="lib/grand.toml")
    write(tmp_path, HEAD + 'base = "grand"\n[review]\ninterval = 4\n', name="lib/parent.toml")
    child = write(tmp_path, HEAD + 'base = "lib/parent.toml"\n[decay]\nfloor = 0.1\n')
    p = load_scenario(child).params
    assert (p.forum.interval, p.review.interval, p.decay.floor) == (2, 4, 0.1)


def test_hash_covers_inherited_files(tmp_path):
    parent = write(tmp_path, HEAD + "[forum]\ninterval = 2\n", name="parent.toml")
    child = write(tmp_path, HEAD + 'base = "parent"\n')
    before = load_scenario(child).sha256
    parent.write_text(HEAD + "[forum]\ninterval = 3\n", encoding="utf-8")
    assert load_scenario(child).sha256 != before


def test_shipped_scenarios_all_load_and_ask_a_question(baseline_path):
    for path in sorted(baseline_path.parent.glob("*.toml")):
        scenario = load_scenario(path)
        assert scenario.question.strip(), path


@pytest.mark.parametrize(("body", "key"), [
    ("[forum\ninterval = 2\n", "TOML syntax error"),
    ("colour = 1\n", "'colour'"),
    ("[colour]\nhue = 1\n", "'colour'"),
    ("[forum]\nintervall = 2\n", "'forum.intervall'"),
    ('[forum]\ninterval = "3"\n', "'forum.interval'"),
    ("[forum]\ninterval = 3.5\n", "'forum.interval'"),
    ("[forum]\ninterval = true\n", "'forum.interval'"),
    ('[decay]\nrate = "fast"\n', "'decay.rate'"),
    ("[forum]\ninterval = 99\n", "'forum.interval'"),
    ("[decay]\nrate = -0.1\n", "'decay.rate'"),
    ('[forum]\nscope = "county"\n', "'forum.scope'"),
    ('[followup]\npolicy = "nearest"\n', "'followup.policy'"),
    ('[recruitment]\ndistricts = "Somdet"\n', "'recruitment.districts'"),
    ("forum = 3\n", "'forum'"),
    ("base = 3\n", "'base'"),
])
def test_bad_value_names_file_and_key(tmp_path, body, key):
    path = write(tmp_path, HEAD + body)
    message = error_of(path)
    assert str(path) in message
    assert key in message


@pytest.mark.parametrize(("body", "allowed"), [
    ("[forum]\ninterval = 99\n", "0 to 36"),
    ('[forum]\nscope = "county"\n', "'province'"),
    ("[forum]\nintervall = 2\n", "interval"),
])
def test_error_says_what_is_allowed(tmp_path, body, allowed):
    assert allowed in error_of(write(tmp_path, HEAD + body))


def test_int_is_accepted_for_a_number():
    assert apply_overrides(Parameters(), {"forum.tie_gain": 1}).forum.tie_gain == 1.0


def test_missing_question_is_refused(tmp_path):
    path = write(tmp_path, 'name = "x"\n[forum]\ninterval = 2\n')
    message = error_of(path)
    assert str(path) in message and "'question'" in message


def test_question_is_not_inherited(tmp_path):
    write(tmp_path, HEAD, name="parent.toml")
    path = write(tmp_path, 'base = "parent"\n')
    assert "'question'" in error_of(path)


def test_empty_file_is_refused(tmp_path):
    path = write(tmp_path, "  \n")
    message = error_of(path)
    assert str(path) in message and "empty" in message


def test_file_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes((HEAD + '[recruitment]\ndistricts = ["Nong Kung S\xed"]\n').encode("latin-1"))
    message = error_of(path)
    assert str(path) in message and "UTF-8" in message


def test_folder_is_refused(tmp_path):
    message = error_of(tmp_path)
    assert str(tmp_path) in message and "folder" in message


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "nope.toml"
    message = error_of(path)
    assert str(path) in message and "no such file" in message


def test_missing_base_is_refused(tmp_path):
    path = write(tmp_path, HEAD + 'base = "nowhere"\n')
    assert "nowhere.toml" in error_of(path)


def test_base_loop_is_refused(tmp_path):
    a = write(tmp_path, HEAD + 'base = "b"\n', name="a.toml")
    write(tmp_path, HEAD + 'base = "a"\n', name="b.toml")
    message = error_of(a)
    assert str(a) in message and "'base'" in message and "loop" in message


def test_scenario_that_is_its_own_base_is_refused(tmp_path):
    path = write(tmp_path, HEAD + 'base = "scenario"\n')
    assert "loop" in error_of(path)


def test_error_in_inherited_file_names_that_file(tmp_path):
    parent = write(tmp_path, HEAD + "[forum]\nintervall = 2\n", name="parent.toml")
    child = write(tmp_path, HEAD + 'base = "parent"\n', name="child.toml")
    message = error_of(child)
    assert str(parent) in message
    assert "'forum.intervall'" in message


@pytest.mark.parametrize(("text", "expected"), [
    ("forum.interval=2", ("forum.interval", 2)),
    (" forum.interval = 2 ", ("forum.interval", 2)),
    ("forum.scope=province", ("forum.scope", "province")),
    ('forum.scope="province"', ("forum.scope", "province")),
    ("decay.rate=0.2", ("decay.rate", 0.2)),
    ("recruitment.enabled=false", ("recruitment.enabled", False)),
    ('recruitment.districts=["Somdet", "Kamalasai"]', ("recruitment.districts", ["Somdet", "Kamalasai"])),
])
def test_parse_assignment_reads_toml_values(text, expected):
    assert parse_assignment(text) == expected


@pytest.mark.parametrize(("text", "where"), [
    ("forum.interval", "forum.interval"),
    ("=3", "=3"),
    ("forum.intervall=2", "'forum.intervall'"),
    ("colour.hue=2", "'colour.hue'"),
])
def test_parse_assignment_refuses_bad_input_naming_it(text, where):
    with pytest.raises(ScenarioError) as err:
        parse_assignment(text)
    assert where in str(err.value)


@pytest.mark.parametrize(("overrides", "key"), [
    ({"forum.interval": "3"}, "'forum.interval'"),
    ({"forum.interval": 99}, "'forum.interval'"),
    ({"forum.scope": "county"}, "'forum.scope'"),
    ({"decay.floor": 1.5}, "'decay.floor'"),
    ({"forum.intervall": 2}, "'forum.intervall'"),
])
def test_apply_overrides_refuses_bad_values_naming_source_and_key(overrides, key):
    with pytest.raises(ScenarioError) as err:
        apply_overrides(Parameters(), overrides, source="my_overrides.toml")
    assert "my_overrides.toml" in str(err.value)
    assert key in str(err.value)


def test_apply_overrides_replaces_only_named_values():
    p = apply_overrides(Parameters(), {"forum.interval": 2, "forum.scope": "province"})
    assert (p.forum.interval, p.forum.scope) == (2, "province")
    assert p.forum.meetings == ForumParams().meetings
    assert p.review == Parameters().review


def test_overrides_leave_the_original_scenario_unchanged(baseline):
    changed = baseline.with_overrides({"forum.interval": 2})
    assert changed.params.forum.interval == 2
    assert baseline.params.forum.interval == Parameters().forum.interval
    assert changed.params.recruitment.districts == baseline.params.recruitment.districts


def test_every_parameter_is_declared_with_help_and_a_valid_default():
    specs = parameters()
    assert len({s.key for s in specs}) == len(specs)
    for s in specs:
        assert s.help, s.key
        if s.kind in ("int", "float"):
            assert s.low is not None and s.high is not None and s.low <= s.default <= s.high, s.key
        if s.kind == "choice":
            assert s.default in s.choices, s.key
    assert spec("forum.interval").keyword == "forum_interval"


def test_keywords_map_to_dotted_keys():
    assert dict(iter_keywords({"forum_interval": 2, "followup_visits_per_month": 1})) == {
        "forum.interval": 2, "followup.visits_per_month": 1}
    with pytest.raises(TypeError, match="forum_intervall"):
        dict(iter_keywords({"forum_intervall": 2}))


def test_every_declared_span_lies_inside_the_allowed_range():
    from netsim.scenario import parameters

    spans = [s for s in parameters() if s.span is not None]
    assert len(spans) > 30
    for s in spans:
        lo, hi = s.span
        assert s.low <= lo < hi <= s.high, s.key
        assert s.kind in ("int", "float"), s.key


@pytest.mark.parametrize(("overrides", "keys"), [
    ({"forum.start_month": 30, "forum.end_month": 2}, ("forum.start_month", "forum.end_month")),
    ({"followup.start_month": 12, "followup.end_month": 6}, ("followup.start_month", "followup.end_month")),
    ({"forum.candidates": 3, "forum.meetings": 5}, ("forum.candidates", "forum.meetings")),
])
def test_values_that_contradict_each_other_are_refused_naming_both_keys(overrides, keys):
    with pytest.raises(ScenarioError) as e:
        apply_overrides(Parameters(), overrides)
    assert all(f"'{k}'" in str(e.value) for k in keys) and "contradict" in str(e.value)


def test_a_contradiction_on_the_command_line_exits_2_with_one_message(baseline_path):
    r = CliRunner().invoke(cli, ["run", str(baseline_path), "--months", "1", "--set", "forum.start_month=30",
                                 "--set", "forum.end_month=2"])
    assert r.exit_code == 2
    assert "'forum.end_month' (2)" in r.output and "contradict" in r.output


def test_a_base_file_may_leave_a_pair_to_its_child(tmp_path):
    (tmp_path / "base.toml").write_text('name = "b"\nquestion = "q"\n[followup]\nstart_month = 1\n',
                                        encoding="utf-8")
    (tmp_path / "child.toml").write_text('name = "c"\nquestion = "q"\nbase = "base"\n'
                                         '[followup]\nend_month = 2\n', encoding="utf-8")
    assert load_scenario(tmp_path / "child.toml").params.followup.end_month == 2
