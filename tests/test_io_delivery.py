"""Deliveries as they really arrive: tests of ``outcome_analysis.io`` for files that real suppliers send.

Each test makes its small file in ``tmp_path`` (the one exception is the ``.xls`` fixture, see
``test_xls_delivery_is_read``) and asserts the exact problem (file, row, column, value, kind,
trajectory_id) or the exact value loaded. Rows are counted as a spreadsheet shows them: header row 1,
first data row 2. Every problem a test sees is also rendered in Dutch and English (``complete``).
"""
from __future__ import annotations

import ast
import re
import shutil
import string
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from outcome_analysis import io, problem_texts
from outcome_analysis.contract import parse, readers
from outcome_analysis.errors import DataValidationError

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = ["trajectory_id", "client_id", "institution", "care_type", "care_form", "start_date", "end_date", "end_reason", "birth_year"]
ROWS = [  # rows 2, 3, 4
    ["T1", "C1", "A", "jeugdhulp", "ambulant", "2023-01-10", "2023-06-30", "volgens_plan", "2010"],
    ["T2", "C2", "A", "jb", "ots", "2023-02-01", "", "", "2012"],
    ["T3", "C3", "B", "jr", "tb_gedwongen", "2023-03-01", "2023-09-01", "volgens_plan", "2006"],
]


def csv_text(rows=ROWS, header=HEADER, sep=",") -> str:
    return "".join(sep.join(cells) + "\n" for cells in [header, *rows])


def changed(changes: dict) -> list[list[str]]:
    """ROWS with ``{(row_index, column): value}`` applied."""
    rows = [list(row) for row in ROWS]
    for (i, column), value in changes.items():
        rows[i][HEADER.index(column)] = value
    return rows


def complete(problems):
    """Every problem has a catalogued kind whose Dutch and English templates its params fill."""
    catalogue = problem_texts.catalogue()
    for p in problems:
        assert p.kind in catalogue, p
        names = dict(p.params)
        for lang in ("nl", "en"):
            placeholders = {f[1] for f in string.Formatter().parse(catalogue[p.kind][lang]) if f[1]}
            assert placeholders <= set(names), (p.kind, lang, placeholders - set(names))
            assert p.message(lang) and "{" not in p.message(lang), p
    return problems


def found(path, **kwargs):
    """``validate``'s problems as (file, row, column, value, kind, trajectory_id, severity) tuples."""
    return [(p.file, p.row, p.column, p.value, p.kind, p.trajectory_id, p.severity) for p in complete(io.validate(path, **kwargs))]


# ---------------------------------------------------------------------------
# the catalogue
# ---------------------------------------------------------------------------


def test_every_kind_io_can_emit_is_in_the_catalogue_in_dutch_and_english():
    loader = Path(io.__file__).parent  # io and the steps it runs: readers, parse, deliveries
    source = "\n".join((loader / f"{m}.py").read_text(encoding="utf-8") for m in ("io", "readers", "parse", "deliveries"))
    kinds = set(re.findall(r'kind="([a-z_]+)"', source))
    assert len(kinds) > 40
    # every Problem the loader makes, directly or through add_problem, names its kind (so that the scan finds them all)
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
             and getattr(node.func, "id", None) in ("Problem", "add_problem")]
    assert len(calls) > 40
    assert [node.lineno for node in calls if not any(k.arg in ("kind", None) for k in node.keywords)] == []
    catalogue = problem_texts.catalogue()
    assert sorted(kinds - set(catalogue)) == []
    for kind in kinds:
        templates = catalogue[kind]
        assert set(templates) == {"nl", "en"}, kind
        fields = [{f[1] for f in string.Formatter().parse(templates[lang]) if f[1]} for lang in ("nl", "en")]
        assert fields[0] == fields[1], kind


