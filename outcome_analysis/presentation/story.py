"""The institution report's context: what every section of ``notebooks/institution_report.ipynb`` reads.

A :class:`Story` is one institution in one period: its care types and statuses, the comparator
(the pooled figure and its words), the labels, and the rows the sections show, selected through
the results' query API (:mod:`outcome_analysis.running.query`: ``rows``, ``headline``, ``trend``,
``verdict``, ``casemix_rows``, ``model``) so the follow-up window in force and the headline category are applied
as everywhere else. The sections themselves are modules of
:mod:`outcome_analysis.presentation.sections.institution` (``build(story) -> list`` of escaped
:class:`~outcome_analysis.report.HTML` and PNG images); the notebook shows one per cell::

    st.show(documents.section("institution", "summary", story))

Nothing here computes an indicator: numbers come from the results store, labels from the registry,
formatting and suppression display from :mod:`outcome_analysis.report`, figures from
:mod:`outcome_analysis.plots`. Other institutions are never named; small numbers are never shown.

Example
-------
>>> from outcome_analysis import story
>>> from outcome_analysis.presentation import documents
>>> s = story.prepare(results, institution="Stichting Jeugd Zuid", period="2024")   # doctest: +SKIP
>>> story.show(documents.section("institution", "summary", s))                     # doctest: +SKIP
"""
from __future__ import annotations

import html as _htmllib
import io as _io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from outcome_analysis import texts
from outcome_analysis.contract import schema
from outcome_analysis.contract.periods import parse_period, previous_period
from outcome_analysis.indicators import registry
from outcome_analysis.running.results import Results, care_type_family, compute_results, modelled_period
from outcome_analysis.settings import Settings

from . import report
from .report import is_missing

#: status of a story: ``ok`` or why there is no report.
STATUSES = ("ok", "unknown_institution", "no_ended", "all_suppressed")

#: indicator sets in the order of the report (context items are a section of their own).
SET_ORDER = ("basisset_jbjr", "jeugdhulp_harmonised", "prestatie")

#: short care-type marks for narrow table cells (registry ``care_type_labels``).
CARE_TYPE_SHORT = {c: registry.care_type_label(c, short=True) for c in ("jeugdhulp", "jb", "jr")}

#: the texts of the institution report (``data/texts/report.yaml``, section ``story``), nl and en.
TEXTS = {lang: report.ui(lang, "story") for lang in texts.LANGS}

#: how many periods a trend figure shows (the report period and the ones before it).
TREND_PERIODS = 6


class StoryError(report.ReportError):
    """A story that cannot be told as asked (unknown language, no results)."""


def own_texts(lang: str) -> dict:
    """The institution report's own texts that are not in the reports' vocabulary
    (``data/texts/story.yaml``), in ``lang``."""
    return texts.for_lang("story", lang, error=StoryError)


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


def _ended(results: Results, period: str, institution: str | None = None) -> pd.DataFrame:
    """The institution rows of the quality table that count ended trajectories (item ``end_reason``)
    in ``period``: one per institution and care type (of ``institution`` only, when given)."""
    rows = results.select("quality", scope="institution", period=period, item="end_reason", institution=institution)
    return rows if institution is None else rows[rows["denominator"] > 0]


def default_institution(results: Results, period: str) -> str:
    """The institution (or gemeente, jeugdregio) with the most ended trajectories in ``period``
    (ties: alphabetical; never the unit "gemeente onbekend")."""
    from outcome_analysis.running.units import UNKNOWN  # never the unit of unplaceable records

    rows = _ended(results, period)
    rows = rows.loc[~rows["institution"].isin(list(UNKNOWN.values()))]
    if len(rows):
        sizes = rows.groupby("institution")["denominator"].sum()
        sizes = sizes.sort_index().sort_values(ascending=False, kind="stable")
        return str(sizes.index[0])
    names = [n for n in results.institutions if n not in UNKNOWN.values()]
    if not names:
        raise StoryError("the results name no institution")
    return names[0]


