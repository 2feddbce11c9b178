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


def test_quantile_not_reached_is_nan():
    # one event at t=1 of 4 at risk, then only censoring: S = 0.75 from t=1 on and never lower
    row = km_quantiles([1, 2, 3, 4], [True, False, False, False]).iloc[0]
    assert row["q1"] == 1 and np.isnan(row["median"]) and np.isnan(row["q3"])


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
