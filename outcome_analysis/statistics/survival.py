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
        per quantile: the smallest time ``t`` with ``S(t) <= 1 - p`` (NaN when the estimate never
        falls that low, i.e. the quantile is not reached yet).

    Notes
    -----
    Product-limit estimator (Kaplan & Meier 1958): ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` with
    ``d_i`` the events at ``t_i`` and ``n_i`` the units with time ``>= t_i``; censored units at a tied
    time count as at risk at that time. The quantile definition is the one of R's
    ``quantile.survfit`` and statsmodels' ``SurvfuncRight.quantile`` (first time the survival
    function reaches ``1 - p``; on a flat stretch at exactly ``1 - p`` the midpoint of that stretch, so
    that without censoring the median equals the ordinary sample median). statsmodels'
    ``SurvfuncRight.quantile`` differs only in that flat case (it takes the end of the stretch).

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
    # log(1 - d/n); a step to zero (d == n) becomes a large finite negative number, so that the
    # running sums of the next groups are not poisoned by -inf
    log_step = np.log(np.maximum(1.0 - d / at_risk, 1e-300))
    surv = np.exp(_grouped_cumsum(log_step, gg))
    surv[d == at_risk] = 0.0

    out = pd.DataFrame(uniques, columns=keys) if keys != ["_all"] else pd.DataFrame(index=range(n_groups))
    out["n"] = size
    out["events"] = np.bincount(g, weights=e, minlength=n_groups).astype(np.int64)
    out["censored"] = out["n"] - out["events"]
    for column, p in probs.items():
        out[column] = _quantile(surv, tt, gg, 1 - p, n_groups)
    return out


def _quantile(surv: np.ndarray, time: np.ndarray, group: np.ndarray, target: float, n_groups: int) -> np.ndarray:
    """First time with ``S <= target``; on a flat stretch at exactly ``target``, the midpoint between
    its start and the next time ``S`` drops below it (R's ``quantile.survfit``)."""
    tol = 1e-9
    at_or_below = surv <= target + tol
    below = surv < target - tol
    first = pd.Series(time[at_or_below]).groupby(group[at_or_below]).first().reindex(range(n_groups)).to_numpy()
    s_first = pd.Series(surv[at_or_below]).groupby(group[at_or_below]).first().reindex(range(n_groups)).to_numpy()
    first_below = pd.Series(time[below]).groupby(group[below]).first().reindex(range(n_groups)).to_numpy()
    flat = (np.abs(s_first - target) <= tol) & ~np.isnan(first_below)
    return np.where(flat, (first + first_below) / 2, first)


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
    out["suppressed"] = disclosure.suppress(out.assign(numerator=out["n"], denominator=out["n"]), settings)["suppressed"]
    cols = ["scope", "institution", "period", "care_type", "measure", "n", "events", "censored",
            *QUANTILES, "suppressed"]
    return out[cols].sort_values(["scope", "institution", "period", "care_type"]).reset_index(drop=True)
