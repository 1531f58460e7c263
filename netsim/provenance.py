"""Provenance of results: what produced them, so a table can be traced and rerun.

A provenance record names the netsim version and the model version (the package version
and a hash of the source that computes results, :mod:`netsim.version`), the scenario and
the hash of its file (and of the files it inherits from), the git commit of the working
tree when known, the versions of Python, Mesa and numpy, and the command line.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from netsim.scenario import Scenario

__all__ = ["git_commit", "provenance"]


def git_commit(folder: Path) -> str | None:
    """The commit checked out in ``folder`` (with ``+dirty`` if changed), or None."""
    try:
        out = subprocess.run(["git", "-C", str(folder), "describe", "--always", "--dirty=+dirty",
                              "--abbrev=40"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def provenance(scenario: Scenario, **extra: Any) -> dict[str, Any]:
    """A provenance record for results of ``scenario``; ``extra`` is added as is."""
    from netsim.version import __version__, model_version

    return {
        "netsim_version": __version__,
        "model_version": model_version(),
        "scenario": scenario.name,
        "scenario_file": str(scenario.path) if scenario.path else None,
        "scenario_sha256": scenario.sha256 or None,
        "git_commit": git_commit(Path(__file__).resolve().parent),
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": np.__version__,
        "command": sys.argv,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **extra,
    }
