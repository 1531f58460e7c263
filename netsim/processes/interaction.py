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

import numpy as np

from netsim.population import GOALS
from netsim.scenario import InteractionParams
from netsim.state import GroupState
from netsim.ties import EXCHANGE, JOINT_ACTIVITY, MARKETING

__all__ = ["goal_agreement", "interact", "joint_activity", "triadic_closure"]

_MARKETING_GOAL = GOALS.index("marketing")


def goal_agreement(goals: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``1 - total-variation distance`` between the goals of ``a`` and ``b`` (in [0, 1])."""
    return 1.0 - 0.5 * np.abs(goals[a] - goals[b]).sum(axis=1)


def joint_activity(state: GroupState, p: InteractionParams, rng: np.random.Generator,
                   month: int) -> np.ndarray:
    """Joint activity along participant ties; return the indices of the ties used."""
    t = state.ties
    live = np.flatnonzero(state.participating[t.a] & state.participating[t.b])
    if len(live) == 0:
        return live
    a, b = t.a[live], t.b[live]
    agree = goal_agreement(state.goals, a, b)
    chance = p.activity_rate * t.strength[live] * (1.0 - p.goal_weight + p.goal_weight * agree)
    used = live[rng.random(len(live)) < chance]
    t.strength[used] += p.activity_gain * (1.0 - t.strength[used])
    t.last_used[used] = month
    t.last_activity[used] = month
    top = state.goals.argmax(axis=1)
    t.kind[used] = np.where((top[t.a[used]] == _MARKETING_GOAL) & (top[t.b[used]] == _MARKETING_GOAL),
                            MARKETING, JOINT_ACTIVITY)
    return used


def triadic_closure(state: GroupState, p: InteractionParams, rng: np.random.Generator,
                    month: int) -> int:
    """Friends of friends meet; return how many new ties formed."""
    t = state.ties
    live = state.participating[t.a] & state.participating[t.b]
    if not live.any() or p.closure_rate == 0:
        return 0
    a, b = t.a[live], t.b[live]
    ends = np.concatenate([a, b])
    others = np.concatenate([b, a])
    order = np.argsort(ends, kind="stable")
    ends, others = ends[order], others[order]
    start = np.searchsorted(ends, np.arange(state.n))
    degree = np.searchsorted(ends, np.arange(state.n), side="right") - start
    reach = np.flatnonzero((degree > 0) & state.participating
                           & (rng.random(state.n) < p.closure_rate * state.inspiration))
    if len(reach) == 0:
        return 0
    friend = others[start[reach] + (rng.random(len(reach)) * degree[reach]).astype(np.int64)]
    has = degree[friend] > 0
    reach, friend = reach[has], friend[has]
    fof = others[start[friend] + (rng.random(len(friend)) * degree[friend]).astype(np.int64)]
    new = (fof != reach) & (t.find(reach, fof) < 0)
    return t.reinforce(reach[new], fof[new], p.closure_gain, kind=EXCHANGE, month=month)


def interact(state: GroupState, p: InteractionParams, rng: np.random.Generator,
             month: int) -> None:
    """One month of self-organised interaction, then inspiration fades."""
    joint_activity(state, p, rng, month)
    triadic_closure(state, p, rng, month)
    state.inspiration *= 1.0 - p.inspiration_decay
