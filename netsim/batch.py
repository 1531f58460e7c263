"""Scenario batches: every scenario x sweep point x replicate, on local processes or Dask.

A batch is a :class:`BatchPlan`: scenarios, the sweep points (a grid from ``--sweep``
options, or explicit points such as a sensitivity sample), the number of replicates and a
base seed. Each run has an identity (scenario name, sweep values, replicate) and a seed
drawn from ``numpy.random.SeedSequence(base_seed, spawn_key=hash(identity))``, so a run's
result does not depend on how many workers there are, on the order runs are done in,
or on the engine that ran them.

Runs are sent out in chunks (:func:`chunk_size`): a worker runs a chunk and returns its
tables as Parquet bytes, and the main process stores each chunk atomically
(:mod:`netsim.store`). The engines that run chunks (one process, local worker processes,
Dask) are in :mod:`netsim.engines`.

A run that raises is recorded with its error and seed and the batch goes on; a worker
process that dies is replaced and its chunks are tried again.

Example:
    >>> from netsim import load_scenario
    >>> from netsim.batch import make_plan, parse_sweep
    >>> plan = make_plan([load_scenario("scenarios/baseline.toml")],
    ...                  sweeps=[parse_sweep("forum.interval=2,4")], replicates=3, seed=1)
    >>> len(plan.runs)
    6
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sys
import time
import tomllib
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from netsim.population import Groups
from netsim.scenario import Parameters, Scenario, ScenarioError, apply_overrides, spec
from netsim.store import ChunkResult, ResultStore

if TYPE_CHECKING:
    from netsim.engines import Engine

__all__ = [
    "BatchError",
    "BatchOutcome",
    "BatchPlan",
    "PosteriorDraws",
    "Chunk",
    "RunContext",
    "RunSpec",
    "SUMMARY_CAPTION",
    "batch_manifest",
    "chunk_size",
    "failed_chunk",
    "final_month",
    "limit_blas_threads",
    "make_chunks",
    "make_plan",
    "parse_sweep",
    "progress_bar",
    "run_batch",
    "run_chunk",
    "run_id",
    "run_identity",
    "run_seed",
    "simulate",
    "summarise",
    "summary_rows",
]

#: Largest chunk of runs sent as one task.
MAX_CHUNK = 200

#: A sweep point: ``((key, value), ...)`` sorted by key.
Point = tuple[tuple[str, Any], ...]


class BatchError(ValueError):
    """A batch that cannot be run as asked (a bad sweep, an unreachable cluster...)."""


# -- sweeps ---------------------------------------------------------------------------------


def _coerce(key: str, value: Any, where: str) -> Any:
    """One swept value, checked by the schema; a whole float is taken for an integer."""
    s = spec(key)
    if s.kind == "list":
        raise BatchError(f"{where}: {key} is a list and cannot be swept; set it in a scenario file")
    if s.kind == "int" and isinstance(value, float):
        if not value.is_integer():
            raise BatchError(f"{where}: {value!r} is not an integer; {key} must be {s.allowed()}")
        value = int(value)
    elif s.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    try:
        apply_overrides(_DEFAULTS, {key: value}, source=where)
    except ScenarioError as e:
        raise BatchError(str(e)) from None
    return value


_DEFAULTS = Parameters()


def _toml_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_sweep(text: str) -> tuple[str, tuple[Any, ...]]:
    """Parse one ``--sweep``: ``KEY=V1,V2,...`` or ``KEY=LO:HI:STEPS``.

    ``LO:HI:STEPS`` gives ``STEPS`` evenly spaced values from ``LO`` to ``HI`` (rounded
    for integer parameters). Every value is checked against the schema's declared range.

    Args:
        text: The option's text, e.g. ``"forum.interval=2,4,6"`` or ``"decay.rate=0:0.3:4"``.

    Returns:
        The dotted key and its values, in the order given.

    Raises:
        BatchError: Unknown key, no values, a reversed or empty range, a value outside
            the schema's range, a repeated value.
    """
    where = f"--sweep {text!r}"
    key, sep, rhs = text.partition("=")
    key, rhs = key.strip(), rhs.strip()
    if not sep or not key:
        raise BatchError(f"{where}: expected KEY=V1,V2,... or KEY=LO:HI:STEPS, such as forum.interval=2,4,6")
    try:
        s = spec(key)
    except ScenarioError as e:
        raise BatchError(f"{where}: {e}") from None
    if not rhs:
        raise BatchError(f"{where}: no values; give KEY=V1,V2,... or KEY=LO:HI:STEPS")
    if rhs.count(":") == 2 and s.kind in ("int", "float"):
        lo_text, hi_text, steps_text = (p.strip() for p in rhs.split(":"))
        lo, hi, steps = _toml_value(lo_text), _toml_value(hi_text), _toml_value(steps_text)
        if isinstance(steps, bool) or not isinstance(steps, int):
            raise BatchError(f"{where}: STEPS must be a whole number of values, got {steps_text!r}")
        lo, hi = (_coerce(key, v, where) for v in (lo, hi))
        if steps < 1:
            raise BatchError(f"{where}: empty range; STEPS must be 1 or more")
        if lo > hi:
            raise BatchError(f"{where}: reversed range; LO ({lo}) must not be above HI ({hi})")
        if steps == 1 and lo != hi:
            raise BatchError(f"{where}: one step cannot span {lo} to {hi}; "
                             "give at least 2 steps, or one value")
        grid = np.linspace(lo, hi, steps)
        values = [int(round(v)) if s.kind == "int" else round(float(v), 12) for v in grid]
    else:
        items = [p.strip() for p in rhs.split(",")]
        if any(not p for p in items):
            raise BatchError(f"{where}: an empty value in the list; give KEY=V1,V2,...")
        values = [_coerce(key, _toml_value(p), where) for p in items]
    values = [_coerce(key, v, where) for v in values]
    if len(set(values)) < len(values):
        dup = next(v for v in values if values.count(v) > 1)
        raise BatchError(f"{where}: the value {dup!r} comes more than once"
                         + (" after rounding to integers" if s.kind == "int" else ""))
    return key, tuple(values)


def _grid(sweeps: Sequence[tuple[str, Sequence[Any]]]) -> list[Point]:
    keys = [k for k, _ in sweeps]
    dup = next((k for k in keys if keys.count(k) > 1), None)
    if dup:
        raise BatchError(f"--sweep {dup}: swept twice; give all its values in one --sweep")
    return [tuple(sorted(zip(keys, combo, strict=True)))
            for combo in itertools.product(*(vals for _, vals in sweeps))]


# -- run identity and seeds -----------------------------------------------------------------


def run_identity(scenario: str, point: Point | Mapping[str, Any], replicate: int, stream: str = "",
                 population_seed: int | None = None) -> str:
    """The canonical text of a run's identity: scenario name, sorted sweep values, replicate.

    A run of a design with common random numbers also names its ``stream`` (see
    :class:`BatchPlan`), and a run of a batch over an ensemble of populations
    (``--population-seeds``) its population seed; other runs' identities do not mention them.
    """
    items = sorted(point.items()) if isinstance(point, Mapping) else sorted(point)
    ident: list[Any] = [scenario, [[k, v] for k, v in items], int(replicate)]
    if stream:
        ident.append(stream)
    if population_seed is not None:
        ident.append(["population.seed", int(population_seed)])
    return json.dumps(ident, separators=(",", ":"), ensure_ascii=True)


def run_id(identity: str) -> str:
    """A run's short id: 16 hex digits of a hash of its identity."""
    return hashlib.blake2b(identity.encode(), digest_size=8).hexdigest()


