"""The appendix of the overview: per compared indicator and care type the figures of every institution
(when the body shows only those with a signal: more than ``_set.BODY_ROWS`` shown) and the spread
between institutions (from ``overview.MIN_SPREAD`` institutions), then the tables of the trends."""
from __future__ import annotations

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import overview, report

from ._set import BODY_ROWS, adjusted_display, spread_display

NAME = "tables"


def build(ov) -> list:
    lang, results = ov.lang, ov.results
    t = overview.texts_of(lang)
    items = [overview.heading(t["tables_h"], 2), report.note(t["tables_intro"])]
    head = len(items)
    for c in overview.comparisons(results, ov.period).itertuples(index=False):
        adj = overview.adjusted_table(results, c.indicator, c.care_type, ov.period, lang)
        shown = adj.loc[~adj["suppressed"]]
        if not len(shown):
            continue
        part = []
        if len(shown) > BODY_ROWS:  # else its whole table is in the body
            part.append(adjusted_display(ov, c.indicator, c.care_type, shown, adj["period"].iloc[0]))
        spread = spread_display(ov, c.indicator, c.care_type)
        if spread is not None:
            part.append(spread)
        if part:
            label = report.with_care_type(registry.label(c.indicator, lang), c.care_type, lang, sep=" – {care}")
            items += [overview.heading(label, 3), *part]
    words = overview.comparator(results, lang)
    for set_id in overview.SETS_SHOWN:  # the figures of the trends chapter as numbers
        trends = overview.national_trends(results, set_id)
        if trends.empty:
            continue
        items.append(overview.heading(f"{words['trends']} – {registry.set_label(set_id, lang)}", 3))
        items.append(overview.trend_table(trends, lang, caption=words["trend_caption"]))
    return items if len(items) > head else []  # no chapter without a table in it
