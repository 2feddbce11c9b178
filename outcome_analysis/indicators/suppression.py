"""Disclosure control of a :func:`compute` table in its canonical row order (:func:`resuppress`)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from outcome_analysis.statistics import disclosure
from . import registry
from outcome_analysis.settings import DEFAULT, Settings
from .common import OUTPUT_COLUMNS, RECORD_COLUMNS


_ORDER = {k: i for i, k in enumerate(registry.REGISTRY)}
_SORT_KEYS = ("indicator", "scope", "institution", "period", "care_type")


def _canonical_order(table: pd.DataFrame, extra: Sequence[str] = ()) -> np.ndarray:
    """Positions of ``table``'s rows in the order :func:`compute` returns them: indicator (registry
    order), scope, institution, period, care type, the extra ``by`` keys, window, category (stable)."""
    keys = [*_SORT_KEYS, *extra, "window_months", "category"]
    frame = table[keys].reset_index(drop=True)
    frame = frame.assign(indicator=frame["indicator"].map(_ORDER))
    return frame.sort_values(keys, kind="stable").index.to_numpy()


def _family_of(table: pd.DataFrame) -> np.ndarray:
    """The distribution family of each row (``""`` for shares, means and the empty-group rows), read
    from the registry's ``breakdowns`` on the few distinct (indicator, category) pairs."""
    pairs = table[["indicator", "category"]].drop_duplicates()
    fam = {}
    for ind, cat in pairs.itertuples(index=False):  # a loop over the few (indicator, category) pairs
        family = str(cat).partition(":")[0] if cat else ""
        kind = registry.get(ind).breakdowns.get(family) if family not in ("", "window") else None
        fam[(ind, cat)] = family if kind == "distribution" else ""
    keys = pd.MultiIndex.from_frame(table[["indicator", "category"]])
    return pd.Series(fam).reindex(keys).fillna("").to_numpy(dtype=object)


def row_kinds(indicator, category) -> np.ndarray:
    """What each row of an indicator or context table shows, for disclosure control and exports:
    ``"share"`` (the two-cell rule), ``"mean"`` (a mean, median or quantile of records: only
    ``min_denominator``) or ``"count"`` (a cell of a distribution, or anything not known).

    Read from the registry (``headline`` and ``breakdowns``) on the distinct (indicator, category)
    pairs: a breakdown takes its family's type; a follow-up window row is its headline again; any
    other category of a mean (the quantiles of the waiting time) is a mean.

    >>> row_kinds(["jh_uitval", "jh_afname_problematiek", "pi03_reden_beeindiging_hulp"],
    ...           ["", "mean_change:", "end_reason:volgens_plan"]).tolist()
    ['share', 'mean', 'count']
    """
    ind = pd.Series(list(indicator), dtype=object).astype(str)
    cat = pd.Series(list(category), dtype=object).fillna("").astype(str)
    kinds: dict[tuple[str, str], str] = {}
    for pair in set(zip(ind, cat)):  # a loop over the few distinct pairs
        i, c = pair
        entry = registry.REGISTRY.get(i)
        if entry is None:
            kinds[pair] = "count"
            continue
        family = c.partition(":")[0] if c else ""
        if not family:
            kind = entry.headline
        elif family in entry.breakdowns:
            kind = entry.breakdowns[family]
        else:  # a follow-up window row is its share again; the quantiles of a mean are means
            kind = "share" if family == "window" and entry.headline == "share" else (
                "mean" if entry.headline == "mean" else None)
        kinds[pair] = {"share": "share", "mean": "mean"}.get(kind, "count")
    return np.array([kinds[p] for p in zip(ind, cat)], dtype=object)


def _breakdown_keys(table: pd.DataFrame) -> list[str]:
    """The extra ``by`` columns of a :func:`compute` table (record columns that are no output column)."""
    return [c for c in table.columns if c in RECORD_COLUMNS and c not in OUTPUT_COLUMNS]


def _region_codes(table: pd.DataFrame, regions: Mapping[str, str] | None) -> np.ndarray | None:
    """The region of each row's institution as an integer code (-1: no region, or a national row);
    ``None`` without ``regions``."""
    if not regions:
        return None
    inst = table["institution"].astype(object).where(table["institution"].notna(), None)
    region = inst.map(lambda name: regions.get(name) if name is not None else None)  # a dict lookup per row
    region = region.where(table["scope"].astype(str).to_numpy() == "institution", None)
    return pd.factorize(region.to_numpy(dtype=object), use_na_sentinel=True)[0].astype(np.int64)