def run_seed(base_seed: int, identity: str) -> int:
    """The seed of a run: ``SeedSequence(base_seed, spawn_key=hash(identity))``, as an int.

    It depends on nothing but the base seed and the run's identity: not on the order of
    runs, the number of workers or the engine.
    """
    digest = hashlib.blake2b(identity.encode(), digest_size=16).digest()
    words = tuple(int(w) for w in np.frombuffer(digest, dtype="<u4"))
    state = np.random.SeedSequence(base_seed, spawn_key=words).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))  # fits a signed 64-bit column


#: Spawn key that sets the population seeds of a batch apart from its runs' seeds.
_POPULATION_KEY = 0x504F50  # "POP"


def population_seeds(base_seed: int, count: int) -> list[int]:
    """The ``count`` population seeds of a batch over an ensemble of synthetic populations.

    The k-th is ``SeedSequence(base_seed, spawn_key=(POPULATION, k))`` as a 32-bit
    integer: it depends only on the base seed and k, never on workers or the order of runs.
    """
    root = np.random.SeedSequence(base_seed, spawn_key=(_POPULATION_KEY,))
    return [int(child.generate_state(1, np.uint32)[0]) for child in root.spawn(count)]


@dataclass(frozen=True)
class RunSpec:
    """One run of a batch.

    Attributes:
        scenario: Scenario name.
        point: Sweep values, ``((key, value), ...)`` sorted by key.
        replicate: Replicate index, from 0.
        seed: The run's seed (:func:`run_seed`).
        run_id: The run's id (:func:`run_id`).
        stream: Its stream of random numbers, in a design with common random numbers
            (empty otherwise).
        population_seed: The ``population.seed`` the run draws its groups with, in a
            batch over an ensemble of populations; ``None``: the scenario's own.
    """

    scenario: str
    point: Point
    replicate: int
    seed: int
    run_id: str
    stream: str = ""
    population_seed: int | None = None

    def label(self) -> str:
        """The run in words, e.g. ``baseline forum.interval=2 replicate 3``."""
        sweep = " ".join(f"{k}={v}" for k, v in self.point)
        population = "" if self.population_seed is None else f"population {self.population_seed}"
        return " ".join(p for p in (self.scenario, sweep, f"replicate {self.replicate}", population) if p)

    def overrides(self) -> dict[str, Any]:
        """The parameter values this run sets on its scenario: its sweep point and population seed."""
        out = dict(self.point)
        if self.population_seed is not None:
            out["population.seed"] = self.population_seed
        return out


