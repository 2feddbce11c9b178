"""The methods notebook's worked examples: the definitions and the adjustment shown with numbers.

``notebooks/methods.ipynb`` shows one section per cell
(:mod:`outcome_analysis.presentation.sections.methods`); the sections build their display items
from the functions here:

- the registry as a reader's table (:func:`indicator_catalogue`);
- made-up examples: one youth's trajectories chained into episodes (:func:`toy_episode_example`),
  the Wilson interval (:func:`wilson_steps`, :func:`wilson_example`), complementary suppression
  (:func:`disclosure_example`), the RCI (:func:`rci_example`) and a GAS T-score (:func:`gas_example`);
- live examples on the delivery's results: a follow-up window (:func:`window_example`), a case-mix
  model with the institution whose position changes most (:func:`casemix_example`,
  :func:`casemix_mover`, :func:`highlight`), overdispersion (:func:`overdispersion_table`) and
  shrinkage (:func:`shrinkage_table`, :func:`shrinkage_plot`).

Results are read through their query methods (:mod:`outcome_analysis.running.query`), numbers are
hidden and rounded under the results' settings; the made-up examples take the settings they are
given (the sections pass the results'). The texts are in ``data/texts/methods.yaml``.
"""
from __future__ import annotations

import functools
import math
import re

import numpy as np
import pandas as pd
from scipy import stats as sps

from outcome_analysis import indicators, texts
from outcome_analysis.contract import schema
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.indicators import episodes, registry
from outcome_analysis.running.results import Results
from outcome_analysis.settings import Settings
from outcome_analysis.statistics import disclosure, stats

from . import overview, plots, report
from .overview import OverviewError

__all__ = [
    "labels", "notes", "indicator_catalogue", "catalogue_html", "TOY_TRAJECTORIES", "toy_trajectories",
    "toy_episode_example", "WINDOW_EXAMPLES", "window_example", "window_choice", "wilson_example", "wilson_steps",
    "TOY_DISTRIBUTION", "disclosure_example", "casemix_example", "casemix_mover", "highlight", "model_facts",
    "coefficient_table", "calibration_plot", "overdispersion_table", "shrinkage_example", "shrinkage_table",
    "shrinkage_plot", "rci_example", "gas_example", "no_model_note", "separation_note", "verdict_note", "tau2_between",
    "level_label", "term_label",
]


@functools.lru_cache(maxsize=None)
def _texts(lang: str) -> dict:
    return texts.for_lang("methods", lang, error=OverviewError)


def labels(lang: str = "nl") -> dict:
    """The labels of the methods notebook's tables and figures in ``lang`` (``methods.yaml``, ``table``)."""
    texts.check_lang(lang, OverviewError)
    return _texts(lang)["table"]


def notes(lang: str = "nl") -> dict:
    """The worked examples in words in ``lang`` (``methods.yaml``, ``notes``)."""
    texts.check_lang(lang, OverviewError)
    return _texts(lang)["notes"]


def _min_n(results: Results) -> int:
    return int(results.settings.min_denominator)


# ------------------------------------------------------------------------------------------------
# the indicator catalogue
# ------------------------------------------------------------------------------------------------
def indicator_catalogue(set: str, lang: str = "nl", *, settings: Settings) -> pd.DataFrame:
    """The registry entries of one set as a reader's table (all labels from the registry).

    ``settings`` (the settings in force) gives the follow-up windows.

    Returns
    -------
    DataFrame
        ``number``, ``indicator``, ``care_types``, ``unit``, ``anchor``, ``window``, ``casemix``,
        ``definition`` (text, in ``lang``).
    """
    m = labels(lang)
    rows = []
    for e in registry.REGISTRY.values():
        if e.set != set:
            continue
        months = e.window_months(settings)
        rows.append({
            "number": "" if e.number is None else str(e.number), "indicator": e.label(lang),
            "care_types": ", ".join(registry.care_type_label(c, lang) for c in e.care_types),
            "unit": m["units"].get(e.unit, e.unit), "anchor": m["anchors"].get(e.anchor, e.anchor),
            "window": m["months"].format(m=months) if months else "–",
            "casemix": m["yes"] if e.casemix else m["no"],
            "definition": overview.plain_ids(e.definition(lang), lang),
        })
    return pd.DataFrame(rows)


