"""The story of one institution's report: what ``notebooks/institution_report.ipynb`` shows, in order.

The notebook tells, this module assembles: it selects the institution's slice of a
:class:`~outcome_analysis.results.Results`, builds the headline table, the per-indicator sections,
the facts behind the dialogue questions, the data-quality and the methods sections. Every section
method returns a list of displayable objects (escaped :class:`~outcome_analysis.report.HTML` and
PNG images); the notebook only calls ``show(...)``.

Nothing here computes an indicator: numbers come from the results store, labels from the registry,
formatting and suppression display from :mod:`outcome_analysis.report`, figures from
:mod:`outcome_analysis.plots`. Other institutions are never named; small numbers are never shown.

Example
-------
>>> from outcome_analysis import story
>>> s = story.prepare(results, institution="Stichting Jeugd Zuid", period="2024")   # doctest: +SKIP
>>> story.show(s.summary())                                                        # doctest: +SKIP
"""
from __future__ import annotations

import html as _htmllib
import io as _io
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from outcome_analysis.indicators import registry
from . import report
from outcome_analysis.contract import schema
from outcome_analysis.contract.periods import parse_period, previous_period
from outcome_analysis.indicators.quality import item_label
from outcome_analysis.running.results import Results, care_type_family, compute_results, modelled_period
from outcome_analysis.settings import Settings

LANGS = ("nl", "en")

#: status of a story: ``ok`` or why there is no report.
STATUSES = ("ok", "unknown_institution", "no_ended", "all_suppressed")

#: indicator sets in the order of the report (context items are a section of their own).
SET_ORDER = ("basisset_jbjr", "jeugdhulp_harmonised", "prestatie")

CARE_TYPE_LABELS = {lang: {c: registry.care_type_label(c, lang) for c in ("jeugdhulp", "jb", "jr")} for lang in LANGS}

#: short care-type marks for narrow table cells (registry ``care_type_labels``).
CARE_TYPE_SHORT = {c: registry.care_type_label(c, short=True) for c in ("jeugdhulp", "jb", "jr")}

#: the texts of the institution report (``data/texts/report.yaml``, section ``story``), nl and en.
TEXTS = {lang: report.ui(lang, "story") for lang in LANGS}


class StoryError(report.ReportError):
    """A story that cannot be told as asked (unknown language, no results)."""


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise StoryError(f"unknown report language {lang!r}; use one of {LANGS}")
    return lang


def category_label(category: str, lang: str = "nl") -> str:
    """Readable label of a breakdown category such as ``end_reason:volgens_plan`` (from the registry)."""
    return registry.category_label(category, _check_lang(lang))


def care_type_label(care_type: str, lang: str = "nl") -> str:
    """``jb`` → ``jeugdbescherming`` (from the registry)."""
    return registry.care_type_label(care_type, _check_lang(lang))


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------
def load(data_path: str = "", results_path: str | None = "", period: str = "", granularity: str = "year"):
    """The results a report needs, and the data set when it had to be read.

    With ``results_path`` the stored results are read (a batch computed them once). Otherwise the
    data at ``data_path`` is loaded and :func:`~outcome_analysis.results.compute_results` runs for
    ``period`` (default: the latest complete period) under the delivery's own ``settings.yaml``
    when it has one, else the defaults (:func:`outcome_analysis.settings.for_delivery`, as the
    batch does).

    Returns
    -------
    (Results, Dataset or None)
    """
    if results_path:
        return Results.load(results_path), None
    from outcome_analysis.contract import io
    from outcome_analysis.settings import for_delivery

    data = io.load(data_path)
    if period:
        granularity = parse_period(period)[2]
    periods = [period] if period else None
    settings, _source = for_delivery(data_path)
    return compute_results(data, settings, granularity=granularity, periods=periods), data


def default_period(results: Results) -> str:
    """The report period of the results (the latest one computed)."""
    periods = results.meta.get("periods") or results.meta.get("all_periods") or []
    if not periods:
        raise StoryError("the results hold no report period")
    return str(periods[-1])


def default_institution(results: Results, period: str) -> str:
    """The institution with the most ended trajectories in ``period`` (ties: alphabetical)."""
    q = results.quality
    rows = q[(q["scope"] == "institution") & (q["period"] == period) & (q["item"] == "end_reason")]
    if len(rows):
        sizes = rows.groupby("institution")["denominator"].sum()
        sizes = sizes.sort_index().sort_values(ascending=False, kind="stable")
        return str(sizes.index[0])
    names = results.institutions
    if not names:
        raise StoryError("the results name no institution")
    return names[0]


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------
def show(items) -> None:
    """Display a section's items in a notebook (HTML, images); ``None`` items are skipped."""
    from IPython.display import display

    for item in items or []:
        if item is not None:
            display(item)


def _e(text) -> str:
    return _htmllib.escape(str(text))


def _html(text: str) -> report.HTML:
    return report.HTML(text)


def _p(text: str, cls: str = "oa-note") -> report.HTML:
    return report.HTML(f'<p class="{cls}">{_e(text)}</p>')


def _figure(width: float, height: float, ncols: int = 1, width_ratios=None):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, gridspec_kw={"width_ratios": width_ratios} if width_ratios else None)
    return fig, axes


def _png(fig, dpi: int = 120):
    """A figure as an embedded PNG image (never registered with pyplot, so never shown twice)."""
    from IPython.display import Image

    buffer = _io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.05)  # legends below the axes stay whole
    return Image(data=buffer.getvalue(), format="png")


def _missing(x) -> bool:
    return report._is_missing(x)


def _suppressed(row) -> bool:
    if row is None:
        return True
    value = row.get("suppressed", False)
    return bool(value) if not _missing(value) else False


