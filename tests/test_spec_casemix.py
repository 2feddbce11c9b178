"""Specification: docs/indicators.md, section "Comparisons and case-mix context".

Expected numbers come from independent formulas written out here (Garwood 1936 for the exact Poisson
interval of O/E; the normal limits 1 +/- z sqrt(sum p(1-p)) / E for an O/E of a sum of Bernoullis) or
from hand counts: indirect standardisation, the national figure of a per-youth indicator (each youth
once, as ``compute`` counts it), and the context anchors and kwesties.
"""
from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from outcome_analysis import casemix, context
from outcome_analysis.indicators import compute
from toydata import toy_dataset
from toydata import trajectory as T

REF = "2025-12-31"


# ------------------------------------------------------------------ national value of a per-youth indicator
# k1: episode ends at A 2023-02-01, new measure at B 2023-05-01 (ends 2023-09-01, nothing after)
#     -> A: 1, B: 0; nationally k1's LAST episode (B) -> 0
# k2: episode ends at A 2023-03-01, next measure 2024-06-01 (15 months) -> 0 at 12 months
# national herhaald beroep 2023 (12 m) = 0 / 2 youths.  casemix gives 1 / 3 (k1 counted at A and B).
ROWS = [T("a1", "k1", "A", "jb", "ots", "2022-01-01", "2023-02-01", "volgens_plan"),
        T("b1", "k1", "B", "jb", "ots", "2023-05-01", "2023-09-01", "volgens_plan"),
        T("a2", "k2", "A", "jb", "ots", "2022-01-01", "2023-03-01", "volgens_plan"),
        T("a3", "k2", "A", "jb", "ots", "2024-06-01", "2024-07-01", "volgens_plan")]


def test_casemix_national_value_equals_the_national_figure():
    data = toy_dataset(ROWS, reference_date="2025-12-31")
    out = compute(data, "jbjr_herhaald_beroep")
    nat = out[(out.scope == "national") & (out.period == "2023") & (out.category == "") & (out.window_months == 12)]
    assert (nat.numerator.sum(), nat.denominator.sum()) == (0.0, 2)
    cm = casemix.adjust(data, "jbjr_herhaald_beroep", period="2023")
    assert cm["national_value"].iloc[0] == pytest.approx(0 / 2)


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
    assert cm.loc["A", "expected"] == pytest.approx(24.0, rel=1e-6)
    assert cm.loc["B", "expected"] == pytest.approx(18.0, rel=1e-6)
    assert cm["oe_ratio"].to_numpy() == pytest.approx([1.0, 1.0], rel=1e-6)
    assert cm["national_value"].to_numpy() == pytest.approx([0.35, 0.35])
    assert cm["adjusted_value"].to_numpy() == pytest.approx([0.35, 0.35], rel=1e-6)
    assert cm.loc["A", "raw_value"] == pytest.approx(0.40)


def test_casemix_oe_interval_is_the_verdicts_own(cm):
    # indicators.md: the interval beside the verdict is O/E -/+ z sqrt(s^2 + tau2) at signal_limit, with
    # s^2 = sum p(1 - p) / E^2 (A: 13.2 / 24^2, B: 11.4 / 18^2, see the funnel test below; no tau2 with
    # two institutions), so that verdict and interval cannot disagree
    z = sps.norm.ppf(1 - 0.002 / 2)
    for inst, var, e in (("A", 13.2, 24.0), ("B", 11.4, 18.0)):
        oe = cm.loc[inst, "oe_ratio"]
        assert cm.loc[inst, "oe_ci_low"] == pytest.approx(oe - z * math.sqrt(var) / e, rel=1e-5)
        assert cm.loc[inst, "oe_ci_high"] == pytest.approx(oe + z * math.sqrt(var) / e, rel=1e-5)
        assert cm.loc[inst, "oe_ci_level"] == 0.998


def test_casemix_funnel_limits_bernoulli_variance(cm):
    z = sps.norm.ppf(1 - 0.002 / 2)
    for inst, var, e in (("A", 13.2, 24.0), ("B", 11.4, 18.0)):
        assert cm.loc[inst, "funnel_high"] == pytest.approx(1 + z * math.sqrt(var) / e, rel=1e-5)
        assert cm.loc[inst, "funnel_low"] == pytest.approx(1 - z * math.sqrt(var) / e, rel=1e-5)
        assert cm.loc[inst, "signal"] == "within"


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
