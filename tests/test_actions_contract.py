"""The ``actions`` table of the contract: reading and checking (read_actions) and the dialogue record
(dialogue_record) that comes back filled in as the next delivery's actions."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from outcome_analysis.contract.actions import (
    ACTION_COLUMNS, EXTRA_ROWS, STATUSES, dialogue_record, read_actions, record_file_name,
)
from outcome_analysis.errors import UnknownIndicatorError
from outcome_analysis.indicators import registry

WISSEL = "Jeugdzorg De Wissel"
RANDSTAD = "Jeugdbescherming Randstad Midden"
INSTITUTIONS = [WISSEL, RANDSTAD]
HEADER = ";".join(ACTION_COLUMNS)


def write_csv(folder, name, lines, encoding="utf-8"):
    path = folder / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def facts(problems):
    return [(p.file, p.row, p.column, p.value, p.kind, p.severity) for p in problems]


def test_every_problem_names_file_row_column_and_value(tmp_path):
    write_csv(tmp_path, "actions.csv", [
        HEADER + ";remark",
        f"{WISSEL};jh_uitval;14-03-2023;Intake anders;Teamleider;lopend;14-09-2023;x",       # 2: good
        f"{WISSEL};jh_bestaat_niet;14-03-2023;Iets;;;;",                                       # 3: indicator
        f"Jeugdzorg Elders;jh_uitval;14-03-2023;Iets;;;;",                                    # 4: institution
        f"{WISSEL};jh_uitval;31-02-2023;Iets;;;;",                                            # 5: impossible date
        f"{WISSEL};jh_uitval;14-03-2023;Iets;;bezig;;",                                       # 6: status
        f"{WISSEL};jh_uitval;;Iets;;;;",                                                      # 7: agreed_on empty
        f"{WISSEL};jh_uitval;01-05-2023;;;lopend;;",                                          # 8: description empty
        f"{WISSEL};jh_uitval;01-06-2023;Later kijken;;;volgende week;",                       # 9: review_on
        f"{WISSEL};jh_uitval;01-07-2023;Terug in de tijd;;;01-01-2023;",                      # 10: review before
        f"{WISSEL};jh_uitval;14-03-2023;Intake anders;;;;",                                   # 11: repeat of row 2
        f"{WISSEL};jh_tevredenheid;;;;;;",                                                    # 12: untouched, skipped
    ])
    actions, problems = read_actions(tmp_path, institutions=INSTITUTIONS)
    assert facts(problems) == [
        ("actions.csv", 1, "remark", None, "action_column_unknown", "warning"),
        ("actions.csv", 7, "agreed_on", None, "action_value_missing", "error"),
        ("actions.csv", 8, "description", None, "action_value_missing", "error"),
        ("actions.csv", 3, "indicator", "jh_bestaat_niet", "action_indicator_unknown", "error"),
        ("actions.csv", 4, "institution", "Jeugdzorg Elders", "action_institution_unknown", "error"),
        ("actions.csv", 6, "status", "bezig", "action_status_invalid", "error"),
        ("actions.csv", 5, "agreed_on", "31-02-2023", "action_date_invalid", "error"),
        ("actions.csv", 9, "review_on", "volgende week", "action_date_invalid", "error"),
        ("actions.csv", 10, "review_on", "01-01-2023", "action_review_before_agreed", "warning"),
        ("actions.csv", 11, "description", "Intake anders", "action_repeated", "warning"),
    ]
    assert actions["row"].tolist() == [2, 10]  # the errors and the repeat left out, warnings kept
    for problem in problems:  # every kind has its Dutch and English text, all placeholders filled
        assert problem.message("en") == problem.expected and "{" not in problem.expected
        assert problem.message("nl") != problem.expected and "{" not in problem.message("nl")
    by_kind = {p.kind: p for p in problems}
    assert "gepland, lopend, afgerond, gestopt" in by_kind["action_status_invalid"].message("nl")
    assert "rij 2" in by_kind["action_repeated"].message("nl")
    assert "01-07-2023" in by_kind["action_review_before_agreed"].message("nl")


def test_without_institutions_any_name_is_read(tmp_path):
    write_csv(tmp_path, "actions.csv", [HEADER, "Jeugdzorg Elders;jh_uitval;2023-03-14;Iets;;;"])
    actions, problems = read_actions(tmp_path)
    assert problems == [] and actions["institution"].tolist() == ["Jeugdzorg Elders"]


def test_missing_columns_stop_the_file(tmp_path):
    write_csv(tmp_path, "actions.csv", ["institution;indicator;description", f"{WISSEL};jh_uitval;Iets"])
    actions, problems = read_actions(tmp_path)
    assert facts(problems) == [("actions.csv", 1, "agreed_on", None, "action_column_missing", "error")]
    assert actions.empty and list(actions.columns) == [*ACTION_COLUMNS, "file", "row"]


def test_no_actions_file_no_problem_and_missing_path_a_problem(tmp_path):
    (tmp_path / "trajectories.csv").write_text("trajectory_id\n1\n", encoding="utf-8")
    actions, problems = read_actions(tmp_path)
    assert actions.empty and problems == []
    actions, problems = read_actions(tmp_path / "nowhere")
    assert [p.kind for p in problems] == ["path_missing"] and actions.empty


def test_dutch_iso_and_excel_dates(tmp_path):
    write_csv(tmp_path, "actions-a.csv", [
        HEADER,
        f"{WISSEL};jh_uitval;14-03-2023;Nederlands;;;1-9-2023",
        f"{WISSEL};JH_TEVREDENHEID;2023-03-15;ISO, id in hoofdletters;;Lopend;2023/09/15",
        f"{WISSEL};jh_uitval;16/03/2023;Schuine strepen;;;16.09.2023",
    ], encoding="cp1252")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(ACTION_COLUMNS))
    sheet.append([RANDSTAD, "jbjr_herhaald_beroep", dt.date(2023, 4, 11), "Datumcel", None, None, 45214])
    sheet.append([RANDSTAD, "jbjr_verloop", dt.datetime(2023, 4, 12, 0, 0), "Datum en tijd", None, None, None])
    book.save(tmp_path / "actions-b.xlsx")
    actions, problems = read_actions(tmp_path, institutions=INSTITUTIONS)
    assert problems == []
    got = {r.description: (r.agreed_on, r.review_on) for r in actions.itertuples()}
    ts = pd.Timestamp
    assert got == {
        "Nederlands": (ts("2023-03-14"), ts("2023-09-01")),
        "ISO, id in hoofdletters": (ts("2023-03-15"), ts("2023-09-15")),
        "Schuine strepen": (ts("2023-03-16"), ts("2023-09-16")),
        "Datumcel": (ts("2023-04-11"), ts("2023-10-15")),  # 45214 is an Excel serial day: 15 October 2023
        "Datum en tijd": (ts("2023-04-12"), pd.NaT),
    }
    assert set(actions["indicator"]) == {"jh_uitval", "jh_tevredenheid", "jbjr_herhaald_beroep", "jbjr_verloop"}
    assert actions.loc[actions["description"] == "ISO, id in hoofdletters", "status"].tolist() == ["lopend"]
    # sorted by institution, agreed_on, row; dtypes as promised
    assert actions["description"].tolist() == [
        "Datumcel", "Datum en tijd", "Nederlands", "ISO, id in hoofdletters", "Schuine strepen"]
    assert str(actions["agreed_on"].dtype) == "datetime64[ns]" and str(actions["review_on"].dtype) == "datetime64[ns]"
    assert all(str(actions[c].dtype) == "string" for c in ("institution", "indicator", "description", "owner",
                                                           "status", "file"))
    assert actions["row"].dtype == "int64"


def test_a_serial_number_in_a_csv_is_not_a_date(tmp_path):
    write_csv(tmp_path, "actions.csv", [HEADER, f"{WISSEL};jh_uitval;45214;Getal;;;"])
    actions, problems = read_actions(tmp_path)
    assert facts(problems) == [("actions.csv", 2, "agreed_on", "45214", "action_date_invalid", "error")]


def test_markup_in_a_description_is_kept_as_text(tmp_path):
    markup = "<b>Vet</b> & <script>alert('x')</script> ../../etc/passwd"
    write_csv(tmp_path, "actions.csv", [HEADER, f'{WISSEL};jh_uitval;14-03-2023;"{markup}";;;'])
    actions, problems = read_actions(tmp_path / "actions.csv")  # one file
    assert problems == []
    assert actions["description"].tolist() == [markup]


# ---------------------------------------------------------------------------
# the dialogue record
# ---------------------------------------------------------------------------

INDICATORS = ["jh_uitval", "jh_tevredenheid", "jh_uitval"]  # a repeat is kept once


@pytest.fixture(scope="module")
def record():
    return dialogue_record(WISSEL, "2024", INDICATORS)


def test_record_csv_is_utf8_with_bom_semicolons_and_prefilled(record):
    data = record["csv"]
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == HEADER
    assert lines[1:3] == [f"{WISSEL};jh_uitval;;;;;", f"{WISSEL};jh_tevredenheid;;;;;"]
    assert lines[3:] == [""]


def test_record_workbook_has_drop_downs_and_dutch_dates(record):
    book = openpyxl.load_workbook(io.BytesIO(record["xlsx"]))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == list(ACTION_COLUMNS)
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2, max_row=3)] == [
        [WISSEL, "jh_uitval", None, None, None, None, None],
        [WISSEL, "jh_tevredenheid", None, None, None, None, None],
    ]
    last = 3 + EXTRA_ROWS
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    status = validations[f"F2:F{last}"]
    assert status.type == "list" and status.formula1 == '"' + ",".join(STATUSES) + '"'
    indicator = validations[f"B2:B{last}"]
    assert indicator.type == "list"
    # the list is the indicator column of the second sheet: every registry id that is not context
    sheet_name, cells = indicator.formula1.lstrip("=").split("!")
    listed = book[sheet_name.strip("'")][cells.replace("$", "")]
    assert [row[0].value for row in listed] == registry.ids(context=False)
    assert book[sheet_name.strip("'")]["B2"].value == registry.label(registry.ids(context=False)[0], "nl")
    dates = validations[f"C2:C{last} G2:G{last}"]
    assert dates.type == "date"
    assert {sheet[f"{c}{r}"].number_format for c in "CG" for r in range(2, last + 1)} == {"dd-mm-yyyy"}


def test_record_in_english_and_unknown_indicator():
    book = openpyxl.load_workbook(io.BytesIO(dialogue_record(WISSEL, "2024", ["jh_uitval"], lang="en")["xlsx"]))
    assert book.sheetnames == ["actions", "indicators"]
    assert [c.value for c in book.worksheets[0][1]] == list(ACTION_COLUMNS)
    with pytest.raises(UnknownIndicatorError):
        dialogue_record(WISSEL, "2024", ["jh_onbekend"])


def test_record_file_name():
    name = record_file_name(WISSEL, "2024", "xlsx")
    assert name.startswith("acties-jeugdzorg-de-wissel-") and name.endswith("-2024.xlsx")


def _fill_xlsx(data: bytes) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    sheet["C2"] = dt.date(2024, 3, 14)
    sheet["D2"] = "Kennismakingsgesprek vóór de start <b>voor iedereen</b>"
    sheet["E2"] = "Teamleider"
    sheet["F2"] = "lopend"
    sheet["G2"] = dt.date(2024, 9, 14)
    # row 3 (jh_tevredenheid) stays as pre-filled; a new action on an empty row below
    sheet["A6"], sheet["B6"], sheet["C6"], sheet["D6"] = WISSEL, "jh_zonder_hulp_verder", dt.date(2024, 4, 1), "Nazorg"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill_csv(data: bytes) -> bytes:
    text = data.decode("utf-8-sig")
    text = text.replace(f"{WISSEL};jh_tevredenheid;;;;;",
                        f"{WISSEL};jh_tevredenheid;20-06-2024;Vragenlijst samen invullen;;gepland;")
    return text.encode("utf-8-sig")


def test_the_filled_record_is_the_next_deliverys_actions(tmp_path, record):
    xlsx_folder, csv_folder, both = tmp_path / "xlsx", tmp_path / "csv", tmp_path / "both"
    for folder in (xlsx_folder, csv_folder, both):
        folder.mkdir()
    xlsx_name, csv_name = record_file_name(WISSEL, "2024", "xlsx"), record_file_name(WISSEL, "2024", "csv")
    (xlsx_folder / xlsx_name).write_bytes(_fill_xlsx(record["xlsx"]))
    (csv_folder / csv_name).write_bytes(_fill_csv(record["csv"]))
    (both / xlsx_name).write_bytes(_fill_xlsx(record["xlsx"]))
    (both / csv_name).write_bytes(_fill_csv(record["csv"]))

    actions, problems = read_actions(xlsx_folder, institutions=INSTITUTIONS)
    assert problems == []
    got = actions[["indicator", "agreed_on", "description", "owner", "status", "review_on", "row"]]
    assert got.astype(object).where(got.notna(), None).to_dict("records") == [
        {"indicator": "jh_uitval", "agreed_on": pd.Timestamp("2024-03-14"),
         "description": "Kennismakingsgesprek vóór de start <b>voor iedereen</b>", "owner": "Teamleider",
         "status": "lopend", "review_on": pd.Timestamp("2024-09-14"), "row": 2},
        {"indicator": "jh_zonder_hulp_verder", "agreed_on": pd.Timestamp("2024-04-01"), "description": "Nazorg",
         "owner": None, "status": None, "review_on": None, "row": 6},
    ]

    actions, problems = read_actions(csv_folder, institutions=INSTITUTIONS)
    assert problems == []
    assert actions[["indicator", "agreed_on", "description", "status", "row", "file"]].values.tolist() == [
        ["jh_tevredenheid", pd.Timestamp("2024-06-20"), "Vragenlijst samen invullen", "gepland", 3, csv_name]]

    actions, problems = read_actions(both, institutions=INSTITUTIONS)
    assert problems == []
    assert sorted(zip(actions["file"], actions["indicator"])) == sorted(
        [(xlsx_name, "jh_uitval"), (xlsx_name, "jh_zonder_hulp_verder"), (csv_name, "jh_tevredenheid")])


def test_an_unfilled_record_reads_as_no_actions(tmp_path, record):
    (tmp_path / record_file_name(WISSEL, "2024", "xlsx")).write_bytes(record["xlsx"])
    (tmp_path / record_file_name(WISSEL, "2024", "csv")).write_bytes(record["csv"])
    actions, problems = read_actions(tmp_path, institutions=INSTITUTIONS)
    assert actions.empty and problems == []


def test_record_and_actions_files_are_left_alone_by_the_delivery_loader(tmp_path):
    from outcome_analysis.contract import io as contract_io

    for name in ("acties-x-2024.csv", "actions.xlsx", "notes.csv"):
        (tmp_path / name).write_bytes(b"a;b\r\n")
    problems: list = []
    contract_io._find_files(tmp_path, problems)
    assert [p.file for p in problems if p.kind == "file_not_contract"] == ["notes.csv"]
