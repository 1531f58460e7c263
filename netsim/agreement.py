"""How alike two groups are, and how many ties each has: the measures several parts share.

Goal agreement decides joint activity and introductions and is reported along ties;
value alignment is reported along ties and decides a network's shared ideology; degrees
are reported and used by the classifier; which ties both groups keep up decides which
carry joint activity and meetings and which wear. Each is defined here once, as compiled functions
the processes, the classifier and the measures all call.

Example:
    >>> import numpy as np
    >>> goals = np.array([[1.0, 0.0], [0.5, 0.5]])
    >>> float(goal_agreement_of(goals, 0, 1))
    0.5
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

__all__ = ["A_END", "BOTH_ENDS", "B_END", "KeptEnds", "degrees", "goal_agreement", "goal_agreement_of",
           "kept_ends", "kept_ends_after", "kept_up", "set_alignment", "top_goal_of", "value_alignment_of"]

#: Bits of :func:`kept_ends`: the tie's first group keeps it up, its second does, both do.
A_END, B_END, BOTH_ENDS = 1, 2, 3


class KeptEnds(NamedTuple):
    """Which end of each tie kept it up at a point of the month, for :func:`kept_ends_after`.

    Attributes:
        key: The keys of the ties then (``Ties.key``), ascending.
        ends: Which end of each of them kept it up (:func:`kept_ends`).
    """

    key: np.ndarray
    ends: np.ndarray


@numba.njit(cache=True, inline="always")
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


@numba.njit(cache=True, inline="always")
def top_goal_of(goals: np.ndarray, i: int) -> int:  # pragma: no cover - compiled
    """The goal group ``i`` weighs most (of equal weights, the first): ``np.argmax(goals[i])``."""
    best = 0
    for k in range(1, goals.shape[1]):
        if goals[i, k] > goals[i, best]:
            best = k
    return best


@numba.njit(cache=True, inline="always")
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
    """Which of the ties ``(a[e], b[e])`` both their groups keep up.

    Each of the ``n`` groups keeps up its ``capacity`` strongest ties (of equal strengths,
    the earlier in the list); a tie is kept up when it is among those of both its groups
    (:func:`kept_ends` gives each end's answer). The ties are sorted by ``(a, b)`` with
    ``a < b``, each once, as the tie list keeps them.
    """
    return kept_ends(n, a, b, strength, capacity) == BOTH_ENDS


@numba.njit(cache=True)
def kept_ends(n: int, a: np.ndarray, b: np.ndarray, strength: np.ndarray,
              capacity: int) -> np.ndarray:  # pragma: no cover - compiled
    """For each end of each tie, whether its group keeps the tie up.

    ``ends[e]`` holds a bit for each end of tie ``e``: ``A_END`` when ``a[e]`` keeps it up,
    ``B_END`` when ``b[e]`` does (``BOTH_ENDS``: the tie is kept up). A group keeps up its
    ``capacity`` strongest ties (of equal strengths, the earlier in the list). The ties are
    sorted by ``(a, b)`` with ``a < b``, as the tie list keeps them.
    """
    ends = np.full(len(a), BOTH_ENDS, np.int8)
    return _rank_ends(n, a, b, strength, capacity, ends, np.empty(0, np.bool_), True)


@numba.njit(cache=True)
def kept_ends_after(n: int, a: np.ndarray, b: np.ndarray, key: np.ndarray, strength: np.ndarray,
                    capacity: int, key_before: np.ndarray,
                    ends_before: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """:func:`kept_ends` of the ties now, from what it was for the ties ``key_before``.

    Sound only when, since then, ties have been added (the list keeps its order by
    ``key``) and the only strengths that changed are of ties both groups kept up, which
    grew: a group none of whose ties is new then keeps up the same ties, since every one
    it kept is still stronger than every one it did not. So only the groups with a new
    tie are ranked again. Empty ``key_before``: every tie is new, and every group with a
    tie is ranked.
    """
    m = len(a)
    ends = np.empty(m, np.int8)
    redo = np.zeros(n, np.bool_)
    j = 0
    for e in range(m):  # both lists are in key order
        if j < len(key_before) and key[e] == key_before[j]:
            ends[e] = ends_before[j]
            j += 1
        else:
            redo[a[e]] = True
            redo[b[e]] = True
    for e in range(m):  # at a group ranked again, kept up unless ranked out
        u, v = a[e], b[e]
        if redo[u] or redo[v]:
            ends[e] = (A_END if redo[u] else ends[e] & A_END) | (B_END if redo[v] else ends[e] & B_END)
    return _rank_ends(n, a, b, strength, capacity, ends, redo, False)


@numba.njit(cache=True)
def _rank_ends(n, a, b, strength, capacity, ends, redo, every):  # pragma: no cover - compiled
    """Clear in ``ends`` the bit of each tie a group does not keep up: groups in ``redo``, or ``every`` group.

    A group with more than ``capacity`` ties goes through them in list order, keeping the
    ``capacity`` strongest so far in a short list, strongest first: a tie enters only
    when it is stronger than the weakest kept, so of equal strengths the earlier stays.
    The list is sorted by ``(a, b)``, so a group's ties to earlier groups (as ``b``) come
    before its ties to later ones (as ``a``), which are one run of the list; only the
    former need gathering.
    """
    m = len(a)
    first_a = np.zeros(n + 1, np.int64)  # each group's ties as a: a run of the list
    first_b = np.zeros(n + 1, np.int64)  # ... and as b, gathered in list order
    for e in range(m):
        first_a[a[e] + 1] += 1
        first_b[b[e] + 1] += 1
    widest = 0
    for v in range(n):
        if every or redo[v]:
            widest = max(widest, first_a[v + 1] + first_b[v + 1])
        first_a[v + 1] += first_a[v]
        first_b[v + 1] += first_b[v]
    c = max(capacity, 0)
    if widest <= c:
        return ends  # no group ranked has more ties than it keeps up
    fill = first_b.copy()
    as_b = np.empty(m, np.int64)
    for e in range(m):
        as_b[fill[b[e]]] = e
        fill[b[e]] += 1
    top, kept = np.empty(c + 1), np.empty(c + 1, np.int64)  # the strongest so far, and their ties
    for v in range(n):
        n_b, n_a = first_b[v + 1] - first_b[v], first_a[v + 1] - first_a[v]
        if n_b + n_a <= c or not (every or redo[v]):
            continue
        k = 0
        for i in range(n_b + n_a):
            e = as_b[first_b[v] + i] if i < n_b else first_a[v] + i - n_b
            x = strength[e]
            ends[e] &= ~(B_END if i < n_b else A_END)  # set again below if kept
            if k == c and (c == 0 or not x > top[c - 1]):
                continue
            at = min(k, c - 1)  # the weakest kept drops out when the list is full
            while at > 0 and top[at - 1] < x:
                top[at], kept[at] = top[at - 1], kept[at - 1]
                at -= 1
            top[at], kept[at] = x, e
            k = min(k + 1, c)
        for i in range(k):
            e = kept[i]
            ends[e] |= A_END if a[e] == v else B_END
    return ends
