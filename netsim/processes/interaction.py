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
from netsim.ties import EXCHANGE, JOINT_ACTIVITY, MARKETING, reinforce_pairs

__all__ = ["agreement_of", "goal_agreement", "interact", "joint_activity", "triadic_closure"]

_MARKETING_GOAL = GOALS.index("marketing")


@numba.njit(cache=True)
def agreement_of(goals: np.ndarray, i: int, j: int) -> float:  # pragma: no cover - compiled
    """``1 - TV``: one minus the total-variation distance between two groups' goals."""
    return 1.0 - 0.5 * np.abs(goals[i] - goals[j]).sum()


@numba.njit(cache=True)
def goal_agreement(goals: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover
    """:func:`agreement_of` for each pair ``(a[x], b[x])`` (in [0, 1])."""
    out = np.empty(len(a))
    for x in range(len(a)):
        out[x] = agreement_of(goals, a[x], b[x])
    return out


@numba.njit(cache=True)
def _joint_activity(a, b, strength, kind, last_used, last_activity, count, participating, goals,
                    draw, activity_rate, goal_weight, activity_gain, month):  # pragma: no cover
    used = np.empty(count, np.int64)
    m = 0
    for e in range(count):
        u, v = a[e], b[e]
        if not (participating[u] and participating[v]):
            continue
        chance = activity_rate * strength[e] * (1.0 - goal_weight + goal_weight * agreement_of(goals, u, v))
        if draw[e] < chance:
            used[m] = e
            m += 1
            strength[e] += activity_gain * (1.0 - strength[e])
            last_used[e] = month
            last_activity[e] = month
            both_market = np.argmax(goals[u]) == _MARKETING_GOAL and np.argmax(goals[v]) == _MARKETING_GOAL
            kind[e] = MARKETING if both_market else JOINT_ACTIVITY
    return used[:m]


@numba.njit(cache=True)
def _close_triads(key, a, b, strength, kind, formed, last_used, last_activity, count, n,
                  participating, inspiration, draw, closure_rate, closure_gain,
                  month):  # pragma: no cover - compiled
    """Triadic closure with ``draw`` = 3n uniforms (reach, friend, friend's friend)."""
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
        if not participating[v] or degree[v] == 0 or draw[v] >= closure_rate * inspiration[v]:
            continue
        friend = partner[start[v] + int(draw[n + v] * degree[v])]
        other = partner[start[friend] + int(draw[2 * n + v] * degree[friend])]
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


def joint_activity(state: GroupState, p: InteractionParams, rng: np.random.Generator,
                   month: int) -> np.ndarray:
    """Joint activity along participant ties; return the indices of the ties used."""
    t = state.ties
    _, a, b, strength, kind, _, last_used, last_activity = t.buffers()
    return _joint_activity(a, b, strength, kind, last_used, last_activity, t.count,
                           state.participating, state.goals, rng.random(t.count),
                           p.activity_rate, p.goal_weight, p.activity_gain, month)


def triadic_closure(state: GroupState, p: InteractionParams, rng: np.random.Generator,
                    month: int) -> int:
    """Friends of friends meet; return how many new ties formed."""
    if p.closure_rate == 0:
        return 0
    t, n = state.ties, state.n
    before = t.count
    t.count = _close_triads(*t.buffers(n), t.count, n, state.participating, state.inspiration,
                            rng.random(3 * n), p.closure_rate, p.closure_gain, month)
    return t.count - before


def interact(state: GroupState, p: InteractionParams, rng: np.random.Generator,
             month: int) -> None:
    """One month of self-organised interaction: joint activity, then closure; inspiration fades."""
    joint_activity(state, p, rng, month)
    triadic_closure(state, p, rng, month)
    state.inspiration *= 1.0 - p.inspiration_decay
