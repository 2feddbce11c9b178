"""Computation of every indicator of the registry, vectorised over the whole population.

Two public functions, one code path:

- :func:`records` builds the unit-level frame behind one indicator (one row per counted unit and
  category: a trajectory, an episode, a youth or an experience answer, as the registry says);
- :func:`compute` aggregates :func:`records` of every requested indicator into one tidy table of
  numerators, denominators, values, intervals, missing counts, follow-up windows and suppression
  flags, for institutions and nationally, per period and care type.

How rows aggregate is read from the registry (``headline`` and ``breakdowns`` of each entry):

- category ``""`` is the headline: a share (numerator = units with outcome 1, denominator = units
  with the outcome known) or a mean (numerator = sum of the values, denominator = number of values);
- category ``"family:code"`` is a breakdown row; its family's type in the registry says whether it
  is a share within the category (``informant:jeugdige``), a mean (``mean_change:``) or a cell of a
  distribution (``end_reason:onbekend``, ``follow_up:heavier``: numerator = units in the cell,
  denominator = units in the distribution);
- a row of category ``"family:"`` (empty code) is a unit whose distribution item is missing or whose
  window has not passed: it only feeds ``missing`` / ``excluded_window``;
- category ``"window:24"`` (herhaald beroep) is the headline at the second window: it is reported
  with category ``""`` and ``window_months = 24``.

Decisions where indicators.md leaves a choice open are listed in :func:`compute`'s Notes.
"""
from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from . import disclosure, episodes as episodes_mod, registry, schema, stats
from .dataset import Dataset
from .errors import OutcomeAnalysisError
from .periods import check_granularity, period_of
from .settings import DEFAULT, Settings

RECORD_COLUMNS = (
    "unit_id", "client_id", "institution", "care_type", "care_form", "anchor_date", "period",
    "category", "outcome", "excluded_window", "baseline", "change",
    "complexity", "perspective", "age_group", "sex", "out_of_home", "earlier_trajectories",
)
OUTPUT_COLUMNS = (
    "indicator", "scope", "institution", "period", "care_type", "category", "numerator",
    "denominator", "value", "ci_low", "ci_high", "missing", "window_months", "excluded_window",
    "suppressed",
)
AGE_GROUPS = ("0-3", "4-11", "12-15", "16-17", "18+")
_AGE_BINS = np.array([3, 11, 15, 17])  # upper bounds (inclusive) of the first four groups
#: breakdown families whose units may fall in several cells (denominator = distinct units).
MULTI_FAMILIES = frozenset({"transition", "issue"})
FOLLOW_UP = ("none", "lighter", "equal", "heavier")
RCI_CLASSES = ("improved", "unchanged", "deteriorated")
TRANSITION_NONE = "none"
_JR_LEVEL = {"tb_vrijwillig": 0, "tb_gedwongen": 1, "stp": 1, "gbm": 1, "jr_overig": 1,
             "itb_harde_kern": 2, "itb_criem": 2}
_JB_LEVEL = {"vots": 0, "ots": 0, "voogdij": 1}
_DAY_KEY = 1 << 22


class IndicatorError(OutcomeAnalysisError, ValueError):
    """An indicator request that cannot be computed (wrong ``by``, a context item, ...)."""


class DerivedNormWarning(UserWarning):
    """A ROM instrument without a norm mean/SD in the instrument table: derived from the data."""


class UnknownInstrumentWarning(UserWarning):
    """ROM records whose instrument is not in the instrument table (counted as missing)."""


# ------------------------------------------------------------------------------------------------
# Shared per-trajectory data of one call
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FamilyEpisodes:
    """Episodes of one family: last-ending record, first record (positions), transition flags."""

    record: np.ndarray
    first_record: np.ndarray
    transitions: np.ndarray


class _Base:
    """Derived per-trajectory arrays shared by all indicators of one call (built once).

    Everything here is integer or float arrays aligned with the trajectories' positions: youths,
    institutions and other text keys are factorised once (:meth:`codes`), periods are integer codes
    of the day numbers (:meth:`period_codes`), and the episodes are :class:`episodes.EpisodeArrays`.
    A ``_Base`` may be reused across calls through :func:`_shared_base` (see there); ``memo`` holds
    builder results shared by several indicators of **one** call and is cleared after each call.
    """

    def __init__(self, data: Dataset, granularity: str, settings: Settings):
        self._data = weakref.ref(data)
        self.settings = settings
        self.granularity = check_granularity(granularity)
        self.ref = pd.Timestamp(data.reference_date)
        self.ref_day = int(episodes_mod.day_numbers(pd.Series([self.ref]))[0])
        t = data.trajectories.reset_index(drop=True)
        self.t = t
        self.n = len(t)
        self.client = pd.factorize(t["client_id"])[0].astype(np.int64)
        self.care = episodes_mod.codes_of(t["care_type"], schema.CARE_TYPES)
        self.start = episodes_mod.day_numbers(t["start_date"])
        self.end = episodes_mod.day_numbers(t["end_date"])
        self.ended = t["end_date"].notna().to_numpy()
        self._episodes = None
        self._family: dict = {}
        self._earlier = None
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._persistent: dict = {}
        self._period_table = None
        self.memo: dict = {}

    @property
    def data(self) -> Dataset:
        data = self._data()
        if data is None:  # pragma: no cover - a _Base only lives while its Dataset is in use
            raise ReferenceError("the Dataset of this indicator computation no longer exists")
        return data

    @property
    def episodes(self) -> episodes_mod.EpisodeArrays:
        """Episodes as integer arrays (one lexsort + cummax over the whole population)."""
        if self._episodes is None:
            t = self.t
            self._episodes = episodes_mod.chain_arrays(
                self.client, self.care, self.start, self.end,
                episodes_mod.codes_of(t["care_form"], ("vots", "ots", "voogdij")), self.codes("institution")[0],
                episodes_mod.codes_of(t["end_reason"], ("naar_pleegouder", "herstel_gezag")),
                self.settings.continuation_days)
        return self._episodes

    def family_episodes(self, family: str) -> _FamilyEpisodes:
        """The episodes of one family only, with ``record``/``first_record`` positions in the whole
        frame.

        ``"jeugdhulp"`` and ``"jbjr"`` are the families of :mod:`episodes` (the same episodes as
        :attr:`episodes`).  ``"jr"`` chains the JR records on their own (pi09).  ``"jb"`` chains the
        JB records on their own (pi07, pi08): vOTS→OTS,
        OTS→voogdij and transfers between GIs are continuations, but a JR measure neither continues
        nor ends a JB episode; its ``jb_jr_concurrent`` flag says whether a JR measure of the same
        youth ran at some time during the JB episode (:meth:`_jr_during`).
        """
        key = ("episodes", family)
        if key not in self._family:
            if family == "jb":
                rows = np.flatnonzero(self.care == schema.CARE_TYPES.index("jb"))
                ea = self._chain_rows(rows)
                record, first = rows[ea.record], rows[ea.first_record]
                flags = ea.transitions.copy()
                flags[:, episodes_mod.TRANSITIONS.index("jb_jr_concurrent")] = self._jr_during(record, first)
                self._family[key] = (record, first, flags)
            elif family == "jr":
                # pi09: JR measures chained on their own, so a JR that ends while a JB runs is counted
                rows = np.flatnonzero(self.care == schema.CARE_TYPES.index("jr"))
                ea = self._chain_rows(rows)
                self._family[key] = (rows[ea.record], rows[ea.first_record], ea.transitions)
            elif self._episodes is not None:
                ea = self._episodes
                keep = np.flatnonzero(ea.family == episodes_mod.FAMILIES.index(family))
                self._family[key] = (ea.record[keep], ea.first_record[keep], ea.transitions[keep])
            else:
                rows = np.flatnonzero((self.care > 0) == (family == "jbjr"))
                ea = self._chain_rows(rows)
                self._family[key] = (rows[ea.record], rows[ea.first_record], ea.transitions)
        return _FamilyEpisodes(*self._family[key])

    def _chain_rows(self, rows: np.ndarray) -> episodes_mod.EpisodeArrays:
        """:func:`episodes.chain_arrays` on the trajectories at positions ``rows`` only."""
        t = self.t
        sub = lambda col, cats: episodes_mod.codes_of(t[col].take(rows), cats)  # noqa: E731
        return episodes_mod.chain_arrays(
            self.client[rows], self.care[rows], self.start[rows], self.end[rows],
            sub("care_form", ("vots", "ots", "voogdij")), self.codes("institution")[0][rows],
            sub("end_reason", ("naar_pleegouder", "herstel_gezag")), self.settings.continuation_days)

    def _jr_during(self, record: np.ndarray, first: np.ndarray) -> np.ndarray:
        """Per JB episode (last-ending record ``record``, first record ``first``): whether a JR
        record of the same youth overlaps the episode's span (JR start <= episode end and JR end >=
        episode start, both inclusive; a missing end runs on).

        Vectorised: the JR records sorted by youth and start with a segmented running maximum of
        their end; per episode one ``searchsorted`` for the last JR starting on or before its end.
        """
        jr = np.flatnonzero(self.care == schema.CARE_TYPES.index("jr"))
        if not len(jr) or not len(record):
            return np.zeros(len(record), dtype=bool)
        base = int(self.start.min()) - 2
        open_day = episodes_mod._OPEN
        jr = jr[np.lexsort((self.start[jr], self.client[jr]))]
        c = self.client[jr]
        group = np.cumsum(np.r_[True, c[1:] != c[:-1]]) - 1
        jr_end = np.where(self.ended[jr], self.end[jr] - base, open_day)
        run_end = np.maximum.accumulate(group * episodes_mod._SHIFT + jr_end) - group * episodes_mod._SHIFT
        keys = c * _DAY_KEY + (self.start[jr] - base)
        ep_end = np.where(self.ended[record], self.end[record] - base, open_day)
        q = self.client[record] * _DAY_KEY + np.minimum(ep_end, _DAY_KEY - 1)
        idx = np.searchsorted(keys, q, side="right") - 1
        ok = idx >= 0
        idx = np.maximum(idx, 0)
        ok &= c[idx] == self.client[record]
        return ok & (run_end[idx] >= self.start[first] - base)

    @property
    def chained(self) -> episodes_mod.Chained:
        """The public :func:`episodes.chain` result (text columns built on demand)."""
        ea = self.episodes
        return episodes_mod.Chained(pd.Series(ea.record_episode, name="episode_id"), episodes_mod.episode_frame(self.t, ea))

    def persistent(self, key, build: Callable):
        """``build()`` once for the life of this base (unlike :attr:`memo`, kept across calls).

        Only for results that depend on nothing but the trajectories and the settings of this base
        (the cache key of :func:`_shared_base`): the base is rebuilt when either changes.
        """
        if key not in self._persistent:
            self._persistent[key] = build()
        return self._persistent[key]

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes (-1 for missing; int32) of a trajectory column and its labels (object array of str)."""
        if column not in self._codes:
            codes, uniques = pd.factorize(self.t[column])
            labels = np.asarray(pd.Index(uniques).astype(str), dtype=object)
            # int32 codes (half the memory of every key array gathered from them in compute)
            self._codes[column] = (codes.astype(np.int32 if len(labels) < (1 << 31) - 1 else np.int64), labels)
        return self._codes[column]

    def care_mask(self, care_types: Iterable[str]) -> np.ndarray:
        codes = [schema.CARE_TYPES.index(c) for c in care_types]
        return np.isin(self.care, codes)

    def period_codes(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Period of each day number as an integer code (-1 for NaT) and the labels of the codes.

        The labels are those of :func:`periods.period_of` (``"2024"``, ``"2024H1"``), built on the
        few distinct periods, not per row.
        """
        days = np.asarray(days, dtype=np.int64)
        fast = self._period_codes_from_table(days)
        if fast is not None:
            return fast
        nat = days == np.iinfo(np.int64).min
        real = days[~nat]
        if not len(real):
            return np.full(len(days), -1, dtype=np.int64), np.array([], dtype=object)
        lo, hi = int(real.min()), int(real.max())
        # the period of every day in [lo, hi] (a few thousand days), then one gather per row
        table, labels = self.period_codes_of_range(np.arange(lo, hi + 1, dtype=np.int64))
        codes = np.full(len(days), -1, dtype=np.int64)
        codes[~nat] = table[real - lo]
        return codes, labels

    def _period_codes_from_table(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`period_codes` by one gather from a table of the periods of every day between the
        earliest and the latest start or end of the trajectories (built once per base), as int32
        codes; ``None`` when a day lies outside that range (the caller then computes them).

        The labels are those of every period in the range, so a label may have no row; codes are
        in the order of the periods, as :meth:`period_codes` numbers them.
        """
        if self._period_table is None:
            real = [x[x != np.iinfo(np.int64).min] for x in (self.start, self.end)]
            real = [x for x in real if len(x)]
            if not real:
                return None
            lo = int(min(int(x.min()) for x in real))
            hi = int(max(int(x.max()) for x in real))
            d = np.arange(lo, hi + 1, dtype=np.int64)
            codes, labels = self.period_codes_of_range(d)
            self._period_table = (lo, hi, codes.astype(np.int32), labels)
        lo, hi, table, labels = self._period_table
        if not len(days):
            return np.zeros(0, dtype=np.int32), labels
        off = days - lo  # NaT wraps to a huge positive offset: outside the table
        inside = (off >= 0) & (off <= hi - lo)
        if not inside.all():
            nat = days == np.iinfo(np.int64).min
            if not (inside | nat).all():
                return None
            off[~inside] = 0
            codes = table[off]
            codes[~inside] = -1
            return codes, labels
        return table[off], labels

    def period_codes_of_range(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Period codes and labels of consecutive day numbers ``d`` (no NaT)."""
        d = d.astype("datetime64[D]")
        year = d.astype("datetime64[Y]").astype(np.int64) + 1970
        if self.granularity == "year":
            raw = year
        else:
            month = d.astype("datetime64[M]").astype(np.int64) % 12
            raw = year * 2 + (month >= 6)
        uniq, table = np.unique(raw, return_inverse=True)
        if self.granularity == "year":
            labels = [str(int(y)) for y in uniq]
        else:
            labels = [f"{int(y) // 2}H{int(y) % 2 + 1}" for y in uniq]
        return table, np.asarray(labels, dtype=object)

    def earlier_trajectories(self) -> np.ndarray:
        """Trajectories of the same youth (any family) that started strictly before each one."""
        if self._earlier is None:
            order = np.lexsort((self.start, self.client))
            c, s = self.client[order], self.start[order]
            n = self.n
            new_client = np.r_[True, c[1:] != c[:-1]] if n else np.array([], bool)
            new_run = new_client | np.r_[True, s[1:] != s[:-1]] if n else new_client
            pos = np.arange(n)
            client_first = np.maximum.accumulate(np.where(new_client, pos, 0))
            run_first = np.maximum.accumulate(np.where(new_run, pos, 0))
            out = np.empty(n, dtype=np.int64)
            out[order] = run_first - client_first
            self._earlier = out
        return self._earlier

    def window_passed_limit(self, end_days: np.ndarray, months: int) -> tuple[np.ndarray, np.ndarray]:
        """Day number of end + ``months`` and whether that is after the reference date.

        Calendar months as ``pd.DateOffset(months=...)`` (end of month clipped), computed on the
        distinct end days only.
        """
        end_days = np.asarray(end_days, dtype=np.int64)
        uniq, inv = np.unique(end_days, return_inverse=True)
        ends = pd.Series(uniq.astype("datetime64[D]"))
        limit = episodes_mod.day_numbers(ends + pd.DateOffset(months=int(months)))[inv]
        return limit, limit > self.ref_day

    def trajectory_codes(self) -> np.ndarray:
        """Integer code of each trajectory id (equal ids, equal codes)."""
        return self.codes("trajectory_id")[0]

    def trajectory_ids_unique(self) -> bool:
        """Whether every trajectory has its own, non-missing id (counted in Arrow when possible,
        without building a Python string per id)."""
        def build() -> bool:
            col = self.t["trajectory_id"]
            if col.hasnans:
                return False
            try:
                import pyarrow.compute as pc

                return len(pc.unique(col.array._pa_array)) == self.n
            except (ImportError, AttributeError, TypeError, ValueError, NotImplementedError):
                return bool(col.is_unique)
        return self.persistent("trajectory_ids_unique", build)

    def trajectory_identity(self, positions: np.ndarray) -> np.ndarray:
        """An integer identity of the trajectory ids at ``positions`` (equal ids, equal values): the
        position itself when the ids are unique, else :meth:`trajectory_codes`."""
        positions = np.asarray(positions, dtype=np.int64)
        return positions if self.trajectory_ids_unique() else self.trajectory_codes()[positions]


#: the reusable ``_Base`` per (Dataset identity, granularity, settings), see :func:`_shared_base`.
_BASE_CACHE: dict[tuple, tuple] = {}
_BASE_CACHE_SIZE = 2


def _frame_fingerprint(frame: pd.DataFrame) -> tuple:
    """Identity of a frame and of its column arrays: any assignment into it changes one of them.

    Under copy-on-write (pandas 3) a write into a frame whose data is also referenced elsewhere (the
    cached ``_Base.t`` shares it) copies the written block first, so the block's array is a new object.
    """
    try:
        arrays = tuple(id(a) for a in frame._mgr.arrays)
    except AttributeError:  # pragma: no cover - other pandas internals: never reuse
        arrays = (object(),)
    return id(frame), tuple(frame.columns), frame.shape, arrays


def _shared_base(data: Dataset, granularity: str, settings: Settings) -> _Base:
    """A :class:`_Base` for ``data``, reused while ``data`` and its trajectories are unchanged.

    ``results.compute_results`` calls :func:`compute` once and :func:`records` ~18 times (through
    ``casemix.adjust``) on the same Dataset; building the shared arrays (factorised keys, episodes,
    earlier trajectories) once saves most of those calls' time. The cache:

    - is keyed on ``(id(data), granularity, repr(settings))`` and holds at most
      ``_BASE_CACHE_SIZE`` entries (the latest ones);
    - holds the Dataset only weakly: an entry is dropped when its Dataset is garbage-collected,
      and a new object that happens to reuse the id is told apart by the weak reference;
    - is validated on every use: the Dataset's ``trajectories`` must be the same frame object with
      the same column arrays (:func:`_frame_fingerprint`) and the same ``reference_date``;
      replacing the frame or writing into it (copy-on-write gives written blocks new arrays)
      builds a new ``_Base``. Goals and experience are read from the Dataset at every call.
    - can be emptied with :func:`clear_cache`.
    """
    key = (id(data), granularity, repr(settings))
    fingerprint = (_frame_fingerprint(data.trajectories), pd.Timestamp(data.reference_date))
    hit = _BASE_CACHE.get(key)
    if hit is not None:
        ref, fp, base = hit
        if ref() is data and fp == fingerprint:
            _BASE_CACHE[key] = _BASE_CACHE.pop(key)  # most recently used last
            return base
        _BASE_CACHE.pop(key, None)
    base = _Base(data, granularity, settings)
    _release_arrow_memory()
    try:
        ref = weakref.ref(data, lambda r, key=key: _BASE_CACHE.pop(key, None)
                          if _BASE_CACHE.get(key, (None,))[0] is r else None)
    except TypeError:  # pragma: no cover - a Dataset-like object without weak references
        return base
    _BASE_CACHE[key] = (ref, fingerprint, base)
    while len(_BASE_CACHE) > _BASE_CACHE_SIZE:
        _BASE_CACHE.pop(next(iter(_BASE_CACHE)))
    return base


def clear_cache() -> None:
    """Forget the shared per-Dataset arrays of :func:`_shared_base`."""
    _BASE_CACHE.clear()


def _release_arrow_memory() -> None:
    """Hand memory that Arrow's allocator keeps after freeing (mimalloc/jemalloc pools hold freed
    pages for reuse) back to the operating system.

    Factorising a text column of a million rows in Arrow peaks at ~60 MB in its pool, which the
    pool would otherwise keep resident for the life of the process; the indicators' arrays are
    NumPy, so nothing is lost by releasing it between indicators (a call takes well under 1 ms).
    """
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):  # pragma: no cover - pyarrow without release_unused
        pass


