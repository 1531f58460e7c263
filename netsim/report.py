"""Reports: charts, tables and a page from a batch's results folder.

``netsim report RESULTS`` reads a result store (:mod:`netsim.store`) and writes into
``RESULTS/report/`` (or ``--out``):

* ``outcomes.FMT``: key outcomes month by month, one line per arm (mean over runs) with a
  band holding the middle 95% of runs (batches of at most 8 arms);
* ``networks.FMT``: loose, structured and shared-ideology networks at the end per arm;
* ``marketing.FMT``: how often a cross-district marketing network forms and how long it
  lasts, per arm (read through :mod:`netsim.outcomes`);
* ``sweep-N.FMT`` (one per swept scenario, on the page before the bar charts): the
  final-month outcomes over the swept values (a line for one key, heat maps for two or more);
* ``snapshot-N.FMT``: the network of a representative run of an arm at its final month,
  when the batch kept its ties (``netsim batch --keep-ties``). The representative run is
  the one whose final-month outcomes lie closest to the arm's medians (each outcome's
  distance scaled by its spread across the arm's runs; ties broken by replicate);
* ``comparison.csv`` (sweep values as their own columns), ``marketing.csv``,
  ``report.md`` and one self-contained ``report.html`` (images embedded), each with a
  "how to read this" paragraph and a provenance footer.

Charts are in the formats asked for (PNG, SVG, PDF); see :mod:`netsim.charts`. Words
come from :mod:`netsim.i18n` (``--lang en|th``). A batch that is incomplete or still
running is refused (:class:`ReportError`) unless ``partial`` is asked for, and then
every chart and page says so.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from netsim.comparison import (
    KEY_OUTCOMES,
    Arm,
    Comparison,
    ReportError,
    cliffs_delta,
    compare,
    final_rows,
    holm,
    marketing_lifetimes,
)
from netsim.i18n import output_label, output_unit, text
from netsim.outcomes import read_outcomes
from netsim.store import MANIFEST, ResultStore, write_bytes_atomic, write_csv

__all__ = ["KEY_OUTCOMES", "TIME_SERIES", "Batch", "ReportError", "cliffs_delta", "compare", "holm",
           "marketing_members", "read_batch", "representative_runs", "write_report"]

#: Outputs drawn month by month.
TIME_SERIES = ("structured_share", "cross_district_tie_share", "mean_trust", "goal_alignment",
               "value_alignment", "ties")
#: Outcomes drawn in the sweep charts.
SWEEP_OUTCOMES = ("structured_share", "marketing_network", "cross_district_tie_share", "loose",
                  "structured", "mean_trust")
#: Final-month outcomes that pick a run to represent its arm in a snapshot.
REPRESENTATIVE_BY = ("participants", "ties", "loose", "structured", "shared_ideology",
                     "cross_district_tie_share", "marketing_network_districts")
#: Most arms drawn as separate lines or bars, and most snapshots drawn.
MAX_ARMS_DRAWN = 8


@dataclass
class Batch:
    """What a report reads from a results folder.

    Attributes:
        monthly: The ``monthly`` table (one row per run x month).
        groups: The final per-group table, if stored.
        ties: The final ties, if the batch kept them.
        outcomes: The run-level outcomes (:func:`netsim.outcomes.read_outcomes`); read from
            ``monthly`` when not given.
        manifest: The store's manifest (empty for a table given directly).
        planned: Runs in the batch's plan (None if unknown).
        failed: Runs that raised.
        status: The manifest's status (``complete``, ``running``, ...).
    """

    monthly: pd.DataFrame
    groups: pd.DataFrame | None = None
    ties: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    planned: int | None = None
    failed: int = 0
    status: str = "complete"

    @property
    def plan(self) -> dict[str, Any]:
        """The manifest's plan."""
        return self.manifest.get("plan", {})

    @property
    def inputs(self) -> list[str]:
        """The swept keys."""
        keys = self.plan.get("inputs")
        if keys is None:
            keys = [c for c in self.monthly.columns if "." in c]
        return [k for k in keys if k in self.monthly.columns]

    @property
    def stored(self) -> int:
        """Runs with results."""
        m = self.monthly
        return int(m["run_id"].nunique()) if "run_id" in m else len(m.drop_duplicates(
            [c for c in ("scenario", *self.inputs, "replicate") if c in m]))

    def incomplete(self) -> str | None:
        """Why the batch is not whole (a sentence), or None if every planned run is stored."""
        planned = self.planned if self.planned is not None else self.stored + self.failed
        done = self.stored + self.failed
        if self.status == "running":
            return (f"the batch is still running or was stopped (manifest status 'running'): {self.stored} "
                    f"of {planned} runs stored")
        if done < planned:
            return f"the batch is incomplete: {self.stored} of {planned} runs stored (status '{self.status}')"
        return None

    def own_values(self) -> dict[str, dict[str, Any]]:
        """Each scenario's own parameter values, from the plan."""
        return {s["name"]: s.get("parameters", {}) for s in self.plan.get("scenarios", [])
                if isinstance(s, dict)}


