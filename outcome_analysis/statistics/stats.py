"""Statistical methods of the workbench: interval formulas, GAS T-scores, reliable change, instrument norms.

One public function per method; the interval formulas exist only here and every module calls them
(``indicators`` for shares and means, ``casemix`` and ``funnel`` for O/E ratios). All functions are
vectorised: they take scalars, NumPy arrays or pandas Series and return the same shape (a Series
keeps its index). Everything is computed at full precision; rounding happens in the report layer.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as _sps

from outcome_analysis.errors import DataValidationError, OutcomeAnalysisError, Problem

__all__ = [
    "StatsInputError",
    "proportion_ci",
    "poisson_ci",
    "mean_ci",
    "mean_ci_grouped",
    "gas_tscore",
    "gas_tscore_grouped",
    "reliable_change",
    "classify_change",
    "instruments",
    "to_tscore",
    "INSTRUMENT_COLUMNS",
    "DIRECTIONS",
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


# --------------------------------------------------------------------------------------------------
# means
# --------------------------------------------------------------------------------------------------


def mean_ci(mean, sd, n, conf: float = 0.95):
    """Student-t confidence interval for a mean from its summary statistics.

    Parameters
    ----------
    mean, sd, n : float, array-like or pandas.Series
        Sample mean, sample standard deviation (``ddof=1``) and number of observations; broadcast
        against each other.
    conf : float, default 0.95
        Confidence level as a fraction.

    Returns
    -------
    low, high : float, numpy.ndarray or pandas.Series
        ``mean -/+ t(1 - alpha/2; n - 1) * sd / sqrt(n)``, in the shape of the input. ``NaN`` where
        ``n < 2`` (no standard deviation) or any input is missing.

    Raises
    ------
    StatsInputError
        For a negative ``sd`` or ``n`` or ``conf`` outside (0, 1).

    Notes
    -----
    Equals ``scipy.stats.t.interval(conf, n - 1, loc=mean, scale=sd / sqrt(n))`` and the interval
    of ``statsmodels.stats.weightstats.DescrStatsW(x).tconfint_mean()``.

    Examples
    --------
    >>> low, high = mean_ci(10.0, 2.0, 16)
    >>> round(low, 4), round(high, 4)
    (8.9343, 11.0657)
    """
    conf = _check_conf(conf)
    index = _index_of(mean, sd, n)
    m, s, k = np.broadcast_arrays(_as_float(mean, "mean"), _as_float(sd, "sd"), _as_float(n, "n"))
    with np.errstate(invalid="ignore"):
        for arr, name in ((s, "sd"), (k, "n")):
            bad = arr < 0
            if bad.any():
                i, v = _first_bad(bad, arr)
                raise StatsInputError(f"{name} must be >= 0; {name}[{i}] = {v!r}")
        valid = k >= 2
        df = np.where(valid, k - 1, 1.0)
        t = _sps.t.ppf(1 - (1 - conf) / 2, df)
        half = t * s / np.sqrt(np.where(valid, k, 1.0))
    low = np.where(valid, m - half, np.nan)
    high = np.where(valid, m + half, np.nan)
    return _wrap(low, index, "ci_low"), _wrap(high, index, "ci_high")


def mean_ci_grouped(frame: pd.DataFrame, by, value: str = "outcome", conf: float = 0.95) -> pd.DataFrame:
    """Mean with its t-interval per group of a unit-level frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per unit.
    by : str or list of str
        Grouping columns.
    value : str, default "outcome"
        The column to average. Missing values are left out (and counted in ``missing``).
    conf : float, default 0.95
        Confidence level as a fraction.

    Returns
    -------
    pandas.DataFrame
        One row per group (groups as columns, not index), with ``n`` (non-missing values),
        ``missing``, ``value`` (mean), ``sd`` (``ddof=1``), ``ci_low``, ``ci_high`` (:func:`mean_ci`).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"institution": ["A", "A", "A", "B"], "outcome": [1.0, 2.0, 3.0, 5.0]})
    >>> mean_ci_grouped(f, "institution")[["institution", "n", "value", "sd"]]
      institution  n  value   sd
    0           A  3    2.0  1.0
    1           B  1    5.0  NaN
    """
    if value not in frame.columns:
        raise StatsInputError(f"column {value!r} not in the frame; it has {list(frame.columns)}")
    g = frame.groupby(by, sort=True, dropna=False)[value]
    out = g.agg(n="count", value="mean", sd="std").reset_index()
    out.insert(out.columns.get_loc("n") + 1, "missing", g.size().to_numpy() - out["n"].to_numpy())
    out["ci_low"], out["ci_high"] = mean_ci(out["value"], out["sd"], out["n"], conf)
    return out


# --------------------------------------------------------------------------------------------------
# Goal Attainment Scaling
# --------------------------------------------------------------------------------------------------


def _gas_formula(sum_wx, sum_w2, sum_w, rho):
    """Kiresuk & Sherman (1968) T from the three sums (the one place the formula is written)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return 50.0 + 10.0 * sum_wx / np.sqrt((1.0 - rho) * sum_w2 + rho * sum_w**2)


