"""Audit finding 1 (fixed): casemix.national_value (and so adjusted_value = O/E x national) of a per-youth
indicator counted youth x institution pairs, while indicators.md says "the national figure counts each
youth once" and compute() does so."""
import pytest
from outcome_analysis import casemix
from outcome_analysis.indicators import compute
from toydata import toy_dataset


def T(tid, client, inst, care_type, form, start, end=None, reason=None):
    return {"trajectory_id": tid, "client_id": client, "institution": inst, "care_type": care_type,
            "care_form": form, "start_date": start, "end_date": end, "end_reason": reason, "birth_year": 2010}


# k1: episode ends at A 2023-02-01, new measure at B 2023-05-01 (ends 2023-09-01, nothing after)
#     -> A: 1, B: 0; nationally k1's LAST episode (B) -> 0
# k2: episode ends at A 2023-03-01, next measure 2024-06-01 (15 months) -> 0 at 12 months
# national herhaald beroep 2023 (12 m) = 0 / 2 youths.  casemix gives 1 / 3 (k1 counted at A and B).
ROWS = [T("a1", "k1", "A", "jb", "ots", "2022-01-01", "2023-02-01", "volgens_plan"),
        T("b1", "k1", "B", "jb", "ots", "2023-05-01", "2023-09-01", "volgens_plan"),
        T("a2", "k2", "A", "jb", "ots", "2022-01-01", "2023-03-01", "volgens_plan"),
        T("a3", "k2", "A", "jb", "ots", "2024-06-01", "2024-07-01", "volgens_plan")]


def test_casemix_national_value_equals_the_national_figure():
    data = toy_dataset(ROWS, reference_date="2025-12-31")
    out = compute(data, "jbjr_herhaald_beroep")
    nat = out[(out.scope == "national") & (out.period == "2023") & (out.category == "") & (out.window_months == 12)]
    assert (nat.numerator.sum(), nat.denominator.sum()) == (0.0, 2)
    cm = casemix.adjust(data, "jbjr_herhaald_beroep", period="2023")
    assert cm["national_value"].iloc[0] == pytest.approx(0 / 2)