def read_batch(results: Path) -> Batch:
    """Read a results folder for a report.

    Raises:
        ReportError: Not a results folder, or no finished runs.
    """
    results = Path(results)
    if not (results / "monthly").is_dir() or not (results / MANIFEST).is_file():
        raise ReportError(f"{results}: not a results folder of `netsim batch` (no monthly/ table and "
                          f"{MANIFEST} in it)")
    store = ResultStore(results)
    manifest = store.manifest_or_disk()
    monthly = store.read("monthly")
    if monthly.empty:
        raise ReportError(f"{results}: the batch has no finished runs yet")
    runs = store.read("runs")
    failed = int((runs["status"] == "error").sum()) if "status" in runs else 0
    order = [s["name"] for s in manifest.get("plan", {}).get("scenarios", []) if isinstance(s, dict)]
    if order:  # the batch's own order of scenarios, not the alphabet
        rank = {name: i for i, name in enumerate(order)}
        monthly = monthly.sort_values("scenario", key=lambda c: c.map(rank), kind="stable", ignore_index=True)
    groups = store.read("groups") if (results / "groups").is_dir() else None
    ties = store.read("ties") if (results / "ties").is_dir() else None
    return Batch(monthly, groups, None if ties is None or ties.empty else ties, read_outcomes(store),
                 manifest, manifest.get("plan", {}).get("runs"), failed,
                 str(manifest.get("status", "complete")))


def representative_runs(monthly: pd.DataFrame, arm_of_run: pd.Series,
                        candidates: set[str] | None = None) -> dict[str, str]:
    """For each arm, the run whose final month lies closest to the arm's medians.

    The distance is the sum over :data:`REPRESENTATIVE_BY` of ``|x - median| / spread``,
    where the spread is the interquartile range of the arm's runs (their standard
    deviation if that is 0, and 1 if both are). Ties go to the lowest replicate.

    Args:
        monthly: The monthly table with ``run_id``.
        arm_of_run: The arm of each run (indexed by ``run_id``).
        candidates: Only these runs may be chosen (say, the runs whose ties are stored).
    """
    final = final_rows(monthly).set_index("run_id")
    columns = [c for c in REPRESENTATIVE_BY if c in final.columns]
    out = {}
    for arm, runs in arm_of_run.groupby(arm_of_run, sort=False):
        part = final.loc[runs.index, columns].astype(float)
        median = part.median()
        spread = (part.quantile(0.75) - part.quantile(0.25)).where(lambda s: s > 0, part.std(ddof=0))
        spread = spread.where(spread > 0, 1.0).fillna(1.0)
        distance = ((part - median).abs() / spread).sum(axis=1)
        if candidates is not None:
            distance = distance[distance.index.isin(candidates)]
        if len(distance):
            order = final.loc[distance.index, "replicate"] if "replicate" in final else distance.index
            best = pd.DataFrame({"d": distance.round(12), "r": order}).sort_values(["d", "r"]).index[0]
            out[str(arm)] = str(best)
    return out


def marketing_members(groups: pd.DataFrame) -> set[str]:
    """The groups in a cross-district marketing network, read from a final per-group table.

    The members of a network forum whose joint marketing has spanned enough districts for
    enough months in a row, as the model counts it (the per-group output
    ``in_marketing_network``; :mod:`netsim.processes.emergence`).
    """
    if "in_marketing_network" not in groups:  # a table from before the model recorded it
        return set()
    return set(groups.loc[groups["in_marketing_network"].astype(bool), "group_id"].astype(str))


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and 0 < abs(v) < 1e-3:
        return f"{v:.1e}"
    return f"{v:.{digits}g}" if isinstance(v, float | np.floating) else str(v)


def _slug(i: int) -> str:
    return f"snapshot-{i + 1}"


