"""Ties between groups: an undirected, weighted tie list kept in arrays.

Each tie has two ends ``a < b`` (rows of the model's groups), a strength in (0, 1], a
kind (:data:`TIE_KINDS`), the month it formed, the month it was last used and the month
of its last joint activity. Ties are kept sorted by the key ``a * n + b`` in buffers with
spare room at the end, so forming, finding and dropping ties happens in place, in one
pass, whatever their number. The compiled processes work on the buffers directly
(:meth:`Ties.buffers`); everything else reads the views ``ties.a``, ``ties.strength``, ...
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

__all__ = ["TIE_KINDS", "TieBuffers", "Ties", "reinforce_pairs"]

#: Kinds of tie: met at a forum or through an introduction (exchange), worked together
#: (joint activity), marketed together (marketing), or predating the project (prior).
TIE_KINDS: tuple[str, ...] = ("exchange", "joint_activity", "marketing", "prior")
EXCHANGE, JOINT_ACTIVITY, MARKETING, PRIOR = range(4)
NEVER = -1_000_000



class TieBuffers(NamedTuple):
    """The tie list's buffers, as the compiled processes take them (a record, by name).

    Each holds ``count`` ties at its start and spare room after; see :class:`Ties`.
    """

    key: np.ndarray
    a: np.ndarray
    b: np.ndarray
    strength: np.ndarray
    kind: np.ndarray
    formed: np.ndarray
    last_used: np.ndarray
    last_activity: np.ndarray


_DTYPES = TieBuffers(key=np.int64, a=np.int64, b=np.int64, strength=np.float64, kind=np.int8,
                     formed=np.int32, last_used=np.int32, last_activity=np.int32)


class Ties:
    """The tie list of a model with ``n`` groups.

    Attributes (views of the first ``count`` entries of the buffers):
        key: ``a * n + b``, ascending.
        a, b: End rows, ``a < b``.
        strength: In (0, 1].
        kind: Codes into :data:`TIE_KINDS`.
        formed: Month the tie formed (0 for ties that predate the project).
        last_used: Month the tie was last formed, met along or used.
        last_activity: Month of the last joint activity along it (``NEVER`` if none).
    """

    def __init__(self, n: int, capacity: int = 64) -> None:
        self.n = n
        self.count = 0
        self._buffers = TieBuffers(*(np.empty(capacity, dtype=t) for t in _DTYPES))

    def __len__(self) -> int:
        return self.count

    key = property(lambda self: self._buffers[0][: self.count])
    a = property(lambda self: self._buffers[1][: self.count])
    b = property(lambda self: self._buffers[2][: self.count])
    strength = property(lambda self: self._buffers[3][: self.count])
    kind = property(lambda self: self._buffers[4][: self.count])
    formed = property(lambda self: self._buffers[5][: self.count])
    last_used = property(lambda self: self._buffers[6][: self.count])
    last_activity = property(lambda self: self._buffers[7][: self.count])

    def buffers(self, room: int = 0) -> TieBuffers:
        """The buffers, with space for at least ``room`` more ties."""
        needed = self.count + room
        if needed > len(self._buffers[0]):
            size = max(needed, 2 * len(self._buffers[0]))
            grown = []
            for old, dtype in zip(self._buffers, _DTYPES, strict=True):
                new = np.empty(size, dtype=dtype)
                new[: self.count] = old[: self.count]
                grown.append(new)
            self._buffers = TieBuffers(*grown)
        return self._buffers

    def pairs_key(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Key of each pair, whichever end comes first."""
        return np.minimum(a, b).astype(np.int64) * self.n + np.maximum(a, b)

    def find(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Index of the tie between each pair, or -1 where there is none."""
        keys = self.pairs_key(np.asarray(a), np.asarray(b))
        key = self.key
        pos = np.searchsorted(key, keys)
        hit = (pos < len(key)) & (key[np.minimum(pos, max(len(key) - 1, 0))] == keys) if len(key) \
            else np.zeros(len(keys), dtype=bool)
        return np.where(hit, pos, -1)

    def reinforce(self, a: np.ndarray, b: np.ndarray, gain: float | np.ndarray, *,
                  kind: int | np.ndarray, month: int) -> int:
        """Form or strengthen the tie between each pair ``(a[i], b[i])``.

        An existing tie closes a share ``gain`` of its gap to full strength and takes the
        new ``kind``; a missing one is formed with strength ``gain``. Pairs of a group
        with itself are ignored; a pair named twice counts once (its first mention).

        Returns:
            How many ties were formed.
        """
        a = np.asarray(a, dtype=np.int64)
        if len(a) == 0:
            return 0
        b = np.asarray(b, dtype=np.int64)
        gain = np.full(len(a), gain) if np.isscalar(gain) else np.asarray(gain, dtype=np.float64)
        kind = np.full(len(a), kind, np.int8) if np.isscalar(kind) else np.asarray(kind, dtype=np.int8)
        before = self.count
        self.count = reinforce_pairs(self.buffers(len(a)), self.count, self.n, a, b, gain, kind, month)
        return self.count - before


@numba.njit(cache=True)
def reinforce_pairs(t, count, n, pa, pb, gain, pkind, month):  # pragma: no cover - compiled
    """Form or strengthen ties in the buffers, in place; return the new count of ties.

    ``t`` is the :class:`TieBuffers` of :meth:`Ties.buffers`, with room for ``len(pa)``
    more ties; ``count`` is how many ties they hold now and ``n`` the number of groups.
    Pair ``i`` is ``(pa[i], pb[i])`` in any order (a group with itself is ignored); it adds
    ``gain[i]`` as in :meth:`Ties.reinforce` and gives its tie the kind ``pkind[i]``.
    """  # noqa: D417
    key, a, b, strength, kind = t.key, t.a, t.b, t.strength, t.kind
    formed, last_used, last_activity = t.formed, t.last_used, t.last_activity
    pairs = np.empty(len(pa), np.int64)
    for i in range(len(pa)):
        lo, hi = min(pa[i], pb[i]), max(pa[i], pb[i])
        pairs[i] = lo * n + hi if lo != hi else -1
    order = np.argsort(pairs, kind="mergesort")  # stable: a pair's first mention comes first
    new = np.empty(len(pa), np.int64)  # positions in pa of the new ties, by ascending key
    n_new = 0
    previous = -1
    for i in order:
        k = pairs[i]
        if k < 0 or k == previous:
            continue
        previous = k
        at = np.searchsorted(key[:count], k)
        if at < count and key[at] == k:
            strength[at] += gain[i] * (1.0 - strength[at])
            kind[at] = pkind[i]
            last_used[at] = month
        else:
            new[n_new] = i
            n_new += 1
    # merge from the back, so every old tie moves at most once
    old, out = count - 1, count + n_new - 1
    for x in range(n_new - 1, -1, -1):
        i = new[x]
        while old >= 0 and key[old] > pairs[i]:
            key[out], a[out], b[out] = key[old], a[old], b[old]
            strength[out], kind[out], formed[out] = strength[old], kind[old], formed[old]
            last_used[out], last_activity[out] = last_used[old], last_activity[old]
            old -= 1
            out -= 1
        key[out], a[out], b[out] = pairs[i], pairs[i] // n, pairs[i] % n
        strength[out], kind[out], formed[out] = gain[i], pkind[i], month
        last_used[out], last_activity[out] = month, NEVER
        out -= 1
    return count + n_new
