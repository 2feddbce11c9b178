"""Control charts (p-chart, VLAD, risk-adjusted CUSUM) and the before/after judgement of an action,
against hand-worked numbers, independent computations, published values and simulated institutions."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from outcome_analysis.statistics.control import before_after, p_chart, risk_adjusted_cusum, vlad
from outcome_analysis.statistics.stats import StatsInputError

# --------------------------------------------------------------------------------------------------
# p-chart
# --------------------------------------------------------------------------------------------------


def test_p_chart_limits_hand_worked():
    # x = [3, 5, 2], n = [20, 25, 10]: p̄ = 10/55 = 0.181818...
    # sigma_i = sqrt(p̄(1-p̄)/n_i) = sqrt(450/3025/n_i): n=20 -> 0.0862439, n=25 -> 0.0771389, n=10 -> 0.1219673
    # ucl = p̄ + 3 sigma = 0.4405499, 0.4132349, 0.5477201; lcl = p̄ - 3 sigma < 0 -> clipped to 0
    out = p_chart([3, 5, 2], [20, 25, 10])
    assert list(out.columns) == ["p", "centre", "lcl", "ucl", "outside"]
    np.testing.assert_allclose(out["p"], [0.15, 0.20, 0.20])
    np.testing.assert_allclose(out["centre"], [0.1818182] * 3, atol=1e-7)
    np.testing.assert_allclose(out["ucl"], [0.4405499, 0.4132349, 0.5477201], atol=1e-6)
    assert (out["lcl"] == 0.0).all()  # clipped, not negative
    assert not out["outside"].any()
    assert out["outside"].dtype == bool


def test_p_chart_baseline_lower_limit_and_outside():
    # baseline 0.25, n = 400: sigma = sqrt(0.25*0.75/400) = 0.0216506; limits 0.1850481 .. 0.3149519
    out = p_chart([100, 70, 130, 74], [400, 400, 400, 400], baseline=0.25)
    np.testing.assert_allclose(out["lcl"], 0.1850481, atol=1e-6)
    np.testing.assert_allclose(out["ucl"], 0.3149519, atol=1e-6)
    assert (out["centre"] == 0.25).all()
    # 70/400 = 0.175 below, 130/400 = 0.325 above, 74/400 = 0.185 below 0.1850481 by a hair
    assert out["outside"].tolist() == [False, True, True, True]
    inside = p_chart([75], [400], baseline=0.25)  # 0.1875 inside
    assert not inside["outside"].iloc[0]


def test_p_chart_clips_upper_limit_to_one():
    # baseline 0.9, n = 5: 0.9 + 3 sqrt(0.09/5) = 1.3025 -> 1; lower 0.4975
    out = p_chart([5], [5], baseline=0.9)
    assert out["ucl"].iloc[0] == 1.0
    assert out["lcl"].iloc[0] == pytest.approx(0.9 - 3 * math.sqrt(0.09 / 5))
    assert not out["outside"].iloc[0]  # a point on the clipped limit is not beyond it


def test_p_chart_hidden_point_and_series_index():
    x = pd.Series([3.0, np.nan, 2.0], index=["2023K1", "2023K2", "2023K3"])
    n = pd.Series([20, 25, 10], index=x.index)
    out = p_chart(x, n)
    assert list(out.index) == ["2023K1", "2023K2", "2023K3"]
    assert np.isnan(out.loc["2023K2", "p"]) and not out.loc["2023K2", "outside"]
    # the hidden point does not enter the pooled centre: 5/30
    assert out["centre"].iloc[0] == pytest.approx(5 / 30)
    # its limits are still there (its denominator is known)
    assert np.isfinite(out.loc["2023K2", "ucl"])
    zero = p_chart([0, 1], [0, 4])
    assert np.isnan(zero["p"].iloc[0]) and np.isnan(zero["ucl"].iloc[0]) and not zero["outside"].iloc[0]


@pytest.mark.parametrize("args, kwargs", [
    (([1, 2], [3]), {}),
    (([-1], [3]), {}),
    (([4], [3]), {}),
    (([1], [3]), {"baseline": 1.5}),
    (([np.nan], [0]), {}),
])
def test_p_chart_rejects_bad_input(args, kwargs):
    with pytest.raises(StatsInputError):
        p_chart(*args, **kwargs)


# --------------------------------------------------------------------------------------------------
# VLAD and CUSUM
# --------------------------------------------------------------------------------------------------


def test_vlad_against_a_loop():
    rng = np.random.default_rng(7)
    expected = rng.uniform(0.05, 0.6, 300)
    observed = (rng.uniform(size=300) < expected).astype(int)
    running, loop = 0.0, []
    for o, e in zip(observed, expected):
        running = running + e - o
        loop.append(running)
    np.testing.assert_allclose(vlad(observed, expected), loop)
    # per-period totals work the same way
    np.testing.assert_allclose(vlad([3, 5], [4.5, 4.0]), [1.5, 0.5])
    with pytest.raises(StatsInputError):
        vlad([0, 1], [0.5])
    with pytest.raises(StatsInputError):
        vlad([0, np.nan], [0.5, 0.5])


def test_risk_adjusted_cusum_against_a_loop_and_detects_a_rise():
    rng = np.random.default_rng(11)
    p = rng.uniform(0.1, 0.4, 400)
    # first half as the model says, second half with the odds doubled
    odds = p / (1 - p) * np.r_[np.ones(200), np.full(200, 2.0)]
    y = (rng.uniform(size=400) < odds / (1 + odds)).astype(int)
    x, loop = 0.0, []
    for yi, pi in zip(y, p):  # Steiner et al. (2000): W = y log(RA) - log(1 - p + RA p), RA = 2
        x = max(0.0, x + yi * math.log(2.0) - math.log(1 - pi + 2.0 * pi))
        loop.append(x)
    out = risk_adjusted_cusum(y, p)
    np.testing.assert_allclose(out, loop)
    assert out[:200].max() < out[200:].max()
    assert out[-1] > 4.5  # well above the usual thresholds h = 2 .. 5
    reset = risk_adjusted_cusum(y, p, reset=4.5)
    assert reset.max() <= 4.5 + math.log(2.0) and (reset[1:] < reset[:-1]).any()
    with pytest.raises(StatsInputError):
        risk_adjusted_cusum([0, 2], [0.5, 0.5])
    with pytest.raises(StatsInputError):
        risk_adjusted_cusum([0, 1], [0.5, 0.5], odds_ratio=1.0)


# --------------------------------------------------------------------------------------------------
# before/after: the intervals
# --------------------------------------------------------------------------------------------------


def _wilson(x, n, z):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _newcombe_method_10(x1, n1, x2, n2, z=1.959964):
    """Newcombe (1998) method 10, written out: the Wilson limits of each share combined."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, z)
    l2, u2 = _wilson(x2, n2, z)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


