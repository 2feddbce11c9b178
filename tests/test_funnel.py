"""Tests of outcome_analysis.funnel.

Where the expected numbers come from:
- normal limits for shares: Spiegelhalter (2005, Stat Med) eq. for a proportion,
  p0 +/- z * sqrt(p0 (1 - p0) / n), written out below;
- exact binomial / Poisson limits: Spiegelhalter (2005) appendix A.1.1, recomputed here with a plain
  Python loop over the probability mass function (math.comb / math.exp), not with scipy's ppf;
- Poisson "chisq" limits: FunnelPlotR R/calculate_limits.R,
  qchisq(0.975, 2E, lower.tail = FALSE) / 2 / E and qchisq(0.025, 2(E + 1), lower.tail = FALSE) / 2 / E;
- phi and tau2: a hand-worked example of 10 z-scores below (Spiegelhalter 2005 QSHC; FunnelPlotR
  winsorisation/phi_func/tau_func).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy import stats as sps

from outcome_analysis import funnel
from outcome_analysis.settings import DEFAULT


def _binomial_cdf(r: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(0, r + 1)) if r >= 0 else 0.0


def _poisson_cdf(r: int, mu: float) -> float:
    return sum(math.exp(-mu) * mu ** k / math.factorial(k) for k in range(0, r + 1)) if r >= 0 else 0.0


def _interpolated(cdf, prob: float) -> float:
    """Spiegelhalter A.1.1: r_p smallest r with F(r) >= prob; alpha = (F(r_p) - prob) / (F(r_p) - F(r_p - 1))."""
    r = 0
    while cdf(r) < prob:
        r += 1
    alpha = (cdf(r) - prob) / (cdf(r) - cdf(r - 1))
    return r - alpha


@pytest.mark.parametrize("n, p0, limit", [(20, 0.3, 0.95), (100, 0.5, 0.95), (250, 0.12, 0.998),
                                          (1000, 0.8, 0.998)],
                         ids=["n20-p30-95", "n100-p50-95", "n250-p12-998", "n1000-p80-998"])
def test_binomial_normal_limits_match_formula(n, p0, limit):
    z = stats.norm.ppf(1 - (1 - limit) / 2)
    half = z * math.sqrt(p0 * (1 - p0) / n)
    low, high = funnel.binomial_limits([n], p0, limit, method="normal")
    assert low[0] == pytest.approx(max(0.0, p0 - half), rel=1e-12)
    assert high[0] == pytest.approx(min(1.0, p0 + half), rel=1e-12)


@pytest.mark.parametrize("n, p0, limit", [(10, 0.3, 0.95), (40, 0.5, 0.95), (60, 0.1, 0.998),
                                          (150, 0.75, 0.998)],
                         ids=["n10", "n40", "n60-998", "n150-998"])
def test_binomial_exact_limits_match_interpolation(n, p0, limit):
    cdf = lambda r: _binomial_cdf(r, n, p0)  # noqa: E731
    want_low = max(0.0, _interpolated(cdf, (1 - limit) / 2) / n)
    want_high = min(1.0, _interpolated(cdf, (1 + limit) / 2) / n)
    low, high = funnel.binomial_limits([n], p0, limit, method="exact")
    assert low[0] == pytest.approx(want_low, abs=1e-9)
    assert high[0] == pytest.approx(want_high, abs=1e-9)


def test_binomial_exact_close_to_normal_for_large_n():
    low_e, high_e = funnel.binomial_limits([5000], 0.4, 0.95)
    low_n, high_n = funnel.binomial_limits([5000], 0.4, 0.95, method="normal")
    assert abs(low_e[0] - low_n[0]) < 2e-3 and abs(high_e[0] - high_n[0]) < 2e-3


@pytest.mark.parametrize("expected, limit", [(5.0, 0.95), (23.7, 0.95), (80.0, 0.998), (400.0, 0.998)],
                         ids=["E5", "E23.7", "E80-998", "E400-998"])
def test_poisson_chisq_limits_match_funnelplotr_formula(expected, limit):
    a_low, a_high = (1 - limit) / 2, (1 + limit) / 2
    want_low = stats.chi2.ppf(a_low, 2 * expected) / 2 / expected
    want_high = stats.chi2.ppf(a_high, 2 * (expected + 1)) / 2 / expected
    low, high = funnel.poisson_limits([expected], limit, method="chisq")
    assert low[0] == pytest.approx(want_low, rel=1e-10)
    assert high[0] == pytest.approx(want_high, rel=1e-10)


@pytest.mark.parametrize("expected, limit", [(3.0, 0.95), (12.5, 0.95), (40.0, 0.998)],
                         ids=["E3", "E12.5", "E40-998"])
def test_poisson_exact_limits_match_interpolation(expected, limit):
    cdf = lambda r: _poisson_cdf(r, expected)  # noqa: E731
    want_low = max(0.0, _interpolated(cdf, (1 - limit) / 2) / expected)
    want_high = _interpolated(cdf, (1 + limit) / 2) / expected
    low, high = funnel.poisson_limits([expected], limit, method="exact")
    assert low[0] == pytest.approx(want_low, abs=1e-9)
    assert high[0] == pytest.approx(want_high, abs=1e-9)
    # the chi-square form is a confidence interval for E, not a prediction interval for O: it sits
    # a few counts off the interpolated quantiles (Seaton & Manktelow 2012)
    c_low, c_high = funnel.poisson_limits([expected], limit, method="chisq")
    assert abs(low[0] - c_low[0]) * expected < 4 and abs(high[0] - c_high[0]) * expected < 4


def test_poisson_normal_scales_with_tau2():
    e, tau2, z = 50.0, 0.01, stats.norm.ppf(0.975)
    low, high = funnel.poisson_limits([e], 0.95, method="log", tau2=tau2)
    assert (low[0], high[0]) == pytest.approx((math.exp(-z * math.sqrt(1 / e + tau2)),
                                               math.exp(z * math.sqrt(1 / e + tau2))))
    low, high = funnel.poisson_limits([e], 0.95, method="sqrt", tau2=tau2)
    half = z * math.sqrt(1 / (4 * e) + tau2)
    assert (low[0], high[0]) == pytest.approx(((1 - half) ** 2, (1 + half) ** 2))


def test_limits_are_vectorised_and_nan_for_empty_denominators():
    frame = funnel.share_limits(np.array([0, 10, 100, 1000]), 0.4)
    assert frame.columns.tolist() == ["denominator", "target", "low_95", "high_95", "low_99_8", "high_99_8"]
    assert np.isnan(frame.loc[0, "low_95"])
    widths = (frame["high_95"] - frame["low_95"]).to_numpy()[1:]
    assert np.all(np.diff(widths) < 0)  # the funnel narrows
    assert np.all(frame["low_99_8"][1:] <= frame["low_95"][1:])
    ratio = funnel.ratio_limits(np.linspace(1, 500, 50))
    assert ratio.shape == (50, 6) and np.all(ratio["high_99_8"] >= ratio["high_95"])


@pytest.mark.parametrize("limit, label", [(0.95, "95"), (0.998, "99_8"), (0.9, "90"), (0.999, "99_9")])
def test_limit_label(limit, label):
    assert funnel.limit_label(limit) == label


# -------------------------------------------------------------------------- overdispersion, by hand

Z = np.array([-2.5, -1.0, -0.5, 0.0, 0.3, 0.8, 1.2, 2.0, 3.5, 6.0])
S = np.array([0.1, 0.1, 0.2, 0.2, 0.1, 0.1, 0.2, 0.2, 0.1, 0.1])


def test_winsorise_by_hand():
    # R type-7 quantiles of the sorted z: position 0.1 * 9 = 0.9 -> -2.5 + 0.9 * 1.5 = -1.15;
    # position 0.9 * 9 = 8.1 -> 3.5 + 0.1 * 2.5 = 3.75
    want = [-1.15, -1.0, -0.5, 0.0, 0.3, 0.8, 1.2, 2.0, 3.5, 3.75]
    assert funnel.winsorise(Z, 0.1) == pytest.approx(want)


def test_phi_tau2_by_hand():
    squares = [1.15 ** 2, 1.0, 0.25, 0.0, 0.09, 0.64, 1.44, 4.0, 12.25, 3.75 ** 2]
    phi = sum(squares) / 10  # 35.055 / 10
    assert phi == pytest.approx(3.5055)
    w = [1 / s ** 2 for s in S]  # six weights of 100, four of 25
    sum_w, sum_w2 = sum(w), sum(x ** 2 for x in w)  # 700, 62500
    tau2 = (10 * phi - 9) / (sum_w - sum_w2 / sum_w)  # 26.055 / 610.714...
    od = funnel.overdispersion(Z, S, trim=0.1, alpha=0.05)
    assert od.n == 10
    assert od.phi == pytest.approx(phi)
    assert od.tau2 == pytest.approx(tau2)
    assert od.tau2 == pytest.approx(0.0426632, rel=1e-5)
    assert od.p_value == pytest.approx(stats.chi2.sf(35.055, 9))
    assert od.applied


def test_no_overdispersion_gives_zero_tau2_and_no_correction():
    od = funnel.overdispersion([0.2, -0.3, 0.5, -0.1, 0.0], [0.1] * 5)
    assert od.tau2 == 0.0 and not od.applied and od.phi < 1


def test_share_funnel_inflates_limits_only_when_overdispersed():
    rng = np.random.default_rng(3)
    den = rng.integers(200, 2000, 80)
    # between-unit spread far beyond binomial noise
    p = np.clip(0.4 + rng.normal(0, 0.08, 80), 0.01, 0.99)
    num = rng.binomial(den, p)
    out = funnel.share_funnel(num, den, limits=(0.95,))
    od = out.attrs["overdispersion"]
    assert od.applied and od.tau2 > 0
    target = num.sum() / den.sum()
    z = stats.norm.ppf(0.975)
    want_high = target + z * np.sqrt(target * (1 - target) / den + od.tau2)
    assert out["high_95"].to_numpy() == pytest.approx(want_high)
    # without overdispersion: exact limits, no tau2
    num0 = rng.binomial(den, 0.4)
    out0 = funnel.share_funnel(num0, den, limits=(0.95,))
    assert not out0.attrs["overdispersion"].applied
    low, high = funnel.binomial_limits(den, num0.sum() / den.sum(), 0.95)
    assert out0["high_95"].to_numpy() == pytest.approx(high)


def test_signals_against_signal_limit():
    assert funnel.signals([0.1, 0.5, 0.9, np.nan], 0.2, 0.8).tolist() == ["lower", "within", "higher", "within"]
    out = funnel.ratio_funnel([30, 100, 190], [100, 100, 100], correct_overdispersion=False)
    assert out["signal"].tolist() == ["lower", "within", "higher"]
    low, high = funnel.poisson_limits([100.0], DEFAULT.signal_limit, method="exact")
    assert out["funnel_high"].iloc[1] == pytest.approx(high[0])


def test_ratio_funnel_with_bernoulli_variance():
    # O/E of a common outcome: variance sum p(1 - p) instead of the Poisson E
    obs, exp_, var = np.array([60.0]), np.array([50.0]), np.array([25.0])
    out = funnel.ratio_funnel(obs, exp_, variance=var, limits=(0.95,), correct_overdispersion=False)
    s = math.sqrt(25.0) / 50.0
    assert out["z"].iloc[0] == pytest.approx((60 / 50 - 1) / s)
    assert out["high_95"].iloc[0] == pytest.approx(1 + stats.norm.ppf(0.975) * s)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="fraction"):
        funnel.binomial_limits([10], 0.5, 95)
    with pytest.raises(ValueError, match="unknown ratio funnel method"):
        funnel.poisson_limits([10], 0.95, method="byar")


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
