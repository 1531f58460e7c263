"""The scenario schema: every parameter declared once, then load, inherit, override, validate.

A scenario file is TOML::

    name = "forums_only"
    question = "Do exchange forums alone build structured networks?"
    base = "baseline"          # optional: inherit every value, override a few

    [followup]
    visits_per_month = 0

Each parameter is declared here once, with its default, allowed range, unit and help
text (:func:`param`). Everything else that lists parameters (``--set`` keys, the
``NetworkModel`` keyword arguments, sensitivity bounds, the table in
``docs/odd.md``) is derived from :func:`parameters`, never written again by hand.

Bad input raises :class:`ScenarioError`, whose message names the file, the key and what
is allowed; the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import pydantic
from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Capacity",
    "FollowupPolicy",
    "ForumScope",
    "ForumTopic",
    "Goal",
    "Kind",
    "PROJECT",
    "ParamSpec",
    "Parameters",
    "SHIPPED_SCENARIOS",
    "Scenario",
    "ScenarioError",
    "CONSISTENCY",
    "apply_overrides",
    "check_consistency",
    "load_scenario",
    "parameters",
    "parse_assignment",
]

ForumScope = Literal["district", "province"]
ForumTopic = Literal["general", "marketing", "ideology"]
FollowupPolicy = Literal["random", "weakest", "least_trusted", "bridge"]
#: The shared purposes a group's goals weigh (``netsim/codes.py`` numbers them).
Goal = Literal["marketing", "savings_credit", "production", "conservation", "welfare"]
#: The study's kinds of group.
Kind = Literal["cooperative", "womens_cooperative_group", "credit_union", "savings_group",
               "agricultural_group", "farmer_occupational_group", "forest_conservation",
               "community_business", "alternative_agriculture", "folk_healer_network"]
#: A group's capacities (its strengths are the high ones, its weaknesses the low ones).
Capacity = Literal["leadership", "finance", "production", "marketing", "knowledge"]


#: The project's folder: the shipped scenarios and calibration files are in it, and the
#: defaults' relative data paths (such as ``calibration/population.csv``) are read from it.
PROJECT = Path(__file__).resolve().parent.parent
#: The shipped scenario files, which ``base = "NAME"`` finds from any folder.
SHIPPED_SCENARIOS = PROJECT / "scenarios"


class ScenarioError(ValueError):
    """A scenario or groups file that cannot be used; the message says where and why.

    Attributes:
        errors: Every problem found, one line each (the message is them, one per line).
    """

    def __init__(self, *errors: str) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


def param(default: Any, *, low: float | None = None, high: float | None = None,
          span: tuple[float, float] | None = None, unit: str = "", defines_outcome: bool = False,
          help: str) -> Any:  # noqa: A002 - the schema's own word
    """Declare one parameter.

    Args:
        default: The value when a scenario does not set it.
        low: Smallest allowed value (numbers).
        high: Largest allowed value (numbers).
        span: The plausible range ``(lo, hi)`` inside ``[low, high]``, over which
            sensitivity analysis varies a mechanism's parameter; ``None``
            for a number that is not varied by default (calendar, population, thresholds
            that define an outcome).
        unit: Unit, in words.
        defines_outcome: The parameter is a threshold that defines an outcome (what counts
            as a network, a structured one, a marketing network): a definition chosen by
            the observer, not a rate of the programme. Because structured network forums
            act (they meet, their coordinators grow), such a threshold also decides which
            clusters do, so it changes behaviour as well as the count; its effect is shown
            across its span by ``calibration/thresholds.py``. Sensitivity analysis and
            calibration leave it out unless asked for it.
        help: What it means.
    """
    extra: dict[str, Any] = {"unit": unit}
    if span is not None:
        extra["span"] = list(span)
    if defines_outcome:
        extra["defines_outcome"] = True
    return Field(default, ge=low, le=high, description=help, json_schema_extra=extra)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RunParams(_Section):
    """How long a run lasts."""

    months: int = param(36, low=0, high=600, unit="months",
                        help="Months simulated after recruitment (one step is one month).")


class PopulationParams(_Section):
    """Where the groups come from."""

    groups_file: str = param(
        "calibration/population.csv", unit="path",
        help="Groups file (CSV, columns in calibration/README.md); a relative path is "
             "read from the project folder, or from the scenario's folder if it is there.")
    seed: int = param(
        20261123, low=0, high=2**32 - 1, unit="seed",
        help="Seed of the synthetic draw of the population from the study's counts "
             "(netsim population). The shipped calibration/population.csv and "
             "calibration/baseline_groups.csv are the draw of this default; another seed "
             "draws the same counts afresh (only with those two files: a survey file "
             "cannot be redrawn). Also seeds the synthetic_groups draw.")
    synthetic_groups: int = param(
        0, low=0, high=2_000_000, unit="groups",
        help="If above 0, ignore groups_file and draw this many synthetic groups with the "
             "province's mix of kinds (used for the national-scale runs).")
    synthetic_districts: int = param(
        18, low=1, high=10_000, unit="districts",
        help="Districts the synthetic groups are spread over.")
    prior_tie_strength: float = param(
        0.5, low=0.05, high=1.0, span=(0.2, 0.7), unit="strength",
        help="Strength of the ties that predate the project (member group to its "
             "cooperative, pre-existing networks).")


#: The goal profile each kind of group starts from: weights over the goals (marketing,
#: savings_credit, production, conservation, welfare), before a group's own draw. The
#: study gives none: these are judgements, each declared below as an uncertain parameter
#: (``goals.KIND_GOAL``) whose plausible span is its default plus or minus
#: :data:`GOAL_WEIGHT_UNCERTAINTY`.
KIND_GOAL_PROFILES: dict[str, tuple[float, float, float, float, float]] = {
    "cooperative": (0.25, 0.45, 0.15, 0.0, 0.15),
    "womens_cooperative_group": (0.30, 0.30, 0.15, 0.0, 0.25),
    "credit_union": (0.05, 0.75, 0.05, 0.0, 0.15),
    "savings_group": (0.05, 0.70, 0.05, 0.0, 0.20),
    "agricultural_group": (0.30, 0.10, 0.50, 0.05, 0.05),
    "farmer_occupational_group": (0.45, 0.05, 0.40, 0.05, 0.05),
    "forest_conservation": (0.05, 0.0, 0.10, 0.75, 0.10),
    "community_business": (0.60, 0.10, 0.25, 0.0, 0.05),
    "alternative_agriculture": (0.25, 0.0, 0.40, 0.30, 0.05),
    "folk_healer_network": (0.05, 0.0, 0.05, 0.15, 0.75),
}
GOAL_WEIGHT_UNCERTAINTY = 0.15
if set(KIND_GOAL_PROFILES) != set(get_args(Kind)):
    raise AssertionError("KIND_GOAL_PROFILES needs one profile for each Kind")


def _goal_weight(kind: str, goal: str, weight: float) -> Any:
    lo = round(max(0.0, weight - GOAL_WEIGHT_UNCERTAINTY), 2)
    hi = round(min(1.0, weight + GOAL_WEIGHT_UNCERTAINTY), 2)
    return param(weight, low=0.0, high=1.0, span=(lo, hi), unit="weight",
                 help=f"Starting weight of the goal {goal} for a group of kind {kind} (a kind's "
                      "five weights count in proportion to their sum; all 0: no emphasis).")


class _GoalProfiles(_Section):
    kind_share: float = param(
        0.6, low=0.0, high=1.0, span=(0.4, 0.8), unit="share",
        help="How much of a group's starting goals comes from its kind's goal profile; the "
             "rest is the group's own draw (flat Dirichlet).")

    def profiles(self) -> tuple[tuple[float, ...], ...]:
        """Each kind's goal profile (rows in the order of ``Kind``, weights summing to 1)."""
        rows = []
        for kind in get_args(Kind):
            w = [getattr(self, f"{kind}_{goal}") for goal in get_args(Goal)]
            total = sum(w)
            rows.append(tuple(x / total for x in w) if total > 0 else (1.0 / len(w),) * len(w))
        return tuple(rows)


