"""Tests of outcome_analysis.io: the loader, its validation and the writer.

Every input is a tiny hand-made file written into ``tmp_path``; the expected rows are counted by hand
(header = row 1, first data row = row 2, as a spreadsheet shows them).
"""
from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

from outcome_analysis import io, schema
from outcome_analysis.contract import readers
from outcome_analysis.dataset import Dataset
from outcome_analysis.errors import DataValidationError
from outcome_analysis.settings import Settings

HEADER = ["trajectory_id", "client_id", "institution", "care_type", "care_form", "start_date", "end_date", "end_reason", "birth_year"]
BASE_ROWS = [
    # row 2
    {"trajectory_id": "T1", "client_id": "C1", "institution": "A", "care_type": "jeugdhulp", "care_form": "ambulant",
     "start_date": "2023-01-10", "end_date": "2023-06-30", "end_reason": "volgens_plan", "birth_year": "2010"},
    # row 3
    {"trajectory_id": "T2", "client_id": "C2", "institution": "A", "care_type": "jb", "care_form": "ots",
     "start_date": "2023-02-01", "end_date": "", "end_reason": "", "birth_year": "2012"},
    # row 4
    {"trajectory_id": "T3", "client_id": "C3", "institution": "B", "care_type": "jr", "care_form": "tb_gedwongen",
     "start_date": "2023-03-01", "end_date": "2023-09-01", "end_reason": "volgens_plan", "birth_year": "2006"},
]


def write_csv(path, rows, sep=",", encoding="utf-8", header=None):
    """Write rows (dicts) as a CSV file; values are written as given (no quoting unless needed)."""
    header = header or list(dict.fromkeys(k for row in rows for k in row)) or HEADER
    lines = [sep.join(header)]
    for row in rows:
        cells = [str(row.get(name, "")) for name in header]
        lines.append(sep.join(f'"{c}"' if sep in c else c for c in cells))
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def rows_with(changes):
    """BASE_ROWS with ``{(row_index, column): value}`` applied."""
    rows = [dict(row) for row in BASE_ROWS]
    for (i, column), value in changes.items():
        rows[i][column] = value
    return rows


def problems_of(path, **kwargs):
    with pytest.raises(DataValidationError) as info:
        io.load(path, **kwargs)
    return info.value.problems, str(info.value)


def full_dataset() -> Dataset:
    """Four trajectories using every contract column, some values missing, plus goals and experience."""
    t = pd.DataFrame(
        {
            "trajectory_id": ["T1", "T2", "T3", "T4"],
            "client_id": ["C1", "C2", "C3", "C1"],
            "institution": ["Zorg & Co", "GI Noord", "GI Noord", "Zorg & Co"],
            "municipality": ["GM0344", None, "GM0363", "GM0344"],
            "care_type": ["jeugdhulp", "jb", "jr", "jeugdhulp"],
            "care_form": ["ambulant", "voogdij", "itb_criem", "verblijf"],
            "start_date": pd.to_datetime(["2022-01-10", "2021-05-01", "2023-03-01", "2023-07-01"]),
            "end_date": pd.to_datetime(["2022-12-31", "2023-04-30", None, "2023-12-15"]),
            "end_reason": ["voortijdig_client", "herstel_gezag", None, "onbekend"],
            "birth_year": [2010, 2008, 2006, 2010],
            "sex": ["m", "v", None, "m"],
            "complexity": ["enkelvoudig", "complex", "meervoudig", None],
            "perspective": ["thuis", "elders", None, "zelfstandig"],
            "out_of_home": [False, True, None, True],
            "registration_date": pd.to_datetime(["2021-12-01", None, None, "2023-06-01"]),
            "first_contact_date": pd.to_datetime([None, "2021-05-08", "2023-03-05", None]),
            "goals_realised": ["geheel", None, None, "niet"],
            "without_help": [True, None, None, False],
            "help_accepted": [None, "gedeeltelijk", None, None],
            "threat_start": [None, 4, None, None],
            "threat_end": [None, 2, None, None],
            "risk_start": [None, None, "hoog", None],
            "risk_end": [None, None, "matig", None],
            "rom_instrument": ["sdq_total", None, None, "sdq_total"],
            "rom_start": [18.0, np.nan, np.nan, 0.1 + 0.2],
            "rom_end": [11.5, np.nan, np.nan, 22.0],
            "recidivism": [None, None, False, None],
            "working_alliance": [4.5, 3.0, np.nan, 1.0],
            "chain_cooperation": [np.nan, 2.25, 5.0, np.nan],
            "issues": ["wachtlijst;overig", None, "ketensamenwerking", None],
        }
    )
    t = t.astype({c.name: c.dtype for c in schema.TRAJECTORY_COLUMNS})
    goals = pd.DataFrame(
        {"trajectory_id": ["T1", "T1", "T4"], "goal_id": ["g1", "g2", "g1"], "score": [1.0, -0.5, -2.0],
         "weight": [1.0, 2.0, 1.0], "informant": ["gezamenlijk", "ouder", "jeugdige"]}
    ).astype({c.name: c.dtype for c in schema.GOAL_COLUMNS})
    experience = pd.DataFrame(
        {"trajectory_id": ["T1", "T2"], "informant": ["jeugdige", "professional"], "helped": [True, None], "score": [8.0, np.nan]}
    ).astype({c.name: c.dtype for c in schema.EXPERIENCE_COLUMNS})
    return Dataset(t, goals, experience)