# -- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchPlan:
    """Every run of a batch, and what defines them.

    Attributes:
        scenarios: The validated scenarios (unique names), with any ``--set`` applied.
        points: Sweep points (``((key, value), ...)``); one empty point when nothing is swept.
        replicates: Replicates of each scenario x point.
        seed: Base seed.
        inputs: Keys that vary across points (the table columns besides the outputs).
        sweeps: The ``--sweep`` values as given, if the points are a grid.
        kind: ``"batch"`` or ``"sensitivity"``.
        extra: More of the plan to record in the manifest (e.g. the sensitivity design).
        streams: Common random numbers: one label per point. Points of one label share
            their random numbers (replicate ``r`` of each has the seed of the label's
            replicate ``r``, whatever its parameter values), and a point may come more
            than once with different labels. Empty: every run has its own seed.
        posterior: Parameters drawn from a calibration's posterior, one set per replicate.
        populations: Size of the ensemble of synthetic populations: replicate r draws
            its groups with the (r mod ``populations``)-th of :func:`population_seeds`,
            the same in every scenario and point; 0: each scenario's own
            ``population.seed``.
        groups_every: Store the per-group table every this many months as well as at
            the last month (0: the last month only).
        keep_ties: Store each run's final ties (the ``ties`` table) as well.
    """

    scenarios: tuple[Scenario, ...]
    points: tuple[Point, ...]
    replicates: int
    seed: int
    inputs: tuple[str, ...]
    sweeps: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    kind: str = "batch"
    extra: Mapping[str, Any] = field(default_factory=dict)
    streams: tuple[str, ...] = ()
    posterior: PosteriorDraws | None = None
    populations: int = 0
    groups_every: int = 0
    keep_ties: bool = False

    @cached_property
    def population_seeds(self) -> list[int]:
        """The population seed of each draw of the ensemble (empty without one)."""
        return population_seeds(self.seed, self.populations) if self.populations else []

    @cached_property
    def runs(self) -> list[RunSpec]:
        """Every run: scenarios in order, then points, then replicates."""
        out = []
        draws = self.population_seeds
        for sc in self.scenarios:
            for i, point in enumerate(self.points):
                stream = self.streams[i] if self.streams else ""
                for r in range(self.replicates):
                    population = draws[r % len(draws)] if draws else None
                    ident = run_identity(sc.name, point, r, stream, population)
                    shared = run_identity(sc.name, (), r, stream, population) if stream else ident
                    out.append(RunSpec(sc.name, point, r, run_seed(self.seed, shared), run_id(ident), stream,
                                       population))
        return out

    def scenario(self, name: str) -> Scenario:
        """The scenario of that name."""
        return next(s for s in self.scenarios if s.name == name)

    def record(self) -> dict[str, Any]:
        """The plan as the manifest records it; ``sha256`` covers every run and its seed."""
        scenarios = [{
            "name": s.name,
            "question": s.question,
            "file": str(s.path) if s.path else None,
            "file_sha256": s.sha256 or None,
            "params_sha256": hashlib.sha256(s.params.model_dump_json().encode()).hexdigest(),
            "parameters": s.params.flat(),
        } for s in self.scenarios]
        h = hashlib.sha256()
        h.update(json.dumps([[s["name"], s["params_sha256"]] for s in scenarios]).encode())
        for r in self.runs:
            h.update(f"{r.run_id}:{r.seed}\n".encode())
        if self.posterior is not None:
            h.update(json.dumps(self.posterior.record()).encode())
        if self.groups_every:  # what the groups table holds (a plain batch's hash is unchanged)
            h.update(f"groups_every:{self.groups_every}\n".encode())
        record: dict[str, Any] = {
            "kind": self.kind,
            "sha256": h.hexdigest(),
            "base_seed": self.seed,
            "replicates": self.replicates,
            "sweeps": {k: list(v) for k, v in self.sweeps},
            "inputs": list(self.inputs),
            "points": len(self.points),
            "populations": self.populations,
            "groups_every": self.groups_every,
            "runs": len(self.runs),
            "scenarios": scenarios,
            "keep_ties": self.keep_ties,  # not in sha256: a batch resumed with it keeps more
        }
        if self.posterior is not None:
            record["posterior"] = self.posterior.record()
        record.update(self.extra)
        return record


