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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from . import atomic, schema
from .dataset import Dataset
from .errors import DataValidationError, OutcomeAnalysisError, Problem
from .settings import DEFAULT, Settings

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

#: file name patterns of a folder delivery, per table.
TABLE_PREFIXES = ("trajectories", "goals", "experience")

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")

_HEAD_BYTES = 1 << 16
_CSV_BLOCK_BYTES = 16 << 20  # CSV read in blocks of 16 MiB (about 100,000 trajectories)
_PARQUET_BATCH_ROWS = 131_072
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # working text dtype (vectorised string kernels)
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S")
_END_REASON_GROUPS = tuple(schema.END_REASONS)  # jeugdhulp, jb_ots, jb_voogdij, jr
_MAX_ROWS_LISTED_IN_WARNING = 10
#: raw columns still needed after parsing (their delivered values appear in cross-column problems).
_RAW_KEPT = frozenset({"care_form", "end_reason"} | {c.name for c in schema.TRAJECTORY_COLUMNS if c.kind == "date"})


def load(path, reference_date=None, *, settings: Settings | None = None) -> Dataset:
    """Read and validate a delivery.

    Parameters
    ----------
    path : path
        A file (the trajectories table) or a folder holding one or more deliveries
        ``trajectories*.*`` and optionally ``goals*.*`` and ``experience*.*``: CSV (``,`` or ``;``
        separated; with ``;`` a decimal comma; UTF-8, UTF-8 with BOM or Excel's cp1252), Parquet or
        Excel ``.xlsx`` (first sheet, header in row 1).
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
        files read; ``warnings`` the non-fatal remarks (extra columns, ended records without a reason,
        records replaced by a later delivery).

    Raises
    ------
    DataValidationError
        When anything breaks the contract. ``.problems`` lists every problem of every file as
        :class:`~outcome_analysis.errors.Problem` (file name, row, column, value, expected).

    Notes
    -----
    *Rows* are numbered as a spreadsheet shows them: the header is row 1, the first data row is 2.
    The same convention is used for Excel (sheet rows) and for Parquet (row position + 2). For CSV a
    row is a record, so a quoted value spanning two lines is still one row.

    *Parsing.* Values are stripped of surrounding blanks; an empty value is missing. Codes are read
    case-insensitively. CBS numeric codes are mapped: ``care_form`` via ``schema.CBS_CARE_FORM``,
    ``end_reason`` via ``schema.CBS_END_REASON`` of the row's care form (``1`` and ``01`` alike,
    ``99`` is ``onbekend``). Dates are ISO ``2023-12-31`` or Dutch ``31-12-2023``. Booleans are
    ``ja``/``nee``, ``j``/``n``, ``true``/``false``, ``1``/``0``. Every column is parsed once per
    distinct value and spread over the rows, so parsing is vectorised and fast on real data.

    *Several deliveries.* Files are read in sorted file-name order; a ``trajectory_id`` in two files
    keeps the later file's record, and the later file's goals and experience answers of a trajectory
    replace the earlier ones. Within one file a repeated ``trajectory_id`` is an error.

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


def _read_delivery(path: Path, reference_date, settings: Settings) -> _Delivery:
    """Find, read, parse and check every file of a delivery; collect all problems."""
    problems: list[Problem] = []
    files = _find_files(path, problems)
    limit, limit_name = _date_limit(reference_date)
    parsed: dict[str, list[tuple[str, pd.DataFrame]]] = {table: [] for table in TABLE_PREFIXES}
    sources = []
    for table, table_files in files.items():
        for file in table_files:
            sources.append(file)
            frame = _read_table_file(file, table, settings, limit, limit_name, problems)
            if frame is not None:
                parsed[table].append((file.name, frame))
    tables = {table: _combine(parsed[table], table, problems) for table in TABLE_PREFIXES}
    _check_known_trajectories([pair for table in ("goals", "experience") for pair in parsed[table]], tables["trajectories"], problems)
    return _Delivery(tables, sources, _sorted(problems))


def _sorted(problems: list[Problem]) -> list[Problem]:
    """Problems by file (in reading order) and row; problems of a whole file or column first."""
    order = {name: i for i, name in enumerate(dict.fromkeys(p.file for p in problems))}
    return sorted(problems, key=lambda p: (order[p.file], -1 if p.row is None else p.row))


def _date_limit(reference_date) -> tuple[pd.Timestamp, str]:
    today = pd.Timestamp.today().normalize()
    if reference_date is not None:
        try:
            reference = pd.Timestamp(reference_date).normalize()
        except (ValueError, TypeError) as exc:
            raise DataValidationError(
                [Problem("(reference date)", None, None, str(reference_date), f"a date like 2024-12-31 ({exc})")]
            ) from None
        if reference < today:
            return reference, f"the reference date {reference:%Y-%m-%d}"
    return today, f"today ({today:%Y-%m-%d})"


# -- finding and reading files ------------------------------------------------


def _find_files(path: Path, problems: list[Problem]) -> dict[str, list[Path]]:
    """The files of each table, in sorted file-name order."""
    found: dict[str, list[Path]] = {table: [] for table in TABLE_PREFIXES}
    if not path.exists():
        problems.append(Problem(str(path), None, None, None, "the file or folder does not exist"))
        return found
    if path.is_file():
        found["trajectories"].append(path)
        return found
    try:
        entries = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))
    except OSError as exc:
        problems.append(Problem(str(path), None, None, None, f"the folder cannot be read ({exc.strerror})"))
        return found
    for entry in entries:
        name = entry.name.lower()
        for table in TABLE_PREFIXES:
            if name.startswith(table) and entry.suffix.lower() in CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES:
                found[table].append(entry)
    if not found["trajectories"]:
        problems.append(
            Problem(
                str(path),
                None,
                None,
                None,
                "the folder holds no trajectories file (expected trajectories*.csv, *.parquet or *.xlsx)",
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


def _read_table_file(file: Path, table: str, settings: Settings, limit, limit_name: str, problems) -> pd.DataFrame | None:
    """Read, parse and check one file of ``table``; None when it cannot be read or lacks required columns.

    CSV and Parquet are read in chunks of rows that are parsed as they arrive, so that the raw text of
    a large file is never in memory at once. A CSV is read again from the start when it turns out
    not to be UTF-8 (then as cp1252) or to hold records with the wrong number of fields (then in one
    piece on one thread, the only way pyarrow reports their row numbers).
    """
    options: dict = {}
    for _ in range(3):
        mark = len(problems)
        try:
            return _read_table_chunks(file, table, settings, limit, limit_name, problems, options)
        except _Restart as restart:
            del problems[mark:]
            options.update(restart.options)
        except _Unreadable:
            return None
    return None


def _read_table_chunks(file, table, settings, limit, limit_name, problems, options) -> pd.DataFrame | None:
    frames = []
    ended_without_reason: list[np.ndarray] = []
    header_checked = False
    unnamed_reported: set[int] = set()
    for raw in _raw_chunks(file, problems, options):
        raw = _normalise_header(raw, file.name, problems, unnamed_reported, check_names=not header_checked)
        if raw is None:
            return None
        if not header_checked:
            header_checked = True
            if not _check_header(list(raw.columns), table, file.name, problems):
                return None
        raw = _drop_empty_rows(raw)
        if len(raw) == 0:
            continue
        frame = _parse_table(raw, table, file.name, settings, problems)
        if table == "trajectories":
            _check_trajectory_rows(frame, raw, file.name, limit, limit_name, problems)
            ended_without_reason.append(frame.attrs.pop("ended_without_reason"))
        frames.append(frame)
        del raw, frame
    if not frames:
        problems.append(Problem(file.name, None, None, None, "the file has a header but no data rows"))
        return None
    frame = frames[0] if len(frames) == 1 else pd.concat(frames)
    del frames
    if table == "trajectories":
        _check_unique_ids(frame, file.name, problems)
        _warn_ended_without_reason(np.concatenate(ended_without_reason), file.name, problems)
    return frame


def _warn_ended_without_reason(rows: np.ndarray, file_name: str, problems: list[Problem]) -> None:
    """One warning per file for the ended records whose missing end_reason became ``onbekend``."""
    if len(rows) == 0:
        return
    listed = ", ".join(str(r) for r in rows[:_MAX_ROWS_LISTED_IN_WARNING])
    if len(rows) > _MAX_ROWS_LISTED_IN_WARNING:
        listed += ", ..."
    problems.append(
        Problem(
            file_name,
            None,
            "end_reason",
            None,
            f"{len(rows)} ended record(s) without end_reason, set to 'onbekend' (rows {listed})",
            severity="warning",
        )
    )


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
        problems.append(Problem(file.name, None, None, None, f"the file cannot be read ({exc.strerror})"))
        raise _Unreadable from None
    if not head:
        problems.append(Problem(file.name, None, None, None, "the file is empty"))
        raise _Unreadable
    suffix = file.suffix.lower()
    if suffix in PARQUET_SUFFIXES or head.startswith(b"PAR1"):
        yield from _parquet_chunks(file, problems)
    elif suffix in EXCEL_SUFFIXES or head.startswith(b"PK\x03\x04"):
        yield _read_excel(file, problems)
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


def _csv_chunks(file: Path, head: bytes, problems: list[Problem], options: dict):
    names, delimiter, encoding = _sniff_csv(file, head, problems)
    encoding = options.get("encoding", encoding)
    if options.get("numbered"):
        yield _csv_numbered(file, names, delimiter, encoding, problems)
        return
    invalid: list = []
    reader = _arrow_csv(file, names, delimiter, encoding, problems, invalid, stream=True)
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
        raw = batch.rename_columns(names).to_pandas()
        raw.index = pd.RangeIndex(start, start + len(raw))
        start += len(raw)
        raw.attrs["decimal_comma"] = delimiter == ";"
        yield raw
    if invalid:
        raise _Restart(numbered=True)


def _sniff_csv(file: Path, head: bytes, problems: list[Problem]) -> tuple[list[str], str, str]:
    """Column names, delimiter and encoding of a CSV file from its first bytes."""
    if b"\x00" in head:
        problems.append(
            Problem(file.name, None, None, None, "not a text (CSV) file: it holds binary data; expected CSV, Parquet or .xlsx")
        )
        raise _Unreadable
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=len(head) < _HEAD_BYTES)
        encoding = "utf-8"
    except UnicodeDecodeError:
        try:
            text = head.decode("cp1252")
            encoding = "cp1252"
        except UnicodeDecodeError:
            problems.append(
                Problem(file.name, None, None, None, "the file is neither UTF-8 nor Windows-1252 (cp1252) text")
            )
            raise _Unreadable from None
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n") or ch == "\ufffd")
    if controls > max(2, len(text) // 100):
        problems.append(
            Problem(file.name, None, None, None, "not a readable CSV file: it holds control characters (binary data?)")
        )
        raise _Unreadable
    header_line = text.split("\n", 1)[0].rstrip("\r")
    if not header_line.strip():
        problems.append(Problem(file.name, 1, None, None, "the first line must hold the column names"))
        raise _Unreadable
    delimiter = max((";", ",", "\t"), key=header_line.count) if any(d in header_line for d in ";,\t") else ","
    names = next(csv.reader([header_line], delimiter=delimiter))
    return names, delimiter, encoding


def _csv_numbered(file, names, delimiter, encoding, problems) -> pd.DataFrame:
    """The whole CSV read on one thread, reporting records with the wrong number of fields by row."""
    invalid: list = []
    try:
        table = _arrow_csv(file, names, delimiter, encoding, problems, invalid, stream=False)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        _csv_failure(file, exc, encoding, problems)
    skipped = np.array(sorted(row for row, _, _ in invalid if row is not None), dtype=np.int64)
    rows = np.setdiff1d(np.arange(2, table.num_rows + len(skipped) + 2), skipped)
    for row, text, n_fields in invalid:
        problems.append(
            Problem(file.name, row, None, text[:80], f"{len(names)} fields separated by {delimiter!r}, found {n_fields}")
        )
    raw = table.rename_columns(names).to_pandas()
    raw.index = rows[: table.num_rows] - 2
    raw.attrs["decimal_comma"] = delimiter == ";"
    return raw


def _arrow_csv(file, names, delimiter, encoding, problems, invalid: list, stream: bool):
    """A pyarrow CSV reader (``stream``) or table of ``file``, every column as text.

    Records with the wrong number of fields are skipped and collected in ``invalid`` as
    ``(row number or None, text, number of fields)``.
    """

    def on_invalid(row):
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    generated = [f"column_{i}" for i in range(len(names))]
    read_options = pa_csv.ReadOptions(
        encoding=encoding, use_threads=stream, column_names=generated, skip_rows=1, block_size=_CSV_BLOCK_BYTES
    )
    parse_options = pa_csv.ParseOptions(
        delimiter=delimiter, ignore_empty_lines=False, invalid_row_handler=on_invalid, newlines_in_values=True
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
            return pa_csv.open_csv(file, read_options, parse_options, convert_options, memory_pool=pool)
        return pa_csv.read_csv(file, read_options, parse_options, convert_options, memory_pool=pool)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        _csv_failure(file, exc, encoding, problems)
    except (OSError, pa.ArrowException) as exc:
        problems.append(Problem(file.name, None, None, None, f"a readable CSV file ({str(exc).splitlines()[0]})"))
        raise _Unreadable from None


def _csv_failure(file, exc, encoding, problems):
    """Turn a pyarrow read error into a restart (not UTF-8 after all) or a recorded problem."""
    message = str(exc)
    if "UTF8" in message or isinstance(exc, UnicodeDecodeError):
        if encoding == "utf-8":
            raise _Restart(encoding="cp1252")
        expected = "text in UTF-8 or Windows-1252 (cp1252); the file holds bytes that are neither"
    else:
        expected = f"a readable CSV file ({message.splitlines()[0]})"
    problems.append(Problem(file.name, None, None, None, expected))
    raise _Unreadable


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
        problems.append(
            Problem(file.name, None, None, None, f"a readable Parquet file ({str(exc).splitlines()[0]})")
        )
        raise _Unreadable from None
    if start == 0:  # no batches at all: yield the empty frame so that the header is checked
        yield parquet.schema_arrow.empty_table().to_pandas()


def _read_excel(file: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """The first sheet of an .xlsx workbook; header in row 1, blank rows kept for the row numbers."""
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = list(sheet.iter_rows(values_only=True))
        finally:
            workbook.close()
    except Exception as exc:  # openpyxl raises many kinds (zipfile.BadZipFile, KeyError, InvalidFileException, ...)
        problems.append(
            Problem(file.name, None, None, None, f"a readable Excel .xlsx workbook ({type(exc).__name__}: {exc})")
        )
        raise _Unreadable from None
    if not rows or all(cell is None for cell in rows[0]):
        problems.append(Problem(file.name, 1, None, None, "the first row must hold the column names"))
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


def _normalise_header(raw, file_name, problems, unnamed_reported: set, check_names: bool) -> pd.DataFrame | None:
    """Column names stripped and lower-cased; unnamed empty columns dropped; repeated names an error."""
    names = [str(name).strip().lower() for name in raw.columns]
    for i, name in enumerate(names):
        if not name and i not in unnamed_reported and raw.iloc[:, i].notna().any():
            unnamed_reported.add(i)
            problems.append(Problem(file_name, 1, f"(column {i + 1})", None, "every column with values needs a name"))
    if check_names:
        repeated = sorted({name for name in names if name and names.count(name) > 1})
        for name in repeated:
            problems.append(Problem(file_name, 1, name, None, "each column name only once"))
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
        problems.append(Problem(file_name, 1, name, None, "a required column; it is missing from the header"))
    extra = [name for name in columns if name not in contract]
    if extra:
        problems.append(
            Problem(
                file_name, None, ", ".join(extra), None, "column(s) not in the data contract; kept as text", severity="warning"
            )
        )
    return not missing


# -- parsing ------------------------------------------------------------------


def _parse_table(raw: pd.DataFrame, table: str, file_name: str, settings: Settings, problems: list[Problem]):
    """The contract columns of ``table`` parsed to their dtypes (plus extra columns as text).

    ``raw`` has every required column (see ``_check_header``); its parsed columns are deleted from it
    as they are parsed, except those ``_check_trajectory_rows`` still needs. Problems go to ``problems``.
    """
    contract = schema.columns(table)
    extra = [name for name in raw.columns if name not in contract]
    decimal_comma = bool(raw.attrs.get("decimal_comma", False))
    out: dict[str, object] = {}
    for name, col in contract.items():
        if name not in raw.columns:
            out[name] = pd.Series(index=raw.index, dtype=col.dtype)
            continue
        series = raw[name]
        if name == "end_reason" and table == "trajectories":
            out[name] = series  # parsed with care_form in _check_trajectory_rows
            continue
        bounds = _bounds(table, col, settings)
        values, flagged = _parse_column(series, col, decimal_comma, file_name, bounds, problems)
        if col.required:
            _report(problems, file_name, name, series, _missing(values) & ~flagged, "a value is required")
        out[name] = values
        if name not in _RAW_KEPT:
            del raw[name]  # free the raw text as we go (peak memory)
        del series
    for name in extra:
        out[name] = _text(raw.pop(name))
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


def _parse_column(series, col, decimal_comma, file_name, bounds, problems):
    """One column parsed to the contract dtype; unparsable and out-of-range values reported."""
    if col.kind in ("text", "codelist"):
        if col.kind == "codelist":
            codes, text = _by_unique(series)  # normalise the distinct lists only
            text = text.str.lower().str.replace(r"\s*;\s*", ";", regex=True).str.strip(" ;")
            text = text.mask(text == "")
            values = pd.Series(text.array.take(codes, allow_fill=True), index=series.index).astype("string")
            return values, _check_codelist(values, col, file_name, series, problems)
        values = _text(series)
        return values, np.zeros(len(values), dtype=bool)
    if col.kind == "code":
        codes, bad = _category_codes(series, col)
        _report(problems, file_name, col.name, series, bad, _codes_expected(col))
        return pd.Series(pd.Categorical.from_codes(codes, dtype=col.dtype), index=series.index), bad
    if col.kind == "date":
        values, bad = _dates(series)
        _report(problems, file_name, col.name, series, bad, "a date like 31-12-2023 or 2023-12-31")
        return values, bad
    if col.kind == "bool":
        values, bad = _booleans(series)
        _report(problems, file_name, col.name, series, bad, "ja/nee, j/n, true/false or 1/0")
        return values, bad
    # int or number
    numbers, bad = _numbers(series, decimal_comma)
    if col.kind == "int":
        fraction = ~bad & np.isfinite(numbers) & (numbers != np.round(numbers))
        bad |= fraction
    _report(problems, file_name, col.name, series, bad, "a whole number" if col.kind == "int" else "a number")
    low, high = bounds
    outside = np.zeros(len(numbers), dtype=bool)
    if low is not None:
        outside |= numbers < low
    if high is not None:
        outside |= numbers > high
    outside &= ~bad
    if outside.any():
        _report(problems, file_name, col.name, series, outside, _range_expected(low, high))
    flagged = bad | outside
    numbers = np.where(flagged, np.nan, numbers)
    if col.kind == "int":
        return pd.Series(pd.array(numbers, dtype="Float64").astype(col.dtype), index=series.index), flagged
    return pd.Series(numbers, index=series.index, dtype="float64"), flagged


def _range_expected(low, high) -> str:
    fmt = lambda x: f"{x:g}"  # noqa: E731
    if low is not None and high is not None:
        return f"a value from {fmt(low)} to {fmt(high)}"
    if low is not None:
        return f"a value of at least {fmt(low)}"
    return f"a value of at most {fmt(high)}"


def _codes_expected(col: schema.Column) -> str:
    expected = "one of " + ", ".join(col.codes)
    if col.name == "care_form":
        expected += " (or a CBS code: " + ", ".join(schema.CBS_CARE_FORM) + ")"
    return expected


def _by_unique(series: pd.Series):
    """Factorise: (codes per row with -1 for missing, the distinct values as stripped text with NA for blank)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    text = _as_text(pd.Series(uniques)).str.strip()
    return codes, text.mask(text == "")


