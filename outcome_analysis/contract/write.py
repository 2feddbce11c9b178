"""Writing a delivery in the contract's formats: Parquet, CSV (international or Dutch Excel) and Excel.

``io.write`` is this module's :func:`write`; the files are written atomically.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import openpyxl
import pandas as pd

from outcome_analysis import atomic
from outcome_analysis.errors import DataValidationError, OutcomeAnalysisError, Problem

from . import schema
from .dataset import DATE_COLUMNS, Dataset, latest_date_or_nat

#: formats ``write`` knows, with their file extension.
WRITE_FORMATS = {"parquet": ".parquet", "csv": ".csv", "csv_nl": ".csv", "xlsx": ".xlsx"}
#: the most data rows one Excel sheet holds (1,048,576 rows minus the header).
EXCEL_MAX_ROWS = 1_048_575


class WriteError(OutcomeAnalysisError, ValueError):
    """A dataset that cannot be written in the requested format."""


def write(dataset: Dataset, folder: str | os.PathLike, format: str = "parquet") -> list[Path]:
    """Write a dataset as a delivery that :func:`load` reads back identically.

    Parameters
    ----------
    dataset : Dataset
        The data to write.
    folder : path
        Folder to write into; created when missing.
    format : {"parquet", "csv", "csv_nl", "xlsx"}
        ``parquet``: typed Parquet. ``csv``: comma separated, UTF-8, ISO dates (``2023-12-31``),
        decimal point. ``csv_nl``: semicolon separated, UTF-8, Dutch dates (``31-12-2023``), decimal
        comma. ``xlsx``: one Excel sheet per file, dates as Excel dates. Booleans are written
        ``ja``/``nee`` in the text formats and in Excel.

    Returns
    -------
    list of Path
        The files written: ``trajectories.<ext>``, and ``goals.<ext>`` / ``experience.<ext>`` when
        those tables are not empty.

    Notes
    -----
    Every file is written to a temporary file in ``folder`` and renamed into place, so a reader never
    sees half a file. When ``goals`` or ``experience`` is empty, an existing ``goals.<ext>`` /
    ``experience.<ext>`` from an earlier write is removed, so that the folder holds exactly this dataset.
    Floats are written with the shortest representation that reads back to the same value.

    Examples
    --------
    >>> import tempfile
    >>> from outcome_analysis import schema
    >>> folder = tempfile.mkdtemp()
    >>> [p.name for p in write(Dataset(schema.empty_frame("trajectories")), folder, "csv")]
    ['trajectories.csv']
    """
    if format not in WRITE_FORMATS:
        raise WriteError(f"unknown format {format!r}; choose one of {sorted(WRITE_FORMATS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ext = WRITE_FORMATS[format]
    written = []
    for table in ("trajectories", "goals", "experience"):
        frame = getattr(dataset, table)
        target = folder / f"{table}{ext}"
        if table != "trajectories" and len(frame) == 0:
            if target.exists():
                target.unlink()
            continue
        if format == "xlsx" and len(frame) > EXCEL_MAX_ROWS:
            raise WriteError(
                f"{table} has {len(frame):,} rows; an Excel sheet holds at most {EXCEL_MAX_ROWS:,}: "
                "write Parquet or CSV instead"
            )
        _write_atomic(frame.reset_index(drop=True), table, target, format)
        written.append(target)
    return written


def _write_atomic(frame: pd.DataFrame, table: str, target: Path, format: str) -> None:
    def write(tmp: Path) -> None:
        if format == "parquet":
            frame.to_parquet(tmp, index=False)
        elif format == "csv":
            _text_frame(frame, table, date_format="%Y-%m-%d", decimal=".").to_csv(
                tmp, sep=",", index=False, encoding="utf-8", lineterminator="\n"
            )
        elif format == "csv_nl":
            _text_frame(frame, table, date_format="%d-%m-%Y", decimal=",").to_csv(
                tmp, sep=";", index=False, encoding="utf-8", lineterminator="\n"
            )
        else:
            _excel_frame(frame, table).to_excel(tmp, index=False, engine="openpyxl")

    atomic.write_with(target, write)


def _text_frame(frame: pd.DataFrame, table: str, date_format: str, decimal: str) -> pd.DataFrame:
    """Every column as text, the way the CSV formats write it (missing values stay missing)."""
    contract = schema.columns(table)
    out = {}
    for name in frame.columns:
        series = frame[name]
        kind = contract[name].kind if name in contract else "text"
        if kind == "date":
            text = pd.to_datetime(series).dt.strftime(date_format)
        elif kind == "bool":
            text = series.astype("boolean").map({True: "ja", False: "nee"}, na_action="ignore")
        elif kind == "number":
            text = series.astype("float64").astype(str)
            if decimal != ".":
                text = text.str.replace(".", decimal, regex=False)
        elif kind == "int":
            text = series.astype("Int64").astype("string")
        else:
            text = series.astype("string")
        out[name] = text.astype("string")
    return pd.DataFrame(out, index=frame.index)


def _excel_frame(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """The frame with cells openpyxl can write: dates as dates, booleans as ja/nee, missing as empty."""
    contract = schema.columns(table)
    out = {}
    for name in frame.columns:
        series = frame[name]
        kind = contract[name].kind if name in contract else "text"
        if kind == "date":
            out[name] = pd.to_datetime(series).astype("datetime64[ns]")
        elif kind == "bool":
            out[name] = series.astype("boolean").map({True: "ja", False: "nee"}, na_action="ignore").astype(object)
        elif kind == "number":
            out[name] = series.astype("float64")
        elif kind == "int":
            out[name] = series.astype("Int64").astype(object).where(series.notna(), None)
        else:
            text = series.astype("string").astype(object)
            out[name] = text.where(series.notna(), None)
    return pd.DataFrame(out, index=frame.index)
