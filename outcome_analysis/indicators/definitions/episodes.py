"""Episode indicators: how JB/JR episodes end (verloop, reden beëindiging JB and JR) and what follows
them per youth (herhaald beroep, geen nieuwe start, geen nieuwe maatregel)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcome_analysis.indicators import episodes as episodes_mod
from outcome_analysis.contract import schema
from outcome_analysis.indicators import helpers
from outcome_analysis.indicators.base import DAY_KEY, _Base, _memo
from outcome_analysis.indicators.builders import builder
from outcome_analysis.indicators.common import TRANSITION_NONE
from outcome_analysis.indicators.helpers import _category, _ended_episodes, _factor
from outcome_analysis.indicators.parts import UNIT_CLIENT, _part


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
        if "care_form" in entry.breakdowns:
            # the regular-end share per care form: voogdij ends regularly by definition (every end
            # reason of a guardianship is a regular one), so the report shows (v)OTS and voogdij apart
            keep = ~deceased
            parts.append(_part(pos[keep], anchor[keep], _category("care_form", b.t["care_form"].take(pos[keep])),
                               outcome[keep], unit_pos=unit[keep]))
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


@builder("jbjr_verloop")
def _verloop(b, entry):
    return _episode_end(b, entry)


@builder("pi07_reden_beeindiging_jb")
def _reden_jb(b, entry):
    """pi07: JB episodes chained on the JB records alone (a JR measure neither continues nor ends them)."""
    return _episode_end(b, entry, family="jb")


@builder("pi09_reden_beeindiging_jr")
def _reden_jr(b, entry):
    """pi09: JR episodes chained on the JR records alone (a JB measure neither continues nor ends them)."""
    return _episode_end(b, entry, headline=False, family="jr")


def _candidates_sorted(b: _Base, care_types) -> tuple[np.ndarray, np.ndarray]:
    """The trajectories of ``care_types`` sorted by client and start (stable), and their keys
    ``client * 2**22 + start offset``: one argsort of the packed key (shared within a call)."""
    def build():
        candidates = np.flatnonzero(b.care_mask(care_types))
        base = int(b.start.min()) - 2 if b.n else 0
        keys = b.client[candidates] * DAY_KEY + (b.start[candidates] - base)
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
        keys = b.client[candidates] * DAY_KEY + (b.start[candidates] - base)
        order = np.argsort(keys, kind="stable")  # = lexsort((start, client)): the key is order-preserving
        cand, keys = candidates[order], keys[order]
    q = client * DAY_KEY + (after_day - base)
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
        order = helpers._packed_order([client, inst + 1, period + 1, end - end.min()])
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


@builder("jbjr_herhaald_beroep")
def _herhaald_beroep(b, entry):
    return _follow_up_episodes(b, entry, "jbjr", ("jb", "jr"), ("jb", "jr"), outcome_is_new=True)


@builder("jh_geen_nieuwe_start", "pi05_geen_nieuw_beroep")
def _geen_nieuwe_start(b, entry):
    return _follow_up_episodes(b, entry, "jeugdhulp", ("jeugdhulp",), ("jeugdhulp",), outcome_is_new=False)


@builder("pi08_geen_nieuwe_maatregel")
def _geen_nieuwe_maatregel(b, entry):
    """pi08: JB episodes chained on the JB records alone; a new JB measure during a JR is a new measure."""
    return _follow_up_episodes(b, entry, "jb", ("jb",), ("jb",), outcome_is_new=False)
