"""Follow-up visits: the team visits groups, builds trust, and weaves the network.

Each month from ``start_month`` the team makes ``visits_per_month * (1 + ease_with_trust
* mean trust)`` visits (support gets easier as relations improve, as the study found), to
participants chosen by the policy: ``random``; ``weakest`` (lowest mean capacity first);
``least_trusted``; or ``bridge`` (fewest ties to participants of other districts first).

A visit closes a share ``trust_gain`` of the gap to full trust and ``capacity_gain`` of
the gap in the group's weakest capacity. With chance ``introduction_prob`` it also
introduces the group to the best match among ``candidates`` participants drawn at random
(with replacement; those of its own district are passed over), the match being
complementarity plus goal agreement, so the team weaves around shared purposes (the route
to cross-district ties): a tie of strength ``introduction_gain``, a marketing tie if both
put marketing first.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from netsim.agreement import goal_agreement_of
from netsim.codes import MARKETING_GOAL, POLICIES
from netsim.compiled import record
from netsim.processes.forum import complementarity_of
from netsim.scenario import FollowupParams
from netsim.state import GroupState
from netsim.stream import as_stream, uniform, uniforms
from netsim.ties import EXCHANGE, MARKETING, reinforce_pairs

__all__ = ["FollowupKernel", "POLICIES", "choose_visits", "follow_up", "followup_kernel",
           "is_followup_month", "kernel_params", "tie_room", "visits_this_month"]


def is_followup_month(p: FollowupParams, month: int) -> bool:
    """Whether the team makes visits this month."""
    return p.visits_per_month > 0 and month >= p.start_month and not (p.end_month and month > p.end_month)


@numba.njit(cache=True)
def visits_this_month(visits_per_month: int, ease_with_trust: float, mean_trust: float) -> int:
    """How many visits the team can make, given how well it knows the groups (mean trust)."""
    return int(np.round(visits_per_month * (1.0 + ease_with_trust * mean_trust)))


_RANDOM, _WEAKEST, _LEAST_TRUSTED = (POLICIES.index(x) for x in ("random", "weakest", "least_trusted"))


@numba.njit(cache=True)
def _visit_order(members, jitter, policy, s, t, count):  # pragma: no cover - compiled
    """``members`` in the order the policy visits them (``jitter`` breaks ties at random)."""
    order = np.argsort(jitter)
    if policy == _RANDOM:
        return members[order]
    priority = np.empty(len(members))
    if policy == _WEAKEST:  # lowest mean capacity first
        for x in range(len(members)):
            priority[x] = s.capacities[members[x]].mean()
    elif policy == _LEAST_TRUSTED:
        for x in range(len(members)):
            priority[x] = s.trust[members[x]]
    else:  # bridge: fewest ties to participants of other districts first
        participating, district, a, b = s.participating, s.district, t.a, t.b
        cross = np.zeros(len(participating))
        for e in range(count):
            if participating[a[e]] and participating[b[e]] and district[a[e]] != district[b[e]]:
                cross[a[e]] += 1
                cross[b[e]] += 1
        for x in range(len(members)):
            priority[x] = cross[members[x]]
    return members[order[np.argsort(priority[order], kind="mergesort")]]


def choose_visits(state: GroupState, members: np.ndarray, k: int, policy: str,
                  rng: np.random.Generator) -> np.ndarray:
    """Pick ``k`` of ``members`` to visit by the policy (ties broken at random)."""
    t = state.ties
    return _visit_order(np.asarray(members, np.int64), rng.random(len(members)), POLICIES.index(policy),
                        state.arrays(), t.buffers(), t.count)[:k]


class FollowupKernel(NamedTuple):
    """The follow-up parameters as :func:`followup_kernel` reads them (see :func:`kernel_params`)."""

    policy: int
    visits_per_month: int
    ease_with_trust: float
    trust_gain: float
    capacity_gain: float
    introduction_prob: float
    candidates: int
    introduction_gain: float


def kernel_params(p: FollowupParams) -> FollowupKernel:
    """The follow-up parameters as the compiled month takes them."""
    return record(FollowupKernel, p, policy=POLICIES.index(p.policy))


@numba.njit(cache=True)
def followup_kernel(s, t, count, month, stream, p):  # pragma: no cover - compiled
    """One month of visits; draws one uniform per participant (the order's ties), then per visit.

    ``s`` is the state's :class:`~netsim.state.StateArrays`, ``t`` the tie buffers and ``p``
    a :class:`FollowupKernel`.
    """
    capacities, goals, trust, district = s.capacities, s.goals, s.trust, s.district
    members = np.flatnonzero(s.participating)
    n_members = len(members)
    if n_members == 0:
        return np.empty(0, np.int64), count
    k = min(n_members, visits_this_month(p.visits_per_month, p.ease_with_trust, trust[members].mean()))
    visited = _visit_order(members, uniforms(stream, n_members), p.policy, s, t, count)[:k]
    for v in visited:
        s.visits[v] += 1
        trust[v] += p.trust_gain * (1.0 - trust[v])
        weakest = np.argmin(capacities[v])
        capacities[v, weakest] += p.capacity_gain * (1.0 - capacities[v, weakest])
    first, second = np.empty(k, np.int64), np.empty(k, np.int64)
    new_kind = np.empty(k, np.int8)
    m = 0
    for x in range(k):
        if uniform(stream) >= p.introduction_prob:
            continue
        v, best, best_fit = visited[x], -1, 0.0
        for _ in range(p.candidates):  # the best match among sampled groups of other districts
            other = members[int(uniform(stream) * n_members)]
            if district[other] == district[v]:
                continue
            fit = complementarity_of(capacities, v, other) + goal_agreement_of(goals, v, other)
            if best < 0 or fit > best_fit:
                best, best_fit = other, fit
        if best >= 0 and best_fit > 0:
            first[m], second[m] = v, best
            market = np.argmax(goals[v]) == MARKETING_GOAL and np.argmax(goals[best]) == MARKETING_GOAL
            new_kind[m] = MARKETING if market else EXCHANGE
            m += 1
    count = reinforce_pairs(t, count, len(s.participating), first[:m], second[:m],
                            np.full(m, p.introduction_gain), new_kind[:m], month)
    return visited, count


def tie_room(p: FollowupParams, participants: int) -> int:
    """Most ties a month's visits can form among ``participants`` (an introduction per visit)."""
    return participants if p.visits_per_month else 0


def follow_up(state: GroupState, p: FollowupParams, rng: np.random.Generator | np.ndarray,
              month: int) -> np.ndarray:
    """Make this month's visits; return the rows visited.

    ``rng`` is the model's generator, or a stream state (``netsim/stream.py``) to draw from.
    """
    t = state.ties
    visited, t.count = followup_kernel(state.arrays(), t.buffers(tie_room(p, int(state.participating.sum()))),
                                  t.count, month, as_stream(rng), kernel_params(p))
    return visited
