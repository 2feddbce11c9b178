"""The national overview and the methods notebook: what ``notebooks/national_overview.ipynb`` and
``notebooks/methods.ipynb`` call.

The national overview puts all institutions side by side for one period: per indicator set and
indicator a funnel of the raw share and one of the case-mix O/E ratio (institutions named; those
whose figures are suppressed are listed as "te klein", never plotted), a table of adjusted figures,
the spread between institutions with the overdispersion of the funnel, and the national trends.
The methods notebook shows the definitions and the adjustment with live examples.

Everything computes on :class:`~outcome_analysis.results.Results` (compute once, render many) and
formats with :mod:`outcome_analysis.report` and :mod:`outcome_analysis.plots`. Disclosure control:
an institution whose case-mix records (``n``) or raw denominator is below
``settings.min_denominator`` is "te klein": no number of it is shown or drawn.

Example
-------
>>> from outcome_analysis import overview
>>> overview.signal_label("higher", lang="en")
'higher than expected'
>>> overview.care_type_label("jb")
'jeugdbescherming'
"""
from __future__ import annotations

import html as _html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from outcome_analysis.statistics import disclosure, funnel, stats
from outcome_analysis.indicators import episodes, registry
from outcome_analysis import indicators
from outcome_analysis.contract import io, schema
from . import plots, report
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.errors import OutcomeAnalysisError
from outcome_analysis.contract.periods import parse_period
from outcome_analysis.running.results import CARE_TYPE_FAMILIES, Results, compute_results
from outcome_analysis.settings import DEFAULT, Settings, for_delivery

__all__ = [
    "OverviewError", "Overview", "load", "care_type_label", "signal_label", "comparisons",
    "adjusted_table", "raw_table", "spread", "signal_summary", "summary_sentences", "national_trends",
    "funnel_pair", "trend_figure", "show_summary", "show_set", "show_trends", "show_method_note",
    "indicator_catalogue", "toy_trajectories", "toy_episode_example", "window_example",
    "wilson_example", "disclosure_example", "casemix_example", "casemix_mover", "calibration_plot",
    "overdispersion_table", "shrinkage_table", "shrinkage_plot", "rci_example", "gas_example",
    "heading", "SETS_SHOWN", "comparator", "set_statuses", "delivery_figures", "report_title",
]

#: the indicator sets of the overview, in report order (context items are not compared).
SETS_SHOWN = ("basisset_jbjr", "jeugdhulp_harmonised", "prestatie")

_T = {
    "nl": {
        "higher": "hoger dan verwacht", "lower": "lager dan verwacht", "within": "binnen de grenzen",
        "too_small": "te klein", "no_model": "geen model",
        "summary_h": "Samenvatting", "method_h": "Over deze cijfers",
        "intro": ("Dit overzicht zet alle instellingen naast elkaar over {period}. Per indicator staat hoeveel "
                  "instellingen na correctie voor de kenmerken van hun jeugdigen (case-mix) hoger of lager "
                  "uitkomen dan verwacht, buiten de 99,8%-grenzen van de trechter. Dat is een startpunt voor "
                  "het gesprek over het verhaal achter de cijfers, geen rangorde."),
        "total": ("Bij {f} van de {k} vergelijkingen met een case-mix-model ligt ten minste één instelling buiten "
                  "de grenzen."),
        "flag_line": "{ind} ({care}): {parts}.", "n_sig": "{k} {inst} {sig}{tone}", "and": "en",
        "alone_family": "Voor {care} bevat deze levering één instelling ({institution}); er is daarom geen "
                        "vergelijking tussen instellingen.",
        "inst1": "instelling", "instn": "instellingen", "good": " (gunstig)", "bad": " (ongunstig)",
        "line_none": "Geen case-mix-model (te weinig gegevens), alleen ruwe cijfers: {names}.",
        "direction": {"higher_better": "een hoger cijfer is gunstiger",
                      "lower_better": "een lager cijfer is gunstiger", "none": ""},
        "col_indicator": "Indicator", "col_care": "Zorgsoort",
        "col_compared": "Vergeleken", "col_higher": "Hoger", "col_lower": "Lager", "col_small": "Te klein",
        "col_n": "Aantal (afgerond)", "col_raw": "Ruw", "col_oe": "W/V", "col_oe_ci": "95%-interval W/V",
        "col_shrunk": "W/V rekening houdend met kleine aantallen",
        "shrunk_note": "W/V rekening houdend met kleine aantallen: een uitschieter van een kleine instelling wordt "
                       "naar 1 getrokken, des te meer naarmate het cijfer op minder trajecten rust (empirische Bayes).",
        "col_adj": "Gecorrigeerd", "col_signal": "Signaal",
        "spread_cols": {"measure": "Maat", "n": "Instellingen", "min": "Laagste", "q1": "1e kwartiel",
                        "median": "Mediaan", "q3": "3e kwartiel", "max": "Hoogste", "iqr": "Interkwartielafstand"},
        "raw": "ruw percentage", "adjusted": "gecorrigeerd percentage",
        "modelled_period": "Cijfers over {p}: de volgtermijn van {m} maanden moet verstreken zijn.",
        "spread_od": ("Spreiding tussen instellingen: overdispersie φ = {phi}, τ² = {tau2} (p = {p}). {applied}"),
        "od_applied": "De instellingen verschillen meer dan toeval verklaart; de grenzen zijn daarvoor verbreed.",
        "od_not": "Geen overdispersie aangetoond; de grenzen zijn niet gecorrigeerd.",
        "od_none": "Geen case-mix-model, dus geen overdispersietoets.",
        "too_small_list": "Te klein om te tonen (minder dan {n}): {names}.",
        "raw_title": "Ruw percentage", "oe_title": "W/V na case-mix-correctie", "col_key": "Nr.",
        "key_note": "De nummers bij de punten in de trechters verwijzen naar de nummers in de tabel.",
        "table_caption": "{ind} ({care}), {p}: gecorrigeerde cijfers per instelling",
        "sort_note": ("Gesorteerd op signaal (hoger, lager, binnen de grenzen) en daarbinnen op naam; te kleine "
                      "instellingen onderaan. De volgorde is geen rangorde."),
        "trend_note": ("Deze cijfers zijn niet gecorrigeerd: een verschuiving kan ook komen door een "
                       "andere samenstelling van de jeugdigen. Bij indicatoren met een volgtermijn ontbreekt "
                       "de laatste periode zolang de termijn niet verstreken is."),
        "method": ("Gecorrigeerd percentage = W/V × {share}, met W het waargenomen en V het verwachte "
                   "aantal volgens een logistisch model op de hele populatie (kenmerken: {cov}). Signaal: buiten "
                   "de 99,8%-grenzen van de trechter, na correctie voor overdispersie waar nodig. Aantallen zijn "
                   "afgerond op vijftallen; cijfers over minder dan {n} jeugdigen of trajecten worden niet "
                   "getoond. Referentiedatum van de gegevens: {ref}."),
        "none_in_set": "Geen vergelijkbare cijfers voor deze set in {p}.",
        "not_shown_h": "Niet getoond in deze set",
        "alone_figures": "Cijfers van deze levering over {p}",
        "method_alone": ("Deze levering bevat één instelling: er is niets om mee te vergelijken, dus geen trechter, "
                         "geen case-mix-correctie en geen signaal. Aantallen zijn afgerond op vijftallen; cijfers over "
                         "minder dan {n} jeugdigen of trajecten worden niet getoond. Referentiedatum van de gegevens: "
                         "{ref}."),
        "same_as": "{ind}: berekend als {other} (zie daar).",
    },
    "en": {
        "higher": "higher than expected", "lower": "lower than expected", "within": "within limits",
        "too_small": "too small", "no_model": "no model",
        "summary_h": "Summary", "method_h": "About these figures",
        "intro": ("This overview puts all institutions side by side for {period}. For each indicator it shows how "
                  "many institutions, after adjustment for the characteristics of their youths (case-mix), come "
                  "out higher or lower than expected, beyond the 99.8% funnel limits. It is a starting point for "
                  "the dialogue about the story behind the numbers, not a ranking."),
        "total": "In {f} of the {k} comparisons with a case-mix model at least one institution lies beyond the limits.",
        "flag_line": "{ind} ({care}): {parts}.", "n_sig": "{k} {inst} {sig}{tone}", "and": "and",
        "alone_family": "For {care} this delivery holds one institution ({institution}); so there is no "
                        "comparison between institutions.",
        "inst1": "institution", "instn": "institutions", "good": " (favourable)", "bad": " (unfavourable)",
        "line_none": "No case-mix model (too few data), raw figures only: {names}.",
        "direction": {"higher_better": "a higher figure is better", "lower_better": "a lower figure is better",
                      "none": ""},
        "col_indicator": "Indicator", "col_care": "Care type",
        "col_compared": "Compared", "col_higher": "Higher", "col_lower": "Lower", "col_small": "Too small",
        "col_n": "Number (rounded)", "col_raw": "Raw", "col_oe": "O/E", "col_oe_ci": "95% interval O/E",
        "col_shrunk": "O/E taking small numbers into account",
        "shrunk_note": "O/E taking small numbers into account: an outlying figure of a small institution is pulled "
                       "towards 1, the more so the fewer trajectories it rests on (empirical Bayes).",
        "col_adj": "Adjusted", "col_signal": "Signal",
        "spread_cols": {"measure": "Measure", "n": "Institutions", "min": "Lowest", "q1": "1st quartile",
                        "median": "Median", "q3": "3rd quartile", "max": "Highest", "iqr": "Interquartile range"},
        "raw": "raw percentage", "adjusted": "adjusted percentage",
        "modelled_period": "Figures for {p}: the follow-up window of {m} months must have passed.",
        "spread_od": "Spread between institutions: overdispersion φ = {phi}, τ² = {tau2} (p = {p}). {applied}",
        "od_applied": "Institutions differ more than chance explains; the limits have been widened accordingly.",
        "od_not": "No overdispersion shown; the limits are not corrected.",
        "od_none": "No case-mix model, hence no overdispersion test.",
        "too_small_list": "Too small to show (fewer than {n}): {names}.",
        "raw_title": "Raw percentage", "oe_title": "O/E after case-mix adjustment", "col_key": "No.",
        "key_note": "The numbers at the points in the funnels refer to the numbers in the table.",
        "table_caption": "{ind} ({care}), {p}: adjusted figures per institution",
        "sort_note": ("Sorted by signal (higher, lower, within limits), then by name; institutions that are too "
                      "small at the bottom. The order is not a ranking."),
        "trend_note": ("These figures are not adjusted: a shift may also come from a different mix of youths. "
                       "For indicators with a follow-up window the last period is missing until the window has "
                       "passed."),
        "method": ("Adjusted percentage = O/E × {share}, with O the observed and E the expected number "
                   "from a logistic model on the whole population (characteristics: {cov}). Signal: beyond the "
                   "99.8% funnel limits, corrected for overdispersion where needed. Counts are rounded to "
                   "multiples of five; figures about fewer than {n} youths or trajectories are not shown. "
                   "Reference date of the data: {ref}."),
        "none_in_set": "No comparable figures for this set in {p}.",
        "not_shown_h": "Not shown in this set",
        "alone_figures": "Figures of this delivery for {p}",
        "method_alone": ("This delivery holds one institution: there is nothing to compare it with, so no funnel, no "
                         "case-mix adjustment and no signal. Counts are rounded to multiples of five; figures about "
                         "fewer than {n} youths or trajectories are not shown. Reference date of the data: {ref}."),
        "same_as": "{ind}: computed as {other} (see there).",
    },
}

_SIGNAL_ORDER = {"higher": 0, "lower": 1, "within": 2, "no_model": 3, "too_small": 4}


class OverviewError(OutcomeAnalysisError, ValueError):
    """An overview request that cannot be met (no data path, a period without figures, ...)."""


