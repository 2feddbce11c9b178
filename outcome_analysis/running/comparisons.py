"""The comparisons table: every verdict of a results store, computed once.

One row per unit (institution; later municipality and region), indicator, care type, period and
*basis* of comparison:

``adjusted``
    The case-mix adjusted comparison with all institutions: the O/E of a share (``measure``
    ``oe_ratio``, null value 1) or the adjusted mean change (``mean``, null value the national
    mean), from :mod:`outcome_analysis.statistics.casemix` (its verdict and interval come from
    :mod:`outcome_analysis.statistics.verdict`, at ``settings.signal_limit``).
``raw_reference``
    The raw figure against all *other* institutions together: the share by the score test (dual to
    the printed Wilson interval), the mean by the printed t interval (``settings.conf``). With a
    published national reference (:func:`reference_rows`, ``build(..., reference=...)``) the share
    is compared with the published figure instead (the reports call it "landelijk").
``raw_previous``
    The change from the previous period of the same length: the difference of the shares with
    Newcombe's hybrid score interval, of the means with the two printed intervals.

Every row carries its ``signal`` (``higher`` | ``lower`` | ``within`` | ``none``), whether that is
good news (``favourable``, by the indicator's direction), the ``level`` of its interval, the
``value`` with ``ci_low`` / ``ci_high``, the ``null_value`` the interval is read against (so that
``signal == "higher"`` exactly when ``ci_low > null_value``), the ``reference_value`` compared with
(1 for an O/E; the others' share; the previous period's figure), for adjusted rows the range chance
and the usual differences between institutions explain (``expected_low`` / ``expected_high``),
and a ``text_key`` that names the words for it (``texts/report.yaml`` ``verdicts``). A raw row of
an indicator that also has an adjusted row says both in its key (``raw_higher_adjusted_within``:
higher than the others, but in line with the case-mix), so the words can lead with the adjusted
verdict. No report, overview, explorer view or question decides a verdict itself: they read
:meth:`Results.comparison <outcome_analysis.running.query.ResultsQuery.comparison>`.

Rows whose figure is hidden by disclosure control have text key ``suppressed``: no number of
them may be printed; an adjusted row keeps its verdict word (indicators.md: "a verdict word may
still be shown"), a raw row has signal ``none``; a reference of fewer than ``settings.min_denominator`` records, or of one other
institution only (a delivery of two), is not given and there is no raw verdict against it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcome_analysis.contract.periods import previous_period
from outcome_analysis.indicators import registry
from outcome_analysis.running.query import window_in_force
from outcome_analysis.settings import Settings

#: the columns of the comparisons table, in order.
COLUMNS = (
    "unit_kind", "unit", "indicator", "care_type", "period", "report_period", "basis", "measure",
    "signal", "favourable", "level", "value", "ci_low", "ci_high", "null_value", "reference_value",
    "expected_low", "expected_high", "n", "text_key",
)
BASES = ("adjusted", "raw_reference", "raw_previous")
KEY = ("unit_kind", "unit", "indicator", "care_type", "period", "basis", "measure")

#: indicator-table categories compared raw: the headline share and the mean change.
_MEAN_CATEGORY = "mean_change:"


def empty() -> pd.DataFrame:
    """The comparisons table without rows (every column present)."""
    return pd.DataFrame({c: pd.Series(dtype=float if c in _FLOAT else object) for c in COLUMNS})


_FLOAT = {"level", "value", "ci_low", "ci_high", "null_value", "reference_value", "expected_low",
          "expected_high", "n"}


def _favourable(indicators: pd.Series, signals: pd.Series) -> list:
    directions = {k: e.direction for k, e in registry.REGISTRY.items()}
    return [registry.favourable(directions.get(i), s) for i, s in zip(indicators, signals)]


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["favourable"] = _favourable(frame["indicator"], frame["signal"])
    for c in COLUMNS:
        if c not in frame:
            frame[c] = np.nan
    return frame[list(COLUMNS)]


#: adjusted rows: where each comparisons column comes from in ``casemix`` (O/E of a share) and in
#: ``casemix_mean`` (adjusted mean change), with the measure and the value the interval is read against.
_ADJUSTED_SOURCES = (
    ("oe_ratio", {"level": "oe_ci_level", "value": "oe_ratio", "ci_low": "oe_ci_low", "ci_high": "oe_ci_high"}, None),
    ("mean", {"level": "ci_level", "value": "adjusted_mean", "ci_low": "ci_low", "ci_high": "ci_high"}, "national_mean"),
)


def adjusted_rows(casemix: pd.DataFrame, casemix_mean: pd.DataFrame) -> pd.DataFrame:
    """The ``adjusted`` rows from the stored case-mix tables (shares and mean change)."""
    parts = []
    for c, (measure, columns, null) in zip((casemix, casemix_mean), _ADJUSTED_SOURCES):
        if not len(c):
            continue
        null_value = 1.0 if null is None else c[null].to_numpy(float)
        parts.append(pd.DataFrame({
            "unit_kind": "institution", "unit": c["institution"].astype(object).to_numpy(),
            "indicator": c["indicator"].to_numpy(object), "care_type": c["care_type"].to_numpy(object),
            "period": c["period"].astype(str).to_numpy(object), "report_period": c["report_period"].astype(str).to_numpy(object),
            "basis": "adjusted", "measure": measure, "signal": c["signal"].astype(str).to_numpy(object),
            **{k: c[v].to_numpy(float) for k, v in columns.items()},
            "null_value": null_value, "reference_value": null_value,
            "expected_low": c["funnel_low"].to_numpy(float), "expected_high": c["funnel_high"].to_numpy(float),
            "n": c["n"].to_numpy(float)}))
    if not parts:
        return empty()
    out = pd.concat(parts, ignore_index=True)
    out["text_key"] = "adjusted_" + out["signal"]
    return out


def _institution_rows(table: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Institution rows of the headline share and the mean change, with a ``measure`` column; for an
    indicator with a follow-up window only the rows of the window in force."""
    keep = (table["scope"] == "institution") & table["category"].isin(["", _MEAN_CATEGORY])
    rows = table.loc[keep.to_numpy(bool)].copy()
    rows["measure"] = np.where(rows["category"] == _MEAN_CATEGORY, "mean", "share")
    kinds = {k: e.kind for k, e in registry.REGISTRY.items()}
    # a context figure is described, not compared (the verloop profile's headline share is compared)
    rows = rows.loc[rows["indicator"].map(kinds).isin(["share", "distribution", "profile"]).to_numpy(bool)
                    | (rows["measure"] == "mean").to_numpy(bool)]
    rows = rows.loc[window_in_force(rows, settings)]
    return rows.reset_index(drop=True)


