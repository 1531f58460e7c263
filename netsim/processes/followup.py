"""Follow-up visits: the team visits groups, builds trust, and weaves the network.

Each month from ``start_month`` the team makes ``visits_per_month * (1 + ease_with_trust
* mean trust)`` visits (support gets easier as relations improve, as the study found), to
participants chosen by the policy: ``random``; ``weakest`` (lowest mean capacity first);
``least_trusted``; or ``bridge`` (fewest ties to participants of other districts first).

A visit closes a share ``trust_gain`` of the gap to full trust, then, as far as the group
trusts the team, ``capacity_gain * trust`` of the gap in its weakest capacity (support is
accepted in proportion to trust). With chance ``introduction_prob`` the team proposes an
introduction to the best match among ``candidates`` participants drawn at random (with
replacement; those of its own district are passed over), the match being
complementarity plus goal agreement, so the team weaves around shared purposes (the route
to cross-district ties); the group takes it up with chance equal to its trust. An
introduction makes a tie of strength ``introduction_gain``, a marketing tie if both put
marketing first: weaker than the networks' tie threshold, so it only links the two into a
network if they go on to work together.

The team also supports the network it weaves (the study's step 3): a visited group works,
with the team's help, along its newest tie to another district, with chance
``network_support * trust``; that joint activity closes ``support_gain`` of the tie's gap
to full strength and is joint marketing if both put marketing first.

Trust can fall: every month, a group visited before but not for more than ``patience``
months loses a share ``trust_decay`` of its trust (promised follow-up that stops,
:func:`lapse_trust`).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from netsim.agreement import goal_agreement_of, top_goal_of
from netsim.codes import MARKETING_GOAL, POLICIES
from netsim.compiled import record
from netsim.processes.forum import complementarity_of
from netsim.scenario import FollowupParams
from netsim.state import GroupState
from netsim.stream import as_stream, uniform, uniforms
from netsim.ties import EXCHANGE, JOINT_ACTIVITY, MARKETING, reinforce_pairs

__all__ = ["POLICIES", "FollowupKernel", "choose_visits", "fade_trust", "follow_up", "followup_kernel",
           "is_followup_month", "kernel_params", "lapse_trust", "tie_room", "visits_this_month"]


def is_followup_month(p: FollowupParams, month: int) -> bool:
    """Whether the team makes visits this month."""
    return p.visits_per_month > 0 and month >= p.start_month and not (p.end_month and month > p.end_month)


@numba.njit(cache=True)
def visits_this_month(visits_per_month: int, ease_with_trust: float, mean_trust: float) -> int:
    """How many visits the team can make, given how well it knows the groups (mean trust)."""
    return int(np.round(visits_per_month * (1.0 + ease_with_trust * mean_trust)))


_RANDOM, _WEAKEST, _LEAST_TRUSTED = (POLICIES.index(x) for x in ("random", "weakest", "least_trusted"))


@numba.njit(cache=True)
def _visit_order(members, jitter, policy, s, t, count, k):  # pragma: no cover - compiled
    """The first ``k`` of ``members`` in the order the policy visits them (``jitter`` breaks ties).

    The order is by the policy's priority, lowest first, then by ``jitter`` (then by
    position): the ``k`` first are kept in a heap as the members go by, whose top is the
    last of them, so it costs ``n log k`` rather than sorting all ``n`` members; they are
    then taken from the heap in order.
    """
    priority = np.zeros(len(members))  # random: jitter alone
    if policy == _WEAKEST:  # lowest mean capacity first
        for x in range(len(members)):
            priority[x] = s.capacities[members[x]].mean()
    elif policy == _LEAST_TRUSTED:
        for x in range(len(members)):
            priority[x] = s.trust[members[x]]
    elif policy != _RANDOM:  # bridge: fewest ties to participants of other districts first
        participating, district, a, b = s.participating, s.district, t.a, t.b
        cross = np.zeros(len(participating))
        for e in range(count):
            if participating[a[e]] and participating[b[e]] and district[a[e]] != district[b[e]]:
                cross[a[e]] += 1
                cross[b[e]] += 1
        for x in range(len(members)):
            priority[x] = cross[members[x]]
    k = max(0, min(k, len(members)))
    heap = np.empty(k, np.int64)  # positions in members; heap[0] comes after all the others
    for x in range(len(members)):
        if x < k:  # the first k enter as they come
            i = x
            while i > 0 and _after(priority, jitter, x, heap[(i - 1) // 2]):
                heap[i] = heap[(i - 1) // 2]
                i = (i - 1) // 2
            heap[i] = x
        elif k > 0 and _after(priority, jitter, heap[0], x):  # x goes before the last kept
            _sift_down(heap, k, x, priority, jitter)
    chosen = np.empty(k, np.int64)
    for end in range(k - 1, -1, -1):  # the last of those left goes last
        chosen[end] = heap[0]
        _sift_down(heap, end, heap[end], priority, jitter)
    return members[chosen]


@numba.njit(cache=True, inline="always")
def _after(priority, jitter, x, y):  # pragma: no cover - compiled
    """Whether position ``x`` is visited after ``y``: by priority, then jitter, then position."""
    if priority[x] != priority[y]:
        return priority[x] > priority[y]
    if jitter[x] != jitter[y]:
        return jitter[x] > jitter[y]
    return x > y


@numba.njit(cache=True)
def _sift_down(heap, size, item, priority, jitter):  # pragma: no cover - compiled
    """Put ``item`` at the top of the first ``size`` entries of ``heap`` and let it sink to its place."""
    i = 0
    while 2 * i + 1 < size:
        c = 2 * i + 1
        if c + 1 < size and _after(priority, jitter, heap[c + 1], heap[c]):
            c += 1
        if not _after(priority, jitter, heap[c], item):
            break
        heap[i] = heap[c]
        i = c
    if size > 0:
        heap[i] = item


def choose_visits(state: GroupState, members: np.ndarray, k: int, policy: str,
                  rng: np.random.Generator) -> np.ndarray:
    """Pick ``k`` of ``members`` to visit by the policy (ties broken at random)."""
    t = state.ties
    return _visit_order(np.asarray(members, np.int64), rng.random(len(members)), POLICIES.index(policy),
                        state.arrays(), t.buffers(), t.count, k)


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
    trust_decay: float
    patience: int
    network_support: float
    support_gain: float


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
    visited = _visit_order(members, uniforms(stream, n_members), p.policy, s, t, count, k)
    for v in visited:
        s.visits[v] += 1
        s.last_visit[v] = month
        trust[v] += p.trust_gain * (1.0 - trust[v])
        weakest = np.argmin(capacities[v])
        capacities[v, weakest] += p.capacity_gain * trust[v] * (1.0 - capacities[v, weakest])
    first, second = np.empty(k, np.int64), np.empty(k, np.int64)
    new_kind = np.empty(k, np.int8)
    m = 0
    for x in range(k):
        if uniform(stream) >= p.introduction_prob:
            continue
        v, best, best_fit = visited[x], -1, 0.0
        if uniform(stream) >= trust[v]:
            continue  # the group does not take the introduction up
        for _ in range(p.candidates):  # the best match among sampled groups of other districts
            other = members[int(uniform(stream) * n_members)]
            if district[other] == district[v]:
                continue
            fit = complementarity_of(capacities, v, other) + goal_agreement_of(goals, v, other)
            if best < 0 or fit > best_fit:
                best, best_fit = other, fit
        if best >= 0 and best_fit > 0:
            first[m], second[m] = v, best
            market = top_goal_of(goals, v) == MARKETING_GOAL and top_goal_of(goals, best) == MARKETING_GOAL
            new_kind[m] = MARKETING if market else EXCHANGE
            m += 1
    _support_networks(s, t, count, month, stream, visited, p)
    count = reinforce_pairs(t, count, len(s.participating), first[:m], second[:m],
                            np.full(m, p.introduction_gain), new_kind[:m], month)
    return visited, count


@numba.njit(cache=True)
def _support_networks(s, t, count, month, stream, visited, p):  # pragma: no cover - compiled
    """The team supports each visited group's newest tie to another district: joint work along it.

    Draws one uniform per visited group that has such a tie (in order of the visits).
    """
    if p.network_support == 0 or len(visited) == 0:
        return
    participating, district, goals = s.participating, s.district, s.goals
    a, b = t.a, t.b
    newest = np.full(len(participating), -1, np.int64)  # per visited group: its newest cross tie
    was_visited = np.zeros(len(participating), np.bool_)
    for v in visited:
        was_visited[v] = True
    for e in range(count):
        u, w = a[e], b[e]
        if district[u] == district[w] or not (participating[u] and participating[w]):
            continue
        for x in (u, w):
            if was_visited[x] and (newest[x] < 0 or t.formed[e] > t.formed[newest[x]]):
                newest[x] = e
    for v in visited:
        e = newest[v]
        if e < 0 or uniform(stream) >= p.network_support * s.trust[v]:
            continue
        t.strength[e] += p.support_gain * (1.0 - t.strength[e])
        t.last_used[e], t.last_activity[e] = month, month
        market = top_goal_of(goals, a[e]) == MARKETING_GOAL and top_goal_of(goals, b[e]) == MARKETING_GOAL
        t.kind[e] = MARKETING if market else JOINT_ACTIVITY


@numba.njit(cache=True)
def lapse_trust(s, month, p):  # pragma: no cover - compiled
    """Trust falls where the team has not come back for more than ``p.patience`` months."""
    trust, last_visit = s.trust, s.last_visit
    for v in range(len(trust)):
        if last_visit[v] >= 0 and month - last_visit[v] > p.patience:
            trust[v] *= 1.0 - p.trust_decay


def fade_trust(state: GroupState, p: FollowupParams, month: int) -> None:
    """Lower trust where the team has not come back (:func:`lapse_trust`), for ``month``."""
    lapse_trust(state.arrays(), month, kernel_params(p))


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
