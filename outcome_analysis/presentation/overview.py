"""The national overview: its figures, tables and words, computed on stored results.

The national overview puts all institutions side by side for one period: per indicator set and
indicator a funnel of the raw share and one of the case-mix O/E ratio (institutions named; those
whose figures are suppressed are listed as "te klein", never plotted), a table of adjusted figures
(institutions in alphabetical order), the spread between institutions with the overdispersion of the
funnel and the rankability (a caterpillar of the shrunk O/E only when it is high), and the national
trends.

No verdict is decided here: every signal the tables, counts and funnel colours show is the
``adjusted`` row of :meth:`Results.comparison <outcome_analysis.running.query.ResultsQuery.comparison>`
with its own interval; ``too_small`` and ``no_model`` only present rows without one. The case-mix
rows (:meth:`Results.casemix_rows`) give plot coordinates. The shrunk O/E answers another question
(how large a difference probably is, taking small numbers into account) and is never printed beside
a verdict.
Its sections (:mod:`outcome_analysis.presentation.sections.national`) build the display items from
the functions here; ``notebooks/national_overview.ipynb`` shows one section per cell::

    show(documents.section("national", "summary", ov))

The methods notebook's worked examples are in :mod:`outcome_analysis.presentation.methods`.

Everything computes on :class:`~outcome_analysis.running.results.Results` (compute once, render
many), reads its rows through the results' query methods (:mod:`outcome_analysis.running.query`,
which apply the follow-up window in force) and formats with :mod:`outcome_analysis.presentation.report`
and :mod:`outcome_analysis.presentation.plots` under the results' own settings. Disclosure control:
an institution whose case-mix records (``n``) or raw denominator is below
``settings.min_denominator`` is "te klein": no number of it is shown or drawn. The texts are in
``data/texts/overview.yaml``.

Example
-------
>>> from outcome_analysis import overview
>>> overview.signal_label("higher", lang="en")
'higher than expected'
"""
from __future__ import annotations

import functools
import html as _html
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from outcome_analysis import texts
from outcome_analysis.contract import io
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.contract.periods import parse_period
from outcome_analysis.errors import OutcomeAnalysisError
from outcome_analysis.indicators import registry
from outcome_analysis.running.results import CARE_TYPE_FAMILIES, Results, compute_results
from outcome_analysis.settings import Settings, for_delivery
from outcome_analysis.statistics import disclosure, funnel

from . import plots, report

__all__ = [
    "OverviewError", "Overview", "load", "texts_of", "signal_label", "comparisons", "compared", "alone_families",
    "adjusted_table", "raw_table", "spread", "rankability", "spread_items",
    "caterpillar_figure", "interval_level", "model_row", "signal_summary", "summary_sentences",
    "national_trends", "set_statuses", "delivery_figures", "funnel_pair", "trend_figure", "trend_table",
    "overdispersion_sentence", "widths", "heading", "figure", "SETS_SHOWN", "comparator", "report_title",
    "plain_ids", "MIN_SPREAD", "restated_notes",
]

#: the indicator sets of the overview, in report order (context items are not compared).
SETS_SHOWN = ("basisset_jbjr", "jeugdhulp_harmonised", "prestatie")


#: the fewest shown institutions for which the spread (lowest, quartiles, highest) says more than
#: the figures themselves; below it the spread table is left out with a sentence.
MIN_SPREAD = 5

_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def plain_ids(text: str, lang: str = "nl") -> str:
    """``text`` with every registry id in it replaced by the indicator's label ("Als jh_tevredenheid"
    → "Als Cliënttevredenheid (over het nut van de hulp)"); other words unchanged."""
    def label(m):
        word = m.group(0)
        return registry.label(word, lang) if word in registry.REGISTRY else word

    return _ID.sub(label, str(text))


class OverviewError(OutcomeAnalysisError, ValueError):
    """An overview request that cannot be met (no data path, a period without figures, ...)."""


@functools.lru_cache(maxsize=None)
def _texts(lang: str) -> dict:
    return texts.for_lang("overview", lang, error=OverviewError)


