"""The ``netsim`` command: run scenarios, validate and list scenario files, make the population.

Every command is a thin layer over the package's functions. Bad input (a scenario or
groups file that cannot be used, an unknown ``--set`` key, a value out of range) prints
one message naming the file, key or row and what is allowed, and exits with code 2
before anything is written.

Start-up is kept short (``netsim --help`` in well under a second): this module imports
only click and the standard library, and each command imports what it needs when it runs.
``netsim validate`` and ``netsim scenarios`` import the scenario schema (pydantic), not
the model (Mesa, numba, pandas).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from netsim.store import write_bytes_atomic, write_csv

if TYPE_CHECKING:
    from netsim.scenario import Scenario

__all__ = ["main"]

EXIT_BAD_INPUT = 2


def _one_line(problem: str) -> str:
    """``problem`` as one line: control characters from a user's file (CR, LF, tab) shown escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in problem)


class BadInput(click.ClickException):
    """Input that cannot be used: one line ``netsim: error: ...`` per problem, exit code 2.

    Args:
        problems: What is wrong, one problem each (a file's or value's own control
            characters are printed escaped, so a problem is always one line).
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    @classmethod
    def of(cls, error: Exception) -> BadInput:
        """The problems of ``error``: each of a ``ScenarioError``'s (its ``errors``), else its message."""
        errors = getattr(error, "errors", None)
        return cls(*errors) if isinstance(errors, list) and errors else cls(str(error))

    def show(self, file: Any = None) -> None:
        """Print ``netsim: error: <problem>`` on standard error, one line per problem."""
        for problem in self.problems:
            click.echo(f"netsim: error: {_one_line(problem)}", err=True)


def _scenario(path: str, assignments: Iterable[str], months: int | None) -> Scenario:
    from netsim.scenario import ScenarioError, load_scenario, parse_assignment

    try:
        scenario = load_scenario(path)
        overrides = dict(parse_assignment(a) for a in assignments)
        if months is not None:
            overrides["run.months"] = months
        scenario = scenario.with_overrides(overrides)
    except ScenarioError as e:
        raise BadInput.of(e) from None
    if "population.groups_file" in overrides and scenario.params.population.synthetic_groups == 0:
        groups = scenario.resolve(scenario.params.population.groups_file)
        if not groups.is_file():  # named here, where the value came from, not later by the model
            what = "is a folder" if groups.is_dir() else "no such file"
            raise BadInput(f"--set: key 'population.groups_file': {groups}: {what}; a groups file (.csv) "
                           "is needed")
    return scenario


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out}: exists and is not a folder; --out needs a folder")
    parent = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if not os.access(parent, os.W_OK):
        raise BadInput(f"{out}: cannot write there (no permission)")


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
    from netsim.scenario import ScenarioError

    sc = _scenario(scenario, assignments, months)
    if out is not None:
        _check_out_dir(out)
    try:
        model = NetworkModel.from_scenario(sc, rng=seed, groups=groups)
    except ScenarioError as e:
        raise BadInput.of(e) from None
    model.run_model()
    monthly = model.monthly_table()
    final = {k: _json_value(v) for k, v in monthly.tail(1).to_dict("records")[0].items()}
    if out is not None:
        record = provenance(sc, seed=seed, parameters=sc.params.flat(),
                            groups_file=str(groups) if groups else None)
        write_csv(out / "monthly.csv", monthly)
        write_csv(out / "groups.csv", model.group_table())
        write_bytes_atomic(out / "run.json", json.dumps(record, indent=2, default=str).encode("utf-8"))
    if as_json:
        final = {"scenario": sc.name, "seed": seed, **final}
        click.echo(json.dumps(final))
    else:
        _print_summary(sc, seed, final, out)


#: Outputs the run summary shows (labels and formats from netsim.measures.OUTPUT_TABLE).
_SUMMARY = ("participants", "districts", "ties", "mean_degree", "cross_district_tie_share",
            "largest_cluster", "loose", "structured", "shared_ideology", "marketing_network_districts",
            "mean_trust", "revised_plan_share", "goal_alignment", "value_alignment")


def _print_summary(sc: Scenario, seed: int, final: dict[str, Any], out: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{sc.name}, seed {seed}, month {final['month']}", title_justify="left")
    table.add_column("outcome")
    table.add_column("value", justify="right")
    from netsim.measures import output

    for name in _SUMMARY:
        o, v = output(name), final.get(name)
        table.add_row(o.label, "n/a" if v is None else o.format.format(v))
    console = Console()
    console.print(f"[bold]{sc.question}[/bold]")
    console.print(table)
    if out is not None:
        console.print(f"Wrote {out}/monthly.csv, {out}/groups.csv and {out}/run.json")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def validate(files: tuple[str, ...]) -> None:
    """Check scenario FILES; print everything wrong with each (exit 2 if any is bad)."""
    from netsim.scenario import ScenarioError, load_scenario

    bad = 0
    for f in files:
        try:
            sc = load_scenario(f)
            if sc.params.population.synthetic_groups == 0:  # the data file it would read
                groups = sc.resolve(sc.params.population.groups_file)
                if not groups.is_file():
                    raise ScenarioError(f"{f}: key 'population.groups_file': {groups}: no such file")
        except ScenarioError as e:
            for line in e.errors:
                click.echo(f"netsim: error: {_one_line(line)}", err=True)
            bad += 1
        else:
            click.echo(f"{f}: ok ({sc.name})")
    if bad:
        sys.exit(EXIT_BAD_INPUT)


def _default_scenarios_dir() -> Path:
    from netsim.scenario import SHIPPED_SCENARIOS

    here = Path.cwd() / "scenarios"
    if here.is_dir():
        return here
    return SHIPPED_SCENARIOS


@cli.command()
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None,
              help="Folder of scenario files (default: ./scenarios).")
