"""The published national reference (outcome_analysis.indicators.reference): reading, every check, the
interval computed from numerator and denominator, the shape of its rows, the demo file."""
from __future__ import annotations

import csv
import math
from importlib import resources

import openpyxl
import pandas as pd
import pytest

from outcome_analysis.indicators import reference
from outcome_analysis.indicators.reference import check_reference, read_reference
from outcome_analysis.errors import DataValidationError, UnknownIndicatorError
from outcome_analysis.indicators.common import OUTPUT_COLUMNS
from outcome_analysis.settings import Settings
from outcome_analysis.statistics import stats

HEADER = ["indicator", "period", "care_type", "value", "numerator", "denominator", "ci_low", "ci_high", "source"]
GOOD = {"indicator": "jbjr_verloop", "period": "2024", "care_type": "jb", "value": "0.82", "numerator": "369",
        "denominator": "450", "ci_low": "", "ci_high": "", "source": "CBS StatLine (toy)"}


def write_csv(path, rows, header=HEADER, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(c, "") for c in header])
    return path


def row(**changes):
    return {**GOOD, **changes}


def problems_of(tmp_path, rows, header=HEADER, name="reference.csv", **kwargs):
    path = write_csv(tmp_path / name, rows, header)
    result, problems = check_reference(path, **kwargs)
    return result, problems


def says_where(problem, file, row, column, value):
    """The problem's text names file, row, column and value, as a spreadsheet user looks for them."""
    text = str(problem)
    assert text.startswith(file), text
    assert f"row {row}" in text, text
    assert f"column {column!r}" in text, text
    assert f"value {value!r}" in text, text
    return text


# ------------------------------------------------------------------------------------------------
# every check, at the second data row (spreadsheet row 3), with file, row, column and value named
# ------------------------------------------------------------------------------------------------

CASES = [
    # id, the bad row, (column, value shown, kind), words the message must hold
    ("unknown-indicator", row(indicator="jbjr_verlop"), ("indicator", "jbjr_verlop", "reference_indicator_unknown"),
     ["did you mean jbjr_verloop"]),
    ("indicator-by-name", row(indicator="Uitval"), ("indicator", "Uitval", "reference_indicator_unknown"),
     ["jh_uitval"]),
    ("indicator-without-headline", row(indicator="pi09_reden_beeindiging_jr", care_type="jr", numerator="", denominator=""),
     ("indicator", "pi09_reden_beeindiging_jr", "reference_indicator_no_headline"), ["headline"]),
    ("care-type-not-applicable", row(indicator="jb_acceptatie_hulp", care_type="jr"),
     ("care_type", "jr", "reference_care_type_not_applicable"), ["jb_acceptatie_hulp applies to: jb"]),
    ("care-type-unknown", row(care_type="jeugdzorg"), ("care_type", "jeugdzorg", "code_unknown"), ["jeugdhulp, jb, jr"]),
    ("period-unparseable", row(period="2024Q1"), ("period", "2024Q1", "reference_period_invalid"), ["2024H1"]),
    ("period-statline-code", row(period="2024JJ00"), ("period", "2024JJ00", "reference_period_statline"),
     ["is the year 2024"]),
    ("unknown-indicator-nothing-close", row(indicator="qqq"), ("indicator", "qqq", "reference_indicator_unknown_no_match"),
     ["indicators.yaml"]),
    ("value-percentage", row(value="82", numerator="", denominator=""), ("value", "82", "reference_share_percentage"),
     ["looks like a percentage; give 0.82"]),
    ("value-percent-sign", row(value="82%", numerator="", denominator=""), ("value", "82%", "reference_percentage"),
     ["0.82 instead of 82%"]),
    ("value-negative", row(value="-0.2", numerator="", denominator=""), ("value", "-0.2", "out_of_range"), ["from 0 to 1"]),
    ("value-not-a-number", row(value="veel"), ("value", "veel", "number_invalid"), ["a number"]),
    ("count-with-percent-sign", row(numerator="82%"), ("numerator", "82%", "number_invalid"), ["a number"]),
    ("value-missing", row(value=""), ("value", None, "required_missing"), ["required"]),
    ("ci-percentage", row(ci_low="80.1", ci_high="0.838"), ("ci_low", "80.1", "reference_share_percentage"),
     ["give 0.801"]),
    ("ci-above-value", row(ci_low="0.84", ci_high="0.9"), ("ci_low", "0.84", "reference_ci_not_around_value"),
     ["at most the value (0.82)"]),
    ("ci-below-value", row(ci_low="0.7", ci_high="0.8"), ("ci_high", "0.8", "reference_ci_not_around_value"),
     ["at least the value (0.82)"]),
    ("ci-half", row(ci_low="0.8"), ("ci_high", None, "reference_ci_incomplete"), ["together"]),
    ("numerator-above-denominator", row(value="0.8", numerator="50", denominator="40"),
     ("numerator", "50", "reference_numerator_above_denominator"), ["at most the denominator (40)"]),
    ("counts-inconsistent", row(numerator="300", denominator="450"), ("value", "0.82", "reference_value_inconsistent"),
     ["300 / 450 = 0.6667"]),
    ("counts-rounding-beyond", row(value="0.66", numerator="2", denominator="3"),
     ("value", "0.66", "reference_value_inconsistent"), ["2 / 3"]),
    ("denominator-alone", row(numerator=""), ("numerator", None, "reference_counts_incomplete"), ["together"]),
    ("denominator-zero", row(value="0", numerator="0", denominator="0"), ("denominator", "0", "below_minimum"),
     ["at least 1"]),
    ("numerator-not-whole", row(numerator="369.5"), ("numerator", "369.5", "whole_number_invalid"), ["whole"]),
    ("source-missing", row(source=""), ("source", None, "reference_source_missing"), ["source"]),
    ("window-not-applicable", row(window_months="12"), ("window_months", "12", "reference_window_not_applicable"),
     ["jbjr_verloop has no follow-up window"]),
]


