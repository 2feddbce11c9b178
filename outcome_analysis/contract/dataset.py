"""The in-memory form of a delivery: three tables plus where they came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

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
    """

    trajectories: pd.DataFrame
    goals: pd.DataFrame = field(default_factory=lambda: schema.empty_frame("goals"))
    experience: pd.DataFrame = field(default_factory=lambda: schema.empty_frame("experience"))
    reference_date: pd.Timestamp | None = None
    sources: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reference_date is None:
            self.reference_date = latest_date(self.trajectories)
        else:
            self.reference_date = pd.Timestamp(self.reference_date)

    @property
    def institutions(self) -> list[str]:
        """The institutions in the data, sorted."""
        return sorted(self.trajectories["institution"].dropna().unique().tolist())

    def __repr__(self) -> str:
        return (
            f"Dataset({len(self.trajectories):,} trajectories, {len(self.goals):,} goals, "
            f"{len(self.experience):,} experience answers, "
            f"{self.trajectories['institution'].nunique()} institutions, "
            f"reference_date={self.reference_date:%Y-%m-%d})"
        )


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
