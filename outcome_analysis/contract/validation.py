"""What the validator tells a data supplier: the problems grouped for the terminal, the summary
lines, and the problems file (CSV for Dutch Excel, or .xlsx).

Everything a supplier reads is Dutch by default (``lang="nl"``) and English on request
(``lang="en"``); messages come from :meth:`Problem.message <outcome_analysis.errors.Problem.message>`.
The terminal output is at most :data:`WIDTH` columns wide; it shows the first
:data:`ROWS_PER_GROUP` rows of every group and says where the rest is. The problems file holds every
problem.
"""
from __future__ import annotations

import csv
import functools
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from outcome_analysis import atomic, texts
from outcome_analysis.presentation import report
from outcome_analysis.errors import Problem

WIDTH = 100
ROWS_PER_GROUP = 10
LANGS = texts.LANGS
PROBLEM_FILE_SUFFIXES = (".csv", ".xlsx")


@functools.lru_cache(maxsize=None)
def _texts(lang: str) -> dict:
    """The validator's texts in ``lang`` (``data/texts/validation.yaml``), read once per language and
    only read after (a problems file may have many rows); ``ValueError`` for an unknown language."""
    return texts.for_lang("validation", lang, error=ValueError)


def text(key: str, lang: str = "nl", **values) -> str:
    """A fixed text of the validator in ``lang``, with ``values`` filled in."""
    return _texts(lang)[key].format(**values)


def counted(n: int, singular: str, plural: str, lang: str = "nl") -> str:
    """``1 fout``, ``3 fouten`` (the keys of the texts)."""
    return f"{report.fmt_int(n, lang)} {text(singular if n == 1 else plural, lang)}"


# ------------------------------------------------------------------------------------------------
# Grouping
# ------------------------------------------------------------------------------------------------


@dataclass
class Group:
    """Problems of one severity, file, column and kind."""

    severity: str
    file: str
    column: str | None
    kind: str
    problems: list[Problem] = field(default_factory=list)


def group_problems(problems: Sequence[Problem]) -> list[Group]:
    """Errors before warnings; within each, by file, column and kind (``kind``, else ``expected``),
    each in the order of first appearance; the problems of a group keep their order."""
    groups: dict[tuple, Group] = {}
    for p in problems:  # a loop over problems, not over data rows
        severity = "error" if p.severity == "error" else "warning"
        key = (severity, p.file, p.column, p.kind or p.expected)
        if key not in groups:
            groups[key] = Group(severity, p.file, p.column, p.kind or p.expected)
        groups[key].problems.append(p)
    files = {name: i for i, name in enumerate(dict.fromkeys(p.file for p in problems))}
    ordered = list(groups.values())
    first_column: dict[tuple, int] = {}
    for i, g in enumerate(ordered):
        first_column.setdefault((g.severity, g.file, g.column), i)

    def key(item: tuple[int, Group]) -> tuple:
        i, g = item
        return (g.severity != "error", files[g.file], g.column is not None,
                first_column[(g.severity, g.file, g.column)], i)

    return [g for _, g in sorted(enumerate(ordered), key=key)]


# ------------------------------------------------------------------------------------------------
# Terminal output
# ------------------------------------------------------------------------------------------------


def shorten(value, width: int) -> str:
    """One line of at most ``width`` characters (``…`` where cut)."""
    line = re.sub(r"\s+", " ", "" if value is None else str(value)).strip()
    if len(line) <= width:
        return line
    return line[: max(width - 1, 0)] + "…"


def paragraph(line: str, width: int = WIDTH) -> str:
    """``line`` wrapped at ``width`` columns, continuation lines indented by two spaces."""
    return "\n".join(_wrap(line, "", "  ", width))


def _wrap(line: str, indent: str = "", subsequent: str | None = None, width: int = WIDTH) -> list[str]:
    return textwrap.wrap(line, width=width, initial_indent=indent,
                         subsequent_indent=indent + "  " if subsequent is None else subsequent,
                         break_long_words=True, break_on_hyphens=False) or [indent.rstrip()]


