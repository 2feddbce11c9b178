"""Tests of ``python -m outcome_analysis validate``: exit codes, the printed table, the CSV for the supplier."""
from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from outcome_analysis.__main__ import main

HEADER = "trajectory_id,client_id,institution,care_type,care_form,start_date,end_date,end_reason,birth_year"
CLEAN = [
    "T1,C1,A,jeugdhulp,ambulant,2023-01-10,2023-06-30,01,2010",
    "T2,C2,B,jb,11,01-02-2023,,,2012",
]


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


def test_clean_delivery_exits_0_with_a_summary(clean_file, capsys):
    assert main(["validate", str(clean_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 2 trajectories, 2 institutions")
    assert "period 10-01-2023 to 30-06-2023" in out


def test_bad_delivery_exits_1_and_prints_an_aligned_table(bad_file, capsys):
    assert main(["validate", str(bad_file)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["severity", "file", "row", "column", "value", "expected"]
    body = [line for line in lines[2:] if line.startswith(("error", "warning"))]
    assert [line.split()[:5] for line in body[:3]] == [
        ["error", "trajectories.csv", "4", "care_form", "thuiszorg"],
        ["error", "trajectories.csv", "4", "start_date", "2023-02-30"],
        ["error", "trajectories.csv", "4", "birth_year", "1985"],
    ]
    assert body[3].split()[:3] == ["warning", "trajectories.csv", "opmerking"]
    # columns are aligned: every 'row' cell starts at the same offset as the header's
    offset = lines[0].index("row")
    assert {line[offset] for line in body[:3]} == {"4"}
    assert lines[-1] == f"3 error(s), 1 warning(s) in {bad_file}: the data does not meet the contract."


def test_csv_output_for_the_supplier(bad_file, tmp_path, capsys):
    out = tmp_path / "report" / "problems.csv"
    assert main(["validate", str(bad_file), "--csv", str(out)]) == 1
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["severity"], r["row"], r["column"], r["value"]) for r in rows] == [
        ("error", "4", "care_form", "thuiszorg"),
        ("error", "4", "start_date", "2023-02-30"),
        ("error", "4", "birth_year", "1985"),
        ("warning", "", "opmerking", ""),
    ]
    assert rows[2]["expected"].startswith("a value from 1990 to")


def test_csv_output_of_a_clean_delivery_has_only_the_header(clean_file, tmp_path, capsys):
    out = tmp_path / "problems.csv"
    assert main(["validate", str(clean_file), "--csv", str(out)]) == 0
    assert out.read_text(encoding="utf-8-sig").splitlines() == ["severity,file,row,column,value,expected"]


@pytest.mark.parametrize(
    "argv_tail, code, text",
    [
        (["--reference-date", "2023-03-01"], 1, "on or before the reference date 2023-03-01"),
        (["--reference-date", "2023-12-31"], 0, "reference date 2023-12-31"),
        (["--reference-date", "gisteren"], 2, "a date like 2024-12-31"),
    ],
    ids=["dates-after-reference", "reference-after-dates", "unparsable-reference"],
)
def test_reference_date(clean_file, capsys, argv_tail, code, text):
    assert main(["validate", str(clean_file), *argv_tail]) == code
    captured = capsys.readouterr()
    assert text in captured.out + captured.err


def test_nonexistent_path_exits_1(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().out


def test_runs_as_a_module(clean_file):
    result = subprocess.run(
        [sys.executable, "-m", "outcome_analysis", "validate", str(clean_file)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 2 trajectories")


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
