"""Reading and writing deliveries: ``load``, ``validate`` and ``write``.

The loader implements ``docs/data-contract.md``: it reads the trajectories table (and the optional
goals and experience tables) from CSV, Parquet or Excel, parses every column to the dtype of
``schema.dtype_of``, maps CBS numeric codes, and checks the whole delivery, reporting every problem
at once as a :class:`~outcome_analysis.errors.DataValidationError`.
"""
from __future__ import annotations

import codecs
import csv
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.xml.functions import iterparse

from outcome_analysis import atomic
from . import schema
from .dataset import DATE_COLUMNS, Dataset, latest_date_or_nat
from outcome_analysis.errors import DataValidationError, OutcomeAnalysisError, Problem
from outcome_analysis.settings import DEFAULT, Settings

#: formats ``write`` knows, with their file extension.
WRITE_FORMATS = {"parquet": ".parquet", "csv": ".csv", "csv_nl": ".csv", "xlsx": ".xlsx"}

#: the most data rows one Excel sheet holds (1,048,576 rows minus the header).
EXCEL_MAX_ROWS = 1_048_575


class WriteError(OutcomeAnalysisError, ValueError):
    """A dataset that cannot be written in the requested format."""


# ---------------------------------------------------------------------------
# write
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# load and validate
# ---------------------------------------------------------------------------

#: file name prefixes of the tables ``load`` reads from a delivery folder.
TABLE_PREFIXES = ("trajectories", "goals", "experience")
#: prefixes of the contract's other tables (read elsewhere): recognised in a folder and left alone.
OTHER_TABLE_PREFIXES = ("actions",)
#: files a delivery folder may hold besides its tables without a warning: its settings, and the demo's
#: truth that ``outcome_analysis.demo`` writes beside the tables.
QUIET_FILES = frozenset({"settings.yaml", "settings.yml", "demo_truth.csv"})

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
XLS_SUFFIXES = (".xls",)
ODS_SUFFIXES = (".ods",)
READ_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES + XLS_SUFFIXES + ODS_SUFFIXES
#: the accepted formats, as problems name them.
ACCEPTED_FORMATS = "CSV (.csv, .txt, .tsv), Parquet (.parquet, .pq), Excel (.xlsx, .xlsm, .xls) or OpenDocument (.ods)"
_FORMATS_PARAM = (("formats", ", ".join(READ_SUFFIXES)),)

#: the time zone whose calendar dates time-zone-aware timestamps are read as.
TIME_ZONE = "Europe/Amsterdam"

_HEAD_BYTES = 1 << 16
_CSV_BLOCK_BYTES = 16 << 20  # CSV read in blocks of 16 MiB (about 100,000 trajectories)
_PARQUET_BATCH_ROWS = 131_072
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # working text dtype (vectorised string kernels)
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S")
#: the shape of a date the loader reads, with a month 1-12 and a day 1-31: such a text that does not
#: parse is a date that does not exist (31-02-2024, 29-02-2023).
_DATE_SHAPE = (
    r"\d{4}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])(?: \d{1,2}:\d{2}:\d{2})?"
    r"|(?:0?[1-9]|[12]\d|3[01])-(?:0?[1-9]|1[0-2])-\d{4}"
)
#: the five bytes that are no character in Windows-1252 (cp1252).
_CP1252_UNDEFINED = np.array([0x81, 0x8D, 0x8F, 0x90, 0x9D], dtype=np.uint8)
#: Excel's separator hint on the first line of a CSV file: ``sep=;``, ``sep=,``, ``sep=<tab>``.
_SEP_HINT = re.compile(r'"?sep=(?P<sep>[^\r\n"])"?(?P=sep)*\s*', re.IGNORECASE)
_MAX_ROWS_LISTED_IN_WARNING = 10
#: raw columns still needed after parsing (their delivered values appear in cross-column problems).
_RAW_KEPT = frozenset({"care_form", "end_reason"} | set(DATE_COLUMNS))


def _cbs_of_form(form: str) -> list[str]:
    return [number for number, name in schema.CBS_CARE_FORM.items() if name == form]


#: each care type as problems name it (the contract's Dutch names; the same in both languages).
_CARE_TYPE_NAMES = {"jeugdhulp": "jeugdhulp", "jb": "jeugdbescherming (jb)", "jr": "jeugdreclassering (jr)"}

#: per care type its care forms with their CBS codes, as problems list them: "vots (12), ots (11), ...".
_FORMS_LISTED = {
    care_type: ", ".join(f"{f} ({', '.join(_cbs_of_form(f))})" if _cbs_of_form(f) else f for f in forms)
    for care_type, forms in schema.CARE_FORMS.items()
}


def _care_type_params(care_type: str, name: str, listed: str) -> tuple:
    """A problem's params naming a care type (code and name) and what it allows (``forms`` or ``reasons``)."""
    return (("care_type", care_type), ("care_type_name", _CARE_TYPE_NAMES[care_type]), (name, listed))


def _reasons_listed(groups) -> str:
    """The end reasons of ``groups`` with their CBS codes: "meerderjarig (01, 11), ..."."""
    numbers: dict[str, list[str]] = {}
    for group in groups:
        for reason, number in schema.END_REASONS[group].items():
            numbers.setdefault(reason, [])
            if number not in numbers[reason]:
                numbers[reason].append(number)
    return ", ".join(f"{reason} ({', '.join(nums)})" for reason, nums in numbers.items())


#: per care type the end reasons of its care forms, for an end_reason problem on a row whose care form is unknown.
_REASONS_OF_TYPE = {
    care_type: _reasons_listed(dict.fromkeys(schema.END_REASON_GROUP_OF_FORM[f] for f in forms))
    for care_type, forms in schema.CARE_FORMS.items()
}


def load(path, reference_date=None, *, settings: Settings | None = None) -> Dataset:
    """Read and validate a delivery.

    Parameters
    ----------
    path : path
        A file (the trajectories table) or a folder holding one or more deliveries
        ``trajectories*.*`` and optionally ``goals*.*`` and ``experience*.*``: CSV (``,``, ``;`` or tab
        separated; with ``;`` a decimal comma; UTF-8, UTF-8 with BOM or Excel's cp1252), Parquet, Excel
        ``.xlsx``/``.xlsm``/``.xls`` or OpenDocument ``.ods`` (first sheet, header in row 1).
    reference_date : date-like, optional
        The delivery's reference date; dates after it are an error. Default: the latest date in the
        data (see :class:`~outcome_analysis.dataset.Dataset`).
    settings : Settings, optional
        Only ``gas_scale`` is used (the allowed range of GAS goal scores). Default ``settings.DEFAULT``.

    Returns
    -------
    Dataset
        ``trajectories``, ``goals`` and ``experience`` with every contract column (missing optional
        columns are added empty) in the dtypes of ``schema.dtype_of``: ids and text as ``string``,
        codes as ``category``, dates as ``datetime64[ns]``, whole numbers as ``Int16``, numbers as
        ``float64``, booleans as ``boolean``; extra columns follow, as ``string``. ``sources`` lists the
        files read, in file-name order; ``warnings`` the non-fatal remarks (see below).

    Raises
    ------
    DataValidationError
        When anything breaks the contract. ``.problems`` lists every problem of every file as
        :class:`~outcome_analysis.errors.Problem`: file name, row, column, value, the English
        ``expected``, a ``kind`` from the problem catalogue (``data/texts/problems.yaml``, Dutch and English
        messages) and, for a row of a table with a ``trajectory_id``, that row's ``trajectory_id``.

    Notes
    -----
    *Rows* are numbered as a spreadsheet shows them: the header is row 1, the first data row is 2.
    The same convention is used for Excel and OpenDocument (sheet rows) and for Parquet (row
    position + 2). For CSV a row is a record, so a quoted value spanning two lines is still one row.
    A CSV file whose first line is Excel's separator hint (``sep=;``, ``sep=,`` or ``sep=`` and a tab)
    is read with that separator; the hint line is skipped and, as Excel does not show it either, the
    header after it is row 1.

    *Every problem at once.* A file that lacks a required column is still parsed: the columns it has
    are checked and their problems reported; only the checks that need the missing column are skipped.
    Such a file contributes no data (the delivery is in error anyway).

    *Files in a folder.* Files whose name starts with ``trajectories``, ``goals`` or ``experience``
    are read when they are CSV, Parquet, Excel or OpenDocument; such a file in another format
    (``.json``, ``.docx``, ...) or one that cannot be read is an error naming it and the accepted
    formats. Files ``actions*`` are a table of the contract read elsewhere and left alone here.
    ``settings.yaml``/``settings.yml`` (the delivery's settings), ``demo_truth.csv`` (written by the
    demo), hidden files and Office lock files (``~$...``) are passed over in silence; any other file
    gets a warning that it is not read, because it is not a table of the data contract.

    *Parsing.* Values are stripped of surrounding blanks; an empty value is missing. Text and codes
    are read in Unicode normalisation form NFC (a decomposed ``ë``, as macOS writes it, is read as
    the composed one); when both forms of a text occur in a column of the delivery, a warning names
    the rows with the decomposed form. Codes are read case-insensitively. CBS numeric codes are
    mapped: ``care_form`` via ``schema.CBS_CARE_FORM``, ``end_reason`` via ``schema.CBS_END_REASON``
    of the row's care form (``1`` and ``01`` alike, ``99`` is ``onbekend``); an unknown code lists the
    codes of the row's care type (or care form), or all codes when that is unknown too. Dates are
    ISO ``2023-12-31`` or Dutch ``31-12-2023``; a date of that shape that is not in the calendar
    (``31-02-2024``) is reported as a date that does not exist. Timestamps with a time of day (Excel,
    Parquet) are read as their calendar date; time-zone-aware timestamps as the calendar date in
    Europe/Amsterdam (``2023-12-31T23:00:00Z`` is 1 January 2024). Booleans are ``ja``/``nee``,
    ``j``/``n``, ``true``/``false``, ``1``/``0``. Every column is parsed once per distinct value and
    spread over the rows, so parsing is vectorised and fast on real data.

    *Encodings.* A CSV file is UTF-8 (with or without BOM) or Windows-1252 (cp1252, what Excel writes
    on Windows). A file without a single valid UTF-8 multi-byte character but with bytes that are not
    UTF-8 is read as cp1252, without a remark. A UTF-8 file in which some rows are not UTF-8 (pasted
    from another file) stays UTF-8: each such row is read as cp1252, and one warning names the rows
    and an example value.

    *Excel formulas.* An ``.xlsx`` cell holding a formula without a stored result (written by a
    program without a calculation engine) is an error naming the cell and its formula: its value
    cannot be known without opening the workbook in Excel or LibreOffice.

    *Several deliveries.* A ``trajectory_id`` in two trajectories files keeps the record of the later
    delivery, later by the latest date it contains (over its date columns), not by its file name. When
    that order differs from the file-name order for two files that share a trajectory (so that it
    decides which record is kept), a warning names both files and their latest dates.
    Deliveries with the same latest date are taken in file-name order, but a ``trajectory_id`` whose
    records in them differ is an error naming both files, both rows and the columns that differ.
    The goals (and experience answers) of a trajectory come from the latest file that has any: a
    goals or experience file belongs to the trajectories file whose name ends the same way
    (``trajectories_2024H1.csv``, ``goals_2024H1.csv``) and takes its place in the order; when not
    every file of the table pairs with one, that table's files are taken in file-name order (goals
    and experience carry no dates of their own). Within one file a repeated ``trajectory_id`` is an
    error.

    *Warnings* (non-fatal): extra columns, ended records without a reason, records replaced by a later
    delivery, delivery order differing from name order, rows read as cp1252, texts in two Unicode
    forms, files in the folder that are not read.

    *Defaults.* An ended record without ``end_reason`` becomes ``onbekend`` (with a warning); an empty
    goal ``informant`` is ``gezamenlijk`` and an empty goal ``weight`` is 1.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(f"{folder}/trajectories.csv", "w").write(
    ...     "trajectory_id;client_id;institution;care_type;care_form;start_date;end_date;end_reason;birth_year\\n"
    ...     "T1;C1;A;jb;11;01-02-2023;31-12-2023;1;2010\\n")
    >>> data = load(folder)
    >>> data.trajectories[["care_form", "end_reason"]].astype(str).values.tolist()
    [['ots', 'meerderjarig']]
    """
    data, problems = check(path, reference_date, settings=settings)
    if data is None:
        raise DataValidationError([p for p in problems if p.severity == "error"])
    return data