def _memo(b: _Base, key, build: Callable):
    """``build()`` once per call of :func:`compute` / :func:`records` (parts shared by indicators)."""
    if key not in b.memo:
        b.memo[key] = build()
    return b.memo[key]


def _age_group(start_date: pd.Series, birth_year: pd.Series) -> pd.Categorical:
    age = start_date.dt.year.astype("float64") - birth_year.astype("float64")
    codes = np.searchsorted(_AGE_BINS, age.to_numpy(), side="left")
    codes = np.where(np.isnan(age.to_numpy()), -1, codes)
    return pd.Categorical.from_codes(codes, categories=list(AGE_GROUPS))


# ------------------------------------------------------------------------------------------------
# Parts: each builder returns unit rows with the counted trajectory's position ``pos``
# ------------------------------------------------------------------------------------------------


UNIT_TRAJECTORY, UNIT_CLIENT, UNIT_ANSWER = 0, 1, 2


def _as_categorical(category, n: int) -> pd.Categorical:
    if isinstance(category, pd.Categorical):
        return category
    if isinstance(category, str):
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[category])
    return pd.Categorical(np.asarray(category, dtype=object))


class _Part:
    """Unit rows of one builder as plain arrays (no frame, no copies of shared arrays).

    ``outcome`` may be a broadcast scalar (a read-only view); ``excluded``, ``baseline`` and
    ``change`` may be ``None`` (all false / all NaN); ``unit_pos`` ``None`` means ``pos``.  Arrays
    may be shared with memoised or persistent builder results: never written into.
    """

    __slots__ = ("pos", "unit_pos", "unit_kind", "anchor", "category", "outcome", "excluded", "baseline", "change")

    def __init__(self, pos, unit_pos, unit_kind, anchor, category, outcome, excluded, baseline, change):
        self.pos, self.unit_pos, self.unit_kind, self.anchor = pos, unit_pos, unit_kind, anchor
        self.category, self.outcome, self.excluded = category, outcome, excluded
        self.baseline, self.change = baseline, change

    def __len__(self) -> int:
        return len(self.pos)


def _vector(v, n: int, dtype=np.float64):
    """``v`` as an array of length ``n`` (a scalar as a broadcast view, ``None`` kept)."""
    if v is None:
        return None
    a = np.asarray(v, dtype=dtype)
    return np.broadcast_to(a, (n,)) if a.ndim == 0 else a


def _part(pos, anchor_days, category, outcome, excluded=None, baseline=None, change=None,
          unit_pos=None, unit_kind: int = UNIT_TRAJECTORY) -> _Part:
    """Unit rows of one builder.

    ``pos`` is the counted trajectory's position; the unit id is ``trajectory_id[unit_pos]``
    (``unit_kind=0``, default ``unit_pos = pos``), ``client_id[pos]`` (1) or
    ``trajectory_id[pos] + "#" + unit_pos`` for experience answers (2).
    """
    pos = np.asarray(pos, dtype=np.int64)
    n = len(pos)
    outcome = _vector(outcome, n)
    return _Part(pos, None if unit_pos is None else np.asarray(unit_pos, dtype=np.int64), unit_kind,
                 np.asarray(anchor_days, dtype=np.int64), _as_categorical(category, n),
                 np.full(n, np.nan) if outcome is None else outcome,
                 None if excluded is None else _vector(excluded, n, bool),
                 _vector(baseline, n), _vector(change, n))


def _column(parts: Sequence[_Part], name: str, keep: np.ndarray | None = None) -> np.ndarray:
    """One column of the unit rows of ``parts``, concatenated (``keep``: positions to keep)."""
    arrays = []
    for p in parts:
        n = len(p)
        if name == "unit_pos":
            v = p.pos if p.unit_pos is None else p.unit_pos
        elif name == "unit_kind":
            v = np.broadcast_to(np.int8(p.unit_kind), (n,))
        elif name == "excluded":
            v = np.broadcast_to(np.False_, (n,)) if p.excluded is None else p.excluded
        elif name in ("baseline", "change"):
            v = getattr(p, name)
            v = np.broadcast_to(np.float64(np.nan), (n,)) if v is None else v
        else:
            v = getattr(p, name)
        arrays.append(v)
    out = np.concatenate(arrays) if len(arrays) != 1 else np.ascontiguousarray(arrays[0])
    return out if keep is None else out[keep]