def _check_rho(rho: float) -> float:
    rho = float(rho)
    if not 0 <= rho < 1:
        raise StatsInputError(f"rho must lie in [0, 1), got {rho!r}")
    return rho


def gas_tscore(scores, weights=None, rho: float = 0.3) -> float:
    """Goal Attainment Scaling T-score of one set of goals (Kiresuk & Sherman 1968).

    Parameters
    ----------
    scores : array-like
        Attainment score per goal (-2 ... +2 by default; any numeric scale is accepted).
        Goals with a missing score are left out.
    weights : array-like, optional
        Weight per goal (importance, or importance x difficulty). Missing weights count as 1, the
        default of the data contract; ``None`` means all 1.
    rho : float, default 0.3
        Assumed correlation between the goal scores (``Settings.gas_rho``).

    Returns
    -------
    float
        ``T = 50 + 10 * sum(w*x) / sqrt((1 - rho) * sum(w**2) + rho * (sum w)**2)``; ``NaN`` when
        no goal has a score.

    Raises
    ------
    StatsInputError
        Negative weights, weights of another length than the scores, or ``rho`` outside [0, 1).

    Notes
    -----
    T is 50 when every goal is attained at the expected level (0) and has a standard deviation of
    about 10 when the goal scores have unit variance and correlate ``rho``. Turner-Stokes (2009)
    gives the same formula (with the erratum to its pages 364 and 367) with rho = 0.3 and weights
    importance x difficulty.

    References
    ----------
    .. [1] Kiresuk TJ, Sherman RE (1968). Goal attainment scaling: a general method for evaluating
       comprehensive community mental health programs. Community Mental Health Journal 4:443-453.
    .. [2] Kiresuk TJ, Smith A, Cardillo JE (1994). Goal Attainment Scaling: Applications, Theory,
       and Measurement. Hillsdale, NJ: Erlbaum.
    .. [3] Turner-Stokes L (2009). Goal attainment scaling (GAS) in rehabilitation: a practical
       guide. Clinical Rehabilitation 23:362-370, and its erratum correcting the formula on pages 364
       and 367.

    Examples
    --------
    >>> gas_tscore([0, 0, 0])
    50.0
    >>> round(gas_tscore([1]), 6)        # one goal: 50 + 10 * 1 / sqrt(0.7 + 0.3)
    60.0
    >>> gas_tscore([1, -1, 2], weights=[2, 1, 1])   # 50 + 10 * 3 / sqrt(0.7 * 6 + 0.3 * 16)
    60.0
    """
    rho = _check_rho(rho)
    x = np.atleast_1d(_as_float(scores, "scores"))
    if weights is None:
        w = np.ones_like(x)
    else:
        w = np.atleast_1d(_as_float(weights, "weights"))
        if w.shape != x.shape:
            raise StatsInputError(f"weights has {w.size} values for {x.size} scores")
        w = np.where(np.isnan(w), 1.0, w)
    if (w < 0).any():
        i, v = _first_bad(w < 0, w)
        raise StatsInputError(f"weights must be >= 0; weights[{i}] = {v!r}")
    keep = ~np.isnan(x)
    if not keep.any():
        return float("nan")
    x, w = x[keep], w[keep]
    return float(_gas_formula((w * x).sum(), (w * w).sum(), w.sum(), rho))