def catalogue_html(set: str, lang: str, settings: Settings) -> report.HTML:
    """:func:`indicator_catalogue` as a report table."""
    m = labels(lang)
    table = indicator_catalogue(set, lang, settings=settings)
    if (table["number"] == "").all():
        table = table.drop(columns="number")
    cols = {c: (m[c], "text") for c in table.columns}
    source = str(registry.SETS[set].source or "")
    # a source that is a project document (the context set's) is no source for a reader
    caption = registry.set_label(set, lang) + (f" ({source})" if source and not source.startswith("docs/") else "")
    widths = {"number": 5, "indicator": 15, "care_types": 14, "unit": 9, "anchor": 8, "window": 9, "casemix": 8}
    shares = [widths.get(c, 0) for c in table.columns]
    shares = [w or 100 - sum(shares) for w in shares]  # the definition takes the rest
    return report.display_table(table, cols, lang, caption=caption, settings=settings, widths=shares)


# ------------------------------------------------------------------------------------------------
# episodes and follow-up windows
# ------------------------------------------------------------------------------------------------
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


def toy_episode_example(lang: str = "nl", *, settings: Settings) -> dict:
    """The worked episode example: the toy records, their episodes and herhaald beroep.

    ``settings`` (the settings in force) gives the follow-up window.

    Returns
    -------
    dict
        ``trajectories`` (display frame: record, institution, form, start, end, end reason,
        episode), ``n_episodes`` (2: the chain and the later measure), ``chain_length`` (records in
        the first episode, 3), ``herhaald`` (the national ``jbjr_herhaald_beroep`` row of the period
        the first episode ended, 12-month window: numerator 1, denominator 1), ``end_period``,
        ``window_months``.
    """
    m = labels(lang)
    data = toy_trajectories()
    ch = episodes.chain(data.trajectories)
    t = data.trajectories
    show = pd.DataFrame({
        m["record"]: t["trajectory_id"].astype(str), m["institution"]: t["institution"].astype(str),
        m["form"]: [registry.category_label(f"care_form:{v}", lang) for v in t["care_form"].astype(str)],
        m["start"]: [report.fmt_date(v, lang) for v in t["start_date"]],
        m["end"]: [report.fmt_date(v, lang) for v in t["end_date"]],
        m["reason"]: [registry.category_label(f"end_reason:{v}", lang) for v in t["end_reason"].astype(str)],
        m["episode"]: (ch.record_episode.to_numpy() + 1).astype(str),
    })
    first = ch.episodes.iloc[0]
    end_period = str(pd.Timestamp(first["end_date"]).year) if "end_date" in ch.episodes else "2023"
    months = registry.get("jbjr_herhaald_beroep").window_months(settings)  # the window in force
    # the toy's own computed table (not stored results, so no Results query): its one national
    # headline row at that window
    out = indicators.compute(data, ["jbjr_herhaald_beroep"], settings=settings)
    sel = out.loc[(out["scope"] == "national") & (out["period"] == end_period) & (out["care_type"] == "jb")
                  & (out["category"] == "") & (out["window_months"] == months)]
    return {"trajectories": show, "n_episodes": int(len(ch.episodes)), "chain_length": int(first["n_records"]),
            "episodes": ch.episodes, "herhaald": sel.iloc[0].to_dict() if len(sel) else {}, "end_period": end_period,
            "window_months": months}


#: the windowed indicators the methods notebook can show, in order of preference.
WINDOW_EXAMPLES = (("jbjr_herhaald_beroep", "jb"), ("jh_geen_nieuwe_start", "jeugdhulp"), ("jbjr_herhaald_beroep", "jr"))

WINDOW_COLUMNS = ["period", "window_months", "numerator", "denominator", "value", "ci_low", "ci_high",
                  "excluded_window", "suppressed"]


def window_example(results: Results, indicator: str = "jbjr_herhaald_beroep", care_type: str = "jb",
                   lang: str = "nl") -> pd.DataFrame:
    """National figures per period of an indicator with a follow-up window (the window in force),
    with ``excluded_window`` (records left out because their window had not passed at the
    reference date)."""
    rows = results.rows(indicator, care_type=care_type, scope="national")
    return rows[WINDOW_COLUMNS].sort_values("period", ignore_index=True)


