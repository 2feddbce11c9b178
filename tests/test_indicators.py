"""indicators.compute / records on hand-countable toy data (counts written beside each data set)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from outcome_analysis import indicators, stats
from outcome_analysis.indicators import OUTPUT_COLUMNS, RECORD_COLUMNS, compute, records
from toydata import toy_dataset
from toydata import trajectory as T


def row(out, indicator, *, scope="national", institution="", period="2024", care_type="jeugdhulp",
        category="", window=None) -> dict:
    sel = ((out["indicator"] == indicator) & (out["scope"] == scope) & (out["institution"] == institution)
           & (out["period"] == period) & (out["care_type"] == care_type) & (out["category"] == category))
    if window is not None:
        sel &= out["window_months"] == window
    hit = out[sel]
    assert len(hit) == 1, f"{len(hit)} rows for {indicator} {scope} {institution} {period} {care_type} {category!r}"
    return hit.iloc[0].to_dict()


def check(r: dict, numerator, denominator, missing=None, excluded=None):
    assert (r["numerator"], r["denominator"]) == (numerator, denominator)
    if denominator:
        assert r["value"] == pytest.approx(numerator / denominator)
    if missing is not None:
        assert r["missing"] == missing
    if excluded is not None:
        assert r["excluded_window"] == excluded


# ---------------------------------------------------------------- jh_uitval, pi03 (trajectories)
# institution A, jeugdhulp, reference 2025-12-31:
#   2024: u1 voortijdig_client, u2 voortijdig_aanbieder, u3 + u4 volgens_plan, u5 onbekend,
#         u6 externe_omstandigheden, u7 still running (not ended: not counted)
#   2023: u8 voortijdig_client
# institution B: u9 volgens_plan 2024
# uitval A 2024 = 2 / 5 known (onbekend missing 1); national 2024 = 2 / 6
# pi03 volgens plan A 2024 = 2 / 5; end_reason distribution A 2024: 6 ended, onbekend 1
UITVAL = [
    T("u1", "k1", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-02-01", "voortijdig_client"),
    T("u2", "k2", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-03-01", "voortijdig_aanbieder"),
    T("u3", "k3", "A", "jeugdhulp", "daghulp", "2024-01-01", "2024-08-01", "volgens_plan"),
    T("u4", "k4", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-09-01", "volgens_plan"),
    T("u5", "k5", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-10-01", "onbekend"),
    T("u6", "k6", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-11-01", "externe_omstandigheden"),
    T("u7", "k7", "A", "jeugdhulp", "ambulant", "2024-01-01"),
    T("u8", "k8", "A", "jeugdhulp", "ambulant", "2023-01-01", "2023-05-01", "voortijdig_client"),
    T("u9", "k9", "B", "jeugdhulp", "ambulant", "2024-01-01", "2024-05-01", "volgens_plan"),
]


@pytest.fixture(scope="module")
def uitval():
    return compute(toy_dataset(UITVAL, reference_date="2025-12-31"), ["jh_uitval", "pi03_reden_beeindiging_hulp"])


@pytest.mark.parametrize(
    "indicator, scope, institution, period, category, num, den, missing",
    [
        ("jh_uitval", "institution", "A", "2024", "", 2, 5, 1),
        ("jh_uitval", "institution", "A", "2023", "", 1, 1, 0),
        ("jh_uitval", "institution", "B", "2024", "", 0, 1, 0),
        ("jh_uitval", "national", "", "2024", "", 2, 6, 1),
        ("jh_uitval", "institution", "A", "2024", "end_reason:onbekend", 1, 6, 0),
        ("jh_uitval", "institution", "A", "2024", "end_reason:volgens_plan", 2, 6, 0),
        ("pi03_reden_beeindiging_hulp", "institution", "A", "2024", "", 2, 5, 1),
        ("pi03_reden_beeindiging_hulp", "national", "", "2024", "", 3, 6, 1),
    ],
    ids=["A-2024", "A-2023", "B-2024", "national", "onbekend-shown-apart", "dist-volgens-plan",
         "pi03-A", "pi03-national"],
)
def test_uitval_and_reden_beeindiging(uitval, indicator, scope, institution, period, category, num, den, missing):
    check(row(uitval, indicator, scope=scope, institution=institution, period=period, category=category),
          num, den, missing)


def test_output_columns_and_wilson_interval_from_stats(uitval):
    assert list(uitval.columns) == list(OUTPUT_COLUMNS)
    r = row(uitval, "jh_uitval", scope="institution", institution="A")
    low, high = stats.proportion_ci(2, 5, 0.95, "wilson")
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((low, high))


def test_suppression_below_ten(uitval):
    assert row(uitval, "jh_uitval", scope="institution", institution="A")["suppressed"]
    many = [T(f"x{i}", f"c{i}", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01",
              "voortijdig_client" if i < 3 else "volgens_plan") for i in range(12)]
    out = compute(toy_dataset(many, reference_date="2025-12-31"), "jh_uitval")
    r = row(out, "jh_uitval", scope="institution", institution="A")
    check(r, 3, 12)
    assert r["suppressed"]  # the two-cell rule: 3 drop-outs of 12 is a small cell
    more = [T(f"x{i}", f"c{i}", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01",
              "voortijdig_client" if i < 12 else "volgens_plan") for i in range(25)]
    r = row(compute(toy_dataset(more, reference_date="2025-12-31"), "jh_uitval"), "jh_uitval",
            scope="institution", institution="A")
    check(r, 12, 25)
    assert not r["suppressed"]  # 12 with and 13 without: both cells reach 10


def test_half_year_periods():
    # u1..u2 end in H1 (uitval 2 of 2), u3..u6 in H2 (0 of 3 known, onbekend u5 missing)
    out = compute(toy_dataset(UITVAL, reference_date="2025-12-31"), "jh_uitval", granularity="half_year")
    check(row(out, "jh_uitval", scope="institution", institution="A", period="2024H1"), 2, 2, 0)
    check(row(out, "jh_uitval", scope="institution", institution="A", period="2024H2"), 0, 3, 1)


def test_periods_filter_and_national_only():
    out = compute(toy_dataset(UITVAL, reference_date="2025-12-31"), "jh_uitval", by=(), periods=["2024"])
    assert set(out["scope"]) == {"national"} and set(out["period"]) == {"2024"}


# ---------------------------------------------------------------- simple trajectory shares
# zonder hulp verder: True, True, False, missing -> 2/3, missing 1
# pi01: geheel, grotendeels, gedeeltelijk, niet, missing -> 2/4, missing 1; goals_realised:niet 1/4
# jb_acceptatie_hulp: ja, ja, gedeeltelijk, nee -> 2/4; help_accepted:gedeeltelijk 1/4
SIMPLE = [
    T("s1", "k1", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", without_help=True, goals_realised="geheel"),
    T("s2", "k2", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", without_help=True, goals_realised="grotendeels"),
    T("s3", "k3", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", without_help=False, goals_realised="gedeeltelijk"),
    T("s4", "k4", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", goals_realised="niet"),
    T("s5", "k5", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan"),
    T("s6", "k6", "A", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", help_accepted="ja"),
    T("s7", "k7", "A", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", help_accepted="ja"),
    T("s8", "k8", "A", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", help_accepted="gedeeltelijk"),
    T("s9", "k9", "A", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", help_accepted="nee"),
]


@pytest.mark.parametrize(
    "indicator, care_type, category, num, den, missing",
    [
        ("jh_zonder_hulp_verder", "jeugdhulp", "", 2, 3, 2),
        ("pi01_doelrealisatie", "jeugdhulp", "", 2, 4, 1),
        ("pi01_doelrealisatie", "jeugdhulp", "goals_realised:niet", 1, 4, 1),
        ("jb_acceptatie_hulp", "jb", "", 2, 4, 0),
        ("jb_acceptatie_hulp", "jb", "help_accepted:gedeeltelijk", 1, 4, 0),
    ],
    ids=["zonder-hulp", "pi01", "pi01-niet", "acceptatie", "acceptatie-gedeeltelijk"],
)
def test_simple_shares(indicator, care_type, category, num, den, missing):
    # zonder hulp: s4 and s5 have the item missing -> missing 2
    out = compute(toy_dataset(SIMPLE, reference_date="2025-12-31"), indicator)
    check(row(out, indicator, care_type=care_type, category=category), num, den, missing)


# ---------------------------------------------------------------- change scores
# threat (jb): (4,2) down, (3,3) same, (2,4) up, (5,-) missing -> 1/3; mean change (2+0-2)/3 = 0
# risk (jr): hoog->laag, matig->laag down, laag->matig up, -/laag missing -> 2/3; mean (2+1-1)/3
# ROM cbcl_total_t (norm sd 10, r .94, |RCI| > 1.96 <=> |diff| > 6.79): 70->60 improved,
#   70->68 unchanged, 60->70 deteriorated, instrument 'xyz' unknown -> missing + warning
#   share improved 1/3, deteriorated 1/3, mean T change (10 + 2 - 10)/3
CHANGE = [
    T("c1", "k1", "A", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", threat_start=4, threat_end=2),
    T("c2", "k2", "A", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", threat_start=3, threat_end=3),
    T("c3", "k3", "A", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", threat_start=2, threat_end=4),
    T("c4", "k4", "A", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan", threat_start=5),
    T("r1", "k5", "A", "jr", "stp", "2023-01-01", "2024-06-01", "volgens_plan", risk_start="hoog", risk_end="laag"),
    T("r2", "k6", "A", "jr", "stp", "2023-01-01", "2024-06-01", "volgens_plan", risk_start="matig", risk_end="laag"),
    T("r3", "k7", "A", "jr", "stp", "2023-01-01", "2024-06-01", "volgens_plan", risk_start="laag", risk_end="matig"),
    T("r4", "k8", "A", "jr", "stp", "2023-01-01", "2024-06-01", "volgens_plan", risk_end="laag"),
    T("m1", "k9", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="cbcl_total_t", rom_start=70.0, rom_end=60.0),
    T("m2", "k10", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="cbcl_total_t", rom_start=70.0, rom_end=68.0),
    T("m3", "k11", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="cbcl_total_t", rom_start=60.0, rom_end=70.0),
    T("m4", "k12", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="xyz", rom_start=10.0, rom_end=5.0),
]


@pytest.fixture(scope="module")
def change():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = compute(toy_dataset(CHANGE, reference_date="2025-12-31"),
                      ["jb_afname_ontwikkelingsbedreiging", "jr_afname_criminogene_factoren",
                       "jh_afname_problematiek", "pi04_vermindering_ernst"])
    return out, caught


@pytest.mark.parametrize(
    "indicator, care_type, category, num, den, missing",
    [
        ("jb_afname_ontwikkelingsbedreiging", "jb", "", 1, 3, 1),
        ("jb_afname_ontwikkelingsbedreiging", "jb", "mean_change:", 0, 3, 1),
        ("jr_afname_criminogene_factoren", "jr", "", 2, 3, 1),
        ("jr_afname_criminogene_factoren", "jr", "mean_change:", 2, 3, 1),
        ("jh_afname_problematiek", "jeugdhulp", "", 1, 3, 1),
        ("jh_afname_problematiek", "jeugdhulp", "rci:deteriorated", 1, 3, 1),
        ("jh_afname_problematiek", "jeugdhulp", "mean_change:", 2, 3, 1),
        ("pi04_vermindering_ernst", "jeugdhulp", "", 1, 3, 1),
        ("pi04_vermindering_ernst", "jb", "", 1, 3, 1),
        ("pi04_vermindering_ernst", "jr", "", 2, 3, 1),
    ],
    ids=["threat", "threat-mean", "risk", "risk-mean", "rom", "rom-deteriorated", "rom-mean-T",
         "pi04-jeugdhulp", "pi04-jb", "pi04-jr"],
)
def test_change_indicators(change, indicator, care_type, category, num, den, missing):
    check(row(change[0], indicator, care_type=care_type, category=category), num, den, missing)


def test_mean_interval_from_stats(change):
    r = row(change[0], "jr_afname_criminogene_factoren", care_type="jr", category="mean_change:")
    low, high = stats.mean_ci(2 / 3, np.std([2, 1, -1], ddof=1), 3, 0.95)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((low, high))


def test_unknown_instrument_warns(change):
    assert any(issubclass(w.category, indicators.UnknownInstrumentWarning) and "'xyz' (1)" in str(w.message)
               for w in change[1])


def test_change_records_carry_baseline():
    r = records(toy_dataset(CHANGE, reference_date="2025-12-31"), "jb_afname_ontwikkelingsbedreiging")
    head = r[r["category"] == ""].set_index("unit_id")
    assert head.loc["c1", "baseline"] == 4 and head.loc["c1", "change"] == 2
    assert list(r.columns) == list(RECORD_COLUMNS)


# ---------------------------------------------------------------- GAS
# g1 joint [0, 0] -> T 50 (>= 50), g2 joint [-1, -1] -> below, g3 informant empty = joint [1] -> above,
# g4 no goals -> missing, g5 only jeugdige [-2] -> missing for the headline, informant:jeugdige 0/1
GAS_T = [T(f"g{i}", f"k{i}", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan") for i in range(1, 6)]
GOALS = [
    {"trajectory_id": "g1", "goal_id": "1", "score": 0, "weight": 1, "informant": "gezamenlijk"},
    {"trajectory_id": "g1", "goal_id": "2", "score": 0, "weight": 1, "informant": "gezamenlijk"},
    {"trajectory_id": "g2", "goal_id": "1", "score": -1, "weight": 1, "informant": "gezamenlijk"},
    {"trajectory_id": "g2", "goal_id": "2", "score": -1, "weight": 1, "informant": "gezamenlijk"},
    {"trajectory_id": "g3", "goal_id": "1", "score": 1, "weight": None, "informant": None},
    {"trajectory_id": "g5", "goal_id": "1", "score": -2, "weight": 1, "informant": "jeugdige"},
]


def test_gas():
    out = compute(toy_dataset(GAS_T, goals=GOALS, reference_date="2025-12-31"), "jh_doelrealisatie_gas")
    check(row(out, "jh_doelrealisatie_gas"), 2, 3, 2)
    check(row(out, "jh_doelrealisatie_gas", category="informant:jeugdige"), 0, 1, 0)
    expected_mean = np.mean([stats.gas_tscore([0, 0]), stats.gas_tscore([-1, -1]), stats.gas_tscore([1])])
    assert row(out, "jh_doelrealisatie_gas", category="mean_t:")["value"] == pytest.approx(expected_mean)


# ---------------------------------------------------------------- experience
# jeugdhulp e1: jeugdige True, ouder False, professional True; e2: ouder True, jeugdige missing;
# e3 still running: jeugdige True (not counted).  pooled (jeugdige + ouder) 2/3, missing 1;
# informant:ouder 1/2, informant:professional 1/1 (never pooled).  jb j1: ouder True -> 1/1.
EXP_T = [
    T("e1", "k1", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan"),
    T("e2", "k2", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan"),
    T("e3", "k3", "A", "jeugdhulp", "ambulant", "2024-01-01"),
    T("j1", "k4", "A", "jb", "ots", "2023-01-01", "2024-06-01", "volgens_plan"),
]
EXP = [
    {"trajectory_id": "e1", "informant": "jeugdige", "helped": True},
    {"trajectory_id": "e1", "informant": "ouder", "helped": False},
    {"trajectory_id": "e1", "informant": "professional", "helped": True},
    {"trajectory_id": "e2", "informant": "ouder", "helped": True},
    {"trajectory_id": "e2", "informant": "jeugdige", "helped": None},
    {"trajectory_id": "e3", "informant": "jeugdige", "helped": True},
    {"trajectory_id": "j1", "informant": "ouder", "helped": True},
]


@pytest.mark.parametrize(
    "indicator, care_type, category, num, den, missing",
    [
        ("jh_tevredenheid", "jeugdhulp", "", 2, 3, 1),
        ("jh_tevredenheid", "jeugdhulp", "informant:ouder", 1, 2, 0),
        ("jh_tevredenheid", "jeugdhulp", "informant:professional", 1, 1, 0),
        ("pi02_tevredenheid", "jeugdhulp", "", 2, 3, 1),
        ("pi02_tevredenheid", "jb", "", 1, 1, 0),
        ("jbjr_clientervaring", "jb", "", 1, 1, 0),
    ],
    ids=["pooled", "ouder", "professional-apart", "pi02-jeugdhulp", "pi02-jb", "clientervaring"],
)
def test_experience(indicator, care_type, category, num, den, missing):
    out = compute(toy_dataset(EXP_T, experience=EXP, reference_date="2025-12-31"), indicator)
    check(row(out, indicator, care_type=care_type, category=category), num, den, missing)


# ---------------------------------------------------------------- pi10 recidive (window 24 months)
# ref 2025-01-31: p1 ended 2022-06-30 no recidive, p2 2022-12-31 recidive -> 2022: 1/2;
# p3 ended 2023-03-01: 2023-03-01 + 24 months > ref -> excluded 1
RECID = [
    T("p1", "k1", "A", "jr", "stp", "2021-01-01", "2022-06-30", "volgens_plan", recidivism=False),
    T("p2", "k2", "A", "jr", "stp", "2021-01-01", "2022-12-31", "volgens_plan", recidivism=True),
    T("p3", "k3", "A", "jr", "stp", "2021-01-01", "2023-03-01", "volgens_plan", recidivism=False),
]


def test_recidive_window():
    out = compute(toy_dataset(RECID, reference_date="2025-01-31"), "pi10_geen_recidive")
    r = row(out, "pi10_geen_recidive", period="2022", care_type="jr")
    check(r, 1, 2, 0, 0)
    assert r["window_months"] == 24
    check(row(out, "pi10_geen_recidive", period="2023", care_type="jr"), 0, 0, 0, 1)


def test_rom_without_a_norm_uses_the_start_scores_of_the_data():
    """HoNOSCA has no norm SD in the instrument table: the RCI uses the SD of all start scores of the
    instrument in the data (Jacobson & Truax 1991), instead of counting the trajectories as missing.

    40 trajectories with start scores alternating 10 and 20 (SD = 5.0636..., sample SD), reliability
    0.80 from the table: SE_diff = sqrt(2) * SD * sqrt(1 - 0.8) = 3.2025. A change 20 -> 10 gives
    RCI = -3.12 (reliably improved for a higher-is-worse instrument); 10 -> 9 gives -0.31 (unchanged).
    """
    import math
    import warnings

    import numpy as np

    from outcome_analysis.indicators import DerivedNormWarning, compute
    from toydata import toy_dataset

    rows = []
    for i in range(40):
        start = 20.0 if i % 2 else 10.0
        end = 10.0 if i % 2 else 9.0
        rows.append(dict(trajectory_id=f"t{i}", client_id=f"c{i}", institution="A", care_type="jeugdhulp",
                         care_form="ambulant", start_date="2023-01-01", end_date="2023-06-01",
                         end_reason="volgens_plan", birth_year=2012, rom_instrument="honosca_total",
                         rom_start=start, rom_end=end))
    sd = float(np.std([10.0, 20.0] * 20, ddof=1))
    assert abs((10 - 20) / (math.sqrt(2) * sd * math.sqrt(0.2))) > 1.96 > abs((9 - 10) / (math.sqrt(2) * sd * math.sqrt(0.2)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = compute(toy_dataset(rows, reference_date="2024-12-31"), "jh_afname_problematiek")
    assert any(issubclass(w.category, DerivedNormWarning) for w in caught)
    row = out[(out["scope"] == "national") & (out["category"] == "")].iloc[0]
    assert (row["numerator"], row["denominator"], row["missing"]) == (20, 40, 0)


def test_every_computable_registry_id_has_exactly_one_builder():
    from outcome_analysis import registry
    from outcome_analysis.indicators import builders

    wanted = [i for i in registry.REGISTRY if registry.get(i).kind != "context"]
    assert set(builders._BUILDERS) == set(wanted)  # no builder without a registry entry, none missing
    assert indicators.COMPUTABLE == tuple(wanted)  # registry order
    with pytest.raises(ValueError, match="already has a builder"):
        builders.builder("jh_uitval")(lambda b, entry: [])
    assert builders.builder_of("jh_uitval").__module__ == "outcome_analysis.indicators.definitions.shares"


REF = "2025-12-31"


# ------------------------------------------------------------------ ROM parts kept across calls
ROM = [dict(T("m1", "k1", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan"),
            rom_instrument="cbcl_total_t", rom_start=70.0, rom_end=60.0),      # improved (RCI < -1.96)
       dict(T("m2", "k2", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan"),
            rom_instrument="xyz", rom_start=10.0, rom_end=5.0)]                # unknown -> missing + warning


def test_rom_records_repeat_the_same_rows_and_the_warning():
    import warnings

    from outcome_analysis import indicators
    data = toy_dataset(ROM, reference_date=REF)
    for _ in range(2):  # the second call takes the per-trajectory arrays from the shared base
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = records(data, "jh_afname_problematiek")
        assert any(issubclass(w.category, indicators.UnknownInstrumentWarning) for w in caught)
        head = r[r["category"] == ""].sort_values("unit_id")
        assert head["outcome"].tolist()[0] == 1.0 and np.isnan(head["outcome"].tolist()[1])
    # a new trajectories frame is a new base: the cached arrays are not reused
    t = data.trajectories.copy()
    t.loc[t["trajectory_id"] == "m1", "rom_end"] = 70.0
    data.trajectories = t
    with pytest.warns(indicators.UnknownInstrumentWarning):
        r = records(data, "jh_afname_problematiek")
    assert r.loc[(r["category"] == "") & (r["unit_id"] == "m1"), "outcome"].tolist() == [0.0]