def _spread(values: np.ndarray, codes: np.ndarray, fill) -> np.ndarray:
    """Per-unique ``values`` spread over the rows by factorize ``codes`` (-1 gives ``fill``)."""
    return np.append(values, np.array([fill], dtype=values.dtype))[codes]


def _category_codes(series: pd.Series, col: schema.Column) -> tuple[np.ndarray, np.ndarray]:
    """Category codes (positions in ``col.codes``, -1 missing) and the mask of unknown codes."""
    codes, text = _by_unique(series)
    text = text.str.lower()
    if col.name == "care_form":
        text = text.replace(schema.CBS_CARE_FORM)
    positions = pd.Index(col.codes).get_indexer(text)
    bad_u = (positions < 0) & text.notna().to_numpy()
    return _spread(positions, codes, -1), _spread(bad_u, codes, False)


def _dates(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_localize(None)
        return series.astype("datetime64[ns]").dt.normalize(), np.zeros(len(series), dtype=bool)
    codes, text = _by_unique(series)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in _DATE_FORMATS:
        todo = parsed.isna() & text.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce").astype("datetime64[ns]")
    bad_u = (parsed.isna() & text.notna()).to_numpy()
    values = _spread(parsed.dt.normalize().to_numpy(), codes, np.datetime64("NaT", "ns"))
    return pd.Series(values, index=series.index, dtype="datetime64[ns]"), _spread(bad_u, codes, False)


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


def _check_codelist(values: pd.Series, col: schema.Column, file_name: str, series: pd.Series, problems) -> None:
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
    _report(problems, file_name, col.name, series, bad, "codes separated by ';' from: " + ", ".join(col.codes))
    return bad


def _text(series: pd.Series) -> pd.Series:
    """Text stripped of surrounding blanks, blank as missing, dtype ``string``."""
    text = _as_text(series).str.strip()
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


def _report(problems: list[Problem], file_name: str, column: str, raw: pd.Series, bad: np.ndarray, expected) -> None:
    """Add one Problem per row flagged in ``bad`` (a boolean mask aligned with ``raw``).

    ``expected`` is a text, or a function of the flagged positions returning one text per position
    (so that per-row texts are only built for the bad rows).
    """
    positions = np.flatnonzero(bad)
    if len(positions) == 0:
        return
    rows = (raw.index.to_numpy()[positions] + 2).tolist()
    values = _as_text(raw.iloc[positions]).tolist()
    texts = [expected] * len(positions) if isinstance(expected, str) else list(expected(positions))
    problems.extend(
        Problem(file_name, row, column, None if pd.isna(value) else value, text)
        for row, value, text in zip(rows, values, texts)
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

    def also_in(positions):
        rows = first_row.reindex(ids.iloc[positions].to_numpy()).to_numpy()
        return [f"a trajectory_id used once per file; it is also in row {row}" for row in rows]

    _report(problems, file_name, "trajectory_id", ids, repeated, also_in)


def _check_trajectory_rows(frame: pd.DataFrame, raw: pd.DataFrame, file_name: str, limit, limit_name: str, problems) -> None:
    """Checks that involve several columns of a trajectories row; parses ``end_reason`` in place."""
    _parse_end_reason(frame, file_name, problems)

    form = frame["care_form"].cat.codes.to_numpy()
    care_type = frame["care_type"].cat.codes.to_numpy()
    type_of_form = np.array([schema.CARE_TYPES.index(schema.CARE_TYPE_OF_FORM[f]) for f in schema.ALL_CARE_FORMS])
    misfit = (form >= 0) & (care_type >= 0) & (type_of_form[form.clip(0)] != care_type)
    texts = np.array([f"a care form of {t}: {', '.join(schema.CARE_FORMS[t])}" for t in schema.CARE_TYPES], dtype=object)
    _report(problems, file_name, "care_form", raw["care_form"], misfit, lambda pos: texts[care_type[pos]])

    start, end = frame["start_date"], frame["end_date"]
    before = (end < start).to_numpy(dtype=bool)
    _report(
        problems,
        file_name,
        "end_date",
        raw.get("end_date", end),
        before,
        lambda pos: ("not before start_date " + start.iloc[pos].dt.strftime("%d-%m-%Y")).tolist(),
    )
    for name in (c.name for c in schema.TRAJECTORY_COLUMNS if c.kind == "date"):
        if name in raw.columns:
            late = (frame[name] > limit).to_numpy(dtype=bool)
            _report(problems, file_name, name, raw[name], late, f"a date on or before {limit_name}")


def _parse_end_reason(frame: pd.DataFrame, file_name: str, problems) -> None:
    """``end_reason`` to its category: CBS numbers mapped per care form, fit with care_form checked."""
    column = schema.columns("trajectories")["end_reason"]
    reasons = pd.Index(column.codes)
    forms = schema.ALL_CARE_FORMS
    form = frame["care_form"].cat.codes.to_numpy()  # -1: no valid care form
    raw = frame["end_reason"]
    if isinstance(raw.dtype, pd.CategoricalDtype) and raw.dtype == column.dtype:
        reason, unknown = raw.cat.codes.to_numpy().copy(), np.zeros(len(raw), dtype=bool)
    elif raw.isna().all():
        reason, unknown = np.full(len(raw), -1), np.zeros(len(raw), dtype=bool)
    else:
        codes, text = _by_unique(raw)
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

        def expected(positions):
            out = []
            for f in form[positions]:
                group = schema.END_REASON_GROUP_OF_FORM.get(forms[f]) if f >= 0 else None
                if group is None:
                    out.append("one of " + ", ".join(column.codes))
                else:
                    pairs = ", ".join(f"{code} ({num})" for code, num in schema.END_REASONS[group].items())
                    out.append(f"an end reason for {forms[f]}: {pairs}")
            return out

        _report(problems, file_name, "end_reason", raw, unknown, expected)

    fits = np.ones((len(forms) + 1, len(reasons) + 1), dtype=bool)
    for g, name in enumerate(forms):
        fits[g, : len(reasons)] = [schema.end_reason_fits(name, r) for r in reasons]
    misfit = ~fits[form, reason] & ~unknown
    _report(
        problems,
        file_name,
        "end_reason",
        raw,
        misfit,
        lambda pos: [
            f"an end reason that fits care_form {forms[f]}: " + ", ".join(schema.END_REASONS[schema.END_REASON_GROUP_OF_FORM[forms[f]]])
            for f in form[pos]
        ],
    )

    ended_unknown = frame["end_date"].notna().to_numpy() & (reason < 0) & ~unknown
    if ended_unknown.any():
        reason = np.where(ended_unknown, reasons.get_loc("onbekend"), reason)
    frame.attrs["ended_without_reason"] = frame.index.to_numpy()[ended_unknown] + 2
    frame["end_reason"] = pd.Categorical.from_codes(np.where(unknown | ~fits[form, reason], -1, reason), dtype=column.dtype)


def _combine(parsed: list[tuple[str, pd.DataFrame]], table: str, problems) -> pd.DataFrame:
    """One table from the files' frames: later deliveries replace earlier records of a trajectory."""
    if not parsed:
        return schema.empty_frame(table)
    if len(parsed) == 1:
        frame = parsed[0][1]
    else:
        frame = pd.concat([f for _, f in parsed], ignore_index=True)
        order = np.repeat(np.arange(len(parsed)), [len(f) for _, f in parsed])
        ids = frame["trajectory_id"]
        if table == "trajectories":
            keep = ~ids.duplicated(keep="last").to_numpy()
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
                )
            )
        frame = frame[keep]
        contract = list(schema.columns(table))
        extras = [c for c in frame.columns if c not in contract]
        frame = frame[contract + extras].astype({c: "string" for c in extras})
    return frame.reset_index(drop=True)


