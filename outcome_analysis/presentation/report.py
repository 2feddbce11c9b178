"""The presentation layer that report notebooks call: Dutch (or English) numbers, tables with
suppression shown, plain-language headline sentences, dialogue questions and safe file names.

Everything here formats copies at the edge; nothing changes the numbers it is given. Every string
that reaches HTML is escaped here, so a notebook can ``display()`` the results as they are.

Example
-------
>>> fmt_pct(0.1234)
'12,3%'
>>> fmt_int(1234567)
'1.234.567'
>>> fmt_pct(0.1234, lang="en")
'12.3%'
"""
from __future__ import annotations

import functools
import hashlib
import html as _html
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any


from outcome_analysis import texts
from outcome_analysis.errors import OutcomeAnalysisError
from outcome_analysis.statistics.disclosure import round_count  # noqa: F401 - the one rounding of shown counts
from outcome_analysis.presentation import ledger  # every printed number is recorded while a ledger is active

LANGS = texts.LANGS
#: the three levels of the kwaliteitsgesprek, in the order reports show them.
LEVELS = ("client_professional", "organisation", "external")
#: the heading of each level (``data/texts/report.yaml``, section ``levels``), per language.
LEVEL_LABELS = {lang: texts.for_lang("report", lang, "levels") for lang in LANGS}
#: the mark of a missing figure (``n.b.``), per language (section ``marks``).
MISSING_MARK = {lang: texts.for_lang("report", lang, "marks")["missing"] for lang in LANGS}
#: a cell that does not apply (an indicator without a follow-up window has nothing "not yet followable")
NOT_APPLICABLE_MARK = {lang: texts.for_lang("report", lang, "marks")["not_applicable"] for lang in LANGS}


#: below this response rate (trajectories with answers to the experience questions, of the ended
#: trajectories) an experience figure carries a caution. A constant, not a setting: it is a reading
#: aid and changes no figure. Chosen at 30%: below it fewer than one in three clients answered, and
#: those who answer can differ much from those who do not, so the share may not speak for all.
RESPONSE_CAUTION = 0.30

#: indicators that a report shows only in their own chapter because another indicator of the
#: report tells nearly the same thing: id -> (the other indicator, the care type they share). The
#: summary counts the other one; the section of the first says how the two differ.
RELATED = {"pi07_reden_beeindiging_jb": ("jbjr_verloop", "jb")}


def anchor(indicator_id: str) -> str:
    """The ``id`` of an indicator's heading in the institution report (without ``#``), for links
    such as ``<a class="page-ref" href="#ind-jh_uitval">``: ``"ind-" + indicator_id``. Chapter
    headings use :func:`chapter_anchor`.

    >>> anchor("jh_uitval")
    'ind-jh_uitval'
    """
    return f"ind-{indicator_id}"


def chapter_anchor(key: str) -> str:
    """The ``id`` of a chapter heading (h2) of the institution report: ``"h-" + key`` with key an
    indicator set id (``basisset_jbjr``) or a section key (``summary``, ``verloop``, ...).

    >>> chapter_anchor("prestatie")
    'h-prestatie'
    """
    return f"h-{key}"


def heading(text: str, level: int = 2, *, id: str = "", cls: str = "") -> HTML:
    """A heading ``<h{level} id=… class=…>`` with ``text`` escaped (``id`` from :func:`anchor` or
    :func:`chapter_anchor`; no attribute when empty).

    >>> heading("Samenvatting", 2, id="h-summary")
    '<h2 id="h-summary">Samenvatting</h2>'
    """
    attrs = (f' id="{_html.escape(id)}"' if id else "") + (f' class="{_html.escape(cls)}"' if cls else "")
    return HTML(f"<h{int(level)}{attrs}>{_html.escape(str(text))}</h{int(level)}>")


def nowrap(text: str) -> str:
    """``text`` escaped and wrapped in ``<span class="nowrap">`` so that a short status word
    ("binnen verwachting") is never broken or hyphenated (the stylesheet sets ``white-space:
    nowrap`` for ``.nowrap``)."""
    return f'<span class="nowrap">{_html.escape(str(text))}</span>'


class ReportError(OutcomeAnalysisError, ValueError):
    """A presentation request that cannot be met (unknown language, column, or fact test)."""


class HTML(str):
    """A string of HTML that Jupyter displays as HTML (``display(x)`` or as a cell's last value)."""

    def _repr_html_(self) -> str:
        return str(self)


def _check_lang(lang: str) -> str:
    return texts.check_lang(lang, ReportError)


def ui(lang: str = "nl", section: str | None = None) -> dict[str, Any]:
    """The reports' vocabulary in ``lang`` (``data/texts/report.yaml``, or its ``section``); a fresh copy.

    Raises :class:`ReportError` for an unknown language.
    """
    return texts.for_lang("report", lang, section, error=ReportError)


# --------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------
def is_missing(x) -> bool:
    """Whether a cell holds no number: ``None``, NaN, ``pd.NA`` (a text is not missing)."""
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return x is getattr(__import__("pandas"), "NA", object())


def figure_hidden(row, min_denominator: int) -> bool:
    """Whether disclosure control hides a figure row (a mapping or Series with ``suppressed`` and
    ``denominator``): marked suppressed, or its denominator missing or below ``min_denominator``.
    The one test that the institution report and the overview apply to a pooled figure."""
    if row is None:
        return True
    suppressed = row.get("suppressed", False)
    denominator = row.get("denominator")
    return (not is_missing(suppressed) and bool(suppressed)) or is_missing(denominator) \
        or float(denominator) < min_denominator


@ledger.records("number")
def fmt_number(x, decimals: int = 1, lang: str = "nl") -> str:
    """A number with ``decimals`` decimals and the language's separators (nl ``1.234,5``).

    Missing values (None, NaN, pd.NA) become ``n.b.`` (en ``n/a``).
    """
    _check_lang(lang)
    if is_missing(x):
        return MISSING_MARK[lang]
    text = f"{float(x):,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0,0"
    if lang == "nl":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


_CONF_95 = re.compile(r"(?<![\d.,])95(?=\s?%)")