def window_choice(results: Results) -> tuple[str, str, pd.DataFrame] | None:
    """The first of :data:`WINDOW_EXAMPLES` the delivery holds, with its :func:`window_example`;
    ``None`` when it holds none."""
    for indicator, care_type in WINDOW_EXAMPLES:
        table = window_example(results, indicator, care_type)
        if len(table):
            return indicator, care_type, table
    return None


# ------------------------------------------------------------------------------------------------
# Wilson intervals and disclosure control (made-up numbers)
# ------------------------------------------------------------------------------------------------
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


def disclosure_example(counts=TOY_DISTRIBUTION, lang: str = "nl", *, settings: Settings) -> pd.DataFrame:
    """A small distribution before and after :func:`disclosure.suppress` (kind ``count``) under
    ``settings`` (the settings in force: minimum cell size and rounding).

    Returns ``category``, ``count`` (raw, made-up), ``shown`` (rounded to 5 or ``–*``), ``reason``.
    """
    m = labels(lang)
    total = sum(c for _, c in counts)
    table = pd.DataFrame({"category": [c for c, _ in counts], "numerator": [float(v) for _, v in counts],
                          "denominator": float(total)})
    table["value"] = table["numerator"] / table["denominator"]
    out = disclosure.suppress(table, settings, kind="count")
    hidden = report.ui(lang)["suppressed_mark"] + "*"
    shown = [hidden if s else report.fmt_int(v, lang) for s, v in zip(out["suppressed"], out["shown_numerator"])]
    rows = pd.DataFrame({"category": out["category"], "count": out["numerator"].astype(int), "shown": shown,
                         "reason": [m["reasons"].get(r, r).format(count=settings.min_count, n=settings.min_denominator,
                                                                       cell=settings.min_cell)
                                    for r in out["suppression_reason"]]})
    total_row = pd.DataFrame({"category": [m["total"]], "count": [total],
                              "shown": [report.fmt_int(disclosure.round_count(total, settings.round_to), lang)],
                              "reason": [""]})
    return pd.concat([rows, total_row], ignore_index=True)


# ------------------------------------------------------------------------------------------------
# the case-mix model
# ------------------------------------------------------------------------------------------------
def casemix_example(results: Results, period: str, preferred=(("jh_uitval", "jeugdhulp"),)) -> tuple[str, str, str]:
    """The (indicator, care type, modelled period) the methods notebook uses to show the adjustment:
    the first of ``preferred`` with a fitted logistic model, else the model with most records.

    Raises :class:`~outcome_analysis.presentation.overview.OverviewError` when no model was fitted."""
    fitted = [c for c in overview.comparisons(results, period).itertuples(index=False) if c.model == "logistic"]
    if not fitted:
        raise OverviewError(f"no case-mix model was fitted for period {period!r}")
    modelled = {(c.indicator, c.care_type): str(c.modelled_period) for c in fitted}
    for ind, care in preferred:
        if (ind, care) in modelled:
            return ind, care, modelled[(ind, care)]
    best = None
    for c in fitted:
        row = overview.model_row(results, c.indicator, c.care_type, c.modelled_period)
        if best is None or row.get("n_records", 0) > best[0]:
            best = (row.get("n_records", 0), c.indicator, c.care_type, c.modelled_period)
    return best[1], best[2], best[3]


def casemix_mover(results: Results, indicator: str, care_type: str, period: str) -> pd.DataFrame:
    """Institutions whose raw verdict differs from their adjusted verdict: what case-mix adjustment
    changes. Both verdicts are read from :meth:`Results.comparison`, never computed here: the raw one
    from the ``raw_reference`` rows (the share against all other institutions together, by the
    printed interval), the adjusted one from the ``adjusted`` rows (:func:`overview.adjusted_table`).

    Returns
    -------
    DataFrame
        ``institution``, ``n``, ``raw_value``, ``raw_signal`` (``higher`` | ``lower`` | ``within`` |
        ``none``), ``raw_reference`` (the others' share), ``oe_ratio``, ``signal`` (adjusted),
        ``moved`` (both give a verdict and they differ), ``raw_gap`` (``raw_value`` minus
        ``raw_reference``); institutions whose figures are hidden are left out. Sorted: moved first,
        then by ``|raw_gap|`` descending.
    """
    adj = overview.adjusted_table(results, indicator, care_type, period)
    modelled = str(adj["period"].iloc[0]) if len(adj) else str(period)
    raw = results.comparison(indicator, care_type, modelled, basis="raw_reference", measure="share")
    raw = pd.DataFrame({"institution": raw["unit"].astype(str).to_numpy() if len(raw) else [],
                        "raw_signal": raw["signal"].astype(str).to_numpy() if len(raw) else [],
                        "raw_reference": raw["reference_value"].to_numpy(float) if len(raw) else []})
    out = adj.merge(raw, on="institution", how="left")
    out["raw_signal"] = out["raw_signal"].fillna("none")
    out = out.loc[~out["suppressed"]].copy()
    judged = ("higher", "lower", "within")
    out["moved"] = out["raw_signal"].isin(judged) & out["signal"].isin(judged) & (out["raw_signal"] != out["signal"])
    out["raw_gap"] = out["raw_value"] - out["raw_reference"]
    out = out.assign(_a=-out["raw_gap"].abs().fillna(0)).sort_values(["moved", "_a"], ascending=[False, True],
                                                                      ignore_index=True)
    return out[["institution", "n", "raw_value", "raw_signal", "raw_reference", "oe_ratio", "signal", "moved",
                "raw_gap"]]


