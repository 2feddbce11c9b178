"""Unit tests of outcome_analysis.statistics.verdict: hand-worked values, published values and
independent implementations written out in the tests themselves."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from outcome_analysis.settings import DEFAULT, Settings
from outcome_analysis.statistics import verdict

Z998 = 3.090232306167813  # norm.ppf(0.999): the two-sided 99.8% quantile


def _wilson(x, n, conf):
    """Wilson (1927) score interval, written out from the formula."""
    z = sps.norm.ppf((1 + conf) / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _newcombe10(x1, n1, x2, n2, conf):
    """Newcombe (1998) method 10, the hybrid score interval, from the Wilson limits of each share."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, conf)
    l2, u2 = _wilson(x2, n2, conf)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


# --------------------------------------------------------------------------------------------------
# read


def test_read_against_the_null_and_judged():
    out = verdict.read([1.2, 0.5, 0.9, np.nan, 1.2, 1.0], [1.5, 0.8, 1.1, np.nan, 1.5, 1.3], 1.0,
                       judged=[True, True, True, True, False, True])
    # an end exactly on the null value is "within": higher needs ci_low > null
    assert out.tolist() == ["higher", "lower", "within", "none", "none", "within"]
    assert verdict.read([0.2], [0.4], np.nan).tolist() == ["none"]
    assert verdict.read([0.2, 0.2], [0.4, 0.4], [0.1, 0.5]).tolist() == ["higher", "lower"]


# --------------------------------------------------------------------------------------------------
# O/E: identity and hand-worked values


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_oe_verdict_signal_is_read_from_its_own_interval(seed):
    rng = np.random.default_rng(seed)
    k = 400
    n = rng.integers(5, 400, k).astype(float)
    share = rng.uniform(0.02, 0.98, k)
    expected = n * share
    variance = expected * (1 - share) * rng.uniform(0.5, 1.0, k)
    observed = np.clip(rng.normal(expected, 2 * np.sqrt(variance) + 1), 0, n).round()
    for tau2 in (None, 0.0, 0.02):
        out = verdict.oe_verdict(observed, expected, variance, n, tau2=tau2)
        low, high, sig = out["oe_ci_low"], out["oe_ci_high"], out["signal"]
        assert ((sig == "higher") == (low > 1)).all()
        assert ((sig == "lower") == (high < 1)).all()
        few = (expected < DEFAULT.min_expected) | (n - expected < DEFAULT.min_expected)
        assert ((sig == "none") == few).all()
        assert np.isnan(low[few]).all() and np.isnan(high[few]).all()
        assert np.isfinite(low[~few]).all() and np.isfinite(high[~few]).all()
        assert np.isnan(out["funnel_low"][few]).all()
        # the funnel limits are the interval moved to 1: O/E outside them exactly when flagged
        oe = observed / expected
        inside = (oe >= out["funnel_low"]) & (oe <= out["funnel_high"])
        assert ((sig == "within") == (inside & ~few)).all()
        assert out["level"] == DEFAULT.signal_limit
    # the verdict and the test agree: |z| > z_q exactly when flagged
    judged = out["judged"]
    assert ((np.abs(out["z"][judged]) > Z998) == np.isin(sig[judged], ["higher", "lower"])).all()


def test_oe_verdict_by_hand():
    # O = 40, E = 20, sum p(1-p) = 16: s = 4 / 20 = 0.2, z = (2 - 1) / 0.2 = 5
    out = verdict.oe_verdict([40], [20], [16], [100], tau2=0.0)
    assert out["oe_ratio"][0] == pytest.approx(2.0)
    assert out["z"][0] == pytest.approx(5.0)
    assert out["oe_ci_low"][0] == pytest.approx(2 - Z998 * 0.2)
    assert out["oe_ci_high"][0] == pytest.approx(2 + Z998 * 0.2)
    assert out["funnel_low"][0] == pytest.approx(1 - Z998 * 0.2)
    assert out["funnel_high"][0] == pytest.approx(1 + Z998 * 0.2)
    assert out["signal"].tolist() == ["higher"]
    # with tau2 = 0.05: sd = sqrt(0.04 + 0.05) = 0.3, z = 1 / 0.3
    out = verdict.oe_verdict([40], [20], [16], [100], tau2=0.05)
    assert out["z"][0] == pytest.approx(1 / 0.3)
    assert out["oe_ci_low"][0] == pytest.approx(2 - Z998 * 0.3)
    assert out["signal"].tolist() == ["higher"]
    # O = 30: z = 2.5 < 3.09, within; O = 5: O/E = 0.25, high = 0.25 + 0.618 < 1, lower; low clipped at 0
    out = verdict.oe_verdict([30, 5], [20, 20], [16, 16], [100, 100], tau2=0.0)
    assert out["signal"].tolist() == ["within", "lower"]
    assert out["oe_ci_low"][1] == 0.0
    assert out["oe_ci_high"][1] == pytest.approx(0.25 + Z998 * 0.2)


