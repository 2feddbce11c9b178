"""Asking the results: the one way report sections select rows from the stored tables.

Every section of every document reads :class:`~outcome_analysis.running.results.Results` through
these methods instead of filtering the tables by hand, so the follow-up window in force, the
headline category and the period order are applied the same way everywhere:

- :meth:`ResultsQuery.rows`: indicator (or context) rows of one indicator, any selection;
- :meth:`ResultsQuery.headline`: the headline row (category ``""``) of one figure, as a dict;
- :meth:`ResultsQuery.trend`: the headline rows of the periods up to one period (institution and pooled);
- :meth:`ResultsQuery.comparison`: the one verdict of a comparison (adjusted, against the others,
  against the previous period), from the comparisons table: no consumer decides a verdict itself;
- :meth:`ResultsQuery.casemix_rows`: the case-mix rows (O, E, O/E, funnel limits, shrunk O/E) of a
  report period, for funnel plots and model tables;
- :meth:`ResultsQuery.model`: the stored case-mix model summary rows (the fitted model is
  :meth:`Results.summary <outcome_analysis.running.results.Results.summary>`);
- :meth:`ResultsQuery.model_coefficients`, :meth:`ResultsQuery.model_calibration`: one model's
  stored coefficients (odds ratios or estimates, with intervals) and calibration by decile;
- :meth:`ResultsQuery.select`: rows of any other stored table (``quality``: completeness per item;
  ``verloop``: durations and waiting times) by equal keys.

All return frames keep their columns when nothing matches.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from outcome_analysis.contract.periods import parse_period
from outcome_analysis.indicators import registry

#: the tables :meth:`ResultsQuery.rows` reads (both have indicator/scope/institution/care_type/period).
ROW_TABLES = ("indicators", "context")


def _mask(frame: pd.DataFrame, **where) -> np.ndarray:
    """Rows of ``frame`` where every column in ``where`` equals its value (``None``: any value)."""
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        if value is not None:
            mask &= frame[column].eq(value).to_numpy(dtype=bool, na_value=False)
    return mask


def window_in_force(frame: pd.DataFrame, settings) -> np.ndarray:
    """Rows of an indicator table computed with the follow-up window in force for their indicator
    (``settings``; :meth:`registry.Entry.window_months`): every row of an indicator without a window,
    and rows without a stored window value, count as matching. The one rule :meth:`ResultsQuery.rows`
    and the comparisons table apply.
    """
    if "window_months" not in frame or frame.empty:
        return np.ones(len(frame), dtype=bool)
    months = {k: e.window_months(settings) or np.nan for k, e in registry.REGISTRY.items()}
    wanted = frame["indicator"].map(months).astype("Float64")
    stored = frame["window_months"].astype("Float64")
    return (wanted.isna() | stored.isna() | (stored == wanted)).to_numpy(dtype=bool, na_value=True)


class ResultsQuery:
    """The query methods of :class:`~outcome_analysis.running.results.Results` (a mixin: it reads
    ``self.indicators``, ``self.context``, ``self.casemix``, ``self.model_summaries`` and ``self.settings``)."""

    def window_months(self, indicator: str) -> int | None:
        """The follow-up window in force for ``indicator`` (months; ``None`` without one)."""
        entry = registry.REGISTRY.get(indicator)
        return None if entry is None else entry.window_months(self.settings)

    def rows(self, indicator: str, *, care_type: str | None = None, period: str | None = None,
             scope: str | None = None, institution: str | None = None, category: str | None = "",
             table: str = "indicators") -> pd.DataFrame:
        """The rows of ``indicator`` in ``table`` (``indicators`` or ``context``) matching every given key.

        ``None`` for a key means any value; ``category`` defaults to the headline (``""``).
        ``institution`` applies to institution rows only: with ``scope=None`` the pooled rows are kept
        beside the institution's. For an indicator with a follow-up window only rows computed with
        the window in force are kept (rows without a window column value count as matching).
        """
        if table not in ROW_TABLES:
            raise ValueError(f"table must be one of {ROW_TABLES}, not {table!r}")
        frame = getattr(self, table)
        if frame.empty:
            return frame
        mask = _mask(frame, indicator=indicator, care_type=care_type,
                     period=None if period is None else str(period), scope=scope)
        if category is not None and "category" in frame:
            mask &= (frame["category"] == category).to_numpy(bool)
        if institution is not None:
            mask &= ((frame["scope"] != "institution") | (frame["institution"] == institution)).to_numpy(bool)
        if table == "indicators":
            mask &= window_in_force(frame, self.settings)
        return frame.loc[mask]

    def headline(self, indicator: str, care_type: str, period: str, scope: str = "institution",
                 institution: str | None = None, table: str = "indicators") -> dict[str, Any] | None:
        """The headline row (category ``""``) of one figure as a dict; ``None`` when there is none."""
        rows = self.rows(indicator, care_type=care_type, period=period, scope=scope,
                         institution=institution if scope == "institution" else None, table=table)
        return None if rows.empty else rows.iloc[0].to_dict()

    def trend(self, indicator: str, care_type: str, institution: str | None, up_to: str,
              last: int | None = None) -> pd.DataFrame:
        """Headline rows of the periods up to and including ``up_to`` (the ``last`` latest of them):
        the pooled rows and, with ``institution``, that institution's, sorted by period."""
        rows = self.rows(indicator, care_type=care_type, institution=institution)
        if institution is None:
            rows = rows.loc[(rows["scope"] != "institution").to_numpy(bool)]
        end = parse_period(up_to)[0]
        keep = np.array([parse_period(p)[0] <= end for p in rows["period"]], dtype=bool)
        rows = rows.loc[keep]  # a boolean array: an empty selection keeps its columns
        if last is not None:
            periods = sorted(rows["period"].unique())[-last:]
            rows = rows.loc[rows["period"].isin(periods).to_numpy(bool)]
        return rows.sort_values("period", kind="stable")

    def comparison(self, indicator: str | None, care_type: str | None, period: str | None, *,
                   basis: str | None = "adjusted", unit: str | None = None, unit_kind: str = "institution",
                   measure: str | None = None, report_period: str | None = None) -> pd.DataFrame:
        """The comparison rows (``comparisons`` table) matching every given key; ``None`` means any.

        ``period`` is the period of the figure compared (for an adjusted comparison of an indicator
        with a follow-up window, the modelled period; ``report_period`` selects by the report
        period instead). ``basis``: ``adjusted``, ``raw_reference`` or ``raw_previous``;
        ``measure``: ``oe_ratio`` / ``mean`` (adjusted), ``share`` / ``mean`` (raw_reference),
        ``share_difference`` / ``mean_difference`` (raw_previous). Each row holds ``signal``,
        ``favourable``, ``level``, ``value``, ``ci_low``, ``ci_high``, ``null_value``,
        ``reference_value``, ``expected_low``, ``expected_high``, ``n`` and ``text_key``.
        """
        frame = getattr(self, "comparisons", None)
        if frame is None or frame.empty:
            return pd.DataFrame() if frame is None else frame
        return frame.loc[_mask(frame, unit_kind=unit_kind, unit=unit, indicator=indicator, care_type=care_type,
                               period=None if period is None else str(period), basis=basis, measure=measure,
                               report_period=None if report_period is None else str(report_period))]

    def verdict(self, indicator: str, care_type: str, period: str, unit: str, basis: str = "adjusted",
                measure: str | None = None, unit_kind: str = "institution") -> dict[str, Any] | None:
        """One comparison row as a dict (:meth:`comparison`), ``None`` when there is none."""
        rows = self.comparison(indicator, care_type, period, basis=basis, unit=unit, unit_kind=unit_kind,
                               measure=measure)
        return None if rows.empty else rows.iloc[0].to_dict()

    def casemix_rows(self, indicator: str | None, care_type: str | None, report_period: str,
                     institution: str | None = None, kind: str = "share", *, marked: bool = False) -> pd.DataFrame:
        """The case-mix rows of ``report_period`` (``casemix`` for shares, ``casemix_mean`` for the
        change indicators' means): O, E, O/E, funnel limits, shrunk O/E; ``None`` for a key means any
        value. Their ``signal`` is the adjusted verdict of :meth:`comparison` (one computation).

        ``marked`` (shares): with the columns of
        :func:`outcome_analysis.statistics.disclosure.suppress` on each row's own cells (``observed``
        of ``n``, the two-cell rule under the settings in force): ``suppressed``,
        ``shown_denominator`` ... — what a funnel or a table of institutions may draw."""
        frame = self.casemix if kind == "share" else self.casemix_mean
        if frame.empty:
            return frame.assign(suppressed=pd.Series(dtype=bool)) if marked else frame
        rows = frame.loc[_mask(frame, indicator=indicator, care_type=care_type,
                               report_period=str(report_period), institution=institution)]
        if not marked:
            return rows
        from outcome_analysis.statistics import disclosure

        marked = disclosure.suppress(rows.assign(numerator=rows["observed"], denominator=rows["n"]), self.settings)
        # one rule: a figure the indicator table hides (also by secondary suppression: between
        # institutions, halves of a year) is hidden in its case-mix row too
        secondary = self.hidden_headlines(marked) & ~marked["suppressed"].to_numpy(dtype=bool)
        if secondary.any():
            marked = marked.copy()
            marked.loc[secondary, "suppressed"] = True
            marked.loc[secondary, "suppression_reason"] = "complementary"
            marked.loc[secondary, ["shown_numerator", "shown_denominator"]] = np.nan
        return marked

    def hidden_headlines(self, rows: pd.DataFrame) -> np.ndarray:
        """For case-mix rows (any frame with ``indicator``, ``care_type``, ``institution``,
        ``period``): whether the indicator table's headline row of the same indicator, care type,
        institution and period (the follow-up window in force) is ``suppressed``; shape
        ``(len(rows),)``, bool. The one place case-mix rows learn the rule of the indicator table
        (:meth:`casemix_rows` with ``marked``, the leak audit)."""
        table = self.indicators
        if table is None or table.empty or rows.empty:
            return np.zeros(len(rows), dtype=bool)
        head = table.loc[(table["scope"] == "institution") & (table["category"].fillna("").astype(str) == "")]
        head = head.loc[window_in_force(head, self.settings)]
        hidden = head.loc[head["suppressed"].astype(bool), ["indicator", "care_type", "institution", "period"]]
        keys = set(zip(hidden["indicator"], hidden["care_type"], hidden["institution"], hidden["period"].astype(str)))
        return np.array([k in keys for k in zip(rows["indicator"], rows["care_type"], rows["institution"],
                                                 rows["period"].astype(str))], dtype=bool)

    def model(self, indicator: str | None, period: str | None, care_type: str | None,
              kind: str = "share") -> pd.DataFrame:
        """The stored model summary rows (one per fitted model) matching the given keys."""
        frame = self.model_summaries
        if frame.empty:
            return frame
        return frame.loc[_mask(frame, indicator=indicator, kind=kind,
                               period=None if period is None else str(period), care_type=care_type)]

    def model_coefficients(self, indicator: str, period: str, care_type: str, kind: str = "share") -> pd.DataFrame:
        """One model's coefficient rows: ``term``, ``covariate``, ``reference``, and ``odds_ratio``
        (``kind="share"``) or ``estimate`` (``"mean"``) with ``ci_low``/``ci_high``; the key columns
        dropped. A ridge fit's intervals are NaN but its columns stay."""
        key = dict(indicator=indicator, period=str(period), care_type=care_type, kind=kind)
        other = {"share": ["estimate"], "mean": ["odds_ratio"]}.get(kind, [])
        rows = self.coefficients.loc[_mask(self.coefficients, **key)] if len(self.coefficients) else self.coefficients
        return rows.drop(columns=[*key, *other], errors="ignore").reset_index(drop=True)

    def model_calibration(self, indicator: str, period: str, care_type: str, kind: str = "share") -> pd.DataFrame:
        """One model's calibration rows by decile of the expected value (``observed``, ``expected``, ...);
        the key columns dropped."""
        key = dict(indicator=indicator, period=str(period), care_type=care_type, kind=kind)
        rows = self.calibration.loc[_mask(self.calibration, **key)] if len(self.calibration) else self.calibration
        return rows.drop(columns=list(key), errors="ignore").reset_index(drop=True)

    def select(self, table: str, **where) -> pd.DataFrame:
        """Rows of the stored ``table`` (``quality``, ``verloop``, ``status``, ...) where every column in
        ``where`` equals its value (``None``: any value); ``period`` is compared as text.

        An empty or absent table gives an empty frame; a key the table lacks is a ``KeyError``.
        """
        frame = getattr(self, table, None)
        if frame is None or frame.empty:
            return pd.DataFrame() if frame is None else frame
        if where.get("period") is not None:
            where["period"] = str(where["period"])
        return frame.loc[_mask(frame, **where)]
