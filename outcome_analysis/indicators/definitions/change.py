"""Change between start and end: ROM (T-scores, reliable change), ontwikkelingsbedreiging (JB) and
criminogene factoren (JR), and the pooled vermindering ernst."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from outcome_analysis.indicators import episodes as episodes_mod
from outcome_analysis.contract import schema
from outcome_analysis.statistics import stats
from outcome_analysis.indicators.base import _Base, _memo
from outcome_analysis.indicators.builders import builder
from outcome_analysis.indicators.common import DerivedNormWarning, UnknownInstrumentWarning
from outcome_analysis.indicators.helpers import _distribution, _factor, _plain, _trajectory_unit
from outcome_analysis.indicators.parts import _Part


def _threat_parts(b: _Base, care_types=("jb",)) -> list[_Part]:
    pos = _trajectory_unit(b, care_types)
    start = b.t["threat_start"].iloc[pos].astype("float64").to_numpy()
    end = b.t["threat_end"].iloc[pos].astype("float64").to_numpy()
    change = start - end  # positive = the threat decreased
    outcome = np.where(np.isnan(change), np.nan, (change > 0).astype(float))
    return [_plain(b, pos, outcome, baseline=start, change=change),
            _plain(b, pos, change, baseline=start, change=change, category="mean_change:")]


def _risk_parts(b: _Base, care_types=("jr",)) -> list[_Part]:
    pos = _trajectory_unit(b, care_types)
    start = episodes_mod.codes_of(b.t["risk_start"].iloc[pos], schema.RISK_LEVELS).astype(float) + 1
    end = episodes_mod.codes_of(b.t["risk_end"].iloc[pos], schema.RISK_LEVELS).astype(float) + 1
    start[start == 0], end[end == 0] = np.nan, np.nan
    change = start - end
    outcome = np.where(np.isnan(change), np.nan, (change > 0).astype(float))
    return [_plain(b, pos, outcome, baseline=start, change=change),
            _plain(b, pos, change, baseline=start, change=change, category="mean_change:")]


def _rom_parts(b: _Base, care_types=("jeugdhulp",)) -> list[_Part]:
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


@builder("jb_afname_ontwikkelingsbedreiging")
def _afname_ontwikkelingsbedreiging(b, entry):
    return _memo(b, "threat", lambda: _threat_parts(b))


@builder("jr_afname_criminogene_factoren")
def _afname_criminogeen(b, entry):
    return _memo(b, "risk", lambda: _risk_parts(b))


@builder("jh_afname_problematiek")
def _afname_problematiek(b, entry):
    return _memo(b, "rom", lambda: _rom_parts(b))


@builder("pi04_vermindering_ernst")
def _vermindering_ernst(b, entry):
    return (_memo(b, "rom", lambda: _rom_parts(b)) + _memo(b, "threat", lambda: _threat_parts(b))
            + _memo(b, "risk", lambda: _risk_parts(b)))
