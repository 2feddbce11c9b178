"""Report figures: funnel, trend, caterpillar, profile and distribution plots.

Every function takes ``ax=None`` (a new A4-sized figure is made when absent), returns the Axes and
never touches matplotlib's global settings: its styling is set for the duration of a call (and restored) and on the
artists themselves. Colours are the Okabe–Ito palette (safe for colour-blind readers) and never
carry meaning alone: the highlighted institution has its own marker, size and label, limits have
their own line styles, stacked segments have hatches and printed percentages.

Labels are Dutch by default (``lang="en"`` for English). Suppressed figures (``suppressed`` true)
are never drawn: a trend shows a gap with a note, a bar shows ``–*``.

Artists carry a ``gid`` so that tests (and readers of the SVG) can find them: ``"highlight"`` for
the highlighted institution, ``"others"`` for the rest, ``"national"``, ``"limit_95"``, ...

Example
-------
>>> import pandas as pd
>>> t = pd.DataFrame({"institution": ["A", "B", "C"], "denominator": [40, 120, 300],
...                   "value": [0.5, 0.62, 0.58]})
>>> ax = funnel_plot(t, highlight="A")   # doctest: +SKIP
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from outcome_analysis import texts
from outcome_analysis.statistics.disclosure import round_count
from .ledger import unrecorded
from .report import ReportError, fmt_count_rounded, fmt_number, fmt_pct, ui, with_conf

#: Okabe & Ito (2008), "Color Universal Design": orange, sky blue, bluish green, yellow, blue,
#: vermillion, reddish purple, black.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
HIGHLIGHT = "#D55E00"  # vermillion
OTHERS = "#56B4E9"     # sky blue
MAIN = "#0072B2"       # blue
NATIONAL = "#E69F00"   # orange
GREY = "#777777"
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "--", "++")
FIGSIZE = (6.5, 3.5)   # inches: the text width of an A4 page with 18 mm margins

#: the smallest type size of figure text (pt at the figure's own size). Figures are placed at the
#: text width (:data:`PRINT_WIDTH_IN`); one a little wider than that is scaled down, so the floor
#: keeps some headroom above the 8 pt every figure must print at (:func:`min_printed_pt`).
FONT_MIN = 8.5
#: the text width of the PDF page (A4, 18 mm margins: 174 mm) in inches: the widest an image is placed.
PRINT_WIDTH_IN = 174 / 25.4
#: CSS pixels per inch: an embedded PNG of ``dpi`` dots per inch is laid out at ``dpi / 96`` times its size
#: until it reaches the text width.
CSS_DPI = 96
#: the fewest periods a trend line needs: with one or two points a line suggests a trend that is not there.
MIN_TREND_POINTS = 3

_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": FONT_MIN,
    "ytick.labelsize": FONT_MIN,
    "legend.fontsize": FONT_MIN,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "hatch.linewidth": 0.6,
    "svg.fonttype": "none",
}

@contextmanager
def _style():
    """Our rc settings for the duration of one plot call; restores exactly the keys it set.

    (``matplotlib.rc_context`` would restore *every* key on exit, including ``interactive``,
    which the inline backend switches on when pyplot is first imported inside the call; figures
    of later cells would then no longer be shown.)
    """
    saved = {key: mpl.rcParams[key] for key in _RC}
    mpl.rcParams.update(_RC)
    try:
        yield
    finally:
        mpl.rcParams.update(saved)


def enough_for_trend(n: int) -> bool:
    """Whether ``n`` periods with a shown value make a trend (at least :data:`MIN_TREND_POINTS`).

    The plotting functions draw fewer points as loose markers, never joined by a line; the caller
    says in words that there is no trend yet.

    >>> enough_for_trend(2), enough_for_trend(3)
    (False, True)
    """
    return int(n) >= MIN_TREND_POINTS


def legend_below(ax, *, ncols: int = 2, gap_pt: float = 4.0, **kwargs):
    """The axes' legend under its x axis (its tick labels and label included), never over the data.

    Returns the Legend (``None`` when the axes has nothing to put in one). The legend hangs
    ``gap_pt`` points under the x axis' decorations, measured in points from the axes' bottom edge
    (the tick labels' and axis label's height does not depend on where a constrained layout puts the
    axes), so it sits below rotated tick labels too, and placing it costs no draw of the figure.
    """
    from matplotlib.transforms import offset_copy

    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    fig = ax.figure
    drop_pt = 0.18 * ax.get_position().height * fig.get_figheight() * 72  # no renderer: a fixed offset
    try:
        renderer = _renderer(fig)
        frame = ax.get_window_extent(renderer)
        axis = ax.xaxis.get_tightbbox(renderer) if ax.xaxis.get_visible() else None
        bottom = min(frame.y0, axis.y0) if axis is not None and axis.height > 0 else frame.y0
        drop_pt = (frame.y0 - bottom) * 72 / fig.dpi + gap_pt
    except Exception:  # noqa: BLE001 - keep the fixed offset
        pass
    kwargs.setdefault("frameon", False)
    below = offset_copy(ax.transAxes, fig=fig, y=-drop_pt, units="points")
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below,
                     ncols=ncols, **kwargs)


def _renderer(fig):
    """A renderer to measure text with: the canvas' own, or an Agg canvas attached to a figure made
    without one (``matplotlib.figure.Figure()``, never registered with pyplot)."""
    get = getattr(fig.canvas, "get_renderer", None)
    if get is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        get = FigureCanvasAgg(fig).get_renderer
    return get()


def printed_scale(fig, dpi: int = 120, pad_inches: float = 0.05) -> float:
    """How much a figure is enlarged (> 1) or shrunk (< 1) when embedded as a PNG of ``dpi`` (as the
    reports save it: tight bounding box) and placed in the PDF: at ``dpi / 96`` times its size, at most
    :data:`PRINT_WIDTH_IN` wide."""
    fig.draw_without_rendering()
    renderer = _renderer(fig)
    width = fig.get_tightbbox(renderer).width + 2 * pad_inches  # inches
    natural = width * dpi / CSS_DPI
    return min(natural, PRINT_WIDTH_IN) / width


def text_sizes(fig) -> list[tuple[str, float]]:
    """``(text, size in pt at the figure's own size)`` of every visible, non-empty text of ``fig``
    (titles, labels, tick labels, legends, annotations)."""
    from matplotlib.text import Text

    fig.draw_without_rendering()
    out = []
    for art in fig.findobj(Text):
        if art.get_visible() and str(art.get_text()).strip() and art.get_figure() is not None:
            if hasattr(art, "axes") and art.axes is not None and not art.axes.get_visible():
                continue
            out.append((str(art.get_text()), float(art.get_fontsize())))
    return out


def min_printed_pt(fig, dpi: int = 120) -> float:
    """The smallest type size (pt) of ``fig``'s text as printed in the PDF (:func:`printed_scale`);
    ``inf`` for a figure without text."""
    sizes = [size for _t, size in text_sizes(fig)]
    return min(sizes) * printed_scale(fig, dpi) if sizes else math.inf


def _labels(lang: str) -> dict[str, str]:
    """The figures' labels in ``lang`` (``data/texts/plots.yaml``); :class:`ReportError` for an unknown language."""
    return texts.for_lang("plots", lang, error=ReportError)


def _highlights(highlight) -> list[str]:
    """``highlight`` as a list of names: ``None`` → ``[]``, ``"A"`` → ``["A"]``, a list as it is."""
    if highlight is None:
        return []
    if isinstance(highlight, str):
        return [highlight]
    return [str(h) for h in highlight if h is not None]


#: markers and colours of further highlighted institutions (the first is the vermillion diamond).
SELECTED_MARKERS = ("s", "^", "v", "P", "X", "p")


def _new_ax(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    return ax


def _visible(table: pd.DataFrame) -> pd.DataFrame:
    """Rows that may be drawn: not suppressed."""
    if "suppressed" in table.columns:
        return table[~table["suppressed"].fillna(False).astype(bool)]
    return table


def _pct_axis(axis, lang: str) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: unrecorded(fmt_pct, v, 0, lang)))