def raw_reference_rows(table: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The ``raw_reference`` rows: each institution's figure against all other institutions'."""
    from outcome_analysis.statistics import verdict

    rows = _institution_rows(table, settings)
    if rows.empty:
        return empty()
    group = ["indicator", "care_type", "period", "category"]
    rows["n_institutions"] = rows.groupby(group, dropna=False)["institution"].transform("size")
    rows = rows.loc[rows["n_institutions"] >= 2].copy()
    if rows.empty:
        return empty()
    num = rows["numerator"].astype(float)
    den = rows["denominator"].astype(float)
    # the sums over every institution of the figure (numerators; value x n for the mean change)
    totals = (pd.DataFrame({"num": num, "den": den, "val": rows["value"].astype(float) * den})
              .groupby([rows[g] for g in group], dropna=False).transform("sum"))
    total_num, total_den, total_val = totals["num"], totals["den"], totals["val"]
    share = rows["measure"].to_numpy() == "share"
    v = verdict.share_vs_others(rows["value"], rows["ci_low"], rows["ci_high"], num, den, total_num, total_den)
    m = verdict.mean_vs_others(rows["value"], rows["ci_low"], rows["ci_high"], den, total_val / total_den, total_den)
    reference = np.where(share, v["reference_value"], m["reference_value"])
    signal = np.where(share, v["signal"], m["signal"]).astype(object)
    # the others' figure is a reference only when it pools at least two institutions and is not small:
    # a single other institution would be named by it (and "the others together" would be one)
    small_reference = ((total_den - den).to_numpy(float) < settings.min_denominator) | (rows["n_institutions"] < 3).to_numpy()
    reference = np.where(small_reference, np.nan, reference)
    hidden = rows["suppressed"].fillna(False).astype(bool).to_numpy()
    signal[small_reference | hidden] = "none"
    out = pd.DataFrame({
        "unit_kind": "institution", "unit": rows["institution"].astype(object).to_numpy(),
        "indicator": rows["indicator"].to_numpy(object), "care_type": rows["care_type"].to_numpy(object),
        "period": rows["period"].astype(str).to_numpy(object), "report_period": rows["period"].astype(str).to_numpy(object),
        "basis": "raw_reference", "measure": rows["measure"].to_numpy(object), "signal": signal,
        "level": settings.conf, "value": rows["value"].to_numpy(float), "ci_low": rows["ci_low"].to_numpy(float),
        "ci_high": rows["ci_high"].to_numpy(float), "null_value": reference, "reference_value": reference,
        "n": den.to_numpy(float)})
    out["text_key"] = np.where(hidden, "suppressed", "raw_" + out["signal"])
    return out


#: the columns :func:`reference_rows` reads of a published reference.
REFERENCE_COLUMNS = ("indicator", "care_type", "period", "value", "ci_low", "ci_high", "window_months")


def _reference_table(reference) -> pd.DataFrame:
    """The figures of a :class:`~outcome_analysis.indicators.reference.Reference` (or of its
    ``as_rows()`` / ``table`` frame) with :data:`REFERENCE_COLUMNS`."""
    frame = reference.table if hasattr(reference, "table") else pd.DataFrame(reference)
    missing = [c for c in REFERENCE_COLUMNS if c not in frame]
    if missing:
        raise ValueError(f"a reference needs the columns {', '.join(missing)}")
    return frame[list(REFERENCE_COLUMNS)].assign(period=frame["period"].astype(str))


def reference_rows(table: pd.DataFrame, reference, settings: Settings) -> pd.DataFrame:
    """The ``raw_reference`` rows against a published national reference: each institution's share
    against the published share of the same indicator, care type and period.

    The verdict reads the institution's printed interval ``[l1, u1]`` (``settings.conf``) against
    the published value ``p0``, widened by the published figure's own uncertainty when the file
    gives an interval ``[l0, u0]`` (published, or computed from its numerator and denominator):
    ``ci_low = p - sqrt((p - l1)^2 + (u0 - p0)^2)``, ``ci_high = p + sqrt((u1 - p)^2 + (p0 - l0)^2)``
    (the MOVER interval of the difference ``p - p0`` moved onto the share scale; with Wilson
    intervals on both sides it is Newcombe's hybrid score interval, method 10). Without an interval
    ``p0`` is a fixed number and the interval is the printed one: "higher" exactly when the score
    test rejects ``p0`` (the printed Wilson interval lies above it), as :func:`raw_reference_rows`
    reads the others' share. So ``signal == "higher"`` exactly when ``ci_low > null_value``.

    Only headline shares are compared (a mean headline of the registry is a context figure, which
    is described, not compared). An indicator with a follow-up window is compared only with a
    figure that states the window in force (``window_months``): a figure of another window, or of
    an unknown one, is another figure. Published figures are public: none is hidden; a hidden
    institution figure gets signal ``none`` and text key ``suppressed``.

    Parameters
    ----------
    table : DataFrame
        The indicator table (institution rows are used).
    reference : Reference or DataFrame
        :func:`outcome_analysis.indicators.reference.read_reference`'s result, or a frame with
        :data:`REFERENCE_COLUMNS` (shares as fractions; ``ci_low``/``ci_high`` NaN without an interval).
    settings : Settings

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, measure ``share``, ``reference_value`` and ``null_value`` the published value,
        ``level`` ``settings.conf``; no row where the file has no matching figure.
    """
    rows = _institution_rows(table, settings)
    ref = _reference_table(reference)
    if rows.empty or ref.empty:
        return empty()
    rows = rows.loc[(rows["measure"] == "share").to_numpy(bool)].copy()
    months = {k: e.window_months(settings) for k, e in registry.REGISTRY.items()}
    wanted = ref["indicator"].map(months)
    stated = ref["window_months"].astype("Float64")
    windowed = wanted.notna().to_numpy(bool)
    same_window = (stated == wanted.astype("Float64")).fillna(False).to_numpy(bool)
    ref = ref.loc[~windowed | same_window].drop(columns="window_months")
    ref = ref.rename(columns={"value": "ref_value", "ci_low": "ref_low", "ci_high": "ref_high"})
    rows["period"] = rows["period"].astype(str)
    both = rows.merge(ref, on=["indicator", "care_type", "period"], how="inner")
    if both.empty:
        return empty()
    p, low, high = (both[c].to_numpy(float) for c in ("value", "ci_low", "ci_high"))
    p0, low0, high0 = (both[c].to_numpy(float) for c in ("ref_value", "ref_low", "ref_high"))
    has_interval = np.isfinite(low0) & np.isfinite(high0)
    widen_low = np.where(has_interval, high0 - p0, 0.0)
    widen_high = np.where(has_interval, p0 - low0, 0.0)
    ci_low = p - np.hypot(p - low, widen_low)
    ci_high = p + np.hypot(high - p, widen_high)
    from outcome_analysis.statistics import verdict

    signal = verdict.read(ci_low, ci_high, p0).astype(object)
    hidden = both["suppressed"].fillna(False).astype(bool).to_numpy()
    signal[hidden] = "none"
    out = pd.DataFrame({
        "unit_kind": "institution", "unit": both["institution"].astype(object).to_numpy(),
        "indicator": both["indicator"].to_numpy(object), "care_type": both["care_type"].to_numpy(object),
        "period": both["period"].to_numpy(object), "report_period": both["period"].to_numpy(object),
        "basis": "raw_reference", "measure": "share", "signal": signal, "level": settings.conf,
        "value": p, "ci_low": ci_low, "ci_high": ci_high, "null_value": p0, "reference_value": p0,
        "n": both["denominator"].to_numpy(float)})
    out["text_key"] = np.where(hidden, "suppressed", "raw_" + out["signal"])
    return out


def raw_previous_rows(table: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The ``raw_previous`` rows: each institution's figure against its own in the previous period."""
    from outcome_analysis.statistics import verdict

    rows = _institution_rows(table, settings)
    if rows.empty:
        return empty()
    rows["previous"] = [previous_period(str(p)) for p in rows["period"]]
    key = ["indicator", "care_type", "category", "institution"]
    prev = rows[key + ["period", "numerator", "denominator", "value", "ci_low", "ci_high", "suppressed"]].rename(
        columns={"period": "previous", **{c: f"prev_{c}" for c in ("numerator", "denominator", "value", "ci_low",
                                                                    "ci_high", "suppressed")}})
    both = rows.merge(prev, on=key + ["previous"], how="inner")
    if both.empty:
        return empty()
    share = both["measure"].to_numpy() == "share"
    only_shares = lambda col: both[col].where(share)  # noqa: E731  (a mean row's numerator is a sum of changes)
    s = verdict.share_change(only_shares("numerator"), both["denominator"], only_shares("prev_numerator"),
                             both["prev_denominator"], settings.conf)
    m = verdict.mean_change(both["value"], both["ci_low"], both["ci_high"], both["prev_value"],
                            both["prev_ci_low"], both["prev_ci_high"], settings.conf)
    pick = lambda k: np.where(share, s[k], m[k])  # noqa: E731
    signal = pick("signal").astype(object)
    hidden = (both["suppressed"].fillna(False).astype(bool) | both["prev_suppressed"].fillna(False).astype(bool)).to_numpy()
    signal[hidden] = "none"
    out = pd.DataFrame({
        "unit_kind": "institution", "unit": both["institution"].astype(object).to_numpy(),
        "indicator": both["indicator"].to_numpy(object), "care_type": both["care_type"].to_numpy(object),
        "period": both["period"].astype(str).to_numpy(object), "report_period": both["period"].astype(str).to_numpy(object),
        "basis": "raw_previous", "measure": np.where(share, "share_difference", "mean_difference").astype(object),
        "signal": signal, "level": settings.conf, "value": pick("value"), "ci_low": pick("ci_low"),
        "ci_high": pick("ci_high"), "null_value": 0.0, "reference_value": both["prev_value"].to_numpy(float),
        "n": both["denominator"].to_numpy(float)})
    out["text_key"] = np.where(hidden, "suppressed", "previous_" + out["signal"])
    return out


def _combine_keys(raw: pd.DataFrame, adjusted: pd.DataFrame, casemix: pd.DataFrame) -> pd.DataFrame:
    """A raw row of a figure that also has an adjusted verdict names both in its text key.

    A raw gap with an adjusted verdict ``within`` is said to fit the case-mix (``..._adjusted_within``)
    only when the model's expected share ``E / n`` lies on the same side of the others' share as the
    raw figure and covers at least half of the gap; otherwise the case-mix explains little of it and
    the key is ``..._adjusted_within_chance`` (the difference is within what chance and the usual
    differences between institutions explain).
    """
    if raw.empty or adjusted.empty:
        return raw
    adj = adjusted.loc[adjusted["measure"] == "oe_ratio"]
    lookup = {(u, i, c, p): s for u, i, c, p, s in zip(adj["unit"], adj["indicator"], adj["care_type"],
                                                     adj["period"], adj["signal"])}
    expected = {}
    if len(casemix):
        with np.errstate(invalid="ignore", divide="ignore"):
            share = casemix["expected"].to_numpy(float) / casemix["n"].to_numpy(float)
        expected = {(u, i, c, str(p)): e for u, i, c, p, e in zip(casemix["institution"], casemix["indicator"],
                                                                  casemix["care_type"], casemix["period"], share)}
    keys = []
    for u, i, c, p, m, k, v, r in zip(raw["unit"], raw["indicator"], raw["care_type"], raw["period"], raw["measure"],
                                      raw["text_key"], raw["value"], raw["reference_value"]):
        s = lookup.get((u, i, c, p)) if m == "share" else None
        if s not in ("higher", "lower", "within") or k == "suppressed":
            keys.append(k)
            continue
        key = f"{k}_adjusted_{s}"
        if s == "within" and k in ("raw_higher", "raw_lower"):
            e = expected.get((u, i, c, p), np.nan)
            gap, explained = v - r, e - r
            if not (np.isfinite(explained) and gap * explained > 0 and abs(explained) >= 0.5 * abs(gap)):
                key += "_chance"
        keys.append(key)
    raw = raw.copy()
    raw["text_key"] = keys
    return raw


def build(table: pd.DataFrame, casemix: pd.DataFrame, casemix_mean: pd.DataFrame,
          settings: Settings, reference=None) -> pd.DataFrame:
    """The comparisons table of a results store.

    Parameters
    ----------
    table : DataFrame
        The indicator table (``indicators.compute``): institution and national rows, every period.
    casemix, casemix_mean : DataFrame
        The stored case-mix tables (with ``indicator`` and ``report_period``).
    settings : Settings
        ``conf`` (raw intervals), ``min_denominator`` (smallest reference given) and the windows in
        force.
    reference : Reference or DataFrame, optional
        A published national reference (:func:`reference_rows`): the ``raw_reference`` rows are then
        against its figures, and only where it has one (the reports call it "landelijk"; a figure
        without a published counterpart has no raw verdict rather than one against another
        comparator under the same name). Default: against all other institutions together.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`; one row per :data:`KEY`. Adjusted rows whose raw figure is hidden get text
        key ``suppressed`` (their verdict word stays; no number of them is printed).
    """
    adjusted = adjusted_rows(casemix, casemix_mean)
    reference = raw_reference_rows(table, settings) if reference is None else reference_rows(table, reference, settings)
    previous = raw_previous_rows(table, settings)
    if len(adjusted) and len(table):
        head = _institution_rows(table, settings)  # the rows of the window in force only
        hidden = {(u, i, c, str(p), "mean" if cat == _MEAN_CATEGORY else "oe_ratio")
                  for u, i, c, p, cat, s in zip(head["institution"], head["indicator"], head["care_type"],
                                                head["period"], head["category"], head["suppressed"]) if s is True or s == 1}
        mask = np.array([(u, i, c, p, m) in hidden for u, i, c, p, m in zip(
            adjusted["unit"], adjusted["indicator"], adjusted["care_type"], adjusted["period"], adjusted["measure"])],
            dtype=bool)
        adjusted = adjusted.copy()
        # a hidden figure keeps its adjusted verdict word (indicators.md: "a verdict word may still be
        # shown"); its text key says that no number of it may be printed
        adjusted.loc[mask, "text_key"] = "suppressed"
    reference = _combine_keys(reference, adjusted, casemix)
    parts = [p for p in (adjusted, reference, previous) if len(p)]
    if not parts:
        return empty()
    out = pd.concat([_finish(p) for p in parts], ignore_index=True)
    return out.sort_values(list(KEY), kind="stable", ignore_index=True)


def reference_meta(reference) -> dict:
    """What a results store keeps of a published reference (``meta["reference"]``), plain JSON:
    ``file`` (its name), ``sources`` (the distinct sources, in file order) and ``figures`` (one dict
    per figure: ``indicator``, ``period``, ``care_type``, ``value``, ``ci_low``, ``ci_high``,
    ``window_months``, ``source``, ``interval``; ``None`` where the file gives nothing)."""
    t = reference.table
    figures = []
    for row in t.to_dict("records"):
        figure = {k: row[k] for k in ("indicator", "period", "care_type", "source", "interval")}
        for k in ("value", "ci_low", "ci_high"):
            figure[k] = None if pd.isna(row[k]) else float(row[k])
        figure["window_months"] = None if pd.isna(row["window_months"]) else int(row["window_months"])
        figures.append(figure)
    return {"file": str(reference.file), "sources": list(reference.sources()), "figures": figures}


def with_reference(results, reference):
    """``results`` (a :class:`~outcome_analysis.running.results.Results`) compared with a published
    national reference: a copy whose comparisons table has its ``raw_reference`` rows against the
    reference (:func:`build` with ``reference``) and whose ``meta["reference"]`` holds it
    (:func:`reference_meta`), so that a report can name it and its source. The figures and the
    case-mix tables are unchanged: a published figure supplies no case-mix model, and a delivery of
    one institution has none (the report says so).

    ``reference``: a :class:`~outcome_analysis.indicators.reference.Reference`; ``None`` returns
    ``results`` as it is.
    """
    import dataclasses

    if reference is None:
        return results
    settings = results.settings
    table = build(results.indicators, results.casemix, results.casemix_mean, settings, reference=reference)
    return dataclasses.replace(results, comparisons=table, meta={**results.meta, "reference": reference_meta(reference)})
