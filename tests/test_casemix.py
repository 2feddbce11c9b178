"""Tests of outcome_analysis.casemix on simulated records (fixed seeds).

Where the expected numbers come from: the simulations below know the true institution effects;
expected counts are checked against an independent record-level fit (pandas.get_dummies +
statsmodels GLM Binomial); the O/E interval against the Garwood chi-square formula written out.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from outcome_analysis import casemix
from outcome_analysis.settings import DEFAULT
from toydata import toy_dataset
from toydata import trajectory as T

COVARIATES = ["complexity", "perspective", "age_group", "sex", "out_of_home", "earlier_trajectories"]
ARCHITECTURE_COLUMNS = ["institution", "care_type", "period", "n", "observed", "expected", "oe_ratio",
                        "oe_ci_low", "oe_ci_high", "oe_ci_level", "national_value", "raw_value",
                        "adjusted_value", "signal", "n_missing_covariates", "n_fixed", "oe_shrunk"]


def simulate(n_inst=60, seed=0, effect_sd=0.3, sizes=(150, 1200), casemix_strength=2.5):
    """Records with strong case-mix differences between institutions and known effects (logit scale)."""
    rng = np.random.default_rng(seed)
    size = rng.integers(sizes[0], sizes[1], n_inst)
    inst = np.repeat(np.arange(n_inst), size)
    n = len(inst)
    share_high = rng.uniform(0.05, 0.95, n_inst)  # institutions differ strongly in complexity
    complexity = np.where(rng.random(n) < share_high[inst], "hoog",
                          np.where(rng.random(n) < 0.5, "midden", "laag"))
    perspective = np.where(rng.random(n) < rng.uniform(0.1, 0.9, n_inst)[inst], "terug_naar_huis",
                           "zelfstandig")
    age = rng.choice(["0-3", "4-11", "12-15", "16-17"], n)
    sex = rng.choice(["m", "v"], n)
    out_of_home = rng.random(n) < rng.uniform(0.1, 0.6, n_inst)[inst]
    earlier = rng.poisson(rng.uniform(0.2, 2.0, n_inst)[inst])
    effect = rng.normal(0, effect_sd, n_inst) if effect_sd > 0 else np.zeros(n_inst)
    lp = (0.9 - casemix_strength * (complexity == "hoog") - 0.7 * (complexity == "midden")
          + 0.8 * (perspective == "terug_naar_huis") + 0.2 * (age == "16-17") - 0.5 * out_of_home
          - 0.4 * np.minimum(earlier, 2) + effect[inst])
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(float)
    names = np.array([f"I{i:03d}" for i in range(n_inst)])
    recs = pd.DataFrame({
        "institution": names[inst], "care_type": "jeugdhulp", "period": "2024", "category": "",
        "outcome": y, "excluded_window": False, "complexity": complexity, "perspective": perspective,
        "age_group": age, "sex": sex, "out_of_home": out_of_home, "earlier_trajectories": earlier,
    })
    return recs, pd.Series(effect, index=names)


@pytest.fixture(scope="module")
def population():
    recs, effect = simulate()
    out = casemix.adjust_records(recs, covariates=COVARIATES).set_index("institution")
    return recs, effect, out


def test_output_columns_follow_architecture(population):
    _, _, out = population
    cols = out.reset_index().columns.tolist()
    assert cols[: len(ARCHITECTURE_COLUMNS)] == ARCHITECTURE_COLUMNS
    assert set(out["signal"]) <= {"higher", "lower", "within", "none"}


def test_adjusted_oe_recovers_ranking_better_than_raw(population):
    _, effect, out = population
    rho_oe = stats.spearmanr(out["oe_ratio"], effect[out.index]).statistic
    rho_raw = stats.spearmanr(out["raw_value"], effect[out.index]).statistic
    assert rho_oe > 0.85
    assert rho_oe > rho_raw + 0.25, (rho_oe, rho_raw)


def test_indirect_standardisation_identities(population):
    recs, _, out = population
    # a logistic model with an intercept reproduces the total: sum O == sum E
    assert out["observed"].sum() == pytest.approx(out["expected"].sum(), rel=1e-8)
    national = recs["outcome"].mean()
    assert out["national_value"].iloc[0] == pytest.approx(national)
    assert out["adjusted_value"].to_numpy() == pytest.approx((out["oe_ratio"] * national).to_numpy())
    assert out["raw_value"].to_numpy() == pytest.approx((out["observed"] / out["n"]).to_numpy())
    # the interval beside the verdict is the verdict's own: O/E -/+ z_q sqrt(s^2 + tau2) at the signal
    # level, with s = sqrt(sum p(1-p)) / E and the same half-width as the funnel limits around 1
    assert (out["oe_ci_level"] == 0.998).all()
    half = out["funnel_high"] - 1
    assert (out["oe_ci_high"] - out["oe_ratio"]).to_numpy() == pytest.approx(half.to_numpy(), rel=1e-9)
    assert ((out["signal"] == "higher") == (out["oe_ci_low"] > 1)).all()
    assert ((out["signal"] == "lower") == (out["oe_ci_high"] < 1)).all()


def test_expected_matches_independent_record_level_fit():
    recs, _ = simulate(n_inst=15, seed=5, sizes=(100, 300))
    out = casemix.adjust_records(recs, covariates=COVARIATES).set_index("institution")
    x = recs[COVARIATES].copy()
    x["earlier_trajectories"] = pd.cut(x["earlier_trajectories"], [-1, 0, 1, np.inf],
                                       labels=["0", "1", "2+"]).astype(str)
    x = pd.get_dummies(x.astype(str), drop_first=True, dtype=float)
    fit = sm.GLM(recs["outcome"].to_numpy(), sm.add_constant(x.to_numpy()),
                 family=sm.families.Binomial()).fit()
    expected = pd.Series(fit.fittedvalues, index=recs.index).groupby(recs["institution"]).sum()
    assert out["expected"].to_numpy() == pytest.approx(expected[out.index].to_numpy(), rel=1e-6)


def test_null_institutions_flagged_at_nominal_rate():
    # 400 institutions without any effect; 95% limits: flags ~ Binomial(400, 0.05), mean 20, sd 4.4
    recs, _ = simulate(n_inst=400, seed=11, effect_sd=0.0, sizes=(80, 400))
    out = casemix.adjust_records(recs, covariates=COVARIATES, settings=DEFAULT.replace(signal_limit=0.95))
    flagged = int((out["signal"] != "within").sum())
    low, high = stats.binom.ppf([0.0005, 0.9995], 400, 0.05)  # 99.9% band: 7 .. 35
    assert low <= flagged <= high, flagged
    assert not out.attrs["summary"].overdispersion["applied"]


def test_overdispersion_detected_and_reported(population):
    _, _, out = population
    od = out.attrs["summary"].overdispersion
    assert od["applied"] and od["tau2"] > 0 and od["phi"] > 1 and od["p_value"] < 0.05
    # shrinkage pulls every O/E towards 1, and small institutions the most
    dist_raw = np.abs(np.log(out["oe_ratio"]))
    dist_shrunk = np.abs(np.log(out["oe_shrunk"]))
    assert (dist_shrunk <= dist_raw + 0.02).all()
    assert (out["oe_shrunk_ci_low"] <= out["oe_shrunk"]).all() and (out["oe_shrunk"] <= out["oe_shrunk_ci_high"]).all()


def test_shrinkage_tempers_a_small_extreme_institution():
    recs, _ = simulate(n_inst=40, seed=2, effect_sd=0.2)
    rng = np.random.default_rng(9)
    tiny = recs.sample(12, random_state=1).assign(institution="TINY", outcome=1.0)
    out = casemix.adjust_records(pd.concat([recs, tiny], ignore_index=True),
                                 covariates=COVARIATES).set_index("institution")
    assert out.loc["TINY", "oe_ratio"] > out.loc["TINY", "oe_shrunk"] > 1
    assert rng is not None


def test_missing_covariates_are_a_level_and_counted():
    recs, _ = simulate(n_inst=20, seed=3, sizes=(100, 300))
    recs["complexity"] = recs["complexity"].astype(object)
    rng = np.random.default_rng(4)
    gone = rng.random(len(recs)) < 0.1
    recs.loc[gone, "complexity"] = None
    recs.loc[rng.random(len(recs)) < 0.05, "earlier_trajectories"] = np.nan
    lacking = gone | recs["earlier_trajectories"].isna().to_numpy()
    out = casemix.adjust_records(recs, covariates=COVARIATES).set_index("institution")
    want = pd.Series(lacking, index=recs.index).groupby(recs["institution"]).sum()
    assert out["n_missing_covariates"].to_dict() == want.to_dict()
    assert out["n"].sum() == len(recs)  # never dropped
    summary = out.attrs["summary"]
    assert summary.n_lacking_covariates == int(lacking.sum())
    terms = summary.coefficients["term"].tolist()
    assert "complexity[missing]" in terms and "earlier_trajectories[missing]" in terms


def test_unusable_records_are_left_out():
    recs, _ = simulate(n_inst=10, seed=6, sizes=(100, 200))
    extra = recs.head(50).assign(outcome=np.nan)
    window = recs.head(30).assign(excluded_window=True)
    other = recs.head(20).assign(category="family:ouder")
    out = casemix.adjust_records(pd.concat([recs, extra, window, other], ignore_index=True),
                                 covariates=COVARIATES)
    assert out["n"].sum() == len(recs)


def test_summary_fields(population):
    recs, _, out = population
    s = out.attrs["summary"]
    assert isinstance(s, casemix.ModelSummary) and out.attrs["summaries"] == [s]
    assert s.model == "logistic" and s.fit_method == "irls" and s.converged
    assert 0.5 < s.c_statistic < 1
    assert s.calibration["decile"].tolist() == list(range(1, 11))
    assert s.calibration["n"].sum() == s.n_records == len(recs)
    assert s.calibration["observed"].sum() == pytest.approx(recs["outcome"].sum())
    assert s.calibration["expected"].sum() == pytest.approx(recs["outcome"].sum())
    assert list(s.coefficients.columns) == ["term", "covariate", "reference", "odds_ratio", "ci_low",
                                            "ci_high", "p_value"]
    comp = s.coefficients[s.coefficients["covariate"] == "complexity"]
    assert len(comp) == 2 and (comp["reference"] == recs["complexity"].mode()[0]).all()  # most frequent
    assert ((comp["ci_low"] < comp["odds_ratio"]) & (comp["odds_ratio"] < comp["ci_high"])).all()
    assert set(s.overdispersion) >= {"phi", "tau2", "p_value", "applied"}
    assert "c-statistiek" in s.to_markdown("nl") and "c-statistic" in s.to_markdown("en")
    assert s.to_frame("nl")["item"].str.contains("gecorrigeerd voor").any()
    # the labels come from data/texts/casemix.yaml; an unknown language is refused as everywhere
    assert s.to_markdown("en").startswith(
        "Comparisons between institutions are adjusted for the characteristics of the youths they serve "
        "(indirect standardisation with a logistic regression)")
    assert s.coefficients_frame("nl").columns.tolist() == ["term", "odds ratio", "95% onder", "95% boven", "p"]
    with pytest.raises(casemix.CaseMixError, match=r"unknown report language 'de'; use one of \('nl', 'en'\)"):
        s.to_frame("de")


def test_c_statistic_against_pairwise_count():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    p = np.round(rng.random(60), 1)  # many ties
    pairs = [(1.0 if a > b else 0.5 if a == b else 0.0) for a, ya in zip(p, y) for b, yb in zip(p, y)
             if ya == 1 and yb == 0]
    assert casemix.c_statistic(y, p) == pytest.approx(np.mean(pairs))


def test_too_few_records_or_no_events_give_a_clear_result():
    recs, _ = simulate(n_inst=3, seed=7, sizes=(5, 10))
    out = casemix.adjust_records(recs, covariates=COVARIATES)
    assert out["expected"].isna().all() and (out["signal"] == "none").all()
    assert "records" in out.attrs["summary"].note and out.attrs["summary"].model == "none"
    recs2, _ = simulate(n_inst=5, seed=7, sizes=(100, 200))
    out2 = casemix.adjust_records(recs2.assign(outcome=0.0), covariates=COVARIATES)
    assert out2["oe_ratio"].isna().all() and "events" in out2.attrs["summary"].note


def test_separation_is_handled_and_reported():
    recs, _ = simulate(n_inst=20, seed=8, sizes=(100, 300))
    recs["care_form"] = np.where(np.arange(len(recs)) % 40 == 0, "crisis", "ambulant")
    recs.loc[recs["care_form"] == "crisis", "outcome"] = 1.0  # perfect prediction in one level
    out = casemix.adjust_records(recs, covariates=COVARIATES + ["care_form"])
    s = out.attrs["summary"]
    crisis = recs["care_form"] == "crisis"
    # the level is left out of the fit with E = O (never merged into the reference level)
    assert any(d.startswith("crisis (care_form = crisis)") for d in s.dropped_terms), s.dropped_terms
    assert s.n_fixed == int(crisis.sum()) and out["n_fixed"].sum() == int(crisis.sum())
    assert "left out of the model" in s.note
    assert np.isfinite(out["expected"]).all()
    assert out["observed"].sum() == pytest.approx(out["expected"].sum(), rel=1e-6)


def test_one_model_per_period_and_care_type():
    a, _ = simulate(n_inst=8, seed=1, sizes=(100, 200))
    b, _ = simulate(n_inst=8, seed=2, sizes=(100, 200))
    recs = pd.concat([a, b.assign(period="2025"), a.assign(care_type="jb")], ignore_index=True)
    out = casemix.adjust_records(recs, covariates=COVARIATES)
    assert len(out.attrs["summaries"]) == 3 and len(out) == 24
    assert out.groupby(["period", "care_type"]).apply(
        lambda g: np.isclose(g["observed"].sum(), g["expected"].sum())).all()


def test_share_with_baseline_uses_it():
    recs, _ = simulate(n_inst=20, seed=12, sizes=(100, 300))
    recs["baseline"] = np.random.default_rng(1).normal(60, 10, len(recs))
    out = casemix.adjust_records(recs, covariates=COVARIATES)
    assert "baseline" in out.attrs["summary"].covariates
    assert "baseline" in out.attrs["summary"].coefficients["term"].tolist()


def test_mean_change_with_baseline_recovers_effects():
    rng = np.random.default_rng(21)
    n_inst = 50
    size = rng.integers(80, 400, n_inst)
    inst = np.repeat(np.arange(n_inst), size)
    n = len(inst)
    # institutions see youths with very different starting scores (T-scores)
    baseline = rng.normal(rng.uniform(50, 75, n_inst)[inst], 8)
    complexity = rng.choice(["laag", "midden", "hoog"], n)
    effect = rng.normal(0, 1.5, n_inst)
    # law of initial value: the higher the start, the larger the (negative = better) change
    change = -0.5 * (baseline - 60) + 2.0 * (complexity == "hoog") + effect[inst] + rng.normal(0, 6, n)
    names = np.array([f"I{i:02d}" for i in range(n_inst)])
    recs = pd.DataFrame({"institution": names[inst], "care_type": "jeugdhulp", "period": "2024",
                         "outcome": (change < -5).astype(float), "baseline": baseline,
                         "change": change, "complexity": complexity})
    out = casemix.adjust_records(recs, covariates=["complexity"], kind="mean").set_index("institution")
    truth = pd.Series(effect, index=names)[out.index]
    rho_adj = stats.spearmanr(out["adjusted_mean"], truth).statistic
    rho_raw = stats.spearmanr(out["observed_mean"], truth).statistic
    assert rho_adj > 0.8 and rho_adj > rho_raw + 0.3, (rho_adj, rho_raw)
    # adjusted mean - national mean estimates the effect (minus its average) within noise
    err = (out["adjusted_mean"] - out["national_mean"]) - (truth - np.average(truth, weights=out["n"]))
    assert np.abs(err).max() < 3.5 * 6 / np.sqrt(out["n"].min())
    assert (out["ci_low"] < out["adjusted_mean"]).all() and (out["adjusted_mean"] < out["ci_high"]).all()
    s = out.attrs["summary"]
    assert s.model == "linear" and "baseline" in s.covariates
    est = s.coefficients.set_index("term").loc["baseline", "estimate"]
    assert est == pytest.approx(-0.5, abs=0.03)
    assert s.calibration["n"].sum() == n


def test_unknown_covariate_is_an_error_naming_it():
    recs, _ = simulate(n_inst=3, seed=0, sizes=(50, 60))
    with pytest.raises(casemix.CaseMixError, match="shoe_size"):
        casemix.adjust_records(recs, covariates=["shoe_size"])


def test_adjust_on_a_demo_dataset():
    demo = pytest.importorskip("outcome_analysis.demo")
    from outcome_analysis import registry

    data = demo.make_demo(seed=0, scale=0.3)
    out = casemix.adjust(data, "jh_uitval", period="2023")
    assert out.columns.tolist()[: len(ARCHITECTURE_COLUMNS)] == ARCHITECTURE_COLUMNS
    assert set(out["period"]) == {"2023"} and set(out["care_type"]) <= set(registry.get("jh_uitval").care_types)
    summary = casemix.fit_summary(data.trajectories, "jh_uitval", period="2023")  # a bare DataFrame
    assert summary.indicator == "jh_uitval" and summary.n_records == out["n"].sum()
    not_adjusted = next(i for i in registry.ids() if not registry.get(i).casemix)
    with pytest.raises(casemix.CaseMixError, match=not_adjusted):
        casemix.adjust(data, not_adjusted)


# ------------------------------------------------------------------ fit method of a saturated model
# A saturated pattern-level logistic fit (fitted = observed per pattern) makes statsmodels warn
# 'Perfect separation or prediction detected'; that is no separation: no fallback to ridge.
def test_well_posed_model_is_fitted_by_ml():
    rows = []
    for inst, n_c, n_s in (("A", 40, 20), ("B", 20, 40)):
        rows += [T(f"{inst}c{i}", f"{inst}c{i}", inst, "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01",
                   "voortijdig_client" if i < n_c // 2 else "volgens_plan", complexity="complex") for i in range(n_c)]
        rows += [T(f"{inst}s{i}", f"{inst}s{i}", inst, "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01",
                   "voortijdig_client" if i < n_s // 5 else "volgens_plan", complexity="enkelvoudig") for i in range(n_s)]
    out = casemix.adjust(toy_dataset(rows, reference_date="2025-12-31"), "jh_uitval", period="2024",
                         covariates=["complexity"])
    s = out.attrs["summary"]
    assert s.fit_method == "irls", s.note
    assert s.coefficients["ci_low"].notna().all()


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


# ------------------------------------------------------------------ the indicator layer: records handed in
@pytest.mark.filterwarnings("ignore::outcome_analysis.indicators.DerivedNormWarning")
def test_adjust_indicator_on_handed_records_equals_adjust(small_demo):
    """adjust(data, ...) is records() once + adjust_indicator(records, ...): the same frame and models;
    one records frame serves every period and kind."""
    from outcome_analysis import indicators

    recs = indicators.records(small_demo, "jh_afname_problematiek")
    before = recs.copy()
    for period in ("2023", "2024"):
        for kind in ("share", "mean"):
            handed = casemix.adjust_indicator(recs, "jh_afname_problematiek", period=period, kind=kind)
            built = casemix.adjust(small_demo, "jh_afname_problematiek", period=period, kind=kind)
            pd.testing.assert_frame_equal(handed, built)
            assert [s.n_records for s in handed.attrs["summaries"]] == [s.n_records for s in built.attrs["summaries"]]
    pd.testing.assert_frame_equal(recs, before)  # the handed frame is not modified
    one = casemix.adjust_indicator(recs, "jh_afname_problematiek", period="2024", care_type="jeugdhulp")
    assert set(one["care_type"]) == {"jeugdhulp"}


def test_adjust_indicator_says_what_does_not_fit(small_demo):
    from outcome_analysis import indicators

    recs = indicators.records(small_demo, "jh_uitval")
    with pytest.raises(casemix.CaseMixError, match="granularity 'half_year'"):
        casemix.adjust_indicator(recs, "jh_uitval", period="2024H1")
    with pytest.raises(casemix.CaseMixError, match="does not apply to care type 'jb'"):
        casemix.adjust_indicator(recs, "jh_uitval", care_type="jb")
    with pytest.raises(casemix.CaseMixError, match=r"lack column\(s\) \['category'\]"):
        casemix.adjust_indicator(recs.drop(columns="category"), "jh_uitval", period="2024")
    not_adjusted = next(i for i in indicators.registry.ids() if not indicators.registry.get(i).casemix)
    with pytest.raises(casemix.CaseMixError, match=not_adjusted):
        casemix.adjust_indicator(recs, not_adjusted)


@pytest.mark.parametrize("granularity", ["year", "half_year"])
def test_national_share_of_a_per_youth_indicator_from_its_records_equals_compute(small_demo, granularity):
    """The national per-youth share that adjust_indicator takes from the records (each youth's last
    headline row per period, whatever its care type) equals the national row of indicators.compute,
    for every per-youth case-mix indicator, period and care type."""
    from outcome_analysis import indicators

    ids = [e.id for e in indicators.registry.REGISTRY.values() if e.casemix and e.unit == "youth" and not e.same_as]
    assert ids
    for indicator in ids:
        entry = indicators.registry.get(indicator)
        recs = indicators.records(small_demo, indicator, granularity=granularity)
        table = indicators.compute(small_demo, indicator, granularity=granularity, by=())
        nat = table[(table["category"] == "") & (table["window_months"] == entry.window_months(DEFAULT))]
        keys = nat[["period", "care_type"]].astype(str)
        out = pd.DataFrame({"period": keys["period"].to_numpy(), "care_type": keys["care_type"].to_numpy(),
                            "national_value": -1.0, "oe_ratio": 1.0})
        got = casemix._national_per_youth(out, recs)
        want = nat["value"].to_numpy(dtype=float)
        np.testing.assert_array_equal(got["national_value"].to_numpy(), np.where(np.isnan(want), -1.0, want))
        assert (nat["denominator"] > 0).any()
