"""Audit: intervals, disclosure control, case-mix (indirect standardisation), funnel limits and context.

Expected numbers come from independent formulas written out here (Wilson 1927; Garwood 1936 for the
exact Poisson interval of O/E; Spiegelhalter 2005 A.1.1 for exact binomial funnel limits; the
normal limits 1 +/- z sqrt(sum p(1-p)) / E for an O/E of a sum of Bernoullis) or from hand counts.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from outcome_analysis import casemix, context, disclosure, funnel, stats
from outcome_analysis.indicators import compute
from toydata import toy_dataset

REF = "2025-12-31"


def T(tid, client, inst, care_type, form, start, end=None, reason=None, **items):
    return {"trajectory_id": tid, "client_id": client, "institution": inst, "care_type": care_type,
            "care_form": form, "start_date": start, "end_date": end, "end_reason": reason,
            "birth_year": 2010, **items}


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


# ------------------------------------------------------------------ case-mix
# jh_uitval, 2024. Stratum rates are the same at both institutions: complex 50%, enkelvoudig 20%.
#   A: 40 complex (20 uitval), 20 enkelvoudig (4)  -> O = 24, raw 24/60 = .40
#   B: 20 complex (10 uitval), 40 enkelvoudig (8)  -> O = 18, raw 18/60 = .30
# A logistic model on complexity reproduces the stratum rates exactly (saturated), so
#   E_A = 40 * .5 + 20 * .2 = 24, E_B = 20 * .5 + 40 * .2 = 18  -> O/E = 1 for both;
#   national share = 42 / 120 = .35; adjusted = O/E x national = .35 for both.
# O/E interval = Garwood(O) / E; funnel limits at 99.8%: 1 +/- z sqrt(sum p(1-p)) / E with
#   sum p(1-p) = 40 * .25 + 20 * .16 = 13.2 (A) and 20 * .25 + 40 * .16 = 11.4 (B).
def _cm_rows():
    rows = []
    for inst, n_complex, n_single in (("A", 40, 20), ("B", 20, 40)):
        for i in range(n_complex):
            rows.append(T(f"{inst}c{i}", f"{inst}kc{i}", inst, "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01",
                          "voortijdig_client" if i < n_complex // 2 else "volgens_plan", complexity="complex"))
        for i in range(n_single):
            rows.append(T(f"{inst}s{i}", f"{inst}ks{i}", inst, "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01",
                          "voortijdig_client" if i < n_single // 5 else "volgens_plan", complexity="enkelvoudig"))
    # records that may NOT enter the model: an onbekend end reason (outcome unknown) and a running one
    rows.append(T("Aunk", "Akunk", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "onbekend", complexity="complex"))
    rows.append(T("Arun", "Akrun", "A", "jeugdhulp", "ambulant", "2024-01-01", None, None, complexity="complex"))
    return rows


@pytest.fixture(scope="module")
def cm():
    out = casemix.adjust(toy_dataset(_cm_rows(), reference_date=REF), "jh_uitval", period="2024",
                         covariates=["complexity"])
    return out.set_index("institution")


def test_casemix_indirect_standardisation_by_hand(cm):
    assert cm.loc["A", "n"] == 60 and cm.loc["B", "n"] == 60  # onbekend and running left out
    assert (cm.loc["A", "observed"], cm.loc["B", "observed"]) == (24.0, 18.0)
    # rel 1e-4, not 1e-9: this saturated two-pattern model is currently fitted by the ridge fallback
    # (see the audit report), which moves E by about 1e-4 against the exact ML answer
    assert cm.loc["A", "expected"] == pytest.approx(24.0, rel=1e-4)
    assert cm.loc["B", "expected"] == pytest.approx(18.0, rel=1e-4)
    assert cm["oe_ratio"].to_numpy() == pytest.approx([1.0, 1.0], rel=1e-4)
    assert cm["national_value"].to_numpy() == pytest.approx([0.35, 0.35])
    assert cm["adjusted_value"].to_numpy() == pytest.approx([0.35, 0.35], rel=1e-4)
    assert cm.loc["A", "raw_value"] == pytest.approx(0.40)


def test_casemix_oe_interval_is_exact_poisson_over_expected(cm):
    for inst, o in (("A", 24), ("B", 18)):
        e = cm.loc[inst, "expected"]
        assert cm.loc[inst, "oe_ci_low"] == pytest.approx(sps.chi2.ppf(0.025, 2 * o) / 2 / e, rel=1e-9)
        assert cm.loc[inst, "oe_ci_high"] == pytest.approx(sps.chi2.ppf(0.975, 2 * o + 2) / 2 / e, rel=1e-9)


def test_casemix_funnel_limits_bernoulli_variance(cm):
    z = sps.norm.ppf(1 - 0.002 / 2)
    for inst, var, e in (("A", 13.2, 24.0), ("B", 11.4, 18.0)):
        assert cm.loc[inst, "funnel_high"] == pytest.approx(1 + z * math.sqrt(var) / e, rel=1e-5)
        assert cm.loc[inst, "funnel_low"] == pytest.approx(1 - z * math.sqrt(var) / e, rel=1e-5)
        assert cm.loc[inst, "signal"] == "within"


def test_casemix_uses_only_headline_rows_with_window_passed_and_outcome_known():
    base = pd.DataFrame({"institution": ["A", "B"] * 40, "care_type": "jeugdhulp", "period": "2024",
                         "category": "", "outcome": [1.0, 0.0, 0.0, 1.0] * 20, "excluded_window": False,
                         "complexity": "complex"})
    noise = pd.concat([
        base.head(10).assign(category="end_reason:volgens_plan"),  # a breakdown row
        base.head(10).assign(category="window:24"),                 # second window of herhaald beroep
        base.head(10).assign(excluded_window=True),                 # window not passed
        base.head(10).assign(outcome=np.nan),                       # outcome unknown
    ])
    out = casemix.adjust_records(pd.concat([base, noise], ignore_index=True), covariates=["complexity"])
    assert out["n"].sum() == 80
    assert out["observed"].sum() == 40


# ------------------------------------------------------------------ funnel spot checks
def test_exact_binomial_funnel_limits_spot_check():
    # Spiegelhalter (2005) A.1.1 written out for n = 50, p0 = .3, 95%:
    n, p0 = 50, 0.3
    for p, which in ((0.025, 0), (0.975, 1)):
        r = sps.binom.ppf(p, n, p0)
        alpha = (sps.binom.cdf(r, n, p0) - p) / (sps.binom.cdf(r, n, p0) - sps.binom.cdf(r - 1, n, p0))
        assert funnel.binomial_limits([n], p0, 0.95)[which][0] == pytest.approx((r - alpha) / n, abs=1e-12)


def test_share_funnel_normal_with_tau2_spot_check():
    low, high = funnel.binomial_limits([200], 0.4, 0.998, tau2=0.001)
    z = sps.norm.ppf(0.999)
    half = z * math.sqrt(0.4 * 0.6 / 200 + 0.001)
    assert (low[0], high[0]) == pytest.approx((0.4 - half, 0.4 + half))


def test_overdispersion_tau2_formula_spot_check():
    # z = [-3, -1, 0, 1, 3], s = [.1, .1, .2, .2, .2], no winsorising:
    # phi = (9 + 1 + 0 + 1 + 9) / 5 = 4; w = [100, 100, 25, 25, 25]
    # tau2 = (5 * 4 - 4) / (275 - (100^2 * 2 + 25^2 * 3) / 275) = 16 / (275 - 21875 / 275)
    od = funnel.overdispersion([-3, -1, 0, 1, 3], [0.1, 0.1, 0.2, 0.2, 0.2], trim=0.0)
    assert od.phi == pytest.approx(4.0)
    assert od.tau2 == pytest.approx(16 / (275 - 21875 / 275))
    assert od.p_value == pytest.approx(sps.chi2.sf(20, 4))
    assert od.applied


# ------------------------------------------------------------------ context anchors and kwesties
# GI, jb: x1 starts 2023-03-01, ends 2024-02-01: target group (by start) -> 2023; alliance (by end) -> 2024
#         x2 starts 2024-01-01, ends 2024-05-01; x3 starts 2024-02-01, running.
# out_of_home: x1 yes, x2 no, x3 yes -> doelgroep 2023: 1/1; 2024: 1/2 (x2, x3)
# working_alliance 4 (x1), 2 (x2) -> 2024 mean over the ended = 3.0 (n = 2); 2023 none
# issues (ended 2024: x1, x2): "wachtlijst;overig", "wachtlijst" -> wachtlijst 2/2, overig 1/2, wetgeving 0/2;
# x3 (running) names personeelstekort: not counted (kwesties are anchored on the end)
CTX = [T("x1", "k1", "GI", "jb", "ots", "2023-03-01", "2024-02-01", "volgens_plan", out_of_home=True,
         working_alliance=4.0, issues="wachtlijst;overig"),
       T("x2", "k2", "GI", "jb", "ots", "2024-01-01", "2024-05-01", "volgens_plan", out_of_home=False,
         working_alliance=2.0, issues="wachtlijst"),
       T("x3", "k3", "GI", "jb", "ots", "2024-02-01", None, None, out_of_home=True, issues="personeelstekort")]


@pytest.fixture(scope="module")
def ctx():
    out = context.compute_context(toy_dataset(CTX, reference_date=REF))
    return out[out["scope"] == "institution"].set_index(["indicator", "period", "category"])


def test_context_target_group_by_start(ctx):
    assert tuple(ctx.loc[("ctx_doelgroep", "2023", ""), ["numerator", "denominator"]]) == (1.0, 1)
    assert tuple(ctx.loc[("ctx_doelgroep", "2024", ""), ["numerator", "denominator"]]) == (1.0, 2)


def test_context_working_alliance_by_end(ctx):
    r = ctx.loc[("ctx_werkrelatie", "2024", "")]
    assert (r["value"], r["denominator"]) == (3.0, 2)
    assert ("ctx_werkrelatie", "2023", "") not in ctx.index


@pytest.mark.parametrize("code, n", [("wachtlijst", 2), ("overig", 1), ("wetgeving", 0), ("personeelstekort", 0)])
def test_context_kwesties_counts(ctx, code, n):
    r = ctx.loc[("ctx_kwesties", "2024", f"issue:{code}")]
    assert (r["numerator"], r["denominator"]) == (n, 2)
