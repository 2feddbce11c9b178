"""One verdict per comparison: the verdict and the interval printed beside it from one computation.

Every comparison the workbench makes ends in one of four verdicts, ``higher``, ``lower``, ``within``
or ``none`` (too little to compare), and in an interval that is the verdict's own: the verdict is
``higher`` exactly when the interval's lower end lies above the value compared with, ``lower``
exactly when its upper end lies below it. The functions here compute both together, so that no
report, overview, question or explorer view can print an interval that contradicts its verdict.

Case-mix adjusted (:func:`oe_verdict`, :func:`mean_verdict`)
    The O/E of a binary outcome: ``z = (O/E - 1) / sqrt(s^2 + tau^2)`` with ``s^2 = sum p (1 - p) / E^2``
    (the null variance of a sum of Bernoullis) and ``tau^2`` Spiegelhalter's additive
    overdispersion from 10%-winsorised z-scores (0 when the chi-square test finds no
    overdispersion), read at ``settings.signal_limit`` (99.8%). The interval is
    ``O/E -/+ z_q sqrt(s^2 + tau^2)`` at that level: the range of O/E values for which the
    institution would not be flagged is ``1 -/+ z_q sqrt(s^2 + tau^2)`` (the funnel limits, "expected
    by chance and the usual differences between institutions"). Below ``settings.min_expected``
    expected events or expected non-events there is no verdict (``none``) and the interval is NaN.
    The adjusted mean change is judged the same way against the national mean.
Raw, against the others (:func:`share_vs_others`, :func:`mean_vs_others`)
    The one-sample score test of the institution's share against the share of all *other*
    institutions; the printed Wilson interval is its dual (Wilson 1927), so the verdict reads that
    interval: ``higher`` exactly when the others' share lies below it. Means: the printed t interval
    against the others' mean.
Raw, against the previous period (:func:`share_change`, :func:`mean_change`)
    The difference of two independent shares with Newcombe's hybrid score interval (method 10 of
    Newcombe 1998; ``statsmodels`` ``confint_proportions_2indep(method="newcomb")``); a verdict only
    when the interval excludes 0.
Spread between institutions (:func:`between_variance`, :func:`shrink`, :func:`rankability`)
    Not verdicts: the between-institution variance by the method of moments on the unwinsorised
    z-scores (DerSimonian & Laird 1986, in Spiegelhalter's form), the empirical-Bayes O/E that uses
    it, and the rankability ``rho = tau^2 / (tau^2 + median s_i^2)`` (Lingsma et al. 2010).

References
----------
Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. *Stat Med*
24:1185-1202; Handling over-dispersion of performance indicators. *Qual Saf Health Care* 14:347-351.
Wilson EB (1927). Probable inference, the law of succession, and statistical inference. *JASA*
22:209-212.
Newcombe RG (1998). Interval estimation for the difference between independent proportions:
comparison of eleven methods. *Stat Med* 17:873-890.
DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. *Control Clin Trials* 7:177-188.
Lingsma HF, Steyerberg EW, Eijkemans MJC, et al. (2010). Comparing and ranking hospitals based on
outcome: results from The Netherlands Stroke Survey. *QJM* 103:99-108.
van Dishoeck AM, Lingsma HF, Mackenbach JP, Steyerberg EW (2011). Random variation and rankability
of hospitals using outcome indicators. *BMJ Qual Saf* 20:869-874.
Morris CN (1983). Parametric empirical Bayes inference: theory and applications. *JASA* 78:47-55.
"""
from __future__ import annotations

import numpy as np
from scipy import stats as sps

from outcome_analysis.settings import DEFAULT, Settings

from . import funnel

__all__ = [
    "SIGNALS", "between_variance", "mean_change", "mean_verdict", "mean_vs_others", "oe_verdict",
    "rankability", "rankability_band", "read", "share_change", "share_vs_others", "shrink",
]

#: the four verdicts; ``none``: too little to compare (no verdict, no interval).
SIGNALS = ("higher", "lower", "within", "none")

#: fewer institutions at or above ``min_expected`` than this: no rankability.
MIN_RANKABLE = 10