def _suppress(table: pd.DataFrame, settings: Settings, extra: Sequence[str] = (),
              regions: Mapping[str, str] | None = None, forced: np.ndarray | None = None) -> pd.DataFrame:
    """Set ``suppressed`` with :func:`disclosure.suppress` (shares and distribution cells apart), on
    the rows in the order given (ties for the complementary cell: the first row in that order).
    ``regions`` (institution -> region) adds the coordination between the institutions of a region
    (:func:`_across_institutions`, and a fourth grouping of the distribution cells); ``forced``
    (bool per row) marks rows hidden before the secondary rules run, as if their counts were small."""
    region = _region_codes(table, regions)
    forced = np.zeros(len(table), bool) if forced is None else np.asarray(forced, dtype=bool)
    is_cell = table["_family"].to_numpy() != ""
    is_mean = (row_kinds(table["indicator"], table["category"]) == "mean") & ~is_cell
    is_share = ~is_cell & ~is_mean
    out = np.zeros(len(table), bool)
    for mask, kind in ((is_share, "share"), (is_mean, "mean")):
        if mask.any():
            out[mask] = disclosure.suppress(table[mask], settings, kind=kind)["suppressed"].to_numpy()
    out |= forced & ~is_cell
    year = _year_of(table["period"])
    if is_cell.any():
        group = [*_SORT_KEYS, *extra, "_family", "window_months"]
        cells = table[is_cell].assign(window_months=table.loc[is_cell, "window_months"].astype("float64").fillna(-1),
                                      _year=year[is_cell])
        if forced[is_cell].any():  # an unknown count is hidden (rule 2) and is nobody's complement
            cells = cells.assign(numerator=np.where(forced[is_cell], np.nan, cells["numerator"].astype(float)))
        # the halves of a year are a second grouping of the same cells: H1 + H2 is the year's cell
        twins = [k if k != "period" else "_year" for k in group] + ["category"]
        # and the institutions of a category are a third (their pooled cell is the total)
        peers = [k for k in group if k != "institution"] + ["category"]
        groupings = [group, twins, peers]
        if region is not None:
            # the institutions of a category within one region (their sum is the region's cell);
            # rows of no region (national, or an institution outside every region) each stand alone
            alone = region[is_cell] < 0
            cells = cells.assign(_region=np.where(alone, -1 - np.flatnonzero(is_cell), region[is_cell]))
            groupings.append(peers + ["_region"])
        out[is_cell] = disclosure.suppress(cells, settings, kind="count",
                                           group=groupings)["suppressed"].to_numpy()
    for _ in range(len(table) + 1):  # to a fixed point: each round only hides more rows
        before = out
        out = _pooled_and_parts(table, out, extra)
        if region is not None:  # first: a region's second hidden unit often settles the pooled figure too
            out = _across_institutions(table, out, extra, ~is_cell, region=region)
        out = _across_institutions(table, out, extra, ~is_cell)
        out = _twin_halves(table, out, year, extra, ~is_cell)
        if (out == before).all():
            break
    return table.assign(suppressed=out)


def _across_institutions(table: pd.DataFrame, hidden: np.ndarray, extra: Sequence[str], rows: np.ndarray,
                         region: np.ndarray | None = None) -> np.ndarray:
    """Secondary suppression between the institutions and their pooled figure (indicators.md: a total
    and its visible siblings): the overview prints every institution's figure beside the pooled one,
    and the pooled numerator (or records x mean) minus the visible institutions' gives a single
    hidden institution back. So among ``rows`` (shares and means), for each figure (indicator,
    period, care type, category, window, extra keys) whose pooled row is shown and in which exactly
    one institution with records is hidden, the visible institution with the fewest records (ties:
    table order) is hidden too.

    With ``region`` (an integer region code per row, -1 for none: :func:`_region_codes`) the same
    rule runs within each region instead (the units are gemeenten, the total their jeugdregio's
    figure, published in the region's own report): for each figure and region in which exactly one
    gemeente with records is hidden, the region's visible gemeente with the fewest records is hidden
    too, whether or not the region's figure is shown (it is computed in another results store).
    Rows of no region are left alone; a region of one gemeente has no sibling to hide (its figure
    is the gemeente's own: the region store hides it by the same primary rule)."""
    scope = table["scope"].astype(str).to_numpy()
    inst = rows & (scope == "institution")
    pooled = rows & (scope == "national")
    if region is not None:
        inst &= region >= 0
    if not inst.any() or (region is None and not pooled.any()):
        return hidden
    hidden = hidden.copy()
    keys = ["indicator", "period", "care_type", *extra, "window_months", "category"]
    frame = table[keys].astype(object)
    frame = frame.where(frame.notna(), None)
    if region is not None:
        frame = frame.assign(_region=region)
        keys = [*keys, "_region"]
    group = frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    denominator = table["denominator"].astype(float).to_numpy()
    open_pooled = np.zeros(group.max() + 1, bool)
    if region is None:
        open_pooled[group[pooled & ~hidden]] = True
    else:
        open_pooled[:] = True
    shut = inst & hidden & (denominator > 0)
    n_shut = np.bincount(group[shut], minlength=group.max() + 1)
    for g in np.flatnonzero((n_shut == 1) & open_pooled):  # a loop over the few figures with one hidden institution
        members = np.flatnonzero(inst & (group == g) & ~hidden)
        if len(members):
            hidden[members[np.argsort(denominator[members], kind="stable")[0]]] = True
    return hidden