def texts_of(lang: str) -> dict:
    """The overview's texts in ``lang`` (``data/texts/overview.yaml``; read once, do not modify).

    Raises :class:`OverviewError` for an unknown language (:func:`outcome_analysis.texts.check_lang`).
    """
    texts.check_lang(lang, OverviewError)
    return _texts(lang)


def limit_words(settings: Settings, lang: str = "nl") -> dict[str, str]:
    """The funnel limits in force as the texts name them: ``signal`` (``settings.signal_limit``, the
    verdicts' level, "99,8%") and ``attention`` (the lowest other funnel limit, the line of attention,
    "95%").

    >>> limit_words(Settings())
    {'signal': '99,8%', 'attention': '95%'}
    """
    signal = float(settings.signal_limit)
    others = [float(x) for x in settings.funnel_limits if float(x) != signal] or [signal]
    fmt = lambda v: report.fmt_pct(v, 1 if round(v * 100, 1) % 1 else 0, lang)  # noqa: E731
    return {"signal": fmt(signal), "attention": fmt(min(others))}


def signal_label(signal: str, lang: str = "nl") -> str:
    """The reader's word for a signal: ``higher``, ``lower``, ``within``, ``too_small``, ``no_model``."""
    return texts_of(lang).get(signal, signal)


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


def alone_families(results: Results, lang: str = "nl", only=None) -> list[str]:
    """Per care-type family the delivery holds with one institution: the sentence that there is no
    comparison for it ("Voor jeugdhulp bevat deze levering één instelling (De Brug); ..."). With
    ``only`` (care types): the families among those care types only, named by them."""
    t = texts_of(lang)
    held = results.care_types_of()
    out = []
    for family in CARE_TYPE_FAMILIES:
        codes = [c for c in family if c in held and (only is None or c in only)]
        if not codes or compared(results, codes[0]):
            continue
        members = results.family_institutions(codes[0])
        care = f" {t['and']} ".join(registry.care_type_label(c, lang) for c in codes)
        out.append(t["alone_family"].format(care=care, institution=(members or [""])[0]))
    return out


# ------------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------------
@dataclass
class Overview:
    """The results, the period and the language an overview or methods notebook shows."""

    results: Results
    period: str
    data: Dataset | None = None
    lang: str = "nl"

    @property
    def settings(self) -> Settings:
        return self.results.settings