def highlight(results: Results, indicator: str, care_type: str, period: str, lang: str = "nl") -> tuple[str | None, str]:
    """The institution the example funnels highlight and the sentence about it: the first that
    :func:`casemix_mover` finds moved by the adjustment, else the one whose raw share lies farthest
    from the other institutions'. ``(None, "")`` when no institution may be shown."""
    mt = notes(lang)
    movers = casemix_mover(results, indicator, care_type, period)
    if not len(movers):
        return None, ""
    adj = overview.adjusted_table(results, indicator, care_type, period, lang).set_index("institution")
    pick = movers.loc[movers["moved"]].iloc[0] if movers["moved"].any() else movers.iloc[0]
    words = dict(inst=pick["institution"], key=adj.loc[pick["institution"], "key"],
                 raw=report.fmt_pct(pick["raw_value"], 1, lang), others=report.fmt_pct(pick["raw_reference"], 1, lang),
                 rsig=mt["raw_signal"].get(pick["raw_signal"], mt["raw_signal"]["none"]),
                 oe=report.fmt_ratio(pick["oe_ratio"], 2, lang), asig=overview.signal_label(pick["signal"], lang))
    return pick["institution"], mt["mover" if pick["moved"] else "mover_none"].format(**words)


def level_label(covariate: str, level, lang: str = "nl") -> str:
    """A level of a case-mix covariate in words: the coded levels in the reader's words (``missing``
    → "onbekend", ``True`` → "ja", ``v`` → "meisje"), else the registry's category label
    (``care_form:pleegzorg``), else the level as stored (age groups such as ``12-15``).

    >>> level_label("out_of_home", True), level_label("complexity", "missing")
    ('ja', 'onbekend')
    """
    words = labels(lang)["levels"]
    level = str(level)
    if level in words:
        return words[level]
    category = f"{covariate}:{level}"
    if category in registry.LABELS["categories"]:
        return registry.category_label(category, lang)
    return level


def term_label(term: str, covariate: str | None = None, reference=None, lang: str = "nl") -> str:
    """A model term in words: "Complexiteit: complex (t.o.v. meervoudig)" for ``complexity[complex]``
    with reference ``meervoudig``; "Uit huis geplaatst: ja (t.o.v. nee)" for ``out_of_home[True]``.
    ``covariate`` defaults to the part before ``[``; a term without a level is the covariate's label."""
    term = str(term)
    cov = covariate if covariate and not report.is_missing(covariate) else term.split("[", 1)[0]
    level = term[len(cov):].strip("[]") if term.startswith(cov) else ""
    name = registry.covariate_label(cov, lang)
    name = name[:1].upper() + name[1:]
    if not level:
        return name
    words = level_label(cov, level, lang)
    if reference is not None and not report.is_missing(reference) and str(reference) != "":
        words = labels(lang)["versus"].format(level=words, ref=level_label(cov, reference, lang))
    return f"{name}: {words}"


