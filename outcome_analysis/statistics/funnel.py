"""Funnel-plot control limits, z-scores, overdispersion and signals.

One module for the funnel machinery used by every comparison between institutions (casemix, plots,
reports): the limit formulas exist here exactly once.

* :func:`binomial_limits` / :func:`share_limits`: limits for a **share** against its denominator, exact
  binomial with the interpolation of Spiegelhalter (2005, appendix A.1.1), or the normal
  approximation ``p0 +/- z * sqrt(p0 (1 - p0) / n + tau2)``.
* :func:`poisson_limits` / :func:`ratio_limits`: limits for an **O/E ratio** against the expected
  count: exact Poisson with the same interpolation, the continuous chi-square formula FunnelPlotR
  uses (``method="chisq"``), or normal limits on the log (``"log"``, FunnelPlotR's SHMI method) or
  square-root scale (``"sqrt"``, its CQC method).
* :func:`overdispersion`: z-scores winsorised at ``settings.overdispersion_trim`` on each side,
  ``phi = mean(z_w^2)``, the test ``n * phi ~ chi2(n - 1)``, and the additive random-effects
  ``tau2 = (n phi - (n - 1)) / (sum w - sum w^2 / sum w)`` with ``w = 1 / s^2`` (0 when negative);
  limits are inflated to ``sqrt(s^2 + tau2)`` only when the test shows overdispersion.
* :func:`signals`: ``"higher"`` / ``"lower"`` / ``"within"`` against a chosen limit.
* :func:`share_funnel` / :func:`ratio_funnel`: all of the above for one set of units.

Limits are labelled by :func:`limit_label` (``0.95 -> "95"``, ``0.998 -> "99_8"``) so that columns
read ``low_95``, ``high_99_8``.

References
----------
Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. *Statistics in
Medicine* 24:1185-1202. doi:10.1002/sim.1970
Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. *Quality and Safety in
Health Care* 14:347-351. doi:10.1136/qshc.2005.013755
Mainey C et al. FunnelPlotR (R package), nhs-r-community/FunnelPlotR: ``R/od_adjustment.R``
(``winsorisation``, ``phi_func``, ``tau_func``) and ``R/calculate_limits.R``.
Seaton SE, Manktelow BN (2012). The probability of being identified as an outlier with commonly
used funnel plot control limits for the standardised mortality ratio. *BMC Med Res Methodol* 12:98.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from outcome_analysis.settings import DEFAULT, Settings

__all__ = [
    "Overdispersion",
    "binomial_limits",
    "limit_label",
    "limit_columns",
    "overdispersion",
    "poisson_limits",
    "ratio_funnel",
    "ratio_limits",
    "share_funnel",
    "share_limits",
    "signals",
    "winsorise",
]

SHARE_METHODS = ("exact", "normal")
RATIO_METHODS = ("exact", "chisq", "log", "sqrt", "normal")


# --------------------------------------------------------------------------------------------------
# labels


def limit_label(limit: float) -> str:
    """Column label of a limit: ``0.95 -> "95"``, ``0.998 -> "99_8"``.

    >>> limit_label(0.95), limit_label(0.998)
    ('95', '99_8')
    """
    text = f"{limit * 100:.6f}".rstrip("0").rstrip(".")
    return text.replace(".", "_")


def limit_columns(limit: float) -> tuple[str, str]:
    """The ``(low, high)`` column names of a limit: ``("low_95", "high_95")``."""
    label = limit_label(limit)
    return f"low_{label}", f"high_{label}"


def _check_limit(limit: float) -> float:
    limit = float(limit)
    if not 0 < limit < 1:
        raise ValueError(f"a funnel limit is a fraction between 0 and 1, got {limit!r}")
    return limit


# --------------------------------------------------------------------------------------------------
# exact discrete limits with Spiegelhalter's interpolation


def _interpolated_quantile(dist, p: float) -> np.ndarray:
    """Spiegelhalter (2005) appendix A.1.1: the interpolated p-quantile of a discrete count.

    ``r_p`` is the smallest count with ``F(r_p) >= p``; with
    ``alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1))`` the limit on the count scale is ``r_p - alpha``.
    """
    r = np.asarray(dist.ppf(p), dtype=float)
    f_r = np.asarray(dist.cdf(r), dtype=float)
    f_below = np.asarray(dist.cdf(r - 1), dtype=float)
    step = f_r - f_below
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(step > 0, (f_r - p) / step, 0.0)
    return r - alpha


def binomial_limits(denominator, target: float, limit: float = 0.95, *, method: str = "exact",
                    tau2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits for a share with true value ``target`` observed on ``denominator`` units.

    Parameters
    ----------
    denominator : array_like
        Denominators (vectorised; for ``method="exact"`` rounded to whole numbers).
    target : float
        The share the funnel is centred on (usually the national share).
    limit : float
        Coverage of the limits as a fraction (0.95, 0.998).
    method : {"exact", "normal"}
        ``"exact"``: binomial quantiles with Spiegelhalter's interpolation,
        ``(r_p - alpha) / n``. ``"normal"``: ``target +/- z sqrt(target (1 - target) / n + tau2)``.
    tau2 : float
        Additive between-institution variance (on the share scale); when positive the normal limits
        are used whatever ``method`` says (Spiegelhalter 2005, QSHC).

    Returns
    -------
    (low, high) : tuple of ndarray
        Limits on the share scale, clipped to [0, 1]; NaN where the denominator is not positive.

    Examples
    --------
    >>> low, high = binomial_limits([100], 0.5, 0.95, method="normal")
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.402, 0.598)
    """
    limit = _check_limit(limit)
    if method not in SHARE_METHODS:
        raise ValueError(f"unknown share funnel method {method!r}; choose from {SHARE_METHODS}")
    n = np.atleast_1d(np.asarray(denominator, dtype=float))
    valid = n > 0
    p_low, p_high = (1 - limit) / 2, (1 + limit) / 2
    if method == "normal" or tau2 > 0:
        z = sps.norm.ppf(p_high)
        with np.errstate(invalid="ignore", divide="ignore"):
            half = z * np.sqrt(target * (1 - target) / n + tau2)
        low, high = target - half, target + half
    else:
        n_int = np.where(valid, np.round(n), 1.0)
        dist = sps.binom(n_int, target)
        low = _interpolated_quantile(dist, p_low) / n_int
        high = _interpolated_quantile(dist, p_high) / n_int
    low = np.where(valid, np.clip(low, 0.0, 1.0), np.nan)
    high = np.where(valid, np.clip(high, 0.0, 1.0), np.nan)
    return low, high


