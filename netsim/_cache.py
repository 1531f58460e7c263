"""Where numba keeps netsim's compiled kernels: one folder per version of the model's source.

numba checks a cached kernel against its own file only, so a kernel that calls kernels of
other files (the month in ``schedule.py`` calls every process) would keep running their
old code after they change. Keying the cache folder on the hash of the model's source
(:func:`netsim.version.source_hash`, the same hash as the model version results record)
makes any change compile afresh. The folder is ``$NETSIM_CACHE_DIR``, else
``$XDG_CACHE_HOME/netsim``, else ``~/.cache/netsim`` (the system's temporary folder if
that cannot be written).

numba is not imported here: the folder is handed to it through ``NUMBA_CACHE_DIR``, which
it reads when it is first imported (and set on it directly if it already is), so a command
that never compiles anything does not pay for importing numba.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from netsim.version import model_hash, source_hash


def cache_folder(package: Path, base: Path) -> Path:
    """The folder under ``base`` for the source of ``package``: named by the hash of its model files."""
    return base / f"numba-{source_hash(package)}"


def use_versioned_cache() -> Path:
    """Point numba's cache at this source's folder (before any kernel is defined); return it."""
    base = os.environ.get("NETSIM_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "netsim"
    folder = Path(base) / f"numba-{model_hash()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a home that cannot be written: the machine's temporary folder instead
        folder = Path(tempfile.gettempdir()) / f"netsim-{os.getuid()}" / f"numba-{model_hash()}"
        folder.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)  # read by numba on import, and by worker processes
    numba = sys.modules.get("numba")
    if numba is not None:  # already imported: tell its configuration directly
        numba.config.CACHE_DIR = str(folder)
    return folder