def _bool_float(series: pd.Series) -> np.ndarray:
    """A nullable boolean as float 1/0 with NaN for missing."""
    return series.astype("float64").to_numpy() if len(series) else np.array([], float)


def _codes_float(series: pd.Series, positive: Sequence[str]) -> np.ndarray:
    """1.0 where ``series`` is in ``positive``, 0.0 otherwise, NaN where missing."""
    present = series.notna().to_numpy()
    hit = series.isin(list(positive)).to_numpy()
    return np.where(present, hit.astype(float), np.nan)


def _category(family: str, values) -> pd.Categorical:
    """``"family:code"``, or ``"family:"`` where the code is missing (as a Categorical)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        cat = values.array
    else:
        cat = pd.Categorical(np.asarray(values, dtype=object))
    codes = np.asarray(cat.codes, dtype=np.int64)
    names = [f"{family}:{c}" for c in cat.categories] + [f"{family}:"]
    codes = np.where(codes < 0, len(names) - 1, codes)
    return pd.Categorical.from_codes(codes, categories=names)


def _trajectory_unit(b: _Base, care_types, anchor: str = "end") -> np.ndarray:
    """Positions of the trajectories counted: of ``care_types`` and (for end anchors) ended."""
    mask = b.care_mask(care_types)
    if anchor == "end":
        mask &= b.ended
    return np.flatnonzero(mask)


def _plain(b: _Base, pos: np.ndarray, outcome, excluded=None, baseline=None, change=None, category="") -> pd.DataFrame:
    return _part(pos, b.end[pos], category, outcome, excluded, baseline, change)


def _distribution(b: _Base, pos: np.ndarray, family: str, values: pd.Series, excluded=None) -> pd.DataFrame:
    cat = _category(family, values)
    outcome = np.where(values.isna().to_numpy(), np.nan, 1.0)
    if excluded is not None:
        codes = np.where(excluded, list(cat.categories).index(f"{family}:"), cat.codes)
        cat = pd.Categorical.from_codes(codes, categories=cat.categories)
        outcome = np.where(excluded, np.nan, outcome)
    return _plain(b, pos, outcome, excluded, category=cat)


# --- trajectory shares ----------------------------------------------------------------------------


def _end_reason_share(b: _Base, care_types, positive, family=True) -> list[pd.DataFrame]:
    """Share of ``positive`` end reasons among known reasons (``onbekend`` = missing) + distribution."""
    pos = _trajectory_unit(b, care_types)
    reason = b.t["end_reason"].iloc[pos]
    known = reason.notna().to_numpy() & (reason != "onbekend").fillna(False).to_numpy()
    outcome = np.where(known, reason.isin(list(positive)).to_numpy().astype(float), np.nan)
    return [_plain(b, pos, outcome), _distribution(b, pos, "end_reason", reason)]


def _uitval(b, entry):
    return _end_reason_share(b, entry.care_types, schema.UITVAL_REASONS)


def _reden_beeindiging_hulp(b, entry):
    return _end_reason_share(b, entry.care_types, ("volgens_plan",))


def _zonder_hulp(b, entry):
    pos = _trajectory_unit(b, entry.care_types)
    return [_plain(b, pos, _bool_float(b.t["without_help"].iloc[pos]))]


def _doelrealisatie(b, entry):
    pos = _trajectory_unit(b, entry.care_types)
    goals = b.t["goals_realised"].iloc[pos]
    return [_plain(b, pos, _codes_float(goals, ("geheel", "grotendeels"))),
            _distribution(b, pos, "goals_realised", goals)]


def _acceptatie(b, entry):
    pos = _trajectory_unit(b, entry.care_types)
    acc = b.t["help_accepted"].iloc[pos]
    return [_plain(b, pos, _codes_float(acc, ("ja",))), _distribution(b, pos, "help_accepted", acc)]


def _recidive(b, entry):
    pos = _trajectory_unit(b, entry.care_types)
    _, excluded = b.window_passed_limit(b.end[pos], entry.window_months(b.settings))
    outcome = 1.0 - _bool_float(b.t["recidivism"].iloc[pos])
    return [_plain(b, pos, np.where(excluded, np.nan, outcome), excluded)]


# --- change scores ----------------------------------------------------------------------------------


def _threat_parts(b: _Base, care_types=("jb",)) -> list[pd.DataFrame]:
    pos = _trajectory_unit(b, care_types)
    start = b.t["threat_start"].iloc[pos].astype("float64").to_numpy()
    end = b.t["threat_end"].iloc[pos].astype("float64").to_numpy()
    change = start - end  # positive = the threat decreased
    outcome = np.where(np.isnan(change), np.nan, (change > 0).astype(float))
    return [_plain(b, pos, outcome, baseline=start, change=change),
            _plain(b, pos, change, baseline=start, change=change, category="mean_change:")]


def _risk_parts(b: _Base, care_types=("jr",)) -> list[pd.DataFrame]:
    pos = _trajectory_unit(b, care_types)
    start = episodes_mod.codes_of(b.t["risk_start"].iloc[pos], schema.RISK_LEVELS).astype(float) + 1
    end = episodes_mod.codes_of(b.t["risk_end"].iloc[pos], schema.RISK_LEVELS).astype(float) + 1
    start[start == 0], end[end == 0] = np.nan, np.nan
    change = start - end
    outcome = np.where(np.isnan(change), np.nan, (change > 0).astype(float))
    return [_plain(b, pos, outcome, baseline=start, change=change),
            _plain(b, pos, change, baseline=start, change=change, category="mean_change:")]


def _rom_parts(b: _Base, care_types=("jeugdhulp",)) -> list[pd.DataFrame]:
    """Headline (reliably improved), RCI classes and mean T-score change of the ROM trajectories.

    The per-trajectory arrays are kept on the shared base across calls (:meth:`_Base.persistent`:
    five arrays of the ended jeugdhulp trajectories, about 33 bytes a trajectory) because
    ``results.compute_results`` asks for them through :func:`records` many times; the unknown-
    instrument warning is repeated on every call.
    """
    pos, outcome, t_pre, change, cls, message, derived = b.persistent(("rom", tuple(care_types)),
                                                                      lambda: _rom_arrays(b, care_types))
    if message:
        warnings.warn(message, UnknownInstrumentWarning, stacklevel=3)
    if derived:
        warnings.warn(derived, DerivedNormWarning, stacklevel=3)
    return [_plain(b, pos, outcome, baseline=t_pre, change=change),
            _distribution(b, pos, "rci", pd.Series(cls)),
            _plain(b, pos, change, baseline=t_pre, change=change, category="mean_change:")]


def _rom_arrays(b: _Base, care_types) -> tuple:
    """Positions, outcome, start T-score, change, RCI class (categorical), the unknown-instrument
    warning text and the derived-norm warning text (``""`` if none) of the ended ROM trajectories."""
    pos = _trajectory_unit(b, care_types)
    table, derived = derive_missing_norms(stats.instruments(), b.t)
    instrument = b.t["rom_instrument"].take(pos).reset_index(drop=True)
    # norms per row by integer codes against the instrument table (-1: missing or unknown)
    code = episodes_mod.codes_of(instrument, list(table.index))
    unknown = (code < 0) & instrument.notna().to_numpy()
    message = ""
    if unknown.any():
        counts = instrument[unknown].astype("object").value_counts()
        listed = ", ".join(f"{k!r} ({v})" for k, v in counts.items())
        message = f"ROM instrument(s) not in the instrument table, counted as missing: {listed}"

    def norm(col: str, fill=np.nan) -> np.ndarray:
        values = table[col].to_numpy(dtype=float if isinstance(fill, float) else object)
        return np.concatenate([values, np.array([fill], dtype=values.dtype)])[code]  # code -1: the fill

    norms = {"norm_mean": norm("norm_mean"), "norm_sd": norm("norm_sd"), "reliability": norm("reliability"),
             "direction": norm("direction", None)}
    pre = b.t["rom_start"].take(pos).to_numpy(dtype=float, na_value=np.nan)
    post = b.t["rom_end"].take(pos).to_numpy(dtype=float, na_value=np.nan)
    t_pre = np.asarray(stats.to_tscore(pre, norms), dtype=float)
    t_post = np.asarray(stats.to_tscore(post, norms), dtype=float)
    change = t_pre - t_post  # T-scores run higher = worse, so positive = improvement
    rci = np.asarray(stats.reliable_change(pre, post, norms["norm_sd"], norms["reliability"]), dtype=float)
    known = ~np.isnan(rci)
    # classify on the few distinct directions, not per row of object values
    dir_code = np.where(known, norm("direction", "higher_worse"), "higher_worse").astype(object)
    cls = np.asarray(stats.classify_change(np.where(known, rci, 0.0), dir_code, b.settings.rci_threshold), dtype=object)
    cls = np.where(known, cls, None)
    outcome = np.where(known, (cls == "improved").astype(float), np.nan)
    change = np.where(known, change, np.nan)
    return pos, outcome, t_pre, change, pd.Categorical(cls), message, derived


def derive_missing_norms(table: pd.DataFrame, trajectories: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Fill a missing norm mean or SD of an instrument from the start scores in the data.

    The Reliable Change Index needs the SD of the instrument's scores (Jacobson & Truax 1991 used the
    SD of the pre-treatment scores when no normative SD is available), and the T-score needs a mean
    and SD. For an instrument of the table whose ``norm_mean`` or ``norm_sd`` is empty (HoNOSCA has
    no population norm), they are taken from ``rom_start`` of **all** trajectories with that
    instrument in the delivery (every institution and period, so each institution is measured
    against the same yardstick), and a warning text says so, with the values used.

    Returns the completed table (a copy) and the warning text (``""`` when nothing was derived).
    Instruments with fewer than 30 start scores are left without norms (counted as missing).
    """
    lacking = table.index[table["norm_mean"].isna() | table["norm_sd"].isna()]
    if not len(lacking):
        return table, ""
    table = table.copy()
    # integer codes of the instruments (no Python string per row); the same rows as comparing text
    code, uniques = _factor(trajectories["rom_instrument"])
    uniques = list(uniques)
    start = trajectories["rom_start"].astype(float)
    has_start = start.notna().to_numpy()
    used = []
    for key in lacking:  # a loop over the few instruments without norms
        hit = (code == uniques.index(key)) if key in uniques else np.zeros(len(code), bool)
        scores = start[hit & has_start]
        if len(scores) < 30:
            continue
        mean, sd = float(scores.mean()), float(scores.std(ddof=1))
        if pd.isna(table.at[key, "norm_mean"]):
            table.at[key, "norm_mean"] = mean
        if pd.isna(table.at[key, "norm_sd"]):
            table.at[key, "norm_sd"] = sd
        used.append(f"{key} (mean {table.at[key, 'norm_mean']:.2f}, SD {table.at[key, 'norm_sd']:.2f}, "
                    f"from {len(scores):,} start scores)")
    message = ("ROM instrument(s) without a norm in the instrument table; mean and SD taken from the start "
               "scores of all trajectories in the data: " + "; ".join(used)) if used else ""
    return table, message


def _afname_ontwikkelingsbedreiging(b, entry):
    return _memo(b, "threat", lambda: _threat_parts(b))


def _afname_criminogeen(b, entry):
    return _memo(b, "risk", lambda: _risk_parts(b))


def _afname_problematiek(b, entry):
    return _memo(b, "rom", lambda: _rom_parts(b))


def _vermindering_ernst(b, entry):
    return (_memo(b, "rom", lambda: _rom_parts(b)) + _memo(b, "threat", lambda: _threat_parts(b))
            + _memo(b, "risk", lambda: _risk_parts(b)))


# --- GAS ------------------------------------------------------------------------------------------


