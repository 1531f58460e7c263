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

import numba
import numpy as np

from netsim.population import GOALS
from netsim.processes.review import move_towards_partners
from netsim.scenario import ForumParams
from netsim.state import GroupState
from netsim.stream import as_stream, uniforms
from netsim.ties import EXCHANGE, MARKETING, reinforce_pairs

__all__ = ["choose_partners", "complementarity", "complementarity_of", "hold_forums", "is_forum_month",
           "kernel_params", "tie_room"]

_MARKETING_GOAL = GOALS.index("marketing")


def is_forum_month(p: ForumParams, month: int) -> bool:
    """Whether forums are held this month."""
    if p.interval == 0 or month < p.start_month or (p.end_month and month > p.end_month):
        return False
    return (month - p.start_month) % p.interval == 0


@numba.njit(cache=True)
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


_TOPICS = ("general", "marketing", "ideology")


def kernel_params(p: ForumParams) -> tuple:
    """The forum parameters in the order :func:`_hold_forums` takes them."""
    return (p.scope == "district", p.attendance_base, p.attendance_inspiration, p.attendance_trust,
            p.candidates, p.meetings, p.homophily_district, p.homophily_kind, p.complementarity,
            p.tie_gain, p.inspiration_gain, p.trust_gain, _TOPICS.index(p.topic), p.topic_pull)


@numba.njit(cache=True)
def _hold_forums(participating, district, kind, capacities, inspiration, trust, attended, goals,
                 values, key, a, b, strength, tie_kind, formed, last_used, last_activity, count,
                 month, stream, by_district, attendance_base, attendance_inspiration,
                 attendance_trust, candidates, meetings, homophily_district, homophily_kind,
                 complementarity_weight, tie_gain, inspiration_gain, trust_gain, topic,
                 topic_pull):  # pragma: no cover - compiled
    """One month's forums; draws one uniform per participant, then ``2 * candidates`` per attendee."""
    members = np.flatnonzero(participating)
    attends = uniforms(stream, len(members)) < (attendance_base + attendance_inspiration
                                                 * inspiration[members] + attendance_trust * trust[members])
    attendees = members[attends]
    q = len(attendees)
    room = district[attendees] if by_district else np.zeros(q, np.int64)
    pick = uniforms(stream, q * candidates).reshape(q, candidates)
    noise = _gumbel(uniforms(stream, q * candidates)).reshape(q, candidates)
    first, second = _meet(attendees, room, pick, noise, district, kind, capacities, meetings,
                          homophily_district, homophily_kind, complementarity_weight)
    new_kind = MARKETING if topic == 1 else EXCHANGE
    count = reinforce_pairs(key, a, b, strength, tie_kind, formed, last_used, last_activity, count,
                            len(participating), first, second, np.full(len(first), tie_gain),
                            np.full(len(first), new_kind, np.int8), month)
    for v in attendees:
        attended[v] += 1
        inspiration[v] += inspiration_gain * (1.0 - inspiration[v])
        trust[v] += trust_gain * (1.0 - trust[v])
        if topic == 1:  # marketing: goals move towards marketing
            for j in range(goals.shape[1]):
                goals[v, j] += topic_pull * ((j == _MARKETING_GOAL) - goals[v, j])
    if topic == 2:  # ideology: the values of those who met move towards each other
        move_towards_partners(values, first, second, np.ones(len(first)), topic_pull)
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
    attendees, t.count = _hold_forums(
        state.participating, state.district, state.features.kind, state.capacities,
        state.inspiration, state.trust, state.attended, state.goals, state.values, *buffers,
        t.count, month, as_stream(rng), *kernel_params(p))
    return attendees