def with_conf(text: str, settings, lang: str = "nl") -> str:
    """``text`` with the interval level it names ("95%-interval", "Ondergrens (95%)") set to the
    settings' ``conf`` in force (``conf: 0.9`` → "90%-interval"); unchanged at the default 0.95.
    Only for texts about the confidence interval: the funnel's 95% line of attention is a
    ``funnel_limits`` level, not ``conf``.

    >>> from outcome_analysis.settings import Settings
    >>> with_conf("95%-interval", Settings(conf=0.9))
    '90%-interval'
    >>> with_conf("95% interval", Settings(conf=0.995), "en")
    '99.5% interval'
    """
    conf = getattr(settings, "conf", 0.95)
    if settings is None or abs(conf - 0.95) < 1e-12 or not isinstance(text, str):
        return text
    # a level, not anyone's figure: written here, not through the recording formatters (the leak
    # audit allows the settings' levels, audit.level_forms)
    number = f"{conf * 100:.1f}".rstrip("0").rstrip(".")
    return _CONF_95.sub(number.replace(".", ",") if lang == "nl" else number, text)


@ledger.records("pct")
def fmt_pct(x, decimals: int = 1, lang: str = "nl") -> str:
    """A fraction as a percentage: ``fmt_pct(0.1234)`` → ``'12,3%'`` (en ``'12.3%'``)."""
    if is_missing(x):
        return MISSING_MARK[_check_lang(lang)]
    return fmt_number(float(x) * 100, decimals, lang) + "%"


def fmt_period(period, lang: str = "nl") -> str:
    """A period label for prose: ``"2024"`` stays, ``"2024H1"`` becomes "het eerste halfjaar van 2024"
    ("the first half of 2024"). Table headers and file names keep the short label.

    >>> fmt_period("2024H2"), fmt_period("2024H1", "en"), fmt_period("2023")
    ('het tweede halfjaar van 2024', 'the first half of 2024', '2023')
    """
    text = str(period)
    if len(text) == 6 and text[4] == "H" and text[5] in "12":
        ph = ui(lang, "phrases")
        return ph["half_year"].format(half=ph["halves"][int(text[5]) - 1], year=text[:4])
    return text


def fmt_date(date, lang: str = "nl") -> str:
    """A date for prose: ``"2024-12-29"`` → "29 december 2024" (en "29 December 2024"); missing
    → ``n.b.``; text that is not a date stays as it is.

    >>> fmt_date("2024-12-29"), fmt_date("2024-12-29", "en")
    ('29 december 2024', '29 December 2024')
    """
    _check_lang(lang)
    if is_missing(date) or date == "":
        return MISSING_MARK[lang]
    import pandas as pd

    try:
        ts = pd.Timestamp(date)
    except (TypeError, ValueError):
        return str(date)
    return f"{ts.day} {ui(lang)['months'][ts.month - 1]} {ts.year}"


@ledger.records("int", decimals=0)
def fmt_int(n, lang: str = "nl") -> str:
    """A whole number with thousands separators: ``1234`` → ``'1.234'`` (en ``'1,234'``)."""
    if is_missing(n):
        return MISSING_MARK[_check_lang(lang)]
    return fmt_number(round(float(n)), 0, lang)


@ledger.records("ratio")
def fmt_ratio(x, decimals: int = 2, lang: str = "nl") -> str:
    """A ratio such as O/E: ``0.857`` → ``'0,86'``."""
    return fmt_number(x, decimals, lang)


def fmt_ci(low, high, decimals: int = 1, lang: str = "nl", *, kind: str = "pct") -> str:
    """An interval: ``fmt_ci(0.102, 0.145)`` → ``'10,2% – 14,5%'``; ``kind="ratio"`` → ``'0,85 – 1,12'``.
    Each bound is recorded in an active ledger by the function that prints it."""
    f = {"pct": lambda v: fmt_pct(v, decimals, lang),
         "ratio": lambda v: fmt_ratio(v, decimals if decimals != 1 else 2, lang),
         "number": lambda v: fmt_number(v, decimals, lang)}.get(kind)
    if f is None:
        raise ReportError(f"unknown interval kind {kind!r}; use 'pct', 'ratio' or 'number'")
    if is_missing(low) or is_missing(high):
        return MISSING_MARK[_check_lang(lang)]
    return f"{f(low)} – {f(high)}"


@ledger.records("count", decimals=0)
def fmt_count_rounded(n, lang: str = "nl", *, settings, base: int | None = None,
                      min_count: int | None = None) -> str:
    """A count as shown in reports: hidden (``'–'``) below ``min_count`` (default
    ``settings.min_count``), otherwise rounded half up to a multiple of ``base`` (default
    ``settings.round_to``; :func:`outcome_analysis.disclosure.round_count`) and formatted.

    >>> from outcome_analysis.settings import Settings
    >>> fmt_count_rounded(1237, settings=Settings()), fmt_count_rounded(7, settings=Settings())
    ('1.235', '–')
    """
    t = ui(lang)
    if is_missing(n):
        return MISSING_MARK[lang]
    min_count = settings.min_count if min_count is None else min_count
    if float(n) < min_count:
        return t["suppressed_mark"]
    return fmt_int(round_count(n, base or settings.round_to), lang)


# --------------------------------------------------------------------------------------------
# tables and notes
# --------------------------------------------------------------------------------------------
_PCT_COLS = {"value", "national_value", "raw_value", "adjusted_value", "ci_low", "ci_high", "share"}
_RATIO_COLS = {"oe_ratio", "oe_ci_low", "oe_ci_high", "oe_shrunk"}
_COUNT_COLS = {"numerator", "denominator", "missing", "excluded_window", "n", "count", "observed",
               "n_missing_covariates"}
_NUMBER_COLS = {"expected"}
_INTERVALS = {"ci": ("ci_low", "ci_high", "pct"), "oe_ci": ("oe_ci_low", "oe_ci_high", "ratio")}
KINDS = ("text", "pct", "ratio", "number", "int", "count", "ci", "oe_ci")


def _infer_kind(column: str) -> str:
    if column in _INTERVALS:
        return column
    if column in _PCT_COLS:
        return "pct"
    if column in _RATIO_COLS:
        return "ratio"
    if column in _COUNT_COLS:
        return "count"
    if column in _NUMBER_COLS:
        return "number"
    return "text"


def _column_specs(frame, columns, lang) -> list[tuple[str, str, str]]:
    labels = ui(lang, "columns")
    if columns is None:
        columns = [c for c in frame.columns if c != "suppressed"]
    items = columns.items() if isinstance(columns, Mapping) else [(c, None) for c in columns]
    specs = []
    for column, spec in items:
        if isinstance(spec, (tuple, list)):
            label, kind = spec
        else:
            label, kind = spec, None
        kind = kind or _infer_kind(column)
        if kind not in KINDS:
            raise ReportError(f"unknown column kind {kind!r} for {column!r}; use one of {KINDS}")
        needed = _INTERVALS[kind][:2] if kind in _INTERVALS else (column,)
        absent = [c for c in needed if c not in frame.columns]
        if absent:
            raise ReportError(f"display_table: column(s) {absent} not in the table (has {list(frame.columns)})")
        specs.append((column, label if label is not None else labels.get(column, column), kind))
    return specs


