"""Separation in the case-mix model: constant levels left out, the LP check, Firth + FLIC.

Every expected value here is counted by hand or is a known closed form; none is produced by the
code under test.
"""
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from outcome_analysis.statistics.casemix_model import (
    Design,
    coefficient_table,
    firth_flic,
    firth_logistic,
    fit_logistic,
    separation,
)


def _two_by_two_records():
    # group 0: 0 events out of 10; group 1: 7 events out of 10
    g = np.repeat([0.0, 1.0], 10)
    y = np.concatenate([np.zeros(10), np.ones(7), np.zeros(3)])
    x = np.column_stack([np.ones(20), g])
    return x, y


# (a) Firth on a saturated 2x2 table = logit of each cell with 0.5 added to every cell count
def test_firth_saturated_two_by_two_is_cell_logit_plus_half_records():
    x, y = _two_by_two_records()
    beta, cov, converged = firth_logistic(x, y, np.ones(len(y)))
    assert converged
    low = np.log(0.5 / 10.5)
    high = np.log(7.5 / 3.5)
    assert beta[0] == pytest.approx(low, abs=1e-9)
    assert beta[1] == pytest.approx(high - low, abs=1e-9)


def test_firth_saturated_two_by_two_on_patterns_equals_records():
    x = np.array([[1.0, 0.0], [1.0, 1.0]])
    beta, _, converged = firth_logistic(x, np.array([0.0, 7.0]), np.array([10.0, 10.0]))
    assert converged
    assert beta[0] == pytest.approx(np.log(0.5 / 10.5), abs=1e-9)
    assert beta[1] == pytest.approx(np.log(7.5 / 3.5) - np.log(0.5 / 10.5), abs=1e-9)


# (b) FLIC: sum of predictions = sum of outcomes; slopes = plain Firth slopes
def test_flic_sum_of_predictions_equals_events_and_keeps_firth_slope():
    x, y = _two_by_two_records()
    firth, _, _ = firth_logistic(x, y, np.ones(len(y)))
    beta, cov, converged = firth_flic(x, y, np.ones(len(y)))
    assert converged
    p = 1 / (1 + np.exp(-(x @ beta)))
    # plain Firth predicts 10 * 0.5/11 + 10 * 7.5/11 = 80/11 events, not 7
    p_firth = 1 / (1 + np.exp(-(x @ firth)))
    assert p_firth.sum() == pytest.approx(80 / 11, abs=1e-8)
    assert p.sum() == pytest.approx(7.0, abs=1e-8)
    assert beta[1] == firth[1]
    assert np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0)


def test_flic_on_complete_separation_with_a_continuous_covariate():
    xv = np.array([-3.0, -2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, 3])
    y = (xv > 0).astype(float)
    x = np.column_stack([np.ones(10), xv])
    firth, _, _ = firth_logistic(x, y, np.ones(10))
    beta, _, _ = firth_flic(x, y, np.ones(10))
    assert np.all(np.isfinite(beta))
    assert (1 / (1 + np.exp(-(x @ beta)))).sum() == pytest.approx(5.0, abs=1e-8)
    assert beta[1] == firth[1]


# (c) the LP separation check
def test_separation_complete():
    xv = np.array([-2.0, -1, 0, 1, 2, 3])
    y = (xv > 0).astype(float)
    assert separation(np.column_stack([np.ones(6), xv]), y, np.ones(6))


def test_separation_quasi_complete():
    # x <= 0 -> 0; x >= 0 -> 1 except at x = 0, which has both outcomes
    xv = np.array([-2.0, -1, 0, 0, 1, 2])
    y = np.array([0.0, 0, 0, 1, 1, 1])
    assert separation(np.column_stack([np.ones(6), xv]), y, np.ones(6))


def test_separation_quasi_complete_on_patterns():
    # a 2x2 table with a zero cell: 0/10 against 7/10
    x = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert separation(x, np.array([0.0, 7.0]), np.array([10.0, 10.0]))


def test_no_separation_for_overlapping_data():
    xv = np.array([-2.0, -1, 0, 1, 2, 3])
    y = np.array([0.0, 1, 0, 1, 0, 1])
    assert not separation(np.column_stack([np.ones(6), xv]), y, np.ones(6))
    x = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert not separation(x, np.array([2.0, 7.0]), np.array([10.0, 10.0]))


# (d) levels in which the outcome does not vary
def test_constant_levels_marks_exactly_the_constant_level():
    frame = pd.DataFrame({"care_form": ["voogdij"] * 4 + ["ambulant"] * 6 + ["residentieel"] * 5})
    y = np.array([1, 1, 1, 1] + [0, 1, 0, 1, 1, 0] + [1, 0, 0, 1, 0], dtype=float)
    mask, notes = Design(frame, ["care_form"]).constant_levels(y)
    assert mask.tolist() == [True] * 4 + [False] * 11
    assert notes == ["voogdij (care_form = voogdij): all 4 records have the outcome 1; "
                     "left out of the model, expected = observed"]


def test_constant_levels_reference_and_missing_levels_are_left_out_too():
    # "ambulant" is the largest level (the reference) and has only outcome 0; the missing level only 1
    frame = pd.DataFrame({"care_form": ["ambulant"] * 6 + ["voogdij"] * 4 + [None] * 2})
    y = np.array([0] * 6 + [1, 0, 1, 0] + [1, 1], dtype=float)
    design = Design(frame, ["care_form"])
    assert design.covariates[0].levels[design.covariates[0].reference] == "ambulant"
    mask, notes = design.constant_levels(y)
    assert mask.tolist() == [True] * 6 + [False] * 4 + [True] * 2
    assert notes == [
        "ambulant (care_form = ambulant): all 6 records have the outcome 0; "
        "left out of the model, expected = observed",
        "missing (care_form = missing): all 2 records have the outcome 1; "
        "left out of the model, expected = observed",
    ]


