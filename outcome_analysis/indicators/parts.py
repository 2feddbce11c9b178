"""Unit rows as plain arrays: what every builder returns (:class:`_Part`, made by :func:`_part`) and
how the engine reads one column of them (:func:`_column`)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


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
