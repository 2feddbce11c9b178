"""Data quality: how complete the delivered items are, per institution, period and care type.

The report's data-quality section shows, for the trajectories that ended in the period, how often each
item that feeds an indicator was filled in. A low completeness is a finding in itself (response), and
it says how far an indicator can be trusted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcome_analysis import texts
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.contract.periods import period_of
from outcome_analysis.errors import OutcomeAnalysisError

#: item -> care types it applies to (None: all).  Order is the order of the report table; the labels
#: are in ``data/texts/quality.yaml`` (:func:`item_label`).
ITEMS: dict[str, tuple[str, ...] | None] = {
    "end_reason": None,
    "sex": None,
    "complexity": None,
    "perspective": None,
    "out_of_home": None,
    "goals_realised": ("jeugdhulp",),
    "without_help": ("jeugdhulp",),
    "rom": ("jeugdhulp",),
    "gas": ("jeugdhulp",),
    "registration_date": ("jeugdhulp",),
    "help_accepted": ("jb",),
    "threat": ("jb",),
    "risk": ("jr",),
    "recidivism": ("jr",),
    "first_contact_date": ("jb", "jr"),
    "experience": None,
    "working_alliance": None,
    "chain_cooperation": None,
}

class QualityError(OutcomeAnalysisError, ValueError):
    """An unknown report language or completeness item."""


def item_label(item: str, lang: str = "nl") -> str:
    """Label of a completeness item in Dutch (``nl``) or English (``en``), from ``data/texts/quality.yaml``.

    >>> item_label("sex", "en")
    'sex'
    >>> item_label("sex", "fr")
    Traceback (most recent call last):
    ...
    outcome_analysis.indicators.quality.QualityError: unknown report language 'fr'; use one of ('nl', 'en')
    """
    labels = texts.for_lang("quality", lang, error=QualityError)["items"]
    if item not in labels:
        raise QualityError(f"no label for completeness item {item!r}; there are {list(ITEMS)}")
    return labels[item]


def _isin(ids: pd.Series, values: pd.Series) -> pd.Series:
    """``ids.isin(values)`` with Arrow's hash lookup (pandas' ``isin`` on Arrow strings loops in Python)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        left = ids.array._pa_array if hasattr(ids.array, "_pa_array") else pa.array(ids.astype(object).to_numpy())
        right = values.array._pa_array if hasattr(values.array, "_pa_array") else pa.array(values.astype(object).to_numpy())
        right = pc.drop_null(right.cast(left.type)).unique() if isinstance(right, pa.Array) else \
            pc.drop_null(right.cast(left.type).combine_chunks()).unique()
        hit = pc.is_in(left, value_set=right).fill_null(False)
        return pd.Series(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool), index=ids.index)
    except (ImportError, AttributeError, TypeError, ValueError, NotImplementedError):
        return ids.isin(values)


def _filled(data: Dataset, ended: pd.DataFrame) -> pd.DataFrame:
    """Boolean frame: is each item filled in for each ended trajectory."""
    t = ended
    ids = t["trajectory_id"]
    with_goals = _isin(ids, data.goals["trajectory_id"]) if len(data.goals) else pd.Series(False, index=t.index)
    client_answers = data.experience.loc[data.experience["informant"].isin(["jeugdige", "ouder"]), "trajectory_id"]
    with_experience = _isin(ids, client_answers)
    return pd.DataFrame(
        {
            "end_reason": t["end_reason"].notna() & (t["end_reason"] != "onbekend"),
            "sex": t["sex"].notna(),
            "complexity": t["complexity"].notna(),
            "perspective": t["perspective"].notna(),
            "out_of_home": t["out_of_home"].notna(),
            "goals_realised": t["goals_realised"].notna(),
            "without_help": t["without_help"].notna(),
            "rom": t["rom_instrument"].notna() & t["rom_start"].notna() & t["rom_end"].notna(),
            "gas": with_goals,
            "registration_date": t["registration_date"].notna(),
            "help_accepted": t["help_accepted"].notna(),
            "threat": t["threat_start"].notna() & t["threat_end"].notna(),
            "risk": t["risk_start"].notna() & t["risk_end"].notna(),
            "recidivism": t["recidivism"].notna(),
            "first_contact_date": t["first_contact_date"].notna(),
            "experience": with_experience,
            "working_alliance": t["working_alliance"].notna(),
            "chain_cooperation": t["chain_cooperation"].notna(),
        },
        index=t.index,
    ).astype(bool)


