import math

import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT

from netsim.patterns import (
    PATTERNS,
    STATISTICS,
    Calendar,
    Target,
    distance,
    read_targets,
    reproduced,
    run_statistics,
)
from netsim.scenario import ScenarioError

CAL = Calendar(followup_start=3, first_review=6)


def _run(run_id: str, months: int = 12, **series: list[float]) -> pd.DataFrame:
    """A hand-made monthly table of one run: quiet defaults, the given columns month by month."""
    base = {
        "participants": 54,
        "districts": 6,
        "marketing_network": 0,
        "marketing_network_districts": 0,
        "loose": 1,
        "structured": 1,
        "shared_ideology": 0,
        "revised_plan_share": 0.0,
        "mean_trust": 0.0,
    }
    rows = {"run_id": [run_id] * (months + 1), "month": list(range(months + 1))}
    for col, default in base.items():
        rows[col] = list(series.get(col, [default] * (months + 1)))
    return pd.DataFrame(rows)


def test_marketing_spell_counts_only_a_lasting_network_formed_after_followup_began():
    monthly = pd.concat(
        [
            _run("flicker", marketing_network=[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            _run("lasting", marketing_network=[0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]),
            _run("before", marketing_network=[0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
            _run("broken", marketing_network=[0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]),
        ]
    ).sample(frac=1, random_state=2)  # any row order
    spell = run_statistics(monthly, ["marketing_spell"], CAL)["marketing_spell"]
    assert spell.to_dict() == {"before": 0.0, "broken": 3.0, "flicker": 0.0, "lasting": 6.0}


def test_statistics_read_the_right_months():
    trust = [0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5, 0.6, 0.6, 0.7]
    revised = [0, 0, 0, 0, 0, 0, 0.55, 0.6, 0.6, 0.6, 0.6, 0.7, 0.9]
    monthly = _run(
        "r",
        participants=[50] + [60] * 12,
        districts=[5] + [6] * 12,
        mean_trust=trust,
        revised_plan_share=revised,
        shared_ideology=[0] * 5 + [1, 1] + [0] * 6,
        loose=[0] * 12 + [2],
        structured=[0] * 12 + [1],
        marketing_network_districts=[0] * 12 + [4],
    )
    s = run_statistics(monthly, list(STATISTICS), CAL).iloc[0]
    assert s["participants"] == 50 and s["districts"] == 5  # month 0, not the end
    assert s["trust_rise"] == pytest.approx(0.7 - 0.2)  # from the month before follow-up began
    assert s["revised_share"] == pytest.approx(0.55)  # at the first review month
    assert s["ideology_months"] == 2 and s["ideology_at_end"] == 0
    assert s["loose_at_end"] == 2 and s["structured_at_end"] == 1 and s["marketing_districts"] == 4
    no_review = run_statistics(monthly, ["revised_share"], Calendar(3, 0))
    assert np.isnan(no_review.iloc[0, 0])


def _targets() -> list[Target]:
    inf = math.inf
    return [
        Target("participants", 1, 48, 60, 6, True),
        Target("districts", 1, 6, 6, 1, True),
        Target("marketing_spell", 2, 6, inf, 6, True),
        Target("loose_at_end", 3, 1, inf, 1, True),
        Target("structured_at_end", 3, 1, inf, 1, True),
        Target("ideology_at_end", 4, -inf, 0, 1, True),
        Target("revised_share", 5, 0.5, inf, 0.25, True),
        Target("trust_rise", 6, 0.1, inf, 0.1, True),
        Target("ideology_months", 4, -inf, 0, 1, False),
    ]


def test_distance_is_zero_exactly_when_every_fitted_band_holds_and_grows_with_the_miss():
    good = {
        "participants": 54,
        "districts": 6,
        "marketing_spell": 8,
        "loose_at_end": 1,
        "structured_at_end": 2,
        "ideology_at_end": 0,
        "revised_share": 0.6,
        "trust_rise": 0.3,
        "ideology_months": 3,
    }
    stats = pd.DataFrame(
        [
            good,
            {**good, "participants": 66},
            {**good, "participants": 72},
            {**good, "marketing_spell": 0, "trust_rise": 0.0},
            {**good, "revised_share": np.nan},
        ],
        index=["good", "near", "far", "two", "missing"],
    )
    d = distance(stats, _targets())
    assert d[0] == 0  # the held-out ideology_months (3, outside its band) does not count
    assert d[1] == pytest.approx(1.0) and d[2] == pytest.approx(2.0)
    assert d[3] == pytest.approx(math.sqrt(1 + 1))
    assert np.isinf(d[4])
    rep = reproduced(stats, _targets())
    assert rep.loc["good"].drop("held_out:ideology_months").all()
    assert not rep.loc["good", "held_out:ideology_months"]
    assert not rep.loc["near", "pattern_1"] and rep.loc["near", "pattern_2"] and not rep.loc["near", "joint"]
    assert list(rep.loc["two", [f"pattern_{k}" for k in PATTERNS]]) == [True, False, True, True, True, False]


def test_the_shipped_targets_cover_every_pattern_and_hold_a_statistic_out():
    t = read_targets(PROJECT / "calibration" / "targets.toml")
    assert {x.pattern for x in t.fitted} == set(PATTERNS)
    assert t.held_out
    assert t.scenario.resolve() == (PROJECT / "scenarios" / "baseline.toml").resolve()
    assert all(lo < hi for lo, hi in t.priors.values())


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[statistics.nonsense]\npattern = 1\nat_least = 1\n", "unknown statistic 'nonsense'"),
        (
            "[statistics.participants]\npattern = 1\ntarget = 54\ntolerance = -1\n",
            "statistics.participants.tolerance",
        ),
        (
            "[statistics.participants]\npattern = 1\ntarget = 54\ntolerance = 'wide'\n",
            "must be a finite number",
        ),
        ("[statistics.participants]\npattern = 1\ntarget = 54\n", "needs a 'tolerance'"),
        ("[statistics.participants]\npattern = 9\nat_least = 1\n", "pattern: must be the pattern's number"),
        ("[statistics.participants]\npattern = 1\nat_least = 1\nwobble = 2\n", "unknown key 'wobble'"),
    ],
)
def test_bad_targets_name_the_file_and_key(tmp_path, body, words):
    f = tmp_path / "targets.toml"
    f.write_text('scenario = "baseline.toml"\n' + body + '[prior]\n"forum.tie_gain" = "span"\n')
    with pytest.raises(ScenarioError, match=words) as e:
        read_targets(f)
    assert str(f) in str(e.value)


def test_a_prior_outside_the_schema_range_or_on_a_non_real_parameter_is_refused(tmp_path):
    shipped = (PROJECT / "calibration" / "targets.toml").read_text()
    head = shipped.split("[prior]")[0]
    for prior, words in [
        ('"forum.tie_gain" = [0.1, 1.5]', "outside the schema's allowed range"),
        ('"forum.interval" = [2, 6]', "only real-valued parameters"),
        ('"forum.nonsense" = "span"', "unknown parameter 'forum.nonsense'"),
        ('"forum.tie_gain" = [0.4, 0.2]', "empty or reversed"),
    ]:
        f = tmp_path / "targets.toml"
        f.write_text(head + "[prior]\n" + prior + "\n")
        with pytest.raises(ScenarioError, match=words):
            read_targets(f)


def test_recovery_targets_centre_each_band_on_the_observed_value():
    t = read_targets(PROJECT / "calibration" / "targets.toml")
    observed = {s: 2.0 for s in t.statistics}
    moved = t.with_observed(observed)
    by = {x.statistic: x for x in moved.targets}
    assert (by["participants"].low, by["participants"].high) == (-4.0, 8.0)
    assert (by["trust_rise"].low, by["trust_rise"].high) == pytest.approx((1.95, 2.05))
