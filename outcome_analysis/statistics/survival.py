"""Kaplan–Meier duration quantiles, vectorised over many groups at once.

The *verloop* profile of indicators.md asks for the duration of trajectories "median and quartiles of
ended trajectories; Kaplan–Meier for those still running". Quartiles of ended episodes alone are
biased towards short measures (the long ones have not ended yet); the Kaplan–Meier estimator uses the
running episodes as censored observations.

:func:`km_quantiles` computes the product-limit estimate for every group with one sort and grouped
cumulative sums (no loop over groups); :func:`episode_durations` applies it to the JB/JR episodes of a
data set, by the period in which the episodes **started** (an entry cohort; running episodes are
censored at the reference date).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import disclosure
from outcome_analysis.indicators import episodes
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.contract.periods import period_of
from outcome_analysis.settings import DEFAULT, Settings

QUANTILES = {"q1": 0.25, "median": 0.5, "q3": 0.75}


def km_quantiles(time, event, groups: pd.DataFrame | None = None, probs: dict[str, float] | None = None) -> pd.DataFrame:
    """Kaplan–Meier quantiles of a duration per group.

    Parameters
    ----------
    time : array-like of float
        Duration of each unit (e.g. days), observed or censored; missing values are dropped.
    event : array-like of bool
        ``True`` when the duration ended (an event), ``False`` when it was censored (still running).
    groups : DataFrame, optional
        Group keys, one row per unit (aligned with ``time``). ``None``: one group.
    probs : dict, optional
        Output column -> probability; default ``{"q1": 0.25, "median": 0.5, "q3": 0.75}``.

    Returns
    -------
    DataFrame
        One row per group: the key columns, ``n`` (units), ``events``, ``censored`` and one column
        per quantile, by the rule of R's ``survival::quantile.survfit`` (see Notes); NaN when the
        estimate never falls to ``1 - p`` (the quantile is not reached yet).

    Notes
    -----
    Product-limit estimator (Kaplan & Meier 1958): ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` with
    ``d_i`` the events at ``t_i`` and ``n_i`` the units with time ``>= t_i``; censored units at a tied
    time count as at risk at that time. ``S`` is the running product of ``(n_i - d_i) / n_i``, in
    the order R's ``survfit`` multiplies.

    Quantile ``p`` (R's ``quantile.survfit``, function ``findq``, with its tolerance
    ``tol = sqrt(.Machine$double.eps)``): with ``F = 1 - S``,

    - ``t1`` = first time with ``F + tol >= p`` and ``t2`` = first time with ``F - tol >= p``; the
      quantile is ``(t1 + t2) / 2``. Where ``S`` steps past ``1 - p`` the two are the same time; where
      ``S`` is flat at exactly ``1 - p`` from ``t1`` on, ``t2`` is the next time ``S`` drops, so the
      quantile is the midpoint of the flat stretch (without censoring the median is the ordinary
      sample median);
    - when the curve ends at exactly ``1 - p`` (``|p - F_last| < tol``: a flat tail with only censored
      times after ``t1``), the quantile is ``(t1 + t_max) / 2`` with ``t_max`` the largest time of the
      group (a censored one);
    - otherwise NaN when ``t2`` does not exist (the curve never falls past ``1 - p``: the quantile is
      not reached yet), and NaN for every quantile of a group whose final ``F`` lies below the
      smallest of ``probs`` (R's first check in ``findq``).

    statsmodels' ``SurvfuncRight.quantile`` (first time with ``S < 1 - p``, no tolerance) agrees
    except on a flat stretch at exactly ``1 - p``: it takes the end of the stretch, or NaN for a flat
    tail.

    References
    ----------
    Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations. JASA 53:457-481.

    Examples
    --------
    >>> km_quantiles([1, 2, 3, 4, 5], [True, True, False, True, True])[["n", "events", "median"]]
       n  events  median
    0  5       4     4.0
    """
    probs = QUANTILES if probs is None else probs
    if not all(0 < p <= 1 for p in probs.values()):
        raise ValueError(f"probabilities must lie in (0, 1]: {probs}")
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    if groups is None:
        groups = pd.DataFrame({"_all": np.zeros(len(time), dtype=np.int8)})
    keys = list(groups.columns)
    keep = ~np.isnan(time)
    codes, uniques = _group_codes(groups.loc[keep] if not keep.all() else groups)
    time, event = time[keep], event[keep]
    n_groups = len(uniques)

    # one row per (group, distinct time): events d and units at that time
    order = np.lexsort((time, codes))
    g, t, e = codes[order], time[order], event[order]
    new = np.ones(len(t), dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (t[1:] != t[:-1])
    idx = np.flatnonzero(new)
    gg, tt = g[idx], t[idx]
    units = np.diff(np.append(idx, len(t)))
    d = np.add.reduceat(e.astype(np.int64), idx) if len(idx) else np.zeros(0, dtype=np.int64)

    size = np.bincount(g, minlength=n_groups)
    before = _grouped_cumsum(units, gg) - units          # units with a smaller time in the group
    at_risk = size[gg] - before
    # running product of (n - d) / n within each group, as R's survfit computes it (the same doubles,
    # so that a curve that lands on 1 - p exactly lands there here too); a step to zero stays zero
    surv = pd.Series((at_risk - d) / at_risk).groupby(gg).cumprod().to_numpy()
    last_time = pd.Series(tt).groupby(gg).last().reindex(range(n_groups)).to_numpy()

    out = pd.DataFrame(uniques, columns=keys) if keys != ["_all"] else pd.DataFrame(index=range(n_groups))
    out["n"] = size
    out["events"] = np.bincount(g, weights=e, minlength=n_groups).astype(np.int64)
    out["censored"] = out["n"] - out["events"]
    p_min = min(probs.values(), default=1.0)
    for column, p in probs.items():
        out[column] = _quantile(surv, tt, gg, p, n_groups, last_time, p_min)
    return out


def _quantile(surv: np.ndarray, time: np.ndarray, group: np.ndarray, p: float, n_groups: int,
              last_time: np.ndarray, p_min: float) -> np.ndarray:
    """Quantile ``p`` of every group by R's ``quantile.survfit`` (``findq``), see :func:`km_quantiles`.

    ``surv``, ``time``, ``group``: one row per (group, distinct time), sorted by group and time, with
    ``group`` the codes ``0 .. n_groups - 1``; ``last_time``: the largest time of each group (censored
    or not); ``p_min``: the smallest probability asked for (R gives NaN for every quantile of a curve
    whose ``1 - S`` stays below it).
    """
    tol = np.sqrt(np.finfo(float).eps)             # R: sqrt(.Machine$double.eps)
    f = 1.0 - surv                                 # R's y = 1 - surv
    rows = range(n_groups)
    reached = f + tol >= p
    past = f - tol >= p
    t1 = pd.Series(time[reached]).groupby(group[reached]).first().reindex(rows).to_numpy()
    t2 = pd.Series(time[past]).groupby(group[past]).first().reindex(rows).to_numpy()
    f_last = pd.Series(f).groupby(group).last().reindex(rows).to_numpy()
    quant = (t1 + t2) / 2
    flat_tail = np.abs(p - f_last) < tol            # the curve ends at exactly 1 - p
    quant = np.where(flat_tail, (t1 + last_time) / 2, quant)
    return np.where(f_last < p_min, np.nan, quant)  # R: max(y) < min(p) -> all NA


def _group_codes(groups: pd.DataFrame) -> tuple[np.ndarray, list[tuple]]:
    if groups.shape[1] == 1:
        codes, uniques = pd.factorize(groups.iloc[:, 0], sort=True)
        return codes, [(u,) for u in uniques]
    index = pd.MultiIndex.from_frame(groups)
    codes, uniques = pd.factorize(index, sort=True)
    return codes, list(uniques)


def _grouped_cumsum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each new group (``group`` sorted)."""
    if not len(values):
        return np.cumsum(values)
    total = np.cumsum(values)
    is_start = np.r_[True, group[1:] != group[:-1]]
    start_of_row = np.maximum.accumulate(np.where(is_start, np.arange(len(values)), 0))
    before_start = np.where(start_of_row > 0, total[start_of_row - 1], 0)
    return total - before_start


def episode_durations(data: Dataset, granularity: str = "year", settings: Settings | None = None) -> pd.DataFrame:
    """Kaplan–Meier duration quartiles of JB/JR episodes by the period they started in.

    Parameters
    ----------
    data : Dataset
    granularity : {"year", "half_year"}
    settings : Settings, optional
        ``continuation_days`` (episodes) and the disclosure thresholds.

    Returns
    -------
    DataFrame
        ``scope`` (``institution`` | ``national``), ``institution`` (``""`` nationally; the
        institution where the episode ended, or runs now), ``period`` (of the episode's start),
        ``care_type`` (of its last record), ``measure`` = ``duration_km_days``, ``n``, ``events``
        (ended), ``censored`` (still running at the reference date), ``q1``, ``median``, ``q3``
        (days; NaN when not reached yet), and ``suppressed`` (``n`` below
        ``settings.min_denominator``).

    Notes
    -----
    Duration = end − start + 1 day for ended episodes; reference date − start + 1 for running ones
    (censored). A recent start cohort has many censored episodes, so its upper quartile is often not
    reached yet: that is information, not an error.
    """
    settings = DEFAULT if settings is None else settings
    t = data.trajectories
    jbjr = t.loc[t["care_type"].isin(["jb", "jr"])]
    eps = episodes.chain(jbjr, settings).episodes
    ref = pd.Timestamp(data.reference_date)
    ended = eps["end_date"].notna().to_numpy()
    stop = eps["end_date"].fillna(ref)
    duration = (stop - eps["start_date"]).dt.days.to_numpy(dtype=float) + 1
    keys = pd.DataFrame({
        "institution": eps["institution"].astype(str).to_numpy(),
        "period": period_of(eps["start_date"], granularity).astype(str).to_numpy(),
        "care_type": eps["care_type"].astype(str).to_numpy(),
    })
    inst = km_quantiles(duration, ended, keys).assign(scope="institution")
    nat = km_quantiles(duration, ended, keys[["period", "care_type"]]).assign(scope="national", institution="")
    out = pd.concat([inst, nat], ignore_index=True).assign(measure="duration_km_days")
    out["suppressed"] = disclosure.suppress(out.assign(numerator=out["n"], denominator=out["n"]), settings, kind="mean")["suppressed"]
    cols = ["scope", "institution", "period", "care_type", "measure", "n", "events", "censored",
            *QUANTILES, "suppressed"]
    return out[cols].sort_values(["scope", "institution", "period", "care_type"]).reset_index(drop=True)
