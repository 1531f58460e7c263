"""Recruitment: the groups of the target districts are invited and join voluntarily.

A group joins with probability ``logistic(base_logit + self_initiated_effect * [self]
+ support_effect * agencies + capacity_effect * (mean capacity - 0.5))``: groups that
started on their own, are backed by more agencies and are stronger are likelier to see
the project's benefits outweigh its costs (the study's step 1). Later waves invite, with
the same chance, the groups that have not joined.
"""

from __future__ import annotations

import numpy as np

from netsim.population import GroupFeatures
from netsim.scenario import RecruitmentParams
from netsim.state import GroupState

__all__ = ["default_join_probability", "is_wave_month", "join_probability", "recruit"]


def join_probability(features: GroupFeatures, p: RecruitmentParams) -> np.ndarray:
    """Chance that each group joins when invited."""
    logit = (p.base_logit + p.self_initiated_effect * features.self_initiated
             + p.support_effect * features.agencies
             + p.capacity_effect * (features.mean_capacity - 0.5))
    return 1.0 / (1.0 + np.exp(-logit))


def default_join_probability(features: GroupFeatures) -> np.ndarray:
    """:func:`join_probability` with the schema's default parameters (draws the shipped baseline)."""
    return join_probability(features, RecruitmentParams())


def is_wave_month(p: RecruitmentParams, month: int) -> bool:
    """Whether a later invitation wave is held this month."""
    return p.enabled and p.waves > 0 and month > 0 and month % p.wave_interval == 0 \
        and month // p.wave_interval <= p.waves


def recruit(state: GroupState, p: RecruitmentParams, rng: np.random.Generator,
            month: int) -> np.ndarray:
    """Invite every group not yet participating; return the rows that join.

    With recruitment disabled, every group joins (a fixed set of participants).
    """
    if not p.enabled:
        joined = np.flatnonzero(~state.participating)
    else:
        candidates = np.flatnonzero(~state.participating)
        chance = join_probability(state.features, p)[candidates]
        joined = candidates[rng.random(len(candidates)) < chance]
    state.participating[joined] = True
    state.joined_month[joined] = month
    return joined