# ---------------------------------------------------------------------------
# round trip and dtypes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv", "csv_nl", "xlsx"])
def test_write_then_load_gives_identical_frames(tmp_path, fmt):
    data = full_dataset()
    written = io.write(data, tmp_path, fmt)
    assert sorted(p.name for p in written) == sorted(f"{t}{io.WRITE_FORMATS[fmt]}" for t in ("trajectories", "goals", "experience"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left
    back = io.load(tmp_path)
    for table in ("trajectories", "goals", "experience"):
        expected = getattr(data, table)
        pd.testing.assert_frame_equal(getattr(back, table)[list(expected.columns)], expected)
    assert back.warnings == []


def test_loaded_columns_have_the_contract_dtypes_and_missing_optional_columns_are_added(tmp_path):
    data = io.load(write_csv(tmp_path / "trajectories.csv", BASE_ROWS))
    assert list(data.trajectories.columns) == [c.name for c in schema.TRAJECTORY_COLUMNS]
    for col in schema.TRAJECTORY_COLUMNS:
        assert data.trajectories[col.name].dtype == col.dtype, col.name
    assert data.goals.empty and data.experience.empty
    assert data.reference_date == pd.Timestamp("2023-09-01")  # latest date in the data


def test_write_rejects_an_unknown_format(tmp_path):
    with pytest.raises(io.WriteError, match="unknown format 'json'"):
        io.write(full_dataset(), tmp_path, "json")


def test_write_removes_a_stale_goals_file_when_goals_are_empty(tmp_path):
    io.write(full_dataset(), tmp_path, "csv")
    io.write(Dataset(full_dataset().trajectories), tmp_path, "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trajectories.csv"]


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "care_type, care_form, end_reason, expected_form, expected_reason",
    [
        ("jb", "11", "1", "ots", "meerderjarig"),
        ("jb", "11", "01", "ots", "meerderjarig"),
        ("jb", "12", "05", "vots", "gezagsbeeindiging"),
        ("jb", "22", "11", "voogdij", "meerderjarig"),
        ("jb", "23", "14", "voogdij", "herstel_gezag"),
        ("jr", "41", "21", "tb_gedwongen", "volgens_plan"),
        ("jr", "63", "26", "jr_overig", "overleden"),
        ("jeugdhulp", "ambulant", "3", "ambulant", "voortijdig_client"),
        ("jeugdhulp", "Pleegzorg", "04", "pleegzorg", "voortijdig_aanbieder"),
        ("jb", "21", "99", "voogdij", "onbekend"),
        ("jeugdhulp", "verblijf", "99", "verblijf", "onbekend"),
    ],
    ids=["ots-1", "ots-01", "vots-05", "voogdij22-11", "voogdij23-14", "jr41-21", "jr63-26", "jh-3", "jh-case-04",
         "voogdij-99", "jh-99"],
)
def test_cbs_codes_are_mapped_per_care_form(tmp_path, care_type, care_form, end_reason, expected_form, expected_reason):
    rows = rows_with({(0, "care_type"): care_type, (0, "care_form"): care_form, (0, "end_reason"): end_reason})
    data = io.load(write_csv(tmp_path / "trajectories.csv", rows))
    assert data.trajectories.loc[0, "care_form"] == expected_form
    assert data.trajectories.loc[0, "end_reason"] == expected_reason


def test_dutch_and_iso_dates_semicolon_and_decimal_comma(tmp_path):
    rows = rows_with({(0, "start_date"): "10-01-2023", (0, "end_date"): "30-06-2023", (1, "start_date"): "1-2-2023"})
    rows[0]["rom_start"] = "12,5"
    rows[1]["working_alliance"] = "3,25"
    data = io.load(write_csv(tmp_path / "trajectories.csv", rows, sep=";"))
    t = data.trajectories
    assert t["start_date"].tolist()[:2] == [pd.Timestamp("2023-01-10"), pd.Timestamp("2023-02-01")]
    assert t.loc[0, "end_date"] == pd.Timestamp("2023-06-30")
    assert t.loc[0, "rom_start"] == 12.5 and t.loc[1, "working_alliance"] == 3.25


@pytest.mark.parametrize(
    "text, expected",
    [("ja", True), ("Nee", False), ("j", True), ("N", False), ("TRUE", True), ("false", False), ("1", True), ("0", False), ("", None)],
    ids=["ja", "Nee", "j", "N", "TRUE", "false", "1", "0", "empty"],
)
def test_booleans(tmp_path, text, expected):
    rows = rows_with({})
    rows[0]["out_of_home"] = text
    value = io.load(write_csv(tmp_path / "trajectories.csv", rows)).trajectories.loc[0, "out_of_home"]
    assert (value is pd.NA) if expected is None else (value == expected)


@pytest.mark.parametrize(
    "encoding, bom",
    [("utf-8", False), ("utf-8", True), ("cp1252", False)],
    ids=["utf8", "utf8-bom", "cp1252"],
)
def test_encodings(tmp_path, encoding, bom):
    rows = rows_with({(0, "institution"): "Zorg Één Café"})
    path = write_csv(tmp_path / "trajectories.csv", rows, sep=";", encoding=encoding)
    if bom:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    data = io.load(path)
    assert data.trajectories.loc[0, "institution"] == "Zorg Één Café"
    assert data.trajectories.columns[0] == "trajectory_id"


def test_later_delivery_replaces_earlier_record_and_its_goals(tmp_path):
    write_csv(tmp_path / "trajectories_2023H1.csv", BASE_ROWS[:2])
    write_csv(tmp_path / "trajectories_2023H2.csv", rows_with({(1, "end_date"): "2023-08-01", (1, "end_reason"): "01"})[1:])
    write_csv(tmp_path / "goals_2023H1.csv", [{"trajectory_id": "T2", "goal_id": "g1", "score": "1"},
                                              {"trajectory_id": "T1", "goal_id": "g1", "score": "2"}])
    write_csv(tmp_path / "goals_2023H2.csv", [{"trajectory_id": "T2", "goal_id": "g9", "score": "-1"}])
    data = io.load(tmp_path)
    t = data.trajectories.set_index("trajectory_id")
    assert sorted(t.index) == ["T1", "T2", "T3"]
    assert t.loc["T2", "end_date"] == pd.Timestamp("2023-08-01") and t.loc["T2", "end_reason"] == "meerderjarig"
    goals = data.goals.set_index(["trajectory_id", "goal_id"])
    assert sorted(goals.index) == [("T1", "g1"), ("T2", "g9")]
    assert goals.loc[("T2", "g9"), "informant"] == "gezamenlijk"  # the default when empty
    assert goals.loc[("T2", "g9"), "weight"] == 1.0
    assert [p.name for p in data.sources] == ["trajectories_2023H1.csv", "trajectories_2023H2.csv", "goals_2023H1.csv", "goals_2023H2.csv"]
    assert any("1 trajectories record(s) replaced" in w for w in data.warnings)


def test_extra_column_is_kept_as_text_with_a_warning(tmp_path):
    rows = rows_with({})
    rows[0]["Opmerking"] = "0012"
    data = io.load(write_csv(tmp_path / "trajectories.csv", rows))
    assert data.trajectories["opmerking"].dtype == "string"
    assert data.trajectories.loc[0, "opmerking"] == "0012"
    assert data.warnings == ["trajectories.csv, column 'opmerking': column(s) not in the data contract; kept as text"]


def test_ended_record_without_reason_becomes_onbekend_with_a_warning(tmp_path):
    data = io.load(write_csv(tmp_path / "trajectories.csv", rows_with({(2, "end_reason"): ""})))
    assert data.trajectories.loc[2, "end_reason"] == "onbekend"
    assert data.warnings == ["trajectories.csv, column 'end_reason': 1 ended record(s) without end_reason, set to 'onbekend' (rows 4)"]


def test_gas_scale_comes_from_settings(tmp_path):
    write_csv(tmp_path / "trajectories.csv", BASE_ROWS)
    write_csv(tmp_path / "goals.csv", [{"trajectory_id": "T1", "goal_id": "g1", "score": "-3"}])
    with pytest.raises(DataValidationError, match="a value from -2 to 2"):
        io.load(tmp_path)
    data = io.load(tmp_path, settings=Settings(gas_scale=(-3, 2)))
    assert data.goals.loc[0, "score"] == -3.0


# ---------------------------------------------------------------------------
# validation: one bad value -> one problem with file, row, column, value
# ---------------------------------------------------------------------------

NEXT_YEAR = f"01-01-{pd.Timestamp.today().year + 1}"

BAD_VALUES = [
    # id, changes {(row_index, column): value}, expected (row, column, value, text in `expected`)
    ("missing-required-value", {(1, "client_id"): ""}, (3, "client_id", None, "a value is required")),
    ("unknown-code", {(0, "sex"): "q"}, (2, "sex", "q", "one of m, v, x")),
    ("unknown-care-form", {(0, "care_form"): "thuiszorg"}, (2, "care_form", "thuiszorg", "a care form of jeugdhulp: ambulant")),
    ("unknown-issue-code", {(2, "issues"): "wachtlijst;geen_tijd"}, (4, "issues", "wachtlijst;geen_tijd", "codes separated by ';'")),
    ("unparsable-date", {(0, "start_date"): "31.12.2022"}, (2, "start_date", "31.12.2022", "a date like 31-12-2023")),
    ("impossible-date", {(0, "start_date"): "31-02-2023"}, (2, "start_date", "31-02-2023", "this date is not in the calendar")),
    ("unparsable-number", {(0, "rom_start"): "12a"}, (2, "rom_start", "12a", "a number")),
    ("unparsable-bool", {(1, "out_of_home"): "misschien"}, (3, "out_of_home", "misschien", "ja/nee")),
    ("fractional-int", {(1, "threat_start"): "2.5"}, (3, "threat_start", "2.5", "a whole number")),
    ("threat-out-of-range", {(1, "threat_end"): "6"}, (3, "threat_end", "6", "a value from 1 to 5")),
    ("working-alliance-out-of-range", {(0, "working_alliance"): "0"}, (2, "working_alliance", "0", "a value from 1 to 5")),
    ("birth-year-too-early", {(2, "birth_year"): "1985"}, (4, "birth_year", "1985", "a value from 1990 to")),
    ("birth-year-in-future", {(2, "birth_year"): str(pd.Timestamp.today().year + 1)}, (4, "birth_year", None, "a value from 1990 to")),
    ("end-before-start", {(0, "end_date"): "2022-12-31"}, (2, "end_date", "2022-12-31", "not before start_date 10-01-2023")),
    ("date-after-today", {(1, "start_date"): NEXT_YEAR}, (3, "start_date", NEXT_YEAR, "on or before today")),
    ("duplicate-trajectory-id", {(2, "trajectory_id"): "T1"}, (4, "trajectory_id", "T1", "also in row 2")),
    ("end-reason-does-not-fit", {(0, "end_reason"): "meerderjarig"}, (2, "end_reason", "meerderjarig", "fits care_form ambulant")),
    ("cbs-end-reason-unknown", {(0, "end_reason"): "07"}, (2, "end_reason", "07", "an end reason for ambulant")),
    ("care-form-does-not-fit", {(1, "care_form"): "ambulant"}, (3, "care_form", "ambulant", "a care form of jb")),
]


@pytest.mark.parametrize("changes, expected", [b[1:] for b in BAD_VALUES], ids=[b[0] for b in BAD_VALUES])
def test_a_bad_value_is_reported_with_file_row_column_and_value(tmp_path, changes, expected):
    path = write_csv(tmp_path / "trajectories.csv", rows_with(changes), header=HEADER + ["sex", "out_of_home", "threat_start", "threat_end", "rom_start", "working_alliance", "issues"])
    problems, message = problems_of(path)
    row, column, value, text = expected
    assert len(problems) == 1, message
    problem = problems[0]
    assert (problem.file, problem.row, problem.column) == ("trajectories.csv", row, column)
    if value is not None:
        assert problem.value == value
    assert text in problem.expected
    assert f"trajectories.csv, row {row}, column '{column}'" in message


def test_date_after_the_reference_date(tmp_path):
    problems, message = problems_of(write_csv(tmp_path / "trajectories.csv", BASE_ROWS), reference_date="2023-08-31")
    assert [(p.row, p.column, p.value) for p in problems] == [(4, "end_date", "2023-09-01")]
    assert "on or before the reference date 2023-08-31" in message


def test_missing_required_column(tmp_path):
    header = [h for h in HEADER if h != "birth_year"]
    problems, message = problems_of(write_csv(tmp_path / "trajectories.csv", BASE_ROWS, header=header))
    assert [(p.file, p.row, p.column) for p in problems] == [("trajectories.csv", 1, "birth_year")]
    assert "required column" in message


def test_every_problem_is_reported_at_once(tmp_path):
    changes = {(0, "care_type"): "zorg", (1, "start_date"): "gisteren", (2, "birth_year"): "twee", (2, "client_id"): ""}
    problems, message = problems_of(write_csv(tmp_path / "trajectories.csv", rows_with(changes)))
    assert [(p.row, p.column) for p in problems] == [(2, "care_type"), (3, "start_date"), (4, "client_id"), (4, "birth_year")]
    assert message.startswith("4 problem(s) in the delivered data")


@pytest.mark.parametrize(
    "table, rows, expected",
    [
        ("goals", [{"trajectory_id": "T1", "goal_id": "g1", "score": "1"}, {"trajectory_id": "T9", "goal_id": "g1", "score": "1"}],
         (3, "trajectory_id", "T9", "a trajectory_id of the trajectories table")),
        ("goals", [{"trajectory_id": "T1", "goal_id": "g1", "score": "3"}], (2, "score", "3", "a value from -2 to 2")),
        ("goals", [{"trajectory_id": "T1", "goal_id": "g1", "score": "1", "informant": "buurman"}], (2, "informant", "buurman", "one of gezamenlijk")),
        ("experience", [{"trajectory_id": "T1", "informant": "ouder", "score": "11"}], (2, "score", "11", "a value from 1 to 10")),
        ("experience", [{"trajectory_id": "T1", "informant": "", "helped": "ja"}], (2, "informant", None, "a value is required")),
    ],
    ids=["goal-unknown-trajectory", "gas-score-outside-scale", "goal-unknown-informant", "experience-score-11", "experience-informant-missing"],
)
def test_goals_and_experience_problems(tmp_path, table, rows, expected):
    write_csv(tmp_path / "trajectories.csv", BASE_ROWS)
    write_csv(tmp_path / f"{table}.csv", rows)
    problems, _ = problems_of(tmp_path)
    row, column, value, text = expected
    assert [(p.file, p.row, p.column) for p in problems] == [(f"{table}.csv", row, column)]
    assert problems[0].value == value and text in problems[0].expected


def test_row_numbers_count_blank_lines_and_multiline_values(tmp_path):
    path = tmp_path / "trajectories.csv"
    write_csv(path, rows_with({(2, "sex"): "q"}), header=HEADER + ["sex"])
    lines = path.read_text().splitlines()
    # a blank line after row 2, a record with a quoted line break as row 4: the bad record is row 5
    lines.insert(2, "")
    lines[3] = lines[3].replace("T2,C2,A", 'T2,C2,"A\nB"')
    path.write_text("\n".join(lines) + "\n")
    problems, _ = problems_of(path)
    assert [(p.row, p.column, p.value) for p in problems] == [(5, "sex", "q")]


def test_a_row_with_too_many_fields_is_reported_with_its_row(tmp_path):
    path = write_csv(tmp_path / "trajectories.csv", BASE_ROWS)
    lines = path.read_text().splitlines()
    lines[2] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    problems, message = problems_of(path)
    assert [(p.row, p.column) for p in problems] == [(3, None)]
    assert "9 fields separated by ',', found 10" in message


def test_parquet_rows_are_numbered_as_in_a_spreadsheet(tmp_path):
    frame = pd.DataFrame(rows_with({(2, "birth_year"): "1900"}))
    frame.to_parquet(tmp_path / "trajectories.parquet")
    problems, _ = problems_of(tmp_path / "trajectories.parquet")
    assert [(p.file, p.row, p.column, p.value) for p in problems] == [("trajectories.parquet", 4, "birth_year", "1900")]


def test_excel_rows_are_sheet_rows_even_after_a_blank_row(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    rows = rows_with({(1, "care_type"): "jx"})
    sheet.append([rows[0][h] for h in HEADER])
    sheet.append([None] * len(HEADER))  # blank sheet row 3
    for row in rows[1:]:
        sheet.append([row[h] for h in HEADER])
    workbook.save(tmp_path / "trajectories.xlsx")
    problems, _ = problems_of(tmp_path / "trajectories.xlsx")
    assert [(p.row, p.column, p.value) for p in problems] == [(4, "care_type", "jx")]


# ---------------------------------------------------------------------------
# files that cannot be read at all
# ---------------------------------------------------------------------------


def _undecodable(path):
    path.write_bytes(b"trajectory_id,client_id\n\x81\x8d\x8f\x90,\xc3\n")


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda p: p.write_bytes(b""), "the file is empty"),
        (lambda p: p.write_text(",".join(HEADER) + "\n"), "has a header but no data rows"),
        (lambda p: p.write_bytes(bytes(range(256)) * 20), "binary data"),
        (_undecodable, "neither UTF-8 nor Windows-1252"),
    ],
    ids=["empty", "header-only", "binary", "undecodable"],
)
def test_unreadable_csv_files(tmp_path, make, expected):
    path = tmp_path / "trajectories.csv"
    make(path)
    problems, message = problems_of(path)
    assert [p.file for p in problems] == ["trajectories.csv"]
    assert expected in message


