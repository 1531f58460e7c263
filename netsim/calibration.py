"""ABC calibration against the study's patterns: pyabc's ABC-SMC on netsim's batch engine.

The calibration asks which values of the free parameters (``[prior]`` of the targets
file, :mod:`netsim.patterns`) make the baseline reproduce the study's six patterns. It is
pyabc's ABC-SMC (Toni et al. 2009) with two pieces of netsim's own:

* :class:`BatchSampler`, a pyabc ``Sampler`` that evaluates a generation's proposals as
  batches on :mod:`netsim.engines` (one process, local worker processes or Dask) instead
  of one model call at a time. It proposes with pyabc's own code in two passes: the first
  pass only records a batch of proposals, the batch is simulated, and the second pass,
  from the same random state, replays the same proposals with their results. Each
  generation's random state and each simulation's seed come from
  ``numpy.random.SeedSequence(seed, spawn_key=...)``, so the posterior depends on the
  seed only: not on the number of workers, the engine, or an interruption.
* :class:`_Replayed`, the pyabc model whose results are those batches: its distance is
  :func:`netsim.patterns.distance` (0 exactly when a run reproduces all six patterns).

pyabc's SQLite ``History`` keeps every finished generation, so a calibration stopped by
Ctrl-C or ``kill -9`` resumes (``resume=True``) and loses at most the generation in
progress. The database also records the model version and the targets file's hash in a
table of its own (``netsim_calibration``), and a database made by another model version
or for other targets is refused.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import sqlite3
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from netsim.batch import RunContext, RunSpec, make_chunks
from netsim.patterns import PATTERNS, Calendar, Targets, distance, reproduced, run_statistics
from netsim.scenario import Scenario, ScenarioError, load_scenario, spec
from netsim.version import model_version

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from netsim.engines import Engine

__all__ = [
    "POSTERIOR_WEIGHT",
    "BatchSampler",
    "CalibrationError",
    "Settings",
    "Simulator",
    "calibrate",
    "check",
    "model_version",
    "pairs_chart",
    "point_estimates",
    "posterior_draws",
    "prior_draws",
    "read_posterior",
    "recover",
    "write_calibrated",
]

#: The weight column of a posterior file.
POSTERIOR_WEIGHT = "weight"
#: The table a calibration database keeps netsim's own record in.
_META = "netsim_calibration"
#: Seed streams: generation t of a calibration uses (t + 1, ...); the checks use these.
_STREAM_POSTERIOR, _STREAM_PRIOR, _STREAM_RECOVERY, _STREAM_DRAWS = 1_000_001, 1_000_002, 1_000_003, 1_000_004


class CalibrationError(ValueError):
    """A calibration that cannot be run or resumed as asked; the message says why."""


def _seed(seed: int, *key: int) -> int:
    state = np.random.SeedSequence(seed, spawn_key=tuple(int(k) for k in key)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


# -- simulating parameter sets on the batch engine --------------------------------------------


class Simulator:
    """Runs parameter sets of a scenario through the batch engine; returns their statistics.

    Args:
        targets: The targets (which statistics, the free parameters).
        scenario: The scenario simulated (default: the one the targets name).
    """

    def __init__(self, targets: Targets, scenario: Scenario | None = None) -> None:
        from netsim.population import read_groups

        self.targets = targets
        try:
            self.scenario = scenario or load_scenario(targets.scenario)
            groups_file = self.scenario.params.population.groups_file
            groups = (
                {}
                if self.scenario.params.population.synthetic_groups
                else {(self.scenario.name, groups_file): read_groups(self.scenario.resolve(groups_file))}
            )
        except ScenarioError as e:
            raise CalibrationError(f"{targets.path}: key 'scenario': {e}") from None
        self.calendar = Calendar.of(self.scenario.params)
        self.context = RunContext({self.scenario.name: self.scenario}, groups, tuple(targets.priors))
        self.simulations = 0
        self.seconds = 0.0

    def runs(self, points: Sequence[Mapping[str, float]], seeds: Sequence[int], tag: str) -> list[RunSpec]:
        """The batch engine's runs of ``points`` with ``seeds``."""
        return [
            RunSpec(
                self.scenario.name,
                tuple(sorted((k, float(v)) for k, v in p.items())),
                i,
                int(s),
                f"{tag}-{i}",
            )
            for i, (p, s) in enumerate(zip(points, seeds, strict=True))
        ]

    def statistics(
        self,
        engine: Engine,
        points: Sequence[Mapping[str, float]],
        seeds: Sequence[int],
        *,
        tag: str = "run",
        on_chunk: Callable[[int], None] | None = None,
    ) -> pd.DataFrame:
        """Each point's statistics (one row per point, in order; NaN for a run that failed)."""
        from netsim.engines import InProcessEngine

        runs = self.runs(points, seeds, tag)
        size = max(1, min(200, math.ceil(len(runs) / (4 * max(engine.slots, 1)))))
        if isinstance(engine, InProcessEngine):
            size = max(size, 50)
        names = self.targets.statistics
        parts = []
        start = time.perf_counter()
        for result in engine.results(make_chunks(runs, size)):
            if "monthly" in result.tables:
                monthly = pd.read_parquet(io.BytesIO(result.tables["monthly"]))
                parts.append(run_statistics(monthly, names, self.calendar))
            if on_chunk:
                on_chunk(len(result.run_ids))
        self.seconds += time.perf_counter() - start
        self.simulations += len(runs)
        found = pd.concat(parts) if parts else pd.DataFrame(columns=names, dtype=float)
        return found.reindex([r.run_id for r in runs])[names].reset_index(drop=True)