def display_table(tidy_frame, columns=None, lang: str = "nl", *, caption: str | None = None,
                  highlight: str | None = None, key: str = "institution", suppressed: str = "suppressed",
                  decimals: int = 1, round_counts: bool = True, label_width: float | None = None,
                  widths: Sequence[float] | None = None, settings) -> HTML:
    """A report table as HTML: escaped, formatted in ``lang``, suppressed cells shown as ``–*``.

    Parameters
    ----------
    tidy_frame : DataFrame
        Rows to show, e.g. a slice of ``indicators.compute`` output. Not modified.
    columns : sequence of names, or mapping name → label or name → (label, kind), optional
        What to show, in order. ``kind`` is one of ``text, pct, ratio, number, int, count, ci,
        oe_ci``; by default inferred from the name (``value`` → pct, ``denominator`` → count,
        ``ci`` → the interval ``ci_low``–``ci_high``, ``oe_ci`` → ``oe_ci_low``–``oe_ci_high``).
        Labels default to ``data/texts/report.yaml``.
    caption : str, optional
    highlight : str, optional
        Rows whose ``key`` column equals this are bold with a marker (never colour alone).
    suppressed : str
        Boolean column marking rows hidden by disclosure control; every number in such a row is
        shown as ``–*`` and never written into the HTML, in no attribute either.
    round_counts : bool
        Counts are hidden below ``settings.min_count`` and rounded to multiples of
        ``settings.round_to`` (indicators.md, disclosure control).
    label_width, widths : float or sequence of float, optional
        Column widths in percent of the table (a ``<colgroup>``). ``widths`` gives every column;
        ``label_width`` only the first (text) column, the rest share the remainder, intervals and
        text columns a little more than single numbers. By default a leading text column gets
        :func:`column_widths`' share, so labels such as "ontwikkelingsbedreiging" are not broken.
    settings : Settings
        The disclosure thresholds (``min_count``, ``round_to``) and the threshold the footnote names
        (``min_denominator``); required. The ``suppressed`` flags themselves come with the frame:
        mark them under the same settings.

    Returns
    -------
    HTML
        A ``str`` with ``_repr_html_``: ``<div class="oa-table-wrap"><table class="oa-table">…``
        plus the footnote ``* minder dan 10, niet getoond`` when anything was hidden.
    """
    _check_lang(lang)
    t = ui(lang)
    # the interval column names the level in force ("90%-interval" with conf 0.9)
    specs = [(column, with_conf(label, settings, lang), kind)
             for column, label, kind in _column_specs(tidy_frame, columns, lang)]
    e = _html.escape
    hidden_mark = f'{e(t["suppressed_mark"])}*'
    any_hidden = False
    min_count = settings.min_count
    round_to = settings.round_to
    rows_html = []
    if suppressed in tidy_frame.columns:
        hidden_rows = tidy_frame[suppressed].fillna(False).astype(bool).tolist()
    else:
        hidden_rows = [False] * len(tidy_frame)
    records = tidy_frame.to_dict("records")
    for record, hidden in zip(records, hidden_rows):
        is_highlight = highlight is not None and key in record and str(record[key]) == str(highlight)
        cells = []
        for i, (column, _label, kind) in enumerate(specs):
            cls = "oa-num" if kind != "text" else ""
            if kind == "text":
                raw = record.get(column)
                text = "" if is_missing(raw) else e(str(raw))
                if is_highlight and i == 0:
                    text = "▶ " + text
            elif hidden:
                text, cls = hidden_mark, cls + " oa-suppressed"
                any_hidden = True
            elif kind in _INTERVALS:
                low, high, ikind = _INTERVALS[kind]
                text = e(fmt_ci(record[low], record[high], decimals, lang, kind=ikind))
            elif kind == "count":
                value = record[column]
                if round_counts and not is_missing(value) and float(value) < min_count:
                    text, cls = hidden_mark, cls + " oa-suppressed"
                    any_hidden = True
                else:
                    text = e(fmt_int(round_count(value, round_to) if round_counts and not is_missing(value) else value,
                                     lang))
            elif kind == "pct":
                text = e(fmt_pct(record[column], decimals, lang))
            elif kind == "ratio":
                text = e(fmt_ratio(record[column], 2, lang))
            elif kind == "int":
                text = e(fmt_int(record[column], lang))
            else:
                text = e(fmt_number(record[column], decimals, lang))
            cells.append(f'<td class="{cls.strip()}">{text}</td>' if cls.strip() else f"<td>{text}</td>")
        row_cls = ' class="oa-highlight"' if is_highlight else ""
        rows_html.append(f"<tr{row_cls}>{''.join(cells)}</tr>")
    num_attr = ' class="oa-num"'
    head = "".join(
        f'<th scope="col"{num_attr if kind != "text" else ""}>{e(str(label))}</th>'
        for _c, label, kind in specs)
    wide = " oa-wide" if len(specs) > 7 else ""
    parts = [f'<div class="oa-table-wrap"><table class="oa-table{wide}">']
    if caption:
        parts.append(f"<caption>{e(caption)}</caption>")
    if widths is None:
        widths = column_widths([kind for _c, _l, kind in specs], label_width)
    if widths:
        if len(widths) != len(specs):
            raise ReportError(f"display_table: {len(widths)} widths for {len(specs)} columns")
        parts.append("<colgroup>" + "".join(f'<col style="width:{float(w):.4g}%">' for w in widths) + "</colgroup>")
    parts.append(f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows_html)}</tbody></table>")
    if any_hidden:
        footnote = t["suppressed_footnote"].format(n=settings.min_denominator, cell=settings.min_cell,
                                                   count=settings.min_count)
        parts.append(f'<p class="oa-footnote">{e(footnote)}</p>')
    parts.append("</div>")
    return HTML("".join(parts))


_KIND_WEIGHTS = {"text": 1.6, "ci": 1.55, "oe_ci": 1.3}


