"""netsim: how community groups and cooperatives form alliance networks.

An agent-based model (Mesa) of an action-research programme of exchange forums,
follow-up visits and lessons-learned reviews, calibrated to a field study of 54 groups in
6 districts of Kalasin province, Thailand.
"""

from netsim._cache import use_versioned_cache

use_versioned_cache()  # before any compiled kernel is defined

from netsim.model import NetworkModel  # noqa: E402
from netsim.population import read_groups  # noqa: E402
from netsim.scenario import Scenario, ScenarioError, load_scenario, parameters  # noqa: E402
from netsim.version import __version__  # noqa: E402

__all__ = ["NetworkModel", "Scenario", "ScenarioError", "__version__", "load_scenario",
           "parameters", "read_groups"]