def gas_tscore_grouped(
    frame: pd.DataFrame,
    by="trajectory_id",
    score: str = "score",
    weight: str | None = "weight",
    rho: float = 0.3,
) -> pd.Series:
    """GAS T-score per group of a long goals table, vectorised (no loop over groups).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per goal (the ``goals`` table of the data contract, usually filtered to one
        informant).
    by : str or list of str, default "trajectory_id"
        Columns identifying one set of goals.
    score : str, default "score"
        Attainment score column; goals with a missing score are left out.
    weight : str or None, default "weight"
        Weight column; missing weights, or no such column, or ``None``, count as 1.
    rho : float, default 0.3
        Assumed correlation between goal scores.

    Returns
    -------
    pandas.Series
        T-score per group (index: the ``by`` values, name ``"gas_t"``); ``NaN`` for a group whose
        goals all lack a score. Same formula as :func:`gas_tscore`.

    Examples
    --------
    >>> import pandas as pd
    >>> goals = pd.DataFrame({"trajectory_id": ["t1", "t1", "t1", "t2"],
    ...                       "score": [1, -1, 2, 0], "weight": [2, 1, 1, None]})
    >>> gas_tscore_grouped(goals).round(2)
    trajectory_id
    t1    60.0
    t2    50.0
    Name: gas_t, dtype: float64
    """
    rho = _check_rho(rho)
    if score not in frame.columns:
        raise StatsInputError(f"score column {score!r} not in the frame; it has {list(frame.columns)}")
    x = pd.to_numeric(frame[score], errors="raise").astype(float)
    if weight is not None and weight in frame.columns:
        w = pd.to_numeric(frame[weight], errors="raise").astype(float).fillna(1.0)
    else:
        w = pd.Series(1.0, index=frame.index)
    if (w < 0).any():
        raise StatsInputError(f"weights must be >= 0; found {float(w[w < 0].iloc[0])!r}")
    has = x.notna()
    keys = [frame[c] for c in ([by] if isinstance(by, str) else list(by))]
    parts = pd.DataFrame({"wx": (w * x).where(has), "w2": (w * w).where(has), "w": w.where(has)})
    sums = parts.groupby(keys, sort=True, dropna=False).sum(min_count=1)
    t = _gas_formula(sums["wx"], sums["w2"], sums["w"], rho)
    t.name = "gas_t"
    return t


# --------------------------------------------------------------------------------------------------
# reliable change
# --------------------------------------------------------------------------------------------------

#: the two allowed values of an instrument's ``direction``.
DIRECTIONS = ("higher_worse", "higher_better")


def reliable_change(pre, post, sd, reliability):
    """Reliable Change Index of Jacobson & Truax (1991).

    Parameters
    ----------
    pre, post : float, array-like or pandas.Series
        Scores at the start and at the end (same scale).
    sd : float, array-like or pandas.Series
        Standard deviation of the instrument in the reference population (``norm_sd`` of the
        instrument table), > 0.
    reliability : float, array-like or pandas.Series
        Reliability ``r_xx`` of the instrument (internal consistency or test-retest), in [0, 1).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``RCI = (post - pre) / S_diff`` with ``S_E = sd * sqrt(1 - r_xx)`` and
        ``S_diff = sqrt(2) * S_E``, in the shape of the input. ``NaN`` where an input is missing.
        Its sign is that of the raw change: see :func:`classify_change` for what it means.

    Raises
    ------
    StatsInputError
        For ``sd <= 0`` or ``reliability`` outside [0, 1).

    References
    ----------
    .. [1] Jacobson NS, Truax P (1991). Clinical significance: a statistical approach to defining
       meaningful change in psychotherapy research. Journal of Consulting and Clinical Psychology
       59:12-19.

    Examples
    --------
    >>> round(reliable_change(20, 10, sd=5.0, reliability=0.8), 4)   # -10 / (sqrt(2) * 5 * sqrt(0.2))
    -3.1623
    """
    index = _index_of(pre, post, sd, reliability)
    x1, x2, s, r = np.broadcast_arrays(
        _as_float(pre, "pre"), _as_float(post, "post"), _as_float(sd, "sd"), _as_float(reliability, "reliability")
    )
    with np.errstate(invalid="ignore"):
        bad_s = s <= 0
        bad_r = (r < 0) | (r >= 1)
    if bad_s.any():
        i, v = _first_bad(bad_s, s)
        raise StatsInputError(f"sd must be > 0; sd[{i}] = {v!r}")
    if bad_r.any():
        i, v = _first_bad(bad_r, r)
        raise StatsInputError(f"reliability must lie in [0, 1); reliability[{i}] = {v!r}")
    s_diff = np.sqrt(2.0) * s * np.sqrt(1.0 - r)
    return _wrap((x2 - x1) / s_diff, index, "rci")


