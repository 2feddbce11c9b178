"""Disclosure-safe exports for researchers: every published figure of a batch as CSV and Excel.

One rule for every file that leaves the workbench (docs/indicators.md, "Disclosure control"): a
row marked ``suppressed`` in its table (decided once, by :mod:`outcome_analysis.statistics.disclosure`
and :func:`outcome_analysis.indicators.resuppress`; read here, never decided again) is written with
its value, interval, numerator and denominator empty and a reason word; of the rows that may be
shown, the counts of a share are exact (both cells reach ``min_cell``, so rounding protects
nothing) and every other count (a cell of a distribution, the number of records behind a mean or a
model) is hidden below ``min_count`` and rounded to multiples of ``round_to``.

Each file carries its note, generated from the thresholds in force (``data/texts/published.yaml``):
an Excel file as a second sheet (``toelichting`` / ``notes``), a CSV file as a text file beside it
(``<name>-toelichting.txt`` / ``<name>-notes.txt``), so that the CSV itself stays a plain table
that pandas, R and Excel read without options.

:func:`write_figures` writes the batch's export (``figures.csv``, ``figures.xlsx`` and the CSV's
note) from a :class:`~outcome_analysis.running.results.Results`; :func:`figures` is the table
behind it; :func:`safe_counts`, :func:`reason_words` and :func:`write_table` are shared with the
explorer's table export (:meth:`outcome_analysis.presentation.explorer.Explorer.export_table`).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from outcome_analysis import atomic, texts
from outcome_analysis.errors import OutcomeAnalysisError
from outcome_analysis.indicators import registry
from outcome_analysis.indicators.suppression import row_kinds  # the disclosure rule's own reading of a row
from outcome_analysis.settings import Settings
from outcome_analysis.statistics.disclosure import round_count

__all__ = ["FIGURE_COLUMNS", "FORMATS", "PublishedError", "figures", "notes", "reason_words", "row_kinds",
           "safe_counts", "stand_alone_counts", "thresholds", "write_figures", "write_table"]

#: the columns of :func:`figures`, in order.
FIGURE_COLUMNS = (
    "source", "indicator", "label", "care_type", "period", "scope", "institution", "category", "window_months",
    "measure", "value", "ci_low", "ci_high", "numerator", "denominator", "signal", "favourable", "basis",
    "suppressed", "reason",
)
FORMATS = ("csv", "xlsx")
#: the indicator-table categories a verdict is given for (the headline share and the mean change),
#: as :mod:`outcome_analysis.running.comparisons` compares them.
_COMPARED = {"": "share", "mean_change:": "mean"}
_FIGURE_COLUMNS_HIDDEN = ("value", "ci_low", "ci_high", "numerator", "denominator")


class PublishedError(OutcomeAnalysisError, ValueError):
    """An export that cannot be made (unknown format or language); the message names it."""


def thresholds(settings: Settings) -> dict[str, int]:
    """The disclosure thresholds in force: ``min_cell``, ``min_denominator``, ``min_count``, ``round_to``."""
    return {"min_cell": int(settings.min_cell),
            "min_denominator": int(settings.min_denominator), "min_count": int(settings.min_count),
            "round_to": int(settings.round_to)}


def stand_alone_counts(values, settings: Settings) -> np.ndarray:
    """Counts as a stand-alone count may be shown: NaN below ``min_count`` (or missing), else rounded
    to multiples of ``round_to``."""
    t = thresholds(settings)
    v = pd.to_numeric(pd.Series(list(values) if not isinstance(values, pd.Series) else values.to_numpy(),
                                dtype=object), errors="coerce").astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        ok = v >= t["min_count"]
    return np.where(ok, round_count(np.where(ok, v, 0.0), t["round_to"]), np.nan)


def safe_counts(numerator, denominator, kinds, hidden, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """The numerator and denominator as they may be shown.

    Hidden rows: both empty (NaN). Shares: exact (the row passed the two-cell rule). Means: no
    numerator (a sum of scores, not a count), the number of records as a stand-alone count.
    Distribution cells and anything else: both as stand-alone counts (:func:`stand_alone_counts`).
    """
    kinds = np.asarray(kinds, dtype=object)
    hidden = np.asarray(hidden, dtype=bool)
    num = pd.to_numeric(pd.Series(np.asarray(numerator, dtype=object)), errors="coerce").astype(float).to_numpy()
    den = pd.to_numeric(pd.Series(np.asarray(denominator, dtype=object)), errors="coerce").astype(float).to_numpy()
    share = kinds == "share"
    mean = kinds == "mean"
    out_num = np.where(share, num, np.where(mean, np.nan, stand_alone_counts(num, settings)))
    out_den = np.where(share, den, stand_alone_counts(den, settings))
    return np.where(hidden, np.nan, out_num), np.where(hidden, np.nan, out_den)


def reason_words(frame: pd.DataFrame, kinds, settings: Settings) -> np.ndarray:
    """A reason word per row: ``""`` for a shown row; for a row marked ``suppressed`` its
    ``suppression_reason`` when the table has one, else the first threshold the row falls below
    (``denominator``, ``cell``, ``complement``, ``count``) or ``complementary`` (hidden to protect
    another cell). Describes the mark; the mark itself is the table's ``suppressed``."""
    t = thresholds(settings)
    hidden = frame["suppressed"].fillna(False).astype(bool).to_numpy()
    out = np.full(len(frame), "", dtype=object)
    if not hidden.any():
        return out
    num = pd.to_numeric(frame["numerator"], errors="coerce").astype(float).to_numpy()
    den = pd.to_numeric(frame["denominator"], errors="coerce").astype(float).to_numpy()
    kinds = np.asarray(kinds, dtype=object)
    with np.errstate(invalid="ignore"):
        derived = np.select(
            [~(den >= t["min_denominator"]),
             (kinds == "share") & ~(num >= t["min_cell"]),
             (kinds == "share") & ~(den - num >= t["min_cell"]),
             (kinds == "count") & ~(num >= t["min_count"])],
            ["denominator", "cell", "complement", "count"], default="complementary").astype(object)
    if "suppression_reason" in frame:
        given = frame["suppression_reason"].astype(object).fillna("").astype(str).to_numpy(object)
        derived = np.where(given != "", given, derived)
    out[hidden] = derived[hidden]
    return out