def load(data_path: str = "", results_path: str = "", period: str = "", *, data: Dataset | None = None,
         lang: str = "nl") -> Overview:
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
    lang : {"nl", "en"}
        The language the sections speak.

    Results computed here use the delivery's own ``settings.yaml`` when ``data_path`` has one
    (:func:`outcome_analysis.settings.for_delivery`), else the defaults.

    Raises
    ------
    OverviewError
        An unknown language, neither results nor data, or a period for which the stored results
        hold no comparison and no data is given to compute it.
    """
    texts.check_lang(lang, OverviewError)
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
    return Overview(results=results, period=str(period), data=data, lang=lang)


# ------------------------------------------------------------------------------------------------
# tables
# ------------------------------------------------------------------------------------------------
def model_row(results: Results, indicator: str, care_type: str, period: str) -> dict:
    """The stored summary of the share model of one indicator, care type and modelled period
    (``model``, ``phi``, ``tau2``, ``overdispersion_p``, ...); ``{}`` when none was fitted."""
    rows = results.model(indicator, period, care_type, kind="share")
    return rows.iloc[0].to_dict() if len(rows) else {}


def comparisons(results: Results, period: str) -> pd.DataFrame:
    """The (indicator, care type) pairs compared in ``period``, in registry order.

    Returns
    -------
    DataFrame
        ``set``, ``indicator``, ``care_type``, ``modelled_period`` (for an indicator with a follow-up
        window, the latest period whose window has passed), ``model`` (``logistic`` | ``none``).
        Each figure once: an indicator that is ``same_as`` another, or that restates another for a
        care type (``restates``), is left out for it (the sets say where it is shown).
    """
    rows = []
    for entry in registry.REGISTRY.values():
        if entry.set not in SETS_SHOWN or entry.same_as or entry.kind == "context":
            continue
        for care_type in entry.care_types:
            if entry.restates.get(care_type):
                continue  # the same figure as another indicator's (shown there, counted once)
            sel = results.casemix_rows(entry.id, care_type, period)
            if sel.empty or not compared(results, care_type):
                continue  # one institution of the family: never compared with itself
            modelled = str(sel["period"].iloc[0])
            rows.append({"set": entry.set, "indicator": entry.id, "care_type": care_type,
                         "modelled_period": modelled,
                         "model": model_row(results, entry.id, care_type, modelled).get("model", "none")})
    return pd.DataFrame(rows, columns=["set", "indicator", "care_type", "modelled_period", "model"])


def restated_notes(results: Results, set: str, lang: str = "nl") -> list[str]:
    """Sentences for the indicators of ``set`` whose figure is another indicator's (``same_as``, or
    ``restates`` for a care type the delivery holds): where it is shown, so it is shown and counted once."""
    t = texts_of(lang)
    set_ = frozenset(results.care_types_of())
    out = []
    for e in registry.REGISTRY.values():
        if e.set != set:
            continue
        if e.same_as:
            out.append(t["same_as"].format(ind=e.label(lang), other=registry.label(e.same_as, lang)))
        parts = [(care_type, other) for care_type, other in e.restates.items() if care_type in set_ and other != e.id]
        if len(parts) == 1:
            care_type, other = parts[0]
            out.append(t["restates"].format(ind=e.label(lang), care=registry.care_type_label(care_type, lang),
                                            other=registry.label(other, lang)))
        elif parts:  # one sentence for all care types of the indicator
            out.append(t["restates_many"].format(ind=e.label(lang), parts="; ".join(
                t["restates_part"].format(care=registry.care_type_label(c, lang), other=registry.label(o, lang))
                for c, o in parts)))
    return out


def raw_table(results: Results, indicator: str, care_type: str, period: str) -> pd.DataFrame:
    """The unadjusted headline share per institution (``indicators.compute`` rows) of ``period``.

    Returns the tidy rows (``institution``, ``numerator``, ``denominator``, ``value``, ``ci_low``,
    ``ci_high``, ``suppressed``), sorted by institution.
    """
    out = results.rows(indicator, care_type=care_type, period=period, scope="institution")
    return out.sort_values("institution", ignore_index=True)


def _national(results: Results, indicator: str, care_type: str, period: str) -> dict | None:
    return results.headline(indicator, care_type, period, scope="national")


def _min_n(results: Results) -> int:
    return int(results.settings.min_denominator)


def _verdicts(results: Results, indicator: str, care_type: str, period: str) -> pd.DataFrame:
    """The adjusted comparison rows of the report ``period`` (:meth:`Results.comparison`), one per
    institution: the verdict and its own interval, never decided here."""
    rows = results.comparison(indicator, care_type, None, basis="adjusted", measure="oe_ratio",
                              report_period=str(period))
    if rows is None or rows.empty:
        return pd.DataFrame(columns=["unit", "signal", "ci_low", "ci_high", "level", "text_key"])
    return rows.drop_duplicates("unit").set_index("unit")


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
        ``oe_ci_high``, ``oe_ci_level`` (the verdict's own interval and its level, from the
        ``adjusted`` comparison row), ``adjusted_value``, ``expected``, ``funnel_high``, ``signal``
        (the comparison's ``higher`` | ``lower`` | ``within`` | ``none``; shown as ``too_small``
        when the institution's figures are hidden and as ``no_model`` when no model was fitted),
        ``signal_label`` (the reader's words), ``suppressed`` (``n`` below
        ``settings.min_denominator`` or the comparison's figure hidden: every number hidden by the
        report layer), ``period``, ``key`` (the number of a shown institution in the funnels).
        Sorted alphabetically by institution: the order is never a ranking. The shrunk O/E is not
        here: it answers another question and is never printed beside a verdict (:func:`spread_items`).
    """
    sel = marked = results.casemix_rows(indicator, care_type, period, marked=True)
    verdicts = _verdicts(results, indicator, care_type, period)
    names = sel["institution"].astype(str)
    pick = lambda col, default: np.array([verdicts[col].get(u, default) if col in verdicts else default  # noqa: E731
                                          for u in names], dtype=object)
    out = pd.DataFrame({
        "institution": names.to_numpy(),
        "n": sel["n"].to_numpy(int),
        "n_shown": marked["shown_denominator"].to_numpy(float),
        "raw_value": sel["raw_value"].to_numpy(float),
        "oe_ratio": sel["oe_ratio"].to_numpy(float),
        "oe_ci_low": pick("ci_low", np.nan).astype(float),
        "oe_ci_high": pick("ci_high", np.nan).astype(float),
        "oe_ci_level": pick("level", np.nan).astype(float),
        "expected_low": pick("expected_low", np.nan).astype(float),
        "expected_high": pick("expected_high", np.nan).astype(float),
        "adjusted_value": sel["adjusted_value"].to_numpy(float),
        "expected": sel["expected"].to_numpy(float),
        "funnel_high": sel["funnel_high"].to_numpy(float),
        "signal": pick("signal", "none"),
        "suppressed": marked["suppressed"].to_numpy(bool) | (pick("text_key", "") == "suppressed"),
        "period": sel["period"].astype(str).to_numpy(object),
    })
    # presentation of a comparison without a verdict: no O/E at all is "no model"
    out.loc[(out["signal"] == "none") & ~np.isfinite(out["oe_ratio"].to_numpy(float)), "signal"] = "no_model"
    out.loc[out["suppressed"], "signal"] = "too_small"
    out["signal_label"] = [signal_label(s, lang) for s in out["signal"]]
    out = out.assign(_n=out["institution"].str.casefold())
    out = out.sort_values(["_n", "institution"], kind="stable", ignore_index=True).drop(columns=["_n"])
    shown = ~out["suppressed"].to_numpy(bool)
    out["key"] = ""
    out.loc[shown, "key"] = [str(i + 1) for i in range(int(shown.sum()))]
    return out


