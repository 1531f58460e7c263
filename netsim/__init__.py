"""netsim: how community groups and cooperatives form alliance networks.

An agent-based model (Mesa) of an action-research programme of exchange forums,
follow-up visits and lessons-learned reviews, calibrated to a field study of 54 groups in
6 districts of Kalasin province, Thailand.

The public names below are imported when first used (module ``__getattr__``), so
``import netsim`` and the quick commands (``netsim --help``, ``netsim validate``) do not
pay for Mesa, numba and pandas; ``from netsim import NetworkModel`` imports the model.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from netsim._cache import use_versioned_cache

use_versioned_cache()  # before any compiled kernel is defined

if TYPE_CHECKING:
    from netsim.model import NetworkModel
    from netsim.population import read_groups
    from netsim.scenario import Scenario, ScenarioError, load_scenario, parameters
    from netsim.version import __version__

#: Each public name and the module that defines it.
_HOMES = {
    "NetworkModel": "netsim.model",
    "read_groups": "netsim.population",
    "Scenario": "netsim.scenario",
    "ScenarioError": "netsim.scenario",
    "load_scenario": "netsim.scenario",
    "parameters": "netsim.scenario",
    "__version__": "netsim.version",
}

__all__ = ["NetworkModel", "Scenario", "ScenarioError", "__version__", "load_scenario",
           "parameters", "read_groups"]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:  # e.g. a submodule not imported yet: ``from netsim import batch`` imports it
        raise AttributeError(f"module 'netsim' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
