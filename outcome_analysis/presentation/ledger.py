"""The ledger of printed numbers: what a report actually put on the page.

Every number-formatting function of :mod:`outcome_analysis.presentation.report` (``fmt_pct``,
``fmt_number``, ``fmt_ratio``, ``fmt_int``, ``fmt_count_rounded``, ``fmt_ci``) calls
:func:`record` with the value it was given and the text it printed. Outside :func:`recording` that
call returns at once (one ``ContextVar.get``); inside it the number is kept, so that the leak audit
(:mod:`outcome_analysis.running.audit`) can check afterwards that every percentage in a finished
report was printed by the formatting functions from a shown figure.

>>> from outcome_analysis.presentation import report
>>> with recording() as led:
...     _ = report.fmt_pct(0.1234)
>>> [(e.kind, e.text) for e in led.entries]
[('pct', '12,3%')]

The sections may say what they are printing about with :func:`context` (unit, indicator, care
type, period, category; any keyword), which is copied into every entry recorded inside it::

    with ledger.context(indicator="jh_zonder_hulp_verder", care_type="jeugdhulp", period="2024"):
        cell = report.fmt_pct(row["value"], 1, lang)

A report notebook records the whole run with :func:`begin` (its first cell, with the notebook
parameter ``ledger_path``) and :func:`end` (its last cell, which writes the file): the cells of a
kernel do not share a ``ContextVar``, so this ledger is kept at module level and used wherever no
:func:`recording` block is active.

The batch keeps the ledger of every report it publishes with :meth:`Ledger.save` in
``<results store>/ledgers/<period>/<slug>.json`` (the report's manifest key plus ``.json``;
:func:`ledger_path`), where ``python -m outcome_analysis audit`` looks for it.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import json
import math
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: the kinds of printed number.
KINDS = ("pct", "ratio", "number", "int", "count")
#: the context keys the sections are expected to use (others are kept too).
CONTEXT_KEYS = ("unit", "indicator", "care_type", "period", "category")
#: the columns of :meth:`Ledger.to_frame`, in order (context keys follow).
COLUMNS = ("value", "kind", "decimals", "text", "lang")
#: the folder of a results store that holds the batch's ledgers.
LEDGER_DIR = "ledgers"

_ACTIVE: contextvars.ContextVar["Ledger | None"] = contextvars.ContextVar("outcome_analysis_ledger", default=None)
_CONTEXT: contextvars.ContextVar[dict] = contextvars.ContextVar("outcome_analysis_ledger_context", default={})
_INSIDE: contextvars.ContextVar[bool] = contextvars.ContextVar("outcome_analysis_ledger_inside", default=False)
#: the ledger of a whole notebook run (:func:`begin`) and the file :func:`end` writes it to.
_SESSION: "Ledger | None" = None
_SESSION_PATH: "Path | None" = None


@dataclass(frozen=True)
class Entry:
    """One printed number: the ``value`` given, its ``kind`` (:data:`KINDS`), the ``decimals`` it
    was printed with, the printed ``text``, the language and the section's context."""

    value: float | None
    kind: str
    decimals: int | None
    text: str
    lang: str
    context: dict = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "context"}
        out.update(self.context)
        return out


class Ledger:
    """The numbers printed while it was active (:func:`recording`)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def texts(self) -> set[str]:
        """Every printed text."""
        return {e.text for e in self.entries}

    def to_frame(self):
        """The entries as a DataFrame: :data:`COLUMNS`, then every context key used."""
        import pandas as pd

        rows = [e.as_dict() for e in self.entries]
        extra = sorted({k for r in rows for k in r} - set(COLUMNS))
        return pd.DataFrame(rows, columns=[*COLUMNS, *extra])

    def save(self, path: str | os.PathLike) -> Path:
        """Write the entries as JSON (a list of objects, as :meth:`to_frame` rows); folders are made."""
        from outcome_analysis import atomic

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{k: _jsonable(v) for k, v in e.as_dict().items()} for e in self.entries]
        data = json.dumps({"format": 1, "entries": rows}, ensure_ascii=False, indent=0)
        atomic.write_bytes(path, data.encode("utf-8"))
        return path


def load(path: str | os.PathLike):
    """A saved ledger (:meth:`Ledger.save`; a path or a file object) as a DataFrame, as
    :meth:`Ledger.to_frame` gave it. ``ValueError`` when it is not a ledger's JSON."""
    import pandas as pd

    if hasattr(path, "read"):  # a file object (bytes or text)
        raw = path.read()
        data = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    else:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = data["entries"] if isinstance(data, dict) else data
    extra = sorted({k for r in rows for k in r} - set(COLUMNS))
    return pd.DataFrame(rows, columns=[*COLUMNS, *extra])


