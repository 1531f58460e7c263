"""The result store of a batch: Parquet tables written in atomic chunks, a manifest, resume.

A store is one folder::

    DIR/
      manifest.json          what the batch is (its plan) and where it came from
      runs/part-KEY.parquet      one row per run of a chunk: identity, seed, ok or error
      monthly/part-KEY.parquet   one row per run x month: the model-level outputs
      groups/part-KEY.parquet    one row per run x group: the final per-group state
      outcomes/part-KEY.parquet  one row per run: when each outcome first held, for how long,
                                 and at the end (netsim/outcomes.py)
      ties/part-KEY.parquet      one row per run x tie at the final month (``batch --keep-ties``)

Each finished chunk of runs is written as one part in each table, each part through a
temporary file (a name starting with ``.``, which Parquet readers skip) that is synced
and then renamed into place. The ``runs`` part is written last: it is the chunk's commit
record. A data part without its ``runs`` part is left over from an interrupted write and
is removed when the store is opened again, so after a resume every run is present
exactly once and every file is whole.

``pandas.read_parquet(DIR / "monthly")`` reads a table as it stands; :meth:`ResultStore.read`
does the same in a stable order.

The manifest records the model version that made the results (``model_version``, and
each session's). A folder made by another model version is refused for resuming and
reporting (:class:`OtherVersionError`) unless the caller accepts it, so results of two
versions of the model are never mixed or shown as the current model's without saying so.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported where a table is written or read, not by every command
    import pandas as pd

__all__ = ["MANIFEST", "TABLES", "ChunkResult", "OtherVersionError", "ResultStore", "StoreError", "csv_bytes",
           "csv_text", "extends", "safe_cell", "stored_versions", "write_bytes_atomic", "write_csv"]

#: The manifest's file name inside a store.
MANIFEST = "manifest.json"
#: The store's tables, each a folder of Parquet parts; ``runs`` is the commit record (last;
#: ``ties`` holds parts only for a batch that keeps its final ties).
TABLES = ("monthly", "groups", "outcomes", "ties", "runs")
_FORMAT = "netsim-results/1"
_LOCK = ".lock"


class StoreError(ValueError):
    """A results folder that cannot be used for this batch; the message says why."""


class OtherVersionError(StoreError):
    """A results folder made by another model version than this one.

    Attributes:
        path: The folder.
        stored: The model versions that wrote into it.
        current: This installation's model version.
    """

    def __init__(self, path: Path, stored: list[str], current: str) -> None:
        self.path, self.stored, self.current = path, stored, current
        super().__init__(f"{path}: holds results of model version {', '.join(stored)}, but this is "
                         f"model version {current}; the model's code has changed since")


#: What :func:`stored_versions` says of a folder made before model versions were recorded.
UNKNOWN_VERSION = "unknown (not recorded)"


def stored_versions(manifest: Mapping[str, Any]) -> list[str]:
    """Every model version that wrote into a store, from its manifest, first one first."""
    records = [manifest, *(s for s in manifest.get("sessions", []) if isinstance(s, dict))]
    found = [r.get("model_version") for r in records]
    return list(dict.fromkeys(v if isinstance(v, str) and v else UNKNOWN_VERSION for v in found))


@dataclass
class ChunkResult:
    """What one chunk of runs produced, ready to be stored.

    Attributes:
        key: The chunk's name (a hash of its run ids), used in its part file names.
        tables: Parquet bytes of each table's part (``runs`` always, the others only if
            at least one run of the chunk succeeded, ``ties`` only if the batch keeps them).
        run_ids: Every run of the chunk, succeeded or failed.
        failures: One record per failed run: ``run_id``, ``label``, ``seed``, ``error``.
    """

    key: str
    tables: dict[str, bytes]
    run_ids: list[str]
    failures: list[dict[str, Any]] = field(default_factory=list)


def write_bytes_atomic(path: Path, data: bytes | Callable[[Path], None]) -> None:
    """Write a file whole or not at all: a synced temporary file, then a rename.

    Args:
        path: Final path; its folder is made if need be.
        data: The bytes, or a function that writes the temporary path it is given.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(data, bytes | bytearray | memoryview):
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        else:
            data(tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: First characters that make a spreadsheet read a text cell as a formula (or hide one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell as a spreadsheet should see it: text that could start a formula is neutralised.

    Text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading apostrophe (which spreadsheets read as "this is text"), unless the whole text
    is a number such as ``-3.5``; numbers and everything that is not text are kept.

    Example:
        >>> safe_cell("=HYPERLINK(1)"), safe_cell("-2.5"), safe_cell(-2.5)
        ("'=HYPERLINK(1)", '-2.5', -2.5)
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def csv_text(table: pd.DataFrame, **to_csv: Any) -> str:
    """A table as CSV text with every text cell spreadsheet-safe: what :func:`write_csv` writes.

    Text cells and column names go through :func:`safe_cell`; numeric columns are
    written as numbers. Extra keywords go to :meth:`pandas.DataFrame.to_csv` (``index``
    defaults to False). For CSV that is not written to a file (the page's downloads).
    """
    import csv

    import pandas as pd

    safe = table.copy()
    safe.columns = [safe_cell(str(c)) for c in safe.columns]
    carriage_return = False
    for i in range(safe.shape[1]):
        values = safe.iloc[:, i]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
            values = values.astype(object).map(safe_cell)
            carriage_return |= bool(values.map(lambda v: isinstance(v, str) and "\r" in v).any())
            safe.isetitem(i, values)
    to_csv.setdefault("index", False)
    if carriage_return:  # the csv module quotes a lone CR only when told to quote every text cell
        to_csv.setdefault("quoting", csv.QUOTE_NONNUMERIC)
    return safe.to_csv(**to_csv)


def csv_bytes(table: pd.DataFrame, **to_csv: Any) -> bytes:
    """A table as the bytes of a CSV file: :func:`csv_text` in UTF-8 with a byte-order mark.

    The mark tells a spreadsheet the text is UTF-8 (without it, Excel reads Thai names as
    the Windows code page, garbled); netsim's own readers and pandas skip it. What
    :func:`write_csv` writes and the page's downloads hand out.
    """
    return csv_text(table, **to_csv).encode("utf-8-sig")


def write_csv(path: Path, table: pd.DataFrame, **to_csv: Any) -> None:
    """Write a table as CSV (:func:`csv_bytes`), atomically, with every text cell spreadsheet-safe.

    The one writer of every CSV file netsim makes. Extra keywords go to
    :meth:`pandas.DataFrame.to_csv` (``index`` defaults to False).
    """
    write_bytes_atomic(Path(path), csv_bytes(table, **to_csv))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ResultStore:
    """A batch's results folder (see the module docstring for its layout).

    Args:
        path: The folder. Nothing is created until :meth:`open`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None
        self.manifest: dict[str, Any] = {}

    # -- checks that write nothing ------------------------------------------------------

    def existing_manifest(self) -> dict[str, Any] | None:
        """The manifest of an earlier batch in this folder, or None if it is new.

        Raises:
            StoreError: The path is a file, or a folder with other things in it and no
                manifest, or its manifest cannot be read.
        """
        p = self.path
        if p.exists() and not p.is_dir():
            raise StoreError(f"{p}: exists and is not a folder; --out needs a folder")
        if not p.exists():
            _check_creatable(p)
            return None
        if not os.access(p, os.W_OK | os.X_OK) or os.statvfs(p).f_flag & os.ST_RDONLY:
            raise StoreError(f"{p}: cannot write there (no permission or a read-only file system)")
        m = p / MANIFEST
        if not m.exists():
            foreign = [c.name for c in p.iterdir()
                       if not c.name.startswith(".") and not (c.name in TABLES and c.is_dir())]
            if foreign:
                held = ", ".join(sorted(foreign)[:5])
                raise StoreError(f"{p}: not a netsim results folder (it holds {held} and no "
                                 "manifest.json); choose a new or empty folder")
            return None
        try:
            data = json.loads(m.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise StoreError(f"{m}: cannot read the manifest ({e})") from None
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise StoreError(f"{m}: not a netsim results manifest (format {_FORMAT} expected)")
        return data

    def check_plan(self, plan: Mapping[str, Any]) -> dict[str, Any] | None:
        """Check that this folder is new, or holds the same plan or one this plan extends; write nothing.

        A plan *extends* the stored one when it has the same scenarios, parameter values,
        base seed and swept keys, at least as many replicates and every swept value of it
        (:func:`extends`): its runs are then the stored runs and new ones, and the stored
        runs have the seeds the new plan gives them, so only the new runs need running.

        Args:
            plan: The plan record (with a ``sha256`` over every run and its seed).

        Returns:
            The existing manifest, or None for a new store.

        Raises:
            StoreError: The folder cannot be used, or holds a different batch.
        """
        old = self.existing_manifest()
        if old is None:
            return None
        before = old.get("plan", {})
        if before.get("sha256") != plan.get("sha256") and not extends(plan, before):
            raise StoreError(f"{self.path}: holds the results of a different batch ("
                             f"{_first_difference(before, plan)}); rerun the same command to resume "
                             "it, add replicates or sweep values to extend it, or choose another --out "
                             "folder")
        return old

    def check_version(self, current: str, *, accept: bool = False) -> dict[str, Any] | None:
        """Check that results here were made by model version ``current``; write nothing.

        Args:
            current: This installation's model version (:func:`netsim.version.model_version`).
            accept: Accept a folder made by other versions all the same.

        Returns:
            The existing manifest, or None for a new store.

        Raises:
            OtherVersionError: Another model version wrote here, and ``accept`` is false.
            StoreError: The folder cannot be used at all.
        """
        old = self.existing_manifest()
        if old is None:
            return None
        stored = stored_versions(old)
        if stored != [current] and not accept:
            raise OtherVersionError(self.path, stored, current)
        return old

    def move_aside(self) -> Path:
        """Rename this folder to a sibling named by its model version; return the new path.

        Used to start a batch afresh where an older model's results are, keeping them.

        Raises:
            StoreError: Another batch is writing there now, or the folder cannot be renamed.
        """
        old = self.existing_manifest() or {}
        tag = stored_versions(old)[-1].rpartition("+")[2] if old.get("model_version") else "unversioned"
        target = self.path.with_name(f"{self.path.name}.model-{tag}")
        n = 2
        while target.exists():
            target = self.path.with_name(f"{self.path.name}.model-{tag}-{n}")
            n += 1
        self._lock()
        try:
            os.rename(self.path, target)
        except OSError as e:
            raise StoreError(f"{self.path}: cannot move it aside to {target.name} ({e.strerror})") from None
        finally:
            self.close()
        return target

    # -- opening, resuming --------------------------------------------------------------

    def open(self, manifest: dict[str, Any], *, accept_other_version: bool = False) -> set[str]:
        """Create or reopen the store, lock it, and tidy what an interruption left.

        Args:
            manifest: The new batch's manifest (``plan`` and provenance, with its
                ``model_version``). For an existing store, its plan must be the same; the
                earlier record is kept and this session is appended to ``sessions``.
            accept_other_version: Resume a store made by another model version all the
                same (each session records its own version).

        Returns:
            The ids of the runs already stored (succeeded or failed).

        Raises:
            OtherVersionError: The store was made by another model version (unless accepted).
            StoreError: The folder is locked by another batch, or holds another plan.
        """
        if manifest.get("model_version"):
            self.check_version(manifest["model_version"], accept=accept_other_version)
        old = self.check_plan(manifest["plan"])
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        keep_ties = bool(manifest["plan"].get("keep_ties"))
        for t in TABLES:
            if t != "ties" or keep_ties:
                (self.path / t).mkdir(exist_ok=True)
        session: dict[str, Any] = {"command": manifest.get("command"), "started": _now(),
                                   "model_version": manifest.get("model_version")}
        if old is None:
            self.manifest = {"format": _FORMAT, **manifest, "status": "running", "sessions": []}
        else:
            self.manifest = old
            self.manifest["status"] = "running"
            if old.get("plan", {}).get("sha256") != manifest["plan"].get("sha256"):
                session["extended"] = {"runs_before": old["plan"].get("runs"),
                                       "runs": manifest["plan"].get("runs")}
                self.manifest["plan"] = manifest["plan"]
        self.manifest["sessions"].append(session)
        self._write_manifest()
        return self._tidy()

    def _lock(self) -> None:
        fd = os.open(self.path / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise StoreError(f"{self.path}: another batch is writing to this folder now") from None
            raise
        self._lock_fd = fd

    def close(self) -> None:
        """Release the folder's lock."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _parts(self, table: str) -> dict[str, Path]:
        folder = self.path / table
        if not folder.is_dir():
            return {}
        return {p.name[len("part-"):-len(".parquet")]: p for p in folder.glob("part-*.parquet")}

    def _tidy(self) -> set[str]:
        """Remove temporary files and parts without a commit record; return stored run ids."""
        import pyarrow.parquet as pq

        for folder in (self.path, *(self.path / t for t in TABLES)):
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        done: set[str] = set()
        committed: set[str] = set()
        for key, part in self._parts("runs").items():
            try:
                ids = pq.ParquetFile(part).read(columns=["run_id"], use_threads=False).column(0).to_pylist()
            except (OSError, ValueError):  # unreadable: treat the chunk as never written
                part.unlink(missing_ok=True)
                continue
            fresh = set(ids) - done
            if len(fresh) < len(ids):  # a run stored twice cannot happen with the lock; refuse it
                raise StoreError(f"{part}: runs already stored in another part; the folder was "
                                 "written by two batches at once")
            done |= fresh
            committed.add(key)
        for t in TABLES[:-1]:
            for key, part in self._parts(t).items():
                if key not in committed:
                    part.unlink(missing_ok=True)
        return done

    # -- writing ------------------------------------------------------------------------

    def write_chunk(self, result: ChunkResult) -> None:
        """Store one chunk: its data parts, then its ``runs`` part (the commit record)."""
        for t in TABLES:  # the runs part, the commit record, last
            data = result.tables.get(t)
            if data is not None:
                write_bytes_atomic(self.path / t / f"part-{result.key}.parquet", data)

    def finish(self, status: str, **counts: Any) -> None:
        """Record the end of this session: its status and counts, and the end time."""
        now = _now()
        self.manifest["status"] = status
        self.manifest["ended"] = now
        self.manifest["sessions"][-1].update(ended=now, status=status, **counts)
        self.manifest.setdefault("started", self.manifest["sessions"][0]["started"])
        self._write_manifest()

    def _write_manifest(self) -> None:
        text = json.dumps(self.manifest, indent=2, default=_json_default)
        write_bytes_atomic(self.path / MANIFEST, text.encode("utf-8"))

    # -- reading ------------------------------------------------------------------------

    def read(self, table: str, *, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Read one table of :data:`TABLES` (``monthly``, ``outcomes``, ...), every committed part.

        Rows are sorted by scenario, the varied parameters, replicate and month (or group).
        """
        import pandas as pd
        import pyarrow.parquet as pq

        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        committed = set(self._parts("runs"))
        parts = [p for k, p in sorted(self._parts(table).items()) if k in committed]
        cols = list(columns) if columns is not None else None
        if not parts:
            return pd.DataFrame(columns=cols or [])
        frames = [pq.read_table(p, columns=cols).to_pandas() for p in parts]
        df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        inputs = [k for k in self.manifest_or_disk().get("plan", {}).get("inputs", []) if k in df]
        order = [c for c in ("scenario", *inputs, "replicate", "month", "group_id") if c in df]
        return df.sort_values(order, kind="stable", ignore_index=True) if order else df

    def manifest_or_disk(self) -> dict[str, Any]:
        """The manifest of this session, or the one on disk when the store is only being read."""
        if self.manifest:
            return self.manifest
        return self.existing_manifest() or {}

    def failures(self) -> pd.DataFrame:
        """The runs that raised: identity, seed and error."""
        runs = self.read("runs")
        if runs.empty:
            return runs
        return runs[runs["status"] == "error"].reset_index(drop=True)


def _check_creatable(path: Path) -> None:
    """Check that a missing folder could be made: its nearest existing parent is a writable folder."""
    parent = next((a for a in path.absolute().parents if a.exists()), None)
    if parent is None:
        return
    if not parent.is_dir():
        raise StoreError(f"{path}: {parent} is a file, not a folder")
    read_only = bool(os.statvfs(parent).f_flag & os.ST_RDONLY)
    if read_only or not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"{path}: cannot write in {parent} (no permission or a read-only file system)")


def extends(plan: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    """Whether ``plan`` holds every run of ``before`` with the same seed, and more.

    True when both are grids (``kind`` batch) with the same scenarios and parameter values,
    base seed and swept keys, and ``plan`` has at least as many replicates and every swept
    value of ``before``: a run's seed depends only on the base seed and its identity.
    """
    def scenarios(p: Mapping[str, Any]) -> list[tuple[Any, Any]]:
        return [(s.get("name"), s.get("params_sha256")) for s in p.get("scenarios") or []]

    old_sweeps, new_sweeps = before.get("sweeps") or {}, plan.get("sweeps") or {}
    return (plan.get("kind") == before.get("kind") == "batch"
            and plan.get("base_seed") == before.get("base_seed")
            and scenarios(plan) == scenarios(before)
            and set(old_sweeps) == set(new_sweeps)
            and all(set(map(json.dumps, v)) <= set(map(json.dumps, new_sweeps[k]))
                    for k, v in old_sweeps.items())
            and int(plan.get("replicates", 0)) >= int(before.get("replicates", 0)))


def _first_difference(before: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    for key, label in (("scenarios", "scenarios"), ("base_seed", "--seed"), ("replicates", "--replicates"),
                       ("sweeps", "--sweep"), ("points", "sample points")):
        a, b = before.get(key), now.get(key)
        if key == "scenarios":
            a = [(s.get("name"), s.get("params_sha256")) for s in a or []]
            b = [(s.get("name"), s.get("params_sha256")) for s in b or []]
            if a != b:
                return "different scenarios or parameter values"
        elif a != b:
            return f"{label} was {json.dumps(a, default=str)}, now {json.dumps(b, default=str)}"
    return "different runs"


def _json_default(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, Path | tuple | set):
        return str(v) if isinstance(v, Path) else list(v)
    return str(v)
