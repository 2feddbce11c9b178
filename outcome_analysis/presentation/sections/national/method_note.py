"""About these figures: the short method paragraph of the overview (covariates, limits, disclosure
control) and which parts of the data contract the delivery held."""
from __future__ import annotations

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import overview, report

NAME = "method_note"


def build(ov) -> list:
    from outcome_analysis.presentation.story import contract_items

    lang, results = ov.lang, ov.results
    t = overview.texts_of(lang)
    words = overview.comparator(results, lang)
    cov = ", ".join(registry.covariate_label(c, lang) for c in ov.settings.covariates)
    ref = report.fmt_date(results.meta.get("reference_date", ""), lang)
    n = int(ov.settings.min_denominator)
    if words["scope"] == "none":
        note = t["method_alone"].format(n=n, ref=ref)
    else:
        note = t["method"].format(cov=cov, n=n, ref=ref, share=words["share"], **overview.limit_words(ov.settings, lang),
                                e=report.fmt_number(ov.settings.min_expected, 0, lang))
    return [overview.heading(t["method_h"], 2), report.note(note), *contract_items(results, lang)]
