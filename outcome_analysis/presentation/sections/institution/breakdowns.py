"""Appendix "Uitsplitsingen": per indicator of the report its breakdown tables (the institution's
figure per category beside the pooled one; hidden categories named without a number), in the order
of the chapters. Each indicator's section in the body points here in one line
(:func:`.indicators.breakdown_pointer`), so a team that wants the detail finds it and a reader of
the body is not held up by it."""
from __future__ import annotations

from outcome_analysis.presentation import ledger, report
from outcome_analysis.presentation.story import Story, para

from . import indicators

NAME = "breakdowns"


def build(story: Story) -> list:
    """The appendix heading, one line on what it holds, then per indicator with a breakdown table
    its heading (id :func:`.indicators.breakdown_anchor`) and its tables; nothing when no indicator
    of the report has one."""
    parts = []
    for set_id in story.sets():
        for entry in story.entries(set_id):
            if not indicators.own_section(story, entry):
                continue
            care_types = [c for c in story.entry_care_types(entry) if not entry.restates.get(c)
                          and story.indicator_status(entry, c)["status"] in ("getoond", "verborgen")]
            shown = story.shown_period(entry)
            if not indicators.table_families(story, entry, care_types, shown):
                continue
            with ledger.context(indicator=entry.id):
                tables = indicators.breakdown_tables(story, entry, care_types, shown)
            label = entry.label(story.lang)
            if shown != story.period:
                label += f" ({report.fmt_period(shown, story.lang)})"
            parts += [report.heading(label, 3, id=indicators.breakdown_anchor(entry.id)), *tables]
    if not parts:
        return []
    t = story.t
    return [report.heading(t["breakdowns"], 2, id=report.chapter_anchor("breakdowns")),
            para(t["breakdowns_intro" if story.compared else "breakdowns_intro_alone"]), *parts]
