"""The version of the model that produced a result: the package version and a hash of its source.

Results (a batch's tables, a calibration) depend on the code that computes them, not only
on the package version: a model changed without a new release gives other numbers under
the same version. The **model version** is therefore ``PACKAGE+HASH``, e.g.
``0.1.0+3f2a9c0d1e4b5a67``, where ``HASH`` is a BLAKE2 hash of the package's source files
that compute results. The modules that only present, move, store or analyse stored
results (:data:`NOT_MODEL`) are left out of the hash, so changing a chart or a command
does not make every stored result stale.

The same hash names the folder of numba's compiled kernels (:mod:`netsim._cache`), so a
kernel is compiled afresh exactly when the model's source changes.

This module imports nothing beyond the standard library, and reads the package version
(``importlib.metadata``, a few hundredths of a second) only when it is first asked for:
a command that never shows a version does not pay for it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["NOT_MODEL", "PACKAGE", "__version__", "model_files", "model_hash", "model_version", "source_hash"]

__version__: str  # the package version: see __getattr__ below


@lru_cache(maxsize=1)
def _package_version() -> str:
    from importlib import metadata

    try:  # the version is declared once, in pyproject.toml
        return metadata.version("netsim")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    """``__version__``, read from the installed package's metadata on first use (PEP 562)."""
    if name == "__version__":
        return _package_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: The package folder.
PACKAGE = Path(__file__).resolve().parent

#: Source files and folders (relative to the package) that do not compute results: the
#: command line, the browser UI, reports, charts and exports, the words of the interface,
#: the engines that only decide where runs are done (results do not depend on them; the
#: tests check it), the result store, provenance, and the analyses recomputed from stored
#: runs each time they are asked for. They hold no compiled kernel (the tests check that too).
NOT_MODEL: tuple[str, ...] = (
    "__init__.py", "_cache.py", "version.py", "cli.py", "ui", "report.py", "export.py",
    "provenance.py", "engines.py", "store.py", "discovery.py", "sensitivity.py", "i18n.py", "charts.py",
    "comparison.py",
)


def model_files(package: Path = PACKAGE) -> list[Path]:
    """The source files of ``package`` that compute results, in a stable order."""
    out = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] in NOT_MODEL or "__pycache__" in rel.parts:
            continue
        out.append(path)
    return out


def source_hash(package: Path = PACKAGE) -> str:
    """16 hex digits of a hash of the model's source files in ``package`` (names and contents)."""
    digest = hashlib.blake2b(digest_size=8)
    for path in model_files(package):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=1)
def model_hash() -> str:
    """The hash of this installation's model source.

    Read once per process (when ``netsim`` is imported), so it names the code this
    process runs even if the files change while it runs.
    """
    return source_hash(PACKAGE)


def model_version() -> str:
    """The model version of this installation: ``PACKAGE_VERSION+SOURCE_HASH``."""
    return f"{_package_version()}+{model_hash()}"