# Newcombe (1998), Stat Med 17:873-890, Table II, method 10 (score interval, no continuity correction)
NEWCOMBE_TABLE_II = [
    # (x1, n1, x2, n2, low, high)
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
]


@pytest.mark.parametrize("x1, n1, x2, n2, low, high", NEWCOMBE_TABLE_II)
def test_newcombe_interval_matches_the_paper_and_the_formula(x1, n1, x2, n2, low, high):
    # "after" is group 1 of the paper, "before" group 2: the difference is after minus before
    out = before_after({"events": x2, "n": n2}, {"events": x1, "n": n1}, min_expected=0.0)
    assert out["method"] == "newcombe"
    assert out["estimate"] == pytest.approx(x1 / n1 - x2 / n2)
    assert out["difference"] == out["estimate"]
    assert out["ci_low"] == pytest.approx(low, abs=5e-5)
    assert out["ci_high"] == pytest.approx(high, abs=5e-5)
    hand = _newcombe_method_10(x1, n1, x2, n2)
    assert (out["ci_low"], out["ci_high"]) == pytest.approx(hand, abs=1e-6)
    assert out["change"] == ("higher" if low > 0 else "no_change")


def test_oe_ratio_interval_by_hand():
    # before O = 50, E = 45; after O = 30, E = 40
    # R = (30/40) / (50/45) = 0.675; se(log R) = sqrt(1/30 + 1/50) = 0.2309401
    # 95%: exp(+-1.959964 * 0.2309401) = 1.572454 -> 0.675 / 1.572454 = 0.429264, 0.675 * 1.572454 = 1.061406
    out = before_after({"events": 50, "n": 200, "expected": 45.0}, {"events": 30, "n": 180, "expected": 40.0})
    assert out["method"] == "oe_ratio"
    assert out["ratio"] == out["estimate"] == pytest.approx(0.675)
    assert out["oe_before"] == pytest.approx(50 / 45) and out["oe_after"] == pytest.approx(0.75)
    assert out["ci_low"] == pytest.approx(0.429264, abs=1e-5)
    assert out["ci_high"] == pytest.approx(1.061406, abs=1e-5)
    assert out["change"] == "no_change"
    # at 80% the interval exp(+-1.281552 * 0.2309401) = 0.675 /* 1.344804 excludes 1
    narrow = before_after({"events": 50, "n": 200, "expected": 45.0}, {"events": 30, "n": 180, "expected": 40.0},
                          conf=0.80)
    assert narrow["ci_high"] == pytest.approx(0.675 * math.exp(1.281552 * math.sqrt(1 / 30 + 1 / 50)), abs=1e-5)
    assert narrow["change"] == "lower"


