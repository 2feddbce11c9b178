"""The summary: whom the figures are compared with, the words-first summary and the table of signals.

A delivery of one institution has nothing to compare: the summary says so and shows no table of
signals; neither does a delivery whose every care-type family has one institution."""
from __future__ import annotations

import html as _html

from outcome_analysis.presentation import overview, report
from outcome_analysis.running.results import CARE_TYPE_FAMILIES

NAME = "summary"


def build(ov) -> list:
    lang, results = ov.lang, ov.results
    t = overview.texts_of(lang)
    words = overview.comparator(results, lang)
    summary = overview.signal_summary(results, ov.period, lang)
    items = [overview.heading(t["summary_h"], 2)]
    lonely = overview.alone_families(results, lang)
    if words["scope"] == "none" or not lonely:
        items.append(report.note(words["scope_note"]))
    else:
        held = results.care_types_of()
        families = [f for f in (tuple(c for c in fam if c in held) for fam in CARE_TYPE_FAMILIES) if f]
        for family in families:  # name each compared family's comparator; say the lonely ones
            fam = overview.comparator(results, lang, family[0])
            if fam["scope"] != "none":
                items.append(report.note(fam["scope_note"]))
        items += [report.note(sentence) for sentence in lonely]
        if len(lonely) == len(families):
            return items
    items.append(report.note(t["intro"].format(period=ov.period, **overview.limit_words(ov.settings, lang)), kind="headline"))
    sentences = "".join(f"<li>{_html.escape(s)}</li>" for s in overview.summary_sentences(summary, lang))
    items.append(report.HTML(f'<ul class="oa-summary">{sentences}</ul>'))
    # the words of the chapters that follow (W/V, trechter, interval, ...) in plain language, before their first use
    items.append(report.note(t["glossary"] + " " + t["key_note"].format(**overview.limit_words(ov.settings, lang))))
    if summary.empty:
        return items
    table = summary.assign(suppressed=False)
    # the pooled figures are those of each care type's family: its label when there is one family
    labels = {overview.comparator(results, lang, c)["label"] for c in summary["care_type"]}
    cols = {"label": (t["col_indicator"], "text"), "care_label": (t["col_care"], "text"),
            "national_value": (labels.pop() if len(labels) == 1 else words["label"], "pct"),
            "compared": (t["col_compared"], "int"), "higher": (t["col_higher"], "int"),
            "lower": (t["col_lower"], "int"), "none": (t["col_none"], "int"), "too_small": (t["col_small"], "int")}
    items.append(overview.widths(report.display_table(table, cols, lang, settings=ov.settings),
                                 [32, 16, 10, 10, 8, 8, 8, 8]))
    return items