def interval_level(adj: pd.DataFrame, settings: Settings, lang: str = "nl") -> str:
    """``"99,8%"``: the level of the verdicts' own intervals in an adjusted table (the comparison
    rows' ``level``; ``settings.signal_limit`` when the table has none)."""
    levels = adj["oe_ci_level"].dropna().unique() if "oe_ci_level" in adj else []
    level = float(levels[0]) if len(levels) else float(settings.signal_limit)
    return report.fmt_pct(level, 1 if round(level * 100, 1) % 1 else 0, lang)


def rankability(results: Results, indicator: str, care_type: str, period: str, lang: str = "nl") -> dict:
    """The rankability of one comparison and its band, from the stored model summary.

    Returns
    -------
    dict
        ``rho`` (NaN when not computed), ``band`` (``low`` | ``moderate`` | ``high`` | ``None``,
        :func:`outcome_analysis.statistics.verdict.rankability_band` under the results' settings),
        ``model`` (the model fitted or ``none``), ``tau2_between`` and ``text``: "Rangschikbaarheid
        0,62 (matig): ..." with the one-line explanation, or why it was not computed (fewer than
        :data:`~outcome_analysis.statistics.verdict.MIN_RANKABLE` institutions with enough expected);
        empty without a model.
    """
    from outcome_analysis.statistics import verdict

    t = texts_of(lang)
    adj = results.casemix_rows(indicator, care_type, period)
    modelled = str(adj["period"].iloc[0]) if len(adj) else str(period)
    s = model_row(results, indicator, care_type, modelled)
    rho = float(s.get("rankability", np.nan)) if not report.is_missing(s.get("rankability")) else np.nan
    tau2 = float(s.get("tau2_between", np.nan)) if not report.is_missing(s.get("tau2_between")) else np.nan
    model = s.get("model", "none")
    band = verdict.rankability_band(rho, results.settings) if np.isfinite(rho) else None
    if model != "logistic":
        text = ""
    elif band is None:
        text = t["rank_none"].format(k=verdict.MIN_RANKABLE,
                                     e=report.fmt_number(results.settings.min_expected, 0, lang))
    else:
        text = t["rank_text"].format(rho=report.fmt_number(rho, 2, lang), band=t["rank_band"][band])
    return {"rho": rho, "band": band, "model": model, "tau2_between": tau2, "text": text}