def test_many_kinds_at_once_render_in_both_languages(tmp_path):
    rows = changed({(0, "care_type"): "zorg", (1, "start_date"): "30-02-2023", (2, "birth_year"): "twee", (2, "client_id"): "",
                    (1, "care_form"): "thuis", (2, "end_reason"): "weg", (0, "end_date"): "2022-01-01"})
    rows.append(["T1", "C4", "A", "jb", "ambulant", "1-1-2023", "", "", "2011"])
    rows = [row + ["x"] for row in rows]
    (tmp_path / "trajectories.csv").write_text(csv_text(rows, HEADER + ["opmerking"]), encoding="utf-8")
    (tmp_path / "goals.csv").write_text("trajectory_id,goal_id,score\nT9,g1,7\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("hallo\n", encoding="utf-8")
    problems = complete(io.validate(tmp_path))
    assert {p.kind for p in problems} >= {
        "code_unknown", "date_impossible", "whole_number_invalid", "required_missing", "care_form_unknown_for_type",
        "end_reason_unknown_for_form", "end_before_start", "id_repeated", "care_form_misfit", "columns_extra",
        "out_of_range", "file_not_contract", "trajectory_unknown",
    }
    assert next(p for p in problems if p.kind == "care_form_unknown_for_type").message("nl") == (
        "een zorgvorm van jeugdbescherming (jb): vots (12), ots (11), voogdij (21, 22, 23)"
    )


# ---------------------------------------------------------------------------
# 1. Excel formulas without a stored result
# ---------------------------------------------------------------------------


def workbook(path, rows, header=HEADER):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_formula_without_stored_result_is_an_error_naming_cell_and_formula(tmp_path):
    rows = changed({(0, "start_date"): "=DATE(2023,1,10)", (2, "institution"): '=UPPER("b")'})
    path = workbook(tmp_path / "trajectories.xlsx", rows)
    assert found(path) == [
        ("trajectories.xlsx", 2, "start_date", "=DATE(2023,1,10)", "formula_without_value", "T1", "error"),
        ("trajectories.xlsx", 4, "institution", '=UPPER("b")', "formula_without_value", "T3", "error"),
    ]  # and no "a value is required" for the same cells
    problem = io.validate(path)[0]
    assert "open and save the file in Excel or LibreOffice" in problem.expected
    # the formula is the problem's value; the message is the same for every such cell, so the
    # validator shows it (with its remedy) once per group
    assert problem.message("nl") == io.validate(path)[1].message("nl")
    assert problem.message("nl").startswith("een waarde; de cel bevat een formule zonder opgeslagen uitkomst")
    assert "sla het op" in problem.message("nl")


def test_xlsx_formula_with_a_stored_result_is_read(tmp_path):
    rows = changed({(0, "birth_year"): "=2000+10", (1, "end_reason"): '=""'})
    path = workbook(tmp_path / "trajectories.xlsx", rows)
    with zipfile.ZipFile(path) as archive:  # store the results, as Excel or LibreOffice would
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    # openpyxl writes an empty result as <v /> or <v></v> (with lxml installed)
    sheet = re.sub(r"<f>2000\+10</f><v\s*(?:/>|></v>)", "<f>2000+10</f><v>2010</v>", sheet)
    sheet = re.sub(r'<c r="H3"><f>""</f><v\s*(?:/>|></v>)', '<c r="H3" t="str"><f>""</f><v></v>', sheet)
    assert "<v>2010</v>" in sheet and '<c r="H3" t="str">' in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    data = io.load(path)
    assert data.trajectories["birth_year"].tolist() == [2010, 2012, 2006]
    assert data.warnings == []


def test_formula_cells_are_found_in_the_sheet_xml_as_other_writers_write_it(tmp_path):
    # cells and rows without a reference, a shared formula, and a formula whose result is the empty text
    xml = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           '<row><c t="inlineStr"><is><t>a</t></is></c><c><f>1+1</f></c></row>'
           '<row r="4"><c><v>1</v></c><c r="C4"><f t="shared" si="0" ref="C4:C5">A4*2</f><v/></c></row>'
           '<row><c/><c/><c r="C5"><f t="shared" si="0"/></c><c t="str"><f>""</f><v></v></c><c><f>2</f><v>2</v></c></row>'
           '</sheetData></worksheet>')
    path = tmp_path / "sheet.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", xml)
    assert readers._formulas_without_value(path, "xl/worksheets/sheet1.xml") == [(1, 2, "=1+1"), (4, 3, "=A4*2"), (5, 3, "=A4*2")]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", xml.replace("<f", "<x").replace("</f>", "</x>"))
    assert readers._formulas_without_value(path, "xl/worksheets/sheet1.xml") == []


# ---------------------------------------------------------------------------
# 2. a UTF-8 CSV with some rows in cp1252
# ---------------------------------------------------------------------------


