"""Decay: ties not kept up weaken, weak ties vanish.

A group can keep up ``tie_capacity`` ties, its strongest; a tie is kept up when it is
among those of both its groups (``agreement.kept_up``). A tie that is not kept up, or not
formed, met along or used for joint activity this month, loses a share
``rate * (1 - value_durability * alignment)`` of its strength, where ``alignment`` is the
pair's value alignment (1 - mean absolute difference of values): groups that share values
let a tie lapse more slowly, so what ideology forums do to values changes which ties last.
Use protects only a tie kept up: a group with more ties than it can keep up lets its
weakest go even if it works along them now and then; this is what stops densities
saturating over long runs. A tie weaker than ``floor`` is removed. Ties of groups that
never joined are never used, so the ties that predate the project fade among them.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from netsim.agreement import kept_up, value_alignment_of
from netsim.compiled import record
from netsim.scenario import DecayParams
from netsim.ties import Ties

__all__ = ["DecayKernel", "decay_kernel", "decay_ties", "kernel_params"]


class DecayKernel(NamedTuple):
    """The decay parameters as :func:`decay_kernel` reads them (see :func:`kernel_params`)."""

    rate: float
    floor: float
    value_durability: float


@numba.njit(cache=True)
def decay_kernel(t, count, month, values, upkeep, p):  # pragma: no cover - compiled
    """Weaken and drop ties in the buffers ``t``; return the new count (``p``: a :class:`DecayKernel`).

    ``values`` holds each group's values (with no columns, values play no part);
    ``upkeep`` marks the ``count`` ties both groups keep up (``agreement.kept_up`` with
    ``decay.tie_capacity``; in the compiled month, the emergence step finds it).
    """
    key, a, b, strength, kind = t.key, t.a, t.b, t.strength, t.kind
    formed, last_used, last_activity = t.formed, t.last_used, t.last_activity
    kept = 0
    for e in range(count):
        if last_used[e] < month or not upkeep[e]:
            aligned = value_alignment_of(values, a[e], b[e]) if values.shape[1] else 0.0
            strength[e] *= 1.0 - p.rate * (1.0 - p.value_durability * aligned)
        if strength[e] < p.floor:
            continue
        if kept < e:  # compact in place, keeping the order (nothing to move until a tie is dropped)
            key[kept], a[kept], b[kept] = key[e], a[e], b[e]
            strength[kept], kind[kept], formed[kept] = strength[e], kind[e], formed[e]
            last_used[kept], last_activity[kept] = last_used[e], last_activity[e]
        kept += 1
    return kept


def kernel_params(p: DecayParams) -> DecayKernel:
    """The decay parameters as the compiled month takes them."""
    return record(DecayKernel, p)


def decay_ties(ties: Ties, p: DecayParams, month: int, values: np.ndarray | None = None) -> int:
    """Weaken unused ties and drop those below the floor; return how many vanished.

    ``values`` are the groups' values (the state's); without them values play no part.
    """
    before = ties.count
    v = np.zeros((ties.n, 0)) if values is None else np.asarray(values, np.float64)
    upkeep = kept_up(ties.n, ties.a, ties.b, ties.strength, p.tie_capacity)
    ties.count = decay_kernel(ties.buffers(), ties.count, month, v, upkeep, kernel_params(p))
    return before - ties.count
