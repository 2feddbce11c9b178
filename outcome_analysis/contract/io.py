"""Reading and writing deliveries: ``load``, ``validate``, ``check`` and ``write``.

The loader implements ``docs/data-contract.md``: it reads the trajectories table (and the optional
goals and experience tables) from CSV, Parquet or Excel, parses every column to the dtype of
``schema.dtype_of``, maps CBS numeric codes, and checks the whole delivery, reporting every problem
at once as a :class:`~outcome_analysis.errors.DataValidationError`.

The work is split by step: :mod:`~outcome_analysis.contract.readers` (a file to raw text
columns), :mod:`~outcome_analysis.contract.parse` (to the contract's dtypes, with checks),
:mod:`~outcome_analysis.contract.deliveries` (the files of a delivery combined) and
:mod:`~outcome_analysis.contract.write`; this module finds the files and runs the steps.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from outcome_analysis.errors import DataValidationError, OutcomeAnalysisError, Problem
from outcome_analysis.settings import DEFAULT, Settings

from . import schema
from .dataset import DATE_COLUMNS, Dataset, latest_date_or_nat
from .deliveries import check_known_trajectories, combine, combine_with_origin, order_by_delivery, order_deliveries
from .parse import Forms, Limit, check_header, check_trajectory_rows, check_unique_ids, normalise_header, parse_table
from .readers import (
    ACCEPTED_FORMATS,
    FORMATS_PARAM,
    READ_SUFFIXES,
    Restart,
    Unreadable,
    drop_empty_rows,
    examine_encoding,
    raw_chunks,
    rows_listed,
)
from .write import WRITE_FORMATS, WriteError, write

#: file name prefixes of the tables ``load`` reads from a delivery folder.
TABLE_PREFIXES = ("trajectories", "goals", "experience")
#: prefixes of the contract's other tables (read elsewhere): recognised in a folder and left alone.
OTHER_TABLE_PREFIXES = ("actions", "acties", "gemeenten")  # acties*: a filled-in dialogue record
#: files a delivery folder may hold besides its tables without a warning: its settings, and the demo's
#: truth that ``outcome_analysis.demo`` writes beside the tables.
QUIET_FILES = frozenset({"settings.yaml", "settings.yml", "demo_truth.csv"})


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
        files read, in file-name order; ``warnings`` the non-fatal remarks (see below); ``origin`` the
        file and row each trajectory record was read from (indexed by ``trajectory_id``; for a record
        replaced by a later delivery, the later file's row).

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
    Empty rows, which are skipped, keep their number: the rows after them are numbered as shown.
    ``Dataset.origin`` uses the same numbers, so later problems of a record (a gemeente code that
    cannot be placed) name the row the validation would name.
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
        origin=delivery.origin,
    )
    return data, warnings


@dataclass
class _Delivery:
    tables: dict[str, pd.DataFrame]
    sources: list[Path]
    problems: list[Problem]
    origin: pd.DataFrame  # file and row of each trajectory, indexed by trajectory_id (Dataset.origin)


def _read_delivery(path: Path, reference_date, settings: Settings) -> _Delivery:
    """Find, read, parse and check every file of a delivery; collect all problems."""
    problems: list[Problem] = []
    files = _find_files(path, problems)
    limit = _date_limit(reference_date)
    forms = Forms()
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
    parsed["trajectories"], latest, ranks = order_deliveries(parsed["trajectories"], problems)
    for table in ("goals", "experience"):
        parsed[table] = order_by_delivery(parsed[table], table, ranks)
    problems.extend(forms.warnings())
    trajectories, origin = combine_with_origin(parsed["trajectories"], "trajectories", problems, latest)
    origin.index = pd.Index(trajectories["trajectory_id"], name="trajectory_id")
    tables = {table: trajectories if table == "trajectories" else combine(parsed[table], table, problems, latest)
              for table in TABLE_PREFIXES}
    answers = [pair for table in ("goals", "experience") for pair in parsed[table]]
    known = tables["trajectories"]["trajectory_id"]
    if rejected_ids:  # their goals and answers are not reported again as unknown: the file's error says it
        known = pd.concat([known, *rejected_ids], ignore_index=True)
    check_known_trajectories(answers, known, problems)
    return _Delivery(tables, sources, _sorted(problems), origin)


def _sorted(problems: list[Problem]) -> list[Problem]:
    """Problems by file (in reading order) and row; problems of a whole file or column first."""
    order = {name: i for i, name in enumerate(dict.fromkeys(p.file for p in problems))}
    return sorted(problems, key=lambda p: (order[p.file], -1 if p.row is None else p.row))


def _date_limit(reference_date) -> Limit:
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
            return Limit(
                reference, f"the reference date {reference:%Y-%m-%d}", kind="date_after_reference",
                params=(("reference_date", f"{reference:%d-%m-%Y}"),),
            )
    return Limit(today, f"today ({today:%Y-%m-%d})", kind="date_after_today", params=(("today", f"{today:%d-%m-%Y}"),))


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
                    kind="file_format_unknown", params=(("table", table), ("extension", extension), *FORMATS_PARAM),
                )
            )
    if not found["trajectories"]:
        problems.append(
            Problem(
                str(path), None, None, None,
                f"the folder holds no trajectories file (expected trajectories*.* as {ACCEPTED_FORMATS})",
                kind="no_trajectories_file", params=FORMATS_PARAM,
            )
        )
    return found


def _read_table_file(file: Path, table: str, settings: Settings, limit: Limit, problems, forms) -> pd.DataFrame | None:
    """Read, parse and check one file of ``table``; None when it cannot be read or lacks required columns.

    CSV and Parquet are read in chunks of rows that are parsed as they arrive, so that the raw text of
    a large file is never in memory at once. A CSV is read again from the start when it turns out
    not to be UTF-8 (then as cp1252, or row by row, see ``examine_encoding``) or to hold records
    with the wrong number of fields (then in one piece on one thread, the only way pyarrow reports
    their row numbers).
    """
    options: dict = {}
    for _ in range(4):
        mark, forms_mark = len(problems), forms.mark()
        try:
            return _read_table_chunks(file, table, settings, limit, problems, options, forms)
        except Restart as restart:
            del problems[mark:]
            forms.rollback(forms_mark)
            options.update(restart.options)
        except Unreadable:
            return None
    return None


def _read_table_chunks(file, table, settings, limit, problems, options, forms) -> pd.DataFrame | None:
    frames = []
    ended_without_reason: list[np.ndarray] = []
    header_checked = False
    complete = True
    unnamed_reported: set[int] = set()
    for raw in raw_chunks(file, problems, options):
        raw = normalise_header(raw, file.name, problems, unnamed_reported, check_names=not header_checked)
        if raw is None:
            return None
        if not header_checked:
            header_checked = True
            complete = check_header(list(raw.columns), table, file.name, problems)
        raw = drop_empty_rows(raw)
        if len(raw) == 0:
            continue
        frame = parse_table(raw, table, file.name, settings, problems, forms)
        if table == "trajectories":
            check_trajectory_rows(frame, raw, file.name, limit, problems, forms)
            ended_without_reason.append(frame.attrs.pop("ended_without_reason"))
        frames.append(frame)
        del raw, frame
    if not frames:
        problems.append(Problem(file.name, None, None, None, "the file has a header but no data rows", kind="no_data_rows"))
        return None
    frame = frames[0] if len(frames) == 1 else pd.concat(frames)
    del frames
    if table == "trajectories":
        check_unique_ids(frame, file.name, problems)
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
    listed = rows_listed(rows)
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