def ledger_path(store: str | os.PathLike, report_key: str) -> Path:
    """Where the ledger of the report ``report_key`` (``"<period>/<slug>"``, the manifest key) is kept
    beside the results store ``store``: ``<store>/ledgers/<period>/<slug>.json``."""
    return Path(store) / LEDGER_DIR / f"{report_key}.json"


def active() -> Ledger | None:
    """The ledger in force, if any: the innermost :func:`recording` block's, else the notebook
    run's (:func:`begin`)."""
    led = _ACTIVE.get()
    return _SESSION if led is None else led


def begin(path: str | os.PathLike | None = None) -> Ledger:
    """Start the ledger of a whole notebook run (every cell after this one records into it until
    :func:`end`). ``path``: the file :func:`end` writes (``""``/``None``: the ledger is kept in
    memory only). Calling it again starts afresh."""
    global _SESSION, _SESSION_PATH
    _SESSION = Ledger()
    _SESSION_PATH = Path(path) if path else None
    return _SESSION


def end() -> Path | None:
    """Stop the notebook run's ledger (:func:`begin`) and write it to the path given there (JSON,
    :meth:`Ledger.save`); the path written, or ``None`` when none was given or nothing was begun."""
    global _SESSION, _SESSION_PATH
    led, path = _SESSION, _SESSION_PATH
    _SESSION, _SESSION_PATH = None, None
    if led is None or path is None:
        return None
    return led.save(path)


@contextlib.contextmanager
def recording(ledger: Ledger | None = None) -> Iterator[Ledger]:
    """Collect every number the formatting functions print inside the ``with`` block (a fresh
    :class:`Ledger` unless one is given; nested blocks record into the innermost one)."""
    led = Ledger() if ledger is None else ledger
    token = _ACTIVE.set(led)
    try:
        yield led
    finally:
        _ACTIVE.reset(token)


@contextlib.contextmanager
def context(**keys) -> Iterator[dict]:
    """Say what the numbers printed inside the block are about (``unit=``, ``indicator=``,
    ``care_type=``, ``period=``, ``category=``, ...); nested blocks add to the outer ones."""
    merged = {**_CONTEXT.get(), **{k: v for k, v in keys.items() if v is not None}}
    token = _CONTEXT.set(merged)
    try:
        yield merged
    finally:
        _CONTEXT.reset(token)


def unrecorded(func, *args, **kwargs):
    """``func(*args, **kwargs)`` without recording what it prints: for axis tick labels, which are
    positions on a scale, not figures of anyone (a figure's own labels are recorded)."""
    token = _INSIDE.set(True)
    try:
        return func(*args, **kwargs)
    finally:
        _INSIDE.reset(token)


def record(value, kind: str, decimals: int | None, text: str, lang: str) -> None:
    """Keep one printed number in the active ledger; nothing when no ledger is active."""
    led = active()
    if led is None:
        return
    led.add(Entry(_number(value), kind, decimals, str(text), lang, dict(_CONTEXT.get())))


def records(kind: str, decimals: int | None = None):
    """Decorate a formatting function ``f(x, decimals=..., lang=..., ...)`` so that, while a ledger
    is active, it records its first argument and its text as one entry of ``kind``. Only the
    outermost decorated call records: ``fmt_pct`` printing through ``fmt_number`` is one ``pct``.
    ``decimals`` fixes the decimals of a function that has no such argument (``fmt_int``: 0)."""

    def decorate(f):
        signature = inspect.signature(f)

        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            if active() is None or _INSIDE.get():
                return f(*args, **kwargs)
            token = _INSIDE.set(True)
            try:
                text = f(*args, **kwargs)
            finally:
                _INSIDE.reset(token)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            given = bound.arguments
            value = next(iter(given.values()), None)
            record(value, kind, given.get("decimals", decimals) if decimals is None else decimals,
                   text, given.get("lang", ""))
            return text

        return wrapper

    return decorate


def _number(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    try:
        return v.item()  # numpy scalar
    except AttributeError:
        return str(v)