def validate(path, reference_date=None, *, settings: Settings | None = None) -> list[Problem]:
    """Every problem of a delivery, without raising.

    Parameters
    ----------
    path, reference_date, settings
        As for :func:`load`.

    Returns
    -------
    list of Problem
        The errors (``severity == "error"``) followed by the warnings (``severity == "warning"``),
        each group by file and row. An empty list means the delivery is clean.
    """
    return check(path, reference_date, settings=settings)[1]


def check(path, reference_date=None, *, settings: Settings | None = None) -> tuple[Dataset | None, list[Problem]]:
    """Read a delivery once: the dataset (None when there are errors) and every problem.

    Parameters
    ----------
    path, reference_date, settings
        As for :func:`load`.

    Returns
    -------
    data : Dataset or None
        As :func:`load` returns it; None when any problem is an error.
    problems : list of Problem
        Errors first, then warnings, each group by file and row.
    """
    delivery = _read_delivery(Path(path), reference_date, settings or DEFAULT)
    errors = [p for p in delivery.problems if p.severity == "error"]
    warnings = [p for p in delivery.problems if p.severity != "error"]
    if errors:
        return None, errors + warnings
    data = Dataset(
        trajectories=delivery.tables["trajectories"],
        goals=delivery.tables["goals"],
        experience=delivery.tables["experience"],
        reference_date=reference_date,
        sources=delivery.sources,
        warnings=[str(p) for p in warnings],
    )
    return data, warnings


@dataclass
class _Delivery:
    tables: dict[str, pd.DataFrame]
    sources: list[Path]
    problems: list[Problem]


@dataclass(frozen=True)
class _Limit:
    """The latest date allowed in a delivery: the reference date or today."""

    date: pd.Timestamp
    text: str  # for the English ``expected``
    kind: str
    params: tuple


def _read_delivery(path: Path, reference_date, settings: Settings) -> _Delivery:
    """Find, read, parse and check every file of a delivery; collect all problems."""
    problems: list[Problem] = []
    files = _find_files(path, problems)
    limit = _date_limit(reference_date)
    forms = _Forms()
    parsed: dict[str, list[tuple[str, pd.DataFrame]]] = {table: [] for table in TABLE_PREFIXES}
    sources = []
    rejected_ids: list[pd.Series] = []  # trajectories of files rejected for a missing column
    for table, table_files in files.items():
        for file in table_files:
            sources.append(file)
            frame = _read_table_file(file, table, settings, limit, problems, forms)
            if frame is not None and frame.attrs.get("rejected"):
                if table == "trajectories":
                    rejected_ids.append(frame["trajectory_id"])
            elif frame is not None:
                parsed[table].append((file.name, frame))
    parsed["trajectories"], latest, ranks = _order_deliveries(parsed["trajectories"], problems)
    for table in ("goals", "experience"):
        parsed[table] = _order_by_delivery(parsed[table], table, ranks)
    problems.extend(forms.warnings())
    tables = {table: _combine(parsed[table], table, problems, latest) for table in TABLE_PREFIXES}
    answers = [pair for table in ("goals", "experience") for pair in parsed[table]]
    known = tables["trajectories"]["trajectory_id"]
    if rejected_ids:  # their goals and answers are not reported again as unknown: the file's error says it
        known = pd.concat([known, *rejected_ids], ignore_index=True)
    _check_known_trajectories(answers, known, problems)
    return _Delivery(tables, sources, _sorted(problems))


def _sorted(problems: list[Problem]) -> list[Problem]:
    """Problems by file (in reading order) and row; problems of a whole file or column first."""
    order = {name: i for i, name in enumerate(dict.fromkeys(p.file for p in problems))}
    return sorted(problems, key=lambda p: (order[p.file], -1 if p.row is None else p.row))


def _date_limit(reference_date) -> _Limit:
    today = pd.Timestamp.today().normalize()
    if reference_date is not None:
        try:
            reference = pd.Timestamp(reference_date).normalize()
        except (ValueError, TypeError) as exc:
            raise DataValidationError(
                [
                    Problem(
                        "(reference date)", None, None, str(reference_date), f"a date like 2024-12-31 ({exc})",
                        kind="reference_date_invalid", params=(("value", str(reference_date)),),
                    )
                ]
            ) from None
        if reference < today:
            return _Limit(
                reference, f"the reference date {reference:%Y-%m-%d}", kind="date_after_reference",
                params=(("reference_date", f"{reference:%d-%m-%Y}"),),
            )
    return _Limit(today, f"today ({today:%Y-%m-%d})", kind="date_after_today", params=(("today", f"{today:%d-%m-%Y}"),))


def _rows_listed(rows) -> str:
    """The first rows, comma separated, with ``, ...`` when there are more."""
    rows = list(rows)
    listed = ", ".join(str(r) for r in rows[:_MAX_ROWS_LISTED_IN_WARNING])
    return listed + (", ..." if len(rows) > _MAX_ROWS_LISTED_IN_WARNING else "")


# -- finding and reading files ------------------------------------------------


def _find_files(path: Path, problems: list[Problem]) -> dict[str, list[Path]]:
    """The files of each table, in sorted file-name order; other files of a folder are reported."""
    found: dict[str, list[Path]] = {table: [] for table in TABLE_PREFIXES}
    if not path.exists():
        problems.append(Problem(str(path), None, None, None, "the file or folder does not exist", kind="path_missing"))
        return found
    if path.is_file():
        found["trajectories"].append(path)
        return found
    try:
        entries = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))
    except OSError as exc:
        problems.append(
            Problem(
                str(path), None, None, None, f"the folder cannot be read ({exc.strerror})",
                kind="folder_unreadable", params=(("reason", str(exc.strerror)),),
            )
        )
        return found
    for entry in entries:
        name = entry.name.lower()
        table = next((t for t in TABLE_PREFIXES if name.startswith(t)), None)
        if table is None:
            if not name.startswith(OTHER_TABLE_PREFIXES) and name not in QUIET_FILES:
                problems.append(
                    Problem(
                        entry.name, None, None, None,
                        "not read: not a table of the data contract (trajectories*, goals*, experience*)",
                        severity="warning", kind="file_not_contract",
                    )
                )
        elif entry.suffix.lower() in READ_SUFFIXES:
            found[table].append(entry)
        else:
            extension = entry.suffix.lower() or "(none)"
            problems.append(
                Problem(
                    entry.name, None, None, None,
                    f"a {table} table as {ACCEPTED_FORMATS}; a file with extension {extension} is not read",
                    kind="file_format_unknown", params=(("table", table), ("extension", extension), *_FORMATS_PARAM),
                )
            )
    if not found["trajectories"]:
        problems.append(
            Problem(
                str(path), None, None, None,
                f"the folder holds no trajectories file (expected trajectories*.* as {ACCEPTED_FORMATS})",
                kind="no_trajectories_file", params=_FORMATS_PARAM,
            )
        )
    return found


class _Unreadable(Exception):
    """A file that cannot be read at all (the problem is already recorded)."""


class _Restart(Exception):
    """Read the file again with other options (``encoding``, ``numbered``)."""

    def __init__(self, **options):
        super().__init__(options)
        self.options = options


def _read_table_file(file: Path, table: str, settings: Settings, limit: _Limit, problems, forms) -> pd.DataFrame | None:
    """Read, parse and check one file of ``table``; None when it cannot be read or lacks required columns.

    CSV and Parquet are read in chunks of rows that are parsed as they arrive, so that the raw text of
    a large file is never in memory at once. A CSV is read again from the start when it turns out
    not to be UTF-8 (then as cp1252, or row by row, see ``_examine_encoding``) or to hold records
    with the wrong number of fields (then in one piece on one thread, the only way pyarrow reports
    their row numbers).
    """
    options: dict = {}
    for _ in range(4):
        mark, forms_mark = len(problems), forms.mark()
        try:
            return _read_table_chunks(file, table, settings, limit, problems, options, forms)
        except _Restart as restart:
            del problems[mark:]
            forms.rollback(forms_mark)
            options.update(restart.options)
        except _Unreadable:
            return None
    return None


def _read_table_chunks(file, table, settings, limit, problems, options, forms) -> pd.DataFrame | None:
    frames = []
    ended_without_reason: list[np.ndarray] = []
    header_checked = False
    complete = True
    unnamed_reported: set[int] = set()
    for raw in _raw_chunks(file, problems, options):
        raw = _normalise_header(raw, file.name, problems, unnamed_reported, check_names=not header_checked)
        if raw is None:
            return None
        if not header_checked:
            header_checked = True
            complete = _check_header(list(raw.columns), table, file.name, problems)
        raw = _drop_empty_rows(raw)
        if len(raw) == 0:
            continue
        frame = _parse_table(raw, table, file.name, settings, problems, forms)
        if table == "trajectories":
            _check_trajectory_rows(frame, raw, file.name, limit, problems, forms)
            ended_without_reason.append(frame.attrs.pop("ended_without_reason"))
        frames.append(frame)
        del raw, frame
    if not frames:
        problems.append(Problem(file.name, None, None, None, "the file has a header but no data rows", kind="no_data_rows"))
        return None
    frame = frames[0] if len(frames) == 1 else pd.concat(frames)
    del frames
    if table == "trajectories":
        _check_unique_ids(frame, file.name, problems)
        _warn_ended_without_reason(np.concatenate(ended_without_reason), file.name, problems)
    if not complete:  # a file lacking a required column contributes no data, only its ids (see _read_delivery)
        if table != "trajectories" or "trajectory_id" not in frame:
            return None
        ids = frame[["trajectory_id"]].copy()
        ids.attrs = {"rejected": True}
        return ids
    return frame


