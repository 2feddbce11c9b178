"""Cliëntervaring / tevredenheid: one row per experience answer of a counted trajectory."""
from __future__ import annotations

import numpy as np

from outcome_analysis.indicators.base import _memo
from outcome_analysis.indicators.builders import builder
from outcome_analysis.indicators.helpers import _bool_float, _category, _positions_of, _trajectory_unit
from outcome_analysis.indicators.parts import UNIT_ANSWER, _part


@builder("jbjr_clientervaring", "jh_tevredenheid", "pi02_tevredenheid")
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