def _year_of(period: pd.Series) -> np.ndarray:
    """The year of a half-year period (``"2024H1"`` -> ``"2024"``); any other period is its own
    group (``"2024"`` -> ``"2024"``, ``"2024Q1"`` -> ``"2024Q1"``)."""
    text = period.astype(str)
    half = text.str.fullmatch(r"\d{4}H[12]")
    return np.where(half.to_numpy(), text.str[:4].to_numpy(), text.to_numpy()).astype(object)


def _twin_halves(table: pd.DataFrame, hidden: np.ndarray, year: np.ndarray, extra: Sequence[str],
                 rows: np.ndarray) -> np.ndarray:
    """Secondary suppression between the two halves of a year (indicators.md): the year's figure
    (published in the year report) minus one half gives the other half back, numerator and
    complement alike, and a mean of the year with both halves' numbers of records gives a hidden
    half's mean. So among ``rows`` (shares and means), a half-year figure is shown only when its
    twin (the same indicator, scope, institution, care type, category, window and extra keys in
    the other half of the year) is shown or has no records."""
    half = (year != table["period"].astype(str).to_numpy()) & rows
    if not half.any():
        return hidden
    hidden = hidden.copy()
    keys = [k for k in (*_SORT_KEYS, *extra, "window_months", "category") if k != "period"]
    frame = table.loc[half, keys].astype(object)
    frame = frame.where(frame.notna(), None).assign(_year=year[half])
    group = frame.groupby([*keys, "_year"], sort=False, dropna=False).ngroup().to_numpy()
    positions = np.flatnonzero(half)
    denominator = table["denominator"].astype(float).to_numpy()[positions]
    shut = hidden[positions] & (denominator > 0)  # a half with no records gives nothing away
    hidden_in = np.bincount(group, weights=shut.astype(float), minlength=group.max() + 1)
    size = np.bincount(group, minlength=group.max() + 1)
    twin_hidden = (size[group] == 2) & (hidden_in[group] - shut > 0)
    hidden[positions[twin_hidden]] = True
    return hidden


#: share breakdowns whose parts add up to the headline (the pooled figure): the answers of youths and
#: parents together are the pooled client experience.
ADDITIVE_FAMILIES = ("informant",)


def _pooled_and_parts(table: pd.DataFrame, hidden: np.ndarray, extra: Sequence[str] = ()) -> np.ndarray:
    """Secondary suppression between a pooled share and its parts (indicators.md): the headline minus
    its visible parts gives a hidden part back. Within each figure (indicator, scope, institution,
    period, care type, extra keys, window): with the headline shown and exactly one of two or more
    parts hidden, the smallest visible part (by denominator; ties: table order) is hidden too; a single
    part that is hidden while the headline is shown (the headline *is* that part) hides the headline."""
    category = table["category"].astype(str).to_numpy()
    family = np.array([c.partition(":")[0] for c in category], dtype=object)
    part = np.isin(family, ADDITIVE_FAMILIES)
    head = category == ""
    if not part.any():
        return hidden
    hidden = hidden.copy()
    keys = [*_SORT_KEYS, *extra, "window_months"]
    frame = table[keys].astype(object).where(table[keys].notna(), None)
    group = frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    denominator = table["denominator"].astype(float).to_numpy()
    for g in np.unique(group[part]):  # a loop over the few figures with such a breakdown
        rows = np.flatnonzero(group == g)
        heads, parts = rows[head[rows]], rows[part[rows]]
        if len(heads) != 1 or hidden[heads[0]]:
            continue
        shut = parts[hidden[parts]]
        if len(shut) != 1:
            continue
        if len(parts) == 1:
            hidden[heads[0]] = True
            continue
        visible = parts[~hidden[parts]]
        hidden[visible[np.argsort(denominator[visible], kind="stable")[0]]] = True
    return hidden


