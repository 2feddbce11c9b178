"""The course of each verbeteractie, computed once in the batch with the data in memory.

An *action* (a row of the contract's ``actions`` table, :func:`outcome_analysis.contract.actions.read_actions`)
says that an institution agreed, on ``agreed_on``, to improve one indicator. :func:`action_course`
judges, for every action agreed before the end of a report period, whether the indicator changed:

- **before/after**: the institution's trajectories (counting units) that ended in the 12 months before
  ``agreed_on`` against those that ended from ``agreed_on`` + ``settings.action_lag_months`` to the end of
  the report period (:func:`outcome_analysis.statistics.control.before_after`): the ratio of O/E after to
  O/E before where a case-mix model can be fitted (expected events per unit from one logistic model of
  every institution's units in both windows, :func:`expected_per_unit`), otherwise Newcombe's interval for
  the difference of the shares. "Te vroeg" (``judgement`` ``too_early``) for an action agreed within the
  report period or whose after-window is shorter than :data:`MIN_AFTER_MONTHS`;
- **p-chart** points per quarter (per half-year when the disclosure rule hides a quarter) with the limits
  of the before-window's share (:func:`outcome_analysis.statistics.control.p_chart`); a point the rule
  hides is kept without a value;
- **VLAD** (cumulative E - O in end-date order, :func:`outcome_analysis.statistics.control.vlad`) read at
  each month end, where a model exists; a month before the cumulative count reaches
  ``settings.min_denominator`` is left out.

The three tables (:data:`COURSE_COLUMNS`, :data:`POINT_COLUMNS`, :data:`VLAD_COLUMNS`) are optional tables of
the results store (:data:`outcome_analysis.running.results.OPTIONAL_TABLES`): aggregates only, never a row
per trajectory.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcome_analysis.contract.periods import parse_period
from outcome_analysis.indicators import registry
from outcome_analysis.settings import DEFAULT, Settings

#: months of the before-window (the trajectories ended in the year before the agreement).
BEFORE_MONTHS = 12
#: an after-window shorter than this many months is too early to judge.
MIN_AFTER_MONTHS = 6

#: one row per action and report period: what the section prints. ``judgement``: ``judged`` (the
#: before/after verdict is in ``change``: ``lower`` | ``higher`` | ``no_change``), ``too_early``
#: (``reason``: ``in_period`` agreed within the report period, ``short_after`` the after-window is
#: shorter than :data:`MIN_AFTER_MONTHS`, ``few_expected`` too few expected events after), ``no_data``
#: (no units in a window, or the indicator is not a share: ``reason`` ``none_before`` / ``none_after`` /
#: ``not_share`` / ``not_offered``). ``p_before`` / ``p_after`` are NaN where the disclosure rule hides them
#: (``hidden_before`` / ``hidden_after``).
COURSE_COLUMNS = (
    "action", "report_period", "institution", "indicator", "agreed_on", "description", "owner", "status",
    "review_on", "before_start", "before_end", "after_start", "after_end", "after_months",
    "n_before", "n_after", "p_before", "p_after", "hidden_before", "hidden_after",
    "oe_before", "oe_after", "method", "estimate", "ci_low", "ci_high", "change", "judgement", "reason",
    "model",
)
#: the p-chart: one row per action, report period and quarter (or half-year). ``p``, ``lcl``,
#: ``ucl``, ``outside`` and ``n`` are empty where ``hidden``.
POINT_COLUMNS = ("action", "report_period", "institution", "indicator", "unit", "label", "start", "end",
                 "n", "p", "centre", "lcl", "ucl", "outside", "hidden")
#: the VLAD read at month ends: one row per action, report period and month.
VLAD_COLUMNS = ("action", "report_period", "institution", "indicator", "month_end", "vlad", "n")

TABLES = {"action_course": COURSE_COLUMNS, "action_points": POINT_COLUMNS, "action_vlad": VLAD_COLUMNS}


def empty(name: str) -> pd.DataFrame:
    """An empty table of ``name`` (``action_course``, ``action_points``, ``action_vlad``) with its columns."""
    return pd.DataFrame(columns=list(TABLES[name]))


def action_course(data, results_or_models, actions: pd.DataFrame, settings: Settings | None = None,
                  period: str | Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """The before/after judgement, p-chart points and VLAD of every action, per report period.

    Parameters
    ----------
    data : Dataset
        The delivery (in memory: the units are built here and never leave this function).
    results_or_models : Results or None
        The results store of the same data; its report periods are the default ``period``. Not
        otherwise read: the expected events come from a model fitted here over the two windows.
    actions : DataFrame
        :func:`outcome_analysis.contract.actions.read_actions` output (``institution``, ``indicator``,
        ``agreed_on``, ``description``, ``owner``, ``status``, ``review_on``).
    settings : Settings, optional
        ``action_lag_months``, ``min_denominator``, ``min_cell``, ``min_expected``, ``conf``, ``covariates``.
    period : str or list of str, optional
        Report period(s) (``"2024"``, ``"2024H1"``); default the store's ``meta["periods"]``.

    Returns
    -------
    dict
        ``{"action_course": DataFrame, "action_points": DataFrame, "action_vlad": DataFrame}`` with
        :data:`COURSE_COLUMNS`, :data:`POINT_COLUMNS`, :data:`VLAD_COLUMNS`; ``action`` is the action's
        position in ``actions``. Actions agreed after the end of a report period are left out of it.
    """
    from outcome_analysis.statistics import control

    settings = settings or DEFAULT
    if period is None:
        periods = list((getattr(results_or_models, "meta", None) or {}).get("periods") or [])
    else:
        periods = [period] if isinstance(period, str) else list(period)
    out = {name: [] for name in TABLES}
    if actions is None or not len(actions) or not periods:
        return {name: empty(name) for name in TABLES}
    acts = actions.reset_index(drop=True)
    unit_cache: dict[str, pd.DataFrame | None] = {}
    for report_period in periods:
        start_p, end_p, _ = parse_period(str(report_period))
        for i, a in acts.iterrows():
            agreed = pd.Timestamp(a["agreed_on"]) if pd.notna(a["agreed_on"]) else None
            if agreed is None or agreed > end_p:
                continue
            indicator = str(a["indicator"])
            if indicator not in unit_cache:
                unit_cache[indicator] = _units(data, indicator, settings)
            units = unit_cache[indicator]
            row, points, vlad = _one(control, i, a, str(report_period), start_p, end_p, agreed, units, settings)
            out["action_course"].append(row)
            out["action_points"] += points
            out["action_vlad"] += vlad
    tables = {name: pd.DataFrame(rows, columns=list(TABLES[name])) if rows else empty(name)
              for name, rows in out.items()}
    for name, columns in _DATES.items():
        for col in columns:
            tables[name][col] = pd.to_datetime(tables[name][col])
    return tables


#: the date columns of each table (datetime64, NaT when empty).
_DATES = {"action_course": ("agreed_on", "review_on", "before_start", "before_end", "after_start", "after_end"),
          "action_points": ("start", "end"), "action_vlad": ("month_end",)}


def _units(data, indicator: str, settings: Settings) -> pd.DataFrame | None:
    """The headline units of a share indicator (``institution``, ``care_type``, ``end``, ``outcome`` and
    the covariates), every institution; ``None`` for an indicator that is not a share."""
    from outcome_analysis import indicators

    entry = registry.get(indicator)
    if entry.kind != "share" or (entry.headline or "share") != "share":
        return None
    recs = indicators.records(data, indicator, granularity="year", settings=settings)
    keep = recs["outcome"].notna() & (recs["category"].astype(str) == "")
    if "excluded_window" in recs:
        keep &= ~recs["excluded_window"].fillna(False).astype(bool)
    recs = recs.loc[keep].copy()
    recs["end"] = pd.to_datetime(recs["anchor_date"]).dt.normalize()
    recs = recs.loc[recs["end"].notna()]
    return recs.reset_index(drop=True)


def expected_per_unit(units: pd.DataFrame, settings: Settings, min_records: int = 50,
                      min_events: int = 5) -> np.ndarray | None:
    """Expected probability of the outcome per unit from one logistic case-mix model of ``units``
    (every institution; the covariates of ``settings.covariates`` present in the frame, and the care
    type when there are several), fitted as the results store's models are
    (:func:`outcome_analysis.statistics.casemix_model.fit_logistic`; a level where every unit has the
    same outcome gets E = O). ``None`` when there are too few units or events for a model, or when the
    units come from one institution only (nothing to model the case mix against).

    Shapes: ``units`` has ``n`` rows with ``outcome`` 0/1; returns an array of ``n`` floats in [0, 1].
    """
    from outcome_analysis.statistics.casemix_model import Design, fit_beside_constant_levels

    y = units["outcome"].to_numpy(dtype=float)
    n, events = len(y), float(y.sum()) if len(y) else 0.0
    if n < min_records or min(events, n - events) < min_events or units["institution"].nunique() < 2:
        return None
    covariates = tuple(c for c in settings.covariates if c in units.columns)
    if units["care_type"].nunique() > 1:
        covariates = (*covariates, "care_type")
    try:
        p, _, _, _, fit = fit_beside_constant_levels(Design(units, covariates), units, covariates, y)
        if fit is None:
            return None
    except Exception:  # a model that cannot be fitted: the judgement goes without one
        return None
    return np.clip(p, 0.0, 1.0)


def _months_between(a: pd.Timestamp, b: pd.Timestamp) -> float:
    """Whole and partial months from ``a`` to ``b`` (the day after ``b``: an inclusive end)."""
    return max(0.0, ((b + pd.Timedelta(days=1)) - a).days / (365.25 / 12))


def _hidden(events: float, n: float, settings: Settings) -> bool:
    """The disclosure rule for one share: too few units, or too few events or non-events."""
    return n < settings.min_denominator or min(events, n - events) < settings.min_cell


def _one(control, i: int, a, report_period: str, start_p, end_p, agreed, units, settings: Settings):
    lag = int(settings.action_lag_months)
    before_start = agreed - pd.DateOffset(months=BEFORE_MONTHS)
    before_end = agreed - pd.Timedelta(days=1)
    after_start = agreed + pd.DateOffset(months=lag)
    if units is not None and len(units):
        # an indicator with a follow-up window counts only the units whose window has passed: the
        # after-window (and the charts) end where the latest such unit of any institution ended
        end_p = min(end_p, pd.Timestamp(units["end"].max()))
    after_months = _months_between(after_start, end_p) if after_start <= end_p else 0.0
    row = {
        "action": i, "report_period": report_period, "institution": str(a["institution"]),
        "indicator": str(a["indicator"]), "agreed_on": agreed, "description": _text(a.get("description")),
        "owner": _text(a.get("owner")), "status": _text(a.get("status")), "review_on": a.get("review_on"),
        "before_start": before_start, "before_end": before_end, "after_start": after_start, "after_end": end_p,
        "after_months": round(after_months, 1), "n_before": np.nan, "n_after": np.nan, "p_before": np.nan,
        "p_after": np.nan, "hidden_before": False, "hidden_after": False, "oe_before": np.nan,
        "oe_after": np.nan, "method": "", "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan,
        "change": "", "judgement": "no_data", "reason": "", "model": False,
    }
    if units is None:
        row["reason"] = "not_share"
        return row, [], []
    mine_all = units.loc[units["institution"].astype(str) == row["institution"]]
    if mine_all.empty:
        row["reason"] = "not_offered"
        return row, [], []
    # one model over both windows, every institution: the case mix of before and after on one scale
    span = units.loc[(units["end"] >= before_start) & (units["end"] <= end_p)].reset_index(drop=True)
    expected = expected_per_unit(span, settings)
    row["model"] = expected is not None
    span = span.assign(expected=expected if expected is not None else np.nan)
    mine = span.loc[span["institution"].astype(str) == row["institution"]].sort_values("end", kind="stable")
    before = mine.loc[mine["end"] <= before_end]
    after = mine.loc[mine["end"] >= after_start]
    sides = {}
    for side, part in (("before", before), ("after", after)):
        n, o = float(len(part)), float(part["outcome"].sum())
        hidden = _hidden(o, n, settings)
        row[f"n_{side}"] = n
        row[f"hidden_{side}"] = hidden
        row[f"p_{side}"] = np.nan if hidden or n == 0 else o / n
        e = float(part["expected"].sum()) if expected is not None else np.nan
        row[f"oe_{side}"] = o / e if expected is not None and e > 0 and not hidden else np.nan
        sides[side] = {"events": o, "n": n, **({"expected": e} if expected is not None else {})}
    baseline = float(before["outcome"].mean()) if len(before) else None
    points = _points(control, i, row, mine, baseline, start_p, end_p, before_start, settings)
    vlad = _vlad(control, i, row, mine, before_start, end_p, settings) if expected is not None else []
    if agreed >= start_p:
        row.update(judgement="too_early", reason="in_period")
    elif after_months < MIN_AFTER_MONTHS:
        row.update(judgement="too_early", reason="short_after")
    elif not len(before) or not len(after):
        row.update(reason="none_before" if not len(before) else "none_after")
    else:
        judged = control.before_after(sides["before"], sides["after"], conf=settings.conf,
                                      min_expected=settings.min_expected)
        row["method"] = str(judged.get("method", ""))
        row["estimate"] = _estimate(judged)
        row["ci_low"], row["ci_high"] = float(judged.get("ci_low", np.nan)), float(judged.get("ci_high", np.nan))
        change = str(judged.get("change", ""))
        if change == "too_early":
            row.update(judgement="too_early", reason="few_expected")
        else:
            row.update(judgement="judged", change=change)
        if row["hidden_before"] or row["hidden_after"]:  # a verdict on a hidden share is not printed with numbers
            row["estimate"] = row["ci_low"] = row["ci_high"] = np.nan
    return row, points, vlad


def _estimate(judged: dict) -> float:
    """The point estimate of a :func:`~outcome_analysis.statistics.control.before_after` answer: the O/E
    ratio or the difference of the shares."""
    for key in ("estimate", "ratio", "oe_ratio", "difference", "diff"):
        if key in judged and judged[key] is not None:
            return float(judged[key])
    return float("nan")


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _bins(unit: str, first: pd.Timestamp, last: pd.Timestamp) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """Quarters (``unit="quarter"``) or half-years from the one holding ``first`` to the one holding ``last``."""
    step = 3 if unit == "quarter" else 6
    start = pd.Timestamp(first.year, ((first.month - 1) // step) * step + 1, 1)
    out = []
    while start <= last:
        end = start + pd.DateOffset(months=step) - pd.Timedelta(days=1)
        k = (start.month - 1) // step + 1
        out.append((f"{start.year}{'Q' if unit == 'quarter' else 'H'}{k}", start, end))
        start = start + pd.DateOffset(months=step)
    return out


def _points(control, i, row, mine, baseline, start_p, end_p, before_start, settings) -> list[dict]:
    """The p-chart per quarter from the start of the before-window to the end of the report period;
    per half-year when the rule hides any quarter; a hidden point keeps no value."""
    if mine.empty:
        return []
    end = mine["end"]
    for unit in ("quarter", "half_year"):
        bins = _bins(unit, before_start, end_p)
        counts = [(label, s, e, float(((end >= s) & (end <= e)).sum()),
                   float(mine.loc[(end >= s) & (end <= e), "outcome"].sum())) for label, s, e in bins]
        hidden = [n > 0 and _hidden(x, n, settings) for _, _, _, n, x in counts]
        if not any(hidden):
            break
    keep = [(c, h) for c, h in zip(counts, hidden) if c[3] > 0]
    if not keep:
        return []
    x = np.array([c[4] for c, _ in keep])
    n = np.array([c[3] for c, _ in keep])
    chart = control.p_chart(x, n, baseline=baseline if baseline is not None and not row["hidden_before"] else None)
    rows = []
    for (c, h), (_, r) in zip(keep, chart.iterrows()):
        label, s, e, nn, _ = c
        rows.append({
            "action": i, "report_period": row["report_period"], "institution": row["institution"],
            "indicator": row["indicator"], "unit": unit, "label": label, "start": s, "end": e,
            "n": np.nan if h else nn, "p": np.nan if h else float(r["p"]), "centre": float(r["centre"]),
            "lcl": np.nan if h else float(r["lcl"]), "ucl": np.nan if h else float(r["ucl"]),
            "outside": False if h else bool(r["outside"]), "hidden": bool(h),
        })
    if row["hidden_before"]:  # the centre line and the limits would give the hidden before-share away
        for r in rows:
            r.update(centre=np.nan, lcl=np.nan, ucl=np.nan, outside=False)
    return rows


def _vlad(control, i, row, mine, before_start, end_p, settings) -> list[dict]:
    """The VLAD (cumulative E - O, units in end-date order) read at month ends from the start of the
    before-window to the end of the report period. A month end is kept only when the units that ended
    since the last kept one hold at least ``min_cell`` events and ``min_cell`` non-events (and the first
    one at least ``min_denominator`` units): each step of the curve is then a sum the two-cell rule would
    show, so no step gives away the outcome of a few trajectories."""
    if mine.empty or mine["expected"].isna().all():
        return []
    y = mine["outcome"].to_numpy(float)
    curve = np.asarray(control.vlad(y, mine["expected"].to_numpy(float)), dtype=float)
    events = np.concatenate([[0.0], np.cumsum(y)])
    ends = mine["end"].to_numpy()
    rows, last = [], 0
    month = pd.Timestamp(before_start.year, before_start.month, 1) + pd.offsets.MonthEnd(0)
    while month <= end_p + pd.offsets.MonthEnd(0):
        k = int(np.searchsorted(ends, np.datetime64(month), side="right"))
        new_events = events[k] - events[last]
        if k >= settings.min_denominator and min(new_events, (k - last) - new_events) >= settings.min_cell:
            rows.append({"action": i, "report_period": row["report_period"], "institution": row["institution"],
                         "indicator": row["indicator"], "month_end": month, "vlad": float(curve[k - 1]), "n": k})
            last = k
        month = (month + pd.Timedelta(days=1)) + pd.offsets.MonthEnd(0)
    return rows


def dialogue_indicators(results, institution: str, period: str, lang: str = "nl") -> list[str]:
    """The registry ids the conversation page of ``institution``'s report asks about, in its order
    (:func:`outcome_analysis.presentation.sections.institution.conversation.choose_questions`), then the
    indicators of its actions in the store; what the dialogue record is pre-filled with. Empty for an
    institution without a report."""
    from outcome_analysis.presentation.sections.institution import conversation
    from outcome_analysis.presentation.story import prepare

    story = prepare(results, institution, period, lang)
    ids: list[str] = []
    if story.ok:
        for key, _, _ in conversation.choose_questions(story, *conversation.points(story)):
            if key in registry.REGISTRY and registry.get(key).kind != "context":
                ids.append(key)
    course = getattr(results, "action_course", None)
    if course is not None and len(course):
        mine = course.loc[(course["institution"].astype(str) == institution)
                          & (course["report_period"].astype(str) == str(period))]
        ids += [str(i) for i in mine["indicator"] if str(i) in registry.REGISTRY]
    return list(dict.fromkeys(ids))


def attach(results, tables: dict[str, pd.DataFrame]):
    """``results`` with the action tables set (a new :class:`~outcome_analysis.running.results.Results`)."""
    import dataclasses

    return dataclasses.replace(results, **{k: v for k, v in tables.items() if k in TABLES})
