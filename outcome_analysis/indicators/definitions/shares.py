"""Trajectory shares: uitval, reden beëindiging, zonder hulp verder, doelrealisatie, acceptatie and
recidive (one row per ended trajectory)."""
from __future__ import annotations

import numpy as np

from outcome_analysis.contract import schema
from outcome_analysis.indicators.base import _Base
from outcome_analysis.indicators.builders import builder
from outcome_analysis.indicators.helpers import _bool_float, _codes_float, _distribution, _plain, _trajectory_unit
from outcome_analysis.indicators.parts import _Part


def _end_reason_share(b: _Base, care_types, positive, family=True) -> list[_Part]:
    """Share of ``positive`` end reasons among known reasons (``onbekend`` = missing) + distribution."""
    pos = _trajectory_unit(b, care_types)
    reason = b.t["end_reason"].iloc[pos]
    known = reason.notna().to_numpy() & (reason != "onbekend").fillna(False).to_numpy()
    outcome = np.where(known, reason.isin(list(positive)).to_numpy().astype(float), np.nan)
    return [_plain(b, pos, outcome), _distribution(b, pos, "end_reason", reason)]


@builder("jh_uitval")
def _uitval(b, entry):
    return _end_reason_share(b, entry.care_types, schema.UITVAL_REASONS)


@builder("pi03_reden_beeindiging_hulp")
def _reden_beeindiging_hulp(b, entry):
    return _end_reason_share(b, entry.care_types, ("volgens_plan",))


@builder("jh_zonder_hulp_verder")
def _zonder_hulp(b, entry):
    pos = _trajectory_unit(b, entry.care_types)
    return [_plain(b, pos, _bool_float(b.t["without_help"].iloc[pos]))]


@builder("pi01_doelrealisatie")
def _doelrealisatie(b, entry):
    pos = _trajectory_unit(b, entry.care_types)
    goals = b.t["goals_realised"].iloc[pos]
    return [_plain(b, pos, _codes_float(goals, ("geheel", "grotendeels"))),
            _distribution(b, pos, "goals_realised", goals)]


@builder("jb_acceptatie_hulp")
def _acceptatie(b, entry):
    pos = _trajectory_unit(b, entry.care_types)
    acc = b.t["help_accepted"].iloc[pos]
    return [_plain(b, pos, _codes_float(acc, ("ja",))), _distribution(b, pos, "help_accepted", acc)]


@builder("pi10_geen_recidive")
def _recidive(b, entry):
    pos = _trajectory_unit(b, entry.care_types)
    _, excluded = b.window_passed_limit(b.end[pos], entry.window_months(b.settings))
    outcome = 1.0 - _bool_float(b.t["recidivism"].iloc[pos])
    return [_plain(b, pos, np.where(excluded, np.nan, outcome), excluded)]
