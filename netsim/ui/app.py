"""The planner's page (Solara): try a plan, watch the network grow, compare it with the baseline.

Served by ``netsim ui`` (``solara run netsim.ui.app``); the module-level :data:`page` is
the page. It is a thin layer over :mod:`netsim.ui.plans` (scenarios, controls, runs,
the comparison), :mod:`netsim.ui.picture` (the network) and :mod:`netsim.ui.charts`;
every word on it comes from :mod:`netsim.i18n`, in English or Thai.

The page is laid out with Solara's own components rather than Mesa's ``SolaraViz`` grid
(a Vue 2 widget that stays empty under the Vue 3 front end Solara now ships), and its
controls are its own, since Mesa's ``ModelController`` labels are English only; the
model is still a Mesa model built from keyword parameters, stepped one month at a time.

Settings come from the environment, which ``netsim ui`` sets: ``NETSIM_UI_SCENARIOS``
(the folder of scenario files, default ``./scenarios``), ``NETSIM_UI_LANG`` (``en`` or
``th``) and ``NETSIM_UI_WORKERS`` (worker processes of the comparison, default 1).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import solara
import solara.lab

from netsim.i18n import LANGUAGES, text
from netsim.scenario import ScenarioError
from netsim.store import csv_bytes
from netsim.ui import charts, picture, plans

__all__ = ["Page", "page"]

_LANGUAGE_NAMES = {"en": "English", "th": "ไทย"}
#: Seconds between months while playing.
PLAY_INTERVAL = 0.4
#: Most groups the network picture draws (a national-scale run is shown by its charts only).
MAX_DRAWN = 3000


def _scenarios_dir() -> Path:
    given = os.environ.get("NETSIM_UI_SCENARIOS")
    if given:
        return Path(given)
    here = Path.cwd() / "scenarios"
    return here if here.is_dir() else Path(__file__).resolve().parents[2] / "scenarios"


def _default_lang() -> str:
    lang = os.environ.get("NETSIM_UI_LANG", "en")
    return lang if lang in LANGUAGES else "en"


# Each browser tab has its own copy of these (Solara keeps reactive values per connection).
lang = solara.reactive(_default_lang())
chosen = solara.reactive("")          # the scenario file picked (its stem)
settings = solara.reactive({})        # the planner's values, by dotted key, over the scenario's
seed = solara.reactive(1)
model = solara.reactive(None)         # the NetworkModel of the current run, or None
positions = solara.reactive(None)     # its fixed layout
month = solara.reactive(0)            # the month shown (a change redraws the page)
playing = solara.reactive(False)
problem = solara.reactive("")         # why the run cannot be built, if it cannot
plan_a = solara.reactive("")          # plan A's scenario file (stem)
replicates = solara.reactive(20)
comparison = solara.reactive(None)    # the plans.Comparison in progress or done
progress = solara.reactive((0, 0))    # runs done, runs in all
compare_request = solara.reactive(0)  # bumped by the Compare button


def _files() -> dict[str, plans.ScenarioFile]:
    return {f.path.stem: f for f in plans.scenario_files(_scenarios_dir())}


def rebuild(files: dict[str, plans.ScenarioFile]) -> None:
    """Build the run of the chosen scenario with the planner's settings, at month 0."""
    playing.value = False
    found = files.get(chosen.value)
    if found is None or found.scenario is None:
        model.value, positions.value = None, None
        problem.value = found.error if found else ""
        month.value = 0
        return
    try:
        m = plans.build_model(found.scenario, settings.value, seed=seed.value)
    except ScenarioError as e:
        model.value, positions.value = None, None
        problem.value = str(e)
        month.value = 0
        return
    problem.value = ""
    positions.value = picture.layout(m)
    model.value = m
    month.value = m.month


def step() -> None:
    """Advance the run by one month."""
    m = model.value
    if m is not None and m.running:
        m.step()
        month.value = m.month