@dataclass
class _Page:
    """The pieces of the page, in the language asked for."""

    lang: str
    title: str
    warning: str | None
    footer: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)  # (kind, content)

    def heading(self, words: str) -> None:
        self.blocks.append(("h2", words))

    def para(self, words: str) -> None:
        self.blocks.append(("p", words))

    def image(self, path: Path, alt: str) -> None:
        self.blocks.append(("img", (path, alt)))

    def table(self, head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.blocks.append(("table", (list(head), [list(r) for r in rows])))

    def markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        if self.warning:
            lines += [f"> **{self.warning}**", ""]
        for kind, content in self.blocks:
            if kind == "h2":
                lines += [f"## {content}", ""]
            elif kind == "p":
                lines += [content, ""]
            elif kind == "img":
                path, alt = content
                lines += [f"![{alt}]({path.name})", ""]
            else:
                head, rows = content
                esc = [[c.replace("|", "\\|") for c in r] for r in [head, *rows]]
                lines += ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(head)]
                lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
                lines.append("")
        lines += ["---", "", self.footer, ""]
        return "\n".join(lines)

    def html(self) -> str:
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        if self.warning:
            body.append(f"<p class='warning'>{html.escape(self.warning)}</p>")
        for kind, content in self.blocks:
            if kind == "h2":
                body.append(f"<h2>{html.escape(content)}</h2>")
            elif kind == "p":
                body.append(f"<p>{_inline(content)}</p>")
            elif kind == "img":
                path, alt = content
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                mime = {"png": "image/png", "svg": "image/svg+xml"}[path.suffix[1:]]
                body.append(f"<figure><img src='data:{mime};base64,{data}' alt='{html.escape(alt)}'>"
                            f"<figcaption>{html.escape(alt)}</figcaption></figure>")
            else:
                head, rows = content
                body.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
                            + "</tr></thead><tbody>")
                body += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows]
                body.append("</tbody></table>")
        body.append(f"<footer>{html.escape(self.footer)}</footer>")
        style = ("body{font-family:'DejaVu Sans','Loma','Waree','Noto Sans Thai',sans-serif;max-width:62em;"
                 "margin:2em auto;padding:0 1em;color:#111;line-height:1.45}"
                 "table{border-collapse:collapse;margin:.8em 0;font-size:.85em}"
                 "td,th{border:1px solid #999;padding:.15em .5em;text-align:right}"
                 "td:first-child,th:first-child{text-align:left}img{max-width:100%}"
                 "figure{margin:1em 0}figcaption{font-size:.8em;color:#444}"
                 ".warning{background:#fde8e8;border:2px solid #b00000;color:#b00000;padding:.6em;"
                 "font-weight:bold}footer{margin-top:2em;font-size:.8em;color:#444;border-top:1px solid #999}"
                 "code{background:#f3f3f3}")
        return (f"<!doctype html><html lang='{self.lang}'><head><meta charset='utf-8'>"
                f"<meta name='generator' content='{html.escape(self.footer)}'>"
                f"<title>{html.escape(self.title)}</title><style>{style}</style></head><body>"
                + "\n".join(body) + "</body></html>")


def _inline(words: str) -> str:
    """Markdown's `code` and **bold** as HTML, the rest escaped."""
    out = html.escape(words)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)


def _provenance(batch: Batch) -> tuple[str, dict[str, str]]:
    from netsim import __version__
    from netsim.provenance import git_commit

    m = batch.manifest
    sha = str(batch.plan.get("sha256", ""))[:12] or "n/a"
    commit = str(m.get("git_commit") or "n/a")[:12]
    made_with = git_commit(Path(__file__).resolve().parent)
    planned = batch.planned if batch.planned is not None else batch.stored
    footer = (f"netsim {m.get('netsim_version', __version__)}, commit {commit}, batch {sha}, "
              f"{batch.stored} of {planned} runs ({batch.status}); report by netsim {__version__}"
              + (f" ({made_with[:12]})" if made_with else ""))
    return footer, {"netsim_version": str(m.get("netsim_version", __version__)), "commit": commit,
                    "batch_sha256": str(batch.plan.get("sha256", "")), "runs": str(batch.stored),
                    "planned": str(planned), "status": batch.status}


