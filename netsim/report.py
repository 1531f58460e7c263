"""Reports: charts and a comparison page from a batch's results folder.

``netsim report RESULTS`` reads the ``monthly`` table of a result store (one row per run
x month) and writes into ``RESULTS/report/``:

* ``outcomes.png`` / ``.svg``: the key outcomes month by month, one line per scenario (the
  mean over replicates) with a band holding the middle 95% of the runs;
* ``networks.png`` / ``.svg``: the networks of each type at the end, mean and 95%
  confidence interval of the mean, per scenario;
* ``comparison.csv`` and ``report.md`` / ``report.html``: for each scenario and outcome at
  the final month, the mean, a 95% bootstrap confidence interval of the mean, and against
  the reference scenario (``baseline`` if present) the effect size (Cliff's delta) and a
  two-sided Mann-Whitney U test, with Holm's correction over the comparisons.

Charts are drawn for print: labelled axes with units, a legend, no colour that carries
meaning alone (line styles differ too).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from netsim.measures import OUTPUT_TABLE, output
from netsim.store import write_bytes_atomic, write_csv

__all__ = ["KEY_OUTCOMES", "cliffs_delta", "compare", "holm", "write_report"]

#: Outcomes compared at the final month, with their labels and units (from the outputs table).
KEY_OUTCOMES: dict[str, tuple[str, str]] = {
    name: (output(name).label, output(name).unit)
    for name in ("structured_share", "loose", "structured", "shared_ideology", "marketing_network",
                 "cross_district_tie_share", "mean_trust", "goal_alignment", "value_alignment",
                 "participants")}
#: Outcomes drawn month by month.
TIME_SERIES = ("structured_share", "cross_district_tie_share", "mean_trust", "goal_alignment",
               "value_alignment", "ties")
_LABELS = {o.name: (o.label, o.unit) for o in OUTPUT_TABLE}
_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("", "o", "s", "^", "D", "v", "x", "+")


def cliffs_delta(x: np.ndarray, y: np.ndarray) -> float:
    """Cliff's delta: P(x > y) - P(x < y) over all pairs, in [-1, 1] (0: no difference).

    Example:
        >>> cliffs_delta(np.array([3, 4]), np.array([1, 2]))
        1.0
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) == 0 or len(y) == 0:
        return math.nan
    diff = np.sign(x[:, None] - y[None, :])
    return float(diff.mean())


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment of p-values for multiple comparisons (NaN kept)."""
    p = np.array(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok])]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[i]))
        out[i] = running
    return out.tolist()


def _bootstrap_ci(x: np.ndarray, rng: np.random.Generator, draws: int = 2000) -> tuple[float, float]:
    if len(x) < 2:
        return (math.nan, math.nan)
    means = rng.choice(x, (draws, len(x)), replace=True).mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def _run_label(df: pd.DataFrame) -> pd.Series:
    inputs = [c for c in df.columns if "." in c]  # sweep columns are dotted parameter keys
    if not inputs:
        return df["scenario"].astype(str)
    parts = [df["scenario"].astype(str)] + [c + "=" + df[c].astype(str) for c in inputs]
    out = parts[0]
    for p in parts[1:]:
        out = out + " " + p
    return out


@dataclass(frozen=True)
class Comparison:
    """The final-month comparison: one row per arm (scenario or sweep point) and outcome."""

    table: pd.DataFrame
    reference: str


def compare(monthly: pd.DataFrame, *, reference: str | None = None, seed: int = 0) -> Comparison:
    """Compare the arms of a batch at the final month.

    Args:
        monthly: The store's monthly table (scenario, replicate, month and the outputs).
        reference: The arm the others are compared with (default: ``baseline`` if present,
            else the first arm).
        seed: Seed of the bootstrap.
    """
    df = monthly.copy()
    df["arm"] = _run_label(df)
    final = df[df["month"] == df.groupby("arm")["month"].transform("max")]
    arms = list(dict.fromkeys(final["arm"]))
    if reference is None:
        reference = "baseline" if "baseline" in arms else arms[0]
    rng = np.random.default_rng(seed)
    rows = []
    for outcome in KEY_OUTCOMES:
        if outcome not in final:
            continue
        ref = final.loc[final["arm"] == reference, outcome].dropna().to_numpy(float)
        for arm in arms:
            x = final.loc[final["arm"] == arm, outcome].dropna().to_numpy(float)
            lo, hi = _bootstrap_ci(x, rng)
            row = {"arm": arm, "outcome": outcome, "runs": len(x), "mean": x.mean() if len(x) else math.nan,
                   "ci_low": lo, "ci_high": hi, "cliffs_delta": math.nan, "p_value": math.nan}
            if arm != reference and len(x) and len(ref):
                from scipy.stats import mannwhitneyu

                row["cliffs_delta"] = cliffs_delta(x, ref)
                same = np.unique(np.concatenate([x, ref])).size == 1
                row["p_value"] = 1.0 if same else float(mannwhitneyu(x, ref, alternative="two-sided").pvalue)
            rows.append(row)
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p_value"].tolist())
    return Comparison(table, reference)


def _plot_time_series(df: pd.DataFrame, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = [o for o in TIME_SERIES if o in df]
    cols = 2
    rows = math.ceil(len(outcomes) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(10, 3.2 * rows), squeeze=False, constrained_layout=True)
    arms = list(dict.fromkeys(df["arm"]))
    for ax, outcome in zip(axes.ravel(), outcomes, strict=False):
        for i, arm in enumerate(arms):
            g = df[df["arm"] == arm].groupby("month")[outcome]
            mean, lo, hi = g.mean(), g.quantile(0.025), g.quantile(0.975)
            style, marker = _STYLES[i % len(_STYLES)], _MARKERS[(i // len(_STYLES) + i) % len(_MARKERS)]
            (line,) = ax.plot(mean.index, mean.to_numpy(), style, marker=marker or None, markevery=6,
                              markersize=4, lw=1.6, label=arm)
            ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), alpha=0.15,
                            color=line.get_color(), lw=0)
        title, unit = _LABELS[outcome]
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("month")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(outcomes):]:
        ax.set_visible(False)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(arms)), fontsize=8,
               frameon=False)
    fig.suptitle("Outcomes by month: mean over replicates, band = middle 95% of runs", fontsize=11)
    paths = [out / "outcomes.png", out / "outcomes.svg"]
    for p in paths:
        write_bytes_atomic(p, lambda tmp, p=p: fig.savefig(tmp, format=p.suffix[1:], dpi=150))
    plt.close(fig)
    return paths


def _plot_networks(comparison: Comparison, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = comparison.table
    arms = list(dict.fromkeys(t["arm"]))
    kinds = [k for k in ("loose", "structured", "shared_ideology") if k in set(t["outcome"])]
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(arms) + 2), 4), constrained_layout=True)
    width = 0.8 / max(len(kinds), 1)
    hatches = ("", "//", "..")
    for j, kind in enumerate(kinds):
        sub = t[t["outcome"] == kind].set_index("arm").reindex(arms)
        x = np.arange(len(arms)) + (j - (len(kinds) - 1) / 2) * width
        err = np.vstack([sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]]).clip(min=0)
        ax.bar(x, sub["mean"], width, yerr=np.nan_to_num(err), capsize=3, label=KEY_OUTCOMES[kind][0],
               hatch=hatches[j], edgecolor="black", linewidth=0.5)
    ax.set_xticks(np.arange(len(arms)), arms, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("networks at the end (mean, 95% CI)")
    ax.set_title("Loose, structured and shared-ideology networks by scenario")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    paths = [out / "networks.png", out / "networks.svg"]
    for p in paths:
        write_bytes_atomic(p, lambda tmp, p=p: fig.savefig(tmp, format=p.suffix[1:], dpi=150))
    plt.close(fig)
    return paths


def _fmt(v: float, digits: int = 3) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}g}"


def _markdown(c: Comparison, charts: list[str], title: str) -> str:
    lines = [f"# {title}", "",
             f"Final month of each run. Mean over replicates with a 95% bootstrap confidence "
             f"interval of the mean; against `{c.reference}`: Cliff's delta (-1 to 1, 0 = no "
             "difference) and a two-sided Mann-Whitney U test, p-values Holm-adjusted over "
             "all comparisons.", ""]
    for name in charts:
        lines += [f"![{name}]({name})", ""]
    for outcome, (label, unit) in KEY_OUTCOMES.items():
        sub = c.table[c.table["outcome"] == outcome]
        if sub.empty:
            continue
        lines += [f"## {label} ({unit})", "",
                  "| scenario | runs | mean | 95% CI | Cliff's delta | p (Holm) |",
                  "|---|---:|---:|---|---:|---:|"]
        for _, r in sub.iterrows():
            ci = f"{_fmt(r.ci_low)} to {_fmt(r.ci_high)}" if not math.isnan(r.ci_low) else ""
            lines.append(f"| {r.arm} | {r.runs} | {_fmt(r['mean'])} | {ci} | {_fmt(r.cliffs_delta, 2)} "
                         f"| {_fmt(r.p_holm, 2)} |")
        lines.append("")
    return "\n".join(lines)


def _html(markdown_text: str, title: str) -> str:
    body = []
    in_table = False
    for line in markdown_text.splitlines():
        if line.startswith("|"):
            cells = [html.escape(x.strip()) for x in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-:"):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{x}</th>" for x in cells) + "</tr>")
            else:
                body.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("!["):
            src = line[line.index("(") + 1:-1]
            src = html.escape(src)
            body.append(f'<p><img src="{src}" alt="{src}" style="max-width:100%"></p>')
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        body.append("</table>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#111}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.2em .6em;"
             "text-align:right}td:first-child,th:first-child{text-align:left}")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>")


def write_report(monthly: pd.DataFrame, out: Path, *, title: str = "netsim report",
                 reference: str | None = None) -> list[Path]:
    """Write the charts, the comparison table and the report page into ``out``.

    Returns:
        The files written.
    """
    out.mkdir(parents=True, exist_ok=True)
    df = monthly.copy()
    df["arm"] = _run_label(df)
    comparison = compare(monthly, reference=reference)
    written = _plot_time_series(df, out) + _plot_networks(comparison, out)
    text = _markdown(comparison, ["outcomes.png", "networks.png"], title)
    for name, content in (("comparison.csv", None), ("report.md", text), ("report.html", _html(text, title))):
        path = out / name
        if content is None:
            write_csv(path, comparison.table)
        else:
            write_bytes_atomic(path, lambda p, c=content: p.write_text(c, encoding="utf-8"))
        written.append(path)
    return written