def test_oe_ratio_with_no_events_after_uses_the_continuity_correction():
    # O_a = 0: log interval undefined; 0.5 added to both counts for the interval, R itself stays 0
    out = before_after({"events": 20, "n": 100, "expected": 20.0}, {"events": 0, "n": 60, "expected": 12.0})
    assert out["ratio"] == 0.0
    centre = (0.5 / 12.0) / (20.5 / 20.0)
    half = 1.959964 * math.sqrt(1 / 0.5 + 1 / 20.5)
    assert out["ci_low"] == pytest.approx(centre * math.exp(-half), rel=1e-5)
    assert out["ci_high"] == pytest.approx(centre * math.exp(half), rel=1e-5)
    assert out["change"] == "lower"


def test_too_early_below_min_expected():
    # without a model: expected after = n_a * p_b = 15 * 0.25 = 3.75 < 5
    few = before_after({"events": 100, "n": 400}, {"events": 0, "n": 15})
    assert few["change"] == "too_early" and few["reason"] == "after_expected_below_min"
    assert few["expected_after_events"] == pytest.approx(3.75)
    assert np.isnan(few["ci_low"]) and np.isnan(few["ci_high"])
    assert few["share_after"] == 0.0  # the shares are still there, the judgement is not
    # 20 records -> 5.0 expected: judged
    assert before_after({"events": 100, "n": 400}, {"events": 0, "n": 20})["change"] != "too_early"
    # with a model: E_a = 4.9 < 5 even though 30 events were observed
    model = before_after({"events": 100, "n": 400, "expected": 95.0}, {"events": 30, "n": 40, "expected": 4.9})
    assert model["method"] == "oe_ratio" and model["change"] == "too_early"
    assert before_after({"events": 100, "n": 400, "expected": 95.0}, {"events": 3, "n": 40, "expected": 4.9},
                        min_expected=4.0)["change"] != "too_early"
    # an empty after window is too early even at min_expected = 0
    assert before_after({"events": 100, "n": 400}, {"events": 0, "n": 0}, min_expected=0)["change"] == "too_early"
    assert before_after({"events": 100, "n": 400, "expected": 90.0}, {"events": 0, "n": 0, "expected": 0.0},
                        min_expected=0)["change"] == "too_early"
    # no before window: nothing to compare with
    none = before_after({"events": 0, "n": 0}, {"events": 30, "n": 200})
    assert none["change"] == "too_early" and none["reason"] == "no_baseline"


def test_before_after_sums_frames_and_rejects_bad_input():
    quarters = pd.DataFrame({"events": [25, 24, 26, 25], "n": [100, 100, 100, 100]})
    after = pd.DataFrame({"events": [15, 16, 14], "n": [100, 100, 100]})
    out = before_after(quarters, after)
    assert (out["events_before"], out["n_before"], out["events_after"], out["n_after"]) == (100, 400, 45, 300)
    assert out["share_before"] == 0.25 and out["share_after"] == 0.15
    # a frame without expected values (all NaN) takes the Newcombe route
    after["expected"] = np.nan
    quarters["expected"] = [25.0] * 4
    assert before_after(quarters, after)["method"] == "newcombe"
    for bad in ({"events": 5}, {"events": 6, "n": 5}, {"events": -1, "n": 5}, [1, 2]):
        with pytest.raises(StatsInputError):
            before_after(bad, {"events": 1, "n": 10})
    with pytest.raises(StatsInputError):
        before_after({"events": 1, "n": 10}, {"events": 1, "n": 10}, conf=95)


# --------------------------------------------------------------------------------------------------
# must show: a simulated institution whose uitval drops after a date is found; one without is not
# --------------------------------------------------------------------------------------------------

AGREED_ON = pd.Timestamp("2023-04-01")
LAG_MONTHS = 3
PERIOD_END = pd.Timestamp("2024-12-31")


