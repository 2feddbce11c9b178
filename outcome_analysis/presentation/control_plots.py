"""Control charts of a verbeteractie: a p-chart with the date of the agreement marked, and a VLAD.

Both take the stored, aggregated points of one action (:data:`outcome_analysis.running.actions.POINT_COLUMNS`,
:data:`~outcome_analysis.running.actions.VLAD_COLUMNS`) and draw them in the style of
:mod:`outcome_analysis.presentation.plots` (Okabe–Ito colours, markers and line styles that carry the
meaning without colour, ``gid`` on every artist for tests). A point the disclosure rule hides (``hidden``)
is never drawn: its position stays empty and its label gets ``*``. Each returns the figure's text
alternative as well, with every number printed through the formatters of
:mod:`outcome_analysis.presentation.report` (recorded in the leak-audit ledger).

References: Montgomery DC, *Introduction to Statistical Quality Control* (p-chart); Lovegrove J et al.
(1997), *Lancet* 350:1128-1130 (VLAD).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcome_analysis import texts
from .ledger import unrecorded
from .plots import FONT_MIN, GREY, HIGHLIGHT, MAIN, NATIONAL, _pct_axis, _style, legend_below
from .report import fmt_date, fmt_number, fmt_pct

#: the size of a chart alone (inches): the text width, a quarter of a page high.
SIZE = (6.5, 2.2)
#: the size of the p-chart and the VLAD side by side (:func:`action_figure`).
PAIR_SIZE = (6.8, 2.3)


def words(lang: str = "nl") -> dict:
    """The texts of ``data/texts/actions.yaml`` in ``lang``."""
    return texts.for_lang("actions", lang)


def _agreed_x(points: pd.DataFrame, agreed) -> float:
    """The x position (point index, fractional within its period) of the agreement date."""
    agreed = pd.Timestamp(agreed)
    starts = pd.to_datetime(points["start"]).to_list()
    ends = pd.to_datetime(points["end"]).to_list()
    for i, (s, e) in enumerate(zip(starts, ends)):
        if s <= agreed <= e:
            return i - 0.5 + (agreed - s).days / max((e - s).days + 1, 1)
    return -0.5 if agreed < starts[0] else len(starts) - 0.5


def action_figure(points: pd.DataFrame | None, vlad: pd.DataFrame | None, *, agreed_on, label: str,
                  lang: str = "nl"):
    """The charts of one action in one figure: the p-chart (:func:`p_chart_figure`) and, when ``vlad``
    has at least two months, the VLAD (:func:`vlad_figure`) beside it; either may be absent (``None`` or
    empty). Returns ``(Figure, alt text)`` or ``(None, "")`` when there is nothing to draw."""
    from outcome_analysis.presentation.story import new_figure

    parts = [k for k, frame, least in (("p", points, 1), ("vlad", vlad, 2))
             if frame is not None and len(frame) >= least]
    if not parts:
        return None, ""
    fig, axes = new_figure(*(PAIR_SIZE if len(parts) == 2 else SIZE), ncols=len(parts))
    axes = list(np.atleast_1d(axes))
    alts = []
    for kind, ax in zip(parts, axes):
        if kind == "p":
            alts.append(p_chart_figure(points, agreed_on=agreed_on, label=label, lang=lang, ax=ax)[1])
        else:
            alts.append(vlad_figure(vlad, agreed_on=agreed_on, label=label, lang=lang, ax=ax)[1])
    return fig, " ".join(alts)


def p_chart_figure(points: pd.DataFrame, *, agreed_on, label: str, lang: str = "nl", ax=None):
    """A p-chart of one action: the share per quarter (or half-year), the centre line (the share of the
    12 months before the agreement), the control limits as steps, points outside them marked, the
    agreement as a vertical line.

    Parameters
    ----------
    points : DataFrame
        The action's rows of ``action_points`` (``label``, ``start``, ``end``, ``p``, ``centre``, ``lcl``,
        ``ucl``, ``outside``, ``hidden``, ``unit``), in time order.
    agreed_on : date
    label : str
        The indicator's name.
    lang : {"nl", "en"}
    ax : Axes, optional
        Draw here (default a new figure of :data:`SIZE`).

    Returns
    -------
    (Figure, str)
        The figure (never registered with pyplot) and its text alternative.
    """
    from outcome_analysis.presentation.story import new_figure

    w = words(lang)
    pts = points.reset_index(drop=True)
    hidden = pts["hidden"].fillna(False).astype(bool).to_numpy()
    p = pd.to_numeric(pts["p"], errors="coerce").where(~hidden).to_numpy(float)
    centre = pd.to_numeric(pts["centre"], errors="coerce").to_numpy(float)
    lcl = pd.to_numeric(pts["lcl"], errors="coerce").where(~hidden).to_numpy(float)
    ucl = pd.to_numeric(pts["ucl"], errors="coerce").where(~hidden).to_numpy(float)
    outside = pts["outside"].fillna(False).astype(bool).to_numpy() & ~hidden
    xs = np.arange(len(pts))
    unit = str(pts["unit"].iloc[0]) if len(pts) else "quarter"
    with _style():
        fig, ax = new_figure(*SIZE) if ax is None else (ax.figure, ax)
        if np.isfinite(centre).any():
            (c,) = ax.plot(xs, centre, color=NATIONAL, ls="--", lw=1.3, label=w["legend"]["centre"])
            c.set_gid("centre")
        if np.isfinite(ucl).any():
            (u,) = ax.step(xs, ucl, where="mid", color=GREY, ls=":", lw=1.2, label=w["legend"]["limits"])
            u.set_gid("limit")
            (lo,) = ax.step(xs, lcl, where="mid", color=GREY, ls=":", lw=1.2)
            lo.set_gid("limit")
        (line,) = ax.plot(xs, p, color=MAIN, marker="o", ms=4.5, lw=1.6, label=w["legend"]["share"])
        line.set_gid("share")
        if outside.any():
            (o,) = ax.plot(xs[outside], p[outside], ls="none", marker="D", ms=7, mfc="none", mec=HIGHLIGHT, mew=1.6,
                           label=w["legend"]["outside"])
            o.set_gid("outside")
        if len(pts):
            a = ax.axvline(_agreed_x(pts, agreed_on), color=HIGHLIGHT, lw=1.4, ls="-.", label=w["legend"]["agreed"])
            a.set_gid("agreed")
        ax.set_xticks(xs)
        narrow = ax.get_position().width < 0.6  # beside the VLAD: short labels ("23Q1"), a short legend
        ticks = [(str(t)[2:] if narrow else str(t)) + ("*" if h else "") for t, h in zip(pts["label"], hidden)]
        crowded = len(ticks) > (6 if not narrow else 4)
        ax.set_xticklabels(ticks, rotation=45 if crowded else 0, ha="right" if crowded else "center",
                           rotation_mode="anchor")
        _pct_axis(ax.yaxis, lang)
        top = np.nanmax(np.concatenate([p, ucl, centre])) if np.isfinite(np.concatenate([p, ucl, centre])).any() else 1.0
        ax.set_ylim(0, min(1.0, max(0.05, top * 1.15)))
        # beside the VLAD the indicator is the section's heading: "Per halfjaar" (a long name ran into
        # the VLAD's title)
        title = w["pchart_title_short"] if narrow else w["pchart_title"]
        ax.set_title(title.format(label=label, unit=w["units"].get(unit, unit)), loc="left")
        if not narrow:  # beside the VLAD the note under the figure names the lines (their styles differ)
            legend_below(ax, ncols=3)
    shown = [(t, v) for t, v, h in zip(pts["label"], p, hidden) if not h and np.isfinite(v)]
    alt = w["alt_pchart"].format(
        label=label, unit=w["units"].get(unit, unit),
        first=str(pts["label"].iloc[0]) if len(pts) else "", last=str(pts["label"].iloc[-1]) if len(pts) else "",
        points="; ".join(w["alt_point"].format(label=t, value=fmt_pct(v, 0, lang)) for t, v in shown) or "-",
        date=fmt_date(agreed_on, lang))
    return fig, alt


def vlad_figure(vlad: pd.DataFrame, *, agreed_on, label: str, lang: str = "nl", ax=None):
    """The VLAD of one action read at month ends (cumulative expected minus observed events), a zero
    line and the agreement as a vertical line.

    Parameters
    ----------
    vlad : DataFrame
        The action's rows of ``action_vlad`` (``month_end``, ``vlad``), in time order.
    agreed_on, label, lang, ax
        As :func:`p_chart_figure`.

    Returns
    -------
    (Figure, str)
        The figure and its text alternative.
    """
    from outcome_analysis.presentation.story import new_figure

    w = words(lang)
    v = vlad.reset_index(drop=True)
    xs = pd.to_datetime(v["month_end"])
    ys = pd.to_numeric(v["vlad"], errors="coerce").to_numpy(float)
    with _style():
        fig, ax = new_figure(*SIZE) if ax is None else (ax.figure, ax)
        ax.axhline(0, color=GREY, lw=0.8).set_gid("zero")
        (line,) = ax.plot(xs, ys, color=MAIN, lw=1.6, marker=".", ms=3, label=w["legend"]["vlad"])
        line.set_gid("vlad")
        ax.axvline(pd.Timestamp(agreed_on), color=HIGHLIGHT, lw=1.4, ls="-.", label=w["legend"]["agreed"]).set_gid("agreed")
        ax.yaxis.set_major_formatter(_number_ticks(lang))
        ax.set_ylabel(w["axis_vlad"], fontsize=FONT_MIN)
        narrow = ax.get_position().width < 0.6
        ax.set_title(w["legend"]["vlad"] if narrow else w["vlad_title"].format(label=label), loc="left")
        import matplotlib.dates as mdates

        months = max(1, round((xs.iloc[-1] - xs.iloc[0]).days / 30.44)) if len(v) else 1
        step = max(1, int(np.ceil(months / (4 if narrow else 6))))
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13), interval=step))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%Y"))
        ax.tick_params(axis="x", labelsize=FONT_MIN, labelrotation=30 if narrow else 0)
        if not narrow:
            legend_below(ax, ncols=2)
    alt = w["alt_vlad"].format(first=fmt_date(xs.iloc[0], lang) if len(v) else "",
                               last=fmt_date(xs.iloc[-1], lang) if len(v) else "",
                               a=fmt_number(ys[0], 1, lang) if len(v) else "-",
                               b=fmt_number(ys[-1], 1, lang) if len(v) else "-",
                               date=fmt_date(agreed_on, lang))
    return fig, alt


def _number_ticks(lang: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: unrecorded(fmt_number, value, 0, lang))
