"""Lessons-learned reviews: plans are revised; goals converge, values barely.

On a review month each participant revises its plan with chance ``revise_prob * (0.5 +
0.5 * inspiration)``; a revision closes ``plan_gain`` of the gap to a perfect plan
(weighted by the group's knowledge: ``plan_gain * (0.5 + 0.5 * knowledge)``). Then
goals move towards the tie-strength-weighted mean of the participant's participating
partners with weight ``goal_convergence`` (one DeGroot step), and values the same way with
the much smaller ``value_convergence``.
"""

from __future__ import annotations

import numpy as np

from netsim.population import CAPACITIES
from netsim.scenario import ReviewParams
from netsim.state import GroupState

__all__ = ["hold_review", "is_review_month", "neighbour_mean"]

_KNOWLEDGE = CAPACITIES.index("knowledge")


def is_review_month(p: ReviewParams, month: int) -> bool:
    """Whether a lessons-learned review is held this month."""
    return p.interval > 0 and month >= p.start_month and (month - p.start_month) % p.interval == 0


def neighbour_mean(x: np.ndarray, a: np.ndarray, b: np.ndarray,
                   w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tie-weighted mean of each row's partners' ``x``; return (rows with partners, means)."""
    n, d = x.shape
    ends = np.concatenate([a, b])
    others = np.concatenate([b, a])
    ww = np.concatenate([w, w])
    weight = np.bincount(ends, weights=ww, minlength=n)
    rows = np.flatnonzero(weight > 0)
    total = np.stack([np.bincount(ends, weights=ww * x[others, j], minlength=n) for j in range(d)], axis=1)
    return rows, total[rows] / weight[rows, None]


def hold_review(state: GroupState, p: ReviewParams, rng: np.random.Generator) -> np.ndarray:
    """Hold a review; return the rows that revised their plans."""
    members = np.flatnonzero(state.participating)
    revise = members[rng.random(len(members)) < p.revise_prob * (0.5 + 0.5 * state.inspiration[members])]
    gain = p.plan_gain * (0.5 + 0.5 * state.capacities[revise, _KNOWLEDGE])
    state.plan_quality[revise] += gain * (1.0 - state.plan_quality[revise])
    state.revisions[revise] += 1
    t = state.ties
    live = state.participating[t.a] & state.participating[t.b]
    if live.any():
        a, b, w = t.a[live], t.b[live], t.strength[live]
        rows, goal_mean = neighbour_mean(state.goals, a, b, w)
        state.goals[rows] += p.goal_convergence * (goal_mean - state.goals[rows])
        rows, value_mean = neighbour_mean(state.values, a, b, w)
        state.values[rows] += p.value_convergence * (value_mean - state.values[rows])
    return revise