@pytest.mark.parametrize("bad, expected, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_check_names_file_row_column_and_value(tmp_path, bad, expected, words):
    header = HEADER + (["window_months"] if "window_months" in bad else [])
    other = row(indicator="jb_acceptatie_hulp", value="0.74", numerator="222", denominator="300")
    result, problems = problems_of(tmp_path, [other, bad], header)
    assert result is None
    column, value, kind = expected
    found = [p for p in problems if p.severity == "error"]
    assert [(p.row, p.column, p.value, p.kind) for p in found] == [(3, column, value, kind)]
    text = says_where(found[0], "reference.csv", 3, column, value) if value is not None else str(found[0])
    assert "reference.csv, row 3" in text and f"column {column!r}" in text
    for word in words:
        assert word in text
    with pytest.raises(DataValidationError, match=r"reference\.csv, row 3"):
        read_reference(tmp_path / "reference.csv")


def test_rounding_of_the_value_is_allowed(tmp_path):
    # 2/3 = 0.6667: written as 0.67 (two decimals: +-0.005) or 0.667 it is consistent; 0.66 is not (see above)
    rows = [row(value="0.67", numerator="2", denominator="3", period="2023"),
            row(value="0.667", numerator="2", denominator="3", period="2024"),
            # an interval touching the value within its rounding: 0.825 may be 0.8249 and 0.83 may be 0.8250
            row(value="0.82", numerator="", denominator="", ci_low="0.83", ci_high="0.9", period="2022")]
    result, problems = problems_of(tmp_path, rows)
    assert problems == [] and len(result) == 3


@pytest.mark.parametrize("value, consistent", [("0.8", False), ("0.80", False), ("0.76", True), ("0.7619", True),
                                               ("0.762", True), ("0.7611", False)])
def test_a_share_is_never_read_as_rounded_coarser_than_whole_percentages(tmp_path, value, consistent):
    # 16/21 = 0.76190...: an export writes 0.80 as 0.8, so '0.8' is not read as 'somewhere in 0.75-0.85'
    result, problems = problems_of(tmp_path, [row(value=value, numerator="16", denominator="21")])
    assert (result is not None) == consistent
    assert [p.kind for p in problems] == ([] if consistent else ["reference_value_inconsistent"])


def test_a_repeated_figure_is_named_at_its_repeat_with_the_first_row(tmp_path):
    rows = [row(), row(indicator="jb_acceptatie_hulp", value="0.74", numerator="222", denominator="300"),
            row(indicator=" JBJR_VERLOOP ", value="0.8", numerator="", denominator="")]
    result, problems = problems_of(tmp_path, rows)
    assert result is None
    assert [(p.row, p.column, p.kind, dict(p.params)) for p in problems] == [
        (4, "indicator", "reference_repeated", {"first_row": 2})]
    assert "is also in row 2" in str(problems[0]) and "reference.csv, row 4" in str(problems[0])


def test_a_file_without_source_column_is_an_error_unless_a_source_is_given(tmp_path):
    header = [c for c in HEADER if c != "source"]
    result, problems = problems_of(tmp_path, [row()], header)
    assert result is None
    assert [(p.row, p.column, p.kind) for p in problems] == [(1, "source", "reference_source_missing")]
    result, problems = problems_of(tmp_path, [row()], header, source="CBS StatLine, table read 2025-06-01")
    assert problems == [] and result.sources() == ["CBS StatLine, table read 2025-06-01"]


def test_the_source_argument_fills_empty_cells_only(tmp_path):
    result, _ = problems_of(tmp_path, [row(source=""), row(period="2023", source="Own source")], source="Fallback")
    assert result.table["source"].tolist() == ["Fallback", "Own source"]
    assert result.sources() == ["Fallback", "Own source"]


def test_missing_required_column_and_extra_column(tmp_path):
    header = [c for c in HEADER if c != "care_type"]
    result, problems = problems_of(tmp_path, [row()], header)
    assert result is None
    assert [(p.row, p.column, p.kind) for p in problems] == [(1, "care_type", "column_missing")]
    result, problems = problems_of(tmp_path, [row(opmerking="x")], HEADER + ["opmerking"])
    assert len(result) == 1
    assert [(p.severity, p.kind) for p in problems] == [("warning", "reference_columns_extra")]
    assert "opmerking" in str(problems[0]) and result.warnings == tuple(problems)


def test_a_missing_file_and_a_file_without_rows(tmp_path):
    result, problems = check_reference(tmp_path / "nope.csv")
    assert result is None and [p.kind for p in problems] == ["path_missing"]
    result, problems = problems_of(tmp_path, [])
    assert result is None and [p.kind for p in problems] == ["no_data_rows"]


def test_several_problems_are_all_listed(tmp_path):
    rows = [row(indicator="onbekend"), row(period="2023", value="82", numerator="", denominator=""),
            row(period="2022", care_type="jr", source="")]
    _, problems = problems_of(tmp_path, rows)
    assert [(p.row, p.column) for p in problems] == [(2, "indicator"), (3, "value"), (4, "source")]
    with pytest.raises(DataValidationError) as caught:
        read_reference(tmp_path / "reference.csv")
    assert len(caught.value.problems) == 3


# ------------------------------------------------------------------------------------------------
# formats
# ------------------------------------------------------------------------------------------------


def test_dutch_csv_with_semicolons_and_decimal_commas(tmp_path):
    path = write_csv(tmp_path / "nl.csv", [row(value="0,82", ci_low="0,78", ci_high="0,855", numerator="", denominator="")],
                     delimiter=";")
    figure = read_reference(path).figure("jbjr_verloop", "jb", "2024")
    assert (figure["value"], figure["ci_low"], figure["ci_high"], figure["interval"]) == (0.82, 0.78, 0.855, "published")


def test_xlsx_numbers_and_spreadsheet_rows(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["jbjr_verloop", 2024, "jb", 0.82, 369, 450, None, None, "CBS (toy)"])
    sheet.append(["jb_acceptatie_hulp", 2024, "jb", 74, None, None, None, None, "CBS (toy)"])
    workbook.save(tmp_path / "reference.xlsx")
    result, problems = check_reference(tmp_path / "reference.xlsx")
    assert result is None
    assert [(p.row, p.column, p.value, p.kind) for p in problems] == [(3, "value", "74", "reference_share_percentage")]
    says_where(problems[0], "reference.xlsx", 3, "value", "74")
    sheet["D3"] = 0.74
    workbook.save(tmp_path / "reference.xlsx")
    figure = read_reference(tmp_path / "reference.xlsx").figure("jbjr_verloop", "jb", 2024)
    assert (figure["numerator"], figure["denominator"], figure["interval"]) == (369.0, 450, "wilson")


# ------------------------------------------------------------------------------------------------
# intervals
# ------------------------------------------------------------------------------------------------


def wilson(x, n, z=1.959963984540054):
    """Wilson (1927) score interval written out independently: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = x / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def test_interval_from_numerator_and_denominator_is_the_projects_wilson_interval(tmp_path):
    result, _ = problems_of(tmp_path, [row()])
    figure = result.figure("jbjr_verloop", "jb", "2024")
    assert figure["interval"] == "wilson"
    own = stats.proportion_ci(369, 450)
    assert (figure["ci_low"], figure["ci_high"]) == pytest.approx(own, abs=1e-12)
    # by hand with z = 1.96: centre (369 + 1.9208) / 453.8416 = 0.81729, half 1.96 / 453.8416 * sqrt(66.42 + 0.9604) = 0.03545
    assert (figure["ci_low"], figure["ci_high"]) == pytest.approx(wilson(369, 450), abs=1e-12)
    assert (round(figure["ci_low"], 4), round(figure["ci_high"], 4)) == (0.7818, 0.8527)


def test_interval_follows_the_settings(tmp_path):
    settings = Settings(conf=0.9, ci_method="exact")
    result, _ = problems_of(tmp_path, [row()], settings=settings)
    figure = result.figure("jbjr_verloop", "jb", "2024")
    assert figure["interval"] == "exact" and result.conf == 0.9
    assert (figure["ci_low"], figure["ci_high"]) == pytest.approx(stats.proportion_ci(369, 450, 0.9, "exact"))


def test_without_counts_or_interval_the_interval_is_empty_and_says_so(tmp_path):
    rows = [row(numerator="", denominator=""), row(period="2023", ci_low="0.8", ci_high="0.84"),
            row(indicator="ctx_wachttijd", value="35.5", numerator="3550", denominator="100")]
    result, problems = problems_of(tmp_path, rows)
    assert problems == []
    only_value = result.figure("jbjr_verloop", "jb", "2024")
    assert math.isnan(only_value["ci_low"]) and math.isnan(only_value["ci_high"]) and only_value["interval"] == "none"
    assert result.figure("jbjr_verloop", "jb", "2023")["interval"] == "published"
    mean = result.figure("ctx_wachttijd", "jb", "2024")  # a mean in days: no Wilson interval, no range check
    assert (mean["value"], mean["interval"]) == (35.5, "none") and math.isnan(mean["ci_low"])


# ------------------------------------------------------------------------------------------------
# the API
# ------------------------------------------------------------------------------------------------


def test_figure_sources_periods(tmp_path):
    rows = [row(period="2024H2", numerator="", denominator=""), row(period="2023", source="B"),
            row(period="2024", numerator="", denominator=""), row(period="2024H1", numerator="", denominator="")]
    result, _ = problems_of(tmp_path, rows)
    assert result.periods() == ["2023", "2024", "2024H1", "2024H2"]
    assert result.periods("jbjr_verloop", "jr") == []
    assert result.sources() == ["CBS StatLine (toy)", "B"]
    assert result.indicators() == ["jbjr_verloop"]
    assert result.figure("jbjr_verloop", "jr", "2024") is None
    assert set(result.figure("jbjr_verloop", "jb", "2023")) == set(reference.FIGURE_KEYS)
    with pytest.raises(UnknownIndicatorError, match="jbjr_verlop"):
        result.figure("jbjr_verlop", "jb", "2024")


def test_as_rows_has_the_shape_of_the_national_rows(tmp_path):
    rows = [row(), row(period="2023", numerator="", denominator=""),
            row(indicator="jbjr_herhaald_beroep", value="0.15", numerator="15", denominator="100", window_months="12")]
    result, _ = problems_of(tmp_path, rows, HEADER + ["window_months"])
    out = result.as_rows()
    assert list(out.columns) == list(reference.ROW_COLUMNS)
    assert set(OUTPUT_COLUMNS) - {"missing", "excluded_window"} <= set(out.columns)
    assert out["scope"].eq("reference").all() and out["category"].eq("").all() and out["institution"].eq("").all()
    assert out["suppressed"].dtype == bool and not out["suppressed"].any()
    assert str(out["denominator"].dtype) == "Int64" and str(out["window_months"].dtype) == "Int64"
    assert out["denominator"].tolist()[0] == 450 and pd.isna(out["denominator"].iloc[1])
    assert out["window_months"].tolist()[2] == 12
    assert out["interval"].tolist() == ["wilson", "none", "wilson"]
    assert out["source"].eq("CBS StatLine (toy)").all()
    first = out.iloc[0]
    assert (first["indicator"], first["period"], first["care_type"], first["value"]) == ("jbjr_verloop", "2024", "jb", 0.82)


def test_the_demo_reference_reads_cleanly():
    packaged = resources.files("outcome_analysis").joinpath("data/reference/demo_reference.csv")
    with resources.as_file(packaged) as path:
        result, problems = check_reference(path)
    assert problems == []
    assert len(result) >= 10
    assert all(i.startswith(("jb", "jr")) for i in result.indicators())  # basisset JB/JR
    assert result.periods() == ["2023", "2024"]
    (source,) = result.sources()
    assert "demo" in source and "geen cijfers van het CBS" in source
    rows = result.as_rows()
    assert set(rows["interval"]) == {"wilson", "published", "none"}
