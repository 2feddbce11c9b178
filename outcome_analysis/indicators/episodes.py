"""Episodes: a youth's trajectories chained per family (JB+JR one family, jeugdhulp another).

indicators.md, "Episode": sort a youth's records of one family by start; a record joins the current
episode when it starts at most ``settings.continuation_days`` (1) after the **latest end so far** in
that episode (overlaps included); a record with no end keeps the episode open.  vOTS→OTS, OTS→voogdij
and transfers between GIs are therefore continuations, and jeugdhulp beside an OTS never joins the
JB/JR episode.  The institution of an episode is the one where it ended (its last-ending record).

The chaining is vectorised: one lexsort of the whole population, a segmented running maximum of the
end date (``np.maximum.accumulate`` on ``group * 2**22 + end_day``, so no Python loop over youths),
and a new episode wherever ``start > previous running max(end) + continuation_days``.

>>> import pandas as pd
>>> t = pd.DataFrame({
...     "trajectory_id": ["a", "b", "c"], "client_id": ["k1", "k1", "k1"],
...     "institution": ["GI1", "GI2", "GI2"],
...     "care_type": ["jb", "jb", "jb"], "care_form": ["vots", "ots", "ots"],
...     "start_date": pd.to_datetime(["2023-01-01", "2023-03-02", "2024-06-01"]),
...     "end_date": pd.to_datetime(["2023-03-01", "2023-12-31", None]),
...     "end_reason": ["volgens_plan", "niet_verlengd", None]})
>>> ch = chain(t)
>>> ch.record_episode.tolist()
[0, 0, 1]
>>> ch.episodes[["first_trajectory_id", "trajectory_id", "institution", "n_records", "vots_ots"]].values.tolist()
[['a', 'b', 'GI2', 2, True], ['c', 'c', 'GI2', 1, False]]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcome_analysis import settings as settings_mod

FAMILIES = ("jeugdhulp", "jbjr")
TRANSITIONS = (
    "vots_ots",
    "ots_voogdij",
    "voogdij_pleegouder",
    "voogdij_herstel_gezag",
    "transfer_gi",
    "jb_jr_concurrent",
)
OPEN_DAY = 1 << 21  # day offset standing for "no end" (larger than any real day offset)
DAY_SHIFT = 1 << 22  # key = group * DAY_SHIFT + day offset: one sortable integer per (group, day)


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Dates as int64 day numbers since 1970-01-01; NaT becomes ``np.iinfo(int64).min``."""
    values = pd.to_datetime(dates).to_numpy().astype("datetime64[D]")
    return values.view("int64")


