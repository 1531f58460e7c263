"""Engines that run a batch's chunks: in the calling process, on local worker processes, on Dask.

* :class:`InProcessEngine`: one worker, the calling process itself (nothing to start);
* :class:`ProcessPoolEngine`: local worker processes (the default for ``--workers`` > 1);
  a worker that dies is replaced and its chunks are tried again;
* :class:`DaskEngine`: a ``distributed.LocalCluster`` or a running Dask scheduler.

Each yields :class:`~netsim.store.ChunkResult` objects as chunks finish; what a chunk
produces does not depend on the engine (see :mod:`netsim.batch`).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from netsim.batch import BatchError, Chunk, RunContext, failed_chunk, limit_blas_threads, run_chunk
from netsim.store import ChunkResult

__all__ = ["DASK_CONNECT_TIMEOUT", "DaskEngine", "Engine", "InProcessEngine", "ProcessPoolEngine",
           "make_engine"]

#: Seconds to wait for a Dask scheduler (and for its first worker) before giving up.
DASK_CONNECT_TIMEOUT = 5.0
#: How often a chunk is tried when worker processes die under it.
_ATTEMPTS = 3


class Engine(Protocol):
    """Runs chunks somewhere and yields their results as they finish."""

    name: str
    slots: int

    def results(self, chunks: Sequence[Chunk]) -> Iterator[ChunkResult]:
        """Yield each chunk's result, in the order they finish."""
        ...

    def close(self) -> None:
        """Stop the workers."""
        ...


class InProcessEngine:
    """One worker: the calling process runs the chunks itself (nothing to start)."""

    name = "in-process"
    slots = 1

    def __init__(self, context: RunContext) -> None:
        self.context = context

    def results(self, chunks: Sequence[Chunk]) -> Iterator[ChunkResult]:
        """Run the chunks one after the other."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            for c in chunks:
                yield run_chunk(self.context, c)

    def close(self) -> None:
        """Nothing to stop."""


_WORKER_CONTEXT: RunContext | None = None


def _die_with_parent(parent: int) -> None:
    """Have the kernel stop this worker if the batch process dies (Linux), e.g. by kill -9."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent > 0 and os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _init_worker(context: RunContext, parent: int) -> None:
    global _WORKER_CONTEXT
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _die_with_parent(parent)
    _WORKER_CONTEXT = context
    limit_blas_threads()


def _pool_task(chunk: Chunk) -> ChunkResult:
    assert _WORKER_CONTEXT is not None
    return run_chunk(_WORKER_CONTEXT, chunk)


def _ready() -> bool:
    return _WORKER_CONTEXT is not None


class ProcessPoolEngine:
    """Local worker processes (embedded: nothing to start by hand).

    Workers are forked at once, before the main process starts any thread (or started by a
    fork server if other threads already run), and each is given the :class:`RunContext`
    once. If a worker dies, the pool is replaced and the
    chunks it had are tried again (up to 3 times, then recorded as failed).

    Args:
        context: What the workers need.
        workers: Number of worker processes.
    """

    name = "local processes"

    def __init__(self, context: RunContext, workers: int) -> None:
        self.context = context
        self.slots = workers
        methods = mp.get_all_start_methods()
        # Forking is the fast start (nothing to import again) and is safe while no other Python
        # thread runs: the only other threads then are the BLAS libraries' idle pools, which
        # handle fork themselves. Otherwise (e.g. in a notebook) use a fork server.
        safe_fork = "fork" in methods and threading.active_count() == 1
        self._pool = self._new_pool("fork" if safe_fork else "forkserver" if "forkserver" in methods
                                    else "spawn")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
            for f in [self._pool.submit(_ready) for _ in range(workers)]:
                f.result()

    def _new_pool(self, method: str) -> ProcessPoolExecutor:
        ctx = mp.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(["netsim.batch"])
        # a forked worker's parent is this process; a forkserver's is the server, which ends with it
        parent = os.getpid() if method == "fork" else -1
        return ProcessPoolExecutor(self.slots, mp_context=ctx, initializer=_init_worker,
                                   initargs=(self.context, parent))

    def results(self, chunks: Sequence[Chunk]) -> Iterator[ChunkResult]:
        """Run the chunks on the pool; yield results as they come."""
        attempts = dict.fromkeys((c.key for c in chunks), 0)
        pending: dict[Future[ChunkResult], Chunk] = {self._pool.submit(_pool_task, c): c for c in chunks}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken: list[Chunk] = []
            for f in done:
                c = pending.pop(f)
                try:
                    yield f.result()
                except BrokenProcessPool:
                    broken.append(c)
                except Exception as e:  # noqa: BLE001 - e.g. a result that cannot be sent back
                    yield failed_chunk(self.context, c, f"chunk failed: {type(e).__name__}: {e}")
            if broken:
                broken += list(pending.values())  # every other task of a broken pool is lost too
                self._terminate()
                # this process may have threads by now (progress bar, Parquet): no more forks of it
                self._pool = self._new_pool("forkserver" if "forkserver" in mp.get_all_start_methods()
                                            else "spawn")
                pending = {}
                for c in broken:
                    attempts[c.key] += 1
                    if attempts[c.key] >= _ATTEMPTS:
                        yield failed_chunk(self.context, c, f"a worker process died running this chunk "
                                                             f"({_ATTEMPTS} attempts)")
                    else:
                        pending[self._pool.submit(_pool_task, c)] = c

    def _terminate(self) -> None:
        # ProcessPoolExecutor has no public way to stop busy workers before Python 3.14
        pool = self._pool
        manager = getattr(pool, "_executor_manager_thread", None)
        results = getattr(pool, "_result_queue", None)
        workers = list((getattr(pool, "_processes", None) or {}).values())
        for p in workers:
            if p.is_alive():
                p.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        for p in workers:
            p.join(timeout=5)
        if manager is None or results is None:
            return
        # A worker stopped while it was sending a result leaves half a message in the result
        # pipe, and the pool's manager thread waits for the rest for ever (and this process
        # with it, at exit). With every worker gone, this process holds the pipe's only write
        # end: closing it turns that wait into end-of-file, which the thread takes for a
        # broken pool, and it ends.
        manager.join(timeout=1)
        if manager.is_alive() and not any(p.is_alive() for p in workers):
            results._writer.close()
            manager.join(timeout=5)

    def close(self) -> None:
        """Stop the workers, whatever they are doing."""
        self._terminate()


