"""Episode- and youth-based indicators on hand-countable toy data (herhaald beroep, verloop, ...)."""
from __future__ import annotations

import pytest

from outcome_analysis.indicators import compute
from test_indicators import T, check, row
from toydata import toy_dataset

# ---------------------------------------------------------------- herhaald beroep, reference 2024-12-31
# k1: vOTS GI1 -> OTS GI2 the next day (continuation + transfer: NOT a new start), episode ends
#     2022-12-31 at GI2; a new OTS 2023-06-01 (within 12 months) -> herhaald; that one ends 2023-12-31
#     (12-month window to 2024-12-31 has passed: no new start -> 0; 24 months: excluded)
# k2: OTS + overlapping JR (one episode) ends 2022-11-15 as JR at GI1; new JR 2024-03-01:
#     not within 12 months, within 24 -> 0 at 12, 1 at 24; that JR ends 2024-06-30 -> excluded
# k3: OTS ends 2022-08-31 at GI1; jeugdhulp beside and after it is no new JB/JR measure -> 0
# k4: three trajectories, three episodes, all ending 2022 at GI1: counted once, from the last
#     (ends 2022-12-31, nothing after) -> 0
# k6: JR at GI1 ends 2022-02-28, new JR at GI2 2022-06-01..2022-08-31: GI1 counts 1 (new start),
#     GI2 counts 0, national counts the youth once from the last episode -> 0
# k5: OTS ends 2024-06-30 -> window not passed -> excluded
HB = [
    T("a1", "k1", "GI1", "jb", "vots", "2022-01-10", "2022-03-31", "volgens_plan"),
    T("a2", "k1", "GI2", "jb", "ots", "2022-04-01", "2022-12-31", "niet_verlengd"),
    T("a3", "k1", "GI2", "jb", "ots", "2023-06-01", "2023-12-31", "volgens_plan"),
    T("b1", "k2", "GI1", "jb", "ots", "2022-01-01", "2022-10-31", "volgens_plan"),
    T("b2", "k2", "GI1", "jr", "tb_gedwongen", "2022-09-01", "2022-11-15", "volgens_plan"),
    T("b3", "k2", "GI1", "jr", "stp", "2024-03-01", "2024-06-30", "volgens_plan"),
    T("c1", "k3", "P1", "jeugdhulp", "ambulant", "2022-02-01", "2022-05-31", "volgens_plan"),
    T("c2", "k3", "GI1", "jb", "ots", "2022-03-01", "2022-08-31", "volgens_plan"),
    T("c3", "k3", "P1", "jeugdhulp", "ambulant", "2022-09-15", "2023-01-31", "volgens_plan"),
    T("d1", "k4", "GI1", "jb", "ots", "2022-01-01", "2022-02-28", "volgens_plan"),
    T("d2", "k4", "GI1", "jb", "ots", "2022-06-01", "2022-07-31", "volgens_plan"),
    T("d3", "k4", "GI1", "jb", "voogdij", "2022-09-01", "2022-12-31", "herstel_gezag"),
    T("f1", "k6", "GI1", "jr", "stp", "2022-01-01", "2022-02-28", "volgens_plan"),
    T("f2", "k6", "GI2", "jr", "stp", "2022-06-01", "2022-08-31", "volgens_plan"),
    T("e1", "k5", "GI1", "jb", "ots", "2023-07-01", "2024-06-30", "volgens_plan"),
]


@pytest.fixture(scope="module")
def herhaald():
    return compute(toy_dataset(HB, reference_date="2024-12-31"), "jbjr_herhaald_beroep")


