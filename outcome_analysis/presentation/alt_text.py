"""Text alternatives for report figures, read from the matplotlib figure itself.

A reader who cannot see a figure (a screen reader, a text-only PDF extract) gets what it shows in one
or two sentences: the axes' titles and axis labels, each labelled line with its first and last point
("Jeugdbescherming X 2019–2024: van 22% naar 25%"), horizontal reference lines ("Landelijk: 20%"),
each bar series with its bars, and the highlighted points of a scatter (a funnel plot). Only what is
drawn is described: the plots leave hidden (suppressed) figures out, so the text never names them
either; a bar of width zero (a hidden value drawn as nothing) is skipped.

Numbers are printed through :func:`outcome_analysis.presentation.report.fmt_pct` /
:func:`~outcome_analysis.presentation.report.fmt_ratio` / :func:`~outcome_analysis.presentation.report.fmt_number`
(they record into the leak-audit ledger), as percentages when the axis itself shows percentages.

Example
-------
>>> fig = Figure(); ax = fig.subplots()                                        # doctest: +SKIP
>>> describe(fig, "nl")                                                        # doctest: +SKIP
'Uitval 2019–2024: Jeugdzorg X van 22% naar 25%; Landelijk van 20% naar 21%.'
"""
from __future__ import annotations

import math
import re

import numpy as np

from . import report

#: the few words of a text alternative, per language.
WORDS = {
    "nl": {"figure": "Figuur", "from_to": "van {a} naar {b}", "at": "{v} in {p}", "reference": "referentielijn",
           "points": "{n} punten", "highlighted": "gemarkeerd", "lines": "lijnen", "nothing": "zonder getoonde cijfers",
           "and": "en"},
    "en": {"figure": "Figure", "from_to": "from {a} to {b}", "at": "{v} in {p}", "reference": "reference line",
           "points": "{n} points", "highlighted": "highlighted", "lines": "lines", "nothing": "without figures shown",
           "and": "and"},
}

#: words that only appear in one language's figure labels (used to guess the language of a figure).
_LANG_HINTS = {
    "en": ("national", "observed", "expected", "number", "institutions", "other", "period", "mean", "not shown",
           "signal", "line of attention", "confidence", "first", "second", "half"),
    "nl": ("landelijk", "waargenomen", "verwacht", "aantal", "instellingen", "andere", "periode", "gemiddelde",
           "niet getoond", "signaalgrens", "aandachtslijn", "betrouwbaarheid", "uitval", "jeugd"),
}


def guess_lang(fig) -> str:
    """``"nl"`` or ``"en"``: the language of a figure's texts (titles, labels, legends, tick labels);
    Dutch when nothing tells."""
    words = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and callable(a.get_text))
                     if isinstance(t.get_text(), str)).lower()
    score = {lang: sum(len(re.findall(r"\b" + re.escape(w) + r"\b", words)) for w in hints)
             for lang, hints in _LANG_HINTS.items()}
    if score["en"] > score["nl"]:
        return "en"
    if score["nl"] == score["en"] == 0 and re.search(r"\d\.\d", words) and not re.search(r"\d,\d", words):
        return "en"
    return "nl"


def _clean(text) -> str:
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    return "" if text.startswith("_") else text  # matplotlib's internal labels (_child0, _nolegend_)


def _formatter(axis, lang: str):
    """How a value on ``axis`` is printed: as a percentage when the axis shows percentages, as a
    ratio for an O/E axis, else as a number."""
    try:
        sample = str(axis.get_major_formatter()(0.25, 0))
    except Exception:  # a formatter that needs a drawn figure
        sample = ""
    label = _clean(axis.get_label_text()).lower()
    if sample.endswith("%"):
        return lambda v: report.fmt_pct(v, 0, lang)
    if "/" in label:  # observed / expected
        return lambda v: report.fmt_ratio(v, 2, lang)
    return lambda v: report.fmt_number(v, 1, lang) if abs(v) < 100 else report.fmt_int(v, lang)