def _warn_ended_without_reason(rows: np.ndarray, file_name: str, problems: list[Problem]) -> None:
    """One warning per file for the ended records whose missing end_reason became ``onbekend``."""
    if len(rows) == 0:
        return
    listed = _rows_listed(rows)
    problems.append(
        Problem(
            file_name,
            None,
            "end_reason",
            None,
            f"{len(rows)} ended record(s) without end_reason, set to 'onbekend' (rows {listed})",
            severity="warning",
            kind="ended_without_reason",
            params=(("count", len(rows)), ("rows", listed)),
        )
    )


def _file_unreadable(file: Path, exc: OSError, problems: list[Problem]):
    """Record that ``file`` cannot be read at all (permissions, I/O) and stop reading it."""
    problems.append(
        Problem(
            file.name, None, None, None, f"the file cannot be read ({exc.strerror})",
            kind="file_unreadable", params=(("reason", str(exc.strerror)),),
        )
    )
    raise _Unreadable from None


def _format_of(suffix: str, head: bytes) -> str:
    """How to read a file: ``parquet``, ``xlsx``, ``xls``, ``ods`` or ``csv``, by extension, else by content."""
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "xlsx"
    if suffix in XLS_SUFFIXES:
        return "xlsx" if head.startswith(b"PK\x03\x04") else "xls"  # an .xlsx workbook named .xls
    if suffix in ODS_SUFFIXES:
        return "ods"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "ods" if b"opendocument.spreadsheet" in head[:128] else "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2 compound file: Excel 97-2003
        return "xls"
    return "csv"


def _raw_chunks(file: Path, problems: list[Problem], options: dict):
    """The file as frames of raw values (text for CSV), chunk by chunk.

    Each frame's index is the row position in the file (row number minus 2).
    ``attrs["decimal_comma"]`` says whether text numbers use a decimal comma. Raises ``_Unreadable``
    after recording why the file cannot be read.
    """
    try:
        with open(file, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as exc:
        _file_unreadable(file, exc, problems)
    if not head:
        problems.append(Problem(file.name, None, None, None, "the file is empty", kind="file_empty"))
        raise _Unreadable
    fmt = _format_of(file.suffix.lower(), head)
    if fmt == "parquet":
        yield from _parquet_chunks(file, problems)
    elif fmt == "xlsx":
        yield _read_xlsx(file, problems)
    elif fmt in ("xls", "ods"):
        yield _read_spreadsheet(file, fmt, problems)
    else:
        yield from _csv_chunks(file, head, problems, options)


def _drop_empty_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """Without fully empty rows (blank lines, blank sheet rows), keeping the index (row numbers).

    Only rows whose first column is empty are examined, and the frame is copied only when there is
    something to drop.
    """
    if raw.shape[1] == 0:
        return raw.iloc[:0]
    candidates = np.flatnonzero(raw.iloc[:, 0].isna().to_numpy())
    if len(candidates) == 0:
        return raw
    empty = candidates[~raw.iloc[candidates].notna().any(axis=1).to_numpy()]
    if len(empty) == 0:
        return raw
    attrs = dict(raw.attrs)
    raw = raw.drop(index=raw.index[empty])
    raw.attrs = attrs
    return raw


# -- CSV ------------------------------------------------------------------------


@dataclass(frozen=True)
class _CsvLayout:
    """What the first bytes of a CSV file say about it."""

    names: list[str]
    delimiter: str
    encoding: str  # "utf-8", or "examine": its first bytes are not all UTF-8 (see _examine_encoding)
    hint: bool  # the first line is Excel's separator hint (sep=;), skipped; the header follows it

    @property
    def skip(self) -> int:
        """Lines before the first record: the header, and the separator hint."""
        return 2 if self.hint else 1


def _csv_chunks(file: Path, head: bytes, problems: list[Problem], options: dict):
    layout = _sniff_csv(file, head, problems)
    encoding = options.get("encoding", layout.encoding)
    if encoding == "examine":
        options.update(_examine_encoding(file, layout, problems))
        encoding = options["encoding"]
    if "note" in options:
        problems.append(options["note"])
    source = pa.BufferReader(options["buffer"]) if "buffer" in options else file
    if options.get("numbered"):
        yield _csv_numbered(file, source, layout, encoding, problems)
        return
    invalid: list = []
    reader = _arrow_csv(file, source, layout, encoding, problems, invalid, stream=True)
    start = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            _csv_failure(file, exc, encoding, problems)
        if invalid:
            raise _Restart(numbered=True)
        raw = batch.rename_columns(layout.names).to_pandas()
        raw.index = pd.RangeIndex(start, start + len(raw))
        start += len(raw)
        raw.attrs["decimal_comma"] = layout.delimiter == ";"
        yield raw
    if invalid:
        raise _Restart(numbered=True)


def _decode_lines(head: bytes, final: bool) -> str:
    """The first bytes of a file that is not all UTF-8: each line as UTF-8 when it is, else as cp1252.

    Raises UnicodeDecodeError when a line is neither.
    """
    lines = head.split(b"\n")
    out = []
    for i, line in enumerate(lines):
        try:
            out.append(line.decode("utf-8-sig" if i == 0 else "utf-8"))
        except UnicodeDecodeError:
            if i == len(lines) - 1 and not final:
                out.append(line.decode("utf-8", errors="ignore"))  # cut in the middle of a character
            elif i < 2:  # the separator hint and the header must be text
                out.append(line.decode("cp1252"))
            else:  # a data row that is neither is reported with its row by _examine_encoding
                out.append(line.decode("cp1252", errors="replace"))
    return "\n".join(out)


def _sniff_csv(file: Path, head: bytes, problems: list[Problem]) -> _CsvLayout:
    """Column names, delimiter, encoding and separator hint of a CSV file from its first bytes."""
    if b"\x00" in head:
        problems.append(
            Problem(
                file.name, None, None, None,
                f"not a text (CSV) file: it holds binary data; expected {ACCEPTED_FORMATS}",
                kind="not_text", params=_FORMATS_PARAM,
            )
        )
        raise _Unreadable
    final = len(head) < _HEAD_BYTES
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=final)
        encoding = "utf-8"
    except UnicodeDecodeError:
        try:
            text = _decode_lines(head, final)
            encoding = "examine"
        except UnicodeDecodeError:
            problems.append(
                Problem(
                    file.name, None, None, None, "the file is neither UTF-8 nor Windows-1252 (cp1252) text",
                    kind="encoding_unknown",
                )
            )
            raise _Unreadable from None
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n") or ch == "\ufffd")
    if controls > max(2, len(text) // 100):
        problems.append(
            Problem(
                file.name, None, None, None, "not a readable CSV file: it holds control characters (binary data?)",
                kind="control_characters",
            )
        )
        raise _Unreadable
    lines = text.split("\n", 2)
    hint = _SEP_HINT.fullmatch(lines[0].rstrip("\r"))
    header_line = (lines[1] if len(lines) > 1 else "") if hint else lines[0]
    header_line = header_line.rstrip("\r")
    if not header_line.strip():
        problems.append(Problem(file.name, 1, None, None, "the first line must hold the column names", kind="header_missing"))
        raise _Unreadable
    if hint:
        delimiter = hint.group("sep")
    else:
        delimiter = max((";", ",", "\t"), key=header_line.count) if any(d in header_line for d in ";,\t") else ","
    names = next(csv.reader([header_line], delimiter=delimiter))
    return _CsvLayout(names, delimiter, encoding, bool(hint))


def _utf8_invalid(data: np.ndarray) -> tuple[np.ndarray, bool]:
    """Positions of the bytes of ``data`` (uint8) that are not part of a valid UTF-8 character, and
    whether it holds any valid multi-byte character. Vectorised over the non-ASCII bytes only."""
    high = np.flatnonzero(data >= 0x80)
    if len(high) == 0:
        return high, False
    n = len(data)

    def after(k: int) -> np.ndarray:
        positions = high + k
        out = np.zeros(len(high), dtype=np.uint8)
        inside = positions < n
        out[inside] = data[positions[inside]]
        return out

    b0, b1, b2, b3 = data[high], after(1), after(2), after(3)
    c1, c2, c3 = ((b & 0xC0) == 0x80 for b in (b1, b2, b3))
    two = (b0 >= 0xC2) & (b0 <= 0xDF) & c1
    three = ((b0 & 0xF0) == 0xE0) & c1 & c2 & ~((b0 == 0xE0) & (b1 < 0xA0)) & ~((b0 == 0xED) & (b1 > 0x9F))
    four = (b0 >= 0xF0) & (b0 <= 0xF4) & c1 & c2 & c3 & ~((b0 == 0xF0) & (b1 < 0x90)) & ~((b0 == 0xF4) & (b1 > 0x8F))
    lead = two | three | four
    valid = lead.copy()
    # the continuation bytes of a valid character are non-ASCII bytes too: mark them valid
    valid[np.searchsorted(high, np.concatenate((high[lead] + 1, high[three | four] + 2, high[four] + 3)))] = True
    return high[~valid], bool(lead.any())


def _record_rows(data: np.ndarray, line_starts: np.ndarray, lines: np.ndarray, hint: bool) -> np.ndarray:
    """The spreadsheet rows of the records holding ``lines`` (sorted line indices).

    A line starts a record unless it starts inside a quoted value: an odd number of quote characters
    before it. The header record is row 1 (after Excel's separator hint, which is not counted).
    """
    quotes = np.flatnonzero(data == 0x22)
    starts = line_starts[: lines[-1] + 1]
    new_record = (np.searchsorted(quotes, starts) % 2) == 0
    record = np.cumsum(new_record) - 1  # record 0 is the first line
    return np.unique(record[lines]) + (0 if hint else 1)


def _examine_encoding(file: Path, layout: _CsvLayout, problems: list[Problem]) -> dict:
    """How to read a CSV file that is not all UTF-8: options for ``_csv_chunks``.

    A file without a single valid UTF-8 multi-byte character is cp1252 (``{"encoding": "cp1252"}``).
    Otherwise it is UTF-8 with some rows in cp1252: those lines are decoded as cp1252 and the file is
    handed to pyarrow as UTF-8 from memory (``buffer``), with one warning (``note``) naming the rows
    and an example value. Only this fallback path reads the whole file at once.
    """
    try:
        content = file.read_bytes()
    except OSError as exc:
        _file_unreadable(file, exc, problems)
    data = np.frombuffer(content, dtype=np.uint8)
    invalid, multibyte = _utf8_invalid(data)
    if len(invalid) == 0:
        return {"encoding": "utf-8"}
    newlines = np.flatnonzero(data == 0x0A)
    line_starts = np.concatenate(([0], newlines + 1))
    line_ends = np.append(newlines, len(data))

    def neither(position: int):
        line = int(np.searchsorted(newlines, position))
        row = int(_record_rows(data, line_starts, np.array([line]), layout.hint)[0])
        text = content[line_starts[line] : line_ends[line]].decode("cp1252", errors="replace")
        problems.append(
            Problem(
                file.name, row, None, text.rstrip("\r")[:80],
                "text in UTF-8 or Windows-1252: this row is neither UTF-8 nor Windows-1252 (cp1252)",
                trajectory_id=_field(text, layout, "trajectory_id"), kind="encoding_unknown_row",
            )
        )
        raise _Unreadable

    if not multibyte:
        undefined = invalid[np.isin(data[invalid], _CP1252_UNDEFINED)]
        if len(undefined):
            neither(int(undefined[0]))
        return {"encoding": "cp1252"}
    bad_lines = np.unique(np.searchsorted(newlines, invalid))
    breaks = np.flatnonzero(np.diff(bad_lines) != 1)
    run_first = bad_lines[np.r_[0, breaks + 1]]
    run_last = bad_lines[np.r_[breaks, len(bad_lines) - 1]]
    parts, previous = [], 0
    for first, last in zip(line_starts[run_first].tolist(), line_ends[run_last].tolist()):
        parts.append(content[previous:first])
        try:
            parts.append(content[first:last].decode("cp1252").encode("utf-8"))
        except UnicodeDecodeError as exc:
            neither(first + exc.start)
        previous = last
    parts.append(content[previous:])
    buffer = pa.py_buffer(b"".join(parts))
    del parts
    rows = _record_rows(data, line_starts, bad_lines, layout.hint)
    first_line = int(bad_lines[0])
    text = content[line_starts[first_line] : line_ends[first_line]].decode("cp1252")
    at = int(invalid[0] - line_starts[first_line])
    left = text.rfind(layout.delimiter, 0, at) + 1
    right = text.find(layout.delimiter, at)
    example = text[left : len(text) if right < 0 else right].strip().strip('"').strip()
    listed = _rows_listed(rows)
    note = Problem(
        file.name, None, None, example,
        f"UTF-8 text; {len(rows)} row(s) are not UTF-8 and were read as Windows-1252 (cp1252): rows {listed}",
        severity="warning", kind="encoding_mixed", params=(("count", len(rows)), ("rows", listed), ("example", example)),
    )
    return {"encoding": "utf-8", "buffer": buffer, "note": note}


def _csv_numbered(file, source, layout: _CsvLayout, encoding, problems) -> pd.DataFrame:
    """The whole CSV read on one thread, reporting records with the wrong number of fields by row."""
    invalid: list = []
    try:
        table = _arrow_csv(file, source, layout, encoding, problems, invalid, stream=False)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        _csv_failure(file, exc, encoding, problems)
    shift = layout.skip - 1  # pyarrow counts the separator hint line; a spreadsheet does not
    invalid = [(None if row is None else row - shift, text, n_fields) for row, text, n_fields in invalid]
    skipped = np.array(sorted(row for row, _, _ in invalid if row is not None), dtype=np.int64)
    rows = np.setdiff1d(np.arange(2, table.num_rows + len(skipped) + 2), skipped)
    for row, text, n_fields in invalid:
        trajectory_id = _field(text, layout, "trajectory_id")
        problems.append(
            Problem(
                file.name, row, None, text[:80],
                f"{len(layout.names)} fields separated by {layout.delimiter!r}, found {n_fields}",
                trajectory_id=trajectory_id, kind="field_count",
                params=(("expected", len(layout.names)), ("delimiter", repr(layout.delimiter)), ("found", n_fields)),
            )
        )
    raw = table.rename_columns(layout.names).to_pandas()
    raw.index = rows[: table.num_rows] - 2
    raw.attrs["decimal_comma"] = layout.delimiter == ";"
    return raw


def _field(line: str, layout: _CsvLayout, name: str) -> str | None:
    """The stripped value of column ``name`` in one CSV record's text (None when absent or empty)."""
    names = [n.strip().lower() for n in layout.names]
    if name not in names:
        return None
    fields = next(csv.reader([line], delimiter=layout.delimiter), [])
    at = names.index(name)
    return (fields[at].strip() or None) if at < len(fields) else None


def _arrow_csv(file, source, layout: _CsvLayout, encoding, problems, invalid: list, stream: bool):
    """A pyarrow CSV reader (``stream``) or table of ``source``, every column as text.

    Records with the wrong number of fields are skipped and collected in ``invalid`` as
    ``(row number or None, text, number of fields)``.
    """

    def on_invalid(row):
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    generated = [f"column_{i}" for i in range(len(layout.names))]
    read_options = pa_csv.ReadOptions(
        encoding=encoding, use_threads=stream, column_names=generated, skip_rows=layout.skip, block_size=_CSV_BLOCK_BYTES
    )
    parse_options = pa_csv.ParseOptions(
        delimiter=layout.delimiter, ignore_empty_lines=False, invalid_row_handler=on_invalid, newlines_in_values=True
    )
    convert_options = pa_csv.ConvertOptions(
        column_types={name: pa.large_string() for name in generated},  # what pandas keeps (no cast)
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        null_values=[""],
    )
    pool = pa.default_memory_pool()
    try:
        if stream:
            return pa_csv.open_csv(source, read_options, parse_options, convert_options, memory_pool=pool)
        return pa_csv.read_csv(source, read_options, parse_options, convert_options, memory_pool=pool)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        _csv_failure(file, exc, encoding, problems)
    except (OSError, pa.ArrowException) as exc:
        detail = str(exc).splitlines()[0]
        problems.append(
            Problem(
                file.name, None, None, None, f"a readable CSV file ({detail})",
                kind="csv_unreadable", params=(("detail", detail),),
            )
        )
        raise _Unreadable from None


def _csv_failure(file, exc, encoding, problems):
    """Turn a pyarrow read error into a restart (not UTF-8 after all) or a recorded problem."""
    message = str(exc)
    if "UTF8" in message or isinstance(exc, UnicodeDecodeError):
        if encoding == "utf-8":
            raise _Restart(encoding="examine")
        problems.append(
            Problem(
                file.name, None, None, None, "text in UTF-8 or Windows-1252 (cp1252); the file holds bytes that are neither",
                kind="encoding_unknown",
            )
        )
    else:
        detail = message.splitlines()[0]
        problems.append(
            Problem(
                file.name, None, None, None, f"a readable CSV file ({detail})",
                kind="csv_unreadable", params=(("detail", detail),),
            )
        )
    raise _Unreadable


# -- Parquet, Excel, OpenDocument -------------------------------------------------


def _parquet_chunks(file: Path, problems: list[Problem]):
    start = 0
    try:
        parquet = pq.ParquetFile(file)
        for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS):
            raw = batch.to_pandas()
            raw.index = pd.RangeIndex(start, start + len(raw))
            start += len(raw)
            raw.attrs["decimal_comma"] = False
            yield raw
    except (pa.ArrowException, OSError, ValueError) as exc:
        detail = str(exc).splitlines()[0]
        problems.append(
            Problem(
                file.name, None, None, None, f"a readable Parquet file ({detail}); accepted formats: {ACCEPTED_FORMATS}",
                kind="parquet_unreadable", params=(("detail", detail), *_FORMATS_PARAM),
            )
        )
        raise _Unreadable from None
    if start == 0:  # no batches at all: yield the empty frame so that the header is checked
        yield parquet.schema_arrow.empty_table().to_pandas()