def _limit_curves(limits_table: pd.DataFrame, xcol: str) -> dict[float, pd.DataFrame]:
    """Limit curves by coverage, from the long form (``limit, low, high``) or the wide form of
    ``outcome_analysis.funnel`` (``low_95, high_95, low_99_8, ...``)."""
    curves = {}
    if "limit" in limits_table.columns:
        for limit, part in limits_table.groupby("limit", sort=True):
            curves[float(limit)] = part.sort_values(xcol)[[xcol, "low", "high"]]
        return curves
    for col in limits_table.columns:
        if col.startswith("low_"):
            label = col[4:]
            limit = float(label.replace("_", ".")) / 100
            part = limits_table[[xcol, col, f"high_{label}"]].rename(columns={col: "low", f"high_{label}": "high"})
            curves[limit] = part.sort_values(xcol)
    return curves


def _computed_limits(kind: str, xmax: float, target: float | None) -> pd.DataFrame | None:
    """Limits from ``outcome_analysis.funnel`` when it is there (imported lazily)."""
    try:
        from outcome_analysis.statistics import funnel
    except ImportError:
        return None
    grid = np.unique(np.round(np.geomspace(1, max(xmax * 1.1, 10), 200)))
    try:
        if kind == "oe":
            return funnel.ratio_limits(grid, limits=(0.95, 0.998))
        if target is None:
            return None
        return funnel.share_limits(grid, target, limits=(0.95, 0.998))
    except Exception:  # noqa: BLE001 - a figure without limits is better than no figure
        return None