def format_problems(problems: Sequence[Problem], lang: str = "nl", problems_file: str | Path | None = None,
                    width: int = WIDTH, rows_per_group: int = ROWS_PER_GROUP) -> str:
    """The problems grouped for a terminal of ``width`` columns.

    Per severity (errors first) a heading; per file its name; per column and kind of problem one
    line with the count and the message; under it the first ``rows_per_group`` rows (row number,
    trajectory_id, value, and the message when it differs between the rows of the group), then how
    many more there are and where to find them (``problems_file``, or how to write one).
    """
    texts.check_lang(lang, ValueError)
    lines: list[str] = []
    section = file = None
    for g in group_problems(problems):
        if g.severity != section:
            section = g.severity
            n = sum(1 for p in problems if (p.severity == "error") == (section == "error"))
            title = f"{text('Errors' if section == 'error' else 'Warnings', lang)} ({report.fmt_int(n, lang)})"
            if lines:
                lines.append("")
            lines += [title, "=" * len(title)]
            file = None
        if g.file != file:
            file = g.file
            lines += ["", *_wrap(file, "", "  ", width)]
        lines += _format_group(g, lang, problems_file, width, rows_per_group)
    return "\n".join(lines)


def _format_group(g: Group, lang: str, problems_file, width: int, rows_per_group: int) -> list[str]:
    messages = [p.message(lang) for p in g.problems]
    same_message = len(set(messages)) == 1
    with_rows = [p for p in g.problems if p.row is not None]
    where = (f"{text('column', lang)} {g.column}" if g.column is not None else text("whole_file", lang))
    n = len(g.problems)
    if len(with_rows) == n:
        count = counted(n, "row", "rows", lang)
    else:
        count = f"{report.fmt_int(n, lang)} {text('times', lang)}" if n > 1 else ""
    head = f"{where} ({count})" if count else where
    if same_message:
        out = _wrap(f"{head}: {messages[0]}", "  ", "      ", width)
    else:
        out = _wrap(f"{head}:", "  ", "      ", width)
    shown = g.problems[:rows_per_group]
    if with_rows:
        out += _row_table(shown, messages[: len(shown)], not same_message, lang, width, g.column)
    elif not same_message:
        for message in messages[: len(shown)]:
            out += _wrap(f"- {message}", "      ", "        ", width)
    if n > len(shown):
        more = report.fmt_int(n - len(shown), lang)
        line = (text("more_see", lang, n=more, file=Path(problems_file).name) if problems_file is not None
                else text("more_write", lang, n=more))
        out += _wrap(line, "      ", "        ", width)
    return out


def _row_table(shown: list[Problem], messages: list[str], with_message: bool, lang: str, width: int,
               column: str | None = None) -> list[str]:
    """Row number, trajectory_id (when any is known), value (when any is given: a missing value shows
    as "(leeg)") and, when the rows' messages differ, the message; every cell cut to fit ``width``."""
    indent = " " * 6
    head_row = text("row", lang)
    rows = [str(p.row) if p.row is not None else "" for p in shown]  # as the spreadsheet numbers them
    row_w = max(len(head_row), *(len(r) for r in rows))
    with_id = column != "trajectory_id" and any(p.trajectory_id is not None for p in shown)
    ids = [shorten(p.trajectory_id, 24) for p in shown]
    id_w = max(len("trajectory_id"), *(len(i) for i in ids)) if with_id else 0
    with_value = any(p.value is not None for p in shown)
    used = len(indent) + row_w + 2 + (id_w + 2 if with_id else 0)
    value_room = min(width - used, 30 if with_message else 60)
    values = [shorten(p.value, value_room) if p.value not in (None, "") else text("empty", lang) for p in shown]
    value_w = min(max(len(text("value", lang)), *(len(v) for v in values)), value_room) if with_value else 0
    if not (with_id or with_value or with_message):  # only row numbers: one line
        listed = ", ".join(r for r in rows if r)
        return _wrap(f"{text('row' if len(rows) == 1 else 'rows', lang)}: {listed}", indent, indent + "  ", width)
    message_room = width - used - (value_w + 2 if with_value else 0)
    header = [head_row.rjust(row_w)] + (["trajectory_id".ljust(id_w)] if with_id else [])
    header += [text("value", lang).ljust(value_w)] if with_value else []
    header += [text("message", lang)] if with_message else []
    lines = [(indent + "  ".join(header)).rstrip()]
    for row, tid, value, message in zip(rows, ids, values, messages):
        cells = [row.rjust(row_w)] + ([tid.ljust(id_w)] if with_id else [])
        cells += [value.ljust(value_w)] if with_value else []
        cells += [shorten(message, message_room)] if with_message else []
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def summary_not_ok(n_errors: int, n_warnings: int, path, lang: str = "nl", width: int = WIDTH) -> str:
    """``3 fouten en 2 waarschuwingen in levering/: de gegevens voldoen niet aan het gegevenscontract.``"""
    line = text("not_ok", lang, errors=counted(n_errors, "error", "errors", lang),
                warnings=counted(n_warnings, "warning", "warnings", lang), path=path)
    return paragraph(line, width)