_WORKBOOK_NAMES = {"xlsx": "Excel .xlsx workbook", "xls": "Excel .xls workbook", "ods": "OpenDocument .ods spreadsheet"}


def _workbook_unreadable(file: Path, fmt: str, exc: Exception, problems: list[Problem]):
    detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
    problems.append(
        Problem(
            file.name, None, None, None,
            f"a readable {_WORKBOOK_NAMES[fmt]} ({detail}); accepted formats: {ACCEPTED_FORMATS}",
            kind="workbook_unreadable",
            params=(("format", _WORKBOOK_NAMES[fmt].split()[-2]), ("detail", detail), *_FORMATS_PARAM),
        )
    )
    raise _Unreadable from None


def _read_xlsx(file: Path, problems: list[Problem]) -> pd.DataFrame:
    """The first sheet of an .xlsx workbook; header in row 1, blank rows kept for the row numbers.

    Cells holding a formula without a stored result are reported (see ``_formulas_without_value``).
    """
    try:
        with open(file, "rb") as handle:  # a handle, not the name: an .xlsx workbook named .xls is read too
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                sheet_path = getattr(sheet, "_worksheet_path", None)
                rows = list(sheet.iter_rows(values_only=True))
            finally:
                workbook.close()
        formulas = _formulas_without_value(file, sheet_path) if sheet_path else []
    except Exception as exc:  # openpyxl raises many kinds (zipfile.BadZipFile, KeyError, InvalidFileException, ...)
        _workbook_unreadable(file, "xlsx", exc, problems)
    raw = _raw_from_rows(rows, file, problems)
    if formulas:
        _report_formulas(formulas, rows, raw, file.name, problems)
    return raw


def _read_spreadsheet(file: Path, fmt: str, problems: list[Problem]) -> pd.DataFrame:
    """The first sheet of an Excel 97-2003 ``.xls`` (xlrd) or OpenDocument ``.ods`` (odfpy) file."""
    try:
        if fmt == "xls":
            rows = _xls_rows(file)
        else:
            cells = pd.read_excel(
                file, sheet_name=0, header=None, dtype=object, engine="odf", keep_default_na=False, na_values=[]
            )
            cells = cells.astype(object)
            blank = cells.isna() | (cells == "")
            rows = cells.where(~blank, None).values.tolist()
    except Exception as exc:  # the readers raise many kinds (XLRDError, BadZipFile, ValueError, ...)
        _workbook_unreadable(file, fmt, exc, problems)
    return _raw_from_rows(rows, file, problems)


def _xls_rows(file: Path) -> list[list]:
    """The first sheet of an ``.xls`` workbook as rows of Python cell values (dates as datetimes).

    Read with xlrd itself (pandas' xlrd engine is deprecated); a legacy sheet holds at most 65,536 rows.
    """
    import xlrd  # only for .xls deliveries

    book = xlrd.open_workbook(file, on_demand=True)
    try:
        sheet = book.sheet_by_index(0)
        rows = []
        for r in range(sheet.nrows):
            row = []
            for kind, value in zip(sheet.row_types(r), sheet.row_values(r)):
                if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) or (kind == xlrd.XL_CELL_TEXT and value == ""):
                    row.append(None)
                elif kind == xlrd.XL_CELL_DATE:
                    row.append(xlrd.xldate.xldate_as_datetime(value, book.datemode))
                elif kind == xlrd.XL_CELL_BOOLEAN:
                    row.append(bool(value))
                elif kind == xlrd.XL_CELL_ERROR:
                    row.append(xlrd.error_text_from_code.get(value, "#ERROR"))
                else:
                    row.append(value)
            rows.append(row)
        return rows
    finally:
        book.release_resources()


def _raw_from_rows(rows: list, file: Path, problems: list[Problem]) -> pd.DataFrame:
    """A sheet's rows of Python cell values (header first) as a raw frame of typed columns."""
    if not rows or all(cell is None for cell in rows[0]):
        problems.append(Problem(file.name, 1, None, None, "the first row must hold the column names", kind="header_missing"))
        raise _Unreadable
    header = ["" if cell is None else str(cell) for cell in rows[0]]
    cells = pd.DataFrame(rows[1:], dtype=object).reindex(columns=range(len(header)))
    raw = pd.concat([_excel_column(cells[i]) for i in range(len(header))], axis=1, keys=range(len(header)))
    raw = raw.set_axis(header, axis=1)
    raw.attrs["decimal_comma"] = True
    return raw


