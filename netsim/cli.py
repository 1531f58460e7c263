"""The ``netsim`` command: run scenarios, validate and list scenario files, make the population.

Every command is a thin layer over the package's functions. Bad input (a scenario or
groups file that cannot be used, an unknown ``--set`` key, a value out of range) prints
one message naming the file, key or row and what is allowed, and exits with code 2
before anything is written.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
import pandas as pd

from netsim.scenario import Scenario, ScenarioError, load_scenario, parse_assignment

__all__ = ["main"]

EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """Input that cannot be used: printed as one line, exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        """Print ``netsim: error: <message>`` on standard error."""
        click.echo(f"netsim: error: {self.format_message()}", err=True)


def _scenario(path: str, assignments: Iterable[str], months: int | None) -> Scenario:
    try:
        scenario = load_scenario(path)
        overrides = dict(parse_assignment(a) for a in assignments)
        if months is not None:
            overrides["run.months"] = months
        return scenario.with_overrides(overrides)
    except ScenarioError as e:
        raise BadInput(str(e)) from None


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out}: exists and is not a folder; --out needs a folder")
    parent = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if not os.access(parent, os.W_OK):
        raise BadInput(f"{out}: cannot write there (no permission)")


def write_atomic(path: Path, write: Any) -> None:
    """Write a file through a temporary file in the same folder, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_value(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="netsim")
def cli() -> None:
    """Simulate how community groups and cooperatives form alliance networks.

    Scenario files (TOML) say what the programme does: exchange forums, follow-up
    visits, lessons-learned reviews. Start with `netsim scenarios` and
    `netsim run scenarios/baseline.toml --seed 1`.
    """


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=True, path_type=str))
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the run.")
@click.option("--months", type=click.IntRange(min=0), default=None,
              help="Months to simulate (0 gives the starting state); default: the scenario's.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a parameter by its dotted key, e.g. --set forum.interval=2 (repeatable).")
@click.option("--groups", type=click.Path(path_type=Path), default=None,
              help="Groups file (CSV) to use instead of the scenario's population, e.g. your own survey.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder to write monthly.csv, groups.csv and run.json into.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the final month as one JSON object instead of a summary.")
def run(scenario: str, seed: int, months: int | None, assignments: tuple[str, ...],
        groups: Path | None, out: Path | None, as_json: bool) -> None:
    """Run one SCENARIO file once and summarise its final month."""
    from netsim.model import NetworkModel
    from netsim.provenance import provenance

    sc = _scenario(scenario, assignments, months)
    if out is not None:
        _check_out_dir(out)
    try:
        model = NetworkModel.from_scenario(sc, rng=seed, groups=groups)
    except ScenarioError as e:
        raise BadInput(str(e)) from None
    model.run_model()
    monthly = model.monthly_table()
    final = {k: _json_value(v) for k, v in monthly.tail(1).to_dict("records")[0].items()}
    if out is not None:
        record = provenance(sc, seed=seed, parameters=sc.params.flat(),
                            groups_file=str(groups) if groups else None)
        write_atomic(out / "monthly.csv", lambda p: monthly.to_csv(p, index=False))
        write_atomic(out / "groups.csv", lambda p: model.group_table().to_csv(p, index=False))
        write_atomic(out / "run.json", lambda p: p.write_text(json.dumps(record, indent=2, default=str)))
    if as_json:
        final = {"scenario": sc.name, "seed": seed, **final}
        click.echo(json.dumps(final))
    else:
        _print_summary(sc, seed, final, out)


_SUMMARY = (
    ("participants", "participating groups", "{:.0f}"),
    ("districts", "districts", "{:.0f}"),
    ("ties", "ties between participants", "{:.0f}"),
    ("mean_degree", "mean ties per group", "{:.1f}"),
    ("cross_district_tie_share", "share of ties across districts", "{:.0%}"),
    ("largest_cluster", "largest cluster (groups)", "{:.0f}"),
    ("loose", "loose networks", "{:.0f}"),
    ("structured", "structured networks", "{:.0f}"),
    ("shared_ideology", "structured networks with a shared ideology", "{:.0f}"),
    ("marketing_network_districts", "districts in the widest marketing network", "{:.0f}"),
    ("mean_trust", "mean trust in the team", "{:.2f}"),
    ("revised_plan_share", "groups that revised their plans", "{:.0%}"),
    ("goal_alignment", "goal alignment along ties", "{:.2f}"),
    ("value_alignment", "value alignment along ties", "{:.2f}"),
)


def _print_summary(sc: Scenario, seed: int, final: dict[str, Any], out: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{sc.name}, seed {seed}, month {final['month']}", title_justify="left")
    table.add_column("outcome")
    table.add_column("value", justify="right")
    for key, label, fmt in _SUMMARY:
        v = final.get(key)
        table.add_row(label, "n/a" if v is None else fmt.format(v))
    console = Console()
    console.print(f"[bold]{sc.question}[/bold]")
    console.print(table)
    if out is not None:
        console.print(f"Wrote {out}/monthly.csv, {out}/groups.csv and {out}/run.json")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def validate(files: tuple[str, ...]) -> None:
    """Check scenario FILES; print what is wrong with each (exit 2 if any is bad)."""
    bad = 0
    for f in files:
        try:
            sc = load_scenario(f)
        except ScenarioError as e:
            click.echo(f"netsim: error: {e}", err=True)
            bad += 1
        else:
            click.echo(f"{f}: ok ({sc.name})")
    if bad:
        sys.exit(EXIT_BAD_INPUT)


def _default_scenarios_dir() -> Path:
    here = Path.cwd() / "scenarios"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "scenarios"


@cli.command()
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None,
              help="Folder of scenario files (default: ./scenarios).")
def scenarios(folder: Path | None) -> None:
    """List the scenario files, each with the question it answers."""
    folder = folder or _default_scenarios_dir()
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such folder of scenarios")
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise BadInput(f"{folder}: no scenario files (*.toml) there")
    for f in files:
        try:
            sc = load_scenario(f)
        except ScenarioError as e:
            click.echo(f"{f.name}: INVALID: {e}")
            continue
        click.echo(f"{f.relative_to(folder.parent) if folder.parent != Path('.') else f}")
        click.echo(f"    {sc.question}")


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("calibration"), show_default=True,
              help="Folder to write population.csv and baseline_groups.csv into.")
@click.option("--seed", type=int, default=None, help="Seed (default: the one the shipped files use).")
def population(out: Path, seed: int | None) -> None:
    """Regenerate the study's synthetic population and the 54-group baseline."""
    from netsim.population import generate_baseline, generate_population

    _check_out_dir(out)
    pop = generate_population() if seed is None else generate_population(seed=seed)
    base = generate_baseline(pop)
    write_atomic(out / "population.csv", lambda p: pop.to_csv(p, index=False))
    write_atomic(out / "baseline_groups.csv", lambda p: base.to_csv(p, index=False))
    click.echo(f"Wrote {out}/population.csv ({len(pop)} groups) and "
               f"{out}/baseline_groups.csv ({len(base)} groups in {base['district'].nunique()} districts)")


def main() -> None:
    """Entry point of the ``netsim`` console script."""
    pd.set_option("mode.copy_on_write", True)
    cli(prog_name="netsim")


if __name__ == "__main__":
    main()
