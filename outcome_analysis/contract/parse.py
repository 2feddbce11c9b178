"""Parsing raw text columns to the contract's dtypes and checking them (``docs/data-contract.md``).

Dates, numbers, booleans, code lists and CBS codes per column; the cross-column checks of a
trajectory (dates in order, care form of the care type, end reason of the care form); text in NFC.
Every problem is collected with file, row, column and value (:func:`add_problem`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outcome_analysis.errors import DataValidationError, OutcomeAnalysisError, Problem
from outcome_analysis.settings import DEFAULT, Settings

from . import schema
from .dataset import DATE_COLUMNS, Dataset, latest_date_or_nat
from .readers import as_text, rows_listed

#: the time zone whose calendar dates time-zone-aware timestamps are read as.
TIME_ZONE = "Europe/Amsterdam"
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S")
#: the shape of a date the loader reads, with a month 1-12 and a day 1-31: such a text that does not
#: parse is a date that does not exist (31-02-2024, 29-02-2023).
_DATE_SHAPE = (
    r"\d{4}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])(?: \d{1,2}:\d{2}:\d{2})?"
    r"|(?:0?[1-9]|[12]\d|3[01])-(?:0?[1-9]|1[0-2])-\d{4}"
)
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


@dataclass(frozen=True)
class Limit:
    """The latest date allowed in a delivery: the reference date or today."""

    date: pd.Timestamp
    text: str  # for the English ``expected``
    kind: str
    params: tuple


def normalise_header(raw, file_name, problems, unnamed_reported: set, check_names: bool) -> pd.DataFrame | None:
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


def check_header(columns: list[str], table: str, file_name: str, problems: list[Problem]) -> bool:
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


class Forms:
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
                    listed = rows_listed(value_rows)
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


def _normaliser(forms: Forms | None, key: tuple[str, str], file_name: str, index: pd.Index):
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


def parse_table(raw: pd.DataFrame, table: str, file_name: str, settings: Settings, problems: list[Problem], forms=None):
    """The contract columns of ``table`` parsed to their dtypes (plus extra columns as text).

    Columns missing from ``raw`` are added empty (a missing required column is reported by
    ``check_header``); its parsed columns are deleted from ``raw`` as they are parsed, except those
    ``check_trajectory_rows`` still needs. Problems go to ``problems``; every row problem carries the
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
            out[name] = series  # parsed with care_form in check_trajectory_rows
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
            add_problem(problems, file_name, name, series, missing, "a value is required", kind="required_missing", ids=ids)
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
        add_problem(problems, file_name, col.name, series, bad, _codes_expected(col), kind="code_unknown",
                params=(("codes", ", ".join(col.codes)),), ids=ids)
        return pd.Series(pd.Categorical.from_codes(codes, dtype=col.dtype), index=series.index), bad
    if col.kind == "date":
        values, bad, impossible = _dates(series)
        add_problem(problems, file_name, col.name, series, bad & ~impossible, "a date like 31-12-2023 or 2023-12-31",
                kind="date_invalid", ids=ids)
        add_problem(problems, file_name, col.name, series, impossible, "a date that exists; this date is not in the calendar",
                kind="date_impossible", ids=ids)
        return values, bad
    if col.kind == "bool":
        values, bad = _booleans(series)
        add_problem(problems, file_name, col.name, series, bad, "ja/nee, j/n, true/false or 1/0", kind="bool_invalid", ids=ids)
        return values, bad
    # int or number
    numbers, bad = _numbers(series, decimal_comma)
    if col.kind == "int":
        fraction = ~bad & np.isfinite(numbers) & (numbers != np.round(numbers))
        bad |= fraction
    if col.kind == "int":
        add_problem(problems, file_name, col.name, series, bad, "a whole number", kind="whole_number_invalid", ids=ids)
    else:
        add_problem(problems, file_name, col.name, series, bad, "a number", kind="number_invalid", ids=ids)
    low, high = bounds
    outside = np.zeros(len(numbers), dtype=bool)
    if low is not None:
        outside |= numbers < low
    if high is not None:
        outside |= numbers > high
    outside &= ~bad
    if outside.any():
        add_problem(problems, file_name, col.name, series, outside, _range_expected(low, high), **_range_kind(low, high), ids=ids)
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
    add_problem(problems, file_name, col.name, series, bad & (type_code >= 0), lambda pos: texts[type_code[pos]],
            kind="care_form_unknown_for_type", params=lambda pos: [params[t] for t in type_code[pos]], ids=ids)
    add_problem(problems, file_name, col.name, series, bad & (type_code < 0), _codes_expected(col), kind="care_form_unknown",
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
    text = as_text(pd.Series(uniques)).str.strip()
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
    add_problem(problems, file_name, col.name, series, bad, "codes separated by ';' from: " + ", ".join(col.codes),
            kind="codelist_unknown", params=(("codes", ", ".join(col.codes)),), ids=ids)
    return bad


def _text(series: pd.Series, nfc=None) -> pd.Series:
    """Text stripped of surrounding blanks, blank as missing, dtype ``string``; in NFC with ``nfc``."""
    text = as_text(series).str.strip()
    if nfc is not None:
        text = nfc(text)
    return text.mask(text == "").astype("string")


def _missing(values) -> np.ndarray:
    return pd.isna(values).to_numpy() if hasattr(values, "to_numpy") else pd.isna(values)


def add_problem(problems: list[Problem], file_name: str, column: str, raw: pd.Series, bad: np.ndarray, expected, *, kind: str,
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
    values = as_text(raw.iloc[positions]).tolist()
    texts = [expected] * n if isinstance(expected, str) else list(expected(positions))
    pars = [params] * n if isinstance(params, tuple) else [tuple(p) for p in params(positions)]
    if ids is None:
        trajectory_ids = [None] * n
    else:
        trajectory_ids = [None if pd.isna(t) else t for t in as_text(ids.iloc[positions]).str.strip().tolist()]
    problems.extend(
        Problem(file_name, row, column, None if pd.isna(value) else value, text,
                trajectory_id=trajectory_id or None, kind=kind, params=par)
        for row, value, text, par, trajectory_id in zip(rows, values, texts, pars, trajectory_ids)
    )


def check_unique_ids(frame: pd.DataFrame, file_name: str, problems) -> None:
    """A trajectory_id repeated within one file is an error at every repeat, naming the first row."""
    ids = frame["trajectory_id"]
    repeated = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
    if not repeated.any():
        return
    first = ids[~ids.duplicated(keep="first") & ids.notna()]
    first_row = pd.Series(first.index.to_numpy() + 2, index=first.to_numpy())

    def rows_of(positions):
        return first_row.reindex(ids.iloc[positions].to_numpy()).to_numpy()

    add_problem(
        problems, file_name, "trajectory_id", ids, repeated,
        lambda pos: [f"a trajectory_id used once per file; it is also in row {row}" for row in rows_of(pos)],
        kind="id_repeated", params=lambda pos: [(("first_row", int(row)),) for row in rows_of(pos)], ids=ids,
    )


def check_trajectory_rows(frame: pd.DataFrame, raw: pd.DataFrame, file_name: str, limit: Limit, problems, forms=None) -> None:
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
        add_problem(problems, file_name, "care_form", raw["care_form"], misfit, lambda pos: texts[care_type[pos]],
                kind="care_form_misfit", params=lambda pos: [params[t] for t in care_type[pos]], ids=ids)

    start, end = frame["start_date"], frame["end_date"]
    before = (end < start).to_numpy(dtype=bool)
    if before.any():
        starts = lambda pos: start.iloc[pos].dt.strftime("%d-%m-%Y").tolist()  # noqa: E731
        add_problem(
            problems, file_name, "end_date", raw.get("end_date", end), before,
            lambda pos: ["not before start_date " + s for s in starts(pos)],
            kind="end_before_start", params=lambda pos: [(("start_date", s),) for s in starts(pos)], ids=ids,
        )
    for name in DATE_COLUMNS:
        if name in raw.columns:
            late = (frame[name] > limit.date).to_numpy(dtype=bool)
            add_problem(problems, file_name, name, raw[name], late, f"a date on or before {limit.text}",
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
            add_problem(problems, file_name, "end_reason", raw, unknown & (form >= 0),
                    lambda pos: [f"an end reason for {forms[f]}: {for_form[f]}" for f in form[pos]],
                    kind="end_reason_unknown_for_form",
                    params=lambda pos: [(("care_form", forms[f]), ("reasons", for_form[f])) for f in form[pos]], ids=ids)
            by_type = unknown & (form < 0) & (care_type >= 0)
            type_params = [_care_type_params(t, "reasons", _REASONS_OF_TYPE[t]) for t in schema.CARE_TYPES]
            type_texts = [f"an end reason for {t}: {_REASONS_OF_TYPE[t]}" for t in schema.CARE_TYPES]
            add_problem(problems, file_name, "end_reason", raw, by_type,
                    lambda pos: [type_texts[t] for t in care_type[pos]],
                    kind="end_reason_unknown_for_type",
                    params=lambda pos: [type_params[t] for t in care_type[pos]],
                    ids=ids)
            add_problem(problems, file_name, "end_reason", raw, unknown & (form < 0) & (care_type < 0),
                    "one of " + ", ".join(column.codes), kind="end_reason_unknown",
                    params=(("codes", ", ".join(column.codes)),), ids=ids)

    fits = np.ones((len(forms) + 1, len(reasons) + 1), dtype=bool)
    for g, name in enumerate(forms):
        fits[g, : len(reasons)] = [schema.end_reason_fits(name, r) for r in reasons]
    misfit = ~fits[form, reason] & ~unknown
    if misfit.any():
        fitting = [", ".join(schema.END_REASONS[schema.END_REASON_GROUP_OF_FORM[f]]) for f in forms]
        add_problem(
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
