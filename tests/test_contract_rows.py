"""Where each loaded trajectory record came from (``Dataset.origin``): file and row, numbered as a
spreadsheet shows them (header row 1, first data row 2) and as the loader's own problems number
them, after empty rows, across chunks, in every format the writer writes, and across two
deliveries where the later one replaces a record.

Each delivery is written by ``io.write`` from a hand-made dataset, then empty rows are put between
its records (blank lines and rows of empty cells in a CSV file, empty sheet rows in Excel, rows of
nulls in Parquet); the expected row of each record is counted here from where it was put.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from outcome_analysis.contract import io, readers
from outcome_analysis.contract.dataset import Dataset
from toydata import toy_dataset
from toydata import trajectory as T

N = 12
#: the records after which empty rows are put (0-based positions), and how many.
GAPS = {0: 2, 4: 1, 9: 3}


def _records(prefix="t", end="2024-06-30", n=N) -> Dataset:
    return toy_dataset([T(f"{prefix}{i}", f"k{i}", "P", "jeugdhulp", "ambulant", "2024-01-01", end, "volgens_plan",
                          municipality="GM0344") for i in range(n)], reference_date="2025-12-31")


def _expected_rows(n=N, gaps=GAPS) -> list[int]:
    rows, row = [], 1
    for i in range(n):
        row += 1
        rows.append(row)
        row += gaps.get(i, 0)
    return rows


def _with_gaps(file, fmt: str, gaps=GAPS, corrupt: tuple[int, str] | None = None) -> None:
    """Put empty rows after the records of ``gaps`` into ``file``; with ``corrupt = (record, value)``
    that record's ``care_type`` becomes ``value`` (a value the loader rejects, naming its row)."""
    if fmt in ("csv", "csv_nl"):
        sep = "," if fmt == "csv" else ";"
        lines = file.read_text(encoding="utf-8").splitlines()
        header, body = lines[0], lines[1:]
        at = header.split(sep).index("care_type")
        out = [header]
        for i, line in enumerate(body):
            if corrupt and corrupt[0] == i:
                cells = line.split(sep)
                cells[at] = corrupt[1]
                line = sep.join(cells)
            out.append(line)
            # a blank line and a line of separators only: both are empty rows
            out.extend(["" if k % 2 == 0 else sep * header.count(sep) for k in range(gaps.get(i, 0))])
        file.write_text("\n".join(out) + "\n", encoding="utf-8")
    elif fmt == "xlsx":
        book = openpyxl.load_workbook(file)
        sheet = book.worksheets[0]
        if corrupt:
            at = [c.value for c in sheet[1]].index("care_type") + 1
            sheet.cell(row=corrupt[0] + 2, column=at, value=corrupt[1])
        for i in sorted(gaps, reverse=True):  # from the bottom, so the rows above keep their numbers
            sheet.insert_rows(i + 3, amount=gaps[i])
        book.save(file)
    else:
        frame = pq.read_table(file).to_pandas()
        if corrupt:
            frame["care_type"] = frame["care_type"].astype(object)
            frame.loc[corrupt[0], "care_type"] = corrupt[1]
        parts = []
        for i in range(len(frame)):
            parts.append(frame.iloc[[i]])
            if gaps.get(i):
                parts.append(pd.DataFrame({c: [None] * gaps[i] for c in frame.columns}).astype(object))
        whole = pd.concat(parts, ignore_index=True).astype(object).where(lambda f: f.notna(), None)
        pq.write_table(pa.Table.from_pandas(whole.astype(str).where(whole.notna(), None), preserve_index=False), file)


def _write(data: Dataset, folder, fmt: str, name: str = "trajectories") -> object:
    (file,) = io.write(data, folder, fmt)
    if name != "trajectories":
        file = file.rename(file.with_name(name + file.suffix))
    return file


