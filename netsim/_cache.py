"""Where numba keeps netsim's compiled kernels: one folder per version of the source.

numba checks a cached kernel against its own file only, so a kernel that calls kernels of
other files (the month in ``schedule.py`` calls every process) would keep running their
old code after they change. Keying the cache folder on a hash of every source file of the
package makes any change compile afresh. The folder is ``$NETSIM_CACHE_DIR``, else
``$XDG_CACHE_HOME/netsim``, else ``~/.cache/netsim`` (the system's temporary folder if
that cannot be written).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numba


def cache_folder(package: Path, base: Path) -> Path:
    """The folder under ``base`` for the source of ``package``: named by a hash of its files."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return base / f"numba-{digest.hexdigest()}"


def use_versioned_cache() -> Path:
    """Point numba's cache at this source's folder (before any kernel is defined); return it."""
    base = os.environ.get("NETSIM_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "netsim"
    package = Path(__file__).resolve().parent
    folder = cache_folder(package, Path(base))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a home that cannot be written: the machine's temporary folder instead
        folder = cache_folder(package, Path(tempfile.gettempdir()) / f"netsim-{os.getuid()}")
        folder.mkdir(parents=True, exist_ok=True)
    numba.config.CACHE_DIR = str(folder)
    return folder