def _t(lang: str) -> dict:
    if lang not in _T:
        raise OverviewError(f"unknown report language {lang!r}; use 'nl' or 'en'")
    return _T[lang]


def care_type_label(care_type: str, lang: str = "nl") -> str:
    """``jb`` → ``jeugdbescherming`` (en ``child protection``)."""
    _t(lang)
    return registry.care_type_label(care_type, lang)


def signal_label(signal: str, lang: str = "nl") -> str:
    """The reader's word for a signal: ``higher``, ``lower``, ``within``, ``too_small``, ``no_model``."""
    return _t(lang).get(signal, signal)


def comparator(results: Results, lang: str = "nl", care_type: str = "") -> dict:
    """The words for the pooled figure of these results (:func:`outcome_analysis.report.comparator`):
    "Landelijk" only for a delivery declared national, "Alle instellingen (N)" otherwise, nothing
    for a delivery of one institution. With ``care_type``: the pooled figure of its care-type family
    (jeugdhulp, or JB and JR), N its institutions (:meth:`Results.family_institutions`), the same rule
    as the institution reports: a family with one institution has nothing to compare with."""
    if not care_type:
        return report.comparator(results.settings, len(results.institutions), lang,
                                 institution=(results.institutions or [""])[0])
    return report.family_comparator(results, (care_type,), lang)


def compared(results: Results, care_type: str) -> bool:
    """Whether the overview compares institutions for ``care_type``: two or more institutions of its
    care-type family in the delivery (:func:`comparator`)."""
    return comparator(results, "nl", care_type)["scope"] != "none"


def alone_families(results: Results, lang: str = "nl") -> list[str]:
    """Per care-type family the delivery holds with one institution: the sentence that there is no
    comparison for it ("Voor jeugdhulp bevat deze levering één instelling (De Brug); ...")."""
    t = _t(lang)
    held = results.care_types_of()
    out = []
    for family in CARE_TYPE_FAMILIES:
        codes = [c for c in family if c in held]
        if not codes or compared(results, codes[0]):
            continue
        members = results.family_institutions(codes[0])
        care = f" {t['and']} ".join(care_type_label(c, lang) for c in codes)
        out.append(t["alone_family"].format(care=care, institution=(members or [""])[0]))
    return out


# ------------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------------
@dataclass
class Overview:
    """The results and the period an overview notebook shows."""

    results: Results
    period: str
    data: Dataset | None = None

    @property
    def settings(self) -> Settings:
        return self.results.settings


def load(data_path: str = "", results_path: str = "", period: str = "", *, data: Dataset | None = None) -> Overview:
    """The figures a notebook shows: a stored results folder, or computed from the data.

    Parameters
    ----------
    data_path : str
        A delivery folder or file (see :func:`outcome_analysis.io.load`).
    results_path : str
        A folder written by :meth:`Results.save`; used when given and it holds ``period``.
    period : str
        ``"2024"`` or ``"2024H1"``; ``""`` is the latest complete period of the results.
    data : Dataset, optional
        Already loaded data (tests, the explorer); ``data_path`` is then not read.

    Results computed here use the delivery's own ``settings.yaml`` when ``data_path`` has one
    (:func:`outcome_analysis.settings.for_delivery`), else the defaults.

    Raises
    ------
    OverviewError
        Neither results nor data, or a period for which the stored results hold no comparison and
        no data is given to compute it.
    """
    results = None
    if results_path:
        results = Results.load(results_path)
        if period and period not in results.meta.get("periods", []):
            results = None if (data is not None or data_path) else results
            if results is not None:
                raise OverviewError(f"the results in {results_path} hold no comparison for period {period!r} "
                                    f"(they hold {results.meta.get('periods')}); pass data_path to compute it")
    if results is None:
        settings = None
        if data is None:
            if not data_path:
                raise OverviewError("give data_path (a delivery) or results_path (stored results)")
            data = io.load(data_path)
            settings = for_delivery(data_path)[0]  # the delivery's own settings.yaml, if it has one
        granularity = parse_period(period)[2] if period else "year"
        results = compute_results(data, settings, granularity=granularity, periods=[period] if period else None)
    period = period or results.meta["periods"][-1]
    return Overview(results=results, period=str(period), data=data)


# ------------------------------------------------------------------------------------------------
# tables
# ------------------------------------------------------------------------------------------------
def _window(entry: registry.Entry, settings: Settings):
    return entry.window_months(settings)


def comparisons(results: Results, period: str) -> pd.DataFrame:
    """The (indicator, care type) pairs compared in ``period``, in registry order.

    Returns
    -------
    DataFrame
        ``set``, ``indicator``, ``care_type``, ``modelled_period`` (for an indicator with a follow-up
        window, the latest period whose window has passed), ``model`` (``logistic`` | ``none``).
    """
    cm = results.casemix
    cm = cm.loc[cm["report_period"].astype(str) == str(period)]
    summaries = results.model_summaries
    rows = []
    for entry in registry.REGISTRY.values():
        if entry.set not in SETS_SHOWN or entry.same_as or entry.kind == "context":
            continue
        part = cm.loc[cm["indicator"] == entry.id]
        for care_type in entry.care_types:
            sel = part.loc[part["care_type"] == care_type]
            if sel.empty or not compared(results, care_type):
                continue  # one institution of the family: never compared with itself
            modelled = str(sel["period"].iloc[0])
            s = summaries.loc[(summaries["indicator"] == entry.id) & (summaries["kind"] == "share")
                              & (summaries["period"] == modelled) & (summaries["care_type"] == care_type)]
            rows.append({"set": entry.set, "indicator": entry.id, "care_type": care_type,
                         "modelled_period": modelled, "model": s["model"].iloc[0] if len(s) else "none"})
    return pd.DataFrame(rows, columns=["set", "indicator", "care_type", "modelled_period", "model"])


def _headline(results: Results, indicator: str, care_type: str, period: str, scope: str) -> pd.DataFrame:
    entry = registry.get(indicator)
    t = results.indicators
    sel = ((t["indicator"] == indicator) & (t["scope"] == scope) & (t["care_type"] == care_type)
           & (t["period"] == str(period)) & (t["category"] == ""))
    months = _window(entry, results.settings)
    if months is not None and "window_months" in t:
        sel &= (t["window_months"] == months).fillna(False).to_numpy(bool)
    return t.loc[sel]


def raw_table(results: Results, indicator: str, care_type: str, period: str) -> pd.DataFrame:
    """The unadjusted headline share per institution (``indicators.compute`` rows) of ``period``.

    Returns the tidy rows (``institution``, ``numerator``, ``denominator``, ``value``, ``ci_low``,
    ``ci_high``, ``suppressed``), sorted by institution.
    """
    out = _headline(results, indicator, care_type, period, "institution")
    return out.sort_values("institution", ignore_index=True)


def _min_n(results: Results) -> int:
    return int(results.settings.min_denominator)


def adjusted_table(results: Results, indicator: str, care_type: str, period: str, lang: str = "nl") -> pd.DataFrame:
    """One row per institution with the case-mix adjusted figures of one indicator and care type.

    Parameters
    ----------
    results : Results
    indicator, care_type : str
    period : str
        The report period (``report_period`` of the case-mix table); for an indicator with a
        follow-up window the figures are those of the modelled period.
    lang : {"nl", "en"}

    Returns
    -------
    DataFrame
        ``institution``, ``n`` (records in the model), ``n_shown`` (``n`` rounded to multiples of
        ``settings.round_to``; NaN when suppressed), ``raw_value``, ``oe_ratio``, ``oe_ci_low``,
        ``oe_ci_high``, ``adjusted_value``, ``expected``, ``signal`` (``higher`` | ``lower`` |
        ``within`` | ``too_small`` | ``no_model``), ``oe_shrunk``, ``oe_shrunk_ci_low``,
        ``oe_shrunk_ci_high`` (empirical-Bayes O/E, beside the plain one; NaN when the store has
        none), ``signal_label`` (the reader's words,
        "te klein" for suppressed institutions), ``suppressed`` (``n`` below
        ``settings.min_denominator``: every number hidden by the report layer), ``period``.
        Sorted by signal (higher, lower, within, no model, too small), then by name.
    """
    cm = results.casemix
    sel = cm.loc[(cm["report_period"].astype(str) == str(period)) & (cm["indicator"] == indicator)
                 & (cm["care_type"] == care_type)]
    min_n = _min_n(results)
    marked = disclosure.suppress(sel.assign(numerator=sel["observed"], denominator=sel["n"]), results.settings,
                                 min_denominator=min_n)
    out = pd.DataFrame({
        "institution": sel["institution"].astype(str).to_numpy(),
        "n": sel["n"].to_numpy(int),
        "n_shown": marked["shown_denominator"].to_numpy(float),
        "raw_value": sel["raw_value"].to_numpy(float),
        "oe_ratio": sel["oe_ratio"].to_numpy(float),
        "oe_ci_low": sel["oe_ci_low"].to_numpy(float),
        "oe_ci_high": sel["oe_ci_high"].to_numpy(float),
        "adjusted_value": sel["adjusted_value"].to_numpy(float),
        "expected": sel["expected"].to_numpy(float),
        "funnel_high": sel["funnel_high"].to_numpy(float),
        **{c: (sel[c].to_numpy(float) if c in sel else np.full(len(sel), np.nan))
           for c in ("oe_shrunk", "oe_shrunk_ci_low", "oe_shrunk_ci_high")},
        "signal": sel["signal"].astype(str).to_numpy(object),
        "suppressed": marked["suppressed"].to_numpy(bool),
        "period": sel["period"].astype(str).to_numpy(object),
    })
    no_model = ~np.isfinite(out["oe_ratio"].to_numpy(float))
    out.loc[no_model, "signal"] = "no_model"
    out.loc[out["suppressed"], "signal"] = "too_small"
    out["signal_label"] = [signal_label(s, lang) for s in out["signal"]]
    order = out["signal"].map(_SIGNAL_ORDER).fillna(9)
    out = out.assign(_o=order, _n=out["institution"].str.casefold())
    out = out.sort_values(["_o", "_n"], kind="stable", ignore_index=True).drop(columns=["_o", "_n"])
    shown = ~out["suppressed"].to_numpy(bool)
    out["key"] = ""
    out.loc[shown, "key"] = [str(i + 1) for i in range(int(shown.sum()))]
    return out


def shrunk_text(row, lang: str = "nl") -> str:
    """``"1,08 (0,91 – 1,27)"``: the empirical-Bayes O/E of an adjusted-table row with its interval;
    ``"1,00"`` alone when every institution is pulled to 1 (τ² = 0); empty when absent."""
    value = row.get("oe_shrunk")
    if report._is_missing(value):
        return ""
    low, high = row.get("oe_shrunk_ci_low"), row.get("oe_shrunk_ci_high")
    text = report.fmt_ratio(value, 2, lang)
    if report._is_missing(low) or report._is_missing(high) or abs(float(high) - float(low)) < 1e-9:
        return text
    return f"{text} ({report.fmt_ci(low, high, lang=lang, kind='ratio')})"


def _quantiles(values: np.ndarray) -> dict:
    values = values[np.isfinite(values)]
    if not len(values):
        return {"n": 0, "min": np.nan, "q1": np.nan, "median": np.nan, "q3": np.nan, "max": np.nan, "iqr": np.nan}
    q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return {"n": len(values), "min": values.min(), "q1": q1, "median": med, "q3": q3, "max": values.max(),
            "iqr": q3 - q1}


def _summary_row(results: Results, indicator: str, care_type: str, period: str) -> dict:
    s = results.model_summaries
    sel = s.loc[(s["indicator"] == indicator) & (s["kind"] == "share") & (s["period"] == str(period))
                & (s["care_type"] == care_type)]
    return sel.iloc[0].to_dict() if len(sel) else {}