def _excel_column(cells: pd.Series) -> pd.Series:
    """An Excel column of Python cell values as a typed series: dates, numbers, booleans or text."""
    cells = cells.astype(object)
    kind = pd.api.types.infer_dtype(cells, skipna=True)
    if kind in ("integer", "floating", "mixed-integer-float"):
        return pd.to_numeric(cells).astype("float64")
    if kind in ("datetime", "datetime64", "date"):
        return pd.to_datetime(cells)
    if kind == "boolean":
        return cells.astype("boolean")
    if kind == "empty":
        return pd.Series(np.nan, index=cells.index, dtype=_TEXT)
    return _as_text(cells)


_FORMULA_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?f[\s/>]")
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _formulas_without_value(file: Path, sheet_path: str) -> list[tuple[int, int, str]]:
    """``(row, column, formula)`` of the sheet's cells that hold a formula but no stored result.

    A program without a calculation engine (openpyxl, some exporters) writes formulas without their
    results (no ``<v>``, or an empty one on a cell that is not of type ``str``; an empty ``<v>`` on a
    ``str`` cell is a formula whose result is the empty text); read with ``data_only`` such a cell is
    empty. The sheet's XML is first scanned for formula elements at all (cheap); only a sheet that has
    any is parsed cell by cell.
    """
    with zipfile.ZipFile(file) as archive:
        with archive.open(sheet_path.lstrip("/")) as member:
            tail = b""
            while True:
                block = member.read(1 << 20)
                if not block:
                    return []
                if _FORMULA_ELEMENT.search(tail + block):
                    break
                tail = block[-32:]
        found = []
        shared: dict[str, str] = {}
        with archive.open(sheet_path.lstrip("/")) as member:
            row = column = 0
            for event, element in iterparse(member, events=("start", "end")):
                tag = element.tag
                if event == "start":
                    if tag == f"{_SHEET_NS}row":  # cells may leave out their reference; rows too
                        row = int(element.get("r") or row + 1)
                        column = 0
                    continue
                if tag == f"{_SHEET_NS}c":
                    reference = element.get("r")
                    if reference:
                        row, column = coordinate_to_tuple(reference)
                    else:
                        column += 1
                    formula = element.find(f"{_SHEET_NS}f")
                    if formula is not None:
                        text = formula.text
                        if formula.get("t") == "shared" and formula.get("si") is not None:
                            if text:
                                shared[formula.get("si")] = text
                            else:
                                text = shared.get(formula.get("si"))
                        value = element.find(f"{_SHEET_NS}v")
                        stored = value is not None and (bool(value.text) or element.get("t") == "str")  # "" is a result
                        if not stored and element.get("t") != "inlineStr":
                            found.append((row, column, "=" + (text or "")))
                    element.clear()
                elif tag == f"{_SHEET_NS}row":
                    element.clear()
        return found


def _report_formulas(formulas, rows: list, raw: pd.DataFrame, file_name: str, problems: list[Problem]) -> None:
    """One error per formula cell without a stored result; their cells are marked in ``raw.attrs``
    (``formula_cells``: column -> row positions) so that they are not also reported as missing."""
    header = [str(cell).strip().lower() if cell is not None else "" for cell in rows[0]]
    id_at = header.index("trajectory_id") if "trajectory_id" in header else None
    cells: dict[str, list[int]] = {}
    for row, column, formula in formulas:
        name = header[column - 1] if column <= len(header) and header[column - 1] else f"(column {column})"
        trajectory_id = None
        if id_at is not None and row >= 2 and row <= len(rows) and id_at < len(rows[row - 1]):
            cell = rows[row - 1][id_at]
            cell = int(cell) if isinstance(cell, float) and cell.is_integer() else cell
            trajectory_id = None if cell is None else (str(cell).strip() or None)
        problems.append(
            Problem(
                file_name, row, name, formula,
                "a value; the cell holds a formula without a stored result — open and save the file in Excel or "
                "LibreOffice, or export values",
                trajectory_id=trajectory_id, kind="formula_without_value", params=(("formula", formula),),
            )
        )
        cells.setdefault(name, []).append(row - 2)
    raw.attrs["formula_cells"] = {name: np.array(positions) for name, positions in cells.items()}


def _normalise_header(raw, file_name, problems, unnamed_reported: set, check_names: bool) -> pd.DataFrame | None:
    """Column names stripped and lower-cased; unnamed empty columns dropped; repeated names an error."""
    names = [str(name).strip().lower() for name in raw.columns]
    for i, name in enumerate(names):
        if not name and i not in unnamed_reported and raw.iloc[:, i].notna().any():
            unnamed_reported.add(i)
            problems.append(
                Problem(
                    file_name, 1, f"(column {i + 1})", None, "every column with values needs a name",
                    kind="column_unnamed", params=(("position", i + 1),),
                )
            )
    if check_names:
        repeated = sorted({name for name in names if name and names.count(name) > 1})
        for name in repeated:
            problems.append(Problem(file_name, 1, name, None, "each column name only once", kind="column_repeated"))
        if repeated:
            return None
    attrs = dict(raw.attrs)
    raw = raw.set_axis(names, axis=1).loc[:, [bool(name) for name in names]]
    raw.attrs = attrs
    return raw


def _check_header(columns: list[str], table: str, file_name: str, problems: list[Problem]) -> bool:
    """Report missing required columns (an error) and extra columns (a warning); False when any is missing."""
    contract = schema.columns(table)
    missing = [name for name, col in contract.items() if col.required and name not in columns]
    for name in missing:
        problems.append(
            Problem(file_name, 1, name, None, "a required column; it is missing from the header", kind="column_missing")
        )
    extra = [name for name in columns if name not in contract]
    if extra:
        problems.append(
            Problem(
                file_name, None, ", ".join(extra), None, "column(s) not in the data contract; kept as text",
                severity="warning", kind="columns_extra", params=(("columns", ", ".join(extra)),),
            )
        )
    return not missing


# -- parsing ------------------------------------------------------------------


class _Forms:
    """Text delivered in more than one Unicode normalisation form, across the files of a delivery.

    Every text and code value is read in NFC (a composed ``ë``); macOS writes the decomposed form
    (``e`` and a combining diaeresis), which looks the same but is another text. :meth:`normalise`
    converts and records, per ``(table, column)``, the rows whose value changed and the non-ASCII
    values that arrived composed; :meth:`warnings` names the texts that arrived in both forms.
    """

    def __init__(self):
        self.changed: dict[tuple[str, str], list[tuple[str, np.ndarray, np.ndarray]]] = {}
        self.composed: dict[tuple[str, str], set[str]] = {}

    def mark(self) -> dict:
        return {key: len(entries) for key, entries in self.changed.items()}

    def rollback(self, mark: dict) -> None:
        """Forget what was recorded after ``mark`` (a file read again from the start)."""
        for key in list(self.changed):
            del self.changed[key][mark.get(key, 0) :]

    def normalise(self, values: pd.Series, key: tuple[str, str], file_name: str, rows_of) -> pd.Series:
        """``values`` (Arrow-backed text) in NFC.

        ``rows_of(positions)`` returns ``(rows, owner)``: the row numbers that hold the values at
        ``positions`` and, per row, the index into ``positions`` of its value. Only non-ASCII values
        are looked at, so that the usual all-ASCII column costs one vectorised scan.
        """
        if len(values) == 0:
            return values
        array = pa.array(values.array)
        positions = _non_ascii_positions(array)
        if len(positions) == 0:
            return values
        delivered = array.take(pa.array(positions))
        distinct = pc.unique(delivered).drop_null()  # normalised once per distinct text
        distinct_nfc = pc.utf8_normalize(distinct, "NFC")
        distinct_changed = pc.not_equal(distinct, distinct_nfc).to_numpy(zero_copy_only=False)
        self.composed.setdefault(key, set()).update(distinct.filter(pa.array(~distinct_changed)).to_pylist())
        if not distinct_changed.any():
            return values
        nfc = pc.utf8_normalize(delivered, "NFC")
        changed = pc.fill_null(pc.not_equal(delivered, nfc), False).to_numpy(zero_copy_only=False)
        fixed = nfc.filter(pa.array(changed)).to_pylist()
        rows, owner = rows_of(positions[changed])
        self.changed.setdefault(key, []).append((file_name, np.array(fixed, dtype=object)[owner], rows))
        out = values.copy()
        out.iloc[positions[changed]] = fixed
        return out

    def warnings(self) -> list[Problem]:
        """One warning per file, column and text that occurs in both forms in the delivery's column."""
        out = []
        for (table, column), entries in self.changed.items():
            composed = self.composed.get((table, column), set())
            by_file: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
            for file_name, values, rows in entries:
                by_file.setdefault(file_name, []).append((values, rows))
            for file_name, parts in by_file.items():
                values = np.concatenate([v for v, _ in parts])
                rows = np.concatenate([r for _, r in parts])
                both = np.isin(values, np.array(sorted(composed), dtype=object)) if composed else np.zeros(len(values), bool)
                for value in dict.fromkeys(values[both].tolist()):
                    value_rows = np.sort(rows[values == value])
                    listed = _rows_listed(value_rows)
                    out.append(
                        Problem(
                            file_name, None, column, value,
                            f"one Unicode form per text: {value!r} occurs in the delivery both composed and decomposed "
                            f"(as macOS writes it); read as one text. Decomposed in {len(value_rows)} row(s): rows {listed}",
                            severity="warning", kind="unicode_forms_mixed",
                            params=(("value", value), ("count", len(value_rows)), ("rows", listed)),
                        )
                    )
        return out


def _any_high_byte(data: np.ndarray) -> bool:
    """Whether any byte of ``data`` (uint8) is 0x80 or above: an OR over 8 bytes at a time."""
    whole = len(data) // 8 * 8
    if whole and np.bitwise_or.reduce(data[:whole].view(np.uint64)) & 0x8080808080808080:
        return True
    return bool(len(data) > whole and data[whole:].max() >= 0x80)


