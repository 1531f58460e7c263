"""Exchange forums: participants meet, ties form around a shared focus, leaders are inspired.

On a forum month every participant attends with probability ``attendance_base +
attendance_inspiration * inspiration + attendance_trust * trust``. Forums are held per
district (``scope = "district"``) or once for all (``"province"``). In the room each
attendee sizes up ``candidates`` others met at random and talks at length with the
``meetings`` of them it finds most attractive: attraction is
``homophily_district * [same district] + homophily_kind * [same kind] + complementarity *
c(i, j)`` plus Gumbel noise (a weighted draw without replacement), where ``c(i, j)`` is
how much stronger ``j`` is than ``i`` in ``i``'s weakest capacity (my weakness is your
strength). Each such meeting forms or strengthens a tie (focus theory, Feld 1981).

Attending raises inspiration (external cases and leaders' testimony: a broader view) and
a little trust in the team. A ``marketing`` forum pulls attendees' goals towards
marketing and its ties are marketing ties; an ``ideology`` forum pulls the values of the
groups that meet towards each other.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from netsim.codes import MARKETING_GOAL, TOPICS
from netsim.compiled import record
from netsim.processes.review import move_towards_partners
from netsim.scenario import ForumParams
from netsim.state import GroupState
from netsim.stream import as_stream, uniforms
from netsim.ties import EXCHANGE, MARKETING, reinforce_pairs

__all__ = ["ForumKernel", "choose_partners", "complementarity", "complementarity_of", "forum_kernel",
           "hold_forums", "is_forum_month", "kernel_params", "tie_room"]

_MARKETING_TOPIC, _IDEOLOGY_TOPIC = TOPICS.index("marketing"), TOPICS.index("ideology")


def is_forum_month(p: ForumParams, month: int) -> bool:
    """Whether forums are held this month."""
    if p.interval == 0 or month < p.start_month or (p.end_month and month > p.end_month):
        return False
    return (month - p.start_month) % p.interval == 0


@numba.njit(cache=True, inline="always")
def complementarity_of(capacities: np.ndarray, i: int, j: int) -> float:  # pragma: no cover
    """How much stronger ``j`` is than ``i`` in ``i``'s weakest capacity (0 if weaker)."""
    weakest = np.argmin(capacities[i])
    return max(capacities[j, weakest] - capacities[i, weakest], 0.0)