def funnel_plot(table: pd.DataFrame, *, highlight: str | list[str] | None = None,
                limits_table: pd.DataFrame | None = None,
                kind: str = "share", target: float | None = None, anonymise: bool = True, lang: str = "nl",
                title: str | None = None, ax=None, national_label: str | None = None, settings):
    """Funnel plot: each institution's share (or O/E ratio) against its size, with control limits.

    Parameters
    ----------
    table : DataFrame
        One row per institution: ``institution`` and, for ``kind="share"``, ``denominator`` and
        ``value`` (a fraction); for ``kind="oe"``, ``expected`` and ``oe_ratio``. Optional
        ``suppressed`` (rows not drawn) and ``numerator`` (to derive the target). Optional
        ``signal``: each point's verdict as the comparisons table gives it (``higher`` / ``lower``
        drawn as coloured triangles beyond the signal limit, ``within`` as a plain point, ``none``
        and other values open); never decided here. The 95% line is a line of attention (no
        verdict words), the 99.8% line the signal limit.
    highlight : str or list of str, optional
        The institution whose report this is: drawn as a large vermillion diamond and labelled. A
        list highlights several: the first as the diamond (gid ``"highlight"``), each further one
        as a labelled square, triangle, ... in its own colour (gid ``"selected"``), also when
        ``anonymise`` (they were named on purpose).
    limits_table : DataFrame, optional
        Precomputed curves, long form ``denominator`` (or ``expected``), ``limit``, ``low``,
        ``high`` or the wide form of ``outcome_analysis.funnel.share_limits`` / ``ratio_limits``.
        When absent they are computed with ``outcome_analysis.funnel``; a ``target`` column gives
        the centre line.
    kind : "share" or "oe"
    target : float, optional
        Centre line (national share; 1 for O/E). Default: from ``limits_table``, else the pooled
        share ``sum(numerator) / sum(denominator)``.
    anonymise : bool
        Other institutions are not named (an institution's own report). In every case they are
        placed by their rounded denominator (multiples of ``settings.round_to``).
    settings : Settings
        Required: ``round_to`` rounds the denominators the points are placed by.
    national_label : str, optional
        Legend label of the centre line of a share funnel (the pooled share): the comparator's
        ``label`` of :func:`outcome_analysis.report.comparator`; default "Landelijk".
    """
    lab = _labels(lang)
    if kind not in ("share", "oe"):
        raise ValueError(f"funnel_plot kind must be 'share' or 'oe', got {kind!r}")
    xcol, ycol = ("denominator", "value") if kind == "share" else ("expected", "oe_ratio")
    with _style():
        ax = _new_ax(ax)
        data = _visible(table).dropna(subset=[xcol, ycol])
        # denominators are counts of records: placed by their rounded value (disclosure control);
        # expected counts are sums of model probabilities, not counts: rounding them would only
        # bunch small institutions at 1, 5, 10.
        if kind == "share":
            x = data[xcol].astype(float).map(lambda v: max(round_count(v, settings.round_to), 1)).to_numpy()
        else:
            x = data[xcol].astype(float).to_numpy()
        y = data[ycol].astype(float).to_numpy()
        names = data["institution"].astype(str).to_numpy() if "institution" in data else np.array([""] * len(data))
        chosen = _highlights(highlight)
        highlight = chosen[0] if chosen else None
        extra = chosen[1:]
        is_hl = names == str(highlight) if highlight is not None else np.zeros(len(names), bool)
        is_extra = np.isin(names, extra) & ~is_hl

        if target is None and limits_table is not None and "target" in limits_table:
            target = float(limits_table["target"].iloc[0])
        if target is None and kind == "oe":
            target = 1.0
        if target is None and {"numerator", "denominator"} <= set(table.columns):
            den = table["denominator"].astype(float).sum()
            target = float(table["numerator"].astype(float).sum() / den) if den else None
        if limits_table is None:
            limits_table = _computed_limits(kind, float(x.max()) if len(x) else 100.0, target)

        if limits_table is not None:
            styles = {0.95: ("--", MAIN, lab["limit_95"], "limit_95"),
                      0.998: (":", "#000000", lab["limit_99_8"], "limit_99_8")}
            for limit, curve in _limit_curves(limits_table, xcol).items():
                ls, colour, label, gid = styles.get(round(limit, 3), ("-.", GREY, f"{limit:.1%}", f"limit_{limit}"))
                for bound in ("low", "high"):
                    (line,) = ax.plot(curve[xcol], curve[bound], ls=ls, color=colour, lw=1.1,
                                      label=label if bound == "low" else None)
                    line.set_gid(gid)
        else:
            ax.text(0.99, 0.02, lab["no_limits"], transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=FONT_MIN, color=GREY)
        if target is not None:
            line = ax.axhline(target, color=GREY, lw=1, ls="-",
                              label=(national_label or lab["national"]) if kind == "share" else None)
            line.set_gid("national")

        rest = ~is_hl & ~is_extra
        signals = (data["signal"].astype(str).to_numpy() if "signal" in data
                   else np.full(len(data), "within", dtype=object))
        flagged = np.isin(signals, list(SIGNAL_STYLES))
        plain = rest & ~flagged
        # a point without a verdict (none, too few expected, no model) is open: no colour of a verdict
        faces = np.where(np.isin(signals[plain], ["higher", "lower", "within"]) | ("signal" not in data),
                         OTHERS, "white")
        open_ = np.asarray(faces == "white") if plain.any() else np.zeros(0, bool)
        verdicts = "signal" in data
        others = ax.scatter(x[plain], y[plain], s=22, marker="o", facecolor=faces, edgecolor="#1f1f1f",
                            linewidth=0.4, alpha=0.85, zorder=3, label=None if verdicts else lab["others"])
        others.set_gid("others")
        if verdicts:  # the legend names both kinds of circle: filled within expectation, open without a verdict
            for kind, face, show in (("signal_within", OTHERS, (~open_).any()), ("signal_none", "white", open_.any())):
                if show:
                    ax.scatter([], [], s=22, marker="o", facecolor=face, edgecolor="#1f1f1f", linewidth=0.4,
                               label=lab[kind])
        for sig, (marker, colour) in SIGNAL_STYLES.items():  # coloured by the comparison's own verdict
            mask = rest & (signals == sig)
            if mask.any():
                art = ax.scatter(x[mask], y[mask], s=34, marker=marker, facecolor=colour, edgecolor="#1f1f1f",
                                 linewidth=0.5, label=lab[f"signal_{sig}"], zorder=3)
                art.set_gid(f"signal_{sig}")
        if not anonymise:
            for xi, yi, name in zip(x[rest], y[rest], names[rest]):
                ax.annotate(name, (xi, yi), xytext=(3, 2), textcoords="offset points", fontsize=FONT_MIN, color="#333333")
        for i, name in enumerate(extra):
            mask = names == name
            if not mask.any() or is_hl[mask].any():
                continue
            sel = ax.scatter(x[mask], y[mask], s=55, marker=SELECTED_MARKERS[i % len(SELECTED_MARKERS)],
                             facecolor=OKABE_ITO[(i + 6) % len(OKABE_ITO)], edgecolor="#000000", linewidth=0.8,
                             label=_ellipsis(name), zorder=4)
            sel.set_gid("selected")
            for xi, yi in zip(x[mask], y[mask]):
                ax.annotate(name, (xi, yi), xytext=(5, -9), textcoords="offset points", fontsize=FONT_MIN,
                            gid="selected_label")
        if is_hl.any():
            hl = ax.scatter(x[is_hl], y[is_hl], s=70, marker="D", facecolor=HIGHLIGHT, edgecolor="#000000",
                            linewidth=0.9, label=_ellipsis(str(highlight)), zorder=4)
            hl.set_gid("highlight")
        positive = x[x > 0]
        ax.set_xscale("log") if len(positive) and positive.max() / max(positive.min(), 1e-9) > 20 else None
        ax.set_xlabel(lab["denominator"] if kind == "share" else lab["expected"])
        ax.set_ylabel(lab["share"] if kind == "share" else lab["oe"])
        if kind == "share":
            _pct_axis(ax.yaxis, lang)
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: unrecorded(fmt_number, v, 1, lang)))
            # the limits of the smallest expected counts reach far up; keep the points readable
            if len(y):
                top = max(2.0, float(np.nanmax(y)) * 1.25)
                if ax.get_ylim()[1] > top:
                    ax.set_ylim(0, top)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: unrecorded(fmt_number, v, 0, lang)))
        ax.xaxis.set_minor_formatter(NullFormatter())  # a log axis would label its minor ticks on top of each other
        if title:
            ax.set_title(title, loc="left")
        if is_hl.any():  # last: the label is placed within the final limits
            _label_inside(ax, str(highlight), x[is_hl][0], y[is_hl][0])
        legend_below(ax, ncols=2)  # below the axes: never over the points
    return ax


