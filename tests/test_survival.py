"""Kaplan–Meier quantiles: against statsmodels' SurvfuncRight and a hand-worked example."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from outcome_analysis import survival
from outcome_analysis.survival import episode_durations, km_quantiles
from toydata import toy_dataset
from toydata import trajectory as T


def test_hand_worked_example():
    # times 1,2,3+,4,5 (3 censored): S(1)=4/5, S(2)=3/5, S(4)=3/5*(1-1/2)=0.3, S(5)=0
    # median: first t with S <= 0.5 -> 4; q1 (S <= 0.75): 2; q3 (S <= 0.25): 5
    out = km_quantiles([1, 2, 3, 4, 5], [True, True, False, True, True])
    row = out.iloc[0]
    assert (row["n"], row["events"], row["censored"]) == (5, 4, 1)
    assert (row["q1"], row["median"], row["q3"]) == (2, 4, 5)


def test_flat_stretch_at_exactly_one_half_takes_the_midpoint():
    # uncensored 1,2,3,4: S(2) = 0.5 exactly until t=3 -> median (2+3)/2 = 2.5, as R's quantile.survfit
    # and the ordinary sample median; q1: S(1) = 0.75 exactly until 2 -> 1.5
    row = km_quantiles([1, 2, 3, 4], [True] * 4).iloc[0]
    assert (row["q1"], row["median"], row["q3"]) == (1.5, 2.5, 3.5)
    assert row["median"] == np.median([1, 2, 3, 4])


def test_flat_tail_at_exactly_one_minus_p_takes_the_midpoint_with_the_last_time():
    # one event at t=1 of 4 at risk, then only censoring: S = 0.75 from t=1 to the end (t=4, censored).
    # R's quantile.survfit: the curve ends at exactly 1 - 0.25 -> q1 = (1 + 4) / 2 = 2.5;
    # median and q3 are never reached (S stays 0.75) -> NaN
    row = km_quantiles([1, 2, 3, 4], [True, False, False, False]).iloc[0]
    assert row["q1"] == 2.5 and np.isnan(row["median"]) and np.isnan(row["q3"])


def test_flat_tail_at_one_half_with_censored_last_times():
    # 1, 2, 3+, 4+: S(1) = 3/4, S(2) = 3/4 * 2/3 = 1/2, then only censoring up to t=4.
    # median: S = 0.5 exactly from t=2 and never drops again -> midpoint with the last time (2 + 4) / 2 = 3
    # q1: S = 0.75 exactly at t=1, next drop at t=2 -> (1 + 2) / 2 = 1.5;  q3: S never <= 0.25 -> NaN
    row = km_quantiles([1, 2, 3, 4], [True, True, False, False]).iloc[0]
    assert (row["q1"], row["median"]) == (1.5, 3.0) and np.isnan(row["q3"])
    # statsmodels (first S < 1 - p) takes the end of the stretch for q1 and never reaches the median
    sf = SurvfuncRight(np.array([1.0, 2, 3, 4]), np.array([1, 1, 0, 0]))
    assert sf.quantile(0.25) == 2 and np.isnan(sf.quantile(0.5))


def test_without_censoring_the_quartiles_are_the_sample_quartiles():
    # n = 8, no censoring: S = 6/8 exactly from 9 to 14, 4/8 from 20 to 26, 2/8 from 31 to 40
    x = [5, 9, 14, 20, 26, 31, 40, 52]
    row = km_quantiles(x, [True] * 8).iloc[0]
    assert (row["q1"], row["median"], row["q3"]) == (11.5, 23.0, 35.5)
    assert row["median"] == np.median(x)
    for column, p in (("q1", 0.25), ("median", 0.5), ("q3", 0.75)):
        assert row[column] == np.quantile(x, p, method="averaged_inverted_cdf")


def test_flat_stretch_with_censoring_inside_then_a_later_drop():
    # 1, 2, 3, 4+, 5, 6: S(1) = 5/6, S(2) = 4/6, S(3) = 3/6, (4 censored), S(5) = 1/2 * 1/2 = 1/4, S(6) = 0
    # median: S = 0.5 from t=3 until the next drop at t=5 -> (3 + 5) / 2 = 4
    # q3: S = 0.25 from t=5 until the drop to 0 at t=6 (the last time, an event) -> (5 + 6) / 2 = 5.5
    # q1: S steps from 5/6 to 4/6 past 0.75 at t=2 -> 2
    time, event = [1, 2, 3, 4, 5, 6], [True, True, True, False, True, True]
    row = km_quantiles(time, event).iloc[0]
    assert (row["q1"], row["median"], row["q3"]) == (2.0, 4.0, 5.5)
    # statsmodels agrees where S steps past 1 - p, and takes the end of a flat stretch (5, 6)
    sf = SurvfuncRight(np.array(time, dtype=float), np.array(event, dtype=int))
    assert (sf.quantile(0.25), sf.quantile(0.5), sf.quantile(0.75)) == (2, 5, 6)


def test_survival_is_the_running_product_as_in_r():
    # group b: 8 units, events at 17 (8 at risk) and 19 (7 at risk), the rest censored later (largest
    # 366): S = 7/8 * 6/7 = 0.75 exactly and the curve ends there -> q1 = (19 + 366) / 2 = 192.5.
    # R's survfit multiplies (n - d) / n, which lands on 0.75 exactly in floating point; a sum of logs
    # run on from group a (which ends at S = 0) lands at 0.7500000000000001, and R's rule (1 - S below
    # every p asked for -> NaN) would then give NaN (a case of the demo data)
    time = [1, 2, 3] + [17, 19, 205, 208, 220, 220, 342, 366]
    event = [True] * 3 + [True, True] + [False] * 6
    out = km_quantiles(time, event, pd.DataFrame({"g": ["a"] * 3 + ["b"] * 8}))
    row = out.iloc[1]
    assert row["g"] == "b" and row["q1"] == 192.5 and np.isnan(row["median"]) and np.isnan(row["q3"])
    assert tuple(out.iloc[0][["q1", "median", "q3"]]) == (1.0, 2.0, 3.0)


def test_curve_ending_at_zero_with_an_event():
    # 1, 2 both events: S = 0.5 on [1, 2), 0 from t=2 (the last time is an event, the curve ends at 0).
    # median: flat at 0.5 until the drop at 2 -> 1.5; p = 1: the time S reaches 0 -> 2 (R: (2 + 2) / 2)
    row = km_quantiles([1, 2], [True, True], probs={"median": 0.5, "p100": 1.0}).iloc[0]
    assert (row["median"], row["p100"]) == (1.5, 2.0)


def test_quantile_not_reached_is_nan():
    # one event of 5, then only censoring: S = 0.8 from t=1 on, above 0.75: no quartile is reached
    row = km_quantiles([1, 2, 3, 4, 5], [True, False, False, False, False]).iloc[0]
    assert np.isnan(row["q1"]) and np.isnan(row["median"]) and np.isnan(row["q3"])
    # no events at all
    row = km_quantiles([3, 7], [False, False]).iloc[0]
    assert np.isnan(row["q1"]) and np.isnan(row["median"]) and np.isnan(row["q3"])


def test_probabilities_outside_zero_one_are_refused():
    with pytest.raises(ValueError):
        km_quantiles([1, 2], [True, True], probs={"p0": 0.0})
    with pytest.raises(ValueError):
        km_quantiles([1, 2], [True, True], probs={"p": 1.5})


def test_several_groups_in_one_call_only_one_with_a_flat_tail():
    # the flat-tail group ("b") sits between the others, whose largest times (8 and 60) differ from
    # its own (40): the midpoint must use b's own last time
    cases = {
        "a": ([1, 2, 3, 4, 5, 6, 7, 8], [True] * 8),                          # 2.5, 4.5, 6.5
        "b": ([10, 20, 30, 40], [True, True, False, False]),                   # 15, (20 + 40) / 2 = 30, NaN
        "c": ([10, 20, 30, 40, 50, 60], [True, True, True, False, True, True]),  # 20, 40, 55
        "d": ([1, 2, 3, 4, 5], [True, False, False, False, False]),            # never reached
    }
    expected = {"a": (2.5, 4.5, 6.5), "b": (15.0, 30.0, np.nan), "c": (20.0, 40.0, 55.0),
                "d": (np.nan, np.nan, np.nan)}
    time = np.concatenate([c[0] for c in cases.values()]).astype(float)
    event = np.concatenate([c[1] for c in cases.values()])
    key = np.concatenate([[k] * len(c[0]) for k, c in cases.items()])
    order = np.random.default_rng(0).permutation(len(time))      # rows in no particular order
    out = km_quantiles(time[order], event[order], pd.DataFrame({"g": key[order]}))
    assert list(out["g"]) == ["a", "b", "c", "d"]
    for _, row in out.iterrows():
        got = (row["q1"], row["median"], row["q3"])
        np.testing.assert_array_equal(got, expected[row["g"]])
        alone = km_quantiles(*cases[row["g"]]).iloc[0]
        np.testing.assert_array_equal(got, (alone["q1"], alone["median"], alone["q3"]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_statsmodels_for_every_group(seed):
    rng = np.random.default_rng(seed)
    n = 600
    groups = pd.DataFrame({"inst": rng.choice(list("ABCD"), n), "period": rng.choice(["2023", "2024"], n)})
    time = rng.integers(1, 400, n).astype(float)       # ties on purpose (S rarely hits 1 - p exactly;
    # where it would, statsmodels takes the end of the flat stretch and R the midpoint: see the test above)
    event = rng.random(n) < 0.7
    out = km_quantiles(time, event, groups)
    for _, row in out.iterrows():
        mask = (groups["inst"] == row["inst"]) & (groups["period"] == row["period"])
        sf = SurvfuncRight(time[mask], event[mask].astype(int))
        for column, p in (("q1", 0.25), ("median", 0.5), ("q3", 0.75)):
            expected = sf.quantile(p)
            if np.isnan(expected):
                assert np.isnan(row[column])
            else:
                assert row[column] == pytest.approx(expected), (row["inst"], row["period"], column)
        assert row["n"] == mask.sum() and row["events"] == event[mask].sum()


def test_episode_durations_censor_running_episodes():
    base = dict(institution="GI", care_type="jb", birth_year=2012)
    rows = [
        # one youth: vOTS then OTS the next day: one episode of 2023-01-01 .. 2023-12-31 = 365 days
        dict(base, trajectory_id="a1", client_id="k1", care_form="vots", start_date="2023-01-01",
             end_date="2023-03-01", end_reason="volgens_plan"),
        dict(base, trajectory_id="a2", client_id="k1", care_form="ots", start_date="2023-03-02",
             end_date="2023-12-31", end_reason="volgens_plan"),
        # a running OTS since 2023-07-01: censored at the reference date 2024-06-30 -> 366 days
        dict(base, trajectory_id="b1", client_id="k2", care_form="ots", start_date="2023-07-01"),
        # a short one: 2023-02-01 .. 2023-02-10 = 10 days
        dict(base, trajectory_id="c1", client_id="k3", care_form="ots", start_date="2023-02-01",
             end_date="2023-02-10", end_reason="volgens_plan"),
    ]
    out = episode_durations(toy_dataset(rows, reference_date="2024-06-30"))
    row = out[(out["scope"] == "national") & (out["period"] == "2023")].iloc[0]
    assert (row["n"], row["events"], row["censored"]) == (3, 2, 1)
    # S(10) = 2/3, S(365) = 2/3 * 1/2 = 1/3: median 365, q1 10, q3 not reached (S stays 1/3 > 0.25)
    assert (row["q1"], row["median"]) == (10, 365) and np.isnan(row["q3"])
    assert row["suppressed"]  # 3 episodes: below the threshold of 10


# ------------------------------------------------------------------ Kaplan-Meier (survival)
# JB episodes, reference date 2023-03-01 (given):
#   p1 GI1 2023-01-01..2023-01-10   ended, 10 days (end - start + 1)
#   p2 GI1 2023-01-01..2023-01-20   ended, 20 days
#   p3 GI1 2023-02-20..running      censored at the reference date: 2023-03-01 - 2023-02-20 + 1 = 10 days
# Product-limit by hand: at t=10 one event, at risk 3 (the censored one at the tied time is at risk)
# -> S = 2/3; at t=20 one event, at risk 1 -> S = 0.  q1 = 10 (S <= .75), median = 20 (S <= .5), q3 = 20.
# (Dropping p3 would give median 10; treating it as ended at 10 days would also give 10.)
KM_ROWS = [
    T("p1", "k1", "GI1", "jb", "ots", "2023-01-01", "2023-01-10", "volgens_plan"),
    T("p2", "k2", "GI1", "jb", "ots", "2023-01-01", "2023-01-20", "volgens_plan"),
    T("p3", "k3", "GI1", "jb", "ots", "2023-02-20", None, None),
]


def test_kaplan_meier_censors_running_episodes_at_reference_date():
    out = survival.episode_durations(toy_dataset(KM_ROWS, reference_date="2023-03-01"))
    r = out[(out["scope"] == "national") & (out["period"] == "2023") & (out["care_type"] == "jb")]
    assert len(r) == 1
    r = r.iloc[0]
    assert (r["n"], r["events"], r["censored"]) == (3, 2, 1)
    assert (r["q1"], r["median"], r["q3"]) == (10.0, 20.0, 20.0)
    assert bool(r["suppressed"])  # n = 3 < 10


def test_kaplan_meier_censoring_moves_with_the_reference_date():
    # same data, reference 2023-04-30: p3 now runs 70 days (censored) and outlives p1, p2.
    # t=10: d=1, n=3 -> 2/3; t=20: d=1, n=2 -> 1/3; median = 20 (first S <= .5), q3 not reached
    # (S never falls to .25: the last unit is censored) -> NaN.
    out = survival.episode_durations(toy_dataset(KM_ROWS, reference_date="2023-04-30"))
    r = out[(out["scope"] == "national") & (out["period"] == "2023")].iloc[0]
    assert (r["events"], r["censored"], r["median"]) == (2, 1, 20.0)
    assert np.isnan(r["q3"])