_DASK_ADDRESS = re.compile(r"^tcp://[^\s:/]+:\d{1,5}$")


class DaskEngine:
    """A Dask cluster: a new ``distributed.LocalCluster``, or a running scheduler.

    Args:
        context: What the workers need; sent to the cluster once, as a task's result that
            is computed again if every worker holding it dies.
        address: ``"local"`` or ``tcp://HOST:PORT`` of a running ``dask scheduler``.
        workers: Worker processes of a local cluster (ignored for a running one).

    Raises:
        BatchError: A bad address, no scheduler answering within
            :data:`DASK_CONNECT_TIMEOUT` seconds, or a scheduler with no workers.
    """

    def __init__(self, context: RunContext, address: str, workers: int) -> None:
        self.context = context
        self._cluster = None
        if address != "local" and not _DASK_ADDRESS.match(address):
            raise BatchError(f"--dask {address!r}: give 'local' or the scheduler's address as tcp://HOST:PORT")
        from distributed import Client, LocalCluster

        if address == "local":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "port 8787 in use": it takes another
                self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.ERROR,
                                             death_timeout=10)  # workers end if this process dies
            self._client = Client(self._cluster, set_as_default=False)
            self.name = f"Dask local cluster ({workers} workers)"
        else:
            logging.getLogger("distributed").setLevel(logging.CRITICAL)
            try:
                self._client = Client(address, timeout=f"{DASK_CONNECT_TIMEOUT}s", set_as_default=False)
            except (OSError, TimeoutError) as e:
                raise BatchError(f"--dask {address}: no Dask scheduler answered within "
                                 f"{DASK_CONNECT_TIMEOUT:.0f} s ({type(e).__name__}); start one with "
                                 "`dask scheduler` and `dask worker tcp://HOST:PORT`") from None
            try:
                self._client.wait_for_workers(1, timeout=DASK_CONNECT_TIMEOUT)
            except TimeoutError:
                self._client.close()
                raise BatchError(f"--dask {address}: the scheduler has no workers; start some with "
                                 f"`dask worker {address}`") from None
            self.name = f"Dask cluster at {address}"
        self.slots = max(1, sum(w.get("nthreads", 1) for w in
                                self._client.scheduler_info(n_workers=-1)["workers"].values()))
        # The context as the result of a task, not scattered data: Dask keeps one copy of a
        # result (its memory manager drops the others once no task on a worker needs them),
        # and a scattered value whose last copy dies with its worker is lost for good, with
        # every chunk still to run; a task's result is computed again on another worker.
        with warnings.catch_warnings():  # "Sending large graph": sent once, on purpose (a large survey)
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            self._context = self._client.submit(_the_context, context, key=f"netsim-context-{time.time_ns()}",
                                                pure=False)

    def results(self, chunks: Sequence[Chunk]) -> Iterator[ChunkResult]:
        """Submit every chunk (Dask retries a task whose worker died); yield as they finish."""
        from distributed import as_completed

        by_key = {}
        futures = []
        for c in chunks:
            f = self._client.submit(run_chunk, self._context, c, key=f"netsim-chunk-{c.key}-{time.time_ns()}",
                                    pure=False, retries=2)
            by_key[f.key] = c
            futures.append(f)
        for f in as_completed(futures, loop=self._client.loop):
            c = by_key[f.key]
            if f.status == "finished":
                yield f.result()
            else:
                yield failed_chunk(self.context, c, f"chunk failed on the cluster: {f.exception()!r}")
            f.release()

    def close(self) -> None:
        """Disconnect; stop the local cluster if this engine started it."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _the_context(context: RunContext) -> RunContext:
    """The batch's context, as a Dask task (see :class:`DaskEngine`)."""
    return context


def make_engine(context: RunContext, *, workers: int = 1, dask: str | None = None) -> Engine:
    """The engine asked for: Dask if ``dask`` is given, else local processes or this one."""
    if workers < 1:
        raise BatchError(f"--workers must be 1 or more (got {workers})")
    if dask:
        return DaskEngine(context, dask, workers)
    if workers == 1:
        return InProcessEngine(context)
    return ProcessPoolEngine(context, workers)