def summary_ok(data, n_warnings: int, lang: str = "nl", width: int = WIDTH) -> str:
    """``In orde: 12.345 trajecten, 8 instellingen, ...; periode 01-01-2022 t/m 31-12-2024 (peildatum ...)``."""
    t = data.trajectories
    has_dates = bool(t["start_date"].notna().any())
    fmt = _texts(lang)["date_format"]  # one date format per line
    first = f"{t['start_date'].min():{fmt}}" if has_dates else text("no_dates", lang)
    last = f"{data.reference_date:{fmt}}" if has_dates else text("no_dates", lang)
    reference = f"{data.reference_date:{fmt}}"
    warnings = counted(n_warnings, "warning", "warnings", lang) if n_warnings else text("no_warnings", lang)
    line = text("ok", lang, trajectories=report.fmt_int(len(t), lang), institutions=report.fmt_int(t["institution"].nunique(), lang),
                goals=report.fmt_int(len(data.goals), lang), answers=report.fmt_int(len(data.experience), lang),
                first=first, last=last, reference=reference, warnings=warnings)
    return paragraph(line, width)


# ------------------------------------------------------------------------------------------------
# The problems file
# ------------------------------------------------------------------------------------------------


def problem_rows(problems: Sequence[Problem], lang: str = "nl") -> tuple[list[str], list[list]]:
    """Headers and one row per problem for the problems file (every problem)."""
    headers = list(_texts(lang)["columns"].values())
    rows = []
    error, warning = text("error", lang), text("warning", lang)
    for p in problems:
        severity = error if p.severity == "error" else warning
        rows.append([severity, p.file, p.row, p.column, p.trajectory_id, p.value, p.message(lang)])
    return headers, rows


def write_problems(problems: Sequence[Problem], out: str | Path, lang: str = "nl") -> Path:
    """Write every problem to ``out``: ``.csv`` for Dutch Excel (``;`` separated, UTF-8 with BOM) or
    ``.xlsx`` (header frozen, autofilter, column widths). Atomic; returns ``out``.

    Values are written as text; a value that Excel would run as a formula (starting with ``=``,
    ``+``, ``@``, or ``-`` followed by a non-digit) gets a leading apostrophe in the CSV and is
    stored as a text cell in the xlsx.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in PROBLEM_FILE_SUFFIXES:
        raise ValueError(f"the problems file must end in .csv or .xlsx, not {out.name!r}")
    headers, rows = problem_rows(problems, lang)
    if suffix == ".csv":
        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
                writer.writerow(headers)
                for row in rows:
                    writer.writerow(["" if v is None else _csv_safe(v) for v in row])
    else:
        def write(tmp: Path) -> None:
            _write_problems_xlsx(tmp, headers, rows, lang)
    return atomic.write_with(out, write)


_FORMULA = re.compile(r"^(?:[=+@\t\r]|-(?![\d.,]))")


def _csv_safe(value):
    """Text that Excel would take for a formula, prefixed with an apostrophe; numbers as they are."""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def _write_problems_xlsx(path: Path, headers: list[str], rows: list[list], lang: str) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(text("problems", lang).capitalize())
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    least, most = (14, 12, 7, 12, 15, 10, 30), (14, 30, 9, 24, 24, 40, 90)  # 'waarschuwing' fits the first
    for i, header in enumerate(headers):
        longest = max([len(header)] + [len(str(r[i])) for r in rows[:5000] if r[i] is not None])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(max(longest + 2, least[i]), most[i])
    ws.append(bold_cells(ws, headers))
    for row in rows:
        out = []
        for v in row:
            if isinstance(v, str):
                cell = WriteOnlyCell(ws, v)
                cell.data_type = "s"  # text, never a formula
                out.append(cell)
            else:
                out.append(v)
        ws.append(out)
    wb.save(path)


def bold_cells(ws, values, cell_class=None) -> list:
    """A header row for a write-only openpyxl sheet: one bold cell per value.

    ``cell_class`` defaults to ``openpyxl.cell.WriteOnlyCell``.
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    cells = []
    for value in values:
        cell = (cell_class or WriteOnlyCell)(ws, value)
        cell.font = bold
        cells.append(cell)
    return cells