def test_utf8_csv_with_some_cp1252_rows_is_read_row_by_row_with_one_warning(tmp_path):
    lines = [",".join(HEADER)]
    lines.append("T1,C1,Cliënt & Co,jeugdhulp,ambulant,2023-01-10,2023-06-30,volgens_plan,2010")  # row 2, UTF-8
    lines.append('T2,C2,"Zorg\nNoord",jb,ots,2023-02-01,,,2012')  # row 3 spans two lines
    lines.append("T3,C3,Cliënt & Co,jr,tb_gedwongen,2023-03-01,2023-09-01,volgens_plan,2006")  # row 4, cp1252
    lines.append("T4,C4,Cliënt & Co,jeugdhulp,ambulant,2023-03-01,,,2006")  # row 5, UTF-8
    content = b"".join((line + "\n").encode("cp1252" if line.startswith("T3") else "utf-8") for line in lines)
    path = tmp_path / "trajectories.csv"
    path.write_bytes(content)
    assert found(path) == [("trajectories.csv", None, None, "Cliënt & Co", "encoding_mixed", None, "warning")]
    problem = io.validate(path)[0]
    assert dict(problem.params) == {"count": 1, "rows": "4", "example": "Cliënt & Co"}
    data = io.load(path)
    assert data.trajectories["institution"].tolist() == ["Cliënt & Co", "Zorg\nNoord", "Cliënt & Co", "Cliënt & Co"]


