"""Helpers shared by several indicator definitions (and by :func:`verloop_profile`): the counted
trajectories, headline and distribution parts, factorised codes, packed sorts and id lookups."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcome_analysis.contract import schema
from .base import _Base
from .parts import _Part, _part


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


def _plain(b: _Base, pos: np.ndarray, outcome, excluded=None, baseline=None, change=None, category="") -> _Part:
    return _part(pos, b.end[pos], category, outcome, excluded, baseline, change)


def _distribution(b: _Base, pos: np.ndarray, family: str, values: pd.Series, excluded=None) -> _Part:
    cat = _category(family, values)
    outcome = np.where(values.isna().to_numpy(), np.nan, 1.0)
    if excluded is not None:
        codes = np.where(excluded, list(cat.categories).index(f"{family}:"), cat.codes)
        cat = pd.Categorical.from_codes(codes, categories=cat.categories)
        outcome = np.where(excluded, np.nan, outcome)
    return _plain(b, pos, outcome, excluded, category=cat)


def _factor(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 missing) and uniques (object) of a column: per-value work on the uniques only."""
    codes, uniques = pd.factorize(series)
    return codes, np.asarray(pd.Index(uniques).astype(object), dtype=object)


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


def _ended_episodes(b: _Base, family: str, last_care_types) -> np.ndarray:
    """Indices (into ``b.family_episodes(family)``) of the ended episodes of ``family`` whose last record is of
    ``last_care_types``."""
    rec = b.family_episodes(family).record
    keep = b.ended[rec] & np.isin(b.care[rec], [schema.CARE_TYPES.index(c) for c in last_care_types])
    return np.flatnonzero(keep)