GoalParams = pydantic.create_model(
    "GoalParams", __base__=_GoalProfiles, __module__=__name__,
    **{f"{kind}_{goal}": (float, _goal_weight(kind, goal, w))
       for kind in get_args(Kind)
       for goal, w in zip(get_args(Goal), KIND_GOAL_PROFILES[kind], strict=True)})
GoalParams.__doc__ = """Goal profiles of the kinds, which groups' starting goals lean to (state.py).

One weight per kind and goal, ``goals.KIND_GOAL`` (e.g. ``goals.farmer_occupational_group_marketing``),
and ``goals.kind_share``, the weight of the profile against the group's own draw.
"""


class RecruitmentParams(_Section):
    """Month 0: who is invited and who joins (recruitment.py)."""

    enabled: bool = param(
        True, help="Invite the groups of the target districts, each joining with a "
                   "probability; if false, every group in the groups file takes part.")
    districts: tuple[str, ...] = param(
        (), unit="district names",
        help="Target districts whose groups are invited; empty means every district.")
    base_logit: float = param(
        0.0, low=-6.0, high=6.0, span=(-1.5, 1.5), unit="log-odds",
        help="Log-odds of joining for an agency-initiated group of average capacity "
             "with no backing agency.")
    self_initiated_effect: float = param(
        0.4, low=-3.0, high=3.0, span=(0.0, 1.0), unit="log-odds",
        help="Added log-odds for a self-initiated group.")
    support_effect: float = param(
        0.3, low=-3.0, high=3.0, span=(0.0, 1.0), unit="log-odds per agency",
        help="Added log-odds for each agency backing the group.")
    capacity_effect: float = param(
        2.0, low=-6.0, high=6.0, span=(0.0, 4.0), unit="log-odds per unit",
        help="Added log-odds per unit of mean capacity above 0.5.")
    waves: int = param(0, low=0, high=12, unit="waves",
                       help="Later invitation waves for groups that did not join.")
    wave_interval: int = param(6, low=1, high=36, unit="months",
                               help="Months between invitation waves.")


