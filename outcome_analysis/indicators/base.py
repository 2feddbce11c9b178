"""The shared per-trajectory arrays of one computation (:class:`_Base`), the base a call works on
(:func:`_shared_base`: one handed in by the caller, made with :func:`prepare`, or a new one), and the
per-call memo of builder results (:func:`_memo`).

Nothing is kept between calls behind the caller's back: a caller that runs several computations on
one Dataset (``results.compute_results``: the indicator table, the records of the case-mix
indicators and the verloop profile) prepares one base and hands it to each of them."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import episodes as episodes_mod
from outcome_analysis.contract import schema
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.contract.periods import check_granularity
from outcome_analysis.settings import DEFAULT, Settings
from .common import IndicatorError

#: one sortable key per (client, day): ``client * DAY_KEY + day offset`` (the episodes' shift).
DAY_KEY = episodes_mod.DAY_SHIFT


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
    These arrays are built on first use and kept for the life of the base, which is one call unless
    the caller prepared it (:func:`prepare`) and hands it to several. ``memo`` holds builder results
    shared by several indicators of **one** call (:func:`_memo`) and is cleared after each call.
    The base reflects the trajectories as they were when it was made: prepare a new one after
    changing them.
    """

    def __init__(self, data: Dataset, granularity: str, settings: Settings):
        self._data = data
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
        """The Dataset (goals and experience are read from it at every call)."""
        return self._data

    @property
    def episodes(self) -> episodes_mod.EpisodeArrays:
        """Episodes as integer arrays (one lexsort + cummax over the whole population)."""
        if self._episodes is None:
            t = self.t
            self._episodes = episodes_mod.chain_arrays(
                self.client, self.care, self.start, self.end,
                episodes_mod.codes_of(t["care_form"], ("vots", "ots", "voogdij")), self._organisation_codes(),
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

    def _organisation_codes(self) -> np.ndarray:
        """Codes of the organisation each record is at, for a hand-over between GIs: the
        ``provider`` column when the ``institution`` column holds another unit (gemeente, jeugdregio;
        :data:`episodes.PROVIDER_COLUMN`), else the institution."""
        column = episodes_mod.PROVIDER_COLUMN if episodes_mod.PROVIDER_COLUMN in self.t.columns else "institution"
        return self.codes(column)[0]

    def _chain_rows(self, rows: np.ndarray) -> episodes_mod.EpisodeArrays:
        """:func:`episodes.chain_arrays` on the trajectories at positions ``rows`` only."""
        t = self.t
        sub = lambda col, cats: episodes_mod.codes_of(t[col].take(rows), cats)  # noqa: E731
        return episodes_mod.chain_arrays(
            self.client[rows], self.care[rows], self.start[rows], self.end[rows],
            sub("care_form", ("vots", "ots", "voogdij")), self._organisation_codes()[rows],
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
        open_day = episodes_mod.OPEN_DAY
        jr = jr[np.lexsort((self.start[jr], self.client[jr]))]
        c = self.client[jr]
        group = np.cumsum(np.r_[True, c[1:] != c[:-1]]) - 1
        jr_end = np.where(self.ended[jr], self.end[jr] - base, open_day)
        run_end = np.maximum.accumulate(group * episodes_mod.DAY_SHIFT + jr_end) - group * episodes_mod.DAY_SHIFT
        keys = c * DAY_KEY + (self.start[jr] - base)
        ep_end = np.where(self.ended[record], self.end[record] - base, open_day)
        q = self.client[record] * DAY_KEY + np.minimum(ep_end, DAY_KEY - 1)
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
        """``build()`` once for the life of this base (unlike :attr:`memo`, kept across the calls a
        prepared base is handed to).

        Only for results that depend on nothing but the trajectories and the settings of this base.
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


def prepare(data: Dataset, granularity: str = "year", settings: Settings | None = None) -> _Base:
    """The shared per-trajectory arrays of ``data`` (factorised keys, episodes, earlier
    trajectories, ...), for handing to several computations in place of the Dataset.

    :func:`compute`, :func:`records` and :func:`verloop_profile` accept the result as their
    ``data``; each call then reuses the arrays the earlier ones built instead of building its own.
    Pass the same ``granularity`` and ``settings`` to every call (another raises
    :class:`IndicatorError`). The arrays reflect the trajectories at this moment: prepare again
    after changing them. Holding it keeps the Dataset and the arrays in memory (a few tens of
    bytes per trajectory); nothing else keeps them.

    >>> t = schema.frame("trajectories", [{"trajectory_id": "t1", "client_id": "k1", "institution": "A",
    ...     "care_type": "jeugdhulp", "care_form": "ambulant", "start_date": "2023-01-01",
    ...     "end_date": "2023-06-01", "end_reason": "volgens_plan", "birth_year": 2010}])
    >>> b = prepare(Dataset(t, reference_date="2024-12-31"), "year", DEFAULT)
    >>> _shared_base(b, "year", DEFAULT) is b
    True
    """
    base = _Base(data, granularity, DEFAULT if settings is None else settings)
    _release_arrow_memory()
    return base


def _shared_base(data: Dataset | _Base, granularity: str, settings: Settings) -> _Base:
    """The base one call works on: ``data`` itself when the caller handed a prepared one
    (:func:`prepare`), checked against the call's ``granularity`` and ``settings``; otherwise a new
    one for this call only (dropped with it)."""
    if isinstance(data, _Base):
        if data.granularity != check_granularity(granularity) or data.settings != settings:
            raise IndicatorError(
                f"this prepared base is for granularity {data.granularity!r} and its own settings; the call "
                f"asks for granularity {granularity!r}{'' if data.settings == settings else ' and other settings'}: "
                f"prepare one with those")
        return data
    return prepare(data, granularity, settings)


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
    """``build()`` once per call of :func:`compute` / :func:`records`: unit rows that several
    indicators of one call are built from (the ended-episode candidates and their follow-up, the
    intensity order, the experience rows, the threat, risk and ROM parts). Cleared when the call ends."""
    if key not in b.memo:
        b.memo[key] = build()
    return b.memo[key]