def _institution(seed: int, share_before: float, share_after: float | None, *, complex_before=0.5,
                 complex_after=0.5):
    """Trajectories (about 400 a year) ended 2022-01-01 .. 2024-12-31 with one case-mix covariate
    (``complex``, odds ratio 3) and uitval whose overall share is ``share_before`` before ``AGREED_ON``
    and ``share_after`` from then on (at the given share of complex youths); ``share_after=None``:
    the risk of each youth stays what it was."""
    rng = np.random.default_rng(seed)
    days = (PERIOD_END - pd.Timestamp("2022-01-01")).days + 1
    n = int(round(400 * days / 365.25))
    end = pd.Timestamp("2022-01-01") + pd.to_timedelta(np.sort(rng.integers(0, days, n)), unit="D")
    after = np.asarray(end >= AGREED_ON)
    complex_ = rng.uniform(size=n) < np.where(after, complex_after, complex_before)

    def base_odds(share, prevalence):
        # solve share = (1 - prev) * q + prev * q3 / ... for the odds q of a non-complex youth (OR 3)
        lo, hi = 1e-6, 10.0
        for _ in range(100):
            q = (lo + hi) / 2
            mean = (1 - prevalence) * q / (1 + q) + prevalence * 3 * q / (1 + 3 * q)
            lo, hi = (q, hi) if mean < share else (lo, q)
        return q

    q_before = base_odds(share_before, complex_before)
    q_after = q_before if share_after is None else base_odds(share_after, complex_after)
    odds = np.where(after, q_after, q_before) * np.where(complex_, 3.0, 1.0)
    uitval = rng.uniform(size=n) < odds / (1 + odds)
    return pd.DataFrame({"end": end, "complex": complex_.astype(int), "uitval": uitval.astype(int)})


def _windows(frame: pd.DataFrame, *, with_model: bool):
    """Before: the 12 months before the action; after: from the action + lag to the end of the period.
    With a model: expected = the probabilities of a logistic model (intercept + complex) fitted on all
    records, as the case-mix model is fitted on the population without a time term."""
    import statsmodels.api as sm

    before = frame[(frame["end"] >= AGREED_ON - pd.DateOffset(months=12)) & (frame["end"] < AGREED_ON)]
    after = frame[(frame["end"] >= AGREED_ON + pd.DateOffset(months=LAG_MONTHS)) & (frame["end"] <= PERIOD_END)]
    sides = []
    for side in (before, after):
        totals = {"events": int(side["uitval"].sum()), "n": len(side)}
        if with_model:
            fit = sm.Logit(frame["uitval"], sm.add_constant(frame[["complex"]])).fit(disp=0)
            totals["expected"] = float(fit.predict(sm.add_constant(side[["complex"]], has_constant="add")).sum())
        sides.append(totals)
    return sides


@pytest.mark.parametrize("with_model", [False, True], ids=["newcombe", "oe_ratio"])
def test_a_true_drop_is_found_and_no_change_is_not(with_model):
    dropped = _institution(seed=2024, share_before=0.25, share_after=0.15)
    before, after = _windows(dropped, with_model=with_model)
    assert 330 <= before["n"] <= 470 and after["n"] > 500  # about 400 a year
    found = before_after(before, after)
    assert found["method"] == ("oe_ratio" if with_model else "newcombe")
    assert found["change"] == "lower"
    assert found["ci_high"] < (1.0 if with_model else 0.0)

    steady = _institution(seed=2024, share_before=0.25, share_after=0.25)
    before, after = _windows(steady, with_model=with_model)
    not_found = before_after(before, after)
    assert not_found["change"] == "no_change"
    assert not_found["ci_low"] < (1.0 if with_model else 0.0) < not_found["ci_high"]


def test_the_judgement_over_many_simulated_institutions():
    """Not one lucky seed: over 40 institutions a true drop 25% -> 15% is found in nearly all, and a
    steady 25% is judged a change in about 5% at most (the interval's level)."""
    found = sum(before_after(*_windows(_institution(s, 0.25, 0.15), with_model=False))["change"] == "lower"
                for s in range(40))
    false = sum(before_after(*_windows(_institution(s, 0.25, 0.25), with_model=False))["change"] != "no_change"
                for s in range(40))
    assert found >= 36
    assert false <= 5


def test_a_case_mix_shift_is_not_taken_for_an_improvement():
    """After the date the institution takes fewer complex youths (60% -> 10%) but treats each as
    before: the raw share drops (Newcombe says lower), the O/E ratio sees no change."""
    shifted = _institution(seed=5, share_before=0.27, share_after=None, complex_before=0.6, complex_after=0.1)
    raw = before_after(*_windows(shifted, with_model=False))
    adjusted = before_after(*_windows(shifted, with_model=True))
    assert raw["change"] == "lower"
    assert adjusted["change"] == "no_change"