class ForumParams(_Section):
    """Exchange forums (forum.py)."""

    interval: int = param(4, low=0, high=36, span=(2, 8), unit="months",
                          help="Months between forums; 0 holds none.")
    start_month: int = param(1, low=1, high=600, unit="month",
                             help="Month of the first forum.")
    end_month: int = param(0, low=0, high=600, unit="month",
                           help="Last month a forum may be held; 0 means no end.")
    scope: ForumScope = param(
        "district", help="'district': one forum per district; 'province': one forum for all.")
    topic: ForumTopic = param(
        "general",
        help="'general': external cases and leaders' testimony (inspiration); "
             "'marketing': joint marketing across districts; 'ideology': shared values.")
    attendance_base: float = param(0.5, low=0.0, high=1.0, span=(0.2, 0.8), unit="probability",
                                   help="Chance a participant with no inspiration or trust attends.")
    attendance_inspiration: float = param(0.3, low=0.0, high=1.0, span=(0.0, 0.5),
                                          unit="probability per unit",
                                          help="Added chance of attending per unit of inspiration.")
    attendance_trust: float = param(0.2, low=0.0, high=1.0, span=(0.0, 0.5), unit="probability per unit",
                                    help="Added chance of attending per unit of trust in the team.")
    candidates: int = param(8, low=1, high=100, span=(4, 15), unit="groups",
                            help="Others an attendee sizes up at a forum.")
    meetings: int = param(2, low=0, high=20, span=(1, 4), unit="groups",
                          help="Of those, how many it talks with at length (a tie forms or strengthens).")
    homophily_district: float = param(1.0, low=0.0, high=5.0, span=(0.0, 2.0), unit="log-weight",
                                      help="Preference for meeting a group of the same district.")
    homophily_kind: float = param(0.5, low=0.0, high=5.0, span=(0.0, 2.0), unit="log-weight",
                                  help="Preference for meeting a group of the same kind.")
    complementarity: float = param(2.0, low=0.0, high=10.0, span=(0.0, 4.0), unit="log-weight per unit",
                                   help="Preference for a group strong where one is weak.")
    tie_gain: float = param(0.3, low=0.0, high=1.0, span=(0.1, 0.5), unit="strength",
                            help="Strength a meeting adds to a tie (a share of what is missing to 1).")
    inspiration_gain: float = param(0.35, low=0.0, high=1.0, span=(0.1, 0.6), unit="share",
                                    help="Share of the gap to full inspiration closed by attending.")
    trust_gain: float = param(0.05, low=0.0, high=1.0, span=(0.0, 0.2), unit="share",
                              help="Share of the gap to full trust in the team closed by attending.")
    topic_pull: float = param(0.3, low=0.0, high=1.0, span=(0.0, 0.5), unit="share",
                              help="How far a marketing or ideology forum moves goals or values "
                                   "towards its topic or towards the partners met.")


class FollowupParams(_Section):
    """Follow-up visits by the research team (followup.py)."""

    visits_per_month: int = param(5, low=0, high=100_000, span=(0, 15), unit="visits",
                                  help="Visits the team can make in a month.")
    start_month: int = param(3, low=1, high=600, unit="month", help="First month of follow-up.")
    end_month: int = param(0, low=0, high=600, unit="month",
                           help="Last month of follow-up; 0 means no end.")
    policy: FollowupPolicy = param(
        "random", help="Whom to visit first: random, weakest (lowest mean capacity), "
                       "least_trusted, or bridge (fewest ties to other districts).")
    ease_with_trust: float = param(0.5, low=0.0, high=3.0, span=(0.0, 1.0), unit="share per unit",
                                   help="Extra visits per unit of mean trust: support gets easier "
                                        "as relations improve.")
    trust_gain: float = param(0.25, low=0.0, high=1.0, span=(0.05, 0.5), unit="share",
                              help="Share of the gap to full trust closed by a visit.")
    capacity_gain: float = param(0.1, low=0.0, high=1.0, span=(0.0, 0.3), unit="share",
                                 help="Share of the gap to 1 closed in the visited group's weakest capacity.")
    introduction_prob: float = param(0.25, low=0.0, high=1.0, span=(0.0, 0.5), unit="probability",
                                     help="Chance a visit introduces the group to a complementary "
                                          "group in another district.")
    candidates: int = param(8, low=1, high=100, span=(3, 15), unit="groups",
                            help="Participants drawn at random for an introduction; those of the "
                                 "visited group's own district are passed over.")
    introduction_gain: float = param(0.25, low=0.0, high=1.0, span=(0.1, 0.4), unit="strength",
                                     help="Strength of the tie an introduction makes: below the "
                                          "networks' tie threshold, so it must be used to count.")
    trust_decay: float = param(0.05, low=0.0, high=1.0, span=(0.0, 0.15), unit="share per month",
                               help="Share of trust a visited group loses each month once the team "
                                    "has not come back for more than 'patience' months.")
    patience: int = param(6, low=1, high=120, span=(3, 12), unit="months",
                          help="Months after a visit before a group's trust starts to fall.")
    network_support: float = param(0.5, low=0.0, high=1.0, span=(0.0, 1.0), unit="probability",
                                   help="Chance (times the group's trust) that a visit supports joint "
                                        "work along the group's newest tie to another district.")
    support_gain: float = param(0.2, low=0.0, high=1.0, span=(0.05, 0.4), unit="share",
                                help="Share of the gap to full strength that supported joint work closes.")