def spread(results: Results, indicator: str, care_type: str, period: str, lang: str = "nl") -> tuple[pd.DataFrame, dict]:
    """The spread between institutions that may be shown (not suppressed).

    Returns
    -------
    table : DataFrame
        Two rows (``measure`` = raw / adjusted percentage) with ``n`` (institutions), ``min``,
        ``q1``, ``median``, ``q3``, ``max``, ``iqr`` (fractions).
    overdispersion : dict
        ``phi``, ``tau2``, ``p_value``, ``applied`` of the O/E funnel (NaN/False without a model).
    """
    t = _t(lang)
    adj = adjusted_table(results, indicator, care_type, period, lang)
    shown = adj.loc[~adj["suppressed"]]
    rows = [{"measure": t["raw"], **_quantiles(shown["raw_value"].to_numpy(float))},
            {"measure": t["adjusted"], **_quantiles(shown["adjusted_value"].to_numpy(float))}]
    modelled = adj["period"].iloc[0] if len(adj) else str(period)
    s = _summary_row(results, indicator, care_type, modelled)
    od = {"phi": float(s.get("phi", np.nan)), "tau2": float(s.get("tau2", np.nan)),
          "p_value": float(s.get("overdispersion_p", np.nan)),
          "applied": bool(s.get("overdispersion_applied", False)), "model": s.get("model", "none")}
    return pd.DataFrame(rows), od


SIGNAL_SUMMARY_COLUMNS = ["set", "indicator", "label", "care_type", "care_label", "direction", "national_value",
                          "modelled_period", "model", "compared", "higher", "lower", "within", "too_small"]


def signal_summary(results: Results, period: str, lang: str = "nl") -> pd.DataFrame:
    """Per compared indicator and care type: how many institutions were flagged.

    Returns
    -------
    DataFrame
        ``set``, ``indicator``, ``label``, ``care_type``, ``care_label``, ``direction``,
        ``national_value`` (share in the modelled period), ``modelled_period``, ``model``,
        ``compared`` (institutions shown), ``higher``, ``lower``, ``within``, ``too_small``.
        Suppressed institutions are counted only as ``too_small``, never by their signal.
    """
    rows = []
    for c in comparisons(results, period).itertuples(index=False):
        adj = adjusted_table(results, c.indicator, c.care_type, period, lang)
        nat = _headline(results, c.indicator, c.care_type, c.modelled_period, "national")
        counts = adj["signal"].value_counts()
        entry = registry.get(c.indicator)
        rows.append({
            "set": c.set, "indicator": c.indicator, "label": entry.label(lang), "care_type": c.care_type,
            "care_label": care_type_label(c.care_type, lang), "direction": entry.direction,
            # the pooled figure follows the disclosure rule like any other
            "national_value": (float(nat["value"].iloc[0]) if len(nat) and not _hidden(nat.iloc[0], _min_n(results))
                               else np.nan),
            "modelled_period": c.modelled_period, "model": c.model,
            "compared": int((~adj["suppressed"]).sum()),
            **{k: int(counts.get(k, 0)) for k in ("higher", "lower", "within", "too_small")},
        })
    return pd.DataFrame(rows, columns=SIGNAL_SUMMARY_COLUMNS)


def _hidden(row, min_denominator: int) -> bool:
    """A figure row that may not be shown: hidden by disclosure control (:func:`report.figure_hidden`)
    or without a value."""
    return report.figure_hidden(row, min_denominator) or pd.isna(row.get("value", np.nan))


def summary_sentences(summary: pd.DataFrame, lang: str = "nl") -> list[str]:
    """The summary in words: the totals, one sentence per indicator with a flagged institution,
    and the indicators without a model. Never a ranking."""
    t = _t(lang)
    fitted = summary.loc[summary["model"] == "logistic"]
    flagged = fitted.loc[(fitted["higher"] + fitted["lower"]) > 0]
    out = [t["total"].format(k=len(fitted), f=len(flagged))]
    for r in flagged.itertuples(index=False):
        parts = []
        for sig in ("higher", "lower"):
            k = getattr(r, sig)
            if k:
                good = registry.favourable(r.direction, sig)
                tone = "" if good is None else t["good"] if good else t["bad"]
                parts.append(t["n_sig"].format(k=k, inst=t["inst1"] if k == 1 else t["instn"],
                                               sig=signal_label(sig, lang), tone=tone))
        out.append(t["flag_line"].format(ind=r.label, care=r.care_label, parts=f" {t['and']} ".join(parts)))
    none = summary.loc[summary["model"] != "logistic"]
    if len(none):
        names = ", ".join(report.with_care_type(r.label, r.care_type, lang) for r in none.itertuples(index=False))
        out.append(t["line_none"].format(names=names))
    return out


def national_trends(results: Results, set: str | None = None) -> pd.DataFrame:
    """National headline shares per period for the compared indicators (not adjusted).

    Returns the tidy national rows (``indicator``, ``care_type``, ``period``, ``numerator``,
    ``denominator``, ``value``, ``ci_low``, ``ci_high``, ``suppressed``, ``excluded_window``) of
    every entry of the shown sets (or of ``set``), at the registry's follow-up window.
    """
    parts = []
    for entry in registry.REGISTRY.values():
        if entry.set not in SETS_SHOWN or entry.same_as or entry.kind == "context" or entry.headline != "share":
            continue
        if set is not None and entry.set != set:
            continue
        t = results.indicators
        sel = (t["indicator"] == entry.id) & (t["scope"] == "national") & (t["category"] == "")
        months = _window(entry, results.settings)
        if months is not None:
            sel &= (t["window_months"] == months).fillna(False).to_numpy(bool)
        parts.append(t.loc[sel])
    if not parts:
        return results.indicators.iloc[:0]
    out = pd.concat(parts, ignore_index=True)
    return out.loc[out["denominator"] > 0].sort_values(["indicator", "care_type", "period"], ignore_index=True)


# ------------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------------
def _oe_limits(adj: pd.DataFrame, tau2: float, settings: Settings) -> pd.DataFrame | None:
    """Smooth O/E limit curves ``1 ± z sqrt(c / E + tau2)`` for plotting.

    ``casemix`` reads each institution's signal from its own null variance ``sum p (1 - p)``; the
    curve takes ``c`` as the median of ``s_i^2 E_i`` recovered from those limits, so that the
    drawn funnel matches the signals in the table.
    """
    ok = adj.loc[np.isfinite(adj["expected"]) & (adj["expected"] > 0) & np.isfinite(adj["funnel_high"])]
    if ok.empty:
        return None
    e = ok["expected"].to_numpy(float)
    z_signal = sps.norm.ppf((1 + settings.signal_limit) / 2)
    s2 = ((ok["funnel_high"].to_numpy(float) - 1) / z_signal) ** 2 - tau2
    c = float(np.median(np.clip(s2, 0, None) * e))
    grid = np.geomspace(max(e.min() * 0.8, 0.5), e.max() * 1.3, 120)
    rows = []
    for lim in settings.funnel_limits:
        z = sps.norm.ppf((1 + lim) / 2)
        half = z * np.sqrt(c / grid + tau2)
        rows.append(pd.DataFrame({"expected": grid, "limit": lim, "low": np.clip(1 - half, 0, None),
                                  "high": 1 + half}))
    return pd.concat(rows, ignore_index=True)


def funnel_pair(results: Results, indicator: str, care_type: str, period: str, lang: str = "nl", *,
                anonymise: bool = False, highlight: str | None = None, axes=None):
    """Two funnels side by side: the raw share against the denominator and the O/E ratio against
    the expected count. Suppressed institutions are not drawn.

    Returns the matplotlib Figure (or the figure of ``axes``).
    """
    import matplotlib.pyplot as plt

    t = _t(lang)
    adj = adjusted_table(results, indicator, care_type, period, lang)
    modelled = adj["period"].iloc[0] if len(adj) else str(period)
    raw = raw_table(results, indicator, care_type, modelled)
    nat = _headline(results, indicator, care_type, modelled, "national")
    target = float(nat["value"].iloc[0]) if len(nat) else None
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.4), layout="constrained")
    fig = axes[0].figure
    # raw: limits from all institutions' counts, widened by tau2 when the raw funnel is overdispersed
    limits = None
    if target is not None and len(raw):
        f = funnel.share_funnel(raw["numerator"], raw["denominator"], target=target, settings=results.settings)
        od = f.attrs["overdispersion"]
        tau2 = od.tau2 if od.applied else 0.0
        xmax = max(float(raw["denominator"].max()), 10.0)
        grid = np.unique(np.round(np.geomspace(max(results.settings.min_denominator, 1), xmax * 1.2, 150)))
        limits = funnel.share_limits(grid, target, tau2=tau2, settings=results.settings)
    plots.funnel_plot(raw, kind="share", target=target, limits_table=limits, anonymise=True,
                      highlight=highlight, lang=lang, title=t["raw_title"], ax=axes[0],
                      national_label=comparator(results, lang, care_type)["label"])
    s = _summary_row(results, indicator, care_type, modelled)
    tau2 = float(s.get("tau2", 0.0) or 0.0) if bool(s.get("overdispersion_applied", False)) else 0.0
    shown = adj.loc[~adj["suppressed"] & np.isfinite(adj["oe_ratio"])]
    oe_limits = _oe_limits(shown if len(shown) else adj, tau2, results.settings)
    plots.funnel_plot(shown, kind="oe", limits_table=oe_limits, anonymise=True, highlight=highlight,
                      lang=lang, title=t["oe_title"], ax=axes[1])
    if not anonymise:
        keys = dict(zip(adj["institution"], adj["key"]))
        _number_points(axes[0], raw, "denominator", "value", keys)
        _number_points(axes[1], shown, "expected", "oe_ratio", keys)
    for ax in axes:
        leg = ax.get_legend()
        if leg is not None:
            leg.remove()
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False, fontsize=7)
    return fig


def _number_points(ax, table: pd.DataFrame, xcol: str, ycol: str, keys: dict) -> None:
    """Label each drawn institution with its number from the adjusted table (names would overlap)."""
    vis = table
    if "suppressed" in vis:
        vis = vis.loc[~vis["suppressed"].fillna(False).astype(bool)]
    vis = vis.dropna(subset=[xcol, ycol])
    for name, x, y in zip(vis["institution"].astype(str), vis[xcol].astype(float), vis[ycol].astype(float)):
        key = keys.get(name)
        if key:
            ax.annotate(key, (max(report.round_count(x), 1), y), xytext=(2.5, 1.5), textcoords="offset points",
                        fontsize=5.5, color="#222222", gid="institution_key")