def _dropped_words(dropped, lang: str) -> str:
    """``["missing (sex = missing): all 1 records ...", ...]`` → "Geslacht: onbekend; ..." (the terms left
    out of a model in words; the reason is the separation note's)."""
    out = []
    for item in dropped:
        m = re.match(r"\s*\S+\s*\((\w+)\s*=\s*([^)]*)\)", str(item))
        out.append(term_label(f"{m.group(1)}[{m.group(2).strip()}]", m.group(1), None, lang) if m
                   else str(item).split(":", 1)[0].strip())
    return "; ".join(out)


def model_facts(summary, lang: str = "nl") -> pd.DataFrame:
    """:meth:`casemix.ModelSummary.to_frame` with the values formatted for a reader (text): covariates,
    levels and the fit in words (no codes, no True/False); the model's own note (English) is left out,
    :func:`separation_note` says it in the report's language."""
    facts = summary.to_frame(lang)
    lab = texts.for_lang("casemix", lang, error=OverviewError)
    words = labels(lang)
    yes_no = {True: words["levels"]["True"], False: words["levels"]["False"]}
    facts = facts.loc[facts["item"] != lab["note"]].reset_index(drop=True)
    for i, item in enumerate(facts["item"]):
        v = facts.at[i, "value"]
        if item == lab["covariates"]:
            facts.at[i, "value"] = ", ".join(registry.covariate_label(c, lang) for c in summary.covariates)
        elif item == lab["fit_method"]:
            facts.at[i, "value"] = words["fit_methods"].get(str(v), str(v))
        elif item == lab["dropped_terms"] and summary.dropped_terms:
            facts.at[i, "value"] = _dropped_words(summary.dropped_terms, lang)
        elif item == lab["care_type"]:
            facts.at[i, "value"] = registry.care_type_label(str(v), lang)

    def fmt(v):
        if isinstance(v, (bool, np.bool_)):
            return yes_no[bool(v)]
        if isinstance(v, (int, np.integer)):
            return report.fmt_int(v, lang)
        if isinstance(v, (float, np.floating)):
            return report.fmt_number(v, 3, lang)
        return "" if v is None else str(v)

    facts["value"] = [fmt(v) for v in facts["value"]]
    facts.iloc[0, 1] = registry.label(summary.indicator, lang)  # the first fact is the indicator
    return facts


def coefficient_table(coefs: pd.DataFrame, lang: str, settings: Settings) -> report.HTML:
    """The odds ratios of a model (its ``coefficients`` without the intercept) as a report table."""
    cc = notes(lang)["coef"]
    col = "odds_ratio" if "odds_ratio" in coefs else "estimate"
    covs = coefs["covariate"] if "covariate" in coefs else [None] * len(coefs)
    refs = coefs["reference"] if "reference" in coefs else [None] * len(coefs)
    table = pd.DataFrame({
        "term": [term_label(t, c, r, lang) for t, c, r in zip(coefs["term"], covs, refs)],
        "or": [report.fmt_ratio(v, 2, lang) for v in coefs[col]],
        "ci": [report.fmt_ci(a, b, 2, lang, kind="ratio") for a, b in zip(coefs["ci_low"], coefs["ci_high"])],
        "p": [report.fmt_number(v, 3, lang) for v in coefs["p_value"]],
    })
    return report.display_table(table, {"term": (cc["term"], "text"), "or": (cc["odds_ratio"], "text"),
                                        "ci": (cc["ci"], "text"), "p": (cc["p_value"], "text")}, lang,
                                settings=settings, widths=[52, 14, 22, 12])


def calibration_plot(summary, lang: str = "nl", ax=None):
    """Observed against expected events per decile of the predicted probability (a
    :class:`casemix.ModelSummary`); points on the diagonal mean a well-calibrated model."""
    import matplotlib.pyplot as plt

    m = labels(lang)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(4.2, 3.4), layout="constrained")
    cal = summary.calibration
    ax.plot(cal["expected"], cal["observed"], "o", color=plots.MAIN, ms=5)
    top = float(max(cal["expected"].max(), cal["observed"].max())) * 1.05
    ax.plot([0, top], [0, top], ls="--", color=plots.GREY, lw=1, label=m["perfect"])
    ax.set_xlabel(m["calib_x"], fontsize=plots.FONT_MIN + 0.5)
    ax.set_ylabel(m["calib_y"], fontsize=plots.FONT_MIN + 0.5)
    ax.set_title(m["calib_title"], fontsize=plots.FONT_MIN + 1, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=plots.FONT_MIN)
    plots.legend_below(ax, ncols=2, fontsize=plots.FONT_MIN)
    return ax


