"""The in-memory form of a delivery: three tables plus where they came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schema


@dataclass
class Dataset:
    """Trajectory data as loaded and validated.

    Attributes
    ----------
    trajectories : DataFrame
        One row per trajectory, the columns of ``schema.TRAJECTORY_COLUMNS`` with their dtypes
        (plus any extra columns the supplier delivered, kept as text).
    goals : DataFrame
        GAS goal scores (long), columns of ``schema.GOAL_COLUMNS``; empty when not delivered.
    experience : DataFrame
        Experience answers (long), columns of ``schema.EXPERIENCE_COLUMNS``; empty when not delivered.
    reference_date : Timestamp
        The delivery's reference date: given by the user, else the latest date in the data.
        Follow-up windows count only records whose window has passed before it.
    sources : list of Path
        The files the tables were read from, in the order they were read.
    warnings : list of str
        Non-fatal remarks from loading (extra columns kept, ended records without a reason, ...).
    meta : dict
        Free-form facts about the data (the demo generator stores its seed and true institution
        effects here).
    origin : DataFrame or None
        Where each trajectory record was read from: indexed by ``trajectory_id`` (unique), columns
        ``file`` (the file name, ``category``) and ``row`` (``int64``, 1-based as a spreadsheet shows
        it: the header is row 1, the first data row 2; the numbers the loader's problems use). A
        record replaced by a later delivery has the later file and its row. Set by
        :func:`~outcome_analysis.contract.io.load`; ``None`` for data made in memory (the demo
        generator, tests). Keyed by ``trajectory_id``, so it stays right for a subset or reordering
        of ``trajectories`` (``dataclasses.replace`` keeps it); read it with :meth:`origin_of`.
    """

    trajectories: pd.DataFrame
    goals: pd.DataFrame = field(default_factory=lambda: schema.empty_frame("goals"))
    experience: pd.DataFrame = field(default_factory=lambda: schema.empty_frame("experience"))
    reference_date: pd.Timestamp | None = None
    sources: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    origin: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.reference_date is None:
            self.reference_date = latest_date(self.trajectories)
        else:
            self.reference_date = pd.Timestamp(self.reference_date)

    @property
    def institutions(self) -> list[str]:
        """The institutions in the data, sorted."""
        return sorted(self.trajectories["institution"].dropna().unique().tolist())

    def origin_of(self, trajectory_ids) -> pd.DataFrame:
        """The file and row each of ``trajectory_ids`` was read from.

        Parameters
        ----------
        trajectory_ids : sequence or Series of str
            Trajectory ids, e.g. ``trajectories["trajectory_id"]``.

        Returns
        -------
        DataFrame
            One row per id, in the given order (a ``RangeIndex``): ``file`` (``category``) and
            ``row`` (``Int64``); both missing for an id :attr:`origin` does not hold, and for every
            id when ``origin`` is ``None``. About a second for a million ids.
        """
        ids = _arrow_text(trajectory_ids)
        if self.origin is None or len(self.origin) == 0 or len(ids) == 0:
            return pd.DataFrame({"file": pd.Categorical([None] * len(ids), categories=[]),
                                 "row": pd.Series(pd.NA, index=range(len(ids)), dtype="Int64")})
        # pyarrow's hash lookup: pandas' get_indexer on a million text ids takes seconds
        position = pc.index_in(ids, value_set=_arrow_text(self.origin.index)).fill_null(-1).to_numpy()
        found = position >= 0
        files = pd.Categorical(self.origin["file"])
        file = pd.Categorical.from_codes(np.where(found, files.codes[position], -1), categories=files.categories)
        row = pd.array(np.where(found, self.origin["row"].to_numpy(dtype=np.int64)[position], 0), dtype="Int64")
        row[~found] = pd.NA
        return pd.DataFrame({"file": file, "row": row})

    def __repr__(self) -> str:
        return (
            f"Dataset({len(self.trajectories):,} trajectories, {len(self.goals):,} goals, "
            f"{len(self.experience):,} experience answers, "
            f"{self.trajectories['institution'].nunique()} institutions, "
            f"reference_date={self.reference_date:%Y-%m-%d})"
        )


def _arrow_text(values) -> pa.Array:
    """``values`` (a Series, Index, array or list of text) as a pyarrow ``large_string`` array."""
    series = values.to_series() if isinstance(values, pd.Index) else values
    if not isinstance(series, pd.Series):
        series = pd.Series(list(series) if not isinstance(series, np.ndarray) else series, dtype=object)
    if not isinstance(series.dtype, pd.StringDtype):
        series = series.astype("string")
    return pa.array(series, from_pandas=True).cast(pa.large_string())


DATE_COLUMNS = tuple(c.name for c in schema.TRAJECTORY_COLUMNS if c.kind == "date")


def latest_date(trajectories: pd.DataFrame) -> pd.Timestamp:
    """The latest date anywhere in the trajectories (the default reference date); today when none."""
    latest = latest_date_or_nat(trajectories)
    return latest.normalize() if pd.notna(latest) else pd.Timestamp.today().normalize()


def latest_date_or_nat(trajectories: pd.DataFrame) -> pd.Timestamp:
    """The latest date in any date column of ``trajectories``; ``NaT`` when it has none.

    One int64 maximum per column (NaT is the smallest int64, so a plain max skips it). The loader
    orders several deliveries by it.
    """
    nat = np.iinfo(np.int64).min
    latest = max(
        (int(trajectories[c].to_numpy(dtype="datetime64[ns]").view(np.int64).max(initial=nat))
         for c in DATE_COLUMNS if c in trajectories.columns),
        default=nat,
    )
    return pd.NaT if latest == nat else pd.Timestamp(latest)
