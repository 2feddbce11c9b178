"""Duration and waiting-time quartiles of JB/JR episodes (:func:`verloop_profile`)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import episodes as episodes_mod  # noqa: F401 (schema: the examples use it)
from outcome_analysis.contract import schema  # noqa: F401
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.contract.periods import period_of
from outcome_analysis.settings import DEFAULT, Settings
from .base import _shared_base
from .helpers import _ended_episodes


def verloop_profile(data: Dataset, granularity: str = "year", settings: Settings | None = None) -> pd.DataFrame:
    """Duration and waiting-time profile of JB/JR episodes (the non-share part of ``jbjr_verloop``).

    The share with a regular end, the end-reason distribution and the transitions are rows of
    :func:`compute` (``jbjr_verloop``); this function gives the quantities that are not shares.

    Parameters
    ----------
    data : Dataset
    granularity : {"year", "half_year"}
    settings : Settings, optional

    Returns
    -------
    DataFrame
        Columns ``scope`` (``institution`` | ``national``), ``institution`` (``""`` nationally),
        ``period`` (of the episode's end), ``care_type`` (of its last record), ``measure``
        (``duration_days`` of ended episodes: end − start + 1; ``waiting_days``: first contact −
        start of the episode's first record, where ``first_contact_date`` is known), ``n``,
        ``q1``, ``median``, ``q3`` (days).

    Notes
    -----
    Running episodes are not in the duration quartiles (no Kaplan–Meier estimate yet).  Apply
    :func:`disclosure.suppress` with ``numerator = denominator = n`` before showing small groups.

    Examples
    --------
    >>> from outcome_analysis.dataset import Dataset
    >>> t = pd.DataFrame({"trajectory_id": ["a", "b"], "client_id": ["k1", "k2"], "institution": ["GI"] * 2,
    ...     "care_type": ["jb"] * 2, "care_form": ["ots"] * 2,
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
    ...     "end_date": pd.to_datetime(["2024-01-10", "2024-01-30"]), "birth_year": [2010, 2010]})
    >>> t = t.reindex(columns=[c.name for c in schema.TRAJECTORY_COLUMNS]).astype(
    ...     {c.name: c.dtype for c in schema.TRAJECTORY_COLUMNS})
    >>> p = verloop_profile(Dataset(t, reference_date="2024-12-31"))
    >>> r = p[(p["scope"] == "national") & (p["measure"] == "duration_days")].iloc[0]
    >>> int(r["n"]), float(r["median"])
    (2, 20.0)
    """
    settings = settings or DEFAULT
    b = _shared_base(data, granularity, settings)
    idx = _ended_episodes(b, "jbjr", ("jb", "jr"))
    ea = b.family_episodes("jbjr")
    pos, first = ea.record[idx], ea.first_record[idx]
    end = b.end[pos]
    duration = (end - b.start[first] + 1).astype(float)
    contact = episodes_mod.day_numbers(b.t["first_contact_date"])[first]
    waiting = np.where(contact == np.iinfo(np.int64).min, np.nan, contact - b.start[first]).astype(float)
    keys = pd.DataFrame({
        "institution": b.t["institution"].take(pos).reset_index(drop=True).astype(str),
        "period": period_of(pd.Series(end.astype("datetime64[D]")), granularity).astype(str),
        "care_type": b.t["care_type"].take(pos).reset_index(drop=True).astype(str),
    })
    frames = []
    for measure, values in (("duration_days", duration), ("waiting_days", waiting)):
        f = keys.assign(v=values).dropna(subset=["v"])
        if not len(f):
            continue
        for scope, by in (("institution", ["institution", "period", "care_type"]), ("national", ["period", "care_type"])):
            g = f.groupby(by, observed=True)["v"]
            q = g.quantile([0.25, 0.5, 0.75]).unstack()
            q.columns = ["q1", "median", "q3"]
            res = q.join(g.size().rename("n")).reset_index()
            res["scope"], res["measure"] = scope, measure
            if scope == "national":
                res["institution"] = ""
            frames.append(res)
    cols = ["scope", "institution", "period", "care_type", "measure", "n", "q1", "median", "q3"]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]
