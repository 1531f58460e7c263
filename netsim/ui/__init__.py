"""The planner's page: a Solara app over the model, served by ``netsim ui``.

* :mod:`netsim.ui.app`: the page (its module-level ``page``);
* :mod:`netsim.ui.plans`: scenarios, controls, runs and the comparison of two plans;
* :mod:`netsim.ui.picture`: the network drawn on a layout that stays put;
* :mod:`netsim.ui.charts`: the live charts and the comparison's distributions;
* :mod:`netsim.ui.assets`: the page's browser files, kept on this machine.
"""

__all__ = ["app", "assets", "charts", "picture", "plans"]
