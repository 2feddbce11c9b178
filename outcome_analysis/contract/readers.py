"""Reading one table file into raw text columns: CSV (encoding per row, separator sniffing, Excel's
``sep=`` hint), Parquet, Excel .xlsx/.xls and OpenDocument .ods.

Every reader yields frames of text (a pyarrow string dtype) with the row number of the file, and reports what
it cannot read as problems (:class:`~outcome_analysis.errors.Problem`); parsing to the contract's dtypes is
:mod:`outcome_analysis.contract.parse`.
"""
from __future__ import annotations

import codecs
import csv
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.xml.functions import iterparse

from outcome_analysis.errors import DataValidationError, OutcomeAnalysisError, Problem

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
XLS_SUFFIXES = (".xls",)
ODS_SUFFIXES = (".ods",)
READ_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES + XLS_SUFFIXES + ODS_SUFFIXES
#: the accepted formats, as problems name them.
ACCEPTED_FORMATS = "CSV (.csv, .txt, .tsv), Parquet (.parquet, .pq), Excel (.xlsx, .xlsm, .xls) or OpenDocument (.ods)"
FORMATS_PARAM = (("formats", ", ".join(READ_SUFFIXES)),)
_HEAD_BYTES = 1 << 16
_CSV_BLOCK_BYTES = 16 << 20  # CSV read in blocks of 16 MiB (about 100,000 trajectories)
_PARQUET_BATCH_ROWS = 131_072
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # working text dtype (vectorised string kernels)
#: the five bytes that are no character in Windows-1252 (cp1252).
_CP1252_UNDEFINED = np.array([0x81, 0x8D, 0x8F, 0x90, 0x9D], dtype=np.uint8)
#: Excel's separator hint on the first line of a CSV file: ``sep=;``, ``sep=,``, ``sep=<tab>``.
_SEP_HINT = re.compile(r'"?sep=(?P<sep>[^\r\n"])"?(?P=sep)*\s*', re.IGNORECASE)
_MAX_ROWS_LISTED_IN_WARNING = 10


def rows_listed(rows) -> str:
    """The first rows, comma separated, with ``, ...`` when there are more."""
    rows = list(rows)
    listed = ", ".join(str(r) for r in rows[:_MAX_ROWS_LISTED_IN_WARNING])
    return listed + (", ..." if len(rows) > _MAX_ROWS_LISTED_IN_WARNING else "")


class Unreadable(Exception):
    """A file that cannot be read at all (the problem is already recorded)."""


class Restart(Exception):
    """Read the file again with other options (``encoding``, ``numbered``)."""

    def __init__(self, **options):
        super().__init__(options)
        self.options = options


def _file_unreadable(file: Path, exc: OSError, problems: list[Problem]):
    """Record that ``file`` cannot be read at all (permissions, I/O) and stop reading it."""
    problems.append(
        Problem(
            file.name, None, None, None, f"the file cannot be read ({exc.strerror})",
            kind="file_unreadable", params=(("reason", str(exc.strerror)),),
        )
    )
    raise Unreadable from None


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


def raw_chunks(file: Path, problems: list[Problem], options: dict):
    """The file as frames of raw values (text for CSV), chunk by chunk.

    Each frame's index is the row position in the file (row number minus 2).
    ``attrs["decimal_comma"]`` says whether text numbers use a decimal comma. Raises ``Unreadable``
    after recording why the file cannot be read.
    """
    try:
        with open(file, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as exc:
        _file_unreadable(file, exc, problems)
    if not head:
        problems.append(Problem(file.name, None, None, None, "the file is empty", kind="file_empty"))
        raise Unreadable
    fmt = _format_of(file.suffix.lower(), head)
    if fmt == "parquet":
        yield from _parquet_chunks(file, problems)
    elif fmt == "xlsx":
        yield _read_xlsx(file, problems)
    elif fmt in ("xls", "ods"):
        yield _read_spreadsheet(file, fmt, problems)
    else:
        yield from _csv_chunks(file, head, problems, options)


def drop_empty_rows(raw: pd.DataFrame) -> pd.DataFrame:
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


@dataclass(frozen=True)
class _CsvLayout:
    """What the first bytes of a CSV file say about it."""

    names: list[str]
    delimiter: str
    encoding: str  # "utf-8", or "examine": its first bytes are not all UTF-8 (see examine_encoding)
    hint: bool  # the first line is Excel's separator hint (sep=;), skipped; the header follows it

    @property
    def skip(self) -> int:
        """Lines before the first record: the header, and the separator hint."""
        return 2 if self.hint else 1


def _csv_chunks(file: Path, head: bytes, problems: list[Problem], options: dict):
    layout = _sniff_csv(file, head, problems)
    encoding = options.get("encoding", layout.encoding)
    if encoding == "examine":
        options.update(examine_encoding(file, layout, problems))
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
            raise Restart(numbered=True)
        raw = batch.rename_columns(layout.names).to_pandas()
        raw.index = pd.RangeIndex(start, start + len(raw))
        start += len(raw)
        raw.attrs["decimal_comma"] = layout.delimiter == ";"
        yield raw
    if invalid:
        raise Restart(numbered=True)


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
            else:  # a data row that is neither is reported with its row by examine_encoding
                out.append(line.decode("cp1252", errors="replace"))
    return "\n".join(out)


def _sniff_csv(file: Path, head: bytes, problems: list[Problem]) -> _CsvLayout:
    """Column names, delimiter, encoding and separator hint of a CSV file from its first bytes."""
    if b"\x00" in head:
        problems.append(
            Problem(
                file.name, None, None, None,
                f"not a text (CSV) file: it holds binary data; expected {ACCEPTED_FORMATS}",
                kind="not_text", params=FORMATS_PARAM,
            )
        )
        raise Unreadable
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
            raise Unreadable from None
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n") or ch == "\ufffd")
    if controls > max(2, len(text) // 100):
        problems.append(
            Problem(
                file.name, None, None, None, "not a readable CSV file: it holds control characters (binary data?)",
                kind="control_characters",
            )
        )
        raise Unreadable
    lines = text.split("\n", 2)
    hint = _SEP_HINT.fullmatch(lines[0].rstrip("\r"))
    header_line = (lines[1] if len(lines) > 1 else "") if hint else lines[0]
    header_line = header_line.rstrip("\r")
    if not header_line.strip():
        problems.append(Problem(file.name, 1, None, None, "the first line must hold the column names", kind="header_missing"))
        raise Unreadable
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


def examine_encoding(file: Path, layout: _CsvLayout, problems: list[Problem]) -> dict:
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
        raise Unreadable

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
    listed = rows_listed(rows)
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
        raise Unreadable from None


def _csv_failure(file, exc, encoding, problems):
    """Turn a pyarrow read error into a restart (not UTF-8 after all) or a recorded problem."""
    message = str(exc)
    if "UTF8" in message or isinstance(exc, UnicodeDecodeError):
        if encoding == "utf-8":
            raise Restart(encoding="examine")
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
    raise Unreadable


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
                kind="parquet_unreadable", params=(("detail", detail), *FORMATS_PARAM),
            )
        )
        raise Unreadable from None
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
            params=(("format", _WORKBOOK_NAMES[fmt].split()[-2]), ("detail", detail), *FORMATS_PARAM),
        )
    )
    raise Unreadable from None


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
        raise Unreadable
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
    return as_text(cells)


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


def as_text(series: pd.Series) -> pd.Series:
    """Any column as Arrow-backed text: whole floats without ``.0``, dates as ISO, booleans as true/false."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = as_text(pd.Series(dtype.categories))
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
