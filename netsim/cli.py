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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from netsim.scenario import Scenario, ScenarioError, load_scenario, parse_assignment
from netsim.store import write_bytes_atomic, write_csv

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
                click.echo(f"netsim: error: {line}", err=True)
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
    from netsim.processes.recruitment import default_join_probability

    _check_out_dir(out)
    pop = generate_population() if seed is None else generate_population(seed=seed)
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

        sc = _scenario(source, assignments, month)
        try:
            model = NetworkModel.from_scenario(sc, rng=seed, groups=groups)
        except ScenarioError as e:
            raise BadInput(str(e)) from None
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
@click.option("--partial", is_flag=True,
              help="Report on a batch that is incomplete or still running (every chart and the page "
                   "say so); without it such a batch is refused.")
def report(results: Path, out: Path | None, formats: str, dpi: int, reference: str | None, lang: str,
           title: str | None, partial: bool) -> None:
    """Turn a batch's RESULTS folder into charts, tables and a page (report.html, report.md)."""
    from netsim.charts import FORMATS
    from netsim.report import ReportError, read_batch, write_report

    chosen = [f.strip().lower() for f in formats.split(",") if f.strip()]
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise BadInput(f"--format {formats!r}: give one or more of {', '.join(FORMATS)}, comma-separated")
    out = out or results / "report"
    _check_out_dir(out)
    try:
        batch = read_batch(results)
        written = write_report(batch, out, formats=list(dict.fromkeys(chosen)), dpi=dpi, reference=reference,
                               lang=lang, title=title, partial=partial)
    except ReportError as e:
        raise BadInput(str(e)) from None
    why = batch.incomplete()
    if why:
        click.echo(f"netsim: warning: {why}; the report says so on every chart and page", err=True)
    for path in written:
        click.echo(f"wrote {path}")


def _engine_options(f: Any) -> Any:
    """The options every command that runs a batch shares: where and how to run it."""
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


def _prepare(plan: Any, out: Path, workers: int, dask: str | None, chunk: int | None) -> tuple[Any, Any]:
    """Check everything that can be checked before writing; return the store and the engine."""
    from netsim.batch import BatchError, RunContext
    from netsim.engines import make_engine
    from netsim.store import ResultStore, StoreError

    if chunk is not None and chunk < 1:
        raise BadInput(f"--chunk must be 1 or more (got {chunk})")
    _check_out_dir(out)
    store = ResultStore(out)
    try:
        store.check_plan(plan.record())
        context = RunContext.for_plan(plan)
        engine = make_engine(context, workers=workers, dask=dask)
    except (BatchError, StoreError) as e:
        raise BadInput(str(e)) from None
    return store, engine


def _execute(plan: Any, store: Any, engine: Any, chunk: int | None, quiet: bool) -> Any:
    """Run a plan with a progress bar; Ctrl-C leaves the store consistent and exits 130."""
    from netsim.batch import progress_bar, run_batch
    from netsim.store import StoreError

    try:
        with progress_bar(enabled=not quiet) as bar:
            return run_batch(plan, store, engine, chunk=chunk, on_start=bar["start"], on_chunk=bar["chunk"])
    except StoreError as e:
        raise BadInput(str(e)) from None
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
@_engine_options
@click.option("--out", type=click.Path(path_type=Path), default=Path("results/batch"), show_default=True,
              help="Results folder; the same command run again on it resumes the batch.")
@click.option("--keep-ties", is_flag=True,
              help="Also store each run's final ties (the ties/ table): network snapshots in the "
                   "report, and `netsim export` of stored runs.")
def batch(scenario_files: tuple[str, ...], replicates: int, sweeps: tuple[str, ...],
          assignments: tuple[str, ...], months: int | None, seed: int, workers: int, dask: str | None,
          chunk: int | None, quiet: bool, out: Path, keep_ties: bool) -> None:
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

    scs = [_scenario(p, assignments, months) for p in scenario_files]
    try:
        plan = make_plan(scs, sweeps=[parse_sweep(s) for s in sweeps], replicates=replicates, seed=seed,
                         keep_ties=keep_ties)
    except BatchError as e:
        raise BadInput(str(e)) from None
    store, engine = _prepare(plan, out, workers, dask, chunk)
    outcome = _execute(plan, store, engine, chunk, quiet)
    heads, rows = summary_rows(summarise(store))
    table = Table(title=f"{len(plan.runs)} runs in {out} ({outcome.ran} now, {outcome.already} before; "
                        f"{engine.name})", title_justify="left", caption=SUMMARY_CAPTION,
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
                out: Path) -> None:
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
        raise BadInput(str(e)) from None
    store, engine = _prepare(plan, out, workers, dask, chunk)
    outcome = _execute(plan, store, engine, chunk, quiet)
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
def discover(results: Path, what: str, how: str, min_coverage: float, out: Path | None) -> None:
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
        raise BadInput(str(e)) from None
    if not (results / MANIFEST).is_file():
        raise BadInput(f"{results}: not a netsim results folder (no {MANIFEST}); run `netsim batch` first")
    out = out or results / "discovery"
    _check_out_dir(out)
    try:
        found = discovery.discover_in(str(results), chosen.name, str(read), min_coverage=min_coverage)
    except (BatchError, StoreError) as e:
        raise BadInput(str(e)) from None
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


def main() -> None:
    """Entry point of the ``netsim`` console script."""
    cli(prog_name="netsim")


if __name__ == "__main__":
    main()
