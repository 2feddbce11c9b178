"""Audit: episode chaining (indicators.md, "Episode") and Kaplan-Meier durations (survival).

Independent hand-counted checks of the spec sentences:

- "Records of one youth are chained into episodes *within one family*: JB and JR together form one
  family, jeugdhulp another";
- "a record joins the current episode when it starts at most 1 day after the **latest end so far**
  in that episode (overlaps included); a record with no end keeps the episode open";
- "The institution of an episode is the one where it ended";
- verloop: "Kaplan-Meier for those still running" (survival.episode_durations: running episodes
  censored at the reference date).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis import survival
from outcome_analysis.episodes import chain
from toydata import frame, toy_dataset


def T(tid, client, inst, care_type, form, start, end=None, reason=None):
    return {"trajectory_id": tid, "client_id": client, "institution": inst, "care_type": care_type,
            "care_form": form, "start_date": start, "end_date": end, "end_reason": reason, "birth_year": 2010}


# One youth (k1) with records in both families, and a second youth (k2) with the same dates to
# check that chaining never crosses youths.
#
# JB/JR family of k1 (sorted by start):
#   e1 vots GI1 2023-01-01..2023-01-31
#   e2 ots  GI1 2023-02-01..2023-12-31   starts end(e1)+1 day            -> joins   (latest end 12-31)
#   e3 jr   GI2 2023-03-01..2023-04-30   nested inside e2                -> joins   (latest end stays 12-31)
#   e5 jr   GI2 2023-08-01..2023-09-30   3 months after e3's end, but before the latest end -> joins
#   e4 ots  GI2 2024-01-02..2024-03-31   starts 2 days after 12-31       -> NEW episode
#   => episode X = {e1, e2, e3, e5}: start 2023-01-01, end 2023-12-31, ended at GI1 (e2 ends last,
#      although e3/e5 at GI2 started later), last record e2, 4 records;
#      episode Y = {e4}: ended at GI2.
# jeugdhulp family of k1:
#   h1 ambulant Z1 2023-06-01..2024-01-01 (overlaps the JB episode but never joins it)
#   h2 daghulp  Z2 2024-01-02..open        starts end(h1)+1 -> joins; open
#   h3 ambulant Z1 2024-06-01..2024-07-01  starts while h2 runs -> joins
#   => episode W = {h1, h2, h3}: open (end NaT), institution Z2 (the open record)
# k2: one OTS with the same dates as e1 -> its own episode.
ROWS = [
    T("e1", "k1", "GI1", "jb", "vots", "2023-01-01", "2023-01-31", "volgens_plan"),
    T("e2", "k1", "GI1", "jb", "ots", "2023-02-01", "2023-12-31", "niet_verlengd"),
    T("e3", "k1", "GI2", "jr", "tb_gedwongen", "2023-03-01", "2023-04-30", "volgens_plan"),
    T("e5", "k1", "GI2", "jr", "stp", "2023-08-01", "2023-09-30", "volgens_plan"),
    T("e4", "k1", "GI2", "jb", "ots", "2024-01-02", "2024-03-31", "volgens_plan"),
    T("h1", "k1", "Z1", "jeugdhulp", "ambulant", "2023-06-01", "2024-01-01", "volgens_plan"),
    T("h2", "k1", "Z2", "jeugdhulp", "daghulp", "2024-01-02", None, None),
    T("h3", "k1", "Z1", "jeugdhulp", "ambulant", "2024-06-01", "2024-07-01", "volgens_plan"),
    T("x1", "k2", "GI3", "jb", "vots", "2023-01-01", "2023-01-31", "volgens_plan"),
]


@pytest.fixture(scope="module")
def chained():
    # shuffle the input order: the result may not depend on it
    t = frame("trajectories", ROWS).sample(frac=1.0, random_state=3).reset_index(drop=True)
    return t, chain(t)


def _members(chained) -> dict[str, frozenset]:
    t, ch = chained
    groups = t.groupby(ch.record_episode.to_numpy())["trajectory_id"].apply(lambda s: frozenset(s.astype(str)))
    return {min(g): g for g in groups}


def test_episode_membership(chained):
    # hand-counted above
    assert set(_members(chained).values()) == {
        frozenset({"e1", "e2", "e3", "e5"}), frozenset({"e4"}),
        frozenset({"h1", "h2", "h3"}), frozenset({"x1"}),
    }


def test_episode_rows(chained):
    _, ch = chained
    ep = ch.episodes.set_index("first_trajectory_id")
    x = ep.loc["e1"]
    assert (x["trajectory_id"], x["institution"], x["n_records"]) == ("e2", "GI1", 4)
    assert (x["start_date"], x["end_date"]) == (pd.Timestamp("2023-01-01"), pd.Timestamp("2023-12-31"))
    assert str(x["family"]) == "jbjr" and x["end_reason"] == "niet_verlengd"
    assert bool(x["vots_ots"]) and bool(x["jb_jr_concurrent"])
    y = ep.loc["e4"]
    assert (y["institution"], y["n_records"]) == ("GI2", 1)
    w = ep.loc["h1"]
    assert pd.isna(w["end_date"]), "an open record keeps the episode open"
    assert (w["trajectory_id"], w["institution"], w["n_records"], str(w["family"])) == ("h2", "Z2", 3, "jeugdhulp")
    assert ep.loc["x1", "client_id"] == "k2"


@pytest.mark.parametrize("gap_days, same", [(0, True), (1, True), (2, False), (30, False)],
                         ids=["same-day", "next-day", "two-days", "a-month"])
def test_gap_of_exactly_one_day(gap_days, same):
    # a: 2023-01-01..2023-06-30; b starts 30 June + gap_days. "at most 1 day after the latest end".
    b_start = (pd.Timestamp("2023-06-30") + pd.Timedelta(days=gap_days)).strftime("%Y-%m-%d")
    t = frame("trajectories", [T("a", "k", "GI1", "jb", "ots", "2023-01-01", "2023-06-30", "volgens_plan"),
                               T("b", "k", "GI1", "jb", "voogdij", b_start, "2023-12-31", "meerderjarig")])
    ep = chain(t).record_episode.tolist()
    assert (ep[0] == ep[1]) is same


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