def _gas(b, entry):
    """GAS T-scores per trajectory and informant.

    With unique trajectory ids the goals are grouped on integer keys (the trajectory's position,
    the informant's rank among the sorted informant names): the same groups with the same rows in
    the same order as grouping on the text, so the same sums, without a Python string per goal or
    per trajectory.  The informant rows keep the order of the text grouping (trajectory id, then
    informant, as sorted strings).
    """
    pos = _trajectory_unit(b, entry.care_types)
    goals = b.data.goals
    if len(goals) and b.trajectory_ids_unique():
        return _gas_by_position(b, pos, goals)
    return _gas_by_text(b, pos, goals)


def _gas_by_position(b: _Base, pos: np.ndarray, goals: pd.DataFrame) -> list[_Part]:
    where = _positions_of(b, goals["trajectory_id"])
    icode, inames = _factor(goals["informant"])
    names = list(inames)
    if (icode < 0).any():  # missing informant: the joint scores
        if "gezamenlijk" not in names:
            names.append("gezamenlijk")
        icode = np.where(icode < 0, names.index("gezamenlijk"), icode)
    ranked = sorted(names)
    rank = np.array([ranked.index(x) for x in names], dtype=np.int64)
    g = pd.DataFrame({"trajectory": where, "informant": rank[icode] if len(icode) else icode,
                      "score": goals["score"].astype(float), "weight": goals["weight"].astype(float)})
    tscore = stats.gas_tscore_grouped(g, by=["trajectory", "informant"], rho=b.settings.gas_rho)
    tpos = np.asarray(tscore.index.get_level_values(0), dtype=np.int64)
    tinf = np.asarray(tscore.index.get_level_values(1), dtype=np.int64)
    tval = tscore.to_numpy(dtype=float)
    joint_code = ranked.index("gezamenlijk") if "gezamenlijk" in ranked else -1
    counted = np.zeros(b.n, bool)
    counted[pos] = True
    inside = tpos >= 0
    inside[inside] = counted[tpos[inside]]
    joint = inside & (tinf == joint_code)
    tj_all = np.full(b.n, np.nan)
    tj_all[tpos[joint]] = tval[joint]
    tj = tj_all[pos]
    del tj_all
    outcome = np.where(np.isnan(tj), np.nan, (tj >= b.settings.gas_threshold).astype(float))
    parts = [_plain(b, pos, outcome), _plain(b, pos, tj, category="mean_t:")]
    other = np.flatnonzero(inside & (tinf != joint_code))
    # the order of the text grouping: trajectory id (as text), then informant (sorted names)
    ids = b.t["trajectory_id"].take(tpos[other]).astype("object").to_numpy()
    other = other[np.argsort(ids, kind="stable")] if len(other) else other
    tt = tval[other]
    labels = np.array([f"informant:{x}" for x in ranked], dtype=object)
    parts.append(_plain(b, tpos[other], np.where(np.isnan(tt), np.nan, (tt >= b.settings.gas_threshold).astype(float)),
                        category=labels[tinf[other]]))
    return parts


def _gas_by_text(b: _Base, pos: np.ndarray, goals: pd.DataFrame) -> list[_Part]:
    informant = goals["informant"].astype("object").fillna("gezamenlijk")
    g = pd.DataFrame({"trajectory_id": goals["trajectory_id"].astype("object"), "informant": informant,
                      "score": goals["score"].astype(float), "weight": goals["weight"].astype(float)})
    tscore = stats.gas_tscore_grouped(g, by=["trajectory_id", "informant"], rho=b.settings.gas_rho)
    tscore = tscore.rename("t").reset_index()
    ids = pd.Index(b.t["trajectory_id"].astype("object").to_numpy()[pos])
    parts = []
    joint = tscore[tscore["informant"] == "gezamenlijk"]
    tj = pd.Series(joint["t"].to_numpy(), index=joint["trajectory_id"].to_numpy()).reindex(ids).to_numpy()
    outcome = np.where(np.isnan(tj), np.nan, (tj >= b.settings.gas_threshold).astype(float))
    parts += [_plain(b, pos, outcome), _plain(b, pos, tj, category="mean_t:")]
    other = tscore[tscore["informant"] != "gezamenlijk"]
    where = ids.get_indexer(other["trajectory_id"])
    other, where = other[where >= 0], where[where >= 0]
    tt = other["t"].to_numpy()
    parts.append(_plain(b, pos[where], np.where(np.isnan(tt), np.nan, (tt >= b.settings.gas_threshold).astype(float)),
                        category=("informant:" + other["informant"].astype(str)).to_numpy(dtype=object)))
    return parts


def _positions_of(b: _Base, ids: pd.Series) -> np.ndarray:
    """Position of each id in the trajectories (-1 if absent): one hash join in Arrow."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        traj = b.t["trajectory_id"].array._pa_array
        wanted = ids.array._pa_array if hasattr(ids.array, "_pa_array") else pa.array(ids.astype(object).to_numpy())
        if b.trajectory_ids_unique():
            out = pc.index_in(wanted.cast(traj.type), value_set=traj)
            return np.asarray(out.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    except (ImportError, AttributeError, TypeError, ValueError, NotImplementedError):
        pass
    return pd.Index(b.t["trajectory_id"]).get_indexer(ids)


# --- experience (answers) -----------------------------------------------------------------------------


def _experience(b, entry):
    exp = b.data.experience
    where = _memo(b, "experience_rows", lambda: _positions_of(b, exp["trajectory_id"]))
    counted = np.zeros(b.n, bool)
    counted[_trajectory_unit(b, entry.care_types)] = True
    keep = (where >= 0)
    keep[keep] = counted[where[keep]]
    exp, pos = exp[keep], where[keep]
    answer_row = np.flatnonzero(keep)
    informant = _category("informant", exp["informant"])
    helped = _bool_float(exp["helped"])
    pooled = exp["informant"].isin(["jeugdige", "ouder"]).to_numpy()
    anchor = b.end[pos]
    return [
        _part(pos[pooled], anchor[pooled], "", helped[pooled], unit_pos=answer_row[pooled], unit_kind=UNIT_ANSWER),
        _part(pos, anchor, informant, helped, unit_pos=answer_row, unit_kind=UNIT_ANSWER),
    ]


# --- episodes -----------------------------------------------------------------------------------------


def _ended_episodes(b: _Base, family: str, last_care_types) -> np.ndarray:
    """Indices (into ``b.family_episodes(family)``) of the ended episodes of ``family`` whose last record is of
    ``last_care_types``."""
    rec = b.family_episodes(family).record
    keep = b.ended[rec] & np.isin(b.care[rec], [schema.CARE_TYPES.index(c) for c in last_care_types])
    return np.flatnonzero(keep)


def _factor(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 missing) and uniques (object) of a column: per-value work on the uniques only."""
    codes, uniques = pd.factorize(series)
    return codes, np.asarray(pd.Index(uniques).astype(object), dtype=object)


def _episode_end(b, entry, headline: bool = True, family: str = "jbjr"):
    ea = b.family_episodes(family)
    idx = _ended_episodes(b, family, entry.care_types)
    pos = ea.record[idx]
    unit = ea.first_record[idx]
    anchor = b.end[pos]
    reason_col = b.t["end_reason"].take(pos).reset_index(drop=True)
    rcode, runiq = _factor(reason_col)
    missing = rcode < 0
    parts = []
    if headline:
        fcode, funiq = _factor(b.t["care_form"].take(pos))
        group_of_form = np.array([schema.END_REASON_GROUP_OF_FORM.get(f) for f in funiq] + [None], dtype=object)
        group = group_of_form[fcode]  # code -1 picks the trailing None
        regular = np.zeros(len(idx), bool)
        for grp, reasons in b.settings.regular_ends.items():  # a loop over the few end-reason groups
            hit = np.r_[np.isin(runiq, list(reasons)), False][rcode]
            regular |= (group == grp) & hit
        unknown = missing | (np.r_[runiq == "onbekend", False][rcode])
        deceased = np.r_[runiq == "overleden", False][rcode]
        outcome = np.where(unknown, np.nan, regular.astype(float))
        parts.append(_part(pos[~deceased], anchor[~deceased], "", outcome[~deceased], unit_pos=unit[~deceased]))
    parts.append(_part(pos, anchor, _category("end_reason", reason_col), np.where(missing, np.nan, 1.0),
                       unit_pos=unit))
    if "transition" in entry.breakdowns:
        flags = ea.transitions[idx]
        rows, cols = np.nonzero(flags)
        names = np.array([f"transition:{x}" for x in episodes_mod.TRANSITIONS], dtype=object)
        parts.append(_part(pos[rows], anchor[rows], pd.Categorical.from_codes(cols, categories=list(names)), 1.0,
                           unit_pos=unit[rows]))
        none = ~flags.any(axis=1)
        parts.append(_part(pos[none], anchor[none], f"transition:{TRANSITION_NONE}", 1.0, unit_pos=unit[none]))
    return parts


def _verloop(b, entry):
    return _episode_end(b, entry)


def _reden_jb(b, entry):
    """pi07: JB episodes chained on the JB records alone (a JR measure neither continues nor ends them)."""
    return _episode_end(b, entry, family="jb")


def _reden_jr(b, entry):
    """pi09: JR episodes chained on the JR records alone (a JB measure neither continues nor ends them)."""
    return _episode_end(b, entry, headline=False, family="jr")


def _packed_order(columns: Sequence[np.ndarray]) -> np.ndarray | None:
    """The stable order of ``np.lexsort(columns[::-1])`` (``columns`` most significant first, all
    non-negative integers) as one stable argsort of a packed int64 key, or ``None`` when the value
    ranges do not fit in 62 bits (the caller then falls back to the lexsort)."""
    if not len(columns) or not len(columns[0]):
        return np.zeros(0, dtype=np.int64)
    bits = []
    for col in columns:
        if int(col.min()) < 0:
            return None
        bits.append(max(int(col.max()).bit_length(), 1))
    if sum(bits) > 62:
        return None
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for col, width in zip(columns, bits):
        key <<= width
        key |= col
    return np.argsort(key, kind="stable")


def _candidates_sorted(b: _Base, care_types) -> tuple[np.ndarray, np.ndarray]:
    """The trajectories of ``care_types`` sorted by client and start (stable), and their keys
    ``client * 2**22 + start offset``: one argsort of the packed key (shared within a call)."""
    def build():
        candidates = np.flatnonzero(b.care_mask(care_types))
        base = int(b.start.min()) - 2 if b.n else 0
        keys = b.client[candidates] * _DAY_KEY + (b.start[candidates] - base)
        order = np.argsort(keys, kind="stable")
        return candidates[order], keys[order]
    return _memo(b, ("candidates", tuple(care_types)), build)


def _next_start_after(b: _Base, candidates, client: np.ndarray, after_day: np.ndarray,
                      inclusive: bool) -> tuple[np.ndarray, np.ndarray]:
    """For each query, the first candidate trajectory of the same client starting after ``after_day``.

    ``candidates`` are care types (sorted once per call by :func:`_candidates_sorted`) or positions.
    Returns the candidate's position in the trajectories (``-1`` if none) and its start day.
    ``inclusive=True`` also accepts a start on ``after_day``. Vectorised by one sort and
    ``searchsorted`` on ``client * 2**22 + day``.
    """
    base = int(b.start.min()) - 2 if b.n else 0
    if isinstance(candidates, tuple):
        cand, keys = _candidates_sorted(b, candidates)
    else:
        keys = b.client[candidates] * _DAY_KEY + (b.start[candidates] - base)
        order = np.argsort(keys, kind="stable")  # = lexsort((start, client)): the key is order-preserving
        cand, keys = candidates[order], keys[order]
    q = client * _DAY_KEY + (after_day - base)
    idx = np.searchsorted(keys, q, side="left" if inclusive else "right")
    ok = idx < len(cand)
    idx_c = np.minimum(idx, max(len(cand) - 1, 0))
    found = np.where(ok & (len(cand) > 0), cand[idx_c] if len(cand) else -1, -1)
    same_client = np.zeros(len(q), bool)
    same_client[found >= 0] = b.client[found[found >= 0]] == client[found >= 0]
    found = np.where(same_client, found, -1)
    start = np.where(found >= 0, b.start[np.maximum(found, 0)], np.iinfo(np.int64).max)
    return found, start


