"""The explorer driven from Python (no browser): widgets -> cached frames -> table, figure, summary,
exports. Expected numbers come from ``indicators.compute`` / ``casemix.adjust`` on the same small
demo (the explorer must show exactly what the package computes), never from the explorer itself."""
from __future__ import annotations

import dataclasses
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from outcome_analysis import casemix, indicators  # noqa: E402
from outcome_analysis.explorer import Explorer, ExplorerError  # noqa: E402
from outcome_analysis.indicators import resuppress  # noqa: E402
from outcome_analysis.settings import DEFAULT  # noqa: E402


@pytest.fixture(scope="module")
def explorer(small_demo, tmp_path_factory):
    """One precomputed explorer for the browsing tests (each test sets the state it relies on)."""
    from conftest import SMALL_MIN_CELL

    # the small demo's two-cell threshold, as the shared results use it (tests compare with those)
    return Explorer(small_demo, export_dir=tmp_path_factory.mktemp("exploration"),
                    settings=DEFAULT.replace(min_cell=SMALL_MIN_CELL))


@pytest.fixture
def fresh(small_demo, tmp_path):
    """A new explorer (computing lazily) for tests that change definition settings."""
    return Explorer(small_demo, export_dir=tmp_path / "exploration", precompute=False,
                    indicator="jbjr_herhaald_beroep")


def _reference(data, indicator, period, care_type, settings=None, category=""):
    if settings is None:  # the explorer fixture's settings: the small demo's two-cell threshold
        from conftest import SMALL_MIN_CELL

        settings = DEFAULT.replace(min_cell=SMALL_MIN_CELL)
    table = indicators.compute(data, indicator, settings=settings)
    rows = table[(table["scope"] == "institution") & (table["period"] == period)
                 & (table["care_type"] == care_type) & (table["category"] == category)]
    window = indicators.registry.get(indicator).window_months(settings)
    if window is not None:
        rows = rows[rows["window_months"] == window]
    # at window 24 herhaald beroep's headline and its extra 24-month row coincide: one row each
    rows = rows.drop_duplicates(["institution"])
    return rows.set_index("institution").sort_index()


def _institution_rows(ex):
    t = ex.current_table()
    return t[t["scope"] == "institution"].set_index("institution").sort_index()


@pytest.mark.parametrize("indicator, care_type", [
    ("jh_uitval", "jeugdhulp"),
    ("jbjr_clientervaring", "jr"),
    ("pi01_doelrealisatie", "jeugdhulp"),
], ids=["uitval", "clientervaring-jr", "pi01"])
def test_setting_the_indicator_shows_compute_figures(explorer, small_demo, indicator, care_type):
    explorer.set(indicator=indicator, care_type=care_type, period="2023", breakdown="", adjusted=False)
    got = _institution_rows(explorer)
    ref = _reference(small_demo, indicator, "2023", care_type)
    assert (explorer.current_table()["indicator"] == indicator).all()
    assert list(got.index) == list(ref.index)
    for col in ("numerator", "denominator", "value", "ci_low", "ci_high", "missing", "suppressed"):
        np.testing.assert_array_equal(got[col].to_numpy(), ref[col].to_numpy(), err_msg=col)
    national = explorer.current_table().iloc[0]
    assert national["scope"] == "national"
    assert explorer.widgets["indicator"].value == indicator
    assert indicators.registry.label(indicator) in explorer.table_widget.value


def test_changing_the_set_offers_its_indicators(explorer):
    explorer.set(indicator_set="prestatie")
    offered = [v for _label, v in explorer.widgets["indicator"].options]
    assert offered and all(v.startswith("pi") for v in offered)
    assert explorer.current_table()["indicator"].iloc[0] == explorer.widgets["indicator"].value


def test_selected_institutions_are_highlighted(explorer, small_demo):
    # 2024: more than one institution passes the two-cell rule in the small demo
    explorer.set(indicator="jh_uitval", care_type="jeugdhulp", period="2024", breakdown="", adjusted=False)
    table = explorer.current_table()
    visible = table[(table["scope"] == "institution") & ~table["suppressed"]]["institution"].tolist()
    first, second = visible[0], visible[1]
    explorer.set(institutions=[first, second])
    table = explorer.current_table()
    assert set(table.loc[table["selected"], "institution"]) == {first, second}
    assert not explorer.last_update_recomputed
    funnel_ax, trend_ax = explorer.current_figure().axes
    gids = {a.get_gid() for a in funnel_ax.get_children()}
    assert {"highlight", "selected"} <= gids
    labels = {t.get_text() for t in funnel_ax.texts}
    assert {first, second} <= labels
    assert first in [line.get_label() for line in trend_ax.get_lines()]
    assert second in [line.get_label() for line in trend_ax.get_lines()]
    assert "▶ " + first in explorer.table_widget.value


