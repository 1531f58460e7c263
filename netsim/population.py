"""The study's population of groups, the 54-group baseline, and reading a survey file.

The field study counts 21 registered cooperatives with about 101 member groups and 158
unregistered groups in Kalasin province; it gives no detail per group. This module turns
those counts into a reproducible, explicitly synthetic table of groups (district, kind,
origin, backing agencies, capacities, pre-existing networks), and reads such a table back,
from the shipped files or from a user's own survey with the same columns.

Columns of a groups file (``calibration/README.md`` documents them for users):

========================  =========================================================
``group_id``              unique text id
``district``              district name
``kind``                  one of :data:`KINDS`
``registered``            ``true``/``false`` (optional: derived from the kind)
``parent_id``             the cooperative a member group belongs to (optional)
``origin``                ``self`` or ``agency``
``support_sources``       agencies, ``;``-separated, from :data:`SUPPORT_SOURCES`
``leadership`` ...        the five :data:`CAPACITIES`, each in [0, 1]
``prior_network``         id of a network that predates the project (optional)
``name``                  the group's readable name, any script (optional)
any other column          kept as text and passed through to group tables and exports
========================  =========================================================

Surveys saved from a spreadsheet are read as they come: UTF-8 with or without a
byte-order mark, CRLF or LF line ends, extra columns (a village, a phone number) kept.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from netsim.codes import CAPACITIES, GOALS, KINDS
from netsim.scenario import PopulationParams, ScenarioError, read_user_text

__all__ = [
    "CAPACITIES",
    "DISTRICTS",
    "GOALS",
    "KINDS",
    "STUDY_SEED",
    "SUPPORT_SOURCES",
    "TARGET_DISTRICTS",
    "GroupFeatures",
    "Groups",
    "generate_baseline",
    "features",
    "generate_population",
    "invited",
    "read_groups",
    "study_draw",
    "synthetic_groups",
]

#: Seed of the shipped synthetic population: the schema's default ``population.seed``.
STUDY_SEED: int = PopulationParams().seed

#: Kinds of group in the study, with how many the province survey found.
KIND_COUNTS: dict[str, int] = {
    "cooperative": 21,
    "womens_cooperative_group": 95,
    "credit_union": 1,
    "savings_group": 4,
    "agricultural_group": 1,
    "farmer_occupational_group": 150,
    "forest_conservation": 2,
    "community_business": 4,
    "alternative_agriculture": 1,
    "folk_healer_network": 1,
}
#: Kinds that are member groups inside a registered cooperative.
MEMBER_KINDS = ("womens_cooperative_group", "credit_union", "savings_group", "agricultural_group")
REGISTERED_KINDS = ("cooperative", *MEMBER_KINDS)

SUPPORT_SOURCES: tuple[str, ...] = (
    "cooperative_promotion", "community_development", "agricultural_extension",
    "agricultural_bank", "ngo", "local_government", "health_office", "forestry", "none",
)
ORIGINS: tuple[str, ...] = ("self", "agency")

#: The 18 districts (amphoe) of Kalasin province.
DISTRICTS: tuple[str, ...] = (
    "Mueang Kalasin", "Na Mon", "Kamalasai", "Rong Kham", "Kuchinarai", "Khao Wong",
    "Yang Talat", "Huai Mek", "Sahatsakhan", "Kham Muang", "Tha Khantho", "Nong Kung Si",
    "Somdet", "Huai Phueng", "Sam Chai", "Na Khu", "Don Chan", "Khong Chai",
)
#: The six target districts. The study does not name them: this choice is synthetic.
TARGET_DISTRICTS: tuple[str, ...] = (
    "Mueang Kalasin", "Kamalasai", "Yang Talat", "Kuchinarai", "Somdet", "Sahatsakhan",
)

# Synthetic generation rules: which agencies back a kind, and with what chance each.
_KIND_SUPPORT: dict[str, dict[str, float]] = {
    "cooperative": {"cooperative_promotion": 0.95, "agricultural_bank": 0.4},
    "womens_cooperative_group": {"community_development": 0.8, "cooperative_promotion": 0.5},
    "credit_union": {"cooperative_promotion": 0.9},
    "savings_group": {"community_development": 0.7, "cooperative_promotion": 0.4},
    "agricultural_group": {"agricultural_extension": 0.8, "cooperative_promotion": 0.4},
    "farmer_occupational_group": {"agricultural_extension": 0.45, "local_government": 0.3,
                                  "agricultural_bank": 0.25, "community_development": 0.15},
    "forest_conservation": {"forestry": 0.8, "ngo": 0.5},
    "community_business": {"community_development": 0.7, "local_government": 0.4},
    "alternative_agriculture": {"ngo": 0.8, "agricultural_extension": 0.3},
    "folk_healer_network": {"health_office": 0.8, "ngo": 0.3},
}
# Chance a group of the kind started on its own (rather than being set up by an agency).
_KIND_SELF_ORIGIN: dict[str, float] = {
    "cooperative": 0.3, "womens_cooperative_group": 0.35, "credit_union": 0.3,
    "savings_group": 0.5, "agricultural_group": 0.3, "farmer_occupational_group": 0.5,
    "forest_conservation": 0.8, "community_business": 0.6, "alternative_agriculture": 0.9,
    "folk_healer_network": 0.9,
}
# How origin and each agency shift the mean of each capacity (leadership, finance,
# production, marketing, knowledge). Self-initiated groups lead better and have less
# money; agency-made groups the reverse (the study: strengths and weaknesses stem from
# origin and the supporting agency).
_ORIGIN_EFFECT = {"self": (0.12, -0.08, 0.03, 0.0, 0.0), "agency": (-0.08, 0.06, 0.0, -0.03, 0.04)}
_SUPPORT_EFFECT: dict[str, tuple[float, ...]] = {
    "cooperative_promotion": (0.0, 0.10, 0.0, 0.05, 0.05),
    "community_development": (0.06, 0.0, 0.0, 0.0, 0.05),
    "agricultural_extension": (0.0, 0.0, 0.12, 0.0, 0.06),
    "agricultural_bank": (0.0, 0.12, 0.0, 0.0, 0.0),
    "ngo": (0.05, 0.0, 0.0, 0.0, 0.10),
    "local_government": (0.03, 0.04, 0.0, 0.03, 0.0),
    "health_office": (0.0, 0.0, 0.0, 0.0, 0.08),
    "forestry": (0.0, 0.0, 0.03, 0.0, 0.06),
    "none": (0.0, -0.05, 0.0, -0.05, -0.05),
}
_KIND_CAPACITY_BASE: dict[str, tuple[float, ...]] = {
    "cooperative": (0.55, 0.55, 0.35, 0.45, 0.50),
}
_DEFAULT_CAPACITY_BASE = (0.40, 0.35, 0.45, 0.30, 0.35)
_CAPACITY_SPREAD = 0.12


@dataclass(frozen=True)
class Groups:
    """A validated table of groups (one row a group) and where it came from.

    Attributes:
        table: The rows, columns as in the module docstring, ``registered`` boolean,
            ``support_sources`` text.
        source: File name or description, for messages and provenance.
    """

    table: pd.DataFrame
    source: str
    _features: dict[tuple[str, ...], GroupFeatures] = field(default_factory=dict, compare=False, repr=False)
    _draw: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.table)

    def features(self, districts: tuple[str, ...] = ()) -> GroupFeatures:
        """The numeric view of the groups of ``districts`` (all if empty), made once each."""
        if districts not in self._features:
            self._features[districts] = features(invited(self.table, districts, self.source))
        return self._features[districts]

    def redrawn(self, seed: int, join_probability: Callable[[GroupFeatures], np.ndarray]) -> Groups:
        """These groups as the synthetic draw of population seed ``seed`` would have them.

        With the shipped seed (:data:`STUDY_SEED`) the groups are returned as they are,
        whatever file they came from. Another seed is allowed only for the study's own
        synthetic draw (``calibration/population.csv`` or ``baseline_groups.csv`` as
        ``netsim population`` writes them, recognised by their content): it gives the
        same file drawn with that seed (:func:`study_draw`; ``join_probability`` draws
        the baseline, as for :func:`generate_baseline`).

        Raises:
            ScenarioError: Another seed for groups that are not the study's draw (a survey).
        """
        if seed == STUDY_SEED:
            return self
        if "kind" not in self._draw:
            population, baseline = study_draw(STUDY_SEED, join_probability)
            self._draw["kind"] = ("population" if self.table.equals(population.table) else
                                  "baseline" if self.table.equals(baseline.table) else "")
        kind = self._draw["kind"]
        if not kind:
            raise ScenarioError(
                f"{self.source}: key 'population.seed' is {seed}, but only the study's synthetic "
                "population can be drawn with another seed (calibration/population.csv or "
                "calibration/baseline_groups.csv as 'netsim population' writes them), and these "
                f"groups are not that draw; leave population.seed at {STUDY_SEED} for a survey file")
        population, baseline = study_draw(seed, join_probability)
        return population if kind == "population" else baseline


@lru_cache(maxsize=64)
def study_draw(seed: int, join_probability: Callable[[GroupFeatures], np.ndarray]) -> tuple[Groups, Groups]:
    """The study's synthetic population and its 54-group baseline drawn with ``seed``.

    Exactly what ``netsim population --seed SEED`` writes and :func:`read_groups` reads
    back (the table goes through the same CSV text), made once per seed in a process, so
    a batch over many population seeds draws each population once per worker.
    ``join_probability`` draws the baseline (:func:`generate_baseline`; the recruitment
    model's with its default parameters, ``recruitment.default_join_probability``).
    """
    population = generate_population(seed=seed)
    baseline = generate_baseline(population, join_probability)
    source = f"the study's synthetic population (population.seed {seed})"
    return (_groups_from_text(population.to_csv(index=False), source),
            _groups_from_text(baseline.to_csv(index=False), source.replace("population", "baseline", 1)))


def _draw_group(rng: np.random.Generator, kind: str) -> dict[str, object]:
    origin = "self" if rng.random() < _KIND_SELF_ORIGIN[kind] else "agency"
    sources = [s for s, p in _KIND_SUPPORT[kind].items() if rng.random() < p]
    if not sources:
        sources = ["none"]
    mean = np.array(_KIND_CAPACITY_BASE.get(kind, _DEFAULT_CAPACITY_BASE))
    mean = mean + np.array(_ORIGIN_EFFECT[origin])
    for s in sources:
        mean = mean + np.array(_SUPPORT_EFFECT[s])
    caps = np.clip(mean + rng.normal(0.0, _CAPACITY_SPREAD, len(CAPACITIES)), 0.02, 0.98)
    row: dict[str, object] = {"origin": origin, "support_sources": ";".join(sources)}
    row.update({c: round(float(v), 3) for c, v in zip(CAPACITIES, caps, strict=True)})
    return row


def generate_population(*, seed: int = STUDY_SEED, districts: tuple[str, ...] = DISTRICTS,
                        prior_networks: int = 12) -> pd.DataFrame:
    """Generate the province population from the study's counts (synthetic detail).

    Counts of each kind are the study's. Synthetic: the district of each cooperative
    and unregistered group (uniform over ``districts``), member groups' assignment to
    cooperatives (uniform; a member group sits in its cooperative's district), origin,
    backing agencies and capacities (drawn by the rules above), and ``prior_networks``
    pre-existing networks of 3 to 5 unregistered groups of one district.

    Args:
        seed: Seed of the generator (``population.seed``); the shipped file uses the
            default, :data:`STUDY_SEED`.
        districts: District names.
        prior_networks: How many pre-existing networks to draw.

    Returns:
        The population table.
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    coop_ids: list[str] = []
    coop_district: dict[str, str] = {}
    for i in range(KIND_COUNTS["cooperative"]):
        gid = f"C{i + 1:03d}"
        d = districts[int(rng.integers(len(districts)))]
        coop_ids.append(gid)
        coop_district[gid] = d
        rows.append({"group_id": gid, "district": d, "kind": "cooperative",
                     "registered": True, "parent_id": "", **_draw_group(rng, "cooperative")})
    n = 0
    for kind in MEMBER_KINDS:
        for _ in range(KIND_COUNTS[kind]):
            n += 1
            parent = coop_ids[int(rng.integers(len(coop_ids)))]
            rows.append({"group_id": f"M{n:03d}", "district": coop_district[parent],
                         "kind": kind, "registered": True, "parent_id": parent,
                         **_draw_group(rng, kind)})
    n = 0
    for kind in KINDS:
        if kind in REGISTERED_KINDS:
            continue
        for _ in range(KIND_COUNTS[kind]):
            n += 1
            d = districts[int(rng.integers(len(districts)))]
            rows.append({"group_id": f"U{n:03d}", "district": d, "kind": kind,
                         "registered": False, "parent_id": "", **_draw_group(rng, kind)})
    table = pd.DataFrame(rows)
    table["prior_network"] = ""
    unregistered = table.index[~table["registered"]].to_numpy()
    for k in range(prior_networks):
        seed_row = int(rng.choice(unregistered))
        same = table.index[(table["district"] == table.at[seed_row, "district"])
                           & ~table["registered"] & (table["prior_network"] == "")].to_numpy()
        size = min(len(same), int(rng.integers(3, 6)))
        if size >= 3:
            table.loc[rng.choice(same, size, replace=False), "prior_network"] = f"P{k + 1:02d}"
    table["synthetic"] = "district;parent_id;origin;support_sources;capacities;prior_network"
    return table


def generate_baseline(population: pd.DataFrame, join_probability: Callable[[GroupFeatures], np.ndarray],
                      *, seed: int = 54, districts: tuple[str, ...] = TARGET_DISTRICTS,
                      size: int = 54) -> pd.DataFrame:
    """Draw the baseline: ``size`` groups of the target districts, as the study's 54.

    Groups are drawn without replacement with chances proportional to
    ``join_probability`` (the recruitment model's chance of joining, with its default
    parameters for the shipped file), at least one in each district.
    """
    rng = np.random.default_rng(seed)
    invited = population[population["district"].isin(districts)].reset_index(drop=True)
    p = join_probability(features(invited))
    chosen: list[int] = []
    for d in districts:  # one per district first
        idx = invited.index[invited["district"] == d].to_numpy()
        w = p[idx] / p[idx].sum()
        chosen.append(int(rng.choice(idx, p=w)))
    rest = np.setdiff1d(invited.index.to_numpy(), chosen)
    w = p[rest] / p[rest].sum()
    chosen += [int(i) for i in rng.choice(rest, size - len(chosen), replace=False, p=w)]
    out = invited.loc[sorted(chosen)].reset_index(drop=True)
    out["synthetic"] = out["synthetic"] + ";selection"
    return out


@dataclass(frozen=True)
class GroupFeatures:
    """The numeric view of a groups table that the model works on (one row a group)."""

    district: np.ndarray  # int codes into district_names
    district_names: tuple[str, ...]
    kind: np.ndarray  # int codes into KINDS
    registered: np.ndarray  # bool
    self_initiated: np.ndarray  # bool
    support: np.ndarray  # (n, len(SUPPORT_SOURCES)) bool
    capacities: np.ndarray  # (n, len(CAPACITIES)) float
    parent: np.ndarray  # int row of the parent cooperative, -1 for none
    prior_network: np.ndarray  # int code, -1 for none
    group_id: np.ndarray  # object array of ids
    prior_a: np.ndarray  # first ends of the ties that predate the project (see prior_ties)
    prior_b: np.ndarray  # their second ends
    agencies: np.ndarray  # agencies backing the group (support sources other than none)
    mean_capacity: np.ndarray  # mean of the five capacities
    #: Text columns carried through to group tables and exports: ``name`` (the group's
    #: label) first if the file has it, then the file's extra columns in its order.
    labels: dict[str, np.ndarray] = field(default_factory=dict)

    def label(self, row: int) -> str:
        """The group's name from the file, or its id if the file has no name for it."""
        names = self.labels.get("name")
        name = str(names[row]) if names is not None else ""
        return name or str(self.group_id[row])


def features(table: pd.DataFrame) -> GroupFeatures:
    """The numeric view of a validated groups table (district and kind codes, capacities, ...)."""
    district_names = tuple(sorted(table["district"].unique()))
    codes = {d: i for i, d in enumerate(district_names)}
    kind_codes = {k: i for i, k in enumerate(KINDS)}
    ids = table["group_id"].to_numpy(dtype=object)
    row_of = {g: i for i, g in enumerate(ids)}
    parent = np.array([row_of.get(p, -1) if p else -1 for p in table["parent_id"]], dtype=np.int64)
    support = np.zeros((len(table), len(SUPPORT_SOURCES)), dtype=bool)
    for i, s in enumerate(table["support_sources"]):
        for name in s.split(";"):
            if name:
                support[i, SUPPORT_SOURCES.index(name)] = True
    prior_names = {p: i for i, p in enumerate(sorted(set(table["prior_network"]) - {""}))}
    prior = np.array([prior_names.get(p, -1) for p in table["prior_network"]], dtype=np.int64)
    prior_a, prior_b = prior_ties(parent, prior)
    result = GroupFeatures(
        district=table["district"].map(codes).to_numpy(np.int64),
        district_names=district_names,
        kind=table["kind"].map(kind_codes).to_numpy(np.int64),
        registered=table["registered"].to_numpy(bool),
        self_initiated=(table["origin"] == "self").to_numpy(),
        support=support,
        capacities=table[list(CAPACITIES)].to_numpy(np.float64),
        parent=parent,
        prior_network=prior,
        group_id=ids,
        prior_a=prior_a,
        prior_b=prior_b,
        agencies=support.sum(axis=1) - support[:, SUPPORT_SOURCES.index("none")],
        mean_capacity=table[list(CAPACITIES)].to_numpy(np.float64).mean(axis=1),
        labels={c: table[c].to_numpy(dtype=object) for c in passed_through(table.columns)},
    )
    for value in [*vars(result).values(), *result.labels.values()]:
        if isinstance(value, np.ndarray):
            value.flags.writeable = False  # shared between models built from one file
    return result


def prior_ties(parent: np.ndarray, prior_network: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of rows tied before the project.

    Each member group is tied to its cooperative (``parent``), and every two groups of a
    network that predates the project (``prior_network``, -1 for none) are tied.
    """
    member = np.flatnonzero(parent >= 0)
    a, b = [member], [parent[member]]
    rows = np.flatnonzero(prior_network >= 0)
    if len(rows):
        order = rows[np.argsort(prior_network[rows], kind="stable")]
        codes = prior_network[order]
        i, j = np.triu_indices(len(order), 1)
        same = codes[i] == codes[j]
        a.append(order[i[same]])
        b.append(order[j[same]])
    return np.concatenate(a).astype(np.int64), np.concatenate(b).astype(np.int64)


def invited(table: pd.DataFrame, districts: tuple[str, ...], source: str) -> pd.DataFrame:
    """The groups of ``table`` in ``districts`` (all of them if ``districts`` is empty)."""
    if not districts:
        return table.reset_index(drop=True)
    known = set(table["district"])
    unknown = [d for d in districts if d not in known]
    if unknown:
        raise ScenarioError(
            f"{source}: {', '.join(map(repr, unknown))} (named by key 'recruitment.districts') "
            f"not in this file; its districts: {', '.join(sorted(known)[:30])}"
            f"{' ...' if len(known) > 30 else ''} (or set recruitment.districts=[] to invite "
            "every district)")
    return table[table["district"].isin(districts)].reset_index(drop=True)


REQUIRED_COLUMNS = ("group_id", "district", "kind", "origin", "support_sources", *CAPACITIES)
OPTIONAL_COLUMNS = ("registered", "parent_id", "prior_network", "synthetic", "name")
#: Names an extra column cannot have: the per-group outputs' and the result tables' own columns.
RESERVED_COLUMNS = ("month", "scenario", "replicate", "seed", "run_id", "participating", "degree",
                    "network_id", "network_type", "top_goal", "inspiration", "trust", "plan_quality")


def passed_through(columns: Iterable[str]) -> list[str]:
    """The columns of a groups file carried to the outputs: ``name``, then the extra ones."""
    known = set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    extra = [c for c in columns if c not in known]
    return (["name"] if "name" in columns else []) + extra


def read_groups(path: str | Path) -> Groups:
    """Read and validate a groups file (the shipped population or a user's survey).

    Raises:
        ScenarioError: naming the file, the row or column, and what is allowed.
    """
    path = Path(path)
    text = read_user_text(path, expected="a groups file (.csv)",
                          if_empty="it needs a header row with the columns " + ", ".join(REQUIRED_COLUMNS))
    return _groups_from_text(text, str(path))


def _groups_from_text(text: str, source: str) -> Groups:
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, csv.Error) as e:
        raise ScenarioError(f"{source}: not a readable CSV file: {e}") from None
    return Groups(validate_groups(table, source=source), source)


def validate_groups(table: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Check a groups table column by column; return it with typed columns."""
    table = table.rename(columns=lambda c: str(c).strip())
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ScenarioError(f"{source}: missing column(s) {', '.join(missing)}; a groups file "
                            f"needs {', '.join(REQUIRED_COLUMNS)}")
    # a spreadsheet's blank columns come with no heading ("Unnamed: 7") and no values
    blank = [c for c in table.columns if c.startswith("Unnamed: ")
             and not table[c].astype(str).str.strip().any()]
    table = table.drop(columns=blank)
    clash = [c for c in table.columns if c in RESERVED_COLUMNS]
    if clash:
        raise ScenarioError(f"{source}: column(s) {', '.join(clash)} would clash with the model's own "
                            f"per-group outputs; rename them (extra columns are kept, but not under "
                            f"the names {', '.join(RESERVED_COLUMNS)})")
    dup = [c for c in table.columns if "." in c and c.rsplit(".", 1)[1].isdigit()
           and c.rsplit(".", 1)[0] in table.columns]
    if dup:
        raise ScenarioError(f"{source}: column {dup[0].rsplit('.', 1)[0]!r} comes more than once; "
                            "each column needs its own heading")
    if len(table) == 0:
        raise ScenarioError(f"{source}: no groups (the file has a header but no rows)")
    table = table.copy()
    for c in table.columns:
        table[c] = table[c].astype(str).str.strip()

    def row_error(i: int, column: str, what: str) -> ScenarioError:
        # Row numbers as a spreadsheet shows them: the header is row 1.
        return ScenarioError(f"{source}: row {i + 2}, column '{column}': {what} "
                             f"(got {table.at[i, column]!r})")

    table = table.reset_index(drop=True)
    for i, gid in enumerate(table["group_id"]):
        if not gid:
            raise row_error(i, "group_id", "must not be empty")
    dup = table["group_id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise row_error(i, "group_id", "duplicate id; each group needs its own id")
    for i, d in enumerate(table["district"]):
        if not d:
            raise row_error(i, "district", "must not be empty")
    for i, k in enumerate(table["kind"]):
        if k not in KINDS:
            raise row_error(i, "kind", "must be one of " + ", ".join(KINDS))
    for i, o in enumerate(table["origin"]):
        if o not in ORIGINS:
            raise row_error(i, "origin", "must be 'self' or 'agency'")
    sources = []
    for i, s in enumerate(table["support_sources"]):
        names = [x.strip() for x in s.split(";") if x.strip()]
        bad = [x for x in names if x not in SUPPORT_SOURCES]
        if not names or bad:
            raise row_error(i, "support_sources", "must be ';'-separated names from "
                            + ", ".join(SUPPORT_SOURCES))
        sources.append(";".join(names))
    table["support_sources"] = pd.Series(sources, index=table.index, dtype=table["support_sources"].dtype)
    for c in CAPACITIES:
        values = pd.to_numeric(table[c], errors="coerce")
        bad = values.isna() | (values < 0) | (values > 1)
        if bad.any():
            raise row_error(int(np.flatnonzero(bad)[0]), c, "must be a number from 0 to 1")
        table[c] = values.astype(float)
    if "registered" in table.columns:
        truth = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
        lowered = table["registered"].str.lower()
        bad = ~lowered.isin(list(truth))
        if bad.any():
            raise row_error(int(np.flatnonzero(bad)[0]), "registered", "must be true or false")
        table["registered"] = lowered.map(truth).astype(bool)
    else:
        table["registered"] = table["kind"].isin(REGISTERED_KINDS)
    for c in ("parent_id", "prior_network", "synthetic"):
        if c not in table.columns:
            table[c] = ""
    # A parent outside the file is allowed (a member group whose cooperative is not in
    # the survey): it only means no membership tie.
    for i, p in enumerate(table["parent_id"]):
        if p and p == table.at[i, "group_id"]:
            raise row_error(i, "parent_id", "a group cannot be its own parent")
    return table


def synthetic_groups(n: int, n_districts: int, *, rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n`` synthetic groups over ``n_districts`` with the province's mix of kinds.

    Used for national-scale runs. Vectorised: capacities follow the same origin and
    agency rules as :func:`generate_population`; member groups belong to a cooperative
    of their own district when the district has one. No pre-existing networks beyond
    membership.
    """
    kinds = np.array(KINDS)
    p = np.array([KIND_COUNTS[k] for k in KINDS], dtype=float)
    kind = rng.choice(len(KINDS), n, p=p / p.sum())
    district = rng.integers(0, n_districts, n)
    self_p = np.array([_KIND_SELF_ORIGIN[k] for k in KINDS])[kind]
    origin_self = rng.random(n) < self_p
    support = np.zeros((n, len(SUPPORT_SOURCES)), dtype=bool)
    for ki, k in enumerate(KINDS):
        rows = np.flatnonzero(kind == ki)
        for s, ps in _KIND_SUPPORT[k].items():
            support[rows, SUPPORT_SOURCES.index(s)] = rng.random(len(rows)) < ps
    none = ~support.any(axis=1)
    support[none, SUPPORT_SOURCES.index("none")] = True
    base = np.array([_KIND_CAPACITY_BASE.get(k, _DEFAULT_CAPACITY_BASE) for k in KINDS])[kind]
    base += np.where(origin_self[:, None], _ORIGIN_EFFECT["self"], _ORIGIN_EFFECT["agency"])
    base += support.astype(float) @ np.array([_SUPPORT_EFFECT[s] for s in SUPPORT_SOURCES])
    caps = np.clip(base + rng.normal(0, _CAPACITY_SPREAD, base.shape), 0.02, 0.98).round(3)
    # member groups join one of their district's cooperatives, at random, if it has any
    coop_rows = np.flatnonzero(kind == KINDS.index("cooperative"))
    coop_rows = coop_rows[np.argsort(district[coop_rows], kind="stable")]
    coops_in = np.bincount(district[coop_rows], minlength=n_districts)
    first_coop = np.concatenate([[0], np.cumsum(coops_in)[:-1]])
    is_member = np.isin(kind, [KINDS.index(k) for k in MEMBER_KINDS]) & (coops_in[district] > 0)
    pick = first_coop[district] + (rng.random(n) * coops_in[district]).astype(np.int64)
    parent_row = np.where(is_member, coop_rows[np.minimum(pick, len(coop_rows) - 1)], -1) \
        if len(coop_rows) else np.full(n, -1)
    width = len(str(n))
    ids = np.char.add("S", np.char.zfill(np.arange(1, n + 1).astype(str), width))
    names = np.array([f"D{d + 1:04d}" for d in range(n_districts)])
    table = pd.DataFrame({
        "group_id": ids,
        "district": names[district],
        "kind": kinds[kind],
        "registered": np.isin(kind, [KINDS.index(k) for k in REGISTERED_KINDS]),
        "parent_id": np.where(parent_row >= 0, ids[np.maximum(parent_row, 0)], ""),
        "origin": np.where(origin_self, "self", "agency"),
        "support_sources": _support_text(support),
        **{c: caps[:, j] for j, c in enumerate(CAPACITIES)},
        "prior_network": "",
        "synthetic": "all",
    })
    return table


def _support_text(support: np.ndarray) -> np.ndarray:
    # Few distinct combinations: name each once.
    packed = support @ (1 << np.arange(support.shape[1]))
    uniq, inverse = np.unique(packed, return_inverse=True)
    names = np.array([";".join(s for j, s in enumerate(SUPPORT_SOURCES) if (u >> j) & 1)
                      for u in uniq])
    return names[inverse]
