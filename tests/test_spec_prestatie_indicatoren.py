"""Specification: docs/indicators.md, section "C. Tien prestatie-indicatoren jeugdzorg".

Hand-counted toy data: zwaarte vervolghulp (pi06). The JB-alone / JR-alone chaining of pi07, pi08 and
pi09 and pi06's concurrent-care rule are in ``test_spec_episodes.py``.
"""
from __future__ import annotations

import pytest

from outcome_analysis.indicators import compute
from toydata import nd, row, toy_dataset
from toydata import trajectory as T

REF = "2025-12-31"


# ------------------------------------------------------------------ pi06 zwaarte vervolghulp
# window 3 months; per TRAJECTORY (a change of form inside an episode counts).
# y1: ambulant 2024-01-01..03-31 -> verblijf 2024-05-01 (<= 06-30)         heavier   [jeugdhulp 2024]
#     verblijf ..08-31 -> next ambulant 2024-12-01 (> 11-30)                 none      [jeugdhulp 2024]
#     ambulant 2024-12-01..2025-01-31 -> nothing                             none      [jeugdhulp 2025]
# y2: verblijf ..2024-02-29 -> pleegzorg 03-01 (continuation, other form)    lighter   [jeugdhulp 2024]
#     pleegzorg ..06-30 -> OTS 07-15 (any JB heavier than jeugdhulp)         heavier   [jeugdhulp 2024]
#     OTS ..10-31 -> voogdij 11-01 (voogdij heavier than OTS)                heavier   [jb 2024]
#     voogdij ..2025-10-31: window ends 2026-01-31 > REF                      excluded  [jb 2025]
# y3: daghulp ..04-30 -> daghulp 06-01                                        equal     [jeugdhulp 2024]
#     daghulp ..07-31 -> nothing                                              none      [jeugdhulp 2024]
# y4: OTS 2023-06-01..2024-03-31 -> ambulant 04-10 (jeugdhulp after JB)       lighter   [jb 2024]
#     ambulant ..05-31 -> nothing                                             none      [jeugdhulp 2024]
# jeugdhulp 2024: heavier 2, lighter 1, equal 1, none 3 of 7; jb 2024: heavier 1, lighter 1 of 2;
# jb 2025: excluded 1.
PI06 = [T("y1a", "y1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-03-31", "volgens_plan"),
        T("y1b", "y1", "P", "jeugdhulp", "verblijf", "2024-05-01", "2024-08-31", "volgens_plan"),
        T("y1c", "y1", "P", "jeugdhulp", "ambulant", "2024-12-01", "2025-01-31", "volgens_plan"),
        T("y2a", "y2", "P", "jeugdhulp", "verblijf", "2024-01-01", "2024-02-29", "volgens_plan"),
        T("y2b", "y2", "P", "jeugdhulp", "pleegzorg", "2024-03-01", "2024-06-30", "volgens_plan"),
        T("y2c", "y2", "GI", "jb", "ots", "2024-07-15", "2024-10-31", "gezagsbeeindiging"),
        T("y2d", "y2", "GI", "jb", "voogdij", "2024-11-01", "2025-10-31", "meerderjarig"),
        T("y3a", "y3", "P", "jeugdhulp", "daghulp", "2024-01-01", "2024-04-30", "volgens_plan"),
        T("y3b", "y3", "P", "jeugdhulp", "daghulp", "2024-06-01", "2024-07-31", "volgens_plan"),
        T("y4a", "y4", "GI", "jb", "ots", "2023-06-01", "2024-03-31", "volgens_plan"),
        T("y4b", "y4", "P", "jeugdhulp", "ambulant", "2024-04-10", "2024-05-31", "volgens_plan")]


@pytest.mark.parametrize("care_type, period, category, expected", [
    ("jeugdhulp", "2024", "follow_up:heavier", (2.0, 7)), ("jeugdhulp", "2024", "follow_up:lighter", (1.0, 7)),
    ("jeugdhulp", "2024", "follow_up:equal", (1.0, 7)), ("jeugdhulp", "2024", "follow_up:none", (3.0, 7)),
    ("jb", "2024", "follow_up:heavier", (1.0, 2)), ("jb", "2024", "follow_up:lighter", (1.0, 2)),
    ("jeugdhulp", "2025", "follow_up:none", (1.0, 1)),
])
def test_zwaarte_vervolghulp(care_type, period, category, expected):
    out = compute(toy_dataset(PI06, reference_date=REF), "pi06_zwaarte_vervolghulp")
    assert nd(row(out, "pi06_zwaarte_vervolghulp", category, period=period, care_type=care_type))[:2] == expected


def test_zwaarte_vervolghulp_window_not_passed_is_excluded():
    out = compute(toy_dataset(PI06, reference_date=REF), "pi06_zwaarte_vervolghulp")
    sel = (out["indicator"] == "pi06_zwaarte_vervolghulp") & (out["scope"] == "national") & (out["period"] == "2025") \
        & (out["care_type"] == "jb")
    # the only jb trajectory ending in 2025 (voogdij) has its window open: no cell, or cells with
    # denominator 0 and excluded_window 1
    assert out.loc[sel, "denominator"].sum() == 0
    assert (out.loc[sel, "excluded_window"] <= 1).all()
