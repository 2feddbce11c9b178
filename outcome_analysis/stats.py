"""Statistical methods of the workbench: interval formulas, GAS T-scores, reliable change, instrument norms.

One public function per method; the interval formulas exist only here and every module calls them
(``indicators`` for shares and means, ``casemix`` and ``funnel`` for O/E ratios). All functions are
vectorised: they take scalars, NumPy arrays or pandas Series and return the same shape (a Series
keeps its index). Everything is computed at full precision; rounding happens in the report layer.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _sps

from .errors import OutcomeAnalysisError

__all__ = [
    "StatsInputError",
    "proportion_ci",
    "poisson_ci",
]


class StatsInputError(OutcomeAnalysisError, ValueError):
    """Input to a statistical function that is out of its domain (the message names the argument and value)."""


# --------------------------------------------------------------------------------------------------
# shared helpers (written once)
# --------------------------------------------------------------------------------------------------


def _as_float(values, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"{name} must be numeric, got {values!r}") from exc


def _index_of(*values):
    """The index of the first pandas Series among ``values`` (to give the result back as Series)."""
    for v in values:
        if isinstance(v, pd.Series):
            return v.index
    return None


def _wrap(result: np.ndarray, index, name: str | None = None):
    """Give a result back in the caller's shape: Series (with index), 0-d -> float, else ndarray."""
    if index is not None:
        return pd.Series(result, index=index, name=name)
    if np.ndim(result) == 0:
        return float(result)
    return result


def _check_conf(conf: float) -> float:
    conf = float(conf)
    if not 0 < conf < 1:
        raise StatsInputError(f"conf must be a fraction between 0 and 1 (0.95, not 95), got {conf!r}")
    return conf


def _z(conf: float) -> float:
    """Two-sided standard normal quantile for confidence ``conf``."""
    return float(_sps.norm.ppf(1 - (1 - conf) / 2))


def _first_bad(mask: np.ndarray, values: np.ndarray):
    idx = int(np.flatnonzero(np.atleast_1d(mask))[0])
    return idx, float(np.atleast_1d(values)[idx])


# --------------------------------------------------------------------------------------------------
# proportions
# --------------------------------------------------------------------------------------------------


def proportion_ci(x, n, conf: float = 0.95, method: str = "wilson"):
    """Confidence interval for a proportion ``x / n``.

    Parameters
    ----------
    x : int, float, array-like or pandas.Series
        Numerator: the number of units with the outcome, ``0 <= x <= n``.
    n : int, float, array-like or pandas.Series
        Denominator, ``n >= 0``. Broadcast against ``x``.
    conf : float, default 0.95
        Confidence level as a fraction.
    method : {"wilson", "exact"}, default "wilson"
        ``"wilson"``: Wilson (1927) score interval, the default of indicators.md.
        ``"exact"``: Clopper & Pearson (1934), from quantiles of the beta distribution.

    Returns
    -------
    low, high : float, numpy.ndarray or pandas.Series
        Lower and upper limits as fractions, in the shape of the input (a Series when ``x`` or
        ``n`` is a Series, with its index). ``NaN`` where ``n == 0`` or where ``x`` or ``n`` is
        missing.

    Raises
    ------
    StatsInputError
        For ``n < 0``, ``x < 0``, ``x > n``, ``conf`` outside (0, 1) or an unknown ``method``; the
        message names the first offending value.

    Notes
    -----
    Wilson score interval, with :math:`\\hat p = x/n` and :math:`z` the :math:`1-\\alpha/2` normal
    quantile:

    .. math:: \\frac{x + z^2/2}{n + z^2} \\pm \\frac{z}{n + z^2}\\sqrt{\\frac{x(n-x)}{n} + \\frac{z^2}{4}}

    (no continuity correction; Newcombe 1998, method 3). It gives exactly 0 (1) as the lower (upper)
    limit when ``x == 0`` (``x == n``).

    Clopper-Pearson: lower = ``Beta(alpha/2; x, n - x + 1)``, upper = ``Beta(1 - alpha/2; x + 1, n - x)``,
    with 0 and 1 at ``x == 0`` and ``x == n``. This is what ``statsmodels.stats.proportion.proportion_confint``
    returns for ``method="wilson"`` and ``method="beta"`` and PHEindicatormethods ``phe_proportion``
    for ``confidence = 0.95`` (Wilson).

    References
    ----------
    .. [1] Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
       JASA 22:209-212.
    .. [2] Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the
       case of the binomial. Biometrika 26:404-413.
    .. [3] Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison
       of seven methods. Statistics in Medicine 17:857-872.

    Examples
    --------
    >>> low, high = proportion_ci(81, 263)
    >>> round(low, 4), round(high, 4)
    (0.2553, 0.3662)
    >>> import pandas as pd
    >>> low, high = proportion_ci(pd.Series([0, 0]), pd.Series([20, 0]))
    >>> high.round(4).tolist()
    [0.1611, nan]
    """
    conf = _check_conf(conf)
    index = _index_of(x, n)
    x_arr, n_arr = np.broadcast_arrays(_as_float(x, "x"), _as_float(n, "n"))
    with np.errstate(invalid="ignore"):
        bad_n = n_arr < 0
        bad_x = (x_arr < 0) | (x_arr > n_arr)
    if bad_n.any():
        i, v = _first_bad(bad_n, n_arr)
        raise StatsInputError(f"n must be >= 0; n[{i}] = {v!r}")
    if bad_x.any():
        i, v = _first_bad(bad_x, x_arr)
        raise StatsInputError(f"x must lie in [0, n]; x[{i}] = {v!r} with n = {float(np.atleast_1d(n_arr)[i])!r}")

    valid = n_arr > 0  # False for n == 0 and for NaN
    xs = np.where(valid, x_arr, 0.0)
    ns = np.where(valid, n_arr, 1.0)
    if method == "wilson":
        z = _z(conf)
        z2 = z * z
        centre = (xs + z2 / 2) / (ns + z2)
        half = z / (ns + z2) * np.sqrt(xs * (ns - xs) / ns + z2 / 4)
        low = np.where(xs == 0, 0.0, centre - half)
        high = np.where(xs == ns, 1.0, centre + half)
    elif method == "exact":
        alpha = 1 - conf
        with np.errstate(invalid="ignore", divide="ignore"):
            low = np.where(xs == 0, 0.0, _sps.beta.ppf(alpha / 2, np.maximum(xs, 1e-300), ns - xs + 1))
            high = np.where(xs == ns, 1.0, _sps.beta.ppf(1 - alpha / 2, xs + 1, np.maximum(ns - xs, 1e-300)))
    else:
        raise StatsInputError(f"method must be 'wilson' or 'exact', got {method!r}")
    low = np.where(valid, np.clip(low, 0.0, 1.0), np.nan)
    high = np.where(valid, np.clip(high, 0.0, 1.0), np.nan)
    return _wrap(low, index, "ci_low"), _wrap(high, index, "ci_high")