class InteractionParams(_Section):
    """Self-organised joint activity and triadic closure (interaction.py)."""

    activity_rate: float = param(0.3, low=0.0, high=1.0, span=(0.1, 0.6), unit="probability",
                                 help="Monthly chance of joint activity along a full-strength "
                                      "tie between groups whose goals agree fully.")
    goal_weight: float = param(0.7, low=0.0, high=1.0, span=(0.3, 1.0), unit="share",
                               help="How much goal agreement governs joint activity "
                                    "(0: not at all, 1: entirely).")
    activity_gain: float = param(0.15, low=0.0, high=1.0, span=(0.05, 0.3), unit="share",
                                 help="Share of the gap to full strength a joint activity closes.")
    closure_rate: float = param(0.03, low=0.0, high=1.0, span=(0.0, 0.1), unit="probability",
                                help="Monthly chance that a fully inspired group ties to a "
                                     "friend of a friend (scaled by its inspiration).")
    closure_gain: float = param(0.25, low=0.0, high=1.0, span=(0.1, 0.5), unit="strength",
                                help="Strength of a tie made by triadic closure.")
    inspiration_decay: float = param(0.03, low=0.0, high=1.0, span=(0.0, 0.1), unit="share per month",
                                     help="Share of inspiration lost each month.")
    plan_effect: float = param(1.0, low=0.0, high=4.0, span=(0.0, 2.0), unit="per unit of plan quality",
                               help="How much a better plan raises joint activity: its chance is "
                                    "times 1 + plan_effect * (the pair's mean plan quality - 0.5).")
    inspiration_leadership: float = param(0.01, low=0.0, high=1.0, span=(0.0, 0.05),
                                          unit="share per month",
                                          help="Share of the gap to full leadership an inspired group "
                                               "closes each month (times its inspiration).")


class ReviewParams(_Section):
    """Lessons-learned reviews (review.py)."""

    interval: int = param(6, low=0, high=36, span=(3, 12), unit="months",
                          help="Months between reviews; 0 holds none.")
    start_month: int = param(6, low=1, high=600, unit="month", help="Month of the first review.")
    revise_prob: float = param(0.9, low=0.0, high=1.0, span=(0.3, 1.0), unit="probability",
                               help="Chance a fully inspired participant revises its plan at a "
                                    "review (half of that with no inspiration).")
    plan_gain: float = param(0.3, low=0.0, high=1.0, span=(0.1, 0.5), unit="share",
                             help="Share of the gap to a perfect plan closed by a revision.")
    goal_convergence: float = param(0.3, low=0.0, high=1.0, span=(0.05, 0.5), unit="share",
                                    help="Weight on tie-weighted neighbours' goals at a review (DeGroot).")
    value_convergence: float = param(0.03, low=0.0, high=1.0, span=(0.0, 0.1), unit="share",
                                     help="Weight on neighbours' values at a review: values move slowly.")


class EmergenceParams(_Section):
    """Networks and their classification, and network forums as institutions (emergence.py,
    networks.py).

    The thresholds (marked as defining an outcome) say what counts as a network, a
    structured one, a marketing network; the rest are the forums' own mechanisms (how they
    last, lapse, dissolve, meet and grow their coordinators).
    """  # noqa: D205

    tie_threshold: float = param(0.5, low=0.0, high=1.0, span=(0.3, 0.7), unit="strength",
                                 defines_outcome=True,
                                 help="Weakest tie that links two groups into one network.")
    min_size: int = param(3, low=2, high=1000, span=(2, 6), unit="groups", defines_outcome=True,
                          help="Smallest network.")
    goal_agreement: float = param(0.6, low=0.0, high=1.0, span=(0.4, 0.8), unit="share",
                                  defines_outcome=True,
                                  help="Share of members sharing the top goal for it to be agreed.")
    coordinator_leadership: float = param(0.6, low=0.0, high=1.0, span=(0.4, 0.8), unit="capacity",
                                          defines_outcome=True,
                                          help="Leadership a coordinating group needs.")
    coordinator_centrality: float = param(0.4, low=0.0, high=1.0, span=(0.2, 0.6), unit="share",
                                          defines_outcome=True,
                                          help="Share of the other members a coordinator is tied to.")
    activity_window: int = param(3, low=1, high=36, span=(1, 6), unit="months", defines_outcome=True,
                                 help="Joint activity counts as regular if within this many months.")
    activity_share: float = param(0.5, low=0.0, high=1.0, span=(0.3, 0.7), unit="share",
                                  defines_outcome=True,
                                  help="Share of a network's ties with recent joint activity "
                                       "for the activity to count as regular.")
    ideology_threshold: float = param(0.9, low=0.0, high=1.0, span=(0.8, 0.95), unit="alignment",
                                      defines_outcome=True,
                                      help="Value alignment a structured network needs for a "
                                           "shared ideology.")
    marketing_min_districts: int = param(3, low=2, high=1000, span=(2, 5), unit="districts",
                                         defines_outcome=True,
                                         help="Districts a marketing network's joint marketing must "
                                              "span to count as cross-district.")
    tie_memory: int = param(6, low=1, high=120, span=(3, 12), unit="months", defines_outcome=True,
                            help="A tie links two groups into a network only if used for joint "
                                 "activity within this many months (and at least tie_threshold strong).")
    coordinator_ties: int = param(4, low=1, high=1000, span=(2, 8), unit="groups", defines_outcome=True,
                                  help="A coordinator tied to this many members suffices, however "
                                       "large the network (else coordinator_centrality applies).")
    marketing_months: int = param(3, low=1, high=36, span=(1, 6), unit="months", defines_outcome=True,
                                  help="Months of joint marketing across marketing_min_districts "
                                       "districts before a network counts as a marketing network.")
    lapse_months: int = param(3, low=0, high=36, span=(1, 6), unit="months",
                              help="Months a structured network forum may fail the test before it "
                                   "lapses to loose (hysteresis).")
    dissolve_after: int = param(6, low=0, high=120, span=(2, 12), unit="months",
                                help="Months a network forum survives with its ties gone before it "
                                     "dissolves.")
    meeting_gain: float = param(0.1, low=0.0, high=1.0, span=(0.0, 0.25), unit="share",
                                help="Share of the gap to full strength a structured forum's monthly "
                                     "meeting closes on the ties between its members.")
    leadership_gain: float = param(0.05, low=0.0, high=1.0, span=(0.0, 0.15), unit="share per month",
                                   help="Share of the gap to full leadership a coordinator closes each "
                                        "month it coordinates.")