def trend_figure(results: Results, set: str, lang: str = "nl"):
    """Small multiples of the national headline share per period, one panel per indicator, one
    line per care type. ``None`` when the set has no national figures."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    trends = national_trends(results, set)
    trends = trends.loc[~trends["suppressed"].astype(bool)]
    if trends.empty:
        return None
    ids = list(dict.fromkeys(trends["indicator"]))
    ncols = 3
    nrows = math.ceil(len(ids) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.2, 2.1 * nrows), layout="constrained", squeeze=False)
    periods = sorted(results.indicators["period"].dropna().astype(str).unique())
    periods = [p for p in periods if p in set_periods(trends)]
    pos = {p: i for i, p in enumerate(periods)}
    styles = {"jeugdhulp": (plots.MAIN, "o", "-"), "jb": (plots.NATIONAL, "s", "--"), "jr": (plots.OTHERS, "^", ":")}
    for ax, ind in zip(axes.flat, ids):
        part = trends.loc[trends["indicator"] == ind]
        for care, g in part.groupby("care_type", sort=True):
            colour, marker, ls = styles.get(care, (plots.GREY, "o", "-"))
            x = [pos[p] for p in g["period"].astype(str)]
            ax.plot(x, g["value"].astype(float), color=colour, marker=marker, ls=ls, ms=3, lw=1.2,
                    label=care_type_label(care, lang))
            ax.fill_between(x, g["ci_low"].astype(float), g["ci_high"].astype(float), color=colour, alpha=0.15, lw=0)
        ax.set_title(_wrap(registry.label(ind, lang), 30), fontsize=8, loc="left")
        ax.set_xticks(range(len(periods)))
        ax.set_xticklabels([p[-2:] if len(p) == 4 else p for p in periods], fontsize=7)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: report.fmt_pct(v, 0, lang)))
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
        if part["care_type"].nunique() > 1:
            ax.legend(fontsize=6, frameon=False, loc="best")
    for ax in list(axes.flat)[len(ids):]:
        ax.set_visible(False)
    return fig


def set_periods(trends: pd.DataFrame) -> set:
    return set(trends["period"].astype(str))


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


# ------------------------------------------------------------------------------------------------
# notebook sections (display)
# ------------------------------------------------------------------------------------------------
def _widths(table_html: str, percents) -> report.HTML:
    """Give the columns of a :func:`report.display_table` table relative widths (a ``<colgroup>``);
    the print stylesheet lays tables out with equal columns otherwise."""
    cols = "".join(f'<col style="width:{float(p):g}%">' for p in percents)
    text = re.sub(r"<colgroup>.*?</colgroup>", "", str(table_html), count=1)  # display_table's default widths
    anchor = "</caption>" if "</caption>" in text else None
    if anchor:
        text = text.replace(anchor, anchor + f"<colgroup>{cols}</colgroup>", 1)
    else:
        i = text.index(">", text.index("<table")) + 1
        text = text[:i] + f"<colgroup>{cols}</colgroup>" + text[i:]
    return report.HTML(text)


def heading(text: str, level: int = 2) -> report.HTML:
    """An escaped ``<h2>``/``<h3>`` for the report (export builds the table of contents from them)."""
    return report.HTML(f"<h{level}>{_html.escape(text)}</h{level}>")


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


def _show_figure(fig) -> None:
    import matplotlib.pyplot as plt

    if fig is None:
        return
    _display(fig)
    plt.close(fig)


def show_summary(ov: Overview, lang: str = "nl") -> pd.DataFrame:
    """Display the words-first summary and the table of flagged institutions; return the summary.

    A delivery of one institution has nothing to compare: the summary says so and shows no table of
    signals."""
    t = _t(lang)
    words = comparator(ov.results, lang)
    summary = signal_summary(ov.results, ov.period, lang)
    _display(heading(t["summary_h"], 2))
    lonely = alone_families(ov.results, lang)
    if words["scope"] == "none" or not lonely:
        _display(report.note(words["scope_note"]))
    else:
        held = ov.results.care_types_of()
        families = [f for f in (tuple(c for c in fam if c in held) for fam in CARE_TYPE_FAMILIES) if f]
        for family in families:  # name each compared family's comparator; say the lonely ones
            fam = comparator(ov.results, lang, family[0])
            if fam["scope"] != "none":
                _display(report.note(fam["scope_note"]))
        for sentence in lonely:
            _display(report.note(sentence))
        if len(lonely) == len(families):
            return summary
    _display(report.note(t["intro"].format(period=ov.period), kind="headline"))
    items = "".join(f"<li>{_html.escape(s)}</li>" for s in summary_sentences(summary, lang))
    _display(report.HTML(f'<ul class="oa-summary">{items}</ul>'))
    if summary.empty:
        return summary
    table = summary.assign(suppressed=False)
    # the pooled figures are those of each care type's family: its label when there is one family
    labels = {comparator(ov.results, lang, c)["label"] for c in summary["care_type"]}
    cols = {"label": (t["col_indicator"], "text"), "care_label": (t["col_care"], "text"),
            "national_value": (labels.pop() if len(labels) == 1 else words["label"], "pct"),
            "compared": (t["col_compared"], "int"), "higher": (t["col_higher"], "int"),
            "lower": (t["col_lower"], "int"), "too_small": (t["col_small"], "int")}
    _display(_widths(report.display_table(table, cols, lang), [36, 18, 11, 10, 8, 8, 9]))
    return summary


def _fmt_od(od: dict, lang: str) -> str:
    t = _t(lang)
    if od.get("model") != "logistic" or not np.isfinite(od.get("phi", np.nan)):
        return t["od_none"]
    return t["spread_od"].format(phi=report.fmt_number(od["phi"], 2, lang), tau2=report.fmt_number(od["tau2"], 3, lang),
                                 p=report.fmt_number(od["p_value"], 3, lang),
                                 applied=t["od_applied"] if od["applied"] else t["od_not"])


def show_indicator(ov: Overview, indicator: str, care_type: str, lang: str = "nl") -> None:
    """Display one indicator and care type: funnels, the adjusted table, the spread."""
    t = _t(lang)
    entry = registry.get(indicator)
    care = care_type_label(care_type, lang)
    _display(heading(report.with_care_type(entry.label(lang), care_type, lang, sep=" – {care}"), 3))
    direction = t["direction"].get(entry.direction, "")
    _display(report.note(entry.definition(lang).rstrip(".") + "." + (f" {direction[0].upper()}{direction[1:]}." if direction else "")))
    adj = adjusted_table(ov.results, indicator, care_type, ov.period, lang)
    modelled = adj["period"].iloc[0] if len(adj) else ov.period
    if modelled != ov.period:
        _display(report.note(t["modelled_period"].format(p=modelled, m=entry.window_months(ov.settings))))
    raw = raw_table(ov.results, indicator, care_type, modelled)
    if (~adj["suppressed"]).any() or (~raw["suppressed"].astype(bool)).any():
        _show_figure(funnel_pair(ov.results, indicator, care_type, ov.period, lang))
    small = adj.loc[adj["suppressed"], "institution"].tolist()
    if small:
        _display(report.note(t["too_small_list"].format(n=_min_n(ov.results), names=", ".join(small))))
    shown = adj.loc[~adj["suppressed"]]
    if len(shown):
        _display(report.note(t["key_note"]))
        shown = shown.assign(institution=shown["key"] + ". " + shown["institution"],
                             shrunk_text=[shrunk_text(r, lang) for _, r in shown.iterrows()])
        cols = {"institution": None, "n": (t["col_n"], "count"), "raw_value": (t["col_raw"], "pct"),
                "oe_ratio": (t["col_oe"], "ratio"), "oe_ci": (t["col_oe_ci"], "oe_ci"),
                "shrunk_text": (t["col_shrunk"], "text"),
                "adjusted_value": (t["col_adj"], "pct"), "signal_label": (t["col_signal"], "text")}
        _display(_widths(report.display_table(shown, cols, lang, caption=t["table_caption"].format(
            ind=entry.label(lang), care=care, p=modelled)), [24, 9, 8, 7, 14, 16, 9, 13]))
        _display(report.note(t["shrunk_note"]))
    table, od = spread(ov.results, indicator, care_type, ov.period, lang)
    if not len(shown):
        return
    sc = t["spread_cols"]
    scols = {"measure": (sc["measure"], "text"), "n": (sc["n"], "int"), "min": (sc["min"], "pct"),
             "q1": (sc["q1"], "pct"), "median": (sc["median"], "pct"), "q3": (sc["q3"], "pct"),
             "max": (sc["max"], "pct"), "iqr": (sc["iqr"], "pct")}
    _display(_widths(report.display_table(table.assign(suppressed=False), scols, lang),
                     [20, 10, 10, 10, 10, 10, 10, 10]))
    _display(report.note(_fmt_od(od, lang)))


def set_statuses(results: Results, set: str, period: str, lang: str = "nl") -> pd.DataFrame:
    """The indicators of one set whose figure for the delivery as a whole is not shown, with their
    status in words (from the results' status table, as every report reads it).

    Returns
    -------
    DataFrame
        ``indicator``, ``care_type``, ``label`` ("Cliëntervaring (jeugdbescherming)"), ``status``,
        ``text`` ("Niet aangeleverd: deze levering bevat geen ervaringsvragen (tabel experience).").
        Care types the delivery does not hold are left out (nothing to say about them).
    """
    rows = []
    held = frozenset(results.care_types_of())  # ``set`` is this function's argument here
    for entry in registry.REGISTRY.values():
        if entry.set != set or entry.same_as or entry.kind == "context":
            continue
        for care_type in entry.care_types:
            if care_type not in held or entry.restates.get(care_type):
                continue
            row = results.status_of(entry.id, care_type, "", period)
            if row["status"] in ("getoond", "verborgen"):
                continue
            rows.append({"indicator": entry.id, "care_type": care_type, "status": row["status"],
                         "label": report.with_care_type(entry.label(lang), care_type, lang),
                         "text": report.status_sentence(row["status"], lang, reason=row["reason"], care_type=care_type,
                                                        period=row["period"], unit=entry.unit,
                                                        settings=results.settings)})
    return pd.DataFrame(rows, columns=["indicator", "care_type", "label", "status", "text"])


def delivery_figures(results: Results, set: str, period: str, lang: str = "nl") -> pd.DataFrame:
    """The headline figures of the delivery as a whole (its ``national`` rows) for one set, in the
    shown period of each indicator: what an overview of a one-institution delivery shows instead
    of funnels. Only figures with status ``getoond`` or ``verborgen`` (the latter marked
    ``suppressed``)."""
    parts = []
    for entry in registry.REGISTRY.values():
        if entry.set != set or entry.same_as or entry.kind == "context" or entry.headline != "share":
            continue
        for care_type in entry.care_types:
            if entry.restates.get(care_type):
                continue
            row = results.status_of(entry.id, care_type, "", period)
            if row["status"] not in ("getoond", "verborgen"):
                continue
            hit = _headline(results, entry.id, care_type, row["period"], "national")
            parts.append(hit.assign(label=entry.label(lang), care_label=care_type_label(care_type, lang)))
    if not parts:
        return pd.DataFrame(columns=["indicator", "care_type", "period", "numerator", "denominator", "value",
                                     "ci_low", "ci_high", "suppressed", "label", "care_label"])
    return pd.concat(parts, ignore_index=True)


def show_set(ov: Overview, set: str, lang: str = "nl") -> None:
    """Display every compared indicator of one set (h2 for the set, h3 per indicator), then the
    indicators the delivery cannot show, each with its status in words. A delivery of one
    institution gets a table of its own figures instead of funnels."""
    t = _t(lang)
    meta = registry.SETS[set]
    _display(heading(meta.name_nl if lang == "nl" else meta.name_en, 2))
    alone = comparator(ov.results, lang)["scope"] == "none"
    comp = comparisons(ov.results, ov.period)
    comp = comp.loc[comp["set"] == set]
    statuses = set_statuses(ov.results, set, ov.period, lang)
    absent = [c for c in ("jeugdhulp", "jb", "jr") if c not in ov.results.care_types_of()
              and any(c in e.care_types for e in registry.REGISTRY.values() if e.set == set)]
    if len(absent) == len({c for e in registry.REGISTRY.values() if e.set == set for c in e.care_types}):
        # the delivery holds none of the set's care types: say so, never an empty chapter
        _display(report.note(report.status_sentence("niet_van_toepassing", lang, care_type=tuple(absent))))
        return
    set_types = {c for e in registry.REGISTRY.values() if e.set == set for c in e.care_types}
    lonely = [c for c in ov.results.care_types_of() if c in set_types and not compared(ov.results, c)]
    if lonely and not alone:
        # a care-type family with one institution: its figures as they are, never compared
        for family in CARE_TYPE_FAMILIES:
            codes = [c for c in family if c in lonely]
            if codes:
                members = ov.results.family_institutions(codes[0])
                care = f" {t['and']} ".join(care_type_label(c, lang) for c in codes)
                _display(report.note(t["alone_family"].format(care=care, institution=(members or [""])[0])))
    if alone or lonely:
        figures = delivery_figures(ov.results, set, ov.period, lang)
        if not alone:
            figures = figures.loc[figures["care_type"].isin(lonely)]
        if len(figures):
            cols = {"label": (t["col_indicator"], "text"), "care_label": (t["col_care"], "text"),
                    "period": None, "value": None, "ci": None, "denominator": (t["col_n"], "count")}
            _display(report.display_table(figures, cols, lang, caption=t["alone_figures"].format(p=ov.period),
                                          settings=ov.settings))
        if alone:
            comp = comp.iloc[:0]
    elif comp.empty and statuses.empty:
        _display(report.note(t["none_in_set"].format(p=ov.period)))
    for c in comp.itertuples(index=False):
        show_indicator(ov, c.indicator, c.care_type, lang)
    if len(statuses):
        _display(heading(t["not_shown_h"], 3))
        items = "".join(f"<li><strong>{_html.escape(r.label)}</strong>: {_html.escape(r.text)}</li>"
                        for r in statuses.itertuples(index=False))
        _display(report.HTML(f'<ul class="oa-statuses">{items}</ul>'))
    same = [e for e in registry.REGISTRY.values() if e.set == set and e.same_as]
    for e in same:
        _display(report.note(t["same_as"].format(ind=e.label(lang), other=registry.label(e.same_as, lang))))
    if t["sort_note"] and not comp.empty:
        _display(report.note(t["sort_note"]))


def show_trends(ov: Overview, lang: str = "nl") -> None:
    """Display the trends of the pooled figure (national only for a national delivery): one
    small-multiples figure and one table per set."""
    t = _t(lang)
    words = comparator(ov.results, lang)
    _display(heading(words["trends"], 2))
    _display(report.note(t["trend_note"]))
    for set_id in SETS_SHOWN:
        trends = national_trends(ov.results, set_id)
        if trends.empty:
            continue
        meta = registry.SETS[set_id]
        _display(heading(meta.name_nl if lang == "nl" else meta.name_en, 3))
        _show_figure(trend_figure(ov.results, set_id, lang))
        wide = _trend_table(trends, lang, caption=words["trend_caption"])
        _display(wide)


def _trend_table(trends: pd.DataFrame, lang: str, caption: str = "") -> report.HTML:
    """Indicator × period table of the pooled percentages (suppressed cells as –*)."""
    t = _t(lang)
    periods = sorted(trends["period"].astype(str).unique())
    hidden = report.ui(lang)["suppressed_mark"] + "*"
    e = _html.escape
    head = f'<th scope="col">{e(t["col_indicator"])}</th>' + "".join(
        f'<th scope="col" class="oa-num">{e(p)}</th>' for p in periods)
    rows = []
    for (ind, care), g in trends.groupby(["indicator", "care_type"], sort=False):
        vals = {str(r.period): (hidden if r.suppressed else report.fmt_pct(r.value, 1, lang)) for r in g.itertuples()}
        cells = "".join(f'<td class="oa-num">{e(vals.get(p, "")) }</td>' for p in periods)
        rows.append(f"<tr><td>{e(report.with_care_type(registry.label(ind, lang), care, lang))}</td>{cells}</tr>")
    widths = "".join(f'<col style="width:{w:g}%">' for w in [34] + [66 / max(len(periods), 1)] * len(periods))
    return report.HTML(f'<div class="oa-table-wrap"><table class="oa-table"><caption>{e(caption)}</caption>'
                       f"<colgroup>{widths}</colgroup><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def show_method_note(ov: Overview, lang: str = "nl") -> None:
    """Display the short method paragraph of the overview (covariates, limits, disclosure control)
    and which parts of the data contract the delivery held."""
    from .story import contract_items

    t = _t(lang)
    words = comparator(ov.results, lang)
    _display(heading(t["method_h"], 2))
    cov = ", ".join(registry.covariate_label(c, lang) for c in ov.settings.covariates)
    ref = report.fmt_date(ov.results.meta.get("reference_date", ""), lang)
    if words["scope"] == "none":
        _display(report.note(t["method_alone"].format(n=_min_n(ov.results), ref=ref)))
    else:
        _display(report.note(t["method"].format(cov=cov, n=_min_n(ov.results), ref=ref, share=words["share"])))
    for item in contract_items(ov.results, lang):
        _display(item)


# ================================================================================================
# methods notebook
# ================================================================================================
_M = {
    "nl": {"number": "Nr.", "indicator": "Indicator", "care_types": "Zorgsoorten", "unit": "Telt per",
           "anchor": "Periode naar", "window": "Volgtermijn", "definition": "Definitie", "casemix": "Case-mix",
           "units": {"trajectory": "traject", "episode": "episode", "youth": "jeugdige", "answer": "antwoord"},
           "anchors": {"end": "einde", "start": "start"}, "months": "{m} mnd", "yes": "ja", "no": "nee",
           "record": "Traject", "form": "Vorm", "start": "Start", "end": "Einde", "reason": "Reden einde",
           "episode": "Episode", "institution": "Instelling", "period": "Periode", "category": "Categorie",
           "count": "Aantal", "shown": "Getoond", "why": "Reden", "reasons": {"": "", "count": "minder dan 10",
           "complementary": "aanvullend (anders terug te rekenen)", "denominator": "noemer kleiner dan 10"},
           "total": "Totaal", "calib_x": "Verwacht aantal (per deciel)", "calib_y": "Waargenomen aantal",
           "calib_title": "Kalibratie per deciel van de voorspelde kans", "perfect": "perfecte kalibratie",
           "shrink_x": "Aantal records (afgerond)", "shrink_y": "W/V", "raw_oe": "ruwe W/V",
           "shrunk_oe": "W/V na krimp", "shrink_title": "Krimp naar 1 voor kleine instellingen"},
    "en": {"number": "No.", "indicator": "Indicator", "care_types": "Care types", "unit": "Counted per",
           "anchor": "Period by", "window": "Follow-up", "definition": "Definition", "casemix": "Case-mix",
           "units": {"trajectory": "trajectory", "episode": "episode", "youth": "youth", "answer": "answer"},
           "anchors": {"end": "end", "start": "start"}, "months": "{m} mo", "yes": "yes", "no": "no",
           "record": "Trajectory", "form": "Form", "start": "Start", "end": "End", "reason": "End reason",
           "episode": "Episode", "institution": "Institution", "period": "Period", "category": "Category",
           "count": "Count", "shown": "Shown", "why": "Reason", "reasons": {"": "", "count": "fewer than 10",
           "complementary": "complementary (else recoverable)", "denominator": "denominator below 10"},
           "total": "Total", "calib_x": "Expected number (per decile)", "calib_y": "Observed number",
           "calib_title": "Calibration by decile of the predicted probability", "perfect": "perfect calibration",
           "shrink_x": "Number of records (rounded)", "shrink_y": "O/E", "raw_oe": "raw O/E",
           "shrunk_oe": "O/E after shrinkage", "shrink_title": "Shrinkage towards 1 for small institutions"},
}


def _m(lang: str) -> dict:
    _t(lang)
    return _M[lang]


def indicator_catalogue(set: str, lang: str = "nl", settings: Settings | None = None) -> pd.DataFrame:
    """The registry entries of one set as a reader's table (all labels from the registry).

    Returns
    -------
    DataFrame
        ``number``, ``indicator``, ``care_types``, ``unit``, ``anchor``, ``window``, ``casemix``,
        ``definition`` (text, in ``lang``).
    """
    m = _m(lang)
    settings = settings or DEFAULT
    rows = []
    for e in registry.REGISTRY.values():
        if e.set != set:
            continue
        months = e.window_months(settings)
        rows.append({
            "number": "" if e.number is None else str(e.number), "indicator": e.label(lang),
            "care_types": ", ".join(care_type_label(c, lang) for c in e.care_types),
            "unit": m["units"].get(e.unit, e.unit), "anchor": m["anchors"].get(e.anchor, e.anchor),
            "window": m["months"].format(m=months) if months else "–",
            "casemix": m["yes"] if e.casemix else m["no"], "definition": e.definition(lang),
        })
    return pd.DataFrame(rows)


def catalogue_html(set: str, lang: str = "nl") -> report.HTML:
    """:func:`indicator_catalogue` as a report table."""
    m = _m(lang)
    table = indicator_catalogue(set, lang)
    if (table["number"] == "").all():
        table = table.drop(columns="number")
    cols = {c: (m[c], "text") for c in table.columns}
    meta = registry.SETS[set]
    return report.display_table(table, cols, lang, caption=f"{meta.name_nl if lang == 'nl' else meta.name_en} "
                                                          f"({meta.source})")


#: one youth's JB trajectories: vOTS → OTS → voogdij (at another GI) is one episode; a new OTS seven
#: months after the voogdij ended is herhaald beroep (within 12 months of the episode's end).
TOY_TRAJECTORIES = (
    ("t1", "GI Noord", "jb", "vots", "2021-02-01", "2021-04-30", "volgens_plan"),
    ("t2", "GI Noord", "jb", "ots", "2021-05-01", "2022-04-30", "volgens_plan"),
    ("t3", "GI Zuid", "jb", "voogdij", "2022-05-01", "2023-03-31", "herstel_gezag"),
    ("t4", "GI Zuid", "jb", "ots", "2023-11-01", "2024-06-30", "volgens_plan"),
)


def toy_trajectories(reference_date: str = "2025-12-31") -> Dataset:
    """The toy dataset of :data:`TOY_TRAJECTORIES` (one youth, ``k1``, born 2010)."""
    rows = [{"trajectory_id": tid, "client_id": "k1", "institution": inst, "care_type": care, "care_form": form,
             "start_date": start, "end_date": end, "end_reason": reason, "birth_year": 2010}
            for tid, inst, care, form, start, end, reason in TOY_TRAJECTORIES]
    return Dataset(schema.frame("trajectories", rows), schema.frame("goals", []), schema.frame("experience", []),
                   reference_date=reference_date)


def toy_episode_example(lang: str = "nl") -> dict:
    """The worked episode example: the toy records, their episodes and herhaald beroep.

    Returns
    -------
    dict
        ``trajectories`` (display frame: record, institution, form, start, end, end reason,
        episode), ``n_episodes`` (2: the chain and the later measure), ``chain_length`` (records in
        the first episode, 3), ``herhaald`` (the national ``jbjr_herhaald_beroep`` row of the period
        the first episode ended, 12-month window: numerator 1, denominator 1), ``end_period``.
    """
    m = _m(lang)
    data = toy_trajectories()
    ch = episodes.chain(data.trajectories)
    t = data.trajectories
    show = pd.DataFrame({
        m["record"]: t["trajectory_id"].astype(str), m["institution"]: t["institution"].astype(str),
        m["form"]: t["care_form"].astype(str), m["start"]: t["start_date"].dt.strftime("%Y-%m-%d"),
        m["end"]: t["end_date"].dt.strftime("%Y-%m-%d"), m["reason"]: t["end_reason"].astype(str),
        m["episode"]: (ch.record_episode.to_numpy() + 1).astype(str),
    })
    first = ch.episodes.iloc[0]
    end_period = str(pd.Timestamp(first["end_date"]).year) if "end_date" in ch.episodes else "2023"
    out = indicators.compute(data, ["jbjr_herhaald_beroep"])
    sel = out.loc[(out["scope"] == "national") & (out["period"] == end_period) & (out["care_type"] == "jb")
                  & (out["category"] == "") & (out["window_months"] == DEFAULT.window_herhaald_beroep)]
    return {"trajectories": show, "n_episodes": int(len(ch.episodes)), "chain_length": int(first["n_records"]),
            "episodes": ch.episodes, "herhaald": sel.iloc[0].to_dict() if len(sel) else {}, "end_period": end_period}


def window_example(results: Results, indicator: str = "jbjr_herhaald_beroep", care_type: str = "jb",
                   lang: str = "nl") -> pd.DataFrame:
    """National figures per period of an indicator with a follow-up window, with ``excluded_window``
    (records left out because their window had not passed at the reference date)."""
    entry = registry.get(indicator)
    t = results.indicators
    sel = ((t["indicator"] == indicator) & (t["scope"] == "national") & (t["care_type"] == care_type)
           & (t["category"] == "") & (t["window_months"] == entry.window_months(results.settings)).fillna(False))
    cols = ["period", "window_months", "numerator", "denominator", "value", "ci_low", "ci_high",
            "excluded_window", "suppressed"]
    return t.loc[sel.to_numpy(bool), cols].sort_values("period", ignore_index=True)


def wilson_example(cases=((7, 20), (19, 20), (0, 12), (240, 800)), conf: float = 0.95) -> pd.DataFrame:
    """Wilson intervals (the package's :func:`stats.proportion_ci`) beside the naive Wald interval.

    Returns ``numerator``, ``denominator``, ``value``, ``wald_low``, ``wald_high``, ``ci_low``,
    ``ci_high`` (Wilson). The Wald interval ``p ± z sqrt(p (1 - p) / n)`` is shown only to contrast;
    the package never uses it.
    """
    x = np.array([c[0] for c in cases], dtype=float)
    n = np.array([c[1] for c in cases], dtype=float)
    p = x / n
    z = sps.norm.ppf((1 + conf) / 2)
    half = z * np.sqrt(p * (1 - p) / n)
    low, high = stats.proportion_ci(x, n, conf)
    return pd.DataFrame({"numerator": x, "denominator": n, "value": p, "wald_low": p - half, "wald_high": p + half,
                         "ci_low": low, "ci_high": high})


def wilson_steps(x: int = 7, n: int = 20, conf: float = 0.95) -> dict:
    """The Wilson formula step by step: centre ``(x + z²/2) / (n + z²)`` and half-width
    ``z / (n + z²) · sqrt(x (n − x) / n + z²/4)``; ``low``/``high`` equal ``stats.proportion_ci``."""
    z = float(sps.norm.ppf((1 + conf) / 2))
    centre = (x + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(x * (n - x) / n + z * z / 4)
    low, high = stats.proportion_ci(x, n, conf)
    return {"x": x, "n": n, "z": z, "centre": centre, "half": half, "low": float(low), "high": float(high)}


#: a made-up distribution of end reasons at one institution: "externe_omstandigheden" (6) is below
#: 10 and alone hidden it could be recovered from the total, so the next smallest (12) is hidden too.
TOY_DISTRIBUTION = (("volgens_plan", 42), ("voortijdig_client", 12), ("voortijdig_aanbieder", 25),
                    ("externe_omstandigheden", 6))


def disclosure_example(counts=TOY_DISTRIBUTION, lang: str = "nl") -> pd.DataFrame:
    """A small distribution before and after :func:`disclosure.suppress` (kind ``count``).

    Returns ``category``, ``count`` (raw, made-up), ``shown`` (rounded to 5 or ``–*``), ``reason``.
    """
    m = _m(lang)
    total = sum(c for _, c in counts)
    table = pd.DataFrame({"category": [c for c, _ in counts], "numerator": [float(v) for _, v in counts],
                          "denominator": float(total)})
    table["value"] = table["numerator"] / table["denominator"]
    out = disclosure.suppress(table, kind="count")
    hidden = report.ui(lang)["suppressed_mark"] + "*"
    shown = [hidden if s else report.fmt_int(v, lang) for s, v in zip(out["suppressed"], out["shown_numerator"])]
    rows = pd.DataFrame({"category": out["category"], "count": out["numerator"].astype(int), "shown": shown,
                         "reason": [m["reasons"].get(r, r) for r in out["suppression_reason"]]})
    total_row = pd.DataFrame({"category": [m["total"]], "count": [total],
                              "shown": [report.fmt_int(report.round_count(total), lang)], "reason": [""]})
    return pd.concat([rows, total_row], ignore_index=True)


def casemix_example(results: Results, period: str, preferred=(("jh_uitval", "jeugdhulp"),)) -> tuple[str, str, str]:
    """The (indicator, care type, modelled period) the methods notebook uses to show the adjustment:
    the first of ``preferred`` with a fitted logistic model, else the model with most records."""
    comp = comparisons(results, period)
    comp = comp.loc[comp["model"] == "logistic"]
    if comp.empty:
        raise OverviewError(f"no case-mix model was fitted for period {period!r}")
    for ind, care in preferred:
        hit = comp.loc[(comp["indicator"] == ind) & (comp["care_type"] == care)]
        if len(hit):
            return ind, care, str(hit["modelled_period"].iloc[0])
    s = results.model_summaries
    best = None
    for c in comp.itertuples(index=False):
        row = _summary_row(results, c.indicator, c.care_type, c.modelled_period)
        if best is None or row.get("n_records", 0) > best[0]:
            best = (row.get("n_records", 0), c.indicator, c.care_type, c.modelled_period)
    return best[1], best[2], best[3]


def casemix_mover(results: Results, indicator: str, care_type: str, period: str) -> pd.DataFrame:
    """Institutions whose raw share is outside the funnel but whose adjusted figure is within (or
    the other way round): what case-mix adjustment changes.

    Returns
    -------
    DataFrame
        ``institution``, ``n``, ``raw_value``, ``raw_signal`` (share funnel of the same records
        against the national share, overdispersion-corrected, at ``settings.signal_limit``),
        ``oe_ratio``, ``signal`` (adjusted), ``moved`` (raw and adjusted signal differ), ``raw_z``;
        institutions below ``settings.min_denominator`` are left out. Sorted: moved first, then by
        ``|raw_z|`` descending.
    """
    adj = adjusted_table(results, indicator, care_type, period)
    cm = results.casemix
    sel = cm.loc[(cm["report_period"].astype(str) == str(period)) & (cm["indicator"] == indicator)
                 & (cm["care_type"] == care_type)]
    national = float(sel["national_value"].iloc[0]) if len(sel) else np.nan
    f = funnel.share_funnel(sel["observed"], sel["n"], target=national, limits=(results.settings.signal_limit,),
                            settings=results.settings)
    raw = pd.DataFrame({"institution": sel["institution"].astype(str).to_numpy(), "raw_signal": f["signal"].to_numpy(),
                        "raw_z": f["z_adjusted"].to_numpy(float)})
    out = adj.merge(raw, on="institution")
    out = out.loc[~out["suppressed"]]
    out["moved"] = out["raw_signal"] != out["signal"]
    out = out.assign(_a=-out["raw_z"].abs()).sort_values(["moved", "_a"], ascending=[False, True], ignore_index=True)
    return out[["institution", "n", "raw_value", "raw_signal", "raw_z", "oe_ratio", "signal", "moved"]]


def calibration_plot(summary, lang: str = "nl", ax=None):
    """Observed against expected events per decile of the predicted probability (a
    :class:`casemix.ModelSummary`); points on the diagonal mean a well-calibrated model."""
    import matplotlib.pyplot as plt

    m = _m(lang)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(4.2, 3.4), layout="constrained")
    cal = summary.calibration
    ax.plot(cal["expected"], cal["observed"], "o", color=plots.MAIN, ms=5)
    top = float(max(cal["expected"].max(), cal["observed"].max())) * 1.05
    ax.plot([0, top], [0, top], ls="--", color=plots.GREY, lw=1, label=m["perfect"])
    ax.set_xlabel(m["calib_x"], fontsize=8)
    ax.set_ylabel(m["calib_y"], fontsize=8)
    ax.set_title(m["calib_title"], fontsize=9, loc="left")
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    return ax


def overdispersion_table(results: Results, period: str, lang: str = "nl") -> pd.DataFrame:
    """φ, τ², the test's p-value and whether the limits were corrected, per fitted model of the
    report ``period``. Columns ``indicator`` (label), ``care_type`` (label), ``n_institutions``,
    ``phi``, ``tau2``, ``p_value``, ``applied`` (yes/no words)."""
    m = _m(lang)
    rows = []
    for c in comparisons(results, period).itertuples(index=False):
        s = _summary_row(results, c.indicator, c.care_type, c.modelled_period)
        if s.get("model") != "logistic":
            continue
        rows.append({"indicator": registry.label(c.indicator, lang), "care_type": care_type_label(c.care_type, lang),
                     "n_institutions": s["n_institutions"], "phi": s["phi"], "tau2": s["tau2"],
                     "p_value": s["overdispersion_p"], "applied": m["yes"] if s["overdispersion_applied"] else m["no"]})
    return pd.DataFrame(rows, columns=["indicator", "care_type", "n_institutions", "phi", "tau2", "p_value", "applied"])


def shrinkage_example(results: Results, period: str) -> tuple[str, str]:
    """The (indicator, care type) with the largest τ² among models whose limits were corrected
    (shrinkage does something only when τ² > 0); else the first fitted model."""
    best = None
    for c in comparisons(results, period).itertuples(index=False):
        s = _summary_row(results, c.indicator, c.care_type, c.modelled_period)
        if s.get("model") != "logistic":
            continue
        key = (bool(s["overdispersion_applied"]), float(s["tau2"] or 0))
        if best is None or key > best[0]:
            best = (key, c.indicator, c.care_type)
    if best is None:
        raise OverviewError(f"no case-mix model was fitted for period {period!r}")
    return best[1], best[2]


def shrinkage_table(results: Results, indicator: str, care_type: str, period: str, k: int = 8) -> pd.DataFrame:
    """Raw O/E beside the empirical-Bayes shrunk O/E for the ``k`` smallest institutions that may
    be shown (``n`` at least ``settings.min_denominator``), with ``n_shown`` rounded.

    Returns ``institution``, ``n``, ``n_shown``, ``oe_ratio``, ``oe_shrunk``, ``oe_shrunk_ci_low``,
    ``oe_shrunk_ci_high``, ``suppressed`` (always False here).
    """
    cm = results.casemix
    sel = cm.loc[(cm["report_period"].astype(str) == str(period)) & (cm["indicator"] == indicator)
                 & (cm["care_type"] == care_type)]
    sel = sel.loc[(sel["n"] >= _min_n(results)) & np.isfinite(sel["oe_ratio"])]
    out = sel.sort_values(["n", "institution"]).head(k)
    out = out.assign(n_shown=[float(report.round_count(v)) for v in out["n"]], suppressed=False)
    return out[["institution", "n", "n_shown", "oe_ratio", "oe_shrunk", "oe_shrunk_ci_low", "oe_shrunk_ci_high",
                "suppressed"]].reset_index(drop=True)


def shrinkage_plot(results: Results, indicator: str, care_type: str, period: str, lang: str = "nl", ax=None):
    """Raw O/E (open circles) and shrunk O/E (filled) of every institution that may be shown,
    against its rounded number of records, joined by a line: small institutions move most."""
    import matplotlib.pyplot as plt

    m = _m(lang)
    cm = results.casemix
    sel = cm.loc[(cm["report_period"].astype(str) == str(period)) & (cm["indicator"] == indicator)
                 & (cm["care_type"] == care_type)]
    sel = sel.loc[(sel["n"] >= _min_n(results)) & np.isfinite(sel["oe_ratio"])]
    if ax is None:
        _fig, ax = plt.subplots(figsize=(6.5, 3.2), layout="constrained")
    x = np.array([max(report.round_count(v), 1) for v in sel["n"]], dtype=float)
    for xi, a, b in zip(x, sel["oe_ratio"], sel["oe_shrunk"]):
        ax.plot([xi, xi], [a, b], color=plots.GREY, lw=0.8)
    ax.scatter(x, sel["oe_ratio"], facecolor="white", edgecolor=plots.MAIN, s=24, label=m["raw_oe"], zorder=3)
    ax.scatter(x, sel["oe_shrunk"], color=plots.HIGHLIGHT, marker="D", s=18, label=m["shrunk_oe"], zorder=4)
    ax.axhline(1, color=plots.GREY, lw=1)
    if len(x) and x.max() / max(x.min(), 1) > 20:
        ax.set_xscale("log")
    ax.set_xlabel(m["shrink_x"], fontsize=8)
    ax.set_ylabel(m["shrink_y"], fontsize=8)
    ax.set_title(m["shrink_title"], fontsize=9, loc="left")
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=7)
    return ax


def rci_example(pre: float = 68.0, post: float = 58.0, sd: float = 10.0, reliability: float = 0.90,
                direction: str = "higher_worse") -> dict:
    """The Reliable Change Index worked out: ``S_E = sd sqrt(1 - r)``, ``S_diff = sqrt(2) S_E``,
    ``RCI = (post - pre) / S_diff`` (:func:`stats.reliable_change`), classified at ±1.96 by the
    instrument's direction (:func:`stats.classify_change`)."""
    se = sd * math.sqrt(1 - reliability)
    sdiff = math.sqrt(2) * se
    rci = float(stats.reliable_change(pre, post, sd, reliability))
    return {"pre": pre, "post": post, "sd": sd, "reliability": reliability, "se": se, "sdiff": sdiff,
            "rci": rci, "class": str(stats.classify_change(rci, direction))}


def gas_example(scores=(1, 0, -1, 2), weights=(2, 1, 1, 1), rho: float | None = None) -> dict:
    """A GAS T-score worked out: ``T = 50 + 10 Σwx / sqrt((1 − ρ) Σw² + ρ (Σw)²)``
    (:func:`stats.gas_tscore`) with ρ = ``settings.gas_rho`` (0.3)."""
    rho = DEFAULT.gas_rho if rho is None else rho
    w = np.asarray(weights, float)
    x = np.asarray(scores, float)
    swx, sw2, sw = float((w * x).sum()), float((w ** 2).sum()), float(w.sum())
    denom = math.sqrt((1 - rho) * sw2 + rho * sw ** 2)
    t = float(stats.gas_tscore(list(scores), list(weights), rho))
    return {"scores": list(scores), "weights": list(weights), "rho": rho, "sum_wx": swx, "sum_w2": sw2, "sum_w": sw,
            "denominator": denom, "t": t, "reached": t >= DEFAULT.gas_threshold}


# ------------------------------------------------------------------------------------------------
# methods notebook: display helpers (one call per section)
# ------------------------------------------------------------------------------------------------
_MT = {
    "nl": {
        "episodes": ("Deze {k} trajecten van één jeugdige vormen {n} episodes: vOTS → OTS → voogdij (ook al wisselt "
                     "de GI) is één episode van {c} trajecten, die eindigt op {end} bij {inst}. De nieuwe OTS "
                     "begint {days} dagen later, binnen {m} maanden: herhaald beroep. In dit voorbeeld over {p}: "
                     "{num} van de {den} jeugdigen met herhaald beroep."),
        "window": ("{ind} ({care}) per periode. ‘Nog niet te volgen’ telt de episodes waarvan de "
                   "volgtermijn van {m} maanden op de referentiedatum ({ref}) nog niet verstreken is; die tellen "
                   "niet mee in de noemer."),
        "wilson": ("Voorbeeld: {x} van de {n}. z = {z}; midden = ({x} + z²/2) / ({n} + z²) = {c}; halve breedte = "
                   "z / ({n} + z²) · √({x}·{nx}/{n} + z²/4) = {h}; interval {lo} – {hi} (Wald: {wlo} – {whi})."),
        "wilson_cols": {"numerator": "Teller", "denominator": "Noemer", "value": "Percentage",
                        "wald": "Wald (ter vergelijking)", "ci": "Wilson 95%"},
        "disc_cols": {"category": "Reden einde", "count": "Werkelijk aantal (verzonnen)",
                      "shown": "In het rapport", "reason": "Waarom verborgen"},
        "model": ("Voorbeeldmodel: {ind} ({care}), {p}. Het model voorspelt per traject de kans op de uitkomst uit "
                  "de kenmerken; opgeteld per instelling geeft dat het verwachte aantal V."),
        "facts": {"item": "Kenmerk", "value": "Waarde"},
        "coef": {"term": "Term", "odds_ratio": "Odds ratio", "ci": "95%-interval", "p_value": "p"},
        "mover": ("{inst} (nr. {key} hieronder gemarkeerd) heeft een zwaardere of lichtere case-mix: ruw ligt het "
                  "percentage {raw} ({rsig}, z = {rz}); na correctie is W/V {oe} ({asig})."),
        "mover_none": ("In deze gegevens ligt geen instelling ruw buiten de trechter; gemarkeerd is {inst}, "
                       "waarvan de positie het meest verschuift (z ruw {rz} → na correctie {az})."),
        "od_cols": {"indicator": "Indicator", "care_type": "Zorgsoort", "n_institutions": "Instellingen",
                    "phi": "φ", "tau2": "τ²", "p_value": "p", "applied": "Gecorrigeerd"},
        "shrink_cols": {"institution": "Instelling", "n": "Aantal (afgerond)", "oe_ratio": "W/V ruw",
                        "oe_shrunk": "W/V na krimp", "ci": "95%-interval na krimp"},
        "shrink": "Krimp bij {ind} ({care}), τ² = {tau2}: de kleinste instellingen met ten minste {n} records.",
        "rci": ("Voorbeeld: begin {pre}, einde {post}, SD {sd}, betrouwbaarheid r = {r}. S_E = {sd}·√(1 − {r}) = {se}; "
                "S_diff = √2 · S_E = {sdiff}; RCI = ({post} − {pre}) / {sdiff} = {rci}. |RCI| > 1,96 en een hogere "
                "score is ernstiger: {cls}."),
        "cls": {"improved": "betrouwbaar verbeterd", "deteriorated": "betrouwbaar verslechterd",
                "unchanged": "geen betrouwbare verandering"},
        "gas": ("Voorbeeld: scores {x} met gewichten {w}, ρ = {rho}. Σwx = {swx}, Σw² = {sw2}, Σw = {sw}; "
                "T = 50 + 10 · {swx} / √((1 − {rho})·{sw2} + {rho}·{sw}²) = 50 + 10 · {swx} / {den} = {t}. "
                "{reached}"),
        "reached": "T ≥ 50: de doelen tellen als gerealiseerd.", "not_reached": "T < 50: niet gerealiseerd.",
        "no_model": ("Geen voorbeeld uit deze levering: er is geen case-mix-model geschat ({reason}). De uitleg "
                     "hierboven geldt voor elke levering met meer instellingen."),
        "no_model_alone": "de levering bevat één instelling, dus er is niets om mee te vergelijken",
        "no_model_few": "te weinig gegevens",
        "no_window": "Geen voorbeeld uit deze levering: er is geen indicator met een volgtermijn te tonen.",
    },
    "en": {
        "episodes": ("These {k} trajectories of one youth form {n} episodes: vOTS → OTS → guardianship (even with a "
                     "change of GI) is one episode of {c} trajectories, ending on {end} at {inst}. The new OTS starts "
                     "{days} days later, within {m} months: a repeated referral. In this example in {p}: {num} of {den} "
                     "youths with a repeated referral."),
        "window": ("{ind} ({care}) per period. ‘Not yet followable’ counts the episodes whose {m}-month "
                   "window had not passed at the reference date ({ref}); they are left out of the denominator."),
        "wilson": ("Example: {x} of {n}. z = {z}; centre = ({x} + z²/2) / ({n} + z²) = {c}; half width = "
                   "z / ({n} + z²) · √({x}·{nx}/{n} + z²/4) = {h}; interval {lo} – {hi} (Wald: {wlo} – {whi})."),
        "wilson_cols": {"numerator": "Numerator", "denominator": "Denominator", "value": "Percentage",
                        "wald": "Wald (for contrast)", "ci": "Wilson 95%"},
        "disc_cols": {"category": "End reason", "count": "True count (made up)", "shown": "In the report",
                      "reason": "Why hidden"},
        "model": ("Example model: {ind} ({care}), {p}. The model predicts each trajectory's probability of the "
                  "outcome from its characteristics; summed per institution this gives the expected number E."),
        "facts": {"item": "Item", "value": "Value"},
        "coef": {"term": "Term", "odds_ratio": "Odds ratio", "ci": "95% interval", "p_value": "p"},
        "mover": ("{inst} (no. {key}, highlighted below) has a heavier or lighter case-mix: its raw percentage is "
                  "{raw} ({rsig}, z = {rz}); after adjustment O/E is {oe} ({asig})."),
        "mover_none": ("In these data no institution lies outside the raw funnel; highlighted is {inst}, whose "
                       "position shifts most (raw z {rz} → adjusted {az})."),
        "od_cols": {"indicator": "Indicator", "care_type": "Care type", "n_institutions": "Institutions",
                    "phi": "φ", "tau2": "τ²", "p_value": "p", "applied": "Corrected"},
        "shrink_cols": {"institution": "Institution", "n": "Number (rounded)", "oe_ratio": "O/E raw",
                        "oe_shrunk": "O/E shrunk", "ci": "95% interval shrunk"},
        "shrink": "Shrinkage for {ind} ({care}), τ² = {tau2}: the smallest institutions with at least {n} records.",
        "rci": ("Example: start {pre}, end {post}, SD {sd}, reliability r = {r}. S_E = {sd}·√(1 − {r}) = {se}; "
                "S_diff = √2 · S_E = {sdiff}; RCI = ({post} − {pre}) / {sdiff} = {rci}. |RCI| > 1.96 and a higher "
                "score is worse: {cls}."),
        "cls": {"improved": "reliably improved", "deteriorated": "reliably deteriorated",
                "unchanged": "no reliable change"},
        "gas": ("Example: scores {x} with weights {w}, ρ = {rho}. Σwx = {swx}, Σw² = {sw2}, Σw = {sw}; "
                "T = 50 + 10 · {swx} / √((1 − {rho})·{sw2} + {rho}·{sw}²) = 50 + 10 · {swx} / {den} = {t}. {reached}"),
        "reached": "T ≥ 50: the goals count as realised.", "not_reached": "T < 50: not realised.",
        "no_model": ("No example from this delivery: no case-mix model was fitted ({reason}). The explanation above "
                     "holds for every delivery with more institutions."),
        "no_model_alone": "the delivery holds one institution, so there is nothing to compare it with",
        "no_model_few": "too little data",
        "no_window": "No example from this delivery: there is no indicator with a follow-up window to show.",
    },
}


def _mt(lang: str) -> dict:
    _t(lang)
    return _MT[lang]


def show_catalogue(lang: str = "nl") -> None:
    """Display the three indicator sets (and the context items) from the registry."""
    for set_id in (*SETS_SHOWN, "context"):
        _display(catalogue_html(set_id, lang))


def show_episode_example(lang: str = "nl") -> dict:
    """Display the toy trajectories with their episode numbers and the sentence that explains them."""
    mt, n = _mt(lang), lambda v: report.fmt_number(v, 0, lang)
    ex = toy_episode_example(lang)
    _display(report.display_table(ex["trajectories"], {c: (c, "text") for c in ex["trajectories"].columns}, lang))
    first, second = ex["episodes"].iloc[0], ex["episodes"].iloc[1]
    h = ex["herhaald"]
    _display(report.note(mt["episodes"].format(
        k=len(ex["trajectories"]), n=ex["n_episodes"], c=ex["chain_length"],
        end=f"{pd.Timestamp(first['end_date']):%Y-%m-%d}", inst=first["institution"],
        days=n((pd.Timestamp(second["start_date"]) - pd.Timestamp(first["end_date"])).days),
        m=DEFAULT.window_herhaald_beroep, p=ex["end_period"], num=n(h.get("numerator")), den=n(h.get("denominator")))))
    return ex


#: the windowed indicators the methods notebook can show, in order of preference.
WINDOW_EXAMPLES = (("jbjr_herhaald_beroep", "jb"), ("jh_geen_nieuwe_start", "jeugdhulp"), ("jbjr_herhaald_beroep", "jr"))


def show_window_example(results: Results, lang: str = "nl") -> None:
    """Display a windowed indicator per period (herhaald beroep for JB, else geen nieuwe start, else
    herhaald beroep for JR: the first the delivery holds) with the records whose window has not
    passed."""
    mt = _mt(lang)
    for indicator, care_type in WINDOW_EXAMPLES:
        table = window_example(results, indicator, care_type)
        if len(table):
            break
    else:
        _display(report.note(mt["no_window"]))
        return
    entry = registry.get(indicator)
    _display(report.note(mt["window"].format(ind=entry.label(lang), care=care_type_label(care_type, lang),
                                             m=entry.window_months(results.settings),
                                             ref=report.fmt_date(results.meta.get("reference_date", ""), lang))))
    cols = {"period": None, "denominator": None, "value": None, "ci": None, "excluded_window": None}
    # a period with nothing to follow yet has no share to hide: its excluded count stays visible
    hide = (table["denominator"] > 0) & (table["denominator"] < _min_n(results))
    _display(report.display_table(table.assign(suppressed=hide), cols, lang))


def show_wilson_example(lang: str = "nl") -> None:
    """Display the Wilson formula worked out for 7 of 20 and a table of Wilson against Wald."""
    mt, f = _mt(lang), lambda v, d=3: report.fmt_number(v, d, lang)
    st = wilson_steps()
    ex = wilson_example()
    w = ex.iloc[0]
    _display(report.note(mt["wilson"].format(x=st["x"], n=st["n"], nx=st["n"] - st["x"], z=f(st["z"]), c=f(st["centre"]),
                                             h=f(st["half"]), lo=report.fmt_pct(st["low"], 1, lang),
                                             hi=report.fmt_pct(st["high"], 1, lang),
                                             wlo=report.fmt_pct(w["wald_low"], 1, lang),
                                             whi=report.fmt_pct(w["wald_high"], 1, lang))))
    c = mt["wilson_cols"]
    table = ex.assign(wald=[report.fmt_ci(a, b, 1, lang) for a, b in zip(ex["wald_low"], ex["wald_high"])])
    cols = {"numerator": (c["numerator"], "int"), "denominator": (c["denominator"], "int"),
            "value": (c["value"], "pct"), "wald": (c["wald"], "text"), "ci": (c["ci"], "ci")}
    _display(report.display_table(table, cols, lang))


def show_disclosure_example(lang: str = "nl") -> None:
    """Display the made-up distribution before and after :func:`disclosure.suppress`."""
    c = _mt(lang)["disc_cols"]
    table = disclosure_example(lang=lang)
    _display(report.display_table(table, {"category": (c["category"], "text"), "count": (c["count"], "int"),
                                          "shown": (c["shown"], "text"), "reason": (c["reason"], "text")}, lang))


def model_facts(summary, lang: str = "nl") -> pd.DataFrame:
    """:meth:`casemix.ModelSummary.to_frame` with the values formatted for a reader (text)."""
    facts = summary.to_frame(lang)

    def fmt(v):
        if isinstance(v, (bool, np.bool_)):
            return str(v)
        if isinstance(v, (int, np.integer)):
            return report.fmt_int(v, lang)
        if isinstance(v, (float, np.floating)):
            return report.fmt_number(v, 3, lang)
        return "" if v is None else str(v)

    facts["value"] = [fmt(v) for v in facts["value"]]
    facts.iloc[0, 1] = registry.label(summary.indicator, lang)  # the first fact is the indicator
    return facts


def show_casemix_example(results: Results, period: str, lang: str = "nl") -> dict:
    """Display the example model: facts, odds ratios, calibration by decile, and the raw against the
    adjusted funnel with the institution whose position changes most highlighted."""
    mt = _mt(lang)
    try:
        indicator, care_type, modelled = casemix_example(results, period)
    except OverviewError:
        _display(report.note(_no_model_note(results, lang)))
        return {}
    summary = results.summary(indicator, modelled, care_type)
    _display(report.note(mt["model"].format(ind=registry.label(indicator, lang), care=care_type_label(care_type, lang),
                                            p=modelled)))
    fc = mt["facts"]
    _display(report.display_table(model_facts(summary, lang), {"item": (fc["item"], "text"),
                                                               "value": (fc["value"], "text")}, lang))
    coefs = summary.coefficients
    coefs = coefs.loc[coefs["term"] != "Intercept"]
    _display(_coef_html(coefs, lang))
    _show_figure(calibration_plot(summary, lang).figure)
    movers = casemix_mover(results, indicator, care_type, period)
    adj = adjusted_table(results, indicator, care_type, period, lang)
    z_adj = results.casemix
    z_adj = z_adj.loc[(z_adj["report_period"].astype(str) == str(period)) & (z_adj["indicator"] == indicator)
                      & (z_adj["care_type"] == care_type)].set_index("institution")["z"]
    pick = None
    if movers["moved"].any():
        pick = movers.loc[movers["moved"]].iloc[0]
        r = adj.set_index("institution").loc[pick["institution"]]
        text = mt["mover"].format(inst=pick["institution"], key=r["key"], raw=report.fmt_pct(pick["raw_value"], 1, lang),
                                  rsig=signal_label(pick["raw_signal"], lang),
                                  rz=report.fmt_number(pick["raw_z"], 1, lang),
                                  oe=report.fmt_ratio(pick["oe_ratio"], 2, lang),
                                  asig=signal_label(pick["signal"], lang))
    elif len(movers):
        shift = movers["raw_z"].abs() - movers["institution"].map(z_adj).abs()
        pick = movers.loc[shift.idxmax()]
        text = mt["mover_none"].format(inst=pick["institution"], rz=report.fmt_number(pick["raw_z"], 1, lang),
                                       az=report.fmt_number(z_adj.get(pick["institution"]), 1, lang))
    if pick is not None:
        _display(report.note(text))
    _show_figure(funnel_pair(results, indicator, care_type, period, lang,
                             highlight=None if pick is None else pick["institution"]))
    return {"indicator": indicator, "care_type": care_type, "period": modelled,
            "highlight": None if pick is None else pick["institution"]}


def _no_model_note(results: Results, lang: str) -> str:
    mt = _mt(lang)
    alone = len(results.institutions) < 2
    return mt["no_model"].format(reason=mt["no_model_alone"] if alone else mt["no_model_few"])


def _coef_html(coefs: pd.DataFrame, lang: str) -> report.HTML:
    cc = _mt(lang)["coef"]
    col = "odds_ratio" if "odds_ratio" in coefs else "estimate"
    table = pd.DataFrame({
        "term": coefs["term"].astype(str),
        "or": [report.fmt_ratio(v, 2, lang) for v in coefs[col]],
        "ci": [report.fmt_ci(a, b, 2, lang, kind="ratio") for a, b in zip(coefs["ci_low"], coefs["ci_high"])],
        "p": [report.fmt_number(v, 3, lang) for v in coefs["p_value"]],
    })
    return report.display_table(table, {"term": (cc["term"], "text"), "or": (cc["odds_ratio"], "text"),
                                        "ci": (cc["ci"], "text"), "p": (cc["p_value"], "text")}, lang)


def show_overdispersion(results: Results, period: str, lang: str = "nl") -> None:
    """Display φ, τ² and the test for every fitted model of the period."""
    c = _mt(lang)["od_cols"]
    table = overdispersion_table(results, period, lang)
    if table.empty:
        _display(report.note(_no_model_note(results, lang)))
        return
    cols = {"indicator": (c["indicator"], "text"), "care_type": (c["care_type"], "text"),
            "n_institutions": (c["n_institutions"], "int"), "phi": (c["phi"], "number"),
            "tau2": (c["tau2"], "number"), "p_value": (c["p_value"], "number"), "applied": (c["applied"], "text")}
    _display(report.display_table(table, cols, lang, decimals=3))


def show_shrinkage(results: Results, period: str, lang: str = "nl") -> None:
    """Display raw against shrunk O/E for the smallest institutions that may be shown, and the plot."""
    mt = _mt(lang)
    try:
        indicator, care_type = shrinkage_example(results, period)
    except OverviewError:
        _display(report.note(_no_model_note(results, lang)))
        return
    modelled = comparisons(results, period).set_index(["indicator", "care_type"]).loc[(indicator, care_type),
                                                                                        "modelled_period"]
    s = _summary_row(results, indicator, care_type, modelled)
    _display(report.note(mt["shrink"].format(ind=registry.label(indicator, lang), care=care_type_label(care_type, lang),
                                             tau2=report.fmt_number(s.get("tau2", 0.0), 3, lang), n=_min_n(results))))
    table = shrinkage_table(results, indicator, care_type, period)
    table = table.assign(shrunk_ci=[report.fmt_ci(a, b, 2, lang, kind="ratio")
                                    for a, b in zip(table["oe_shrunk_ci_low"], table["oe_shrunk_ci_high"])])
    c = mt["shrink_cols"]
    _display(report.display_table(table, {"institution": (c["institution"], "text"), "n": (c["n"], "count"),
                                          "oe_ratio": (c["oe_ratio"], "ratio"), "oe_shrunk": (c["oe_shrunk"], "ratio"),
                                          "shrunk_ci": (c["ci"], "text")}, lang))
    _show_figure(shrinkage_plot(results, indicator, care_type, period, lang).figure)


def show_rci_gas(lang: str = "nl") -> None:
    """Display the RCI and GAS formulas worked out with numbers."""
    mt, f = _mt(lang), lambda v, d=2: report.fmt_number(v, d, lang)
    r = rci_example()
    _display(report.note(mt["rci"].format(pre=f(r["pre"], 0), post=f(r["post"], 0), sd=f(r["sd"], 0),
                                          r=f(r["reliability"]), se=f(r["se"]), sdiff=f(r["sdiff"]), rci=f(r["rci"]),
                                          cls=mt["cls"][r["class"]])))
    g = gas_example()
    _display(report.note(mt["gas"].format(x=", ".join(str(v) for v in g["scores"]),
                                          w=", ".join(str(v) for v in g["weights"]), rho=f(g["rho"], 1),
                                          swx=f(g["sum_wx"], 0), sw2=f(g["sum_w2"], 0), sw=f(g["sum_w"], 0),
                                          den=f(g["denominator"]), t=f(g["t"], 1),
                                          reached=mt["reached"] if g["reached"] else mt["not_reached"])))


def report_title(kind: str = "national", lang: str = "nl", *, settings: Settings | None = None,
                 n_institutions: int = 2) -> str:
    """Cover titles for :func:`outcome_analysis.export.to_html` (``title=``).

    The overview of all institutions (``kind="national"``) is called "Landelijk overzicht ..." only
    for a delivery declared national; otherwise it is the overview of all institutions in the
    delivery (the comparator rule, :func:`outcome_analysis.report.comparison_scope`). Without
    ``settings`` the title is the national one.

    >>> report_title("national", settings=Settings(), n_institutions=12)
    'Overzicht outcome-indicatoren van alle instellingen in deze levering'
    """
    if kind == "national":
        settings = settings if settings is not None else DEFAULT.replace(delivery_scope="national")
        return report.comparator(settings, n_institutions, lang)["overview_title"]
    titles = {"nl": {"methods": "Verantwoording en methoden"}, "en": {"methods": "Methods and definitions"}}
    return titles[lang][kind]