def _tick_names(axis) -> dict[float, str]:
    """Tick position -> tick label, for categorical axes (periods, groups)."""
    names = {}
    for pos, tick in zip(axis.get_majorticklocs(), axis.get_majorticklabels()):
        text = _clean(tick.get_text())
        if text:
            names[float(pos)] = text
    return names


def _name_of(pos: float, names: dict[float, str], near: bool = False) -> str | None:
    """The tick label at ``pos``; with ``near``, the nearest tick within half the tick spacing (bars
    of several groups sit beside their category's tick). A footnote mark ("2019*") is left off."""
    for key, text in names.items():
        if math.isclose(key, pos, abs_tol=1e-6):
            return text.rstrip("*").strip()
    if near and names:
        keys = sorted(names)
        spacing = min((b - a for a, b in zip(keys, keys[1:])), default=1.0)
        key = min(keys, key=lambda k: abs(k - pos))
        if abs(key - pos) <= spacing / 2 + 1e-9:
            return names[key].rstrip("*").strip()
    return None


def _finite_points(xs, ys) -> list[tuple[float, float]]:
    points = []
    for x, y in zip(np.asarray(xs, dtype=float).ravel(), np.asarray(ys, dtype=float).ravel()):
        if np.isfinite(x) and np.isfinite(y):
            points.append((float(x), float(y)))
    return points


def _lines(ax, lang: str, w: dict) -> tuple[list[str], str]:
    """Sentences for the labelled lines of ``ax`` and the span of periods they cover."""
    from matplotlib.collections import PathCollection

    fmt_y = _formatter(ax.yaxis, lang)
    names = _tick_names(ax.xaxis)
    has_points = any(isinstance(c, PathCollection) for c in ax.collections)
    parts, spans = [], []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        label = _clean(line.get_label())
        xs, ys = line.get_xdata(orig=False), line.get_ydata(orig=False)
        points = _finite_points(xs, ys)
        if not points:
            continue
        ys_set = {round(y, 12) for _x, y in points}
        transform_is_axes = line.get_transform().contains_branch(ax.get_yaxis_transform()) and \
            not line.get_transform().contains_branch(ax.transData)
        horizontal = len(ys_set) == 1 and (transform_is_axes or len(points) == 2 and not names)
        if horizontal:  # a reference line (axhline): its level
            parts.append(f"{label or w['reference']}: {fmt_y(points[0][1])}")
            continue
        if not label:
            continue  # an unlabelled curve (interval edges, limits drawn twice): not a series
        if has_points:  # limit curves of a funnel: named, not read point by point
            parts.append(label)
            continue
        first, last = points[0], points[-1]
        p_first, p_last = _name_of(first[0], names), _name_of(last[0], names)
        if len(points) == 1:
            parts.append(f"{label} " + w["at"].format(v=fmt_y(first[1]), p=p_first or "")
                         if p_first else f"{label}: {fmt_y(first[1])}")
            continue
        if p_first and p_last:
            spans.append((p_first, p_last))
        parts.append(f"{label} " + w["from_to"].format(a=fmt_y(first[1]), b=fmt_y(last[1])))
    span = ""
    if spans:
        firsts, lasts = sorted(s[0] for s in spans), sorted(s[1] for s in spans)
        span = firsts[0] if firsts[0] == lasts[-1] else f"{firsts[0]}–{lasts[-1]}"
    return parts, span