def scenarios(folder: Path | None) -> None:
    """List the scenario files, each with the question it answers."""
    from netsim.scenario import ScenarioError, load_scenario

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
@click.option("--seed", type=int, default=None,
              help="Seed, as population.seed (default: the schema's, which the shipped files use).")
def population(out: Path, seed: int | None) -> None:
    """Regenerate the study's synthetic population and the 54-group baseline."""
    from netsim.population import STUDY_SEED, generate_baseline, generate_population
    from netsim.processes.recruitment import default_join_probability

    _check_out_dir(out)
    pop = generate_population(seed=STUDY_SEED if seed is None else seed)
    base = generate_baseline(pop, default_join_probability)
    write_csv(out / "population.csv", pop)
    write_csv(out / "baseline_groups.csv", base)
    click.echo(f"Wrote {out}/population.csv ({len(pop)} groups) and "
               f"{out}/baseline_groups.csv ({len(base)} groups in {base['district'].nunique()} districts)")


@cli.command()
@click.argument("source", metavar="SCENARIO|RESULTS", type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["graphml", "gexf", "csv"]), required=True,
              help="graphml or gexf (networkx, Gephi), or csv (OUT-nodes.csv and OUT-edges.csv).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="File to write.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the run (SCENARIO).")
@click.option("--month", type=click.IntRange(min=0), default=None,
              help="Month whose network is exported (SCENARIO; default: the scenario's last).")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a parameter (SCENARIO; repeatable).")
@click.option("--groups", type=click.Path(path_type=Path), default=None,
              help="Groups file (CSV) instead of the scenario's population (SCENARIO).")
@click.option("--run", "run_id", default=None,
              help="The run to export from a RESULTS folder of `netsim batch --keep-ties` (its run_id).")
def export(source: str, fmt: str, out: Path, seed: int, month: int | None, assignments: tuple[str, ...],
           groups: Path | None, run_id: str | None) -> None:
    """Export the network of ties between participants (GraphML, GEXF or CSV).

    From a SCENARIO file: run it (seed, month, --set, --groups as for `netsim run`) and
    export the network of its last month. From a RESULTS folder of a batch run with
    --keep-ties: export the final network of the stored run --run RUN_ID.
    """
    from netsim.export import csv_paths, network_graph, write_network

    targets = list(csv_paths(out)) if fmt == "csv" else [out]
    for target in targets:
        if target.is_dir():
            raise BadInput(f"{target}: is a folder; --out names the file to write")
        _check_out_dir(target.parent if str(target.parent) else Path("."))
    if Path(source).is_dir():
        group_table, ties = _stored_network(Path(source), run_id)
    else:
        if run_id is not None:
            raise BadInput(f"--run {run_id}: only for a RESULTS folder; {source} is a scenario file")
        from netsim.model import NetworkModel
        from netsim.scenario import ScenarioError

        sc = _scenario(source, assignments, month)
        try:
            model = NetworkModel.from_scenario(sc, rng=seed, groups=groups)
        except ScenarioError as e:
            raise BadInput.of(e) from None
        model.run_model()
        group_table, ties = model.group_table(), model.tie_table()
    graph = network_graph(group_table, ties)
    for path in write_network(graph, out, fmt):
        click.echo(f"wrote {path} ({graph.number_of_nodes()} groups, {graph.number_of_edges()} ties)")


def _stored_network(results: Path, run_id: str | None) -> tuple[Any, Any]:
    """The final group table and ties of one stored run of a batch."""
    from netsim.store import MANIFEST, ResultStore

    if not (results / MANIFEST).is_file():
        raise BadInput(f"{results}: not a results folder of `netsim batch` (no {MANIFEST})")
    store = ResultStore(results)
    ties = store.read("ties")
    if ties.empty:
        raise BadInput(f"{results}: the batch kept no ties; run it with `netsim batch ... --keep-ties` "
                       "(or export from a scenario file)")
    runs = list(dict.fromkeys(ties["run_id"]))
    if run_id is None or run_id not in runs:
        what = "--run is needed" if run_id is None else f"--run {run_id}: no such run with ties"
        raise BadInput(f"{results}: {what}; runs with ties include {', '.join(runs[:5])}"
                       f"{' ...' if len(runs) > 5 else ''} (the run_id column of runs/ and of the "
                       "report's snapshot table)")
    group_table = store.read("groups")
    group_table = group_table[group_table["run_id"] == run_id]
    return group_table, ties[ties["run_id"] == run_id]


# -- batches, sensitivity, scenario discovery (netsim/batch.py, sensitivity.py, discovery.py) --

EXIT_INTERRUPTED = 130


@cli.command()
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder to write the report into (default: RESULTS/report).")
@click.option("--format", "formats", default="png,svg", show_default=True, metavar="png,svg,pdf",
              help="Chart formats, comma-separated (SVG and PDF keep their text as text).")
