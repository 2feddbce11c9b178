"""Zwaarte vervolghulp: the next trajectory within the window, lighter, equal or heavier."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcome_analysis.contract import schema
from outcome_analysis.indicators import helpers
from outcome_analysis.indicators.base import DAY_KEY, _Base, _memo
from outcome_analysis.indicators.builders import builder
from outcome_analysis.indicators.helpers import _factor, _plain, _trajectory_unit
from outcome_analysis.indicators.parts import _Part


_JR_LEVEL = {"tb_vrijwillig": 0, "tb_gedwongen": 1, "stp": 1, "gbm": 1, "jr_overig": 1,
             "itb_harde_kern": 2, "itb_criem": 2}
_JB_LEVEL = {"vots": 0, "ots": 0, "voogdij": 1}


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


@builder("pi06_zwaarte_vervolghulp")
def _zwaarte_vervolghulp(b, entry):
    pos = _trajectory_unit(b, entry.care_types)
    end = b.end[pos]
    tier, level = _intensity(b)
    # candidates sorted by client, start and heaviest first, so a same-day tie picks the heaviest:
    # one stable argsort of a packed key (client * 2**22 + start offset, then tier and level)
    base = int(b.start.min()) - 2 if b.n else 0
    day_key = b.client * DAY_KEY + (b.start - base)
    top = int(level.max()) if b.n else 0
    order = helpers._packed_order([day_key, 1 - tier, top - level]) if b.n else np.zeros(0, dtype=np.int64)
    if order is None:
        order = np.lexsort((-level, -tier, b.start, b.client))
    keys = day_key[order]
    del day_key
    q = b.client[pos] * DAY_KEY + (end - base)
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
