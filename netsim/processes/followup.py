"""Follow-up visits: the team visits groups, builds trust, and weaves the network.

Each month from ``start_month`` the team makes ``visits_per_month * (1 + ease_with_trust
* mean trust)`` visits (support gets easier as relations improve, as the study found),
to participants chosen by the policy: ``random``; ``weakest`` (lowest mean capacity
first); ``least_trusted``; or ``bridge`` (fewest ties to other districts first). A visit
closes a share ``trust_gain`` of the gap to full trust and ``capacity_gain`` of the gap
in the group's weakest capacity. With chance ``introduction_prob`` it also introduces
the group to the most complementary of ``forum.candidates`` participants of other
districts (network weaving, the route to cross-district ties): a tie of strength
``introduction_gain``, a marketing tie if both put marketing first.
"""

from __future__ import annotations

import numpy as np

from netsim.population import GOALS
from netsim.processes.forum import complementarity
from netsim.processes.interaction import goal_agreement
from netsim.scenario import FollowupParams
from netsim.state import GroupState
from netsim.ties import EXCHANGE, MARKETING

__all__ = ["choose_visits", "follow_up", "is_followup_month", "visits_this_month"]

_MARKETING_GOAL = GOALS.index("marketing")


def is_followup_month(p: FollowupParams, month: int) -> bool:
    """Whether the team makes visits this month."""
    return p.visits_per_month > 0 and month >= p.start_month and not (p.end_month and month > p.end_month)


def visits_this_month(p: FollowupParams, mean_trust: float) -> int:
    """How many visits the team can make, given how well it knows the groups."""
    return int(round(p.visits_per_month * (1.0 + p.ease_with_trust * mean_trust)))


def choose_visits(state: GroupState, members: np.ndarray, k: int, policy: str,
                  rng: np.random.Generator) -> np.ndarray:
    """Pick ``k`` of ``members`` to visit by the policy (ties broken at random)."""
    if k >= len(members):
        return members
    jitter = rng.random(len(members))
    if policy == "random":
        return members[np.argpartition(jitter, k - 1)[:k]]
    if policy == "weakest":
        priority = state.capacities[members].mean(axis=1)
    elif policy == "least_trusted":
        priority = state.trust[members]
    else:  # bridge
        t = state.ties
        cross = state.district[t.a] != state.district[t.b]
        priority = (np.bincount(t.a[cross], minlength=state.n)
                    + np.bincount(t.b[cross], minlength=state.n))[members].astype(float)
    order = np.lexsort((jitter, priority))
    return members[order[:k]]


def follow_up(state: GroupState, p: FollowupParams, candidates: int,
              rng: np.random.Generator, month: int) -> np.ndarray:
    """Make this month's visits; return the rows visited."""
    members = np.flatnonzero(state.participating)
    if len(members) == 0:
        return members
    k = visits_this_month(p, float(state.trust[members].mean()))
    visited = choose_visits(state, members, k, p.policy, rng)
    if len(visited) == 0:
        return visited
    state.visits[visited] += 1
    state.trust[visited] += p.trust_gain * (1.0 - state.trust[visited])
    weakest = state.capacities[visited].argmin(axis=1)
    state.capacities[visited, weakest] += p.capacity_gain * (1.0 - state.capacities[visited, weakest])
    introduce(state, visited[rng.random(len(visited)) < p.introduction_prob], members, p,
              candidates, rng, month)
    return visited


def introduce(state: GroupState, who: np.ndarray, members: np.ndarray, p: FollowupParams,
              candidates: int, rng: np.random.Generator, month: int) -> None:
    """Introduce each of ``who`` to its most complementary sampled peer in another district."""
    if len(who) == 0:
        return
    pool = members[rng.integers(0, len(members), (len(who), candidates))]
    me = np.broadcast_to(who[:, None], pool.shape)
    fit = (complementarity(state.capacities, me.ravel(), pool.ravel())
           + goal_agreement(state.goals, me.ravel(), pool.ravel())).reshape(pool.shape)
    fit = np.where(state.district[pool] != state.district[me], fit, -1.0)
    best = fit.argmax(axis=1)
    partner = pool[np.arange(len(who)), best]
    ok = fit[np.arange(len(who)), best] > 0
    a, b = who[ok], partner[ok]
    top = state.goals.argmax(axis=1)
    kind = np.where((top[a] == _MARKETING_GOAL) & (top[b] == _MARKETING_GOAL), MARKETING, EXCHANGE)
    state.ties.reinforce(a, b, p.introduction_gain, kind=kind, month=month)