class DecayParams(_Section):
    """Upkeep and decay of ties (decay.py; the upkeep is read by interaction and forum meetings too)."""

    rate: float = param(0.1, low=0.0, high=1.0, span=(0.02, 0.25), unit="share per month",
                        help="Share of strength an unused tie loses each month.")
    floor: float = param(0.05, low=0.0, high=1.0, span=(0.01, 0.1), unit="strength",
                         help="A tie weaker than this vanishes.")
    tie_capacity: int = param(6, low=1, high=10_000, span=(3, 12), unit="ties",
                              help="Ties a group can keep up, its strongest: only ties both groups "
                                   "keep up carry joint activity and forum meetings and are "
                                   "protected from decay by use.")
    value_durability: float = param(0.5, low=0.0, high=1.0, span=(0.0, 0.9), unit="share",
                                    help="How much shared values slow an unused tie's decay: its "
                                         "rate is times 1 - value_durability * the pair's value alignment.")


class Parameters(_Section):
    """Every parameter of the model, by section."""

    run: RunParams = RunParams()
    population: PopulationParams = PopulationParams()
    goals: GoalParams = GoalParams()  # type: ignore[valid-type]
    recruitment: RecruitmentParams = RecruitmentParams()
    forum: ForumParams = ForumParams()
    followup: FollowupParams = FollowupParams()
    interaction: InteractionParams = InteractionParams()
    review: ReviewParams = ReviewParams()
    emergence: EmergenceParams = EmergenceParams()
    decay: DecayParams = DecayParams()

    def get(self, key: str) -> Any:
        """Return the value of a dotted key such as ``"forum.interval"``."""
        section, name = _split_key(key)
        return getattr(getattr(self, section), name)

    def flat(self) -> dict[str, Any]:
        """Every parameter as ``{dotted key: value}``."""
        return {spec.key: self.get(spec.key) for spec in parameters()}


#: Pairs of parameters that can contradict each other, and the rule each pair must obey:
#: (first key, second key, rule on their two values, the rule in words).
CONSISTENCY: tuple[tuple[str, str, Callable[[Any, Any], bool], str], ...] = (
    ("forum.start_month", "forum.end_month", lambda start, end: end == 0 or end >= start,
     "forum.end_month must be 0 (no end) or at least forum.start_month"),
    ("followup.start_month", "followup.end_month", lambda start, end: end == 0 or end >= start,
     "followup.end_month must be 0 (no end) or at least followup.start_month"),
    ("forum.candidates", "forum.meetings", lambda candidates, meetings: meetings <= candidates,
     "forum.meetings (the candidates met at length) can be at most forum.candidates"),
)


def check_consistency(params: Parameters, *, source: str) -> Parameters:
    """Check the pairs of :data:`CONSISTENCY`; return ``params`` unchanged.

    Raises:
        ScenarioError: naming ``source``, both keys with their values, and the rule, for
            every pair that contradicts.
    """
    problems = []
    for first, second, rule, words in CONSISTENCY:
        x, y = params.get(first), params.get(second)
        if not rule(x, y):
            problems.append(f"{source}: keys '{first}' ({_show(x)}) and '{second}' ({_show(y)}) "
                            f"contradict each other: {words}")
    if problems:
        raise ScenarioError(*problems)
    return params


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    return repr(value)


