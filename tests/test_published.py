"""The disclosure-safe export of every published figure (presentation.published) and the batch
exporter that writes it: hidden cells empty in the CSV and the Excel file read back, shown counts
exact only for shares that pass the two-cell rule and rounded otherwise, no count below the
threshold, the note naming the thresholds in force. A few indicators of the session's
``small_results`` keep the files small (writing Excel is the slow part)."""
from __future__ import annotations

import dataclasses

import numpy as np
import openpyxl
import pandas as pd
import pytest

from outcome_analysis.indicators import resuppress
from outcome_analysis.presentation import published
from outcome_analysis.running import comparisons
from outcome_analysis.running.batch import exporters
from outcome_analysis.settings import Settings

#: a share with a follow-up window, a profile with distributions and a share breakdown, a share with
#: a distribution and a mean change (adjusted), a distribution-only indicator.
IDS = ["jh_uitval", "jbjr_verloop", "jh_afname_problematiek", "pi03_reden_beeindiging_hulp"]
NUMBERS = ["value", "ci_low", "ci_high", "numerator", "denominator"]


def _subset(results, settings: Settings | None = None):
    """``results`` cut to :data:`IDS` (and one context indicator); with ``settings``, re-marked under
    them (indicator table and the comparisons built from it; context and durations left out)."""
    ind = results.indicators
    ind = ind.loc[ind["indicator"].isin(IDS).to_numpy(bool)].reset_index(drop=True)
    ctx = results.context
    latest = (ctx["period"].astype(str) == ctx["period"].astype(str).max()).to_numpy(bool)
    ctx = ctx.loc[(ctx["indicator"] == "ctx_doelgroep").to_numpy(bool) & latest].reset_index(drop=True)
    comp = results.comparisons
    comp = comp.loc[comp["indicator"].isin(IDS).to_numpy(bool)].reset_index(drop=True)
    cm = results.casemix.loc[results.casemix["indicator"].isin(IDS).to_numpy(bool)]
    cmm = results.casemix_mean.loc[results.casemix_mean["indicator"].isin(IDS).to_numpy(bool)]
    recent = sorted(ind["period"].astype(str).unique())[-2:]  # a period and the one before it
    ind = ind.loc[ind["period"].astype(str).isin(recent).to_numpy(bool)].reset_index(drop=True)
    comp = comp.loc[comp["period"].astype(str).isin(recent).to_numpy(bool)].reset_index(drop=True)
    meta = dict(results.meta)
    if settings is not None:
        ind = resuppress(ind, settings)
        comp = comparisons.build(ind, cm, cmm, settings)
        ctx = ctx.iloc[:0]
        meta["settings"] = settings.to_dict()
    return dataclasses.replace(results, indicators=ind, context=ctx, comparisons=comp, casemix=cm,
                               casemix_mean=cmm, verloop=results.verloop.iloc[:200], meta=meta)


@pytest.fixture(scope="module")
def toy(small_results):
    return _subset(small_results)


@pytest.fixture(scope="module")
def strict(small_results):
    """The same figures under thresholds of 20 (``min_cell``, ``min_count``, ``min_denominator``)."""
    return _subset(small_results, dataclasses.replace(small_results.settings, min_denominator=20, min_count=20,
                                                      min_cell=20))


@pytest.fixture(scope="module")
def written(toy, tmp_path_factory):
    """The batch's call: the exporters read the results folder the batch saved."""
    stored = toy.save(tmp_path_factory.mktemp("results"))
    folder = tmp_path_factory.mktemp("published")
    paths = exporters.export_batch(stored, folder)
    return {p.name: p for p in paths}


def _assert_safe(frame: pd.DataFrame, settings: Settings) -> None:
    """What the rule allows and nothing more: hidden rows without numbers, shares that pass with
    both cells at least min_cell, every other count a multiple of round_to of at least min_count."""
    t = published.thresholds(settings)
    hidden = frame["suppressed"].astype(bool).to_numpy()
    assert hidden.any() and (~hidden).any()
    assert frame.loc[hidden, NUMBERS].isna().all().all()
    assert (frame.loc[hidden, "reason"].astype(str).str.len() > 0).all()
    share = (frame["measure"] == "share").to_numpy() & ~hidden & frame["numerator"].notna().to_numpy()
    num, den = frame["numerator"].astype(float), frame["denominator"].astype(float)
    assert share.any()
    assert (num[share] >= t["min_cell"]).all() and ((den - num)[share] >= t["min_cell"]).all()
    for col in ("numerator", "denominator"):
        other = frame.loc[~share, col].dropna().astype(float)
        assert len(other) and (other >= t["min_count"]).all(), col
        assert (other % t["round_to"] == 0).all(), col


def test_figures_follow_the_tables_suppressed_marks(toy):
    table = published.figures(toy)
    assert list(table.columns) == list(published.FIGURE_COLUMNS)
    rows = table[table["source"] == "indicator"]
    np.testing.assert_array_equal(rows["suppressed"].to_numpy(bool), toy.indicators["suppressed"].to_numpy(bool))
    ctx = table[table["source"] == "context"]
    np.testing.assert_array_equal(ctx["reason"].to_numpy(object),
                                  toy.context["suppression_reason"].astype(str).to_numpy(object))
    assert set(table["source"]) == {"indicator", "context", "verloop", "adjusted", "change"}
    _assert_safe(table, toy.settings)