def write_report(batch: Batch | pd.DataFrame, out: Path, *, formats: Sequence[str] = ("png", "svg"),
                 dpi: int = 300, reference: str | None = None, lang: str = "en", title: str | None = None,
                 partial: bool = False) -> list[Path]:
    """Write the charts, tables and pages of a report into ``out``.

    Args:
        batch: What :func:`read_batch` read (or a monthly table alone).
        out: The folder.
        formats: Chart formats (some of png, svg, pdf); the page embeds PNG, or SVG
            when PNG is not asked for.
        dpi: Resolution of PNG charts.
        reference: The arm the others are compared with (see
            :func:`netsim.comparison.resolve_reference`).
        lang: ``en`` or ``th``.
        title: The page's title (default: the words table's).
        partial: Report on an incomplete or running batch, with a warning on every chart
            and page; without it such a batch raises :class:`ReportError`.

    Returns:
        The files written.

    Raises:
        ReportError: An incomplete batch without ``partial``, an unknown reference.
    """
    from netsim import charts

    if isinstance(batch, pd.DataFrame):
        if "run_id" not in batch.columns:  # a table made by hand: a run = scenario x sweep point x replicate
            labels = comparison_labels(batch, [c for c in batch.columns if "." in c])
            batch = batch.assign(run_id=labels + "#" + batch["replicate"].astype(str))
        batch = Batch(batch)
    why = batch.incomplete()
    if why and not partial:
        raise ReportError(f"{why}. Finish it by running the same `netsim batch` command again (it "
                          "resumes), or pass --partial to report on what is there, with a warning")
    warning = text("report.warning.partial", lang, why=why) if why else None
    monthly, inputs = batch.monthly, batch.inputs
    comparison = compare(monthly, inputs=inputs, reference=reference, own_values=batch.own_values())
    per_run = batch.outcomes if batch.outcomes is not None else read_outcomes(monthly, inputs=inputs)
    rank = {run: i for i, run in enumerate(pd.unique(monthly["run_id"]))}  # the batch's order, as the arms
    per_run = per_run.sort_values("run_id", key=lambda c: c.map(rank), kind="stable", ignore_index=True)
    lifetimes = marketing_lifetimes(per_run, monthly, inputs=inputs)
    footer, meta = _provenance(batch)
    charts.setup(lang)
    title = title or text("report.title", lang)
    description = "; ".join(f"{k}={v}" for k, v in meta.items())

    def save(fig: Any, stem: str, what: str) -> list[Path]:
        return charts.save(fig, out, stem, formats=formats, dpi=dpi, footer=footer,
                           metadata={"title": f"{title}: {what}", "description": description,
                                     "creator": f"netsim {meta['netsim_version']}"})

    out.mkdir(parents=True, exist_ok=True)
    page = _Page(lang, title, warning, footer)
    written: list[Path] = []
    shown = "png" if "png" in formats else "svg" if "svg" in formats else None

    def show(paths: list[Path], caption: str) -> None:
        written.extend(paths)
        if shown is not None:
            page.image(next(p for p in paths if p.suffix == f".{shown}"), caption)

    arms = comparison.arms
    ref = comparison.reference
    page.heading(text("report.h.how_to_read", lang))
    page.para(text("report.how_to_read", lang))
    page.para(text("report.summary", lang, arms=len(arms), runs=batch.stored,
                   scenarios=len({a.scenario for a in arms}),
                   reference=text(f"report.reference.{comparison.reference_how}", lang, arm=ref.label,
                                  scenario=ref.scenario)))
    runs_per_arm = comparison.table.drop_duplicates("arm").set_index("arm")["runs"]
    if runs_per_arm.nunique() > 1:
        page.para(text("report.unequal_runs", lang, low=int(runs_per_arm.min()),
                       high=int(runs_per_arm.max())))
    df = monthly.assign(arm=comparison_labels(monthly, inputs))
    if len(arms) <= MAX_ARMS_DRAWN:
        page.heading(text("report.h.over_time", lang))
        show(save(charts.time_series_chart(df, arms, TIME_SERIES, lang=lang, warning=warning), "outcomes",
                  "outcomes by month"), text("report.caption.outcomes", lang))
    if inputs:  # a sweep is read first as a sweep, then arm by arm
        page.heading(text("report.h.sweep", lang))
        page.para(text("report.sweep_note", lang, keys=", ".join(inputs)))
        for i, scenario in enumerate(dict.fromkeys(a.scenario for a in arms)):
            fig = charts.sweep_chart(comparison.table, scenario, inputs, SWEEP_OUTCOMES, lang=lang,
                                     reference=ref, warning=warning)
            show(save(fig, f"sweep-{i + 1}", f"sweep of {scenario}"),
                 text("report.caption.sweep", lang, scenario=scenario))
    if len(arms) <= 3 * MAX_ARMS_DRAWN:
        page.heading(text("report.h.networks", lang))
        show(save(charts.network_types_chart(comparison.table, arms, lang=lang, warning=warning), "networks",
                  "networks at the end"), text("report.caption.networks", lang))
        show(save(charts.marketing_chart(lifetimes, arms, lang=lang, warning=warning), "marketing",
                  "marketing network"), text("report.caption.marketing", lang))
    page.heading(text("report.h.marketing", lang))
    page.para(text("report.marketing_note", lang))
    m_head = [text("report.col.arm", lang), text("report.col.runs", lang), text("report.col.formed", lang),
              text("report.col.at_end", lang), text("report.col.first_month", lang),
              text("report.col.longest", lang), text("report.col.districts", lang)]
    page.table(m_head, [[r.arm, str(r.runs), f"{r.formed} ({r.formed_share:.0%})", f"{r.at_end_share:.0%}",
                         _fmt(r.first_month_median), _fmt(r.longest_median), _fmt(r.districts_median)]
                        for r in lifetimes.itertuples()])
    written += _snapshots(batch, comparison, df, page, save, lang, warning)
    page.heading(text("report.h.comparison", lang))
    page.para(text("report.comparison_note", lang, reference=ref.label))
    head = [text("report.col.arm", lang), text("report.col.runs", lang), text("report.col.mean", lang),
            text("report.col.ci", lang), text("report.col.delta", lang), text("report.col.p", lang),
            text("report.col.test", lang)]
    for outcome in KEY_OUTCOMES:
        sub = comparison.table[comparison.table["outcome"] == outcome]
        if sub.empty:
            continue
        u = output_unit(outcome, lang)
        page.heading(output_label(outcome, lang) + (f" ({u})" if u else ""))
        page.table(head, [[r.arm + (" *" if r.arm == ref.label else ""), str(r.runs), _fmt(r.mean),
                           f"{_fmt(r.ci_low)} – {_fmt(r.ci_high)}" if not math.isnan(r.ci_low) else "",
                           _fmt(r.cliffs_delta, 2), _fmt(r.p_holm, 2), r.test]
                          for r in sub.itertuples()])
    for name, table in (("comparison.csv", comparison.table), ("marketing.csv", lifetimes)):
        write_csv(out / name, table)
        written.append(out / name)
    for name, content in (("report.md", page.markdown()), ("report.html", page.html())):
        write_bytes_atomic(out / name, content.encode("utf-8"))
        written.append(out / name)
    return written


