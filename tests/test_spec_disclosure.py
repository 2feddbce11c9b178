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
    assert not r["suppressed"]


def test_small_denominator_suppressed(supp):
    r = supp.loc[("Q", "")]
    assert (r["numerator"], r["denominator"]) == (2.0, 9)
    assert r["suppressed"]
    # value and interval stay computed (the report hides them)
    assert r["value"] == pytest.approx(2 / 9)


def test_distribution_small_cell_and_complementary(supp):
    assert supp.loc[("P", "end_reason:onbekend"), "suppressed"]
    assert supp.loc[("P", "end_reason:voortijdig_client"), "suppressed"]
    assert not supp.loc[("P", "end_reason:volgens_plan"), "suppressed"]
    assert supp.loc[("P", "end_reason:volgens_plan"), "denominator"] == 45


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
