"""Tests of ``python -m outcome_analysis validate``: exit codes, the grouped output for the supplier (Dutch
by default, at most 100 columns), the problems file for Dutch Excel, and ``--records``.

Problem texts come from the loader's catalogue; the tests compare with ``Problem.message(lang)`` of the
same problems rather than repeat those texts.
"""
from __future__ import annotations

import csv
import re
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from outcome_analysis import io
from outcome_analysis.__main__ import main
from outcome_analysis.errors import Problem
from outcome_analysis.presentation.report import fmt_int
from outcome_analysis.validation import format_problems, group_problems, write_problems

HEADER = "trajectory_id,client_id,institution,care_type,care_form,start_date,end_date,end_reason,birth_year"
CLEAN = [
    "T1,C1,A,jeugdhulp,ambulant,2023-01-10,2023-06-30,01,2010",
    "T2,C2,B,jb,11,01-02-2023,,,2012",
]
NL_HEADERS = ["ernst", "bestand", "rij", "kolom", "trajectory_id", "waarde", "verwachting"]
EN_HEADERS = ["severity", "file", "row", "column", "trajectory_id", "value", "expected"]


@pytest.fixture
def clean_file(tmp_path):
    path = tmp_path / "trajectories.csv"
    path.write_text("\n".join([HEADER, *CLEAN]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "trajectories.csv"
    rows = [*CLEAN, "T3,C3,A,jeugdhulp,thuiszorg,2023-02-30,,,1985"]  # row 4: three problems
    path.write_text("\n".join([HEADER + ",opmerking", *(r + "," for r in rows)]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def many_bad_dates(tmp_path):
    """1,234 rows with the impossible date 31-02-2024 (rows 2..1235), in a ';' file."""
    path = tmp_path / "levering" / "trajectories.csv"
    path.parent.mkdir()
    lines = [HEADER.replace(",", ";")]
    lines += [f"T{i};C{i};A;jeugdhulp;ambulant;31-02-2024;;;2010" for i in range(1, 1235)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def assert_narrow(out: str) -> None:
    too_long = [line for line in out.splitlines() if len(line) > 100]
    assert not too_long, too_long


def flat(out: str) -> str:
    """The output with line wraps undone (wrapped continuation lines are indented)."""
    return re.sub(r"\s*\n\s*", " ", out)


# ------------------------------------------------------------------------------------------------
# Summary lines and exit codes
# ------------------------------------------------------------------------------------------------


def test_clean_delivery_exits_0_with_a_dutch_summary(clean_file, capsys):
    code, out = run(["validate", str(clean_file)], capsys)
    assert code == 0
    assert out.startswith("In orde: 2 trajecten, 2 instellingen, 0 doelen, 0 ervaringsantwoorden;")
    assert "periode 10-01-2023 t/m 30-06-2023 (peildatum 30-06-2023); geen waarschuwingen." in flat(out)
    assert_narrow(out)


def test_clean_delivery_in_english(clean_file, capsys):
    code, out = run(["validate", str(clean_file), "--lang", "en"], capsys)
    assert code == 0
    assert out.startswith("OK: 2 trajectories, 2 institutions")
    assert "period 2023-01-10 to 2023-06-30 (reference date 2023-06-30); no warnings." in flat(out)


def test_warnings_alone_pass_and_are_shown_before_the_summary(tmp_path, capsys):
    path = tmp_path / "trajectories.csv"
    path.write_text("\n".join([HEADER + ",opmerking", *(r + ",x" for r in CLEAN)]) + "\n", encoding="utf-8")
    code, out = run(["validate", str(path)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[:5] == ["Waarschuwingen (1)", "==================", "", "trajectories.csv",
                         lines[4]] and lines[4].startswith("  kolom opmerking: ")
    assert flat(out).rstrip().endswith("(peildatum 30-06-2023); 1 waarschuwing.")
    assert flat(out).index("In orde: 2 trajecten") > flat(out).index("kolom opmerking")


def test_bad_delivery_exits_1_grouped_by_file_column_and_kind(bad_file, capsys):
    problems = io.validate(bad_file)
    code, out = run(["validate", str(bad_file)], capsys)
    assert code == 1
    assert_narrow(out)
    lines = out.splitlines()
    assert lines[:4] == ["Fouten (3)", "==========", "", "trajectories.csv"]
    errors = [p for p in problems if p.severity == "error"]
    for p in errors:  # one group per column, its count, its message, the row and value under it
        head = f"  kolom {p.column} (1 rij): "
        at = next(i for i, line in enumerate(lines) if line.startswith(head))
        assert flat("\n".join(lines[at:at + 4])).startswith(flat(head + p.message("nl")))
        table = next(i for i in range(at, len(lines)) if lines[i].split()[:1] == ["rij"])
        assert lines[table].split()[-1] == "waarde"
        assert [lines[table + 1].split()[0], lines[table + 1].split()[-1]] == ["4", p.value]
    assert [line.split()[1] for line in lines if line.startswith("  kolom ")][:3] == [p.column for p in errors]
    warnings = lines.index("Waarschuwingen (1)")
    assert warnings > max(i for i, line in enumerate(lines) if line.startswith("  kolom ") and "(1 rij)" in line)
    assert lines[warnings + 3] == "trajectories.csv"
    assert lines[warnings + 4].startswith("  kolom opmerking: ")
    assert flat(out).rstrip().endswith(
        f"3 fouten en 1 waarschuwing in {bad_file}: de gegevens voldoen niet aan het gegevenscontract.")


def test_bad_delivery_in_english(bad_file, capsys):
    code, out = run(["validate", str(bad_file), "--lang", "en"], capsys)
    assert code == 1
    assert out.splitlines()[:2] == ["Errors (3)", "=========="]
    assert "  column start_date (1 row): " in out
    assert re.search(r"^      row  (trajectory_id  )?value$", out, re.M)
    assert flat(out).rstrip().endswith(
        f"3 errors and 1 warning in {bad_file}: the data does not meet the data contract.")


def test_first_10_rows_per_group_then_how_many_more(many_bad_dates, capsys):
    folder = many_bad_dates.parent
    code, out = run(["validate", str(folder)], capsys)
    assert code == 1
    assert_narrow(out)
    lines = out.splitlines()
    head = next(line for line in lines if line.startswith("  kolom start_date"))
    assert head.startswith("  kolom start_date (1.234 rijen): ")
    table = next(i for i in range(lines.index(head), len(lines)) if lines[i].split()[:1] == ["rij"])
    assert lines[table].split() in (["rij", "waarde"], ["rij", "trajectory_id", "waarde"])
    shown = [line.split() for line in lines[table + 1:table + 11]]
    assert [(cells[0], cells[-1]) for cells in shown] == [(str(r), "31-02-2024") for r in range(2, 12)]
    if "trajectory_id" in lines[table]:  # the supplier's own id beside the row number
        assert [cells[1] for cells in shown] == [f"T{r - 1}" for r in range(2, 12)]
    assert lines[table + 11] == "      … en 1.224 meer (schrijf ze allemaal weg met --problems problemen.csv)"
    assert "1.234 fouten en 0 waarschuwingen in" in flat(out)

    code, out = run(["validate", str(folder), "--problems", str(folder.parent / "problemen.csv")], capsys)
    assert "      … en 1.224 meer (zie problemen.csv)" in out.splitlines()
    assert "1.234 problemen naar" in flat(out)

    code, out = run(["validate", str(folder), "--lang", "en"], capsys)
    assert "  column start_date (1,234 rows): " in out
    assert "      … and 1,224 more (write them all with --problems problems.csv)" in out.splitlines()


def test_second_file_with_a_missing_column_is_shown_beside_the_first(tmp_path, capsys):
    """Every problem at once: a bad date in one delivery and a missing required column in another."""
    folder = tmp_path / "levering"
    folder.mkdir()
    (folder / "trajectories_a.csv").write_text(
        f"{HEADER}\nT1,C1,A,jeugdhulp,ambulant,31-02-2024,,,2010\n", encoding="utf-8")
    (folder / "trajectories_b.csv").write_text(
        HEADER.replace(",birth_year", "") + "\nT2,C2,B,jb,ots,01-02-2023,,\nT3,C3,B,jb,ots,2024-13-01,,\n",
        encoding="utf-8")
    problems = [p for p in io.validate(folder) if p.severity == "error"]
    code, out = run(["validate", str(folder)], capsys)
    assert code == 1
    assert_narrow(out)
    lines = out.splitlines()
    a, b = lines.index("trajectories_a.csv"), lines.index("trajectories_b.csv")
    assert a < b
    assert "  kolom start_date (1 rij): " in "\n".join(lines[a:b])
    assert any(line.startswith("  kolom birth_year") for line in lines[b:])
    for p in problems:  # whatever the loader finds, every (file, column) is shown under its file
        start = lines.index(p.file)
        end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith(" ")), len(lines))
        assert any(line.startswith(f"  kolom {p.column} (") for line in lines[start:end]), p
    assert f"{len(problems)} fout" in flat(out)


# ------------------------------------------------------------------------------------------------
# Grouping and layout (synthetic problems)
# ------------------------------------------------------------------------------------------------


def synthetic() -> list[Problem]:
    long_value = "x" * 300
    return [
        Problem("b.csv", 3, "sex", "q", "a code m, v or x", trajectory_id="B3", kind="bad_code"),
        Problem("a.csv", 2, "start_date", "31-02-2024", "a date", trajectory_id="A2", kind="bad_date"),
        Problem("a.csv", 5, "care_form", "thuiszorg", "a care form", trajectory_id="A5", kind="bad_code"),
        Problem("a.csv", 7, "start_date", long_value, "a date", trajectory_id="T" * 80, kind="bad_date"),
        Problem("a.csv", None, "opmerking", None, "not in the contract", severity="warning"),
        Problem("a.csv", 9, "start_date", "2024-13-01", "a date", trajectory_id="A9", kind="bad_date"),
        Problem("a.csv", None, None, None, "the file ends in the middle of a quoted value " * 4),
        Problem("a.csv", 4, "end_date", "01-01-2020", "not before start_date 01-02-2021", trajectory_id="A4",
                kind="before_start"),
        Problem("a.csv", 6, "end_date", "01-01-2019", "not before start_date 05-05-2020", trajectory_id="A6",
                kind="before_start"),
        Problem("b.csv", 12345, "trajectory_id", "G7", "a trajectory_id of the trajectories table",
                trajectory_id="G7", kind="unknown_trajectory"),
    ]


def test_groups_errors_first_then_file_column_kind():
    groups = group_problems(synthetic())
    assert [(g.severity, g.file, g.column, len(g.problems)) for g in groups] == [
        ("error", "b.csv", "sex", 1),
        ("error", "b.csv", "trajectory_id", 1),
        ("error", "a.csv", None, 1),  # the whole file first
        ("error", "a.csv", "start_date", 3),
        ("error", "a.csv", "care_form", 1),
        ("error", "a.csv", "end_date", 2),
        ("warning", "a.csv", "opmerking", 1),
    ]


def test_layout_is_narrow_and_shortens_long_cells():
    out = format_problems(synthetic(), "nl")
    assert_narrow(out)
    lines = out.splitlines()
    assert "  kolom start_date (3 rijen): a date" in lines
    assert "  het hele bestand: the file ends in the middle of a quoted value the file ends in the middle of a" in lines
    table = lines.index("      rij  trajectory_id             waarde", lines.index("  kolom start_date (3 rijen): a date"))
    assert lines[table + 1].split() == ["2", "A2", "31-02-2024"]
    long_row = lines[table + 2]
    assert long_row.split()[1] == "T" * 23 + "…" and long_row.endswith("…") and len(long_row) <= 100
    # messages that differ within a group are shown per row
    at = lines.index("  kolom end_date (2 rijen):")
    assert lines[at + 1].split() == ["rij", "trajectory_id", "waarde", "melding"]
    assert lines[at + 2].endswith("not before start_date 01-02-2021")
    # row numbers as the spreadsheet shows them (no thousands separator); the id is not repeated
    # beside a trajectory_id value
    at = lines.index("  kolom trajectory_id (1 rij): a trajectory_id of the trajectories table")
    assert lines[at + 1:at + 3] == ["        rij  waarde", "      12345  G7"]


def test_english_layout():
    out = format_problems(synthetic(), "en", problems_file="p.xlsx")
    assert_narrow(out)
    assert "  the whole file: the file ends" in out
    assert "  column start_date (3 rows): a date" in out.splitlines()
    assert out.splitlines()[0] == "Errors (9)"


def test_dutch_numbers():
    assert fmt_int(1234) == "1.234" and fmt_int(1234, "en") == "1,234" and fmt_int(12345678) == "12.345.678"


# ------------------------------------------------------------------------------------------------
# The problems file
# ------------------------------------------------------------------------------------------------


def test_csv_for_dutch_excel(many_bad_dates, tmp_path, capsys):
    out = tmp_path / "rapport" / "problemen.csv"
    code, _ = run(["validate", str(many_bad_dates), "--problems", str(out)], capsys)
    assert code == 1
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel shows accents
    assert raw.splitlines()[0].decode("utf-8-sig") == ";".join(NL_HEADERS)
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert len(rows) == 1234  # every problem, not the first 10
    assert rows[0]["ernst"] == "fout" and rows[0]["rij"] == "2" and rows[0]["waarde"] == "31-02-2024"
    assert rows[0]["kolom"] == "start_date" and rows[0]["bestand"] == "trajectories.csv"
    expected = io.validate(many_bad_dates)[0].message("nl")
    assert rows[0]["verwachting"] == expected
    frame = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(frame.columns) == NL_HEADERS and len(frame) == 1234
    assert frame["rij"].tolist() == [str(r) for r in range(2, 1236)]


def test_csv_alias_and_english_headers(bad_file, tmp_path, capsys):
    out = tmp_path / "problems.csv"
    code, printed = run(["validate", str(bad_file), "--csv", str(out), "--lang", "en"], capsys)
    assert code == 1
    assert "4 problems written to" in flat(printed)
    frame = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(frame.columns) == EN_HEADERS
    assert frame[["severity", "row", "column", "value"]].values.tolist() == [
        ["error", "4", "care_form", "thuiszorg"],
        ["error", "4", "start_date", "2023-02-30"],
        ["error", "4", "birth_year", "1985"],
        ["warning", "", "opmerking", ""],
    ]


def test_csv_of_a_clean_delivery_has_only_the_header(clean_file, tmp_path, capsys):
    out = tmp_path / "problemen.csv"
    assert run(["validate", str(clean_file), "--problems", str(out)], capsys)[0] == 0
    assert out.read_text(encoding="utf-8-sig").splitlines() == [";".join(NL_HEADERS)]


def test_xlsx_problems_file(tmp_path):
    problems = synthetic() + [Problem("a.csv", 8, "institution", "=cmd|' /C calc'!A0", "a name", trajectory_id="A8")]
    out = write_problems(problems, tmp_path / "problemen.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb.active
    assert ws.title == "Problemen"
    assert [c.value for c in ws[1]] == NL_HEADERS
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:G{len(problems) + 1}"
    assert ws.max_row == len(problems) + 1
    assert 8 <= ws.column_dimensions["F"].width <= 40  # 'waarde': the long value is capped
    last = [c.value for c in ws[ws.max_row]]
    assert last[:6] == ["fout", "a.csv", 8, "institution", "A8", "=cmd|' /C calc'!A0"]
    assert ws.cell(ws.max_row, 6).data_type == "s"  # text, never a formula


def test_values_excel_would_run_are_quoted_in_the_csv(tmp_path):
    problems = [Problem("a.csv", 2, "institution", "=1+1", "a name"), Problem("a.csv", 3, "threat_start", "-3", "1-5"),
                Problem("a.csv", 4, "institution", "-x", "a name")]
    out = write_problems(problems, tmp_path / "p.csv", lang="en")
    frame = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str)
    assert frame["value"].tolist() == ["'=1+1", "-3", "'-x"]


# ------------------------------------------------------------------------------------------------
# --records
# ------------------------------------------------------------------------------------------------


def test_records_of_a_clean_delivery(clean_file, tmp_path, capsys):
    out = tmp_path / "geteld.xlsx"
    code, printed = run(["validate", str(clean_file), "--reference-date", "2024-12-31", "--records", str(out)], capsys)
    assert code == 0
    assert_narrow(printed)
    assert f"Overzicht van wat waar geteld is geschreven naar {out}" in flat(printed)
    assert "recordniveau" in printed
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Tellingen", "Toelichting"]
    rows = list(wb["Tellingen"].iter_rows(values_only=True))
    # T1 (jeugdhulp, 12 indicators) and T2 (jb, 10 indicators)
    assert len(rows) - 1 == 12 + 10
    assert f"({len(rows) - 1} regels)" in flat(printed)
    uitval = next(r for r in rows if r[0] == "T1" and r[4] == "jh_uitval")
    assert uitval[7:10] == ("2023", "ja", 0)  # ended 2023 volgens plan: counted, no uitval


def test_records_are_not_written_when_the_delivery_has_errors(bad_file, tmp_path, capsys):
    out = tmp_path / "geteld.xlsx"
    code, printed = run(["validate", str(bad_file), "--records", str(out)], capsys)
    assert code == 1
    assert not out.exists()
    assert "(--records) is niet geschreven: de levering heeft fouten." in flat(printed)


# ------------------------------------------------------------------------------------------------
# Arguments
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv_tail, code, text",
    [
        (["--reference-date", "2023-03-01"], 1, "1 fout en 0 waarschuwingen"),  # T1 ends 30-06-2023
        (["--reference-date", "2023-12-31"], 0, "peildatum 31-12-2023"),
        (["--reference-date", "gisteren"], 2, "gisteren"),
    ],
    ids=["dates-after-reference", "reference-after-dates", "unparsable-reference"],
)
def test_reference_date(clean_file, capsys, argv_tail, code, text):
    got, out = run(["validate", str(clean_file), *argv_tail], capsys)
    assert got == code
    assert text in flat(out)


def test_nonexistent_path_exits_1(tmp_path, capsys):
    missing = tmp_path / "nope"
    code, out = run(["validate", str(missing)], capsys)
    assert code == 1
    assert "nope" in out and "1 fout en 0 waarschuwingen" in flat(out)


@pytest.mark.parametrize("argv_tail", [["--lang", "de"], ["--problems", "p.txt"], ["--records", "r.csv"]],
                         ids=["language", "problems-suffix", "records-suffix"])
def test_bad_arguments_exit_2(clean_file, capsys, argv_tail):
    with pytest.raises(SystemExit) as info:
        main(["validate", str(clean_file), *argv_tail])
    assert info.value.code == 2


def test_help_is_in_english(capsys):
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    out = capsys.readouterr().out
    assert "--problems OUT.csv|OUT.xlsx" in out and "--records OUT.xlsx" in out and "{nl,en}" in out


def test_runs_as_a_module(clean_file):
    result = subprocess.run(
        [sys.executable, "-m", "outcome_analysis", "validate", str(clean_file)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("In orde: 2 trajecten")


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_an_unreadable_reference_date_is_said_in_the_suppliers_language(clean_file, capsys):
    assert main(["validate", str(clean_file), "--reference-date", "2024-13-45"]) == 2
    err = capsys.readouterr().err
    assert "--reference-date 2024-13-45: een peildatum zoals 31-12-2024" in err
    assert "problem(s)" not in err


def test_records_follow_the_deliverys_own_settings_as_the_reports_do(clean_file, tmp_path, capsys):
    """T1 ended 30-06-2023: at reference date 31-12-2023 a 12-month window for a new start has not
    passed, a 3-month window (the delivery's settings.yaml) has."""

    def geen_nieuwe_start(out):
        rows = list(openpyxl.load_workbook(out)["Tellingen"].iter_rows(values_only=True))
        return next(r for r in rows if r[0] == "T1" and r[4] == "jh_geen_nieuwe_start")[8]

    argv = ["validate", str(clean_file), "--reference-date", "2023-12-31", "--records"]
    assert run(argv + [str(tmp_path / "default.xlsx")], capsys)[0] == 0
    assert geen_nieuwe_start(tmp_path / "default.xlsx") == "nee"
    (clean_file.parent / "settings.yaml").write_text("window_nieuwe_start: 3\n", encoding="utf-8")
    assert run(argv + [str(tmp_path / "own.xlsx")], capsys)[0] == 0
    assert geen_nieuwe_start(tmp_path / "own.xlsx") == "ja"
