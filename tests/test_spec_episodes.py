"""Specification: docs/indicators.md, section "Episodes, periods and windows (apply to every indicator)".

Hand-counted toy data against the spec sentences on:

- chaining: "Records of one youth are chained into episodes *within one family*: JB and JR together form
  one family, jeugdhulp another"; "a record joins the current episode when it starts at most 1 day
  after the **latest end so far** in that episode (overlaps included); a record with no end keeps the
  episode open"; "The institution of an episode is the one where it ended"; pi07 / pi08 chain the JB
  records on their own and pi09 the JR records (a JR measure neither continues nor ends a JB
  episode), herhaald beroep and jbjr_verloop keep the JB+JR family; ``transfer_gi`` is a hand-over,
  not concurrent care;
- per-youth follow-up indicators: herhaald beroep ("a continuation, never a new start. Counted per
  youth, from the last episode that ended in the period; the institution is the one where the episode
  ended"); "Per-youth indicators count each youth once per institution and period, from their last
  episode that ended there in the period; the national figure counts each youth once"; geen nieuwe
  start / pi05 ("episodes are built as for herhaald beroep"); pi08 ("JB episodes and new JB measures
  only"); pi06: care that started before the end is concurrent care, not follow-up care;
- windows: "counts only records whose window has fully passed before the reference date ... The output
  carries window_months and excluded_window"; a group whose every unit is left out keeps a row with
  ``denominator = 0`` and ``excluded_window``, for every windowed indicator;
- periods: a year or a half year; reference date "given by the user, else the latest date in the data".
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis import registry
from outcome_analysis.episodes import chain
from outcome_analysis.indicators import compute, records
from toydata import frame, toy_dataset
from toydata import trajectory as T

REF = "2025-12-31"


# ------------------------------------------------------------------ chaining
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
CHAIN_ROWS = [
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
    t = frame("trajectories", CHAIN_ROWS).sample(frac=1.0, random_state=3).reset_index(drop=True)
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


# ------------------------------------------------------------------ per-youth follow-up, windows, periods
ROWS = [
    # k1: JB episode ends at A 2023-03-31; a NEW JR measure at B 2023-09-01 (5 months later) -> counts
    #     for A (JB/JR one family). The JR episode ends at B 2023-10-31 with nothing after -> 0 for B.
    #     Nationally k1's last episode of 2023 is the B one -> 0.
    T("k1a", "k1", "A", "jb", "ots", "2022-06-01", "2023-03-31", "volgens_plan"),
    T("k1b", "k1", "B", "jr", "tb_gedwongen", "2023-09-01", "2023-10-31", "volgens_plan"),
    # k2: vOTS -> OTS the next day: a continuation, one episode ending at A 2023-06-30, no new start -> 0
    T("k2a", "k2", "A", "jb", "vots", "2023-01-01", "2023-02-28", "volgens_plan"),
    T("k2b", "k2", "A", "jb", "ots", "2023-03-01", "2023-06-30", "niet_verlengd"),
    # k3: JB ends at A 2023-05-31; then jeugdhulp at P (never a new JB/JR measure) -> 0
    T("k3a", "k3", "A", "jb", "ots", "2022-06-01", "2023-05-31", "volgens_plan"),
    T("k3b", "k3", "P", "jeugdhulp", "ambulant", "2023-07-01", "2023-12-31", "volgens_plan"),
    # k4: JB ends at A 2023-02-28; new JB 2024-02-15 (< 2024-02-28 = end + 12 months) -> 1 at 12 and 24.
    #     The new one ends at A 2024-04-30: 2024 episode, nothing after -> 0 at 12;
    #     at 24 its window (2026-04-30) has not passed -> excluded.
    T("k4a", "k4", "A", "jb", "ots", "2022-06-01", "2023-02-28", "volgens_plan"),
    T("k4b", "k4", "A", "jb", "ots", "2024-02-15", "2024-04-30", "volgens_plan"),
    # k5: JB ends at A 2023-02-28; new JB 2024-06-01 (15 months) -> 0 at 12, 1 at 24.
    #     The new one ends at A 2024-08-31 -> 0 at 12; excluded at 24 (2026-08-31 > REF).
    T("k5a", "k5", "A", "jb", "ots", "2022-06-01", "2023-02-28", "volgens_plan"),
    T("k5b", "k5", "A", "jb", "ots", "2024-06-01", "2024-08-31", "volgens_plan"),
    # k6: JB ends at A 2025-03-31: end + 12 months = 2026-03-31 > REF -> excluded_window
    T("k6a", "k6", "A", "jb", "ots", "2024-06-01", "2025-03-31", "volgens_plan"),
    # k7: two episodes ending at A in 2023 (02-28 and 11-30); the LAST one counts: nothing after -> 0
    #     (the first one would have counted 1).
    T("k7a", "k7", "A", "jb", "ots", "2022-06-01", "2023-02-28", "volgens_plan"),
    T("k7b", "k7", "A", "jb", "ots", "2023-04-01", "2023-11-30", "volgens_plan"),
    # jeugdhulp youths (geen nieuwe start)
    # m1: ambulant -> verblijf the next day (change of care form): one episode ending 2023-06-30 at P -> 1
    T("m1a", "m1", "P", "jeugdhulp", "ambulant", "2023-01-01", "2023-03-31", "volgens_plan"),
    T("m1b", "m1", "P", "jeugdhulp", "verblijf", "2023-04-01", "2023-06-30", "volgens_plan"),
    # m2: ends at P 2023-03-31, new jeugdhulp at Q 2023-10-01..2023-12-31 -> P: 0 (new start); Q: 1;
    #     nationally the last episode is the Q one -> 1
    T("m2a", "m2", "P", "jeugdhulp", "ambulant", "2023-01-01", "2023-03-31", "volgens_plan"),
    T("m2b", "m2", "Q", "jeugdhulp", "ambulant", "2023-10-01", "2023-12-31", "volgens_plan"),
    # m3: jeugdhulp ends at P 2023-05-31, then a JB measure at A (another family: not a new jeugdhulp
    #     start) -> 1.  Its JB episode ends at A 2023-09-30 with nothing after -> herhaald beroep 0.
    T("m3a", "m3", "P", "jeugdhulp", "ambulant", "2023-01-01", "2023-05-31", "volgens_plan"),
    T("m3b", "m3", "A", "jb", "ots", "2023-07-01", "2023-09-30", "volgens_plan"),
]
# Herhaald beroep, A 2023 (12 months): k1 1, k2 0, k3 0, k4 1, k5 0, k7 0, m3 0 -> 2 / 7
#                  A 2023 (24 months): k1 1, k2 0, k3 0, k4 1, k5 1, k7 0, m3 0 -> 3 / 7
#                  B 2023: k1 0 -> 0 / 1 (both windows)
#                  national 2023 (12): k1 0 (last = B), k4 1, others 0 -> 1 / 7; (24): k4, k5 -> 2 / 7
#                  A 2024 (12): k4 0, k5 0 -> 0 / 2; (24): both excluded -> 0 / 0, excluded 2
#                  A 2025 (12): k6 excluded -> 0 / 0, excluded 1
# pi08 (no new JB measure; JB episodes only), A 2023: k1 1 (the JR at B is no protection measure),
#      k2 1, k3 1, k4 0, k5 1, k7 1, m3 1 -> 6 / 7; national 2023: k1's only JB episode is the A one -> 6 / 7
# geen nieuwe start, P 2023: m1 1, m2 0, m3 1, k3 1 (its jeugdhulp ends 2023-12-31) -> 3 / 4;
#      Q 2023: m2 1 -> 1 / 1; national 2023: m1, m2 (Q), m3, k3 -> 4 / 4


@pytest.fixture(scope="module")
def out():
    return compute(toy_dataset(ROWS, reference_date=REF),
                   ["jbjr_herhaald_beroep", "pi08_geen_nieuwe_maatregel", "jh_geen_nieuwe_start",
                    "pi05_geen_nieuw_beroep"])


def _row(out, indicator, scope, institution, period, window, care_type=None):
    sel = ((out["indicator"] == indicator) & (out["scope"] == scope) & (out["institution"] == institution)
           & (out["period"] == period) & (out["category"] == "") & (out["window_months"] == window))
    if care_type is not None:
        sel &= out["care_type"] == care_type
    hit = out[sel]
    return hit


def _sum(hit):
    # herhaald beroep rows are split by the care type of the episode's last record: add them up
    return (float(hit["numerator"].sum()), int(hit["denominator"].sum()), int(hit["excluded_window"].sum()))


@pytest.mark.parametrize(
    "scope, institution, period, window, expected",
    [
        ("institution", "A", "2023", 12, (2.0, 7, 0)),
        ("institution", "A", "2023", 24, (3.0, 7, 0)),
        ("institution", "B", "2023", 12, (0.0, 1, 0)),
        ("institution", "B", "2023", 24, (0.0, 1, 0)),
        ("national", "", "2023", 12, (1.0, 7, 0)),
        ("national", "", "2023", 24, (2.0, 7, 0)),
        ("institution", "A", "2024", 12, (0.0, 2, 0)),
        ("institution", "A", "2024", 24, (0.0, 0, 2)),
        ("institution", "A", "2025", 12, (0.0, 0, 1)),
    ],
)
def test_herhaald_beroep(out, scope, institution, period, window, expected):
    assert _sum(_row(out, "jbjr_herhaald_beroep", scope, institution, period, window)) == expected


@pytest.mark.parametrize("scope, institution, expected",
                         [("institution", "A", (6.0, 7, 0)), ("national", "", (6.0, 7, 0))])
def test_pi08_new_jr_is_no_new_protection_measure(out, scope, institution, expected):
    assert _sum(_row(out, "pi08_geen_nieuwe_maatregel", scope, institution, "2023", 12)) == expected


@pytest.mark.parametrize("indicator", ["jh_geen_nieuwe_start", "pi05_geen_nieuw_beroep"])
@pytest.mark.parametrize("scope, institution, expected",
                         [("institution", "P", (3.0, 4, 0)), ("institution", "Q", (1.0, 1, 0)),
                          ("national", "", (4.0, 4, 0))])
def test_geen_nieuwe_start(out, indicator, scope, institution, expected):
    assert _sum(_row(out, indicator, scope, institution, "2023", 12)) == expected


def test_half_years_follow_the_end_date():
    # half years: A 2023H1 holds the episodes ending Jan-Jun: k1 (03-31) 1, k2 (06-30) 0, k3 (05-31) 0,
    # k4 (02-28) 1, k5 (02-28) 0 and k7's FIRST episode (02-28; its second one ends in H2): the next
    # JB starts 2023-04-01 -> 1.  -> 3 / 6.  A 2023H2: k7 (11-30) 0, m3 (09-30) 0 -> 0 / 2.
    out = compute(toy_dataset(ROWS, reference_date=REF), "jbjr_herhaald_beroep", granularity="half_year")
    assert _sum(_row(out, "jbjr_herhaald_beroep", "institution", "A", "2023H1", 12)) == (3.0, 6, 0)
    assert _sum(_row(out, "jbjr_herhaald_beroep", "institution", "A", "2023H2", 12)) == (0.0, 2, 0)


def test_window_boundary_is_end_plus_months():
    # end 2023-02-28 + 12 months = 2024-02-28: a new measure starting exactly then counts, one day
    # later does not.  Reference date exactly end + 12 months: the window has passed (not excluded).
    rows = [T("a", "k1", "A", "jb", "ots", "2022-01-01", "2023-02-28", "volgens_plan"),
            T("b", "k1", "A", "jb", "ots", "2024-02-28", "2024-03-31", "volgens_plan"),
            T("c", "k2", "A", "jb", "ots", "2022-01-01", "2023-02-28", "volgens_plan"),
            T("d", "k2", "A", "jb", "ots", "2024-02-29", "2024-03-31", "volgens_plan")]
    out = compute(toy_dataset(rows, reference_date="2025-12-31"), "jbjr_herhaald_beroep")
    assert _sum(_row(out, "jbjr_herhaald_beroep", "national", "", "2023", 12)) == (1.0, 2, 0)
    rows2 = [T("e", "k3", "A", "jb", "ots", "2022-01-01", "2023-02-28", "volgens_plan")]
    out2 = compute(toy_dataset(rows2, reference_date="2024-02-28"), "jbjr_herhaald_beroep")
    assert _sum(_row(out2, "jbjr_herhaald_beroep", "national", "", "2023", 12)) == (0.0, 1, 0)
    out3 = compute(toy_dataset(rows2, reference_date="2024-02-27"), "jbjr_herhaald_beroep")
    assert _sum(_row(out3, "jbjr_herhaald_beroep", "national", "", "2023", 12)) == (0.0, 0, 1)


def test_reference_date_defaults_to_latest_date_in_the_data():
    # latest date anywhere in the trajectories: first_contact_date 2025-04-15 > every start/end date
    rows = [T("a", "k1", "A", "jb", "ots", "2024-01-01", "2025-03-31", "volgens_plan",
              first_contact_date="2025-04-15"),
            T("b", "k2", "A", "jb", "ots", "2024-02-01", None, None)]
    assert toy_dataset(rows).reference_date == pd.Timestamp("2025-04-15")
    rows[0]["first_contact_date"] = None
    assert toy_dataset(rows).reference_date == pd.Timestamp("2025-03-31")


# ------------------------------------------------------------------ families, windows, hand-overs, concurrent care
def sel(out, indicator, category="", scope="national", institution="", period="2023", care_type=None):
    s = ((out["indicator"] == indicator) & (out["scope"] == scope) & (out["institution"] == institution)
         & (out["period"] == period) & (out["category"] == category))
    if care_type is not None:
        s &= out["care_type"] == care_type
    return out[s]


def nd(rows):
    return float(rows["numerator"].sum()), int(rows["denominator"].sum())


# ------------------------------------------------------------------ JB episodes under a JR measure
# k1: OTS GI1 2022-01-01..2023-03-01 (volgens_plan) while a JR at GI1 runs 2022-06-01..2023-12-31.
#     JB alone: one JB episode ending 2023-03-01 at GI1, regular, JR during it; no new JB -> pi08 1.
# k2: OTS GI1 2022-01-01..2022-12-31 (volgens_plan); JR at GI1 2022-06-01..2023-12-31; a new OTS at
#     GI1 2023-06-01..2023-09-30 (volgens_plan) while the JR runs.
#     JB alone: episode A ends 2022-12-31 (new JB 2023-06-01 within 12 months -> pi08 0),
#     episode B ends 2023-09-30 (nothing after -> pi08 1); both with a JR during them.
# k3: vOTS GI1 2023-01-01..03-31 -> OTS GI2 04-01..2023-10-31 (niet_verlengd); a JR at GI1
#     2023-02-01..2024-06-30.  JB alone: one episode vots->ots, transferred to GI2, ended at GI2.
# JB+JR family (herhaald beroep, jbjr_verloop): k1 and k2 one episode each ending 2023-12-31 as JR,
#     k3 one episode ending 2024-06-30 as JR; no JB episode ends.
# pi07 national 2023: k1, k2B, k3 -> regular 3/3; end_reason:volgens_plan 2/3, niet_verlengd 1/3;
#     transition:jb_jr_concurrent 3/3, vots_ots 1/3, transfer_gi 1/3.  2022: k2A 1/1.
#     GI1 2023: k1, k2B -> 2/2; GI2 2023: k3 -> 1/1.
# pi08 national 2023: k1 1, k2B 1, k3 1 -> 3/3;  2022: k2A 0 -> 0/1.
JB_JR = [
    T("k1j", "k1", "GI1", "jb", "ots", "2022-01-01", "2023-03-01", "volgens_plan"),
    T("k1r", "k1", "GI1", "jr", "tb_gedwongen", "2022-06-01", "2023-12-31", "volgens_plan"),
    T("k2j", "k2", "GI1", "jb", "ots", "2022-01-01", "2022-12-31", "volgens_plan"),
    T("k2r", "k2", "GI1", "jr", "stp", "2022-06-01", "2023-12-31", "volgens_plan"),
    T("k2k", "k2", "GI1", "jb", "ots", "2023-06-01", "2023-09-30", "volgens_plan"),
    T("k3v", "k3", "GI1", "jb", "vots", "2023-01-01", "2023-03-31", "volgens_plan"),
    T("k3o", "k3", "GI2", "jb", "ots", "2023-04-01", "2023-10-31", "niet_verlengd"),
    T("k3r", "k3", "GI1", "jr", "stp", "2023-02-01", "2024-06-30", "volgens_plan"),
]


@pytest.fixture(scope="module")
def jb_jr():
    return compute(toy_dataset(JB_JR, reference_date=REF),
                   ["pi07_reden_beeindiging_jb", "pi08_geen_nieuwe_maatregel", "jbjr_herhaald_beroep", "jbjr_verloop"])


@pytest.mark.parametrize("category, period, scope, institution, expected", [
    ("", "2023", "national", "", (3.0, 3)),
    ("", "2022", "national", "", (1.0, 1)),
    ("", "2023", "institution", "GI1", (2.0, 2)),
    ("", "2023", "institution", "GI2", (1.0, 1)),
    ("end_reason:volgens_plan", "2023", "national", "", (2.0, 3)),
    ("end_reason:niet_verlengd", "2023", "national", "", (1.0, 3)),
    ("transition:jb_jr_concurrent", "2023", "national", "", (3.0, 3)),
    ("transition:vots_ots", "2023", "national", "", (1.0, 3)),
    ("transition:transfer_gi", "2023", "national", "", (1.0, 3)),
])
def test_pi07_counts_jb_episodes_ended_under_a_jr(jb_jr, category, period, scope, institution, expected):
    assert nd(sel(jb_jr, "pi07_reden_beeindiging_jb", category, scope, institution, period, "jb")) == expected


@pytest.mark.parametrize("period, expected", [("2023", (3.0, 3)), ("2022", (0.0, 1))])
def test_pi08_new_jb_measure_during_a_jr_is_a_new_measure(jb_jr, period, expected):
    assert nd(sel(jb_jr, "pi08_geen_nieuwe_maatregel", period=period, care_type="jb")) == expected


def test_pi07_units_are_jb_episodes():
    r = records(toy_dataset(JB_JR, reference_date=REF), "pi07_reden_beeindiging_jb")
    head = r[r["category"] == ""].sort_values("unit_id")
    # unit = the JB episode's first record; institution = where the JB episode ended
    assert head[["unit_id", "institution", "care_type"]].values.tolist() == [
        ["k1j", "GI1", "jb"], ["k2j", "GI1", "jb"], ["k2k", "GI1", "jb"], ["k3v", "GI2", "jb"]]


def test_herhaald_beroep_and_verloop_keep_the_jb_jr_family(jb_jr):
    # every JB+JR episode ends as JR: 2023 k1, k2 (the new OTS is inside the JR: no new start); 2024 k3
    assert nd(sel(jb_jr, "jbjr_herhaald_beroep", care_type="jr").query("window_months == 12")) == (0.0, 2)
    assert not len(sel(jb_jr, "jbjr_herhaald_beroep", period="2022"))
    assert not len(jb_jr[(jb_jr["indicator"] == "jbjr_verloop") & (jb_jr["care_type"] == "jb")])
    assert nd(sel(jb_jr, "jbjr_verloop", care_type="jr")) == (2.0, 2)
    assert nd(sel(jb_jr, "jbjr_verloop", period="2024", care_type="jr")) == (1.0, 1)


def test_pi07_pi08_definitions_say_jb_records_alone():
    for ind in ("pi07_reden_beeindiging_jb", "pi08_geen_nieuwe_maatregel"):
        e = registry.get(ind)
        assert "JR" in e.definition_nl and "JR" in e.definition_en


# ------------------------------------------------------------------ every unit of a group excluded
def test_pi06_group_with_every_unit_excluded_keeps_a_row():
    # v1: voogdij ends 2025-10-31, window to 2026-01-31 > REF: excluded.  a1: ambulant ends 2024-05-01,
    # nothing after -> none (a normal cell, no empty-group row for P 2024).
    rows = [T("v1", "k1", "GI", "jb", "voogdij", "2024-01-01", "2025-10-31", "meerderjarig"),
            T("a1", "k2", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-05-01", "volgens_plan")]
    out = compute(toy_dataset(rows, reference_date=REF), "pi06_zwaarte_vervolghulp")
    for scope, institution in (("national", ""), ("institution", "GI")):
        r = sel(out, "pi06_zwaarte_vervolghulp", "", scope, institution, "2025", "jb")
        assert len(r) == 1
        r = r.iloc[0]
        assert (r["numerator"], r["denominator"], r["excluded_window"], r["window_months"]) == (0.0, 0, 1, 3)
        assert np.isnan(r["value"]) and bool(r["suppressed"])
    p = out[(out["institution"] == "P")]
    assert p["category"].tolist() == ["follow_up:none"]


WINDOWED = {  # indicator -> rows whose only unit (k1) ends 2025-10-31: every window still open
    "jbjr_herhaald_beroep": [T("j", "k1", "GI", "jb", "ots", "2024-01-01", "2025-10-31", "volgens_plan")],
    "pi08_geen_nieuwe_maatregel": [T("j", "k1", "GI", "jb", "ots", "2024-01-01", "2025-10-31", "volgens_plan")],
    "jh_geen_nieuwe_start": [T("h", "k1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2025-10-31", "volgens_plan")],
    "pi05_geen_nieuw_beroep": [T("h", "k1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2025-10-31", "volgens_plan")],
    "pi06_zwaarte_vervolghulp": [T("h", "k1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2025-10-31", "volgens_plan")],
    "pi10_geen_recidive": [T("r", "k1", "GI", "jr", "stp", "2024-01-01", "2025-10-31", "volgens_plan")],
}


def test_every_windowed_indicator_is_listed():
    assert set(WINDOWED) == {e.id for e in registry.REGISTRY.values() if e.window_setting}


@pytest.mark.parametrize("indicator", sorted(WINDOWED))
def test_windowed_indicator_reports_a_fully_excluded_group(indicator):
    out = compute(toy_dataset(WINDOWED[indicator], reference_date=REF), indicator)
    for scope in ("institution", "national"):
        r = out[(out["scope"] == scope) & (out["period"] == "2025") & (out["category"] == "")]
        assert len(r) >= 1
        assert (r["denominator"] == 0).all() and (r["excluded_window"] == 1).all() and r["suppressed"].all()


# ------------------------------------------------------------------ transfer_gi
@pytest.mark.parametrize("rows, transfer, concurrent", [
    # JR at GI2 inside an OTS at GI1: concurrent care, the episode stays at GI1
    ([T("j", "k", "GI1", "jb", "ots", "2023-01-01", "2023-12-31", "volgens_plan"),
      T("r", "k", "GI2", "jr", "stp", "2023-03-01", "2023-04-30", "volgens_plan")], False, True),
    # vOTS at GI1, OTS at GI2 the next day: a transfer
    ([T("v", "k", "GI1", "jb", "vots", "2023-01-01", "2023-03-31", "volgens_plan"),
      T("o", "k", "GI2", "jb", "ots", "2023-04-01", "2023-12-31", "volgens_plan")], True, False),
    # OTS GI1 (JR at GI2 nested in it), then an OTS at GI2 the day after the GI1 OTS ended: a transfer
    ([T("j", "k", "GI1", "jb", "ots", "2023-01-01", "2023-06-30", "volgens_plan"),
      T("r", "k", "GI2", "jr", "stp", "2023-02-01", "2023-03-31", "volgens_plan"),
      T("o", "k", "GI2", "jb", "ots", "2023-07-01", "2023-12-31", "volgens_plan")], True, True),
    # overlapping hand-over: the GI2 OTS starts before the GI1 OTS ended -> concurrent, no transfer
    ([T("j", "k", "GI1", "jb", "ots", "2023-01-01", "2023-04-15", "volgens_plan"),
      T("o", "k", "GI2", "jb", "ots", "2023-04-01", "2023-12-31", "volgens_plan")], False, False),
    # OTS at GI1 then OTS at GI1 again the next day: same institution, no transfer
    ([T("a", "k", "GI1", "jb", "ots", "2023-01-01", "2023-03-31", "volgens_plan"),
      T("b", "k", "GI1", "jb", "ots", "2023-04-01", "2023-12-31", "volgens_plan")], False, False),
], ids=["nested-jr", "vots-ots-transfer", "transfer-after-nested-jr", "overlapping-handover", "same-gi"])
def test_transfer_gi_is_a_hand_over(rows, transfer, concurrent):
    ep = chain(frame("trajectories", rows)).episodes
    assert len(ep) == 1
    assert bool(ep["transfer_gi"].iloc[0]) is transfer
    assert bool(ep["jb_jr_concurrent"].iloc[0]) is concurrent


def test_nested_jr_at_another_gi_is_no_transfer_in_verloop():
    rows = [T("j", "k", "GI1", "jb", "ots", "2023-01-01", "2023-12-31", "volgens_plan"),
            T("r", "k", "GI2", "jr", "stp", "2023-03-01", "2023-04-30", "volgens_plan")]
    out = compute(toy_dataset(rows, reference_date=REF), "jbjr_verloop")
    assert not len(sel(out, "jbjr_verloop", "transition:transfer_gi"))
    assert nd(sel(out, "jbjr_verloop", "transition:jb_jr_concurrent")) == (1.0, 1)


# ------------------------------------------------------------------ pi06 overlapping care
def test_pi06_care_started_before_the_end_is_no_follow_up():
    # ambulant 2023-01-01..06-30; verblijf starts 2023-06-01 (before the ambulant ends): concurrent care,
    # so the ambulant has no follow-up ("none"); the verblijf ends 2023-12-31 with nothing after: none.
    rows = [T("h1", "k1", "P", "jeugdhulp", "ambulant", "2023-01-01", "2023-06-30", "volgens_plan"),
            T("h2", "k1", "P", "jeugdhulp", "verblijf", "2023-06-01", "2023-12-31", "volgens_plan")]
    out = compute(toy_dataset(rows, reference_date=REF), "pi06_zwaarte_vervolghulp")
    assert not len(sel(out, "pi06_zwaarte_vervolghulp", "follow_up:heavier"))
    assert nd(sel(out, "pi06_zwaarte_vervolghulp", "follow_up:none")) == (2.0, 2)
    e = registry.get("pi06_zwaarte_vervolghulp")
    assert "gelijktijdige" in e.definition_nl and "concurrent" in e.definition_en


def test_pi06_follow_up_starting_on_the_end_day_counts():
    # the verblijf starts on the ambulant's last day: on or after the end -> heavier
    rows = [T("h1", "k1", "P", "jeugdhulp", "ambulant", "2023-01-01", "2023-06-30", "volgens_plan"),
            T("h2", "k1", "P", "jeugdhulp", "verblijf", "2023-06-30", "2023-12-31", "volgens_plan")]
    out = compute(toy_dataset(rows, reference_date=REF), "pi06_zwaarte_vervolghulp")
    assert nd(sel(out, "pi06_zwaarte_vervolghulp", "follow_up:heavier")) == (1.0, 2)


def test_pi09_counts_a_jr_that_ends_while_a_jb_measure_runs():
    """Mirror of the pi07 fix: JR measures chained on their own.

    k1: JR (tb_gedwongen) at GI-A 2023-01-01 .. 2023-06-30, volgens_plan, inside an OTS 2022-01-01 ..
    2024-06-30. In the JB+JR chain the JR would vanish inside the OTS episode; chained on its own it
    is one ended JR episode of 2023 with end reason volgens_plan: 1 of 1.
    """
    from outcome_analysis.indicators import compute
    from toydata import toy_dataset

    base = dict(client_id="k1", institution="GI-A", birth_year=2008)
    rows = [
        dict(base, trajectory_id="ots", care_type="jb", care_form="ots", start_date="2022-01-01",
             end_date="2024-06-30", end_reason="volgens_plan"),
        dict(base, trajectory_id="jr", care_type="jr", care_form="tb_gedwongen", start_date="2023-01-01",
             end_date="2023-06-30", end_reason="volgens_plan"),
    ]
    out = compute(toy_dataset(rows, reference_date="2024-12-31"), "pi09_reden_beeindiging_jr")
    row = out[(out["scope"] == "national") & (out["period"] == "2023")
              & (out["category"] == "end_reason:volgens_plan")].iloc[0]
    assert (row["numerator"], row["denominator"]) == (1, 1)