@solara.component
def LanguageSwitch():
    """English or Thai."""
    with solara.Row(style={"align-items": "center"}):
        solara.Text(text("ui.language", lang.value) + ":")
        for code in LANGUAGES:
            solara.Button(_LANGUAGE_NAMES[code], on_click=lambda code=code: lang.set(code),
                          text=lang.value != code, color="primary", classes=[f"netsim-lang-{code}"])


@solara.component
def ScenarioPicker(files: dict[str, plans.ScenarioFile]):
    """The scenario files, each with its question."""
    L = lang.value

    def pick(stem: str) -> None:
        chosen.value = stem
        settings.value = {}
        rebuild(files)

    solara.Select(text("ui.scenario", L), values=list(files), value=chosen.value or None, on_value=pick,
                  classes=["netsim-scenario"])
    found = files.get(chosen.value)
    if found is not None and found.scenario is not None:
        solara.Text(found.scenario.question, style={"font-size": "0.9em", "color": "#444"})


@solara.component
def Controls(files: dict[str, plans.ScenarioFile]):
    """One control per intervention parameter, from the schema, with its words."""
    L = lang.value
    found = files.get(chosen.value)
    if found is None or found.scenario is None:
        return
    own = found.scenario.params

    def change(key: str, value: Any) -> None:
        settings.value = {**settings.value, key: value}
        rebuild(files)

    for key in plans.CONTROLS:
        c = plans.control(key, L)
        value = settings.value.get(key, own.get(key))
        label = f"{c.label} ({c.unit})" if c.unit else c.label
        with solara.Column(gap="0px", classes=[f"netsim-control-{key.replace('.', '-')}"]):
            if c.spec.kind == "choice":
                words = dict(c.choices)
                back = {w: v for v, w in words.items()}
                solara.Select(label, values=list(back), value=words[value],
                              on_value=lambda w, key=key, back=back: change(key, back[w]))
            elif c.spec.kind == "int":
                lo, hi = plans.slider_range(c.spec, own.get(key), value)
                solara.Text(f"{label}: {value}", style={"margin-top": "8px"})
                solara.SliderInt("", value=value, min=lo, max=hi,
                                 on_value=lambda v, key=key: change(key, int(v)))
            solara.Text(c.help, style={"font-size": "0.8em", "color": "#666"})
    solara.Button(text("ui.back_to_scenario", L), on_click=lambda: (settings.set({}), rebuild(files)),
                  text=True, color="primary", classes=["netsim-back"], disabled=not settings.value)


@solara.component
def Player(files: dict[str, plans.ScenarioFile]):
    """Play, Pause, Step and Reset, and the month."""
    L = lang.value
    m = model.value

    def loop() -> None:
        while playing.value:
            time.sleep(PLAY_INTERVAL)
            current = model.value
            if current is None or not current.running:
                playing.value = False
                return
            step()

    solara.lab.use_task(loop, dependencies=[playing.value], prefer_threaded=True)
    months = m.params.run.months if m is not None else 0
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button(text("ui.play", L), icon_name="mdi-play", on_click=lambda: playing.set(True),
                      disabled=m is None or playing.value or not m.running, classes=["netsim-play"])
        solara.Button(text("ui.pause", L), icon_name="mdi-pause", on_click=lambda: playing.set(False),
                      disabled=not playing.value, classes=["netsim-pause"])
        solara.Button(text("ui.step", L), icon_name="mdi-step-forward", on_click=step,
                      disabled=m is None or playing.value or not m.running, classes=["netsim-step"])
        solara.Button(text("ui.reset", L), icon_name="mdi-restore", on_click=lambda: rebuild(files),
                      disabled=m is None and not chosen.value, classes=["netsim-reset"])
        solara.HTML(tag="span", unsafe_innerHTML=text("ui.month_of", L, month=month.value, months=months),
                    classes=["netsim-month"], style="font-size:1.2em; font-weight:bold; margin-left:12px")