@pytest.mark.parametrize(
    "scope, institution, period, care_type, window, num, den, excluded",
    [
        ("national", "", "2022", "jb", 12, 1, 3, 0),     # k1 1, k3 0, k4 0
        ("national", "", "2022", "jb", 24, 1, 3, 0),
        ("national", "", "2022", "jr", 12, 0, 2, 0),     # k2 0, k6 0 (last episode)
        ("national", "", "2022", "jr", 24, 1, 2, 0),     # k2 1 at 24 months
        ("institution", "GI1", "2022", "jb", 12, 0, 2, 0),  # k3, k4
        ("institution", "GI2", "2022", "jb", 12, 1, 1, 0),  # k1 (ended at GI2 after the transfer)
        ("institution", "GI1", "2022", "jr", 12, 1, 2, 0),  # k2 0, k6 1 (its GI1 episode)
        ("institution", "GI2", "2022", "jr", 12, 0, 1, 0),  # k6 0
        ("national", "", "2023", "jb", 12, 0, 1, 0),     # k1 second episode
        ("national", "", "2023", "jb", 24, 0, 0, 1),
        ("national", "", "2024", "jb", 12, 0, 0, 1),     # k5
        ("national", "", "2024", "jr", 12, 0, 0, 1),     # k2 second episode
    ],
    ids=["jb-12", "jb-24", "jr-12-youth-once", "jr-24", "GI1-jb", "GI2-jb-transfer", "GI1-jr-per-institution",
         "GI2-jr", "2023-12", "2023-24-excluded", "2024-jb-excluded", "2024-jr-excluded"],
)
def test_herhaald_beroep(herhaald, scope, institution, period, care_type, window, num, den, excluded):
    r = row(herhaald, "jbjr_herhaald_beroep", scope=scope, institution=institution, period=period,
            care_type=care_type, window=window)
    check(r, num, den, 0, excluded)


# ---------------------------------------------------------------- pi08: JB episodes, new JB measures
# m1: OTS ends 2023-03-31 at GI1, then a JR measure (not JB) -> no new JB measure: 1
# m2: OTS ends 2023-03-31 at GI1, new OTS at GI2 2023-09-01..2023-10-31: GI1 counts 0, GI2 counts 1,
#     national counts the last episode -> 1.   national 2023 = 2/2, GI1 = 1/2, GI2 = 1/1
PI08 = [
    T("m1", "k1", "GI1", "jb", "ots", "2022-01-01", "2023-03-31", "volgens_plan"),
    T("m2", "k1", "GI1", "jr", "stp", "2023-06-01", "2023-08-31", "volgens_plan"),
    T("n1", "k2", "GI1", "jb", "ots", "2022-01-01", "2023-03-31", "volgens_plan"),
    T("n2", "k2", "GI2", "jb", "ots", "2023-09-01", "2023-10-31", "volgens_plan"),
]


@pytest.mark.parametrize("scope, institution, num, den",
                         [("national", "", 2, 2), ("institution", "GI1", 1, 2), ("institution", "GI2", 1, 1)],
                         ids=["national", "GI1", "GI2"])
def test_geen_nieuwe_maatregel(scope, institution, num, den):
    out = compute(toy_dataset(PI08, reference_date="2024-12-31"), "pi08_geen_nieuwe_maatregel")
    check(row(out, "pi08_geen_nieuwe_maatregel", scope=scope, institution=institution, period="2023",
              care_type="jb"), num, den, 0, 0)


