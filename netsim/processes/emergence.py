"""Network forum emergence: networks found each month become institutions that last.

Each month the clusters of the ties that count are found and classified
(``netsim/networks.py``: loose, structured, structured with a shared ideology). A
cluster becomes a **network forum** with an identity that lasts from month to month:

* **identity**: a cluster continues the forum that most of its members belonged to last
  month; if a forum splits, the part with most of its old members keeps it and the rest
  form new forums; if forums merge, the merged cluster continues the one most of its
  members came from, and the others lose those members. A cluster continuing no forum
  forms a new one.
* **lapse and dissolution**: a forum whose ties no longer form a cluster keeps its
  members for ``dissolve_after`` months and dissolves after that (a sustained lapse).
* **type, with hysteresis**: a forum is structured (or has a shared ideology) as soon as
  its cluster passes the classifier's test; a structured forum lapses to loose only after
  failing the test for more than ``lapse_months`` months in a row.
* **coordinator**: the classifier's coordinating member; a coordinator of a structured
  forum grows as a leader (``leadership_gain`` of its gap a month).
* **meetings**: a structured forum meets monthly; the meeting strengthens the ties between
  its members that both keep up (``decay.tie_capacity``, ``agreement.kept_up``) by
  ``meeting_gain`` of the gap and counts as use, so an institution keeps its own ties up,
  as far as its members have room for them.
* **marketing network**: a structured forum whose joint marketing has spanned
  ``marketing_min_districts`` districts for ``marketing_months`` months in a row.

Each group's forum and its type are written to the state (``network_id``,
``network_type``); the forums' own records live in the state's ``forum_*`` arrays.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from netsim.agreement import BOTH_ENDS, KeptEnds, kept_ends_after
from netsim.codes import LEADERSHIP, LOOSE, NONE, STRUCTURED
from netsim.networks import EmergenceKernel, Networks, classify_kernel, classify_params, counting_ties
from netsim.scenario import DecayParams, EmergenceParams
from netsim.state import GroupState
from netsim.ties import MARKETING

__all__ = ["Emergence", "emergence_kernel", "find_networks", "kernel_params", "network_ties"]


class Emergence(NamedTuple):
    """What the month's emergence step found and did (by name).

    Attributes:
        networks: This month's clusters and their classification.
        formed: Network forums formed this month.
        dissolved: Network forums dissolved this month.
        marketing_districts: Districts spanned by the joint marketing of the widest
            cross-district marketing network (0 if none).
        marketing_age: Months the oldest cross-district marketing network has been one (0 if none).
        ties_a, ties_b: The ties that counted (their two ends).
        joint_activity: Ties between participants used for joint activity this month.
        joint_marketing: Of those, ties whose joint activity was joint marketing.
        upkeep: Which of the month's ties both their groups keep up (``agreement.kept_up``):
            the same before and after the meetings, which only strengthen ties already
            kept up, so decay reads it rather than working it out again.
    """

    networks: Networks
    formed: int
    dissolved: int
    marketing_districts: int
    marketing_age: int
    ties_a: np.ndarray
    ties_b: np.ndarray
    joint_activity: int
    joint_marketing: int
    upkeep: np.ndarray


#: The ends kept before the emergence step, when they are not known: every group's ties are ranked.
UNKNOWN = KeptEnds(np.empty(0, np.int64), np.empty(0, np.int8))


def kernel_params(p: EmergenceParams, upkeep: DecayParams | None = None) -> EmergenceKernel:
    """The emergence parameters as the compiled month takes them, with the ties groups keep up.

    ``upkeep`` is the decay section (the schema's default if not given), whose
    ``tie_capacity`` bounds the ties a forum's meeting keeps up.
    """
    return classify_params(p, (upkeep or DecayParams()).tie_capacity)


@numba.njit(cache=True)
def _continuing(label, previous, k, size):  # pragma: no cover - compiled
    """The forum each of the ``k`` clusters continues (-1: none), by plurality of members."""
    n = len(label)
    start = np.zeros(k + 1, np.int64)  # the members of each cluster that were in a forum
    for v in range(n):
        if label[v] >= 0 and previous[v] >= 0:
            start[label[v] + 1] += 1
    for c in range(k):
        start[c + 1] += start[c]
    fill, slots = start.copy(), np.empty(start[k], np.int64)
    for v in range(n):
        if label[v] >= 0 and previous[v] >= 0:
            slots[fill[label[v]]] = previous[v]
            fill[label[v]] += 1
    best, best_count = np.full(k, -1, np.int64), np.zeros(k, np.int64)
    tally = np.zeros(n, np.int64)
    for c in range(k):  # the forum most of its members were in (of as many, the lowest slot)
        for i in range(start[c], start[c + 1]):
            tally[slots[i]] += 1
        for i in range(start[c], start[c + 1]):
            slot = slots[i]
            if tally[slot] > best_count[c] or (tally[slot] == best_count[c] and slot < best[c]):
                best[c], best_count[c] = slot, tally[slot]
        for i in range(start[c], start[c + 1]):
            tally[slots[i]] = 0
    # a forum claimed by several clusters stays with the one holding most of its members
    claimer, claimed = np.full(n, -1, np.int64), np.zeros(n, np.int64)
    for c in range(k):
        slot = best[c]
        if slot >= 0:
            other = claimer[slot]
            if other < 0 or best_count[c] > claimed[slot] or (best_count[c] == claimed[slot]
                                                              and size[c] > size[other]):
                claimer[slot], claimed[slot] = c, best_count[c]
    slot_of = np.full(k, -1, np.int64)
    for slot in range(n):
        if claimer[slot] >= 0:
            slot_of[claimer[slot]] = slot
    return slot_of


@numba.njit(cache=True)
def emergence_kernel(s, t, count, month, p, before):  # pragma: no cover - compiled
    """Find, classify and carry forward the network forums; their meetings. Returns :class:`Emergence`.

    ``s`` is the state's :class:`~netsim.state.StateArrays`, ``t`` the tie buffers holding
    ``count`` ties and ``p`` an :class:`~netsim.networks.EmergenceKernel`. ``before`` is
    which ends kept each tie up when joint activity ranked them this month
    (:class:`~netsim.agreement.KeptEnds`; empty if not known): since then ties have only
    been added, by closure, and the ties kept up grown stronger, so only groups with a new
    tie need ranking again (``agreement.kept_ends_after``).
    """
    n = len(s.participating)
    a, b = t.a[:count], t.b[:count]
    ca, cb, cl, ck = counting_ties(a, b, t.strength[:count], t.last_activity[:count], t.kind[:count],
                                   s.participating, month, p)
    nets = classify_kernel(n, ca, cb, cl, ck, s.district, s.capacities[:, LEADERSHIP], s.goals,
                           s.values, month, p)
    k = len(nets.type)
    slot_of = _continuing(nets.label, s.network_id, k, nets.size)
    formed_at, lapse, kind, grace = s.forum_formed, s.forum_lapse, s.forum_type, s.forum_grace
    formed, free = 0, 0
    for c in range(k):  # clusters continuing no forum form new ones
        if slot_of[c] >= 0:
            continue
        while free < n and formed_at[free] >= 0:
            free += 1
        if free == n:
            break  # no slot left (more forums alive than groups): the cluster goes untracked
        slot_of[c] = free
        formed_at[free], lapse[free], kind[free], grace[free] = month, 0, LOOSE, 0
        s.forum_coordinator[free], s.forum_marketing[free] = -1, 0
        formed += 1
    matched = np.full(n, -1, np.int64)  # the cluster of each forum this month
    for c in range(k):
        if slot_of[c] >= 0:
            matched[slot_of[c]] = c
    dissolved = 0
    for slot in range(n):
        if formed_at[slot] < 0:
            continue
        c = matched[slot]
        if c < 0:
            lapse[slot] += 1
            if lapse[slot] > p.dissolve_after:
                formed_at[slot] = -1
                dissolved += 1
                continue
            passes = False
        else:
            lapse[slot] = 0
            passes = nets.type[c] >= STRUCTURED
        if passes:
            kind[slot], grace[slot] = nets.type[c], 0
            s.forum_coordinator[slot] = nets.coordinator[c]
        elif kind[slot] >= STRUCTURED:
            grace[slot] += 1
            if grace[slot] > p.lapse_months:
                kind[slot], grace[slot] = LOOSE, 0
                s.forum_coordinator[slot] = -1
        marketing = c >= 0 and kind[slot] >= STRUCTURED and nets.marketing[c] >= p.marketing_min_districts
        s.forum_marketing[slot] = s.forum_marketing[slot] + 1 if marketing else 0
    for v in range(n):  # membership: this month's cluster, else a lapsed forum kept
        c = nets.label[v]
        if c >= 0 and slot_of[c] >= 0:
            s.network_id[v] = slot_of[c]
        elif s.network_id[v] >= 0 and (formed_at[s.network_id[v]] < 0 or matched[s.network_id[v]] >= 0
                                       or not s.participating[v]):
            s.network_id[v] = -1  # its forum dissolved, or carried on without it
        s.network_type[v] = kind[s.network_id[v]] if s.network_id[v] >= 0 else NONE
    marketing_districts, marketing_age = 0, 0
    for slot in range(n):
        if formed_at[slot] < 0 or kind[slot] < STRUCTURED:
            continue
        c = matched[slot]
        coordinator = s.forum_coordinator[slot]
        if coordinator >= 0 and s.network_id[coordinator] == slot:
            s.capacities[coordinator, LEADERSHIP] += p.leadership_gain * (
                1.0 - s.capacities[coordinator, LEADERSHIP])
        if s.forum_marketing[slot] >= p.marketing_months:
            marketing_districts = max(marketing_districts, nets.marketing[c])
            marketing_age = max(marketing_age, s.forum_marketing[slot] - p.marketing_months + 1)
    upkeep = kept_ends_after(n, a, b, t.key[:count], t.strength[:count], p.tie_capacity, before.key,
                             before.ends) == BOTH_ENDS
    meet = p.meeting_gain > 0  # structured forums meet: their members' ties are used
    strength, last_used = t.strength, t.last_used
    joint, joint_marketing = 0, 0
    for e in range(count):
        u, v = a[e], b[e]
        if not (s.participating[u] and s.participating[v]):
            continue
        slot = s.network_id[u]
        if meet and upkeep[e] and slot >= 0 and slot == s.network_id[v] and kind[slot] >= STRUCTURED:
            strength[e] += p.meeting_gain * (1.0 - strength[e])
            last_used[e] = month
        if t.last_activity[e] == month:
            joint += 1
            joint_marketing += t.kind[e] == MARKETING
    return Emergence(networks=nets, formed=formed, dissolved=dissolved,
                     marketing_districts=marketing_districts, marketing_age=marketing_age,
                     ties_a=ca, ties_b=cb, joint_activity=joint, joint_marketing=joint_marketing,
                     upkeep=upkeep)


def network_ties(state: GroupState, p: EmergenceParams, month: int) -> tuple[np.ndarray, ...]:
    """The ties that count for networks in ``month``: a, b, last activity, kind."""
    t = state.ties
    return counting_ties(t.a, t.b, t.strength, t.last_activity, t.kind, state.participating, month,
                         kernel_params(p))


def find_networks(state: GroupState, p: EmergenceParams, month: int,
                  upkeep: DecayParams | None = None) -> Emergence:
    """Find and carry forward this month's network forums; record each group's forum and type.

    ``upkeep``: the decay section (the schema's default if not given).
    """
    t = state.ties
    return emergence_kernel(state.arrays(), t.buffers(), t.count, month, kernel_params(p, upkeep), UNKNOWN)