# --------------------------------------------------------------------------------------------------
# counts
# --------------------------------------------------------------------------------------------------


def poisson_ci(x, conf: float = 0.95):
    """Exact (Garwood) confidence interval for a Poisson count.

    Used for observed/expected ratios: the interval of O/E is ``poisson_ci(O) / E`` (indirect
    standardisation, as PHEindicatormethods ``calculate_ISRatio`` with ``method = "exact"``).

    Parameters
    ----------
    x : int, float, array-like or pandas.Series
        Observed count(s), ``x >= 0``.
    conf : float, default 0.95
        Confidence level as a fraction.

    Returns
    -------
    low, high : float, numpy.ndarray or pandas.Series
        Limits for the expected count, in the shape of ``x``. ``NaN`` where ``x`` is missing.

    Raises
    ------
    StatsInputError
        For a negative count or ``conf`` outside (0, 1).

    Notes
    -----
    lower = ``chi2(alpha/2; 2x) / 2`` (0 for ``x == 0``), upper = ``chi2(1 - alpha/2; 2x + 2) / 2``
    (Garwood 1936; Ulm 1990). PHEindicatormethods ``byars_lower``/``byars_upper`` approximate the
    same limits; this function uses the exact quantiles at every count.

    References
    ----------
    .. [1] Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika 28:437-442.
    .. [2] Ulm K (1990). A simple method to calculate the confidence interval of a standardized
       mortality ratio. American Journal of Epidemiology 131:373-375.

    Examples
    --------
    >>> low, high = poisson_ci(10)
    >>> round(low, 3), round(high, 2)
    (4.795, 18.39)
    >>> poisson_ci(0)[1].__round__(3)
    3.689
    """
    conf = _check_conf(conf)
    index = _index_of(x)
    x_arr = _as_float(x, "x")
    with np.errstate(invalid="ignore"):
        bad = x_arr < 0
    if bad.any():
        i, v = _first_bad(bad, x_arr)
        raise StatsInputError(f"a count must be >= 0; x[{i}] = {v!r}")
    alpha = 1 - conf
    with np.errstate(invalid="ignore"):
        low = np.where(x_arr > 0, _sps.chi2.ppf(alpha / 2, 2 * np.where(x_arr > 0, x_arr, 1)) / 2, 0.0)
        high = _sps.chi2.ppf(1 - alpha / 2, 2 * x_arr + 2) / 2
    missing = np.isnan(x_arr)
    low = np.where(missing, np.nan, low)
    high = np.where(missing, np.nan, high)
    return _wrap(low, index, "ci_low"), _wrap(high, index, "ci_high")