def caterpillar_figure(results: Results, indicator: str, care_type: str, period: str, lang: str = "nl"):
    """The shown institutions' shrunk O/E (empirical Bayes) with its interval, sorted by it, named:
    how large a difference probably is, taking small numbers into account. No verdict words or
    colours. ``None`` when no institution has a shrunk O/E (no between-institution variance)."""
    import matplotlib.pyplot as plt

    t = texts_of(lang)
    sel = results.casemix_rows(indicator, care_type, period)
    adj = adjusted_table(results, indicator, care_type, period, lang)
    shown = set(adj.loc[~adj["suppressed"], "institution"])
    sel = sel.loc[sel["institution"].astype(str).isin(shown)]
    if "oe_shrunk" not in sel or not np.isfinite(sel["oe_shrunk"].to_numpy(float)).any():
        return None
    data = sel.assign(institution=sel["institution"].astype(str), suppressed=False)
    fig, ax = plt.subplots(figsize=(6.5, max(2.6, 0.17 * len(data) + 1.4)), layout="constrained")
    plots.caterpillar_plot(data, value="oe_shrunk", low="oe_shrunk_ci_low", high="oe_shrunk_ci_high", kind="oe",
                           national=1.0, national_label=t["cat_reference"], anonymise=False, lang=lang,
                           title=t["cat_title"], ax=ax)
    fig.set_gid("caterpillar")
    return fig


def spread_items(results: Results, indicator: str, care_type: str, period: str, lang: str = "nl") -> list:
    """The spread part of one comparison, after the table of verdicts: the rankability with its band
    (or why it was not computed); only when the band is high the caterpillar of the shrunk O/E with
    the sentence that it answers another question; and, when the institutions' shrunk O/E is NaN
    (no between-institution variance), that they do not differ more than chance. Never a verdict."""
    t = texts_of(lang)
    r = rankability(results, indicator, care_type, period, lang)
    if r["model"] != "logistic":
        return []
    items = [report.note(r["text"])]
    sel = results.casemix_rows(indicator, care_type, period)
    no_spread = (r["tau2_between"] == 0) or ("oe_shrunk" in sel and len(sel)
                                             and not np.isfinite(sel["oe_shrunk"].to_numpy(float)).any())
    if no_spread:
        items.append(report.note(t["no_spread"]))
    elif r["band"] == "high":
        fig = caterpillar_figure(results, indicator, care_type, period, lang)
        if fig is not None:
            items += [figure(fig), report.note(t["cat_note"])]
    return items


def _quantiles(values: np.ndarray) -> dict:
    values = values[np.isfinite(values)]
    if not len(values):
        return {"n": 0, "min": np.nan, "q1": np.nan, "median": np.nan, "q3": np.nan, "max": np.nan, "iqr": np.nan}
    q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return {"n": len(values), "min": values.min(), "q1": q1, "median": med, "q3": q3, "max": values.max(),
            "iqr": q3 - q1}


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
    t = texts_of(lang)
    adj = adjusted_table(results, indicator, care_type, period, lang)
    shown = adj.loc[~adj["suppressed"]]
    rows = [{"measure": t["raw"], **_quantiles(shown["raw_value"].to_numpy(float))},
            {"measure": t["adjusted"], **_quantiles(shown["adjusted_value"].to_numpy(float))}]
    modelled = adj["period"].iloc[0] if len(adj) else str(period)
    s = model_row(results, indicator, care_type, modelled)
    od = {"phi": float(s.get("phi", np.nan)), "tau2": float(s.get("tau2", np.nan)),
          "p_value": float(s.get("overdispersion_p", np.nan)),
          "applied": bool(s.get("overdispersion_applied", False)), "model": s.get("model", "none")}
    return pd.DataFrame(rows), od


SIGNAL_SUMMARY_COLUMNS = ["set", "indicator", "label", "care_type", "care_label", "direction", "national_value",
                          "modelled_period", "model", "compared", "higher", "lower", "within", "none", "too_small"]