# -- pyabc: the model and the sampler -----------------------------------------------------------


def _pyabc() -> Any:
    import logging

    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)  # progress is the sampler's to show
    logging.getLogger("Epsilon").setLevel(logging.WARNING)
    return pyabc


@lru_cache(maxsize=1)
def _proposal_classes() -> tuple[type, type, type]:
    """The uniform prior, normal kernel and model prior of pyabc, made fast where called per proposal.

    pyabc draws a proposal by perturbing a particle with the kernel, and draws again until
    the prior's density there is positive; its generic prior asks scipy once a parameter for
    that density (and the prior over models for its mass, always 1 here), and its kernel
    picks the particle and draws the normal step through pandas and scipy: about 1.5 ms a
    draw in all, paid several times a proposal (most draws of a wide kernel fall outside the
    priors' box) and twice a proposal by the replaying sampler. These compute the same
    densities and draw from the same distributions with plain numpy (from numpy's global
    state, which :class:`BatchSampler` seeds), in a few microseconds.
    """
    pyabc = _pyabc()

    class UniformBox(pyabc.Distribution):
        """Independent uniform priors (``pyabc.RV("uniform", low, width)`` each)."""

        def pdf(self, x: Mapping[str, float]) -> float:
            density = 1.0
            for key, rv in self.items():
                low, width = rv.args
                if not low <= x[key] <= low + width:
                    return 0.0
                density /= width
            return density

    class NormalKernel(pyabc.MultivariateNormalTransition):
        """pyabc's multivariate normal kernel, drawn from with numpy alone."""

        def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
            super().fit(X, w)
            cdf = np.cumsum(self.w)
            self._cdf = cdf / cdf[-1]
            values, vectors = np.linalg.eigh(self.cov)  # cov = root @ root.T, even if singular
            self._root = vectors * np.sqrt(np.clip(values, 0.0, None))
            self._keys = list(X.columns)

        def rvs_single(self) -> Any:
            i = min(int(np.searchsorted(self._cdf, np.random.random_sample(), side="right")),  # noqa: NPY002
                    len(self._cdf) - 1)
            step = self._root @ np.random.standard_normal(len(self._keys))  # noqa: NPY002
            return pyabc.Parameter(dict(zip(self._keys, (self._X_arr[i] + step).tolist(), strict=True)))

    class OneModel(pyabc.RV):
        """pyabc's prior over models, for one model: scipy's ``randint(0, 1)``, its mass computed directly."""

        def pmf(self, x: Any, *args: Any, **kwargs: Any) -> float:
            return 1.0 if x == 0 else 0.0

    return UniformBox, NormalKernel, OneModel


def _replayed_model() -> Any:
    pyabc = _pyabc()

    class _Replayed(pyabc.IntegratedModel):
        """A pyabc model whose results are simulated in batches by :class:`BatchSampler`.

        In ``record`` mode a call only notes the proposed parameters; in ``replay`` mode the
        i-th call returns the i-th batch result (its distance, statistics and acceptance).
        """

        def __init__(self) -> None:
            super().__init__(name="netsim")
            self.recording = True
            self.proposals: list[dict[str, float]] = []
            self.results: list[tuple[float, dict[str, float]]] = []
            self.cursor = 0

        def integrated_simulate(self, pars: Any, eps: float) -> Any:
            if self.recording:
                self.proposals.append({k: float(v) for k, v in pars.items()})
                return pyabc.ModelResult(accepted=False, distance=math.inf)
            d, stats = self.results[self.cursor]
            proposed = self.proposals[self.cursor]
            if any(proposed[k] != float(v) for k, v in pars.items()):  # pragma: no cover - a pyabc change
                raise RuntimeError("the replayed proposal differs from the recorded one")
            self.cursor += 1
            return pyabc.ModelResult(accepted=bool(d <= eps), distance=d, sum_stat=stats)

    return _Replayed()