def _arr(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def read(ci_low, ci_high, null, judged=None) -> np.ndarray:
    """The verdict an interval gives against ``null``: ``higher`` when ``ci_low > null``, ``lower``
    when ``ci_high < null``, ``within`` otherwise, ``none`` where the interval or ``null`` is NaN or
    ``judged`` is False. This is the only place a verdict is read.

    >>> read([1.2, 0.5, 0.9, np.nan], [1.5, 0.8, 1.1, np.nan], 1.0).tolist()
    ['higher', 'lower', 'within', 'none']
    """
    low, high, ref = np.broadcast_arrays(_arr(ci_low), _arr(ci_high), _arr(null))
    ok = np.isfinite(low) & np.isfinite(high) & np.isfinite(ref)
    if judged is not None:
        ok &= np.broadcast_to(np.asarray(judged, dtype=bool), ok.shape)
    out = np.full(low.shape, "within", dtype=object)
    out[ok & (low > ref)] = "higher"
    out[ok & (high < ref)] = "lower"
    out[~ok] = "none"
    return out


def _zq(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be a fraction between 0 and 1, got {level!r}")
    return float(sps.norm.ppf((1 + level) / 2))


def oe_verdict(observed, expected, variance, n, *, settings: Settings | None = None,
               tau2: float | None = None) -> dict[str, np.ndarray | float | funnel.Overdispersion]:
    """Verdict, interval and funnel limits of the O/E of a binary outcome, one per institution.

    Parameters
    ----------
    observed, expected : array_like, shape (k,)
        Events and expected events (sum of the model's probabilities) per institution.
    variance : array_like, shape (k,)
        ``sum p (1 - p)`` over each institution's records.
    n : array_like, shape (k,)
        Records per institution (for the expected non-events ``n - E``).
    settings : Settings, optional
        ``signal_limit`` (level), ``min_expected``, ``overdispersion_trim`` and ``conf`` (the level of
        the overdispersion test).
    tau2 : float, optional
        Additive overdispersion to use; default: estimated from the institutions that can be judged
        (:func:`outcome_analysis.statistics.funnel.overdispersion` over every institution with a
        z-score, as FunnelPlotR; applied only when the test shows overdispersion).

    Returns
    -------
    dict
        ``oe_ratio``, ``z`` (``(O/E - 1) / sqrt(s^2 + tau^2)``), ``oe_ci_low`` / ``oe_ci_high``
        (``O/E -/+ z_q sqrt(s^2 + tau^2)``, lower end clipped at 0), ``funnel_low`` / ``funnel_high``
        (``1 -/+ z_q sqrt(s^2 + tau^2)``, lower clipped at 0), ``signal`` (:func:`read` of the interval
        against 1), ``judged`` (bool: at least ``min_expected`` expected events and non-events) —
        arrays of shape (k,) — and ``level``, ``tau2`` (floats) and ``overdispersion``. Where not
        judged the interval and limits are NaN and the signal is ``none``.

    Examples
    --------
    O = 40 and E = 20 with ``sum p (1 - p)`` = 16: ``s = 4 / 20 = 0.2``, ``z = (2 - 1) / 0.2 = 5``;
    at 99.8% ``z_q = 3.090`` and the interval is ``2 -/+ 0.618``. O = 30 gives z = 2.5: within.

    >>> out = oe_verdict([40, 30, 5], [20, 20, 20], [16, 16, 16], [100, 100, 100], tau2=0.0)
    >>> out["signal"].tolist(), [round(float(x), 3) for x in out["oe_ci_low"]]
    (['higher', 'within', 'lower'], [1.382, 0.882, 0.0])
    """
    settings = settings or DEFAULT
    obs, exp_, var, n = (_arr(a) for a in (observed, expected, variance, n))
    level = float(settings.signal_limit)
    zq = _zq(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        oe = obs / exp_
        s = np.sqrt(var) / exp_
        z0 = (oe - 1) / s
    judged = (np.isfinite(s) & (exp_ >= settings.min_expected) & (n - exp_ >= settings.min_expected))
    # overdispersion from every institution with a z-score, as FunnelPlotR does: leaving the small
    # ones out would overstate phi (real differences show most in the large institutions) and widen
    # every limit; winsorising keeps their extreme z-scores in check
    od = funnel.overdispersion(z0, s, settings=settings)
    if tau2 is None:
        tau2 = od.tau2 if od.applied else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(s ** 2 + tau2)
        z = (oe - 1) / sd
        half = np.where(judged, zq * sd, np.nan)
    low, high = np.clip(oe - half, 0, None), oe + half
    return {"oe_ratio": oe, "z": np.where(judged, z, np.nan), "oe_ci_low": low, "oe_ci_high": high,
            "funnel_low": np.clip(1 - half, 0, None), "funnel_high": 1 + half,
            "signal": read(low, high, 1.0, judged), "judged": judged, "level": level,
            "tau2": float(tau2), "overdispersion": od}


def mean_verdict(adjusted, national: float, s, n, *, settings: Settings | None = None) -> dict:
    """Verdict and interval of adjusted means against the national mean (the rule of :func:`oe_verdict`).

    Parameters
    ----------
    adjusted : array_like, shape (k,)
        Adjusted mean per institution (observed - expected + national).
    national : float
        The national mean.
    s : array_like, shape (k,)
        Standard error of each institution's mean under the model (``sigma / sqrt(n)``).
    n : array_like, shape (k,)
        Records per institution; fewer than ``settings.min_denominator``: no verdict.

    Returns
    -------
    dict
        ``z``, ``ci_low`` / ``ci_high`` (``adjusted -/+ z_q sqrt(s^2 + tau^2)``), ``funnel_low`` /
        ``funnel_high`` (``national -/+ z_q sqrt(s^2 + tau^2)``), ``signal``, ``judged`` and
        ``level``, ``tau2``, ``overdispersion``.

    >>> out = mean_verdict([0.9, 0.5, 0.45, 0.55, 0.5, 0.5], 0.5, [0.1] * 6, [50] * 6)
    >>> out["signal"].tolist()[:3], round(float(out["ci_low"][0]), 3)
    (['higher', 'within', 'within'], 0.591)
    """
    settings = settings or DEFAULT
    adj, s, n = (_arr(a) for a in (adjusted, s, n))
    level = float(settings.signal_limit)
    zq = _zq(level)
    judged = np.isfinite(s) & (s > 0) & (n >= settings.min_denominator)
    with np.errstate(invalid="ignore", divide="ignore"):
        z0 = (adj - national) / s
    od = funnel.overdispersion(z0, s, settings=settings)
    tau2 = od.tau2 if od.applied else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(s ** 2 + tau2)
        half = np.where(judged, zq * sd, np.nan)
        z = np.where(judged, (adj - national) / sd, np.nan)
    low, high = adj - half, adj + half
    return {"z": z, "ci_low": low, "ci_high": high, "funnel_low": national - half,
            "funnel_high": national + half, "signal": read(low, high, national, judged),
            "judged": judged, "level": level, "tau2": float(tau2), "overdispersion": od}


def between_variance(observed, expected, variance, judged=None) -> float:
    """The between-institution variance of the O/E, unwinsorised (method of moments).

    ``tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w))`` with ``Q = sum z_i^2``,
    ``z_i = (O_i/E_i - 1) / s_i``, ``w_i = 1 / s_i^2`` over the ``k`` institutions that can be judged
    (DerSimonian & Laird 1986 with the target fixed at 1, as Spiegelhalter 2005 without
    winsorising). Used for shrinkage and rankability; the funnel keeps the winsorised, tested
    ``tau^2`` of :func:`oe_verdict` for robust limits. NaN with fewer than two institutions.

    z = 2.5, -2.5, 0 and w = 25 each: ``(12.5 - 2) / (75 - 25) = 0.21``.

    >>> round(between_variance([30, 10, 20], [20, 20, 20], [16, 16, 16]), 6)
    0.21
    """
    obs, exp_, var = (_arr(a) for a in (observed, expected, variance))
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sqrt(var) / exp_
        z = (obs / exp_ - 1) / s
    ok = np.isfinite(z) & np.isfinite(s) & (s > 0)
    if judged is not None:
        ok &= np.asarray(judged, dtype=bool)
    k = int(ok.sum())
    if k < 2:
        return float("nan")
    w = 1 / s[ok] ** 2
    denom = w.sum() - (w ** 2).sum() / w.sum()
    return float(max(0.0, (np.sum(z[ok] ** 2) - (k - 1)) / denom)) if denom > 0 else 0.0


def shrink(observed, expected, variance, tau2: float, conf: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empirical-Bayes O/E on the log scale (normal-normal; Morris 1983) and its interval at ``conf``.

    ``exp(B y)`` with ``y = log((O + 0.5) / (E + 0.5))``, ``B = tau^2 / (tau^2 + s^2)``,
    ``s^2 = sum p (1 - p) / E^2``; interval ``exp(B y -/+ z sqrt(B) s)``. NaN everywhere when
    ``tau^2`` is 0 or NaN: without a between-institution variance there is nothing to shrink towards
    but 1, and a column of 1,00 would read as "no differences" beside a verdict.

    ``y = log(30.5 / 20.5) = 0.397``, ``s^2 = 0.04``, ``B = 0.1 / 0.14``: ``exp(0.284) = 1.328``.

    >>> [round(float(v), 3) for v in shrink([30], [20], [16], 0.1, 0.95)[0]]
    [1.328]
    """
    obs, exp_, var = (_arr(a) for a in (observed, expected, variance))
    if not np.isfinite(tau2) or tau2 <= 0:
        nan = np.full(obs.shape, np.nan)
        return nan, nan.copy(), nan.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.log((obs + 0.5) / (exp_ + 0.5))
        s2 = var / exp_ ** 2
        b = tau2 / (tau2 + s2)
        half = _zq(conf) * np.sqrt(b * s2)
        valid = np.isfinite(s2) & (exp_ > 0)
    centre = b * y
    return (np.where(valid, np.exp(centre), np.nan), np.where(valid, np.exp(centre - half), np.nan),
            np.where(valid, np.exp(centre + half), np.nan))


def rankability(tau2: float, s2, judged=None) -> float:
    """``rho = tau^2 / (tau^2 + median s_i^2)`` over the institutions that can be judged (Lingsma et al.
    2010; van Dishoeck et al. 2011): the share of the spread between institutions that is not
    chance. NaN with fewer than ``MIN_RANKABLE`` (10) such institutions or without ``tau^2``.

    >>> rankability(0.03, [0.01] * 10)
    0.75
    """
    s2 = _arr(s2)
    ok = np.isfinite(s2)
    if judged is not None:
        ok &= np.asarray(judged, dtype=bool)
    if ok.sum() < MIN_RANKABLE or not np.isfinite(tau2):
        return float("nan")
    return float(tau2 / (tau2 + np.median(s2[ok])))


def rankability_band(rho: float, settings: Settings | None = None) -> str | None:
    """``"low"`` (< 0.50), ``"moderate"`` (0.50 up to ``settings.rankability_high``), ``"high"``
    (above it, default 0.75); None when ``rho`` is NaN.

    >>> rankability_band(0.4), rankability_band(0.6), rankability_band(0.8), rankability_band(float("nan"))
    ('low', 'moderate', 'high', None)
    """
    settings = settings or DEFAULT
    if rho is None or not np.isfinite(rho):
        return None
    return "low" if rho < 0.5 else "high" if rho > settings.rankability_high else "moderate"


def share_vs_others(value, ci_low, ci_high, numerator, denominator, total_numerator,
                    total_denominator) -> dict[str, np.ndarray]:
    """Raw share against the share of all other institutions, read from the printed interval.

    The Wilson interval is the set of shares ``p0`` the score test does not reject, so "higher" and
    "lower" exactly when the others' share lies outside the printed interval (Wilson 1927).

    Parameters
    ----------
    value, ci_low, ci_high : array_like, shape (k,)
        The printed share and its interval (``settings.conf``, Wilson or Clopper-Pearson).
    numerator, denominator : array_like, shape (k,)
        The institution's counts.
    total_numerator, total_denominator : array_like or float
        The counts of all institutions together (the pooled row).

    Returns
    -------
    dict
        ``reference_value`` (the others' share), ``z`` (score statistic
        ``(p - p0) / sqrt(p0 (1 - p0) / n)``), ``signal`` (:func:`read` against the others' share).

    >>> out = share_vs_others([0.3], [0.2189], [0.3958], [30], [100], [230], [1100])
    >>> out["reference_value"].round(3).tolist(), out["signal"].tolist()
    ([0.2], ['higher'])
    """
    value, low, high, num, den = (_arr(a) for a in (value, ci_low, ci_high, numerator, denominator))
    tnum, tden = np.broadcast_arrays(_arr(total_numerator), _arr(total_denominator))
    with np.errstate(invalid="ignore", divide="ignore"):
        others = (tnum - num) / (tden - den)
        others = np.where(tden - den > 0, others, np.nan)
        z = (value - others) / np.sqrt(others * (1 - others) / den)
    return {"reference_value": others, "z": z, "signal": read(low, high, others)}


def mean_vs_others(value, ci_low, ci_high, n, total_value, total_n) -> dict[str, np.ndarray]:
    """Raw mean against the mean of all other institutions, read from the printed (t) interval.

    The others' mean is ``(total_value * total_n - value * n) / (total_n - n)``.

    >>> mean_vs_others([2.0], [1.5], [2.5], [50], [1.0], [550])["signal"].tolist()
    ['higher']
    """
    value, low, high, n = (_arr(a) for a in (value, ci_low, ci_high, n))
    tval, tn = np.broadcast_arrays(_arr(total_value), _arr(total_n))
    with np.errstate(invalid="ignore", divide="ignore"):
        others = np.where(tn - n > 0, (tval * tn - value * n) / (tn - n), np.nan)
    return {"reference_value": others, "signal": read(low, high, others)}


def share_change(numerator, denominator, previous_numerator, previous_denominator, conf: float) -> dict[str, np.ndarray]:
    """Change of a share from the previous period with Newcombe's hybrid score interval (method 10).

    Parameters
    ----------
    numerator, denominator, previous_numerator, previous_denominator : array_like, shape (k,)
    conf : float
        Level of the interval.

    Returns
    -------
    dict
        ``value`` (difference of the shares, this period minus the previous, as a fraction),
        ``ci_low``, ``ci_high`` (Newcombe 1998, method 10, via ``statsmodels``
        ``confint_proportions_2indep(method="newcomb", compare="diff")``), ``signal`` against 0.
        NaN and ``none`` where a denominator is 0 or missing.

    Examples
    --------
    Newcombe (1998), table II, example (a): 56/70 against 48/80.

    >>> out = share_change([56], [70], [48], [80], 0.95)
    >>> [round(float(out[k][0]), 4) for k in ("value", "ci_low", "ci_high")], out["signal"].tolist()
    ([0.2, 0.0524, 0.3339], ['higher'])
    """
    from statsmodels.stats.proportion import confint_proportions_2indep

    x1, n1, x2, n2 = np.broadcast_arrays(*(_arr(a) for a in (numerator, denominator, previous_numerator,
                                                             previous_denominator)))
    ok = np.isfinite(x1) & np.isfinite(x2) & (n1 > 0) & (n2 > 0)
    low = np.full(x1.shape, np.nan)
    high = np.full(x1.shape, np.nan)
    if ok.any():
        lo, hi = confint_proportions_2indep(x1[ok], n1[ok], x2[ok], n2[ok], method="newcomb",
                                            compare="diff", alpha=1 - conf)
        low[ok], high[ok] = lo, hi
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.where(ok, x1 / n1 - x2 / n2, np.nan)
    return {"value": diff, "ci_low": low, "ci_high": high, "signal": read(low, high, 0.0)}


def mean_change(value, ci_low, ci_high, previous_value, previous_ci_low, previous_ci_high,
                conf: float) -> dict[str, np.ndarray]:
    """Change of a mean from the previous period: the difference with ``z sqrt(se1^2 + se2^2)``, each
    standard error taken from its printed interval at ``conf``, and the verdict against 0.

    >>> mean_change([2.0], [1.804], [2.196], [1.0], [0.804], [1.196], 0.95)["signal"].tolist()
    ['higher']
    """
    v1, l1, h1, v2, l2, h2 = (_arr(a) for a in (value, ci_low, ci_high, previous_value, previous_ci_low,
                                                previous_ci_high))
    zq = _zq(conf)
    se = np.hypot((h1 - l1) / (2 * zq), (h2 - l2) / (2 * zq))
    diff = v1 - v2
    return {"value": diff, "ci_low": diff - zq * se, "ci_high": diff + zq * se,
            "signal": read(diff - zq * se, diff + zq * se, 0.0)}