def test_adjusted_shows_oe_and_the_model_summary(explorer, small_demo):
    explorer.set(indicator="jh_uitval", care_type="jeugdhulp", period="2023", breakdown="", adjusted=False)
    assert explorer.summary() is None and "oe_ratio" not in explorer.current_table()
    explorer.set(adjusted=True)
    table = explorer.current_table()
    assert {"expected", "oe_ratio", "oe_ci_low", "oe_ci_high", "adjusted_value", "signal"} <= set(table.columns)
    ref = casemix.adjust(small_demo, "jh_uitval", period="2023", care_type="jeugdhulp").set_index("institution")
    got = table[table["scope"] == "institution"].set_index("institution").loc[ref.index]
    np.testing.assert_allclose(got["oe_ratio"], ref["oe_ratio"], rtol=1e-9)
    # the verdict is the comparisons table's: a hidden figure has none, every other one the case-mix verdict
    hidden = got["suppressed"].astype(bool)
    assert (got.loc[~hidden, "signal"] == ref.loc[~hidden[ref.index].to_numpy(), "signal"]).all()
    assert (got.loc[hidden, "signal"] == "none").all()
    summary = explorer.summary()
    assert isinstance(summary, casemix.ModelSummary) and summary.indicator == "jh_uitval"
    assert summary.period == "2023" and summary.care_type == "jeugdhulp"
    assert "gecorrigeerd voor" in explorer.summary_widget.value
    assert explorer.current_figure().axes[0].get_ylabel() == "Waargenomen / verwacht"
    # the same view again is a cache hit; back to raw is one too
    explorer.set(adjusted=False)
    explorer.set(adjusted=True)
    assert not explorer.last_update_recomputed
    explorer.set(adjusted=False)


def test_adjusted_is_unavailable_for_a_breakdown(explorer):
    explorer.set(indicator="jh_uitval", care_type="jeugdhulp", breakdown="end_reason:onbekend", adjusted=True)
    assert explorer.widgets["adjusted"].disabled
    assert explorer.summary() is None and "oe_ratio" not in explorer.current_table()
    assert "niet beschikbaar" in explorer.summary_widget.value
    explorer.set(breakdown="", adjusted=False)


def test_a_breakdown_shows_its_cells(explorer, small_demo):
    explorer.set(indicator="jbjr_clientervaring", care_type="jb", period="2023", breakdown="informant:ouder")
    got = _institution_rows(explorer)
    ref = _reference(small_demo, "jbjr_clientervaring", "2023", "jb", category="informant:ouder")
    np.testing.assert_array_equal(got["value"].to_numpy(), ref["value"].to_numpy())
    explorer.set(breakdown="")


@pytest.mark.parametrize("change", [
    {"indicator": "jh_zonder_hulp_verder"},
    {"care_type": "jr"},
    {"period": "2022"},
    {"institutions": ["GI Veluwe-IJssel"]},
    {"breakdown": "informant:jeugdige"},
    {"trend_periods": ("2020", "2023")},
], ids=["indicator", "care_type", "period", "institution", "breakdown", "trend-range"])
def test_a_non_setting_change_is_a_cache_hit(explorer, change):
    explorer.set(indicator="jbjr_clientervaring", care_type="jb", period="2023", breakdown="", adjusted=False,
                 institutions=[])
    before = explorer.cache_info()
    explorer.set(**change)
    assert explorer.last_update_recomputed is False
    assert explorer.cache_info()["tables"] == before["tables"]
    assert explorer.last_update_seconds > 0


def test_direct_widget_assignment_updates_the_view(explorer):
    explorer.set(indicator="jh_uitval", care_type="jeugdhulp", period="2023", breakdown="")
    explorer.widgets["indicator"].value = "jh_zonder_hulp_verder"
    assert explorer.current_table()["indicator"].iloc[0] == "jh_zonder_hulp_verder"
    assert explorer.last_update_recomputed is False