@dataclass
class GenerationReport:
    """What one generation took.

    Attributes:
        t: Generation index (0 is sampled from the prior; -1 would be a calibration sample).
        epsilon: Its acceptance threshold.
        accepted: Particles accepted.
        evaluated: Proposals evaluated.
        simulations: Simulations run in it (including proposals simulated but not needed).
        seconds: Wall time.
    """

    t: int
    epsilon: float
    accepted: int
    evaluated: int
    simulations: int
    seconds: float


def _sampler_class() -> type:
    pyabc = _pyabc()

    class BatchSampler(pyabc.sampler.Sampler):
        """pyabc ``Sampler`` that evaluates each generation's proposals as batches on netsim's engine.

        Args:
            simulator: Runs parameter sets and returns their statistics.
            engine: Where the runs go.
            model: The :class:`_Replayed` model given to ``ABCSMC``.
            seed: The calibration's seed.
            on_generation: Called with a :class:`GenerationReport` after each generation.
            on_chunk: Called with the number of runs of each finished chunk.
        """

        def __init__(
            self,
            simulator: Simulator,
            engine: Engine,
            model: Any,
            seed: int,
            on_generation: Callable[[GenerationReport], None] | None = None,
            on_chunk: Callable[[int], None] | None = None,
        ) -> None:
            super().__init__()
            self.simulator, self.engine, self.model, self.seed = simulator, engine, model, seed
            self.on_generation, self.on_chunk = on_generation, on_chunk
            self.epsilon = math.inf

        def _batch(self, t: int, first: int, proposals: list[dict[str, float]]) -> list[tuple[float, dict]]:
            seeds = [_seed(self.seed, t + 1, first + i) for i in range(len(proposals))]
            stats = self.simulator.statistics(
                self.engine, proposals, seeds, tag=f"t{t}", on_chunk=self.on_chunk
            )
            d = distance(stats, self.simulator.targets.targets)
            return [
                (float(d[i]), {k: float(v) for k, v in stats.iloc[i].items()}) for i in range(len(proposals))
            ]

        def sample_until_n_accepted(
            self,
            n: int,
            simulate_one: Callable,
            t: int,
            *,
            max_eval: float = np.inf,
            all_accepted: bool = False,
            ana_vars: Any = None,
        ) -> Any:
            start = time.perf_counter()
            # pyabc proposes from numpy's global state: seed it for this generation
            np.random.seed(np.random.SeedSequence(self.seed, spawn_key=(t + 1,)).generate_state(8))  # noqa: NPY002
            sample = self._create_empty_sample()
            evaluated = simulated = 0
            rate = 1.0
            while sample.n_accepted < n and evaluated < max_eval:
                wanted = n - sample.n_accepted
                # batches of at most 2n proposals: enough for every worker, and a generation
                # stops at most 2n simulations past its n-th acceptance (the results do not
                # depend on the batch size: proposals are replayed in order)
                size = max(math.ceil(1.2 * wanted / max(rate, 0.02)), 2 * self.engine.slots, 20)
                size = int(min(size, 2 * n, max_eval - evaluated if math.isfinite(max_eval) else 2 * n))
                state = np.random.get_state()  # noqa: NPY002
                self.model.recording, self.model.proposals = True, []
                for _ in range(size):
                    simulate_one()
                np.random.set_state(state)  # noqa: NPY002
                self.model.results = self._batch(t, simulated, self.model.proposals)
                self.model.recording, self.model.cursor = False, 0
                accepted_before = sample.n_accepted
                for _ in range(size):
                    sample.append(simulate_one())
                    evaluated += 1
                    if sample.n_accepted >= n or evaluated >= max_eval:
                        break
                simulated += size
                rate = max((sample.n_accepted - accepted_before) / max(self.model.cursor, 1), 0.0)
            self.nr_evaluations_ = evaluated
            if sample.n_accepted < n:
                sample.ok = False
            if self.on_generation:
                eps = float(ana_vars.eps(t)) if ana_vars is not None and t >= 0 else math.inf
                self.on_generation(
                    GenerationReport(
                        t, eps, sample.n_accepted, evaluated, simulated, time.perf_counter() - start
                    )
                )
            return sample

    return BatchSampler


