"""φ, τ² and the overdispersion test for every fitted model of the period, and the verdict read from
its own interval (O/E ∓ z·√(s² + τ²) at the signal limit)."""
from __future__ import annotations

from outcome_analysis.presentation import methods, report

NAME = "overdispersion"


def build(ov) -> list:
    c = methods.notes(ov.lang)["od_cols"]
    table = methods.overdispersion_table(ov.results, ov.period, ov.lang)
    if table.empty:
        return [report.note(methods.no_model_note(ov.results, ov.lang))]
    cols = {"indicator": (c["indicator"], "text"), "care_type": (c["care_type"], "text"),
            "n_institutions": (c["n_institutions"], "int"), "phi": (c["phi"], "number"),
            "tau2": (c["tau2"], "number"), "p_value": (c["p_value"], "number"), "applied": (c["applied"], "text")}
    return [report.display_table(table, cols, ov.lang, decimals=3, settings=ov.settings,
                                 widths=[32, 18, 12, 8, 8, 8, 14]),
            report.note(methods.verdict_note(ov.settings, ov.lang))]
