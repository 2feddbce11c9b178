"""Doelrealisatie by Goal Attainment Scaling: GAS T-scores per trajectory and informant."""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcome_analysis.statistics import stats
from outcome_analysis.indicators.base import _Base
from outcome_analysis.indicators.builders import builder
from outcome_analysis.indicators.helpers import _factor, _plain, _positions_of, _trajectory_unit
from outcome_analysis.indicators.parts import _Part


@builder("jh_doelrealisatie_gas")
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
