"""How alike two groups are, and how many ties each has: the measures several parts share.

Goal agreement decides joint activity and introductions and is reported along ties;
value alignment is reported along ties and decides a network's shared ideology; degrees
are reported and used by the classifier; which ties each group keeps up decides which
ties wear. Each is defined here once, as compiled functions
the processes, the classifier and the measures all call.

Example:
    >>> import numpy as np
    >>> goals = np.array([[1.0, 0.0], [0.5, 0.5]])
    >>> float(goal_agreement_of(goals, 0, 1))
    0.5
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["degrees", "goal_agreement", "goal_agreement_of", "kept_up", "set_alignment", "value_alignment_of"]


@numba.njit(cache=True)
def goal_agreement_of(goals: np.ndarray, i: int, j: int) -> float:  # pragma: no cover - compiled
    """``1 - TV``: one minus the total-variation distance between two groups' goal weights."""
    distance = 0.0
    for k in range(goals.shape[1]):
        distance += abs(goals[i, k] - goals[j, k])
    return 1.0 - 0.5 * distance


@numba.njit(cache=True)
def goal_agreement(goals: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover
    """:func:`goal_agreement_of` for each pair ``(a[x], b[x])`` (in [0, 1])."""
    out = np.empty(len(a))
    for x in range(len(a)):
        out[x] = goal_agreement_of(goals, a[x], b[x])
    return out


@numba.njit(cache=True)
def value_alignment_of(values: np.ndarray, i: int, j: int) -> float:  # pragma: no cover - compiled
    """``1 -`` the mean absolute difference of two groups' values (each in [0, 1])."""
    distance = 0.0
    for k in range(values.shape[1]):
        distance += abs(values[i, k] - values[j, k])
    return 1.0 - distance / values.shape[1]


@numba.njit(cache=True)
def set_alignment(values: np.ndarray, label: np.ndarray, k: int) -> np.ndarray:  # pragma: no cover
    """Value alignment of each of ``k`` labelled sets of groups (label -1: in none).

    ``1 - 2 *`` the members' mean over groups of the mean absolute deviation from the set's
    mean values: 1 when every member holds the same values. For a set of two it equals
    :func:`value_alignment_of` of the pair.
    """
    n, d = values.shape
    size = np.zeros(k, np.int64)
    total = np.zeros((k, d))
    for v in range(n):
        if label[v] >= 0:
            size[label[v]] += 1
            for j in range(d):
                total[label[v], j] += values[v, j]
    deviation = np.zeros(k)
    for v in range(n):
        net = label[v]
        if net >= 0:
            s = 0.0
            for j in range(d):
                s += abs(values[v, j] - total[net, j] / size[net])
            deviation[net] += s / d
    out = np.empty(k)
    for net in range(k):
        out[net] = 1.0 - 2.0 * deviation[net] / max(size[net], 1)
    return out


@numba.njit(cache=True)
def degrees(n: int, a: np.ndarray, b: np.ndarray, node_in: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Ties of each of ``n`` groups among the ties ``(a[e], b[e])`` whose two ends are in ``node_in``."""
    degree = np.zeros(n, np.int64)
    for e in range(len(a)):
        if node_in[a[e]] and node_in[b[e]]:
            degree[a[e]] += 1
            degree[b[e]] += 1
    return degree


@numba.njit(cache=True)
def kept_up(n: int, a: np.ndarray, b: np.ndarray, strength: np.ndarray,
            capacity: int) -> np.ndarray:  # pragma: no cover - compiled
    """Which of the ties ``(a[e], b[e])`` their two groups keep up, each group at most ``capacity``.

    Groups give their upkeep to their strongest ties first: the ties are taken strongest
    first (equal strengths in tie order) and a tie is kept up when both its groups still
    have room for it. Every group then keeps up at most ``capacity`` ties.
    """
    kept = np.zeros(len(a), np.bool_)
    room = np.full(n, capacity, np.int64)
    for e in np.argsort(-strength, kind="mergesort"):
        if room[a[e]] > 0 and room[b[e]] > 0:
            kept[e] = True
            room[a[e]] -= 1
            room[b[e]] -= 1
    return kept
