"""A windowed indicator of the delivery per period (herhaald beroep for JB, else geen nieuwe start,
else herhaald beroep for JR: the first the delivery holds) with the records whose window has not
passed."""
from __future__ import annotations

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import methods, report

NAME = "windows"


def build(ov) -> list:
    lang, results = ov.lang, ov.results
    mt = methods.notes(lang)
    choice = methods.window_choice(results)
    if choice is None:
        return [report.note(mt["no_window"])]
    indicator, care_type, table = choice
    text = mt["window"].format(ind=registry.label(indicator, lang), care=registry.care_type_label(care_type, lang),
                               m=results.window_months(indicator),
                               ref=report.fmt_date(results.meta.get("reference_date", ""), lang))
    cols = {"period": None, "denominator": None, "value": None, "ci": None, "excluded_window": None}
    # a period with nothing to follow yet has no share to hide: its excluded count stays visible
    hide = (table["denominator"] > 0) & (table["denominator"] < int(ov.settings.min_denominator))
    return [report.note(text), report.display_table(table.assign(suppressed=hide), cols, lang, settings=ov.settings)]