def test_oe_verdict_min_expected_events_and_non_events():
    # E = 4.9 (too few events expected) and n - E = 4 (too few non-events expected): no verdict
    out = verdict.oe_verdict([0, 60, 12], [4.9, 56, 10], [4.6, 3.7, 8], [50, 60, 100], tau2=0.0)
    assert out["signal"].tolist()[:2] == ["none", "none"]
    assert np.isnan(out["oe_ci_low"][:2]).all() and np.isnan(out["z"][:2]).all()
    assert out["signal"][2] == "within"
    # a lower min_expected judges them
    out = verdict.oe_verdict([0, 60], [4.9, 56], [4.6, 3.7], [50, 60], tau2=0.0,
                             settings=Settings(min_expected=3))
    assert (out["signal"] != "none").all()


def test_oe_verdict_level_follows_signal_limit():
    out = verdict.oe_verdict([30], [20], [16], [100], tau2=0.0, settings=Settings(signal_limit=0.95))
    # z = 2.5 > 1.96: higher at 95%, interval 1.5 -/+ 1.96 * 0.2
    assert out["signal"].tolist() == ["higher"]
    assert out["oe_ci_low"][0] == pytest.approx(1.5 - sps.norm.ppf(0.975) * 0.2)


@pytest.mark.parametrize("seed", [0, 1])
def test_mean_verdict_signal_is_read_from_its_own_interval(seed):
    rng = np.random.default_rng(seed)
    k = 300
    national = 0.4
    s = rng.uniform(0.02, 0.5, k)
    n = rng.integers(1, 200, k)
    adjusted = national + rng.normal(0, 1, k) * s * rng.uniform(0.5, 5, k)
    out = verdict.mean_verdict(adjusted, national, s, n)
    sig = out["signal"]
    assert ((sig == "higher") == (out["ci_low"] > national)).all()
    assert ((sig == "lower") == (out["ci_high"] < national)).all()
    small = n < DEFAULT.min_denominator
    assert ((sig == "none") == small).all()
    assert np.isnan(out["ci_low"][small]).all() and np.isnan(out["ci_high"][small]).all()
    half = out["ci_high"] - adjusted
    assert np.allclose(out["funnel_high"][~small], national + half[~small])
    assert np.allclose(half[~small], Z998 * np.sqrt(s[~small] ** 2 + out["tau2"]))


# --------------------------------------------------------------------------------------------------
# raw, against the others: the score test and the Wilson interval