def test_changing_the_window_recomputes(fresh, small_demo):
    fresh.set(period="2023", care_type="jb")
    assert fresh.widgets["window"].value == 12 and not fresh.widgets["window"].disabled
    before = fresh.current_table()
    fresh.set(window=24)
    assert fresh.last_update_recomputed is True
    after = fresh.current_table()
    assert (after["window_months"] == 24).all()
    # ends in 2023 plus 24 months lie after the reference date (2024-12-31): all excluded now
    assert before["excluded_window"].sum() == 0 and after["excluded_window"].sum() > 0
    ref = _reference(small_demo, "jbjr_herhaald_beroep", "2023", "jb",
                     settings=dataclasses.replace(DEFAULT, window_herhaald_beroep=24))
    np.testing.assert_array_equal(_institution_rows(fresh)["excluded_window"].to_numpy(),
                                  ref["excluded_window"].to_numpy())
    assert fresh.settings.window_herhaald_beroep == 24
    # back to 12: the first table is still cached
    fresh.set(window=12)
    assert fresh.last_update_recomputed is False
    # an indicator without a window disables the widget
    fresh.set(indicator="jh_uitval")
    assert fresh.widgets["window"].disabled


def test_changing_the_granularity_recomputes(fresh):
    fresh.set(granularity="half_year")
    assert fresh.last_update_recomputed is True
    assert all(re.fullmatch(r"\d{4}H[12]", p) for p in fresh.widgets["period"].options)
    assert re.fullmatch(r"\d{4}H[12]", fresh.current_table()["period"].iloc[0])


def test_a_threshold_change_re_marks_suppression(fresh, small_demo):
    fresh.set(indicator="jh_uitval", care_type="jeugdhulp", period="2023")
    before = fresh.current_table()["suppressed"].to_numpy()
    fresh.set(min_denominator=80)  # above the one denominator that passes the two-cell rule
    assert fresh.last_update_recomputed is False  # suppression only, no recomputation
    after = fresh.current_table()["suppressed"].to_numpy()
    assert after.sum() > before.sum()
    ref = _reference(small_demo, "jh_uitval", "2023", "jeugdhulp",
                     settings=dataclasses.replace(DEFAULT, min_denominator=80))
    np.testing.assert_array_equal(_institution_rows(fresh)["suppressed"].to_numpy(), ref["suppressed"].to_numpy())


@pytest.mark.parametrize("thresholds", [{"min_denominator": 3, "min_count": 3},
                                        {"min_denominator": 50, "min_count": 20}], ids=["low", "high"])
def test_resuppress_equals_compute_under_other_thresholds(small_demo, thresholds):
    """Re-marking a cached table gives exactly compute's flags under the new thresholds (compute
    sorts before it marks, so ties for the smallest cell are broken the same way)."""
    ids = ["jh_uitval", "jbjr_verloop", "jbjr_herhaald_beroep", "pi06_zwaarte_vervolghulp", "jh_doelrealisatie_gas"]
    base = indicators.compute(small_demo, ids)
    other = dataclasses.replace(DEFAULT, **thresholds)
    expected = indicators.compute(small_demo, ids, settings=other)
    got = resuppress(base, other)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
    assert (got["suppressed"].to_numpy() != base["suppressed"].to_numpy()).any()  # the thresholds changed something