def classify_change(rci, direction, threshold: float = 1.96):
    """Classify Reliable Change Indices as ``"improved"``, ``"deteriorated"`` or ``"unchanged"``.

    Parameters
    ----------
    rci : float, array-like or pandas.Series
        Output of :func:`reliable_change`.
    direction : str, array-like or pandas.Series
        ``"higher_worse"`` or ``"higher_better"`` (the instrument's ``direction``), one value or one
        per row.
    threshold : float, default 1.96
        ``|RCI|`` must exceed this (strictly) for reliable change (``Settings.rci_threshold``).

    Returns
    -------
    str, numpy.ndarray of object or pandas.Series of str
        In the shape of ``rci``; missing where ``rci`` is missing.

    Examples
    --------
    >>> classify_change([-3.2, 0.5, 2.5], "higher_worse").tolist()
    ['improved', 'unchanged', 'deteriorated']
    >>> classify_change(2.5, "higher_better")
    'improved'
    """
    index = _index_of(rci, direction)
    z = _as_float(rci, "rci")
    d = np.asarray(direction, dtype=object)
    known = np.isin(d, DIRECTIONS)
    if not known.all():
        bad = np.atleast_1d(d)[np.flatnonzero(np.atleast_1d(~known))[0]]
        raise StatsInputError(f"direction must be one of {DIRECTIONS}, got {bad!r}")
    z, d = np.broadcast_arrays(z, d)
    signed = np.where(d == "higher_worse", -z, z)  # positive = better
    out = np.where(signed > threshold, "improved", np.where(signed < -threshold, "deteriorated", "unchanged"))
    out = np.where(np.isnan(z), None, out).astype(object)
    if index is not None:
        return pd.Series(out, index=index, name="change", dtype="str")
    if out.ndim == 0:
        return out.item()
    return out


# --------------------------------------------------------------------------------------------------
# instrument table
# --------------------------------------------------------------------------------------------------

#: columns of the instrument table, in order.
INSTRUMENT_COLUMNS = (
    "instrument",
    "name",
    "direction",
    "norm_mean",
    "norm_sd",
    "reliability",
    "clinical_cutoff",
    "scale_min",
    "scale_max",
    "source",
)
_NUMERIC = ("norm_mean", "norm_sd", "reliability", "clinical_cutoff", "scale_min", "scale_max")


def _read_instrument_file(path, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, comment=None)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        return pd.DataFrame(), [Problem(label, None, None, None, f"a readable CSV file ({exc})")]
    problems: list[Problem] = []
    missing = [c for c in INSTRUMENT_COLUMNS if c not in raw.columns]
    if missing:
        return raw, [Problem(label, None, c, None, "this column (instrument table)") for c in missing]
    extra = [c for c in raw.columns if c not in INSTRUMENT_COLUMNS]
    for c in extra:
        problems.append(Problem(label, None, c, None, f"only the columns {list(INSTRUMENT_COLUMNS)}"))
    table = raw[list(INSTRUMENT_COLUMNS)].copy()
    for c in ("instrument", "name", "direction", "source"):
        table[c] = table[c].str.strip()
    rows = np.arange(len(table)) + 2  # spreadsheet row: header is row 1
    for c in _NUMERIC:
        text = table[c].str.strip()
        num = pd.to_numeric(text.where(text != ""), errors="coerce")
        for i in np.flatnonzero((text != "").to_numpy() & num.isna().to_numpy()):
            problems.append(Problem(label, int(rows[i]), c, text.iloc[i], "a number or empty"))
        table[c] = num.astype(float)

    def flag(mask, column, expected):
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            problems.append(Problem(label, int(rows[i]), column, str(table[column].iloc[i]), expected))

    flag(table["instrument"] == "", "instrument", "a key (non-empty)")
    flag(table["instrument"].duplicated(keep=False) & (table["instrument"] != ""), "instrument", "a key that occurs once per file")
    flag(~table["direction"].isin(DIRECTIONS), "direction", f"one of {list(DIRECTIONS)}")
    flag(table["norm_sd"] <= 0, "norm_sd", "a standard deviation > 0")
    flag((table["reliability"] < 0) | (table["reliability"] >= 1), "reliability", "a reliability in [0, 1)")
    flag(table["scale_min"] >= table["scale_max"], "scale_min", "less than scale_max")
    return table, problems