def column_widths(kinds: Sequence[str], label_width: float | None = None) -> list[float] | None:
    """Column widths (percent, summing to 100) for a table whose first column is a text label:
    the label gets ``label_width`` (default 34% with six or more columns, 40% with fewer, all of it
    with one), the other columns share the rest by kind (intervals and texts wider than single
    numbers). ``None`` when the first column is not text or there is only one column.

    >>> column_widths(["text", "pct", "ci", "count"])
    [40.0, 16.9, 26.2, 16.9]
    """
    kinds = list(kinds)
    if len(kinds) < 2 or kinds[0] != "text":
        return None
    if label_width is None:
        label_width = 34.0 if len(kinds) >= 6 else 40.0
    weights = [_KIND_WEIGHTS.get(k, 1.0) for k in kinds[1:]]
    rest = 100.0 - float(label_width)
    out = [float(label_width)] + [round(rest * w / sum(weights), 2) for w in weights]
    out[-1] = round(out[-1] + 100.0 - sum(out), 2)
    return out


def note(text: str, *, kind: str = "note") -> HTML:
    """A short note for readers (escaped): ``<p class="oa-note">…</p>``; ``kind="headline"`` for a
    headline sentence."""
    cls = {"note": "oa-note", "headline": "oa-headline"}.get(kind)
    if cls is None:
        raise ReportError(f"unknown note kind {kind!r}; use 'note' or 'headline'")
    return HTML(f'<p class="{cls}">{_html.escape(str(text))}</p>')


# --------------------------------------------------------------------------------------------
# headline sentences: the verdicts of the results store in words
# --------------------------------------------------------------------------------------------
def _estimate(x) -> dict[str, Any] | None:
    """Normalise a figure: a number, a (value, ci_low, ci_high) tuple, or a mapping/Series with
    ``value``, ``ci_low``, ``ci_high`` and optionally ``suppressed``."""
    if x is None:
        return None
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return {"value": float(x), "ci_low": None, "ci_high": None, "suppressed": False}
    if isinstance(x, (tuple, list)):
        v, lo, hi = (list(x) + [None, None])[:3]
        return {"value": v, "ci_low": lo, "ci_high": hi, "suppressed": False}
    get = x.get if hasattr(x, "get") else (lambda k, d=None: getattr(x, k, d))
    suppressed = get("suppressed", False)
    return {"value": get("value"), "ci_low": get("ci_low"), "ci_high": get("ci_high"),
            "suppressed": bool(suppressed) if not is_missing(suppressed) else False}


def _signal(row) -> str:
    """The verdict of a comparison row (``Results.comparison``), ``none`` when there is no row."""
    if row is None:
        return "none"
    signal = row.get("signal")
    return str(signal) if signal in ("higher", "lower", "within") else "none"


def _favourable_word(row, lang: str) -> str:
    """" — ongunstig" / " — gunstig" from a comparison row's ``favourable``; empty when it says nothing."""
    fav = None if row is None else row.get("favourable")
    if fav is None or is_missing(fav):
        return ""
    ph = ui(lang, "phrases")
    return f" — {ph['favourable'] if bool(fav) else ph['unfavourable']}"


def fmt_signed(x, decimals: int = 1, lang: str = "nl") -> str:
    """A difference with its sign: ``+4,1``, ``−1,0`` (a minus sign, not a hyphen), ``0,0``.

    >>> fmt_signed(4.13), fmt_signed(-1.0), fmt_signed(0.0), fmt_signed(2.5, lang="en")
    ('+4,1', '−1,0', '0,0', '+2.5')
    """
    if is_missing(x):
        return MISSING_MARK[_check_lang(lang)]
    text = fmt_number(abs(float(x)), decimals, lang)
    if float(text.replace(".", "").replace(",", "")) == 0:
        return text
    return ("+" if float(x) > 0 else "−") + text


def apart_decimals(pairs, decimals: int, most: int = 3) -> int:
    """The fewest decimals (at least ``decimals``, at most ``decimals + most``) at which each pair
    ``(a, b)`` of numbers prints differently, so that a verdict never stands beside a figure that
    looks equal to the bound it was read against ("W/V 0,60 — lager; verwacht tussen 0,60 en ...").
    Pairs with a missing number are ignored.

    >>> apart_decimals([(0.5963, 0.6035)], 2), apart_decimals([(1.24, 1.18)], 2), apart_decimals([(-0.0004, 0.0)], 1)
    (3, 2, 4)
    """
    ok = [(float(a), float(b)) for a, b in pairs if not (is_missing(a) or is_missing(b)) and float(a) != float(b)]
    for d in range(decimals, decimals + most + 1):
        if all(round(a, d) != round(b, d) for a, b in ok):
            return d
    return decimals + most


def range_decimals(value, low, high, decimals: int = 2) -> int:
    """The decimals at which a figure prints apart from both bounds of the range beside it
    (:func:`apart_decimals`); every place that prints an O/E beside its expected range uses it.

    >>> range_decimals(0.5963, 0.6035, 1.3965), range_decimals(1.24, 0.82, 1.18)
    (3, 2)
    """
    return apart_decimals([(value, low), (value, high)], decimals)


def fmt_change(row, lang: str = "nl", decimals: int = 1) -> str:
    """The change from the previous period of a ``raw_previous`` comparison row, with its interval:
    a share difference in percentage points ("+4,1 procentpunt (−1,0 tot +9,3)"), a mean difference
    as it is ("+0,4 (−0,1 tot +0,9)").

    >>> fmt_change({"measure": "share_difference", "value": 0.041, "ci_low": -0.010, "ci_high": 0.093})
    '+4,1 procentpunt (−1,0 tot +9,3)'
    >>> fmt_change({"measure": "share_difference", "value": 0.041, "ci_low": -0.010, "ci_high": 0.093}, "en")
    '+4.1 percentage points (−1.0 to +9.3)'
    """
    w = ui(lang, "verdicts")
    scale = 100.0 if row.get("measure") == "share_difference" else 1.0
    parts = [None if is_missing(row.get(k)) else float(row.get(k)) * scale for k in ("value", "ci_low", "ci_high")]
    # an interval that excludes 0 never prints a bound of 0,0
    decimals = apart_decimals([(p, 0.0) for p in parts[1:]], decimals) if _signal(row) in ("higher", "lower") \
        else decimals
    value, low, high = (fmt_signed(p, decimals, lang) for p in parts)
    key = "change_points" if scale == 100.0 else "change"
    return w[key].format(value=value, low=low, high=high)


