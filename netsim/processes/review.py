"""Lessons-learned reviews: plans are revised; goals converge, values barely.

On a review month each participant revises its plan with chance ``revise_prob * (0.5 +
0.5 * inspiration)``; a revision closes ``plan_gain`` of the gap to a perfect plan
(weighted by the group's knowledge: ``plan_gain * (0.5 + 0.5 * knowledge)``). Then
goals move towards the tie-strength-weighted mean of the participant's participating
partners with weight ``goal_convergence`` (one DeGroot step), and values the same way with
the much smaller ``value_convergence``.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from netsim.codes import KNOWLEDGE
from netsim.compiled import record
from netsim.scenario import ReviewParams
from netsim.state import GroupState
from netsim.stream import as_stream, uniform

__all__ = ["ReviewKernel", "hold_review", "is_review_month", "kernel_params",
           "move_towards_partners", "review_kernel"]


def is_review_month(p: ReviewParams, month: int) -> bool:
    """Whether a lessons-learned review is held this month."""
    return p.interval > 0 and month >= p.start_month and (month - p.start_month) % p.interval == 0


@numba.njit(cache=True)
def move_towards_partners(x: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray,
                          weight: float) -> None:  # pragma: no cover - compiled
    """One DeGroot step, in place.

    Each row with partners moves ``weight`` of the way towards the ``w``-weighted mean of
    its partners' rows (all read before any row moves).

    Args:
        x: (n, d) rows (goals or values).
        a: First ends of the pairs.
        b: Second ends of the pairs.
        w: Weight of each pair (a pair named twice counts twice).
        weight: Share of the way to move.
    """
    n, d = x.shape
    total, mass = np.zeros((n, d)), np.zeros(n)
    for e in range(len(a)):
        u, v = a[e], b[e]
        for j in range(d):
            total[u, j] += w[e] * x[v, j]
            total[v, j] += w[e] * x[u, j]
        mass[u] += w[e]
        mass[v] += w[e]
    for v in range(n):
        if mass[v] > 0:
            for j in range(d):
                x[v, j] += weight * (total[v, j] / mass[v] - x[v, j])


class ReviewKernel(NamedTuple):
    """The review parameters as :func:`review_kernel` reads them (see :func:`kernel_params`)."""

    revise_prob: float
    plan_gain: float
    goal_convergence: float
    value_convergence: float


def kernel_params(p: ReviewParams) -> ReviewKernel:
    """The review parameters as the compiled month takes them."""
    return record(ReviewKernel, p)


@numba.njit(cache=True)
def review_kernel(s, t, count, stream, p):  # pragma: no cover - compiled
    """One review; draws one uniform per participant.

    ``s`` is the state's :class:`~netsim.state.StateArrays`, ``t`` the tie buffers and ``p``
    a :class:`ReviewKernel`.
    """
    participating, plan_quality, a, b = s.participating, s.plan_quality, t.a, t.b
    members = np.flatnonzero(participating)
    revised = np.empty(len(members), np.int64)
    m = 0
    for v in members:
        if uniform(stream) < p.revise_prob * (0.5 + 0.5 * s.inspiration[v]):
            gain = p.plan_gain * (0.5 + 0.5 * s.capacities[v, KNOWLEDGE])
            plan_quality[v] += gain * (1.0 - plan_quality[v])
            s.revisions[v] += 1
            revised[m] = v
            m += 1
    live = np.empty(count, np.bool_)
    for e in range(count):
        live[e] = participating[a[e]] and participating[b[e]]
    la, lb, lw = a[:count][live], b[:count][live], t.strength[:count][live]
    move_towards_partners(s.goals, la, lb, lw, p.goal_convergence)
    move_towards_partners(s.values, la, lb, lw, p.value_convergence)
    return revised[:m]


def hold_review(state: GroupState, p: ReviewParams, rng: np.random.Generator | np.ndarray) -> np.ndarray:
    """Hold a review; return the rows that revised their plans.

    ``rng`` is the model's generator, or a stream state (``netsim/stream.py``) to draw from.
    """
    t = state.ties
    return review_kernel(state.arrays(), t.buffers(), t.count, as_stream(rng), kernel_params(p))