# --------------------------------------------------------------------------------------------
# the story
# --------------------------------------------------------------------------------------------
@dataclass
class Story:
    """One institution's report: the slice of the results, and every section as displayable items.

    Build it with :func:`prepare`. ``status`` is ``"ok"`` or why there is no report
    (:data:`STATUSES`); :meth:`too_little_page` tells the reader.
    """

    results: Results
    institution: str
    period: str
    lang: str = "nl"
    care_types: tuple[str, ...] = ()
    status: str = "ok"
    data: object | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    # -- basics ---------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def period_text(self) -> str:
        """The report period for prose ("het eerste halfjaar van 2024" for ``2024H1``)."""
        return report.fmt_period(self.period, self.lang)

    @property
    def t(self) -> dict:
        """The report's texts, with ``{comparator}`` / ``{comparator_label}`` filled in for this
        delivery (:attr:`comparator`)."""
        key = ("texts", self.lang)
        if key not in self._cache:
            c = self.comparator
            self._cache[key] = {k: (v.replace("{comparator_label}", c["label"]).replace("{comparator}", c["name"])
                                    if isinstance(v, str) else v) for k, v in TEXTS[self.lang].items()}
        return self._cache[key]

    @property
    def comparator(self) -> dict:
        """The words for the pooled figure (:func:`outcome_analysis.report.comparator`): decided by
        the settings' ``delivery_scope`` and the number of institutions in the delivery that have
        trajectories of this report's care types (the pooled JB figure of a delivery with one GI
        and two jeugdhulp providers is the GI's own: there is nothing to compare it with)."""
        key = ("comparator", self.lang)
        if key not in self._cache:
            words = report.family_comparator(self.results, self.family_care_types, self.lang,
                                             institution=self.institution)
            if words["scope"] == "none" and len(self.results.institutions) > 1:
                care = f" {TEXTS[self.lang]['and']} ".join(care_type_label(c, self.lang) for c in self.family_care_types)
                words["scope_note"] = TEXTS[self.lang]["scope_note_alone_in_family"].format(care_types=care)
            self._cache[key] = words
        return self._cache[key]

    @property
    def compared(self) -> bool:
        """Whether there is a pooled figure to compare with (two or more institutions)."""
        return self.comparator["scope"] != "none"

    @property
    def family_care_types(self) -> tuple[str, ...]:
        """The care types this report speaks about: those of the families (jeugdhulp; JB and JR)
        the institution has trajectories of. A GI with only JB still hears that JR indicators do
        not apply; a jeugdhulp provider is not told about JB."""
        served = set(self.results.care_types_of(self.institution)) | set(self.care_types)
        family = {c for care_type in served for c in care_type_family(care_type)}
        return tuple(c for c in schema.CARE_TYPES if c in family)

    @property
    def offered_care_types(self) -> tuple[str, ...]:
        """The care types of :attr:`family_care_types` the institution has trajectories of: the
        report's rows and sections are about these; the others are said once
        (:meth:`absent_sentence`), not per indicator."""
        served = set(self.results.care_types_of(self.institution)) | set(self.care_types)
        return tuple(c for c in self.family_care_types if c in served)

    def absent_sentence(self, set_id: str | None = None) -> str:
        """"GI Zuid biedt in deze levering geen jeugdbescherming; die cijfers staan daarom niet in dit
        rapport." for the care types of the family the institution does not offer (of ``set_id``'s
        indicators, when given); empty when it offers them all."""
        absent = [c for c in self.family_care_types if c not in self.offered_care_types]
        if set_id is not None:
            absent = [c for c in absent if any(c in e.care_types for e in registry.REGISTRY.values()
                                               if e.set == set_id and e.kind != "context")]
        if not absent:
            return ""
        care = f" {TEXTS[self.lang]['and']} ".join(care_type_label(c, self.lang) for c in absent)
        return TEXTS[self.lang]["absent_care_types"].format(institution=self.institution, care_types=care)

    def indicator_status(self, entry: registry.Entry, care_type: str) -> dict:
        """The status row of one indicator and care type for this institution
        (:meth:`outcome_analysis.results.Results.status_of`): computed once in the results."""
        key = ("status", entry.id, care_type)
        if key not in self._cache:
            self._cache[key] = self.results.status_of(entry.id, care_type, self.institution, self.period)
        return self._cache[key]

    def status_text(self, entry: registry.Entry, care_type: str) -> str:
        """The status of one indicator and care type in one sentence; empty when it is shown."""
        row = self.indicator_status(entry, care_type)
        return report.status_sentence(row["status"], self.lang, reason=row["reason"], institution=self.institution,
                                      care_type=care_type, period=row["period"], unit=entry.unit,
                                      settings=self.settings)

    @property
    def settings(self) -> Settings:
        return self.results.settings

    @property
    def previous(self) -> str:
        return previous_period(self.period)

    def heading(self, key: str, level: int = 2, page_break: bool = True) -> report.HTML:
        """A section heading in the report's language (h2 starts a new page in the PDF unless
        ``page_break`` is false)."""
        text = self.t.get(key, key)
        cls = "" if page_break or level != 2 else ' class="oa-nobreak"'
        return _html(f"<h{level}{cls}>{_e(text)}</h{level}>")

    def entries(self, set_id: str | None = None) -> list[registry.Entry]:
        """Registry entries (not context) that apply to one of the care types of the report
        (:attr:`family_care_types`)."""
        return [e for e in registry.REGISTRY.values()
                if e.kind != "context" and (set_id is None or e.set == set_id)
                and any(c in e.care_types for c in self.offered_care_types)]

    def entry_care_types(self, entry: registry.Entry) -> list[str]:
        """The care types of ``entry`` this report shows: those the institution offers (the others
        are said once, :meth:`absent_sentence`)."""
        return [c for c in self.offered_care_types if c in entry.care_types]

    def shown_care_types(self, entry: registry.Entry) -> list[str]:
        """The care types of ``entry`` whose figure is shown or hidden by disclosure control
        (status ``getoond`` or ``verborgen``); the others are said in words (:meth:`status_text`)."""
        return [c for c in self.entry_care_types(entry)
                if self.indicator_status(entry, c)["status"] in ("getoond", "verborgen")]

    def shown_period(self, entry: registry.Entry) -> str:
        """The period whose figure is shown: the report period, or for an indicator with a follow-up
        window the latest period whose window has passed at the reference date."""
        shown = modelled_period(entry, self.period, self.results.reference_date, self.settings)
        return shown or self.period

    def _rows(self, entry: registry.Entry, care_type: str, period: str, scope: str, category: str = "") -> pd.DataFrame:
        key = ("rows", entry.id, care_type, period, scope, category)
        if key not in self._cache:
            t = self.results.indicators
            mask = ((t["indicator"] == entry.id) & (t["period"] == period) & (t["care_type"] == care_type)
                    & (t["scope"] == scope))
            if scope == "institution":
                mask &= t["institution"] == self.institution
            if category is not None:
                mask &= t["category"] == category
            rows = t.loc[mask]
            months = entry.window_months(self.settings)
            if months and "window_months" in rows:
                rows = rows[rows["window_months"].astype("Float64").fillna(months) == months]
            self._cache[key] = rows
        return self._cache[key]

    def figure(self, entry: registry.Entry, care_type: str, period: str | None = None, scope: str = "institution"):
        """The headline row (category ``""``) as a dict, or ``None``."""
        rows = self._rows(entry, care_type, period or self.shown_period(entry), scope)
        return None if rows.empty else rows.iloc[0].to_dict()

    def national(self, entry: registry.Entry, care_type: str, period: str) -> dict:
        """The pooled headline row, as every cell that prints it reads it: ``{}`` when there is no
        comparison (:attr:`compared`); ``value`` NaN and ``hidden`` true when disclosure control hides
        it (marked suppressed, or its denominator below ``min_denominator``)."""
        if not self.compared:
            return {}
        nat = self.figure(entry, care_type, period, scope="national")
        if not nat:
            return {}
        if report.figure_hidden(nat, self.settings.min_denominator):
            return dict(nat, value=np.nan, ci_low=np.nan, ci_high=np.nan, hidden=True)
        return dict(nat, hidden=False)

    def adjusted_row(self, entry: registry.Entry, care_type: str):
        """The case-mix row whose verdict this report may state, and why not otherwise: ``(row, "")``
        or ``(None, reason)`` with reason ``"small"`` (too few records, or the figure is hidden) or
        ``"nomodel"`` (no model fitted, or no O/E). The Kerncijfers and the indicator section both
        read it, so they never disagree."""
        cm = self.casemix_row(entry, care_type) if self.compared else None
        if cm is None:
            return None, "nomodel"
        if cm.get("n", 0) < self.settings.min_denominator:
            return None, "small"
        if _missing(cm.get("oe_ratio")):
            return None, "nomodel"
        summary = self.model_row(entry, care_type, cm["period"])
        if summary is not None and summary.get("model") == "none":
            return None, "nomodel"
        return cm, ""

    def casemix_row(self, entry: registry.Entry, care_type: str):
        """This institution's case-mix row for the report period (``None`` when absent)."""
        c = self.results.casemix
        if c.empty:
            return None
        rows = c[(c["indicator"] == entry.id) & (c["report_period"] == self.period) & (c["care_type"] == care_type)
                 & (c["institution"] == self.institution)]
        return None if rows.empty else rows.iloc[0].to_dict()

    def casemix_all(self, entry: registry.Entry, care_type: str) -> pd.DataFrame:
        """Every institution's case-mix row (for the funnel), small ones marked ``suppressed``."""
        c = self.results.casemix
        rows = c[(c["indicator"] == entry.id) & (c["report_period"] == self.period) & (c["care_type"] == care_type)]
        return rows.assign(suppressed=rows["n"] < self.settings.min_denominator)

    def _label(self, entry: registry.Entry, care_type: str | None = None) -> str:
        label = entry.label(self.lang)
        if care_type and len(entry.care_types) > 1 and len(self.offered_care_types) > 1:
            label += f" ({CARE_TYPE_SHORT.get(care_type, care_type)})"
        return label

    def _signal_text(self, cm) -> str:
        t = self.t
        if cm is None or cm.get("n", 0) < self.settings.min_denominator or _missing(cm.get("oe_ratio")):
            return t["signal_none"]
        return t.get(f"signal_{cm.get('signal')}", t["signal_none"])

    # -- summary --------------------------------------------------------------------------
    def summary_entries(self) -> list[registry.Entry]:
        """The headline indicators of the summary: share indicators with a headline, not restating another."""
        return [e for e in self.entries() if e.headline == "share" and not e.same_as and not e.restates]

    def headline_frame(self) -> pd.DataFrame:
        """One row per (indicator, care type) of the summary: the figures behind the headline table,
        or the status that replaces them.

        Columns: ``indicator``, ``care_type``, ``label``, ``shown_period``, ``status`` (the results'
        status: ``getoond``, ``verborgen``, ``te_weinig_gegevens``, ``niet_van_toepassing``,
        ``niet_aangeleverd``), ``status_text`` (it in one sentence; empty when shown),
        ``numerator``, ``denominator``, ``value``, ``ci_low``, ``ci_high``, ``suppressed`` (true
        for every row without a figure to show), ``national_value``, ``national_ci_low``,
        ``national_ci_high`` (NaN without a comparator), ``previous_value``,
        ``previous_suppressed``, ``signal``, ``oe_ratio``, ``direction``.
        """
        rows = []
        for entry in self.summary_entries():
            shown = self.shown_period(entry)
            for care_type in self.entry_care_types(entry):
                status = self.indicator_status(entry, care_type)["status"]
                mine = self.figure(entry, care_type, shown) if status in ("getoond", "verborgen") else None
                base = {"indicator": entry.id, "care_type": care_type, "label": self._label(entry, care_type),
                        "shown_period": shown, "status": status, "status_text": self.status_text(entry, care_type),
                        "direction": entry.direction}
                if mine is None:
                    rows.append(dict(base, numerator=np.nan, denominator=np.nan, value=np.nan, ci_low=np.nan,
                                     ci_high=np.nan, suppressed=True, national_value=np.nan, national_ci_low=np.nan,
                                     national_ci_high=np.nan, national_hidden=False, previous_value=np.nan, previous_ci_low=np.nan,
                                     previous_ci_high=np.nan, previous_suppressed=True, signal=None, oe_ratio=np.nan))
                    continue
                nat = self.national(entry, care_type, shown)
                prev = self.figure(entry, care_type, previous_period(shown)) or {}
                cm, _why = self.adjusted_row(entry, care_type)
                cm_ok = cm is not None and not _suppressed(mine)
                rows.append(dict(
                    base, numerator=mine.get("numerator"), denominator=mine.get("denominator"),
                    value=mine.get("value"), ci_low=mine.get("ci_low"), ci_high=mine.get("ci_high"),
                    suppressed=_suppressed(mine) or _missing(mine.get("value")),
                    national_value=nat.get("value", np.nan), national_ci_low=nat.get("ci_low", np.nan),
                    national_ci_high=nat.get("ci_high", np.nan), national_hidden=bool(nat.get("hidden", False)),
                    previous_value=prev.get("value", np.nan), previous_ci_low=prev.get("ci_low", np.nan),
                    previous_ci_high=prev.get("ci_high", np.nan),
                    previous_suppressed=_suppressed(prev) if prev else True,
                    signal=cm.get("signal") if cm_ok else None,
                    oe_ratio=cm.get("oe_ratio") if cm_ok else np.nan,
                ))
        return pd.DataFrame(rows)

    def _pct_or_mark(self, value, hidden: bool) -> str:
        if hidden:
            return report.ui(self.lang)["suppressed_mark"] + "*"
        return report.fmt_pct(value, 1, self.lang)

    def headline_table(self) -> report.HTML:
        """The compact summary ("Kerncijfers"): per indicator its figure (value, interval, number,
        the pooled figure when there is one, the previous period, the adjusted verdict) or, across
        the figure columns, its status in words ("Niet aangeleverd: ...")."""
        t = self.t
        frame = self.headline_frame()
        if frame.empty:
            return _p(t["reason_all_suppressed"].format(n=self.settings.min_denominator))
        lang, st = self.lang, self.settings
        hidden = report.ui(lang)["suppressed_mark"] + "*"
        heads = [(t["col_indicator"], False), (t["col_direction"], False), (t["col_value"], True), (t["col_ci"], True),
                 (t["col_n"], True)]
        widths = [25, 8, 8, 14, 9]
        if self.compared:
            heads.append((t["col_national"], True))
            widths.append(9)
        heads.append((t["col_previous"], True))
        widths.append(9)
        if self.compared:
            heads.append((t["col_adjusted"], False))
            widths.append(18)
        total = sum(widths)
        body, any_hidden = [], False
        for _, r in frame.iterrows():
            label = r["label"] + (f" ({r['shown_period']})" if r["shown_period"] != self.period else "")
            first = [_e(label), _e(t.get(f"direction_short_{r['direction']}", ""))]
            if r["status"] not in ("getoond", "verborgen"):
                cells = "".join(f"<td>{c}</td>" for c in first)
                body.append(f'<tr class="oa-status">{cells}<td colspan="{len(heads) - 2}" class="oa-status-text">'
                            f"{_e(r['status_text'])}</td></tr>")
                continue
            shown = not r["suppressed"]
            any_hidden |= not shown
            n = report.fmt_count_rounded(r["denominator"], lang, min_count=st.min_count, base=st.round_to) \
                if shown else hidden
            numbers = [report.fmt_pct(r["value"], 1, lang) if shown else hidden,
                       report.fmt_ci(r["ci_low"], r["ci_high"], 1, lang) if shown else hidden, n]
            if self.compared:
                numbers.append(self._pct_or_mark(r["national_value"], bool(r["national_hidden"])))
                any_hidden |= bool(r["national_hidden"])
            prev_hidden = bool(r["previous_suppressed"])
            if _missing(r["previous_value"]) and not prev_hidden:
                numbers.append(report.MISSING_MARK[lang])
            else:
                numbers.append(self._pct_or_mark(r["previous_value"], prev_hidden or _missing(r["previous_value"])))
                any_hidden |= prev_hidden
            cells = "".join(f"<td>{c}</td>" for c in first)
            cells += "".join(f'<td class="oa-num">{_e(c)}</td>' for c in numbers)
            if self.compared:
                cells += f"<td>{_e(self._adjusted_short(r))}</td>"
            body.append(f"<tr>{cells}</tr>")
        num_cls = ' class="oa-num"'
        head = "".join(f'<th scope="col"{num_cls if num else ""}>{_e(h)}</th>' for h, num in heads)
        cols = "".join(f'<col style="width:{100 * w / total:.4g}%">' for w in widths)
        caption = t["headline_table_caption"].format(period=self.period)
        table = (f'<div class="oa-table-wrap"><table class="oa-table oa-wide"><caption>{_e(caption)}</caption>'
                 f"<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        if any_hidden:
            table += f'<p class="oa-footnote">{_e(report.ui(lang)["suppressed_footnote"].format(n=st.min_denominator))}</p>'
        table += "</div>"
        legend = t["headline_legend"] if self.compared else t["headline_legend_alone"]
        return _html(table + str(_p(legend, "oa-footnote")))

    def _adjusted_short(self, r) -> str:
        sig = r["signal"]
        if r["suppressed"] or sig is None or _missing(sig):
            return ""
        text = self.t.get("signal_short_" + sig, "")
        fav = registry.favourable(registry.get(r["indicator"]).direction, sig)
        if fav is not None:
            text += f" ({self.t['favourable'] if fav else self.t['unfavourable']})"
        return text

    def headline_sentences(self) -> report.HTML:
        """The headline figures in words (report.headline_sentence), one line per indicator; an
        indicator without a figure gets its status sentence."""
        frame = self.headline_frame()
        items = []
        for _, r in frame.iterrows():
            label = r["label"] + (f" ({r['shown_period']})" if r["shown_period"] != self.period else "")
            if r["status"] not in ("getoond", "verborgen"):
                items.append(f"<li><strong>{_e(label)}</strong>: {_e(r['status_text'])}</li>")
                continue
            me = {"value": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "suppressed": r["suppressed"]}
            nat = {"value": r["national_value"], "ci_low": r["national_ci_low"], "ci_high": r["national_ci_high"]}
            prev = None if r["previous_suppressed"] else {
                "value": r["previous_value"], "ci_low": r["previous_ci_low"], "ci_high": r["previous_ci_high"]}
            label_prev = None
            if parse_period(r["shown_period"])[2] != "year" or r["shown_period"] != self.period:
                label_prev = previous_period(r["shown_period"])
            entry = registry.get(r["indicator"])
            sentence = report.headline_sentence(me, nat, prev, r["direction"], self.lang,
                                                previous_label=label_prev,
                                                template=entry.sentence(self.lang, self.settings),
                                                comparator=self.comparator)
            items.append(f"<li><strong>{_e(label)}</strong>: {_e(sentence)}</li>")
        return _html(f'<ul class="oa-headlines">{"".join(items)}</ul>')

    def summary(self) -> list:
        """Section 1: what this report is, how to read it, the figures in a table and in words."""
        t = self.t
        care = ", ".join(care_type_label(c, self.lang) for c in self.care_types)
        items = [
            self.heading("summary"),
            _p(t["intro"].format(institution=self.institution, period=self.period_text, care_types=care), "oa-lead"),
            _p(t["how_to_read" if self.compared else "how_to_read_alone"].format(n=self.settings.min_denominator)),
            _p(self.comparator["scope_note"]),
            self.headline_table(),
        ]
        absent = self.absent_sentence()
        if absent:
            items.append(_p(absent))
        note = self.window_summary_note()
        if note:
            items.append(_p(note))
        more = t["summary_more"] if self.compared else t["summary_more_alone"]
        items += [self.heading("in_words", 3), self.headline_sentences(), _p(more)]
        return items

    def window_summary_note(self) -> str:
        """One sentence naming each windowed indicator of the summary with its own window and the
        period shown, e.g. "herhaald beroep en uitblijven nieuwe beschermingsmaatregel: 12 maanden
        (dus 2023); uitblijven recidive: 24 maanden (dus 2022)"; empty when no figure is from an
        earlier period."""
        t = self.t
        groups: dict[tuple[int, str], list[str]] = {}
        for entry in self.summary_entries():
            shown = self.shown_period(entry)
            months = entry.window_months(self.settings)
            if shown == self.period or not months:
                continue
            if not any(self.figure(entry, c, shown) is not None for c in self.entry_care_types(entry)):
                continue
            groups.setdefault((months, shown), []).append(_lower_first(entry.label(self.lang)))
        if not groups:
            return ""
        parts = [t["window_item"].format(labels=f" {t['and']} ".join(labels), months=months, shown=shown)
                 for (months, shown), labels in sorted(groups.items())]
        return t["window_summary"].format(period=self.period_text, items="; ".join(parts))

    # -- per indicator ----------------------------------------------------------------------
    def sets(self) -> list[str]:
        """The indicator sets with at least one indicator for the institution's care types."""
        return [s for s in SET_ORDER if self.entries(s)]

    def set_heading(self, set_id: str) -> report.HTML:
        """The h2 of an indicator set; only the first set starts a new page in the PDF."""
        s = registry.SETS[set_id]
        sets = self.sets()
        cls = "" if not sets or set_id == sets[0] else ' class="oa-nobreak"'
        return _html(f"<h2{cls}>{_e(getattr(s, 'name_' + self.lang))}</h2>")

    def indicator_section(self, entry: registry.Entry | str) -> list:
        """One indicator: definition, figures with response and window, breakdown, trend + funnel,
        the adjusted comparison in words. A pointer only when it restates another indicator.

        With two care types (JB and JR) the layout does not repeat: one figures table and one table
        per breakdown with a care-type column, one figure with a row per care type, then the
        adjusted comparison per care type."""
        entry = registry.get(entry) if isinstance(entry, str) else entry
        t = self.t
        items = [_html(f"<h3>{_e(entry.label(self.lang))}</h3>")]
        if entry.same_as:
            other = registry.label(entry.same_as, self.lang)
            return items + [_p(t["same_as"].format(other=other))]
        items.append(_p(entry.definition(self.lang)))
        if entry.provisional:
            items.append(_p(t["provisional"]))
        num = getattr(entry, f"numerator_{self.lang}")
        den = getattr(entry, f"denominator_{self.lang}")
        items.append(_p(t["counts"].format(numerator=num, denominator=den)))
        shown_types, notes = [], []
        several = len(self.entry_care_types(entry)) > 1
        for care_type in self.entry_care_types(entry):
            status = self.indicator_status(entry, care_type)["status"]
            restated = entry.restates.get(care_type)
            if status == "niet_van_toepassing":
                notes.append(_p(self.status_text(entry, care_type)))
            elif restated:
                items.append(_p(t["restates"].format(care_type=care_type_label(care_type, self.lang),
                                                     other=registry.label(restated, self.lang))))
            elif status not in ("getoond", "verborgen"):
                notes.append(_p(self._care_prefix(care_type, several) + self.status_text(entry, care_type)))
            else:
                shown_types.append(care_type)
        if not shown_types:
            return items + notes  # every care type said in words: no empty table, no empty figure
        shown = self.shown_period(entry)
        if shown != self.period:
            items.append(_p(t["window_note"].format(label=entry.label(self.lang), months=entry.window_months(self.settings),
                                                    period=self.period_text, shown=report.fmt_period(shown, self.lang))))
        items += self._figures_table(entry, shown_types, shown)
        items += self._breakdown(entry, shown_types, shown)
        if entry.headline == "share":
            items += self._figures(entry, shown_types, shown)
            for care_type in shown_types:
                items += self._adjusted(entry, care_type, prefix=len(shown_types) > 1)
        return items + notes

    def _care_prefix(self, care_type: str, several: bool) -> str:
        return f"{care_type_label(care_type, self.lang).capitalize()}: " if several else ""

    def _figures_table(self, entry: registry.Entry, care_types: list[str], shown: str) -> list:
        """The headline figure per care type in one table, with response and window in words."""
        t = self.t
        if entry.headline not in ("share", "mean"):
            return []
        several = len(care_types) > 1
        rows, notes = [], []
        months = entry.window_months(self.settings)
        for care_type in care_types:
            mine = self.figure(entry, care_type, shown)
            if mine is None:
                continue
            nat = self.national(entry, care_type, shown)
            national = ("" if not nat else self._pct_or_mark(nat["value"], nat["hidden"])
                        if not _suppressed(mine) else report.ui(self.lang)["suppressed_mark"] + "*")
            rows.append(dict(mine, national_value=national, period_label=shown,
                             care_label=care_type_label(care_type, self.lang).capitalize()))
            prefix = self._care_prefix(care_type, several)
            if not _suppressed(mine):
                denominator = float(mine.get("denominator") or 0)
                missing = float(mine.get("missing") or 0)
                if 0 < missing < self.settings.min_count:
                    notes.append(_p(prefix + t["response_few"].format(n=self.settings.min_count)))
                elif missing > 0:
                    response = denominator / (denominator + missing) if denominator + missing else np.nan
                    notes.append(_p(prefix + t["response"].format(missing=report.fmt_count_rounded(missing, self.lang),
                                                                  response=report.fmt_pct(response, 0, self.lang))))
            excluded = float(mine.get("excluded_window") or 0)
            if months and excluded > 0:
                notes.append(_p(prefix + t["excluded"].format(excluded=report.fmt_count_rounded(excluded, self.lang),
                                                              months=months)))
        if not rows:
            return []
        # missing items are said in words below (response), not as a mostly hidden column
        first = ("care_label", (t["col_care_type"], "text")) if several else ("period_label", (t["col_period"], "text"))
        cols = dict([first, ("value", (t["col_value"], "pct")), ("ci", (t["col_ci"], "ci")),
                     ("denominator", (t["col_n"], "count"))])
        widths = (34, 18, 30, 18)
        if self.compared:
            cols["national_value"] = (t["col_national"], "text")  # hidden pooled figures as –*
            widths = (30, 14, 26, 15, 15)
        caption = t["figures_caption"].format(period=shown) if several else None
        return [report.display_table(pd.DataFrame(rows), cols, self.lang, widths=widths,
                                     caption=caption, settings=self.settings)] + notes

    def _breakdown_families(self, entry: registry.Entry, care_type: str, period: str):
        """Rows of each breakdown family (visible, or all when most are visible), the hidden labels,
        and the mean rows, of one care type."""
        all_rows = self._rows(entry, care_type, period, "institution", category=None)
        nat_rows = self._rows(entry, care_type, period, "national", category=None)
        rows = all_rows[all_rows["category"] != ""]
        if rows.empty:
            return {}, []
        nat = nat_rows.set_index("category")
        share_rows, means = [], []
        for _, r in rows.iterrows():
            family = str(r["category"]).split(":", 1)[0]
            kind = entry.breakdowns.get(family, "share")
            n = nat.loc[r["category"]] if r["category"] in nat.index else None
            if isinstance(n, pd.DataFrame):
                n = n.iloc[0]
            if kind == "mean":
                means.append((r, n))
                continue
            share_rows.append(dict(r.to_dict(), label=category_label(r["category"], self.lang),
                                   care_label=CARE_TYPE_SHORT.get(care_type, care_type),
                                   national_value=self._pct_or_mark(
                                       n["value"] if n is not None else np.nan,
                                       n is not None and (bool(n["suppressed"]) or _missing(n["value"])))
                                   if n is not None else ""))
        order = {c: i for i, c in enumerate(registry.LABELS["categories"])}
        by_family: dict[str, list[dict]] = {}
        for r in sorted(share_rows, key=lambda r: (order.get(r["category"], len(order)), r["category"])):
            by_family.setdefault(str(r["category"]).split(":", 1)[0], []).append(r)
        out = {}
        for family, fam_rows in by_family.items():
            hidden_labels = [r["label"] for r in fam_rows if bool(r.get("suppressed"))]
            visible = [r for r in fam_rows if not bool(r.get("suppressed"))]
            if len(hidden_labels) > len(visible):
                out[family] = (visible, hidden_labels)
            else:
                out[family] = (fam_rows, [])
        return out, means

    def _breakdown(self, entry: registry.Entry, care_types: list[str], period: str) -> list:
        if not entry.breakdowns:
            return []
        t = self.t
        several = len(care_types) > 1
        per_type = {c: self._breakdown_families(entry, c, period) for c in care_types}
        families = list(dict.fromkeys(f for fams, _m in per_type.values() for f in fams))
        items = []
        for family in families:
            caption = t["breakdown_family"].format(family=registry.family_label(family, self.lang))
            rows, notes = [], []
            for care_type in care_types:
                fam_rows, hidden_labels = per_type[care_type][0].get(family, ([], []))
                rows += fam_rows
                if hidden_labels:
                    notes.append(_p(self._care_prefix(care_type, several) + t["hidden_categories"].format(
                        caption=caption, n=self.settings.min_denominator, categories=", ".join(hidden_labels))))
            if rows:
                cols = {"label": (t["col_category"], "text")}
                if several:
                    cols["care_label"] = (t["col_care_short"], "text")
                cols.update({"value": (t["col_value"], "pct"), "ci": (t["col_ci"], "ci"),
                             "numerator": (report.ui(self.lang, "columns")["count"], "count")})
                if self.compared:
                    cols["national_value"] = (t["col_national"], "text")  # hidden pooled cells as –*
                    widths = (32, 8, 12, 24, 11, 13) if several else (36, 13, 25, 12, 14)
                else:
                    widths = (36, 9, 14, 27, 14) if several else (40, 15, 30, 15)
                items.append(report.display_table(pd.DataFrame(rows), cols, self.lang, caption=caption,
                                                  widths=widths, settings=self.settings))
            items += notes
        for care_type in care_types:
            for r, n in per_type[care_type][1]:
                if _suppressed(r.to_dict()):
                    continue
                national = report.fmt_number(n["value"], 1, self.lang) if n is not None and not bool(n["suppressed"]) \
                    else report.MISSING_MARK[self.lang]
                template = t["mean_sentence"] if self.compared else t["mean_sentence_alone"]
                items.append(_p(self._care_prefix(care_type, several) + template.format(
                    label=category_label(r["category"], self.lang).capitalize(),
                    value=report.fmt_number(r["value"], 1, self.lang),
                    ci=report.fmt_ci(r["ci_low"], r["ci_high"], 1, self.lang, kind="number"),
                    national=self.comparator["value"].format(v=national))))
        return items

    def _trend_table(self, entry: registry.Entry, care_type: str, up_to: str) -> pd.DataFrame:
        t = self.results.indicators
        rows = t[(t["indicator"] == entry.id) & (t["care_type"] == care_type) & (t["category"] == "")
                 & ((t["scope"] == "national") | (t["institution"] == self.institution))]
        months = entry.window_months(self.settings)
        if months:
            rows = rows[rows["window_months"].astype("Float64").fillna(months) == months]
        end = parse_period(up_to)[0]
        keep = np.array([parse_period(p)[0] <= end for p in rows["period"]], dtype=bool)
        rows = rows.loc[keep]  # a boolean array: an empty selection keeps its columns
        periods = sorted(rows["period"].unique())[-6:]
        if not self.compared:
            rows = rows.loc[rows["scope"] != "national"]
        return rows.loc[rows["period"].isin(periods)]

    def _figures(self, entry: registry.Entry, care_types: list[str], period: str) -> list:
        """Trend (left) and funnel (right), one row per care type that has a visible figure, one caption."""
        t = self.t
        panels = []
        for care_type in care_types:
            trend = self._trend_table(entry, care_type, period)
            inst_visible = trend[(trend["scope"] == "institution") & ~trend["suppressed"].astype(bool)]
            if inst_visible.empty:
                continue
            cm_all = self.casemix_all(entry, care_type)
            has_funnel = (self.compared and not cm_all.empty and (~cm_all["suppressed"]).sum() >= 3
                          and self.institution in set(cm_all.loc[~cm_all["suppressed"], "institution"]))
            panels.append((care_type, trend, cm_all if has_funnel else None))
        if not panels:
            return []
        from matplotlib.figure import Figure

        from . import plots

        any_funnel = any(p[2] is not None for p in panels)
        several = len(panels) > 1
        # always the full text width: the page scales images to it, so a narrower figure would only
        # come out taller
        height = 2.7 if any_funnel else 2.1
        fig = Figure(figsize=(6.8, height * len(panels) + (0.25 if several else 0)), layout="constrained")
        axes = fig.subplots(len(panels), 2 if any_funnel else 1, squeeze=False)
        for row, (care_type, trend, cm_all) in zip(axes, panels):
            plots.trend_plot(trend, institution=self.institution, lang=self.lang, ax=row[0], settings=self.settings,
                             national=self.compared, national_label=self.comparator["label"])
            if several:
                row[0].set_title(care_type_label(care_type, self.lang).capitalize(), loc="left", fontsize=9,
                                 fontweight="bold")
            if any_funnel:
                if cm_all is None:
                    row[1].set_axis_off()
                    continue
                plots.funnel_plot(cm_all, highlight=self.institution, kind="oe", lang=self.lang, ax=row[1])
                if row[1].get_legend() is not None:
                    row[1].get_legend().remove()
        image = _png(fig)
        caption = t["figure_caption"] if any_funnel else t["figure_caption_trend"] if self.compared \
            else t["figure_caption_alone"]
        return [image, _p(caption, "oa-caption")]

    def _adjusted(self, entry: registry.Entry, care_type: str, prefix: bool = False) -> list:
        """The adjusted comparison in words: adjusted share, signal, O/E with its interval, and the
        empirical-Bayes (shrunk) O/E beside it, so that an extreme figure of a small institution is
        seen in proportion."""
        if not entry.casemix or not self.compared:
            return []  # one institution: never an O/E against itself
        t = self.t
        lead = self._care_prefix(care_type, prefix)
        mine = self.figure(entry, care_type)
        if mine is None or _suppressed(mine):
            return []
        cm, why = self.adjusted_row(entry, care_type)
        if cm is None:
            return [_p(lead + t["adjusted_none"].format(reason=t["adjusted_small"] if why == "small"
                                                        else t["adjusted_nomodel"]))]
        summary = self.model_row(entry, care_type, cm["period"])
        covs = self.covariates(summary)
        signal = self._signal_text(cm)
        fav = registry.favourable(entry.direction, cm.get("signal"))
        if fav is not None:
            signal += f" ({t['favourable'] if fav else t['unfavourable']})"
        sentence = t["adjusted_sentence"].format(
            covariates=covs, oe=report.fmt_ratio(cm["oe_ratio"], 2, self.lang),
            ci=report.fmt_ci(cm["oe_ci_low"], cm["oe_ci_high"], lang=self.lang, kind="ratio"),
            adjusted=report.fmt_pct(cm["adjusted_value"], 1, self.lang), signal=signal)
        shrunk = self.shrunk_text(cm)
        if shrunk:
            sentence += " " + shrunk
        items = [_p(lead + sentence, "oa-headline")]
        lacking = cm.get("n_missing_covariates", 0) or 0
        if lacking >= self.settings.min_count:
            items.append(_p(t["adjusted_missing"].format(n=report.fmt_count_rounded(lacking, self.lang))))
        return items

    def shrunk_text(self, cm) -> str:
        """"Rekening houdend met de kleine aantallen: 1,08 (0,91 – 1,27)." from a case-mix row's
        ``oe_shrunk`` (empirical Bayes); the no-variation wording when every institution is pulled to
        1 (τ² = 0); empty when the row has no shrunk O/E."""
        t = self.t
        if cm is None or _missing(cm.get("oe_shrunk")):
            return ""
        low, high = cm.get("oe_shrunk_ci_low"), cm.get("oe_shrunk_ci_high")
        oe = report.fmt_ratio(cm["oe_shrunk"], 2, self.lang)
        if _missing(low) or _missing(high) or abs(float(high) - float(low)) < 1e-9:
            return t["shrunk_none"].format(oe=oe)
        return t["shrunk_sentence"].format(oe=oe, ci=report.fmt_ci(low, high, lang=self.lang, kind="ratio"))

    def model_row(self, entry: registry.Entry, care_type: str, period: str, kind: str = "share"):
        m = self.results.model_summaries
        rows = m[(m["indicator"] == entry.id) & (m["care_type"] == care_type) & (m["period"] == period)
                 & (m["kind"] == kind)]
        return None if rows.empty else rows.iloc[0].to_dict()

    def covariates(self, summary) -> str:
        names = json.loads(summary["covariates"]) if summary is not None else list(self.settings.covariates)
        return ", ".join(registry.covariate_label(c, self.lang) for c in names)

    def indicator_set(self, set_id: str) -> list:
        """Section 2, one set: its heading and every applicable indicator."""
        items = [self.set_heading(set_id)]
        absent = self.absent_sentence(set_id)
        if absent:
            items.append(_p(absent))
        for entry in self.entries(set_id):
            items += self.indicator_section(entry)
        return items

    # -- verloop ---------------------------------------------------------------------------
    def _profile(self, entry_id: str, care_type: str, family: str, title: str) -> list:
        from . import plots

        entry = registry.get(entry_id)
        period = self.shown_period(entry)
        rows = []
        inst_label = self.institution
        groups = [("institution", inst_label)]
        if self.compared:
            groups.append(("national", self.comparator["label"]))
        for scope, label in groups:
            part = self._rows(entry, care_type, period, scope, category=None)
            part = part[part["category"].str.startswith(family + ":")]
            for _, r in part.iterrows():
                rows.append({"group": label, "category": r["category"], "value": r["value"],
                             "suppressed": bool(r["suppressed"])})
        frame = pd.DataFrame(rows)
        if frame.empty or frame[(frame["group"] == inst_label)]["suppressed"].all():
            return []
        labels = {c: category_label(c, self.lang) for c in frame["category"].unique()}
        order = list(dict.fromkeys(frame.sort_values("category")["category"]))
        n_cats = len(order)
        frame["group"] = frame["group"].map(lambda g: _short(g, 28))
        from outcome_analysis.indicators import MULTI_FAMILIES

        if family in MULTI_FAMILIES:
            # overlapping categories (one episode can have several transitions): bars side by side,
            # never a stacked 100% bar
            fig, ax = _figure(6.8, 0.7 + 0.26 * n_cats)
            plots.comparison_bars(frame, order=order, labels=labels, lang=self.lang, ax=ax)
            return [_html(f"<h4>{_e(title)}</h4>"), _png(fig), _p(self.t["overlapping_categories"])]
        fig, ax = _figure(6.8, 1.5 + 0.25 * math.ceil(n_cats / 3))
        plots.profile_plot(frame, order=order, labels=labels, lang=self.lang, ax=ax)
        return [_html(f"<h4>{_e(title)}</h4>"), _png(fig)]

    def verloop(self) -> list:
        """Section 3: end reasons, transitions, duration (JB/JR); end reasons and follow-up (jeugdhulp)."""
        t = self.t
        items = [self.heading("verloop")]
        for care_type in self.care_types:
            part = []
            if care_type in ("jb", "jr"):
                part += self._profile("jbjr_verloop", care_type, "end_reason", t["end_reasons"])
                part += self._profile("jbjr_verloop", care_type, "transition", t["transitions"])
                part += self._duration(care_type)
            else:
                part += self._profile("jh_uitval", care_type, "end_reason", t["end_reasons"])
            part += self._profile("pi06_zwaarte_vervolghulp", care_type, "follow_up", t["follow_up"])
            if not part:  # every profile hidden: say so, never an empty heading
                part = [_p(t["verloop_none"].format(n=self.settings.min_denominator, period=self.period_text))]
            items += [_html(f"<h3>{_e(care_type_label(care_type, self.lang).capitalize())}</h3>"), *part]
        return items

    def duration_frame(self, care_type: str) -> pd.DataFrame:
        """The duration and waiting-time rows of one care type from ``results.verloop``: ended
        episodes of the period (``duration_days``), the Kaplan–Meier quartiles of the period's start
        cohort with running episodes censored (``duration_km_days``) and the waiting time
        (``waiting_days``), each with the national median beside it. Rows whose institution figure
        is suppressed are left out.

        Columns: ``measure``, ``label``, ``n``, ``q1``, ``median``, ``q3`` (texts, "nog niet bereikt"
        for a Kaplan–Meier quartile that is not reached), ``national`` (text).
        """
        t = self.t
        v = getattr(self.results, "verloop", None)
        if v is None or v.empty or "measure" not in v:
            return pd.DataFrame()
        v = v[(v["period"] == self.period) & (v["care_type"] == care_type)]
        out = []
        labels = {"duration_days": t["km_ended"], "duration_km_days": t["km_started"], "waiting_days": t["km_waiting"]}
        for measure, label in labels.items():
            rows = v[v["measure"] == measure]
            mine = rows[(rows["scope"] == "institution") & (rows["institution"] == self.institution)]
            nat = rows[rows["scope"] == "national"]
            if mine.empty:
                continue
            r = mine.iloc[0]
            n = r.get("n")
            if _suppressed(r.to_dict()) or _missing(n) or float(n) < self.settings.min_denominator:
                continue
            km = measure == "duration_km_days"

            def days(x, km=km):
                if _missing(x):
                    return t["km_not_reached"] if km else report.MISSING_MARK[self.lang]
                return report.fmt_int(x, self.lang)

            national = report.MISSING_MARK[self.lang]
            if len(nat) and not _suppressed(nat.iloc[0].to_dict()):
                national = days(nat.iloc[0]["median"])
            out.append({"measure": measure, "label": label.format(period=self.period),
                        "n": report.fmt_count_rounded(n, self.lang, min_count=self.settings.min_count,
                                                      base=self.settings.round_to),
                        "q1": days(r["q1"]), "median": days(r["median"]), "q3": days(r["q3"]), "national": national})
        return pd.DataFrame(out)

    def _duration(self, care_type: str) -> list:
        t = self.t
        frame = self.duration_frame(care_type)
        if frame.empty:
            return []
        cols = {"label": (t["km_measure"], "text"), "n": (t["col_n"], "text"), "q1": (t["q1"], "text"),
                "median": (t["median"], "text"), "q3": (t["q3"], "text")}
        widths = (40, 15, 15, 15, 15)
        if self.compared:
            cols["national"] = (t["km_national"], "text")
            widths = (34, 12, 13, 13, 13, 15)
        return [_html(f"<h4>{_e(t['km_title'])}</h4>"),
                report.display_table(frame, cols, self.lang, widths=widths, settings=self.settings),
                _p(t["km_note"].format(period=self.period_text), "oa-footnote")]

    # -- context ---------------------------------------------------------------------------
    def _ctx(self, indicator: str, care_type: str, scope: str) -> pd.DataFrame:
        c = self.results.context
        mask = ((c["indicator"] == indicator) & (c["care_type"] == care_type) & (c["period"] == self.period)
                & (c["scope"] == scope))
        if scope == "institution":
            mask &= c["institution"] == self.institution
        return c[mask.fillna(False)]

    def context_section(self) -> list:
        """Section 4: target group, waiting time, working alliance, chain cooperation, kwesties."""
        from . import plots

        t = self.t
        items = [self.heading("context", page_break=False), _p(t["context_intro"])]
        nat_label = self.comparator["label"]
        for care_type in self.care_types:
            items.append(_html(f"<h3>{_e(care_type_label(care_type, self.lang).capitalize())}</h3>"))
            mine = self._ctx("ctx_doelgroep", care_type, "institution")
            nat = self._ctx("ctx_doelgroep", care_type, "national")
            groups = ((mine, self.institution), (nat, nat_label)) if self.compared else ((mine, self.institution),)
            rows = []
            for family in ("complexity", "perspective", "age_group"):
                for scope_rows, group in groups:
                    part = scope_rows[scope_rows["category"].str.startswith(family + ":").fillna(False)]
                    for _, r in part.iterrows():
                        rows.append({"family": family, "group": group, "category": r["category"],
                                     "value": float(r["value"]), "suppressed": bool(r["suppressed"])})
            frame = pd.DataFrame(rows)
            if not frame.empty and not frame[frame["group"] == self.institution]["suppressed"].all():
                fig = _target_group_figure(frame, self.institution, self.lang)
                items += [_html(f"<h4>{_e(t['target_group'])}</h4>"), _png(fig)]
            # key figures table: out of home, waiting, alliance, chain
            table = []
            for ind, label, kind in (("ctx_doelgroep", t["out_of_home"], "pct"), ("ctx_wachttijd", t["waiting"], "number"),
                                     ("ctx_werkrelatie", t["alliance"], "number"),
                                     ("ctx_ketensamenwerking", t["chain"], "number")):
                m = self._ctx(ind, care_type, "institution")
                n = self._ctx(ind, care_type, "national")
                m = m[m["category"].fillna("") == ""]
                n = n[n["category"].fillna("") == ""]
                if m.empty and n.empty:
                    continue
                mr = m.iloc[0] if len(m) else None
                nr = n.iloc[0] if len(n) else None
                fmt = (lambda v: report.fmt_pct(v, 1, self.lang)) if kind == "pct" else \
                      (lambda v: report.fmt_number(v, 1, self.lang))
                hidden = mr is None or bool(mr["suppressed"]) or _missing(mr["value"])
                table.append({
                    "item": label,
                    "mine": (report.ui(self.lang)["suppressed_mark"] + "*") if (mr is not None and bool(mr["suppressed"]))
                    else (report.MISSING_MARK[self.lang] if hidden else fmt(mr["value"])),
                    "ci": "" if hidden else report.fmt_ci(mr["ci_low"], mr["ci_high"], 1, self.lang,
                                                          kind="pct" if kind == "pct" else "number"),
                    "n": report.fmt_count_rounded(mr["denominator"], self.lang) if not hidden else "",
                    "national": report.MISSING_MARK[self.lang] if nr is None or bool(nr["suppressed"]) else fmt(nr["value"]),
                })
            if table:
                cols = {"item": (t["col_item"], "text"), "mine": (t["col_institution"], "text"),
                        "ci": (t["col_ci"], "text"), "n": (t["col_n"], "text")}
                if self.compared:
                    cols["national"] = (t["col_national"], "text")
                items.append(report.display_table(pd.DataFrame(table), cols, self.lang))
            w = self._ctx("ctx_wachttijd", care_type, "institution")
            wn = self._ctx("ctx_wachttijd", care_type, "national")
            p50 = w[w["category"] == "quantile:p50"]
            mean = w[w["category"].fillna("") == ""]
            p50n = wn[wn["category"] == "quantile:p50"]
            if len(p50) and len(mean) and not bool(p50.iloc[0]["suppressed"]) and not bool(mean.iloc[0]["suppressed"]):
                national = report.fmt_number(p50n.iloc[0]["value"], 0, self.lang) if len(p50n) \
                    else report.MISSING_MARK[self.lang]
                template = t["waiting_sentence"] if self.compared else t["waiting_sentence_alone"]
                items.append(_p(template.format(
                    mean=report.fmt_number(mean.iloc[0]["value"], 0, self.lang),
                    median=report.fmt_number(p50.iloc[0]["value"], 0, self.lang),
                    national_median=self.comparator["value"].format(v=national))))
            k = self._ctx("ctx_kwesties", care_type, "institution")
            kn = self._ctx("ctx_kwesties", care_type, "national").set_index("category")
            items.append(_html(f"<h4>{_e(t['kwesties'])}</h4>"))
            if k.empty or k["suppressed"].all():
                items.append(_p(t["kwesties_none"]))
            else:
                frame = k.assign(label=[category_label(c, self.lang) for c in k["category"]],
                                 national_value=[kn.loc[c, "value"] if c in kn.index else np.nan for c in k["category"]])
                frame = frame.sort_values("value", ascending=False)
                cols = {"label": (t["col_category"], "text"), "numerator": (t["col_n"], "count"),
                        "value": (t["col_value"], "pct")}
                if self.compared:
                    cols["national_value"] = (t["col_national"], "pct")
                items.append(report.display_table(frame, cols, self.lang))
        del plots
        return items

    # -- dialogue --------------------------------------------------------------------------
    def dialogue_facts(self) -> dict:
        """What the figures show, in the vocabulary of ``data/texts/dialogue.yaml`` (absent when unknown)."""
        facts: dict = {"period": self.period}
        if self.compared:  # the words for the pooled figure; without one, no question compares with it
            facts["comparator_than"] = self.comparator["than"]
            facts["comparator_with"] = self.comparator["with"]
        frame = self.headline_frame()
        visible = frame[~frame["suppressed"]] if len(frame) else frame
        # uitval and satisfaction against the pooled figure
        for fact, ids in (("uitval", ("jh_uitval",)), ("satisfaction", ("jh_tevredenheid", "jbjr_clientervaring"))):
            if not self.compared:
                break
            rows = visible[visible["indicator"].isin(ids)] if len(visible) else visible
            if len(rows):
                r = rows.iloc[0]
                facts[fact] = report.compare((r["value"], r["ci_low"], r["ci_high"]),
                                             (r["national_value"], r["national_ci_low"], r["national_ci_high"]))
        # adjusted signal of the most notable indicator
        if len(visible):
            flagged = visible[visible["signal"].isin(["higher", "lower"])]
            pick = flagged.iloc[0] if len(flagged) else visible.iloc[0]
            facts["indicator"] = pick["label"]
            if pick["signal"] in ("higher", "lower", "within"):
                facts["signal"] = pick["signal"]
                fav = registry.favourable(registry.get(pick["indicator"]).direction, pick["signal"])
                if fav is not None:
                    facts["favourable"] = fav
            trend = self._trend_fact(pick)
            if trend:
                facts["trend"] = trend
        # response: the lowest response of the visible headline indicators with missing items
        responses = []
        for _, r in visible.iterrows() if len(visible) else []:
            mine = self.figure(registry.get(r["indicator"]), r["care_type"], r["shown_period"])
            den, miss = float(mine.get("denominator") or 0), float(mine.get("missing") or 0)
            if den + miss > 0 and miss > 0:
                responses.append(den / (den + miss))
        if responses:
            facts["response"] = min(responses)
        # onbekend end reasons
        unknown = self.unknown_reason_shares()
        if unknown:
            facts["unknown_reasons"] = max(unknown.values())
        # waiting time (median), kwesties
        waits = []
        for care_type in self.care_types:
            w = self._ctx("ctx_wachttijd", care_type, "institution")
            w = w[(w["category"] == "quantile:p50") & ~w["suppressed"].astype(bool)]
            if len(w):
                waits.append(float(w.iloc[0]["value"]))
            k = self._ctx("ctx_kwesties", care_type, "institution")
            k = k[~k["suppressed"].astype(bool)].sort_values("value", ascending=False)
            if len(k) and float(k.iloc[0]["value"]) > facts.get("kwestie_share", 0):
                facts["kwestie"] = category_label(k.iloc[0]["category"], self.lang)
                facts["kwestie_share"] = float(k.iloc[0]["value"])
        if waits:
            facts["waiting_days"] = max(waits)
        # small numbers: any headline hidden, or most headline denominators below 50
        if len(frame):
            small = frame["suppressed"].any() or (pd.to_numeric(frame["denominator"]) < 50).mean() > 0.5
            facts["small_numbers"] = bool(small)
        return facts

    def _trend_fact(self, row) -> str | None:
        entry = registry.get(row["indicator"])
        trend = self._trend_table(entry, row["care_type"], row["shown_period"])
        mine = trend[(trend["scope"] == "institution") & ~trend["suppressed"].astype(bool)].sort_values("period")
        if len(mine) < 3:
            return None
        first, last = mine.iloc[-3], mine.iloc[-1]
        verdict = report.compare((last["value"], last["ci_low"], last["ci_high"]),
                                 (first["value"], first["ci_low"], first["ci_high"]))
        return {"higher": "rising", "lower": "falling"}.get(verdict, "stable")

    def unknown_reason_shares(self) -> dict[str, float]:
        """Share of end reason ``onbekend`` per care type (visible rows only)."""
        out = {}
        for care_type in self.care_types:
            entry = registry.get("jh_uitval" if care_type == "jeugdhulp" else "jbjr_verloop")
            rows = self._rows(entry, care_type, self.period, "institution", category="end_reason:onbekend")
            if len(rows) and not _suppressed(rows.iloc[0].to_dict()):
                out[care_type] = float(rows.iloc[0]["value"])
            elif len(rows) == 0:
                all_rows = self._rows(entry, care_type, self.period, "institution", category=None)
                if len(all_rows[all_rows["category"].str.startswith("end_reason:")]) and \
                        not all_rows[all_rows["category"].str.startswith("end_reason:")]["suppressed"].all():
                    out[care_type] = 0.0
        return out

    def dialogue(self) -> list:
        """Section 5: questions for the three levels, chosen from :meth:`dialogue_facts`."""
        facts = self.dialogue_facts()
        questions = report.dialogue_questions(facts, self.lang)
        return [self.heading("dialogue"), _p(self.t["dialogue_intro"].format(institution=self.institution)),
                report.dialogue_html(questions, self.lang)]

    # -- data quality ----------------------------------------------------------------------
    def quality_section(self) -> list:
        """Section 6: completeness per item against national, onbekend, records left out, recovery note."""
        t = self.t
        q = self.results.quality
        items = [self.heading("quality", page_break=False), _p(t["quality_intro"].format(period=self.period_text))]
        for care_type in self.care_types:
            mine = q[(q["scope"] == "institution") & (q["institution"] == self.institution) & (q["period"] == self.period)
                     & (q["care_type"] == care_type)]
            nat = q[(q["scope"] == "national") & (q["period"] == self.period) & (q["care_type"] == care_type)]
            if mine.empty:
                continue
            nat_value = nat.set_index("item")["value"]
            frame = mine.assign(label=[item_label(i, self.lang) for i in mine["item"]],
                                national_value=[nat_value.get(i, np.nan) for i in mine["item"]],
                                suppressed=mine["denominator"] < self.settings.min_denominator)
            cols = {"label": (t["col_item"], "text"), "value": (t["completeness"], "pct"), "missing": None}
            if self.compared:
                cols["national_value"] = (t["col_national"], "pct")
            items += [_html(f"<h3>{_e(care_type_label(care_type, self.lang).capitalize())}</h3>"),
                      report.display_table(frame, cols, self.lang)]
        for care_type, share in self.unknown_reason_shares().items():
            items.append(_p(t["unknown_reason"].format(care_type=care_type_label(care_type, self.lang),
                                                       share=report.fmt_pct(share, 1, self.lang))))
        left = []
        for entry in self.entries():
            if entry.same_as or entry.headline is None:
                continue
            for care_type in self.entry_care_types(entry):
                if entry.restates.get(care_type):
                    continue
                row = self.figure(entry, care_type)
                if row is None:
                    continue
                left.append({"label": self._label(entry, care_type), "missing": row.get("missing", 0),
                             "excluded_window": row.get("excluded_window", 0) if entry.window_setting else np.nan})
        if left:
            frame = pd.DataFrame(left)
            frame = frame[(frame["missing"].fillna(0) > 0) | (frame["excluded_window"].fillna(0) > 0)]
            if len(frame):
                # no follow-up window: "n.v.t." (not applicable), not "n.b." (unknown)
                st = self.settings
                frame = frame.assign(excluded_window=[
                    report.NOT_APPLICABLE_MARK[self.lang] if _missing(v)
                    else report.fmt_count_rounded(v, self.lang, base=st.round_to, min_count=st.min_count)
                    for v in frame["excluded_window"]])
                cols = {"label": (t["col_indicator"], "text"), "missing": (t["left_out_missing"], "count"),
                        "excluded_window": (t["left_out_window"], "text")}
                items += [_html(f"<h3>{_e(t['left_out'])}</h3>"), report.display_table(frame, cols, self.lang)]
        items.append(_p(t["recovery_note"]))
        items += self.contract_section()
        return items

    def contract_section(self) -> list:
        """Which parts of the data contract the delivery held (h3 and a table), so that a reader sees
        why an indicator is "niet aangeleverd"."""
        return contract_items(self.results, self.lang)

    # -- methods ---------------------------------------------------------------------------
    def methods(self) -> list:
        """Section 7: definitions from the registry, settings in force, case-mix model summaries.

        Its tables are set in smaller type (wrapped in ``<div class="oa-methods">``)."""
        return [_html(f'<div class="oa-methods">{x}</div>') if isinstance(x, report.HTML) and "<table" in x else x
                for x in self._methods_items()]

    def instrument_notes(self) -> list:
        """Methods: ROM norms taken from the data (instruments without a population norm) and ROM
        instruments unknown to the instrument table (their scores count as missing)."""
        facts = self.results.meta.get("instruments") or {}
        items = []
        for d in facts.get("derived_norms", []):
            items.append(_p(self.t["derived_norm"].format(
                instrument=d["instrument"], mean=report.fmt_number(d["norm_mean"], 1, self.lang),
                sd=report.fmt_number(d["norm_sd"], 1, self.lang), n=report.fmt_int(d["n"], self.lang))))
        unknown = facts.get("unknown") or {}
        if unknown:
            listed = ", ".join(f"{k} ({report.fmt_int(v, self.lang)})" for k, v in unknown.items())
            items.append(_p(self.t["unknown_instruments"].format(instruments=listed)))
        return items

    def _comparison_none(self) -> str:
        """Why there is no comparator: the delivery holds one institution, or none other of this
        report's care types ("geen: de levering bevat geen andere instelling voor jeugdhulp")."""
        t = self.t
        if len(self.results.institutions) < 2:
            return t["comparison_none"]
        care = f" {t['and']} ".join(care_type_label(c, self.lang) for c in self.family_care_types)
        return t["comparison_none_in_family"].format(care_types=care)

    def _methods_items(self) -> list:
        t = self.t
        items = [self.heading("methods"), _p(t["methods_intro"]), self.heading("definitions", 3)]
        rows = []
        for entry in self.entries():
            months = entry.window_months(self.settings)
            rows.append({"label": entry.label(self.lang),
                         "definition": entry.definition(self.lang),
                         "numerator": getattr(entry, f"numerator_{self.lang}"),
                         "denominator": getattr(entry, f"denominator_{self.lang}"),
                         "window": t["months"].format(m=months) if months else ""})
        cols = {"label": (t["col_indicator"], "text"), "definition": (t["col_definition"], "text"),
                "numerator": (t["col_numerator"], "text"), "denominator": (t["col_denominator"], "text"),
                "window": (t["col_window"], "text")}
        items.append(report.display_table(pd.DataFrame(rows), cols, self.lang))
        s = self.settings
        settings_rows = [
            (t["setting_reference_date"], report.fmt_date(self.results.reference_date, self.lang)),
            (t["setting_min_denominator"], str(s.min_denominator)),
            (t["setting_min_count"], str(s.min_count)),
            (t["setting_round_to"], str(s.round_to)),
            (t["setting_conf"], report.fmt_pct(s.conf, 0, self.lang)),
            (t["setting_ci_method"], str(s.ci_method)),
            (t["setting_windows"], " / ".join(t["months"].format(m=m) for m in (
                s.window_herhaald_beroep, s.window_nieuwe_start, s.window_vervolghulp, s.window_recidive))),
            (t["setting_continuation_days"], str(s.continuation_days)),
            (t["setting_signal_limit"], report.fmt_pct(s.signal_limit, 1, self.lang)),
            (t["setting_covariates"], ", ".join(registry.covariate_label(c, self.lang) for c in s.covariates)),
            (t["setting_comparison"], self.comparator["name"] or self._comparison_none()),
        ]
        items += [self.heading("settings", 3),
                  report.display_table(pd.DataFrame(settings_rows, columns=["item", "value_text"]),
                                       {"item": (t["col_item"], "text"), "value_text": ("", "text")}, self.lang)]
        items += self.instrument_notes()
        items += [self.heading("models", 3), _p(t["models_intro"]), _p(t["shrinkage_method"])]
        models = self.model_frame()
        if models.empty:
            items.append(_p(t["no_models"]))
            return items
        cols = {"label": (t["col_indicator"], "text"), "model_text": (t["col_model"], "text"),
                "n_records": (t["col_records"], "int"), "n_lacking_covariates": (t["col_lacking"], "int"),
                "c_text": (t["col_c"], "text"), "phi_text": (t["col_phi"], "text"), "tau2_text": (t["col_tau2"], "text"),
                "applied_text": (t["col_applied"], "text"), "calibration": (t["col_calibration"], "text")}
        items.append(report.display_table(models, cols, self.lang, round_counts=False))
        notes = models[models["note"].fillna("") != ""]
        for _, r in notes.iterrows():
            items.append(_p(f"{r['label']}: {r['note']}"))
        odds = self.odds_ratio_frame(models)
        if not odds.empty:
            items += [self.heading("odds_ratios", 3), _p(t["odds_intro"])]
            labels = [c for c in odds.columns if c != "term"]
            for start in range(0, len(labels), 4):
                chunk = labels[start:start + 4]
                cols = {"term": (t["col_term"], "text"), **{c: (c, "text") for c in chunk}}
                items.append(report.display_table(odds, cols, self.lang))
        return items

    def model_frame(self) -> pd.DataFrame:
        """The case-mix models behind this report's adjusted figures (institution's care types)."""
        t = self.t
        m = self.results.model_summaries
        out = []
        for entry in self.entries():
            if not entry.casemix or entry.same_as:
                continue
            period = self.shown_period(entry)
            for care_type in self.entry_care_types(entry):
                for kind in ("share", "mean"):
                    rows = m[(m["indicator"] == entry.id) & (m["care_type"] == care_type) & (m["period"] == period)
                             & (m["kind"] == kind)]
                    if rows.empty:
                        continue
                    r = rows.iloc[0].to_dict()
                    label = self._label(entry, care_type) + (f" ({period})" if period != self.period else "")
                    if kind == "mean":
                        label += " – " + category_label("mean_change:", self.lang)
                    fitted = r["model"] != "none"
                    stat = r["c_statistic"] if r["model"] == "logistic" else r["r_squared"]
                    out.append({
                        "indicator": entry.id, "care_type": care_type, "period": period, "kind": kind, "label": label,
                        "model_text": t.get(f"model_{r['model']}", r["model"]),
                        "n_records": r["n_records"], "n_lacking_covariates": r["n_lacking_covariates"],
                        "c_text": report.fmt_number(stat, 2, self.lang) if fitted else "",
                        "phi_text": report.fmt_number(r["phi"], 2, self.lang) if fitted else "",
                        "tau2_text": report.fmt_number(r["tau2"], 3, self.lang) if fitted else "",
                        "applied_text": (t["yes"] if r["overdispersion_applied"] else t["no"]) if fitted else "",
                        "calibration": self._calibration_text(entry.id, care_type, period, kind) if fitted else "",
                        "note": r.get("note") or "",
                    })
        return pd.DataFrame(out)

    def _calibration_text(self, indicator, care_type, period, kind) -> str:
        c = self.results.calibration
        rows = c[(c["indicator"] == indicator) & (c["care_type"] == care_type) & (c["period"] == period)
                 & (c["kind"] == kind)]
        if rows.empty or "expected" not in rows:
            return ""
        ratio = (rows["observed"] / rows["expected"].where(rows["expected"] > 0)).dropna()
        if ratio.empty:
            return ""
        return report.fmt_ci(ratio.min(), ratio.max(), lang=self.lang, kind="ratio")

    def odds_ratio_frame(self, models: pd.DataFrame) -> pd.DataFrame:
        """Odds ratios with intervals, one column per fitted logistic model, one row per term."""
        coef = self.results.coefficients
        columns = {}
        for _, m in models[(models["kind"] == "share") & (models["c_text"] != "")].iterrows():
            rows = coef[(coef["indicator"] == m["indicator"]) & (coef["care_type"] == m["care_type"])
                        & (coef["period"] == m["period"]) & (coef["kind"] == "share") & (coef["term"] != "Intercept")]
            if rows.empty or "odds_ratio" not in rows:
                continue
            col = {}
            for _, r in rows.iterrows():
                cov = r.get("covariate") or str(r["term"]).split("[", 1)[0]
                level = str(r["term"])[len(str(cov)):].strip("[]")
                ref = r.get("reference")
                name = registry.covariate_label(cov, self.lang) + (f": {level}" if level else "")
                if isinstance(ref, str) and ref:
                    name += f" (t.o.v. {ref})" if self.lang == "nl" else f" (vs {ref})"
                col[name] = (f"{report.fmt_ratio(r['odds_ratio'], 2, self.lang)} "
                             f"({report.fmt_ci(r['ci_low'], r['ci_high'], lang=self.lang, kind='ratio')})")
            columns[m["label"]] = col
        if not columns:
            return pd.DataFrame()
        frame = pd.DataFrame(columns).fillna("")
        frame.index.name = "term"
        return frame.reset_index()

    # -- no report -------------------------------------------------------------------------
    def too_little_page(self) -> list:
        """The short page instead of a report: what is missing, and what to do."""
        t = self.t
        reason = t.get(f"reason_{self.status}", "").format(n=self.settings.min_denominator)
        return [_html(f"<h2>{_e(t['too_little_title'])}</h2>"),
                _p(t["too_little"].format(institution=self.institution or "–", period=self.period_text), "oa-lead"),
                _p(reason), _p(t["too_little_next"])]


def contract_items(results: Results, lang: str = "nl") -> list:
    """The parts of the data contract and whether the delivery held them: an h3 heading, a short
    introduction and a two-column table (also used by the overview's method note)."""
    words = report.ui(lang, "status")
    held = results.contract
    rows = [{"part": words["contract_trajectories"], "held": words["contract_yes"]}]
    rows += [{"part": report.contract_part_label(part, lang), "held": words["contract_yes" if ok else "contract_no"]}
             for part, ok in held.items()]
    cols = {"part": (words["contract_col_part"], "text"), "held": (words["contract_col_held"], "text")}
    return [_html(f"<h3>{_e(words['contract_title'])}</h3>"), _p(words["contract_intro"]),
            report.display_table(pd.DataFrame(rows), cols, lang, widths=(70, 30))]


def _short(text: str, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _lower_first(text: str) -> str:
    """``Herhaald beroep`` → ``herhaald beroep`` (not ``GAS`` → ``gAS``)."""
    return text[:1].lower() + text[1:] if len(text) > 1 and text[1:2].islower() else text


def _target_group_figure(frame: pd.DataFrame, institution: str, lang: str):
    """Three small stacked bars (complexity, perspective, age), institution vs national."""
    from . import plots

    families = [f for f in ("complexity", "perspective", "age_group") if f in set(frame["family"])]
    fig, axes = _figure(6.8, 1.45 * len(families))
    if len(families) == 1:
        axes = [axes]
    else:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.8, 1.5 * len(families)), layout="constrained")
        axes = fig.subplots(len(families), 1)
    titles = {"nl": {"complexity": "Complexiteit", "perspective": "Toekomstperspectief", "age_group": "Leeftijd"},
              "en": {"complexity": "Complexity", "perspective": "Future perspective", "age_group": "Age"}}[lang]
    order_of = {"age_group": ["age_group:0-3", "age_group:4-11", "age_group:12-15", "age_group:16-17", "age_group:18+"]}
    for ax, family in zip(axes, families):
        part = frame[frame["family"] == family]
        cats = order_of.get(family) or list(dict.fromkeys(part["category"]))
        cats = [c for c in cats if c in set(part["category"])]
        plots.profile_plot(part, order=cats, labels={c: category_label(c, lang) for c in cats}, lang=lang, ax=ax,
                           title=titles[family])
        ax.set_yticklabels([_short(g, 28) for g in part["group"].drop_duplicates()])
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=7)
    return fig


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------
def prepare(results: Results, institution: str = "", period: str = "", lang: str = "nl", *, data=None) -> Story:
    """The story of ``institution`` in ``period`` (defaults: the results' report period and the
    largest institution), with its ``status``: ``ok`` or why there is no report.

    Never raises for an unknown institution or one without figures; those get a status.
    """
    _check_lang(lang)
    period = str(period or default_period(results))
    institution = str(institution or default_institution(results, period))
    story = Story(results=results, institution=institution, period=period, lang=lang, data=data)
    if institution not in set(results.institutions):
        story.status = "unknown_institution"
        return story
    q = results.quality
    ended = q[(q["scope"] == "institution") & (q["institution"] == institution) & (q["period"] == period)
              & (q["item"] == "end_reason") & (q["denominator"] > 0)]
    story.care_types = tuple(c for c in ("jeugdhulp", "jb", "jr") if c in set(ended["care_type"]))
    if not story.care_types:
        story.status = "no_ended"
        return story
    frame = story.headline_frame()
    if frame.empty or frame["suppressed"].all():
        story.status = "all_suppressed"
    return story


def build(data_path: str = "", results_path: str | None = "", institution: str = "", period: str = "",
          lang: str = "nl") -> Story:
    """Load (or compute) the results and prepare the story: what the notebook's first code cell calls."""
    _check_lang(lang)
    results, data = load(data_path, results_path, period)
    return prepare(results, institution, period, lang, data=data)


def cover_metadata(story: Story) -> dict:
    """What the export needs for the cover (``nb.metadata.outcome_report``)."""
    return {"institution": story.institution, "period": story.period, "lang": story.lang}


def record(story: Story) -> None:
    """Record the cover facts this run resolved (the default institution and period of a standalone
    run) in a small output of mimetype ``application/vnd.outcome-report+json``; export reads it for
    the cover and running header and leaves it out of the report. A kernel cannot set notebook
    metadata, an output it can."""
    from IPython.display import display

    from .export import REPORT_MIMETYPE

    display({REPORT_MIMETYPE: cover_metadata(story)}, raw=True)


__all__ = ["Story", "StoryError", "prepare", "build", "load", "show", "record", "default_institution", "default_period",
           "category_label", "care_type_label", "TEXTS"]
