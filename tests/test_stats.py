"""Tests of outcome_analysis.stats. Every expected number says where it comes from."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from outcome_analysis import stats
from outcome_analysis.errors import DataValidationError
from outcome_analysis.stats import StatsInputError

# --------------------------------------------------------------------------------------------------
# proportion_ci
# --------------------------------------------------------------------------------------------------

# Newcombe RG (1998), Statistics in Medicine 17:857-872, Table I, 95% intervals for the four
# example proportions: method 3 (Wilson score, no continuity correction) and method 5
# (Clopper-Pearson "exact"). Published to 4 decimals.
NEWCOMBE_TABLE_I = [
    pytest.param(81, 263, (0.2553, 0.3662), (0.2527, 0.3676), id="81/263"),
    pytest.param(15, 148, (0.0624, 0.1605), (0.0578, 0.1617), id="15/148"),
    pytest.param(0, 20, (0.0000, 0.1611), (0.0000, 0.1684), id="0/20"),
    pytest.param(1, 29, (0.0061, 0.1718), (0.0009, 0.1776), id="1/29"),
]


@pytest.mark.parametrize("x, n, wilson, exact", NEWCOMBE_TABLE_I)
def test_proportion_ci_matches_newcombe_table_i(x, n, wilson, exact):
    assert np.round(stats.proportion_ci(x, n), 4) == pytest.approx(wilson, abs=1e-12)
    assert np.round(stats.proportion_ci(x, n, method="exact"), 4) == pytest.approx(exact, abs=1e-12)


def test_wilson_matches_formula_written_out():
    # Wilson (1927) score interval written out independently, z = 1.959964 (95%).
    x, n, z = 37, 90, sps.norm.ppf(0.975)
    p = x / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert stats.proportion_ci(x, n) == pytest.approx((centre - half, centre + half), rel=1e-12)


@pytest.mark.parametrize("x, n", [(0, 7), (3, 7), (7, 7), (12, 400), (399, 400)], ids=str)
@pytest.mark.parametrize("conf", [0.90, 0.95, 0.998], ids=lambda c: f"conf={c}")
def test_exact_matches_beta_quantiles(x, n, conf):
    # Clopper & Pearson (1934): beta quantiles, with 0 at x = 0 and 1 at x = n.
    a = 1 - conf
    low = 0.0 if x == 0 else sps.beta.ppf(a / 2, x, n - x + 1)
    high = 1.0 if x == n else sps.beta.ppf(1 - a / 2, x + 1, n - x)
    assert stats.proportion_ci(x, n, conf, method="exact") == pytest.approx((low, high), abs=1e-12)


def test_proportion_ci_agrees_with_statsmodels():
    # statsmodels.stats.proportion.proportion_confint, methods "wilson" and "beta".
    from statsmodels.stats.proportion import proportion_confint

    x = np.array([0, 1, 5, 50, 99, 100])
    n = np.array([100, 100, 100, 100, 100, 100])
    for ours, theirs in (("wilson", "wilson"), ("exact", "beta")):
        low, high = stats.proportion_ci(x, n, 0.95, ours)
        ref_low, ref_high = proportion_confint(x, n, 0.05, theirs)
        np.testing.assert_allclose(low, np.nan_to_num(ref_low), atol=1e-10)
        np.testing.assert_allclose(high, np.nan_to_num(ref_high, nan=1.0), atol=1e-10)


def test_proportion_ci_keeps_series_index_and_gives_nan_for_n_zero():
    x = pd.Series([0, 3, 0], index=["a", "b", "c"])
    n = pd.Series([10, 10, 0], index=["a", "b", "c"])
    low, high = stats.proportion_ci(x, n)
    assert list(low.index) == ["a", "b", "c"]
    assert low["a"] == 0.0 and np.isnan(low["c"]) and np.isnan(high["c"])
    assert 0 < low["b"] < 0.3 < high["b"] < 1


def test_proportion_ci_missing_inputs_give_nan():
    low, high = stats.proportion_ci(np.array([np.nan, 2.0]), np.array([10.0, np.nan]))
    assert np.isnan(low).all() and np.isnan(high).all()


@pytest.mark.parametrize(
    "x, n, kwargs, message",
    [
        pytest.param(11, 10, {}, "x must lie in [0, n]", id="x>n"),
        pytest.param(-1, 10, {}, "x must lie in [0, n]", id="x<0"),
        pytest.param(1, -10, {}, "n must be >= 0", id="n<0"),
        pytest.param(1, 10, {"conf": 95}, "0.95, not 95", id="conf-as-percent"),
        pytest.param(1, 10, {"method": "wald"}, "'wilson' or 'exact'", id="unknown-method"),
    ],
)
def test_proportion_ci_errors_name_the_value(x, n, kwargs, message):
    with pytest.raises(StatsInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        stats.proportion_ci(x, n, **kwargs)


# --------------------------------------------------------------------------------------------------
# poisson_ci
# --------------------------------------------------------------------------------------------------

# Exact Poisson (Garwood 1936) 95% limits as tabulated e.g. in Ulm (1990) Am J Epidemiol 131:373
# and in standard tables of Poisson confidence limits: x=0 -> (0, 3.689), x=1 -> (0.0253, 5.572),
# x=10 -> (4.795, 18.39).
@pytest.mark.parametrize(
    "x, low, high, tol",
    [
        pytest.param(0, 0.0, 3.689, 5e-4, id="x=0"),
        pytest.param(1, 0.0253, 5.572, 5e-4, id="x=1"),
        pytest.param(10, 4.795, 18.39, 5e-3, id="x=10"),
    ],
)
def test_poisson_ci_matches_published_exact_limits(x, low, high, tol):
    # tol: half a unit in the last published decimal
    assert stats.poisson_ci(x) == pytest.approx((low, high), abs=tol)


def test_poisson_ci_matches_chi2_formula_and_is_vectorised():
    # Garwood: chi2(a/2; 2x)/2 and chi2(1-a/2; 2x+2)/2, written out here.
    x = pd.Series([0, 4, 25, 300], index=list("abcd"))
    low, high = stats.poisson_ci(x, conf=0.998)
    expected_low = [0.0] + [sps.chi2.ppf(0.001, 2 * k) / 2 for k in (4, 25, 300)]
    expected_high = [sps.chi2.ppf(0.999, 2 * k + 2) / 2 for k in (0, 4, 25, 300)]
    np.testing.assert_allclose(low.to_numpy(), expected_low, rtol=1e-12)
    np.testing.assert_allclose(high.to_numpy(), expected_high, rtol=1e-12)
    assert list(high.index) == list("abcd")


def test_poisson_ci_rejects_negative_counts():
    with pytest.raises(StatsInputError, match=r"count must be >= 0; x\[1\] = -2.0"):
        stats.poisson_ci([1, -2])


# --------------------------------------------------------------------------------------------------
# mean_ci
# --------------------------------------------------------------------------------------------------


def test_mean_ci_matches_scipy_t_interval():
    # scipy.stats.t.interval(0.95, n-1, loc=mean, scale=sd/sqrt(n)) computed in the test.
    mean, sd, n = np.array([10.0, -2.5]), np.array([2.0, 7.0]), np.array([16, 3])
    low, high = stats.mean_ci(mean, sd, n)
    ref = [sps.t.interval(0.95, k - 1, loc=m, scale=s / math.sqrt(k)) for m, s, k in zip(mean, sd, n)]
    np.testing.assert_allclose(np.c_[low, high], ref, rtol=1e-12)


def test_mean_ci_needs_two_observations():
    low, high = stats.mean_ci([3.0, 3.0], [1.0, 1.0], [1, 0])
    assert np.isnan(low).all() and np.isnan(high).all()


def test_mean_ci_grouped_hand_count():
    # Hand count: A = (1, 2, 3, NaN) -> n 3, missing 1, mean 2, sd 1; B = (5) -> n 1, sd NaN.
    f = pd.DataFrame({"institution": ["A", "A", "A", "A", "B"], "outcome": [1.0, 2.0, 3.0, np.nan, 5.0]})
    out = stats.mean_ci_grouped(f, "institution").set_index("institution")
    assert out.loc["A", ["n", "missing", "value", "sd"]].tolist() == [3, 1, 2.0, 1.0]
    t = sps.t.ppf(0.975, 2)
    assert out.loc["A", "ci_low"] == pytest.approx(2 - t / math.sqrt(3))
    assert np.isnan(out.loc["B", "ci_low"])


# --------------------------------------------------------------------------------------------------
# GAS
# --------------------------------------------------------------------------------------------------


def _gas_by_hand(x, w, rho=0.3):
    """Kiresuk & Sherman (1968) formula, as printed in Turner-Stokes (2009) with its erratum."""
    sxw = sum(wi * xi for wi, xi in zip(w, x))
    return 50 + 10 * sxw / math.sqrt((1 - rho) * sum(wi**2 for wi in w) + rho * sum(w) ** 2)


@pytest.mark.parametrize(
    "scores, weights, expected",
    [
        # all goals at the expected level: T = 50 by construction (Kiresuk & Sherman 1968)
        pytest.param([0, 0, 0, 0], None, 50.0, id="all-expected"),
        # one goal at +1, rho = 0.3: 50 + 10 / sqrt(0.7 + 0.3) = 60
        pytest.param([1], None, 60.0, id="one-goal+1"),
        # k = 3 equal goals all +1: 50 + 10*3 / sqrt(0.7*3 + 0.3*9) = 50 + 30/sqrt(4.8)
        pytest.param([1, 1, 1], None, 50 + 30 / math.sqrt(4.8), id="three-goals+1"),
        # k = 4 equal goals all -1: 50 - 40 / sqrt(0.7*4 + 0.3*16) = 50 - 40/sqrt(7.6)
        pytest.param([-1, -1, -1, -1], None, 50 - 40 / math.sqrt(7.6), id="four-goals-1"),
        # k = 5 equal goals all -2 (the floor): 50 - 100 / sqrt(3.5 + 7.5) = 50 - 100/sqrt(11)
        pytest.param([-2] * 5, None, 50 - 100 / math.sqrt(11), id="five-goals-2"),
        # weighted (importance x difficulty as in Turner-Stokes 2009): w = (2, 1, 1), x = (1, -1, 2)
        # sum wx = 3, sum w^2 = 6, (sum w)^2 = 16 -> 50 + 30 / sqrt(4.2 + 4.8) = 60
        pytest.param([1, -1, 2], [2, 1, 1], 60.0, id="weighted-2-1-1"),
        # weights 1..9 of Turner-Stokes' importance (0-3) x difficulty (1-3) grid: w = (6, 2, 9), x = (0, 1, -1)
        pytest.param([0, 1, -1], [6, 2, 9], _gas_by_hand([0, 1, -1], [6, 2, 9]), id="weighted-6-2-9"),
    ],
)
def test_gas_tscore_worked_examples(scores, weights, expected):
    assert stats.gas_tscore(scores, weights) == pytest.approx(expected, rel=1e-12)


def test_gas_rho_zero_is_sum_over_root_k():
    # rho = 0: T = 50 + 10 * sum(x) / sqrt(k) (independent goals), Kiresuk & Sherman (1968).
    assert stats.gas_tscore([1, 2, 0, -1], rho=0.0) == pytest.approx(50 + 10 * 2 / 2)


def test_gas_missing_scores_and_weights():
    # missing score: goal left out; missing weight: 1 (data contract "weight (default 1)").
    assert stats.gas_tscore([1, np.nan, 1], [2, 5, np.nan]) == pytest.approx(_gas_by_hand([1, 1], [2, 1]))
    assert math.isnan(stats.gas_tscore([np.nan, np.nan]))


def test_gas_grouped_equals_one_at_a_time():
    rng = np.random.default_rng(20240101)
    n = 400
    goals = pd.DataFrame(
        {
            "trajectory_id": rng.integers(0, 80, n).astype(str),
            "score": rng.integers(-2, 3, n).astype(float),
            "weight": rng.integers(1, 10, n).astype(float),
        }
    )
    goals.loc[rng.random(n) < 0.1, "score"] = np.nan
    goals.loc[rng.random(n) < 0.1, "weight"] = np.nan
    got = stats.gas_tscore_grouped(goals, rho=0.3)
    for tid, g in goals.groupby("trajectory_id"):
        assert got[tid] == pytest.approx(stats.gas_tscore(g["score"], g["weight"]), nan_ok=True)
    assert got.name == "gas_t"


def test_gas_grouped_several_keys_and_no_weight_column():
    goals = pd.DataFrame({"t": ["a", "a", "b"], "informant": ["ouder", "ouder", "ouder"], "score": [1, 1, 0]})
    got = stats.gas_tscore_grouped(goals, by=["t", "informant"], weight=None)
    assert got[("a", "ouder")] == pytest.approx(50 + 20 / math.sqrt(0.7 * 2 + 0.3 * 4))
    assert got[("b", "ouder")] == 50.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        pytest.param({"scores": [1, 2], "weights": [1]}, "weights has 1 values for 2 scores", id="length"),
        pytest.param({"scores": [1], "weights": [-1]}, "weights must be >= 0", id="negative-weight"),
        pytest.param({"scores": [1], "rho": 1.0}, r"rho must lie in \[0, 1\)", id="rho"),
    ],
)
def test_gas_errors(kwargs, message):
    with pytest.raises(StatsInputError, match=message):
        stats.gas_tscore(**kwargs)


# --------------------------------------------------------------------------------------------------
# reliable change
# --------------------------------------------------------------------------------------------------


def test_reliable_change_formula_of_jacobson_truax():
    # Jacobson & Truax (1991), J Consult Clin Psychol 59:12-19: S_E = s1 * sqrt(1 - r_xx),
    # S_diff = sqrt(2 * S_E^2), RCI = (x2 - x1) / S_diff. Numbers chosen here (not the paper's):
    # s1 = 7.5, r_xx = 0.88, x1 = 64, x2 = 52:
    # S_E = 7.5 * sqrt(0.12) = 2.598076, S_diff = 3.674235, RCI = -12 / 3.674235 = -3.265986.
    assert stats.reliable_change(64, 52, 7.5, 0.88) == pytest.approx(-3.265986, abs=1e-6)


def test_reliable_change_vectorised_with_per_row_norms():
    pre = pd.Series([20.0, 20.0, 60.0, np.nan])
    post = pd.Series([10.0, 19.0, 75.0, 5.0])
    sd = pd.Series([5.7, 5.7, 10.0, 5.7])
    r = pd.Series([0.82, 0.82, 0.94, 0.82])
    got = stats.reliable_change(pre, post, sd, r)
    expected = (post - pre) / (math.sqrt(2) * sd * np.sqrt(1 - r))
    pd.testing.assert_series_equal(got, expected.rename("rci"))


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param((1, 2, 0.0, 0.8), "sd must be > 0", id="sd-zero"),
        pytest.param((1, 2, 5.0, 1.0), r"reliability must lie in \[0, 1\)", id="r=1"),
    ],
)
def test_reliable_change_errors(args, message):
    with pytest.raises(StatsInputError, match=message):
        stats.reliable_change(*args)


@pytest.mark.parametrize(
    "rci, direction, expected",
    [
        pytest.param(-3.27, "higher_worse", "improved", id="lower-is-better-down"),
        pytest.param(3.27, "higher_worse", "deteriorated", id="lower-is-better-up"),
        pytest.param(3.27, "higher_better", "improved", id="higher-is-better-up"),
        pytest.param(-3.27, "higher_better", "deteriorated", id="higher-is-better-down"),
        pytest.param(1.96, "higher_better", "unchanged", id="exactly-threshold-is-not-reliable"),
        pytest.param(-1.0, "higher_worse", "unchanged", id="small"),
    ],
)
def test_classify_change(rci, direction, expected):
    # indicators.md: |RCI| > 1.96, sign by the instrument's direction.
    assert stats.classify_change(rci, direction) == expected


def test_classify_change_per_row_direction_and_missing():
    rci = pd.Series([-2.5, -2.5, np.nan], index=[10, 11, 12])
    direction = pd.Series(["higher_worse", "higher_better", "higher_worse"], index=[10, 11, 12])
    got = stats.classify_change(rci, direction)
    assert got.iloc[:2].tolist() == ["improved", "deteriorated"]
    assert pd.isna(got.iloc[2]) and list(got.index) == [10, 11, 12]
    with pytest.raises(StatsInputError, match="direction must be one of"):
        stats.classify_change(1.0, "up")


# --------------------------------------------------------------------------------------------------
# instrument table
# --------------------------------------------------------------------------------------------------


def test_packaged_instruments_have_the_documented_values():
    # values and their sources: outcome_analysis/data/instruments.md
    t = stats.instruments()
    assert list(t.columns) == list(stats.INSTRUMENT_COLUMNS[1:])
    assert {"sdq_total", "cbcl_total_t", "honosca_total"} <= set(t.index)
    assert t.loc["cbcl_total_t", ["norm_mean", "norm_sd", "reliability", "clinical_cutoff"]].tolist() == [50, 10, 0.94, 64]
    assert t.loc["sdq_total", ["scale_min", "scale_max", "clinical_cutoff"]].tolist() == [0, 40, 14]
    assert t.loc["honosca_total", ["scale_min", "scale_max"]].tolist() == [0, 52]
    assert (t["direction"].isin(stats.DIRECTIONS)).all()
    assert t["source"].str.len().gt(0).all()


def _write(tmp_path, text):
    path = tmp_path / "my_instruments.csv"
    path.write_text(text, encoding="utf-8")
    return path


HEADER = ",".join(stats.INSTRUMENT_COLUMNS) + "\n"


def test_user_rows_add_and_override(tmp_path):
    path = _write(
        tmp_path,
        HEADER
        + "sdq_total,SDQ (own norm),higher_worse,7.0,5.0,0.8,15,0,40,own study\n"
        + "yss_total,Youth satisfaction,higher_better,30,6,0.9,,0,48,own study\n",
    )
    t = stats.instruments(path)
    assert t.loc["sdq_total", "norm_mean"] == 7.0
    assert t.loc["yss_total", "direction"] == "higher_better"
    assert "cbcl_total_t" in t.index


def test_user_file_errors_name_row_and_column(tmp_path):
    path = _write(
        tmp_path,
        HEADER
        + "ok,fine,higher_worse,1,1,0.5,,,,x\n"
        + "bad_dir,x,up,1,1,0.5,,,,x\n"
        + "bad_r,x,higher_worse,1,1,1.2,,,,x\n"
        + "bad_num,x,higher_worse,abc,1,0.5,,,,x\n",
    )
    with pytest.raises(DataValidationError) as info:
        stats.instruments(path)
    text = str(info.value)
    assert "row 3, column 'direction': value 'up'" in text
    assert "row 4, column 'reliability': value '1.2'" in text
    assert "row 5, column 'norm_mean': value 'abc'" in text
    assert len(info.value.problems) == 3


def test_user_file_missing_column(tmp_path):
    path = _write(tmp_path, "instrument,name\nx,y\n")
    with pytest.raises(DataValidationError, match="column 'direction'"):
        stats.instruments(path)


@pytest.mark.parametrize(
    "raw, key, expected",
    [
        # CBCL T-scores are already T: identity
        pytest.param(64.0, "cbcl_total_t", 64.0, id="cbcl-identity"),
        # SDQ: 50 + 10 * (20 - 8.6) / 5.7 = 70
        pytest.param(20.0, "sdq_total", 50 + 10 * (20 - 8.6) / 5.7, id="sdq"),
    ],
)
def test_to_tscore(raw, key, expected):
    assert stats.to_tscore(raw, stats.instruments().loc[key]) == pytest.approx(expected)


def test_to_tscore_flips_higher_better_and_accepts_per_row_frame():
    norms = pd.DataFrame(
        {"norm_mean": [30.0, 8.6, np.nan], "norm_sd": [6.0, 5.7, np.nan], "direction": ["higher_better", "higher_worse", "higher_worse"]}
    )
    got = stats.to_tscore(pd.Series([36.0, 8.6, 3.0]), norms)
    assert got.iloc[0] == pytest.approx(40.0)  # one SD better than the mean -> T 40 (higher = worse)
    assert got.iloc[1] == pytest.approx(50.0)
    assert np.isnan(got.iloc[2])
