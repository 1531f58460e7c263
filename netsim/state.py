"""The model's state in arrays: one row a group, plus the tie list.

The monthly processes read and write these arrays (fast, and the same code at 54 or
100,000 groups); the Mesa ``Group`` agents in ``agents.py`` are the readable face of
each row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from netsim.codes import GOALS, LOOSE, NETWORK_TYPES, NONE, SHARED_IDEOLOGY, STRUCTURED, VALUES
from netsim.population import GroupFeatures
from netsim.scenario import GoalParams
from netsim.ties import PRIOR, Ties

__all__ = ["LOOSE", "NETWORK_TYPES", "NONE", "SHARED_IDEOLOGY", "STRUCTURED", "VALUES", "GroupState",
           "StateArrays", "initial_state"]

class StateArrays(NamedTuple):
    """The groups' arrays as the compiled processes take them (a record, by name).

    One row a group; see :class:`GroupState` for what each holds.
    """

    participating: np.ndarray
    district: np.ndarray
    kind: np.ndarray
    capacities: np.ndarray
    goals: np.ndarray
    values: np.ndarray
    inspiration: np.ndarray
    trust: np.ndarray
    plan_quality: np.ndarray
    revisions: np.ndarray
    attended: np.ndarray
    visits: np.ndarray
    degree: np.ndarray
    network_id: np.ndarray
    network_type: np.ndarray
    last_visit: np.ndarray
    forum_formed: np.ndarray
    forum_lapse: np.ndarray
    forum_type: np.ndarray
    forum_grace: np.ndarray
    forum_coordinator: np.ndarray
    forum_marketing: np.ndarray


#: The dtype of each array the compiled processes read or write (fixed, so that a compiled
#: month has one signature; see netsim/compiled.py).
_DTYPES = StateArrays(participating=np.bool_, district=np.int64, kind=np.int64,
                      capacities=np.float64, goals=np.float64, values=np.float64,
                      inspiration=np.float64, trust=np.float64, plan_quality=np.float64,
                      revisions=np.int32, attended=np.int32, visits=np.int32, degree=np.int64,
                      network_id=np.int64, network_type=np.int8, last_visit=np.int32,
                      forum_formed=np.int32, forum_lapse=np.int32, forum_type=np.int8,
                      forum_grace=np.int32, forum_coordinator=np.int64, forum_marketing=np.int32)

#: The arrays ``GroupState`` coerces to their dtype (the features' own are checked instead).
_COERCED = tuple((name, np.dtype(dtype)) for name, dtype in _DTYPES._asdict().items()
                 if name not in ("district", "kind"))
#: The arrays that start filled when not given: no visit, no forum.
_FILL = tuple((name, value, getattr(_DTYPES, name)) for name, value in (
    ("degree", 0), ("last_visit", -1), ("forum_formed", -1), ("forum_lapse", 0), ("forum_type", 0),
    ("forum_grace", 0), ("forum_coordinator", -1), ("forum_marketing", 0)))


@dataclass
class GroupState:
    """Every group's attributes and state, as arrays indexed by row.

    Attributes:
        features: Fixed attributes from the groups file (district, kind, origin, ...).
        capacities: (n, 5) in [0, 1]; follow-up raises the weakest.
        goals: (n, 5) weights over :data:`netsim.population.GOALS`, summing to 1.
        values: (n, 3) in [0, 1] over :data:`VALUES`.
        participating: Joined the programme.
        joined_month: Month joined, -1 if not.
        inspiration, trust, plan_quality: In [0, 1].
        revisions: Plan revisions made so far.
        attended: Forums attended; visits: follow-up visits received.
        network_id: Network forum the group belongs to, -1 if none (an identity that
            lasts from month to month: see netsim/processes/emergence.py).
        network_type: Code into :data:`NETWORK_TYPES`.
        ties: The tie list.
        last_visit: Month of the group's last follow-up visit, -1 if never.
        forum_formed, forum_lapse, forum_type, forum_grace, forum_coordinator,
            forum_marketing: The network forums, one slot each (indexed by ``network_id``;
            as many slots as groups): the month the forum formed (-1: slot free), months
            its ties have been gone, its type, months it has failed the structured test
            while structured, its coordinating group (-1 if none), and months of joint
            marketing across enough districts.
    """

    features: GroupFeatures
    capacities: np.ndarray
    goals: np.ndarray
    values: np.ndarray
    participating: np.ndarray
    joined_month: np.ndarray
    inspiration: np.ndarray
    trust: np.ndarray
    plan_quality: np.ndarray
    revisions: np.ndarray
    attended: np.ndarray
    visits: np.ndarray
    network_id: np.ndarray
    network_type: np.ndarray
    ties: Ties
    degree: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    last_visit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    forum_formed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    forum_lapse: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    forum_type: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    forum_grace: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    forum_coordinator: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    forum_marketing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def __post_init__(self) -> None:
        for name, dtype in _COERCED:
            x = getattr(self, name)
            if not (isinstance(x, np.ndarray) and x.dtype == dtype and x.flags.c_contiguous):
                setattr(self, name, np.ascontiguousarray(x, dtype=dtype))
        f = self.features
        if f.district.dtype != np.int64 or f.kind.dtype != np.int64:
            raise TypeError("group features need int64 district and kind codes")
        n = len(self.participating)
        for name, value, dtype in _FILL:  # arrays not given start empty: no visit, no forum
            if len(getattr(self, name)) != n:
                setattr(self, name, np.full(n, value, dtype=dtype))

    def __setattr__(self, name: str, value: object) -> None:
        # an array replaced (not changed in place) leaves the record of arrays stale
        object.__setattr__(self, "_record", None)
        object.__setattr__(self, name, value)

    def arrays(self) -> StateArrays:
        """The arrays as the compiled processes take them (built once, until one is replaced)."""
        record = self.__dict__.get("_record")
        if record is None:
            f = self.features
            record = StateArrays(self.participating, f.district, f.kind, self.capacities, self.goals,
                                 self.values, self.inspiration, self.trust, self.plan_quality,
                                 self.revisions, self.attended, self.visits, self.degree,
                                 self.network_id, self.network_type, self.last_visit, self.forum_formed,
                                 self.forum_lapse, self.forum_type, self.forum_grace,
                                 self.forum_coordinator, self.forum_marketing)
            object.__setattr__(self, "_record", record)
        return record

    @property
    def n(self) -> int:
        """Number of groups in the model."""
        return len(self.participating)

    @property
    def district(self) -> np.ndarray:
        """District code of each group."""
        return self.features.district


@lru_cache(maxsize=32)
def _profile_rows(goals: GoalParams) -> np.ndarray:
    """The kinds' goal profiles as rows (cached: the runs of a batch share one set of parameters)."""
    rows = np.array(goals.profiles(), dtype=float)
    rows.flags.writeable = False
    return rows