@pytest.mark.parametrize("fmt", ["csv", "csv_nl", "xlsx", "parquet"])
def test_rows_after_empty_rows_are_the_rows_a_spreadsheet_and_the_validation_show(fmt, tmp_path):
    file = _write(_records(), tmp_path / "ok", fmt)
    _with_gaps(file, fmt)
    data = io.load(file.parent)
    expected = _expected_rows()
    assert data.origin.index.tolist() == [f"t{i}" for i in range(N)]
    assert data.origin["row"].tolist() == expected
    assert set(data.origin["file"].astype(str)) == {file.name}
    # the loader names the same row for a bad value in a record after the empty rows
    bad = _write(_records(), tmp_path / "bad", fmt)
    _with_gaps(bad, fmt, corrupt=(10, "xx"))
    problems = [p for p in io.validate(bad.parent) if p.severity == "error"]
    assert [(p.trajectory_id, p.row, p.file) for p in problems] == [("t10", expected[10], bad.name)]
    # origin_of: aligned with the ids asked for, <NA> for an id not in the delivery
    asked = data.origin_of(["t10", "nope", "t0"])
    assert asked["row"].tolist()[0::2] == [expected[10], expected[0]] and pd.isna(asked["row"].iloc[1])
    assert asked["file"].tolist()[0::2] == [file.name, file.name] and pd.isna(asked["file"].iloc[1])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_rows_stay_right_across_chunks(fmt, tmp_path, monkeypatch):
    """Chunks of a few records (the readers read large files piece by piece); empty rows in several chunks."""
    monkeypatch.setattr(readers, "_CSV_BLOCK_BYTES", 1000)  # the header and about ten records
    monkeypatch.setattr(readers, "_PARQUET_BATCH_ROWS", 8)
    chunks = []

    def counted(raw):
        chunks.append(len(raw))
        return readers.drop_empty_rows(raw)

    monkeypatch.setattr(io, "drop_empty_rows", counted)
    n, gaps = 40, {3: 2, 4: 1, 17: 5, 30: 1}
    file = _write(_records(n=n), tmp_path, fmt)
    _with_gaps(file, fmt, gaps)
    data = io.load(file)
    assert len(chunks) >= 4 and sum(chunks) == n + sum(gaps.values())
    assert data.origin["row"].tolist() == _expected_rows(n, gaps)
    assert data.origin.index.tolist() == data.trajectories["trajectory_id"].tolist()


def test_a_record_replaced_by_a_later_delivery_has_the_later_files_row(tmp_path):
    """Two deliveries, an Excel file and a CSV file: the Excel file's records end later, so it is the later
    delivery although its name sorts first; a trajectory in both keeps the Excel record and its row."""
    early = _records(n=6)  # t0..t5, ended 30-06-2024
    _write(early, tmp_path, "csv", name="trajectories_b")
    later = dataclasses.replace(_records(n=6, end="2024-11-30"))
    later.trajectories = later.trajectories.iloc[[4, 1]].reset_index(drop=True)  # t4, t1 (in this order)
    xlsx = _write(later, tmp_path, "xlsx", name="trajectories_a")
    _with_gaps(xlsx, "xlsx", gaps={0: 2})  # t4 on row 2, two empty rows, t1 on row 5
    csv = tmp_path / "trajectories_b.csv"
    _with_gaps(csv, "csv", gaps={1: 1})  # t0 row 2, t1 row 3, empty row 4, t2 row 5, ...
    data = io.load(tmp_path)
    origin = data.origin
    assert origin.index.is_unique and sorted(origin.index) == [f"t{i}" for i in range(6)]
    assert origin.loc["t1"].tolist() == ["trajectories_a.xlsx", 5]
    assert origin.loc["t4"].tolist() == ["trajectories_a.xlsx", 2]
    assert origin.loc["t0"].tolist() == ["trajectories_b.csv", 2]
    assert origin.loc["t2"].tolist() == ["trajectories_b.csv", 5]
    assert origin.loc["t5"].tolist() == ["trajectories_b.csv", 8]
    # the kept record is the later one, and origin follows it whatever the table's order
    kept = data.trajectories.set_index("trajectory_id")
    assert kept.loc["t1", "end_date"] == pd.Timestamp("2024-11-30")
    assert kept.loc["t0", "end_date"] == pd.Timestamp("2024-06-30")
    subset = dataclasses.replace(data, trajectories=data.trajectories.iloc[::-1].reset_index(drop=True))
    assert subset.origin_of(subset.trajectories["trajectory_id"])["row"].tolist() == [
        int(origin.loc[t, "row"]) for t in subset.trajectories["trajectory_id"]]


def test_data_made_in_memory_has_no_origin():
    data = _records(n=2)
    assert data.origin is None
    got = data.origin_of(data.trajectories["trajectory_id"])
    assert len(got) == 2 and got["file"].isna().all() and got["row"].isna().all()
    assert str(got["row"].dtype) == "Int64" and np.array_equal(got.index, [0, 1])
