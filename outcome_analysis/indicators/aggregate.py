"""Aggregation of unit rows on integer group codes into numerators, denominators, missing and
excluded counts (:func:`_aggregate`), and values with their intervals (:func:`_finish`)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from . import registry
from outcome_analysis.statistics import stats
from outcome_analysis.settings import Settings
from .common import MULTI_FAMILIES, IndicatorError


def _row_types(entry: registry.Entry, categories: pd.Index) -> pd.DataFrame:
    """Per category: family, code, aggregation type and whether it is a second-window headline."""
    if not len(categories):
        return pd.DataFrame({"category": categories, "family": [], "code": [], "type": []})
    fam = pd.Series(categories.astype(str), dtype=object).str.partition(":")
    family, code = fam[0].to_numpy(), fam[2].to_numpy()
    family = np.where(categories == "", "", family)
    types = []
    for f in family:
        if f == "":
            types.append(entry.headline)
        elif f == "window":
            types.append(entry.headline)
        else:
            types.append(entry.breakdowns.get(f))
    return pd.DataFrame({"category": categories, "family": family, "code": code, "type": types})


def _first_appearance(key: np.ndarray, n_keys: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Group number of every row and the distinct keys (non-negative int64).

    When the key space ``n_keys`` is small (a dense table no larger than a few times the rows), the
    groups are numbered in key order by one ``np.bincount`` and a gather (no hashing); otherwise in
    order of first appearance (hash based, the order ``groupby(sort=False)`` gives).  The order of
    the groups never reaches the output: :func:`compute` sorts its rows by their keys, which are
    unique per row.
    """
    if n_keys is not None and n_keys <= max(4 * len(key), 1 << 16):
        counts = np.bincount(key, minlength=n_keys)
        present = counts > 0
        rank = np.cumsum(present) - 1
        return rank[key], np.flatnonzero(present).astype(np.int64)
    inv, uniq = pd.factorize(key, sort=False)
    return inv.astype(np.int64), np.asarray(uniq, dtype=np.int64)


