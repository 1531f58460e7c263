"""Self-organised interaction: joint activity along ties, and triadic closure.

Each month, along every tie between two participants, the groups work together with
chance ``activity_rate * strength * (1 - goal_weight + goal_weight * agreement)``, where
agreement is ``1 - TV(goals)`` (one minus the total-variation distance of their goals).
Joint activity closes ``activity_gain`` of the tie's gap to full strength and marks it
used; the tie becomes a marketing tie when both put marketing first, a joint-activity tie
otherwise.

Triadic closure (Jackson & Rogers 2007): each participant, with chance ``closure_rate *
inspiration``, picks a random partner and one of that partner's partners, and ties to it
(strength ``closure_gain``). Closure is driven by inspiration, which only forums raise: a
group that has not been inspired keeps to the ties it has, so without an intervention no
new ties form. Inspiration then fades by ``inspiration_decay`` a month.
"""

from __future__ import annotations

import numba
import numpy as np

from netsim.population import GOALS
from netsim.scenario import InteractionParams
from netsim.state import GroupState
from netsim.stream import as_stream, uniform
from netsim.ties import EXCHANGE, JOINT_ACTIVITY, MARKETING, reinforce_pairs

__all__ = ["agreement_of", "goal_agreement", "interact", "joint_activity", "kernel_params", "tie_room",
           "triadic_closure"]

_MARKETING_GOAL = GOALS.index("marketing")


@numba.njit(cache=True)
def agreement_of(goals: np.ndarray, i: int, j: int) -> float:  # pragma: no cover - compiled
    """``1 - TV``: one minus the total-variation distance between two groups' goals."""
    distance = 0.0
    for k in range(goals.shape[1]):
        distance += abs(goals[i, k] - goals[j, k])
    return 1.0 - 0.5 * distance


@numba.njit(cache=True)
def goal_agreement(goals: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover
    """:func:`agreement_of` for each pair ``(a[x], b[x])`` (in [0, 1])."""
    out = np.empty(len(a))
    for x in range(len(a)):
        out[x] = agreement_of(goals, a[x], b[x])
    return out


def kernel_params(p: InteractionParams) -> tuple:
    """The interaction parameters in the order :func:`_interact` takes them."""
    return (p.activity_rate, p.goal_weight, p.activity_gain, p.closure_rate, p.closure_gain,
            p.inspiration_decay)


@numba.njit(cache=True)
def _joint_activity(participating, goals, a, b, strength, kind, last_used, last_activity, count,
                    month, stream, activity_rate, goal_weight, activity_gain):  # pragma: no cover
    """Joint activity; draws one uniform per tie between participants."""
    used = np.empty(count, np.int64)
    m = 0
    for e in range(count):
        u, v = a[e], b[e]
        if not (participating[u] and participating[v]):
            continue
        chance = activity_rate * strength[e] * (1.0 - goal_weight + goal_weight * agreement_of(goals, u, v))
        if uniform(stream) < chance:
            used[m] = e
            m += 1
            strength[e] += activity_gain * (1.0 - strength[e])
            last_used[e] = month
            last_activity[e] = month
            both_market = np.argmax(goals[u]) == _MARKETING_GOAL and np.argmax(goals[v]) == _MARKETING_GOAL
            kind[e] = MARKETING if both_market else JOINT_ACTIVITY
    return used[:m]


@numba.njit(cache=True)
def _close_triads(participating, inspiration, key, a, b, strength, kind, formed, last_used,
                  last_activity, count, month, stream, closure_rate,
                  closure_gain):  # pragma: no cover - compiled
    """Triadic closure; draws one uniform per participant with ties, two more if it reaches out."""
    n = len(participating)
    if closure_rate == 0:
        return count
    degree = np.zeros(n, np.int64)
    for e in range(count):
        if participating[a[e]] and participating[b[e]]:
            degree[a[e]] += 1
            degree[b[e]] += 1
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
        if not participating[v] or degree[v] == 0 or uniform(stream) >= closure_rate * inspiration[v]:
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
    gain = np.full(m, closure_gain)
    new_kind = np.full(m, EXCHANGE, np.int8)
    return reinforce_pairs(key, a, b, strength, kind, formed, last_used, last_activity, count, n,
                           first[:m], second[:m], gain, new_kind, month)


@numba.njit(cache=True)
def _interact(participating, goals, inspiration, key, a, b, strength, kind, formed, last_used,
              last_activity, count, month, stream, activity_rate, goal_weight, activity_gain,
              closure_rate, closure_gain, inspiration_decay):  # pragma: no cover - compiled
    """Joint activity, then closure; inspiration fades. Returns the new count of ties."""
    _joint_activity(participating, goals, a, b, strength, kind, last_used, last_activity, count,
                    month, stream, activity_rate, goal_weight, activity_gain)
    count = _close_triads(participating, inspiration, key, a, b, strength, kind, formed, last_used,
                          last_activity, count, month, stream, closure_rate, closure_gain)
    for v in range(len(inspiration)):
        inspiration[v] *= 1.0 - inspiration_decay
    return count


def tie_room(p: InteractionParams, participants: int) -> int:
    """Most ties a month's closure can form among ``participants`` (one each)."""
    return participants if p.closure_rate else 0


def joint_activity(state: GroupState, p: InteractionParams, rng: np.random.Generator | np.ndarray,
                   month: int) -> np.ndarray:
    """Joint activity along participant ties; return the indices of the ties used."""
    t = state.ties
    _, a, b, strength, kind, _, last_used, last_activity = t.buffers()
    return _joint_activity(state.participating, state.goals, a, b, strength, kind, last_used,
                           last_activity, t.count, month, as_stream(rng), p.activity_rate,
                           p.goal_weight, p.activity_gain)


def triadic_closure(state: GroupState, p: InteractionParams, rng: np.random.Generator | np.ndarray,
                    month: int) -> int:
    """Friends of friends meet; return how many new ties formed."""
    t = state.ties
    before = t.count
    t.count = _close_triads(state.participating, state.inspiration,
                            *t.buffers(tie_room(p, int(state.participating.sum()))), t.count, month,
                            as_stream(rng), p.closure_rate, p.closure_gain)
    return t.count - before


def interact(state: GroupState, p: InteractionParams, rng: np.random.Generator | np.ndarray,
             month: int) -> None:
    """One month of self-organised interaction: joint activity, then closure; inspiration fades.

    ``rng`` is the model's generator, or a stream state (``netsim/stream.py``) to draw from.
    """
    t = state.ties
    t.count = _interact(state.participating, state.goals, state.inspiration,
                        *t.buffers(tie_room(p, int(state.participating.sum()))), t.count, month,
                        as_stream(rng), *kernel_params(p))