def poisson_limits(expected, limit: float = 0.95, *, method: str = "exact", tau2: float = 0.0,
                   target: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits for an O/E ratio against the expected count.

    Parameters
    ----------
    expected : array_like
        Expected counts E (vectorised, continuous).
    limit : float
        Coverage as a fraction.
    method : {"exact", "chisq", "log", "sqrt", "normal"}
        ``"exact"``: Poisson(E) quantiles with Spiegelhalter's interpolation, ``(r_p - alpha) / E``.
        ``"chisq"``: the continuous chi-square form FunnelPlotR draws,
        ``low = chi2.ppf((1 - limit) / 2, 2E) / 2 / E``,
        ``high = chi2.ppf((1 + limit) / 2, 2(E + 1)) / 2 / E`` (the exact *confidence* interval
        form; one to two counts wider/shifted against the interpolated prediction limits, see
        Seaton & Manktelow 2012).
        ``"log"``: ``exp(+/- z sqrt(1/E + tau2))`` (FunnelPlotR ``sr_method="SHMI"``).
        ``"sqrt"``: ``(1 +/- z sqrt(1/(4E) + tau2))^2`` (the CQC square-root method, back-transformed
        by squaring as in Spiegelhalter 2005 QSHC). ``"normal"``: ``1 +/- z sqrt(1/E + tau2)``.
        A positive ``tau2`` with ``"exact"``/``"chisq"`` switches to ``"log"``.
    tau2 : float
        Additive between-institution variance on the scale of the method.
    target : float
        Centre of the funnel (1 for O/E).

    Returns
    -------
    (low, high) : tuple of ndarray
        Limits on the O/E scale (lower clipped at 0); NaN where E is not positive.

    Examples
    --------
    >>> low, high = poisson_limits([100.0], 0.95, method="log")
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.822, 1.2165)
    """
    limit = _check_limit(limit)
    if method not in RATIO_METHODS:
        raise ValueError(f"unknown ratio funnel method {method!r}; choose from {RATIO_METHODS}")
    e = np.atleast_1d(np.asarray(expected, dtype=float))
    valid = e > 0
    e_safe = np.where(valid, e, 1.0)
    p_low, p_high = (1 - limit) / 2, (1 + limit) / 2
    z = sps.norm.ppf(p_high)
    if tau2 > 0 and method in ("exact", "chisq"):
        method = "log"
    if method == "exact":
        dist = sps.poisson(e_safe)
        low = _interpolated_quantile(dist, p_low) / e_safe
        high = _interpolated_quantile(dist, p_high) / e_safe
    elif method == "chisq":
        low = sps.chi2.ppf(p_low, 2 * e_safe) / 2 / e_safe
        high = sps.chi2.ppf(p_high, 2 * (e_safe + 1)) / 2 / e_safe
    elif method == "log":
        half = z * np.sqrt(1 / e_safe + tau2)
        low, high = np.exp(-half), np.exp(half)
    elif method == "sqrt":
        half = z * np.sqrt(1 / (4 * e_safe) + tau2)
        low, high = np.clip(1 - half, 0, None) ** 2, (1 + half) ** 2
    else:  # normal
        half = z * np.sqrt(1 / e_safe + tau2)
        low, high = 1 - half, 1 + half
    low = np.where(valid, np.clip(low * target, 0.0, None), np.nan)
    high = np.where(valid, high * target, np.nan)
    return low, high


def _limits_frame(x, name: str, target: float, limits, func) -> pd.DataFrame:
    x = np.atleast_1d(np.asarray(x, dtype=float))
    out = {name: x, "target": np.full(x.shape, float(target))}
    for lim in limits:
        low_col, high_col = limit_columns(lim)
        out[low_col], out[high_col] = func(lim)
    return pd.DataFrame(out)


def share_limits(denominator, target: float, limits=None, *, method: str = "exact", tau2: float = 0.0,
                 settings: Settings | None = None) -> pd.DataFrame:
    """Funnel limits for shares at several coverages, one row per denominator (for plotting too).

    Returns
    -------
    DataFrame
        ``denominator``, ``target``, and per limit ``low_<label>``, ``high_<label>`` (see
        :func:`limit_columns`), on the share scale.

    Examples
    --------
    >>> share_limits([50, 500], 0.3, limits=(0.95,), method="normal").columns.tolist()
    ['denominator', 'target', 'low_95', 'high_95']
    """
    settings = settings or DEFAULT
    limits = tuple(settings.funnel_limits if limits is None else limits)
    return _limits_frame(denominator, "denominator", target, limits,
                         lambda lim: binomial_limits(denominator, target, lim, method=method, tau2=tau2))


def ratio_limits(expected, limits=None, *, method: str = "exact", tau2: float = 0.0,
                 settings: Settings | None = None) -> pd.DataFrame:
    """Funnel limits for O/E ratios at several coverages, one row per expected count.

    Returns
    -------
    DataFrame
        ``expected``, ``target`` (1), and per limit ``low_<label>``, ``high_<label>`` on the O/E scale.
    """
    settings = settings or DEFAULT
    limits = tuple(settings.funnel_limits if limits is None else limits)
    return _limits_frame(expected, "expected", 1.0, limits,
                         lambda lim: poisson_limits(expected, lim, method=method, tau2=tau2))


# --------------------------------------------------------------------------------------------------
# overdispersion


def winsorise(z, trim: float = 0.1) -> np.ndarray:
    """z-scores pulled in to their ``trim`` and ``1 - trim`` quantiles (NaN kept as NaN).

    The quantiles are R's default (type 7, linear interpolation), as FunnelPlotR's
    ``winsorisation()`` uses.

    >>> winsorise([-3.0, -1.0, 0.0, 1.0, 5.0], 0.25).tolist()
    [-1.0, -1.0, 0.0, 1.0, 1.0]
    """
    z = np.asarray(z, dtype=float)
    ok = np.isfinite(z)
    if not ok.any() or trim <= 0:
        return z.copy()
    lo, hi = np.quantile(z[ok], [trim, 1 - trim])
    out = z.copy()
    out[ok] = np.clip(z[ok], lo, hi)
    return out


@dataclass(frozen=True)
class Overdispersion:
    """The overdispersion assessment of one funnel (Spiegelhalter 2005).

    Attributes
    ----------
    n : int
        Number of units with a finite z-score.
    phi : float
        Multiplicative overdispersion: mean of the squared winsorised z-scores.
    tau2 : float
        Additive random-effects variance, on the scale of the z-scores' standard errors.
    p_value : float
        ``P(chi2(n - 1) >= n phi)``.
    applied : bool
        Whether the limits were inflated (``p_value < alpha``, i.e. ``n phi`` beyond the
        ``1 - alpha`` quantile of chi2(n - 1), and ``tau2 > 0``).
    trim : float
        Winsorising fraction on each side.
    alpha : float
        Level of the test.
    """

    n: int
    phi: float
    tau2: float
    p_value: float
    applied: bool
    trim: float
    alpha: float

    def to_dict(self) -> dict:
        return asdict(self)


def overdispersion(z, s, *, trim: float | None = None, alpha: float | None = None,
                   settings: Settings | None = None) -> Overdispersion:
    """Test for overdispersion and estimate the additive ``tau2`` (Spiegelhalter 2005).

    Parameters
    ----------
    z : array_like
        Unadjusted z-scores ``(y - target) / s`` of the units.
    s : array_like
        Their standard errors under the null (same scale as ``tau2`` will be).
    trim : float, optional
        Winsorising fraction on each side; default ``settings.overdispersion_trim`` (0.1).
    alpha : float, optional
        Test level; default ``1 - settings.conf``.

    Returns
    -------
    Overdispersion

    Notes
    -----
    ``phi = (1/n) sum z_w^2`` over the winsorised z-scores; the test compares ``n phi`` with
    chi2(n - 1). ``tau2 = (n phi - (n - 1)) / (sum w - sum w^2 / sum w)``, ``w = 1 / s^2``, set to
    0 when negative (FunnelPlotR ``tau_func``). Units with a non-finite z or s are left out.

    Examples
    --------
    >>> od = overdispersion([0.5, -0.5, 1.0, -1.0], [0.1, 0.1, 0.1, 0.1], trim=0.0)
    >>> od.phi, od.tau2, od.applied
    (0.625, 0.0, False)
    """
    settings = settings or DEFAULT
    trim = settings.overdispersion_trim if trim is None else float(trim)
    alpha = (1 - settings.conf) if alpha is None else float(alpha)
    z = np.asarray(z, dtype=float)
    s = np.broadcast_to(np.asarray(s, dtype=float), z.shape)
    ok = np.isfinite(z) & np.isfinite(s) & (s > 0)
    n = int(ok.sum())
    if n < 2:
        return Overdispersion(n=n, phi=float("nan"), tau2=0.0, p_value=float("nan"), applied=False,
                              trim=trim, alpha=alpha)
    zw = winsorise(z[ok], trim)
    phi = float(np.mean(zw ** 2))
    p_value = float(sps.chi2.sf(n * phi, n - 1))
    w = 1 / s[ok] ** 2
    denom = w.sum() - (w ** 2).sum() / w.sum()
    tau2 = float(max(0.0, (n * phi - (n - 1)) / denom)) if denom > 0 else 0.0
    applied = bool(p_value < alpha and tau2 > 0)
    return Overdispersion(n=n, phi=phi, tau2=tau2, p_value=p_value, applied=applied, trim=trim,
                          alpha=alpha)


# --------------------------------------------------------------------------------------------------
# signals and whole funnels


def signals(value, low, high) -> np.ndarray:
    """``"higher"`` above ``high``, ``"lower"`` below ``low``, else ``"within"`` (also for NaN).

    >>> signals([0.1, 0.5, 0.9], [0.2, 0.2, 0.2], [0.8, 0.8, 0.8]).tolist()
    ['lower', 'within', 'higher']
    """
    value, low, high = (np.asarray(a, dtype=float) for a in (value, low, high))
    out = np.full(np.broadcast(value, low, high).shape, "within", dtype=object)
    out[value > high] = "higher"
    out[value < low] = "lower"
    return out


def _add_limits(out: pd.DataFrame, limits, func, signal_limit: float) -> pd.DataFrame:
    for lim in limits:
        low_col, high_col = limit_columns(lim)
        out[low_col], out[high_col] = func(lim)
    low, high = func(signal_limit)
    out["funnel_low"], out["funnel_high"] = low, high
    out["signal"] = signals(out["value"].to_numpy(float), low, high)
    return out


def share_funnel(numerator, denominator, *, target: float | None = None, limits=None,
                 method: str = "exact", correct_overdispersion: bool = True,
                 settings: Settings | None = None) -> pd.DataFrame:
    """Shares of several units against a funnel, with Spiegelhalter's overdispersion correction.

    Parameters
    ----------
    numerator, denominator : array_like
        Counts per unit.
    target : float, optional
        Centre; default the pooled share ``sum(numerator) / sum(denominator)``.
    limits : sequence of float, optional
        Default ``settings.funnel_limits``.
    method : {"exact", "normal"}
        Limits when no overdispersion correction is applied (see :func:`binomial_limits`).
    correct_overdispersion : bool
        Inflate the limits by ``tau2`` when the test shows overdispersion.

    Returns
    -------
    DataFrame
        ``numerator``, ``denominator``, ``value``, ``s`` (``sqrt(target (1 - target) / n)``), ``z``,
        ``z_adjusted`` (``(value - target) / sqrt(s^2 + tau2)`` when corrected, else ``z``), the
        limit columns, ``funnel_low``/``funnel_high`` at ``settings.signal_limit``, and ``signal``.
        ``.attrs["overdispersion"]`` holds the :class:`Overdispersion`.
    """
    settings = settings or DEFAULT
    limits = tuple(settings.funnel_limits if limits is None else limits)
    num = np.atleast_1d(np.asarray(numerator, dtype=float))
    den = np.atleast_1d(np.asarray(denominator, dtype=float))
    if target is None:
        target = float(num.sum() / den.sum()) if den.sum() > 0 else float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        value = num / den
        s = np.sqrt(target * (1 - target) / den)
        z = (value - target) / s
    od = overdispersion(z, s, settings=settings)
    tau2 = od.tau2 if (correct_overdispersion and od.applied) else 0.0
    out = pd.DataFrame({"numerator": num, "denominator": den, "value": value, "s": s, "z": z})
    with np.errstate(invalid="ignore", divide="ignore"):
        out["z_adjusted"] = (value - target) / np.sqrt(s ** 2 + tau2)
    out = _add_limits(out, limits,
                      lambda lim: binomial_limits(den, target, lim, method=method, tau2=tau2),
                      settings.signal_limit)
    out.attrs["overdispersion"] = od
    out.attrs["target"] = target
    return out


def ratio_funnel(observed, expected, *, variance=None, limits=None, method: str = "exact",
                 scale: str = "sqrt", correct_overdispersion: bool = True,
                 settings: Settings | None = None) -> pd.DataFrame:
    """O/E ratios of several units against a funnel, with the overdispersion correction.

    Parameters
    ----------
    observed, expected : array_like
        Observed and expected counts per unit.
    variance : array_like, optional
        Null variance of the observed count. For indirect standardisation of a binary outcome this
        is ``sum p_i (1 - p_i)`` over the unit's records (a sum of Bernoullis); when given, the
        funnel is normal on the O/E scale with ``s = sqrt(variance) / E``:
        ``1 +/- z sqrt(s^2 + tau2)``. When omitted, the counts are taken as Poisson and ``method``
        and ``scale`` apply.
    method : {"exact", "chisq", "log", "sqrt", "normal"}
        Poisson limits without correction (see :func:`poisson_limits`).
    scale : {"sqrt", "log"}
        Poisson only: scale of the z-scores and of the corrected limits, FunnelPlotR's ``"CQC"``
        (``z = 2 (sqrt(O) - sqrt(E))``, ``s = 1 / (2 sqrt(E))``) or ``"SHMI"``
        (``z = sqrt(E) log(O / E)``, ``s = 1 / sqrt(E)``). The square-root scale copes with O = 0.

    Returns
    -------
    DataFrame
        ``observed``, ``expected``, ``value`` (O/E), ``s``, ``z``, ``z_adjusted``, the limit columns,
        ``funnel_low``/``funnel_high`` at ``settings.signal_limit``, ``signal``;
        ``.attrs["overdispersion"]``.

    Notes
    -----
    Poisson limits overstate the noise of an O/E of a *common* binary outcome (the variance of a
    sum of Bernoullis, ``sum p (1 - p)``, is smaller than its mean ``sum p``), so that too few
    institutions are flagged; pass ``variance`` in that case (``casemix`` does).
    """
    settings = settings or DEFAULT
    limits = tuple(settings.funnel_limits if limits is None else limits)
    obs = np.atleast_1d(np.asarray(observed, dtype=float))
    exp_ = np.atleast_1d(np.asarray(expected, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = obs / exp_
        if variance is not None:
            var = np.atleast_1d(np.asarray(variance, dtype=float))
            s = np.sqrt(var) / exp_
            z = (value - 1) / s
        elif scale == "sqrt":
            s = 1 / (2 * np.sqrt(exp_))
            z = 2 * (np.sqrt(obs) - np.sqrt(exp_))
        elif scale == "log":
            s = 1 / np.sqrt(exp_)
            z = np.sqrt(exp_) * np.log(value)
        else:
            raise ValueError(f"unknown scale {scale!r}; choose 'sqrt' or 'log'")
    od = overdispersion(z, s, settings=settings)
    tau2 = od.tau2 if (correct_overdispersion and od.applied) else 0.0
    out = pd.DataFrame({"observed": obs, "expected": exp_, "value": value, "s": s, "z": z})
    with np.errstate(invalid="ignore", divide="ignore"):
        if variance is not None:
            out["z_adjusted"] = (value - 1) / np.sqrt(s ** 2 + tau2)
        elif scale == "sqrt":
            out["z_adjusted"] = (np.sqrt(value) - 1) / np.sqrt(s ** 2 + tau2)
        else:
            out["z_adjusted"] = np.log(value) / np.sqrt(s ** 2 + tau2)

    def func(lim):
        if variance is not None:
            zq = sps.norm.ppf((1 + lim) / 2)
            half = zq * np.sqrt(s ** 2 + tau2)
            valid = np.isfinite(half)
            return (np.where(valid, np.clip(1 - half, 0, None), np.nan),
                    np.where(valid, 1 + half, np.nan))
        m = (scale if tau2 > 0 else method)
        return poisson_limits(exp_, lim, method=m, tau2=tau2)

    out = _add_limits(out, limits, func, settings.signal_limit)
    out.attrs["overdispersion"] = od
    return out