def signal_summary(results: Results, period: str, lang: str = "nl") -> pd.DataFrame:
    """Per compared indicator and care type: how many institutions were flagged.

    Returns
    -------
    DataFrame
        ``set``, ``indicator``, ``label``, ``care_type``, ``care_label``, ``direction``,
        ``national_value`` (share in the modelled period), ``modelled_period``, ``model``,
        ``compared`` (institutions shown), ``higher``, ``lower``, ``within``, ``none`` (shown, no
        verdict: too few expected or no model), ``too_small``: counts of the verdicts of
        :meth:`Results.comparison` as :func:`adjusted_table` shows them. Suppressed institutions are
        counted only as ``too_small``, never by their signal.
    """
    rows = []
    for c in comparisons(results, period).itertuples(index=False):
        adj = adjusted_table(results, c.indicator, c.care_type, period, lang)
        nat = _national(results, c.indicator, c.care_type, c.modelled_period)
        counts = adj["signal"].value_counts()
        entry = registry.get(c.indicator)
        rows.append({
            "set": c.set, "indicator": c.indicator, "label": entry.label(lang), "care_type": c.care_type,
            "care_label": registry.care_type_label(c.care_type, lang), "direction": entry.direction,
            # the pooled figure follows the disclosure rule like any other
            "national_value": (float(nat["value"]) if nat is not None and not _hidden(nat, _min_n(results))
                               else np.nan),
            "modelled_period": c.modelled_period, "model": c.model,
            "compared": int((~adj["suppressed"]).sum()),
            **{k: int(counts.get(k, 0)) for k in ("higher", "lower", "within", "too_small")},
            "none": int(counts.get("none", 0) + counts.get("no_model", 0)),
        })
    return pd.DataFrame(rows, columns=SIGNAL_SUMMARY_COLUMNS)


def _hidden(row, min_denominator: int) -> bool:
    """A figure row that may not be shown: hidden by disclosure control (:func:`report.figure_hidden`)
    or without a value."""
    return report.figure_hidden(row, min_denominator) or pd.isna(row.get("value", np.nan))


