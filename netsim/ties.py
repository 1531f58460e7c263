"""Ties between groups: an undirected, weighted tie list kept in arrays.

Each tie has two ends ``a < b`` (rows of the model's groups), a strength in (0, 1], a
kind (:data:`TIE_KINDS`), the month it formed, the month it was last used and the month
of its last joint activity. Ties are kept sorted by the key ``a * n + b``, so finding,
adding and removing many ties at once is a few vectorised calls, whatever their number.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["TIE_KINDS", "Ties"]

#: Kinds of tie: met at a forum or through an introduction (exchange), worked together
#: (joint activity), marketed together (marketing), or predating the project (prior).
TIE_KINDS: tuple[str, ...] = ("exchange", "joint_activity", "marketing", "prior")
EXCHANGE, JOINT_ACTIVITY, MARKETING, PRIOR = range(4)
NEVER = -1_000_000


class Ties:
    """The tie list of a model with ``n`` groups.

    Attributes:
        a, b: End rows, ``a < b``.
        strength: In (0, 1].
        kind: Codes into :data:`TIE_KINDS`.
        formed: Month the tie formed (0 for ties that predate the project).
        last_used: Month the tie was last formed, met along or used.
        last_activity: Month of the last joint activity along it (``NEVER`` if none).
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.key = np.empty(0, dtype=np.int64)
        self.a = np.empty(0, dtype=np.int64)
        self.b = np.empty(0, dtype=np.int64)
        self.strength = np.empty(0, dtype=np.float64)
        self.kind = np.empty(0, dtype=np.int8)
        self.formed = np.empty(0, dtype=np.int32)
        self.last_used = np.empty(0, dtype=np.int32)
        self.last_activity = np.empty(0, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.key)

    def pairs_key(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Key of each pair, whichever end comes first."""
        lo = np.minimum(a, b)
        hi = np.maximum(a, b)
        return lo.astype(np.int64) * self.n + hi

    def _locate(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.searchsorted(self.key, keys)
        if len(self.key) == 0:
            return pos, np.zeros(len(keys), dtype=bool)
        return pos, self.key[np.minimum(pos, len(self.key) - 1)] == keys

    def find(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Index of the tie between each pair, or -1 where there is none."""
        pos, hit = self._locate(self.pairs_key(np.asarray(a), np.asarray(b)))
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
        arrays = (self.key, self.a, self.b, self.strength, self.kind, self.formed,
                  self.last_used, self.last_activity)
        merged = _reinforce(*arrays, self.n, a, b, gain, kind, month)
        if merged is not None:
            (self.key, self.a, self.b, self.strength, self.kind, self.formed,
             self.last_used, self.last_activity) = merged[:-1]
            return int(merged[-1])
        return 0

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the ties where ``mask`` is true (order is preserved)."""
        for name in ("key", "a", "b", "strength", "kind", "formed", "last_used", "last_activity"):
            setattr(self, name, getattr(self, name)[mask])

    def degree(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Number of ties of each group (of the ties in ``mask``, if given)."""
        a, b = (self.a, self.b) if mask is None else (self.a[mask], self.b[mask])
        return np.bincount(a, minlength=self.n) + np.bincount(b, minlength=self.n)


@numba.njit(cache=True)
def _reinforce(key, a, b, strength, kind, formed, last_used, last_activity, n,
               pa, pb, gain, pkind, month):  # pragma: no cover - compiled
    """Strengthen existing ties in place; return new arrays with the new ties merged in."""
    pairs = np.empty(len(pa), np.int64)
    for i in range(len(pa)):
        lo, hi = min(pa[i], pb[i]), max(pa[i], pb[i])
        pairs[i] = lo * n + hi if lo != hi else -1
    order = np.argsort(pairs, kind="mergesort")  # stable: a pair's first mention comes first
    is_new = np.zeros(len(pa), np.bool_)
    n_new = 0
    previous = -1
    for i in order:
        k = pairs[i]
        if k < 0 or k == previous:
            continue
        previous = k
        at = np.searchsorted(key, k)
        if at < len(key) and key[at] == k:
            strength[at] += gain[i] * (1.0 - strength[at])
            kind[at] = pkind[i]
            last_used[at] = month
        else:
            is_new[i] = True
            n_new += 1
    if n_new == 0:
        return None
    total = len(key) + n_new
    out_key = np.empty(total, np.int64)
    out_a, out_b = np.empty(total, np.int64), np.empty(total, np.int64)
    out_strength = np.empty(total, np.float64)
    out_kind = np.empty(total, np.int8)
    out_formed, out_used = np.empty(total, np.int32), np.empty(total, np.int32)
    out_activity = np.empty(total, np.int32)
    old, j = 0, 0
    for i in order:  # merge the new ties (ascending keys) into the old ones
        if not is_new[i]:
            continue
        while old < len(key) and key[old] < pairs[i]:
            out_key[j], out_a[j], out_b[j] = key[old], a[old], b[old]
            out_strength[j], out_kind[j] = strength[old], kind[old]
            out_formed[j], out_used[j], out_activity[j] = formed[old], last_used[old], last_activity[old]
            old += 1
            j += 1
        out_key[j], out_a[j], out_b[j] = pairs[i], pairs[i] // n, pairs[i] % n
        out_strength[j], out_kind[j] = gain[i], pkind[i]
        out_formed[j], out_used[j], out_activity[j] = month, month, NEVER
        j += 1
    while old < len(key):
        out_key[j], out_a[j], out_b[j] = key[old], a[old], b[old]
        out_strength[j], out_kind[j] = strength[old], kind[old]
        out_formed[j], out_used[j], out_activity[j] = formed[old], last_used[old], last_activity[old]
        old += 1
        j += 1
    return (out_key, out_a, out_b, out_strength, out_kind, out_formed, out_used, out_activity, n_new)
