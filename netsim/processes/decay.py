"""Decay: ties not used this month weaken, and vanish below a floor.

A tie not formed, met along or used for joint activity this month loses a share ``rate``
of its strength; a tie weaker than ``floor`` is removed. Ties of groups that never joined
are never used, so the ties that predate the project fade among them.
"""

from __future__ import annotations

import numba

from netsim.scenario import DecayParams
from netsim.ties import Ties

__all__ = ["decay_ties", "kernel_params"]


@numba.njit(cache=True)
def _decay(key, a, b, strength, kind, formed, last_used, last_activity, count, month, rate,
           floor):  # pragma: no cover - compiled
    kept = 0
    for e in range(count):
        if last_used[e] < month:
            strength[e] *= 1.0 - rate
        if strength[e] >= floor:  # compact in place, keeping the order
            key[kept], a[kept], b[kept] = key[e], a[e], b[e]
            strength[kept], kind[kept], formed[kept] = strength[e], kind[e], formed[e]
            last_used[kept], last_activity[kept] = last_used[e], last_activity[e]
            kept += 1
    return kept


def kernel_params(p: DecayParams) -> tuple:
    """The decay parameters in the order :func:`_decay` takes them."""
    return (p.rate, p.floor)


def decay_ties(ties: Ties, p: DecayParams, month: int) -> int:
    """Weaken unused ties and drop those below the floor; return how many vanished."""
    before = ties.count
    ties.count = _decay(*ties.buffers(), ties.count, month, *kernel_params(p))
    return before - ties.count