def resuppress(table: pd.DataFrame, settings: Settings | None = None, *,
               regions: Mapping[str, str] | None = None, hidden: np.ndarray | None = None) -> pd.DataFrame:
    """Mark ``suppressed`` of a :func:`compute` table again, e.g. under other disclosure thresholds.

    Suppression changes no figure, so a cached table can be re-marked instead of computed again
    (the explorer does this when the user changes ``min_denominator`` or ``min_count``).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`compute` (any thresholds, any row order, extra ``by`` columns allowed).
        Not modified.
    settings : Settings, optional
        The thresholds ``min_denominator`` and ``min_count`` to apply; default ``settings.DEFAULT``.
    regions : mapping of institution to region, optional
        Coordinate the disclosure across the units of a region as well (gemeenten and their
        jeugdregio, issue "Privacy by construction"): for each figure, when exactly one unit of a
        region is hidden, the region's next smallest visible unit is hidden too (shares and means),
        and the cells of a distribution category are protected among the units of a region (so the
        region's figure minus the others' cannot give a hidden one back). Units not in the mapping
        (``"gemeente onbekend"``) belong to no region. Without it, the table is marked exactly as
        :func:`compute` marks it.
    hidden : array of bool, optional
        One per row of ``table`` (in its order): rows to hide whatever their counts, before the
        secondary rules run (e.g. a figure another results store hides and that this store holds
        too: a jeugdregio of one gemeente). Their complements are hidden as for any hidden row.

    Returns
    -------
    DataFrame
        A copy of ``table`` (same rows, same order) whose ``suppressed`` column is exactly what
        :func:`compute` sets under ``settings``; every other column is unchanged.

    Notes
    -----
    The rules are those of :func:`disclosure.suppress`: shares (and the empty-group rows of
    distribution-only indicators) with ``kind="share"`` (the two-cell rule), means (a ``mean``
    breakdown or headline) with ``kind="mean"``, the cells of each distribution (grouped
    by indicator, scope, institution, period, care type, extra ``by`` columns, family and window)
    with ``kind="count"``.  The family of a row is read from the registry's ``breakdowns``.

    Deterministic: the complementary cell of a distribution is its smallest visible cell, ties
    broken by table order; the rows are marked in :func:`compute`'s canonical order (which
    :func:`compute` itself uses: it suppresses after its final sort), whatever the order of
    ``table``, so re-marking a cached table gives the same cells as computing it anew.

    Examples
    --------
    >>> t = pd.DataFrame({"indicator": ["jh_uitval"] * 2, "scope": ["institution"] * 2,
    ...     "institution": ["A", "B"], "period": ["2023"] * 2, "care_type": ["jeugdhulp"] * 2,
    ...     "category": ["", ""], "numerator": [3.0, 4.0], "denominator": [12, 8],
    ...     "window_months": pd.array([pd.NA, pd.NA], dtype="Int64"), "suppressed": [False, True]})
    >>> resuppress(t, DEFAULT.replace(min_denominator=5, min_cell=3))["suppressed"].tolist()
    [False, False]
    >>> resuppress(t, DEFAULT.replace(min_denominator=5))["suppressed"].tolist()  # 3 of 12: a small cell
    [True, True]
    """
    settings = settings or DEFAULT
    if not len(table):
        return table.copy()
    extra = _breakdown_keys(table)
    order = _canonical_order(table, extra)
    work = table.take(order).reset_index(drop=True)
    work = work.assign(_family=_family_of(work))
    marked = np.empty(len(table), dtype=bool)
    if hidden is not None and len(np.asarray(hidden)) != len(table):
        raise ValueError(f"hidden has {len(np.asarray(hidden))} values for {len(table)} rows")
    forced = None if hidden is None else np.asarray(hidden, dtype=bool)[order]
    marked[order] = _suppress(work, settings, extra, regions, forced)["suppressed"].to_numpy()
    return table.assign(suppressed=marked)