@solara.component
def NetworkView():
    """The network this month, and the plan it runs."""
    L = lang.value
    m, pos = model.value, positions.value
    drawable = m is not None and pos is not None and m.state.n <= MAX_DRAWN
    svg = solara.use_memo(lambda: picture.draw(m, pos, lang=L).svg() if drawable else "",
                          [id(m), month.value, L])
    if m is None:
        return
    if not drawable:
        solara.Info(text("ui.too_many", L, n=m.state.n))
        return
    solara.HTML(tag="div", unsafe_innerHTML=svg, classes=["netsim-network-box"])
    for key in ("ui.legend_shapes", "ui.legend_coordinator", "ui.legend_grey", "ui.legend_ties"):
        solara.Text(text(key, L), style={"font-size": "0.8em", "color": "#555"})
    plan = "; ".join(_setting_words(key, m.params.get(key), L) for key in plans.CONTROLS)
    solara.HTML(tag="div", unsafe_innerHTML=_escape(plan), classes=["netsim-run-plan"],
                style="font-size:0.8em; color:#333; margin-top:6px")


def _escape(s: str) -> str:
    from html import escape

    return escape(s)


def _setting_words(key: str, value: Any, lang_: str) -> str:
    c = plans.control(key, lang_)
    shown = dict(c.choices).get(value, value)
    return f"{c.label}: {shown}" + (f" {c.unit}" if c.unit else "")


@solara.component
def ChartsView():
    """The key outcomes month by month."""
    L = lang.value
    m = model.value
    monthly = solara.use_memo(lambda: m.monthly_table() if m is not None else None, [id(m), month.value])
    if m is None or monthly is None:
        return
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["netsim-charts"]):
        for chart in charts.CHARTS:
            solara.HTML(tag="div", unsafe_innerHTML=charts.line_chart_svg(chart, monthly,
                                                                          months=m.params.run.months, lang=L),
                        style="width:330px")


@solara.component
def Downloads():
    """The run's monthly and group tables (CSV) and its charts (PNG)."""
    L = lang.value
    m, pos = model.value, positions.value
    if m is None:
        return
    stem = f"{m.scenario_name}-month{m.month}"
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.FileDownload(lambda: csv_bytes(m.monthly_table()), filename=f"{stem}-monthly.csv",
                            label=text("ui.download_monthly", L), mime_type="text/csv")
        solara.FileDownload(lambda: csv_bytes(m.group_table(every_month=True)),
                            filename=f"{stem}-groups.csv", label=text("ui.download_groups", L),
                            mime_type="text/csv")
        solara.FileDownload(lambda: charts.charts_png(m.monthly_table(), months=m.params.run.months, lang=L,
                                                      title=m.scenario_name),
                            filename=f"{stem}-charts.png", label=text("ui.download_charts", L),
                            mime_type="image/png")
        if m.state.n <= MAX_DRAWN:
            solara.FileDownload(lambda: picture.draw(m, pos, lang=L).png(lang=L),
                                filename=f"{stem}-network.png", label=text("ui.download_network", L),
                                mime_type="image/png")


def _workers() -> int:
    try:
        return max(1, int(os.environ.get("NETSIM_UI_WORKERS", "1")))
    except ValueError:
        return 1


