"""The tidy indicator table: :func:`compute` aggregates the unit rows of every requested indicator
for institutions and nationally, per period and care type, and applies disclosure control."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import registry  # noqa: F401 (schema: the examples use it)
from outcome_analysis.contract import schema  # noqa: F401
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.settings import DEFAULT, Settings
from .aggregate import _aggregate, _finish
from .base import _Base, _release_arrow_memory, _shared_base
from .builders import computable
from .common import OUTPUT_COLUMNS, RECORD_COLUMNS, IndicatorError
from .parts import UNIT_CLIENT, UNIT_TRAJECTORY, _column
from .unit_records import _frame, _materialize, _units
from .suppression import _canonical_order, _suppress


def compute(
    data: Dataset,
    indicators: Sequence[str] | str | None = None,
    granularity: str = "year",
    by: Sequence[str] = ("institution",),
    settings: Settings | None = None,
    periods: Sequence[str] | None = None,
    records_to: Mapping[str, Callable[[pd.DataFrame], object]] | None = None,
) -> pd.DataFrame:
    """All indicators for every institution (and nationally), period and care type, in one tidy table.

    Parameters
    ----------
    data : Dataset or prepared base
        Loaded and validated data, or a base made by :func:`prepare` with the same ``granularity``
        and ``settings`` (its arrays are then reused, and kept for later calls).
    indicators : list of str or str, optional
        Registry ids; default every outcome indicator (:data:`COMPUTABLE`; context items are
        computed by ``outcome_analysis.context``).
    granularity : {"year", "half_year"}
        Year or half-year periods.
    by : sequence of str
        ``("institution",)`` (default) gives institution rows beside the national rows; ``()``
        only national rows.
    settings : Settings, optional
        Windows, regular ends, GAS/RCI settings, ``conf``, ``ci_method`` and disclosure thresholds.
    periods : list of str, optional
        Keep only these period labels.
    records_to : mapping of indicator id to callable, optional
        For each of these indicators, ``records_to[id](frame)`` is called once, in the order of
        ``indicators``, with the frame :func:`records` gives for it (same granularity and settings,
        every period: ``periods`` filters the table only), built from the same unit rows as its
        table rows: the indicator's builder runs once for both. The frame is not kept; what the
        callable returns is ignored and what it raises propagates. Every id must be one of the
        computed ``indicators`` (else :class:`IndicatorError`).

    Returns
    -------
    DataFrame
        Columns, in this order:

        - ``indicator`` (registry id), ``scope`` (``institution`` | ``national``),
          ``institution`` (``""`` for national), ``period``, ``care_type``;
        - ``category``: ``""`` for the headline, ``"family:code"`` for breakdowns (e.g.
          ``informant:ouder``, ``end_reason:onbekend``, ``follow_up:heavier``, ``mean_change:``);
        - ``numerator`` (float): units with the outcome, units in the cell, or the sum of the values
          for means; ``denominator`` (int): units counted (outcome known, window passed); for
          distributions the units in the distribution;
        - ``value``: ``numerator / denominator`` (the share or the mean);
        - ``ci_low``, ``ci_high``: Wilson (or exact, ``settings.ci_method``) interval via
          :func:`stats.proportion_ci` for shares and cells, t-interval via :func:`stats.mean_ci`
          for means;
        - ``missing`` (int): units with the item not filled in (``onbekend`` end reasons for
          uitval and regular-end shares, instruments not in the table for ROM);
        - ``window_months`` (Int64, NA without a window) and ``excluded_window`` (int): units left
          out because end + window is after ``data.reference_date``;
        - ``suppressed`` (bool): set by :func:`disclosure.suppress` (shares: denominator below
          ``min_denominator``; distribution cells: also counts below ``min_count`` and
          complementary cells). The numbers stay in the frame; the report hides them.

    Notes
    -----
    Decisions where indicators.md leaves a choice open:

    - shares with ``onbekend`` as a reason (uitval, pi03 volgens plan, regular end) count it as
      ``missing``; ``overleden`` is left out of the regular-end headline entirely (neither in the
      denominator nor missing) and appears in the ``end_reason:`` distribution;
    - jbjr_verloop and pi09 count ended JB/JR **episodes** (the JB+JR family) by the care type of
      their last record; pi09 has no headline (a pure distribution); pi06 has no headline either;
    - pi07 and pi08 chain the **JB records on their own** (a JB-only family): vOTS→OTS,
      OTS→voogdij and transfers between GIs are continuations, but a JR measure neither continues
      nor ends a JB episode, so an OTS that ends while a JR runs is counted (pi07, pi08) and a new
      JB measure that starts during a JR is a new measure (pi08).  pi07's ``transition:jb_jr_concurrent``
      says a JR measure of the same youth ran at some time during the JB episode.  Herhaald beroep
      and jbjr_verloop keep the JB+JR family, so pi07 for JB is no longer jbjr_verloop's JB rows;
      likewise pi09 chains the **JR records on their own**, so a JR measure that ends while a JB
      measure runs is counted with its end reason;
    - ``transition:transfer_gi`` is a hand-over: a record at another institution starting after
      every earlier record of the episode ended (see :func:`episodes.chain`), not concurrent care;
    - per-youth indicators (herhaald beroep, geen nieuwe start, pi05, pi08): institution rows keep
      each youth's last episode that ended at that institution in the period; national rows keep
      the youth's last one overall (a second pass over the same records); a youth whose last
      episode's window has not passed is excluded (no fall-back to an earlier episode);
    - herhaald beroep: a new start is the first JB/JR record starting after the episode's end and
      at most ``window`` months after it; pi08: the first JB record;
    - pi06 ordering: see :func:`compare_intensity`; the next trajectory is the first of the same
      youth starting on or after the end, within the window (same-day ties: the heaviest).  Care
      that started **before** the end is concurrent care, not follow-up care: an ambulant trajectory
      ending while a placement that began a month earlier still runs has follow-up ``none``;
    - a group of a distribution-only indicator (pi06, pi09) with no cell at all (every unit's window
      open, or its item missing) keeps one row of category ``""`` with ``numerator = denominator =
      0``, value NaN, ``suppressed`` True, carrying ``missing`` and ``excluded_window``; shares
      (herhaald beroep, pi05, pi08, pi10, ...) always keep their headline row with denominator 0;
    - suppression is marked after the final sort, by :func:`resuppress`'s rules, so ties for the
      complementary cell fall on the first row in output order;
    - means: ``numerator`` is the sum of the values so ``value = numerator / denominator``;
    - transition and issue cells may overlap (an episode can have several transitions): their
      denominator is the number of distinct units, ``transition:none`` the episodes without any;
    - experience answers are counted for ended trajectories, by the end period; professionals'
      answers appear only as ``informant:professional``.

    Examples
    --------
    >>> from outcome_analysis.dataset import Dataset
    >>> t = pd.DataFrame({"trajectory_id": [f"t{i}" for i in range(12)],
    ...     "client_id": [f"k{i}" for i in range(12)], "institution": ["A"] * 12,
    ...     "care_type": ["jeugdhulp"] * 12, "care_form": ["ambulant"] * 12,
    ...     "start_date": pd.to_datetime(["2023-01-01"] * 12), "end_date": pd.to_datetime(["2023-06-01"] * 12),
    ...     "end_reason": ["voortijdig_client"] * 3 + ["volgens_plan"] * 9, "birth_year": [2010] * 12})
    >>> t = t.reindex(columns=[c.name for c in schema.TRAJECTORY_COLUMNS]).astype(
    ...     {c.name: c.dtype for c in schema.TRAJECTORY_COLUMNS})
    >>> out = compute(Dataset(t, reference_date="2024-12-31"), "jh_uitval")
    >>> out.loc[out["category"] == "", ["scope", "numerator", "denominator", "value", "suppressed"]].values.tolist()
    [['institution', 3.0, 12, 0.25, True], ['national', 3.0, 12, 0.25, True]]

    (3 of 12 is a small cell under the two-cell rule: the share is hidden, its value stays.)
    """
    settings = settings or DEFAULT
    if indicators is None:
        indicators = list(computable())
    elif isinstance(indicators, str):
        indicators = [indicators]
    entries = [registry.get(i) for i in indicators]
    records_to = dict(records_to or {})
    unknown = sorted(set(records_to) - {e.id for e in entries})
    if unknown:
        raise IndicatorError(f"records_to names {unknown}, which are not among the indicators computed")
    by = list(by)
    b = _shared_base(data, granularity, settings)  # handed in, or one for this call
    pieces = []
    try:
        for entry in entries:  # a loop over the ~25 indicator ids only
            parts, category = _units(b, entry)  # the one build of this indicator's unit rows
            pieces += _compute_one(b, entry, parts, category, by, periods, settings)
            consumer = records_to.get(entry.id)
            if consumer is not None:
                frame = _materialize(b, _frame(parts), category)
                del parts, category
                consumer(frame)
                del frame
            else:
                del parts, category
            _release_arrow_memory()
    finally:
        b.memo.clear()
    if not pieces:
        return _empty_output()
    table = pd.concat(pieces, ignore_index=True)
    table["institution"] = table["institution"].astype(str)
    table["care_type"] = table["care_type"].astype(str)
    table["period"] = table["period"].astype(str)
    table["denominator"] = table["denominator"].astype(np.int64)
    table["missing"] = table["missing"].astype(np.int64)
    table["excluded_window"] = table["excluded_window"].astype(np.int64)
    extra = [c for c in by if c != "institution"]
    table = table.take(_canonical_order(table, extra)).reset_index(drop=True)
    table = _suppress(table, settings, extra)  # after the final sort: see resuppress
    return table[list(OUTPUT_COLUMNS) + extra]


_FAST_KEYS = ("institution", "care_type", "care_form", "client_id", "sex", "complexity", "perspective")


def _compute_one(b: _Base, entry: registry.Entry, parts: list, category: pd.Categorical, by: list[str], periods,
                 settings: Settings) -> list[pd.DataFrame]:
    """Institution (``by``) and national rows of one indicator from its unit rows (``parts`` and
    ``category`` of :func:`_units`), aggregated on integer codes.

    Only the columns aggregation needs are concatenated from the builder's parts (position,
    period code, category code, outcome, excluded flag; unit identities only for the overlapping
    families): no records frame, no text columns, unless ``by`` asks for a column that is not a
    trajectory key. ``parts`` are read, never written into.
    """
    anchor = _column(parts, "anchor")
    pcodes, plabels = b.period_codes(anchor)
    keep = None
    if periods is not None:
        keep = np.flatnonzero(np.r_[np.isin(plabels, list(periods)), False][pcodes])
        category, pcodes, anchor = category[keep], pcodes[keep], anchor[keep]
    if not len(pcodes):
        return []
    unknown_by = [c for c in by if c not in RECORD_COLUMNS]
    if unknown_by:
        raise IndicatorError(f"by={unknown_by} are not columns of the records; choose from {list(RECORD_COLUMNS)}")
    pos = _column(parts, "pos", keep)
    outcome = _column(parts, "outcome", keep)
    excluded = _column(parts, "excluded", keep)
    if entry.unit != "youth":
        del anchor
    slow = [c for c in by if c not in _FAST_KEYS and c != "period"]
    materialized = _materialize(b, _frame(parts, keep), category) if slow else None
    key_cache: dict = {}

    def key(col: str):
        if col not in key_cache:
            if col == "period":
                key_cache[col] = pcodes, plabels
            elif col in _FAST_KEYS:
                codes, labels = b.codes(col)
                key_cache[col] = codes[pos], labels
            else:
                codes, uniques = pd.factorize(materialized[col])
                key_cache[col] = codes.astype(np.int64), uniques
        return key_cache[col]

    def unit_key(rows: np.ndarray) -> np.ndarray:
        kind = _column(parts, "unit_kind", keep)[rows]
        upos = _column(parts, "unit_pos", keep)[rows]
        p = pos[rows]
        value = np.where(kind == UNIT_TRAJECTORY, b.trajectory_identity(np.where(kind == UNIT_TRAJECTORY, upos, 0)),
                         np.where(kind == UNIT_CLIENT, b.client[p], upos))
        return kind.astype(np.int64) * (1 << 40) + value

    scopes = []
    if by:
        scopes.append(("institution" if by == ["institution"] else "_".join(by), None, by))
    national = None
    if entry.unit == "youth":
        # each youth once per period and category: the last by anchor date (stable)
        cat = np.asarray(category.codes, dtype=np.int64)
        order = np.argsort(anchor, kind="stable")
        del anchor
        k = (b.client[pos] * (len(plabels) + 1) + (pcodes + 1)) * (len(category.categories) + 1) + cat
        ks = k[order]
        del k, cat
        # keep="last": the last occurrence of each key in the sorted order
        rev_first = pd.Series(ks[::-1]).duplicated().to_numpy()[::-1]
        national = order[~rev_first]
        del ks, order, rev_first
    scopes.append(("national", national, []))
    pieces = []
    for scope, rows, keys in scopes:
        names = keys + ["period", "care_type"]
        kc = [(name, *key(name)) for name in names]
        ok = None
        for _, codes, _ in kc:
            sub = codes if rows is None else codes[rows]
            if (sub < 0).any():
                ok = (sub >= 0) if ok is None else ok & (sub >= 0)
        if ok is not None:
            rows = np.flatnonzero(ok) if rows is None else rows[ok]
        if rows is None:  # every row, no copies
            kc_rows, cat_rows, out_rows, exc_rows = kc, category, outcome, excluded
            unit_rows = unit_key
        else:
            kc_rows = [(name, codes[rows], labels) for name, codes, labels in kc]
            cat_rows, out_rows, exc_rows = category[rows], outcome[rows], excluded[rows]
            unit_rows = (lambda r, rows=rows: unit_key(rows[r]))
        res = _aggregate(entry, cat_rows, kc_rows, out_rows, exc_rows, unit_rows)
        del kc_rows, cat_rows, out_rows, exc_rows
        res = _finish(res, entry, settings)
        res["scope"] = scope
        if "institution" not in keys:
            res["institution"] = ""
        pieces.append(res)
    return pieces


def _empty_output() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS})
