"""Audit finding 5 (fixed): a saturated pattern-level logistic fit (fitted = observed per pattern) makes
statsmodels warn 'Perfect separation or prediction detected'; casemix takes that as separation and
falls back to ridge (fit_method 'ridge', odds-ratio intervals NaN, a misleading note)."""
from outcome_analysis import casemix
from toydata import toy_dataset


def T(tid, client, inst, care_type, form, start, end=None, reason=None, **kw):
    return {"trajectory_id": tid, "client_id": client, "institution": inst, "care_type": care_type,
            "care_form": form, "start_date": start, "end_date": end, "end_reason": reason, "birth_year": 2010, **kw}


def test_well_posed_model_is_fitted_by_ml():
    rows = []
    for inst, n_c, n_s in (("A", 40, 20), ("B", 20, 40)):
        rows += [T(f"{inst}c{i}", f"{inst}c{i}", inst, "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01",
                   "voortijdig_client" if i < n_c // 2 else "volgens_plan", complexity="complex") for i in range(n_c)]
        rows += [T(f"{inst}s{i}", f"{inst}s{i}", inst, "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01",
                   "voortijdig_client" if i < n_s // 5 else "volgens_plan", complexity="enkelvoudig") for i in range(n_s)]
    out = casemix.adjust(toy_dataset(rows, reference_date="2025-12-31"), "jh_uitval", period="2024",
                         covariates=["complexity"])
    s = out.attrs["summary"]
    assert s.fit_method == "irls", s.note
    assert s.coefficients["ci_low"].notna().all()