def _last_episode_per_youth(b: _Base, family: str, last_care_types) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per youth, institution and period: the last episode of ``family`` that ended there in the
    period (its last-ending record's position, end day, client code).

    Integer keys: one stable argsort of a packed ``(client, institution, period, end)`` key (a
    lexsort when the ranges do not fit), the last row of each youth/institution/period run.
    """
    ea = b.family_episodes(family)
    idx = _ended_episodes(b, family, last_care_types)
    pos = ea.record[idx]
    end = b.end[pos]
    client = b.client[pos]
    period = b.period_codes(end)[0]
    inst = b.codes("institution")[0][pos]
    order = None
    if len(idx):
        order = _packed_order([client, inst + 1, period + 1, end - end.min()])
    if order is None:
        order = np.lexsort((np.arange(len(idx)), end, period, inst, client))
    c, i, p = client[order], inst[order], period[order]
    last_of_run = np.ones(len(order), bool)
    if len(order):
        last_of_run[:-1] = (c[1:] != c[:-1]) | (i[1:] != i[:-1]) | (p[1:] != p[:-1])
    last = np.sort(order[last_of_run])
    return pos[last], end[last], client[last]


def _follow_up_episodes(b, entry, family: str, last_care_types, new_care_types, outcome_is_new: bool):
    """Herhaald beroep / geen nieuwe start / geen nieuwe maatregel, per youth."""
    def build():
        pos, end, client = _last_episode_per_youth(b, family, last_care_types)
        _, next_start = _next_start_after(b, tuple(new_care_types), client, end, inclusive=False)
        return pos, end, next_start
    pos, end, next_start = _memo(b, ("follow_up", family, tuple(last_care_types), tuple(new_care_types)), build)
    parts = []
    windows = [(entry.window_setting, "")]
    if entry.extra_window_setting:
        months = int(getattr(b.settings, entry.extra_window_setting))
        windows.append((entry.extra_window_setting, f"window:{months}"))
    for setting, category in windows:
        limit, excluded = b.window_passed_limit(end, int(getattr(b.settings, setting)))
        new = (next_start <= limit).astype(float)
        outcome = new if outcome_is_new else 1.0 - new
        parts.append(_part(pos, end, category, np.where(excluded, np.nan, outcome), excluded, unit_kind=UNIT_CLIENT))
    return parts


def _herhaald_beroep(b, entry):
    return _follow_up_episodes(b, entry, "jbjr", ("jb", "jr"), ("jb", "jr"), outcome_is_new=True)


def _geen_nieuwe_start(b, entry):
    return _follow_up_episodes(b, entry, "jeugdhulp", ("jeugdhulp",), ("jeugdhulp",), outcome_is_new=False)


def _geen_nieuwe_maatregel(b, entry):
    """pi08: JB episodes chained on the JB records alone; a new JB measure during a JR is a new measure."""
    return _follow_up_episodes(b, entry, "jb", ("jb",), ("jb",), outcome_is_new=False)


# --- zwaarte vervolghulp ------------------------------------------------------------------------------


def _intensity(b: _Base) -> tuple[np.ndarray, np.ndarray]:
    """Tier (0 jeugdhulp, 1 JB/JR) and level within the care type of every trajectory (-1 for a
    form without a level), mapped on the distinct forms only."""
    def build():
        mapping = {**{f: i for i, f in enumerate(schema.CARE_FORMS["jeugdhulp"])}, **_JB_LEVEL, **_JR_LEVEL}
        codes, uniques = _factor(b.t["care_form"])
        table = np.array([mapping.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
        return (b.care > 0).astype(np.int64), table[codes]  # code -1 (missing) picks the trailing -1
    return _memo(b, "intensity", build)


def compare_intensity(care_a, tier_a, level_a, care_b, tier_b, level_b) -> np.ndarray:
    """``lighter`` / ``equal`` / ``heavier``: b (the follow-up) against a, vectorised.

    Any JB/JR measure is heavier than jeugdhulp; within jeugdhulp the contract's order (ambulant <
    daghulp < pleegzorg < verblijf); within JB vOTS = OTS < voogdij; within JR tb_vrijwillig <
    tb_gedwongen = stp = gbm = jr_overig < itb_harde_kern = itb_criem; a JB against a JR measure is
    ``equal`` (no national ordering between protection and probation).
    """
    s = _compare_codes(care_a, tier_a, level_a, care_b, tier_b, level_b)
    return np.array(["lighter", "equal", "heavier"], dtype=object)[s + 1]


def _compare_codes(care_a, tier_a, level_a, care_b, tier_b, level_b) -> np.ndarray:
    """:func:`compare_intensity` as -1 (lighter), 0 (equal), 1 (heavier)."""
    cmp_tier = np.sign(tier_b - tier_a)
    cmp_level = np.where(care_a == care_b, np.sign(level_b - level_a), 0)
    return np.where(cmp_tier != 0, cmp_tier, cmp_level)


def _distribution_codes(b: _Base, pos: np.ndarray, family: str, codes: np.ndarray, names: Sequence[str],
                        excluded=None) -> _Part:
    """:func:`_distribution` of the values ``names[codes]`` (no missing values), on integer codes:
    the categories are the present names, sorted (as a Categorical of the text values has them)."""
    names = list(names)
    present = np.flatnonzero(np.bincount(codes, minlength=len(names))) if len(codes) else np.array([], int)
    labels = sorted(names[i] for i in present)
    remap = np.array([labels.index(x) if x in labels else -1 for x in names], dtype=np.int64)
    cat_codes = remap[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    categories = [f"{family}:{x}" for x in labels] + [f"{family}:"]
    outcome = np.ones(len(pos))
    if excluded is not None:
        cat_codes = np.where(excluded, len(categories) - 1, cat_codes)
        outcome = np.where(excluded, np.nan, outcome)
    return _plain(b, pos, outcome, excluded, category=pd.Categorical.from_codes(cat_codes, categories=categories))


def _zwaarte_vervolghulp(b, entry):
    pos = _trajectory_unit(b, entry.care_types)
    end = b.end[pos]
    tier, level = _intensity(b)
    # candidates sorted by client, start and heaviest first, so a same-day tie picks the heaviest:
    # one stable argsort of a packed key (client * 2**22 + start offset, then tier and level)
    base = int(b.start.min()) - 2 if b.n else 0
    day_key = b.client * _DAY_KEY + (b.start - base)
    top = int(level.max()) if b.n else 0
    order = _packed_order([day_key, 1 - tier, top - level]) if b.n else np.zeros(0, dtype=np.int64)
    if order is None:
        order = np.lexsort((-level, -tier, b.start, b.client))
    keys = day_key[order]
    del day_key
    q = b.client[pos] * _DAY_KEY + (end - base)
    idx = np.searchsorted(keys, q, side="left")
    # skip the trajectory itself (a one-day trajectory starts on its own end day)
    for _ in range(2):  # at most a couple of steps: only records starting on the end day qualify
        inb = idx < len(order)
        self_hit = inb & (order[np.minimum(idx, len(order) - 1)] == pos)
        idx = np.where(self_hit, idx + 1, idx)
    inb = idx < len(order)
    nxt = np.where(inb, order[np.minimum(idx, len(order) - 1)], -1)
    valid = nxt >= 0
    valid[valid] = b.client[nxt[valid]] == b.client[pos[valid]]
    limit, excluded = b.window_passed_limit(end, entry.window_months(b.settings))
    within = valid & (b.start[np.maximum(nxt, 0)] <= limit)
    n_ = np.maximum(nxt, 0)
    cmp = _compare_codes(b.care[pos], tier[pos], level[pos], b.care[n_], tier[n_], level[n_])
    cls = np.where(within, cmp + 1, 3)  # lighter, equal, heavier, none
    return [_distribution_codes(b, pos, "follow_up", cls, ("lighter", "equal", "heavier", "none"), excluded=excluded)]


_BUILDERS: dict[str, Callable] = {
    "jbjr_verloop": _verloop,
    "jbjr_clientervaring": _experience,
    "jb_afname_ontwikkelingsbedreiging": _afname_ontwikkelingsbedreiging,
    "jr_afname_criminogene_factoren": _afname_criminogeen,
    "jb_acceptatie_hulp": _acceptatie,
    "jbjr_herhaald_beroep": _herhaald_beroep,
    "jh_uitval": _uitval,
    "jh_tevredenheid": _experience,
    "jh_zonder_hulp_verder": _zonder_hulp,
    "jh_geen_nieuwe_start": _geen_nieuwe_start,
    "jh_afname_problematiek": _afname_problematiek,
    "jh_doelrealisatie_gas": _gas,
    "pi01_doelrealisatie": _doelrealisatie,
    "pi02_tevredenheid": _experience,
    "pi03_reden_beeindiging_hulp": _reden_beeindiging_hulp,
    "pi04_vermindering_ernst": _vermindering_ernst,
    "pi05_geen_nieuw_beroep": _geen_nieuwe_start,
    "pi06_zwaarte_vervolghulp": _zwaarte_vervolghulp,
    "pi07_reden_beeindiging_jb": _reden_jb,
    "pi08_geen_nieuwe_maatregel": _geen_nieuwe_maatregel,
    "pi09_reden_beeindiging_jr": _reden_jr,
    "pi10_geen_recidive": _recidive,
}
#: the indicators :func:`compute` computes by default (context items are computed by ``context``).
COMPUTABLE = tuple(_BUILDERS)


def _units(b: _Base, entry: registry.Entry) -> tuple[list[_Part], pd.Categorical]:
    """The unit rows of one indicator (parts of plain arrays, see :class:`_Part`) and their category."""
    builder = _BUILDERS.get(entry.id)
    if builder is None:
        raise IndicatorError(
            f"indicator {entry.id!r} is a context item ({entry.kind}); compute it with "
            f"outcome_analysis.context.compute_context; indicators computes {', '.join(COMPUTABLE)}"
        )
    parts = [p for p in builder(b, entry) if len(p)]
    if not parts:
        parts = [_part([], [], "", [])]
    category = union_categoricals([p.category for p in parts])
    return parts, category


def _frame(parts: Sequence[_Part], keep: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The numeric unit columns of ``parts`` (for :func:`_materialize`)."""
    return {"pos": _column(parts, "pos", keep), "unit_pos": _column(parts, "unit_pos", keep),
            "unit_kind": _column(parts, "unit_kind", keep), "anchor_days": _column(parts, "anchor", keep),
            "outcome": _column(parts, "outcome", keep), "excluded_window": _column(parts, "excluded", keep),
            "baseline": _column(parts, "baseline", keep), "change": _column(parts, "change", keep)}


def _period_column(b: _Base, anchor_days: np.ndarray) -> pd.Series:
    """:func:`periods.period_of` of the anchor days, labels built once per distinct period."""
    codes, labels = b.period_codes(anchor_days)
    values = pd.array(list(labels), dtype=pd.StringDtype()).take(codes, allow_fill=True)
    return pd.Series(values)


def _materialize(b: _Base, frame: dict[str, np.ndarray], category: pd.Categorical) -> pd.DataFrame:
    """The public records frame (text columns taken from the trajectories by position)."""
    t = b.t
    pos = frame["pos"]
    kind = frame["unit_kind"]
    upos = frame["unit_pos"]

    def take(col: str, where=pos) -> pd.Series:
        return t[col].take(where).reset_index(drop=True)

    unit = take("trajectory_id", np.where(kind == UNIT_TRAJECTORY, upos, pos)).astype("str")
    if (kind == UNIT_CLIENT).any():
        unit = unit.where(kind != UNIT_CLIENT, take("client_id").astype("str"))
    answers = kind == UNIT_ANSWER
    if answers.any():
        unit[answers] = unit[answers] + "#" + pd.Series(upos[answers], index=unit.index[answers]).astype("str")
    days = frame["anchor_days"]
    anchor = pd.Series(days.astype("datetime64[D]").astype("datetime64[ns]"))
    return pd.DataFrame({
        "unit_id": unit,
        "client_id": take("client_id"),
        "institution": take("institution"),
        "care_type": take("care_type"),
        "care_form": take("care_form"),
        "anchor_date": anchor,
        "period": _period_column(b, days),
        "category": category,
        "outcome": frame["outcome"],
        "excluded_window": frame["excluded_window"],
        "baseline": frame["baseline"],
        "change": frame["change"],
        "complexity": take("complexity"),
        "perspective": take("perspective"),
        "age_group": _age_group(take("start_date"), take("birth_year")),
        "sex": take("sex"),
        "out_of_home": take("out_of_home"),
        "earlier_trajectories": b.earlier_trajectories()[pos],
    })