def _non_ascii_positions(array) -> np.ndarray:
    """Positions of the values of an Arrow string array that hold a non-ASCII character.

    Found from the bytes behind the array (one vectorised scan; the offsets map the few non-ASCII
    bytes to their values), which is much faster than a per-value kernel on the usual ASCII column.
    """
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    found, start = [], 0
    for chunk in chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            chunk = chunk.cast(pa.large_string())  # another string type (string_view)
        _, offsets, data = chunk.buffers()
        if data is not None and data.size:
            offsets = np.frombuffer(offsets, dtype=np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
            offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
            data = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]
            if not _any_high_byte(data):
                start += len(chunk)
                continue
            high = np.flatnonzero(data >= 0x80)
            if len(high):
                found.append(start + np.unique(np.searchsorted(offsets, high + offsets[0], side="right") - 1))
        start += len(chunk)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _normaliser(forms: _Forms | None, key: tuple[str, str], file_name: str, index: pd.Index):
    """A function ``nfc(values, codes=None)`` that brings a column's text to NFC via ``forms``.

    ``values`` are the column's values (``codes`` None) or its distinct values with ``codes``, the
    position of each row's value (-1 missing), as ``pd.factorize`` gives them.
    """
    if forms is None:
        return None

    def nfc(values: pd.Series, codes: np.ndarray | None = None) -> pd.Series:
        def rows_of(positions: np.ndarray):
            if codes is None:
                return index.to_numpy()[positions] + 2, np.arange(len(positions))
            holding = np.isin(codes, positions)
            return index.to_numpy()[holding] + 2, np.searchsorted(positions, codes[holding])

        return forms.normalise(values, key, file_name, rows_of)

    return nfc


def _parse_table(raw: pd.DataFrame, table: str, file_name: str, settings: Settings, problems: list[Problem], forms=None):
    """The contract columns of ``table`` parsed to their dtypes (plus extra columns as text).

    Columns missing from ``raw`` are added empty (a missing required column is reported by
    ``_check_header``); its parsed columns are deleted from ``raw`` as they are parsed, except those
    ``_check_trajectory_rows`` still needs. Problems go to ``problems``; every row problem carries the
    row's ``trajectory_id`` once that column is parsed (it is the first of every table).
    """
    contract = schema.columns(table)
    extra = [name for name in raw.columns if name not in contract]
    decimal_comma = bool(raw.attrs.get("decimal_comma", False))
    formula_cells = raw.attrs.get("formula_cells", {})
    out: dict[str, object] = {}
    ids = None
    for name, col in contract.items():
        if name not in raw.columns:
            out[name] = pd.Series(index=raw.index, dtype=col.dtype)
            continue
        series = raw[name]
        if name == "end_reason" and table == "trajectories":
            out[name] = series  # parsed with care_form in _check_trajectory_rows
            continue
        nfc = _normaliser(forms, (table, name), file_name, series.index)
        if name == "care_form" and table == "trajectories":
            values, flagged = _parse_care_form(series, col, out["care_type"], file_name, problems, ids, nfc)
        else:
            bounds = _bounds(table, col, settings)
            values, flagged = _parse_column(series, col, decimal_comma, file_name, bounds, problems, ids, nfc)
        if name in formula_cells:  # reported as formulas without a stored result
            flagged = flagged | np.isin(series.index.to_numpy(), formula_cells[name])
        if col.required:
            missing = _missing(values) & ~flagged
            _report(problems, file_name, name, series, missing, "a value is required", kind="required_missing", ids=ids)
        out[name] = values
        if name == "trajectory_id":
            ids = values
        if name not in _RAW_KEPT:
            del raw[name]  # free the raw text as we go (peak memory)
        del series
    for name in extra:
        out[name] = _text(raw.pop(name), _normaliser(forms, (table, name), file_name, raw.index))
    frame = pd.DataFrame(out, index=raw.index)
    if table == "goals":
        frame["informant"] = frame["informant"].fillna("gezamenlijk")
        frame["weight"] = frame["weight"].fillna(1.0)
    return frame


def _bounds(table: str, col: schema.Column, settings: Settings) -> tuple[float | None, float | None]:
    if col.name == "birth_year":
        return schema.BIRTH_YEAR_MIN, pd.Timestamp.today().year
    if table == "goals" and col.name == "score":
        return settings.gas_scale
    return col.low, col.high


def _parse_column(series, col, decimal_comma, file_name, bounds, problems, ids=None, nfc=None):
    """One column parsed to the contract dtype; unparsable and out-of-range values reported."""
    if col.kind in ("text", "codelist"):
        if col.kind == "codelist":
            codes, text = _by_unique(series, nfc)  # normalise the distinct lists only
            text = text.str.lower().str.replace(r"\s*;\s*", ";", regex=True).str.strip(" ;")
            text = text.mask(text == "")
            values = pd.Series(text.array.take(codes, allow_fill=True), index=series.index).astype("string")
            return values, _check_codelist(values, col, file_name, series, problems, ids)
        values = _text(series, nfc)
        return values, np.zeros(len(values), dtype=bool)
    if col.kind == "code":
        codes, bad = _category_codes(series, col, nfc)
        _report(problems, file_name, col.name, series, bad, _codes_expected(col), kind="code_unknown",
                params=(("codes", ", ".join(col.codes)),), ids=ids)
        return pd.Series(pd.Categorical.from_codes(codes, dtype=col.dtype), index=series.index), bad
    if col.kind == "date":
        values, bad, impossible = _dates(series)
        _report(problems, file_name, col.name, series, bad & ~impossible, "a date like 31-12-2023 or 2023-12-31",
                kind="date_invalid", ids=ids)
        _report(problems, file_name, col.name, series, impossible, "a date that exists; this date is not in the calendar",
                kind="date_impossible", ids=ids)
        return values, bad
    if col.kind == "bool":
        values, bad = _booleans(series)
        _report(problems, file_name, col.name, series, bad, "ja/nee, j/n, true/false or 1/0", kind="bool_invalid", ids=ids)
        return values, bad
    # int or number
    numbers, bad = _numbers(series, decimal_comma)
    if col.kind == "int":
        fraction = ~bad & np.isfinite(numbers) & (numbers != np.round(numbers))
        bad |= fraction
    if col.kind == "int":
        _report(problems, file_name, col.name, series, bad, "a whole number", kind="whole_number_invalid", ids=ids)
    else:
        _report(problems, file_name, col.name, series, bad, "a number", kind="number_invalid", ids=ids)
    low, high = bounds
    outside = np.zeros(len(numbers), dtype=bool)
    if low is not None:
        outside |= numbers < low
    if high is not None:
        outside |= numbers > high
    outside &= ~bad
    if outside.any():
        _report(problems, file_name, col.name, series, outside, _range_expected(low, high), **_range_kind(low, high), ids=ids)
    flagged = bad | outside
    numbers = np.where(flagged, np.nan, numbers)
    if col.kind == "int":
        return pd.Series(pd.array(numbers, dtype="Float64").astype(col.dtype), index=series.index), flagged
    return pd.Series(numbers, index=series.index, dtype="float64"), flagged


def _parse_care_form(series, col, care_type: pd.Series, file_name, problems, ids, nfc):
    """``care_form`` to its category; an unknown form lists the forms of the row's care type (all when
    the care type is unknown too), with their CBS codes."""
    codes, bad = _category_codes(series, col, nfc)
    type_code = care_type.cat.codes.to_numpy()
    texts = np.array([f"a care form of {t}: {_FORMS_LISTED[t]}" for t in schema.CARE_TYPES], dtype=object)
    params = [_care_type_params(t, "forms", _FORMS_LISTED[t]) for t in schema.CARE_TYPES]
    _report(problems, file_name, col.name, series, bad & (type_code >= 0), lambda pos: texts[type_code[pos]],
            kind="care_form_unknown_for_type", params=lambda pos: [params[t] for t in type_code[pos]], ids=ids)
    _report(problems, file_name, col.name, series, bad & (type_code < 0), _codes_expected(col), kind="care_form_unknown",
            params=(("codes", ", ".join(col.codes)), ("cbs_codes", ", ".join(schema.CBS_CARE_FORM))), ids=ids)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=col.dtype), index=series.index), bad


def _range_expected(low, high) -> str:
    fmt = lambda x: f"{x:g}"  # noqa: E731
    if low is not None and high is not None:
        return f"a value from {fmt(low)} to {fmt(high)}"
    if low is not None:
        return f"a value of at least {fmt(low)}"
    return f"a value of at most {fmt(high)}"


def _range_kind(low, high) -> dict:
    """``kind`` and ``params`` of an out-of-range problem."""
    if low is not None and high is not None:
        return dict(kind="out_of_range", params=(("low", f"{low:g}"), ("high", f"{high:g}")))
    if low is not None:
        return dict(kind="below_minimum", params=(("low", f"{low:g}"),))
    return dict(kind="above_maximum", params=(("high", f"{high:g}"),))


def _codes_expected(col: schema.Column) -> str:
    expected = "one of " + ", ".join(col.codes)
    if col.name == "care_form":
        expected += " (or a CBS code: " + ", ".join(schema.CBS_CARE_FORM) + ")"
    return expected


def _by_unique(series: pd.Series, nfc=None):
    """Factorise: (codes per row with -1 for missing, the distinct values as stripped text with NA for blank).

    With ``nfc`` (see ``_normaliser``) the distinct values are brought to Unicode NFC.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    text = _as_text(pd.Series(uniques)).str.strip()
    if nfc is not None:
        text = nfc(text, codes)
    return codes, text.mask(text == "")


def _spread(values: np.ndarray, codes: np.ndarray, fill) -> np.ndarray:
    """Per-unique ``values`` spread over the rows by factorize ``codes`` (-1 gives ``fill``)."""
    return np.append(values, np.array([fill], dtype=values.dtype))[codes]


def _category_codes(series: pd.Series, col: schema.Column, nfc=None) -> tuple[np.ndarray, np.ndarray]:
    """Category codes (positions in ``col.codes``, -1 missing) and the mask of unknown codes."""
    codes, text = _by_unique(series, nfc)
    text = text.str.lower()
    if col.name == "care_form":
        text = text.replace(schema.CBS_CARE_FORM)
    positions = pd.Index(col.codes).get_indexer(text)
    bad_u = (positions < 0) & text.notna().to_numpy()
    return _spread(positions, codes, -1), _spread(bad_u, codes, False)


def _dates(series: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Calendar dates, the mask of values that are not dates, and (within it) of dates that do not exist.

    Timestamps are read as their calendar date; time-zone-aware ones as the date in ``TIME_ZONE``.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert(TIME_ZONE).dt.tz_localize(None)
        none = np.zeros(len(series), dtype=bool)
        return series.astype("datetime64[ns]").dt.normalize(), none, none
    codes, text = _by_unique(series)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in _DATE_FORMATS:
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce").astype("datetime64[ns]")
    bad_u = (parsed.isna() & text.notna()).to_numpy()
    impossible_u = np.zeros(len(text), dtype=bool)
    if bad_u.any():
        impossible_u[bad_u] = text[bad_u].str.fullmatch(_DATE_SHAPE).fillna(False).to_numpy(dtype=bool)
    values = _spread(parsed.dt.normalize().to_numpy(), codes, np.datetime64("NaT", "ns"))
    return (
        pd.Series(values, index=series.index, dtype="datetime64[ns]"),
        _spread(bad_u, codes, False),
        _spread(impossible_u, codes, False),
    )


def _booleans(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean"), np.zeros(len(series), dtype=bool)
    codes, text = _by_unique(series)
    text = text.str.lower().str.replace(r"\.0$", "", regex=True)
    true = text.isin(schema.TRUE_WORDS).to_numpy()
    false = text.isin(schema.FALSE_WORDS).to_numpy()
    bad_u = ~true & ~false & text.notna().to_numpy()
    state = np.where(true, 1, np.where(false, 0, -1)).astype(np.int8)
    state = _spread(state, codes, -1)
    values = pd.array(state == 1, dtype="boolean")
    values[state < 0] = pd.NA
    return pd.Series(values, index=series.index), _spread(bad_u, codes, False)


def _numbers(series: pd.Series, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray]:
    """Float values (NaN when missing or bad) and the mask of values that are not numbers."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.astype("float64").to_numpy()
        return values, np.isinf(values)
    codes, text = _by_unique(series)
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    parsed = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
    bad_u = (~np.isfinite(parsed)) & text.notna().to_numpy()
    parsed = np.where(bad_u, np.nan, parsed)
    return _spread(parsed, codes, np.nan), _spread(bad_u, codes, False)