def separation_note(results: Results, indicator: str, care_type: str, period: str, lang: str = "nl") -> str:
    """How the model of one indicator handles levels with one outcome and separation, in words: the
    records left out with E = O (the model row's ``n_fixed``), Firth's penalised likelihood with
    intercept correction (FLIC, Puhr et al. 2017) when the fit used it (``fit_method``), and
    ``settings.min_expected`` below which there is no verdict."""
    mt = notes(lang)
    s = overview.model_row(results, indicator, care_type, period)
    fixed = s.get("n_fixed", 0)
    fixed = 0 if report.is_missing(fixed) else int(fixed)
    settings = results.settings
    count = (mt["fixed_none"] if fixed == 0 else mt["fixed_few"].format(n=settings.min_count) if fixed < settings.min_count
             else mt["fixed_about"].format(n=report.fmt_count_rounded(fixed, lang, settings=settings)))
    return mt["separation"].format(k=count,
                                   used=mt["flic_used"] if s.get("fit_method") == "firth_flic" else mt["flic_not"],
                                   e=report.fmt_number(results.settings.min_expected, 0, lang))


def verdict_note(settings: Settings, lang: str = "nl") -> str:
    """The verdict and its own interval in words: O/E ∓ z·√(s² + τ²) at ``settings.signal_limit``."""
    from scipy import stats as sps

    level = float(settings.signal_limit)
    z = float(sps.norm.ppf((1 + level) / 2))
    return notes(lang)["verdict"].format(level=report.fmt_pct(level, 1, lang), z=report.fmt_number(z, 2, lang),
                                         e=report.fmt_number(settings.min_expected, 0, lang))


def no_model_note(results: Results, lang: str = "nl") -> str:
    """Why the delivery gives no model example: one institution, or too little data."""
    mt = notes(lang)
    alone = len(results.institutions) < 2
    return mt["no_model"].format(reason=mt["no_model_alone"] if alone else mt["no_model_few"])


# ------------------------------------------------------------------------------------------------
# overdispersion and shrinkage
# ------------------------------------------------------------------------------------------------
def _fitted(results: Results, period: str):
    """(comparison, model row) of every fitted logistic model of the report ``period``."""
    for c in overview.comparisons(results, period).itertuples(index=False):
        s = overview.model_row(results, c.indicator, c.care_type, c.modelled_period)
        if s.get("model") == "logistic":
            yield c, s


def overdispersion_table(results: Results, period: str, lang: str = "nl") -> pd.DataFrame:
    """φ, τ², the test's p-value and whether the limits were corrected, per fitted model of the
    report ``period``. Columns ``indicator`` (label), ``care_type`` (label), ``n_institutions``,
    ``phi``, ``tau2``, ``p_value``, ``applied`` (yes/no words)."""
    m = labels(lang)
    rows = [{"indicator": registry.label(c.indicator, lang), "care_type": registry.care_type_label(c.care_type, lang),
             "n_institutions": s["n_institutions"], "phi": s["phi"], "tau2": s["tau2"],
             "p_value": s["overdispersion_p"], "applied": m["yes"] if s["overdispersion_applied"] else m["no"]}
            for c, s in _fitted(results, period)]
    return pd.DataFrame(rows, columns=["indicator", "care_type", "n_institutions", "phi", "tau2", "p_value", "applied"])


def tau2_between(s: dict) -> float:
    """The unwinsorised between-institution variance of a model row (``tau2_between``; 0 when absent)."""
    v = s.get("tau2_between", np.nan)
    return 0.0 if report.is_missing(v) else float(v)


def shrinkage_example(results: Results, period: str) -> tuple[str, str]:
    """The (indicator, care type) with the largest between-institution variance ``tau2_between``
    (the unwinsorised method-of-moments estimate behind the shrunk O/E: shrinkage does something
    only when it is > 0); else the first fitted model."""
    best = None
    for c, s in _fitted(results, period):
        key = (tau2_between(s) > 0, tau2_between(s))
        if best is None or key > best[0]:
            best = (key, c.indicator, c.care_type)
    if best is None:
        raise OverviewError(f"no case-mix model was fitted for period {period!r}")
    return best[1], best[2]


