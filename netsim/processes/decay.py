"""Decay: ties not used this month weaken, and vanish below a floor.

A tie not formed, met along or used for joint activity this month loses a share ``rate``
of its strength; a tie weaker than ``floor`` is removed. Ties of groups that never joined
are never used, so the ties that predate the project fade among them.
"""

from __future__ import annotations

from typing import NamedTuple

import numba

from netsim.compiled import record
from netsim.scenario import DecayParams
from netsim.ties import Ties

__all__ = ["DecayKernel", "decay_kernel", "decay_ties", "kernel_params"]


class DecayKernel(NamedTuple):
    """The decay parameters as :func:`decay_kernel` reads them (see :func:`kernel_params`)."""

    rate: float
    floor: float


@numba.njit(cache=True)
def decay_kernel(t, count, month, p):  # pragma: no cover - compiled
    """Weaken and drop ties in the buffers ``t``; return the new count (``p``: a :class:`DecayKernel`)."""
    key, a, b, strength, kind = t.key, t.a, t.b, t.strength, t.kind
    formed, last_used, last_activity = t.formed, t.last_used, t.last_activity
    kept = 0
    for e in range(count):
        if last_used[e] < month:
            strength[e] *= 1.0 - p.rate
        if strength[e] >= p.floor:  # compact in place, keeping the order
            key[kept], a[kept], b[kept] = key[e], a[e], b[e]
            strength[kept], kind[kept], formed[kept] = strength[e], kind[e], formed[e]
            last_used[kept], last_activity[kept] = last_used[e], last_activity[e]
            kept += 1
    return kept


def kernel_params(p: DecayParams) -> DecayKernel:
    """The decay parameters as the compiled month takes them."""
    return record(DecayKernel, p)


def decay_ties(ties: Ties, p: DecayParams, month: int) -> int:
    """Weaken unused ties and drop those below the floor; return how many vanished."""
    before = ties.count
    ties.count = decay_kernel(ties.buffers(), ties.count, month, kernel_params(p))
    return before - ties.count
