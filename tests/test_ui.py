"""The planner's page without a browser: its parts (netsim/ui/) and the page rendered in Python."""

import re

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara
from click.testing import CliRunner
from ipywidgets import Widget

from netsim import NetworkModel, load_scenario
from netsim.cli import cli
from netsim.codes import SHARED_IDEOLOGY, STRUCTURED
from netsim.i18n import text
from netsim.outcomes import OUTCOMES, timeline
from netsim.scenario import spec
from netsim.store import csv_bytes
from netsim.ui import app, assets, charts, picture, plans

THAI = re.compile("[\u0e00-\u0e7f]")


def test_controls_come_from_the_schema_with_words_in_english_and_thai():
    for key in plans.CONTROLS:
        en, th = plans.control(key, "en"), plans.control(key, "th")
        assert en.spec == spec(key)
        assert en.label != key and THAI.search(th.label), key
        assert THAI.search(th.help), key
        assert [c for c, _ in en.choices] == list(spec(key).choices)
        assert all(THAI.search(words) for _, words in th.choices), key
        if en.spec.kind == "int":
            lo, hi = plans.slider_range(en.spec, en.spec.default)
            assert en.spec.low <= lo <= en.spec.default <= hi <= en.spec.high


def test_a_slider_widens_to_the_scenarios_own_value_but_not_past_the_allowed_range():
    s = spec("followup.visits_per_month")  # plausible span 0-15, allowed 0-100,000
    assert plans.slider_range(s) == (0, 15)
    assert plans.slider_range(s, 40) == (0, 40)
    assert plans.slider_range(spec("run.months"), 36) == (0, 600)


@pytest.fixture(scope="module")
def grown():
    model = NetworkModel(scenario=load_scenario("scenarios/baseline.toml"), rng=3)
    pos = picture.layout(model)
    for _ in range(24):
        model.step()
    return model, pos


def test_layout_stays_put_as_ties_form_and_gives_each_group_its_own_place(grown):
    model, pos = grown
    again = NetworkModel(scenario=load_scenario("scenarios/baseline.toml"), rng=3)
    assert np.array_equal(picture.layout(again), pos)  # month 0 and month 24: the same places
    assert ((pos >= 0) & (pos <= 1)).all()
    gaps = np.linalg.norm(pos[:, None] - pos[None], axis=2) + np.eye(len(pos))
    assert gaps.min() > 0.01


def test_picture_shows_districts_types_coordinators_and_a_tooltip_per_group(grown):
    model, pos = grown
    pic = picture.draw(model, pos, lang="en")
    joined = model.state.participating
    st = model.state
    assert set(pic.shape) >= {"none", "loose"} or set(pic.shape) & {"structured", "shared_ideology"}
    assert [pic.shape[i] for i in range(st.n)] == [g.network_type for g in model.groups]
    assert len({pic.colour[i] for i in np.flatnonzero(joined)}) == len(set(st.features.district[joined]))
    # a network is coordinated when it has a coordinator; structured ones always have one
    # every structured network has a coordinator, found on the ties the month was measured on
    structured = np.unique(st.network_id[np.isin(st.network_type, (STRUCTURED, SHARED_IDEOLOGY))])
    assert len(structured) and all(pic.coordinator[st.network_id == net].any() for net in structured)
    assert not pic.coordinator[~joined].any()
    g = next(g for g in model.groups if g.participating)
    assert g.group_id in pic.tip[g.row] and g.district in pic.tip[g.row]
    assert text(f"kind.{g.kind}") in pic.tip[g.row]
    svg = pic.svg()
    assert svg.count("<title>") == st.n + 1 and svg.count("<line ") == len(pic.tie_a)
    assert (pic.tie_strength > 0).all() and joined[pic.tie_a].all() and joined[pic.tie_b].all()