#: the marker and colour of a point whose comparison gives a verdict beyond the signal limit
#: (``signal`` column of the table: :meth:`Results.comparison`'s verdict); colour never alone.
SIGNAL_STYLES = {"higher": ("^", "#CC79A7"), "lower": ("v", "#009E73")}

#: a highlighted label that does not fit inside the axes is first cut to this many characters (ellipsis).
LABEL_MAX = 26


def _ellipsis(text: str, n: int = LABEL_MAX) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _label_inside(ax, text: str, x: float, y: float) -> None:
    """Label the highlighted point so that the label stays inside the axes: shortened with an
    ellipsis, written to the left of the point when it sits in the right half, below it when it
    sits near the top."""
    ax.get_xlim(), ax.get_ylim()  # settle the autoscaled limits first
    fx, fy = ax.transLimits.transform(ax.transScale.transform((x, y)))  # axes fraction (after autoscale)
    right = fx > 0.5
    top = fy > 0.8
    label = ax.annotate(text, (x, y), xytext=(-8 if right else 8, -10 if top else 8), textcoords="offset points",
                        ha="right" if right else "left", va="top" if top else "bottom", fontsize=FONT_MIN,
                        fontweight="bold", color="#000000", gid="highlight_label", annotation_clip=True,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    label.set_in_layout(False)  # the axes do not shrink for it: the label fits them instead
    # shorten with an ellipsis only when the full name does not fit inside the axes
    try:
        ax.figure.draw_without_rendering()  # let a constrained layout place the axes first
        renderer = _renderer(ax.figure)
    except Exception:  # noqa: BLE001 - a canvas without a renderer: fall back to a fixed length
        label.set_text(_ellipsis(text))
        return
    n = len(text)
    while n > 8:
        box, frame = label.get_window_extent(renderer), ax.get_window_extent(renderer)
        if box.x0 >= frame.x0 - 0.5 and box.x1 <= frame.x1 + 0.5:
            break
        n = min(n - 2, LABEL_MAX) if n > LABEL_MAX else n - 2
        label.set_text(_ellipsis(text, n))


def trend_plot(table: pd.DataFrame, *, institution: str | list[str] | None = None, national: bool = True,
               lang: str = "nl", kind: str = "share", title: str | None = None, ax=None,
               highlight: str | list[str] | None = None, settings, national_label: str | None = None):
    """An institution's figure over the periods, with its 95% interval as a band, beside the
    national figure.

    ``table`` is tidy ``indicators.compute`` output for one indicator (and care type): ``period``,
    ``value``, ``ci_low``, ``ci_high``, ``institution``, optional ``scope`` and ``suppressed``.
    National rows have ``scope == "national"`` (or an empty institution). A suppressed period is a
    gap in the line, and a note under the figure names it; its value is never drawn.

    ``institution`` (or ``highlight``; a name or a list of names, the two lists joined) gives the
    institutions drawn: the first with its interval band (gid ``"highlight"``), each further one as
    a dash-dotted line in its own colour (gid ``"selected"``), without band. ``settings`` (required)
    gives the threshold named in the note on suppressed periods. ``kind``
    ``"share"`` (percent axis) or ``"mean"`` (plain axis labelled "Gemiddelde"). ``national_label``
    names the pooled line in the legend (:func:`outcome_analysis.report.comparator`'s ``label``:
    "Landelijk" only for a national delivery, "Alle instellingen (12)" otherwise); ``national=False``
    leaves the line out (a delivery of one institution has nothing to compare with).
    """
    lab = _labels(lang)
    chosen = list(dict.fromkeys(_highlights(institution) + _highlights(highlight)))
    if not chosen:
        raise ValueError("trend_plot needs an institution (institution= or highlight=)")
    institution, extra = chosen[0], chosen[1:]
    with _style():
        ax = _new_ax(ax)
        t = table.copy()
        nat_mask = (t["scope"] == "national") if "scope" in t else (t["institution"].fillna("") == "")
        periods = sorted(t["period"].astype(str).unique())
        pos = {p: i for i, p in enumerate(periods)}
        hidden_periods = []

        def series(mask):
            part = t[mask].copy()
            part["period"] = part["period"].astype(str)
            hidden = part["suppressed"].fillna(False).astype(bool) if "suppressed" in part else pd.Series(False, index=part.index)
            for col in ("value", "ci_low", "ci_high"):
                if col in part:
                    part[col] = part[col].astype(float).where(~hidden)  # never draw a hidden value
            full = pd.DataFrame({"period": periods}).merge(part, on="period", how="left")
            return full, sorted(part.loc[hidden, "period"])

        inst, hidden_periods = series(~nat_mask & (t["institution"].astype(str) == str(institution)))
        xs = np.array([pos[p] for p in inst["period"]])
        # fewer than MIN_TREND_POINTS shown values: loose markers, no line and no band (no trend yet)
        joined = lambda frame: enough_for_trend(int(frame["value"].notna().sum()))  # noqa: E731
        if {"ci_low", "ci_high"} <= set(inst.columns) and joined(inst):
            band = ax.fill_between(xs, inst["ci_low"], inst["ci_high"], color=MAIN, alpha=0.18, lw=0,
                                   hatch="///", edgecolor=MAIN, label=with_conf(lab["ci"], settings, lang))
            band.set_gid("ci_band")
        (line,) = ax.plot(xs, inst["value"], color=MAIN, marker="o", ls="-" if joined(inst) else "none", lw=1.8, ms=5,
                        label=str(institution))
        line.set_gid("highlight")
        if national and nat_mask.any():
            nat, _ = series(nat_mask)
            (nline,) = ax.plot([pos[p] for p in nat["period"]], nat["value"], color=NATIONAL, marker="s",
                               ls="--" if joined(nat) else "none", lw=1.4, ms=4, label=national_label or lab["national"])
            nline.set_gid("national")
        for i, name in enumerate(extra):
            other, other_hidden = series(~nat_mask & (t["institution"].astype(str) == name))
            hidden_periods = sorted(set(hidden_periods) | set(other_hidden))
            (oline,) = ax.plot([pos[p] for p in other["period"]], other["value"], marker=SELECTED_MARKERS[(i + 2) % len(SELECTED_MARKERS)],
                               ls="-." if joined(other) else "none", lw=1.4, ms=4, color=OKABE_ITO[(i + 2) % len(OKABE_ITO)], label=name)
            oline.set_gid("selected")
        ax.set_xticks(range(len(periods)))
        ticks = [p + ("*" if p in hidden_periods else "") for p in periods]
        rotate = len(periods) > 4 or max((len(p) for p in ticks), default=0) > 5
        ax.set_xticklabels(ticks, rotation=45 if rotate else 0, ha="right" if rotate else "center",
                           rotation_mode="anchor")
        ax.set_xlabel("")
        if kind == "share":
            _pct_axis(ax.yaxis, lang)
            ax.set_ylabel(lab["share"])
        elif kind == "mean":
            ax.set_ylabel(lab["mean"])
        if title:
            ax.set_title(title, loc="left")
        # the legend below the axes (never over the lines), then the note on hidden periods
        legend = legend_below(ax, ncols=2)
        if legend is not None:
            legend.set_gid("legend")
        if hidden_periods:  # under the legend (or the x axis), in points from the axes' bottom edge: no draw
            from matplotlib.transforms import offset_copy

            drop_pt = 0.3 * ax.get_position().height * ax.figure.get_figheight() * 72
            try:
                renderer = _renderer(ax.figure)
                box = (legend or ax.xaxis).get_window_extent(renderer)
                frame = ax.get_window_extent(renderer)
                drop_pt = (frame.y0 - box.y0) * 72 / ax.figure.dpi + 3
            except Exception:  # noqa: BLE001 - no renderer: a fixed place under the legend
                pass
            ax.text(0, 0,
                    "* " + lab["suppressed_note"].format(n=int(settings.min_cell), periods=", ".join(hidden_periods)),
                    transform=offset_copy(ax.transAxes, fig=ax.figure, y=-drop_pt, units="points"),
                    fontsize=FONT_MIN, color="#333333", va="top", gid="suppressed_note")
    return ax


def caterpillar_plot(table: pd.DataFrame, *, highlight: str | None = None, anonymise: bool = True,
                     national: float | None = None, value: str = "value", low: str = "ci_low",
                     high: str = "ci_high", kind: str = "share", lang: str = "nl", title: str | None = None,
                     value_label: str | None = None, ax=None, national_label: str | None = None):
    """Institutions sorted by their figure, each with its 95% interval.

    Others are unnamed when ``anonymise`` (the default); the highlighted institution is a
    vermillion diamond with its name on the axis. ``national`` draws a dashed reference line.
    For O/E ratios pass ``value="oe_ratio", low="oe_ci_low", high="oe_ci_high", kind="oe"``; for
    means ``kind="mean"`` (a plain axis labelled "Gemiddelde"). ``value_label`` names the value
    axis instead (e.g. "Gemiddelde verandering (T-score)").
    """
    if kind not in ("share", "oe", "mean"):
        raise ValueError(f"caterpillar_plot kind must be 'share', 'oe' or 'mean', got {kind!r}")
    lab = _labels(lang)
    with _style():
        ax = _new_ax(ax)
        data = _visible(table).dropna(subset=[value]).sort_values(value).reset_index(drop=True)
        y = np.arange(len(data))
        names = data["institution"].astype(str).to_numpy()
        is_hl = names == str(highlight) if highlight is not None else np.zeros(len(data), bool)
        v = data[value].astype(float).to_numpy()
        err = None
        if low in data and high in data:
            err = np.vstack([v - data[low].astype(float).to_numpy(), data[high].astype(float).to_numpy() - v])
        for mask, style in ((~is_hl, dict(fmt="o", color=OTHERS, ms=4, mec="#1f1f1f", mew=0.4, gid="others",
                                              label=lab["others"] if highlight is not None else lab["institutions"])),
                            (is_hl, dict(fmt="D", color=HIGHLIGHT, ms=7, mec="#000000", mew=0.9, gid="highlight",
                                         label=str(highlight)))):
            if not mask.any():
                continue
            gid = style.pop("gid")
            container = ax.errorbar(v[mask], y[mask], xerr=None if err is None else err[:, mask], elinewidth=1,
                                    capsize=0, zorder=4 if gid == "highlight" else 3, **style)
            container.lines[0].set_gid(gid)
        if national is not None:
            ax.axvline(national, color=GREY, ls="--", lw=1, label=national_label or lab["national"], gid="national")
        if anonymise:
            ax.set_yticks(y[is_hl])
            ax.set_yticklabels([str(highlight)] * int(is_hl.sum()), fontweight="bold")
        else:
            ax.set_yticks(y)
            ax.set_yticklabels(names, fontsize=FONT_MIN)
        ax.set_ylabel(lab["rank"])
        if kind == "share":
            _pct_axis(ax.xaxis, lang)
        elif kind == "mean":
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: unrecorded(fmt_number, v, 1, lang)))
        ax.set_xlabel(value_label if value_label is not None else lab[kind])
        ax.set_ylim(-1, max(len(data), 1))
        if title:
            ax.set_title(title, loc="left")
        legend_below(ax, ncols=3)
    return ax


