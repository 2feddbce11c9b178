"""Audit: trajectory and episode shares of sets A, B and C against indicators.md, on hand-counted toys.

Checked: uitval (B1), regular end (jbjr_verloop, pi07, pi09), experience per informant and pooled
(jh_tevredenheid, pi02, jbjr_clientervaring), ROM reliable change (B "Afname problematiek"), GAS
T-scores (B "Doelen gerealiseerd"), threat and risk decrease (A), zwaarte vervolghulp (pi06).
Expected numbers are counted by hand in the comments beside each data set.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from outcome_analysis import stats
from outcome_analysis.indicators import compute
from toydata import toy_dataset

REF = "2025-12-31"


def T(tid, client, inst, care_type, form, start, end=None, reason=None, **items):
    return {"trajectory_id": tid, "client_id": client, "institution": inst, "care_type": care_type,
            "care_form": form, "start_date": start, "end_date": end, "end_reason": reason,
            "birth_year": 2010, **items}


def row(out, indicator, category="", scope="national", institution="", period="2024", care_type=None):
    sel = ((out["indicator"] == indicator) & (out["scope"] == scope) & (out["institution"] == institution)
           & (out["period"] == period) & (out["category"] == category))
    if care_type is not None:
        sel &= out["care_type"] == care_type
    hit = out[sel]
    assert len(hit) == 1, f"{len(hit)} rows for {indicator} {category!r} {care_type}"
    return hit.iloc[0]


def nd(r):
    return float(r["numerator"]), int(r["denominator"]), int(r["missing"])


# ------------------------------------------------------------------ B1 uitval
# jeugdhulp at P, ended 2024: voortijdig_client x3, voortijdig_aanbieder x2, volgens_plan x4,
# voortijdig_overeenstemming x1 (not uitval: only CBS 03 and 04 are), externe_omstandigheden x1,
# onbekend x2, and one still running (not counted).
# uitval = (3 + 2) / 11 known; onbekend 2 shown apart (missing); the end_reason distribution has 13.
UITVAL_REASONS = (["voortijdig_client"] * 3 + ["voortijdig_aanbieder"] * 2 + ["volgens_plan"] * 4
                  + ["voortijdig_overeenstemming", "externe_omstandigheden"] + ["onbekend"] * 2)
UITVAL = [T(f"u{i}", f"k{i}", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-30", r)
          for i, r in enumerate(UITVAL_REASONS)] + [T("urun", "krun", "P", "jeugdhulp", "ambulant", "2024-01-01")]


def test_uitval():
    out = compute(toy_dataset(UITVAL, reference_date=REF), "jh_uitval")
    assert nd(row(out, "jh_uitval")) == (5.0, 11, 2)
    assert nd(row(out, "jh_uitval", "end_reason:onbekend"))[:2] == (2.0, 13)
    assert nd(row(out, "jh_uitval", "end_reason:voortijdig_overeenstemming"))[:2] == (1.0, 13)


# ------------------------------------------------------------------ regular end
# One JB/JR episode per youth, all ended at GI in 2024 (never chained: one record per youth).
# JB: ots volgens_plan R, ots tussentijdse_opheffing R, ots niet_verlengd R, ots meerderjarig (not in
#     the ots list) -, ots gezagsbeeindiging -, voogdij herstel_gezag R, voogdij naar_pleegouder R,
#     voogdij naar_burgervoogd R, voogdij meerderjarig R, vots overleden (out of the denominator),
#     ots onbekend (missing)  -> regular 7 / 9, missing 1, end_reason distribution over 11
# JR: volgens_plan R, tussentijdse_opheffing R, volwassenreclassering R, terugmelding -, besluit_rechter -,
#     overleden (out), onbekend (missing) -> 3 / 5, missing 1
JB_ENDS = [("ots", "volgens_plan"), ("ots", "tussentijdse_opheffing"), ("ots", "niet_verlengd"),
           ("ots", "meerderjarig"), ("ots", "gezagsbeeindiging"), ("voogdij", "herstel_gezag"),
           ("voogdij", "naar_pleegouder"), ("voogdij", "naar_burgervoogd"), ("voogdij", "meerderjarig"),
           ("vots", "overleden"), ("ots", "onbekend")]
JR_ENDS = [("tb_gedwongen", "volgens_plan"), ("stp", "tussentijdse_opheffing"), ("gbm", "volwassenreclassering"),
           ("itb_criem", "terugmelding"), ("tb_vrijwillig", "besluit_rechter"), ("jr_overig", "overleden"),
           ("stp", "onbekend")]
REGULAR = ([T(f"b{i}", f"jb{i}", "GI", "jb", f, "2023-01-01", "2024-06-30", r) for i, (f, r) in enumerate(JB_ENDS)]
           + [T(f"r{i}", f"jr{i}", "GI", "jr", f, "2023-01-01", "2024-06-30", r) for i, (f, r) in enumerate(JR_ENDS)])


@pytest.fixture(scope="module")
def regular():
    return compute(toy_dataset(REGULAR, reference_date=REF),
                   ["jbjr_verloop", "pi07_reden_beeindiging_jb", "pi09_reden_beeindiging_jr"])


@pytest.mark.parametrize("indicator, care_type, expected", [
    ("jbjr_verloop", "jb", (7.0, 9, 1)), ("jbjr_verloop", "jr", (3.0, 5, 1)),
    ("pi07_reden_beeindiging_jb", "jb", (7.0, 9, 1)),
])
def test_regular_end(regular, indicator, care_type, expected):
    assert nd(row(regular, indicator, care_type=care_type)) == expected


def test_regular_end_distribution_keeps_overleden_and_onbekend(regular):
    assert nd(row(regular, "pi07_reden_beeindiging_jb", "end_reason:overleden", care_type="jb"))[:2] == (1.0, 11)
    assert nd(row(regular, "pi09_reden_beeindiging_jr", "end_reason:onbekend", care_type="jr"))[:2] == (1.0, 7)
    assert not ((regular["indicator"] == "pi09_reden_beeindiging_jr") & (regular["category"] == "")).any()


def test_regular_end_follows_settings():
    # with meerderjarig added to the ots list the JB share becomes 8 / 9
    from outcome_analysis.settings import DEFAULT
    ends = dict(DEFAULT.regular_ends)
    ends["jb_ots"] = (*ends["jb_ots"], "meerderjarig")
    out = compute(toy_dataset(REGULAR, reference_date=REF), "pi07_reden_beeindiging_jb",
                  settings=DEFAULT.replace(regular_ends=ends))
    assert nd(row(out, "pi07_reden_beeindiging_jb", care_type="jb")) == (8.0, 9, 1)


# ------------------------------------------------------------------ experience
# jeugdhulp at P:  t1 ended 2024: jeugdige helped, ouder not, professional helped
#                  t2 ended 2024: jeugdige helped, ouder helped, ouder (2nd answer) helped missing
#                  t3 still running: jeugdige helped (code: not counted, outcome anchors on the end)
#                  t4 ended 2023: ouder not
# pooled 2024 = answers of jeugdigen and ouders: 3 helped / 4 known, missing 1; professionals never pooled.
# informant:jeugdige 2/2, informant:ouder 1/2 (missing 1), informant:professional 1/1.  2023: 0/1.
EXP_T = [T("t1", "k1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-05-01", "volgens_plan"),
         T("t2", "k2", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-05-01", "volgens_plan"),
         T("t3", "k3", "P", "jeugdhulp", "ambulant", "2024-01-01"),
         T("t4", "k4", "P", "jeugdhulp", "ambulant", "2023-01-01", "2023-05-01", "volgens_plan")]
EXP = [{"trajectory_id": "t1", "informant": "jeugdige", "helped": True},
       {"trajectory_id": "t1", "informant": "ouder", "helped": False},
       {"trajectory_id": "t1", "informant": "professional", "helped": True},
       {"trajectory_id": "t2", "informant": "jeugdige", "helped": True},
       {"trajectory_id": "t2", "informant": "ouder", "helped": True},
       {"trajectory_id": "t2", "informant": "ouder", "helped": None},
       {"trajectory_id": "t3", "informant": "jeugdige", "helped": True},
       {"trajectory_id": "t4", "informant": "ouder", "helped": False}]


@pytest.mark.parametrize("indicator", ["jh_tevredenheid", "pi02_tevredenheid"])
def test_experience_pooled_and_per_informant(indicator):
    out = compute(toy_dataset(EXP_T, experience=EXP, reference_date=REF), indicator)
    assert nd(row(out, indicator)) == (3.0, 4, 1)
    assert nd(row(out, indicator, "informant:jeugdige")) == (2.0, 2, 0)
    assert nd(row(out, indicator, "informant:ouder")) == (1.0, 2, 1)
    assert nd(row(out, indicator, "informant:professional")) == (1.0, 1, 0)
    assert nd(row(out, indicator, period="2023")) == (0.0, 1, 0)


# ------------------------------------------------------------------ ROM reliable change
# sdq_total: norm mean 8.6, sd 5.7, r_xx .82 -> S_diff = sqrt(2) * 5.7 * sqrt(.18) = 3.4200
#   o1 20 -> 10: RCI = -10 / 3.42 = -2.92 (higher = worse)  -> improved
#   o2 10 -> 13: RCI = +0.88                                 -> unchanged
#   o3 10 -> 18: RCI = +2.34                                 -> deteriorated
#   o4 15 -> missing                                          -> missing
# cbcl_total_t: mean 50, sd 10, r .94 -> S_diff = sqrt(2) * 10 * sqrt(.06) = 3.4641
#   o5 70 -> 60: RCI = -2.89                                  -> improved
# headline 2 / 4 (missing 1); rci cells improved 2, unchanged 1, deteriorated 1.
# mean change = mean of T(pre) - T(post), T = 50 + 10 (x - mean) / sd:
#   o1 (70 - 52.456) ; o2 (52.456 - 57.719) ; o3 (52.456 - 66.491) ; o5 (70 - 60)
ROM = [T("o1", "k1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="sdq_total", rom_start=20, rom_end=10),
       T("o2", "k2", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="sdq_total", rom_start=10, rom_end=13),
       T("o3", "k3", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="sdq_total", rom_start=10, rom_end=18),
       T("o4", "k4", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="sdq_total", rom_start=15),
       T("o5", "k5", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="cbcl_total_t", rom_start=70, rom_end=60)]


def test_rom_reliable_change():
    out = compute(toy_dataset(ROM, reference_date=REF), "jh_afname_problematiek")
    assert nd(row(out, "jh_afname_problematiek")) == (2.0, 4, 1)
    for cls, n in (("improved", 2), ("unchanged", 1), ("deteriorated", 1)):
        assert nd(row(out, "jh_afname_problematiek", f"rci:{cls}"))[:2] == (n, 4)
    t = lambda x, m, s: 50 + 10 * (x - m) / s  # noqa: E731
    changes = [t(20, 8.6, 5.7) - t(10, 8.6, 5.7), t(10, 8.6, 5.7) - t(13, 8.6, 5.7),
               t(10, 8.6, 5.7) - t(18, 8.6, 5.7), t(70, 50, 10) - t(60, 50, 10)]
    mean = row(out, "jh_afname_problematiek", "mean_change:")
    assert mean["denominator"] == 4
    assert mean["value"] == pytest.approx(np.mean(changes))


def test_rci_formula_and_direction():
    # Jacobson & Truax: (x2 - x1) / (sqrt(2) * SD * sqrt(1 - r))
    assert stats.reliable_change(20, 10, 5.7, 0.82) == pytest.approx(-10 / (math.sqrt(2) * 5.7 * math.sqrt(0.18)))
    # a higher-is-better instrument: a reliable RISE is an improvement, a reliable fall a deterioration
    assert stats.classify_change(2.5, "higher_better") == "improved"
    assert stats.classify_change(-2.5, "higher_better") == "deteriorated"
    assert stats.classify_change(-2.5, "higher_worse") == "improved"
    assert stats.classify_change(1.96, "higher_worse") == "unchanged"  # |RCI| must EXCEED 1.96


# ------------------------------------------------------------------ GAS
# rho = 0.3, T = 50 + 10 sum(w x) / sqrt(0.7 sum w^2 + 0.3 (sum w)^2)
#   g1 joint via EMPTY informant [1, 0, -1]           -> T = 50          -> realised (T >= 50)
#   g2 joint [-1, -1]   -> 50 - 20 / sqrt(1.4 + 1.2) = 37.597            -> not; ouder [2] -> 60
#   g3 only ouder [1]   -> headline missing; ouder 60
#   g4 joint [2, 1] weights [2, 1] -> 50 + 10 * 5 / sqrt(0.7 * 5 + 0.3 * 9) = 70.08 -> realised
# headline 2 / 3 (missing 1); mean_t = mean(50, 37.597, 70.08); informant:ouder 2 / 2
GAS_T = [T(f"g{i}", f"k{i}", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan") for i in range(1, 5)]
GOALS = [{"trajectory_id": "g1", "goal_id": "a", "score": 1, "weight": None, "informant": None},
         {"trajectory_id": "g1", "goal_id": "b", "score": 0, "weight": None, "informant": None},
         {"trajectory_id": "g1", "goal_id": "c", "score": -1, "weight": None, "informant": None},
         {"trajectory_id": "g2", "goal_id": "a", "score": -1, "weight": 1, "informant": "gezamenlijk"},
         {"trajectory_id": "g2", "goal_id": "b", "score": -1, "weight": 1, "informant": "gezamenlijk"},
         {"trajectory_id": "g2", "goal_id": "c", "score": 2, "weight": 1, "informant": "ouder"},
         {"trajectory_id": "g3", "goal_id": "a", "score": 1, "weight": 1, "informant": "ouder"},
         {"trajectory_id": "g4", "goal_id": "a", "score": 2, "weight": 2, "informant": "gezamenlijk"},
         {"trajectory_id": "g4", "goal_id": "b", "score": 1, "weight": 1, "informant": "gezamenlijk"}]


def test_gas():
    out = compute(toy_dataset(GAS_T, goals=GOALS, reference_date=REF), "jh_doelrealisatie_gas")
    assert nd(row(out, "jh_doelrealisatie_gas")) == (2.0, 3, 1)
    t2 = 50 - 20 / math.sqrt(0.7 * 2 + 0.3 * 4)
    t4 = 50 + 50 / math.sqrt(0.7 * 5 + 0.3 * 9)
    assert row(out, "jh_doelrealisatie_gas", "mean_t:")["value"] == pytest.approx((50 + t2 + t4) / 3)
    assert nd(row(out, "jh_doelrealisatie_gas", "informant:ouder"))[:2] == (2.0, 2)


# ------------------------------------------------------------------ threat and risk (set A)
# JB threat start -> end: 4->2 decreased, 3->3 not, 2->4 not, 5->missing (missing)  -> 1 / 3, missing 1;
#   mean change (start - end) = (2 + 0 - 2) / 3 = 0
# JR LIJ risk: hoog->laag dec, matig->matig not, laag->matig not, hoog->matig dec -> 2 / 4
THREAT = [T("a1", "k1", "GI", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", threat_start=4, threat_end=2),
          T("a2", "k2", "GI", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", threat_start=3, threat_end=3),
          T("a3", "k3", "GI", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", threat_start=2, threat_end=4),
          T("a4", "k4", "GI", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", threat_start=5),
          T("c1", "k5", "GI", "jr", "stp", "2023-01-01", "2024-06-01", "volgens_plan", risk_start="hoog", risk_end="laag"),
          T("c2", "k6", "GI", "jr", "stp", "2023-01-01", "2024-06-01", "volgens_plan", risk_start="matig", risk_end="matig"),
          T("c3", "k7", "GI", "jr", "stp", "2023-01-01", "2024-06-01", "volgens_plan", risk_start="laag", risk_end="matig"),
          T("c4", "k8", "GI", "jr", "stp", "2023-01-01", "2024-06-01", "volgens_plan", risk_start="hoog", risk_end="matig")]


def test_threat_and_risk_decrease():
    out = compute(toy_dataset(THREAT, reference_date=REF),
                  ["jb_afname_ontwikkelingsbedreiging", "jr_afname_criminogene_factoren", "pi04_vermindering_ernst"])
    assert nd(row(out, "jb_afname_ontwikkelingsbedreiging")) == (1.0, 3, 1)
    assert row(out, "jb_afname_ontwikkelingsbedreiging", "mean_change:")["value"] == pytest.approx(0.0)
    assert nd(row(out, "jr_afname_criminogene_factoren")) == (2.0, 4, 0)
    assert nd(row(out, "pi04_vermindering_ernst", care_type="jb")) == (1.0, 3, 1)
    assert nd(row(out, "pi04_vermindering_ernst", care_type="jr")) == (2.0, 4, 0)


# ------------------------------------------------------------------ pi06 zwaarte vervolghulp
# window 3 months; per TRAJECTORY (a change of form inside an episode counts).
# y1: ambulant 2024-01-01..03-31 -> verblijf 2024-05-01 (<= 06-30)         heavier   [jeugdhulp 2024]
#     verblijf ..08-31 -> next ambulant 2024-12-01 (> 11-30)                 none      [jeugdhulp 2024]
#     ambulant 2024-12-01..2025-01-31 -> nothing                             none      [jeugdhulp 2025]
# y2: verblijf ..2024-02-29 -> pleegzorg 03-01 (continuation, other form)    lighter   [jeugdhulp 2024]
#     pleegzorg ..06-30 -> OTS 07-15 (any JB heavier than jeugdhulp)         heavier   [jeugdhulp 2024]
#     OTS ..10-31 -> voogdij 11-01 (voogdij heavier than OTS)                heavier   [jb 2024]
#     voogdij ..2025-10-31: window ends 2026-01-31 > REF                      excluded  [jb 2025]
# y3: daghulp ..04-30 -> daghulp 06-01                                        equal     [jeugdhulp 2024]
#     daghulp ..07-31 -> nothing                                              none      [jeugdhulp 2024]
# y4: OTS 2023-06-01..2024-03-31 -> ambulant 04-10 (jeugdhulp after JB)       lighter   [jb 2024]
#     ambulant ..05-31 -> nothing                                             none      [jeugdhulp 2024]
# jeugdhulp 2024: heavier 2, lighter 1, equal 1, none 3 of 7; jb 2024: heavier 1, lighter 1 of 2;
# jb 2025: excluded 1.
PI06 = [T("y1a", "y1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-03-31", "volgens_plan"),
        T("y1b", "y1", "P", "jeugdhulp", "verblijf", "2024-05-01", "2024-08-31", "volgens_plan"),
        T("y1c", "y1", "P", "jeugdhulp", "ambulant", "2024-12-01", "2025-01-31", "volgens_plan"),
        T("y2a", "y2", "P", "jeugdhulp", "verblijf", "2024-01-01", "2024-02-29", "volgens_plan"),
        T("y2b", "y2", "P", "jeugdhulp", "pleegzorg", "2024-03-01", "2024-06-30", "volgens_plan"),
        T("y2c", "y2", "GI", "jb", "ots", "2024-07-15", "2024-10-31", "gezagsbeeindiging"),
        T("y2d", "y2", "GI", "jb", "voogdij", "2024-11-01", "2025-10-31", "meerderjarig"),
        T("y3a", "y3", "P", "jeugdhulp", "daghulp", "2024-01-01", "2024-04-30", "volgens_plan"),
        T("y3b", "y3", "P", "jeugdhulp", "daghulp", "2024-06-01", "2024-07-31", "volgens_plan"),
        T("y4a", "y4", "GI", "jb", "ots", "2023-06-01", "2024-03-31", "volgens_plan"),
        T("y4b", "y4", "P", "jeugdhulp", "ambulant", "2024-04-10", "2024-05-31", "volgens_plan")]


@pytest.mark.parametrize("care_type, period, category, expected", [
    ("jeugdhulp", "2024", "follow_up:heavier", (2.0, 7)), ("jeugdhulp", "2024", "follow_up:lighter", (1.0, 7)),
    ("jeugdhulp", "2024", "follow_up:equal", (1.0, 7)), ("jeugdhulp", "2024", "follow_up:none", (3.0, 7)),
    ("jb", "2024", "follow_up:heavier", (1.0, 2)), ("jb", "2024", "follow_up:lighter", (1.0, 2)),
    ("jeugdhulp", "2025", "follow_up:none", (1.0, 1)),
])
def test_zwaarte_vervolghulp(care_type, period, category, expected):
    out = compute(toy_dataset(PI06, reference_date=REF), "pi06_zwaarte_vervolghulp")
    assert nd(row(out, "pi06_zwaarte_vervolghulp", category, period=period, care_type=care_type))[:2] == expected


def test_zwaarte_vervolghulp_window_not_passed_is_excluded():
    out = compute(toy_dataset(PI06, reference_date=REF), "pi06_zwaarte_vervolghulp")
    sel = (out["indicator"] == "pi06_zwaarte_vervolghulp") & (out["scope"] == "national") & (out["period"] == "2025") \
        & (out["care_type"] == "jb")
    # the only jb trajectory ending in 2025 (voogdij) has its window open: no cell, or cells with
    # denominator 0 and excluded_window 1
    assert out.loc[sel, "denominator"].sum() == 0
    assert (out.loc[sel, "excluded_window"] <= 1).all()