def initial_state(features: GroupFeatures, *, rng: np.random.Generator,
                  prior_tie_strength: float, goals: GoalParams | None = None) -> GroupState:
    """Draw the starting state of each group and the ties that predate the project.

    Goals start from the kind's goal profile (``goals``, the schema's ``[goals]``
    section; its defaults if not given), weighted ``goals.kind_share``, mixed with the
    group's own draw (flat Dirichlet, weight 1 - ``kind_share``); values are drawn from Beta(2, 2) in each
    dimension (as the median of three uniforms); inspiration and trust start at 0 and plan
    quality at 0.3 to 0.5. Prior ties join each member group to its cooperative and link
    every pair in a network that predates the project
    (:func:`netsim.population.prior_ties`).
    """
    n = len(features.district)
    p = goals if goals is not None else GoalParams()
    profile = _profile_rows(p)  # one row a kind, in the order of KINDS
    own = rng.standard_exponential((n, len(GOALS)))  # normalised: a flat Dirichlet draw
    goal_weights = p.kind_share * profile[features.kind] + (1 - p.kind_share) * (
        own / own.sum(axis=1, keepdims=True))
    u, v, w = rng.random((3, n, len(VALUES)))
    values = np.maximum(np.minimum(u, v), np.minimum(np.maximum(u, v), w))  # median of 3: Beta(2, 2)
    ties = Ties(n)
    ties.reinforce(features.prior_a, features.prior_b, prior_tie_strength, kind=PRIOR, month=0)
    return GroupState(
        features=features,
        capacities=features.capacities.copy(),
        goals=goal_weights,
        values=values,
        participating=np.zeros(n, dtype=bool),
        joined_month=np.full(n, -1, dtype=np.int32),
        inspiration=np.zeros(n),
        trust=np.zeros(n),
        plan_quality=rng.uniform(0.3, 0.5, n),
        revisions=np.zeros(n, dtype=np.int32),
        attended=np.zeros(n, dtype=np.int32),
        visits=np.zeros(n, dtype=np.int32),
        network_id=np.full(n, -1, dtype=np.int64),
        network_type=np.zeros(n, dtype=np.int8),
        ties=ties,
        degree=np.zeros(n, dtype=np.int64),
    )
