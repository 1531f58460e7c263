"""One month of the model as one compiled call: the processes in order, then measurement.

``NetworkModel.step`` runs the month's recruitment wave (rare, in Python), then
:func:`advance`: (2) forums, (3) follow-up, (4) interaction, (5) review, (6) network
emergence and the month's outputs, (7) decay. Each step is its process's own compiled
kernel (``netsim/processes/``), called with the same arguments and drawing from the same
stream (``netsim/stream.py``) as that process's Python function would, so a month is
exactly the sequence ``hold_forums, follow_up, interact, hold_review, find_networks,
monthly_outputs, decay_ties`` (``tests/test_schedule.py`` checks this). Which processes
run in which month comes from :func:`plan`.

Doing the whole month in one call matters at the study's size: with about 90 groups and a
few hundred ties, each process's arithmetic takes a few microseconds, less than a call
from Python into compiled code costs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numba
import numpy as np

from netsim.compiled import Direct
from netsim.measures import write_outputs
from netsim.networks import EmergenceKernel
from netsim.processes import decay, emergence, followup, forum, interaction, recruitment, review
from netsim.processes.decay import DecayKernel, decay_kernel
from netsim.processes.emergence import emergence_kernel
from netsim.processes.followup import FollowupKernel, followup_kernel, lapse_trust
from netsim.processes.forum import ForumKernel, forum_kernel
from netsim.processes.interaction import InteractionKernel, interaction_kernel
from netsim.processes.review import ReviewKernel, review_kernel
from netsim.scenario import Parameters
from netsim.state import GroupState

__all__ = ["KernelParams", "Month", "MonthParams", "advance", "kernel_params", "measure", "plan"]


class Month(NamedTuple):
    """What happens in one month.

    Attributes:
        wave: A later recruitment wave.
        forum: Exchange forums.
        followup: Follow-up visits.
        review: A lessons-learned review.
    """

    wave: bool
    forum: bool
    followup: bool
    review: bool


def plan(p: Parameters, month: int) -> Month:
    """The processes held in ``month`` (interaction, emergence and decay run every month)."""
    return Month(wave=bool(recruitment.is_wave_month(p.recruitment, month)),
                 forum=bool(forum.is_forum_month(p.forum, month)),
                 followup=bool(followup.is_followup_month(p.followup, month)),
                 review=bool(review.is_review_month(p.review, month)))


class MonthParams(NamedTuple):
    """Each process's parameters as the compiled month reads them, by process."""

    forum: ForumKernel
    followup: FollowupKernel
    interaction: InteractionKernel
    review: ReviewKernel
    emergence: EmergenceKernel
    decay: DecayKernel


@numba.njit(cache=True)
def _measure(out, s, t, count, month, p, before):  # pragma: no cover - compiled
    em = emergence_kernel(s, t, count, month, p, before)
    write_outputs(out, s, t.a[:count], t.b[:count], em, month)
    return em.upkeep


@numba.njit(cache=True)
def _advance(month, what, stream, s, t, count, p, out, visited):  # pragma: no cover - compiled
    """Processes (2)-(7) of one month; returns the new count of ties and how many groups were visited.

    ``what`` is the :class:`Month`, ``s`` the state's :class:`~netsim.state.StateArrays`,
    ``t`` the :class:`~netsim.ties.TieBuffers` holding ``count`` ties, ``p`` the
    :class:`MonthParams`; ``out`` receives the month's outputs and ``visited`` (room for
    every group in a month of follow-up) the rows visited, in order. Nothing but numbers
    comes back: an array returned would cost more to hand to Python than a month's review.
    """
    if what.forum:
        count = forum_kernel(s, t, count, month, stream, p.forum)[1]
    n_visited = 0
    if what.followup:
        rows, count = followup_kernel(s, t, count, month, stream, p.followup)
        n_visited = len(rows)
        visited[:n_visited] = rows
    lapse_trust(s, month, p.followup)
    count, before = interaction_kernel(s, t, count, month, stream, p.interaction)
    if what.review:
        review_kernel(s, t, count, stream, p.review)
    upkeep = _measure(out, s, t, count, month, p.emergence, before)
    count = decay_kernel(t, count, month, s.values, upkeep, p.decay)
    return count, n_visited


# The month's types are fixed by construction (netsim/compiled.py), so after the first
# call they go straight to the compiled version.
_advance_direct = Direct(_advance)
_measure_direct = Direct(_measure)


class KernelParams:
    """A scenario's parameters as the compiled month takes them, and its calendar.

    Built once per set of parameters (:func:`kernel_params`), so the runs of a batch share it.

    Attributes:
        params: The scenario's parameters.
        month_params: Each process's parameter record (:class:`MonthParams`).
        room: Most ties a month can form, per group.
    """

    def __init__(self, p: Parameters) -> None:
        self.params = p
        self.month_params = MonthParams(forum=forum.kernel_params(p.forum),
                                        followup=followup.kernel_params(p.followup),
                                        interaction=interaction.kernel_params(p.interaction, p.decay),
                                        review=review.kernel_params(p.review),
                                        emergence=emergence.kernel_params(p.emergence, p.decay),
                                        decay=decay.kernel_params(p.decay))
        # each process's room is linear in the groups
        self.room = (forum.tie_room(p.forum, 1) + followup.tie_room(p.followup, 1)
                     + interaction.tie_room(p.interaction, 1))
        self._calendar = [plan(p, month) for month in range(p.run.months + 1)]

    def month(self, month: int) -> Month:
        """What happens in ``month``."""
        return self._calendar[month] if month < len(self._calendar) else plan(self.params, month)


@lru_cache(maxsize=32)
def kernel_params(p: Parameters) -> KernelParams:
    """The :class:`KernelParams` of a set of parameters (cached: a batch runs one set many times)."""
    return KernelParams(p)


def advance(state: GroupState, params: KernelParams, month: int, what: Month, stream: np.ndarray,
            out: np.ndarray) -> np.ndarray:
    """Run processes (2)-(7) of ``month`` on ``state``; write its outputs into ``out``.

    Args:
        state: The model state (changed in place).
        params: The scenario's parameters as the kernels take them (:class:`KernelParams`).
        month: The month being simulated.
        what: Which processes are held (:func:`plan`); the recruitment wave is the caller's.
        stream: The random stream state (advanced in place).
        out: Receives the month's outputs, in the order of :data:`netsim.measures.OUTPUTS`.

    Returns:
        The rows of the groups visited this month.
    """
    t = state.ties
    visited = np.empty(state.n if what.followup else 0, np.int64)
    t.count, n_visited = _advance_direct(month, what, stream, state.arrays(),
                                         t.buffers(params.room * state.n), t.count,
                                         params.month_params, out, visited)
    return visited[:n_visited]


def measure(state: GroupState, params: KernelParams, month: int, out: np.ndarray) -> np.ndarray:
    """Find the networks and write the outputs of ``month`` into ``out`` (step 6 alone)."""
    t = state.ties
    _measure_direct(out, state.arrays(), t.buffers(), t.count, month, params.month_params.emergence,
                    emergence.UNKNOWN)
    return out