def codes_of(series: pd.Series, categories) -> np.ndarray:
    """Integer codes of ``series`` against ``categories`` (-1 for missing or unknown values)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        if list(series.cat.categories) == list(categories):
            return codes
        remap = np.r_[pd.Index(list(categories)).get_indexer(series.cat.categories), -1]
        return remap[codes]  # code -1 (missing) picks the trailing -1
    if isinstance(series, pd.Series) and len(series) > 1000:
        # hash the rows once (Arrow for text), then match the few distinct values
        codes, uniques = pd.factorize(series)
        remap = np.r_[pd.Index(list(categories)).get_indexer(pd.Index(uniques, dtype=object)), -1]
        return remap[codes]
    return pd.Index(list(categories)).get_indexer(series)


@dataclass(frozen=True)
class Chained:
    """Result of :func:`chain`.

    Attributes
    ----------
    record_episode : Series of int64
        Episode id of every trajectory, aligned with the input's index.
    episodes : DataFrame
        One row per episode, see :func:`chain`.
    """

    record_episode: pd.Series
    episodes: pd.DataFrame


@dataclass(frozen=True)
class EpisodeArrays:
    """The episodes of :func:`chain` as plain integer arrays (no text), for the indicator engine.

    Attributes
    ----------
    record_episode : ndarray of int64
        Episode id of every input row (positional).
    family : ndarray of int8
        Per episode: 0 jeugdhulp, 1 jbjr (index into :data:`FAMILIES`).
    record, first_record : ndarray of int64
        Per episode: position of the last-ending record and of the first record.
    n_records : ndarray of int64
    transitions : ndarray of bool, shape (n_episodes, len(TRANSITIONS))
        Columns in the order of :data:`TRANSITIONS`.
    """

    record_episode: np.ndarray
    family: np.ndarray
    record: np.ndarray
    first_record: np.ndarray
    n_records: np.ndarray
    transitions: np.ndarray

    def __len__(self) -> int:
        return len(self.record)


def _sort_order(client: np.ndarray, family: np.ndarray, s_off: np.ndarray, e_off: np.ndarray,
                is_open: np.ndarray) -> np.ndarray:
    """``np.lexsort((e_off, s_off, family, client))``, as one stable argsort of a packed int64 key
    when the value ranges fit in 62 bits (about 4x faster), else the lexsort itself."""
    n = len(client)
    if not n:
        return np.zeros(0, dtype=np.int64)
    top = int(e_off[~is_open].max()) + 1 if (~is_open).any() else 0
    e_key = np.where(is_open, top, e_off)  # "no end" sorts after every real end, as OPEN_DAY does
    bits_e = max(int(top).bit_length(), 1)
    bits_s = max(int(s_off.max()).bit_length(), 1)
    bits_c = max(int(client.max() * 2 + 1).bit_length(), 1)
    if client.min() < 0 or s_off.min() < 0 or e_key.min() < 0 or bits_c + bits_s + bits_e > 62:
        return np.lexsort((e_off, s_off, family, client))
    key = ((client * 2 + family) << (bits_s + bits_e)) | (s_off << bits_e) | e_key
    return np.argsort(key, kind="stable")


#: the column that names the organisation of a record when the ``institution`` column holds another
#: unit (a gemeente or jeugdregio: :mod:`outcome_analysis.running.units`); a hand-over to another GI
#: (``transfer_gi``) compares it, so a transfer stays a transfer in unit results.
PROVIDER_COLUMN = "provider"


def chain_arrays(client: np.ndarray, care: np.ndarray, start: np.ndarray, end: np.ndarray,
                 form: np.ndarray, inst: np.ndarray, reason: np.ndarray,
                 continuation_days: int = 1) -> EpisodeArrays:
    """The chaining of :func:`chain` on integer arrays (one entry per trajectory, positional).

    ``client`` and ``inst`` are any integer codes; ``care`` codes of ``("jeugdhulp", "jb", "jr")``;
    ``start``/``end`` day numbers (:func:`day_numbers`, NaT as ``int64.min``); ``form`` codes of
    ``("vots", "ots", "voogdij")`` (-1 otherwise); ``reason`` codes of ``("naar_pleegouder",
    "herstel_gezag")`` (-1 otherwise).  One lexsort, one segmented running maximum (cummax), no
    loop over youths.
    """
    n = len(client)
    client = np.asarray(client, dtype=np.int64)
    care = np.asarray(care)
    family = (care > 0).astype(np.int8)
    is_open = end == np.iinfo(np.int64).min
    base = int(start.min()) - 2 if n else 0
    s_off = start - base
    e_off = np.where(is_open, OPEN_DAY, end - base)

    order = _sort_order(client, family, s_off, e_off, is_open)
    del is_open
    cs, fs, ss, es = client[order], family[order], s_off[order], e_off[order]
    del family, s_off, e_off
    first = np.ones(n, dtype=bool)
    if n:
        first[1:] = (cs[1:] != cs[:-1]) | (fs[1:] != fs[:-1])
    del cs
    # segmented running maximum of the end: one cummax over group * 2**22 + end (in place)
    shift = np.cumsum(first) - 1
    shift *= DAY_SHIFT
    running_max = shift + es
    np.maximum.accumulate(running_max, out=running_max)
    running_max -= shift
    del shift
    prev_max = np.empty(n, dtype=np.int64)
    if n:
        prev_max[0] = 0
        prev_max[1:] = running_max[:-1]
    new = first | (ss > prev_max + continuation_days)
    del first
    ep_sorted = np.cumsum(new) - 1
    n_ep = int(ep_sorted[-1]) + 1 if n else 0

    record_episode = np.empty(n, dtype=np.int64)
    record_episode[order] = ep_sorted

    # last-ending record of each episode: the last position (in sort order) whose end equals the
    # episode's running max at its last record.
    last_of_ep = np.flatnonzero(np.r_[ep_sorted[1:] != ep_sorted[:-1], True]) if n else np.array([], int)
    ep_end = running_max[last_of_ep]
    del last_of_ep
    idx = np.flatnonzero(es == ep_end[ep_sorted])
    del ep_end
    ep_idx = ep_sorted[idx]
    last_pos = idx[np.r_[ep_idx[1:] != ep_idx[:-1], True]] if len(idx) else idx
    del idx, ep_idx
    last_rec = order[last_pos]
    first_pos = np.flatnonzero(new)
    first_rec = order[first_pos]

    # transitions between consecutive records of an episode (small integer codes in sort order)
    form = np.asarray(form)[order].astype(np.int8)
    inst = np.asarray(inst)[order]
    cts = care[order].astype(np.int8)
    del order
    same = np.zeros(n, dtype=bool)
    if n:
        same[1:] = ~new[1:]
    del new
    cts_prev = np.empty_like(cts)
    if n:
        cts_prev[0] = cts[0]
        cts_prev[1:] = cts[:-1]

    def per_episode(flag: np.ndarray) -> np.ndarray:
        return np.bincount(ep_sorted[flag], minlength=n_ep) > 0

    def followed(a: int, b: int) -> np.ndarray:
        # a record of form a followed (a later start) within the episode by a record of form b
        first_a = np.full(n_ep, np.iinfo(np.int64).max)
        np.minimum.at(first_a, ep_sorted[form == a], ss[form == a])
        last_b = np.full(n_ep, np.iinfo(np.int64).min)
        np.maximum.at(last_b, ep_sorted[form == b], ss[form == b])
        return last_b > first_a

    flags = np.zeros((n_ep, len(TRANSITIONS)), dtype=bool)
    flags[:, 0] = followed(0, 1)
    flags[:, 1] = followed(1, 2)
    reasons = np.asarray(reason)[last_rec]
    voogdij_end = form[last_pos] == 2
    flags[:, 2] = voogdij_end & (reasons == 0)
    flags[:, 3] = voogdij_end & (reasons == 1)
    flags[:, 4] = per_episode(_transfer_in(same, inst, ss, es, running_max, prev_max))
    del inst, running_max
    flags[:, 5] = per_episode(same & (cts > 0) & (cts_prev > 0) & (cts != cts_prev) & (ss <= prev_max))
    return EpisodeArrays(
        record_episode=record_episode, family=fs[first_pos], record=last_rec.astype(np.int64),
        first_record=first_rec.astype(np.int64),
        n_records=np.bincount(ep_sorted, minlength=n_ep).astype(np.int64), transitions=flags,
    )


def _transfer_in(same: np.ndarray, inst: np.ndarray, ss: np.ndarray, es: np.ndarray,
                 running_max: np.ndarray, prev_max: np.ndarray) -> np.ndarray:
    """Per record (sort order): a transfer to another institution starts here.

    A record is a transfer when it continues the episode (``same``), starts **after** every earlier
    record of the episode has ended (``start > latest end so far``; chaining already bounds it by
    ``continuation_days``), and its institution differs from the one the episode was at: that of
    the earlier record with the latest end (ties: the later one in sort order), i.e. where the
    episode would have ended.  A measure that starts while earlier records still run (a JR at GI2
    inside an OTS at GI1, or an overlapping hand-over) is concurrent care, not a transfer.

    The holder of the running maximum is carried forward with one ``np.maximum.accumulate`` of
    positions (the first record of each youth/family run always holds it), no loop.
    """
    n = len(ss)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    holder = np.maximum.accumulate(np.where(es == running_max, np.arange(n), 0))
    inst = np.asarray(inst)
    out[1:] = same[1:] & (ss[1:] > prev_max[1:]) & (inst[1:] != inst[holder[:-1]])
    return out


def chain(trajectories: pd.DataFrame, settings: settings_mod.Settings | None = None) -> Chained:
    """Chain trajectories into episodes per youth and family.

    Parameters
    ----------
    trajectories : DataFrame
        At least ``trajectory_id``, ``client_id``, ``institution``, ``care_type``, ``care_form``,
        ``start_date``, ``end_date``, ``end_reason`` (contract dtypes or plain text/dates).
    settings : Settings, optional
        ``continuation_days`` is used (default 1).

    Returns
    -------
    Chained
        ``record_episode`` (episode id per input row) and ``episodes``, one row per episode with
        columns:

        - ``episode_id`` (int64, 0..n-1, ordered by client, family, start),
        - ``client_id``, ``family`` (``jeugdhulp`` | ``jbjr``),
        - ``start_date`` (earliest start), ``end_date`` (latest end; NaT while any record runs),
        - ``trajectory_id``, ``institution``, ``care_type``, ``care_form``, ``end_reason``: of the
          last-ending record (ties: the one that started last) — the institution of the episode,
        - ``record`` (int64): position of that record in the input frame (for joining covariates),
        - ``first_trajectory_id``: the episode's first record (a stable episode key), and
          ``first_record`` (int64) its position in the input frame,
        - ``n_records`` (int64),
        - transitions (bool): ``vots_ots`` and ``ots_voogdij`` (a record of the first form followed
          within the episode by one starting later of the second), ``voogdij_pleegouder`` and
          ``voogdij_herstel_gezag`` (the episode ended as voogdij with end reason ``naar_pleegouder``
          / ``herstel_gezag``), ``transfer_gi`` (a record starting after every earlier record
          of the episode has ended, at another institution than the one the episode was at: a
          hand-over, not concurrent care; see :func:`_transfer_in`),
          ``jb_jr_concurrent`` (a JB and a JR record overlapping in time).

    Notes
    -----
    Records are sorted by client, family, start and end.  Missing ``start_date`` is not allowed by
    the contract (the loader rejects it).  "Earlier" for transitions means earlier in that sort
    order.  A JR measure at GI2 running inside an OTS at GI1 sets ``jb_jr_concurrent``, not
    ``transfer_gi``; nor does a hand-over where the next institution starts before the previous
    one's records have ended (it is concurrent care), nor an OTS moving from GI1 to GI2 while a JR
    at GI3 still runs (the episode was at GI3).  Chained on the JB records alone (as pi07 does),
    that last move is a transfer.
    """
    settings = settings or settings_mod.DEFAULT
    t = trajectories
    ea = chain_arrays(
        pd.factorize(t["client_id"])[0], codes_of(t["care_type"], ("jeugdhulp", "jb", "jr")),
        day_numbers(t["start_date"]), day_numbers(t["end_date"]),
        codes_of(t["care_form"], ("vots", "ots", "voogdij")), pd.factorize(t[PROVIDER_COLUMN if PROVIDER_COLUMN in t
                                                                            else "institution"])[0],
        codes_of(t["end_reason"], ("naar_pleegouder", "herstel_gezag")), settings.continuation_days)
    return Chained(pd.Series(ea.record_episode, index=t.index, name="episode_id"), episode_frame(t, ea))


def _take(col: pd.Series, where: np.ndarray):
    """``col`` at positions ``where`` without a round trip through Python objects."""
    out = col.take(where).reset_index(drop=True)
    if isinstance(out.dtype, pd.StringDtype):
        return out.astype("str")  # the text dtype of a frame built from Python strings
    if isinstance(out.dtype, pd.CategoricalDtype):
        return out
    return out.to_numpy()


def episode_frame(t: pd.DataFrame, ea: EpisodeArrays) -> pd.DataFrame:
    """The one-row-per-episode frame of :func:`chain` from :class:`EpisodeArrays`."""
    last_rec, first_rec, n_ep = ea.record, ea.first_record, len(ea)
    episodes = pd.DataFrame(
        {
            "episode_id": np.arange(n_ep, dtype=np.int64),
            "client_id": _take(t["client_id"], last_rec),
            "family": pd.Categorical.from_codes(ea.family, categories=list(FAMILIES)),
            "start_date": pd.to_datetime(t["start_date"]).to_numpy()[first_rec],
            "end_date": pd.to_datetime(t["end_date"]).to_numpy()[last_rec],
            "trajectory_id": _take(t["trajectory_id"], last_rec),
            "institution": _take(t["institution"], last_rec),
            "care_type": _take(t["care_type"], last_rec),
            "care_form": _take(t["care_form"], last_rec),
            "end_reason": _take(t["end_reason"], last_rec),
            "record": last_rec,
            "first_trajectory_id": _take(t["trajectory_id"], first_rec),
            "first_record": first_rec,
            "n_records": ea.n_records,
            **{name: ea.transitions[:, j] for j, name in enumerate(TRANSITIONS)},
        }
    )
    for col in ("care_type", "care_form", "end_reason"):
        if isinstance(t[col].dtype, pd.CategoricalDtype):
            episodes[col] = pd.Categorical(episodes[col], dtype=t[col].dtype)
    return episodes
