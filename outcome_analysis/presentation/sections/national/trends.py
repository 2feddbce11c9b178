"""The trends of the pooled figure (national only for a national delivery), not adjusted: one
small-multiples figure per set (their tables are in the appendix, ``tables``)."""
from __future__ import annotations

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import overview, report

NAME = "trends"


def build(ov) -> list:
    lang, results = ov.lang, ov.results
    words = overview.comparator(results, lang)
    items = [overview.heading(words["trends"], 2),
             report.note(overview.texts_of(lang)["trend_note"] + " " + overview.texts_of(lang)["trend_tables"].format(
                 appendix=overview.texts_of(lang)["tables_h"]))]
    head = len(items)
    for set_id in overview.SETS_SHOWN:
        trends = overview.national_trends(results, set_id)
        if trends.empty:
            continue
        fig = overview.figure(overview.trend_figure(results, set_id, lang))
        if fig is None:  # nothing to draw (e.g. every period hidden): no heading without a figure
            continue
        items += [overview.heading(registry.set_label(set_id, lang), 3), fig]
        # the figures as numbers are in the appendix (sections/national/tables.py)
    return items if len(items) > head else []  # no chapter without a trend in it