def instruments(path: str | Path | None = None) -> pd.DataFrame:
    """The instrument table: norms, reliability and direction of each ROM instrument.

    Parameters
    ----------
    path : str or Path, optional
        A user CSV with the same columns; its rows are added to the packaged table, and a row with
        the key of a packaged row replaces it.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``instrument`` (the key used in ``rom_instrument``), columns ``name``,
        ``direction`` (``higher_worse`` | ``higher_better``), ``norm_mean``, ``norm_sd``,
        ``reliability``, ``clinical_cutoff``, ``scale_min``, ``scale_max`` (floats, NaN when not
        known) and ``source``. The packaged values and their sources are documented in
        ``outcome_analysis/data/instruments.md``.

    Raises
    ------
    DataValidationError
        Listing every problem (file, spreadsheet row, column, value): a missing column, an empty or
        repeated key, an unknown direction, a non-numeric value, ``norm_sd <= 0``, a reliability
        outside [0, 1), ``scale_min >= scale_max``.

    Examples
    --------
    >>> table = instruments()
    >>> table.loc["cbcl_total_t", ["norm_mean", "norm_sd", "clinical_cutoff"]].tolist()
    [50.0, 10.0, 64.0]
    """
    packaged = resources.files("outcome_analysis").joinpath("data", "instruments.csv")
    with resources.as_file(packaged) as p:
        table, problems = _read_instrument_file(p, "instruments.csv (packaged)")
    if path is not None:
        user, user_problems = _read_instrument_file(path, str(path))
        problems += user_problems
        if not user_problems:
            table = pd.concat([table, user], ignore_index=True).drop_duplicates("instrument", keep="last")
    if any(p.severity == "error" for p in problems):
        raise DataValidationError(problems)
    return table.set_index("instrument")


def to_tscore(raw, instrument):
    """Convert raw scores to T-scores on the instrument's norm, oriented so that higher is worse.

    Parameters
    ----------
    raw : float, array-like or pandas.Series
        Raw scores.
    instrument : pandas.Series or pandas.DataFrame
        One row of :func:`instruments` (norms of one instrument), or a frame aligned with ``raw``
        holding ``norm_mean``, ``norm_sd`` and ``direction`` per row (after a merge on
        ``rom_instrument``).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``T = 50 + 10 * (raw - norm_mean) / norm_sd`` for ``higher_worse`` instruments and
        ``50 - 10 * (raw - norm_mean) / norm_sd`` for ``higher_better`` ones, so that T always runs
        in the direction of ASEBA T-scores (higher = more problems) and a negative T-score change is
        an improvement for every instrument. ``NaN`` where the norm is unknown.

    Examples
    --------
    >>> row = instruments().loc["cbcl_total_t"]
    >>> to_tscore(64.0, row)        # a T-score maps onto itself
    64.0
    """
    index = _index_of(raw)
    x = _as_float(raw, "raw")
    mean = _as_float(instrument["norm_mean"], "norm_mean")
    sd = _as_float(instrument["norm_sd"], "norm_sd")
    direction = np.asarray(instrument["direction"], dtype=object)
    sign = np.where(direction == "higher_better", -1.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = 50.0 + sign * 10.0 * (x - mean) / np.where(sd > 0, sd, np.nan)
    return _wrap(t, index, "tscore")
