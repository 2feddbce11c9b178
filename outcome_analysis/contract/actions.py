"""The ``actions`` table of the data contract: *verbeteracties* agreed after a quality conversation.

An institution's team agrees actions on indicators (``docs/data-contract.md``, table ``actions``;
``docs/data-contract-actions.md`` is the developer's account). The next period's report shows each
action beside the course of its indicator. Two functions:

- :func:`read_actions` reads the actions of a delivery folder (every ``actions*`` and ``acties*``
  file: CSV, Parquet, Excel, OpenDocument) or of one file with the delivery readers, checks them and
  returns the actions with the problems found (file, row, column, value, as the contract's other
  tables name them);
- :func:`dialogue_record` makes the *dialoogverslag* that goes with a report: an Excel workbook and
  a CSV file with the table's columns, one row per indicator pre-filled with the institution, with
  drop-down lists for indicator and status and Dutch dates. Filled in and put in the next delivery
  folder, it is read back by :func:`read_actions` (the rows still empty are skipped).

``description`` is free text and stays text: it is never read as HTML or as a path (the report
escapes it as any other text).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "actions.csv").write_text(
...     "institution;indicator;agreed_on;description\\nJeugdzorg De Wissel;jh_uitval;14-03-2023;Intake anders\\n",
...     encoding="utf-8")
>>> actions, problems = read_actions(folder)
>>> actions[["indicator", "agreed_on", "row"]].to_dict("records"), problems
([{'indicator': 'jh_uitval', 'agreed_on': Timestamp('2023-03-14 00:00:00'), 'row': 2}], [])
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from outcome_analysis.errors import Problem

from .readers import READ_SUFFIXES

#: the columns of the table, in the order of the contract.
ACTION_COLUMNS = ("institution", "indicator", "agreed_on", "description", "owner", "status", "review_on")
#: the columns that must be in the header (and filled on every row that is read).
REQUIRED_COLUMNS = ("institution", "indicator", "agreed_on", "description")
OPTIONAL_COLUMNS = ("owner", "status", "review_on")
#: the statuses of an action, in the order of its life.
STATUSES = ("gepland", "lopend", "afgerond", "gestopt")
DATE_COLUMNS = ("agreed_on", "review_on")
TEXT_COLUMNS = ("institution", "indicator", "description", "owner", "status")
#: how the files of the table start (case-insensitive): the contract's name and the dialogue record's.
FILE_PREFIXES = ("actions", "acties")
#: the stem of a dialogue record file: ``acties-<slug>-<period>.xlsx|.csv``.
RECORD_PREFIX = "acties"
#: the kinds of the problems this module makes; their texts stand in ``data/texts/problems.yaml``.
PROBLEM_KIND_PREFIX = "action_"

_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
#: d-m-jjjj and jjjj-m-d with ``/`` or ``.`` instead of ``-`` (as people type dates): read with ``-``.
_OTHER_SEPARATORS = re.compile(r"^(?:(\d{1,2})[./](\d{1,2})[./](\d{4})|(\d{4})[./](\d{1,2})[./](\d{1,2}))$")
#: an Excel serial day number (1955 to 2119) in a workbook cell without a date format.
_SERIAL = re.compile(r"\d{5}")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def _problem_texts() -> dict[str, dict[str, str]]:
    from outcome_analysis.contract.problem_texts import catalogue

    return {k: v for k, v in catalogue().items() if k.startswith(PROBLEM_KIND_PREFIX)}


#: kind -> language -> template of this module's problems (a view on the problem catalogue).
PROBLEM_TEXTS: dict[str, dict[str, str]] = _problem_texts()


def empty_actions() -> pd.DataFrame:
    """An actions frame without rows: the columns and dtypes :func:`read_actions` returns."""
    return _typed(pd.DataFrame({c: [] for c in (*ACTION_COLUMNS, "file", "row")}))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for column in ACTION_COLUMNS:
        if column in DATE_COLUMNS:
            out[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
        else:
            out[column] = frame[column].astype("string")
    out["file"] = frame["file"].astype("string")
    out["row"] = frame["row"].astype("int64")
    return out


def action_files(folder: str | Path) -> list[Path]:
    """The files of the actions table in a delivery folder: ``actions*`` and ``acties*`` (any case)
    with a readable extension, sorted by name; hidden files and Excel lock files (``~$``) left out."""
    folder = Path(folder)
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.name.lower().startswith(FILE_PREFIXES) and p.suffix.lower() in READ_SUFFIXES
    )


def read_actions(path: str | Path, *, institutions: Sequence[str] | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Read and check the actions of a delivery.

    Parameters
    ----------
    path : str or Path
        A delivery folder (every ``actions*`` / ``acties*`` file in it with a readable extension:
        ``.csv``, ``.xlsx``, ``.parquet``, ...; no such file gives an empty frame and no problem) or
        one file (read whatever its name).
    institutions : sequence of str, optional
        The institutions of the delivery; when given, an action of another institution is an error.

    Returns
    -------
    actions : DataFrame
        One row per action read without error: the columns :data:`ACTION_COLUMNS` (``institution``,
        ``indicator``, ``description``, ``owner``, ``status`` of dtype ``string``, ``<NA>`` when
        empty; ``agreed_on``, ``review_on`` ``datetime64[ns]``, ``NaT`` when empty) plus ``file``
        (``string``, the file name) and ``row`` (``int64``, 1-based as a spreadsheet shows it, the
        header is row 1); sorted by ``institution``, ``agreed_on``, ``row`` (then ``file``), index
        0..n-1. A row whose ``agreed_on`` and ``description`` are both empty (and ``owner``,
        ``status``, ``review_on`` too) is a pre-filled row of a dialogue record not filled in: it is
        skipped without a problem.
    problems : list of Problem
        Every problem found, with file, row, column and value. Errors (severity ``"error"``; the
        row is not in ``actions``): a missing required column (``action_column_missing``), an empty
        required cell (``action_value_missing``), an indicator that is not a registry id
        (``action_indicator_unknown``), an institution not in ``institutions``
        (``action_institution_unknown``), a date that is not a date (``action_date_invalid``), a
        status not in :data:`STATUSES` (``action_status_invalid``), and the loader's kinds for a
        file that cannot be read (``path_missing``, ``file_empty``, ``file_unreadable``, ...).
        Warnings (the row is kept): an unknown column (``action_column_unknown``; not read),
        ``review_on`` before ``agreed_on`` (``action_review_before_agreed``); and an action given
        twice, the same institution, indicator, date and description (``action_repeated``; the
        later one is left out).

    Notes
    -----
    Dates are read as the delivery reads them: ``2024-12-31``, ``31-12-2024`` (also with ``/`` or
    ``.``), a date cell of a workbook, or an Excel serial day number in a workbook cell without a
    date format. Indicator ids and statuses are read case-insensitively; texts are stripped of
    surrounding spaces and put in Unicode NFC. Nothing is read as HTML.
    """
    path = Path(path)
    problems: list[Problem] = []
    if path.is_dir():
        files = action_files(path)
    elif path.is_file():
        files = [path]
    else:
        problems.append(Problem(path.name, None, None, None, "the file or folder does not exist", kind="path_missing"))
        return empty_actions(), problems
    frames = [frame for file in files if (frame := _read_file(file, institutions, problems)) is not None]
    if not frames:
        return empty_actions(), problems
    actions = pd.concat(frames, ignore_index=True)
    actions = _drop_repeated(actions, problems)
    actions = actions.sort_values(["institution", "agreed_on", "row", "file"], kind="stable", na_position="last")
    return actions.reset_index(drop=True), problems


