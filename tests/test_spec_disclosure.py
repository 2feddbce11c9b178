"""Specification: docs/indicators.md, section "Every figure carries" (Wilson intervals, disclosure control).

Expected numbers come from the Wilson (1927) formula written out here or from hand counts: the
interval of a share, suppression inside ``compute`` (small denominators, small cells and the
complementary cell of a distribution), rounding of shown counts, and ``indicators.resuppress``
(public and deterministic: it marks exactly what ``compute`` marks, whatever the row order).
"""
from __future__ import annotations

import math

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from outcome_analysis import disclosure, stats
from outcome_analysis.indicators import compute, resuppress
from outcome_analysis.settings import DEFAULT
from toydata import toy_dataset
from toydata import trajectory as T

REF = "2025-12-31"


def wilson(x, n, z=1.959963984540054):
    centre = (x + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(x * (n - x) / n + z * z / 4)
    return centre - half, centre + half


# ------------------------------------------------------------------ Wilson
@pytest.mark.parametrize("x, n", [(1, 10), (12, 42), (81, 263), (5, 9), (99, 100)])
def test_wilson_against_written_out_formula_and_statsmodels(x, n):
    low, high = stats.proportion_ci(x, n)
    assert (low, high) == pytest.approx(wilson(x, n), abs=1e-12)
    assert (low, high) == pytest.approx(proportion_confint(x, n, 0.05, "wilson"), abs=1e-12)


# ------------------------------------------------------------------ suppression inside compute
# P: 30 volgens_plan, 12 voortijdig_client, 3 onbekend (all ended 2024)
#   uitval 12 / 42 (onbekend missing): shown (denominator >= 10); value = 12/42 from raw counts,
#   interval = Wilson(12, 42).
#   end_reason distribution (45): onbekend 3 < 10 hidden; it would be recoverable as 45 - 30 - 12,
#   so the next smallest (voortijdig_client, 12) is hidden too; volgens_plan 30 stays visible.
# Q: 9 ended, 2 uitval -> 2 / 9: denominator below 10 -> suppressed.
# Both institutions together (the pooled row, shown: 14 of 51) minus P's 12 of 42 would give Q's 2 of 9
# back, so P's uitval is hidden too (secondary suppression between institutions and their pooled
# figure); the same holds per category of the end reasons (pooled volgens_plan 37 - P's 30 = Q's 7).
SUPP = ([T(f"p{i}", f"kp{i}", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan") for i in range(30)]
        + [T(f"c{i}", f"kc{i}", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "voortijdig_client") for i in range(12)]
        + [T(f"o{i}", f"ko{i}", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "onbekend") for i in range(3)]
        + [T(f"q{i}", f"kq{i}", "Q", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01",
             "voortijdig_client" if i < 2 else "volgens_plan") for i in range(9)])


@pytest.fixture(scope="module")
def supp():
    out = compute(toy_dataset(SUPP, reference_date=REF), "jh_uitval")
    return out[(out["scope"] == "institution")].set_index(["institution", "category"])


def test_share_values_from_raw_counts_and_wilson(supp):
    r = supp.loc[("P", "")]
    assert (r["numerator"], r["denominator"], r["missing"]) == (12.0, 42, 3)
    assert r["value"] == 12 / 42
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(wilson(12, 42), abs=1e-12)


def test_the_only_other_institution_is_hidden_with_the_small_one(supp):
    assert supp.loc[("Q", ""), "suppressed"] and supp.loc[("P", ""), "suppressed"]
    # alone, P's 12 of 42 passes the two-cell rule: resuppress of P's rows only keeps it
    only_p = supp.reset_index()
    only_p = only_p[only_p["institution"] == "P"]
    assert not resuppress(only_p.assign(suppressed=False), DEFAULT).set_index("category").loc["", "suppressed"]


def test_small_denominator_suppressed(supp):
    r = supp.loc[("Q", "")]
    assert (r["numerator"], r["denominator"]) == (2.0, 9)
    assert r["suppressed"]
    # value and interval stay computed (the report hides them)
    assert r["value"] == pytest.approx(2 / 9)


def test_distribution_small_cell_and_complementary(supp):
    # P alone: onbekend (3) below min_count, voortijdig_client (12, the smallest visible) with it,
    # volgens_plan (30) stays
    only_p = supp.reset_index()
    only_p = resuppress(only_p[only_p["institution"] == "P"].assign(suppressed=False), DEFAULT).set_index("category")
    assert only_p.loc["end_reason:onbekend", "suppressed"]
    assert only_p.loc["end_reason:voortijdig_client", "suppressed"]
    assert not only_p.loc["end_reason:volgens_plan", "suppressed"]
    assert supp.loc[("P", "end_reason:volgens_plan"), "denominator"] == 45
    # beside Q (all hidden: 9 ended) P's volgens_plan goes as well: pooled 37 - 30 = Q's 7
    assert supp.loc[("P", "end_reason:volgens_plan"), "suppressed"]


def test_rounding_of_shown_counts():
    t = pd.DataFrame({"numerator": [12, 13, 40], "denominator": [65, 65, 65], "category": ["a", "b", "c"]})
    out = disclosure.suppress(t, kind="count")
    assert out["shown_numerator"].tolist() == [10.0, 15.0, 40.0]
    assert out["shown_denominator"].tolist() == [65.0, 65.0, 65.0]


# ------------------------------------------------------------------ resuppress
# One distribution with tied smallest cells: end reasons at GI, 2024: volgens_plan 20, niet_verlengd 3
# (hidden, < 10), tussentijdse_opheffing 12, meerderjarig 12 -> one hidden cell, so the smallest
# visible one is hidden as well; the two 12s tie and the first in compute's order
# (end_reason:meerderjarig < end_reason:tussentijdse_opheffing) is the one.
TIES = ([("volgens_plan", 20), ("niet_verlengd", 3), ("tussentijdse_opheffing", 12), ("meerderjarig", 12)])
TIE_ROWS = [T(f"{r}{i}", f"{r}{i}", "GI", "jb", "ots", "2023-01-01", "2024-06-30", r) for r, n in TIES for i in range(n)]


@pytest.fixture(scope="module")
def tie_table():
    return compute(toy_dataset(TIE_ROWS, reference_date=REF), ["pi07_reden_beeindiging_jb", "pi06_zwaarte_vervolghulp"])


def test_compute_breaks_ties_in_its_output_order(tie_table):
    t = tie_table
    for scope in ("institution", "national"):
        cells = t[(t["indicator"] == "pi07_reden_beeindiging_jb") & (t["scope"] == scope)
                  & t["category"].str.startswith("end_reason:")]
        assert len(cells) == 4
        assert set(cells.loc[cells["suppressed"], "category"]) == {"end_reason:niet_verlengd", "end_reason:meerderjarig"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_resuppress_equals_compute_in_any_row_order(tie_table, seed):
    shuffled = tie_table.sample(frac=1, random_state=seed)
    again = resuppress(shuffled.assign(suppressed=False), DEFAULT)
    assert again.index.equals(shuffled.index)
    assert (again["suppressed"] == tie_table.loc[shuffled.index, "suppressed"]).all()


def test_resuppress_under_other_thresholds_equals_compute(tie_table):
    other = DEFAULT.replace(min_denominator=5, min_count=4)
    fresh = compute(toy_dataset(TIE_ROWS, reference_date=REF), ["pi07_reden_beeindiging_jb", "pi06_zwaarte_vervolghulp"],
                    settings=other)
    pd.testing.assert_series_equal(resuppress(tie_table, other)["suppressed"], fresh["suppressed"])


# --- the halves of a year (indicators.md, "Disclosure control": year vs half-years) ----------------
def _halves(rows):
    """A compute-shaped table of one institution from (indicator, period, category, numerator, denominator)."""
    return pd.DataFrame({
        "indicator": [r[0] for r in rows], "scope": "institution", "institution": "A",
        "period": [r[1] for r in rows], "care_type": "jeugdhulp", "category": [r[2] for r in rows],
        "numerator": [float(r[3]) for r in rows], "denominator": [float(r[4]) for r in rows],
        "window_months": pd.array([pd.NA] * len(rows), dtype="Int64"), "suppressed": False,
    })


def test_a_half_year_share_is_hidden_when_its_twin_is():
    # uitval 3 of 30 in 2024H2 is hidden (3 < min_cell 10); 12 of 40 in 2024H1 passes on its own, but
    # the year report shows 15 of 70, and 15 - 12 = 3 gives the hidden half back: H1 goes too.
    # 2023: both halves pass (20 of 50, 15 of 45) and stay; a year on its own is never touched.
    t = _halves([("jh_uitval", "2024H1", "", 12, 40), ("jh_uitval", "2024H2", "", 3, 30),
                 ("jh_uitval", "2023H1", "", 20, 50), ("jh_uitval", "2023H2", "", 15, 45),
                 ("jh_uitval", "2022", "", 12, 40)])
    out = resuppress(t, DEFAULT)
    assert out["suppressed"].tolist() == [True, True, False, False, False]
    # the complement counts the same: 28 of 30 (2 without) hides its twin as well
    t2 = _halves([("jh_uitval", "2024H1", "", 12, 40), ("jh_uitval", "2024H2", "", 28, 30)])
    assert resuppress(t2, DEFAULT)["suppressed"].tolist() == [True, True]
    # a half with no records gives nothing away; a half alone (H2 not yet delivered) neither
    t3 = _halves([("jh_uitval", "2024H1", "", 12, 40), ("jh_uitval", "2024H2", "", 0, 0),
                  ("jh_uitval", "2025H1", "", 12, 40)])
    assert resuppress(t3, DEFAULT)["suppressed"].tolist() == [False, True, False]


def test_half_year_mean_hidden_with_its_twin():
    # a mean of 8 records (below min_denominator 10) in H2: the year mean of 33 records with H1's
    # mean of 25 gives it back, so H1 is hidden as well
    t = _halves([("jh_afname_problematiek", "2024H1", "", 0, 25), ("jh_afname_problematiek", "2024H2", "", 0, 8)])
    assert resuppress(t, DEFAULT)["suppressed"].tolist() == [True, True]


def test_half_year_distribution_cells_protected_across_the_halves():
    # reasons for ending (a distribution): in 2024H2 "client" (3) is below min_count and "provider"
    # (12, the smallest visible) goes with it; in 2024H1 the same two categories must go, or the year's
    # cells minus H1's give them back. "plan" stays visible in both halves.
    ind = "pi03_reden_beeindiging_hulp"
    t = _halves([(ind, "2024H1", "end_reason:volgens_plan", 20, 47), (ind, "2024H1", "end_reason:client", 15, 47),
                 (ind, "2024H1", "end_reason:aanbieder", 12, 47),
                 (ind, "2024H2", "end_reason:volgens_plan", 20, 35), (ind, "2024H2", "end_reason:client", 3, 35),
                 (ind, "2024H2", "end_reason:aanbieder", 12, 35)])
    hidden = dict(zip(t["period"] + " " + t["category"], resuppress(t, DEFAULT)["suppressed"]))
    assert hidden == {"2024H1 end_reason:volgens_plan": False, "2024H1 end_reason:client": True,
                      "2024H1 end_reason:aanbieder": True, "2024H2 end_reason:volgens_plan": False,
                      "2024H2 end_reason:client": True, "2024H2 end_reason:aanbieder": True}


def _peers(rows, pooled=True):
    """Uitval 2024 of institutions (name, numerator, denominator), with their pooled row."""
    t = pd.DataFrame({
        "indicator": "jh_uitval", "scope": "institution", "institution": [r[0] for r in rows], "period": "2024",
        "care_type": "jeugdhulp", "category": "", "numerator": [float(r[1]) for r in rows],
        "denominator": [float(r[2]) for r in rows], "window_months": pd.array([pd.NA] * len(rows), dtype="Int64"),
        "suppressed": False})
    if pooled:
        total = t.iloc[:1].assign(scope="national", institution="", numerator=t["numerator"].sum(),
                                  denominator=t["denominator"].sum())
        t = pd.concat([t, total], ignore_index=True)
    return t


def test_one_hidden_institution_takes_the_smallest_visible_one_with_it():
    # A 3 of 15 is hidden; the pooled 75 of 195 minus B, C and D would give it back: D (30 records,
    # the fewest of the visible) goes too. With two hidden (A and E) nothing more goes; without a
    # pooled row (an institution's own delivery) nothing more goes either.
    one = resuppress(_peers([("A", 3, 15), ("B", 30, 80), ("C", 22, 70), ("D", 20, 30)]), DEFAULT)
    assert one["suppressed"].tolist() == [True, False, False, True, False]
    two = resuppress(_peers([("A", 3, 15), ("B", 30, 80), ("C", 22, 70), ("E", 2, 12)]), DEFAULT)
    assert two["suppressed"].tolist() == [True, False, False, True, False]
    alone = resuppress(_peers([("A", 3, 15), ("B", 30, 80)], pooled=False), DEFAULT)
    assert alone["suppressed"].tolist() == [True, False]