# ---------------------------------------------------------------- geen nieuwe start, reference 2025-12-31
# g1: ambulant -> daghulp the next day (change of care form = continuation), ends 2024-06-30; new
#     ambulant 2024-12-01 (within 12 months) -> 0; that episode ends 2025-02-28 -> 2025 excluded 1
# g2: ends 2024-05-31; an OTS follows (not jeugdhulp) -> 1
# g3: ends 2024-02-29; next jeugdhulp 2025-06-01 (after 2025-02-28) -> 1
# g4: ambulant and an overlapping pleegzorg: one episode ending 2024-10-31 -> 1
# national 2024 = 3/4
GNS = [
    T("g1a", "k1", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-03-31", "volgens_plan"),
    T("g1b", "k1", "A", "jeugdhulp", "daghulp", "2024-04-01", "2024-06-30", "volgens_plan"),
    T("g1c", "k1", "A", "jeugdhulp", "ambulant", "2024-12-01", "2025-02-28", "volgens_plan"),
    T("g2a", "k2", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-05-31", "volgens_plan"),
    T("g2b", "k2", "GI", "jb", "ots", "2024-07-01", "2025-06-30", "volgens_plan"),
    T("g3a", "k3", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-02-29", "volgens_plan"),
    T("g3b", "k3", "A", "jeugdhulp", "ambulant", "2025-06-01", "2025-08-31", "volgens_plan"),
    T("g4a", "k4", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-09-30", "volgens_plan"),
    T("g4b", "k4", "A", "jeugdhulp", "pleegzorg", "2024-03-01", "2024-10-31", "volgens_plan"),
]


@pytest.mark.parametrize("indicator", ["jh_geen_nieuwe_start", "pi05_geen_nieuw_beroep"])
def test_geen_nieuwe_start(indicator):
    out = compute(toy_dataset(GNS, reference_date="2025-12-31"), indicator)
    check(row(out, indicator), 3, 4, 0, 0)
    check(row(out, indicator, period="2025"), 0, 0, 0, 2)  # g1c, and g3b (ends 2025-08-31)


# ---------------------------------------------------------------- verloop, pi07, pi09 (episodes)
# jb episodes ended 2024: v1 vOTS->OTS (one episode) volgens_plan: regular; v2 OTS onbekend: missing;
# v3 voogdij overleden: out of the headline; v4 voogdij naar_pleegouder: regular; v5 OTS meerderjarig:
# not regular for OTS.  headline 2/3, missing 1.  end_reason distribution 5 episodes; transitions:
# vots_ots 1/5, voogdij_pleegouder 1/5, none 3/5.  jr: volgens_plan (regular), terugmelding -> 1/2.
VL = [
    T("v1a", "k1", "GI1", "jb", "vots", "2023-01-01", "2023-03-31", "volgens_plan"),
    T("v1b", "k1", "GI1", "jb", "ots", "2023-04-01", "2024-03-31", "volgens_plan"),
    T("v2", "k2", "GI1", "jb", "ots", "2023-01-01", "2024-03-31", "onbekend"),
    T("v3", "k3", "GI1", "jb", "voogdij", "2023-01-01", "2024-03-31", "overleden"),
    T("v4", "k4", "GI1", "jb", "voogdij", "2023-01-01", "2024-03-31", "naar_pleegouder"),
    T("v5", "k5", "GI1", "jb", "ots", "2023-01-01", "2024-03-31", "meerderjarig"),
    T("w1", "k6", "GI1", "jr", "stp", "2023-01-01", "2024-03-31", "volgens_plan"),
    T("w2", "k7", "GI1", "jr", "stp", "2023-01-01", "2024-03-31", "terugmelding"),
]


@pytest.mark.parametrize(
    "indicator, care_type, category, num, den, missing",
    [
        ("jbjr_verloop", "jb", "", 2, 3, 1),
        ("jbjr_verloop", "jb", "end_reason:overleden", 1, 5, 0),
        ("jbjr_verloop", "jb", "transition:vots_ots", 1, 5, 0),
        ("jbjr_verloop", "jb", "transition:voogdij_pleegouder", 1, 5, 0),
        ("jbjr_verloop", "jb", "transition:none", 3, 5, 0),
        ("jbjr_verloop", "jr", "", 1, 2, 0),
        ("pi07_reden_beeindiging_jb", "jb", "", 2, 3, 1),
        ("pi07_reden_beeindiging_jb", "jb", "end_reason:volgens_plan", 1, 5, 0),
        ("pi09_reden_beeindiging_jr", "jr", "end_reason:terugmelding", 1, 2, 0),
    ],
    ids=["regular-end", "overleden-shown", "vots-ots", "voogdij-pleegouder", "no-transition", "jr-regular",
         "pi07", "pi07-dist-one-per-episode", "pi09"],
)
def test_verloop(indicator, care_type, category, num, den, missing):
    out = compute(toy_dataset(VL, reference_date="2025-12-31"), indicator)
    check(row(out, indicator, care_type=care_type, category=category), num, den, missing)


def test_pi09_has_no_headline():
    out = compute(toy_dataset(VL, reference_date="2025-12-31"), "pi09_reden_beeindiging_jr")
    assert "" not in set(out["category"])


# ---------------------------------------------------------------- pi06 zwaarte vervolghulp (reference 2024-12-31)
# p1: ambulant -> verblijf 2 weeks later (heavier); verblijf -> ambulant next day (lighter);
#     that ambulant ends 2024-10-31: window to 2025-01-31 not passed -> excluded
# p2: daghulp -> daghulp (equal); daghulp -> OTS (heavier: JB above jeugdhulp); OTS ends, nothing -> none
# p3: OTS -> voogdij (heavier); voogdij ends, nothing -> none
# p4: pleegzorg ends 2024-01-31, ambulant 2024-06-01 is beyond 3 months -> none
# jeugdhulp: 5 counted (H 2, L 1, E 1, N 1) + 1 excluded;  jb: 3 counted (H 1, N 2)
PI06 = [
    T("p1a", "k1", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-03-31", "volgens_plan"),
    T("p1b", "k1", "A", "jeugdhulp", "verblijf", "2024-04-15", "2024-08-31", "volgens_plan"),
    T("p1c", "k1", "A", "jeugdhulp", "ambulant", "2024-09-01", "2024-10-31", "volgens_plan"),
    T("p2a", "k2", "A", "jeugdhulp", "daghulp", "2024-01-01", "2024-02-29", "volgens_plan"),
    T("p2b", "k2", "A", "jeugdhulp", "daghulp", "2024-05-01", "2024-06-30", "volgens_plan"),
    T("p2c", "k2", "GI", "jb", "ots", "2024-07-10", "2024-08-31", "volgens_plan"),
    T("p3a", "k3", "GI", "jb", "ots", "2024-01-01", "2024-03-31", "gezagsbeeindiging"),
    T("p3b", "k3", "GI", "jb", "voogdij", "2024-04-01", "2024-05-31", "herstel_gezag"),
    T("p4a", "k4", "A", "jeugdhulp", "pleegzorg", "2023-06-01", "2024-01-31", "volgens_plan"),
    T("p4b", "k4", "A", "jeugdhulp", "ambulant", "2024-06-01"),
]


@pytest.mark.parametrize(
    "care_type, category, num, den, excluded",
    [("jeugdhulp", "follow_up:heavier", 2, 5, 1), ("jeugdhulp", "follow_up:lighter", 1, 5, 1),
     ("jeugdhulp", "follow_up:equal", 1, 5, 1), ("jeugdhulp", "follow_up:none", 1, 5, 1),
     ("jb", "follow_up:heavier", 1, 3, 0), ("jb", "follow_up:none", 2, 3, 0)],
    ids=["jh-heavier", "jh-lighter", "jh-equal", "jh-none", "jb-heavier", "jb-none"],
)
def test_zwaarte_vervolghulp(care_type, category, num, den, excluded):
    out = compute(toy_dataset(PI06, reference_date="2024-12-31"), "pi06_zwaarte_vervolghulp")
    r = row(out, "pi06_zwaarte_vervolghulp", care_type=care_type, category=category)
    check(r, num, den, 0, excluded)
    assert r["window_months"] == 3
    assert r["suppressed"]  # counts below 10


def test_full_catalogue_runs_on_one_toy_set():
    out = compute(toy_dataset(HB + PI06[:3], reference_date="2024-12-31"))
    assert set(out["scope"]) == {"institution", "national"}
    assert (out.loc[out["scope"] == "national", "institution"] == "").all()


def test_verloop_profile_durations():
    from outcome_analysis.indicators import verloop_profile
    # jb episodes ended 2024 (VL): v1 2023-01-01..2024-03-31 (456 days incl.), v2..v5 the same span
    # -> median 456; jr w1, w2 the same -> median 456, n 2
    p = verloop_profile(toy_dataset(VL, reference_date="2025-12-31"))
    nat = p[(p["scope"] == "national") & (p["measure"] == "duration_days")].set_index("care_type")
    assert nat.loc["jb", "n"] == 5 and nat.loc["jb", "median"] == 456
    assert nat.loc["jr", "n"] == 2
