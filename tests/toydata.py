"""Build small hand-countable Datasets in tests, with the contract's dtypes."""
from __future__ import annotations

import pandas as pd

from outcome_analysis import schema
from outcome_analysis.dataset import Dataset

DATE_COLUMNS = [c.name for c in schema.TRAJECTORY_COLUMNS if c.kind == "date"]


def frame(table: str, records) -> pd.DataFrame:
    cols = schema.columns(table)
    df = pd.DataFrame(list(records), columns=list(cols))
    for name, col in cols.items():
        if col.kind == "date":
            df[name] = pd.to_datetime(df[name])
    return df.astype({name: col.dtype for name, col in cols.items()})


def toy_dataset(rows, goals=(), experience=(), reference_date=None) -> Dataset:
    """A Dataset from lists of dicts (missing columns empty; dates as ISO strings are fine)."""
    return Dataset(frame("trajectories", rows), frame("goals", goals), frame("experience", experience),
                   reference_date=reference_date)