def summary_sentences(summary: pd.DataFrame, lang: str = "nl") -> list[str]:
    """The summary in words: the totals, one sentence per indicator with a flagged institution,
    and the indicators without a model. Never a ranking."""
    t = texts_of(lang)
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
    every entry of the shown sets (or of ``set``), at the follow-up window in force.
    """
    parts = []
    for entry in registry.REGISTRY.values():
        if entry.set not in SETS_SHOWN or entry.same_as or entry.kind == "context" or entry.headline != "share":
            continue
        if set is not None and entry.set != set:
            continue
        parts.append(results.rows(entry.id, scope="national"))
    if not parts:
        return results.indicators.iloc[:0]
    out = pd.concat(parts, ignore_index=True)
    return out.loc[out["denominator"] > 0].sort_values(["indicator", "care_type", "period"], ignore_index=True)


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
            hit = results.rows(entry.id, care_type=care_type, period=row["period"], scope="national")
            parts.append(hit.assign(label=entry.label(lang), care_label=registry.care_type_label(care_type, lang)))
    if not parts:
        return pd.DataFrame(columns=["indicator", "care_type", "period", "numerator", "denominator", "value",
                                     "ci_low", "ci_high", "suppressed", "label", "care_label"])
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------------
def oe_limit_curves(adj: pd.DataFrame, tau2: float, settings: Settings) -> pd.DataFrame | None:
    """Smooth O/E limit curves ``1 ± z sqrt(c / E + tau2)`` for plotting (the overview's funnels and
    the institution report's).

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
    the expected count. Suppressed institutions are not drawn. The O/E points carry the adjusted
    verdict of :meth:`Results.comparison` (:func:`adjusted_table`); the raw funnel has no verdict
    colours. The 95% line is a line of attention, the 99.8% line the signal limit.

    Returns the matplotlib Figure (or the figure of ``axes``).
    """
    import matplotlib.pyplot as plt

    t = texts_of(lang)
    settings = results.settings
    adj = adjusted_table(results, indicator, care_type, period, lang)
    modelled = adj["period"].iloc[0] if len(adj) else str(period)
    raw = raw_table(results, indicator, care_type, modelled)
    nat = _national(results, indicator, care_type, modelled)
    target = float(nat["value"]) if nat is not None else None
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(6.7, 2.8), layout="constrained")
    fig = axes[0].figure
    # raw: limits from all institutions' counts, widened by tau2 when the raw funnel is overdispersed
    limits = None
    if target is not None and len(raw):
        f = funnel.share_funnel(raw["numerator"], raw["denominator"], target=target, settings=settings)
        od = f.attrs["overdispersion"]
        tau2 = od.tau2 if od.applied else 0.0
        xmax = max(float(raw["denominator"].max()), 10.0)
        grid = np.unique(np.round(np.geomspace(max(settings.min_denominator, 1), xmax * 1.2, 150)))
        limits = funnel.share_limits(grid, target, tau2=tau2, settings=settings)
    plots.funnel_plot(raw, kind="share", target=target, limits_table=limits, anonymise=True,
                      highlight=highlight, lang=lang, title=t["raw_title"], ax=axes[0],
                      national_label=comparator(results, lang, care_type)["label"], settings=settings)
    s = model_row(results, indicator, care_type, modelled)
    tau2 = float(s.get("tau2", 0.0) or 0.0) if bool(s.get("overdispersion_applied", False)) else 0.0
    shown = adj.loc[~adj["suppressed"] & np.isfinite(adj["oe_ratio"])]
    oe_limits = oe_limit_curves(shown if len(shown) else adj, tau2, settings)
    plots.funnel_plot(shown, kind="oe", limits_table=oe_limits, anonymise=True, highlight=highlight,
                      lang=lang, title=t["oe_title"], ax=axes[1], settings=settings)
    if not anonymise:
        keys = dict(zip(adj["institution"], adj["key"]))
        _number_points(axes[0], raw, "denominator", "value", keys, settings.round_to)
        _number_points(axes[1], shown, "expected", "oe_ratio", keys, settings.round_to)
    for ax in axes:
        leg = ax.get_legend()
        if leg is not None:
            leg.remove()
    seen: dict = {}
    for ax in axes:  # the O/E funnel adds the signal markers (its points carry the comparison's verdict)
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncols=min(len(seen), 3),
                   frameon=False, fontsize=plots.FONT_MIN)
    return fig


def _number_points(ax, table: pd.DataFrame, xcol: str, ycol: str, keys: dict, round_to: int) -> None:
    """Label each drawn institution with its number from the adjusted table (names would overlap)."""
    vis = table
    if "suppressed" in vis:
        vis = vis.loc[~vis["suppressed"].fillna(False).astype(bool)]
    vis = vis.dropna(subset=[xcol, ycol])
    for name, x, y in zip(vis["institution"].astype(str), vis[xcol].astype(float), vis[ycol].astype(float)):
        key = keys.get(name)
        if key:
            ax.annotate(key, (max(disclosure.round_count(x, round_to), 1), y), xytext=(2.5, 1.5), textcoords="offset points",
                        fontsize=plots.FONT_MIN, color="#222222", gid="institution_key",
                        annotation_clip=False)


def trend_figure(results: Results, set: str, lang: str = "nl"):
    """Small multiples of the national headline share per period, one panel per indicator, one
    line per care type. ``None`` when the set has no national figures."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    trends = national_trends(results, set)
    trends = trends.loc[~trends["suppressed"].astype(bool)]
    if trends.empty:
        return None
    by_indicator = list(trends.groupby("indicator", sort=False))  # trends is sorted by indicator
    ncols = 3
    nrows = math.ceil(len(by_indicator) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.7, 1.9 * nrows + 0.3), layout="constrained", squeeze=False)
    periods = sorted(trends["period"].astype(str).unique())  # the periods with a national figure shown
    pos = {p: i for i, p in enumerate(periods)}
    styles = {"jeugdhulp": (plots.MAIN, "o", "-"), "jb": (plots.NATIONAL, "s", "--"), "jr": (plots.OTHERS, "^", ":")}
    legend: dict = {}
    for ax, (ind, part) in zip(axes.flat, by_indicator):
        for care, g in part.groupby("care_type", sort=True):
            colour, marker, ls = styles.get(care, (plots.GREY, "o", "-"))
            x = [pos[p] for p in g["period"].astype(str)]
            joined = plots.enough_for_trend(int(g["value"].notna().sum()))  # no line through one or two points
            (line,) = ax.plot(x, g["value"].astype(float), color=colour, marker=marker, ls=ls if joined else "none",
                              ms=4, lw=1.2, label=registry.care_type_label(care, lang))
            legend.setdefault(line.get_label(), line)
            if joined:
                ax.fill_between(x, g["ci_low"].astype(float), g["ci_high"].astype(float), color=colour, alpha=0.15,
                                lw=0)
        ax.set_title(_wrap(registry.label(ind, lang), 26), fontsize=plots.FONT_MIN + 0.5, loc="left")
        ax.set_xticks(range(len(periods)))
        ax.set_xticklabels([p[-2:] if len(p) == 4 else p for p in periods])
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: report.fmt_pct(v, 0, lang)))
        ax.tick_params(labelsize=plots.FONT_MIN)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(by_indicator):]:
        ax.set_visible(False)
    if len(legend) > 1:  # one legend for the panels, below them: never over a line
        fig.legend(list(legend.values()), list(legend), loc="outside lower center", ncols=len(legend),
                   frameon=False, fontsize=plots.FONT_MIN)
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