def test_exports_write_safe_files(explorer, small_demo):
    explorer.set(indicator="jh_uitval", care_type="jeugdhulp", period="2023", breakdown="", adjusted=False,
                 institutions=[])
    paths = [explorer.export_table("csv"), explorer.export_table("xlsx"),
             explorer.export_figure("png"), explorer.export_figure("svg")]
    assert [p.suffix for p in paths] == [".csv", ".xlsx", ".png", ".svg"]
    for p in paths:
        assert p.parent == explorer.export_dir and p.stat().st_size > 0
        assert re.fullmatch(r"[a-z0-9-]+\.(csv|xlsx|png|svg)", p.name), p.name
        assert p.name.startswith("jh-uitval-jeugdhulp-2023-")
    csv = pd.read_csv(paths[0])
    xlsx = pd.read_excel(paths[1])
    table = explorer.current_table()
    assert len(csv) == len(xlsx) == len(table)
    hidden = csv["suppressed"].astype(bool)
    assert hidden.any() and csv.loc[hidden, ["value", "numerator", "denominator"]].isna().all().all()
    np.testing.assert_allclose(csv.loc[~hidden, "value"], table.loc[~table["suppressed"], "value"])
    # each table export carries its note: beside the CSV, as the second sheet of the Excel file
    assert paths[0].with_name(paths[0].stem + "-toelichting.txt").is_file()
    assert list(pd.read_excel(paths[1], sheet_name=None)) == ["tabel", "toelichting"]
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in paths[3].read_bytes()[:2000]
    # the buttons do the same and show the path
    explorer.buttons["svg"].click()
    assert explorer.last_exported and explorer.last_exported[0].exists()
    assert str(explorer.last_exported[0].name) in explorer.export_widget.value
    # two exports in a row never overwrite each other
    assert explorer.export_table("csv") != explorer.export_table("csv")


def test_errors_name_the_problem(explorer):
    with pytest.raises(ExplorerError, match="unknown widget"):
        explorer.set(colour="red")
    with pytest.raises(ExplorerError, match="format"):
        explorer.export_table("pdf")
    with pytest.raises(ExplorerError, match="format"):
        explorer.export_figure("jpg")
    with pytest.raises(ExplorerError, match="cannot set period"):
        explorer.set(period="1999")


def test_a_path_is_loaded(small_demo_path, tmp_path):
    ex = Explorer(str(small_demo_path), export_dir=tmp_path, precompute=False, indicator="jh_uitval", lang="en")
    assert ex.current_table()["indicator"].iloc[0] == "jh_uitval"
    assert ex.current_table()["institution"].iloc[0] == "National"
    box = ex.show()
    assert box is ex.box and ex.table_widget in box.children


def test_setting_an_indicator_of_another_set_computes_only_that_one(fresh):
    assert fresh.cache_info()["tables"] == 1  # lazily: only the starting indicator
    fresh.set(indicator="pi01_doelrealisatie")
    assert fresh.widgets["indicator_set"].value == "prestatie"
    assert fresh.cache_info()["tables"] == 2 and fresh.last_update_recomputed
    assert fresh.current_table()["indicator"].iloc[0] == "pi01_doelrealisatie"


def test_the_pooled_row_follows_the_comparator_rule(explorer, small_demo, tmp_path):
    # the demo data handed over in code carries no settings: not declared national
    assert explorer.pooled_label == "Alle instellingen (46)"
    explorer.set(indicator="jh_uitval")
    assert explorer.current_table()["institution"].iloc[0] == "Alle instellingen (46)"
    national = Explorer(small_demo, settings=DEFAULT.replace(delivery_scope="national"), export_dir=tmp_path,
                        precompute=False, indicator="jh_uitval")
    assert national.pooled_label == "Landelijk"


def test_adjusted_view_shows_the_comparisons_verdict(explorer, small_results):
    """Every institution's verdict in the adjusted view equals Results.comparison for that row (the
    explorer's thresholds and statistics are the results' own: only the comparator differs)."""
    period = small_results.meta["periods"][-1]
    explorer.set(indicator="jh_uitval", care_type="jeugdhulp", period=period, breakdown="", adjusted=True)
    table = explorer.current_table()
    inst = table.loc[table["scope"] == "institution"]
    rows = small_results.comparison("jh_uitval", "jeugdhulp", period, measure="oe_ratio")
    assert len(rows) == len(inst) and set(rows["signal"]) >= {"within"}
    for r in rows.itertuples(index=False):
        got = inst.loc[inst["institution"] == r.unit].iloc[0]
        assert got["signal"] == r.signal, r.unit
        np.testing.assert_allclose([got["oe_ci_low"], got["oe_ci_high"]], [r.ci_low, r.ci_high], rtol=1e-9)
    explorer.set(adjusted=False)
    # one verdict everywhere: the national overview's table and each institution's report say the same
    from outcome_analysis.indicators import registry
    from outcome_analysis.presentation import overview, story

    table = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period).set_index("institution")
    entry = registry.get("jh_uitval")
    for r in rows.itertuples(index=False):
        shown = table.loc[r.unit]
        if not shown["suppressed"] and r.signal != "none":
            assert shown["signal"] == r.signal, r.unit
        said = story.prepare(small_results, r.unit).verdicts(entry, "jeugdhulp")["adjusted"]
        assert said["signal"] == r.signal, r.unit
        np.testing.assert_allclose([said["ci_low"], said["ci_high"]], [r.ci_low, r.ci_high])