def _check_known_trajectories(parsed: list[tuple[str, pd.DataFrame]], trajectories: pd.DataFrame, problems) -> None:
    """Goals and experience rows must point to a trajectory of the (combined) trajectories table.

    One lookup for all files (building the set of a million trajectory ids once).
    """
    if not parsed or len(trajectories) == 0:
        return
    ids = pd.concat([frame["trajectory_id"] for _, frame in parsed], ignore_index=True)
    known = _isin(ids, trajectories["trajectory_id"]) | ids.isna().to_numpy()
    ends = np.cumsum([len(frame) for _, frame in parsed])
    starts = ends - [len(frame) for _, frame in parsed]
    for (file_name, frame), start, end in zip(parsed, starts, ends):
        _report(problems, file_name, "trajectory_id", frame["trajectory_id"], ~known[start:end], "a trajectory_id of the trajectories table")


def _isin(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """``values.isin(allowed)`` as a boolean array, computed by pyarrow (pandas' isin on Arrow strings loops in Python)."""
    value_array = pa.array(values.astype("string"), from_pandas=True)
    allowed_array = pa.array(allowed.dropna().astype("string"), from_pandas=True)
    return pc.is_in(value_array, value_set=allowed_array).fill_null(False).to_numpy(zero_copy_only=False)