@numba.njit(cache=True)
def complementarity(capacities: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:  # pragma: no cover
    """:func:`complementarity_of` for each pair ``(i[x], j[x])``."""
    out = np.empty(len(i))
    for x in range(len(i)):
        out[x] = complementarity_of(capacities, i[x], j[x])
    return out


@numba.njit(cache=True)
def _meet(people, room, pick, noise, district, kind, capacities, meetings, homophily_district,
          homophily_kind, complementarity_weight):  # pragma: no cover - compiled
    order = np.argsort(room, kind="mergesort")
    people, room = people[order], room[order]
    n, k = pick.shape
    m = min(meetings, k)
    first, second = np.empty(n * m, np.int64), np.empty(n * m, np.int64)
    other, score = np.empty(k, np.int64), np.empty(k)
    start, out = 0, 0
    while start < n:
        end = start
        while end < n and room[end] == room[start]:
            end += 1
        size = end - start
        for i in range(start, end):
            me = people[i]
            weakest = np.argmin(capacities[me])  # complementarity_of, my weakest found once
            mine = capacities[me, weakest]
            for c in range(k):
                # uniform over the others in the room (a lone attendee draws itself: ignored later)
                at = i - start + 1 + int(pick[i, c] * (size - 1))  # one of the others, cyclically
                j = people[start + (at - size if at >= size else at)]
                other[c] = j
                score[c] = (homophily_district * (district[me] == district[j])
                            + homophily_kind * (kind[me] == kind[j])
                            + complementarity_weight * max(capacities[j, weakest] - mine, 0.0)
                            + noise[i, c])
            for _ in range(m):  # the m best, best first (the first of equals)
                best = 0
                for c in range(1, k):
                    if score[c] > score[best]:
                        best = c
                first[out], second[out] = me, other[best]
                out += 1
                score[best] = -np.inf
        start = end
    return first[:out], second[:out]


def choose_partners(state: GroupState, attendees: np.ndarray, room: np.ndarray,
                    p: ForumParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pairs met at forums: each attendee picks ``meetings`` of ``candidates`` in its room.

    Candidates are drawn uniformly (with replacement) among the others in the attendee's
    room; the ``meetings`` with the highest attraction plus Gumbel noise are chosen, which
    is a draw without replacement with chances proportional to ``exp(attraction)``. This
    is the meeting rule the forums use (``_meet``), for callers that choose the attendees
    and rooms themselves; :func:`hold_forums` draws its uniforms in one block with the
    attendance draws.

    Args:
        state: The model state.
        attendees: Rows of the attending groups.
        room: Room (forum) of each attendee; attendees only meet others of their room.
        p: Forum parameters.
        rng: The model's generator.

    Returns:
        The two ends of each meeting.
    """
    if len(attendees) == 0 or p.meetings == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    pick = rng.random((len(attendees), p.candidates))
    noise = _gumbel(rng.random(pick.shape))
    f = state.features
    return _meet(np.asarray(attendees, np.int64), np.asarray(room, np.int64), pick, noise,
                 f.district, f.kind, state.capacities, p.meetings, p.homophily_district,
                 p.homophily_kind, p.complementarity)


@numba.njit(cache=True)
def _gumbel(u: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    return -np.log(-np.log(np.maximum(u, 1e-300)))


class ForumKernel(NamedTuple):
    """The forum parameters as :func:`forum_kernel` reads them (see :func:`kernel_params`)."""

    by_district: bool
    attendance_base: float
    attendance_inspiration: float
    attendance_trust: float
    candidates: int
    meetings: int
    homophily_district: float
    homophily_kind: float
    complementarity: float
    tie_gain: float
    inspiration_gain: float
    trust_gain: float
    topic: int
    topic_pull: float


def kernel_params(p: ForumParams) -> ForumKernel:
    """The forum parameters as the compiled month takes them."""
    return record(ForumKernel, p, by_district=p.scope == "district", topic=TOPICS.index(p.topic))


@numba.njit(cache=True)
def forum_kernel(s, t, count, month, stream, p):  # pragma: no cover - compiled
    """One month's forums; draws one uniform per participant, then ``2 * candidates`` per attendee.

    ``s`` is the state's :class:`~netsim.state.StateArrays`, ``t`` the tie buffers and ``p``
    a :class:`ForumKernel`.
    """
    members = np.flatnonzero(s.participating)
    attends = uniforms(stream, len(members)) < (p.attendance_base + p.attendance_inspiration
                                                 * s.inspiration[members]
                                                 + p.attendance_trust * s.trust[members])
    attendees = members[attends]
    q = len(attendees)
    room = s.district[attendees] if p.by_district else np.zeros(q, np.int64)
    pick = uniforms(stream, q * p.candidates).reshape(q, p.candidates)
    noise = _gumbel(uniforms(stream, q * p.candidates)).reshape(q, p.candidates)
    first, second = _meet(attendees, room, pick, noise, s.district, s.kind, s.capacities, p.meetings,
                          p.homophily_district, p.homophily_kind, p.complementarity)
    new_kind = MARKETING if p.topic == _MARKETING_TOPIC else EXCHANGE
    count = reinforce_pairs(t, count, len(s.participating), first, second,
                            np.full(len(first), p.tie_gain), np.full(len(first), new_kind, np.int8),
                            month)
    goals = s.goals
    for v in attendees:
        s.attended[v] += 1
        s.inspiration[v] += p.inspiration_gain * (1.0 - s.inspiration[v])
        s.trust[v] += p.trust_gain * (1.0 - s.trust[v])
        if p.topic == _MARKETING_TOPIC:  # goals move towards marketing
            for j in range(goals.shape[1]):
                goals[v, j] += p.topic_pull * ((j == MARKETING_GOAL) - goals[v, j])
    if p.topic == _IDEOLOGY_TOPIC:  # the values of those who met move towards each other
        move_towards_partners(s.values, first, second, np.ones(len(first)), p.topic_pull)
    return attendees, count


def tie_room(p: ForumParams, participants: int) -> int:
    """Most ties a month's forums can form among ``participants``."""
    return participants * min(p.meetings, p.candidates)


def hold_forums(state: GroupState, p: ForumParams, rng: np.random.Generator | np.ndarray,
                month: int) -> np.ndarray:
    """Hold this month's forums; return the rows of the groups that attended.

    ``rng`` is the model's generator, or a stream state (``netsim/stream.py``) to draw from.
    """
    t = state.ties
    buffers = t.buffers(tie_room(p, int(state.participating.sum())))
    attendees, t.count = forum_kernel(state.arrays(), buffers, t.count, month, as_stream(rng),
                                      kernel_params(p))
    return attendees
