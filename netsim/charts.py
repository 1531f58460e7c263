"""The report's charts, drawn for print and for papers.

Every chart fits a page (7.2 inches wide, and still legible shrunk to a paper's column),
uses colour-blind-safe colours that stay apart printed in grey (line styles, markers and
hatches carry the same distinction), gives each scenario and each network type the same
colour in every chart, labels its axes with units, and carries a provenance footer
(netsim version, commit, batch manifest hash, runs) on the figure and in the file's
metadata. SVG keeps its text as text and PDF embeds TrueType fonts, so both can be
edited and searched; Thai is drawn with the Thai font the set-up installs
(:func:`netsim.i18n.use_fonts`). Words come from :mod:`netsim.i18n`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from netsim.i18n import output_label, output_unit, text, use_fonts
from netsim.store import write_bytes_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from netsim.comparison import Arm

__all__ = ["ARM_COLOURS", "FORMATS", "TYPE_STYLE", "arm_names", "arm_styles", "marketing_chart",
           "network_types_chart", "parameter_words", "save", "setup", "snapshot_chart", "sweep_chart",
           "time_series_chart"]

#: The formats a chart can be written in.
FORMATS = ("png", "svg", "pdf")
#: Okabe and Ito's colour-blind-safe palette, one colour per arm in the batch's order; its pale
#: yellow (too faint as a line on white paper) replaced by Paul Tol's olive.
ARM_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#999933")
_LINE_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: Network types: colour, hatch and marker, the same in every chart.
TYPE_STYLE: dict[str, tuple[str, str, str]] = {
    "none": ("#BBBBBB", "", "o"),
    "loose": ("#56B4E9", "//", "s"),
    "structured": ("#0072B2", "", "^"),
    "shared_ideology": ("#D55E00", "xx", "D"),
}
#: Paul Tol's muted palette for districts in network snapshots (colour-blind safe).
_DISTRICT_COLOURS = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99",
                     "#999933", "#AA4499", "#DDDDDD")
_MARKETING = "#D55E00"
PAGE_WIDTH = 7.2


def setup(lang: str) -> None:
    """Fonts for ``lang``, real text in SVG, TrueType in PDF, print-sized type."""
    import matplotlib

    matplotlib.use("Agg")
    use_fonts(lang)
    matplotlib.rcParams.update({
        "svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42,
        "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7.5,
        "xtick.labelsize": 7.5, "ytick.labelsize": 7.5, "axes.spines.top": False,
        "axes.spines.right": False, "figure.dpi": 100,
    })


def arm_styles(arms: Sequence[Arm]) -> dict[str, dict[str, Any]]:
    """Colour, line style and marker of each arm: fixed by its place in the batch.

    With more arms than colours (a sweep), every arm is drawn in one colour: repeated
    colours would suggest arms belong together; the arms' names tell them apart.
    """
    many = len(arms) > len(ARM_COLOURS)
    out = {}
    for i, arm in enumerate(arms):
        out[arm.label] = {"color": ARM_COLOURS[0 if many else i],
                          "linestyle": _LINE_STYLES[i % len(_LINE_STYLES)],
                          "marker": _MARKERS[i % len(_MARKERS)]}
    return out


def arm_names(arms: Sequence[Arm]) -> dict[str, str]:
    """What a chart calls each arm: its label, shortened where that loses nothing.

    In a sweep of one scenario the scenario's name is left out, and each swept key is
    written by its last part (``interval=2``) when no two keys share it; the comparison
    table keeps the full labels.
    """
    scenarios = {a.scenario for a in arms}
    keys = list(dict.fromkeys(k for a in arms for k in a.point))
    short = {k: k.rsplit(".", 1)[-1] for k in keys}
    if len(set(short.values())) < len(keys):
        short = {k: k for k in keys}
    out = {}
    for a in arms:
        if not a.point:
            out[a.label] = a.label
            continue
        point = ", ".join(f"{short[k]}={_value(v)}" for k, v in a.point.items())
        out[a.label] = point if len(scenarios) == 1 else f"{a.scenario}: {point}"
    return out


def _value(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def parameter_words(key: str, lang: str) -> str:
    """A swept parameter as an axis shows it: its words and unit, and its key beneath."""
    from netsim.i18n import parameter_text
    from netsim.scenario import ScenarioError, spec

    try:
        unit = parameter_text(key, "unit", lang, spec(key).unit)
    except ScenarioError:
        unit = ""
    words = parameter_text(key, "label", lang, key)
    head = f"{words} ({unit})" if unit else words
    return head if words == key else f"{head}\n{key}"


def save(fig: Figure, out: Path, stem: str, *, formats: Sequence[str], dpi: int,
         footer: str, metadata: Mapping[str, str]) -> list[Path]:
    """Write ``fig`` as ``out/stem.FORMAT`` for each format, with the footer and metadata.

    Args:
        fig: The figure (closed afterwards).
        out: The folder.
        stem: The file name without suffix.
        formats: Some of :data:`FORMATS`.
        dpi: Resolution of PNG files.
        footer: Provenance line drawn at the bottom of the figure.
        metadata: ``title``, ``description`` (the provenance) and ``creator``: written as
            each format's own metadata fields.
    """
    import matplotlib.pyplot as plt
    from matplotlib.transforms import Bbox

    fig.canvas.draw()  # lay it out, so that the footer goes below everything drawn
    renderer = fig.canvas.get_renderer()
    box = Bbox.union([fig.get_tightbbox(renderer)]  # inches, the figure's legends included
                     + [legend.get_window_extent(renderer).transformed(fig.dpi_scale_trans.inverted())
                        for legend in fig.legends])
    width, height = fig.get_size_inches()
    fig.text(max(box.x0, 0) / width, (box.y0 - 0.06) / height, footer, fontsize=5.5, color="#444444",
             ha="left", va="top")
    title, description, creator = metadata["title"], metadata["description"], metadata["creator"]
    fields = {
        "png": {"Title": title, "Description": description, "Software": creator},
        "svg": {"Title": title, "Description": description, "Creator": creator},
        "pdf": {"Title": title, "Subject": description, "Creator": creator},
    }
    paths = []
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        write_bytes_atomic(path, lambda tmp, fmt=fmt: fig.savefig(
            tmp, format=fmt, dpi=dpi, metadata=fields[fmt], bbox_inches="tight", pad_inches=0.08))
        paths.append(path)
    plt.close(fig)
    return paths


def _figure(width: float, height: float) -> Figure:
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(width, height), layout="constrained")


def _warn(fig: Figure, warning: str | None) -> None:
    if warning:
        fig.suptitle(warning, color="#B00000", fontsize=9, fontweight="bold")


def time_series_chart(df: pd.DataFrame, arms: Sequence[Arm], outputs: Sequence[str], *, lang: str,
                      warning: str | None = None) -> Figure:
    """Outputs by month, one line per arm (mean over runs) and a band of the middle 95% of runs."""
    styles, names = arm_styles(arms), arm_names(arms)
    band = 0.12 if len(arms) <= 4 else 0.06  # many bands laid over each other turn to mud
    outputs = [o for o in outputs if o in df.columns]
    cols = 2
    rows = math.ceil(len(outputs) / cols)
    fig = _figure(PAGE_WIDTH, 2.0 * rows + 0.9)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, output in zip(axes, outputs, strict=False):
        for arm in arms:
            g = df[df["arm"] == arm.label].groupby("month")[output]
            mean, lo, hi = g.mean(), g.quantile(0.025), g.quantile(0.975)
            st = styles[arm.label]
            ax.plot(mean.index, mean.to_numpy(), color=st["color"], linestyle=st["linestyle"],
                    marker=st["marker"], markevery=max(1, len(mean) // 6), markersize=3.5, lw=1.4,
                    label=names[arm.label])
            ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), alpha=band, color=st["color"], lw=0)
        ax.set_title(output_label(output, lang))
        ax.set_xlabel(text("report.axis.month", lang))
        ax.set_ylabel(output_unit(output, lang))
        ax.grid(alpha=0.3, lw=0.5)
    for ax in axes[len(outputs):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=min(4, len(arms)), frameon=False)
    _warn(fig, warning)
    return fig


def network_types_chart(table: pd.DataFrame, arms: Sequence[Arm], *, lang: str,
                        warning: str | None = None) -> Figure:
    """Networks of each type at the end, per arm: mean and 95% CI, one colour and hatch per type."""
    kinds = [k for k in ("loose", "structured", "shared_ideology") if k in set(table["outcome"])]
    labels = [a.label for a in arms]
    fig = _figure(PAGE_WIDTH, 1.2 + 0.28 * len(arms) * max(1, len(kinds)) / 2 + 0.8)
    ax = fig.subplots()
    height = 0.8 / max(len(kinds), 1)
    for j, kind in enumerate(kinds):
        sub = table[table["outcome"] == kind].set_index("arm").reindex(labels)
        y = np.arange(len(labels)) + (j - (len(kinds) - 1) / 2) * height
        err = np.vstack([sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]]).clip(min=0)
        colour, hatch, _ = TYPE_STYLE[kind]
        ax.barh(y, sub["mean"], height, xerr=np.nan_to_num(err), capsize=2, color=colour, hatch=hatch,
                edgecolor="black", linewidth=0.4, label=text(f"type.{kind}", lang),
                error_kw={"elinewidth": 0.7})
    names = arm_names(arms)
    ax.set_yticks(np.arange(len(labels)), [names[a] for a in labels])
    ax.invert_yaxis()
    ax.set_xlabel(text("report.axis.networks_at_end", lang))
    ax.set_title(text("report.chart.networks", lang))
    ax.grid(axis="x", alpha=0.3, lw=0.5)
    fig.legend(loc="outside upper center", ncols=len(kinds), frameon=False)
    _warn(fig, warning)
    return fig


def marketing_chart(lifetimes: pd.DataFrame, arms: Sequence[Arm], *, lang: str,
                    warning: str | None = None) -> Figure:
    """The cross-district marketing network per arm: how often it forms, how long it lasts.

    Left, the share of runs in which it forms (95% Wilson interval); right, the median
    longest spell in months over those runs, with "formed / runs" written on each bar.
    """
    from netsim.comparison import wilson_interval

    styles = arm_styles(arms)
    t = lifetimes.set_index("arm").reindex([a.label for a in arms])
    fig = _figure(PAGE_WIDTH, 1.3 + 0.25 * len(arms))
    left, right = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(arms))
    colours = [styles[a.label]["color"] for a in arms]
    shares = t["formed_share"].to_numpy(float)
    ci = np.array([wilson_interval(int(f), int(n)) for f, n in zip(t["formed"], t["runs"], strict=True)])
    err = np.vstack([shares - ci[:, 0], ci[:, 1] - shares]).clip(min=0)
    left.barh(y, shares, 0.7, xerr=np.nan_to_num(err), color=colours, edgecolor="black", linewidth=0.4,
              capsize=2, error_kw={"elinewidth": 0.9, "ecolor": "#808080"})  # seen on a black bar too
    left.set_xlim(0, 1)
    left.set_xlabel(text("report.axis.share_of_runs", lang))
    left.set_title(text("report.chart.marketing_formed", lang))
    longest = np.nan_to_num(t["longest_median"].to_numpy(float))
    right.barh(y, longest, 0.7, color=colours, edgecolor="black", linewidth=0.4)
    right.set_xlim(0, max(1.0, float(longest.max(initial=0))) * 1.18)
    for yi, (n, f, x) in enumerate(zip(t["runs"], t["formed"], longest, strict=True)):
        right.text(x, yi, f" {int(f)}/{int(n)}", va="center", ha="left", fontsize=6.5)
    right.set_xlabel(text("report.axis.months", lang))
    right.set_title(text("report.chart.marketing_lasts", lang))
    names = arm_names(arms)
    left.set_yticks(y, [names[a.label] for a in arms])
    left.invert_yaxis()
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3, lw=0.5)
    _warn(fig, warning)
    return fig


def sweep_chart(table: pd.DataFrame, scenario: str, inputs: Sequence[str], outputs: Sequence[str], *,
                lang: str, reference: Arm | None = None, warning: str | None = None) -> Figure:
    """A sweep as a sweep: each output's final-month mean over the swept values.

    One swept key: a line with its 95% CI against the key's values. Two or more: a heat
    map over the first two keys (averaged over the others, as the title says), each
    cell annotated with its mean; the reference point is outlined.
    """
    sub = table[table["scenario"] == scenario]
    outputs = [o for o in outputs if o in set(sub["outcome"])]
    cols = 2 if len(inputs) == 1 else 3
    rows = math.ceil(len(outputs) / cols)
    fig = _figure(PAGE_WIDTH, (2.1 if len(inputs) == 1 else 2.3) * rows + 0.8)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    x_key = inputs[0]
    y_key = inputs[1] if len(inputs) > 1 else None
    for k, (ax, output) in enumerate(zip(axes, outputs, strict=False)):
        o = sub[sub["outcome"] == output]
        bottom, left = k + cols >= len(outputs), k % cols == 0  # the swept keys are named on the outer panels
        if y_key is None:
            o = o.sort_values(x_key)
            xs = o[x_key].to_numpy()
            err = np.vstack([o["mean"] - o["ci_low"], o["ci_high"] - o["mean"]]).clip(min=0)
            ax.errorbar(xs, o["mean"], yerr=np.nan_to_num(err), color=ARM_COLOURS[0], marker="o",
                        markersize=3.5, capsize=2, lw=1.4)
            if reference is not None and reference.scenario == scenario:
                ax.axvline(float(reference.point[x_key]), color="#555555", lw=0.8, ls=":")
            ax.set_xlabel(parameter_words(x_key, lang) if bottom else "")
            ax.set_ylabel(output_unit(output, lang))
            ax.grid(alpha=0.3, lw=0.5)
        else:
            grid = o.groupby([y_key, x_key])["mean"].mean().unstack(x_key)
            image = ax.imshow(grid.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(grid.shape[1]), [str(v) for v in grid.columns], rotation=0)
            ax.set_yticks(range(grid.shape[0]), [str(v) for v in grid.index])
            ax.set_xlabel(parameter_words(x_key, lang) if bottom else "")
            ax.set_ylabel(parameter_words(y_key, lang) if left else "")
            values = grid.to_numpy(float)
            finite = values[np.isfinite(values)]
            middle = (finite.min() + finite.max()) / 2 if len(finite) else 0
            if grid.size <= 64:
                for (i, j), v in np.ndenumerate(values):
                    if np.isfinite(v):
                        ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=6,
                                color="white" if v < middle else "black")
            if reference is not None and reference.scenario == scenario:
                j = _position(grid.columns, reference.point[x_key])
                i = _position(grid.index, reference.point[y_key])
                if i is not None and j is not None:
                    from matplotlib.patches import Rectangle

                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="#D55E00", lw=1.6))
            bar = fig.colorbar(image, ax=ax, shrink=0.85)
            bar.set_label(output_unit(output, lang), fontsize=6.5)
            bar.ax.tick_params(labelsize=6)
        ax.set_title(output_label(output, lang))
    for ax in axes[len(outputs):]:
        ax.set_visible(False)
    title = text("report.chart.sweep", lang, scenario=scenario)
    if len(inputs) > 2:
        title += " " + text("report.chart.sweep_averaged", lang, keys=", ".join(inputs[2:]))
    fig.suptitle(title if not warning else f"{warning}\n{title}", fontsize=9,
                 color="#B00000" if warning else "black")
    return fig


def _position(values: Sequence[Any], wanted: Any) -> int | None:
    for i, v in enumerate(values):
        try:
            if math.isclose(float(v), float(wanted), rel_tol=1e-9, abs_tol=1e-12):
                return i
        except (TypeError, ValueError):
            if str(v) == str(wanted):
                return i
    return None


def _layout(graph: Any, districts: Sequence[str], node_district: Mapping[str, str],
            ) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, float]]]:
    """Where each group is drawn: districts around a circle, each its own small circle.

    A district's groups are ordered by network, so a network's members sit together, and
    ties across districts cross the middle, where they are easy to see.

    Returns:
        Each group's position, and each district's centre and radius.
    """
    pos: dict[str, np.ndarray] = {}
    circles: dict[str, tuple[np.ndarray, float]] = {}
    n = max(len(districts), 1)
    for i, d in enumerate(districts):
        angle = 2 * math.pi * i / n + math.pi / 2
        centre = np.array([math.cos(angle), math.sin(angle)]) * (1.0 if n > 1 else 0.0)
        members = sorted((v for v in graph.nodes if node_district[v] == d),
                         key=lambda v: (int(graph.nodes[v].get("network_id", -1)) < 0,
                                        int(graph.nodes[v].get("network_id", -1)), v))
        radius = min(0.42, 0.06 + 0.035 * math.sqrt(len(members))) if n > 1 else 1.0
        circles[d] = (centre, radius if len(members) > 1 else 0.0)
        for j, v in enumerate(members):
            a = 2 * math.pi * j / max(len(members), 1) + angle
            pos[v] = centre + radius * np.array([math.cos(a), math.sin(a)]) * (len(members) > 1)
    return pos, circles


def snapshot_chart(groups: pd.DataFrame, ties: pd.DataFrame, *, title: str, marketing: set[str],
                   lang: str, warning: str | None = None) -> Figure:
    """One run's network at its final month.

    Participating groups are nodes, one small circle per district with the district's
    name beside it (and the district's colour, a second cue on screen), shaped by their
    network's type; ties are lines whose width and darkness follow their strength; the
    members of the cross-district marketing network are ringed and its ties drawn in
    vermillion. Nodes are labelled with the group's name (or id), outward from their
    district's circle, when there are at most 80. The legend sits above the picture.
    """
    import matplotlib.lines as mlines

    from netsim.export import network_graph

    graph = network_graph(groups, ties)
    nodes = list(graph.nodes)
    district = {v: str(graph.nodes[v]["district"]) for v in nodes}
    districts = sorted(set(district.values()))
    colour = {d: _DISTRICT_COLOURS[i % len(_DISTRICT_COLOURS)] for i, d in enumerate(districts)}
    pos, circles = _layout(graph, districts, district)
    fig = _figure(PAGE_WIDTH, 7.0)
    ax = fig.subplots()
    ax.set_axis_off()
    for u, v, d in graph.edges(data=True):
        s = float(d["strength"])
        inside = u in marketing and v in marketing
        (x0, y0), (x1, y1) = pos[u], pos[v]
        ax.plot([x0, x1], [y0, y1], color=_MARKETING if inside else "#333333",
                lw=(0.4 + 1.8 * s) if inside else 0.25 + 1.6 * s,  # width by strength, marketing ties too
                alpha=(0.35 + 0.6 * s) if inside else 0.15 + 0.55 * s,
                zorder=2 if inside else 1, solid_capstyle="round")
    for kind, (_, _, marker) in TYPE_STYLE.items():
        members = [v for v in nodes if str(graph.nodes[v].get("network_type", "none")) == kind]
        if not members:
            continue
        xy = np.array([pos[v] for v in members])
        ax.scatter(xy[:, 0], xy[:, 1], s=[70 if v in marketing else 42 for v in members], marker=marker,
                   c=[colour[district[v]] for v in members],
                   edgecolors=["black" if v in marketing else "white" for v in members],
                   linewidths=[1.6 if v in marketing else 0.5 for v in members], zorder=3)
    if len(nodes) <= 80:
        for v in nodes:
            centre, _ = circles[district[v]]
            out = pos[v] - centre
            length = float(np.hypot(*out))
            dx, dy = (out / length) if length > 0 else (0.0, 1.0)
            ax.annotate(str(graph.nodes[v]["label"]), pos[v], xytext=(6 * dx, 6 * dy),
                        textcoords="offset points",
                        ha="left" if dx > 0.3 else "right" if dx < -0.3 else "center",
                        va="bottom" if dy > 0.3 else "top" if dy < -0.3 else "center",
                        fontsize=4.8, color="#222222", zorder=4)
    for d, (centre, radius) in circles.items():  # the district's name, outside its circle
        norm = float(np.hypot(*centre))
        direction = centre / norm if norm > 0 else np.array([0.0, 1.0])
        x, y = centre + direction * (radius + 0.2)
        ax.text(x, y, d, ha="center", va="center", fontsize=7.5, fontweight="bold", color="#111111",
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": colour[d], "lw": 1.5}, zorder=5)
    handles = [mlines.Line2D([], [], color="#777777", marker=m, linestyle="", markersize=6,
                             label=text(f"type.{k}", lang)) for k, (_, _, m) in TYPE_STYLE.items()]
    handles += [mlines.Line2D([], [], color="#333333", lw=0.4, alpha=0.3,
                              label=text("report.legend.weak_tie", lang)),
                mlines.Line2D([], [], color="#333333", lw=1.9, alpha=0.7,
                              label=text("report.legend.strong_tie", lang)),
                mlines.Line2D([], [], color=_MARKETING, lw=2, marker="o", markerfacecolor="white",
                              markeredgecolor="black", markeredgewidth=1.5,
                              label=text("report.legend.marketing", lang))]
    fig.legend(handles=handles, loc="outside upper center", ncols=3, frameon=False,  # fits in Thai too
               title=text("report.legend.snapshot", lang))
    reach = np.array([[*(c + sign * (r + 0.32))] for c, r in circles.values() for sign in (-1, 1)])
    ax.set_xlim(reach[:, 0].min(), reach[:, 0].max())
    ax.set_ylim(reach[:, 1].min(), reach[:, 1].max())
    ax.set_title(title)
    ax.set_aspect("equal")
    _warn(fig, warning)
    return fig