def test_shown_share_counts_are_exact_and_other_counts_rounded(toy):
    table = published.figures(toy)
    rows = table[table["source"] == "indicator"].reset_index(drop=True)
    src = toy.indicators.reset_index(drop=True)
    shown = ~rows["suppressed"].to_numpy(bool)
    share = shown & (rows["measure"] == "share").to_numpy()
    np.testing.assert_array_equal(rows.loc[share, "numerator"], src.loc[share, "numerator"])
    np.testing.assert_array_equal(rows.loc[share, "denominator"], src.loc[share, "denominator"])
    np.testing.assert_allclose(rows.loc[shown, "value"], src.loc[shown, "value"])
    cells = shown & (rows["measure"] == "count").to_numpy()
    assert cells.any()
    rounded = np.floor(src.loc[cells, "numerator"].astype(float) / 5 + 0.5) * 5
    np.testing.assert_array_equal(rows.loc[cells, "numerator"], rounded)
    assert rows.loc[(rows["measure"] == "mean").to_numpy(), "numerator"].isna().all()  # a sum, not a count


def test_verdicts_come_from_the_comparisons_table(toy):
    table = published.figures(toy)
    said = table[table["signal"].isin(["higher", "lower"]) & (table["source"] == "indicator")]
    assert len(said)
    comp = toy.comparisons
    ref = comp[comp["basis"] == "raw_reference"].set_index(["unit", "indicator", "care_type", "period", "measure"])
    for row in said.itertuples():
        measure = "mean" if row.category == "mean_change:" else "share"
        got = ref.loc[(row.institution, row.indicator, row.care_type, row.period, measure)]
        assert (row.signal, row.favourable, row.basis) == (got["signal"], got["favourable"], "raw_reference")
    adjusted = table[table["source"] == "adjusted"]
    assert set(adjusted["basis"]) == {"adjusted"} and {"oe_ratio", "adjusted_share"} <= set(adjusted["measure"])
    # an adjusted or change figure is hidden with the figure it rests on
    assert adjusted.loc[adjusted["suppressed"], NUMBERS].isna().all().all()


def test_csv_and_xlsx_read_back_hide_every_hidden_cell(toy, written):
    assert set(written) == {"figures.csv", "figures-toelichting.txt", "figures.xlsx"}
    expected = published.figures(toy)
    csv = pd.read_csv(written["figures.csv"], keep_default_na=True)
    book = pd.read_excel(written["figures.xlsx"], sheet_name=None)
    assert list(book) == ["cijfers", "toelichting"]
    for frame in (csv, book["cijfers"]):
        assert list(frame.columns) == list(published.FIGURE_COLUMNS)
        assert len(frame) == len(expected)
        np.testing.assert_array_equal(frame["suppressed"].astype(bool), expected["suppressed"])
        _assert_safe(frame, toy.settings)
    # no exact count below the thresholds anywhere in the file
    t = published.thresholds(toy.settings)
    counts = pd.concat([csv["numerator"], csv["denominator"]]).dropna().astype(float)
    assert len(counts) and (counts >= min(t["min_cell"], t["min_count"])).all()


def test_the_note_names_the_thresholds_in_force(strict, tmp_path):
    paths = published.write_figures(strict, tmp_path, lang="en")
    names = {p.name: p for p in paths}
    assert set(names) == {"figures.csv", "figures-notes.txt", "figures.xlsx"}
    text = names["figures-notes.txt"].read_text(encoding="utf-8")
    assert "at least 20 (min_cell)" in text and "at least 20 records" in text and "from 20 (min_count)" in text
    sheet = openpyxl.load_workbook(names["figures.xlsx"], read_only=True)["notes"]
    lines = [r[0] for r in sheet.iter_rows(values_only=True) if r[0]]
    assert any("at least 20 (min_cell)" in line for line in lines)
    csv = pd.read_csv(names["figures.csv"])
    _assert_safe(csv, strict.settings)  # everything the rule hides at 20 is empty
    nl = "\n".join(published.notes(strict.settings, "nl"))
    assert "minstens 20 zijn (min_cell)" in nl and "veelvouden van 5" in nl


def test_stricter_thresholds_hide_more(toy, strict):
    loose, tight = published.figures(toy), published.figures(strict)
    a = loose[loose["source"] == "indicator"]["suppressed"].to_numpy(bool)
    b = tight[tight["source"] == "indicator"]["suppressed"].to_numpy(bool)
    assert (b >= a).all() and b.sum() > a.sum()


def test_errors_name_the_problem(toy, tmp_path):
    with pytest.raises(published.PublishedError, match="format"):
        published.write_figures(toy, tmp_path, formats=("pdf",))
    with pytest.raises(published.PublishedError, match="language"):
        published.figures(toy, lang="fr")


def test_the_batch_exporter_is_registered():
    assert "figures" in exporters.BATCH_EXPORTERS.names()
    assert exporters.EXPORTERS.names() == exporters.FORMATS  # the per-report formats are unchanged
