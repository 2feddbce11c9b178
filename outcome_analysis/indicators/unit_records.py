"""The unit-level records of one indicator: the builder's parts (looked up by id), concatenated and
materialised with the trajectories' text columns and covariates (:func:`records`)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from . import registry  # noqa: F401 (schema: the examples use it)
from outcome_analysis.contract import schema  # noqa: F401
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.settings import DEFAULT, Settings
from . import definitions  # noqa: F401 (registers the builders)
from .base import _Base, _shared_base
from .builders import builder_of, computable
from .common import AGE_GROUPS, IndicatorError
from .parts import UNIT_ANSWER, UNIT_CLIENT, UNIT_TRAJECTORY, _column, _Part, _part


_AGE_BINS = np.array([3, 11, 15, 17])  # upper bounds (inclusive) of the first four groups


def _age_group(start_date: pd.Series, birth_year: pd.Series) -> pd.Categorical:
    age = start_date.dt.year.astype("float64") - birth_year.astype("float64")
    codes = np.searchsorted(_AGE_BINS, age.to_numpy(), side="left")
    codes = np.where(np.isnan(age.to_numpy()), -1, codes)
    return pd.Categorical.from_codes(codes, categories=list(AGE_GROUPS))


def _units(b: _Base, entry: registry.Entry) -> tuple[list[_Part], pd.Categorical]:
    """The unit rows of one indicator (parts of plain arrays, see :class:`_Part`) and their category."""
    builder = builder_of(entry.id)
    if builder is None:
        raise IndicatorError(
            f"indicator {entry.id!r} is a context item ({entry.kind}); compute it with "
            f"outcome_analysis.indicators.context.compute_context; indicators computes {', '.join(computable())}"
        )
    parts = [p for p in builder(b, entry) if len(p)]
    if not parts:
        parts = [_part([], [], "", [])]
    category = union_categoricals([p.category for p in parts])
    return parts, category


def _frame(parts: Sequence[_Part], keep: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The numeric unit columns of ``parts`` (for :func:`_materialize`)."""
    return {"pos": _column(parts, "pos", keep), "unit_pos": _column(parts, "unit_pos", keep),
            "unit_kind": _column(parts, "unit_kind", keep), "anchor_days": _column(parts, "anchor", keep),
            "outcome": _column(parts, "outcome", keep), "excluded_window": _column(parts, "excluded", keep),
            "baseline": _column(parts, "baseline", keep), "change": _column(parts, "change", keep)}


def _period_column(b: _Base, anchor_days: np.ndarray) -> pd.Series:
    """:func:`periods.period_of` of the anchor days, labels built once per distinct period."""
    codes, labels = b.period_codes(anchor_days)
    values = pd.array(list(labels), dtype=pd.StringDtype()).take(codes, allow_fill=True)
    return pd.Series(values)


def _materialize(b: _Base, frame: dict[str, np.ndarray], category: pd.Categorical) -> pd.DataFrame:
    """The public records frame (text columns taken from the trajectories by position)."""
    t = b.t
    pos = frame["pos"]
    kind = frame["unit_kind"]
    upos = frame["unit_pos"]

    def take(col: str, where=pos) -> pd.Series:
        return t[col].take(where).reset_index(drop=True)

    unit = take("trajectory_id", np.where(kind == UNIT_TRAJECTORY, upos, pos)).astype("str")
    if (kind == UNIT_CLIENT).any():
        unit = unit.where(kind != UNIT_CLIENT, take("client_id").astype("str"))
    answers = kind == UNIT_ANSWER
    if answers.any():
        unit[answers] = unit[answers] + "#" + pd.Series(upos[answers], index=unit.index[answers]).astype("str")
    days = frame["anchor_days"]
    anchor = pd.Series(days.astype("datetime64[D]").astype("datetime64[ns]"))
    return pd.DataFrame({
        "unit_id": unit,
        "client_id": take("client_id"),
        "institution": take("institution"),
        "care_type": take("care_type"),
        "care_form": take("care_form"),
        "anchor_date": anchor,
        "period": _period_column(b, days),
        "category": category,
        "outcome": frame["outcome"],
        "excluded_window": frame["excluded_window"],
        "baseline": frame["baseline"],
        "change": frame["change"],
        "complexity": take("complexity"),
        "perspective": take("perspective"),
        "age_group": _age_group(take("start_date"), take("birth_year")),
        "sex": take("sex"),
        "out_of_home": take("out_of_home"),
        "earlier_trajectories": b.earlier_trajectories()[pos],
    })


