"""Shared fixtures: the baseline scenario, small hand-made group states and graphs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

from netsim import Scenario, load_scenario
from netsim.population import CAPACITIES, GOALS, features
from netsim.state import VALUES, GroupState, initial_state

# Property-based tests: "ci" (the default) tries a bounded, repeatable set of inputs per
# property, so the suite stays quick and a failure can be rerun; HYPOTHESIS_PROFILE=dev
# explores many more, with fresh random inputs each time.
_HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=120, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_HEALTH)
settings.register_profile("dev", max_examples=3000, deadline=None, suppress_health_check=_HEALTH)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: Inputs tried by the property-based tests, by test; reported at the end of the session.
INPUTS_TRIED: Counter[str] = Counter()


@pytest.fixture
def count_input(request) -> Callable[[], None]:
    """Count one generated input tried by the calling test."""
    name = request.node.originalname

    def count() -> None:
        INPUTS_TRIED[name] += 1

    return count


def pytest_terminal_summary(terminalreporter) -> None:
    if INPUTS_TRIED:
        total = sum(INPUTS_TRIED.values())
        terminalreporter.write_line(f"property-based tests: {total} generated inputs tried "
                                    f"({', '.join(f'{k} {v}' for k, v in sorted(INPUTS_TRIED.items()))})")


PROJECT = Path(__file__).resolve().parent.parent
BASELINE = PROJECT / "scenarios" / "baseline.toml"
MONTH = 10

#: Goal vectors that put one purpose first, by name.
GOAL_FIRST = {g: [0.6 if h == g else 0.1 for h in GOALS] for g in GOALS}


@pytest.fixture(scope="session")
def baseline_path() -> Path:
    return BASELINE


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


def groups_table(districts: Sequence[str], *, kinds: Sequence[str] | None = None,
                 origins: Sequence[str] | None = None,
                 capacities: np.ndarray | Sequence[Sequence[float]] | None = None,
                 support: Sequence[str] | None = None) -> pd.DataFrame:
    n = len(districts)
    caps = np.full((n, len(CAPACITIES)), 0.5) if capacities is None else np.asarray(capacities, float)
    table = pd.DataFrame({
        "group_id": [f"G{i:03d}" for i in range(n)],
        "district": list(districts),
        "kind": list(kinds) if kinds is not None else ["farmer_occupational_group"] * n,
        "registered": [False] * n,
        "parent_id": [""] * n,
        "origin": list(origins) if origins is not None else ["agency"] * n,
        "support_sources": list(support) if support is not None else ["none"] * n,
        **{c: caps[:, j] for j, c in enumerate(CAPACITIES)},
        "prior_network": [""] * n,
    })
    return table


@pytest.fixture
def make_table() -> Callable[..., pd.DataFrame]:
    return groups_table


def build_state(districts: Sequence[str], *, kinds: Sequence[str] | None = None,
                capacities: np.ndarray | Sequence[Sequence[float]] | None = None,
                goals: np.ndarray | Sequence[Sequence[float]] | None = None,
                values: np.ndarray | Sequence[Sequence[float]] | None = None,
                participating: bool | Sequence[bool] = True, seed: int = 0) -> GroupState:
    """A state of hand-made groups with no ties, everyone participating by default."""
    table = groups_table(districts, kinds=kinds, capacities=capacities)
    state = initial_state(features(table), rng=np.random.default_rng(seed), prior_tie_strength=0.5)
    state.participating[:] = participating
    if goals is not None:
        state.goals = np.array(goals, dtype=float)
    if values is not None:
        state.values = np.array(values, dtype=float)
    return state


@pytest.fixture
def make_state() -> Callable[..., GroupState]:
    return build_state


def build_graph(n: int, edges: Sequence[tuple[int, int]], *, district: str | Sequence[str] = "A",
                leadership: float | Sequence[float] = 0.2, goal: str | Sequence[str] = "marketing",
                values: Sequence[Sequence[float]] | None = None, strength: float = 0.9,
                last_activity: int = MONTH, kind: str = "joint_activity") -> nx.Graph:
    """A graph the classifier reads: node and edge attributes as ``classify_graph`` needs.

    ``graph.graph["month"]`` is the month to classify at: edges were active then by default.
    """
    g = nx.Graph(month=MONTH)
    spread = np.linspace(0.05, 0.95, n)
    for i in range(n):
        g.add_node(
            i,
            district=district if isinstance(district, str) else district[i],
            leadership=leadership if isinstance(leadership, float) else leadership[i],
            goals=GOAL_FIRST[goal if isinstance(goal, str) else goal[i]],
            values=[spread[i]] * len(VALUES) if values is None else list(values[i]),
        )
    g.add_edges_from(edges, strength=strength, last_activity=last_activity, kind=kind)
    return g


@pytest.fixture
def make_graph() -> Callable[..., nx.Graph]:
    return build_graph


@pytest.fixture
def structured_graph() -> nx.Graph:
    """Four groups of one district around a strong leader (node 0), all marketing first,
    active last month, with values far apart: a structured network without shared ideology."""
    leadership = [0.9, 0.2, 0.2, 0.2]
    return build_graph(4, [(0, 1), (0, 2), (0, 3), (1, 2)], leadership=leadership)


# -- a real Dask cluster ------------------------------------------------------------------------


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def dask_cluster():
    """A real `dask scheduler` and `dask worker` (2 worker processes, each with a nanny that
    restarts it if it dies) on 127.0.0.1; the workers can import the test modules."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    tests = str(Path(__file__).resolve().parent)
    env = {**os.environ, "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p)}
    dask = str(Path(sys.executable).parent / "dask")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": PROJECT,
             "start_new_session": True}  # each in its own process group, to end it with its children
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], **quiet)]
    procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1",
                                   "--host", "127.0.0.1", "--no-dashboard"], **quiet))
    try:
        from distributed import Client

        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(address, timeout="2s") as client:
                    client.wait_for_workers(2, timeout=120)
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield address
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


@pytest.fixture
def dask_scheduler(dask_cluster, monkeypatch) -> str:
    """The address of the session's Dask cluster, given time to answer on a busy machine.

    The engine waits 5 s for a scheduler that may not be there (what a user waits);
    this one is known to be up, and a machine under load once took longer to connect.
    """
    from netsim import engines

    monkeypatch.setattr(engines, "DASK_CONNECT_TIMEOUT", 60.0)
    return dask_cluster


#: A survey as field staff save it from a spreadsheet: CRLF line ends, a Thai name column,
#: Thai district names, and extra columns (village, phone, notes with a formula-like cell).
THAI_SURVEY = "\r\n".join([
    "group_id,name,district,kind,parent_id,origin,support_sources,leadership,finance,production,marketing,"
    "knowledge,village,phone,notes",
    "C1,สหกรณ์การเกษตรยางตลาด,ยางตลาด,cooperative,,self,cooperative_promotion,0.5,0.5,0.5,0.5,0.5,"
    "บ้านนาดี,+66 81 234 5678,=1+1",
    "M1,กลุ่มออมทรัพย์บ้านนาดี,ยางตลาด,savings_group,C1,agency,none,0.4,0.4,0.4,0.4,0.4,บ้านนาดี,,",
    "U1,กลุ่มทอผ้าไหม,กมลาไสย,farmer_occupational_group,,self,ngo,0.3,0.3,0.3,0.3,0.3,"
    "บ้านโนน,081-234-5678,ขายที่ตลาด",
]) + "\r\n"


@pytest.fixture
def thai_survey() -> str:
    return THAI_SURVEY
