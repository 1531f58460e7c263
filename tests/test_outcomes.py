import numpy as np
import pandas as pd
import pytest

from netsim.outcomes import OUTCOMES, OutcomeError, Reading, outcome, reading, run_outcomes, timeline


def _runs(series: dict[str, list[int]]) -> pd.DataFrame:
    rows = [{"run_id": r, "month": m, "marketing_network": v} for r, vs in series.items()
            for m, v in enumerate(vs)]
    return pd.DataFrame(rows).sample(frac=1, random_state=1)  # any row order


def _reference(values: list[int]) -> dict[str, float]:
    """The timeline written out plainly, month by month."""
    spells, current, start, starts = [], 0, None, []
    for m, v in enumerate(values):
        if v:
            if current == 0:
                start = m
                starts.append(m)
            current += 1
        else:
            if current:
                spells.append(current)
            current = 0
    if current:
        spells.append(current)
    return {"at_end": bool(values[-1]), "ever": any(values),
            "first_month": float(starts[0]) if starts else np.nan, "months": sum(map(bool, values)),
            "longest": max(spells, default=0), "since": float(start) if values[-1] else np.nan}


def test_timeline_matches_a_plain_month_by_month_reading():
    rng = np.random.default_rng(3)
    series = {f"r{i}": list(rng.integers(0, 2, size=rng.integers(1, 12))) for i in range(200)}
    series["never"] = [0, 0, 0]
    series["always"] = [1, 1, 1, 1]
    got = timeline(_runs(series), OUTCOMES["marketing"])
    assert len(got) == len(series)
    for run, values in series.items():
        want = _reference(values)
        row = got.loc[run]
        for field, value in want.items():
            if isinstance(value, float) and np.isnan(value):
                assert np.isnan(row[field]), (run, field)
            else:
                assert row[field] == value, (run, field, values)


def test_a_one_month_flicker_is_ever_but_not_sustained():
    runs = timeline(_runs({"flicker": [0, 1, 0, 0], "lasting": [0, 1, 1, 1]}), OUTCOMES["marketing"])
    assert list(Reading("ever").holds(runs)) == [True, True]
    assert list(reading("for:3").holds(runs)) == [False, True]
    assert list(Reading("end").holds(runs)) == [False, True]
    assert list(reading("by:0").holds(runs)) == [False, False]
    assert list(reading("by:1").holds(runs)) == [True, True]


def test_named_outcomes_read_their_columns():
    month = pd.DataFrame({"run_id": ["a", "b", "c"], "month": [0, 0, 0], "loose": [1, 0, 1],
                          "structured": [0, 0, 1], "shared_ideology": [0, 1, 0],
                          "marketing_network": [0, 0, 1]})
    table = run_outcomes(month)
    assert list(table["structured_at_end"]) == [False, True, True]
    assert list(table["ideology_at_end"]) == [False, True, False]
    assert list(table["both_at_end"]) == [False, False, True]
    assert list(table["marketing_ever"]) == [False, False, True]


def test_a_threshold_on_any_output():
    month = pd.DataFrame({"run_id": ["a", "a", "b", "b"], "month": [0, 1, 0, 1],
                          "mean_trust": [0.2, 0.7, 0.5, 0.59]})
    trust = outcome("mean_trust>=0.6", outputs=["mean_trust"])
    assert list(timeline(month, trust)["at_end"]) == [True, False]


@pytest.mark.parametrize("text", ["structred", "mean_trust>>1", "nonsense>=1", "mean_trust>=x"])
def test_unknown_outcomes_say_what_is_allowed(text):
    with pytest.raises(OutcomeError, match="outcome"):
        outcome(text, outputs=["mean_trust"])


@pytest.mark.parametrize("text", ["sometimes", "for:0", "for:x", "by:-1", "end:3"])
def test_unknown_readings_say_what_is_allowed(text):
    with pytest.raises(OutcomeError, match="end, ever, for:K"):
        reading(text)


def test_a_batch_stores_each_runs_outcomes_over_time(tmp_path, baseline):
    from netsim.batch import RunContext, make_plan, run_batch, summarise
    from netsim.engines import make_engine
    from netsim.outcomes import read_outcomes
    from netsim.store import ResultStore

    plan = make_plan([baseline.with_overrides({"run.months": 18})], replicates=6, seed=2)
    store = ResultStore(tmp_path / "b")
    run_batch(plan, store, make_engine(RunContext.for_plan(plan), workers=1, dask=None), chunk=4)
    stored = read_outcomes(store).set_index("run_id")
    monthly = store.read("monthly")
    # the stored table is the one definition applied to the stored months
    again = run_outcomes(monthly)
    pd.testing.assert_frame_equal(stored[again.columns].sort_index(), again.sort_index(), check_names=False)
    assert list(stored.index) == list(store.read("runs")["run_id"])  # each run once, in plan order
    # the same table from the monthly rows alone, as the planner's page holds its runs
    held = read_outcomes(monthly).set_index("run_id")
    pd.testing.assert_frame_equal(held.sort_index(), stored[held.columns].sort_index(), check_dtype=False)
    # ... and the summary reports end and ever from it: ever is never below end
    table = summarise(store).iloc[0]
    assert table["marketing_ever"] >= table["marketing_at_end"]
    assert table["marketing_ever"] == pytest.approx(stored["marketing_ever"].mean())
    assert table["structured_at_end"] == pytest.approx(stored["structured_at_end"].mean())
    final = monthly[monthly["month"] == 18]
    assert table["structured_share"] == pytest.approx(final["structured_share"].mean())


def test_outcomes_of_an_older_store_are_computed_from_its_months(tmp_path, baseline):
    import shutil

    from netsim.batch import RunContext, make_plan, run_batch
    from netsim.engines import make_engine
    from netsim.outcomes import read_outcomes
    from netsim.store import ResultStore

    plan = make_plan([baseline.with_overrides({"run.months": 12})], replicates=3, seed=2)
    store = ResultStore(tmp_path / "b")
    run_batch(plan, store, make_engine(RunContext.for_plan(plan), workers=1, dask=None))
    stored = read_outcomes(store)
    shutil.rmtree(tmp_path / "b" / "outcomes")
    pd.testing.assert_frame_equal(read_outcomes(ResultStore(tmp_path / "b")), stored, check_dtype=False)