@pytest.mark.parametrize("name, content, expected", [
    ("trajectories.xlsx", b"PK\x03\x04 this is no workbook", "a readable Excel .xlsx workbook"),
    ("trajectories.xlsx", b"plain text", "a readable Excel .xlsx workbook"),
    ("trajectories.parquet", b"PAR1 broken", "a readable Parquet file"),
], ids=["xlsx-broken-zip", "xlsx-text", "parquet-broken"])
def test_unreadable_binary_formats(tmp_path, name, content, expected):
    (tmp_path / name).write_bytes(content)
    problems, message = problems_of(tmp_path / name)
    assert [p.file for p in problems] == [name]
    assert expected in message


def test_folder_without_trajectories_file(tmp_path):
    write_csv(tmp_path / "goals.csv", [{"trajectory_id": "T1", "goal_id": "g1", "score": "1"}])
    problems, message = problems_of(tmp_path)
    assert problems[0].file == str(tmp_path)
    assert "no trajectories file" in message


def test_nonexistent_path(tmp_path):
    problems, message = problems_of(tmp_path / "nope.csv")
    assert problems[0].file.endswith("nope.csv")
    assert "does not exist" in message


def test_validate_returns_problems_without_raising(tmp_path):
    rows = rows_with({(0, "sex"): "q"})
    rows[1]["extra"] = "x"
    problems = io.validate(write_csv(tmp_path / "trajectories.csv", rows))
    assert [(p.severity, p.column) for p in problems] == [("error", "sex"), ("warning", "extra")]
    assert io.validate(write_csv(tmp_path / "clean.csv", BASE_ROWS)) == []