@solara.component
def Compare(files: dict[str, plans.ScenarioFile]):
    """Plan A against plan B over many runs, in the background."""
    L = lang.value
    valid = [stem for stem, f in files.items() if f.scenario is not None]
    if not plan_a.value and valid:
        plan_a.value = "baseline" if "baseline" in valid else valid[0]
    current = files.get(chosen.value)

    def work() -> None:
        if not compare_request.value:
            return
        a, b = files[plan_a.value].scenario, current.scenario
        try:
            b = b.with_overrides(dict(settings.value), source="the page")
        except ScenarioError as e:
            comparison.value = None
            problem.value = str(e)
            return
        job = plans.Comparison(dataclasses.replace(a, name=f"A: {a.name}"),
                               dataclasses.replace(b, name=f"B: {b.name}"),
                               replicates=replicates.value, seed=seed.value, workers=_workers())
        comparison.value = job
        progress.value = (0, 2 * replicates.value)
        job.run(lambda c: progress.set((c.done, c.total or 2 * replicates.value)))
        comparison.value = dataclasses.replace(job)  # a new object: the page redraws with the results

    solara.lab.use_task(work, dependencies=[compare_request.value], prefer_threaded=True)
    job: plans.Comparison | None = comparison.value
    busy = job is not None and job.monthly is None and not job.error and not job.cancelled \
        and progress.value[0] < progress.value[1]
    solara.Text(text("ui.compare_help", L), style={"font-size": "0.9em", "color": "#444"})
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select(text("ui.plan_a", L), values=valid, value=plan_a.value or None, on_value=plan_a.set,
                      classes=["netsim-plan-a"])
        solara.Text(f"{text('ui.plan_b', L)}: {chosen.value}", classes=["netsim-plan-b"])
    solara.Text(f"{text('ui.replicates', L)}: {replicates.value}")
    solara.SliderInt("", value=replicates, min=2, max=200)
    with solara.Row():
        solara.Button(text("ui.compare_start", L), icon_name="mdi-scale-balance", color="primary",
                      on_click=lambda: compare_request.set(compare_request.value + 1),
                      disabled=busy or current is None or current.scenario is None or not plan_a.value,
                      classes=["netsim-compare-start"])
        solara.Button(text("ui.cancel", L), icon_name="mdi-cancel", on_click=lambda: job and job.cancel(),
                      disabled=not busy, classes=["netsim-compare-cancel"])
    done, total = progress.value
    if busy:
        solara.ProgressLinear(100 * done / max(total, 1))
        solara.Text(text("ui.progress", L, done=done, total=total), classes=["netsim-compare-progress"])
    if job is None:
        return
    if job.error:
        solara.Error(text("ui.compare_failed", L, error=job.error))
    if job.cancelled:
        solara.Warning(text("ui.cancelled", L, done=job.done, total=job.total), classes=["netsim-cancelled"])
    if job.monthly is None:
        return
    name_a = (text("ui.plan_a_default", L) if plan_a.value == "baseline"
              else f"{text('ui.plan_a', L)} ({plan_a.value})")
    names = (name_a, text("ui.plan_b_name", L))
    with solara.Column(classes=["netsim-verdict"]):
        for sentence in plans.verdict(job, L, names=names):
            solara.Text(sentence)
    final = job.final()
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["netsim-compare-charts"]):
        for svg in charts.compare_svg(final, plans.DISTRIBUTIONS, [job.plan_a.name, job.plan_b.name],
                                      names, lang=L):
            solara.HTML(tag="div", unsafe_innerHTML=svg, style="width:330px")


@solara.component
def Page():
    """The whole page."""
    L = lang.value
    files = solara.use_memo(_files, [])
    if not chosen.value and files:
        chosen.value = "baseline" if "baseline" in files else next(iter(files))
        rebuild(files)
    solara.Title(text("ui.title", L))
    with solara.Column(style={"padding": "12px", "max-width": "1400px"}, classes=[f"netsim-page-{L}"]):
        with solara.Row(style={"align-items": "center", "justify-content": "space-between",
                               "flex-wrap": "wrap"}):
            solara.HTML(tag="h2", unsafe_innerHTML=_escape(text("ui.title", L)), classes=["netsim-title"])
            LanguageSwitch()
        solara.Text(text("ui.subtitle", L))
        with solara.Columns([1, 2]):
            with solara.Card(text("ui.settings", L)):
                ScenarioPicker(files)
                Controls(files)
            with solara.Column():
                if problem.value:
                    solara.Error(f"{text('ui.invalid_scenario', L)}: {problem.value}",
                                 classes=["netsim-problem"])
                Player(files)
                with solara.Columns([3, 2]):
                    NetworkView()
                    with solara.Column():
                        solara.Text(text("ui.charts", L), style={"font-weight": "bold"})
                        ChartsView()
                with solara.Card(text("ui.downloads", L)):
                    Downloads()
        with solara.Card(text("ui.compare", L)):
            Compare(files)


page = Page
