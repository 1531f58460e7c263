"""The page's charts: the key outcomes month by month, and two plans' outcomes side by side.

:data:`CHARTS` says once which outputs each chart shows; the live charts are drawn as
small SVG line charts (:func:`line_chart_svg`: quick enough to redraw every month, and the
browser draws Thai with the system's fonts), and the download is the same charts drawn by
matplotlib (:func:`charts_png`, Thai fonts registered by :func:`netsim.i18n.use_fonts`).
:func:`compare_svg` shows the distributions of final-month outputs under two plans.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from netsim.i18n import output_label, text

__all__ = ["CHARTS", "Chart", "charts_png", "compare_svg", "line_chart_svg"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


@dataclass(frozen=True)
class Chart:
    """One live chart.

    Attributes:
        title: Key of its title (:func:`netsim.i18n.text`).
        outputs: The monthly outputs it draws (their words: :func:`netsim.i18n.output_label`).
        share: Whether the outputs are shares in [0, 1] (else counts from 0).
    """

    title: str
    outputs: tuple[str, ...]
    share: bool = True


#: The key outcomes shown while a run plays.
CHARTS: tuple[Chart, ...] = (
    Chart("ui.chart_networks", ("loose", "structured", "shared_ideology"), share=False),
    Chart("ui.chart_trust", ("mean_trust", "mean_inspiration")),
    Chart("ui.chart_alignment", ("goal_alignment", "value_alignment")),
    Chart("ui.chart_cross", ("cross_district_tie_share", "structured_share")),
)


def _top(chart: Chart, monthly: pd.DataFrame) -> float:
    if chart.share:
        return 1.0
    peak = float(np.nanmax(monthly[list(chart.outputs)].to_numpy(float))) if len(monthly) else 0.0
    return max(1.0, float(np.ceil(peak)))


def line_chart_svg(chart: Chart, monthly: pd.DataFrame, *, months: int, lang: str = "en",
                   width: int = 330, height: int = 200) -> str:
    """One chart of ``monthly`` (one row a month) as an SVG element, x from month 0 to ``months``."""
    left, right, top, bottom = 34, 8, 22, 20 + 12 * len(chart.outputs)
    w, h = width - left - right, height - top - bottom
    ymax = _top(chart, monthly)
    span = max(months, 1)

    def x(m: float) -> float:
        return left + w * m / span

    def y(v: float) -> float:
        return top + h * (1 - v / ymax)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
           f'style="max-width:{width}px" class="netsim-chart" role="img">',
           f'<text x="{left}" y="14" font-size="12" font-weight="bold">'
           f"{escape(text(chart.title, lang))}</text>",
           f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="#fafafa" stroke="#ccc"/>']
    for v in (0, ymax / 2, ymax):
        label = f"{v:g}" if not chart.share else f"{v:.1f}"
        out.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{label}</text>')
    for m in (0, span // 2, span):
        out.append(f'<text x="{x(m):.1f}" y="{top + h + 12}" font-size="10" text-anchor="middle">{m}</text>')
    months_seen = monthly["month"].to_numpy(float) if len(monthly) else np.empty(0)
    for i, name in enumerate(chart.outputs):
        colour = _COLOURS[i % len(_COLOURS)]
        values = monthly[name].to_numpy(float) if len(monthly) else np.empty(0)
        ok = ~np.isnan(values)
        points = " ".join(f"{x(m):.1f},{y(v):.1f}" for m, v in zip(months_seen[ok], values[ok], strict=True))
        if points:
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
            last = points.rsplit(" ", 1)[-1].split(",")
            out.append(f'<circle cx="{last[0]}" cy="{last[1]}" r="2.5" fill="{colour}"/>')
        lx = left
        ly = top + h + 24 + i * 12
        out.append(f'<rect x="{lx}" y="{ly - 7}" width="10" height="3" fill="{colour}"/>'
                   f'<text x="{lx + 13}" y="{ly}" font-size="9">'
                   f'{escape(output_label(name, lang))}</text>')
    out.append("</svg>")
    return "".join(out)


def charts_png(monthly: pd.DataFrame, *, months: int, lang: str = "en", title: str = "",
               dpi: int = 120) -> bytes:
    """Every chart of :data:`CHARTS` for one run, as one PNG (labelled axes, Thai fonts if needed)."""
    from matplotlib.figure import Figure

    from netsim.i18n import use_fonts

    use_fonts(lang)
    fig = Figure(figsize=(10, 7), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    for ax, chart in zip(axes, CHARTS, strict=True):
        for i, name in enumerate(chart.outputs):
            ax.plot(monthly["month"], monthly[name], color=_COLOURS[i % len(_COLOURS)], lw=2,
                    label=output_label(name, lang))
        ax.set_title(text(chart.title, lang))
        ax.set_xlim(0, max(months, 1))
        ax.set_ylim(0, _top(chart, monthly) * 1.02)
        ax.set_xlabel(text("ui.month", lang))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    if title:
        fig.suptitle(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def compare_svg(final: pd.DataFrame, outputs: Sequence[str], plans: Sequence[str], names: Sequence[str], *,
                lang: str = "en", width: int = 330, height: int = 150) -> list[str]:
    """Per output, the final-month values of every run under each plan, side by side (one SVG each).

    Args:
        final: One row per run (``scenario`` names its plan), with the outputs.
        outputs: The outputs, each a share in [0, 1].
        plans: The plans' scenario names, in the order drawn.
        names: What to call them on the chart.
        lang: Language of the words.
        width: Width of each chart, in pixels.
        height: Height of each chart, in pixels.
    """
    out = []
    left, top, bottom = 34, 22, 20
    h = height - top - bottom
    lane = (width - left - 8) / len(plans)
    for name in outputs:
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
                 f'style="max-width:{width}px" class="netsim-compare" role="img">',
                 f'<text x="{left}" y="14" font-size="12" font-weight="bold">'
                 f'{escape(output_label(name, lang))}</text>',
                 f'<rect x="{left}" y="{top}" width="{width - left - 8}" height="{h}" '
                 'fill="#fafafa" stroke="#ccc"/>']
        for v in (0.0, 0.5, 1.0):
            parts.append(f'<text x="{left - 4}" y="{top + h * (1 - v) + 4:.1f}" font-size="10" '
                         f'text-anchor="end">{v:.1f}</text>')
        for i, (plan, label) in enumerate(zip(plans, names, strict=True)):
            values = final.loc[final["scenario"] == plan, name].to_numpy(float)
            values = values[~np.isnan(values)]
            colour = _COLOURS[i % len(_COLOURS)]
            centre = left + lane * (i + 0.5)
            jitter = (np.arange(len(values)) % 7 - 3) * lane / 20
            for v, dx in zip(values, jitter, strict=True):
                parts.append(f'<circle cx="{centre + dx:.1f}" cy="{top + h * (1 - v):.1f}" r="2.5" '
                             f'fill="{colour}" fill-opacity="0.5"/>')
            if len(values):
                mean_y = top + h * (1 - float(values.mean()))
                parts.append(f'<line x1="{centre - lane / 4:.1f}" x2="{centre + lane / 4:.1f}" '
                             f'y1="{mean_y:.1f}" '
                             f'y2="{mean_y:.1f}" stroke="#111" stroke-width="2"/>')
            parts.append(f'<text x="{centre:.1f}" y="{height - 5}" font-size="10" text-anchor="middle">'
                         f"{escape(label)}</text>")
        parts.append("</svg>")
        out.append("".join(parts))
    return out