def fmt_expected_range(row, lang: str = "nl") -> str:
    """What stands beside an adjusted verdict: the O/E, the verdict and the range that chance and the
    usual differences between institutions explain (``expected_low`` – ``expected_high`` of an
    ``adjusted`` comparison row). Never called a confidence interval: it is where an institution
    without a real difference would lie. Without a verdict (``none``): "te weinig gegevens om te
    vergelijken".

    >>> fmt_expected_range({"signal": "higher", "measure": "oe_ratio", "value": 1.24, "expected_low": 0.82,
    ...                     "expected_high": 1.18})
    'W/V 1,24 — hoger dan verwacht; bij toeval en de gewone verschillen tussen instellingen verwacht tussen 0,82 en 1,18'
    >>> fmt_expected_range({"signal": "none", "measure": "oe_ratio", "value": 0.7}, "en")
    'too little data to compare'
    """
    w = ui(lang, "verdicts")
    signal = _signal(row)
    if signal == "none":
        return w["too_little"]
    ratio = row.get("measure", "oe_ratio") == "oe_ratio"
    d = range_decimals(row.get("value"), row.get("expected_low"), row.get("expected_high"), 2 if ratio else 1)
    f = lambda v: fmt_number(v, d, lang)  # noqa: E731
    return w["range_oe" if ratio else "range_mean"].format(
        value=f(row.get("value")), verdict=w["expected_" + signal],
        low=f(row.get("expected_low")), high=f(row.get("expected_high")))


def _case_mix_words(reference, lang: str) -> str:
    """Which young people a raw gap that the adjustment explains points to: the raw difference is
    unfavourable (more of a bad outcome, less of a good one) → the heavier problems; favourable →
    the lighter; an indicator without a better direction → their characteristics."""
    words = ui(lang, "verdicts")["case_mix"]
    fav = reference.get("favourable")
    if fav is None or is_missing(fav):
        return words["neutral"]
    return words["lighter" if bool(fav) else "heavier"]


def headline_sentence(value, *, adjusted=None, reference=None, previous=None, lang: str = "nl",
                      subject: str | None = None, unit: str | None = None, previous_label: str | None = None,
                      kind: str = "pct", decimals: int = 1, template: str | None = None,
                      comparator: Mapping[str, Any] | None = None, settings) -> str:
    """A headline figure in plain words, with the verdicts of the results store read as they are.

    Nothing is decided here: every "hoger", "lager", "gunstig" is a row of
    :meth:`Results.comparison <outcome_analysis.running.query.ResultsQuery.comparison>` (a mapping
    with ``signal``, ``favourable``, ``text_key``, ``value``, ``ci_low``, ``ci_high``,
    ``reference_value``, ``measure``), worded by its ``text_key`` (``data/texts/report.yaml``,
    section ``verdicts``).

    Parameters
    ----------
    value : number, (value, ci_low, ci_high) or mapping
        The institution's figure; with ``suppressed`` true only a sentence without a number.
    adjusted : mapping, optional
        The ``adjusted`` row (case-mix model). It leads: "Rekening houdend met de problematiek van de
        jongeren is dit cijfer zoals je mag verwachten", and it alone says "gunstig"/"ongunstig" for
        an indicator that has one.
    reference : mapping, optional
        The ``raw_reference`` row: the raw figure against the other institutions together, as
        context after the adjusted verdict (its ``text_key`` names both). Not said with comparator
        scope ``none``.
    previous : mapping, optional
        The ``raw_previous`` row: the change from ``previous_label`` (default "vorig jaar") with its
        interval; "gestegen"/"gedaald" only when that interval excludes 0.
    template, subject, unit, kind, decimals
        The first sentence: ``template`` with ``{value}`` (the registry's
        :meth:`~outcome_analysis.registry.Entry.sentence`), else "Bij {value} van de {unit}
        {subject}", else "De uitkomst is {value}".
    comparator : mapping, optional
        :func:`comparator`: names the others ("de andere instellingen samen", "de andere instellingen
        in deze levering samen"); default the national words.
    settings : Settings
        The threshold a suppressed figure's sentence names (``min_denominator``).

    >>> from outcome_analysis.settings import Settings
    >>> adj = {"signal": "within", "favourable": None, "text_key": "adjusted_within"}
    >>> ref = {"signal": "higher", "favourable": False, "text_key": "raw_higher_adjusted_within",
    ...        "reference_value": 0.242}
    >>> headline_sentence(0.31, adjusted=adj, reference=ref, settings=Settings(),
    ...                   template="Bij {value} van de afgesloten trajecten stopte de hulp voortijdig")
    'Bij 31,0% van de afgesloten trajecten stopte de hulp voortijdig. Rekening houdend met de problematiek van de jongeren is dit cijfer zoals je mag verwachten. Het ruwe cijfer (31,0%) is hoger dan bij de andere instellingen samen (24,2%), maar past bij de zwaardere problematiek van de jongeren.'
    >>> prev = {"signal": "within", "favourable": None, "text_key": "previous_within", "measure": "share_difference",
    ...         "value": 0.041, "ci_low": -0.010, "ci_high": 0.093, "reference_value": 0.269}
    >>> ref = {"signal": "lower", "favourable": True, "text_key": "raw_lower", "reference_value": 0.4}
    >>> headline_sentence(0.31, reference=ref, previous=prev, settings=Settings())
    'De uitkomst is 31,0%. Dat is lager dan bij de andere instellingen samen (40,0%) — gunstig. Vergelijkbaar met vorig jaar (26,9%): +4,1 procentpunt (−1,0 tot +9,3).'
    """
    ph = ui(lang, "phrases")
    unit = unit or ph["unit"]
    fmt = {"pct": lambda v: fmt_pct(v, decimals, lang), "ratio": lambda v: fmt_ratio(v, 2, lang),
           "number": lambda v: fmt_number(v, decimals, lang)}[kind]
    me = _estimate(value)
    if me is None or me["suppressed"] or is_missing(me["value"]):
        if me is not None and me["suppressed"]:
            said = hidden_share_words(value, settings, lang, unit, ph, "suppressed") or \
                ph["suppressed"].format(n=settings.min_denominator, unit=unit)
            # the verdict word may stay (no number): the adjusted verdict of the hidden figure
            words = comparator if comparator is not None else _comparator_words("national", 0, lang)
            if adjusted is not None and words.get("scope") != "none" and _signal(adjusted) in ("higher", "lower", "within"):
                said += " " + ui(lang, "verdicts")["adjusted_" + _signal(adjusted)] + _favourable_word(adjusted, lang) + "."
            return said
        return ph["plain"].format(v=MISSING_MARK[lang])
    v = fmt(me["value"])
    if template:
        first = template.strip().rstrip(".").format(value=v)
        first = first[:1].upper() + first[1:] + "."
    elif subject and kind == "pct":
        first = ph["with_subject"].format(v=v, unit=unit, subject=subject.strip().rstrip("."))
    else:
        first = ph["plain"].format(v=v)
    parts = verdict_sentences(me["value"], adjusted=adjusted, reference=reference, previous=previous, lang=lang,
                              previous_label=previous_label, kind=kind, decimals=decimals, comparator=comparator)
    return " ".join([first, *(p for p in parts.values() if p)])