def comparison_labels(monthly: pd.DataFrame, inputs: Sequence[str]) -> pd.Series:
    """The arm of each row (as :func:`netsim.comparison.arms_of` names them)."""
    from netsim.comparison import arms_of

    return arms_of(monthly, inputs)[0]


def _snapshots(batch: Batch, comparison: Comparison, df: pd.DataFrame, page: _Page, save: Any, lang: str,
               warning: str | None) -> list[Path]:
    from netsim import charts

    page.heading(text("report.h.snapshots", lang))
    if batch.ties is None or batch.groups is None or "run_id" not in df:
        page.para(text("report.no_ties", lang))
        return []
    arms = comparison.arms
    chosen: list[Arm] = list(arms) if len(arms) <= MAX_ARMS_DRAWN else [
        a for a in arms if a.label == comparison.reference.label
        or (a.scenario != comparison.reference.scenario and a == next(
            b for b in arms if b.scenario == a.scenario))]
    chosen = chosen[:MAX_ARMS_DRAWN]
    arm_of_run = df.drop_duplicates("run_id").set_index("run_id")["arm"]
    arm_of_run = arm_of_run[arm_of_run.isin([a.label for a in chosen])]
    picks = representative_runs(batch.monthly, arm_of_run, candidates=set(batch.ties["run_id"]))
    page.para(text("report.snapshot_note", lang))
    written: list[Path] = []
    rows = []
    for i, arm in enumerate(chosen):
        run_id = picks.get(arm.label)
        if run_id is None:
            continue
        groups = batch.groups[batch.groups["run_id"] == run_id]
        groups = groups[groups["month"] == groups["month"].max()]
        ties = batch.ties[batch.ties["run_id"] == run_id]
        marketing = marketing_members(groups)
        replicate = int(groups["replicate"].iloc[0]) if "replicate" in groups else -1
        title = text("report.chart.snapshot", lang, arm=arm.label, replicate=replicate,
                     month=int(groups["month"].max()))
        fig = charts.snapshot_chart(groups, ties, title=title, marketing=marketing, lang=lang,
                                    warning=warning)
        paths = save(fig, _slug(i), f"network of {arm.label}")
        written += paths
        shown = [p for p in paths if p.suffix in (".png", ".svg")]
        if shown:
            page.image(sorted(shown, key=lambda p: p.suffix != ".png")[0], title)
        rows.append([arm.label, str(replicate), run_id, str(int(groups["participating"].sum())),
                     str(len(ties)), str(len(marketing))])
    page.table([text("report.col.arm", lang), text("report.col.replicate", lang), "run_id",
                text("report.col.groups", lang), text("report.col.ties", lang),
                text("report.col.marketing_groups", lang)], rows)
    return written