def make_plan(scenarios: Sequence[Scenario], *, sweeps: Sequence[tuple[str, Sequence[Any]]] = (),
              points: Sequence[Mapping[str, Any]] | None = None, replicates: int = 1, seed: int = 1,
              kind: str = "batch", extra: Mapping[str, Any] | None = None,
              streams: Sequence[str] = (), posterior: tuple[str, pd.DataFrame] | None = None,
              populations: int = 0, groups_every: int = 0, keep_ties: bool = False) -> BatchPlan:
    """Make and validate the plan of a batch.

    Args:
        scenarios: Validated scenarios; their names must differ.
        sweeps: ``(key, values)`` pairs (:func:`parse_sweep`); every combination is run.
        points: Explicit points instead of ``sweeps`` (e.g. a sensitivity sample).
        replicates: Replicates of each scenario x point (1 or more).
        seed: Base seed (0 or more).
        kind: Recorded in the manifest.
        extra: More to record in the manifest's plan.
        streams: Common random numbers: a label per point of ``points`` (see :class:`BatchPlan`).
        posterior: ``(file, table)`` of a calibration's posterior (:func:`netsim.calibration.read_posterior`):
            each replicate's parameters are drawn from it (:class:`PosteriorDraws`).
        populations: Synthetic populations in the ensemble (``--population-seeds``):
            replicate r runs on the (r mod populations)-th draw; 0 for none.
        groups_every: Store the per-group table every this many months (0: last month only).
        keep_ties: Store each run's final ties too (for network snapshots and exports).

    Raises:
        BatchError: Repeated scenario names, a key swept twice, a point the schema
            rejects for one of the scenarios, bad counts.
    """
    if not scenarios:
        raise BatchError("no scenarios given")
    names = [s.name for s in scenarios]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise BatchError(f"two scenarios are named {dup!r}; each scenario of a batch needs its own name")
    if replicates < 1:
        raise BatchError(f"--replicates must be 1 or more (got {replicates})")
    if seed < 0:
        raise BatchError(f"--seed must be 0 or more (got {seed})")
    if populations < 0:
        raise BatchError(f"--population-seeds must be 0 or more (got {populations})")
    if groups_every < 0:
        raise BatchError(f"--groups-every must be 0 or more (got {groups_every})")
    if points is None:
        grid = _grid(sweeps)
        inputs = tuple(k for k, _ in sweeps)
    else:
        grid = [tuple(sorted((k, _coerce(k, v, "sample point")) for k, v in p.items())) for p in points]
        inputs = tuple(dict(grid[0])) if grid else ()
        if streams and len(streams) != len(grid):
            raise BatchError(f"{len(streams)} streams for {len(grid)} points")
        keyed = list(zip(grid, streams, strict=True)) if streams else grid
        if len(set(keyed)) < len(keyed):
            raise BatchError("the same point is given twice")
    for sc in scenarios:
        for point in grid:
            try:
                where = f"{sc.name} with " + ", ".join(f"{k}={v}" for k, v in point)
                sc.with_overrides(dict(point), source=where)
            except ScenarioError as e:
                raise BatchError(str(e)) from None
    if populations and "population.seed" in inputs:
        raise BatchError("population.seed is both swept and drawn by --population-seeds; use one of them")
    swept = tuple((k, tuple(v)) for k, v in sweeps) if points is None else ()
    draws = None if posterior is None else PosteriorDraws.make(*posterior, scenarios=scenarios,
                                                               swept=inputs, replicates=replicates, seed=seed)
    return BatchPlan(tuple(scenarios), tuple(grid), replicates, seed, inputs, swept, kind, dict(extra or {}),
                     tuple(streams), draws, populations, groups_every, keep_ties)


