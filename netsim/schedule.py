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

from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

from netsim.measures import _write_outputs
from netsim.processes import decay, emergence, followup, forum, interaction, recruitment, review
from netsim.processes.decay import _decay
from netsim.processes.emergence import _find_networks
from netsim.processes.followup import _follow_up
from netsim.processes.forum import _hold_forums
from netsim.processes.interaction import _interact
from netsim.processes.review import _hold_review
from netsim.scenario import Parameters
from netsim.state import GroupState

__all__ = ["KernelParams", "Month", "advance", "kernel_params", "measure", "plan"]


@dataclass(frozen=True)
class Month:
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
    return Month(wave=recruitment.is_wave_month(p.recruitment, month),
                 forum=forum.is_forum_month(p.forum, month),
                 followup=followup.is_followup_month(p.followup, month),
                 review=review.is_review_month(p.review, month))


@numba.njit(cache=True)
def _measure(out, participating, district, capacities, goals, values, inspiration, trust,
             plan_quality, revisions, degree, network_id, network_type, a, b, strength,
             last_activity, month, min_districts, emergence_p):  # pragma: no cover - compiled
    nets = _find_networks(participating, district, capacities, goals, values, network_id,
                          network_type, a, b, strength, last_activity, month, *emergence_p)
    # the classifier's results come in the order of the fields of netsim.networks.Networks
    cluster_size, network_kinds, marketing_districts = nets[2], nets[3], nets[11]
    _write_outputs(out, participating, district, goals, values, inspiration, trust, plan_quality,
                   revisions, network_type, degree, a, b, network_kinds, cluster_size,
                   marketing_districts, min_districts)


@numba.njit(cache=True)
def _advance(month, hold_forum, follow, hold_review, stream, participating, district, kind,
             capacities, goals, values, inspiration, trust, plan_quality, revisions, attended, visits,
             degree, network_id, network_type, key, a, b, strength, tie_kind, formed, last_used,
             last_activity, count, forum_p, followup_p, interaction_p, review_p, emergence_p,
             min_districts, decay_p, out):  # pragma: no cover - compiled
    """Processes (2)-(7) of one month; returns the new count of ties and the groups visited."""
    if hold_forum:
        count = _hold_forums(participating, district, kind, capacities, inspiration, trust, attended,
                             goals, values, key, a, b, strength, tie_kind, formed, last_used,
                             last_activity, count, month, stream, *forum_p)[1]
    visited = np.empty(0, np.int64)
    if follow:
        visited, count = _follow_up(participating, district, capacities, goals, trust, visits, key, a,
                                    b, strength, tie_kind, formed, last_used, last_activity, count,
                                    month, stream, *followup_p)
    count = _interact(participating, goals, inspiration, key, a, b, strength, tie_kind, formed,
                      last_used, last_activity, count, month, stream, *interaction_p)
    if hold_review:
        _hold_review(participating, inspiration, capacities, plan_quality, revisions, goals, values,
                     a, b, strength, count, stream, *review_p)
    _measure(out, participating, district, capacities, goals, values, inspiration, trust,
             plan_quality, revisions, degree, network_id, network_type, a[:count], b[:count],
             strength[:count], last_activity[:count], month, min_districts, emergence_p)
    count = _decay(key, a, b, strength, tie_kind, formed, last_used, last_activity, count, month,
                   *decay_p)
    return count, visited


class KernelParams:
    """A scenario's parameters as the compiled kernels take them, and its calendar.

    Each process's ``kernel_params`` gives its tuple. Built once per set of parameters
    (:func:`kernel_params`), so the runs of a batch share it.
    """

    def __init__(self, p: Parameters) -> None:
        self.params = p
        self.forum = forum.kernel_params(p.forum)
        self.followup = followup.kernel_params(p.followup)
        self.interaction = interaction.kernel_params(p.interaction)
        self.review = review.kernel_params(p.review)
        self.emergence = emergence.kernel_params(p.emergence)
        self.min_districts = p.emergence.marketing_min_districts
        self.decay = decay.kernel_params(p.decay)
        # most ties a month can form, per group (each process's room is linear in the groups)
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


def _state_arrays(s: GroupState) -> tuple[np.ndarray, ...]:
    return (s.participating, s.district, s.features.kind, s.capacities, s.goals, s.values,
            s.inspiration, s.trust, s.plan_quality, s.revisions, s.attended, s.visits, s.degree,
            s.network_id, s.network_type)


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
    buffers = t.buffers(params.room * state.n)
    t.count, visited = _advance(month, what.forum, what.followup, what.review, stream,
                                *_state_arrays(state), *buffers, t.count, params.forum,
                                params.followup, params.interaction, params.review,
                                params.emergence, params.min_districts, params.decay, out)
    return visited


def measure(state: GroupState, params: KernelParams, month: int, out: np.ndarray) -> np.ndarray:
    """Find the networks and write the outputs of ``month`` into ``out`` (step 6 alone)."""
    t = state.ties
    _measure(out, state.participating, state.district, state.capacities, state.goals, state.values,
             state.inspiration, state.trust, state.plan_quality, state.revisions, state.degree,
             state.network_id, state.network_type, t.a, t.b, t.strength, t.last_activity, month,
             params.min_districts, params.emergence)
    return out

