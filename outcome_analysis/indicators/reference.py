"""A published national reference: figures from outside the delivery, read and checked strictly.

A delivery that holds one institution (or one gemeente's providers) has no national figure of its
own. A *reference file* gives it one: a tidy table of published headline figures, one row per
indicator, period and care type, for example assembled from CBS StatLine tables
(``docs/published-reference.md``)::

    indicator,period,care_type,value,numerator,denominator,ci_low,ci_high,source
    jbjr_verloop,2024,jb,0.81,3645,4500,,,"CBS StatLine, ..."

:func:`read_reference` reads such a file (CSV, Excel and the other formats of
:mod:`~outcome_analysis.contract.readers`) and returns a :class:`Reference`; every problem names the
file, the row as a spreadsheet shows it (the header is row 1), the column and the value
(:class:`~outcome_analysis.errors.Problem`). :meth:`Reference.as_rows` gives the figures in the shape
of the national rows of the results store, with ``scope`` ``"reference"``, so that a comparison can
use them as its reference value.

The columns
-----------
``indicator``
    A registry id (:mod:`outcome_analysis.indicators.registry`) of an indicator with a headline
    figure; case and surrounding blanks are ignored.
``period``
    A year (``2024``) or half year (``2024H1``), as :func:`~outcome_analysis.contract.periods.parse_period` reads.
``care_type``
    ``jeugdhulp``, ``jb`` or ``jr``, one the indicator applies to.
``value``
    The headline figure. For a share indicator (registry ``headline: share``) a fraction in [0, 1]
    (0.45, not 45 or 45%). For a mean indicator (``headline: mean``) the mean in the indicator's own
    unit (a score 1-5, days of waiting time), as the registry's definition says.
``numerator``, ``denominator`` (optional, together)
    What the value was computed from: for a share, the number of units with the outcome and the
    number of units (whole numbers, numerator at most denominator); for a mean, the sum and the number
    of units. ``value`` must equal ``numerator / denominator`` up to the rounding of ``value``: half a
    unit of its last decimal as written, for a share at most half a percentage point
    (:data:`SHARE_ROUNDING`: an export that drops trailing zeros writes 0.80 as 0.8).
``ci_low``, ``ci_high`` (optional, together)
    The published confidence interval, in the unit of ``value``; it must hold the value.
``window_months`` (optional)
    The follow-up window of an indicator that has one (herhaald beroep: 12), so that a figure is only
    compared with one computed with the same window.
``source`` (a column, or the ``source`` argument for rows without one)
    Where the figure comes from, as a report prints it. Required: a report that shows a reference
    figure must name its source, so a figure without one is an error, not a warning.
"""
from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from outcome_analysis.contract import schema
from outcome_analysis.contract.parse import normalise_header
from outcome_analysis.contract.periods import PeriodError, parse_period
from outcome_analysis.contract.readers import Restart, Unreadable, as_text, drop_empty_rows, raw_chunks
from outcome_analysis.errors import DataValidationError, Problem, UnknownIndicatorError
from outcome_analysis.indicators import registry
from outcome_analysis.settings import DEFAULT, Settings