_FIGURES = ["value", "ci_low", "ci_high", "numerator", "denominator", "missing", "n", "observed", "expected",
            "oe_ratio", "oe_ci_low", "oe_ci_high", "adjusted_value", "signal"]


def _assert_export_safe(frame: pd.DataFrame, at: int, share: bool) -> None:
    """Hidden rows without a figure; shown shares with both cells at least ``at``; every other count
    (and every count of a distribution) a multiple of 5 of at least ``at``."""
    hidden = frame["suppressed"].astype(bool).to_numpy()
    assert hidden.any() and (frame.loc[hidden, "reason"].astype(str).str.len() > 0).all()
    assert frame.loc[hidden, [c for c in _FIGURES if c in frame]].isna().all().all()
    num, den = frame["numerator"].astype(float), frame["denominator"].astype(float)
    if share:
        shown = ~hidden & num.notna().to_numpy()
        assert shown.any() and (num[shown] >= at).all() and ((den - num)[shown] >= at).all()
        counts = [c for c in ("missing", "excluded_window", "n", "observed") if c in frame]
    else:
        counts = ["numerator", "denominator", "missing"]
    values = pd.concat([frame[c] for c in counts]).dropna().astype(float)
    assert ((values >= at) & (values % 5 == 0)).all(), values[(values < at) | (values % 5 != 0)]


def test_exports_follow_the_explorers_settings(small_demo, tmp_path):
    """Explorer(settings=...) at 20: every export hides what the rule hides at 20 and its note says 20."""
    strict = DEFAULT.replace(min_denominator=20, min_count=20, min_cell=20)
    ex = Explorer(small_demo, settings=strict, export_dir=tmp_path, precompute=False, indicator="jh_uitval")
    assert ex.widgets["min_cell"].value == 20 and ex.settings.min_cell == 20
    ex.set(care_type="jeugdhulp", period="2023", breakdown="", adjusted=True)
    ref = _reference(small_demo, "jh_uitval", "2023", "jeugdhulp", settings=strict)
    np.testing.assert_array_equal(_institution_rows(ex)["suppressed"].to_numpy(), ref["suppressed"].to_numpy())
    csv_path = ex.export_table("csv")
    note = ex.last_exported[1]
    assert ex.last_exported[0] == csv_path and note.name == csv_path.stem + "-toelichting.txt"
    xlsx_path = ex.export_table("xlsx")
    csv = pd.read_csv(csv_path)
    book = pd.read_excel(xlsx_path, sheet_name=None)
    for frame in (csv, book["tabel"]):
        assert len(frame) == len(ex.current_table())
        np.testing.assert_array_equal(frame["suppressed"].astype(bool), ex.current_table()["suppressed"])
        _assert_export_safe(frame, 20, share=True)
    text = note.read_text(encoding="utf-8")
    assert "minstens 20 zijn (min_cell)" in text and "minstens 20 records" in text and "vanaf 20 (min_count)" in text
    assert any("minstens 20 zijn (min_cell)" in str(line) for line in book["toelichting"].iloc[:, 0])
    # a distribution cell: counts on their own, rounded, none below 20
    ex.set(adjusted=False, breakdown="end_reason:volgens_plan")
    _assert_export_safe(pd.read_csv(ex.export_table("csv")), 20, share=False)


def test_an_english_export_says_its_thresholds(small_demo, tmp_path):
    ex = Explorer(small_demo, export_dir=tmp_path, precompute=False, indicator="jh_uitval", lang="en")
    ex.set(care_type="jeugdhulp", period="2023", min_cell=15)
    path = ex.export_table("xlsx")
    book = pd.read_excel(path, sheet_name=None)
    assert list(book) == ["table", "notes"]
    assert any("at least 15 (min_cell)" in str(line) for line in book["notes"].iloc[:, 0])
    _assert_export_safe(book["table"], 10, share=True)
    shown = ~book["table"]["suppressed"].astype(bool)
    assert (book["table"].loc[shown, "numerator"] >= 15).all()