def _records(b: _Base, entry: registry.Entry) -> pd.DataFrame:
    parts, category = _units(b, entry)
    return _materialize(b, _frame(parts), category)


def records(data: Dataset | _Base, indicator: str, granularity: str = "year",
            settings: Settings | None = None) -> pd.DataFrame:
    """The unit-level frame behind one indicator (never leaves the package).

    One call builds the indicator's unit rows once (its builder runs once). To have the records of
    several indicators together with their table rows from one build, use :func:`compute`'s
    ``records_to``.

    Parameters
    ----------
    data : Dataset or prepared base
        Loaded trajectories (+ goals and experience where the indicator needs them), or a base made
        by :func:`prepare` with the same ``granularity`` and ``settings``.
    indicator : str
        A registry id (see :data:`COMPUTABLE`).
    granularity : {"year", "half_year"}
        Period labels of ``period``.
    settings : Settings, optional
        Windows, regular ends, GAS and RCI settings; default ``settings.DEFAULT``.

    Returns
    -------
    DataFrame
        One row per counted unit and category:

        - ``unit_id`` (str): trajectory id; for episodes the id of the episode's first trajectory;
          for per-youth indicators the ``client_id``; for answers ``"<trajectory_id>#<row>"``;
        - ``client_id``, ``institution``, ``care_type``, ``care_form``: of the counted record (for
          episodes and youths: the episode's last-ending record);
        - ``anchor_date`` (datetime64), ``period`` (str): end date (or start date, per registry)
          and its period label;
        - ``category`` (categorical of str): ``""`` headline, ``"family:code"`` breakdown rows,
          ``"family:"`` missing/excluded markers of a distribution, ``"window:24"`` second window;
        - ``outcome`` (float): 1/0 for shares, the value for means, 1 for distribution cells;
          NaN when the item is missing **or the window has not passed**;
        - ``excluded_window`` (bool): the follow-up window had not passed at the reference date;
        - ``baseline``, ``change`` (float): for change indicators the start score (ROM start
          T-score, threat_start, LIJ risk 1–3) and the improvement (start − end, positive = better);
        - covariates ``complexity``, ``perspective``, ``age_group`` (``0-3`` … ``18+``, start year −
          birth year of the counted record), ``sex``, ``out_of_home``, ``earlier_trajectories``
          (int: the youth's trajectories of any family that started before the counted one).

    Notes
    -----
    Case-mix models use ``category == ""`` and ``~excluded_window`` rows.  A unit may appear in
    several rows (its headline row and its breakdown rows).

    Examples
    --------
    >>> from outcome_analysis.dataset import Dataset
    >>> t = pd.DataFrame({"trajectory_id": ["t1", "t2"], "client_id": ["k1", "k2"],
    ...     "institution": ["A", "A"], "care_type": ["jeugdhulp"] * 2, "care_form": ["ambulant"] * 2,
    ...     "start_date": pd.to_datetime(["2023-01-01"] * 2), "end_date": pd.to_datetime(["2023-06-01"] * 2),
    ...     "end_reason": ["voortijdig_client", "volgens_plan"], "birth_year": [2010, 2012]})
    >>> t = t.reindex(columns=[c.name for c in schema.TRAJECTORY_COLUMNS]).astype(
    ...     {c.name: c.dtype for c in schema.TRAJECTORY_COLUMNS})
    >>> r = records(Dataset(t, reference_date="2024-12-31"), "jh_uitval")
    >>> r.loc[r["category"] == "", ["unit_id", "outcome"]].values.tolist()
    [['t1', 1.0], ['t2', 0.0]]
    """
    settings = settings or DEFAULT
    entry = registry.get(indicator)
    b = _shared_base(data, granularity, settings)  # handed in, or one for this call
    try:
        return _records(b, entry)
    finally:
        b.memo.clear()
