"""Self-organised interaction: joint activity along ties, and triadic closure.

Each month, along every tie between two participants that both keep up (their
``decay.tie_capacity`` strongest, ``agreement.kept_up``), the groups work together with
chance ``activity_rate * strength * (1 - goal_weight + goal_weight * agreement) * (1 +
plan_effect * (plan - 0.5))``, where agreement is ``1 - TV(goals)`` (one minus the
total-variation distance of their goals) and ``plan`` the pair's mean plan quality: a
revised, better plan means more joint work.
Joint activity closes ``activity_gain`` of the tie's gap to full strength and marks it
used; the tie becomes a marketing tie when both put marketing first, a joint-activity tie
otherwise.

Triadic closure (Jackson & Rogers 2007): each participant, with chance ``closure_rate *
inspiration``, picks a random partner and one of that partner's partners, and ties to it
(strength ``closure_gain``). Closure is driven by inspiration, which only forums raise: a
group that has not been inspired keeps to the ties it has, so without an intervention no
new ties form. An inspired group also grows as a leader: it closes
``inspiration_leadership * inspiration`` of its gap to full leadership each month (the
study's broader view). Inspiration then fades by ``inspiration_decay`` a month.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from netsim.agreement import BOTH_ENDS, KeptEnds, degrees, goal_agreement_of, kept_ends, top_goal_of
from netsim.codes import LEADERSHIP, MARKETING_GOAL
from netsim.compiled import record
from netsim.scenario import DecayParams, InteractionParams
from netsim.state import GroupState
from netsim.stream import as_stream, uniform
from netsim.ties import EXCHANGE, JOINT_ACTIVITY, MARKETING, reinforce_pairs

__all__ = ["InteractionKernel", "interact", "interaction_kernel", "joint_activity", "kernel_params",
           "tie_room", "triadic_closure"]


class InteractionKernel(NamedTuple):
    """The interaction parameters as :func:`interaction_kernel` reads them (see :func:`kernel_params`)."""

    activity_rate: float
    goal_weight: float
    activity_gain: float
    closure_rate: float
    closure_gain: float
    inspiration_decay: float
    plan_effect: float
    inspiration_leadership: float
    tie_capacity: int


def kernel_params(p: InteractionParams, upkeep: DecayParams | None = None) -> InteractionKernel:
    """The interaction parameters as the compiled month takes them, with the ties groups keep up.

    ``upkeep`` is the decay section (the schema's default if not given), whose
    ``tie_capacity`` bounds the ties a group works along.
    """
    return record(InteractionKernel, p, tie_capacity=(upkeep or DecayParams()).tie_capacity)


@numba.njit(cache=True)
def _joint_activity(s, t, count, month, stream, p):  # pragma: no cover - compiled
    """Joint activity along the ties both groups keep up; draws one uniform per tie between participants.

    Returns the ties used and which end of each tie kept it up (``agreement.kept_ends``).
    """
    participating, goals = s.participating, s.goals
    a, b, strength = t.a, t.b, t.strength
    used = np.empty(count, np.int64)
    ends = kept_ends(len(participating), a[:count], b[:count], strength[:count], p.tie_capacity)
    m = 0
    for e in range(count):
        u, v = a[e], b[e]
        if not (participating[u] and participating[v]):
            continue
        plan = 0.5 * (s.plan_quality[u] + s.plan_quality[v])
        chance = 0.0 if ends[e] != BOTH_ENDS else p.activity_rate * strength[e] * (1.0 - p.goal_weight
                                                  + p.goal_weight * goal_agreement_of(goals, u, v)) \
            * max(1.0 + p.plan_effect * (plan - 0.5), 0.0)
        if uniform(stream) < chance:
            used[m] = e
            m += 1
            strength[e] += p.activity_gain * (1.0 - strength[e])
            t.last_used[e] = month
            t.last_activity[e] = month
            both_market = top_goal_of(goals, u) == MARKETING_GOAL and top_goal_of(goals, v) == MARKETING_GOAL
            t.kind[e] = MARKETING if both_market else JOINT_ACTIVITY
    return used[:m], ends


@numba.njit(cache=True)
def _close_triads(s, t, count, month, stream, p):  # pragma: no cover - compiled
    """Triadic closure; draws one uniform per participant with ties, two more if it reaches out."""
    participating, inspiration, key, a, b = s.participating, s.inspiration, t.key, t.a, t.b
    n = len(participating)
    if p.closure_rate == 0:
        return count
    degree = degrees(n, a[:count], b[:count], participating)
    start = np.zeros(n + 1, np.int64)
    for v in range(n):
        start[v + 1] = start[v] + degree[v]
    fill = start[:-1].copy()
    partner = np.empty(start[n], np.int64)
    for e in range(count):  # ties in key order, so each group's partners come out sorted
        if participating[a[e]] and participating[b[e]]:
            partner[fill[a[e]]] = b[e]
            fill[a[e]] += 1
            partner[fill[b[e]]] = a[e]
            fill[b[e]] += 1
    first, second = np.empty(n, np.int64), np.empty(n, np.int64)
    m = 0
    for v in range(n):
        if not participating[v] or degree[v] == 0 or uniform(stream) >= p.closure_rate * inspiration[v]:
            continue
        friend = partner[start[v] + int(uniform(stream) * degree[v])]
        other = partner[start[friend] + int(uniform(stream) * degree[friend])]
        if other == v:
            continue
        k = min(v, other) * n + max(v, other)
        at = np.searchsorted(key[:count], k)
        if at < count and key[at] == k:
            continue  # already tied
        first[m], second[m] = v, other
        m += 1
    gain = np.full(m, p.closure_gain)
    new_kind = np.full(m, EXCHANGE, np.int8)
    return reinforce_pairs(t, count, n, first[:m], second[:m], gain, new_kind, month)


@numba.njit(cache=True)
def interaction_kernel(s, t, count, month, stream, p):  # pragma: no cover - compiled
    """Joint activity, then closure; inspiration fades. Returns the new count of ties and the ends kept.

    ``s`` is the state's :class:`~netsim.state.StateArrays`, ``t`` the tie buffers and ``p``
    an :class:`InteractionKernel`. The ends kept are :class:`~netsim.agreement.KeptEnds`:
    the keys of the ties joint activity saw and which end of each kept it up, from which
    the emergence step finds the upkeep after closure (``agreement.kept_ends_after``).
    """
    kept = KeptEnds(t.key[:count].copy(), _joint_activity(s, t, count, month, stream, p)[1])
    count = _close_triads(s, t, count, month, stream, p)
    inspiration, capacities = s.inspiration, s.capacities
    for v in range(len(inspiration)):
        if s.participating[v]:
            capacities[v, LEADERSHIP] += p.inspiration_leadership * inspiration[v] \
                * (1.0 - capacities[v, LEADERSHIP])
        inspiration[v] *= 1.0 - p.inspiration_decay
    return count, kept


def tie_room(p: InteractionParams, participants: int) -> int:
    """Most ties a month's closure can form among ``participants`` (one each)."""
    return participants if p.closure_rate else 0


def joint_activity(state: GroupState, p: InteractionParams, rng: np.random.Generator | np.ndarray,
                   month: int, upkeep: DecayParams | None = None) -> np.ndarray:
    """Joint activity along participant ties kept up; return the indices of the ties used.

    ``upkeep``: the decay section (the schema's default if not given).
    """
    t = state.ties
    return _joint_activity(state.arrays(), t.buffers(), t.count, month, as_stream(rng),
                           kernel_params(p, upkeep))[0]


def triadic_closure(state: GroupState, p: InteractionParams, rng: np.random.Generator | np.ndarray,
                    month: int) -> int:
    """Friends of friends meet; return how many new ties formed."""
    t = state.ties
    before = t.count
    t.count = _close_triads(state.arrays(), t.buffers(tie_room(p, int(state.participating.sum()))),
                            t.count, month, as_stream(rng), kernel_params(p))
    return t.count - before


def interact(state: GroupState, p: InteractionParams, rng: np.random.Generator | np.ndarray,
             month: int, upkeep: DecayParams | None = None) -> None:
    """One month of self-organised interaction: joint activity, then closure; inspiration fades.

    ``rng`` is the model's generator, or a stream state (``netsim/stream.py``) to draw from;
    ``upkeep`` the decay section (the schema's default if not given).
    """
    t = state.ties
    t.count = interaction_kernel(state.arrays(), t.buffers(tie_room(p, int(state.participating.sum()))),
                                 t.count, month, as_stream(rng), kernel_params(p, upkeep))[0]
