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
from netsim.ties import EXCHANGE, MARKETING

__all__ = ["choose_partners", "complementarity", "complementarity_of", "hold_forums", "is_forum_month"]

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
    start, out = 0, 0
    while start < n:
        end = start
        while end < n and room[end] == room[start]:
            end += 1
        size = end - start
        for i in range(start, end):
            me = people[i]
            other = np.empty(k, np.int64)
            score = np.empty(k)
            for c in range(k):
                # uniform over the others in the room (a lone attendee draws itself: ignored later)
                offset = 1 + int(pick[i, c] * (size - 1))
                other[c] = people[start + (i - start + offset) % size]
                score[c] = (homophily_district * (district[me] == district[other[c]])
                            + homophily_kind * (kind[me] == kind[other[c]])
                            + complementarity_weight * complementarity_of(capacities, me, other[c])
                            + noise[i, c])
            for c in np.argsort(-score, kind="mergesort")[:m]:
                first[out], second[out] = me, other[c]
                out += 1
        start = end
    return first[:out], second[:out]


def choose_partners(state: GroupState, attendees: np.ndarray, room: np.ndarray,
                    p: ForumParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pairs met at forums: each attendee picks ``meetings`` of ``candidates`` in its room.

    Candidates are drawn uniformly (with replacement) among the others in the attendee's
    room; the ``meetings`` with the highest attraction plus Gumbel noise are chosen, which
    is a draw without replacement with chances proportional to ``exp(attraction)``.

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
    noise = rng.gumbel(size=pick.shape)
    f = state.features
    return _meet(np.asarray(attendees, np.int64), np.asarray(room, np.int64), pick, noise,
                 f.district, f.kind, state.capacities, p.meetings, p.homophily_district,
                 p.homophily_kind, p.complementarity)


def hold_forums(state: GroupState, p: ForumParams, rng: np.random.Generator,
                month: int) -> np.ndarray:
    """Hold this month's forums; return the rows of the groups that attended."""
    members = np.flatnonzero(state.participating)
    chance = np.clip(p.attendance_base + p.attendance_inspiration * state.inspiration[members]
                     + p.attendance_trust * state.trust[members], 0.0, 1.0)
    attendees = members[rng.random(len(members)) < chance]
    if len(attendees) == 0:
        return attendees
    room = state.district[attendees] if p.scope == "district" else np.zeros(len(attendees), np.int64)
    a, b = choose_partners(state, attendees, room, p, rng)
    kind = MARKETING if p.topic == "marketing" else EXCHANGE
    state.ties.reinforce(a, b, p.tie_gain, kind=kind, month=month)
    state.attended[attendees] += 1
    state.inspiration[attendees] += p.inspiration_gain * (1.0 - state.inspiration[attendees])
    state.trust[attendees] += p.trust_gain * (1.0 - state.trust[attendees])
    if p.topic == "marketing":
        target = np.zeros(len(GOALS))
        target[_MARKETING_GOAL] = 1.0
        state.goals[attendees] += p.topic_pull * (target - state.goals[attendees])
    elif p.topic == "ideology" and len(a):
        move_towards_partners(state.values, a, b, np.ones(len(a)), p.topic_pull)
    return attendees