def _shown_models(results: Results, indicator: str, care_type: str, period: str) -> pd.DataFrame:
    """The case-mix rows of the institutions that may be shown, with an O/E."""
    sel = results.casemix_rows(indicator, care_type, period)
    return sel.loc[(sel["n"] >= _min_n(results)) & np.isfinite(sel["oe_ratio"])]


def shrinkage_table(results: Results, indicator: str, care_type: str, period: str, k: int = 8) -> pd.DataFrame:
    """Raw O/E beside the empirical-Bayes shrunk O/E for the ``k`` smallest institutions that may
    be shown (``n`` at least ``settings.min_denominator``), with ``n_shown`` rounded. The shrunk O/E
    is NaN (not 1) when the between-institution variance is 0: there is no difference to estimate.

    Returns ``institution``, ``n``, ``n_shown``, ``oe_ratio``, ``oe_shrunk``, ``oe_shrunk_ci_low``,
    ``oe_shrunk_ci_high``, ``suppressed`` (always False here).
    """
    out = _shown_models(results, indicator, care_type, period).sort_values(["n", "institution"]).head(k)
    round_to = results.settings.round_to
    out = out.assign(n_shown=[float(disclosure.round_count(v, round_to)) for v in out["n"]], suppressed=False)
    return out[["institution", "n", "n_shown", "oe_ratio", "oe_shrunk", "oe_shrunk_ci_low", "oe_shrunk_ci_high",
                "suppressed"]].reset_index(drop=True)


def shrinkage_plot(results: Results, indicator: str, care_type: str, period: str, lang: str = "nl", ax=None):
    """Raw O/E (open circles) and shrunk O/E (filled) of every institution that may be shown,
    against its rounded number of records, joined by a line: small institutions move most."""
    import matplotlib.pyplot as plt

    m = labels(lang)
    sel = _shown_models(results, indicator, care_type, period)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(6.5, 3.2), layout="constrained")
    round_to = results.settings.round_to
    x = np.array([max(disclosure.round_count(v, round_to), 1) for v in sel["n"]], dtype=float)
    for xi, a, b in zip(x, sel["oe_ratio"], sel["oe_shrunk"]):
        ax.plot([xi, xi], [a, b], color=plots.GREY, lw=0.8)
    ax.scatter(x, sel["oe_ratio"], facecolor="white", edgecolor=plots.MAIN, s=24, label=m["raw_oe"], zorder=3)
    ax.scatter(x, sel["oe_shrunk"], color=plots.HIGHLIGHT, marker="D", s=18, label=m["shrunk_oe"], zorder=4)
    ax.axhline(1, color=plots.GREY, lw=1)
    if len(x) and x.max() / max(x.min(), 1) > 20:
        ax.set_xscale("log")
    ax.set_xlabel(m["shrink_x"], fontsize=plots.FONT_MIN + 0.5)
    ax.set_ylabel(m["shrink_y"], fontsize=plots.FONT_MIN + 0.5)
    ax.set_title(m["shrink_title"], fontsize=plots.FONT_MIN + 1, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=plots.FONT_MIN)
    plots.legend_below(ax, ncols=2, fontsize=plots.FONT_MIN)
    return ax


# ------------------------------------------------------------------------------------------------
# RCI and GAS (made-up numbers)
# ------------------------------------------------------------------------------------------------
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


def gas_example(scores=(1, 0, -1, 2), weights=(2, 1, 1, 1), rho: float | None = None,
                *, settings: Settings) -> dict:
    """A GAS T-score worked out: ``T = 50 + 10 Σwx / sqrt((1 − ρ) Σw² + ρ (Σw)²)``
    (:func:`stats.gas_tscore`) with ρ = ``settings.gas_rho`` (0.3 by default) unless ``rho`` is
    given; realised at ``settings.gas_threshold`` (``settings``: the settings in force)."""
    rho = settings.gas_rho if rho is None else rho
    w = np.asarray(weights, float)
    x = np.asarray(scores, float)
    swx, sw2, sw = float((w * x).sum()), float((w ** 2).sum()), float(w.sum())
    denom = math.sqrt((1 - rho) * sw2 + rho * sw ** 2)
    t = float(stats.gas_tscore(list(scores), list(weights), rho))
    return {"scores": list(scores), "weights": list(weights), "rho": rho, "sum_wx": swx, "sum_w2": sw2, "sum_w": sw,
            "denominator": denom, "t": t, "reached": t >= settings.gas_threshold}