def BatchSampler(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - a class made when pyabc is imported
    """Make a :class:`BatchSampler` (pyabc is imported only when a calibration runs)."""
    return _sampler_class()(*args, **kwargs)


# -- the database's record ------------------------------------------------------------------


def _db_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def _read_meta(path: Path) -> dict[str, str]:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            rows = con.execute(f"SELECT key, value FROM {_META}").fetchall()  # noqa: S608 - a constant
    except sqlite3.Error:
        raise CalibrationError(
            f"{path}: not a netsim calibration database (no {_META} table); "
            "give another --db, or --fresh to replace it"
        ) from None
    return dict(rows)


def _write_meta(path: Path, meta: Mapping[str, Any]) -> None:
    with sqlite3.connect(path) as con:
        con.execute(f"CREATE TABLE IF NOT EXISTS {_META} (key TEXT PRIMARY KEY, value TEXT)")
        con.executemany(
            f"INSERT OR REPLACE INTO {_META} VALUES (?, ?)",  # noqa: S608 - a constant
            [(k, json.dumps(v) if not isinstance(v, str) else v) for k, v in meta.items()],
        )


def _check_meta(path: Path, meta: Mapping[str, str], targets: Targets) -> None:
    ours = {"model_version": model_version(), "targets_sha256": targets.sha256}
    for key, want in ours.items():
        got = meta.get(key)
        if got != want:
            what = "model version" if key == "model_version" else f"targets file ({targets.path})"
            raise CalibrationError(
                f"{path}: {key} is {got!r}, this {what} is {want!r}: the database was "
                "made by another model or for other targets and cannot be resumed; "
                "use --fresh to start again, or another --db"
            )


# -- calibrating ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How far a calibration goes.

    Attributes:
        particles: Population size of each generation.
        generations: Largest number of generations (including the first, from the prior).
        budget: Largest total number of simulations (pyabc stops after the generation
            that passes it).
        min_acceptance: Stop after a generation whose acceptance rate is below this.
        seed: The seed: same seed, same posterior.
        kernel_scale: Scaling of pyabc's multivariate normal perturbation kernel (times its
            Silverman bandwidth). Above 1 the proposals spread wider: fewer are accepted,
            but the importance weights stay even (with 10 free parameters and the default
            of 1, the effective sample size fell to a few particles).
    """

    particles: int = 500
    generations: int = 12
    budget: int = 50_000
    min_acceptance: float = 0.01
    seed: int = 1
    kernel_scale: float = 2.0

    def check(self) -> None:
        """Raise :class:`CalibrationError` for settings that cannot work."""
        if self.particles < 2:
            raise CalibrationError(f"--particles must be 2 or more (got {self.particles})")
        if not self.kernel_scale > 0:
            raise CalibrationError(f"--kernel-scale must be above 0 (got {self.kernel_scale})")
        if self.generations < 1:
            raise CalibrationError(f"--generations must be 1 or more (got {self.generations})")
        if self.budget < self.particles:
            raise CalibrationError(
                f"--budget must be at least --particles ({self.particles}); got {self.budget}"
            )
        if not 0 <= self.min_acceptance < 1:
            raise CalibrationError(f"--min-acceptance must be from 0 to below 1 (got {self.min_acceptance})")
        if self.seed < 0:
            raise CalibrationError(f"--seed must be 0 or more (got {self.seed})")


@dataclass
class CalibrationResult:
    """A finished (or stopped) calibration.

    Attributes:
        posterior: The last generation's particles: one column per free parameter and
            :data:`POSTERIOR_WEIGHT`.
        generations: Generations in the database.
        epsilon: The last generation's threshold.
        acceptance: The last generation's acceptance rate.
        simulations: Simulations recorded in the database (pyabc's count of evaluations).
        ess: Effective sample size of the last generation (1 / sum of squared weights).
        seconds: Wall time of this session.
        resumed_from: Generations already in the database when this session began.
    """

    posterior: pd.DataFrame
    generations: int
    epsilon: float
    acceptance: float
    simulations: int
    ess: float
    seconds: float
    resumed_from: int = 0


def _abc(
    targets: Targets,
    simulator: Simulator,
    engine: Engine,
    settings: Settings,
    on_generation: Callable[[GenerationReport], None] | None,
    on_chunk: Callable[[int], None] | None,
    *,
    first: bool = False,
) -> Any:
    pyabc = _pyabc()
    model = _replayed_model()
    sampler = BatchSampler(
        simulator, engine, model, settings.seed, on_generation=on_generation, on_chunk=on_chunk
    )
    particles = settings.particles
    uniform_box, normal_kernel, one_model = _proposal_classes()
    prior = uniform_box(**{k: pyabc.RV("uniform", lo, hi - lo) for k, (lo, hi) in targets.priors.items()})

    def pattern_distance(x: Mapping[str, float], x_0: Mapping[str, float]) -> float:
        # what the model computed for each run; pyabc calls it again on the stored statistics
        # of the previous generation when a calibration is loaded from its database
        return float(distance(pd.DataFrame([x]), targets.targets)[0])

    return pyabc.ABCSMC(
        model,
        prior,
        pattern_distance,
        population_size=particles,
        sampler=sampler,
        transitions=normal_kernel(scaling=settings.kernel_scale),
        model_prior=one_model("randint", 0, 1),  # draws as pyabc's default does: the same stream
        # the first generation accepts every computable run; each later one starts
        # from the median distance of the generation before it, read from the database
        eps=pyabc.QuantileEpsilon(initial_epsilon=_INITIAL_EPSILON if first else "from_sample", alpha=0.5),
    )


#: The first generation accepts any run whose statistics could all be computed.
_INITIAL_EPSILON = 1e9


def calibrate(
    targets: Targets,
    db: Path,
    settings: Settings,
    engine: Engine,
    *,
    resume: bool = False,
    fresh: bool = False,
    simulator: Simulator | None = None,
    on_generation: Callable[[GenerationReport], None] | None = None,
    on_chunk: Callable[[int], None] | None = None,
    command: Sequence[str] = (),
) -> CalibrationResult:
    """Run (or resume) an ABC-SMC calibration into the SQLite database ``db``.

    Args:
        targets: The targets file.
        db: The database (pyabc's History and netsim's record).
        settings: Population size, stopping rules, seed.
        engine: Where simulations run (:func:`netsim.engines.make_engine`).
        resume: Continue the calibration in ``db`` (refused if it was made by another
            model version, for other targets, or with other settings).
        fresh: Replace ``db`` if it exists.
        simulator: The simulator (default: one for ``targets``).
        on_generation: Called after each generation.
        on_chunk: Called with each finished chunk's number of runs.
        command: The command line, for the record.

    Raises:
        CalibrationError: ``db`` exists and neither ``resume`` nor ``fresh`` is given, or
            ``resume`` is given and ``db`` cannot be resumed.
    """
    settings.check()
    simulator = simulator or Simulator(targets)
    db = Path(db)
    run_id = None
    if resume:
        if not db.is_file():
            raise CalibrationError(
                f"{db}: no calibration database to resume; run without --resume to start one"
            )
        meta = _read_meta(db)
        _check_meta(db, meta, targets)
        recorded = json.loads(meta.get("settings", "{}"))
        ours = dataclasses.asdict(settings)
        if recorded.get("seed") != ours["seed"] or recorded.get("particles") != ours["particles"]:
            raise CalibrationError(
                f"{db}: made with seed {recorded.get('seed')} and {recorded.get('particles')} "
                f"particles; resume it with the same --seed and --particles"
            )
        run_id = int(meta.get("run_id", "1"))
    elif db.exists():
        if not fresh:
            raise CalibrationError(
                f"{db}: a calibration database is already there; --resume continues it, --fresh replaces it"
            )
        db.unlink()
    db.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    done = 0
    if run_id is None:
        abc = _abc(targets, simulator, engine, settings, on_generation, on_chunk, first=True)
        history = abc.new(_db_url(db), {s: 0.0 for s in targets.statistics})
        run_id = history.id
        _write_meta(
            db,
            {
                "model_version": model_version(),
                "targets_sha256": targets.sha256,
                "targets_file": str(targets.path),
                "run_id": str(run_id),
                "settings": dataclasses.asdict(settings),
                "command": list(command),
                "free_parameters": list(targets.priors),
            },
        )
        history = abc.run(max_nr_populations=1, minimum_epsilon=0.0)
    else:
        abc = _abc(targets, simulator, engine, settings, on_generation, on_chunk, first=True)
        history = abc.load(_db_url(db), run_id)
        done = history.max_t + 1
    # One generation per pyabc session, each loaded afresh from the database: a run resumed
    # after an interruption takes exactly the path of one that was never stopped.
    while not _finished(history, settings):
        abc = _abc(targets, simulator, engine, settings, on_generation, on_chunk, first=history.max_t < 0)
        abc.load(_db_url(db), run_id)
        history = abc.run(max_nr_populations=1, minimum_epsilon=0.0)
    return _result(history, list(targets.priors), time.perf_counter() - start, done)


def _finished(history: Any, settings: Settings) -> bool:
    """Pyabc's stopping rules, checked between generations."""
    if history.max_t < 0:
        return False
    if history.max_t + 1 >= settings.generations or history.total_nr_simulations >= settings.budget:
        return True
    pops = history.get_all_populations()
    last = pops.iloc[-1]
    if last["t"] > 0 and float(last["epsilon"]) <= 0.0:
        return True
    accepted = history.get_nr_particles_per_population().iloc[-1]
    return bool(last["samples"]) and accepted / last["samples"] < settings.min_acceptance


def _result(history: Any, keys: Sequence[str], seconds: float, resumed_from: int) -> CalibrationResult:
    frame, w = history.get_distribution(m=0, t=history.max_t)
    posterior = frame[list(keys)].reset_index(drop=True).assign(**{POSTERIOR_WEIGHT: np.asarray(w, float)})
    pops = history.get_all_populations()
    last = pops.iloc[-1]
    nr = history.get_nr_particles_per_population()
    acceptance = float(nr.iloc[-1] / last["samples"]) if last["samples"] else math.nan
    weights = posterior[POSTERIOR_WEIGHT].to_numpy()
    return CalibrationResult(
        posterior,
        history.max_t + 1,
        float(last["epsilon"]),
        acceptance,
        int(history.total_nr_simulations),
        float(1 / np.sum(weights**2)),
        seconds,
        resumed_from,
    )


# -- posterior files ------------------------------------------------------------------------


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w) - 0.5 * w
    return float(np.interp(q * w.sum(), cum, v))