@dataclass(frozen=True)
class PosteriorDraws:
    """Each replicate's parameters, drawn from a calibration's posterior (``netsim batch --posterior``).

    Replicate r of every scenario and sweep point gets draw r (drawn by weight, seeded by the
    batch's seed), so scenarios are compared under the same parameter uncertainty as well as
    chance. A scenario that sets a calibrated parameter to a value of its own (say, faster
    value convergence in ideology forums) keeps it, and so does a swept parameter: a draw
    replaces a value only where the scenario inherits the calibrated one (its value equals
    the posterior's weighted median, as ``calibration/calibrated.toml`` writes it).

    Attributes:
        file: The posterior file.
        sha256: Its hash.
        draws: One ``((key, value), ...)`` per replicate.
        drawn: Per scenario, the keys the draws set.
    """

    file: str
    sha256: str
    draws: tuple[Point, ...]
    drawn: Mapping[str, tuple[str, ...]]

    @classmethod
    def make(cls, file: str, table: pd.DataFrame, *, scenarios: Sequence[Scenario], swept: Sequence[str],
             replicates: int, seed: int) -> PosteriorDraws:
        """Draw ``replicates`` parameter sets from ``table`` and decide what each scenario takes."""
        from netsim.calibration import point_estimates, posterior_draws

        estimates = {k: v[0] for k, v in point_estimates(table).items()}
        drawn = {sc.name: tuple(k for k in estimates if k not in swept and sc.params.get(k) == estimates[k])
                 for sc in scenarios}
        with open(file, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        draws = tuple(tuple(sorted(d.items())) for d in posterior_draws(table, replicates, seed))
        return cls(str(file), digest, draws, drawn)

    def overrides(self, scenario: str, replicate: int) -> dict[str, float]:
        """What the draw of ``replicate`` sets in ``scenario``."""
        keys = self.drawn.get(scenario, ())
        return {k: v for k, v in self.draws[replicate] if k in keys}

    def record(self) -> dict[str, Any]:
        """The draws as the manifest records them."""
        return {"file": self.file, "sha256": self.sha256,
                "drawn": {k: list(v) for k, v in self.drawn.items()}, "draws": [dict(d) for d in self.draws]}


# -- what workers need ----------------------------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    """What a worker needs to run any run of a plan, sent to each worker once.

    Attributes:
        scenarios: The plan's scenarios by name.
        groups: Groups tables by ``(scenario name, groups_file)``, read once by the main
            process so that workers (possibly on other machines) read no files.
        inputs: The plan's varied keys (identity columns of the tables).
        posterior: Each replicate's parameters drawn from a posterior, if the plan has them.
        groups_every: Months between stored per-group tables (0: the last month only).
        keep_ties: Whether each run's final ties are stored.
    """

    scenarios: Mapping[str, Scenario]
    groups: Mapping[tuple[str, str], Groups]
    inputs: tuple[str, ...]
    posterior: PosteriorDraws | None = None
    groups_every: int = 0
    keep_ties: bool = False

    @classmethod
    def for_plan(cls, plan: BatchPlan) -> RunContext:
        """Read every groups file the plan uses, and check each scenario builds.

        Raises:
            BatchError: A groups file is missing or bad, or a scenario names districts
                its groups file does not have.
        """
        from netsim.model import NetworkModel
        from netsim.population import read_groups

        groups: dict[tuple[str, str], Groups] = {}
        # an ensemble's first population stands for all: each is the study's draw, or none is
        population = {"population.seed": plan.population_seeds[0]} if plan.population_seeds else {}
        for sc in plan.scenarios:
            for point in plan.points:
                p = sc.with_overrides(dict(point)).params.population
                if p.synthetic_groups > 0 or (sc.name, p.groups_file) in groups:
                    continue
                try:
                    g = read_groups(sc.resolve(p.groups_file))
                    # build it once, no months: checks the recruitment districts against the
                    # file, and that the file can be redrawn if the batch varies the population
                    NetworkModel.from_scenario(
                        sc.with_overrides({"run.months": 0, **dict(point), **population}), rng=0, groups=g)
                except ScenarioError as e:
                    raise BatchError(("--population-seeds: " if population else "") + str(e)) from None
                groups[(sc.name, p.groups_file)] = g
        return cls({s.name: s for s in plan.scenarios}, groups, plan.inputs, plan.posterior,
                   plan.groups_every, plan.keep_ties)


Columns = dict[str, np.ndarray]


def simulate(scenario: Scenario, *, seed: int, groups: Groups | None,
             groups_every: int = 0, keep_ties: bool = False) -> tuple[Columns, Columns, Columns | None]:
    """Run one scenario once: its monthly, per-group and (if asked) final tie tables, as columns.

    The per-group table holds the last month, and every ``groups_every`` months if above 0.

    Returns:
        The tables as columns; the ties between participants
        (:func:`netsim.export.tie_table`) only with ``keep_ties``, else None.
    """
    from netsim.export import tie_table
    from netsim.model import NetworkModel

    model = NetworkModel.from_scenario(scenario, rng=seed, groups=groups, collect_groups_every=groups_every)
    model.run_model()
    ties = tie_table(model.state) if keep_ties else None
    return model.monthly_columns(), model.group_columns(), ties


@dataclass(frozen=True)
class Chunk:
    """Runs sent to a worker as one task, and stored as one part of each table.

    Attributes:
        key: A hash of its run ids (the part files' name).
        runs: The runs.
    """

    key: str
    runs: tuple[RunSpec, ...]


def chunk_size(runs: int, slots: int) -> int:
    """Runs per chunk: about 16 chunks per worker, at least 10 runs, at most :data:`MAX_CHUNK`."""
    if runs <= 0:
        return 1
    size = math.ceil(runs / (16 * max(slots, 1)))
    return max(1, min(MAX_CHUNK, max(size, 10), math.ceil(runs / max(slots, 1))))


def make_chunks(runs: Sequence[RunSpec], size: int) -> list[Chunk]:
    """Cut runs (in plan order) into chunks of ``size``."""
    out = []
    for i in range(0, len(runs), size):
        part = tuple(runs[i:i + size])
        key = hashlib.blake2b("\n".join(r.run_id for r in part).encode(), digest_size=8).hexdigest()
        out.append(Chunk(key, part))
    return out


def _identity(runs: Sequence[RunSpec], inputs: Sequence[str]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {"scenario": [r.scenario for r in runs]}
    for k in inputs:
        cols[k] = [dict(r.point)[k] for r in runs]
    if runs and runs[0].stream:
        cols["stream"] = [r.stream for r in runs]
    cols["replicate"] = [r.replicate for r in runs]
    if runs and runs[0].population_seed is not None:
        cols["population_seed"] = [r.population_seed for r in runs]
    cols["seed"] = [r.seed for r in runs]
    cols["run_id"] = [r.run_id for r in runs]
    return cols


def _parquet(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _stack(parts: list[Columns], runs: list[RunSpec], inputs: Sequence[str]) -> bytes:
    """One Parquet part from the runs' columns, each row led by its run's identity."""
    import pyarrow as pa

    names = list(dict.fromkeys(k for p in parts for k in p))  # runs of other groups files may add columns
    sizes = [len(next(iter(p.values()))) for p in parts]
    rows = np.repeat(np.arange(len(runs)), sizes)
    columns = {k: pa.array(v).take(pa.array(rows)) for k, v in _identity(runs, inputs).items()}
    for k in names:
        columns[k] = pa.array(np.concatenate([p[k] if k in p else np.full(size, "", dtype=object)
                                              for p, size in zip(parts, sizes, strict=True)]))
    return _parquet(pa.table(columns))


def _outcomes_part(parts: list[Columns], runs: list[RunSpec], inputs: Sequence[str]) -> bytes:
    """One row per run: each outcome's timeline (:func:`netsim.outcomes.run_outcomes`)."""
    from netsim.outcomes import run_outcomes

    lengths = [len(p["month"]) for p in parts]
    frame = pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
    frame["run_id"] = np.repeat([r.run_id for r in runs], lengths)
    table = run_outcomes(frame).reindex([r.run_id for r in runs]).reset_index(drop=True)
    return _parquet(pd.concat([pd.DataFrame(_identity(runs, inputs)), table], axis=1))


def _runs_part(runs: Sequence[RunSpec], inputs: Sequence[str], status: list[str], errors: list[str],
               tracebacks: list[str], seconds: list[float]) -> bytes:
    df = pd.DataFrame({**_identity(runs, inputs), "status": status, "error": errors,
                       "traceback": tracebacks, "seconds": seconds})
    return _parquet(df)


def _failure(run: RunSpec, error: str) -> dict[str, Any]:
    return {"run_id": run.run_id, "label": run.label(), "seed": run.seed, "error": error}


_THREADS_LIMITED = False


def limit_blas_threads() -> None:
    """One BLAS thread per worker: a batch is parallel across runs, not inside them."""
    global _THREADS_LIMITED
    if not _THREADS_LIMITED:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
        _THREADS_LIMITED = True


def run_chunk(context: RunContext, chunk: Chunk) -> ChunkResult:
    """Run a chunk's runs; a run that raises is recorded, and the others go on.

    Returns:
        The chunk's tables as Parquet bytes, and its failures.
    """
    limit_blas_threads()
    monthly: list[Columns] = []
    groups: list[Columns] = []
    ties: list[Columns] = []
    ok: list[RunSpec] = []
    status, errors, tracebacks, seconds, failures = [], [], [], [], []
    resolved: dict[tuple[str, Point, int, int | None], Scenario] = {}
    for run in chunk.runs:
        start = time.perf_counter()
        try:
            # with posterior draws each replicate has parameters of its own
            key = (run.scenario, run.point, run.replicate if context.posterior else 0, run.population_seed)
            sc = resolved.get(key)
            if sc is None:
                drawn = context.posterior.overrides(run.scenario, run.replicate) if context.posterior else {}
                sc = context.scenarios[run.scenario].with_overrides({**drawn, **run.overrides()},
                                                                    source="sweep")
                resolved[key] = sc
            pop = sc.params.population
            g = None if pop.synthetic_groups > 0 else context.groups.get((run.scenario, pop.groups_file))
            m, gt, tt = simulate(sc, seed=run.seed, groups=g, groups_every=context.groups_every,
                                 keep_ties=context.keep_ties)
        except Exception as e:  # noqa: BLE001 - any error of a run is recorded, the batch goes on
            status.append("error")
            errors.append(f"{type(e).__name__}: {e}")
            tracebacks.append(traceback.format_exc())
            failures.append(_failure(run, errors[-1]))
        else:
            monthly.append(m)
            groups.append(gt)
            if tt is not None:
                ties.append(tt)
            ok.append(run)
            status.append("ok")
            errors.append("")
            tracebacks.append("")
        seconds.append(time.perf_counter() - start)
    tables = {"runs": _runs_part(chunk.runs, context.inputs, status, errors, tracebacks, seconds)}
    if ok:
        tables["monthly"] = _stack(monthly, ok, context.inputs)
        tables["groups"] = _stack(groups, ok, context.inputs)
        tables["outcomes"] = _outcomes_part(monthly, ok, context.inputs)
        if context.keep_ties:
            tables["ties"] = _stack(ties, ok, context.inputs)
    return ChunkResult(chunk.key, tables, [r.run_id for r in chunk.runs], failures)


def failed_chunk(context: RunContext, chunk: Chunk, error: str) -> ChunkResult:
    """Every run of ``chunk`` recorded as failed with ``error`` (an engine lost the chunk)."""
    n = len(chunk.runs)
    tables = {"runs": _runs_part(chunk.runs, context.inputs, ["error"] * n, [error] * n, [""] * n, [0.0] * n)}
    return ChunkResult(chunk.key, tables, [r.run_id for r in chunk.runs],
                       [_failure(r, error) for r in chunk.runs])


# -- running a batch ------------------------------------------------------------------------


@dataclass
class BatchOutcome:
    """How a batch session ended.

    Attributes:
        total: Runs in the plan.
        already: Runs already stored when this session began.
        ran: Runs done in this session.
        failures: Every failed run in the store (identity, seed, error).
        seconds: Wall time of this session's runs.
        interrupted: Whether the session was interrupted (Ctrl-C).
    """

    total: int
    already: int
    ran: int
    failures: list[dict[str, Any]]
    seconds: float
    interrupted: bool = False


def batch_manifest(plan: BatchPlan, *, command: Sequence[str] | None = None) -> dict[str, Any]:
    """The manifest of a new store: the plan and its provenance."""
    from netsim.provenance import provenance

    prov = provenance(plan.scenarios[0], command=list(command) if command is not None else sys.argv)
    for k in ("scenario", "scenario_file", "scenario_sha256", "created"):
        prov.pop(k, None)
    return {**prov, "plan": plan.record()}


def run_batch(plan: BatchPlan, store: ResultStore, engine: Engine, *, chunk: int | None = None,
              on_chunk: Callable[[int, int], None] | None = None,
              on_start: Callable[[int, int], None] | None = None,
              command: Sequence[str] | None = None, accept_other_version: bool = False) -> BatchOutcome:
    """Run the plan's runs that the store does not hold yet, storing each chunk as it ends.

    Args:
        plan: The batch.
        store: Where results go; opened (created or resumed) here.
        engine: Where runs are done.
        chunk: Runs per chunk (default: :func:`chunk_size`).
        on_chunk: Called with ``(runs, failed)`` after each stored chunk.
        on_start: Called with ``(total, already stored)`` before the first chunk.
        command: The command line for the manifest (default: ``sys.argv``).
        accept_other_version: Resume a store made by another model version all the same
            (otherwise :class:`~netsim.store.OtherVersionError` is raised).

    Returns:
        How the session went. On Ctrl-C the store is left consistent, the manifest says
        ``interrupted`` and ``KeyboardInterrupt`` is raised again.
    """
    already = store.open(batch_manifest(plan, command=command), accept_other_version=accept_other_version)
    pending = [r for r in plan.runs if r.run_id not in already]
    if on_start:
        on_start(len(plan.runs), len(plan.runs) - len(pending))
    size = chunk or chunk_size(len(pending), engine.slots)
    ran = failed = 0
    start = time.perf_counter()
    status = "interrupted"
    try:
        for result in engine.results(make_chunks(pending, size)):
            store.write_chunk(result)
            ran += len(result.run_ids)
            failed += len(result.failures)
            if on_chunk:
                on_chunk(len(result.run_ids), len(result.failures))
        status = "complete"
    finally:
        seconds = time.perf_counter() - start
        try:
            failures = _stored_failures(store)
            if status == "complete" and failures:
                status = "complete with failures"
            store.finish(status, runs_done=ran, runs_failed=failed, seconds=round(seconds, 3),
                         engine=engine.name, workers=engine.slots, failures_in_store=len(failures))
        finally:  # the lock is released even when the disk is too full for the manifest
            store.close()
    return BatchOutcome(len(plan.runs), len(plan.runs) - len(pending), ran, failures, seconds)


def _stored_failures(store: ResultStore) -> list[dict[str, Any]]:
    f = store.failures()
    if f.empty:
        return []
    inputs = [c for c in f.columns if c not in ("scenario", "replicate", "seed", "run_id", "status",
                                                "error", "traceback", "seconds")]
    out = []
    for row in f.to_dict("records"):
        sweep = " ".join(f"{k}={row[k]}" for k in inputs)
        label = " ".join(p for p in (row["scenario"], sweep, f"replicate {row['replicate']}") if p)
        out.append({"run_id": row["run_id"], "label": label, "seed": int(row["seed"]), "error": row["error"]})
    return out


@contextmanager
def progress_bar(*, enabled: bool = True, description: str = "runs") -> Iterator[dict[str, Callable]]:
    """A progress bar on standard error with the rate (runs/s) and the time remaining.

    Yields:
        ``{"start": on_start, "chunk": on_chunk}`` callbacks for :func:`run_batch`.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text("  ?   runs/s" if task.speed is None else f"{task.speed:6.1f} runs/s")

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                        TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(),
                        TextColumn("ETA"), TimeRemainingColumn(),
                        console=Console(stderr=True), disable=not enabled, speed_estimate_period=60)
    task = progress.add_task(description, total=None, failed=0)
    failed = 0

    def on_start(total: int, already: int) -> None:
        progress.update(task, total=total, completed=already)
        if already:
            progress.console.print(f"resuming: {already} of {total} runs already stored")

    def on_chunk(runs: int, fails: int) -> None:
        nonlocal failed
        failed += fails
        progress.update(task, advance=runs, failed=failed)

    with progress:
        yield {"start": on_start, "chunk": on_chunk}


# -- reading results ------------------------------------------------------------------------


def final_month(store: ResultStore, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The last month of each run (one row per run) from a store's monthly table."""
    monthly = store.read("monthly", columns=None if columns is None else
                         list(dict.fromkeys(["run_id", "month", *columns])))
    if monthly.empty:
        return monthly
    last = monthly.groupby("run_id", sort=False)["month"].transform("max")
    return monthly[monthly["month"] == last].reset_index(drop=True)


#: The summary's columns: (column, heading, format). Run-level outcomes (netsim/outcomes.py) are
#: shares of runs; the last two are means of final-month outputs.
_SUMMARY = (
    ("structured_at_end", "structured\nend", "{:.0%}"),
    ("structured_ever", "structured\never", "{:.0%}"),
    ("marketing_at_end", "marketing\nend", "{:.0%}"),
    ("marketing_ever", "marketing\never", "{:.0%}"),
    ("marketing_first_month", "marketing\nfrom", "{:.0f}"),
    ("marketing_longest", "marketing\nlasts", "{:.1f}"),
    ("ideology_ever", "ideology\never", "{:.0%}"),
    ("structured_share", "groups in\nstructured", "{:.0%}"),
    ("cross_district_tie_share", "cross-\ndistrict", "{:.0%}"),
)
_FINAL = ("structured_share", "cross_district_tie_share")
#: What the summary's headings mean.
SUMMARY_CAPTION = ("Shares of runs: structured = at least one structured network, marketing = a "
                   "cross-district marketing network, ideology = a structured network with a shared "
                   "ideology; 'end' at the final month, 'ever' in any month. marketing from: median first "
                   "month of those that had one; marketing lasts: mean longest spell in months (0 if "
                   "none). At the final month, means over runs: groups in structured = share of groups "
                   "in structured networks; cross-district = share of ties across districts.")


def summarise(store: ResultStore, *, max_rows: int = 30) -> pd.DataFrame:
    """Run-level outcomes (end and ever) and final-month means by scenario (and sweep point, if few)."""
    from netsim.outcomes import read_outcomes

    plan = store.manifest_or_disk().get("plan", {})
    inputs = list(plan.get("inputs", []))
    runs = store.read("runs", columns=["scenario", *inputs, "run_id", "status"])
    if runs.empty:
        return pd.DataFrame()
    by = ["scenario", *inputs]
    if runs.groupby(by, dropna=False).ngroups > max_rows:
        by = ["scenario"]
    counts = runs.assign(failed=runs["status"] == "error").groupby(by, sort=False, dropna=False).agg(
        runs=("run_id", "size"), failed=("failed", "sum"))
    table = counts
    per_run = read_outcomes(store)
    if not per_run.empty:
        final = final_month(store, columns=list(_FINAL)).set_index("run_id")[list(_FINAL)]
        per_run = per_run.join(final, on="run_id")
        shares = [c for c, _, _ in _SUMMARY if c in per_run.columns and c != "marketing_first_month"]
        grouped = per_run.groupby(by, sort=False, dropna=False)
        table = counts.join(grouped[shares].mean())
        if "marketing_first_month" in per_run.columns:
            table = table.join(grouped["marketing_first_month"].median())
    table = table.reset_index()
    order = {s["name"]: i for i, s in enumerate(plan.get("scenarios", []))}  # the plan's order
    return table.sort_values(by, key=lambda c: c.map(order) if c.name == "scenario" else c,
                             kind="stable", ignore_index=True)


def _format_summary(row: Mapping[str, Any], column: str) -> str:
    fmt = next((f for c, _, f in _SUMMARY if c == column), "{}")
    v = row.get(column)
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def summary_rows(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Headings and text rows of a :func:`summarise` table, for printing."""
    keys = [c for c in table.columns if c not in ("runs", "failed", *(c for c, _, _ in _SUMMARY))]
    heads = [*keys, "runs", "failed", *(h for c, h, _ in _SUMMARY if c in table.columns)]
    rows = []
    for row in table.to_dict("records"):
        rows.append([str(row[k]) for k in keys] + [str(row["runs"]), str(row["failed"])]
                    + [_format_summary(row, c) for c, _, _ in _SUMMARY if c in table.columns])
    return heads, rows

