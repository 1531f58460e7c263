"""The model's shared codes: each named list once, and the integer code of each entry.

The compiled processes work on integer codes (a group's kind, its top goal, a network's
type, a forum's topic); the names behind them are declared here, once, and the lists of
choices come from the scenario schema's ``Literal`` types, so a choice added to the schema
is a code here without a second list to keep in step.

Example:
    >>> GOALS.index("marketing") == MARKETING_GOAL
    True
"""

from __future__ import annotations

from typing import get_args

from netsim.scenario import Capacity, FollowupPolicy, ForumScope, ForumTopic, Goal, Kind

__all__ = [
    "CAPACITIES",
    "GOALS",
    "KINDS",
    "KNOWLEDGE",
    "LEADERSHIP",
    "LOOSE",
    "MARKETING_GOAL",
    "NETWORK_TYPES",
    "NONE",
    "POLICIES",
    "SCOPES",
    "SHARED_IDEOLOGY",
    "STRUCTURED",
    "TOPICS",
    "VALUES",
]

#: Shared purposes a group's goals weigh.
GOALS: tuple[str, ...] = get_args(Goal)
#: The study's kinds of group.
KINDS: tuple[str, ...] = get_args(Kind)
#: Capacity dimensions, each in [0, 1].
CAPACITIES: tuple[str, ...] = get_args(Capacity)
#: Value dimensions (ideology): move far slower than goals.
VALUES: tuple[str, ...] = ("self_reliance", "mutual_help", "sufficiency")
#: Follow-up policies, forum topics and forum scopes, in the schema's order.
POLICIES: tuple[str, ...] = get_args(FollowupPolicy)
TOPICS: tuple[str, ...] = get_args(ForumTopic)
SCOPES: tuple[str, ...] = get_args(ForumScope)
#: Types a group's network can have; ``none`` for a group in no network.
NETWORK_TYPES: tuple[str, ...] = ("none", "loose", "structured", "shared_ideology")
NONE, LOOSE, STRUCTURED, SHARED_IDEOLOGY = range(len(NETWORK_TYPES))

MARKETING_GOAL = GOALS.index("marketing")
LEADERSHIP = CAPACITIES.index("leadership")
KNOWLEDGE = CAPACITIES.index("knowledge")
