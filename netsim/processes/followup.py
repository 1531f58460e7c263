"""Follow-up visits: the team visits groups, builds trust, and weaves the network.

Each month from ``start_month`` the team makes ``visits_per_month * (1 + ease_with_trust
* mean trust)`` visits (support gets easier as relations improve, as the study found), to
participants chosen by the policy: ``random``; ``weakest`` (lowest mean capacity first);
``least_trusted``; or ``bridge`` (fewest ties to participants of other districts first).

A visit closes a share ``trust_gain`` of the gap to full trust and ``capacity_gain`` of
the gap in the group's weakest capacity. With chance ``introduction_prob`` it also
introduces the group to the best match among ``candidates`` participants drawn at random
(with replacement) from other districts, the match being complementarity plus goal
agreement, so the team weaves around shared purposes (the route to cross-district ties):
a tie of strength ``introduction_gain``, a marketing tie if both put marketing first.
"""

from __future__ import annotations

import numba
import numpy as np

from netsim.population import GOALS
from netsim.processes.forum import complementarity_of
from netsim.processes.interaction import agreement_of
from netsim.scenario import FollowupParams
from netsim.state import GroupState
from netsim.ties import EXCHANGE, MARKETING, reinforce_pairs

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
    else:  # bridge: fewest ties to participants of other districts first
        t = state.ties
        cross = (state.district[t.a] != state.district[t.b]) \
            & state.participating[t.a] & state.participating[t.b]
        priority = (np.bincount(t.a[cross], minlength=state.n)
                    + np.bincount(t.b[cross], minlength=state.n))[members].astype(float)
    order = np.lexsort((jitter, priority))
    return members[order[:k]]


@numba.njit(cache=True)
def _visit(visited, draw, pool, capacities, goals, trust, visits, district, trust_gain,
           capacity_gain, introduction_prob, introduction_gain, key, a, b, strength, kind, formed,
           last_used, last_activity, count, n, month):  # pragma: no cover - compiled
    for v in visited:
        visits[v] += 1
        trust[v] += trust_gain * (1.0 - trust[v])
        weakest = np.argmin(capacities[v])
        capacities[v, weakest] += capacity_gain * (1.0 - capacities[v, weakest])
    first, second = np.empty(len(visited), np.int64), np.empty(len(visited), np.int64)
    new_kind = np.empty(len(visited), np.int8)
    m = 0
    for x in range(len(visited)):
        if draw[x] >= introduction_prob:
            continue
        v, best, best_fit = visited[x], -1, 0.0
        for c in pool[x]:  # the best match among the sampled groups of other districts
            if district[c] == district[v]:
                continue
            fit = complementarity_of(capacities, v, c) + agreement_of(goals, v, c)
            if best < 0 or fit > best_fit:
                best, best_fit = c, fit
        if best >= 0 and best_fit > 0:
            first[m], second[m] = v, best
            market = np.argmax(goals[v]) == _MARKETING_GOAL and np.argmax(goals[best]) == _MARKETING_GOAL
            new_kind[m] = MARKETING if market else EXCHANGE
            m += 1
    return reinforce_pairs(key, a, b, strength, kind, formed, last_used, last_activity, count, n,
                           first[:m], second[:m], np.full(m, introduction_gain), new_kind[:m], month)


def follow_up(state: GroupState, p: FollowupParams, rng: np.random.Generator,
              month: int) -> np.ndarray:
    """Make this month's visits; return the rows visited."""
    members = np.flatnonzero(state.participating)
    if len(members) == 0:
        return members
    k = visits_this_month(p, float(state.trust[members].mean()))
    visited = choose_visits(state, members, k, p.policy, rng)
    if len(visited) == 0:
        return visited
    draw = rng.random(len(visited))
    pool = members[rng.integers(0, len(members), (len(visited), p.candidates))]
    t = state.ties
    t.count = _visit(visited, draw, pool, state.capacities, state.goals, state.trust, state.visits,
                     state.district, p.trust_gain, p.capacity_gain, p.introduction_prob,
                     p.introduction_gain, *t.buffers(len(visited)), t.count, state.n, month)
    return visited
