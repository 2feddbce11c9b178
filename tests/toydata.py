"""Build small hand-countable Datasets in tests, with the contract's dtypes."""
from __future__ import annotations

from outcome_analysis import schema
from outcome_analysis.dataset import Dataset

frame = schema.frame


def toy_dataset(rows, goals=(), experience=(), reference_date=None) -> Dataset:
    """A Dataset from lists of dicts (missing columns empty; dates as ISO strings are fine)."""
    return Dataset(frame("trajectories", rows), frame("goals", goals), frame("experience", experience),
                   reference_date=reference_date)


def trajectory(tid, client, inst, care_type, form, start, end=None, reason=None, **items) -> dict:
    """One trajectories row (birth year 2010 unless given); tests import it as ``T``."""
    return {"trajectory_id": tid, "client_id": client, "institution": inst, "care_type": care_type,
            "care_form": form, "start_date": start, "end_date": end, "end_reason": reason,
            "birth_year": 2010, **items}


def row(out, indicator, category="", scope="national", institution="", period="2024", care_type=None):
    """The one row of an ``indicators.compute`` table for these keys (fails unless exactly one)."""
    sel = ((out["indicator"] == indicator) & (out["scope"] == scope) & (out["institution"] == institution)
           & (out["period"] == period) & (out["category"] == category))
    if care_type is not None:
        sel &= out["care_type"] == care_type
    hit = out[sel]
    assert len(hit) == 1, f"{len(hit)} rows for {indicator} {category!r} {care_type}"
    return hit.iloc[0]


def nd(r):
    """(numerator, denominator, missing) of a compute row, for hand-counted comparisons."""
    return float(r["numerator"]), int(r["denominator"]), int(r["missing"])
