"""Comparable gemeenten ("statistical neighbours"): the gemeenten most like a gemeente in the number
of youths and the case-mix of its youths, computed from the data, and their pooled figure.

A gemeente report compares a gemeente with its jeugdregio and with the country; both differ from it
in size and in which youths they serve. As the *nearest neighbours* of Public Health England's
Fingertips (the CIPFA nearest-neighbour model: a weighted Euclidean distance over standardised
characteristics of local authorities), :func:`nearest` picks for each gemeente the ``k`` gemeenten
closest to it in

- **size**: the natural logarithm of the number of youths (the denominators of the age-group
  distribution of the context item ``ctx_doelgroep``, summed over care types), so that 100 and 200
  youths are as far apart as 1,000 and 2,000;
- **case-mix**: the shares of the categories of ``complexity``, ``perspective`` and ``age_group``
  in ``ctx_doelgroep`` (counts pooled over care types: numerators over denominators per family).

Each characteristic is standardised over the gemeenten (z-score: minus the mean, divided by the
standard deviation; a characteristic with no spread is left out). The distance is the Euclidean
distance with weight 1 for size and ``1 / m`` for each of the ``m`` categories of a family, so size
and each of the three case-mix families weigh alike. Ties are broken by the unit name.

The profiles read the unit results' private store (full counts, also of hidden cells): only the
names of the neighbours are published, never a count of them. The unknown unit
(:data:`outcome_analysis.running.units.UNKNOWN`) is never a neighbour.

:func:`pooled` gives the neighbours' figure of one indicator: their numerators over their
denominators. Neighbours whose figure the disclosure rule hides are left out (and counted in
``n_hidden``, so the report can say so): the pooled figure is a sum of shown figures only, so no
hidden figure can be derived from it and the shown ones. The pooled figure itself passes the
primary rule (:func:`outcome_analysis.statistics.disclosure.suppress`).

References
----------
Public Health England, *Fingertips: nearest neighbours* (CIPFA nearest-neighbour model),
https://fingertips.phe.org.uk/ -- "Nearest neighbours" in the Fingertips user guide; CIPFA,
*Nearest Neighbours Model* (technical note, 2019).

Example
-------
>>> import pandas as pd
>>> p = pd.DataFrame({"n_youths": [100, 110, 5000, 105], "complexity:complex": [0.5, 0.5, 0.5, 0.9]},
...                  index=["A", "B", "C", "D"])
>>> nearest(p, k=2)["A"]
['B', 'D']
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcome_analysis.errors import OutcomeAnalysisError

#: the case-mix families of ``ctx_doelgroep`` the profile uses.
FAMILIES = ("complexity", "perspective", "age_group")
#: the default number of neighbours.
K = 5
#: the context item that holds the youths' profile.
PROFILE_ITEM = "ctx_doelgroep"


class NeighboursError(OutcomeAnalysisError, ValueError):
    """A neighbour question that cannot be answered (k below 1, a profile without the size column)."""


def profiles(results, period: str, *, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per unit with its size and case-mix profile in ``period``.

    Parameters
    ----------
    results : Results
        Unit results (:func:`outcome_analysis.running.units.compute_unit_results`); any results with
        the context item ``ctx_doelgroep`` work.
    period : str
        The report period.
    exclude : tuple of str
        Units left out (the unknown unit).

    Returns
    -------
    pandas.DataFrame
        Index: unit name. Columns: ``n_youths`` (youths counted in the age-group distribution,
        summed over care types) and one column per category of :data:`FAMILIES`
        (``"complexity:complex"``, ...): the pooled share (0-1). Units without a profile row are
        absent; a family without records gives NaN shares.
    """
    c = results.context
    rows = c.loc[(c["indicator"] == PROFILE_ITEM).to_numpy(bool) & (c["scope"] == "institution").to_numpy(bool)
                 & (c["period"].astype(str) == str(period)).to_numpy(bool)]
    rows = rows.loc[~rows["institution"].astype(str).isin(list(exclude)).to_numpy(bool)]
    cat = rows["category"].astype(str).fillna("")
    family = cat.str.split(":").str[0]
    rows = rows.assign(family=family.to_numpy(), category=cat.to_numpy())
    rows = rows.loc[rows["family"].isin(FAMILIES).to_numpy(bool)]
    if rows.empty:
        return pd.DataFrame(columns=["n_youths"])
    num = rows.pivot_table(index="institution", columns="category", values="numerator", aggfunc="sum", observed=True)
    # one denominator per unit, care type and family (every category row of a family carries it)
    den_rows = rows.drop_duplicates(["institution", "care_type", "family"])
    den = den_rows.pivot_table(index="institution", columns="family", values="denominator", aggfunc="sum", observed=True)
    out = pd.DataFrame(index=num.index.astype(str))
    out["n_youths"] = den.get("age_group", pd.Series(np.nan, index=den.index)).reindex(num.index).to_numpy(float)
    for column in sorted(num.columns):
        d = den[column.split(":")[0]].reindex(num.index).to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[column] = np.where(d > 0, num[column].to_numpy(float) / d, np.nan)
    out.index.name = "unit"
    return out


