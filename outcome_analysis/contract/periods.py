"""Reporting periods: a year (``"2024"``) or a half year (``"2024H1"``)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from outcome_analysis.errors import OutcomeAnalysisError

GRANULARITIES = ("year", "half_year")
_PERIOD = re.compile(r"^(\d{4})(?:H([12]))?$")


class PeriodError(OutcomeAnalysisError, ValueError):
    """A period label or granularity that does not parse."""


def check_granularity(granularity: str) -> str:
    if granularity not in GRANULARITIES:
        raise PeriodError(f"granularity must be one of {GRANULARITIES}, got {granularity!r}")
    return granularity


def period_of(dates: pd.Series, granularity: str = "year") -> pd.Series:
    """Period label of each date (vectorised); missing dates give missing labels.

    >>> period_of(pd.Series(pd.to_datetime(["2024-03-01", "2024-07-01", None])), "half_year").tolist()
    ['2024H1', '2024H2', <NA>]
    """
    check_granularity(granularity)
    dates = pd.to_datetime(dates)
    year = dates.dt.year.astype("Int64").astype("string")
    if granularity == "year":
        return year
    half = pd.Series(np.where(dates.dt.month <= 6, "H1", "H2"), index=dates.index, dtype="string")
    out = year + half
    return out.where(dates.notna(), pd.NA)


def parse_period(label: str) -> tuple[pd.Timestamp, pd.Timestamp, str]:
    """First day, last day and granularity of a period label.

    >>> parse_period("2024H2")
    (Timestamp('2024-07-01 00:00:00'), Timestamp('2024-12-31 00:00:00'), 'half_year')
    """
    m = _PERIOD.match(str(label).strip())
    if not m:
        raise PeriodError(f"period {label!r} is not a year like '2024' nor a half year like '2024H1'")
    year, half = int(m.group(1)), m.group(2)
    if half is None:
        return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31), "year"
    if half == "1":
        return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 6, 30), "half_year"
    return pd.Timestamp(year, 7, 1), pd.Timestamp(year, 12, 31), "half_year"


def previous_period(label: str) -> str:
    """The period before ``label`` of the same granularity (``2024`` -> ``2023``, ``2024H1`` -> ``2023H2``)."""
    start, _, granularity = parse_period(label)
    if granularity == "year":
        return str(start.year - 1)
    return f"{start.year - 1}H2" if start.month == 1 else f"{start.year}H1"


def latest_complete_period(reference_date, granularity: str = "year") -> str:
    """The latest period that ended on or before ``reference_date``.

    >>> latest_complete_period("2025-03-31")
    '2024'
    >>> latest_complete_period("2024-12-31")
    '2024'
    >>> latest_complete_period("2025-03-31", "half_year")
    '2024H2'
    """
    check_granularity(granularity)
    ref = pd.Timestamp(reference_date)
    if granularity == "year":
        return str(ref.year if (ref.month, ref.day) == (12, 31) else ref.year - 1)
    if (ref.month, ref.day) == (12, 31):
        return f"{ref.year}H2"
    if ref.month > 6 or (ref.month, ref.day) == (6, 30):
        return f"{ref.year}H1"
    return f"{ref.year - 1}H2"