@click.option("--dpi", type=click.IntRange(min=50, max=1200), default=300, show_default=True,
              help="Resolution of PNG charts.")
@click.option("--reference", default=None,
              help="Arm the others are compared with: a scenario, or a sweep point as KEY=VALUE "
                   "(e.g. 'forum.interval=4' or 'baseline forum.interval=4'); default: baseline.")
@click.option("--lang", type=click.Choice(["en", "th"]), default="en", show_default=True,
              help="Language of the charts and the page.")
@click.option("--title", default=None, help="Title of the report page.")
@click.option("--other-version", type=click.Choice(["refuse", "accept"]), default="refuse", show_default=True,
              help="If RESULTS were made by another version of the model: refuse (exit 2), or accept "
                   "and report them all the same.")
@click.option("--partial", is_flag=True,
              help="Report on a batch that is incomplete or still running (every chart and the page "
                   "say so); without it such a batch is refused.")
def report(results: Path, out: Path | None, formats: str, dpi: int, reference: str | None, lang: str,
           title: str | None, other_version: str, partial: bool) -> None:
    """Turn a batch's RESULTS folder into charts, tables and a page (report.html, report.md)."""
    from netsim.charts import FORMATS
    from netsim.report import ReportError, read_batch, write_report

    chosen = [f.strip().lower() for f in formats.split(",") if f.strip()]
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise BadInput(f"--format {formats!r}: give one or more of {', '.join(FORMATS)}, comma-separated")
    out = out or results / "report"
    _check_out_dir(out)
    if (results / "monthly").is_dir():
        _check_model_version(results, other_version, remedy="--other-version accept to report them all the "
                             "same, or run the batch again with this version (--other-version restart)")
    try:
        batch = read_batch(results)
        written = write_report(batch, out, formats=list(dict.fromkeys(chosen)), dpi=dpi, reference=reference,
                               lang=lang, title=title, partial=partial)
    except ReportError as e:
        raise BadInput.of(e) from None
    why = batch.incomplete()
    if why:
        click.echo(f"netsim: warning: {why}; the report says so on every chart and page", err=True)
    for path in written:
        click.echo(f"wrote {path}")


def _check_model_version(results: Path, other_version: str, *, remedy: str) -> bool:
    """Refuse (exit 2) a results folder made by another model version, unless accepted.

    Returns:
        True if the folder holds another version's results and ``other_version`` is
        ``restart`` (the caller moves them aside), else False.
    """
    from netsim.store import OtherVersionError, ResultStore, StoreError
    from netsim.version import model_version

    try:
        ResultStore(results).check_version(model_version(), accept=other_version == "accept")
    except OtherVersionError as e:
        if other_version == "restart":
            return True
        raise BadInput(f"{e}. Give {remedy}") from None
    except StoreError as e:
        raise BadInput.of(e) from None
    return False


def _engine_options(f: Any) -> Any:
    """The options every command that runs a batch shares: where and how to run it."""
    f = click.option("--other-version", type=click.Choice(["refuse", "accept", "restart"]), default="refuse",
                     show_default=True,
                     help="If --out holds results of another version of the model: refuse (exit 2); "
                          "accept and add to them (each session records its version); or restart: "
                          "move them aside to OUT.model-VERSION and run afresh.")(f)
    f = click.option("--quiet", is_flag=True, help="No progress bar.")(f)
    f = click.option("--chunk", type=int, default=None,
                     help="Runs sent to a worker as one task and stored as one file part "
                          "(default: about 16 tasks per worker, 10 to 200 runs each).")(f)
    f = click.option("--dask", default=None, metavar="local|tcp://HOST:PORT",
                     help="Run on Dask: 'local' starts a LocalCluster of --workers processes; "
                          "tcp://HOST:PORT uses a running `dask scheduler`.")(f)
    f = click.option("--workers", type=int, default=os.cpu_count() or 1, show_default=True,
                     help="Worker processes (1 runs in this process).")(f)
    f = click.option("--seed", type=int, default=1, show_default=True,
                     help="Base seed; each run's seed is drawn from it and the run's identity.")(f)
    f = click.option("--months", type=click.IntRange(min=0), default=None,
                     help="Months to simulate; default: each scenario's.")(f)
    f = click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
                     help="Override a parameter in every scenario (repeatable).")(f)
    return f


def _prepare(plan: Any, out: Path, workers: int, dask: str | None, chunk: int | None,
             other_version: str = "refuse") -> tuple[Any, Any]:
    """Check everything that can be checked before writing; return the store and the engine.

    A folder of another model version's results is refused, accepted, or (``restart``)
    moved aside once everything else has been checked.
    """
    from netsim.batch import BatchError, RunContext
    from netsim.engines import make_engine
    from netsim.store import ResultStore, StoreError

    if chunk is not None and chunk < 1:
        raise BadInput(f"--chunk must be 1 or more (got {chunk})")
    _check_out_dir(out)
    store = ResultStore(out)
    stale = _check_model_version(out, other_version, remedy="--other-version restart to move them aside "
                                 "and run afresh, --other-version accept to add to them all the same, or "
                                 "another --out folder")
    try:
        if not stale:
            store.check_plan(plan.record())
        context = RunContext.for_plan(plan)
        engine = make_engine(context, workers=workers, dask=dask)
        if stale:
            moved = store.move_aside()
            click.echo(f"netsim: {out} held results of another model version; moved them to {moved}, "
                       "running afresh", err=True)
    except (BatchError, StoreError) as e:
        raise BadInput.of(e) from None
    return store, engine