def _sums(inv: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Per-group sums of ``values``: exact integer counting for 0/1 values (``np.bincount``), else
    pandas' compensated group sum (the same numbers as a ``groupby().sum()`` on the same rows)."""
    if not len(values) or np.all((values == 0) | (values == 1)):
        return np.bincount(inv, weights=values, minlength=n_groups)
    return pd.Series(values).groupby(inv, sort=True).sum().reindex(range(n_groups), fill_value=0.0).to_numpy()


def _aggregate(entry: registry.Entry, category: pd.Categorical, keys: list[tuple[str, np.ndarray, object]],
               outcome: np.ndarray, excluded: np.ndarray, unit_key: Callable[[np.ndarray], np.ndarray]) -> pd.DataFrame:
    """Numerators, denominators, missing and excluded counts per key and category, on integer codes.

    ``keys`` are ``(name, codes, labels)`` with codes >= 0 (rows with a missing key are dropped by
    the caller, as ``groupby`` drops them); groups are combined into one int64 per row and counted
    with ``np.bincount``; labels are attached to the few distinct groups only.  Group order is the
    order of first appearance, as ``groupby(sort=False)`` on the records frame gives it.
    ``unit_key(rows)`` gives an integer unit identity for the multi-cell families.
    """
    cats = pd.Index(category.categories)
    ncat = max(len(cats), 1)
    kinds = _row_types(entry, cats)
    unknown = kinds.loc[kinds["type"].isna(), "category"].tolist()
    if unknown:
        raise IndicatorError(f"indicator {entry.id!r}: categories {unknown} have no type in the registry")
    cat = np.asarray(category.codes)
    is_dist_cat = (kinds["type"] == "distribution").to_numpy()
    n = len(cat)
    # one int64 per row: the key codes and the category packed (in place, few temporaries)
    gc = np.zeros(n, dtype=np.int64)
    sizes = []
    for _, codes, labels in keys:
        size = max(len(labels), 1)
        gc *= size
        gc += codes
        sizes.append(size)
    n_groups = int(np.prod(sizes, dtype=np.float64)) if sizes else 1
    gc *= ncat
    gc += cat
    n_keys = n_groups * ncat if n_groups * ncat < (1 << 62) else None

    def key_frame(g: np.ndarray) -> dict:
        cols = {}
        for (name, _, labels), size in zip(reversed(keys), reversed(sizes)):
            cols[name] = pd.Index(labels).take(g % size).to_numpy() if len(g) else np.array([], dtype=object)
            g = g // size
        return {name: cols[name] for name, _, _ in keys}

    def rows_of(mask: np.ndarray):
        """Positions where ``mask`` holds, or ``None`` (= every row, no copies) when it always holds."""
        return None if mask.all() else np.flatnonzero(mask)

    def take(values: np.ndarray, sel):
        return values if sel is None else values[sel]

    out = []
    dist_row = is_dist_cat[cat] if n else np.zeros(0, bool)

    # shares and means (headline and share/mean breakdowns)
    if n and not dist_row.all():
        sel = rows_of(~dist_row)
        o, e = take(outcome, sel), take(excluded, sel)
        nan = np.isnan(o)
        valid = ~(nan | e)
        missing = nan & ~e
        del nan
        inv, uniq = _first_appearance(take(gc, sel), n_keys)
        m = len(uniq)
        num = np.where(valid, o, 0.0)
        del o
        if not len(num) or np.all((num == 0) | (num == 1)):
            numerator = np.bincount(inv, weights=num, minlength=m)
            sq = numerator.copy()  # x**2 == x for 0/1 values: the same exact counts
        else:
            numerator = _sums(inv, m, num)
            sq = _sums(inv, m, num ** 2)
        del num
        out.append(pd.DataFrame({
            **key_frame(uniq // ncat),
            "category": cats.take(uniq % ncat).to_numpy(),
            "denominator": np.bincount(inv, weights=valid, minlength=m).astype(np.int64),
            "numerator": numerator,
            "sq": sq,
            "missing": np.bincount(inv, weights=missing, minlength=m).astype(np.int64),
            "excluded_window": np.bincount(inv, weights=e, minlength=m).astype(np.int64),
        }))
        del inv, valid, missing, e

    # distributions
    if n and dist_row.any():
        sel = rows_of(dist_row)
        families = pd.Index(kinds["family"].to_numpy())
        fam_codes, fam_names = pd.factorize(families)
        nfam = max(len(fam_names), 1)
        multi_fam = np.isin(np.asarray(fam_names, dtype=object), list(MULTI_FAMILIES))
        o, e, k = take(outcome, sel), take(excluded, sel), take(gc, sel)
        nan = np.isnan(o)
        valid = ~(nan | e)
        missing = nan & ~e
        del nan, o
        c = k % ncat
        g = k // ncat
        fam = fam_codes[c]
        del c
        # cells: valid units per key and category
        inv, uniq = _first_appearance(k[valid], n_keys)
        del k
        cells = pd.DataFrame({
            **key_frame(uniq // ncat),
            "category": cats.take(uniq % ncat).to_numpy(),
            "numerator": np.bincount(inv, minlength=len(uniq)).astype(float),
        })
        del inv
        # totals per key and family; a unit counts once per family where cells may overlap
        gf = g * nfam + fam
        del g
        multi = multi_fam[fam]
        if multi.any():
            counted = np.ones(len(gf), bool)
            rows = np.flatnonzero(multi)
            unit_rows = rows if sel is None else sel[rows]
            dup = pd.DataFrame({"gf": gf[rows], "unit": unit_key(unit_rows), "valid": valid[rows]}).duplicated().to_numpy()
            counted[rows[dup]] = False
            gf, valid, missing, e = gf[counted], valid[counted], missing[counted], e[counted]
        del multi, fam
        tinv, tkeys = _first_appearance(gf, n_groups * nfam if n_groups * nfam < (1 << 62) else None)
        del gf
        mt = len(tkeys)
        tsort = np.argsort(tkeys)
        tot_valid = np.bincount(tinv, weights=valid, minlength=mt).astype(np.int64)
        tot_missing = np.bincount(tinv, weights=missing, minlength=mt).astype(np.int64)
        tot_excl = np.bincount(tinv, weights=e, minlength=mt).astype(np.int64)
        del tinv, valid, missing, e
        where = tsort[np.searchsorted(tkeys[tsort], (uniq // ncat) * nfam + fam_codes[uniq % ncat])]
        cells["denominator"] = tot_valid[where]
        cells["missing"] = tot_missing[where]
        cells["excluded_window"] = tot_excl[where]
        cells["sq"] = np.nan
        out.append(cells)
        if entry.headline is None:
            out.append(_empty_distribution_rows(tkeys // nfam, tot_valid, tot_missing, tot_excl, key_frame))
    if not out:
        return pd.DataFrame(columns=[k for k, _, _ in keys] + ["category", "denominator", "numerator", "sq",
                                                               "missing", "excluded_window"])
    res = pd.concat(out, ignore_index=True)
    res["category"] = res["category"].astype(str)
    return res


def _empty_distribution_rows(g: np.ndarray, valid: np.ndarray, missing: np.ndarray, excluded: np.ndarray,
                             key_frame: Callable) -> pd.DataFrame:
    """Rows of category ``""`` for the groups of a distribution-only indicator (no headline) that have
    no cell at all: every unit's window still open or its item missing.

    Without them such a group would vanish from the output and with it the number left out
    (indicators.md: "the output carries window_months and excluded_window").  The row has
    ``numerator = denominator = 0`` (value NaN, so it is always suppressed) and carries ``missing``
    and ``excluded_window`` of the group (the largest over its families, were there several).
    """
    per = pd.DataFrame({"g": g, "valid": valid, "missing": missing, "excluded": excluded}).groupby("g", sort=False).agg(
        valid=("valid", "sum"), missing=("missing", "max"), excluded=("excluded", "max"))
    per = per[per["valid"] == 0]
    groups = per.index.to_numpy(dtype=np.int64)
    return pd.DataFrame({
        **key_frame(groups),
        "category": np.full(len(groups), "", dtype=object),
        "numerator": np.zeros(len(groups)),
        "denominator": np.zeros(len(groups), dtype=np.int64),
        "missing": per["missing"].to_numpy(dtype=np.int64),
        "excluded_window": per["excluded"].to_numpy(dtype=np.int64),
        "sq": np.full(len(groups), np.nan),
    })


def _finish(res: pd.DataFrame, entry: registry.Entry, settings: Settings) -> pd.DataFrame:
    kinds = _row_types(entry, pd.Index(res["category"].unique()))
    info = res[["category"]].merge(kinds, on="category", how="left")
    rtype, family, code = info["type"].to_numpy(), info["family"].to_numpy(), info["code"].to_numpy()
    n = res["denominator"].to_numpy().astype(float)
    x = res["numerator"].to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(n > 0, x / n, np.nan)
        var = np.where(n > 1, (res["sq"].to_numpy() - n * value**2) / (n - 1), np.nan)
    sd = np.sqrt(np.clip(var, 0, None))
    is_mean = rtype == "mean"
    p_low, p_high = stats.proportion_ci(np.where(is_mean, 0, x), n, settings.conf, settings.ci_method)
    m_low, m_high = stats.mean_ci(np.where(is_mean, value, 0), np.where(is_mean, sd, 0), n, settings.conf)
    window = entry.window_months(settings)
    months = np.full(len(res), np.nan if window is None else window, dtype=float)
    second = family == "window"
    if second.any():
        months[second] = code[second].astype(float)
    category = np.where(second, "", res["category"].to_numpy().astype(object))
    res = res.assign(
        indicator=entry.id, category=category, value=value,
        ci_low=np.where(is_mean, m_low, p_low), ci_high=np.where(is_mean, m_high, p_high),
        window_months=pd.array(months, dtype="Int64") if True else None,
        _family=np.where(rtype == "distribution", family, ""),
    )
    return res