def _problem(problems: list[Problem], file: str, row, column, value, kind: str, /, severity: str = "error",
             **params) -> None:
    params = tuple((k, str(v)) for k, v in params.items())
    problems.append(Problem(file, None if row is None else int(row), column, None if value is None else str(value),
                            PROBLEM_TEXTS[kind]["en"].format(**dict(params)), severity=severity, kind=kind,
                            params=params))


def _read_file(file: Path, institutions, problems: list[Problem]) -> pd.DataFrame | None:
    from .mapping import _read_raw  # the mapping's reading of one small table: the delivery readers, text columns

    raw = _read_raw(file, problems)
    if raw is None:
        return None
    if raw.attrs.get("header_only"):
        return None
    name = file.name
    ok = True
    for column in REQUIRED_COLUMNS:
        if column not in raw.columns:
            _problem(problems, name, 1, column, None, "action_column_missing", column=column)
            ok = False
    allowed = ", ".join(ACTION_COLUMNS)
    for column in raw.columns:
        if column not in ACTION_COLUMNS:
            _problem(problems, name, 1, column, None, "action_column_unknown", severity="warning", columns=allowed)
    if not ok:
        return None
    text = {}
    for column in ACTION_COLUMNS:
        values = raw[column] if column in raw.columns else pd.Series(pd.NA, index=raw.index)
        values = values.astype("string").str.strip()
        values = values.mask(values == "")
        if column not in DATE_COLUMNS:
            values = values.map(lambda v: unicodedata.normalize("NFC", v), na_action="ignore").astype("string")
        text[column] = values
    frame = pd.DataFrame(text, index=raw.index)
    # a pre-filled row of a dialogue record that nobody filled in
    untouched = frame[["agreed_on", "description", "owner", "status", "review_on"]].isna().all(axis=1)
    frame = frame[~untouched]
    rows = frame.index.to_numpy() + 2
    bad = np.zeros(len(frame), dtype=bool)
    for column in REQUIRED_COLUMNS:
        empty = frame[column].isna().to_numpy()
        for row in rows[empty]:
            _problem(problems, name, row, column, None, "action_value_missing", column=column)
        bad |= empty
    bad |= _check_indicators(frame, rows, name, problems)
    if institutions is not None:
        known = set(institutions)
        unknown = frame["institution"].notna().to_numpy() & ~frame["institution"].isin(known).to_numpy()
        for row, value in zip(rows[unknown], frame["institution"][unknown]):
            _problem(problems, name, row, "institution", value, "action_institution_unknown")
        bad |= unknown
    status = frame["status"].str.lower()
    wrong = status.notna().to_numpy() & ~status.isin(STATUSES).to_numpy()
    for row, value in zip(rows[wrong], frame["status"][wrong]):
        _problem(problems, name, row, "status", value, "action_status_invalid", statuses=", ".join(STATUSES))
    bad |= wrong
    frame["status"] = status
    workbook = file.suffix.lower() in _WORKBOOK_SUFFIXES
    dates = {}
    for column in DATE_COLUMNS:
        dates[column], wrong = _dates(frame[column], workbook)
        for row, value in zip(rows[wrong], frame[column][wrong]):
            _problem(problems, name, row, column, value, "action_date_invalid")
        bad |= wrong
    frame["agreed_on"], frame["review_on"] = dates["agreed_on"], dates["review_on"]
    early = (frame["review_on"] < frame["agreed_on"]).to_numpy() & ~bad
    for row, value, agreed in zip(rows[early], frame["review_on"][early], frame["agreed_on"][early]):
        _problem(problems, name, row, "review_on", f"{value:%d-%m-%Y}", "action_review_before_agreed",
                 severity="warning", agreed_on=f"{agreed:%d-%m-%Y}")
    frame["file"] = name
    frame["row"] = rows
    return _typed(frame[~bad])


