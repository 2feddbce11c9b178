"""Specification: docs/indicators.md, section "A. Basisset outcome jeugdbescherming en jeugdreclassering".

Hand-counted toy data (expected numbers in the comments beside each data set): the regular end of a
JB/JR episode (jbjr_verloop, and pi07 / pi09 of set C, which share the list of regular end reasons)
and the decrease of threat and risk.
"""
from __future__ import annotations

import pytest

from outcome_analysis.indicators import compute
from toydata import nd, row, toy_dataset
from toydata import trajectory as T

REF = "2025-12-31"


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


@pytest.mark.parametrize("form, expected", [
    # ots: volgens_plan R, tussentijdse_opheffing R, niet_verlengd R, meerderjarig -, gezagsbeeindiging -,
    #      onbekend (missing) -> 3 / 5, missing 1; voogdij: all four regular by definition -> 4 / 4;
    # vots: only overleden, out of the headline and so out of the breakdown: no row
    ("ots", (3.0, 5, 1)), ("voogdij", (4.0, 4, 0)),
])
def test_regular_end_by_care_form(regular, form, expected):
    """indicators.md: the regular end is shown per care form too, so that voogdij (regular by
    definition) does not hide the (v)OTS figure."""
    assert nd(row(regular, "jbjr_verloop", f"care_form:{form}", care_type="jb")) == expected
    assert not ((regular["category"] == "care_form:vots") & (regular["indicator"] == "jbjr_verloop")).any()


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