def test_cp1252_rows_found_late_in_a_large_utf8_file(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_CSV_BLOCK_BYTES", 512)  # the first blocks are clean UTF-8
    rows = [[f"T{i}", f"C{i}", "Zoë" if i % 2 else "A", "jeugdhulp", "ambulant", "2023-01-10", "", "", "2010"] for i in range(60)]
    rows[50][2] = rows[57][2] = "Zoë"
    lines = [csv_text(rows[:50]).encode("utf-8")]
    lines += [(",".join(row) + "\n").encode("cp1252" if i in (50, 57) else "utf-8") for i, row in enumerate(rows[50:], start=50)]
    path = tmp_path / "trajectories.csv"
    path.write_bytes(b"".join(lines))
    problems = complete(io.validate(path))
    assert [(p.kind, dict(p.params)["rows"]) for p in problems] == [("encoding_mixed", "52, 59")]
    assert set(io.load(path).trajectories["institution"]) == {"A", "Zoë"}


def test_cp1252_rows_after_a_separator_hint_and_a_row_that_is_neither(tmp_path):
    path = tmp_path / "trajectories.csv"
    text = "sep=;\n" + csv_text(changed({(0, "institution"): "Zoë"}), sep=";")
    content = text.encode("utf-8").replace(b"T2;C2;A", "T2;C2;Zoë".encode("cp1252"))
    path.write_bytes(content)
    assert found(path) == [("trajectories.csv", None, None, "Zoë", "encoding_mixed", None, "warning")]
    assert dict(io.validate(path)[0].params)["rows"] == "3"
    path.write_bytes(content.replace(b"T3;C3;B", b"T3;C3;\x81B"))  # 0x81 is no character in cp1252 either
    assert found(path) == [("trajectories.csv", 4, None, "T3;C3;\ufffdB;jr;tb_gedwongen;2023-03-01;2023-09-01;volgens_plan;2006",
                            "encoding_unknown_row", "T3", "error")]


def test_a_csv_entirely_in_cp1252_is_read_as_cp1252_without_a_remark(tmp_path):
    path = tmp_path / "trajectories.csv"
    path.write_bytes(csv_text(changed({(0, "institution"): "Cliënt", (2, "institution"): "Één"}), sep=";").encode("cp1252"))
    data = io.load(path)
    assert data.trajectories["institution"].tolist() == ["Cliënt", "A", "Één"]
    assert data.warnings == []


# ---------------------------------------------------------------------------
# 3. Unicode normalisation forms
# ---------------------------------------------------------------------------


def test_text_in_two_unicode_forms_is_one_text_with_a_warning_across_files(tmp_path):
    composed = unicodedata.normalize("NFC", "Cliënt")
    decomposed = unicodedata.normalize("NFD", "Cliënt")
    assert composed != decomposed
    (tmp_path / "trajectories_a.csv").write_text(csv_text(changed({(0, "institution"): composed})), encoding="utf-8")
    b_rows = [["T7", "C7", decomposed, "jeugdhulp", "ambulant", "2023-10-01", "", "", "2010"],
              ["T8", "C8", "B", "jeugdhulp", "ambulant", "2023-10-01", "", "", "2010"],
              ["T9" + decomposed, "C9", decomposed, "jeugdhulp", "ambulant", "2023-10-01", "", "", "2010"]]
    (tmp_path / "trajectories_b.csv").write_text(csv_text(b_rows), encoding="utf-8")
    (tmp_path / "goals_b.csv").write_text(f"trajectory_id,goal_id,score\nT9{composed},g1,1\n", encoding="utf-8")
    assert found(tmp_path) == [("trajectories_b.csv", None, "institution", composed, "unicode_forms_mixed", None, "warning")]
    problem = io.validate(tmp_path)[0]
    assert dict(problem.params) == {"value": composed, "count": 2, "rows": "2, 4"}
    data = io.load(tmp_path)
    assert sorted(set(data.trajectories["institution"])) == ["A", "B", composed]
    assert data.goals["trajectory_id"].tolist() == ["T9" + composed]  # the goal found its trajectory


def test_decomposed_text_alone_is_normalised_without_a_remark(tmp_path):
    path = tmp_path / "trajectories.csv"
    path.write_text(csv_text(changed({(1, "institution"): unicodedata.normalize("NFD", "Zoë")})), encoding="utf-8")
    data = io.load(path)
    assert data.trajectories.loc[1, "institution"] == unicodedata.normalize("NFC", "Zoë")
    assert data.warnings == []


# ---------------------------------------------------------------------------
# 4. .xls, .ods and other files in a delivery folder
# ---------------------------------------------------------------------------


def test_xls_delivery_is_read(tmp_path):
    # tests/fixtures/trajectories.xls was written once with xlwt 1.3.0 (installed apart, not a project
    # dependency; xlrd only reads): header, row 2 with Excel dates, row 3 blank, row 4 with a CBS care
    # form as a number and a date with a time of day, row 5 with dates as text (01-09-2023 ends it).
    folder = tmp_path / "levering"
    folder.mkdir()
    shutil.copy(FIXTURES / "trajectories.xls", folder / "trajectories.xls")
    data = io.load(folder)
    t = data.trajectories
    assert t["trajectory_id"].tolist() == ["T1", "T2", "T3"]
    assert t["institution"].tolist() == ["Zorg Één", "GI Noord", "GI Noord"]
    assert t["care_form"].astype(str).tolist() == ["ambulant", "ots", "tb_gedwongen"]
    assert t["start_date"].tolist() == [pd.Timestamp("2023-01-10"), pd.Timestamp("2023-02-01"), pd.Timestamp("2023-03-01")]
    assert t["end_reason"].tolist()[::2] == ["volgens_plan", "volgens_plan"] and pd.isna(t.loc[1, "end_reason"])
    assert t["birth_year"].tolist() == [2010, 2012, 2006]
    # sheet rows, counting the blank row 3
    assert found(folder, reference_date="2023-08-31") == [
        ("trajectories.xls", 5, "end_date", "01-09-2023", "date_after_reference", "T3", "error")
    ]


def test_ods_delivery_is_read_with_sheet_row_numbers(tmp_path):
    cells = pd.DataFrame(
        [HEADER,
         ["T1", "C1", "A", "jeugdhulp", "ambulant", pd.Timestamp("2023-01-10"), pd.Timestamp("2023-06-30 14:00"), "volgens_plan", 2010],
         [None] * len(HEADER),
         ["T2", "C2", "A", "jb", 11, pd.Timestamp("2023-02-01"), None, None, 2012],
         ["T3", "C3", "NA", "jx", "tb_gedwongen", "01-03-2023", None, None, 2006]],
    )
    path = tmp_path / "trajectories.ods"
    cells.to_excel(path, engine="odf", header=False, index=False)
    assert found(path) == [("trajectories.ods", 5, "care_type", "jx", "code_unknown", "T3", "error")]
    path_ok = tmp_path / "ok" / "trajectories_2023.ods"
    path_ok.parent.mkdir()
    cells.iloc[:4].to_excel(path_ok, engine="odf", header=False, index=False)
    t = io.load(path_ok.parent).trajectories
    assert t["end_date"].tolist()[0] == pd.Timestamp("2023-06-30")
    assert t["care_form"].astype(str).tolist() == ["ambulant", "ots"]


def test_goals_may_come_as_an_ods_file_too(tmp_path):
    (tmp_path / "trajectories.csv").write_text(csv_text(), encoding="utf-8")
    pd.DataFrame([["trajectory_id", "goal_id", "score"], ["T1", "g1", 1.5], ["T2", "g1", -1]]).to_excel(
        tmp_path / "goals.ods", engine="odf", header=False, index=False)
    data = io.load(tmp_path)
    assert data.goals["score"].tolist() == [1.5, -1.0]
    assert [p.name for p in data.sources] == ["trajectories.csv", "goals.ods"]


def test_a_table_file_in_another_format_or_unreadable_is_an_error_naming_the_accepted_formats(tmp_path):
    (tmp_path / "trajectories.csv").write_text(csv_text(), encoding="utf-8")
    (tmp_path / "trajectories_2024.json").write_text("{}", encoding="utf-8")
    (tmp_path / "goals.docx").write_bytes(b"PK\x03\x04 a word document")
    (tmp_path / "experience.xls").write_bytes(b"this is no workbook at all" * 10)
    problems = complete(io.validate(tmp_path))
    assert [(p.file, p.kind, p.severity) for p in problems] == [
        ("goals.docx", "file_format_unknown", "error"),
        ("trajectories_2024.json", "file_format_unknown", "error"),
        ("experience.xls", "workbook_unreadable", "error"),
    ]
    by_file = {p.file: p for p in problems}
    assert dict(by_file["goals.docx"].params)["extension"] == ".docx"
    for p in problems:
        assert ".csv, .txt, .tsv, .parquet, .pq, .xlsx, .xlsm, .xls, .ods" in p.message("nl")


def test_other_files_in_a_delivery_folder(tmp_path):
    (tmp_path / "trajectories.csv").write_text(csv_text(), encoding="utf-8")
    for name in ("README.md", "referentie_cbs.csv", "settings.yaml", "settings.yml", "actions.csv", "actions_2024.xlsx",
                 ".hidden.csv", "~$trajectories.xlsx", "demo_truth.csv"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    assert found(tmp_path) == [
        ("README.md", None, None, None, "file_not_contract", None, "warning"),
        ("referentie_cbs.csv", None, None, None, "file_not_contract", None, "warning"),
    ]
    assert [p.name for p in io.load(tmp_path).sources] == ["trajectories.csv"]


# ---------------------------------------------------------------------------
# 5. dates from timestamps
# ---------------------------------------------------------------------------


def test_parquet_timestamps_with_a_time_zone_are_dates_in_amsterdam(tmp_path):
    utc = pa.timestamp("ns", tz="UTC")
    table = pa.table({
        "trajectory_id": ["T1", "T2"], "client_id": ["C1", "C2"], "institution": ["A", "A"],
        "care_type": ["jeugdhulp", "jeugdhulp"], "care_form": ["ambulant", "ambulant"],
        # midnight in Amsterdam: 23:00 UTC in winter, 22:00 UTC in summer
        "start_date": pa.array([pd.Timestamp("2023-12-31T23:00Z").value, pd.Timestamp("2024-03-30T23:00Z").value], utc),
        "end_date": pa.array([pd.Timestamp("2024-06-29T22:00Z").value, None], utc),
        "registration_date": pa.array([pd.Timestamp("2023-12-01 13:45").value, None], pa.timestamp("ns")),  # naive, a time of day
        "end_reason": ["volgens_plan", None], "birth_year": [2010, 2011],
    })
    pq.write_table(table, tmp_path / "trajectories.parquet")
    t = io.load(tmp_path).trajectories
    assert t["start_date"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-03-31")]
    assert t["end_date"].tolist()[0] == pd.Timestamp("2024-06-30")
    assert t["registration_date"].tolist()[0] == pd.Timestamp("2023-12-01")
    assert t["start_date"].dtype == "datetime64[ns]"


def test_excel_datetimes_with_a_time_of_day_are_their_date(tmp_path):
    rows = changed({})
    rows[0][5] = pd.Timestamp("2023-01-10 16:30").to_pydatetime()
    t = io.load(workbook(tmp_path / "trajectories.xlsx", rows)).trajectories
    assert t.loc[0, "start_date"] == pd.Timestamp("2023-01-10")


# ---------------------------------------------------------------------------
# 6. several deliveries: ordered by content
# ---------------------------------------------------------------------------


def test_deliveries_are_ordered_by_the_latest_date_they_contain_not_by_name(tmp_path):
    old = [["T1", "C1", "A", "jeugdhulp", "ambulant", "2023-01-10", "", "", "2010"],
           ["T2", "C2", "A", "jeugdhulp", "ambulant", "2023-02-01", "2023-12-31", "volgens_plan", "2012"]]
    new = [["T1", "C1", "A", "jeugdhulp", "ambulant", "2023-01-10", "2024-06-30", "voortijdig_client", "2010"]]
    older, newer = "trajectories levering 31-12-2023.csv", "trajectories levering 30-06-2024.csv"  # names sort against content
    (tmp_path / older).write_text(csv_text(old), encoding="utf-8")
    (tmp_path / newer).write_text(csv_text(new), encoding="utf-8")
    (tmp_path / "goals levering 31-12-2023.csv").write_text("trajectory_id,goal_id,score\nT1,oud,1\n", encoding="utf-8")
    (tmp_path / "goals levering 30-06-2024.csv").write_text("trajectory_id,goal_id,score\nT1,nieuw,2\n", encoding="utf-8")
    problems = complete(io.validate(tmp_path))
    order = next(p for p in problems if p.kind == "delivery_order")
    assert (order.file, order.severity) == (newer, "warning")
    assert dict(order.params) == {"file": newer, "latest": "30-06-2024", "other": older, "other_latest": "31-12-2023"}
    data = io.load(tmp_path)
    t = data.trajectories.set_index("trajectory_id")
    assert t.loc["T1", "end_reason"] == "voortijdig_client"  # the record of the delivery with the later content
    assert data.goals["goal_id"].tolist() == ["nieuw"]  # goals follow their trajectories delivery


def test_deliveries_without_a_common_trajectory_need_no_remark_on_their_order(tmp_path):
    (tmp_path / "trajectories_instelling_a.csv").write_text(csv_text(ROWS[2:]), encoding="utf-8")  # latest 01-09-2023
    (tmp_path / "trajectories_instelling_b.csv").write_text(csv_text(ROWS[:2]), encoding="utf-8")  # latest 30-06-2023
    assert io.load(tmp_path).warnings == []


def test_equal_latest_dates_with_conflicting_records_are_an_error(tmp_path):
    a = changed({})
    b = changed({(1, "institution"): "B", (1, "birth_year"): "2013"})[1:]  # T2 differs; T3 the same
    (tmp_path / "trajectories_a.csv").write_text(csv_text(a), encoding="utf-8")
    (tmp_path / "trajectories_b.csv").write_text(csv_text(b), encoding="utf-8")
    problems = complete(io.validate(tmp_path))
    errors = [p for p in problems if p.severity == "error"]
    assert [(p.file, p.row, p.column, p.value, p.kind, p.trajectory_id) for p in errors] == [
        ("trajectories_a.csv", 3, "trajectory_id", "T2", "delivery_conflict", "T2"),
    ]
    assert dict(errors[0].params) == {"other": "trajectories_b.csv", "other_row": 2, "latest": "01-09-2023",
                                      "columns": "institution, birth_year"}


def test_equal_latest_dates_with_the_same_records_are_fine(tmp_path):
    (tmp_path / "trajectories_a.csv").write_text(csv_text(), encoding="utf-8")
    (tmp_path / "trajectories_b.csv").write_text(csv_text(ROWS[1:]), encoding="utf-8")
    data = io.load(tmp_path)
    assert len(data.trajectories) == 3
    assert [w for w in data.warnings if "replaced" not in w] == []


# ---------------------------------------------------------------------------
# 7. Excel's separator hint
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [";", ",", "\t"], ids=["semicolon", "comma", "tab"])
def test_excel_separator_hint_is_honoured_and_not_counted_as_a_row(tmp_path, sep):
    path = tmp_path / "trajectories.csv"
    path.write_text(f"sep={sep}\n" + csv_text(changed({(1, "care_type"): "jx"}), sep=sep), encoding="utf-8")
    assert found(path) == [("trajectories.csv", 3, "care_type", "jx", "code_unknown", "T2", "error")]


def test_separator_hint_and_a_row_with_too_many_fields(tmp_path):
    rows = changed({})
    rows[2].append("extra")  # row 4
    path = tmp_path / "trajectories.csv"
    path.write_text('"sep=;"\n' + csv_text(rows, sep=";"), encoding="utf-8")
    assert found(path) == [("trajectories.csv", 4, None, ";".join(rows[2]), "field_count", "T3", "error")]


# ---------------------------------------------------------------------------
# 8. every problem at once, also with a required column missing
# ---------------------------------------------------------------------------


def test_a_missing_required_column_does_not_hide_the_other_problems(tmp_path):
    header = [h for h in HEADER if h not in ("birth_year", "care_form")]
    rows = [[cell for h, cell in zip(HEADER, row) if h in header] for row in
            changed({(1, "start_date"): "gisteren", (2, "end_reason"): "weg", (0, "end_reason"): "07"})]
    path = tmp_path / "trajectories.csv"
    path.write_text(csv_text(rows, header), encoding="utf-8")
    assert found(path) == [
        ("trajectories.csv", 1, "care_form", None, "column_missing", None, "error"),
        ("trajectories.csv", 1, "birth_year", None, "column_missing", None, "error"),
        ("trajectories.csv", 3, "start_date", "gisteren", "date_invalid", "T2", "error"),
        # without care_form the end reason is checked against its care type; "07" cannot be read without it
        ("trajectories.csv", 4, "end_reason", "weg", "end_reason_unknown_for_type", "T3", "error"),
    ]
    with pytest.raises(DataValidationError):
        io.load(path)


# ---------------------------------------------------------------------------
# 9. dates that do not exist
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind",
    [("31-02-2024", "date_impossible"), ("2024-02-30", "date_impossible"), ("29-02-2023", "date_impossible"),
     ("2023-04-31", "date_impossible"), ("31.12.2023", "date_invalid"), ("12-31-2023", "date_invalid"),
     ("gisteren", "date_invalid"), ("2023-13-01", "date_invalid")],
)
def test_a_date_that_does_not_exist_is_said_to_not_exist(tmp_path, text, kind):
    path = tmp_path / "trajectories.csv"
    path.write_text(csv_text(changed({(0, "start_date"): text})), encoding="utf-8")
    assert found(path) == [("trajectories.csv", 2, "start_date", text, kind, "T1", "error")]


def test_29_february_of_a_leap_year_is_a_date(tmp_path):
    path = tmp_path / "trajectories.csv"
    path.write_text(csv_text(changed({(0, "start_date"): "29-02-2020"})), encoding="utf-8")
    assert io.load(path).trajectories.loc[0, "start_date"] == pd.Timestamp("2020-02-29")


# ---------------------------------------------------------------------------
# 10. the codes of the row's care type
# ---------------------------------------------------------------------------


def test_unknown_codes_list_the_codes_of_the_rows_care_type(tmp_path):
    rows = changed({(1, "care_form"): "ots_plus", (2, "care_type"): "jz", (2, "care_form"): "tb"})
    rows.append(["T4", "C4", "A", "jb", "voogdij", "2023-02-01", "2023-05-01", "naar_huis", "2012"])  # row 5
    rows.append(["T5", "C5", "A", "jr", "xx", "2023-02-01", "2023-05-01", "klaar", "2012"])  # row 6
    path = tmp_path / "trajectories.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    problems = complete(io.validate(path))
    got = {(p.row, p.column): p for p in problems}
    assert [(p.row, p.column, p.kind) for p in problems] == [
        (3, "care_form", "care_form_unknown_for_type"),
        (4, "care_type", "code_unknown"),
        (4, "care_form", "care_form_unknown"),
        (5, "end_reason", "end_reason_unknown_for_form"),
        (6, "care_form", "care_form_unknown_for_type"),
        (6, "end_reason", "end_reason_unknown_for_type"),
    ]
    assert got[3, "care_form"].expected == "a care form of jb: vots (12), ots (11), voogdij (21, 22, 23)"
    assert got[4, "care_form"].message("nl").startswith("een zorgvorm: ambulant, daghulp, pleegzorg, verblijf, vots,")
    assert got[5, "end_reason"].message("nl") == (
        "een reden van beëindiging bij zorgvorm voogdij: meerderjarig (11), naar_pleegouder (12), naar_burgervoogd (13), "
        "herstel_gezag (14), overleden (15), onbekend (99)"
    )
    assert got[6, "care_form"].message("nl") == (
        "een zorgvorm van jeugdreclassering (jr): tb_gedwongen (41), tb_vrijwillig (42), itb_harde_kern (50), "
        "itb_criem (51), stp (61), gbm (62), jr_overig (63)"
    )
    assert dict(got[6, "end_reason"].params)["reasons"].startswith("volgens_plan (21), tussentijdse_opheffing (22)")


# ---------------------------------------------------------------------------
# every row problem names its trajectory
# ---------------------------------------------------------------------------


def test_every_row_problem_carries_the_rows_trajectory_id(tmp_path):
    rows = changed({(0, "trajectory_id"): "  T1 "})
    header = HEADER + ["sex"]
    rows = [row + [sex] for row, sex in zip(rows, ["q", "", "m"])]
    rows[2][HEADER.index("end_date")] = "2023-02-01"  # before its start
    (tmp_path / "trajectories.csv").write_text(csv_text(rows, header), encoding="utf-8")
    (tmp_path / "experience.csv").write_text("trajectory_id,informant,score\nT2,buurman,8\nX9,ouder,8\n", encoding="utf-8")
    problems = complete(io.validate(tmp_path))
    assert [(p.file, p.row, p.column, p.trajectory_id) for p in problems] == [
        ("trajectories.csv", 2, "sex", "T1"),
        ("trajectories.csv", 4, "end_date", "T3"),
        ("experience.csv", 2, "informant", "T2"),
        ("experience.csv", 3, "trajectory_id", "X9"),
    ]


def test_problems_without_a_trajectory_id_column_have_none(tmp_path):
    header = [h for h in HEADER if h != "trajectory_id"]
    rows = [row[1:] for row in changed({(0, "care_type"): "zorg"})]
    path = tmp_path / "trajectories.csv"
    path.write_text(csv_text(rows, header), encoding="utf-8")
    assert found(path) == [
        ("trajectories.csv", 1, "trajectory_id", None, "column_missing", None, "error"),
        ("trajectories.csv", 2, "care_type", "zorg", "code_unknown", None, "error"),
    ]


def test_the_utf8_validation_agrees_with_python(tmp_path):
    rng = np.random.default_rng(1)
    samples = [b"caf\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xc3", b"\xe0\x80\x80", b"\xed\xa0\x80",
               b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe9", b"\x80", b"\xef\xbb\xbf"]
    for _ in range(200):
        data = b"".join(rng.choice(samples, size=5)) + bytes(rng.integers(0, 256, size=6, dtype=np.uint8))
        invalid, _ = readers._utf8_invalid(np.frombuffer(data, dtype=np.uint8))
        assert (len(invalid) == 0) == _valid_utf8(data), data


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_non_ascii_values_are_found_from_the_bytes_as_the_per_value_kernel_finds_them():
    import pyarrow.compute as pc

    rng = np.random.default_rng(2)
    words = np.array(["a", "bc", "é", "Zoë", "", "xyz", "ü-1", "Cliënt"], dtype=object)
    values = [None if rng.random() < 0.1 else str(w) for w in rng.choice(words, size=300)]
    for typ in (pa.string(), pa.large_string()):
        array = pa.array(values, typ)
        for candidate in (array, array.slice(17, 200), pa.chunked_array([array.slice(0, 50), array.slice(120)])):
            expected = np.flatnonzero(~pc.fill_null(pc.string_is_ascii(candidate), True).to_numpy(zero_copy_only=False))
            assert parse._non_ascii_positions(candidate).tolist() == expected.tolist()


def test_goals_of_a_trajectories_file_rejected_for_a_missing_column_are_not_reported_again(tmp_path):
    """The missing column is the one error: its trajectories' goals are not also 'unknown trajectory'."""
    (tmp_path / "trajectories.csv").write_text(
        "trajectory_id;client_id;institution;care_type;care_form;start_date;end_date;end_reason\n"
        "T1;C1;A;jb;ots;01-02-2023;31-12-2023;meerderjarig\n",
        encoding="utf-8",
    )
    (tmp_path / "goals.csv").write_text("trajectory_id;goal_id;score\nT1;G1;1\nT9;G2;1\n", encoding="utf-8")
    problems = [p for p in io.validate(tmp_path) if p.severity == "error"]
    assert [(p.file, p.column, p.kind) for p in problems] == [
        ("trajectories.csv", "birth_year", "column_missing"),
        ("goals.csv", "trajectory_id", "trajectory_unknown"),  # T9 is in no file at all
    ]
    assert problems[1].row == 3 and problems[1].value == "T9"


def test_an_xlsx_workbook_named_xls_is_read(tmp_path):
    """Exporters name .xlsx workbooks .xls; the content decides, as Excel does."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["trajectory_id", "client_id", "institution", "care_type", "care_form", "start_date", "end_date",
                  "end_reason", "birth_year"])
    sheet.append(["T1", "C1", "Cliënt", "jb", "ots", "01-02-2023", "31-12-2023", "meerderjarig", 2010])
    book.save(tmp_path / "trajectories.xls")
    data = io.load(tmp_path)
    assert data.trajectories["institution"].tolist() == ["Cliënt"]
    assert str(data.trajectories["end_date"].iloc[0].date()) == "2023-12-31"


def test_a_corrupt_xls_is_said_in_dutch_first(tmp_path):
    (tmp_path / "trajectories.xls").write_bytes(b"\xd0\xcf\x11\xe0 not really a workbook" * 40)
    [problem] = [p for p in io.validate(tmp_path) if p.severity == "error"]
    assert problem.kind == "workbook_unreadable"
    assert problem.message("nl").startswith("een leesbare werkmap (.xls); het bestand is beschadigd of geen .xls-werkmap")