def test_charts_draw_every_month_and_the_png_has_thai_words(grown):
    model, _ = grown
    monthly = model.monthly_table()
    for chart in charts.CHARTS:
        svg = charts.line_chart_svg(chart, monthly, months=36, lang="th")
        assert svg.count("<polyline") == len(chart.outputs)
        assert len(re.search(r'points="([^"]*)"', svg).group(1).split()) == len(monthly)
        assert THAI.search(svg)
    png = charts.charts_png(monthly, months=36, lang="th")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_csv_download_is_safe_to_open_in_a_spreadsheet():
    table = pd.DataFrame({"name": ["=HYPERLINK(1)", "+1+A1", "-x", "@a", "ok", "กลุ่ม"],
                          "n": [-1, 2, 3, 4, 5, 6]})
    data = csv_bytes(table)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(pd.io.common.BytesIO(data), encoding="utf-8-sig")
    assert list(back["name"]) == ["'=HYPERLINK(1)", "'+1+A1", "'-x", "'@a", "ok", "กลุ่ม"]
    assert list(back["n"]) == [-1, 2, 3, 4, 5, 6]


def _plans(months=12):
    a = load_scenario("scenarios/no_intervention.toml").with_overrides({"run.months": months})
    b = load_scenario("scenarios/intensive_followup.toml").with_overrides({"run.months": months})
    return a, b


def test_comparison_runs_both_plans_through_the_batch_engine_and_reads_outcomes_once():
    a, b = _plans()
    seen = []
    job = plans.Comparison(a, b, replicates=6, seed=2).start(lambda c: seen.append(c.done)).wait(120)
    assert not job.error and job.monthly is not None and seen[-1] == job.total == 12
    assert seen == sorted(seen)
    shares = job.shares()
    for name in (a.name, b.name):
        own = job.monthly[job.monthly["scenario"] == name]
        expected = timeline(own, OUTCOMES["structured"])["at_end"].mean()
        assert shares.loc[name, "structured"] == pytest.approx(expected)
    words = plans.verdict(job, "en", names=("the baseline", "your plan"))
    b_share, a_share = (100 * shares["structured"].iloc[i] for i in (1, 0))
    first = f"{b_share:.0f}% of runs, the baseline in {a_share:.0f}%"
    assert words[0].startswith("Your plan leads to a structured network") and first in words[0]
    assert THAI.search(plans.verdict(job, "th")[0])
    same = plans.Comparison(a, b, replicates=6, seed=2).run()
    pd.testing.assert_frame_equal(same.shares(), shares)  # same seed, same runs


def test_a_cancelled_comparison_stops_early_and_shows_no_results():
    a, b = _plans(36)
    job = plans.Comparison(a, b, replicates=60, seed=1)
    job.run(lambda c: c.cancel())
    assert job.cancelled and job.monthly is None and 0 < job.done < job.total


# -- the page, rendered in Python ---------------------------------------------------------


def _walk(roots):
    """Every widget under ``roots`` (children, slots and other widget traits)."""
    out, todo, seen = [], list(roots), set()
    while todo:
        w = todo.pop()
        if not isinstance(w, Widget) or id(w) in seen:
            continue
        seen.add(id(w))
        out.append(w)
        for name in w.keys:
            value = getattr(w, name)
            todo.extend(value if isinstance(value, (list, tuple)) else [value])
    return out


def _inside(rc, css_class):
    """Every widget inside the one whose classes include ``css_class``."""
    def classes(w):
        attributes = getattr(w, "attributes", None) or {}
        return f"{getattr(w, 'class_', '') or ''} {attributes.get('class', '')}".split()

    found = [w for w in _walk(rc.find().widgets) if css_class in classes(w)]
    assert len(found) == 1, css_class
    return _walk(found)


@pytest.fixture
def page(monkeypatch, tmp_path):
    """The page over a folder with the baseline and a scenario that fails validation."""
    shipped = (app._scenarios_dir() / "baseline.toml").resolve()
    (tmp_path / "baseline.toml").write_text(f'name = "baseline"\nquestion = "The study as run."\n'
                                            f'base = "{shipped}"\n')
    (tmp_path / "broken.toml").write_text('name = "broken"\nquestion = "?"\n[forum]\ninterval = 99\n')
    monkeypatch.setenv("NETSIM_UI_SCENARIOS", str(tmp_path))
    for r, value in ((app.lang, "en"), (app.chosen, ""), (app.settings, {}), (app.model, None),
                     (app.playing, False), (app.problem, ""), (app.comparison, None), (app.plan_a, "")):
        r.set(value)
    box, rc = solara.render(app.Page(), handle_error=False)
    yield rc
    rc.close()