def point_estimates(posterior: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    """Per free parameter: weighted median and the 5% and 95% weighted quantiles, rounded to 4 digits."""
    w = posterior[POSTERIOR_WEIGHT].to_numpy(float)
    return {
        k: tuple(
            round(_weighted_quantile(posterior[k].to_numpy(float), w, q), 4)  # type: ignore[misc]
            for q in (0.5, 0.05, 0.95)
        )
        for k in posterior.columns
        if k != POSTERIOR_WEIGHT
    }


def write_calibrated(
    posterior: pd.DataFrame, result: CalibrationResult | None, path: Path, *, note: Sequence[str] = ()
) -> bytes:
    """The text of ``calibrated.toml``: each free parameter's weighted median, 90% interval in a comment."""
    lines = [
        "# The calibrated parameters of the baseline (scenarios/baseline.toml inherits this file).",
        "# Written by `netsim calibrate` from calibration/posterior.csv: each value is the",
        "# weighted posterior median; the comment gives the 90% interval (5% to 95% weighted quantiles).",
        *(f"# {n}" for n in note),
    ]
    if result is not None:
        lines.append(
            f"# {result.generations} generations, final epsilon {result.epsilon:g}, acceptance "
            f"{result.acceptance:.1%}, {result.simulations} simulations, effective sample size "
            f"{result.ess:.0f}."
        )
    by_section: dict[str, list[str]] = {}
    for key, (median, lo, hi) in point_estimates(posterior).items():
        section, name = key.split(".", 1)
        by_section.setdefault(section, []).append(f"{name} = {median!r}  # 90% interval {lo!r} to {hi!r}")
    for section, rows in by_section.items():
        lines += ["", f"[{section}]", *rows]
    return ("\n".join(lines) + "\n").encode()


def read_posterior(path: Path) -> pd.DataFrame:
    """Read a posterior file: one column per free parameter (``section.name``) and ``weight``.

    Raises:
        ScenarioError: A missing or unreadable file, an unknown or non-real column, no
            weight column, a value outside a parameter's allowed range, bad weights; the
            message names the file and the column.
    """
    from netsim.scenario import read_user_text

    text = read_user_text(
        Path(path),
        expected="a posterior file (.csv)",
        if_empty="a posterior needs a header row and at least one row",
    )
    try:
        table = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ScenarioError(f"{path}: not a CSV table: {e}") from None
    if POSTERIOR_WEIGHT not in table.columns:
        raise ScenarioError(
            f"{path}: no '{POSTERIOR_WEIGHT}' column; a posterior has one column per free "
            f"parameter (section.name) and '{POSTERIOR_WEIGHT}'"
        )
    for col in table.columns:
        if col == POSTERIOR_WEIGHT:
            continue
        try:
            s = spec(col)
        except ScenarioError as e:
            raise ScenarioError(f"{path}: column '{col}': {e}") from None
        if s.kind != "float":
            raise ScenarioError(
                f"{path}: column '{col}': {col} is {s.allowed()}; a posterior holds "
                "real-valued parameters only"
            )
        v = pd.to_numeric(table[col], errors="coerce")
        bad = v.isna() | (v < s.low) | (v > s.high)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise ScenarioError(
                f"{path}: row {row}, column '{col}': {table[col].iloc[row - 2]!r}; it must be {s.allowed()}"
            )
        table[col] = v.astype(float)
    if len(table.columns) < 2 or table.empty:
        raise ScenarioError(f"{path}: needs at least one parameter column and one row")
    w = pd.to_numeric(table[POSTERIOR_WEIGHT], errors="coerce")
    if w.isna().any() or (w < 0).any() or not w.sum() > 0:
        raise ScenarioError(f"{path}: column '{POSTERIOR_WEIGHT}': must be numbers 0 or more, not all 0")
    table[POSTERIOR_WEIGHT] = w / w.sum()
    return table


def posterior_draws(posterior: pd.DataFrame, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter sets drawn (with replacement, by weight) from a posterior, seeded."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM_DRAWS,)))
    rows = rng.choice(len(posterior), size=n, p=posterior[POSTERIOR_WEIGHT].to_numpy(float))
    keys = [c for c in posterior.columns if c != POSTERIOR_WEIGHT]
    values = posterior[keys].to_numpy(float)
    return [dict(zip(keys, map(float, values[r]), strict=True)) for r in rows]


def prior_draws(targets: Targets, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter sets drawn from the targets' uniform priors, seeded."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM_PRIOR,)))
    lo = np.array([b[0] for b in targets.priors.values()])
    hi = np.array([b[1] for b in targets.priors.values()])
    x = lo + (hi - lo) * rng.random((n, len(lo)))
    return [dict(zip(targets.priors, map(float, row), strict=True)) for row in x]


# -- checks ---------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """A predictive check of the prior and (if there is one) the posterior.

    Attributes:
        table: One row per pattern, ``joint`` and held-out statistic: the shares of prior
            and posterior draws that reproduce it.
        constraints: Per pattern and parameter, how the prior draws that reproduce the
            pattern differ from all prior draws: standardised mean ``shift`` and ``sd_ratio``.
        prior: The prior draws, their statistics and what they reproduce.
        posterior: The same for the posterior draws (None without a posterior).
        seconds: Wall time.
    """

    table: pd.DataFrame
    constraints: pd.DataFrame
    prior: pd.DataFrame
    posterior: pd.DataFrame | None
    seconds: float


def _predictive(
    simulator: Simulator,
    engine: Engine,
    draws: list[dict[str, float]],
    seed: int,
    stream: int,
    on_chunk: Callable[[int], None] | None,
) -> pd.DataFrame:
    seeds = [_seed(seed, stream, i) for i in range(len(draws))]
    stats = simulator.statistics(engine, draws, seeds, tag=f"s{stream}", on_chunk=on_chunk)
    rep = reproduced(stats, simulator.targets.targets)
    return pd.concat([pd.DataFrame(draws), stats.add_prefix("stat:"), rep], axis=1)


def _label(row: str) -> str:
    if row.startswith("pattern_"):
        k = int(row.removeprefix("pattern_"))
        return f"{k}: {PATTERNS[k]}"
    if row == "joint":
        return "all six together"
    return f"held out: {row.removeprefix('held_out:')}"


def check(
    targets: Targets,
    engine: Engine,
    *,
    posterior: pd.DataFrame | None,
    draws: int = 500,
    seed: int = 1,
    simulator: Simulator | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> CheckResult:
    """Prior and posterior predictive check: ``draws`` parameter sets from each, each run with a fresh seed.

    A statistic with ``distance = false`` in the targets is reported on its own row: it was
    not fitted, so its share says something the fit did not force.
    """
    start = time.perf_counter()
    simulator = simulator or Simulator(targets)
    prior = _predictive(simulator, engine, prior_draws(targets, draws, seed), seed, _STREAM_PRIOR, on_chunk)
    post = (
        None
        if posterior is None
        else _predictive(
            simulator, engine, posterior_draws(posterior, draws, seed), seed, _STREAM_POSTERIOR, on_chunk
        )
    )
    rows = [c for c in prior.columns if c.startswith(("pattern_", "held_out:")) or c == "joint"]
    rows = [r for r in rows if not r.startswith("held_out:")] + [r for r in rows if r.startswith("held_out:")]
    table = pd.DataFrame(
        {"pattern": [_label(r) for r in rows], "prior": [float(prior[r].mean()) for r in rows]}
    )
    if post is not None:
        table["posterior"] = [float(post[r].mean()) for r in rows]
    table.insert(0, "row", rows)
    keys = list(targets.priors)
    x = prior[keys]
    sd = x.std(ddof=0).replace(0, np.nan)
    rows_out = []
    for r in [f"pattern_{k}" for k in PATTERNS] + ["joint"]:
        hit = prior[r].to_numpy(bool)
        some = 1 < hit.sum() < len(hit)
        for key in keys:
            shift = (x[key][hit].mean() - x[key].mean()) / sd[key] if some else np.nan
            ratio = x[key][hit].std(ddof=0) / sd[key] if some else np.nan
            rows_out.append({"row": r, "parameter": key, "shift": float(shift), "sd_ratio": float(ratio)})
    constraints = pd.DataFrame(rows_out)
    return CheckResult(table, constraints, prior, post, time.perf_counter() - start)


def constraint_lines(constraints: pd.DataFrame, top: int = 3) -> list[str]:
    """For each pattern, the parameters its prior draws constrain most.

    A parameter counts when the prior draws that reproduce the pattern have a mean at least
    0.15 standard deviations away from all draws' (``shift``), or a spread at most 0.85 of
    theirs (``sd_ratio``: a two-sided constraint moves no mean).
    """
    out = []
    for row, part in constraints.groupby("row", sort=False):
        strength = np.maximum(part["shift"].abs() / 0.15, (1 - part["sd_ratio"]) / 0.15)
        part = part.assign(strength=strength)
        part = part[part["strength"] >= 1].sort_values("strength", ascending=False).head(top)
        words = []
        for r in part.itertuples():
            bits = []
            if abs(r.shift) >= 0.15:
                bits.append(f"{'higher' if r.shift > 0 else 'lower'} by {abs(r.shift):.2f} sd")
            if r.sd_ratio <= 0.85:
                bits.append(f"spread x{r.sd_ratio:.2f}")
            words.append(f"{r.parameter} ({', '.join(bits)})")
        out.append(f"{_label(str(row))}: {', '.join(words) or 'no parameter (none shifts or narrows)'}")
    return out


def pairs_chart(posterior: pd.DataFrame, targets: Targets, *, title: str = "") -> Figure:
    """The posterior's marginals (diagonal) and pairs (below it), over the prior ranges."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def label(key: str) -> str:  # "section" over the name, the name wrapped at its underscores
        section, _, name = key.partition(".")
        lines = textwrap.wrap(name.replace("_", " "), 16) or [name]
        return "\n".join([section, *(line.replace(" ", "_") for line in lines)])

    keys = list(targets.priors)
    k = len(keys)
    w = posterior[POSTERIOR_WEIGHT].to_numpy(float)
    fig, axes = plt.subplots(k, k, figsize=(1.6 * k + 1.5, 1.6 * k + 1.2), squeeze=False)
    for i, yi in enumerate(keys):
        for j, xj in enumerate(keys):
            ax = axes[i][j]
            if j > i:
                ax.set_visible(False)
                continue
            lo, hi = targets.priors[xj]
            if i == j:
                ax.hist(posterior[xj], bins=20, range=(lo, hi), weights=w, color="#4c72b0")
                ax.set_yticks([])
            else:
                ax.scatter(posterior[xj], posterior[yi], s=4 + 400 * w, alpha=0.5, color="#4c72b0", lw=0)
                ax.set_ylim(*targets.priors[yi])
            ax.set_xlim(lo, hi)
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(label(xj), fontsize=7)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(label(yi), fontsize=7)
            elif j > 0:
                ax.set_yticklabels([])
    fig.suptitle(
        title or "Posterior: marginals (diagonal, weighted histogram) and pairs; axes span the prior",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# -- parameter recovery ---------------------------------------------------------------------


@dataclass
class Recovery:
    """Parameter recovery on pseudo-observed data.

    Attributes:
        table: One row per truth x parameter: truth, posterior median, 90% interval,
            whether it covers the truth, and the interval's width as a share of the prior's.
        calibrations: Each recovery calibration's result.
    """

    table: pd.DataFrame
    calibrations: list[CalibrationResult]


def recover(
    targets: Targets,
    engine: Engine,
    *,
    truths: int,
    settings: Settings,
    folder: Path,
    posterior: pd.DataFrame | None = None,
    on_generation: Callable[[GenerationReport], None] | None = None,
    on_truth: Callable[[int, dict[str, float]], None] | None = None,
) -> Recovery:
    """Calibrate against statistics simulated from ``truths`` known parameter sets; check the 90% intervals.

    The known sets are drawn from ``posterior`` if given (where the study's patterns hold),
    else from the prior. Each is simulated once (a fresh seed); its statistics become the
    targets (:meth:`netsim.patterns.Targets.with_observed`), and a calibration with
    ``settings`` runs into ``folder/recover-K.db``.
    """
    simulator = Simulator(targets)
    known = (
        posterior_draws(posterior, truths, settings.seed + 1)
        if posterior is not None
        else prior_draws(targets, truths, settings.seed + 1)
    )
    seeds = [_seed(settings.seed, _STREAM_RECOVERY, i) for i in range(truths)]
    observed = simulator.statistics(engine, known, seeds, tag="truth")
    rows, results = [], []
    for i, truth in enumerate(known):
        if on_truth:
            on_truth(i, truth)
        mine = targets.with_observed(observed.iloc[i].to_dict())
        sim = Simulator(mine, simulator.scenario)
        res = calibrate(
            mine,
            folder / f"recover-{i + 1}.db",
            dataclasses.replace(settings, seed=settings.seed + i),
            engine,
            fresh=True,
            simulator=sim,
            on_generation=on_generation,
        )
        results.append(res)
        for key, (median, lo, hi) in point_estimates(res.posterior).items():
            plo, phi = targets.priors[key]
            rows.append(
                {
                    "truth_set": i + 1,
                    "parameter": key,
                    "truth": round(truth[key], 4),
                    "median": median,
                    "low_90": lo,
                    "high_90": hi,
                    "covered": bool(lo <= truth[key] <= hi),
                    "width_share": round((hi - lo) / (phi - plo), 3),
                }
            )
    return Recovery(pd.DataFrame(rows), results)