def _check_codelist(values: pd.Series, col: schema.Column, file_name: str, series: pd.Series, problems, ids=None) -> np.ndarray:
    """Report cells of a ``;``-separated code list holding an unknown code."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) == 0:
        return np.zeros(len(values), dtype=bool)
    lists = pc.split_pattern(pa.array(list(uniques), type=pa.string()), ";")
    tokens = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy()
    unknown = ~pc.is_in(tokens, value_set=pa.array(col.codes)).to_numpy(zero_copy_only=False)
    unknown &= pc.not_equal(tokens, "").to_numpy(zero_copy_only=False)
    bad_u = np.zeros(len(uniques), dtype=bool)
    bad_u[parents[unknown]] = True
    bad = _spread(bad_u, codes, False)
    _report(problems, file_name, col.name, series, bad, "codes separated by ';' from: " + ", ".join(col.codes),
            kind="codelist_unknown", params=(("codes", ", ".join(col.codes)),), ids=ids)
    return bad


def _text(series: pd.Series, nfc=None) -> pd.Series:
    """Text stripped of surrounding blanks, blank as missing, dtype ``string``; in NFC with ``nfc``."""
    text = _as_text(series).str.strip()
    if nfc is not None:
        text = nfc(text)
    return text.mask(text == "").astype("string")


def _as_text(series: pd.Series) -> pd.Series:
    """Any column as Arrow-backed text: whole floats without ``.0``, dates as ISO, booleans as true/false."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = _as_text(pd.Series(dtype.categories))
        return pd.Series(categories.array.take(series.cat.codes.to_numpy(), allow_fill=True), index=series.index)
    if pd.api.types.is_string_dtype(dtype) and dtype != object:
        return series.astype(_TEXT)
    if pd.api.types.is_bool_dtype(dtype):
        return series.map({True: "true", False: "false"}, na_action="ignore").astype(_TEXT)
    if pd.api.types.is_integer_dtype(dtype):
        return series.astype("Int64").astype(_TEXT).mask(series.isna())
    if pd.api.types.is_float_dtype(dtype):
        values = series.astype("float64")
        whole = values.notna() & np.isfinite(values) & (values == np.round(values)) & (values.abs() < 2**53)
        text = values.astype(_TEXT)
        text[whole] = values[whole].astype("int64").astype(_TEXT)
        return text.mask(values.isna())
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return series.dt.strftime("%Y-%m-%d").astype(_TEXT)
    text = series.astype(_TEXT).mask(series.isna())
    return text.str.replace(r"^(-?\d+)\.0$", r"\1", regex=True)


def _missing(values) -> np.ndarray:
    return pd.isna(values).to_numpy() if hasattr(values, "to_numpy") else pd.isna(values)


def _report(problems: list[Problem], file_name: str, column: str, raw: pd.Series, bad: np.ndarray, expected, *, kind: str,
            params=(), ids: pd.Series | None = None) -> None:
    """Add one Problem per row flagged in ``bad`` (a boolean mask aligned with ``raw``).

    ``expected`` (the English text) and ``params`` (the catalogue's placeholders, a tuple of pairs) are
    each fixed, or a function of the flagged positions returning one per position (so that per-row
    texts are only built for the bad rows). ``ids``, aligned with ``raw``, gives each problem its row's
    ``trajectory_id`` (stripped text; None when missing).
    """
    positions = np.flatnonzero(bad)
    if len(positions) == 0:
        return
    n = len(positions)
    rows = (raw.index.to_numpy()[positions] + 2).tolist()
    values = _as_text(raw.iloc[positions]).tolist()
    texts = [expected] * n if isinstance(expected, str) else list(expected(positions))
    pars = [params] * n if isinstance(params, tuple) else [tuple(p) for p in params(positions)]
    if ids is None:
        trajectory_ids = [None] * n
    else:
        trajectory_ids = [None if pd.isna(t) else t for t in _as_text(ids.iloc[positions]).str.strip().tolist()]
    problems.extend(
        Problem(file_name, row, column, None if pd.isna(value) else value, text,
                trajectory_id=trajectory_id or None, kind=kind, params=par)
        for row, value, text, par, trajectory_id in zip(rows, values, texts, pars, trajectory_ids)
    )


# -- checks across columns and files -------------------------------------------------


def _check_unique_ids(frame: pd.DataFrame, file_name: str, problems) -> None:
    """A trajectory_id repeated within one file is an error at every repeat, naming the first row."""
    ids = frame["trajectory_id"]
    repeated = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
    if not repeated.any():
        return
    first = ids[~ids.duplicated(keep="first") & ids.notna()]
    first_row = pd.Series(first.index.to_numpy() + 2, index=first.to_numpy())

    def rows_of(positions):
        return first_row.reindex(ids.iloc[positions].to_numpy()).to_numpy()

    _report(
        problems, file_name, "trajectory_id", ids, repeated,
        lambda pos: [f"a trajectory_id used once per file; it is also in row {row}" for row in rows_of(pos)],
        kind="id_repeated", params=lambda pos: [(("first_row", int(row)),) for row in rows_of(pos)], ids=ids,
    )


def _check_trajectory_rows(frame: pd.DataFrame, raw: pd.DataFrame, file_name: str, limit: _Limit, problems, forms=None) -> None:
    """Checks that involve several columns of a trajectories row; parses ``end_reason`` in place.

    A check that needs a column the file lacks finds nothing (the column is empty in ``frame``).
    """
    ids = frame["trajectory_id"]
    nfc = _normaliser(forms, ("trajectories", "end_reason"), file_name, frame.index)
    _parse_end_reason(frame, file_name, problems, ids, nfc)

    form = frame["care_form"].cat.codes.to_numpy()
    care_type = frame["care_type"].cat.codes.to_numpy()
    type_of_form = np.array([schema.CARE_TYPES.index(schema.CARE_TYPE_OF_FORM[f]) for f in schema.ALL_CARE_FORMS])
    misfit = (form >= 0) & (care_type >= 0) & (type_of_form[form.clip(0)] != care_type)
    if misfit.any():
        texts = np.array([f"a care form of {t}: {_FORMS_LISTED[t]}" for t in schema.CARE_TYPES], dtype=object)
        params = [_care_type_params(t, "forms", _FORMS_LISTED[t]) for t in schema.CARE_TYPES]
        _report(problems, file_name, "care_form", raw["care_form"], misfit, lambda pos: texts[care_type[pos]],
                kind="care_form_misfit", params=lambda pos: [params[t] for t in care_type[pos]], ids=ids)

    start, end = frame["start_date"], frame["end_date"]
    before = (end < start).to_numpy(dtype=bool)
    if before.any():
        starts = lambda pos: start.iloc[pos].dt.strftime("%d-%m-%Y").tolist()  # noqa: E731
        _report(
            problems, file_name, "end_date", raw.get("end_date", end), before,
            lambda pos: ["not before start_date " + s for s in starts(pos)],
            kind="end_before_start", params=lambda pos: [(("start_date", s),) for s in starts(pos)], ids=ids,
        )
    for name in DATE_COLUMNS:
        if name in raw.columns:
            late = (frame[name] > limit.date).to_numpy(dtype=bool)
            _report(problems, file_name, name, raw[name], late, f"a date on or before {limit.text}",
                    kind=limit.kind, params=limit.params, ids=ids)


def _parse_end_reason(frame: pd.DataFrame, file_name: str, problems, ids=None, nfc=None) -> None:
    """``end_reason`` to its category: CBS numbers mapped per care form, fit with care_form checked.

    An unknown end reason lists the reasons of the row's care form; when the care form is unknown,
    those of its care type; when that is unknown too, all.
    """
    column = schema.columns("trajectories")["end_reason"]
    reasons = pd.Index(column.codes)
    forms = schema.ALL_CARE_FORMS
    form = frame["care_form"].cat.codes.to_numpy()  # -1: no valid care form
    care_type = frame["care_type"].cat.codes.to_numpy()
    raw = frame["end_reason"]
    if isinstance(raw.dtype, pd.CategoricalDtype) and raw.dtype == column.dtype:
        reason, unknown = raw.cat.codes.to_numpy().copy(), np.zeros(len(raw), dtype=bool)
        given = reason >= 0
    elif raw.isna().all():
        reason, unknown = np.full(len(raw), -1), np.zeros(len(raw), dtype=bool)
        given = unknown
    else:
        codes, text = _by_unique(raw, nfc)
        text = text.str.lower()
        numeric = text.str.fullmatch(r"\d{1,2}").fillna(False).astype(bool)
        padded = text.where(~numeric, text.str.zfill(2))
        present = text.notna().to_numpy()
        n_unique = len(text)
        # lookup[g, u]: category of distinct value u for a row of care form g (last row: no valid care form)
        lookup = np.full((len(forms) + 1, n_unique + 1), -1)
        bad = np.zeros((len(forms) + 1, n_unique + 1), dtype=bool)
        for g, name in enumerate(forms + ("",)):
            group = schema.END_REASON_GROUP_OF_FORM.get(name)
            cbs = schema.CBS_END_REASON[group] if group else {"99": "onbekend"}
            mapped = padded.where(~numeric, padded.map(cbs))
            lookup[g, :n_unique] = reasons.get_indexer(mapped)
            bad[g, :n_unique] = (lookup[g, :n_unique] < 0) & present
            if not group:  # numbers cannot be read without a care form; the care_form problem is reported
                bad[g, :n_unique] &= ~numeric.to_numpy()
        reason, unknown = lookup[form, codes], bad[form, codes]
        given = _spread(present, codes, False)
        if unknown.any():
            for_form = [
                _reasons_listed([schema.END_REASON_GROUP_OF_FORM[f]]) for f in forms
            ]
            _report(problems, file_name, "end_reason", raw, unknown & (form >= 0),
                    lambda pos: [f"an end reason for {forms[f]}: {for_form[f]}" for f in form[pos]],
                    kind="end_reason_unknown_for_form",
                    params=lambda pos: [(("care_form", forms[f]), ("reasons", for_form[f])) for f in form[pos]], ids=ids)
            by_type = unknown & (form < 0) & (care_type >= 0)
            type_params = [_care_type_params(t, "reasons", _REASONS_OF_TYPE[t]) for t in schema.CARE_TYPES]
            type_texts = [f"an end reason for {t}: {_REASONS_OF_TYPE[t]}" for t in schema.CARE_TYPES]
            _report(problems, file_name, "end_reason", raw, by_type,
                    lambda pos: [type_texts[t] for t in care_type[pos]],
                    kind="end_reason_unknown_for_type",
                    params=lambda pos: [type_params[t] for t in care_type[pos]],
                    ids=ids)
            _report(problems, file_name, "end_reason", raw, unknown & (form < 0) & (care_type < 0),
                    "one of " + ", ".join(column.codes), kind="end_reason_unknown",
                    params=(("codes", ", ".join(column.codes)),), ids=ids)

    fits = np.ones((len(forms) + 1, len(reasons) + 1), dtype=bool)
    for g, name in enumerate(forms):
        fits[g, : len(reasons)] = [schema.end_reason_fits(name, r) for r in reasons]
    misfit = ~fits[form, reason] & ~unknown
    if misfit.any():
        fitting = [", ".join(schema.END_REASONS[schema.END_REASON_GROUP_OF_FORM[f]]) for f in forms]
        _report(
            problems, file_name, "end_reason", raw, misfit,
            lambda pos: [f"an end reason that fits care_form {forms[f]}: {fitting[f]}" for f in form[pos]],
            kind="end_reason_misfit",
            params=lambda pos: [(("care_form", forms[f]), ("reasons", fitting[f])) for f in form[pos]], ids=ids,
        )

    # ended without a reason; not a reason that could not be read (a CBS number without a care form)
    ended_unknown = frame["end_date"].notna().to_numpy() & (reason < 0) & ~given
    if ended_unknown.any():
        reason = np.where(ended_unknown, reasons.get_loc("onbekend"), reason)
    frame.attrs["ended_without_reason"] = frame.index.to_numpy()[ended_unknown] + 2
    frame["end_reason"] = pd.Categorical.from_codes(np.where(unknown | ~fits[form, reason], -1, reason), dtype=column.dtype)