def _check_indicators(frame: pd.DataFrame, rows: np.ndarray, file: str, problems: list[Problem]) -> np.ndarray:
    """Lower-case the ids in place; the mask of rows whose indicator is not a registry id."""
    from outcome_analysis.indicators.registry import REGISTRY

    ids = frame["indicator"].str.lower()
    wrong = ids.notna().to_numpy() & ~ids.isin(list(REGISTRY)).to_numpy()
    for row, value in zip(rows[wrong], frame["indicator"][wrong]):
        _problem(problems, file, row, "indicator", value, "action_indicator_unknown")
    frame["indicator"] = ids
    return wrong


def _dates(values: pd.Series, workbook: bool) -> tuple[pd.Series, np.ndarray]:
    """The column as midnight Timestamps (NaT where empty or bad) and the mask of bad values."""
    from .parse import _dates as parse_dates  # the delivery's date rule, one copy

    text = values.astype("string").str.replace(
        _OTHER_SEPARATORS, lambda m: "-".join(g for g in m.groups() if g is not None), regex=True)
    parsed, bad, _impossible = parse_dates(text)
    parsed = pd.Series(parsed.to_numpy(), index=values.index).astype("datetime64[ns]")
    bad = np.asarray(bad, dtype=bool).copy()
    if workbook and bad.any():
        serial = bad & text.str.fullmatch(_SERIAL.pattern).fillna(False).to_numpy(dtype=bool)
        days = pd.to_numeric(text[serial])
        parsed[serial] = _EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
        bad &= ~serial
    return parsed, bad


