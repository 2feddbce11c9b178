"""The gemeente → jeugdregio mapping as data: reading, checking and resolving gemeente codes.

A mapping is two tables that travel together (``docs/gemeente-mapping.md`` describes the format):

- the **gemeenten** file, the one named by ``--mapping FILE``: one row per gemeente code and period of
  validity, with ``municipality`` (``GMxxxx``), ``name``, ``region`` (the jeugdregio) and optionally
  ``region_code``, ``valid_from``, ``valid_to`` (both inclusive), ``source``, ``as_of`` and ``note``;
- the **reorganisations** file beside it, ``<stem>.reorganisations.<ext>`` (optional): one row per
  dissolved code and successor, ``old_code``, ``new_code``, ``from_date`` (the successor's first
  day) and optionally ``note``; a split has one row per new code, all with the same ``from_date``.

:func:`read_mapping` reads both with the delivery readers (CSV, Parquet, Excel, OpenDocument), checks
them strictly and raises :class:`~outcome_analysis.errors.DataValidationError` listing every problem
with file, row (1-based as a spreadsheet shows it, the header is row 1), column and value.
:meth:`Mapping.resolve` turns the gemeente codes of records into the codes in force on a date
(a youth under a dissolved code is counted in its successor) and returns the problems of codes it
cannot place, for the caller to collect with the other delivery problems.

>>> from outcome_analysis.contract.mapping import DEMO_MAPPING, read_mapping
>>> m = read_mapping(DEMO_MAPPING)
>>> m.label("GM0344"), m.region_of("GM0344", "2024-12-31")
('Utrecht (GM0344)', 'Midden-Utrecht')
>>> m.resolve(["GM0017", "GM0344", None], "2024-12-31", file="trajectories.csv").codes.tolist()
['GM0014', 'GM0344', <NA>]
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from outcome_analysis import texts
from outcome_analysis.errors import DataValidationError, OutcomeAnalysisError, Problem

from .parse import normalise_header
from .periods import parse_period
from .readers import READ_SUFFIXES, Restart, Unreadable, as_text, drop_empty_rows, raw_chunks

#: the demo mapping shipped with the package (the gemeenten of ``contract.demo.GEMEENTEN``).
DEMO_MAPPING = Path(__file__).resolve().parent.parent / "data" / "mappings" / "demo.csv"
#: the name of a mapping delivered beside the data (with ``gemeenten.reorganisations.csv``): the
#: batch's default mapping; the loader leaves these files alone (``io.OTHER_TABLE_PREFIXES``).
BESIDE_DATA = "gemeenten.csv"
#: what the reorganisations file beside ``<stem>.<ext>`` is called: ``<stem>.reorganisations.<ext>``.
REORGANISATIONS_SUFFIX = ".reorganisations"

GEMEENTEN_REQUIRED = ("municipality", "name", "region")
GEMEENTEN_OPTIONAL = ("region_code", "valid_from", "valid_to", "source", "as_of", "note")
REORGANISATIONS_REQUIRED = ("old_code", "new_code", "from_date")
REORGANISATIONS_OPTIONAL = ("note",)

_CODE = re.compile(r"GM\d{4}")
_FAR_PAST = pd.Timestamp("1800-01-01")
_FAR_FUTURE = pd.Timestamp("2200-12-31")

#: the kinds of the problems this module makes (their Dutch and English texts stand in
#: ``data/texts/problems.yaml`` with every other problem); the rest (an unreadable file, a repeated
#: column) are the loader's kinds.
PROBLEM_KINDS_PREFIXES = ("mapping_", "record_code_")


def _problem_texts() -> dict[str, dict[str, str]]:
    from outcome_analysis.contract.problem_texts import catalogue

    return {k: v for k, v in catalogue().items() if k.startswith(PROBLEM_KINDS_PREFIXES)}


#: kind -> language -> template of this module's problems (a view on the problem catalogue).
PROBLEM_TEXTS: dict[str, dict[str, str]] = _problem_texts()


class MappingError(OutcomeAnalysisError, KeyError):
    """A gemeente code that the mapping cannot name or place on a date (``code`` and ``on`` carry the facts)."""

    def __init__(self, message: str, code: str | None = None, on: pd.Timestamp | None = None):
        super().__init__(message)
        self.code = code
        self.on = on

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class Resolution(NamedTuple):
    """What :meth:`Mapping.resolve` returns: ``codes, problems = mapping.resolve(...)``."""

    #: the code in force on the date for each record (aligned with the input; ``<NA>`` where the record
    #: has no code or its code cannot be placed), dtype ``string``.
    codes: pd.Series
    #: one :class:`~outcome_analysis.errors.Problem` per record whose code cannot be placed.
    problems: list[Problem]


def problem_message(problem: Problem, lang: str = "nl") -> str:
    """The message of a problem of this module in ``lang`` (``"nl"`` or ``"en"``); other problems as
    :meth:`Problem.message <outcome_analysis.errors.Problem.message>` renders them."""
    texts.check_lang(lang)
    entry = PROBLEM_TEXTS.get(problem.kind or "")
    if entry is None:
        return problem.message(lang)
    return entry[lang].format(**dict(problem.params))


def as_date(value) -> pd.Timestamp:
    """A date (``datetime.date``, ``Timestamp`` or ISO text ``"2024-12-31"``) as a midnight Timestamp.

    Raises ``ValueError`` for anything else.
    """
    if isinstance(value, str):
        stamp = pd.to_datetime(value.strip(), format="%Y-%m-%d", errors="coerce")
    else:
        stamp = pd.Timestamp(value) if value is not None else pd.NaT
    if pd.isna(stamp):
        raise ValueError(f"a date like '2024-12-31' or a datetime.date, got {value!r}")
    return stamp.normalize()


def period_end(period: str) -> pd.Timestamp:
    """The last day of a reporting period ``"2024"``, ``"2024H1"`` or ``"2024-H1"``: the date on which
    the mapping in force is taken.

    >>> period_end("2024-H1")
    Timestamp('2024-06-30 00:00:00')

    Raises :class:`~outcome_analysis.contract.periods.PeriodError` for another label.
    """
    label = str(period).strip().upper().replace("-H", "H")
    return parse_period(label)[1]


def reorganisations_path(path: str | Path) -> Path | None:
    """The reorganisations file beside the gemeenten file ``path``: ``<stem>.reorganisations.<ext>``
    with any readable extension; ``None`` when there is none.

    Raises :class:`~outcome_analysis.errors.DataValidationError` when there are several.
    """
    path = Path(path)
    found = sorted(
        p for p in path.parent.glob(f"{_glob_escape(path.stem)}{REORGANISATIONS_SUFFIX}.*")
        if p.suffix.lower() in READ_SUFFIXES and p.is_file()
    )
    if len(found) > 1:
        listed = ", ".join(p.name for p in found)
        raise DataValidationError([
            Problem(path.name, None, None, None, f"one reorganisations file beside the mapping; found: {listed}",
                    kind="mapping_reorganisations_ambiguous", params=(("files", listed),))
        ])
    return found[0] if found else None


def _glob_escape(text: str) -> str:
    """``text`` with the glob characters ``*?[`` taken literally."""
    return re.sub(r"([*?\[])", r"[\1]", text)


# ---------------------------------------------------------------------------
# the mapping
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (it holds frames)
class Mapping:
    """A checked gemeente → jeugdregio mapping (make one with :func:`read_mapping`).

    Attributes
    ----------
    gemeenten : DataFrame
        One row per code and validity: ``municipality``, ``name``, ``region``, ``region_code``
        (``<NA>`` when not given), ``valid_from``, ``valid_to`` (Timestamps, inclusive; ``NaT`` =
        open), ``row`` (the row in the file).
    reorganisations : DataFrame
        ``old_code``, ``new_code``, ``from_date`` (Timestamp, first day of the new code), ``row``.
    source : str
        What the mapping is, for reports ("which mapping was used"): the file's ``source`` column,
        else its file name.
    as_of : Timestamp or None
        The date the mapping describes (its ``as_of`` column), when given.
    files : tuple of Path
        The gemeenten file and, when there is one, the reorganisations file.
    """

    gemeenten: pd.DataFrame
    reorganisations: pd.DataFrame
    source: str
    as_of: pd.Timestamp | None
    files: tuple[Path, ...]
    _successors: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        successors: dict[str, tuple[pd.Timestamp, tuple[str, ...]]] = {}
        for old, group in self.reorganisations.groupby("old_code", sort=False):
            successors[old] = (group["from_date"].iloc[0], tuple(sorted(group["new_code"])))
        self._successors.update(successors)

    # -- what the reports name ------------------------------------------------

    @property
    def file(self) -> Path:
        """The gemeenten file (the one ``--mapping`` names)."""
        return self.files[0]

    def describe(self, lang: str = "nl") -> str:
        """The mapping as a report names it: its source and, when known, its date.

        >>> read_mapping(DEMO_MAPPING).describe("en")[-18:]
        '(as of 2024-01-01)'
        """
        texts.check_lang(lang)
        if self.as_of is None:
            return self.source
        word = "stand" if lang == "nl" else "as of"
        return f"{self.source} ({word} {self.as_of:%Y-%m-%d})"

    # -- the gemeenten in force -------------------------------------------------

    def in_force(self, on) -> pd.DataFrame:
        """The gemeenten in force on the date ``on`` (inclusive validity), one row per code.

        Parameters
        ----------
        on : date, Timestamp or ISO text
            Usually the last day of the report period (:meth:`in_force_for_period`).

        Returns
        -------
        DataFrame
            ``municipality``, ``name``, ``region``, ``region_code``, sorted by ``municipality``,
            index 0..n-1.
        """
        on = as_date(on)
        g = self.gemeenten
        valid = (g["valid_from"].fillna(_FAR_PAST) <= on) & (g["valid_to"].fillna(_FAR_FUTURE) >= on)
        out = g.loc[valid, ["municipality", "name", "region", "region_code"]]
        return out.sort_values("municipality").reset_index(drop=True)

    def in_force_for_period(self, period: str) -> pd.DataFrame:
        """The gemeenten in force on the last day of ``period`` (``"2024"``, ``"2024H1"``, ``"2024-H1"``)."""
        return self.in_force(period_end(period))

    def regions(self, on) -> pd.DataFrame:
        """The jeugdregio's on ``on``: ``region``, ``region_code``, ``municipalities`` (tuple of codes,
        sorted), sorted by ``region``."""
        g = self.in_force(on)
        rows = [
            {"region": region, "region_code": group["region_code"].iloc[0],
             "municipalities": tuple(group["municipality"])}
            for region, group in g.groupby("region", sort=True)
        ]
        return pd.DataFrame(rows, columns=["region", "region_code", "municipalities"])

    def municipalities_of(self, region: str, on) -> list[str]:
        """The codes of the gemeenten of ``region`` (its name or region code) on ``on``, sorted.

        Raises :class:`MappingError` when no gemeente in force belongs to it.
        """
        g = self.in_force(on)
        codes = g.loc[(g["region"] == region) | (g["region_code"] == region), "municipality"].tolist()
        if not codes:
            raise MappingError(f"no gemeente of jeugdregio {region!r} on {as_date(on):%Y-%m-%d} in {self.source}", region)
        return codes

    # -- one code -------------------------------------------------------------

    def _row(self, code: str, on=None) -> pd.Series:
        g = self.gemeenten[self.gemeenten["municipality"] == code]
        if g.empty:
            raise MappingError(f"gemeente code {code!r} is not in the mapping {self.source}", code)
        if on is None:  # the latest row: its current (or last) name
            return g.sort_values("valid_to", na_position="last").iloc[-1]
        on = as_date(on)
        valid = g[(g["valid_from"].fillna(_FAR_PAST) <= on) & (g["valid_to"].fillna(_FAR_FUTURE) >= on)]
        if valid.empty:
            raise MappingError(f"gemeente code {code!r} is not in force on {on:%Y-%m-%d} in the mapping {self.source}", code, on)
        return valid.iloc[0]

    def successor(self, code: str, on) -> str:
        """The code in force on ``on`` for ``code``: itself, or its successor after the reorganisations
        up to ``on`` (a chain is followed).

        Raises :class:`MappingError` for a code the mapping does not know, one not in force on ``on``,
        or one split (several new codes) up to ``on``.
        """
        resolved, reason, detail = self._resolve_one(code, as_date(on))
        if resolved is None:
            raise MappingError(f"gemeente code {code!r} cannot be placed on {as_date(on):%Y-%m-%d}: {reason} {detail}",
                               code, as_date(on))
        return resolved

    def region_of(self, code: str, on) -> str:
        """The jeugdregio of gemeente ``code`` on ``on`` (a dissolved code: its successor's).

        Raises :class:`MappingError` as :meth:`successor` does.
        """
        return str(self._row(self.successor(code, on), on)["region"])

    def name_of(self, code: str, on=None) -> str:
        """The gemeente's name: on ``on`` when given, else its latest name.

        Raises :class:`MappingError` for a code that is not among the gemeenten (or not in force on ``on``).
        """
        return str(self._row(code, on)["name"])

    def label(self, code: str, on=None) -> str:
        """The gemeente as reports name it: ``"Utrecht (GM0344)"``."""
        return f"{self.name_of(code, on)} ({code})"

    # -- records --------------------------------------------------------------

    def _resolve_one(self, code: str, on: pd.Timestamp) -> tuple[str | None, str, dict]:
        """``(code in force, "", {})`` or ``(None, problem kind, params)``."""
        if not _CODE.fullmatch(code):
            return None, "record_code_format", {}
        seen = {code}
        while code in self._successors and self._successors[code][0] <= on:
            from_date, new_codes = self._successors[code]
            if len(new_codes) > 1:
                return None, "record_code_split", {
                    "code": code, "from_date": f"{from_date:%Y-%m-%d}", "new_codes": ", ".join(new_codes)}
            code = new_codes[0]
            if code in seen:  # impossible after read_mapping's checks; kept for a hand-made Mapping
                return None, "record_code_unknown", {}
            seen.add(code)
        g = self.gemeenten[self.gemeenten["municipality"] == code]
        if g.empty and code not in self._successors:
            return None, "record_code_unknown", {}
        in_force = ((g["valid_from"].fillna(_FAR_PAST) <= on) & (g["valid_to"].fillna(_FAR_FUTURE) >= on)).any()
        if not in_force:
            return None, "record_code_not_in_force", {"on": f"{on:%Y-%m-%d}"}
        return code, "", {}

    def resolve(self, codes, on, *, file, rows=None, trajectory_ids=None, column: str = "municipality") -> Resolution:
        """The gemeente in force on ``on`` of each record, and the problems of codes that cannot be placed.

        A code in force on ``on`` stays; a dissolved code becomes its successor (following a chain of
        reorganisations with ``from_date`` up to ``on``); a missing code stays missing without a
        problem (the report counts it as "gemeente onbekend"). A problem, naming ``file``, the row
        and the value, is made for a code that is not ``GM`` + four digits (``record_code_format``),
        not in the mapping (``record_code_unknown``), not in force on ``on`` and not dissolved
        before it (``record_code_not_in_force``), or split up to ``on`` so that the record must
        name the new code (``record_code_split``).

        Parameters
        ----------
        codes : sequence or Series of str
            The records' gemeente codes; surrounding spaces are ignored.
        on : date, Timestamp or ISO text
            The last day of the report period.
        file : str or sequence of str
            The delivery file the records come from (as problems name it), or each record's file
            (a delivery of several files: :meth:`Dataset.origin_of
            <outcome_analysis.contract.dataset.Dataset.origin_of>` gives both); a missing value
            in the sequence gives the problem the file ``"trajectories"``.
        rows : sequence of int, optional
            Each record's row in its file (1-based as a spreadsheet shows it); without it, or where
            a value is missing, problems have no row.
        trajectory_ids : sequence of str, optional
            Each record's ``trajectory_id``, put on its problem.
        column : str
            The column problems name.

        Returns
        -------
        Resolution
            ``codes`` (Series of dtype ``string`` with the input's index when it is a Series) and
            ``problems`` (list of Problem, in record order).

        Raises
        ------
        ValueError
            When ``rows``, ``trajectory_ids`` or a sequence ``file`` is not as long as ``codes``, or
            ``on`` is not a date.
        """
        on = as_date(on)
        series = codes if isinstance(codes, pd.Series) else pd.Series(list(codes), dtype=object)
        files = None if isinstance(file, (str, Path)) else file
        for name, given in (("rows", rows), ("trajectory_ids", trajectory_ids), ("file", files)):
            if given is not None and len(given) != len(series):
                raise ValueError(f"{name} has {len(given)} values for {len(series)} codes")
        text = series.astype("string").str.strip()
        text = text.mask(text == "")
        present = text.notna().to_numpy()
        unique, inverse = np.unique(text[present].to_numpy(dtype=object), return_inverse=True)
        outcomes = [self._resolve_one(str(code), on) for code in unique]
        resolved_u = np.array([o[0] for o in outcomes], dtype=object)
        out = np.full(len(text), None, dtype=object)
        out[present] = resolved_u[inverse] if len(unique) else []
        result = pd.Series(out, index=series.index, dtype="string")
        problems: list[Problem] = []
        bad_u = np.array([o[0] is None for o in outcomes], dtype=bool)
        if bad_u.any():
            positions = np.flatnonzero(present)[bad_u[inverse]]
            rows = None if rows is None else np.asarray(rows, dtype=object)
            files = None if files is None else np.asarray(files, dtype=object)
            ids = None if trajectory_ids is None else np.asarray(trajectory_ids, dtype=object)
            values = series.to_numpy(dtype=object)
            index_of = {code: i for i, code in enumerate(unique)}
            stripped = text.to_numpy(dtype=object)
            for pos in positions:
                _, kind, params = outcomes[index_of[stripped[pos]]]
                params = {**params, "mapping": self.file.name} if kind in (
                    "record_code_unknown", "record_code_not_in_force") else params
                value = str(values[pos])
                trajectory_id = None if ids is None or pd.isna(ids[pos]) else str(ids[pos])
                record_file = str(file) if files is None else (
                    "trajectories" if pd.isna(files[pos]) else str(files[pos]))
                row = None if rows is None or pd.isna(rows[pos]) else int(rows[pos])
                problems.append(Problem(
                    record_file, row, column, value,
                    PROBLEM_TEXTS[kind]["en"].format(**params),
                    trajectory_id=trajectory_id, kind=kind, params=tuple(params.items()),
                ))
        return Resolution(result, problems)


# ---------------------------------------------------------------------------
# reading and checking
# ---------------------------------------------------------------------------


def read_mapping(path: str | Path) -> Mapping:
    """Read and check the mapping ``path`` and the reorganisations file beside it.

    Parameters
    ----------
    path : str or Path
        The gemeenten file (CSV, Parquet, Excel or OpenDocument); its reorganisations, when any, in
        ``<stem>.reorganisations.<ext>`` beside it (see ``docs/gemeente-mapping.md``).

    Returns
    -------
    Mapping

    Raises
    ------
    DataValidationError
        Listing every error (file, row, column, value): an unreadable or missing file, missing or
        unknown columns, empty cells, codes that are not ``GM`` + four digits, dates that are not
        dates, ``valid_to`` before ``valid_from``, a code twice in the same or overlapping periods,
        different ``source``/``as_of`` values, a reorganisation to a code that is not among the
        gemeenten or not in force on its date, a dissolved code still in force after its date,
        a repeated reorganisation, one dissolved code with several dates, and cycles.
    """
    mapping, problems = check_mapping(path)
    errors = [p for p in problems if p.severity == "error"]
    if errors or mapping is None:
        raise DataValidationError(errors or problems)
    return mapping


def check_mapping(path: str | Path) -> tuple[Mapping | None, list[Problem]]:
    """Like :func:`read_mapping`, but returns ``(mapping or None, problems)`` instead of raising, so that
    a caller can show the mapping's problems with the delivery's."""
    path = Path(path)
    problems: list[Problem] = []
    if not path.is_file():
        problems.append(Problem(path.name, None, None, None, "the file or folder does not exist", kind="path_missing"))
        return None, problems
    try:
        reorg_path = reorganisations_path(path)
    except DataValidationError as exc:
        return None, list(exc.problems)
    g_raw = _read_raw(path, problems)
    r_raw = _read_raw(reorg_path, problems) if reorg_path is not None else _empty_raw(REORGANISATIONS_REQUIRED)
    if g_raw is None or r_raw is None:
        return None, problems
    if g_raw.attrs.get("header_only"):
        problems.append(Problem(path.name, None, None, None, PROBLEM_TEXTS["mapping_no_rows"]["en"], kind="mapping_no_rows"))
        return None, problems
    if r_raw.attrs.get("header_only"):  # no reorganisations
        r_raw = _empty_raw(REORGANISATIONS_REQUIRED)
    mark = len(problems)
    gemeenten = _check_gemeenten(g_raw, path.name, problems)
    reorganisations = _check_reorganisations(r_raw, reorg_path.name if reorg_path else "", problems)
    source, as_of = _file_facts(g_raw, path, problems)
    if gemeenten is not None and reorganisations is not None and len(problems) == mark:
        _check_reorganisations_against(gemeenten, reorganisations, path.name, reorg_path.name if reorg_path else "", problems)
    if any(p.severity == "error" for p in problems) or gemeenten is None or reorganisations is None:
        return None, problems
    files = (path,) if reorg_path is None else (path, reorg_path)
    return Mapping(gemeenten, reorganisations, source, as_of, files), problems


def _empty_raw(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in columns})


def _read_raw(file: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """The whole file as text columns with lower-case names, the index the row position (row - 2)."""
    options: dict = {}
    for _ in range(4):
        mark = len(problems)
        try:
            frames = list(raw_chunks(file, problems, options))
        except Restart as restart:
            del problems[mark:]
            options.update(restart.options)
            continue
        except Unreadable:
            return None
        if not frames:  # a CSV file with a header and no rows yields no frame
            empty = pd.DataFrame()
            empty.attrs["header_only"] = True
            return empty
        raw = frames[0] if len(frames) == 1 else pd.concat(frames)
        raw = normalise_header(raw, file.name, problems, set(), check_names=True)
        if raw is None:
            return None
        raw = drop_empty_rows(raw)
        return pd.DataFrame({c: as_text(raw[c]).str.strip() for c in raw.columns}, index=raw.index)
    return None


def _columns_ok(raw: pd.DataFrame, required, optional, file: str, problems: list[Problem]) -> bool:
    ok = True
    for column in required:
        if column not in raw.columns:
            problems.append(Problem(file, 1, column, None, f"a column {column} in the gemeente mapping; it is missing",
                                    kind="mapping_column_missing", params=(("column", column),)))
            ok = False
    allowed = ", ".join(required + optional)
    for column in raw.columns:
        if column not in required + optional:
            problems.append(Problem(file, 1, column, None, f"only the columns {allowed}; this column is unknown",
                                    kind="mapping_column_unknown", params=(("columns", allowed),)))
            ok = False
    return ok


def _problem(problems, file, row, column, value, kind, /, **params) -> None:
    params = tuple((k, str(v)) for k, v in params.items())
    problems.append(Problem(file, row, column, value, PROBLEM_TEXTS[kind]["en"].format(**dict(params)),
                            kind=kind, params=params))


def _required_values(raw: pd.DataFrame, columns, file: str, problems: list[Problem]) -> np.ndarray:
    """Mask of rows with every required value; one problem per empty cell."""
    ok = np.ones(len(raw), dtype=bool)
    for column in columns:
        empty = raw[column].isna().to_numpy()
        for row in raw.index[empty] + 2:
            _problem(problems, file, int(row), column, None, "mapping_value_missing", column=column)
        ok &= ~empty
    return ok


def _codes(raw: pd.DataFrame, column: str, file: str, problems: list[Problem]) -> np.ndarray:
    """Mask of rows whose ``column`` is a well-formed code (empty cells are reported elsewhere)."""
    values = raw[column]
    good = values.str.fullmatch(_CODE.pattern).fillna(False).to_numpy(dtype=bool)
    bad = ~good & values.notna().to_numpy()
    for row, value in zip(raw.index[bad] + 2, values[bad]):
        _problem(problems, file, int(row), column, value, "mapping_code_format")
    return good


def _dates(raw: pd.DataFrame, column: str, file: str, problems: list[Problem]) -> tuple[pd.Series, np.ndarray]:
    """The column as Timestamps (NaT where empty or bad) and the mask of bad values."""
    from outcome_analysis.contract.parse import _dates as parse_dates  # the delivery's date rule, one copy

    values = raw[column] if column in raw.columns else pd.Series(pd.NA, index=raw.index, dtype="string")
    parsed, bad, _impossible = parse_dates(values)
    parsed = pd.Series(parsed.to_numpy(), index=raw.index).astype("datetime64[ns]")
    bad = np.asarray(bad, dtype=bool)
    for row, value in zip(raw.index[bad] + 2, values[bad]):
        _problem(problems, file, int(row), column, value, "mapping_date_invalid")
    return parsed, bad


def _check_gemeenten(raw: pd.DataFrame, file: str, problems: list[Problem]) -> pd.DataFrame | None:
    if not _columns_ok(raw, GEMEENTEN_REQUIRED, GEMEENTEN_OPTIONAL, file, problems):
        return None
    if len(raw) == 0:
        problems.append(Problem(file, None, None, None, PROBLEM_TEXTS["mapping_no_rows"]["en"], kind="mapping_no_rows"))
        return None
    ok = _required_values(raw, GEMEENTEN_REQUIRED, file, problems)
    ok &= _codes(raw, "municipality", file, problems) | raw["municipality"].isna().to_numpy()
    valid_from, bad_from = _dates(raw, "valid_from", file, problems)
    valid_to, bad_to = _dates(raw, "valid_to", file, problems)
    ok &= ~bad_from & ~bad_to
    reversed_ = (valid_to < valid_from).to_numpy()  # False where either is missing (NaT)
    for row, value, start in zip(raw.index[reversed_] + 2, raw.loc[reversed_, "valid_to"] if reversed_.any() else [],
                                 valid_from[reversed_]):
        _problem(problems, file, int(row), "valid_to", value, "mapping_validity_reversed", valid_from=f"{start:%Y-%m-%d}")
    ok &= ~reversed_
    region_code = raw["region_code"] if "region_code" in raw.columns else pd.Series(pd.NA, index=raw.index, dtype="string")
    frame = pd.DataFrame({
        "municipality": raw["municipality"].astype(str).where(raw["municipality"].notna(), None),
        "name": raw["name"], "region": raw["region"], "region_code": region_code.astype("string"),
        "valid_from": valid_from, "valid_to": valid_to, "row": raw.index + 2,
    }, index=raw.index)[ok]
    _check_overlaps(frame, file, problems)
    frame = frame.astype({"municipality": "string", "name": "string", "region": "string"})
    return frame.reset_index(drop=True)


def _fmt(stamp) -> str:
    return "…" if pd.isna(stamp) else f"{stamp:%Y-%m-%d}"


def _check_overlaps(frame: pd.DataFrame, file: str, problems: list[Problem]) -> None:
    """A code's rows must have disjoint validity: the same period twice is ``mapping_code_repeated``,
    a partial overlap ``mapping_validity_overlap``; each later row names the earlier one."""
    for code, group in frame.groupby("municipality", sort=False):
        if len(group) < 2:
            continue
        group = group.sort_values(["valid_from", "row"], na_position="first")
        starts = group["valid_from"].fillna(_FAR_PAST).tolist()
        ends = group["valid_to"].fillna(_FAR_FUTURE).tolist()
        rows = group["row"].tolist()
        for j in range(1, len(group)):
            for i in range(j):
                if starts[j] <= ends[i] and starts[i] <= ends[j]:
                    other, this = (i, j) if rows[i] < rows[j] else (j, i)
                    if starts[i] == starts[j] and ends[i] == ends[j]:
                        _problem(problems, file, rows[this], "municipality", code, "mapping_code_repeated",
                                 code=code, other_row=rows[other])
                    else:
                        o = group.iloc[other]
                        _problem(problems, file, rows[this], "valid_from", _fmt(group.iloc[this]["valid_from"]),
                                 "mapping_validity_overlap", code=code, other_row=rows[other],
                                 other_from=_fmt(o["valid_from"]), other_to=_fmt(o["valid_to"]))
                    break


def _check_reorganisations(raw: pd.DataFrame, file: str, problems: list[Problem]) -> pd.DataFrame | None:
    if not _columns_ok(raw, REORGANISATIONS_REQUIRED, REORGANISATIONS_OPTIONAL, file, problems):
        return None
    ok = _required_values(raw, REORGANISATIONS_REQUIRED, file, problems)
    ok &= _codes(raw, "old_code", file, problems) | raw["old_code"].isna().to_numpy()
    ok &= _codes(raw, "new_code", file, problems) | raw["new_code"].isna().to_numpy()
    from_date, bad = _dates(raw, "from_date", file, problems)
    ok &= ~bad
    frame = pd.DataFrame({
        "old_code": raw["old_code"], "new_code": raw["new_code"], "from_date": from_date, "row": raw.index + 2,
    }, index=raw.index)[ok].reset_index(drop=True)
    first_of_pair: dict[tuple[str, str], int] = {}
    first_of_code: dict[str, tuple[int, pd.Timestamp]] = {}
    keep = np.ones(len(frame), dtype=bool)
    for i, (old, new, date, row) in enumerate(frame[["old_code", "new_code", "from_date", "row"]].itertuples(index=False)):
        if (old, new) in first_of_pair:
            _problem(problems, file, row, "new_code", new, "mapping_reorganisation_repeated",
                     old_code=old, new_code=new, other_row=first_of_pair[(old, new)])
            keep[i] = False
            continue
        first_of_pair[(old, new)] = row
        if old in first_of_code and first_of_code[old][1] != date:
            other_row, other_date = first_of_code[old]
            _problem(problems, file, row, "from_date", f"{date:%Y-%m-%d}", "mapping_from_date_differs",
                     other_row=other_row, other_date=f"{other_date:%Y-%m-%d}")
            keep[i] = False
        first_of_code.setdefault(old, (row, date))
    frame = frame[keep].reset_index(drop=True)
    _check_cycles(frame, file, problems)
    return frame.astype({"old_code": "string", "new_code": "string"})


def _check_cycles(frame: pd.DataFrame, file: str, problems: list[Problem]) -> None:
    """One problem per cycle of old → new codes (whatever the dates), at the cycle's first row."""
    edges: dict[str, list[tuple[str, int]]] = {}
    for old, new, row in frame[["old_code", "new_code", "row"]].itertuples(index=False):
        edges.setdefault(old, []).append((new, row))
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    reported: set[frozenset] = set()

    def visit(code: str, path: list[tuple[str, int]]) -> None:
        state[code] = 1
        for new, row in edges.get(code, []):
            if state.get(new) == 1:
                at = next(i for i, (c, _) in enumerate(path + [(code, row)]) if c == new)
                loop = (path + [(code, row)])[at:]
                key = frozenset(c for c, _ in loop)
                if key not in reported:
                    reported.add(key)
                    chain = " → ".join([c for c, _ in loop] + [new])
                    first_row = min(r for _, r in loop)
                    _problem(problems, file, first_row, "new_code", chain, "mapping_reorganisation_cycle", cycle=chain)
            elif state.get(new) is None:
                visit(new, path + [(code, row)])
        state[code] = 2

    for code in list(edges):
        if state.get(code) is None:
            visit(code, [])


def _check_reorganisations_against(gemeenten: pd.DataFrame, reorganisations: pd.DataFrame, g_file: str, r_file: str,
                                   problems: list[Problem]) -> None:
    """Each new code is a gemeente in force on the date; each dissolved code listed among the
    gemeenten is in force only before it."""
    by_code = {code: group for code, group in gemeenten.groupby("municipality", sort=False)}
    for old, new, date, row in reorganisations[["old_code", "new_code", "from_date", "row"]].itertuples(index=False):
        g = by_code.get(new)
        if g is None:
            _problem(problems, r_file, row, "new_code", new, "mapping_successor_unknown", code=new)
        elif not ((g["valid_from"].fillna(_FAR_PAST) <= date) & (g["valid_to"].fillna(_FAR_FUTURE) >= date)).any():
            _problem(problems, r_file, row, "new_code", new, "mapping_successor_not_in_force",
                     code=new, from_date=f"{date:%Y-%m-%d}")
    for old, group in reorganisations.groupby("old_code", sort=False):
        g = by_code.get(old)
        if g is None:
            continue
        date, row = group["from_date"].iloc[0], int(group["row"].iloc[0])
        late = g[g["valid_to"].fillna(_FAR_FUTURE) >= date]
        for other_row, valid_to in late[["row", "valid_to"]].itertuples(index=False):
            _problem(problems, r_file, row, "old_code", old, "mapping_dissolved_still_in_force",
                     code=old, from_date=f"{date:%Y-%m-%d}", other_row=other_row, valid_to=_fmt(valid_to))


def _file_facts(raw: pd.DataFrame, path: Path, problems: list[Problem]) -> tuple[str, pd.Timestamp | None]:
    """The file's ``source`` (else its name) and ``as_of`` (else None); every filled cell must agree
    with the first."""
    facts = {}
    for column in ("source", "as_of"):
        if column not in raw.columns or raw[column].isna().all():
            facts[column] = None
            continue
        values = raw[column].dropna()
        first_row, first = int(values.index[0]) + 2, values.iloc[0]
        differs = values != first
        for row, value in zip(values.index[differs] + 2, values[differs]):
            _problem(problems, path.name, int(row), column, value, "mapping_file_value_differs",
                     column=column, first_row=first_row, first=first)
        facts[column] = (first, first_row)
    source = facts["source"][0] if facts["source"] else path.name
    as_of = None
    if facts["as_of"]:
        text, row = facts["as_of"]
        one = pd.DataFrame({"as_of": pd.Series([text], index=[row - 2], dtype="string")})
        parsed, bad = _dates(one, "as_of", path.name, problems)
        as_of = None if bad[0] else parsed.iloc[0]
    return str(source), as_of
