"""Decay: ties not used this month weaken, and vanish below a floor.

A tie not formed, met along or used for joint activity this month loses a share ``rate``
of its strength; a tie weaker than ``floor`` is removed. Ties of groups that never joined
are never used, so the ties that predate the project fade among them.
"""

from __future__ import annotations

from netsim.scenario import DecayParams
from netsim.ties import Ties

__all__ = ["decay_ties"]


def decay_ties(ties: Ties, p: DecayParams, month: int) -> int:
    """Weaken unused ties and drop those below the floor; return how many vanished."""
    unused = ties.last_used < month
    ties.strength[unused] *= 1.0 - p.rate
    keep = ties.strength >= p.floor
    gone = len(keep) - int(keep.sum())
    if gone:
        ties.keep(keep)
    return gone