def hidden_share_words(row, settings, lang: str, unit: str, words: Mapping[str, str], prefix: str) -> str | None:
    """The band a hidden share is said as (:func:`outcome_analysis.statistics.disclosure.band`): "…
    minder dan 10 van de 40 {unit}" / "meer dan 30 van de 40 {unit}", from ``words``'
    ``<prefix>_below`` / ``<prefix>_above`` (``suppressed_…`` of the phrases, ``verborgen_…`` of the
    status sentences);
    ``None`` without counts, or when the denominator itself is below ``min_denominator`` (then no
    number is said at all)."""
    from outcome_analysis.statistics.disclosure import band

    get = row.get if hasattr(row, "get") else (lambda k, d=None: d)
    num, den = get("numerator"), get("denominator")
    if is_missing(num) or is_missing(den) or float(den) < settings.min_denominator:
        return None
    b = band(num, den, settings.min_cell)
    if b is None:
        return None
    side, k, n = b
    return words[f"{prefix}_{side}"].format(k=fmt_int(k, lang), n=fmt_int(n, lang), unit=unit)


def verdict_sentences(value, *, adjusted=None, reference=None, previous=None, lang: str = "nl",
                      previous_label: str | None = None, kind: str = "pct", decimals: int = 1,
                      comparator: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The verdict rows of one figure in words, one sentence each (empty when there is nothing to
    say): ``{"adjusted": ..., "reference": ..., "previous": ...}``; the rules of
    :func:`headline_sentence`, which joins them after the figure. ``value`` is the figure (a number).

    >>> verdict_sentences(0.31, reference={"signal": "within", "text_key": "raw_within_adjusted_within",
    ...                                     "reference_value": 0.3}, adjusted={"signal": "within",
    ...                                     "text_key": "adjusted_within"})["reference"]
    'Ook zonder die correctie is het vergelijkbaar met de andere instellingen samen (30,0%).'

    An adjusted row without a verdict (``none``: too little expected) is not worded here (the
    indicator's section says so beside its range); it still keeps the raw gap from judging.
    """
    ph = ui(lang, "phrases")
    w = ui(lang, "verdicts")
    fmt = {"pct": lambda v: fmt_pct(v, decimals, lang), "ratio": lambda v: fmt_ratio(v, 2, lang),
           "number": lambda v: fmt_number(v, decimals, lang)}[kind]
    out = {"adjusted": "", "reference": "", "previous": ""}
    words = comparator if comparator is not None else _comparator_words("national", 0, lang)
    compared = words.get("scope") != "none"
    has_adjusted = compared and adjusted is not None and adjusted.get("text_key") != "suppressed"
    if has_adjusted and _signal(adjusted) != "none":
        out["adjusted"] = w["adjusted_" + _signal(adjusted)] + _favourable_word(adjusted, lang) + "."
    if compared and reference is not None and _signal(reference) != "none":
        key = str(reference.get("text_key") or "raw_" + _signal(reference))
        text = w.get(key) or w["raw_" + _signal(reference)]
        fav = "" if has_adjusted else _favourable_word(reference, lang)  # the adjusted verdict alone judges
        out["reference"] = text.format(v=fmt(value), ref=fmt(reference.get("reference_value")),
                                       others=words["others_together"],
                                       case_mix=_case_mix_words(reference, lang)) + fav + "."
    if previous is not None and _signal(previous) != "none":
        fav = "" if has_adjusted else _favourable_word(previous, lang)
        out["previous"] = w["previous_" + _signal(previous)].format(
            p=previous_label or ph["last_year"], prev=fmt(previous.get("reference_value")),
            change=fmt_change(previous, lang, decimals)) + fav + "."
    return out


# --------------------------------------------------------------------------------------------
# the comparator: what the pooled figure is called (one rule for every report)
# --------------------------------------------------------------------------------------------
def comparison_scope(settings, n_institutions: int = 2) -> str:
    """What an institution's figure is compared with: the one rule every report, overview, plot,
    question and the explorer follow.

    ``"none"`` when the delivery holds fewer than two institutions (an institution is never compared
    with itself); else ``"national"`` when the delivery is declared national
    (``settings.delivery_scope == "national"``, as the demo is); else ``"delivery"``: all
    institutions in this delivery together.

    >>> from outcome_analysis.settings import Settings
    >>> comparison_scope(Settings(), 12), comparison_scope(Settings(delivery_scope="national"), 12)
    ('delivery', 'national')
    >>> comparison_scope(Settings(delivery_scope="national"), 1)
    'none'
    """
    if int(n_institutions) < 2:
        return "none"
    return "national" if settings.delivery_scope == "national" else "delivery"


def comparison_group(care_types: Sequence[str] = (), delivery_care_types: Sequence[str] = ()) -> str:
    """Which institutions the pooled figure holds, as a key of ``texts/report.yaml`` ``comparator``
    ``groups``: ``"jeugdhulp"`` (jeugdhulp providers) or ``"jbjr"`` (institutions for JB and JR)
    when ``care_types`` (the report's care types) are one family and the delivery holds another
    family too; else ``""`` (all institutions of the delivery).

    >>> comparison_group(("jb", "jr"), ("jeugdhulp", "jb", "jr")), comparison_group(("jeugdhulp",), ("jeugdhulp",))
    ('jbjr', '')
    """
    mine = {"jeugdhulp" if c == "jeugdhulp" else "jbjr" for c in care_types}
    held = {"jeugdhulp" if c == "jeugdhulp" else "jbjr" for c in delivery_care_types}
    if len(mine) == 1 and held - mine:
        return next(iter(mine))
    return ""


def _comparator_words(scope: str, n: int, lang: str, institution: str = "", group: str = "") -> dict[str, Any]:
    texts_ = ui(lang, "comparator")
    raw = texts_[scope]
    n_text = fmt_int(n, lang)
    fill = {"{n}": n_text, "{institution}": str(institution), "{group}": texts_["groups"][group or "all"],
            "{group_short}": texts_["groups_short"][group or "all"]}

    def filled(v: str) -> str:
        for k, w in fill.items():
            v = v.replace(k, w)
        return v

    words = {k: (filled(v) if isinstance(v, str) else v) for k, v in raw.items()}
    return {**words, "scope": scope, "n": int(n), "group": group}


def comparator(settings, n_institutions: int = 2, lang: str = "nl", *, institution: str = "",
               group: str = "") -> dict[str, Any]:
    """The words for the pooled figure, in the scope :func:`comparison_scope` decides.

    Returns
    -------
    dict
        ``scope`` (``national`` | ``delivery`` | ``none``), ``n`` (institutions in the delivery) and
        the texts of ``data/texts/report.yaml`` (section ``comparator``) with ``{n}`` and ``{institution}``
        filled in: ``label`` (a column header or legend: "Landelijk", "Alle instellingen (12)"),
        ``name`` (in a sentence: "landelijk", "alle instellingen in deze levering (12)"), ``value``
        (with ``{v}`` still to fill), ``higher`` / ``lower`` / ``within`` (verdict phrases with
        ``{v}``), ``than``, ``with`` (for dialogue questions), ``scope_note``, ``overview_title``,
        ``overview_short``, ``trends``, ``trend_caption``, ``share``, ``others``. With scope ``none``
        the label and names are empty: there is nothing to compare with. ``group``
        (:func:`comparison_group`) names the institutions pooled when they are one care-type family
        of a delivery with more: "alle jeugdhulpaanbieders in deze levering (35)".

    >>> from outcome_analysis.settings import Settings
    >>> comparator(Settings(), 12)["label"], comparator(Settings(), 12)["name"]
    ('Alle instellingen (12)', 'alle instellingen in deze levering (12)')
    >>> comparator(Settings(), 1, institution="Jeugdzorg Zuid")["scope_note"]
    'Deze levering bevat alleen Jeugdzorg Zuid; er is geen vergelijking met andere instellingen.'
    """
    return _comparator_words(comparison_scope(settings, n_institutions), n_institutions, lang, institution, group)


def family_comparator(results, care_types: Sequence[str], lang: str = "nl", *, institution: str = "") -> dict[str, Any]:
    """:func:`comparator` for the care-type family of ``care_types`` in ``results`` (an
    :class:`outcome_analysis.results.Results`): N its institutions
    (``results.family_institutions``), the group named when the delivery holds other families too.
    ``institution`` defaults to the family's first institution (named when it is alone). With a
    published national reference in the results (``meta["reference"]``, ``run_reports.py
    --reference``) the scope is ``reference``: "landelijk", its source in the ``scope_note``. The
    institution report and the overview both ask this."""
    members = results.family_institutions(care_types)
    family = tuple(dict.fromkeys(c for care_type in care_types for c in _family_of(care_type)))
    group = comparison_group(family, results.care_types_of())
    published = (getattr(results, "meta", None) or {}).get("reference")
    if published:  # a published national reference: "landelijk", with its source
        words = _comparator_words("reference", len(members), lang, institution or (members or [""])[0], group)
        sources = "; ".join(published.get("sources") or [])
        return {k: (v.replace("{source}", sources) if isinstance(v, str) else v) for k, v in words.items()}
    return comparator(results.settings, len(members), lang, institution=institution or (members or [""])[0],
                      group=group)


def _family_of(care_type: str) -> tuple[str, ...]:
    from outcome_analysis.running.results import care_type_family  # late: report stays free of the computing modules

    return care_type_family(care_type)


def with_care_type(label: str, care_type: str, lang: str = "nl", *, sep: str = " ({care})") -> str:
    """An indicator label with its care type, unless the label already names it: "Cliëntervaring
    (jeugdreclassering)", but "Reden beëindiging jeugdreclassering" as it is.

    >>> with_care_type("Reden beëindiging jeugdreclassering", "jr"), with_care_type("Uitval", "jeugdhulp")
    ('Reden beëindiging jeugdreclassering', 'Uitval (jeugdhulp)')
    """
    from outcome_analysis.indicators.registry import care_type_label

    care = care_type_label(care_type, _check_lang(lang))
    if care.casefold() in str(label).casefold():
        return str(label)
    return str(label) + sep.format(care=care)


# --------------------------------------------------------------------------------------------
# indicator status in words
# --------------------------------------------------------------------------------------------
def status_word(status: str, lang: str = "nl") -> str:
    """The short word for a status (``results.STATUSES``): "niet aangeleverd", "verborgen", ..."""
    return ui(lang, "status")["words"].get(status, status)


def contract_part_label(part: str, lang: str = "nl") -> str:
    """A contract part as a reader names it: ``experience`` → "ervaringsvragen (tabel experience)"."""
    return ui(lang, "contract_parts").get(part, part)


def status_sentence(status: str, lang: str = "nl", *, reason: str = "", institution: str = "",
                    care_type: str | Sequence[str] = "", period: str = "", unit: str = "trajectory",
                    settings, counts: Mapping[str, Any] | None = None) -> str:
    """A status in one sentence, never an error: "Niet aangeleverd: deze levering bevat geen
    ervaringsvragen (tabel experience).", "Niet van toepassing: GI Zuid biedt geen
    jeugdreclassering.", "Te weinig gegevens: minder dan 10 afgesloten trajecten in 2024.",
    "Verborgen (minder dan 10): ...". Empty for ``getoond``.

    ``reason`` is the status row's reason (the missing contract part, ``few`` or ``none_ended``);
    ``institution`` empty means the delivery as a whole; ``care_type`` is a code (``jr``) or a
    sequence of codes (joined with "en");
    ``unit`` the registry's counting unit; ``settings`` (required) the threshold the sentences name.

    >>> from outcome_analysis.settings import Settings
    >>> status_sentence("niet_aangeleverd", reason="experience", settings=Settings())
    'Niet aangeleverd: deze levering bevat geen ervaringsvragen (tabel experience).'
    >>> status_sentence("niet_van_toepassing", institution="GI Zuid", care_type="jr", settings=Settings())
    'Niet van toepassing: GI Zuid biedt geen jeugdreclassering.'
    """
    if status == "getoond":
        return ""
    t = ui(lang, "status")
    from outcome_analysis.indicators.registry import care_type_label

    codes = [care_type] if isinstance(care_type, str) else list(care_type or ())
    care = f" {ui(lang, 'phrases')['and']} ".join(care_type_label(c, lang) for c in codes if c)
    shown_period = fmt_period(period, lang) if period else ""
    if status == "niet_aangeleverd":
        return t["niet_aangeleverd"].format(part=contract_part_label(reason, lang))
    if status == "niet_van_toepassing":
        key = "niet_van_toepassing" if institution else "niet_van_toepassing_delivery"
        return t[key].format(institution=institution, care_type=care)
    if status == "te_weinig_gegevens":
        key = {"none_ended": "te_weinig_gegevens_none_ended",
               "few_with_data": "te_weinig_gegevens_few_with_data"}.get(reason, "te_weinig_gegevens_few")
        return t[key].format(n=settings.min_denominator, unit=t["units"].get(unit, unit), period=shown_period,
                             care_type=care)
    if status == "verborgen":
        # a share hidden by the two-cell rule is said as its band ("minder dan 10 van de 40"), with
        # ``counts`` (its row's numerator and denominator)
        said = hidden_share_words(counts, settings, lang, t["units"].get(unit, unit), t, "verborgen") if counts else None
        return said or t["verborgen"].format(n=settings.min_cell)
    raise ReportError(f"unknown indicator status {status!r}")


# --------------------------------------------------------------------------------------------
# dialogue questions
# --------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def question_bank() -> tuple[dict, ...]:
    """The dialogue question bank (``data/texts/dialogue.yaml``), checked: every entry has an id, a known
    level, ``when`` and both languages."""
    raw = texts.load("dialogue")["questions"]
    seen = set()
    for q in raw:
        missing = [k for k in ("id", "level", "when", "nl", "en") if k not in q]
        if missing:
            raise ReportError(f"dialogue.yaml: question {q.get('id', q)!r} lacks {missing}")
        if q["level"] not in LEVELS:
            raise ReportError(f"dialogue.yaml: question {q['id']!r} has unknown level {q['level']!r}")
        if q["id"] in seen:
            raise ReportError(f"dialogue.yaml: duplicate question id {q['id']!r}")
        seen.add(q["id"])
    return tuple(raw)


_TESTS = {
    "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b, "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b, "in": lambda a, b: a in b, "ne": lambda a, b: a != b,
}


def _holds(condition, fact) -> bool:
    if fact is None:
        return False
    if not isinstance(fact, (str, bool)) and is_missing(fact):
        return False
    if isinstance(condition, Mapping):
        for op, ref in condition.items():
            if op not in _TESTS:
                raise ReportError(f"dialogue.yaml: unknown test {op!r}; use one of {sorted(_TESTS)}")
            try:
                if not _TESTS[op](fact, ref):
                    return False
            except TypeError:
                return False
        return True
    return fact == condition


class _Facts(dict):
    def __missing__(self, key):
        raise KeyError(key)


def _fill(text: str, facts: Mapping[str, Any], lang: str) -> str | None:
    shown = {}
    for k, v in facts.items():
        if isinstance(v, float) and k.endswith(("_days", "days")):
            shown[k] = fmt_number(v, 0, lang)
        elif isinstance(v, float):
            shown[k] = fmt_number(v, 1, lang)
        else:
            shown[k] = str(v)
    try:
        return text.format_map(_Facts(shown))
    except (KeyError, IndexError, ValueError):
        return None


def dialogue_questions(facts: Mapping[str, Any], lang: str = "nl", *, max_per_level: int = 4) -> dict[str, list[str]]:
    """Questions for the kwaliteitsgesprek at the three levels, chosen by what the figures show.

    Parameters
    ----------
    facts : mapping
        What the figures show, e.g. ``{"uitval": "higher", "response": 0.35, "trend": "falling",
        "indicator": "Uitval"}``; the vocabulary is documented at the top of
        ``data/texts/dialogue.yaml``. Absent facts never trigger a question.
    lang : "nl" or "en"
    max_per_level : int
        At most this many questions per level, in the bank's order.

    Returns
    -------
    dict
        ``{"client_professional": [...], "organisation": [...], "external": [...]}``; a level
        where no condition holds gets its general (fallback) question. Keys are :data:`LEVELS`;
        their labels are :data:`LEVEL_LABELS`.
    """
    _check_lang(lang)
    chosen: dict[str, list[str]] = {level: [] for level in LEVELS}
    fallbacks: dict[str, list[str]] = {level: [] for level in LEVELS}
    for q in question_bank():
        when = q["when"] or {}
        text = _fill(q[lang], facts, lang)
        if text is None:
            continue
        if not when:
            fallbacks[q["level"]].append(text)
        elif all(_holds(cond, facts.get(name)) for name, cond in when.items()):
            if text not in chosen[q["level"]]:
                chosen[q["level"]].append(text)
    return {level: (chosen[level] or fallbacks[level])[:max_per_level] for level in LEVELS}


def dialogue_html(questions: Mapping[str, Sequence[str]], lang: str = "nl") -> HTML:
    """The questions of :func:`dialogue_questions` as an escaped HTML block, one list per level."""
    labels = ui(lang, "levels")
    e = _html.escape
    parts = ['<div class="oa-dialogue">']
    for level in LEVELS:
        items = questions.get(level) or []
        if items:
            parts.append(f"<h4>{e(labels[level])}</h4><ul>")
            parts.extend(f"<li>{e(q)}</li>" for q in items)
            parts.append("</ul>")
    parts.append("</div>")
    return HTML("".join(parts))


# --------------------------------------------------------------------------------------------
# file names
# --------------------------------------------------------------------------------------------
SLUG_MAX = 48


def slugify(name: str, *, max_length: int = SLUG_MAX, hashed: bool = True, fallback: str = "instelling") -> str:
    """A safe file name stem for an institution: ASCII slug of the name + ``-`` + the first 8 hex
    digits of the SHA-256 of the full name (UTF-8).

    Only ``[a-z0-9-]``; never empty, never ``..`` or ``/``, at most ``max_length + 9`` characters,
    and not a Windows device name. Different names give different slugs (the hash), also when
    their ASCII forms coincide. ``hashed=False`` leaves the hash off (the explorer's export names,
    which carry a timestamp); ``fallback`` is the stem of a name without any ASCII letter or digit.

    >>> slugify("Stichting Jeugd Zuid")
    'stichting-jeugd-zuid-9051453c'
    >>> slugify("jh_uitval-jeugdhulp-2024", max_length=80, hashed=False, fallback="export")
    'jh-uitval-jeugdhulp-2024'
    """
    if not isinstance(name, str):
        raise ReportError(f"slugify needs the institution name as text, got {type(name).__name__}")
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    ascii_name = ascii_name.replace("&", " en ").replace("'", "")
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")
    stem = stem[:max_length].rstrip("-") or fallback
    return f"{stem}-{digest}" if hashed else stem
