"""The network as a picture: a layout that stays put, and what each group and tie looks like.

:func:`layout` places every group once, when a model is built: the districts on a circle,
each district's groups on a sunflower spiral around its centre (cooperatives first, then
their member groups, then the rest). Positions do not depend on the ties, so a new tie
never reshuffles the picture and a planner can follow a group from month to month.

:func:`draw` reads the model's state each month into a :class:`Picture`: groups coloured
by district; their shape says the type of network they are in (circle: none, square:
loose, triangle: structured, diamond: shared ideology); coordinators have a thick dark
ring; groups that did not join are small and grey; ties between participants are drawn
thicker and darker the stronger they are. :meth:`Picture.svg` renders it for the page
(each group carries a tooltip with its name, kind, district and state) and
:meth:`Picture.png` for a download, from the same data.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import numpy as np

from netsim.codes import NETWORK_TYPES
from netsim.i18n import text

if TYPE_CHECKING:
    from netsim.model import NetworkModel

__all__ = ["DISTRICT_COLOURS", "SHAPES", "Picture", "draw", "layout"]

#: District colours (Tableau 10, then its lighter shades), cycled for more districts.
DISTRICT_COLOURS: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)
#: The marker of each network type (SVG shape name, matplotlib marker).
SHAPES: dict[str, tuple[str, str]] = {
    "none": ("circle", "o"), "loose": ("square", "s"), "structured": ("triangle", "^"),
    "shared_ideology": ("diamond", "D"),
}
_GOLDEN = math.pi * (3 - math.sqrt(5))
_NON_PARTICIPANT = "#d0d0d0"


def layout(model: NetworkModel) -> np.ndarray:
    """Fixed positions of every group, in a unit box: shape ``(n, 2)``.

    Districts sit on a circle (one district: the centre); each district's groups fill a
    sunflower spiral around its centre, its cooperatives and their member groups first.
    """
    f = model.state.features
    n = len(f.district)
    districts = len(f.district_names)
    pos = np.zeros((n, 2))
    biggest = max(int(np.bincount(f.district, minlength=districts).max()) if n else 1, 1)
    # spiral spacing so that the largest district fits in its share of the circle
    ring = 0.0 if districts == 1 else 0.5 / (1 + 1 / math.sin(math.pi / districts))
    spacing = (ring if districts > 1 else 0.45) / math.sqrt(biggest)
    family = np.where(f.parent >= 0, f.parent, np.arange(n))
    for d in range(districts):
        angle = 2 * math.pi * d / districts - math.pi / 2
        centre = np.array([0.5, 0.5]) + (0.5 - ring) * np.array([math.cos(angle), math.sin(angle)]) \
            * (districts > 1)
        rows = np.flatnonzero(f.district == d)
        rows = rows[np.lexsort((rows, f.parent[rows] >= 0, family[rows]))]
        for i, row in enumerate(rows):
            r = spacing * math.sqrt(i + 0.5)
            pos[row] = centre + r * np.array([math.cos(i * _GOLDEN), math.sin(i * _GOLDEN)])
    return pos


@dataclass(frozen=True)
class Picture:
    """One month of the network, ready to render.

    Attributes:
        pos: (n, 2) positions in the unit box.
        colour: Fill colour of each group.
        shape: Network type of each group (a key of :data:`SHAPES`).
        participating: Whether each group takes part.
        coordinator: Whether each group coordinates its network.
        tip: Tooltip of each group (name, kind, district, state).
        tie_a: First ends of the ties drawn.
        tie_b: Second ends.
        tie_strength: Their strengths.
        tie_strong: Whether each is strong enough to link a network.
        legend: ``(label, colour)`` of each district.
        title: Words above the picture (the month).
    """

    pos: np.ndarray
    colour: tuple[str, ...]
    shape: tuple[str, ...]
    participating: np.ndarray
    coordinator: np.ndarray
    tip: tuple[str, ...]
    tie_a: np.ndarray
    tie_b: np.ndarray
    tie_strength: np.ndarray
    tie_strong: np.ndarray
    legend: tuple[tuple[str, str], ...]
    title: str

    def svg(self, *, size: int = 560) -> str:
        """The picture as an SVG element (a tooltip on each group)."""
        pad = 14
        scale = size - 2 * pad
        x = pad + self.pos[:, 0] * scale
        y = pad + self.pos[:, 1] * scale
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="100%" '
                 f'style="max-width:{size}px" class="netsim-network" role="img">',
                 f"<title>{escape(self.title)}</title>", '<g class="ties">']
        for a, b, s, strong in zip(self.tie_a, self.tie_b, self.tie_strength, self.tie_strong, strict=True):
            colour = "#404040" if strong else "#9a9a9a"
            parts.append(f'<line x1="{x[a]:.1f}" y1="{y[a]:.1f}" x2="{x[b]:.1f}" y2="{y[b]:.1f}" '
                         f'stroke="{colour}" stroke-width="{0.4 + 3.2 * s:.2f}" '
                         f'stroke-opacity="{0.25 + 0.6 * s:.2f}"/>')
        parts.append('</g><g class="groups">')
        for i in np.argsort(self.participating, kind="stable"):  # participants on top
            r = 7.0 if self.participating[i] else 4.0
            ring = ('stroke="#111" stroke-width="2.6"' if self.coordinator[i]
                    else 'stroke="#fff" stroke-width="1"')
            shape = _svg_shape(SHAPES[self.shape[i]][0], x[i], y[i], r)
            parts.append(f'<{shape} fill="{self.colour[i]}" {ring} data-row="{i}">'
                         f"<title>{escape(self.tip[i])}</title></{shape.split()[0]}>")
        parts.append("</g></svg>")
        return "".join(parts)

    def png(self, *, lang: str = "en", dpi: int = 120) -> bytes:
        """The picture as a PNG (matplotlib), with a legend of districts and network types."""
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D

        from netsim.i18n import use_fonts

        use_fonts(lang)
        fig = Figure(figsize=(7.5, 6.2), layout="constrained")
        ax = fig.add_subplot()
        for a, b, s, strong in zip(self.tie_a, self.tie_b, self.tie_strength, self.tie_strong, strict=True):
            ax.plot(self.pos[[a, b], 0], self.pos[[a, b], 1], color="#404040" if strong else "#9a9a9a",
                    lw=0.3 + 2.4 * s, alpha=0.25 + 0.6 * s, zorder=1)
        colour = np.array(self.colour, dtype=object)
        shape = np.array(self.shape, dtype=object)
        for kind, (_, marker) in SHAPES.items():
            for joined, size in ((False, 18), (True, 60)):
                rows = np.flatnonzero((shape == kind) & (self.participating == joined))
                if len(rows):
                    ax.scatter(self.pos[rows, 0], self.pos[rows, 1], s=size, marker=marker,
                               c=list(colour[rows]), zorder=2 + joined,
                               edgecolors=["#111" if c else "#fff" for c in self.coordinator[rows]],
                               linewidths=[1.8 if c else 0.5 for c in self.coordinator[rows]])
        ax.set_title(self.title)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(1.02, -0.02)
        ax.set_aspect("equal")
        ax.axis("off")
        handles = [Line2D([], [], marker="o", ls="", color=c, label=d) for d, c in self.legend]
        handles += [Line2D([], [], marker=m, ls="", color="#666", label=text(f"type.{k}", lang))
                    for k, (_, m) in SHAPES.items()]
        handles.append(Line2D([], [], marker="o", ls="", color="#fff", markeredgecolor="#111",
                              markeredgewidth=1.8, label=text("ui.coordinator", lang)))
        fig.legend(handles=handles, loc="outside right center", frameon=False, fontsize=8)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()


def _svg_shape(kind: str, x: float, y: float, r: float) -> str:
    if kind == "circle":
        return f'circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}"'
    if kind == "square":
        s = r * 0.9
        return f'rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}"'
    if kind == "triangle":
        h = r * 1.25
        pts = [(x, y - h), (x + h * 0.95, y + h * 0.7), (x - h * 0.95, y + h * 0.7)]
    else:  # diamond
        h = r * 1.3
        pts = [(x, y - h), (x + h, y), (x, y + h), (x - h, y)]
    return 'polygon points="' + " ".join(f"{px:.1f},{py:.1f}" for px, py in pts) + '"'


def draw(model: NetworkModel, pos: np.ndarray, *, lang: str = "en") -> Picture:
    """The :class:`Picture` of ``model`` this month, on the fixed positions ``pos`` (:func:`layout`)."""
    st = model.state
    f = st.features
    ties = st.ties
    joined = st.participating.astype(bool)
    between = joined[ties.a] & joined[ties.b]
    p = model.params.emergence
    # the coordinating group the model recorded for each network forum
    lead = np.zeros(st.n, bool)
    in_use = (st.forum_formed >= 0) & (st.forum_coordinator >= 0)
    lead[st.forum_coordinator[in_use]] = True
    lead &= joined & (st.network_id >= 0)
    palette = [DISTRICT_COLOURS[d % len(DISTRICT_COLOURS)] for d in range(len(f.district_names))]
    colour = tuple(palette[d] if j else _NON_PARTICIPANT for d, j in zip(f.district, joined, strict=True))
    types = tuple(NETWORK_TYPES[t] for t in st.network_type)
    tips = []
    for g in model.groups:
        state = (text(f"type.{g.network_type}", lang) if g.participating
                 else text("ui.not_participating", lang))
        name = g.name if g.name == g.group_id else f"{g.name} ({g.group_id})"  # the survey's name, if any
        tips.append(text("ui.group_tip", lang, name=name, kind=text(f"kind.{g.kind}", lang),
                         district=g.district, state=state, degree=g.degree, trust=g.trust,
                         inspiration=g.inspiration)
                    + ("\n" + text("ui.coordinator", lang) if lead[g.row] else ""))
    return Picture(pos=pos, colour=colour, shape=types, participating=joined, coordinator=lead,
                   tip=tuple(tips), tie_a=ties.a[between].copy(), tie_b=ties.b[between].copy(),
                   tie_strength=ties.strength[between].copy(),
                   tie_strong=ties.strength[between] >= p.tie_threshold,
                   legend=tuple(zip(f.district_names, palette, strict=True)),
                   title=text("ui.month_of", lang, month=model.month, months=model.params.run.months))