def _bars(ax, lang: str) -> list[str]:
    """Sentences for the bar series of ``ax``: per series its label and its bars (group: value)."""
    from matplotlib.container import BarContainer

    parts = []
    for container in ax.containers:
        if not isinstance(container, BarContainer):
            continue
        horizontal = getattr(container, "orientation", None) == "horizontal"
        axis = ax.xaxis if horizontal else ax.yaxis
        fmt = _formatter(axis, lang)
        names = _tick_names(ax.yaxis if horizontal else ax.xaxis)
        values = []
        for bar in container.patches:
            size = bar.get_width() if horizontal else bar.get_height()
            if not np.isfinite(size) or size == 0:
                continue  # nothing drawn (a hidden value)
            centre = bar.get_y() + bar.get_height() / 2 if horizontal else bar.get_x() + bar.get_width() / 2
            name = _name_of(centre, names, near=True)
            values.append(f"{name} {fmt(size)}" if name else fmt(size))
        if not values:
            continue
        label = _clean(container.get_label())
        parts.append(f"{label}: " + ", ".join(values) if label else ", ".join(values))
    return parts


def _scatters(ax, lang: str, w: dict) -> list[str]:
    """Sentences for the point clouds of ``ax`` (a funnel plot): how many points, and the value of each
    labelled (highlighted) point."""
    from matplotlib.collections import PathCollection

    fmt_y = _formatter(ax.yaxis, lang)
    parts = []
    for coll in ax.collections:
        if not isinstance(coll, PathCollection) or not coll.get_visible():
            continue
        offsets = np.asarray(coll.get_offsets(), dtype=float)
        points = [p for p in offsets if np.all(np.isfinite(p))] if offsets.size else []
        if not points:
            continue
        label = _clean(coll.get_label())
        if len(points) == 1 and label:
            parts.append(f"{label}: {fmt_y(points[0][1])}")
        elif label:
            parts.append(f"{label} ({w['points'].format(n=report.fmt_int(len(points), lang))})")
    return parts


def describe_axes(ax, lang: str = "nl") -> str:
    """One sentence for one axes (empty when it shows nothing): its title and y label, the span of
    periods, then its series."""
    w = WORDS[lang]
    if not ax.get_visible() or not ax.axison and not (ax.lines or ax.collections or ax.patches):
        return ""
    parts, span = _lines(ax, lang, w)
    parts += _bars(ax, lang)
    parts += _scatters(ax, lang, w)
    title = _clean(ax.get_title("left")) or _clean(ax.get_title()) or _clean(ax.get_title("right"))
    if not parts:
        return ""
    head = " ".join(x for x in (title, span) if x)
    ylabel = _clean(ax.get_ylabel())
    if ylabel and not head:
        head = ylabel
    elif ylabel and ylabel.lower() not in head.lower():
        head = f"{head} ({ylabel.lower()})"
    return (f"{head}: " if head else "") + "; ".join(dict.fromkeys(parts))


def describe(fig, lang: str | None = None, *, max_chars: int = 600) -> str:
    """A text alternative for a matplotlib figure, in ``lang`` (guessed from the figure when ``None``).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A drawn report figure.
    lang : {"nl", "en"}, optional
        The language of the words around the numbers (and of the number format).
    max_chars : int
        Longer descriptions are cut at a sentence boundary and end in "…".

    Returns
    -------
    str
        Sentences such as "Percentage 2019–2024: Jeugdzorg X van 22% naar 25%; Landelijk van 20% naar
        21%." — never empty (a figure without series is described as "Figuur" plus its title).
    """
    lang = lang or guess_lang(fig)
    w = WORDS[lang]
    sentences = [s for s in (describe_axes(ax, lang) for ax in fig.get_axes()) if s]
    suptitle = _clean(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) is not None else ""
    if not sentences:
        titles = [_clean(ax.get_title("left")) or _clean(ax.get_title()) for ax in fig.get_axes()]
        named = [t for t in [suptitle, *titles] if t]
        return f"{w['figure']}: " + (", ".join(named) + " – " if named else "") + w["nothing"] + "."
    text = (suptitle + ". " if suptitle else "") + ". ".join(s.rstrip(".") for s in sentences) + "."
    if len(text) > max_chars:
        cut = text[:max_chars]
        cut = cut[: max(cut.rfind("; "), cut.rfind(". "), max_chars // 2)]
        text = cut.rstrip(" ;.") + " …"
    return text


__all__ = ["describe", "describe_axes", "guess_lang", "WORDS"]