def profile_plot(table: pd.DataFrame, *, group: str = "group", category: str = "category", value: str = "value",
                 order=None, labels: dict | None = None, lang: str = "nl", title: str | None = None,
                 min_label: float = 0.05, ax=None):
    """Horizontal stacked bars of a distribution (end reasons, transitions, help accepted), one bar
    per ``group`` (e.g. the institution and "Landelijk"), with the percentage printed in each
    segment of at least ``min_label`` and a hatch per category.

    ``value`` holds fractions per (group, category). Suppressed rows are left out; the rest of the
    bar stays blank and is labelled "niet getoond".
    """
    lab = _labels(lang)
    with _style():
        ax = _new_ax(ax)
        data = _visible(table)
        wide = data.pivot_table(index=group, columns=category, values=value, aggfunc="sum", sort=False)
        cats = list(order) if order is not None else list(wide.columns)
        groups = list(dict.fromkeys(table[group].astype(str)))
        wide.index = wide.index.astype(str)
        wide = wide.reindex(index=groups, columns=cats)
        left = np.zeros(len(groups))
        ypos = np.arange(len(groups))[::-1]
        for i, cat in enumerate(cats):
            widths = wide[cat].fillna(0).to_numpy(dtype=float)
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            # past eight categories the colours repeat: shift the hatch so no two categories look alike
            hatch = HATCHES[(i + i // len(OKABE_ITO)) % len(HATCHES)]
            bars = ax.barh(ypos, widths, left=left, color=colour, edgecolor="#ffffff" if i % 8 != 7 else "#888888",
                           hatch=hatch, label=(labels or {}).get(cat, str(cat)), height=0.6)
            for bar in bars:
                bar.set_gid(f"segment_{cat}")
            for bar, w in zip(bars, widths):
                if w >= min_label:
                    r, g, b = mpl.colors.to_rgb(colour)
                    ink = "#000000" if (0.299 * r + 0.587 * g + 0.114 * b) > 0.5 else "#ffffff"
                    ax.text(bar.get_x() + w / 2, bar.get_y() + bar.get_height() / 2, fmt_pct(w, 0, lang),
                            ha="center", va="center", fontsize=FONT_MIN, color=ink,
                            bbox=dict(boxstyle="round,pad=0.15", fc=colour, ec="none"))
            left += widths
        for y, total in zip(ypos, left):
            if total < 0.995 and total > 0:
                ax.text(min(total + 0.01, 0.99), y, lab["not_shown"], va="center", fontsize=FONT_MIN, color="#333333")
        ax.set_yticks(ypos)
        ax.set_yticklabels(groups)
        ax.set_xlim(0, 1)
        _pct_axis(ax.xaxis, lang)
        if title:
            ax.set_title(title, loc="left")
        legend_below(ax, ncols=min(len(cats), 3))
    return ax


def comparison_bars(table: pd.DataFrame, *, group: str = "group", category: str = "category", value: str = "value",
                    order=None, labels: dict | None = None, lang: str = "nl", title: str | None = None, ax=None):
    """Side-by-side horizontal bars per category: one bar per ``group`` (e.g. the institution, then
    "Landelijk"), for categories that may **overlap** (transitions, kwesties), where a stacked 100%
    bar would wrongly suggest a partition. The first group is drawn hatched in the highlight colour,
    the second plain; each bar carries its percentage; suppressed rows get no bar and ``–*``.
    """
    mark = ui(lang)["suppressed_mark"] + "*"
    with _style():
        ax = _new_ax(ax)
        groups = list(dict.fromkeys(table[group].astype(str)))
        cats = list(order) if order is not None else list(dict.fromkeys(table[category]))
        hidden = (table["suppressed"].fillna(False).astype(bool) if "suppressed" in table
                  else pd.Series(False, index=table.index))
        shown = table[value].astype(float).where(~hidden)
        wide = pd.DataFrame({"g": table[group].astype(str), "c": table[category], "v": shown}).pivot_table(
            index="c", columns="g", values="v", aggfunc="first", dropna=False).reindex(index=cats, columns=groups)
        height = 0.8 / max(len(groups), 1)
        base = np.arange(len(cats))[::-1].astype(float)
        styles = [(HIGHLIGHT, "//"), (MAIN, "")] + [(c, h) for c, h in zip(OKABE_ITO, HATCHES)]
        top = np.nanmax(wide.to_numpy(dtype=float)) if np.isfinite(wide.to_numpy(dtype=float)).any() else 1.0
        for j, g in enumerate(groups):
            colour, hatch = styles[j % len(styles)]
            vals = wide[g].to_numpy(dtype=float)
            y = base + (len(groups) / 2 - j - 0.5) * height
            ax.barh(y, np.nan_to_num(vals), height=height * 0.95, color=colour, hatch=hatch,
                    edgecolor="#ffffff" if hatch else colour, label=g)
            for yi, v in zip(y, vals):
                text = mark if math.isnan(v) else fmt_pct(v, 0, lang)
                ax.text((0 if math.isnan(v) else v) + top * 0.01, yi, text, va="center", fontsize=FONT_MIN)
        ax.set_yticks(base)
        ax.set_yticklabels([(labels or {}).get(c, str(c)) for c in cats])
        ax.set_xlim(0, top * 1.18 if top > 0 else 1)
        _pct_axis(ax.xaxis, lang)
        legend_below(ax, ncols=len(groups))
        if title:
            ax.set_title(title, loc="left")
    return ax


def distribution_bar(table: pd.DataFrame, *, category: str = "category", value: str = "value", kind: str = "pct",
                     highlight: str | None = None, labels: dict | None = None, lang: str = "nl",
                     title: str | None = None, ax=None, settings):
    """Horizontal bars for a context item (age groups, complexity, kwesties): one bar per category
    with its value printed at the end. ``kind="pct"`` for fractions, ``"count"`` for counts (shown
    rounded to ``settings.round_to``, hidden below ``settings.min_count``; ``settings`` is required). Suppressed rows get no bar and the label ``–*``.
    ``highlight`` marks one category (hatched, bold label).
    """
    _labels(lang)
    mark = ui(lang)["suppressed_mark"] + "*"
    with _style():
        ax = _new_ax(ax)
        cats = table[category].astype(str).tolist()
        hidden = (table["suppressed"].fillna(False).astype(bool).to_numpy() if "suppressed" in table
                  else np.zeros(len(table), bool))
        vals = table[value].astype(float).to_numpy()
        if kind == "count":
            shown = np.array([np.nan if h or (not math.isnan(v) and fmt_count_rounded(v, lang, settings=settings) == ui(lang)["suppressed_mark"])
                              else round_count(v, settings.round_to) for v, h in zip(vals, hidden)], dtype=float)
        else:
            shown = np.where(hidden, np.nan, vals)
        y = np.arange(len(cats))[::-1]
        is_hl = np.array([c == str(highlight) for c in cats])
        bars = ax.barh(y, np.nan_to_num(shown), color=[HIGHLIGHT if h else MAIN for h in is_hl],
                       hatch=None, height=0.6, edgecolor="#000000", linewidth=0.4)
        for bar, h in zip(bars, is_hl):
            bar.set_gid("highlight" if h else "others")
            if h:
                bar.set_hatch("//")
        top = np.nanmax(shown) if np.isfinite(shown).any() else 1.0
        for yi, s, h in zip(y, shown, is_hl):
            text = mark if math.isnan(s) else (fmt_pct(s, 0, lang) if kind == "pct" else fmt_count_rounded(s, lang, settings=settings))
            ax.text((0 if math.isnan(s) else s) + top * 0.01, yi, text, va="center", fontsize=FONT_MIN,
                    fontweight="bold" if h else "normal")
        ax.set_yticks(y)
        ax.set_yticklabels([(labels or {}).get(c, c) for c in cats])
        ax.set_xlim(0, top * 1.15 if top > 0 else 1)
        if kind == "pct":
            _pct_axis(ax.xaxis, lang)
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: unrecorded(fmt_number, v, 0, lang)))
        if title:
            ax.set_title(title, loc="left")
    return ax