def test_page_steps_resets_and_a_control_changes_the_models_parameter(page):
    page.find(v.Btn, class_="netsim-step").widget.click()
    page.find(v.Btn, class_="netsim-step").widget.click()
    assert app.model.value.month == app.month.value == 2
    page.find(v.Btn, class_="netsim-reset").widget.click()
    assert app.model.value.month == 0
    slider = next(w for w in _inside(page, "netsim-control-forum-interval") if isinstance(w, v.Slider))
    slider.v_model = 2
    assert app.model.value.params.forum.interval == 2 and app.model.value.month == 0
    assert "Exchange forum every: 2 months" in _inside(page, "netsim-run-plan")[0].unsafe_innerHTML
    page.find(v.Btn, class_="netsim-back").widget.click()
    assert app.model.value.params.forum.interval == 4


def test_page_switches_to_thai(page):
    page.find(v.Btn, class_="netsim-lang-th").widget.click()
    assert page.find(v.Btn, class_="netsim-step").widget.children[-1] == text("ui.step", "th")
    assert THAI.search(app.picture.draw(app.model.value, app.positions.value, lang="th").tip[0])


def test_page_shows_a_scenario_that_fails_validation_instead_of_breaking(page):
    page.find(v.Select, class_="netsim-scenario").widget.v_model = "broken"
    assert app.model.value is None
    assert "broken.toml: key 'forum.interval': 99 is outside the allowed range" in app.problem.value
    assert any(app.problem.value in str(w) for w in _inside(page, "netsim-problem"))
    page.find(v.Select, class_="netsim-scenario").widget.v_model = "baseline"
    assert app.model.value is not None and not app.problem.value


# -- the command ----------------------------------------------------------------------------


def test_ui_command_serves_the_app_warns_off_localhost_and_needs_its_assets(monkeypatch, tmp_path):
    import os

    monkeypatch.setattr(os, "environ", dict(os.environ))
    started = []
    monkeypatch.setattr("os.execv", lambda exe, args: started.append(args))
    monkeypatch.setattr(assets, "missing", lambda folder=None: [])
    local = CliRunner().invoke(cli, ["ui", "--port", "9001", "--lang", "th"])
    assert local.exit_code == 0 and "warning" not in local.output
    args = started[-1]
    assert args[args.index("run") + 1] == "netsim.ui.app" and "--production" in args and "9001" in args
    assert os.environ["NETSIM_UI_LANG"] == "th" and os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    wide = CliRunner().invoke(cli, ["ui", "--host", "0.0.0.0"])
    assert wide.exit_code == 0 and "warning: listening on 0.0.0.0, not localhost" in wide.output
    monkeypatch.setattr(assets, "missing", lambda folder=None: ["requirejs@2.3.6"])
    gone = CliRunner().invoke(cli, ["ui"])
    assert gone.exit_code == 2 and "make ui" in gone.output
    bad = CliRunner().invoke(cli, ["ui", "--scenarios", str(tmp_path / "none")])
    assert bad.exit_code == 2 and "no such folder of scenarios" in bad.output


def test_asset_list_follows_the_installed_solara():
    found = assets.packages()
    assert any(p.startswith("@widgetti/solara-vuetify3-app@") for p in found)
    assert "requirejs@2.3.6" in found and any(p.startswith("font-awesome@") for p in found)
    assert all(re.fullmatch(r"(@[\w.-]+/)?[\w.-]+@[\w.-]+", p) for p in found)


def test_a_surveys_names_label_the_groups_on_the_page(tmp_path, thai_survey):
    survey = tmp_path / "survey.csv"
    survey.write_text(thai_survey, encoding="utf-8")
    scenario = load_scenario("scenarios/baseline.toml").with_overrides(
        {"population.groups_file": str(survey), "recruitment.enabled": False, "run.months": 2})
    model = NetworkModel(scenario=scenario, rng=1)
    pic = picture.draw(model, picture.layout(model), lang="th")
    weavers = next(g for g in model.groups if g.group_id == "U1")
    assert "กลุ่มทอผ้าไหม (U1)" in pic.tip[weavers.row]