def _execute(plan: Any, store: Any, engine: Any, chunk: int | None, quiet: bool,
             other_version: str = "refuse") -> Any:
    """Run a plan with a progress bar; Ctrl-C leaves the store consistent and exits 130."""
    from netsim.batch import progress_bar, run_batch
    from netsim.store import StoreError

    try:
        with progress_bar(enabled=not quiet) as bar:
            return run_batch(plan, store, engine, chunk=chunk, on_start=bar["start"], on_chunk=bar["chunk"],
                             accept_other_version=other_version == "accept")
    except StoreError as e:
        raise BadInput.of(e) from None
    except OSError as e:  # e.g. the disk filled up: what was stored is whole, the rest can resume
        click.echo(f"netsim: error: cannot write results in {store.path}: {e}. What finished is stored; "
                   "run the same command again to resume.", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo(f"netsim: interrupted; what finished is stored in {store.path}. Run the same command "
                   "again to resume.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        engine.close()


def _report_failures(outcome: Any) -> None:
    if not outcome.failures:
        return
    n = len(outcome.failures)
    click.echo(f"netsim: {n} run{'s' if n > 1 else ''} failed (recorded in runs/ with error and seed):",
               err=True)
    for f in outcome.failures[:20]:
        click.echo(f"  {f['label']} (seed {f['seed']}): {f['error']}", err=True)
    if n > 20:
        click.echo(f"  ... and {n - 20} more", err=True)
    sys.exit(1)


@cli.command()
@click.argument("scenario_files", metavar="SCENARIO...", nargs=-1, required=True, type=str)
@click.option("--replicates", type=int, default=1, show_default=True,
              help="Runs of each scenario x sweep point, each with its own seed.")
@click.option("--sweep", "sweeps", multiple=True, metavar="KEY=V1,V2,...|KEY=LO:HI:STEPS",
              help="Values of a parameter to run (repeatable: every combination is run). "
                   "LO:HI:STEPS gives STEPS evenly spaced values.")
@click.option("--posterior", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="Draw each replicate's calibrated parameters from this posterior (e.g. "
                   "calibration/posterior.csv), seeded: results carry parameter uncertainty as well as "
                   "chance.")
@click.option("--population-seeds", "populations", type=int, default=0, show_default=True, metavar="N",
              help="An ensemble of N synthetic draws of the study's population: replicate r runs "
                   "on draw r mod N (population.seed from SeedSequence of --seed), the same draw "
                   "in every scenario and sweep point. 0: each scenario's own population.seed.")
@click.option("--groups-every", type=int, default=0, show_default=True, metavar="N",
              help="Store the per-group table every N months (and the last); 0: the last month only.")
@_engine_options
@click.option("--out", type=click.Path(path_type=Path), default=Path("results/batch"), show_default=True,
              help="Results folder; the same command run again on it resumes the batch.")
@click.option("--keep-ties", is_flag=True,
              help="Also store each run's final ties (the ties/ table): network snapshots in the "
                   "report, and `netsim export` of stored runs.")
def batch(scenario_files: tuple[str, ...], replicates: int, sweeps: tuple[str, ...], posterior: Path | None,
          populations: int, groups_every: int,
          assignments: tuple[str, ...], months: int | None, seed: int, workers: int, dask: str | None,
          chunk: int | None, quiet: bool, other_version: str, out: Path, keep_ties: bool) -> None:
    """Run every SCENARIO x sweep point x replicate into a results folder.

    The folder holds Parquet tables (monthly/, groups/, runs/; ties/ with --keep-ties) and
    manifest.json. Each
    chunk of runs is written atomically; a batch that is stopped (Ctrl-C, kill -9) resumes
    when the same command is run again, with every run stored exactly once. A run that
    raises is recorded with its error and seed, and the command exits 1 at the end.
    """
    from rich.console import Console
    from rich.table import Table

    from netsim.batch import SUMMARY_CAPTION, BatchError, make_plan, parse_sweep, summarise, summary_rows
    from netsim.scenario import ScenarioError

    scs = [_scenario(p, assignments, months) for p in scenario_files]
    try:
        drawn = None
        if posterior is not None:
            from netsim.calibration import read_posterior

            drawn = (str(posterior), read_posterior(posterior))
        plan = make_plan(scs, sweeps=[parse_sweep(s) for s in sweeps], replicates=replicates, seed=seed,
                         posterior=drawn, populations=populations, groups_every=groups_every,
                         keep_ties=keep_ties)
    except (BatchError, ScenarioError) as e:
        raise BadInput.of(e) from None
    store, engine = _prepare(plan, out, workers, dask, chunk, other_version)
    outcome = _execute(plan, store, engine, chunk, quiet, other_version)
    heads, rows = summary_rows(summarise(store))
    caption = SUMMARY_CAPTION
    if plan.posterior is not None:
        caption += (f" Each replicate's calibrated parameters are drawn from {plan.posterior.file} "
                    "(the manifest lists the draws).")
    table = Table(title=f"{len(plan.runs)} runs in {out} ({outcome.ran} now, {outcome.already} before; "
                        f"{engine.name})", title_justify="left", caption=caption,
                  caption_justify="left")
    for h in heads:
        table.add_column(h, justify="left" if h == "scenario" else "right", no_wrap=h == "scenario")
    for r in rows:
        table.add_row(*r)
    console = Console()
    if not console.is_terminal:
        console.width = 140
    console.print(table)
    _report_failures(outcome)


@cli.command()
@click.argument("scenario_file", metavar="SCENARIO", type=str)
@click.option("--method", type=click.Choice(["morris", "sobol"]), required=True,
              help="Morris elementary effects (screening) or Sobol variance indices.")
@click.option("--samples", type=int, required=True,
              help="Morris: trajectories (runs = samples x (params + 1)). Sobol: base samples, a power "
                   "of 2 (runs = samples x (params + 2)).")
@click.option("--params", default=None, metavar="KEY,KEY,...",
              help="Parameters to vary over their declared ranges; default: every intervention and "
                   "mechanism parameter with a plausible span (not run.*, start/end months or the "
                   "outcome-defining thresholds).")
@click.option("--thresholds", is_flag=True,
              help="Add the outcome-defining thresholds (emergence.*) to the default parameters.")
@click.option("--output", "outputs", multiple=True, metavar="NAME",
              help="Model output at the final month to analyse (repeatable); default: "
                   "structured_share and cross_district_tie_share.")
@click.option("--replicates", type=int, default=1, show_default=True,
              help="Runs averaged at each sample point.")
@click.option("--levels", type=int, default=4, show_default=True, help="Morris grid levels.")
@_engine_options
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for the runs (resumable), indices.csv and sensitivity.png/.svg.")
def sensitivity(scenario_file: str, method: str, samples: int, params: str | None, thresholds: bool,
                outputs: tuple[str, ...], replicates: int, levels: int, assignments: tuple[str, ...],
                months: int | None, seed: int, workers: int, dask: str | None, chunk: int | None, quiet: bool,
                other_version: str, out: Path) -> None:
    """Global sensitivity of outputs to parameters, with SALib, over the schema's ranges.

    The points of each Morris trajectory (or Sobol block) share their random numbers, and a
    dummy parameter that moves only the random numbers gives the noise floor: an index that
    does not clear it cannot be told from chance.
    """
    from netsim import sensitivity as sa
    from netsim.batch import BatchError
    from netsim.store import ResultStore

    sc = _scenario(scenario_file, assignments, months)
    try:
        specs = sa.select_params([p.strip() for p in params.split(",")] if params else None,
                                 thresholds=thresholds)
        names = sa.check_outputs(outputs)
        X = sa.design(specs, method, samples=samples, seed=seed, levels=levels)
        plan = sa.plan(sc, specs, X, method=method, samples=samples, replicates=replicates, seed=seed,
                       levels=levels)
    except BatchError as e:
        raise BadInput.of(e) from None
    store, engine = _prepare(plan, out, workers, dask, chunk, other_version)
    outcome = _execute(plan, store, engine, chunk, quiet, other_version)
    Y, missing = sa.responses(ResultStore(out), plan, names)
    if missing:
        click.echo(f"netsim: {missing} missing responses (failed runs or undefined outputs) were "
                   "filled with the output's mean", err=True)
    indices = sa.analyse(specs, method, X, Y, names, levels=levels, seed=seed)
    fig = sa.chart(indices, method, title=f"{method.capitalize()} sensitivity of {sc.name} "
                                          f"({len(X)} evaluations, {len(plan.runs)} runs)")
    write_csv(out / "indices.csv", indices)
    write_bytes_atomic(out / "sensitivity.png", lambda p: fig.savefig(p, format="png", dpi=150))
    write_bytes_atomic(out / "sensitivity.svg", lambda p: fig.savefig(p, format="svg"))
    written = ["indices.csv", "sensitivity.png/.svg"]
    if method == "morris":
        plane = sa.mu_sigma_chart(indices, title=f"Morris μ*-σ of {sc.name} ({len(X)} evaluations)")
        write_bytes_atomic(out / "mu_sigma.png", lambda p: plane.savefig(p, format="png", dpi=150))
        write_bytes_atomic(out / "mu_sigma.svg", lambda p: plane.savefig(p, format="svg"))
        written.append("mu_sigma.png/.svg")
    key = "mu_star" if method == "morris" else "ST"
    for name in names:
        d = indices[indices["output"] == name]
        above = d[d["above_noise"]].sort_values(key, ascending=False)
        click.echo(f"{name}: noise floor (the dummy's {key}) {d['noise_floor'].iloc[0]:.3g}; above it: "
                   + (", ".join(f"{r.parameter} {getattr(r, key):.3g}" for r in above.head(8).itertuples())
                      or "none"))
    for line in sa.doubts(indices, method):
        click.echo(f"netsim: warning: {line}", err=True)
    click.echo(f"Wrote {', '.join(f'{out}/{w}' for w in written)} ({key} per parameter)")
    _report_failures(outcome)


def _generation_line(g: Any) -> str:
    eps = "from the prior" if not math.isfinite(g.epsilon) or g.epsilon >= 1e8 else f"epsilon {g.epsilon:.3g}"
    rate = g.accepted / g.evaluated if g.evaluated else float("nan")
    return (f"generation {g.t}: {eps}, accepted {g.accepted} of {g.evaluated} ({rate:.1%}), "
            f"{g.simulations} simulations, {g.seconds:.1f} s")


@cli.command()
@click.option("--targets", "targets_file", type=click.Path(path_type=Path),
              default=Path("calibration/targets.toml"), show_default=True,
              help="Targets file: the patterns' statistics with their bands, and the free parameters' "
                   "priors.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("calibration"), show_default=True,
              help="Folder for posterior.csv and calibrated.toml (and the --check and --recover files).")
@click.option("--db", type=click.Path(path_type=Path), default=None,
              help="SQLite database of the calibration (pyabc's History); default: OUT/calibration.db.")
@click.option("--particles", type=int, default=500, show_default=True, help="Particles per generation.")
@click.option("--generations", type=int, default=12, show_default=True,
              help="Most generations (the first is drawn from the prior).")
@click.option("--kernel-scale", type=float, default=2.0, show_default=True,
              help="Width of the perturbation kernel, times its Silverman bandwidth (wider: fewer "
                   "accepted, evener weights).")
@click.option("--budget", type=int, default=50_000, show_default=True,
              help="Most simulations in all (checked after each generation).")
@click.option("--min-acceptance", type=float, default=0.01, show_default=True,
              help="Stop after a generation whose acceptance rate is below this.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed: the same seed gives the same posterior, whatever the workers or engine.")
@click.option("--workers", type=int, default=os.cpu_count() or 1, show_default=True,
              help="Worker processes (1 runs in this process).")
@click.option("--dask", default=None, metavar="local|tcp://HOST:PORT",
              help="Run the simulations on Dask: 'local' or a running scheduler's address.")
@click.option("--resume", is_flag=True, help="Continue the calibration in --db after an interruption.")
@click.option("--fresh", is_flag=True, help="Replace the database in --db if there is one.")
@click.option("--check", "do_check", is_flag=True,
              help="Posterior predictive check of OUT/posterior.csv beside the prior predictive one, instead "
                   "of calibrating.")
@click.option("--draws", type=click.IntRange(min=1), default=500, show_default=True,
              help="--check: parameter sets drawn from the prior and from the posterior.")
@click.option("--recover", type=click.IntRange(min=1), default=None, metavar="K",
              help="Parameter recovery instead of calibrating: calibrate against patterns simulated from K "
                   "known parameter sets and report whether each 90%% interval covers its truth.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def calibrate(targets_file: Path, out: Path, db: Path | None, particles: int, generations: int,
              kernel_scale: float, budget: int, min_acceptance: float, seed: int, workers: int,
              dask: str | None, resume: bool, fresh: bool, do_check: bool,
              draws: int, recover: int | None, quiet: bool) -> None:
    """Calibrate the baseline by ABC-SMC (pyabc) against the study's six patterns.

    Writes OUT/posterior.csv (the last generation's particles and weights) and
    OUT/calibrated.toml (weighted medians with 90% intervals), which
    scenarios/baseline.toml inherits. A stopped calibration continues with --resume and
    loses at most the generation in progress.
    """
    import time

    from netsim import calibration as cal
    from netsim.batch import BatchError
    from netsim.engines import make_engine
    from netsim.patterns import read_targets
    from netsim.scenario import ScenarioError

    if sum((resume or fresh, do_check, recover is not None)) > 1:
        raise BadInput("give one of --resume/--fresh (calibrate), --check or --recover")
    settings = cal.Settings(particles, generations, budget, min_acceptance, seed, kernel_scale)
    db = db or out / "calibration.db"
    try:
        settings.check()
        targets = read_targets(targets_file)
        posterior = None
        if do_check or recover is not None:
            if (out / "posterior.csv").exists():
                posterior = cal.read_posterior(out / "posterior.csv")
            elif do_check:
                click.echo(f"netsim: no {out}/posterior.csv yet: the check shows the prior predictive only",
                           err=True)
        simulator = cal.Simulator(targets)
        _check_out_dir(out)
        if resume and not db.is_file():
            raise cal.CalibrationError(f"{db}: no calibration database to resume; run without --resume")
        engine = make_engine(simulator.context, workers=workers, dask=dask)
    except (ScenarioError, cal.CalibrationError, BatchError) as e:
        raise BadInput.of(e) from None

    def say(g: Any) -> None:
        if not quiet:
            click.echo(_generation_line(g), err=True)

    start = time.perf_counter()
    try:
        if do_check:
            _calibration_check(cal, targets, engine, posterior, draws, seed, out, simulator)
        elif recover is not None:
            _calibration_recovery(cal, targets, engine, recover, settings, out, posterior, say)
        else:
            result = cal.calibrate(targets, db, settings, engine, resume=resume, fresh=fresh,
                                   simulator=simulator, on_generation=say, command=sys.argv)
            _write_calibration(cal, result, targets, out, db)
    except cal.CalibrationError as e:
        raise BadInput.of(e) from None
    except KeyboardInterrupt:
        click.echo(f"netsim: interrupted; finished generations are kept in {db}. Run the same command with "
                   "--resume to continue.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        engine.close()
    click.echo(f"{time.perf_counter() - start:.0f} s in all ({engine.name}, {engine.slots} worker"
               f"{'s' if engine.slots > 1 else ''})")


def _write_calibration(cal: Any, result: Any, targets: Any, out: Path, db: Path) -> None:
    posterior = result.posterior
    note = f"Targets: {targets.path} (sha256 {targets.sha256[:12]}); database: {db}."
    text = cal.write_calibrated(posterior, result, out / "calibrated.toml", note=[note])
    write_csv(out / "posterior.csv", posterior, float_format="%.6g")
    write_bytes_atomic(out / "calibrated.toml", text)
    resumed = f", resumed after {result.resumed_from}" if result.resumed_from else ""
    click.echo(f"{result.generations} generations{resumed}; final epsilon {result.epsilon:.3g}, acceptance "
               f"{result.acceptance:.1%}, {result.simulations} simulations, effective sample size "
               f"{result.ess:.0f}")
    for key, (median, lo, hi) in cal.point_estimates(posterior).items():
        plo, phi = targets.priors[key]
        click.echo(f"  {key}: {median:g} (90% interval {lo:g} to {hi:g}; prior {plo:g} to {phi:g})")
    click.echo(f"Wrote {out}/posterior.csv and {out}/calibrated.toml")


def _markdown_table(table: Any, formats: dict[str, str]) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        cells = (formats.get(c, "{}").format(v) for c, v in zip(cols, row, strict=True))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _calibration_check(cal: Any, targets: Any, engine: Any, posterior: Any, draws: int, seed: int, out: Path,
                       simulator: Any) -> None:
    result = cal.check(targets, engine, posterior=posterior, draws=draws, seed=seed, simulator=simulator)
    table = result.table.drop(columns="row")
    shares = {c: "{:.1%}" for c in ("prior", "posterior")}
    text = (f"Predictive check: {draws} parameter sets from the prior"
            + (" and from the posterior" if posterior is not None else "")
            + f", each run once with a fresh seed (seed {seed}); share of runs that reproduce each "
            "pattern.\n\n"
            + _markdown_table(table, shares) + "\nWhat each pattern constrains (prior draws that reproduce "
            "it against all prior draws):\n\n" + "".join(f"- {line}\n" for line in cal.constraint_lines(
                result.constraints)))
    write_csv(out / "check.csv", result.table)
    write_csv(out / "constraints.csv", result.constraints)
    write_bytes_atomic(out / "check.md", text.encode())
    written = [out / "check.csv", out / "check.md", out / "constraints.csv"]
    if posterior is not None:
        fig = cal.pairs_chart(posterior, targets)
        write_bytes_atomic(out / "posterior.png", lambda p: fig.savefig(p, format="png", dpi=120))
        written.append(out / "posterior.png")
    click.echo(text)
    click.echo(f"{result.seconds:.0f} s; wrote " + ", ".join(map(str, written)))


def _calibration_recovery(cal: Any, targets: Any, engine: Any, k: int, settings: Any, out: Path,
                          posterior: Any, say: Any) -> None:
    def truth(i: int, values: dict[str, float]) -> None:
        click.echo(f"known set {i + 1} of {k}: " + ", ".join(f"{key}={v:.3g}" for key, v in values.items()),
                   err=True)

    rec = cal.recover(targets, engine, truths=k, settings=settings, folder=out / "recovery",
                      posterior=posterior, on_generation=say, on_truth=truth)
    table = rec.table
    summary = table.groupby("parameter", sort=False).agg(covered=("covered", "sum"),
                                                         width_share=("width_share", "mean")).reset_index()
    summary["covered"] = summary["covered"].map(lambda c: f"{c} of {k}")
    text = (f"Parameter recovery: {k} known parameter sets, each calibrated with {settings.particles} "
            "particles, "
            f"at most {settings.generations} generations and {settings.budget} simulations.\n\n"
            + _markdown_table(table, {"covered": "{}"}) + "\nPer parameter: truths covered by the 90% "
            "interval, and the interval's mean width as a share of the prior's (near 1: the patterns do not "
            "identify it).\n\n"
            + _markdown_table(summary, {"width_share": "{:.2f}"}))
    write_csv(out / "recovery.csv", table)
    write_bytes_atomic(out / "recovery.md", text.encode())
    click.echo(text)
    click.echo(f"Wrote {out}/recovery.csv and {out}/recovery.md")


@cli.command()
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--outcome", "what", required=True, metavar="NAME|OUTPUT>=X",
              help="A named outcome (structured, ideology, loose, both, marketing) or a threshold on a "
                   "monthly output, such as 'mean_trust>=0.6' (>=, <=, >, <, ==).")
@click.option("--reading", "how", default="end", show_default=True, metavar="end|ever|for:K|by:M",
              help="How a run's months are read: at the final month, in any month, for at least K "
                   "months in a row, or first by month M.")
@click.option("--min-coverage", type=click.FloatRange(0.0, 1.0), default=0.5, show_default=True,
              help="Choose the densest box that covers at least this share of the outcome's runs.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for the box (CSV) and chart (default: RESULTS/discovery).")
@click.option("--other-version", type=click.Choice(["refuse", "accept"]), default="refuse", show_default=True,
              help="If RESULTS were made by another version of the model: refuse (exit 2), or accept.")
def discover(results: Path, what: str, how: str, min_coverage: float, out: Path | None,
             other_version: str) -> None:
    """Scenario discovery (PRIM): which parameter ranges or scenarios in RESULTS lead to an outcome.

    RESULTS may hold several scenarios, sweeps of numbers or of text values, or both.
    """
    import re

    from netsim import discovery
    from netsim.batch import BatchError
    from netsim.outcomes import OutcomeError, outcome, reading
    from netsim.store import MANIFEST, StoreError

    try:
        chosen, read = outcome(what), reading(how)
    except OutcomeError as e:
        raise BadInput.of(e) from None
    if not (results / MANIFEST).is_file():
        raise BadInput(f"{results}: not a netsim results folder (no {MANIFEST}); run `netsim batch` first")
    _check_model_version(results, other_version, remedy="--other-version accept to analyse them all the "
                         "same, or run the sweep again with this version")
    out = out or results / "discovery"
    _check_out_dir(out)
    try:
        found = discovery.discover_in(str(results), chosen.name, str(read), min_coverage=min_coverage)
    except (BatchError, StoreError) as e:
        raise BadInput.of(e) from None
    click.echo(f"Outcome '{chosen.name}' ({chosen.meaning}, {read.describe()}): "
               f"{found.cases} of {found.runs} runs")
    for w in found.warnings:
        click.echo(f"netsim: warning: {w}", err=True)
    click.echo(f"PRIM box: coverage {found.coverage:.1%}, density {found.density:.1%}, "
               f"mass {found.mass:.1%} (box {found.chosen} of the peeling trajectory)")
    for r in found.limits.itertuples():
        if isinstance(r.low, frozenset):
            click.echo(f"  {r.parameter}: {', '.join(sorted(map(str, r.low)))}   "
                       f"(swept {', '.join(sorted(map(str, r.range_low)))}; qp {r.qp_value:.2g})")
        else:
            click.echo(f"  {r.parameter}: {r.low:.4g} to {r.high:.4g}   "
                       f"(swept {r.range_low:.4g} to {r.range_high:.4g}; qp {r.qp_value:.2g})")
    label = chosen.name if read.mode == "end" else f"{chosen.name}, {read}"
    stem = "discovery-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", label.replace(", ", "-"))
    table = found.limits.assign(outcome=chosen.name, reading=str(read), coverage=found.coverage,
                                density=found.density, mass=found.mass, runs=found.runs, cases=found.cases)
    for c in ("low", "high", "range_low", "range_high"):  # category sets as "a|b" text
        table[c] = [("|".join(sorted(map(str, v))) if isinstance(v, frozenset) else v) for v in table[c]]
    fig = discovery.chart(found, label)
    write_csv(out / f"{stem}.csv", table)
    write_bytes_atomic(out / f"{stem}.png", lambda p: fig.savefig(p, format="png", dpi=150))
    write_bytes_atomic(out / f"{stem}.svg", lambda p: fig.savefig(p, format="svg"))
    click.echo(f"Wrote {out}/{stem}.csv and {out}/{stem}.png/.svg")


_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but localhost lets other machines open the page.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port.")
@click.option("--lang", type=click.Choice(["en", "th"]), default="en", show_default=True,
              help="Language the page opens in (it has a switch too).")
@click.option("--scenarios", "folder", type=click.Path(path_type=Path), default=None,
              help="Folder of scenario files to pick from (default: ./scenarios).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes for comparing two plans (1: the page's server runs them).")
def ui(host: str, port: int, lang: str, folder: Path | None, workers: int) -> None:
    """Start the planner's page in the browser: try a plan, watch the network, compare plans.

    Open the address it prints. Works offline: the page's browser files are kept on this
    machine (`make ui` fetches them once), and nothing is sent anywhere.
    """
    from netsim.ui import assets

    folder = folder or _default_scenarios_dir()
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such folder of scenarios")
    gone = assets.missing()
    if gone:
        raise BadInput(f"the page's browser files are missing from {assets.cache_dir()} "
                       f"({', '.join(gone[:3])}...); run `make ui` once (it needs npm and the internet)")
    if host not in _LOCAL_HOSTS:
        click.echo(f"netsim: warning: listening on {host}, not localhost: other machines on the network "
                   "can open the page and run the model", err=True)
    os.environ.update({
        "NETSIM_UI_SCENARIOS": str(folder.resolve()), "NETSIM_UI_LANG": lang,
        "NETSIM_UI_WORKERS": str(workers),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false", "SOLARA_ASSETS_PROXY_CACHE_DIR": str(assets.cache_dir()),
        # no "runs on Solara" banner: it sat over the lowest chart's legend
        "SOLARA_THEME_SHOW_BANNER": "false", "SOLARA_THEME_TITLE": "netsim",
    })
    click.echo(f"netsim: the page is at http://{'127.0.0.1' if host in _LOCAL_HOSTS else host}:{port}/ "
               "(Ctrl-C stops it)", err=True)
    args = [sys.executable, "-m", "solara", "run", "netsim.ui.app", "--host", host, "--port", str(port),
            "--production", "--no-open"]
    os.execv(sys.executable, args)


def main() -> None:
    """Entry point of the ``netsim`` console script."""
    cli(prog_name="netsim")


if __name__ == "__main__":
    main()