def _drop_repeated(actions: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    key = ["institution", "indicator", "agreed_on", "description"]
    repeated = actions.duplicated(key, keep="first").to_numpy()
    if not repeated.any():
        return actions
    first = actions[~repeated].set_index(key)[["file", "row"]]
    for _, action in actions[repeated].iterrows():
        other = first.loc[tuple(action[k] for k in key)]
        _problem(problems, action["file"], action["row"], "description", action["description"], "action_repeated",
                 severity="warning", other_file=other["file"], other_row=other["row"])
    return actions[~repeated]


# ---------------------------------------------------------------------------
# the dialogue record
# ---------------------------------------------------------------------------

#: the words of the dialogue record's workbook (sheet names, column notes, drop-down messages).
RECORD_TEXTS = {
    "nl": {
        "sheet": "acties",
        "lists": "indicatoren",
        "lists_header": ("indicator", "naam"),
        "status_header": "status",
        "notes": {
            "institution": "De instelling, zoals in de rapportage.",
            "indicator": "De indicator van de actie: kies uit de lijst (het blad 'indicatoren' geeft de namen).",
            "agreed_on": "De datum van het gesprek waarin de actie is afgesproken, als dd-mm-jjjj.",
            "description": "Wat is afgesproken, in gewone tekst.",
            "owner": "Wie de actie trekt (mag leeg blijven).",
            "status": "gepland, lopend, afgerond of gestopt (mag leeg blijven).",
            "review_on": "Wanneer jullie er weer naar kijken, als dd-mm-jjjj (mag leeg blijven).",
        },
        "indicator_error": "Kies een indicator uit de lijst.",
        "status_error": "Kies gepland, lopend, afgerond of gestopt.",
        "date_error": "Vul een datum in, als dd-mm-jjjj.",
        "note_author": "Outcome-werkbank",
    },
    "en": {
        "sheet": "actions",
        "lists": "indicators",
        "lists_header": ("indicator", "name"),
        "status_header": "status",
        "notes": {
            "institution": "The institution, as in the report.",
            "indicator": "The action's indicator: pick one from the list (the sheet 'indicators' gives the names).",
            "agreed_on": "The date of the conversation in which the action was agreed, as dd-mm-yyyy.",
            "description": "What was agreed, in plain text.",
            "owner": "Who carries the action (may stay empty).",
            "status": "gepland, lopend, afgerond or gestopt (may stay empty).",
            "review_on": "When you will look again, as dd-mm-yyyy (may stay empty).",
        },
        "indicator_error": "Pick an indicator from the list.",
        "status_error": "Pick gepland, lopend, afgerond or gestopt.",
        "date_error": "Enter a date, as dd-mm-yyyy.",
        "note_author": "Outcome workbench",
    },
}
#: empty rows below the pre-filled ones that carry the drop-down lists and date format too.
EXTRA_ROWS = 20
_WIDTHS = {"institution": 34, "indicator": 30, "agreed_on": 13, "description": 60, "owner": 20, "status": 12,
           "review_on": 13}


def record_file_name(institution: str, period: str, suffix: str) -> str:
    """The dialogue record's file name: ``acties-<slug>-<period>.<suffix>`` (slug as the report's)."""
    from outcome_analysis.presentation.report import slugify

    period_part = re.sub(r"[^A-Za-z0-9]+", "-", str(period)).strip("-")
    return f"{RECORD_PREFIX}-{slugify(institution)}-{period_part}.{suffix.lstrip('.')}"


def dialogue_record(institution: str, period: str, indicators: Sequence[str], *, lang: str = "nl") -> dict[str, bytes]:
    """The dialogue record of a report: the ``actions`` table pre-filled, as a workbook and as CSV.

    Parameters
    ----------
    institution : str
        The institution of the report (as in the data).
    period : str
        The report period (``"2024"``); not in the table, only used for the workbook's title.
    indicators : sequence of str
        Registry ids the conversation is about: one pre-filled row each (repeats kept once, in order).
    lang : str
        ``"nl"`` (default) or ``"en"``: the words of the workbook (sheet names, notes, messages); the
        column names and statuses are the contract's in both.

    Returns
    -------
    dict
        ``{"xlsx": bytes, "csv": bytes}``. The workbook's first sheet holds the columns
        :data:`ACTION_COLUMNS`, one row per indicator with ``institution`` and ``indicator`` filled,
        and :data:`EXTRA_ROWS` empty rows; drop-down lists (data validation) for ``indicator`` (every
        registry id that is not context, listed with its name on the second sheet) and ``status``
        (:data:`STATUSES`); the date columns formatted ``dd-mm-yyyy`` and validated as dates. The CSV
        holds the same header and pre-filled rows, UTF-8 with BOM, ``;`` separated, CRLF line ends
        (as Dutch Excel opens and saves it).

    Raises
    ------
    outcome_analysis.errors.UnknownIndicatorError
        For an id of ``indicators`` that is not in the registry.
    outcome_analysis.texts.LanguageError
        For a language other than ``"nl"`` or ``"en"``.
    """
    from outcome_analysis import texts
    from outcome_analysis.indicators import registry

    texts.check_lang(lang)
    wanted = list(dict.fromkeys(indicators))
    for indicator in wanted:
        registry.get(indicator)  # raises UnknownIndicatorError
    rows = [[institution, indicator, None, None, None, None, None] for indicator in wanted]
    return {"xlsx": _record_xlsx(institution, period, rows, lang), "csv": _record_csv(rows)}


def _record_csv(rows: list[list]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(ACTION_COLUMNS)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _record_xlsx(institution: str, period: str, rows: list[list], lang: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from outcome_analysis.indicators import registry

    words = RECORD_TEXTS[lang]
    book = Workbook()
    sheet = book.active
    sheet.title = words["sheet"]
    sheet.append(list(ACTION_COLUMNS))
    for row in rows:
        sheet.append(row)
    last = 1 + len(rows) + EXTRA_ROWS
    col = {name: get_column_letter(i + 1) for i, name in enumerate(ACTION_COLUMNS)}
    for i, name in enumerate(ACTION_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.comment = Comment(words["notes"][name], words["note_author"])
        sheet.column_dimensions[col[name]].width = _WIDTHS[name]
    for name in DATE_COLUMNS:
        for r in range(2, last + 1):
            sheet[f"{col[name]}{r}"].number_format = "dd-mm-yyyy"
    for name in ("description", "owner", "institution"):
        for r in range(2, last + 1):
            sheet[f"{col[name]}{r}"].number_format = "@"  # text: a description is never a formula or a number
    sheet.freeze_panes = "A2"

    lists = book.create_sheet(words["lists"])
    lists.append(list(words["lists_header"]))
    ids = registry.ids(context=False)
    for indicator in ids:
        lists.append([indicator, registry.label(indicator, lang)])
    lists.column_dimensions["A"].width = 34
    lists.column_dimensions["B"].width = 60
    lists["A1"].font = lists["B1"].font = Font(bold=True)

    title = f"'{words['lists']}'!$A$2:$A${1 + len(ids)}"
    indicator_list = DataValidation(type="list", formula1=f"={title}", allow_blank=True, showErrorMessage=True,
                                    error=words["indicator_error"], showInputMessage=True,
                                    prompt=words["notes"]["indicator"])
    status_list = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"', allow_blank=True,
                                 showErrorMessage=True, error=words["status_error"], showInputMessage=True,
                                 prompt=words["notes"]["status"])
    date_check = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True,
                                showErrorMessage=True, error=words["date_error"])  # after 1 January 2000
    indicator_list.add(f"{col['indicator']}2:{col['indicator']}{last}")
    status_list.add(f"{col['status']}2:{col['status']}{last}")
    for name in DATE_COLUMNS:
        date_check.add(f"{col[name]}2:{col[name]}{last}")
    for validation in (indicator_list, status_list, date_check):
        sheet.add_data_validation(validation)
    book.properties.title = f"{RECORD_PREFIX} {institution} {period}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
