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
from netsim.scenario import ForumParams
from netsim.state import GroupState
from netsim.ties import EXCHANGE, MARKETING

__all__ = ["choose_partners", "complementarity", "complementarity_of", "hold_forums", "is_forum_month",
           "pull_together"]

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


def choose_partners(state: GroupState, attendees: np.ndarray, room: np.ndarray,
                    p: ForumParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pairs met at forums: each attendee picks ``meetings`` of ``candidates`` in its room.

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
    order = np.argsort(room, kind="stable")
    people, room = attendees[order], room[order]
    _, start, size = np.unique(room, return_index=True, return_counts=True)
    which = np.repeat(np.arange(len(start)), size)
    first, count = start[which, None], size[which, None]
    # Candidates: uniform over the others in the same room (a lone attendee meets no one:
    # its only candidate is itself, and ties to oneself are ignored).
    offset = 1 + (rng.random((len(people), p.candidates)) * (count - 1)).astype(np.int64)
    me = np.broadcast_to(people[:, None], offset.shape)
    other = people[first + (np.arange(len(people))[:, None] - first + offset) % count]
    f = state.features
    score = (p.homophily_district * (f.district[me] == f.district[other])
             + p.homophily_kind * (f.kind[me] == f.kind[other])
             + p.complementarity * complementarity(state.capacities, me.ravel(), other.ravel())
             .reshape(offset.shape)
             + rng.gumbel(size=offset.shape))
    m = min(p.meetings, p.candidates)
    best = np.argpartition(-score, m - 1, axis=1)[:, :m]
    return me[:, :m].ravel(), np.take_along_axis(other, best, axis=1).ravel()


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
        pull_together(state.values, a, b, p.topic_pull)
    return attendees


def pull_together(x: np.ndarray, a: np.ndarray, b: np.ndarray, weight: float) -> None:
    """Move each row of ``x`` towards the mean of the rows it is paired with."""
    n, d = x.shape
    ends = np.concatenate([a, b])
    others = np.concatenate([b, a])
    count = np.bincount(ends, minlength=n)
    touched = np.flatnonzero(count)
    total = np.zeros((n, d))
    np.add.at(total, ends, x[others])
    mean = total[touched] / count[touched, None]
    x[touched] += weight * (mean - x[touched])