def test_wilson_interval_contains_p0_exactly_when_the_score_test_accepts():
    conf = 0.95
    z = sps.norm.ppf(0.975)
    for n in (10, 37, 200):
        for x in range(0, n + 1, max(1, n // 15)):
            low, high = _wilson(x, n, conf)
            for p0 in np.linspace(0.01, 0.99, 99):
                score = (x / n - p0) / math.sqrt(p0 * (1 - p0) / n)
                if abs(abs(score) - z) < 1e-9:
                    continue
                assert (low <= p0 <= high) == (abs(score) <= z), (x, n, p0)


def test_share_vs_others_agrees_with_an_independent_score_test():
    conf = 0.95
    zq = sps.norm.ppf(0.975)
    others_n = 1000
    checked = 0
    seen = set()
    for n in (12, 40, 150, 600):
        for x in sorted({0, 1, n // 10, n // 4, n // 3, n // 2, 2 * n // 3, n - 1, n}):
            for others_x in (50, 200, 330, 500, 800, 950):
                p0 = others_x / others_n
                low, high = _wilson(x, n, conf)
                out = verdict.share_vs_others([x / n], [low], [high], [x], [n], [x + others_x], [n + others_n])
                assert out["reference_value"][0] == pytest.approx(p0)
                score = (x / n - p0) / math.sqrt(p0 * (1 - p0) / n)
                assert out["z"][0] == pytest.approx(score)
                expected = "higher" if score > zq else "lower" if score < -zq else "within"
                assert out["signal"][0] == expected, (x, n, p0)
                seen.add(expected)
                checked += 1
    assert checked > 100 and seen == {"higher", "lower", "within"}


def test_share_vs_others_without_others():
    out = verdict.share_vs_others([0.3], [0.2], [0.4], [30], [100], [30], [100])
    assert np.isnan(out["reference_value"][0]) and out["signal"].tolist() == ["none"]


def test_mean_vs_others_by_hand():
    # the others: (1.0 * 550 - 2.0 * 50) / 500 = 0.9
    out = verdict.mean_vs_others([2.0, 1.0], [1.5, 0.85], [2.5, 1.15], [50, 50], [1.0], [550])
    assert out["reference_value"][0] == pytest.approx(0.9)
    assert out["signal"].tolist() == ["higher", "within"]


# --------------------------------------------------------------------------------------------------
# raw, against the previous period: Newcombe's method 10


# Newcombe (1998), Stat Med 17:873-890, table II, method 10 (score interval without continuity
# correction), 95%: (a) 56/70 - 48/80 and (d) 5/56 - 0/29. The value for (d) is also what the
# ratesci package's tests check against the paper (tests/testthat/test3.R, "Newcombe RD example (d)").
PUBLISHED = [((56, 70, 48, 80), (0.0524, 0.3339)), ((5, 56, 0, 29), (-0.0381, 0.1926))]


@pytest.mark.parametrize("counts,limits", PUBLISHED)
def test_share_change_matches_newcombe_table_ii(counts, limits):
    x1, n1, x2, n2 = counts
    out = verdict.share_change([x1], [n1], [x2], [n2], 0.95)
    assert round(float(out["ci_low"][0]), 4) == limits[0]
    assert round(float(out["ci_high"][0]), 4) == limits[1]
    assert out["value"][0] == pytest.approx(x1 / n1 - x2 / n2)


def test_share_change_equals_an_independent_hybrid_score_interval():
    rng = np.random.default_rng(3)
    cases = [(9, 10, 3, 10), (6, 7, 2, 7), (0, 10, 0, 20), (0, 10, 0, 10), (10, 10, 0, 20), (10, 10, 0, 10)]
    for _ in range(60):
        n1, n2 = rng.integers(5, 300, 2)
        cases.append((int(rng.integers(0, n1 + 1)), int(n1), int(rng.integers(0, n2 + 1)), int(n2)))
    x1, n1, x2, n2 = (np.array(c, dtype=float) for c in zip(*cases))
    for conf in (0.95, 0.9):
        out = verdict.share_change(x1, n1, x2, n2, conf)
        ref = np.array([_newcombe10(*c, conf) for c in cases])
        assert np.allclose(out["ci_low"], ref[:, 0], atol=1e-10)
        assert np.allclose(out["ci_high"], ref[:, 1], atol=1e-10)
        assert (out["signal"] == verdict.read(ref[:, 0], ref[:, 1], 0.0)).all()
        assert ((out["signal"] == "higher") == (out["ci_low"] > 0)).all()
        assert ((out["signal"] == "lower") == (out["ci_high"] < 0)).all()


def test_share_change_without_a_denominator():
    out = verdict.share_change([5, 5], [0, 10], [3, np.nan], [10, 10], 0.95)
    assert out["signal"].tolist() == ["none", "none"]
    assert np.isnan(out["ci_low"]).all() and np.isnan(out["value"]).all()


def test_mean_change_by_hand():
    # each interval 1.96 * 0.1 wide on either side: se = 0.1 each, se of the difference sqrt(0.02)
    z = sps.norm.ppf(0.975)
    out = verdict.mean_change([2.0, 1.2], [2 - z * 0.1, 1.2 - z * 0.1], [2 + z * 0.1, 1.2 + z * 0.1],
                              [1.0, 1.0], [1 - z * 0.1, 1 - z * 0.1], [1 + z * 0.1, 1 + z * 0.1], 0.95)
    se = math.sqrt(0.02)
    assert out["value"].tolist() == pytest.approx([1.0, 0.2])
    assert out["ci_low"] == pytest.approx([1.0 - z * se, 0.2 - z * se])
    assert out["signal"].tolist() == ["higher", "within"]


# --------------------------------------------------------------------------------------------------
# spread between institutions


def test_between_variance_by_hand():
    # z = 2.5, -2.5, 0 with w = 1 / 0.2^2 = 25: Q = 12.5, (12.5 - 2) / (75 - 625 * 3 / 75) = 0.21
    assert verdict.between_variance([30, 10, 20], [20, 20, 20], [16, 16, 16]) == pytest.approx(0.21)
    # no spread beyond chance: 0; fewer than two institutions: NaN
    assert verdict.between_variance([21, 19, 20], [20, 20, 20], [16, 16, 16]) == 0.0
    assert math.isnan(verdict.between_variance([30], [20], [16]))
    assert verdict.between_variance([30, 10, 20, 90], [20, 20, 20, 20], [16, 16, 16, 16],
                                    judged=[True, True, True, False]) == pytest.approx(0.21)


def _dersimonian_laird_fixed_target(y, v, target=1.0):
    """DerSimonian & Laird (1986) moment estimator of tau^2 with the pooled estimate replaced by a
    fixed target: Q = sum w (y - target)^2, tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w))."""
    w = [1 / vi for vi in v]
    q = sum(wi * (yi - target) ** 2 for wi, yi in zip(w, y))
    sw, sw2 = sum(w), sum(wi * wi for wi in w)
    return max(0.0, (q - (len(y) - 1)) / (sw - sw2 / sw))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_between_variance_is_dersimonian_laird_with_target_one(seed):
    rng = np.random.default_rng(seed)
    k = 30
    n = rng.integers(40, 800, k)
    p = rng.uniform(0.1, 0.6, k)
    expected = n * p
    variance = n * p * (1 - p)
    observed = rng.binomial(n, np.clip(p * np.exp(rng.normal(0, 0.3, k)), 0, 1))
    y = observed / expected
    v = variance / expected ** 2
    assert verdict.between_variance(observed, expected, variance) == pytest.approx(
        _dersimonian_laird_fixed_target(y.tolist(), v.tolist()), rel=1e-12, abs=1e-15)


def test_shrink_by_hand_and_nan_without_between_variance():
    # y = log(30.5 / 20.5), s^2 = 16 / 400 = 0.04, B = 0.1 / 0.14
    y = math.log(30.5 / 20.5)
    b = 0.1 / 0.14
    half = sps.norm.ppf(0.975) * math.sqrt(b * 0.04)
    centre, low, high = verdict.shrink([30], [20], [16], 0.1, 0.95)
    assert centre[0] == pytest.approx(math.exp(b * y))
    assert low[0] == pytest.approx(math.exp(b * y - half))
    assert high[0] == pytest.approx(math.exp(b * y + half))
    assert centre[0] == pytest.approx(1.328, abs=5e-4)
    for tau2 in (0.0, float("nan")):
        out = verdict.shrink([30, 10], [20, 20], [16, 16], tau2, 0.95)
        assert all(np.isnan(a).all() for a in out)


def test_rankability_by_hand():
    s2 = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12]
    # median of the twelve: 0.065
    assert verdict.rankability(0.03, s2) == pytest.approx(0.03 / (0.03 + 0.065))
    assert verdict.rankability(0.0, s2) == 0.0
    assert math.isnan(verdict.rankability(0.03, s2[:9]))
    assert math.isnan(verdict.rankability(float("nan"), s2))
    # only the judged institutions count: nine judged is too few
    judged = [True] * 9 + [False] * 3
    assert math.isnan(verdict.rankability(0.03, s2, judged))
    assert verdict.rankability(0.03, s2, [True] * 10 + [False] * 2) == pytest.approx(0.03 / (0.03 + 0.055))


def test_rankability_bands():
    band = verdict.rankability_band
    assert [band(r) for r in (0.0, 0.49, 0.5, 0.75, 0.7501, 1.0)] == [
        "low", "low", "moderate", "moderate", "high", "high"]
    assert band(float("nan")) is None and band(None) is None
    assert band(0.7, Settings(rankability_high=0.6)) == "high"