def _order_deliveries(parsed: list[tuple[str, pd.DataFrame]], problems):
    """The trajectories files in delivery order: by the latest date each contains, ties by file name.

    ``parsed`` comes in file-name order. A pair of files whose content order differs from their name
    order, and that share a trajectory_id (so that the order decides which record is kept), gets a
    warning naming both and their latest dates; files of different institutions or periods without a
    common trajectory are not worth a remark. Returns the ordered list, the latest date of each file (by
    name) and each file's rank by its name part after ``trajectories``.
    """
    latest = {name: latest_date_or_nat(frame) for name, frame in parsed}
    order = sorted(range(len(parsed)), key=lambda i: (_sort_date(latest[parsed[i][0]]), i))
    names = [name for name, _ in parsed]
    inverted = [
        (i, j) for i in range(len(names)) for j in range(i + 1, len(names))
        if not pd.isna(latest[names[i]]) and not pd.isna(latest[names[j]]) and latest[names[i]] > latest[names[j]]
    ]
    if inverted:
        shared = _sharing_pairs(parsed)
        for i, j in inverted:
            if (i, j) in shared:
                earlier_name, later_name = names[i], names[j]
                a, b = latest[earlier_name], latest[later_name]
                problems.append(
                    Problem(
                        earlier_name, None, None, None,
                        f"read as the later delivery: its latest date {a:%d-%m-%Y} is after that of {later_name} "
                        f"({b:%d-%m-%Y}), although its name sorts before it; a trajectory_id in both keeps the record "
                        f"of {earlier_name}",
                        severity="warning", kind="delivery_order",
                        params=(("file", earlier_name), ("latest", f"{a:%d-%m-%Y}"),
                                ("other", later_name), ("other_latest", f"{b:%d-%m-%Y}")),
                    )
                )
    ordered = [parsed[i] for i in order]
    ranks: dict[str, int] = {}
    for rank, (name, _) in enumerate(ordered):
        ranks[_delivery_key(name, "trajectories")] = rank
    return ordered, latest, ranks


def _sharing_pairs(parsed: list[tuple[str, pd.DataFrame]]) -> set[tuple[int, int]]:
    """The pairs ``(i, j)``, ``i < j``, of files that have a trajectory_id in common."""
    ids = pd.concat([frame["trajectory_id"] for _, frame in parsed], ignore_index=True)
    codes, _ = pd.factorize(ids, use_na_sentinel=True)
    files = np.repeat(np.arange(len(parsed)), [len(frame) for _, frame in parsed])
    table = pd.DataFrame({"id": codes, "file": files})
    table = table[table["id"] >= 0].drop_duplicates()
    table = table[table["id"].duplicated(keep=False)]
    pairs = table.merge(table, on="id")
    pairs = pairs[pairs["file_x"] < pairs["file_y"]][["file_x", "file_y"]].drop_duplicates()
    return set(zip(pairs["file_x"].tolist(), pairs["file_y"].tolist()))


def _sort_date(date) -> pd.Timestamp:
    return pd.Timestamp.min if pd.isna(date) else date


def _delivery_key(file_name: str, table: str) -> str:
    """The part of a file name after its table prefix, without extension: pairs goals with trajectories."""
    return Path(file_name).stem.lower()[len(table) :]


def _order_by_delivery(parsed: list[tuple[str, pd.DataFrame]], table: str, ranks: dict[str, int]):
    """Goals or experience files in the order of the trajectories deliveries they pair with.

    When any file pairs with no delivery, the file-name order (``parsed`` as it comes) is kept.
    """
    keys = [_delivery_key(name, table) for name, _ in parsed]
    if len(parsed) < 2 or not all(key in ranks for key in keys):
        return parsed
    order = sorted(range(len(parsed)), key=lambda i: (ranks[keys[i]], i))
    return [parsed[i] for i in order]


def _combine(parsed: list[tuple[str, pd.DataFrame]], table: str, problems, latest: dict | None = None) -> pd.DataFrame:
    """One table from the files' frames (in delivery order): later deliveries replace earlier records."""
    if not parsed:
        return schema.empty_frame(table)
    if len(parsed) == 1:
        frame = parsed[0][1]
    else:
        lengths = [len(f) for _, f in parsed]
        rows = np.concatenate([f.index.to_numpy() + 2 for _, f in parsed])
        frame = pd.concat([f for _, f in parsed], ignore_index=True)
        order = np.repeat(np.arange(len(parsed)), lengths)
        ids = frame["trajectory_id"]
        if table == "trajectories":
            keep = ~ids.duplicated(keep="last").to_numpy()
            if latest is not None and not keep.all():
                _check_conflicts(frame, keep, order, rows, [name for name, _ in parsed], latest, problems)
        else:  # the latest file that has rows of a trajectory holds all its rows
            keep = order == pd.Series(order).groupby(ids.to_numpy(), dropna=False).transform("max").to_numpy()
        n_replaced = int((~keep).sum())
        if n_replaced:
            problems.append(
                Problem(
                    ", ".join(name for name, _ in parsed),
                    None,
                    "trajectory_id",
                    None,
                    f"{n_replaced} {table} record(s) replaced by a later delivery of the same trajectory",
                    severity="warning",
                    kind="records_replaced",
                    params=(("count", n_replaced), ("table", table), ("files", ", ".join(name for name, _ in parsed))),
                )
            )
        frame = frame[keep]
        contract = list(schema.columns(table))
        extras = [c for c in frame.columns if c not in contract]
        frame = frame[contract + extras].astype({c: "string" for c in extras})
    return frame.reset_index(drop=True)


def _check_conflicts(frame, keep, order, rows, names, latest, problems) -> None:
    """Records of one trajectory_id in two deliveries with the same latest date that differ: an error.

    Neither delivery is later than the other, so neither record can be said to replace the other.
    ``frame`` holds the deliveries concatenated in delivery order; ``keep`` marks each id's last record.
    """
    ids = frame["trajectory_id"]
    replaced = np.flatnonzero(~keep & ids.notna().to_numpy())
    if len(replaced) == 0:
        return
    kept = np.flatnonzero(keep & _isin(ids, ids.iloc[replaced]))
    partner = pd.Series(kept, index=ids.iloc[kept].to_numpy()).reindex(ids.iloc[replaced].to_numpy()).to_numpy()
    dates = np.array([_sort_date(latest[name]) for name in names], dtype="datetime64[ns]")
    tie = (order[replaced] != order[partner]) & (dates[order[replaced]] == dates[order[partner]])
    tie &= ~np.array([pd.isna(latest[name]) for name in names])[order[replaced]]
    a, b = replaced[tie], partner[tie]
    if len(a) == 0:
        return
    contract = list(schema.columns("trajectories"))
    differs = np.zeros((len(a), len(contract)), dtype=bool)
    for k, name in enumerate(contract):
        x = frame[name].iloc[a].reset_index(drop=True)
        y = frame[name].iloc[b].reset_index(drop=True)
        same = (x == y).fillna(False).to_numpy(dtype=bool) | (x.isna() & y.isna()).to_numpy(dtype=bool)
        differs[:, k] = ~same
    for i in np.flatnonzero(differs.any(axis=1)):
        trajectory_id = ids.iloc[a[i]]
        other, other_row = names[order[b[i]]], int(rows[b[i]])
        columns = ", ".join(name for k, name in enumerate(contract) if differs[i, k])
        date = f"{latest[other]:%d-%m-%Y}"
        problems.append(
            Problem(
                names[order[a[i]]], int(rows[a[i]]), "trajectory_id", trajectory_id,
                f"one record per trajectory_id in deliveries with the same latest date ({date}); {other} row {other_row} "
                f"holds another record of this trajectory (differing in {columns})",
                trajectory_id=trajectory_id, kind="delivery_conflict",
                params=(("other", other), ("other_row", other_row), ("latest", date), ("columns", columns)),
            )
        )


def _check_known_trajectories(parsed: list[tuple[str, pd.DataFrame]], known_ids: pd.Series, problems) -> None:
    """Goals and experience rows must point to a trajectory of the (combined) trajectories table.

    ``known_ids`` are the trajectory ids of the combined table plus those of trajectories files
    rejected for a missing column (their rows are in error already; no second problem per answer).

    One lookup for all files (building the set of a million trajectory ids once).
    """
    if not parsed or len(known_ids) == 0:
        return
    ids = pd.concat([frame["trajectory_id"] for _, frame in parsed], ignore_index=True)
    known = _isin(ids, known_ids) | ids.isna().to_numpy()
    ends = np.cumsum([len(frame) for _, frame in parsed])
    starts = ends - [len(frame) for _, frame in parsed]
    for (file_name, frame), start, end in zip(parsed, starts, ends):
        _report(problems, file_name, "trajectory_id", frame["trajectory_id"], ~known[start:end],
                "a trajectory_id of the trajectories table", kind="trajectory_unknown", ids=frame["trajectory_id"])


def _isin(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """``values.isin(allowed)`` as a boolean array, computed by pyarrow (pandas' isin on Arrow strings loops in Python)."""
    value_array = pa.array(values.astype("string"), from_pandas=True)
    allowed_array = pa.array(allowed.dropna().astype("string"), from_pandas=True)
    return pc.is_in(value_array, value_set=allowed_array).fill_null(False).to_numpy(zero_copy_only=False)