def test_constant_levels_iterates_to_a_fixpoint():
    # care_form "voogdij" (records 0-2) is all 1. Among the other records, age "18+" (records
    # 3, 4 left; record 2 was voogdij with outcome 1) has only outcome 0 -- constant only after
    # voogdij is left out.
    frame = pd.DataFrame({
        "care_form": ["voogdij"] * 3 + ["ambulant"] * 7,
        "age": ["12-17", "12-17", "18+", "18+", "18+", "12-17", "12-17", "12-17", "12-17", "12-17"],
    })
    y = np.array([1, 1, 1, 0, 0, 1, 0, 1, 0, 1], dtype=float)
    mask, notes = Design(frame, ["care_form", "age"]).constant_levels(y)
    assert mask.tolist() == [True] * 5 + [False] * 5
    assert notes == [
        "voogdij (care_form = voogdij): all 3 records have the outcome 1; "
        "left out of the model, expected = observed",
        "18+ (age = 18+): all 2 remaining records have the outcome 0; "
        "left out of the model, expected = observed",
    ]
    # the design rebuilt on the remaining records: care_form has a single level, so no column
    rest = Design(frame[~mask], ["care_form", "age"])
    assert [t[0] for t in rest.terms()] == ["Intercept"]
    assert rest.matrix().shape == (5, 1)
    p, res, params, bse, kept, method, converged, note = fit_logistic(rest, y[~mask])
    assert method == "irls" and kept == ["Intercept"]
    assert p.sum() == pytest.approx(3.0, abs=1e-8)


def test_constant_levels_none_found():
    frame = pd.DataFrame({"care_form": ["a", "a", "b", "b"]})
    mask, notes = Design(frame, ["care_form"]).constant_levels(np.array([0.0, 1, 0, 1]))
    assert not mask.any() and notes == []


# (e) fit_logistic chooses Firth + FLIC under separation and IRLS otherwise
def test_fit_logistic_quasi_separated_uses_firth_flic():
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"care_form": rng.choice(["a", "b", "voogdij"], n, p=[0.5, 0.4, 0.1]),
                          "gender": rng.choice(["m", "f"], n)})
    y = (rng.random(n) < 0.4).astype(float)
    y[frame["care_form"].to_numpy() == "voogdij"] = 1.0
    design = Design(frame, ["care_form", "gender"])
    p, res, params, bse, kept, method, converged, note = fit_logistic(design, y)
    assert method == "firth_flic" and converged and res is None
    assert np.all(np.isfinite(params)) and np.all(np.isfinite(bse))
    assert p.sum() == pytest.approx(y.sum(), abs=1e-8)
    assert "separation" in note and "FLIC" in note
    table = coefficient_table(design, kept, params, bse, res, odds=True)
    assert table[["ci_low", "ci_high", "p_value"]].notna().all().all()
    row = table.set_index("term").loc["care_form[voogdij]"]
    assert row["ci_low"] < row["odds_ratio"] < row["ci_high"]


def test_fit_logistic_completely_separated_baseline_uses_firth_flic():
    xv = np.linspace(-2, 2, 40)
    frame = pd.DataFrame({"baseline": xv})
    y = (xv > 0.1).astype(float)
    p, res, params, bse, kept, method, converged, note = fit_logistic(Design(frame, ["baseline"]), y)
    assert method == "firth_flic"
    assert np.all(np.isfinite(params)) and params[1] > 0
    assert p.sum() == pytest.approx(y.sum(), abs=1e-8)


def test_fit_logistic_irls_equals_statsmodels_glm():
    rng = np.random.default_rng(5)
    n = 300
    frame = pd.DataFrame({"care_form": rng.choice(["a", "b", "c"], n), "baseline": rng.normal(size=n)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + 0.8 * frame["baseline"].to_numpy())))).astype(float)
    design = Design(frame, ["care_form", "baseline"])
    p, res, params, bse, kept, method, converged, note = fit_logistic(design, y)
    assert method == "irls" and converged and note == ""
    levels = design.covariates[0].levels
    ref = levels[design.covariates[0].reference]
    cols = [np.ones(n)] + [(frame["care_form"] == lev).to_numpy(float) for lev in levels if lev != ref]
    x = np.column_stack(cols + [frame["baseline"].to_numpy()])
    glm = sm.GLM(y, x, family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(params, glm.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(bse, glm.bse, rtol=1e-8)
    np.testing.assert_allclose(p, glm.fittedvalues, rtol=1e-8)


def test_coefficient_table_wald_intervals_without_result():
    frame = pd.DataFrame({"care_form": ["a", "a", "a", "b", "b"]})
    design = Design(frame, ["care_form"])
    kept = [t[0] for t in design.terms()]
    table = coefficient_table(design, kept, [0.0, 1.0], [0.5, 0.5], None, odds=False, conf=0.95)
    z = 1.959963984540054
    assert table["ci_low"].tolist() == pytest.approx([-z * 0.5, 1 - z * 0.5])
    assert table["ci_high"].tolist() == pytest.approx([z * 0.5, 1 + z * 0.5])
    assert table["p_value"].tolist() == pytest.approx([1.0, 0.0455002638963584])