# ------------------------------------------------------------------------------------------------
# notebook sections (display)
# ------------------------------------------------------------------------------------------------
# ------------------------------------------------------------------------------------------------
# display items the sections share
# ------------------------------------------------------------------------------------------------
def widths(table_html: str, percents) -> report.HTML:
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
    return report.heading(text, level)


def figure(fig):
    """A matplotlib figure as a display item: an embedded PNG with its data-driven text alternative
    (:func:`outcome_analysis.presentation.story.png`), the figure closed in pyplot (so that the
    notebook shows it once, where the section puts it); ``None`` stays ``None``."""
    import matplotlib.pyplot as plt

    from .story import png

    if fig is None:
        return None
    try:
        return png(fig)
    finally:
        plt.close(fig)


def overdispersion_sentence(od: dict, lang: str = "nl") -> str:
    """The overdispersion of a funnel (:func:`spread`) in words."""
    t = texts_of(lang)
    if od.get("model") != "logistic" or not np.isfinite(od.get("phi", np.nan)):
        return t["od_none"]
    return t["spread_od"].format(phi=report.fmt_number(od["phi"], 2, lang), tau2=report.fmt_number(od["tau2"], 3, lang),
                                 p=report.fmt_number(od["p_value"], 3, lang),
                                 applied=t["od_applied"] if od["applied"] else t["od_not"])


def trend_table(trends: pd.DataFrame, lang: str, caption: str = "") -> report.HTML:
    """Indicator × period table of the pooled percentages (suppressed cells as –*)."""
    t = texts_of(lang)
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
    cols = "".join(f'<col style="width:{w:g}%">' for w in [34] + [66 / max(len(periods), 1)] * len(periods))
    return report.HTML(f'<div class="oa-table-wrap"><table class="oa-table"><caption>{e(caption)}</caption>'
                       f"<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def report_title(kind: str = "national", lang: str = "nl", *, settings: Settings,
                 n_institutions: int = 2) -> str:
    """Cover titles for :func:`outcome_analysis.export.to_html` (``title=``).

    The overview of all institutions (``kind="national"``) is called "Landelijk overzicht ..." only
    for a delivery declared national; otherwise it is the overview of all institutions in the
    delivery (the comparator rule, :func:`outcome_analysis.report.comparison_scope`), so ``settings``
    are the settings in force. ``kind="methods"``: the methods notebook's title (the same under any
    settings).

    >>> report_title("national", settings=Settings(), n_institutions=12)
    'Overzicht outcome-indicatoren van alle instellingen in deze levering'
    """
    texts.check_lang(lang, OverviewError)
    if kind == "national":
        return report.comparator(settings, n_institutions, lang)["overview_title"]
    if kind == "methods":
        return texts.for_lang("methods", lang)["title"]
    raise OverviewError(f"unknown report kind {kind!r}; use 'national' or 'methods'")