@dataclass(frozen=True)
class ParamSpec:
    """What the schema declares of one parameter.

    Attributes:
        key: Dotted key, ``section.name``.
        kind: ``"int"``, ``"float"``, ``"bool"``, ``"choice"``, ``"text"`` or ``"list"``.
        default: Default value.
        low: Smallest allowed value (numbers only).
        high: Largest allowed value (numbers only).
        choices: Allowed values (choices only).
        unit: Unit, in words.
        help: What the parameter means.
        span: Plausible range varied by sensitivity analysis (None: not varied by default).
        defines_outcome: A threshold that defines an outcome rather than a mechanism
            (see :func:`param`); varied by sensitivity analysis only on request.
    """

    key: str
    kind: str
    default: Any
    low: float | None
    high: float | None
    choices: tuple[str, ...]
    unit: str
    help: str
    span: tuple[float, float] | None = None
    defines_outcome: bool = False

    @property
    def bounds(self) -> tuple[float, float]:
        """The range varied by sensitivity analysis: the span, else the allowed range."""
        if self.span is not None:
            return self.span
        return (float(self.low), float(self.high))  # type: ignore[arg-type]

    @property
    def keyword(self) -> str:
        """The ``NetworkModel`` keyword for this parameter, e.g. ``forum_interval``."""
        return self.key.replace(".", "_")

    def allowed(self) -> str:
        """Say in words what values are allowed."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return "a text"
        if self.kind == "list":
            return "a list of texts"
        noun = "an integer" if self.kind == "int" else "a number"
        return f"{noun} from {_num(self.low)} to {_num(self.high)}"


def _num(x: float | None) -> str:
    if x is None:
        return "any"
    return str(int(x)) if float(x).is_integer() else str(x)


def _kind_of(annotation: Any) -> tuple[str, tuple[str, ...]]:
    if annotation is bool:
        return "bool", ()
    if annotation is int:
        return "int", ()
    if annotation is float:
        return "float", ()
    if annotation is str:
        return "text", ()
    args = get_args(annotation)
    if args and all(isinstance(a, str) for a in args):
        return "choice", tuple(args)
    return "list", ()


def _section_models() -> dict[str, type[_Section]]:
    return {name: f.annotation for name, f in Parameters.model_fields.items()}


_SPECS: tuple[ParamSpec, ...] | None = None


def parameters() -> tuple[ParamSpec, ...]:
    """Every parameter the schema declares, in declaration order."""
    global _SPECS
    if _SPECS is None:
        specs = []
        for section, model in _section_models().items():
            for name, f in model.model_fields.items():
                kind, choices = _kind_of(f.annotation)
                low = next((m.ge for m in f.metadata if isinstance(m, Ge)), None)
                high = next((m.le for m in f.metadata if isinstance(m, Le)), None)
                extra = f.json_schema_extra or {}
                specs.append(ParamSpec(
                    key=f"{section}.{name}", kind=kind, default=f.default, low=low,
                    high=high, choices=choices, unit=str(extra.get("unit", "")),
                    help=f.description or "",
                    span=tuple(extra["span"]) if "span" in extra else None,
                    defines_outcome=bool(extra.get("defines_outcome", False))))
        _SPECS = tuple(specs)
    return _SPECS


def spec(key: str) -> ParamSpec:
    """Return the :class:`ParamSpec` of a dotted key, or raise :class:`ScenarioError`."""
    for s in parameters():
        if s.key == key:
            return s
    section, _ = _split_key(key)
    sections = _section_models()
    if section not in sections:
        raise ScenarioError(f"unknown parameter {key!r}: no section {section!r}; sections: "
                            + ", ".join(sections))
    close = difflib.get_close_matches(key, [s.key for s in parameters()], n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ScenarioError(f"unknown parameter {key!r}; {hint}parameters in [{section}]: "
                        + ", ".join(sections[section].model_fields))


def _split_key(key: str) -> tuple[str, str]:
    section, _, name = key.partition(".")
    return section, name


@dataclass(frozen=True)
class Scenario:
    """A validated scenario.

    Attributes:
        name: Short name.
        question: The question the scenario answers.
        params: Every parameter's value.
        path: The file it came from, if any.
        sha256: Hash of the file and of every file it inherits from.
        root: The project folder of the file (the nearest folder above it with a
            ``pyproject.toml`` or a ``calibration`` folder), else the current folder.
        data_dirs: Where a relative data path (``population.groups_file``) is looked for, in
            order: the folder of the file that declared it and that file's project folder;
            the current folder for a value given with ``--set``; then netsim's own folder
            (:data:`PROJECT`), where the defaults' files are.
    """

    name: str
    question: str
    params: Parameters
    path: Path | None = None
    sha256: str = ""
    root: Path = field(default_factory=Path.cwd)
    data_dirs: tuple[Path, ...] = ()

    def with_overrides(self, overrides: Mapping[str, Any], *, source: str = "--set") -> Scenario:
        """Return a copy with dotted-key values replaced and validated.

        A relative data path given here is read from the current folder first.
        """
        if not overrides:
            return self
        params = apply_overrides(self.params, overrides, source=source)
        dirs = self.data_dirs
        if any(k in overrides for k in _PATH_KEYS):
            dirs = (Path.cwd(), PROJECT)
        return Scenario(self.name, self.question, params, self.path, self.sha256, self.root, dirs)

    def resolve(self, relative: str) -> Path:
        """Resolve a data path: the first of :attr:`data_dirs` that has it (else the first's path)."""
        if os.path.isabs(relative):
            return Path(relative)
        beside = (Path(os.path.dirname(self.path)),) if self.path else ()
        dirs = self.data_dirs or (*beside, self.root, PROJECT)
        for d in dirs:
            candidate = os.path.join(d, relative)
            if os.path.exists(candidate):
                return Path(candidate)
        return Path(dirs[0]) / relative


def read_user_text(path: Path, *, expected: str, if_empty: str) -> str:
    """Read a user's text file, or raise one :class:`ScenarioError` saying what is wrong.

    Args:
        path: The file.
        expected: What the file should be, e.g. ``"a scenario file (.toml)"``.
        if_empty: What an empty file lacks, e.g. ``"a scenario needs at least 'name'"``.
    """
    if not path.exists():
        raise ScenarioError(f"{path}: no such file")
    if path.is_dir():
        raise ScenarioError(f"{path}: is a folder; {expected} is needed")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    if not text.strip():
        raise ScenarioError(f"{path}: the file is empty; {if_empty}")
    return text


def _read_toml(path: Path) -> dict[str, Any]:
    text = read_user_text(path, expected="a scenario file (.toml)",
                          if_empty="a scenario needs at least 'name' and 'question'")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: TOML syntax error: {e}") from None


_TOP_KEYS = {"name", "question", "base"}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _find_project_root(start: Path) -> Path:
    for d in (start, *start.parents):
        if (d / "pyproject.toml").exists() or (d / "calibration").is_dir():
            return d
    return Path.cwd()


def _base_file(current: Path, base: str) -> Path:
    """The file ``base = "..."`` in ``current`` names: beside it, else a shipped scenario of that name."""
    candidate = current.parent / base
    if candidate.suffix != ".toml":
        if not candidate.name or candidate.name in (".", ".."):
            raise ScenarioError(f"{current}: key 'base': {base!r} names no scenario file; give a scenario "
                                "name such as 'baseline', or a path to a .toml file")
        candidate = candidate.with_suffix(".toml")
    if candidate.exists():
        return candidate
    shipped = SHIPPED_SCENARIOS / candidate.name
    if "/" not in base and os.sep not in base and shipped.exists():
        return shipped
    names = ", ".join(sorted(f.stem for f in SHIPPED_SCENARIOS.glob("*.toml")))
    raise ScenarioError(f"{current}: key 'base': no scenario {base!r}: not {candidate}, nor a shipped "
                        f"scenario ({names})")


def load_scenario(path: str | Path) -> Scenario:
    """Read, inherit and validate a scenario file.

    Args:
        path: The TOML file, or the name of a shipped scenario (``"baseline"``).
            ``base = "name"`` in it inherits from ``name.toml`` in the
            same folder (or a relative path), else from the shipped scenario of that name
            (:data:`SHIPPED_SCENARIOS`), recursively. Relative data paths are read from
            the folder of the file that declares them (see :attr:`Scenario.data_dirs`).

    Returns:
        The validated :class:`Scenario`.

    Raises:
        ScenarioError: The file or one it inherits from is missing, unreadable, not
            TOML, or has unknown keys or values out of range; for the file itself, every
            such problem is reported (:attr:`ScenarioError.errors`).
    """
    path = Path(path)
    if not path.exists() and path.suffix == "" and len(path.parts) == 1 \
            and (SHIPPED_SCENARIOS / f"{path}.toml").exists():
        path = SHIPPED_SCENARIOS / f"{path}.toml"  # a shipped scenario by name
    chain: list[Path] = []
    files: list[Path] = []
    tables: list[dict[str, Any]] = []
    digest = hashlib.sha256()
    current: Path | None = path
    chain_child = path
    problems: list[str] = []
    while current is not None:
        resolved = current.resolve()
        if resolved in chain:
            raise ScenarioError(f"{path}: 'base' chain loops back to {current}")
        chain.append(resolved)
        try:
            data = _read_toml(current)
        except ScenarioError as e:
            if current is path:
                raise
            raise ScenarioError(f"{chain_child}: key 'base': {e}") from None
        try:
            validate_parameters({k: v for k, v in data.items() if k not in _TOP_KEYS}, source=str(current),
                                whole=False)
        except ScenarioError as e:
            if current is not path:
                raise
            problems.extend(e.errors)
        if current is path:
            for key in ("name", "question"):
                if key in data and not isinstance(data[key], str):
                    problems.append(f"{path}: key '{key}': must be a text")
            if not str(data.get("question", "")).strip():
                problems.append(f"{path}: key 'question' is missing: say in one line what "
                                "question this scenario answers")
        digest.update(current.read_bytes())
        tables.append(data)
        files.append(current)
        base = data.get("base")
        if base is None:
            current = None
        elif not isinstance(base, str) or not base:
            problems.append(f"{current}: key 'base': must be a scenario name or path (text)")
            current = None
        else:
            chain_child = current
            try:
                current = _base_file(current, base)
            except ScenarioError as e:
                if chain_child is not path:
                    raise
                problems.extend(e.errors)
                current = None
        if problems:
            raise ScenarioError(*problems)
    merged: dict[str, Any] = {}
    for data in reversed(tables):
        body = {k: v for k, v in data.items() if k not in _TOP_KEYS}
        merged = _merge(merged, body)
    top = tables[0]
    params = validate_parameters(merged, source=str(path))
    root = _find_project_root(path.resolve().parent)
    declared = next((f for f, t in zip(files, tables, strict=True)
                     if any(k in t.get(_section_of(k), {}) for k in _PATH_NAMES)), None)
    dirs: tuple[Path, ...] = (PROJECT,)
    if declared is not None:
        folder = declared.resolve().parent
        dirs = (folder, _find_project_root(folder), PROJECT)
    return Scenario(name=str(top.get("name") or path.stem), question=str(top["question"]),
                    params=params, path=path, sha256=digest.hexdigest(), root=root,
                    data_dirs=tuple(dict.fromkeys(dirs)))


#: Parameters that are paths to data files, read as :meth:`Scenario.resolve` says.
_PATH_KEYS = ("population.groups_file",)
_PATH_NAMES = tuple(k.partition(".")[2] for k in _PATH_KEYS)


def _section_of(name: str) -> str:
    return next(k.partition(".")[0] for k in _PATH_KEYS if k.partition(".")[2] == name)


def validate_parameters(data: Mapping[str, Any], *, source: str, whole: bool = True) -> Parameters:
    """Validate a nested ``{section: {name: value}}`` mapping into :class:`Parameters`.

    Args:
        data: The values, by section.
        source: Where they come from, for messages.
        whole: The values are a whole scenario, so pairs that contradict each other
            (:data:`CONSISTENCY`) are errors too; ``False`` for one file of an inheritance
            chain, whose missing values are not yet its base's.

    Raises:
        ScenarioError: naming ``source``, every bad key and what it allows (with the
            nearest known key for a misspelt one).
    """
    sections = _section_models()
    problems = []
    for section, body in data.items():
        if section not in sections:
            close = difflib.get_close_matches(section, list(sections), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(f"{source}: unknown key {section!r}; {hint}allowed at the top: "
                            + ", ".join(sorted(_TOP_KEYS | set(sections))))
        elif not isinstance(body, dict):
            problems.append(f"{source}: key '{section}' must be a table ([{section}])")
    known = {k: v for k, v in data.items() if k in sections and isinstance(v, dict)}
    try:
        params = Parameters.model_validate(_lists_to_tuples(known))
    except pydantic.ValidationError as e:
        problems.extend(_explain(e, source))
    if problems:
        raise ScenarioError(*problems)
    return check_consistency(params, source=source) if whole else params


def _lists_to_tuples(data: Mapping[str, Any]) -> dict[str, Any]:
    return {s: {k: tuple(v) if isinstance(v, list) else v for k, v in body.items()}
            for s, body in data.items()}


def _explain(error: pydantic.ValidationError, source: str) -> list[str]:
    return [_explain_one(e, source) for e in error.errors()]


def _explain_one(first: Any, source: str) -> str:
    loc = [str(p) for p in first["loc"]]
    key = ".".join(loc[:2])
    got = first.get("input")
    if first["type"] == "extra_forbidden":
        section = loc[0]
        fields = list(_section_models()[section].model_fields) if section in _section_models() else []
        close = difflib.get_close_matches(loc[1] if len(loc) > 1 else "", fields, n=1)
        hint = f"did you mean '{section}.{close[0]}'? " if close else ""
        return f"{source}: unknown key {key!r}; {hint}allowed in [{section}]: {', '.join(fields)}"
    try:
        s = spec(key)
    except ScenarioError:
        return f"{source}: key '{key}': {first['msg']}"
    if first["type"] in ("greater_than_equal", "less_than_equal"):
        return f"{source}: key '{key}': {got!r} is outside the allowed range; it must be {s.allowed()}"
    return f"{source}: key '{key}': must be {s.allowed()} (got {got!r})"


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` from the command line; VALUE is read as a TOML value.

    A bare word that is not TOML (``province``) is taken as text.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(f"--set {text!r}: expected KEY=VALUE, such as forum.interval=2")
    try:
        spec(key)  # unknown keys fail here, with the list of known ones
    except ScenarioError as e:
        raise ScenarioError(f"--set {text!r}: {e}") from None
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key, parsed


def apply_overrides(params: Parameters, overrides: Mapping[str, Any], *,
                    source: str = "--set") -> Parameters:
    """Return ``params`` with dotted-key values replaced, validated as a whole."""
    data = params.model_dump()
    for key, value in overrides.items():
        try:
            spec(key)
        except ScenarioError as e:
            raise ScenarioError(f"{source}: {e}") from None
        section, name = _split_key(key)
        data[section][name] = value
    return validate_parameters(data, source=source)


def iter_keywords(kwargs: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Map ``NetworkModel`` keywords (``forum_interval``) to dotted keys."""
    by_keyword = {s.keyword: s.key for s in parameters()}
    for kw, value in kwargs.items():
        if kw not in by_keyword:
            raise TypeError(f"unknown parameter {kw!r}; parameters are the scenario keys "
                            "with '.' as '_', e.g. forum_interval")
        yield by_keyword[kw], value


def is_finite_range(s: ParamSpec) -> bool:
    """Whether a numeric parameter has a finite declared range (for sensitivity bounds)."""
    return s.kind in ("int", "float") and s.low is not None and s.high is not None \
        and math.isfinite(s.low) and math.isfinite(s.high)