def completeness(data: Dataset, granularity: str = "year") -> pd.DataFrame:
    """Completeness of every indicator item among the trajectories that ended in each period.

    Parameters
    ----------
    data : Dataset
        Loaded trajectory data.
    granularity : {"year", "half_year"}
        Period length.

    Returns
    -------
    DataFrame
        One row per scope, institution, period, care type and item, with columns

        - ``scope``: ``institution`` or ``national`` (``institution`` empty for national rows)
        - ``institution``, ``period``, ``care_type``, ``item``
        - ``denominator``: ended trajectories to which the item applies
        - ``numerator``: of those, with the item filled in
        - ``value``: ``numerator / denominator``
        - ``missing``: ``denominator - numerator``

    Notes
    -----
    Items are counted per ended trajectory (the period anchor of the outcome indicators); an item
    that does not apply to a care type (e.g. ``threat`` for jeugdhulp) gives no row. ``end_reason``
    counts ``onbekend`` as not filled in. ``experience`` counts a trajectory as filled in when a
    youth or parent answered (professionals' answers are not client experience).

    Examples
    --------
    >>> from outcome_analysis.demo import make_demo          # doctest: +SKIP
    >>> completeness(make_demo(scale=0.05)).head()           # doctest: +SKIP
    """
    t = data.trajectories
    needed = ["trajectory_id", "institution", "care_type", "end_date", "end_reason", "sex", "complexity",
              "perspective", "out_of_home", "goals_realised", "without_help", "rom_instrument", "rom_start",
              "rom_end", "registration_date", "help_accepted", "threat_start", "threat_end", "risk_start",
              "risk_end", "recidivism", "first_contact_date", "working_alliance", "chain_cooperation"]
    ended = t[[c for c in needed if c in t.columns]]  # drop unused columns before the row filter
    ended = ended.loc[ended["end_date"].notna()]
    filled = _filled(data, ended)
    # integer keys: institution, period (labels per distinct day) and care type, grouped by bincount
    inst_codes, inst_labels = pd.factorize(ended["institution"].astype("string"), sort=True)
    days = ended["end_date"].to_numpy().astype("datetime64[D]")
    udays, day_inv = np.unique(days, return_inverse=True)
    per_codes, per_labels = pd.factorize(period_of(pd.Series(udays.astype("datetime64[ns]")), granularity), sort=True)
    per_codes = per_codes[day_inv]
    care = ended["care_type"].astype("string")
    care_codes, care_labels = pd.factorize(care, sort=True)
    care_labels = [str(c) for c in care_labels]
    ni, npd, nc = max(len(inst_labels), 1), max(len(per_labels), 1), max(len(care_labels), 1)
    known = (per_codes >= 0) & (care_codes >= 0)

    parts = []
    for item, care_types in ITEMS.items():  # a loop over the 18 items
        applies = known.copy()
        if care_types is not None:
            applies &= np.isin(care_codes, [care_labels.index(c) for c in care_types if c in care_labels])
        x = filled[item].to_numpy()
        for scope, use_inst in (("institution", True), ("national", False)):
            rows = applies & (inst_codes >= 0) if use_inst else applies
            g = per_codes[rows] * nc + care_codes[rows]
            if use_inst:
                g = inst_codes[rows] * (npd * nc) + g
            size = ni * npd * nc if use_inst else npd * nc
            den = np.bincount(g, minlength=size)
            num = np.bincount(g, weights=x[rows], minlength=size)
            hit = np.flatnonzero(den)
            parts.append(pd.DataFrame({
                "institution": pd.array(np.asarray(inst_labels, dtype=object)[hit // (npd * nc)], dtype="string")
                if use_inst else "",
                "period": pd.array(np.asarray(per_labels, dtype=object)[(hit // nc) % npd], dtype="string"),
                "care_type": pd.array(np.asarray(care_labels, dtype=object)[hit % nc], dtype="string"),
                "item": item, "numerator": num[hit], "denominator": den[hit], "scope": scope,
            }))
    out = pd.concat(parts, ignore_index=True)
    out["numerator"] = out["numerator"].astype("int64")
    out["denominator"] = out["denominator"].astype("int64")
    out["value"] = out["numerator"] / out["denominator"]
    out["missing"] = out["denominator"] - out["numerator"]
    order = {item: i for i, item in enumerate(ITEMS)}
    out = out.sort_values(["scope", "institution", "period", "care_type", "item"], key=lambda s: s.map(order) if s.name == "item" else s)
    cols = ["scope", "institution", "period", "care_type", "item", "numerator", "denominator", "value", "missing"]
    return out[cols].reset_index(drop=True)