def _records(b: _Base, entry: registry.Entry) -> pd.DataFrame:
    parts, category = _units(b, entry)
    return _materialize(b, _frame(parts), category)


def records(data: Dataset, indicator: str, granularity: str = "year", settings: Settings | None = None) -> pd.DataFrame:
    """The unit-level frame behind one indicator (never leaves the package).

    Parameters
    ----------
    data : Dataset
        Loaded trajectories (+ goals and experience where the indicator needs them).
    indicator : str
        A registry id (see :data:`COMPUTABLE`).
    granularity : {"year", "half_year"}
        Period labels of ``period``.
    settings : Settings, optional
        Windows, regular ends, GAS and RCI settings; default ``settings.DEFAULT``.

    Returns
    -------
    DataFrame
        One row per counted unit and category:

        - ``unit_id`` (str): trajectory id; for episodes the id of the episode's first trajectory;
          for per-youth indicators the ``client_id``; for answers ``"<trajectory_id>#<row>"``;
        - ``client_id``, ``institution``, ``care_type``, ``care_form``: of the counted record (for
          episodes and youths: the episode's last-ending record);
        - ``anchor_date`` (datetime64), ``period`` (str): end date (or start date, per registry)
          and its period label;
        - ``category`` (categorical of str): ``""`` headline, ``"family:code"`` breakdown rows,
          ``"family:"`` missing/excluded markers of a distribution, ``"window:24"`` second window;
        - ``outcome`` (float): 1/0 for shares, the value for means, 1 for distribution cells;
          NaN when the item is missing **or the window has not passed**;
        - ``excluded_window`` (bool): the follow-up window had not passed at the reference date;
        - ``baseline``, ``change`` (float): for change indicators the start score (ROM start
          T-score, threat_start, LIJ risk 1–3) and the improvement (start − end, positive = better);
        - covariates ``complexity``, ``perspective``, ``age_group`` (``0-3`` … ``18+``, start year −
          birth year of the counted record), ``sex``, ``out_of_home``, ``earlier_trajectories``
          (int: the youth's trajectories of any family that started before the counted one).

    Notes
    -----
    Case-mix models use ``category == ""`` and ``~excluded_window`` rows.  A unit may appear in
    several rows (its headline row and its breakdown rows).

    Examples
    --------
    >>> from outcome_analysis.dataset import Dataset
    >>> t = pd.DataFrame({"trajectory_id": ["t1", "t2"], "client_id": ["k1", "k2"],
    ...     "institution": ["A", "A"], "care_type": ["jeugdhulp"] * 2, "care_form": ["ambulant"] * 2,
    ...     "start_date": pd.to_datetime(["2023-01-01"] * 2), "end_date": pd.to_datetime(["2023-06-01"] * 2),
    ...     "end_reason": ["voortijdig_client", "volgens_plan"], "birth_year": [2010, 2012]})
    >>> t = t.reindex(columns=[c.name for c in schema.TRAJECTORY_COLUMNS]).astype(
    ...     {c.name: c.dtype for c in schema.TRAJECTORY_COLUMNS})
    >>> r = records(Dataset(t, reference_date="2024-12-31"), "jh_uitval")
    >>> r.loc[r["category"] == "", ["unit_id", "outcome"]].values.tolist()
    [['t1', 1.0], ['t2', 0.0]]
    """
    settings = settings or DEFAULT
    entry = registry.get(indicator)
    b = _shared_base(data, granularity, settings)
    try:
        return _records(b, entry)
    finally:
        b.memo.clear()


# ------------------------------------------------------------------------------------------------
# Aggregation
# ------------------------------------------------------------------------------------------------


def _row_types(entry: registry.Entry, categories: pd.Index) -> pd.DataFrame:
    """Per category: family, code, aggregation type and whether it is a second-window headline."""
    if not len(categories):
        return pd.DataFrame({"category": categories, "family": [], "code": [], "type": []})
    fam = pd.Series(categories.astype(str), dtype=object).str.partition(":")
    family, code = fam[0].to_numpy(), fam[2].to_numpy()
    family = np.where(categories == "", "", family)
    types = []
    for f in family:
        if f == "":
            types.append(entry.headline)
        elif f == "window":
            types.append(entry.headline)
        else:
            types.append(entry.breakdowns.get(f))
    return pd.DataFrame({"category": categories, "family": family, "code": code, "type": types})