# ---------------------------------------------------------------------------
# large files are read in chunks: row numbers and cross-row checks must not notice
# ---------------------------------------------------------------------------


def many_rows(n=60):
    """``n`` valid trajectories T0..T{n-1}, all jeugdhulp ambulant, ended volgens_plan."""
    return [
        {**BASE_ROWS[0], "trajectory_id": f"T{i}", "client_id": f"C{i}", "institution": "Zorg & Co"} for i in range(n)
    ]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_chunked_reading_keeps_row_numbers_and_finds_repeats_across_chunks(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(readers, "_CSV_BLOCK_BYTES", 512)  # a few rows per block
    monkeypatch.setattr(readers, "_PARQUET_BATCH_ROWS", 7)
    rows = many_rows()
    rows[3]["trajectory_id"] = "T50"  # row 5, repeated in row 52
    rows[41]["birth_year"] = "1900"  # row 43
    if fmt == "csv":
        path = write_csv(tmp_path / "trajectories.csv", rows)
    else:
        path = tmp_path / "trajectories.parquet"
        pd.DataFrame(rows).to_parquet(path)
    problems, _ = problems_of(path)
    assert [(p.row, p.column, p.value) for p in problems] == [(43, "birth_year", "1900"), (52, "trajectory_id", "T50")]
    assert "also in row 5" in problems[1].expected


def test_chunked_csv_that_turns_out_to_be_cp1252_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_CSV_BLOCK_BYTES", 512)
    rows = many_rows()
    rows[-1]["institution"] = "Café"
    data = io.load(write_csv(tmp_path / "trajectories.csv", rows, sep=";", encoding="cp1252"))
    assert data.trajectories["institution"].iloc[-1] == "Café"
    assert len(data.trajectories) == 60


def test_chunked_csv_with_a_bad_record_late_in_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_CSV_BLOCK_BYTES", 512)
    path = write_csv(tmp_path / "trajectories.csv", many_rows())
    lines = path.read_text().splitlines()
    lines[55] += ",too,many"  # row 56
    path.write_text("\n".join(lines) + "\n")
    problems, _ = problems_of(path)
    assert [(p.row, p.column) for p in problems] == [(56, None)]


def test_one_warning_per_file_for_ended_records_without_reason_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_CSV_BLOCK_BYTES", 512)
    rows = many_rows()
    for i in (1, 30, 58):
        rows[i]["end_reason"] = ""
    data = io.load(write_csv(tmp_path / "trajectories.csv", rows))
    assert data.warnings == [
        "trajectories.csv, column 'end_reason': 3 ended record(s) without end_reason, set to 'onbekend' (rows 3, 32, 60)"
    ]
    assert (data.trajectories["end_reason"] == "onbekend").sum() == 3


def test_unknown_trajectories_in_goals_and_experience_files_are_each_reported(tmp_path):
    write_csv(tmp_path / "trajectories.csv", BASE_ROWS)
    write_csv(tmp_path / "goals.csv", [{"trajectory_id": t, "goal_id": "g1", "score": "1"} for t in ("T1", "X1", "T2")])
    write_csv(tmp_path / "experience.csv", [{"trajectory_id": t, "informant": "ouder"} for t in ("X2", "T3")])
    problems, _ = problems_of(tmp_path)
    assert [(p.file, p.row, p.value) for p in problems] == [("goals.csv", 3, "X1"), ("experience.csv", 2, "X2")]