def distances(profile: pd.DataFrame) -> pd.DataFrame:
    """The weighted standardised Euclidean distance between every two units of ``profile``
    (:func:`profiles`; see the module notes for the method).

    Returns
    -------
    pandas.DataFrame
        Square, units by units, 0 on the diagonal. A characteristic a unit lacks (NaN) adds nothing
        to its distances.

    Raises
    ------
    NeighboursError
        When ``profile`` has no column ``n_youths``.
    """
    if "n_youths" not in profile.columns:
        raise NeighboursError("a profile needs the column n_youths (the number of youths)")
    features = pd.DataFrame(index=profile.index)
    weights = {}
    features["size"] = np.log(profile["n_youths"].astype(float).clip(lower=1))
    weights["size"] = 1.0
    cats = [c for c in profile.columns if c != "n_youths"]
    per_family = pd.Series([c.split(":")[0] for c in cats]).value_counts().to_dict()
    for c in cats:
        features[c] = profile[c].astype(float)
        weights[c] = 1.0 / per_family[c.split(":")[0]]
    sd = features.std(ddof=0)
    keep = [c for c in features.columns if np.isfinite(sd[c]) and sd[c] > 0]
    z = ((features[keep] - features[keep].mean()) / sd[keep]).fillna(0.0).to_numpy(float)
    w = np.array([weights[c] for c in keep], dtype=float)
    diff = z[:, None, :] - z[None, :, :]
    d = np.sqrt((w * diff ** 2).sum(axis=2)) if keep else np.zeros((len(z), len(z)))
    return pd.DataFrame(d, index=profile.index, columns=profile.index)


def nearest(profile: pd.DataFrame, k: int = K) -> dict[str, list[str]]:
    """For each unit of ``profile`` the ``k`` other units closest to it (:func:`distances`), closest
    first (ties by name); fewer when there are fewer other units.

    Raises
    ------
    NeighboursError
        For ``k`` below 1.
    """
    if int(k) < 1:
        raise NeighboursError(f"k must be at least 1; got {k!r}")
    d = distances(profile)
    out = {}
    names = list(d.index.astype(str))
    for i, unit in enumerate(names):
        others = sorted((float(d.iat[i, j]), names[j]) for j in range(len(names)) if j != i)
        out[unit] = [name for _, name in others[: int(k)]]
    return out


def neighbours_of(results, unit: str, period: str, k: int = K) -> list[str]:
    """The ``k`` comparable gemeenten of ``unit`` in unit ``results`` (empty when the unit has no
    profile); the unknown unit is never one."""
    from outcome_analysis.running.units import UNKNOWN

    profile = profiles(results, period, exclude=tuple(UNKNOWN.values()))
    if unit not in profile.index:
        return []
    return nearest(profile, k).get(unit, [])


def pooled(results, units: list[str], indicator: str, care_type: str, period: str) -> dict:
    """The pooled headline figure of ``units`` for one share indicator: their numerators over their
    denominators, hidden figures left out.

    Returns
    -------
    dict
        ``numerator``, ``denominator``, ``value``, ``ci_low``, ``ci_high`` (NaN when nothing is
        pooled), ``n_units`` (units pooled), ``n_hidden`` (units left out because their figure is
        hidden), ``n_missing`` (units without a figure), ``suppressed`` (true when the pooled figure
        fails the primary disclosure rule or nothing was pooled).
    """
    from outcome_analysis.statistics import disclosure
    from outcome_analysis.statistics.stats import proportion_ci

    settings = results.settings
    rows = results.rows(indicator, care_type=care_type, period=period, scope="institution", category="")
    rows = rows.loc[rows["institution"].astype(str).isin([str(u) for u in units]).to_numpy(bool)]
    hidden = rows["suppressed"].fillna(True).astype(bool).to_numpy()
    shown = rows.loc[~hidden]
    out = {"n_units": int(len(shown)), "n_hidden": int(hidden.sum()), "n_missing": int(len(units) - len(rows)),
           "numerator": np.nan, "denominator": np.nan, "value": np.nan, "ci_low": np.nan, "ci_high": np.nan,
           "suppressed": True}
    if shown.empty:
        return out
    x, n = float(shown["numerator"].sum()), float(shown["denominator"].sum())
    if n <= 0:
        return out
    low, high = proportion_ci(x, n, settings.conf, settings.ci_method)
    marked = disclosure.suppress(pd.DataFrame({"numerator": [x], "denominator": [n], "value": [x / n]}), settings)
    out.update(numerator=x, denominator=n, value=x / n, ci_low=float(low), ci_high=float(high),
               suppressed=bool(marked["suppressed"].iloc[0]))
    return out


__all__ = ["FAMILIES", "K", "NeighboursError", "profiles", "distances", "nearest", "neighbours_of", "pooled"]