# --------------------------------------------------------------------------------------------
# small helpers the sections share
# --------------------------------------------------------------------------------------------
def show(items) -> None:
    """Display a section's items in a notebook (HTML, images); ``None`` items are skipped."""
    from IPython.display import display

    for item in items or []:
        if item is not None:
            display(item)


def esc(text) -> str:
    """``text`` escaped for HTML."""
    return _htmllib.escape(str(text))


def para(text: str, cls: str = "oa-note") -> report.HTML:
    """A paragraph of escaped text (class ``oa-note`` unless told)."""
    return report.HTML(f'<p class="{cls}">{esc(text)}</p>')


def new_figure(width: float, height: float, ncols: int = 1, width_ratios=None):
    """A matplotlib figure never registered with pyplot, and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, gridspec_kw={"width_ratios": width_ratios} if width_ratios else None)
    return fig, axes


def png(fig, dpi: int = 120, alt: str | None = None):
    """A figure as an embedded PNG image (never registered with pyplot, so never shown twice) that
    carries its text alternative: ``alt`` when given, else one read from the figure
    (:func:`outcome_analysis.presentation.alt_text.describe`: its titles, labels and the first and
    last value of each series drawn). The alt text travels in the output's metadata
    (``image/png`` → ``alt``); the report template writes it into ``<img alt>``."""
    from IPython.display import Image

    from .alt_text import describe

    buffer = _io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.05)  # legends below the axes stay whole
    text = alt if alt else describe(fig)
    return Image(data=buffer.getvalue(), format="png", alt=text)


def deciding_verdict(adjusted: dict | None, reference: dict | None) -> dict | None:
    """Of a figure's stored verdicts (:meth:`Story.verdicts`), the one that may say better or worse:
    the adjusted verdict where the indicator has a case-mix model (also when it cannot judge, signal
    ``none``: then nothing is decided, and the raw gap stays context), else the raw comparison.
    The conversation page and the short edition read it, as the Kerncijfers read the adjusted one.

    >>> deciding_verdict({"signal": "none"}, {"signal": "higher"})
    {'signal': 'none'}
    >>> deciding_verdict(None, {"signal": "higher"})
    {'signal': 'higher'}
    """
    return adjusted if adjusted is not None else reference


def is_suppressed(row) -> bool:
    """Whether a figure row (dict) is hidden by disclosure control; no row counts as hidden."""
    if row is None:
        return True
    value = row.get("suppressed", False)
    return bool(value) if not is_missing(value) else False


def shorten(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters with an ellipsis."""
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------------------------
# the story
# --------------------------------------------------------------------------------------------
@dataclass
class Story:
    """One institution's report: what its sections read (the slice of the results, its words).

    Build it with :func:`prepare`. ``status`` is ``"ok"`` or why there is no report
    (:data:`STATUSES`); the section ``too_little`` tells the reader.
    """

    results: Results
    institution: str
    period: str
    lang: str = "nl"
    care_types: tuple[str, ...] = ()
    status: str = "ok"
    data: object | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def _cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # -- basics ---------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def settings(self) -> Settings:
        return self.results.settings

    @property
    def previous(self) -> str:
        return previous_period(self.period)

    @property
    def period_text(self) -> str:
        """The report period for prose ("het eerste halfjaar van 2024" for ``2024H1``)."""
        return report.fmt_period(self.period, self.lang)

    @property
    def t(self) -> dict:
        """The report's texts, with ``{comparator}`` / ``{comparator_label}`` filled in for this
        delivery (:attr:`comparator`) and the interval level set to the settings' ``conf``
        (:func:`report.with_conf`)."""
        def make():
            c = self.comparator
            return {k: (report.with_conf(v.replace("{comparator_label}", c["label"]).replace("{comparator}", c["name"]),
                                         self.settings, self.lang)
                        if isinstance(v, str) else v) for k, v in TEXTS[self.lang].items()}
        return self._cached(("texts", self.lang), make)

    @property
    def words(self) -> dict:
        """The texts of ``data/texts/story.yaml`` in the report's language."""
        return self._cached(("words", self.lang), lambda: own_texts(self.lang))

    def care_label(self, care_type: str) -> str:
        """``jb`` → ``jeugdbescherming`` in the report's language."""
        return registry.care_type_label(care_type, self.lang)

    def care_list(self, care_types) -> str:
        """"jeugdbescherming en jeugdreclassering"."""
        return f" {TEXTS[self.lang]['and']} ".join(self.care_label(c) for c in care_types)

    @property
    def comparator(self) -> dict:
        """The words for the pooled figure (:func:`outcome_analysis.report.comparator`): decided by
        the settings' ``delivery_scope`` and the number of institutions in the delivery that have
        trajectories of this report's care types (the pooled JB figure of a delivery with one GI
        and two jeugdhulp providers is the GI's own: there is nothing to compare it with)."""
        def make():
            words_ = report.family_comparator(self.results, self.family_care_types, self.lang,
                                              institution=self.institution)
            if words_["scope"] == "none" and len(self.results.institutions) > 1:
                words_["scope_note"] = TEXTS[self.lang]["scope_note_alone_in_family"].format(
                    care_types=self.care_list(self.family_care_types))
            return words_
        return self._cached(("comparator", self.lang), make)

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
        return TEXTS[self.lang]["absent_care_types"].format(institution=self.institution,
                                                           care_types=self.care_list(absent))

    def heading(self, key: str, level: int = 2, page_break: bool = True) -> report.HTML:
        """A section heading in the report's language (h2 starts a new page in the PDF unless
        ``page_break`` is false)."""
        return report.heading(self.t.get(key, key), level, cls="" if page_break or level != 2 else "oa-nobreak")

    def pct_or_mark(self, value, hidden: bool) -> str:
        """A share as a percentage, or ``–*`` when disclosure control hides it."""
        if hidden:
            return report.ui(self.lang)["suppressed_mark"] + "*"
        return report.fmt_pct(value, 1, self.lang)

    # -- which indicators, which care types ----------------------------------------------------
    def indicator_status(self, entry: registry.Entry, care_type: str) -> dict:
        """The status row of one indicator and care type for this institution
        (:meth:`outcome_analysis.results.Results.status_of`): computed once in the results."""
        return self._cached(("status", entry.id, care_type),
                            lambda: self.results.status_of(entry.id, care_type, self.institution, self.period))

    def status_text(self, entry: registry.Entry, care_type: str) -> str:
        """The status of one indicator and care type in one sentence; empty when it is shown."""
        row = self.indicator_status(entry, care_type)
        counts = self.figure(entry, care_type, row["period"]) if row["status"] == "verborgen" else None
        return report.status_sentence(row["status"], self.lang, reason=row["reason"], institution=self.institution,
                                      care_type=care_type, period=row["period"], unit=entry.unit,
                                      settings=self.settings, counts=counts)

    def entries(self, set_id: str | None = None) -> list[registry.Entry]:
        """Registry entries (not context) that apply to one of the care types of the report
        (:attr:`family_care_types`)."""
        return [e for e in registry.REGISTRY.values()
                if e.kind != "context" and (set_id is None or e.set == set_id)
                and any(c in e.care_types for c in self.offered_care_types)]

    def sets(self) -> list[str]:
        """The indicator sets with at least one indicator for the institution's care types."""
        return [s for s in SET_ORDER if self.entries(s)]

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

    def label(self, entry: registry.Entry, care_type: str | None = None) -> str:
        """The indicator's label, with the care-type mark when the report shows more than one."""
        text = entry.label(self.lang)
        if care_type and len(entry.care_types) > 1 and len(self.offered_care_types) > 1:
            text += f" ({CARE_TYPE_SHORT.get(care_type, care_type)})"
        return text

    # -- rows, through the results' query API --------------------------------------------------
    def rows(self, entry: registry.Entry | str, care_type: str, period: str | None = None,
             scope: str = "institution", category: str | None = "") -> pd.DataFrame:
        """Indicator rows of this institution (``scope="institution"``) or the pooled ones
        (``"national"``) in ``period`` (default: :meth:`shown_period`); ``category=None``: all
        categories, else that one (``""``: the headline)."""
        entry = registry.get(entry) if isinstance(entry, str) else entry
        period = period or self.shown_period(entry)
        return self._cached(("rows", entry.id, care_type, period, scope, category), lambda: self.results.rows(
            entry.id, care_type=care_type, period=period, scope=scope,
            institution=self.institution if scope == "institution" else None, category=category))

    def figure(self, entry: registry.Entry, care_type: str, period: str | None = None, scope: str = "institution"):
        """The headline row (category ``""``) as a dict, or ``None``."""
        period = period or self.shown_period(entry)
        row = self._cached(("figure", entry.id, care_type, period, scope), lambda: self.results.headline(
            entry.id, care_type, period, scope, institution=self.institution))
        return None if row is None else dict(row)

    def national(self, entry: registry.Entry, care_type: str, period: str) -> dict:
        """The pooled headline row, as every cell that prints it reads it: ``{}`` when there is no
        comparison (:attr:`compared`); ``value`` NaN and ``hidden`` true when disclosure control hides
        it (marked suppressed, or its denominator below ``min_denominator``)."""
        if not self.compared:
            return {}
        if self.comparator["scope"] == "reference":  # the published figure, never hidden
            published = self.published(entry, care_type, period)
            return dict(published, hidden=False) if published else {}
        nat = self.figure(entry, care_type, period, scope="national")
        if not nat:
            return {}
        if report.figure_hidden(nat, self.settings.min_denominator):
            return dict(nat, value=np.nan, ci_low=np.nan, ci_high=np.nan, hidden=True)
        return dict(nat, hidden=False)

    def published(self, entry: registry.Entry, care_type: str, period: str) -> dict:
        """The published national figure of ``entry`` for ``care_type`` in ``period`` from the
        results' reference (``meta["reference"]``: ``value``, ``ci_low``, ``ci_high``, ``source``),
        under the rule the comparisons table follows: a windowed indicator only with the window in
        force; ``{}`` without one."""
        figures = (self.results.meta.get("reference") or {}).get("figures") or []
        window = self.results.window_months(entry.id)
        for f in figures:
            if (f["indicator"], f["care_type"], str(f["period"])) != (entry.id, care_type, str(period)):
                continue
            if window and f.get("window_months") != window:
                continue
            if f.get("value") is None:
                continue
            return {"value": f["value"], "ci_low": f.get("ci_low") if f.get("ci_low") is not None else np.nan,
                    "ci_high": f.get("ci_high") if f.get("ci_high") is not None else np.nan,
                    "source": f.get("source", "")}
        return {}

    def context_rows(self, indicator: str, care_type: str, scope: str) -> pd.DataFrame:
        """Every row (all categories) of a context item of the report period, this institution's or pooled."""
        return self.results.rows(indicator, care_type=care_type, period=self.period, scope=scope,
                                 institution=self.institution if scope == "institution" else None,
                                 category=None, table="context")

    def trend_table(self, entry: registry.Entry, care_type: str, up_to: str) -> pd.DataFrame:
        """The headline rows of the last :data:`TREND_PERIODS` periods up to ``up_to``: this
        institution's and, when there is a comparison, the pooled ones."""
        rows = self.results.trend(entry.id, care_type, self.institution, up_to, last=TREND_PERIODS)
        if not self.compared:
            rows = rows.loc[rows["scope"] != "national"]
        elif self.comparator["scope"] == "reference":  # the published figures are the national line
            mine = rows.loc[rows["scope"] != "national"]
            published = [dict(self.published(entry, care_type, p), period=p, scope="national", institution="",
                              suppressed=False) for p in mine["period"].astype(str).unique()]
            published = [r for r in published if "value" in r]
            rows = pd.concat([mine, pd.DataFrame(published)], ignore_index=True) if published else mine
        return rows

    def casemix_row(self, entry: registry.Entry, care_type: str):
        """This institution's case-mix row for the report period (``None`` when absent)."""
        rows = self.results.casemix_rows(entry.id, care_type, self.period, institution=self.institution)
        return None if rows.empty else rows.iloc[0].to_dict()

    def casemix_all(self, entry: registry.Entry, care_type: str) -> pd.DataFrame:
        """Every institution's case-mix row (for the funnel), marked ``suppressed`` by the disclosure
        rule on its cells (observed events of ``n``: the two-cell rule): a peer is drawn only when
        its share may be shown."""
        return self.results.casemix_rows(entry.id, care_type, self.period, marked=True)

    def model_row(self, entry: registry.Entry, care_type: str, period: str, kind: str = "share"):
        """The stored summary of one case-mix model as a dict (``None`` when none was fitted)."""
        rows = self.results.model(entry.id, period, care_type, kind)
        return None if rows.empty else rows.iloc[0].to_dict()

    def verdicts(self, entry: registry.Entry, care_type: str) -> dict:
        """The verdicts of this institution's figure of ``entry`` in its shown period
        (:meth:`shown_period`), as the results store holds them
        (:meth:`Results.verdict <outcome_analysis.running.query.ResultsQuery.verdict>`):
        ``{"adjusted": row or None, "reference": row or None, "previous": row or None}`` (the
        ``adjusted`` O/E, the raw share against the other institutions, the change from the previous
        period). Without a comparison (:attr:`compared`) there is no adjusted or reference verdict.
        The Kerncijfers, the indicator section and the dialogue all read this, so they never
        disagree."""
        def make():
            period = self.shown_period(entry)
            # a store of gemeenten or jeugdregio's holds the verdicts of that unit kind
            kind = self.results.meta.get("unit_kind", "institution")
            get = lambda basis, measure: self.results.verdict(  # noqa: E731
                entry.id, care_type, period, self.institution, basis=basis, measure=measure, unit_kind=kind)
            out = {"adjusted": None, "reference": None, "previous": get("raw_previous", "share_difference")}
            if self.compared:
                out["adjusted"] = get("adjusted", "oe_ratio") if entry.casemix else None
                out["reference"] = get("raw_reference", "share")
            return out
        return self._cached(("verdicts", entry.id, care_type), make)

    # -- the headline figures ------------------------------------------------------------------
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
        ``previous_suppressed``, ``direction``, and the verdicts of :meth:`verdicts`: ``adjusted``,
        ``reference``, ``change`` (the rows as dicts, or None) with the adjusted ``signal`` and
        ``favourable`` (None without an adjusted verdict) beside them.
        """
        rows = []
        for entry in self.summary_entries():
            shown = self.shown_period(entry)
            for care_type in self.entry_care_types(entry):
                status = self.indicator_status(entry, care_type)["status"]
                mine = self.figure(entry, care_type, shown) if status in ("getoond", "verborgen") else None
                base = {"indicator": entry.id, "care_type": care_type, "label": self.label(entry, care_type),
                        "shown_period": shown, "status": status, "status_text": self.status_text(entry, care_type),
                        "direction": entry.direction}
                if mine is None:
                    rows.append(dict(base, numerator=np.nan, denominator=np.nan, value=np.nan, ci_low=np.nan,
                                     ci_high=np.nan, suppressed=True, national_value=np.nan, national_ci_low=np.nan,
                                     national_ci_high=np.nan, national_hidden=False, previous_value=np.nan, previous_ci_low=np.nan,
                                     previous_ci_high=np.nan, previous_suppressed=True, adjusted=None, reference=None,
                                     change=None, signal=None, favourable=None))
                    continue
                nat = self.national(entry, care_type, shown)
                prev = self.figure(entry, care_type, previous_period(shown)) or {}
                hidden = is_suppressed(mine) or is_missing(mine.get("value"))
                said = {}
                for k, v in self.verdicts(entry, care_type).items():
                    if v is not None and k == "adjusted" and hidden:
                        # a hidden figure keeps its adjusted verdict word, never a number of it
                        said[k] = v if v.get("signal") in ("higher", "lower", "within") else None
                    else:
                        said[k] = None if hidden or v is None or v.get("text_key") == "suppressed" else v
                rows.append(dict(
                    base, numerator=mine.get("numerator"), denominator=mine.get("denominator"),
                    value=mine.get("value"), ci_low=mine.get("ci_low"), ci_high=mine.get("ci_high"),
                    suppressed=hidden,
                    national_value=nat.get("value", np.nan), national_ci_low=nat.get("ci_low", np.nan),
                    national_ci_high=nat.get("ci_high", np.nan), national_hidden=bool(nat.get("hidden", False)),
                    previous_value=prev.get("value", np.nan), previous_ci_low=prev.get("ci_low", np.nan),
                    previous_ci_high=prev.get("ci_high", np.nan),
                    previous_suppressed=is_suppressed(prev) if prev else True,
                    adjusted=said["adjusted"], reference=said["reference"], change=said["previous"],
                    signal=said["adjusted"]["signal"] if said["adjusted"] else None,
                    favourable=said["adjusted"]["favourable"] if said["adjusted"] else None,
                ))
        return pd.DataFrame(rows)

    def unknown_reason_shares(self) -> dict[str, float]:
        """Share of end reason ``onbekend`` per care type (visible rows only)."""
        out = {}
        for care_type in self.care_types:
            entry = registry.get("jh_uitval" if care_type == "jeugdhulp" else "jbjr_verloop")
            rows = self.rows(entry, care_type, self.period, category="end_reason:onbekend")
            if len(rows) and not is_suppressed(rows.iloc[0].to_dict()):
                out[care_type] = float(rows.iloc[0]["value"])
            elif len(rows) == 0:
                all_rows = self.rows(entry, care_type, self.period, category=None)
                ended = all_rows[all_rows["category"].str.startswith("end_reason:")]
                if len(ended) and not ended["suppressed"].all():
                    out[care_type] = 0.0
        return out


def contract_items(results: Results, lang: str = "nl") -> list:
    """The parts of the data contract and whether the delivery held them: an h3 heading, a short
    introduction and a two-column table (also used by the overview's method note)."""
    words_ = report.ui(lang, "status")
    held = results.contract
    rows = [{"part": words_["contract_trajectories"], "held": words_["contract_yes"]}]
    rows += [{"part": report.contract_part_label(part, lang), "held": words_["contract_yes" if ok else "contract_no"]}
             for part, ok in held.items()]
    cols = {"part": (words_["contract_col_part"], "text"), "held": (words_["contract_col_held"], "text")}
    return [report.HTML(f"<h3>{esc(words_['contract_title'])}</h3>"), para(words_["contract_intro"]),
            report.display_table(pd.DataFrame(rows), cols, lang, widths=(70, 30), settings=results.settings)]


# --------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------
def prepare(results: Results, institution: str = "", period: str = "", lang: str = "nl", *, data=None) -> Story:
    """The story of ``institution`` in ``period`` (defaults: the results' report period and the
    largest institution), with its ``status``: ``ok`` or why there is no report.

    Never raises for an unknown institution or one without figures; those get a status.
    """
    texts.check_lang(lang, StoryError)
    period = str(period or default_period(results))
    institution = str(institution or default_institution(results, period))
    story = Story(results=results, institution=institution, period=period, lang=lang, data=data)
    if institution not in set(results.institutions):
        story.status = "unknown_institution"
        return story
    ended = _ended(results, period, institution)
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
    texts.check_lang(lang, StoryError)
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


__all__ = ["Story", "StoryError", "prepare", "build", "load", "show", "record", "cover_metadata",
           "default_institution", "default_period", "contract_items", "TEXTS"]