#: the columns a reference file must have.
REQUIRED_COLUMNS = ("indicator", "period", "care_type", "value")
#: the columns it may have besides.
OPTIONAL_COLUMNS = ("numerator", "denominator", "ci_low", "ci_high", "window_months", "source")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: the ``scope`` of the rows :meth:`Reference.as_rows` returns (the results store has ``national``
#: and ``institution``).
SCOPE = "reference"
#: where an interval comes from (column ``interval``): ``published`` (the file's ``ci_low`` and
#: ``ci_high``), ``wilson`` or ``exact`` (computed from numerator and denominator with
#: :func:`outcome_analysis.statistics.stats.proportion_ci`, the method of the settings), ``none``
#: (no interval: the file gives neither an interval nor, for a share, numerator and denominator; a
#: mean's interval needs its standard deviation, which the file does not hold).
INTERVALS = ("published", "wilson", "exact", "none")
#: the columns of :meth:`Reference.as_rows`, in order: the national rows of the results store
#: (``indicators`` table) with ``source`` and ``interval`` added.
ROW_COLUMNS = (
    "indicator", "scope", "institution", "period", "care_type", "category", "numerator", "denominator",
    "value", "ci_low", "ci_high", "window_months", "suppressed", "source", "interval",
)
#: the columns of :attr:`Reference.table`: one row per figure.
TABLE_COLUMNS = (
    "row", "indicator", "period", "care_type", "value", "numerator", "denominator", "ci_low", "ci_high",
    "window_months", "source", "interval",
)
#: the keys of :meth:`Reference.figure`.
FIGURE_KEYS = ("value", "ci_low", "ci_high", "numerator", "denominator", "window_months", "source", "interval")
_SLACK = 1e-9  # beyond the rounding of a printed number: float noise
#: the largest rounding allowed to a share (half a percentage point: whole percentages), however few
#: decimals it is written with.
SHARE_ROUNDING = 0.005


@dataclass(frozen=True, eq=False)
class Reference:
    """The checked figures of one reference file.

    Attributes
    ----------
    table : DataFrame
        One row per figure, columns :data:`TABLE_COLUMNS`: ``row`` (the file's spreadsheet row),
        ``indicator``, ``period``, ``care_type``, ``source`` and ``interval`` (text); ``value``,
        ``numerator``, ``ci_low``, ``ci_high`` (float, NaN when absent); ``denominator`` and
        ``window_months`` (``Int64``, ``<NA>`` when absent). Shares are fractions. For a share with
        numerator and denominator but no published interval, ``ci_low``/``ci_high`` hold the
        computed interval (``interval`` says which).
    file : str
        The file's name, as problems name it.
    warnings : tuple of Problem
        What was read but is worth knowing (columns that are not part of the format).
    conf : float
        The confidence level of computed intervals.
    """

    table: pd.DataFrame
    file: str
    warnings: tuple[Problem, ...] = field(default=())
    conf: float = DEFAULT.conf

    def __len__(self) -> int:
        return len(self.table)

    def figure(self, indicator: str, care_type: str, period: str | int) -> dict[str, Any] | None:
        """The reference figure of ``indicator`` for ``care_type`` in ``period``; ``None`` when the
        file has none.

        Returns
        -------
        dict or None
            Keys :data:`FIGURE_KEYS`: ``value``, ``ci_low``, ``ci_high``, ``numerator`` (floats, NaN
            when absent), ``denominator``, ``window_months`` (int or ``None``), ``source`` (text) and
            ``interval`` (one of :data:`INTERVALS`).

        Raises
        ------
        UnknownIndicatorError
            For an id that is not in the registry (a programming error, not a missing figure).
        """
        registry.get(indicator)
        t = self.table
        hit = t.loc[(t["indicator"] == indicator).to_numpy(bool) & (t["care_type"] == care_type).to_numpy(bool)
                    & (t["period"] == str(period)).to_numpy(bool)]
        if hit.empty:
            return None
        row = hit.iloc[0]
        out = {}
        for key in FIGURE_KEYS:
            value = row[key]
            if key in ("denominator", "window_months"):
                value = None if pd.isna(value) else int(value)
            elif key in ("value", "ci_low", "ci_high", "numerator"):
                value = float(value)
            out[key] = value
        return out

    def sources(self) -> list[str]:
        """The distinct sources, in the order they first appear in the file."""
        return list(dict.fromkeys(self.table["source"].tolist()))

    def periods(self, indicator: str | None = None, care_type: str | None = None) -> list[str]:
        """The periods the file has figures of (of ``indicator`` / ``care_type`` when given), in time
        order (a year before its half years)."""
        t = self.table
        mask = np.ones(len(t), dtype=bool)
        if indicator is not None:
            mask &= (t["indicator"] == indicator).to_numpy(bool)
        if care_type is not None:
            mask &= (t["care_type"] == care_type).to_numpy(bool)
        labels = set(t.loc[mask, "period"].tolist())
        return sorted(labels, key=lambda p: (parse_period(p)[0], parse_period(p)[2] != "year", p))

    def indicators(self) -> list[str]:
        """The indicator ids the file has figures of, in registry order."""
        present = set(self.table["indicator"])
        return [i for i in registry.REGISTRY if i in present]

    def as_rows(self) -> pd.DataFrame:
        """The figures shaped like the national headline rows of the results store.

        Returns
        -------
        DataFrame
            Columns :data:`ROW_COLUMNS`: ``indicator``, ``scope`` (``"reference"``), ``institution``
            (``""``), ``period``, ``care_type``, ``category`` (``""``: headline rows), ``numerator``
            (float), ``denominator`` (``Int64``), ``value``, ``ci_low``, ``ci_high`` (float; NaN
            where the file gives no interval and none can be computed), ``window_months``
            (``Int64``), ``suppressed`` (``False``: published figures are public), ``source`` and
            ``interval`` (:data:`INTERVALS`). One row per figure, in file order.
        """
        t = self.table
        n = len(t)
        rows = pd.DataFrame({
            "indicator": t["indicator"].astype(str).to_numpy(),
            "scope": [SCOPE] * n,
            "institution": [""] * n,
            "period": t["period"].astype(str).to_numpy(),
            "care_type": t["care_type"].astype(str).to_numpy(),
            "category": [""] * n,
            "numerator": t["numerator"].astype("float64").to_numpy(),
            "denominator": pd.array(t["denominator"], dtype="Int64"),
            "value": t["value"].astype("float64").to_numpy(),
            "ci_low": t["ci_low"].astype("float64").to_numpy(),
            "ci_high": t["ci_high"].astype("float64").to_numpy(),
            "window_months": pd.array(t["window_months"], dtype="Int64"),
            "suppressed": np.zeros(n, dtype=bool),
            "source": t["source"].astype(str).to_numpy(),
            "interval": t["interval"].astype(str).to_numpy(),
        })
        return rows[list(ROW_COLUMNS)]


def read_reference(path: str | Path, *, settings: Settings | None = None, source: str | None = None) -> Reference:
    """Read and check a reference file (see the module docstring for its columns).

    Parameters
    ----------
    path : str or Path
        The file: CSV (``,``/``;``/tab separated, UTF-8 or Windows-1252), Excel .xlsx/.xls,
        OpenDocument .ods or Parquet; its first sheet.
    settings : Settings, optional
        ``conf`` and ``ci_method`` of the intervals computed from numerator and denominator
        (default: 95%, Wilson).
    source : str, optional
        The source of rows whose ``source`` is empty (or of every row of a file without the column).

    Returns
    -------
    Reference

    Raises
    ------
    DataValidationError
        Listing every error (file, spreadsheet row, column, value and what is expected), warnings
        after them: see :func:`check_reference` for the checks.

    Examples
    --------
    >>> from importlib import resources
    >>> demo = read_reference(resources.files("outcome_analysis") / "data/reference/demo_reference.csv")
    >>> demo.periods()
    ['2023', '2024']
    >>> figure = demo.figure("jbjr_verloop", "jb", "2023")
    >>> figure["value"], figure["denominator"], figure["interval"], round(figure["ci_low"], 4)
    (0.82, 4500, 'wilson', 0.8085)
    >>> demo.figure("jbjr_verloop", "jr", "2024")["interval"]  # a value alone: no interval
    'none'
    """
    reference, problems = check_reference(path, settings=settings, source=source)
    if reference is None:
        errors = [p for p in problems if p.severity == "error"]
        raise DataValidationError(errors + [p for p in problems if p.severity != "error"])
    return reference


def check_reference(path: str | Path, *, settings: Settings | None = None,
                    source: str | None = None) -> tuple[Reference | None, list[Problem]]:
    """The reference of ``path`` and every problem found; the reference is ``None`` when any
    problem is an error.

    Checks, each reported at every row it concerns: a missing required column; an empty required
    cell; an unknown indicator id (naming the closest ids); an indicator without a headline figure;
    an unknown care type, or one the indicator does not apply to; a period that is neither a year nor
    a half year; a number that does not parse; a share (value or interval) outside [0, 1], with a
    hint when it looks like a percentage (45 or 45% for 0.45); half an interval, or one that does not
    hold the value; numerator without denominator or the other way round; a denominator that is not
    a whole number of at least 1; a share's numerator that is not a whole number from 0 to the
    denominator; a value that differs from numerator / denominator by more than its rounding; a
    window for an indicator without one; a row without a source; the same indicator, period and
    care type twice. Columns that are not part of the format are a warning.

    The rows are checked one by one in Python: a reference file holds hundreds of rows, not millions.
    """
    settings = settings or DEFAULT
    path = Path(path)
    problems: list[Problem] = []
    if not path.exists():
        problems.append(Problem(path.name, None, None, None, "the file or folder does not exist", kind="path_missing"))
        return None, problems
    raw = _read_raw(path, problems)
    if raw is None:
        return None, problems
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    for name in missing:
        problems.append(Problem(path.name, 1, name, None, "a required column; it is missing from the header",
                                kind="column_missing"))
    extra = [c for c in raw.columns if c not in COLUMNS]
    if extra:
        listed = ", ".join(extra)
        problems.append(Problem(
            path.name, 1, None, None,
            f"only the columns of a reference file ({', '.join(COLUMNS)}); not read: {listed}",
            severity="warning", kind="reference_columns_extra", params=(("columns", listed),),
        ))
    if missing:
        return None, problems
    if "source" not in raw.columns and not source:
        problems.append(Problem(
            path.name, 1, "source", None,
            "a column source naming where the figures come from (a report names the source of every "
            "reference figure)", kind="reference_source_missing",
        ))
        return None, problems
    raw = drop_empty_rows(raw)
    if len(raw) == 0:
        problems.append(Problem(path.name, None, None, None, "the file has a header but no data rows", kind="no_data_rows"))
        return None, problems
    table = _check_rows(raw, path.name, settings, source, problems)
    if any(p.severity == "error" for p in problems):
        return None, problems
    warnings = tuple(p for p in problems if p.severity != "error")
    return Reference(table, path.name, warnings, settings.conf), problems


# ------------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------------


def _read_raw(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """The file's first table as raw cells (text for CSV) with normalised column names; ``None``
    (after recording why) when it cannot be read. Restarts the reader as the delivery loader does
    (an encoding that turns out not to be UTF-8, records with the wrong number of fields)."""
    options: dict = {}
    for _ in range(4):
        mark = len(problems)
        try:
            frames = []
            for chunk in raw_chunks(path, problems, options):
                chunk = normalise_header(chunk, path.name, problems, set(), check_names=not frames)
                if chunk is None:
                    return None
                frames.append(chunk)
            if not frames:  # a CSV with a header only yields no chunk
                problems.append(Problem(path.name, None, None, None, "the file has a header but no data rows",
                                        kind="no_data_rows"))
                return None
            raw = frames[0] if len(frames) == 1 else pd.concat(frames)
            raw.attrs["decimal_comma"] = frames[0].attrs.get("decimal_comma", False)
            return raw
        except Restart as restart:
            del problems[mark:]
            options.update(restart.options)
        except Unreadable:
            return None
    return None


def _cells(raw: pd.DataFrame, column: str) -> list[str | None]:
    """The cells of ``column`` as stripped text, ``None`` when empty or absent."""
    if column not in raw.columns:
        return [None] * len(raw)
    text = as_text(raw[column]).str.strip()
    return [None if pd.isna(v) or v == "" else str(v) for v in text.tolist()]


def _number(text: str | None, decimal_comma: bool) -> tuple[float, float] | None:
    """``(value, rounding)`` of a number as written: ``rounding`` is half a unit of its last decimal
    (``"0.45"`` -> 0.005). ``None`` when ``text`` is not a finite number."""
    if text is None:
        return None
    cleaned = text.replace(" ", "")
    if decimal_comma or ("," in cleaned and "." not in cleaned):
        cleaned = cleaned.replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    exponent = number.as_tuple().exponent
    return float(number), 0.5 * 10.0 ** min(int(exponent), 0)


# ------------------------------------------------------------------------------------------------
# checking
# ------------------------------------------------------------------------------------------------


def _suggestion(text: str) -> str:
    """The closest registry ids to ``text`` (by id, or by Dutch or English name), for a message."""
    ids = list(registry.REGISTRY)
    by_name = {}
    for entry in registry.REGISTRY.values():
        by_name[entry.name_nl.lower()] = entry.id
        by_name[entry.name_en.lower()] = entry.id
    found = difflib.get_close_matches(text.lower(), ids, n=3, cutoff=0.5)
    found += [by_name[n] for n in difflib.get_close_matches(text.lower(), list(by_name), n=2, cutoff=0.6)]
    found = list(dict.fromkeys(found))[:3]
    return ", ".join(found)


def _check_rows(raw: pd.DataFrame, file: str, settings: Settings, default_source: str | None,
                problems: list[Problem]) -> pd.DataFrame:
    decimal_comma = bool(raw.attrs.get("decimal_comma", False))
    rows = (raw.index.to_numpy() + 2).tolist()
    cells = {c: _cells(raw, c) for c in COLUMNS}
    out: list[dict] = []
    first_row: dict[tuple, int] = {}

    for i, row in enumerate(rows):
        ok = True

        def flag(column, expected, kind, params=(), value=None, *, _row=row, _i=i):
            nonlocal ok
            ok = False
            shown = cells[column][_i] if value is None and column in cells else value
            problems.append(Problem(file, _row, column, shown, expected, kind=kind, params=tuple(params)))

        for column in REQUIRED_COLUMNS:
            if cells[column][i] is None:
                flag(column, "a value is required", "required_missing")

        entry = None
        indicator = (cells["indicator"][i] or "").lower()
        if indicator:
            entry = registry.REGISTRY.get(indicator)
            if entry is None:
                hint = _suggestion(indicator)
                if hint:
                    flag("indicator", f"an indicator id of the registry; did you mean {hint}?",
                         "reference_indicator_unknown", (("suggestion", hint),))
                else:
                    flag("indicator", "an indicator id of the registry (outcome_analysis/data/indicators.yaml)",
                         "reference_indicator_unknown_no_match")
            elif entry.headline not in ("share", "mean"):
                flag("indicator", "an indicator with a headline figure (a share or a mean); this one has none "
                     "(a distribution of categories)", "reference_indicator_no_headline")
                entry = None

        care_type = (cells["care_type"][i] or "").lower()
        if care_type:
            if care_type not in schema.CARE_TYPES:
                flag("care_type", f"one of {', '.join(schema.CARE_TYPES)}", "code_unknown",
                     (("codes", ", ".join(schema.CARE_TYPES)),))
            elif entry is not None and care_type not in entry.care_types:
                listed = ", ".join(entry.care_types)
                flag("care_type", f"a care type {entry.id} applies to: {listed}",
                     "reference_care_type_not_applicable", (("indicator", entry.id), ("care_types", listed)))

        period = (cells["period"][i] or "").upper()
        if period:
            try:
                parse_period(period)
            except PeriodError:
                if len(period) == 8 and period[:4].isdigit() and period[4:] == "JJ00":
                    flag("period", f"a year like 2024: the StatLine period code {period} is the year {period[:4]}",
                         "reference_period_statline", (("year", period[:4]),))
                else:
                    flag("period", "a year like 2024 or a half year like 2024H1", "reference_period_invalid")

        share = entry is not None and entry.headline == "share"
        numbers: dict[str, tuple[float, float] | None] = {}
        for column in ("value", "numerator", "denominator", "ci_low", "ci_high", "window_months"):
            text = cells[column][i]
            if text is None:
                numbers[column] = None
                continue
            if text.endswith("%") and column in ("value", "ci_low", "ci_high"):
                flag(column, f"a fraction, not a percentage: {_as_fraction(text)} instead of {text}",
                     "reference_percentage", (("fraction", _as_fraction(text)),))
                numbers[column] = None
                continue
            parsed = _number(text, decimal_comma)
            if parsed is None:
                flag(column, "a number", "number_invalid")
            elif share and column in ("value", "ci_low", "ci_high"):
                # an export drops trailing zeros (0.80 -> 0.8): no share is published rounded coarser
                # than whole percentages
                parsed = (parsed[0], min(parsed[1], SHARE_ROUNDING))
            numbers[column] = parsed

        if share:
            for column in ("value", "ci_low", "ci_high"):
                parsed = numbers[column]
                if parsed is None or 0 <= parsed[0] <= 1:
                    continue
                if 1 < parsed[0] <= 100:
                    fraction = _fraction_text(parsed[0])
                    flag(column, f"a fraction in [0, 1]: {cells[column][i]} looks like a percentage; give {fraction}",
                         "reference_share_percentage", (("fraction", fraction),))
                else:
                    flag(column, "a fraction from 0 to 1 (a share)", "out_of_range", (("low", 0), ("high", 1)))
                numbers[column] = None

        _check_interval(numbers, cells, i, flag)
        _check_counts(numbers, cells, i, share, entry, flag)

        window = numbers["window_months"]
        if window is not None:
            if window[0] != int(window[0]) or window[0] < 1:
                flag("window_months", "a whole number of months, at least 1", "whole_number_invalid")
            elif entry is not None and entry.window_setting is None:
                flag("window_months", f"empty: {entry.id} has no follow-up window",
                     "reference_window_not_applicable", (("indicator", entry.id),))

        row_source = cells["source"][i] or (default_source.strip() if default_source else None)
        if not row_source:
            flag("source", "where the figure comes from (a report names the source of every reference figure)",
                 "reference_source_missing")

        if indicator and period and care_type:
            key = (indicator, period, care_type)
            if key in first_row:
                flag("indicator", f"one row per indicator, period and care type; "
                     f"{indicator}, {period}, {care_type} is also in row {first_row[key]}",
                     "reference_repeated", (("first_row", first_row[key]),),
                     value=f"{indicator}, {period}, {care_type}")
            else:
                first_row[key] = row

        if ok:
            out.append(_figure(row, indicator, period, care_type, numbers, row_source, share, settings))

    table = pd.DataFrame(out, columns=list(TABLE_COLUMNS))
    for column in ("value", "numerator", "ci_low", "ci_high"):
        table[column] = table[column].astype("float64")
    for column in ("denominator", "window_months"):
        table[column] = pd.array(table[column], dtype="Int64")
    return table


def _check_interval(numbers: dict, cells: dict, i: int, flag) -> None:
    """Half an interval, or one that does not hold the value (up to the rounding of both)."""
    low, high, value = numbers["ci_low"], numbers["ci_high"], numbers["value"]
    given = [cells["ci_low"][i] is not None, cells["ci_high"][i] is not None]
    if given[0] != given[1]:
        column = "ci_high" if given[0] else "ci_low"
        flag(column, "ci_low and ci_high together (or neither)", "reference_ci_incomplete")
        return
    if low is None or high is None or value is None:
        return
    if low[0] > value[0] + value[1] + low[1] + _SLACK:
        flag("ci_low", f"at most the value ({cells['value'][i]}): the interval must hold the value",
             "reference_ci_not_around_value", (("value", cells["value"][i]),))
    if high[0] < value[0] - value[1] - high[1] - _SLACK:
        flag("ci_high", f"at least the value ({cells['value'][i]}): the interval must hold the value",
             "reference_ci_not_around_value", (("value", cells["value"][i]),))


def _check_counts(numbers: dict, cells: dict, i: int, share: bool, entry, flag) -> None:
    """Numerator and denominator: together, whole, in order, and consistent with the value."""
    given = {c: cells[c][i] is not None for c in ("numerator", "denominator")}
    if given["numerator"] != given["denominator"]:
        column = "denominator" if given["numerator"] else "numerator"
        flag(column, "numerator and denominator together (or neither)", "reference_counts_incomplete")
        return
    numerator, denominator, value = numbers["numerator"], numbers["denominator"], numbers["value"]
    if numerator is None or denominator is None:  # neither given, or a problem already reported
        return
    good = True
    if denominator[0] != int(denominator[0]):
        flag("denominator", "a whole number", "whole_number_invalid")
        good = False
    elif denominator[0] < 1:
        flag("denominator", "a value of at least 1", "below_minimum", (("low", 1),))
        good = False
    if share:
        if numerator[0] != int(numerator[0]):
            flag("numerator", "a whole number", "whole_number_invalid")
            good = False
        elif numerator[0] < 0:
            flag("numerator", "a value of at least 0", "below_minimum", (("low", 0),))
            good = False
        elif good and numerator[0] > denominator[0]:
            flag("numerator", f"at most the denominator ({_plain(denominator[0])})",
                 "reference_numerator_above_denominator", (("denominator", _plain(denominator[0])),))
            good = False
    if good and value is not None and entry is not None:
        ratio = numerator[0] / denominator[0]
        if abs(value[0] - ratio) > value[1] + _SLACK:
            shown = f"{ratio:.4f}".rstrip("0").rstrip(".")
            flag("value", f"numerator / denominator = {_plain(numerator[0])} / {_plain(denominator[0])} = {shown} "
                 "(up to the rounding of the value)", "reference_value_inconsistent",
                 (("numerator", _plain(numerator[0])), ("denominator", _plain(denominator[0])), ("ratio", shown)))


def _figure(row: int, indicator: str, period: str, care_type: str, numbers: dict, source: str, share: bool,
            settings: Settings) -> dict:
    """One checked row as a figure, with its interval: published, computed, or none."""
    def get(column):
        return np.nan if numbers[column] is None else numbers[column][0]

    figure = {
        "row": row, "indicator": indicator, "period": period, "care_type": care_type,
        "value": get("value"), "numerator": get("numerator"),
        "denominator": pd.NA if numbers["denominator"] is None else int(numbers["denominator"][0]),
        "ci_low": get("ci_low"), "ci_high": get("ci_high"),
        "window_months": pd.NA if numbers["window_months"] is None else int(numbers["window_months"][0]),
        "source": source, "interval": "none",
    }
    if numbers["ci_low"] is not None:
        figure["interval"] = "published"
    elif share and numbers["numerator"] is not None:
        from outcome_analysis.statistics import stats  # scipy: only when an interval is computed

        figure["ci_low"], figure["ci_high"] = stats.proportion_ci(
            numbers["numerator"][0], numbers["denominator"][0], settings.conf, settings.ci_method)
        figure["interval"] = settings.ci_method
    return figure


def _plain(number: float) -> str:
    """A whole number without ``.0``; other numbers as Python writes them."""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _fraction_text(percentage: float) -> str:
    """``45`` -> ``"0.45"``: a percentage as the fraction to write instead (for a message)."""
    return format(Decimal(repr(percentage)) / 100, "f").rstrip("0").rstrip(".") or "0"


def _as_fraction(text: str) -> str:
    """``"45%"`` -> ``"0.45"``; the text unchanged when what precedes ``%`` is not a number."""
    parsed = _number(text.rstrip("%").strip(), decimal_comma=True)
    return text if parsed is None else _fraction_text(parsed[0])


__all__: Sequence[str] = (
    "COLUMNS", "FIGURE_KEYS", "INTERVALS", "OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "ROW_COLUMNS", "SCOPE",
    "TABLE_COLUMNS", "Reference", "check_reference", "read_reference",
)
