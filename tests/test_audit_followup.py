"""Audit: per-youth follow-up indicators and periods (indicators.md, sets A/B/C and "Episodes, periods
and windows").

Spec sentences checked:

- herhaald beroep: "share of youths whose JB/JR episode ended in the period and who start a new JB or
  JR measure within 12 months of that end (24 also reported) ... a continuation, never a new start.
  Counted per youth, from the last episode that ended in the period; the institution is the one
  where the episode ended";
- "Per-youth indicators count each youth once per institution and period, from their last episode
  that ended there in the period; the national figure counts each youth once";
- windows: "counts only records whose window has fully passed before the reference date ... The
  output carries window_months and excluded_window";
- geen nieuwe start / pi05: "no new jeugdhulp trajectory starting within 12 months; episodes are built
  as for herhaald beroep (a next trajectory within 1 day is a continuation, e.g. a change of care form)";
- pi08: "JB episodes and new JB measures only";
- periods: a year or a half year; reference date "given by the user, else the latest date in the data".
"""
from __future__ import annotations

import pandas as pd
import pytest

from outcome_analysis.indicators import compute
from toydata import toy_dataset


def T(tid, client, inst, care_type, form, start, end=None, reason=None, **items):
    return {"trajectory_id": tid, "client_id": client, "institution": inst, "care_type": care_type,
            "care_form": form, "start_date": start, "end_date": end, "end_reason": reason,
            "birth_year": 2010, **items}


REF = "2025-12-31"
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