def notes(settings: Settings, lang: str = "nl", *, csv: bool = False) -> list[str]:
    """The note that goes with an export: the thresholds in force (from ``settings``), what an empty
    cell means, which counts are exact, the reason words and the columns; one line per item."""
    t = texts.for_lang("published", lang, error=PublishedError)
    th = thresholds(settings)
    lines = [t["title"], "", t["rule"], "", t["thresholds_heading"],
             "- " + t["threshold_cell"].format(**th), "- " + t["threshold_denominator"].format(**th),
             "- " + t["threshold_count"].format(**th), "", t["exact"], t["hidden_rows"], "",
             t["reasons_heading"], *("- " + v for v in t["reasons"].values()), "",
             t["columns_heading"], *("- " + v for v in t["columns"].values())]
    if csv:
        lines += ["", t["csv_note"]]
    return lines


def _notes_path(path: Path, lang: str) -> Path:
    return path.with_name(f"{path.stem}-{'toelichting' if lang == 'nl' else 'notes'}.txt")


def write_table(table: pd.DataFrame, path: str | os.PathLike, settings: Settings, lang: str = "nl", *,
                sheet: str = "sheet_figures") -> list[Path]:
    """Write an export-safe ``table`` (nothing in it is hidden here) with its note.

    ``.csv``: the plain table (UTF-8 with a byte-order mark, so that Excel shows accents) and its
    note beside it as ``<name>-toelichting.txt`` (``-notes.txt`` in English). ``.xlsx``: the table
    as the first sheet (named by the text ``sheet``: ``cijfers`` / ``figures`` or ``tabel`` /
    ``table``) and the note as the sheet ``toelichting`` / ``notes``. Written atomically; returns
    the paths written, the table first.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise PublishedError(f"export format must be one of {FORMATS}, got {fmt!r} ({path.name})")
    t = texts.for_lang("published", lang, error=PublishedError)
    lines = notes(settings, lang, csv=fmt == "csv")
    if fmt == "csv":
        atomic.write_with(path, lambda p: table.to_csv(p, index=False, encoding="utf-8-sig"))
        note = _notes_path(path, lang)
        atomic.write_with(note, lambda p: Path(p).write_text("\n".join(lines) + "\n", encoding="utf-8"))
        return [path, note]

    def write_xlsx(p):
        with pd.ExcelWriter(p, engine="openpyxl") as writer:
            table.to_excel(writer, index=False, sheet_name=t[sheet])
            pd.DataFrame({"note": lines}).to_excel(writer, index=False, header=False, sheet_name=t["sheet_notes"])
            writer.sheets[t["sheet_notes"]].column_dimensions["A"].width = 120
            first = writer.sheets[t[sheet]]
            first.freeze_panes = "A2"

    atomic.write_with(path, write_xlsx)
    return [path]


# ----------------------------------------------------------------------------------------------
# the batch's table of published figures


def _labels(ids: pd.Series, lang: str) -> np.ndarray:
    names = {}
    for i in pd.unique(ids):
        try:
            names[i] = registry.get(i).label(lang)
        except KeyError:
            names[i] = str(i)
    return ids.map(names).to_numpy(object)


def _in_force(table: pd.DataFrame, settings: Settings) -> np.ndarray:
    """Rows of the follow-up window in force (every row of an indicator without a window)."""
    if "window_months" not in table:
        return np.ones(len(table), bool)
    months = {}
    for i in pd.unique(table["indicator"]):
        try:
            months[i] = registry.get(i).window_months(settings)
        except KeyError:
            months[i] = None
    want = table["indicator"].map(months)
    have = pd.to_numeric(table["window_months"], errors="coerce").astype(float)
    return (want.isna() | have.isna() | (have == want.astype(float))).to_numpy(bool)


def _figure_rows(table: pd.DataFrame, source: str, settings: Settings, lang: str) -> pd.DataFrame:
    """Indicator or context table rows as figures (counts as shown, hidden rows emptied)."""
    if not len(table):
        return pd.DataFrame(columns=list(FIGURE_COLUMNS))
    kinds = row_kinds(table["indicator"], table["category"])
    hidden = table["suppressed"].fillna(False).astype(bool).to_numpy()
    num, den = safe_counts(table["numerator"], table["denominator"], kinds, hidden, settings)
    out = pd.DataFrame({
        "source": source, "indicator": table["indicator"].astype(str).to_numpy(object),
        "label": _labels(table["indicator"].astype(str), lang),
        "care_type": table["care_type"].astype(str).to_numpy(object),
        "period": table["period"].astype(str).to_numpy(object),
        "scope": table["scope"].astype(str).to_numpy(object),
        "institution": table["institution"].astype(object).fillna("").astype(str).to_numpy(object),
        "category": table["category"].astype(object).fillna("").astype(str).to_numpy(object),
        "window_months": (pd.to_numeric(table["window_months"], errors="coerce").astype(float).to_numpy()
                          if "window_months" in table else np.nan),
        "measure": kinds,
        **{c: pd.to_numeric(table[c], errors="coerce").astype(float).to_numpy()
           for c in ("value", "ci_low", "ci_high")},
        "numerator": num, "denominator": den, "signal": "", "favourable": None, "basis": "",
        "suppressed": hidden, "reason": reason_words(table, kinds, settings),
    })
    return out


def _head_key(frame: pd.DataFrame, unit: str, measure: pd.Series) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([frame[unit].astype(str), frame["indicator"].astype(str),
                                      frame["care_type"].astype(str), frame["period"].astype(str),
                                      measure.astype(str)])


def _verdicts(out: pd.DataFrame, indicators_table: pd.DataFrame, comparisons: pd.DataFrame,
              settings: Settings) -> pd.DataFrame:
    """The raw verdict against the other institutions beside each compared institution figure."""
    if not len(comparisons) or not len(out):
        return out
    ref = comparisons.loc[(comparisons["basis"] == "raw_reference").to_numpy(bool)
                          & (comparisons["unit_kind"] == "institution").to_numpy(bool)]
    ref = ref.drop_duplicates(["unit", "indicator", "care_type", "period", "measure"])
    ref = ref.set_index(_head_key(ref, "unit", ref["measure"]))
    compared = ((out["source"] == "indicator") & (out["scope"] == "institution")
                & out["category"].isin(list(_COMPARED))).to_numpy(bool) & _in_force(indicators_table, settings)
    part = out.loc[compared]
    keys = _head_key(part, "institution", part["category"].map(_COMPARED))
    found = keys.isin(ref.index)
    rows = ref.reindex(keys)
    idx = part.index[found]
    out.loc[idx, "signal"] = rows["signal"].to_numpy(object)[found]
    out.loc[idx, "favourable"] = rows["favourable"].to_numpy(object)[found]
    out.loc[idx, "basis"] = "raw_reference"
    return out


def _comparison_rows(results, settings: Settings, lang: str) -> pd.DataFrame:
    """The adjusted figures (O/E with the verdict's interval, the adjusted share or mean) and the
    changes from the previous period, each with its verdict; hidden where the figure they rest on is
    (the comparisons table's ``suppressed`` text key, or the ``suppressed`` institution row of the
    window in force, or no such row)."""
    comp = getattr(results, "comparisons", None)
    if comp is None or not len(comp):
        return pd.DataFrame(columns=list(FIGURE_COLUMNS))
    comp = comp.loc[(comp["basis"].isin(["adjusted", "raw_previous"])).to_numpy(bool)
                    & (comp["unit_kind"] == "institution").to_numpy(bool)].reset_index(drop=True)
    if not len(comp):
        return pd.DataFrame(columns=list(FIGURE_COLUMNS))
    table = results.indicators
    heads = table.loc[(table["scope"] == "institution").to_numpy(bool)
                      & table["category"].isin(list(_COMPARED)).to_numpy(bool) & _in_force(table, settings)]
    hidden_of = pd.Series(heads["suppressed"].fillna(False).astype(bool).to_numpy(),
                          index=_head_key(heads, "institution", heads["category"].map(_COMPARED)))
    hidden_of = hidden_of.groupby(level=list(range(5))).max()  # a hidden row of the key hides it
    measure_of_head = comp["measure"].map({"oe_ratio": "share", "mean": "mean", "share_difference": "share",
                                          "mean_difference": "mean"}).fillna("share")
    head_hidden = hidden_of.reindex(_head_key(comp, "unit", measure_of_head)).fillna(True).astype(bool).to_numpy()
    hidden = head_hidden | (comp["text_key"].astype(str) == "suppressed").to_numpy(bool)
    adjusted = (comp["basis"] == "adjusted").to_numpy(bool)
    measure = comp["measure"].map({"mean": "adjusted_mean"}).fillna(comp["measure"]).to_numpy(object)
    n_shown = np.where(adjusted & ~hidden, stand_alone_counts(comp["n"], settings), np.nan)
    base = pd.DataFrame({
        "source": np.where(adjusted, "adjusted", "change"), "indicator": comp["indicator"].astype(str).to_numpy(object),
        "label": _labels(comp["indicator"].astype(str), lang),
        "care_type": comp["care_type"].astype(str).to_numpy(object),
        "period": comp["period"].astype(str).to_numpy(object), "scope": "institution",
        "institution": comp["unit"].astype(str).to_numpy(object),
        "category": np.where(measure_of_head == "mean", "mean_change:", ""), "window_months": np.nan,
        "measure": measure,
        **{c: np.where(hidden, np.nan, comp[c].astype(float).to_numpy()) for c in ("value", "ci_low", "ci_high")},
        "numerator": np.nan, "denominator": n_shown, "signal": comp["signal"].astype(str).to_numpy(object),
        "favourable": comp["favourable"].to_numpy(object), "basis": comp["basis"].astype(str).to_numpy(object),
        "suppressed": hidden, "reason": np.where(hidden, "figure", ""),
    })
    parts = [base]
    cm = getattr(results, "casemix", None)
    if cm is not None and len(cm):  # the adjusted share beside each O/E, with the same verdict and mark
        key = ["indicator", "care_type", "period", "institution"]
        adj = cm.assign(period=cm["period"].astype(str), institution=cm["institution"].astype(str))
        adj = adj.drop_duplicates(key).set_index(key)["adjusted_value"]
        oe = base.loc[(base["measure"] == "oe_ratio").to_numpy(bool)]
        values = adj.reindex(pd.MultiIndex.from_frame(oe[key])).to_numpy(float)
        parts.append(oe.assign(measure="adjusted_share", value=np.where(oe["suppressed"], np.nan, values),
                               ci_low=np.nan, ci_high=np.nan))
    return pd.concat(parts, ignore_index=True)


def _verloop_rows(verloop: pd.DataFrame, settings: Settings, lang: str) -> pd.DataFrame:
    """Durations (quartiles in days) of JB/JR episodes: one row per quartile, the number of episodes
    as a stand-alone count."""
    if verloop is None or not len(verloop):
        return pd.DataFrame(columns=list(FIGURE_COLUMNS))
    hidden = verloop["suppressed"].fillna(False).astype(bool).to_numpy()
    n = np.where(hidden, np.nan, stand_alone_counts(verloop["n"], settings))
    label = registry.get("jbjr_verloop").label(lang)
    parts = []
    for q in ("q1", "median", "q3"):
        parts.append(pd.DataFrame({
            "source": "verloop", "indicator": "jbjr_verloop", "label": label,
            "care_type": verloop["care_type"].astype(str).to_numpy(object),
            "period": verloop["period"].astype(str).to_numpy(object),
            "scope": verloop["scope"].astype(str).to_numpy(object),
            "institution": verloop["institution"].astype(object).fillna("").astype(str).to_numpy(object),
            "category": verloop["measure"].astype(str).to_numpy(object), "window_months": np.nan, "measure": q,
            "value": np.where(hidden, np.nan, verloop[q].astype(float).to_numpy()), "ci_low": np.nan, "ci_high": np.nan,
            "numerator": np.nan, "denominator": n, "signal": "", "favourable": None, "basis": "",
            "suppressed": hidden, "reason": np.where(hidden, "denominator", ""),
        }))
    return pd.concat(parts, ignore_index=True)


def figures(results, lang: str = "nl") -> pd.DataFrame:
    """Every published figure of ``results``, one row each, as it may be shown.

    Parameters
    ----------
    results : Results
        A results store (:func:`outcome_analysis.results.compute_results` or ``Results.load``); its
        own settings (``results.settings``) are the thresholds in force.
    lang : {"nl", "en"}
        Language of the ``label`` column (the indicator's name).

    Returns
    -------
    DataFrame
        :data:`FIGURE_COLUMNS`. ``source``: ``indicator`` (the indicator table, every period,
        institution and pooled rows, headline and breakdowns), ``context``, ``verloop`` (duration
        quartiles, ``category`` the duration measure), ``adjusted`` (``oe_ratio`` with the verdict's
        interval, ``adjusted_share``, ``adjusted_mean``) and ``change`` (``share_difference`` /
        ``mean_difference`` from the previous period). ``signal``, ``favourable``, ``basis``: the
        verdict of the comparisons table (raw against the other institutions beside the institution
        figure; the adjusted and change rows carry their own). Rows marked ``suppressed`` have
        value, interval, numerator and denominator empty and a ``reason`` word.
    """
    texts.check_lang(lang, PublishedError)
    settings = results.settings
    ind = results.indicators
    parts = [_verdicts(_figure_rows(ind, "indicator", settings, lang), ind, results.comparisons, settings)]
    ctx = getattr(results, "context", None)
    if ctx is not None and len(ctx):
        parts.append(_figure_rows(ctx, "context", settings, lang))
    parts.append(_verloop_rows(getattr(results, "verloop", None), settings, lang))
    parts.append(_comparison_rows(results, settings, lang))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=list(FIGURE_COLUMNS))
    out = pd.concat(parts, ignore_index=True)[list(FIGURE_COLUMNS)]
    hidden = out["suppressed"].astype(bool).to_numpy()
    for c in _FIGURE_COLUMNS_HIDDEN:  # belt and braces: nothing of a hidden row leaves
        out[c] = out[c].astype(float).where(~hidden)
    out["favourable"] = out["favourable"].astype(object).where(out["favourable"].notna(), None)
    return out


def write_figures(results, folder: str | os.PathLike, lang: str = "nl", *,
                  formats: Sequence[str] = FORMATS) -> list[Path]:
    """Write :func:`figures` of ``results`` into ``folder`` as ``figures.csv`` (with its note
    ``figures-toelichting.txt`` / ``figures-notes.txt``) and ``figures.xlsx`` (sheets ``cijfers`` and
    ``toelichting`` / ``figures`` and ``notes``); returns the paths written.

    Raises
    ------
    PublishedError
        For a format other than ``csv`` / ``xlsx`` or an unknown language.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise PublishedError(f"export format must be one of {FORMATS}, got {unknown}")
    table = figures(results, lang)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        written += write_table(table, folder / f"figures.{fmt}", results.settings, lang, sheet="sheet_figures")
    return written
