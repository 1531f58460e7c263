"""Ties between groups: an undirected, weighted tie list kept in arrays.

Each tie has two ends ``a < b`` (rows of the model's groups), a strength in (0, 1], a
kind (:data:`TIE_KINDS`), the month it formed, the month it was last used and the month
of its last joint activity. Ties are kept sorted by the key ``a * n + b``, so finding,
adding and removing many ties at once is a few vectorised calls, whatever their number.
"""

from __future__ import annotations

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
        with itself are ignored; a pair named twice counts once.

        Returns:
            How many ties were formed.
        """
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        keep = a != b
        if not keep.all():
            a, b = a[keep], b[keep]
            gain = gain[keep] if isinstance(gain, np.ndarray) else gain
            kind = kind[keep] if isinstance(kind, np.ndarray) else kind
        if len(a) == 0:
            return 0
        keys, first = np.unique(self.pairs_key(a, b), return_index=True)
        gain_u = gain[first] if isinstance(gain, np.ndarray) else np.full(len(keys), gain)
        kind_u = kind[first] if isinstance(kind, np.ndarray) else np.full(len(keys), kind)
        pos, hit = self._locate(keys)
        old = pos[hit]
        self.strength[old] += gain_u[hit] * (1.0 - self.strength[old])
        self.kind[old] = kind_u[hit]
        self.last_used[old] = month
        new = ~hit
        n_new = int(new.sum())
        if n_new:
            new_keys = keys[new]
            at = pos[new]
            self.key = np.insert(self.key, at, new_keys)
            self.a = np.insert(self.a, at, new_keys // self.n)
            self.b = np.insert(self.b, at, new_keys % self.n)
            self.strength = np.insert(self.strength, at, gain_u[new])
            self.kind = np.insert(self.kind, at, kind_u[new].astype(np.int8))
            self.formed = np.insert(self.formed, at, month)
            self.last_used = np.insert(self.last_used, at, month)
            self.last_activity = np.insert(self.last_activity, at, NEVER)
        return n_new

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the ties where ``mask`` is true (order is preserved)."""
        for name in ("key", "a", "b", "strength", "kind", "formed", "last_used", "last_activity"):
            setattr(self, name, getattr(self, name)[mask])

    def degree(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Number of ties of each group (of the ties in ``mask``, if given)."""
        a, b = (self.a, self.b) if mask is None else (self.a[mask], self.b[mask])
        return np.bincount(a, minlength=self.n) + np.bincount(b, minlength=self.n)