def _first_appearance(key: np.ndarray, n_keys: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Group number of every row and the distinct keys (non-negative int64).

    When the key space ``n_keys`` is small (a dense table no larger than a few times the rows), the
    groups are numbered in key order by one ``np.bincount`` and a gather (no hashing); otherwise in
    order of first appearance (hash based, the order ``groupby(sort=False)`` gives).  The order of
    the groups never reaches the output: :func:`compute` sorts its rows by their keys, which are
    unique per row.
    """
    if n_keys is not None and n_keys <= max(4 * len(key), 1 << 16):
        counts = np.bincount(key, minlength=n_keys)
        present = counts > 0
        rank = np.cumsum(present) - 1
        return rank[key], np.flatnonzero(present).astype(np.int64)
    inv, uniq = pd.factorize(key, sort=False)
    return inv.astype(np.int64), np.asarray(uniq, dtype=np.int64)


def _sums(inv: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Per-group sums of ``values``: exact integer counting for 0/1 values (``np.bincount``), else
    pandas' compensated group sum (the same numbers as a ``groupby().sum()`` on the same rows)."""
    if not len(values) or np.all((values == 0) | (values == 1)):
        return np.bincount(inv, weights=values, minlength=n_groups)
    return pd.Series(values).groupby(inv, sort=True).sum().reindex(range(n_groups), fill_value=0.0).to_numpy()


def _aggregate(entry: registry.Entry, category: pd.Categorical, keys: list[tuple[str, np.ndarray, object]],
               outcome: np.ndarray, excluded: np.ndarray, unit_key: Callable[[np.ndarray], np.ndarray]) -> pd.DataFrame:
    """Numerators, denominators, missing and excluded counts per key and category, on integer codes.

    ``keys`` are ``(name, codes, labels)`` with codes >= 0 (rows with a missing key are dropped by
    the caller, as ``groupby`` drops them); groups are combined into one int64 per row and counted
    with ``np.bincount``; labels are attached to the few distinct groups only.  Group order is the
    order of first appearance, as ``groupby(sort=False)`` on the records frame gives it.
    ``unit_key(rows)`` gives an integer unit identity for the multi-cell families.
    """
    cats = pd.Index(category.categories)
    ncat = max(len(cats), 1)
    kinds = _row_types(entry, cats)
    unknown = kinds.loc[kinds["type"].isna(), "category"].tolist()
    if unknown:
        raise IndicatorError(f"indicator {entry.id!r}: categories {unknown} have no type in the registry")
    cat = np.asarray(category.codes)
    is_dist_cat = (kinds["type"] == "distribution").to_numpy()
    n = len(cat)
    # one int64 per row: the key codes and the category packed (in place, few temporaries)
    gc = np.zeros(n, dtype=np.int64)
    sizes = []
    for _, codes, labels in keys:
        size = max(len(labels), 1)
        gc *= size
        gc += codes
        sizes.append(size)
    n_groups = int(np.prod(sizes, dtype=np.float64)) if sizes else 1
    gc *= ncat
    gc += cat
    n_keys = n_groups * ncat if n_groups * ncat < (1 << 62) else None

    def key_frame(g: np.ndarray) -> dict:
        cols = {}
        for (name, _, labels), size in zip(reversed(keys), reversed(sizes)):
            cols[name] = pd.Index(labels).take(g % size).to_numpy() if len(g) else np.array([], dtype=object)
            g = g // size
        return {name: cols[name] for name, _, _ in keys}

    def rows_of(mask: np.ndarray):
        """Positions where ``mask`` holds, or ``None`` (= every row, no copies) when it always holds."""
        return None if mask.all() else np.flatnonzero(mask)

    def take(values: np.ndarray, sel):
        return values if sel is None else values[sel]

    out = []
    dist_row = is_dist_cat[cat] if n else np.zeros(0, bool)

    # shares and means (headline and share/mean breakdowns)
    if n and not dist_row.all():
        sel = rows_of(~dist_row)
        o, e = take(outcome, sel), take(excluded, sel)
        nan = np.isnan(o)
        valid = ~(nan | e)
        missing = nan & ~e
        del nan
        inv, uniq = _first_appearance(take(gc, sel), n_keys)
        m = len(uniq)
        num = np.where(valid, o, 0.0)
        del o
        if not len(num) or np.all((num == 0) | (num == 1)):
            numerator = np.bincount(inv, weights=num, minlength=m)
            sq = numerator.copy()  # x**2 == x for 0/1 values: the same exact counts
        else:
            numerator = _sums(inv, m, num)
            sq = _sums(inv, m, num ** 2)
        del num
        out.append(pd.DataFrame({
            **key_frame(uniq // ncat),
            "category": cats.take(uniq % ncat).to_numpy(),
            "denominator": np.bincount(inv, weights=valid, minlength=m).astype(np.int64),
            "numerator": numerator,
            "sq": sq,
            "missing": np.bincount(inv, weights=missing, minlength=m).astype(np.int64),
            "excluded_window": np.bincount(inv, weights=e, minlength=m).astype(np.int64),
        }))
        del inv, valid, missing, e

    # distributions
    if n and dist_row.any():
        sel = rows_of(dist_row)
        families = pd.Index(kinds["family"].to_numpy())
        fam_codes, fam_names = pd.factorize(families)
        nfam = max(len(fam_names), 1)
        multi_fam = np.isin(np.asarray(fam_names, dtype=object), list(MULTI_FAMILIES))
        o, e, k = take(outcome, sel), take(excluded, sel), take(gc, sel)
        nan = np.isnan(o)
        valid = ~(nan | e)
        missing = nan & ~e
        del nan, o
        c = k % ncat
        g = k // ncat
        fam = fam_codes[c]
        del c
        # cells: valid units per key and category
        inv, uniq = _first_appearance(k[valid], n_keys)
        del k
        cells = pd.DataFrame({
            **key_frame(uniq // ncat),
            "category": cats.take(uniq % ncat).to_numpy(),
            "numerator": np.bincount(inv, minlength=len(uniq)).astype(float),
        })
        del inv
        # totals per key and family; a unit counts once per family where cells may overlap
        gf = g * nfam + fam
        del g
        multi = multi_fam[fam]
        if multi.any():
            counted = np.ones(len(gf), bool)
            rows = np.flatnonzero(multi)
            unit_rows = rows if sel is None else sel[rows]
            dup = pd.DataFrame({"gf": gf[rows], "unit": unit_key(unit_rows), "valid": valid[rows]}).duplicated().to_numpy()
            counted[rows[dup]] = False
            gf, valid, missing, e = gf[counted], valid[counted], missing[counted], e[counted]
        del multi, fam
        tinv, tkeys = _first_appearance(gf, n_groups * nfam if n_groups * nfam < (1 << 62) else None)
        del gf
        mt = len(tkeys)
        tsort = np.argsort(tkeys)
        tot_valid = np.bincount(tinv, weights=valid, minlength=mt).astype(np.int64)
        tot_missing = np.bincount(tinv, weights=missing, minlength=mt).astype(np.int64)
        tot_excl = np.bincount(tinv, weights=e, minlength=mt).astype(np.int64)
        del tinv, valid, missing, e
        where = tsort[np.searchsorted(tkeys[tsort], (uniq // ncat) * nfam + fam_codes[uniq % ncat])]
        cells["denominator"] = tot_valid[where]
        cells["missing"] = tot_missing[where]
        cells["excluded_window"] = tot_excl[where]
        cells["sq"] = np.nan
        out.append(cells)
        if entry.headline is None:
            out.append(_empty_distribution_rows(tkeys // nfam, tot_valid, tot_missing, tot_excl, key_frame))
    if not out:
        return pd.DataFrame(columns=[k for k, _, _ in keys] + ["category", "denominator", "numerator", "sq",
                                                               "missing", "excluded_window"])
    res = pd.concat(out, ignore_index=True)
    res["category"] = res["category"].astype(str)
    return res


def _empty_distribution_rows(g: np.ndarray, valid: np.ndarray, missing: np.ndarray, excluded: np.ndarray,
                             key_frame: Callable) -> pd.DataFrame:
    """Rows of category ``""`` for the groups of a distribution-only indicator (no headline) that have
    no cell at all: every unit's window still open or its item missing.

    Without them such a group would vanish from the output and with it the number left out
    (indicators.md: "the output carries window_months and excluded_window").  The row has
    ``numerator = denominator = 0`` (value NaN, so it is always suppressed) and carries ``missing``
    and ``excluded_window`` of the group (the largest over its families, were there several).
    """
    per = pd.DataFrame({"g": g, "valid": valid, "missing": missing, "excluded": excluded}).groupby("g", sort=False).agg(
        valid=("valid", "sum"), missing=("missing", "max"), excluded=("excluded", "max"))
    per = per[per["valid"] == 0]
    groups = per.index.to_numpy(dtype=np.int64)
    return pd.DataFrame({
        **key_frame(groups),
        "category": np.full(len(groups), "", dtype=object),
        "numerator": np.zeros(len(groups)),
        "denominator": np.zeros(len(groups), dtype=np.int64),
        "missing": per["missing"].to_numpy(dtype=np.int64),
        "excluded_window": per["excluded"].to_numpy(dtype=np.int64),
        "sq": np.full(len(groups), np.nan),
    })


def _finish(res: pd.DataFrame, entry: registry.Entry, settings: Settings) -> pd.DataFrame:
    kinds = _row_types(entry, pd.Index(res["category"].unique()))
    info = res[["category"]].merge(kinds, on="category", how="left")
    rtype, family, code = info["type"].to_numpy(), info["family"].to_numpy(), info["code"].to_numpy()
    n = res["denominator"].to_numpy().astype(float)
    x = res["numerator"].to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(n > 0, x / n, np.nan)
        var = np.where(n > 1, (res["sq"].to_numpy() - n * value**2) / (n - 1), np.nan)
    sd = np.sqrt(np.clip(var, 0, None))
    is_mean = rtype == "mean"
    p_low, p_high = stats.proportion_ci(np.where(is_mean, 0, x), n, settings.conf, settings.ci_method)
    m_low, m_high = stats.mean_ci(np.where(is_mean, value, 0), np.where(is_mean, sd, 0), n, settings.conf)
    window = entry.window_months(settings)
    months = np.full(len(res), np.nan if window is None else window, dtype=float)
    second = family == "window"
    if second.any():
        months[second] = code[second].astype(float)
    category = np.where(second, "", res["category"].to_numpy().astype(object))
    res = res.assign(
        indicator=entry.id, category=category, value=value,
        ci_low=np.where(is_mean, m_low, p_low), ci_high=np.where(is_mean, m_high, p_high),
        window_months=pd.array(months, dtype="Int64") if True else None,
        _family=np.where(rtype == "distribution", family, ""),
    )
    return res


def compute(
    data: Dataset,
    indicators: Sequence[str] | str | None = None,
    granularity: str = "year",
    by: Sequence[str] = ("institution",),
    settings: Settings | None = None,
    periods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """All indicators for every institution (and nationally), period and care type, in one tidy table.

    Parameters
    ----------
    data : Dataset
        Loaded and validated data.
    indicators : list of str or str, optional
        Registry ids; default every outcome indicator (:data:`COMPUTABLE`; context items are
        computed by ``outcome_analysis.context``).
    granularity : {"year", "half_year"}
        Year or half-year periods.
    by : sequence of str
        ``("institution",)`` (default) gives institution rows beside the national rows; ``()``
        only national rows.
    settings : Settings, optional
        Windows, regular ends, GAS/RCI settings, ``conf``, ``ci_method`` and disclosure thresholds.
    periods : list of str, optional
        Keep only these period labels.

    Returns
    -------
    DataFrame
        Columns, in this order:

        - ``indicator`` (registry id), ``scope`` (``institution`` | ``national``),
          ``institution`` (``""`` for national), ``period``, ``care_type``;
        - ``category``: ``""`` for the headline, ``"family:code"`` for breakdowns (e.g.
          ``informant:ouder``, ``end_reason:onbekend``, ``follow_up:heavier``, ``mean_change:``);
        - ``numerator`` (float): units with the outcome, units in the cell, or the sum of the values
          for means; ``denominator`` (int): units counted (outcome known, window passed); for
          distributions the units in the distribution;
        - ``value``: ``numerator / denominator`` (the share or the mean);
        - ``ci_low``, ``ci_high``: Wilson (or exact, ``settings.ci_method``) interval via
          :func:`stats.proportion_ci` for shares and cells, t-interval via :func:`stats.mean_ci`
          for means;
        - ``missing`` (int): units with the item not filled in (``onbekend`` end reasons for
          uitval and regular-end shares, instruments not in the table for ROM);
        - ``window_months`` (Int64, NA without a window) and ``excluded_window`` (int): units left
          out because end + window is after ``data.reference_date``;
        - ``suppressed`` (bool): set by :func:`disclosure.suppress` (shares: denominator below
          ``min_denominator``; distribution cells: also counts below ``min_count`` and
          complementary cells). The numbers stay in the frame; the report hides them.

    Notes
    -----
    Decisions where indicators.md leaves a choice open:

    - shares with ``onbekend`` as a reason (uitval, pi03 volgens plan, regular end) count it as
      ``missing``; ``overleden`` is left out of the regular-end headline entirely (neither in the
      denominator nor missing) and appears in the ``end_reason:`` distribution;
    - jbjr_verloop and pi09 count ended JB/JR **episodes** (the JB+JR family) by the care type of
      their last record; pi09 has no headline (a pure distribution); pi06 has no headline either;
    - pi07 and pi08 chain the **JB records on their own** (a JB-only family): vOTS→OTS,
      OTS→voogdij and transfers between GIs are continuations, but a JR measure neither continues
      nor ends a JB episode, so an OTS that ends while a JR runs is counted (pi07, pi08) and a new
      JB measure that starts during a JR is a new measure (pi08).  pi07's ``transition:jb_jr_concurrent``
      says a JR measure of the same youth ran at some time during the JB episode.  Herhaald beroep
      and jbjr_verloop keep the JB+JR family, so pi07 for JB is no longer jbjr_verloop's JB rows;
      likewise pi09 chains the **JR records on their own**, so a JR measure that ends while a JB
      measure runs is counted with its end reason;
    - ``transition:transfer_gi`` is a hand-over: a record at another institution starting after
      every earlier record of the episode ended (see :func:`episodes.chain`), not concurrent care;
    - per-youth indicators (herhaald beroep, geen nieuwe start, pi05, pi08): institution rows keep
      each youth's last episode that ended at that institution in the period; national rows keep
      the youth's last one overall (a second pass over the same records); a youth whose last
      episode's window has not passed is excluded (no fall-back to an earlier episode);
    - herhaald beroep: a new start is the first JB/JR record starting after the episode's end and
      at most ``window`` months after it; pi08: the first JB record;
    - pi06 ordering: see :func:`compare_intensity`; the next trajectory is the first of the same
      youth starting on or after the end, within the window (same-day ties: the heaviest).  Care
      that started **before** the end is concurrent care, not follow-up care: an ambulant trajectory
      ending while a placement that began a month earlier still runs has follow-up ``none``;
    - a group of a distribution-only indicator (pi06, pi09) with no cell at all (every unit's window
      open, or its item missing) keeps one row of category ``""`` with ``numerator = denominator =
      0``, value NaN, ``suppressed`` True, carrying ``missing`` and ``excluded_window``; shares
      (herhaald beroep, pi05, pi08, pi10, ...) always keep their headline row with denominator 0;
    - suppression is marked after the final sort, by :func:`resuppress`'s rules, so ties for the
      complementary cell fall on the first row in output order;
    - means: ``numerator`` is the sum of the values so ``value = numerator / denominator``;
    - transition and issue cells may overlap (an episode can have several transitions): their
      denominator is the number of distinct units, ``transition:none`` the episodes without any;
    - experience answers are counted for ended trajectories, by the end period; professionals'
      answers appear only as ``informant:professional``.

    Examples
    --------
    >>> from outcome_analysis.dataset import Dataset
    >>> t = pd.DataFrame({"trajectory_id": [f"t{i}" for i in range(12)],
    ...     "client_id": [f"k{i}" for i in range(12)], "institution": ["A"] * 12,
    ...     "care_type": ["jeugdhulp"] * 12, "care_form": ["ambulant"] * 12,
    ...     "start_date": pd.to_datetime(["2023-01-01"] * 12), "end_date": pd.to_datetime(["2023-06-01"] * 12),
    ...     "end_reason": ["voortijdig_client"] * 3 + ["volgens_plan"] * 9, "birth_year": [2010] * 12})
    >>> t = t.reindex(columns=[c.name for c in schema.TRAJECTORY_COLUMNS]).astype(
    ...     {c.name: c.dtype for c in schema.TRAJECTORY_COLUMNS})
    >>> out = compute(Dataset(t, reference_date="2024-12-31"), "jh_uitval")
    >>> out.loc[out["category"] == "", ["scope", "numerator", "denominator", "value", "suppressed"]].values.tolist()
    [['institution', 3.0, 12, 0.25, False], ['national', 3.0, 12, 0.25, False]]
    """
    settings = settings or DEFAULT
    if indicators is None:
        indicators = list(COMPUTABLE)
    elif isinstance(indicators, str):
        indicators = [indicators]
    entries = [registry.get(i) for i in indicators]
    by = list(by)
    b = _shared_base(data, granularity, settings)
    pieces = []
    try:
        for entry in entries:  # a loop over the ~25 indicator ids only
            pieces += _compute_one(b, entry, by, periods, settings)
            _release_arrow_memory()
    finally:
        b.memo.clear()
    if not pieces:
        return _empty_output()
    table = pd.concat(pieces, ignore_index=True)
    table["institution"] = table["institution"].astype(str)
    table["care_type"] = table["care_type"].astype(str)
    table["period"] = table["period"].astype(str)
    table["denominator"] = table["denominator"].astype(np.int64)
    table["missing"] = table["missing"].astype(np.int64)
    table["excluded_window"] = table["excluded_window"].astype(np.int64)
    extra = [c for c in by if c != "institution"]
    table = table.take(_canonical_order(table, extra)).reset_index(drop=True)
    table = _suppress(table, settings, extra)  # after the final sort: see resuppress
    return table[list(OUTPUT_COLUMNS) + extra]


_FAST_KEYS = ("institution", "care_type", "care_form", "client_id", "sex", "complexity", "perspective")


def _compute_one(b: _Base, entry: registry.Entry, by: list[str], periods, settings: Settings) -> list[pd.DataFrame]:
    """Institution (``by``) and national rows of one indicator, aggregated on integer codes.

    Only the columns aggregation needs are concatenated from the builder's parts (position,
    period code, category code, outcome, excluded flag; unit identities only for the overlapping
    families): no records frame, no text columns, unless ``by`` asks for a column that is not a
    trajectory key.
    """
    parts, category = _units(b, entry)
    anchor = _column(parts, "anchor")
    pcodes, plabels = b.period_codes(anchor)
    keep = None
    if periods is not None:
        keep = np.flatnonzero(np.r_[np.isin(plabels, list(periods)), False][pcodes])
        category, pcodes, anchor = category[keep], pcodes[keep], anchor[keep]
    if not len(pcodes):
        return []
    unknown_by = [c for c in by if c not in RECORD_COLUMNS]
    if unknown_by:
        raise IndicatorError(f"by={unknown_by} are not columns of the records; choose from {list(RECORD_COLUMNS)}")
    pos = _column(parts, "pos", keep)
    outcome = _column(parts, "outcome", keep)
    excluded = _column(parts, "excluded", keep)
    if entry.unit != "youth":
        del anchor
    slow = [c for c in by if c not in _FAST_KEYS and c != "period"]
    materialized = _materialize(b, _frame(parts, keep), category) if slow else None
    key_cache: dict = {}

    def key(col: str):
        if col not in key_cache:
            if col == "period":
                key_cache[col] = pcodes, plabels
            elif col in _FAST_KEYS:
                codes, labels = b.codes(col)
                key_cache[col] = codes[pos], labels
            else:
                codes, uniques = pd.factorize(materialized[col])
                key_cache[col] = codes.astype(np.int64), uniques
        return key_cache[col]

    def unit_key(rows: np.ndarray) -> np.ndarray:
        kind = _column(parts, "unit_kind", keep)[rows]
        upos = _column(parts, "unit_pos", keep)[rows]
        p = pos[rows]
        value = np.where(kind == UNIT_TRAJECTORY, b.trajectory_identity(np.where(kind == UNIT_TRAJECTORY, upos, 0)),
                         np.where(kind == UNIT_CLIENT, b.client[p], upos))
        return kind.astype(np.int64) * (1 << 40) + value

    scopes = []
    if by:
        scopes.append(("institution" if by == ["institution"] else "_".join(by), None, by))
    national = None
    if entry.unit == "youth":
        # each youth once per period and category: the last by anchor date (stable)
        cat = np.asarray(category.codes, dtype=np.int64)
        order = np.argsort(anchor, kind="stable")
        del anchor
        k = (b.client[pos] * (len(plabels) + 1) + (pcodes + 1)) * (len(category.categories) + 1) + cat
        ks = k[order]
        del k, cat
        # keep="last": the last occurrence of each key in the sorted order
        rev_first = pd.Series(ks[::-1]).duplicated().to_numpy()[::-1]
        national = order[~rev_first]
        del ks, order, rev_first
    scopes.append(("national", national, []))
    pieces = []
    for scope, rows, keys in scopes:
        names = keys + ["period", "care_type"]
        kc = [(name, *key(name)) for name in names]
        ok = None
        for _, codes, _ in kc:
            sub = codes if rows is None else codes[rows]
            if (sub < 0).any():
                ok = (sub >= 0) if ok is None else ok & (sub >= 0)
        if ok is not None:
            rows = np.flatnonzero(ok) if rows is None else rows[ok]
        if rows is None:  # every row, no copies
            kc_rows, cat_rows, out_rows, exc_rows = kc, category, outcome, excluded
            unit_rows = unit_key
        else:
            kc_rows = [(name, codes[rows], labels) for name, codes, labels in kc]
            cat_rows, out_rows, exc_rows = category[rows], outcome[rows], excluded[rows]
            unit_rows = (lambda r, rows=rows: unit_key(rows[r]))
        res = _aggregate(entry, cat_rows, kc_rows, out_rows, exc_rows, unit_rows)
        del kc_rows, cat_rows, out_rows, exc_rows
        res = _finish(res, entry, settings)
        res["scope"] = scope
        if "institution" not in keys:
            res["institution"] = ""
        pieces.append(res)
    return pieces


_ORDER = {k: i for i, k in enumerate(registry.REGISTRY)}


_SORT_KEYS = ("indicator", "scope", "institution", "period", "care_type")


def _canonical_order(table: pd.DataFrame, extra: Sequence[str] = ()) -> np.ndarray:
    """Positions of ``table``'s rows in the order :func:`compute` returns them: indicator (registry
    order), scope, institution, period, care type, the extra ``by`` keys, window, category (stable)."""
    keys = [*_SORT_KEYS, *extra, "window_months", "category"]
    frame = table[keys].reset_index(drop=True)
    frame = frame.assign(indicator=frame["indicator"].map(_ORDER))
    return frame.sort_values(keys, kind="stable").index.to_numpy()


def _family_of(table: pd.DataFrame) -> np.ndarray:
    """The distribution family of each row (``""`` for shares, means and the empty-group rows), read
    from the registry's ``breakdowns`` on the few distinct (indicator, category) pairs."""
    pairs = table[["indicator", "category"]].drop_duplicates()
    fam = {}
    for ind, cat in pairs.itertuples(index=False):  # a loop over the few (indicator, category) pairs
        family = str(cat).partition(":")[0] if cat else ""
        kind = registry.get(ind).breakdowns.get(family) if family not in ("", "window") else None
        fam[(ind, cat)] = family if kind == "distribution" else ""
    keys = pd.MultiIndex.from_frame(table[["indicator", "category"]])
    return pd.Series(fam).reindex(keys).fillna("").to_numpy(dtype=object)


def _breakdown_keys(table: pd.DataFrame) -> list[str]:
    """The extra ``by`` columns of a :func:`compute` table (record columns that are no output column)."""
    return [c for c in table.columns if c in RECORD_COLUMNS and c not in OUTPUT_COLUMNS]


def _suppress(table: pd.DataFrame, settings: Settings, extra: Sequence[str] = ()) -> pd.DataFrame:
    """Set ``suppressed`` with :func:`disclosure.suppress` (shares and distribution cells apart), on
    the rows in the order given (ties for the complementary cell: the first row in that order)."""
    is_cell = table["_family"].to_numpy() != ""
    out = np.zeros(len(table), bool)
    if (~is_cell).any():
        out[~is_cell] = disclosure.suppress(table[~is_cell], settings, kind="share")["suppressed"].to_numpy()
    if is_cell.any():
        group = [*_SORT_KEYS, *extra, "_family", "window_months"]
        cells = table[is_cell].assign(window_months=table.loc[is_cell, "window_months"].astype("float64").fillna(-1))
        out[is_cell] = disclosure.suppress(cells, settings, kind="count", group=group)["suppressed"].to_numpy()
    return table.assign(suppressed=out)


def resuppress(table: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """Mark ``suppressed`` of a :func:`compute` table again, e.g. under other disclosure thresholds.

    Suppression changes no figure, so a cached table can be re-marked instead of computed again
    (the explorer does this when the user changes ``min_denominator`` or ``min_count``).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`compute` (any thresholds, any row order, extra ``by`` columns allowed).
        Not modified.
    settings : Settings, optional
        The thresholds ``min_denominator`` and ``min_count`` to apply; default ``settings.DEFAULT``.

    Returns
    -------
    DataFrame
        A copy of ``table`` (same rows, same order) whose ``suppressed`` column is exactly what
        :func:`compute` sets under ``settings``; every other column is unchanged.

    Notes
    -----
    The rules are those of :func:`disclosure.suppress`: shares and means (and the empty-group rows
    of distribution-only indicators) with ``kind="share"``, the cells of each distribution (grouped
    by indicator, scope, institution, period, care type, extra ``by`` columns, family and window)
    with ``kind="count"``.  The family of a row is read from the registry's ``breakdowns``.

    Deterministic: the complementary cell of a distribution is its smallest visible cell, ties
    broken by table order; the rows are marked in :func:`compute`'s canonical order (which
    :func:`compute` itself uses: it suppresses after its final sort), whatever the order of
    ``table``, so re-marking a cached table gives the same cells as computing it anew.

    Examples
    --------
    >>> t = pd.DataFrame({"indicator": ["jh_uitval"] * 2, "scope": ["institution"] * 2,
    ...     "institution": ["A", "B"], "period": ["2023"] * 2, "care_type": ["jeugdhulp"] * 2,
    ...     "category": ["", ""], "numerator": [3.0, 4.0], "denominator": [12, 8],
    ...     "window_months": pd.array([pd.NA, pd.NA], dtype="Int64"), "suppressed": [False, True]})
    >>> resuppress(t, DEFAULT.replace(min_denominator=5))["suppressed"].tolist()
    [False, False]
    """
    settings = settings or DEFAULT
    if not len(table):
        return table.copy()
    extra = _breakdown_keys(table)
    order = _canonical_order(table, extra)
    work = table.take(order).reset_index(drop=True)
    work = work.assign(_family=_family_of(work))
    marked = np.empty(len(table), dtype=bool)
    marked[order] = _suppress(work, settings, extra)["suppressed"].to_numpy()
    return table.assign(suppressed=marked)


def _empty_output() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS})


def verloop_profile(data: Dataset, granularity: str = "year", settings: Settings | None = None) -> pd.DataFrame:
    """Duration and waiting-time profile of JB/JR episodes (the non-share part of ``jbjr_verloop``).

    The share with a regular end, the end-reason distribution and the transitions are rows of
    :func:`compute` (``jbjr_verloop``); this function gives the quantities that are not shares.

    Parameters
    ----------
    data : Dataset
    granularity : {"year", "half_year"}
    settings : Settings, optional

    Returns
    -------
    DataFrame
        Columns ``scope`` (``institution`` | ``national``), ``institution`` (``""`` nationally),
        ``period`` (of the episode's end), ``care_type`` (of its last record), ``measure``
        (``duration_days`` of ended episodes: end − start + 1; ``waiting_days``: first contact −
        start of the episode's first record, where ``first_contact_date`` is known), ``n``,
        ``q1``, ``median``, ``q3`` (days).

    Notes
    -----
    Running episodes are not in the duration quartiles (no Kaplan–Meier estimate yet).  Apply
    :func:`disclosure.suppress` with ``numerator = denominator = n`` before showing small groups.

    Examples
    --------
    >>> from outcome_analysis.dataset import Dataset
    >>> t = pd.DataFrame({"trajectory_id": ["a", "b"], "client_id": ["k1", "k2"], "institution": ["GI"] * 2,
    ...     "care_type": ["jb"] * 2, "care_form": ["ots"] * 2,
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
    ...     "end_date": pd.to_datetime(["2024-01-10", "2024-01-30"]), "birth_year": [2010, 2010]})
    >>> t = t.reindex(columns=[c.name for c in schema.TRAJECTORY_COLUMNS]).astype(
    ...     {c.name: c.dtype for c in schema.TRAJECTORY_COLUMNS})
    >>> p = verloop_profile(Dataset(t, reference_date="2024-12-31"))
    >>> r = p[(p["scope"] == "national") & (p["measure"] == "duration_days")].iloc[0]
    >>> int(r["n"]), float(r["median"])
    (2, 20.0)
    """
    settings = settings or DEFAULT
    b = _shared_base(data, granularity, settings)
    idx = _ended_episodes(b, "jbjr", ("jb", "jr"))
    ea = b.family_episodes("jbjr")
    pos, first = ea.record[idx], ea.first_record[idx]
    end = b.end[pos]
    duration = (end - b.start[first] + 1).astype(float)
    contact = episodes_mod.day_numbers(b.t["first_contact_date"])[first]
    waiting = np.where(contact == np.iinfo(np.int64).min, np.nan, contact - b.start[first]).astype(float)
    keys = pd.DataFrame({
        "institution": b.t["institution"].take(pos).reset_index(drop=True).astype(str),
        "period": period_of(pd.Series(end.astype("datetime64[D]")), granularity).astype(str),
        "care_type": b.t["care_type"].take(pos).reset_index(drop=True).astype(str),
    })
    frames = []
    for measure, values in (("duration_days", duration), ("waiting_days", waiting)):
        f = keys.assign(v=values).dropna(subset=["v"])
        if not len(f):
            continue
        for scope, by in (("institution", ["institution", "period", "care_type"]), ("national", ["period", "care_type"])):
            g = f.groupby(by, observed=True)["v"]
            q = g.quantile([0.25, 0.5, 0.75]).unstack()
            q.columns = ["q1", "median", "q3"]
            res = q.join(g.size().rename("n")).reset_index()
            res["scope"], res["measure"] = scope, measure
            if scope == "national":
                res["institution"] = ""
            frames.append(res)
    cols = ["scope", "institution", "period", "care_type", "measure", "n", "q1", "median", "q3"]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]
