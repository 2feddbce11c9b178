"""A jeugdregio's gemeenten side by side (the jeugdregio report only; in a gemeente report the
region is a column of the Kerncijfers): per headline indicator each gemeente's figure, from the
gemeente store, hidden figures marked."""
from __future__ import annotations

import pandas as pd

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import para

from ..institution.summary import summary_frame
from .unit import UnitStory

NAME = "members"
#: gemeenten per table (columns beside the indicator column that fit the A4 text width).
PER_TABLE = 5


def build(story: UnitStory) -> list:
    """Nothing for a gemeente; for a jeugdregio the heading and its gemeenten side by side: the
    headline indicators as rows and at most :data:`PER_TABLE` gemeenten as columns per table (without
    the gemeente store: the gemeenten named only)."""
    if story.unit_kind != "region" or not story.members:
        return []
    w, lang = story.w, story.lang
    items = [report.heading(w["members_title"], 2, id=report.chapter_anchor("members")),
             para(w["members_intro"].format(unit=story.institution))]
    frame = summary_frame(story)
    if story.region_results is None or frame.empty:
        return items + [para(", ".join(story.members))]
    mark = report.ui(lang)["suppressed_mark"] + "*"
    shown = frame.loc[frame["status"].isin(["getoond", "verborgen"])]
    members = list(story.members)
    any_hidden = False
    # at most PER_TABLE gemeenten side by side: a jeugdregio of nine would run off the A4 page
    for start in range(0, len(members), PER_TABLE):
        part = members[start:start + PER_TABLE]
        rows = []
        for _, r in shown.iterrows():
            row = {"indicator": r["label"]}
            for i, member in enumerate(part):
                fig = story.member_figure(member, registry.get(r["indicator"]), r["care_type"], r["shown_period"])
                row[f"m{i}"] = report.MISSING_MARK[lang] if fig is None else story.pct_or_mark(fig.get("value"),
                                                                                              fig["hidden"])
            rows.append(row)
        table = pd.DataFrame(rows)
        cols = {"indicator": (w["col_indicator"], "text")}
        cols.update({f"m{i}": (member, "text") for i, member in enumerate(part)})
        items.append(report.display_table(table, cols, lang, settings=story.settings))
        any_hidden |= bool((table == mark).any().any())
    if any_hidden:
        st = story.settings
        items.append(para(report.ui(lang)["suppressed_footnote"].format(n=st.min_denominator, cell=st.min_cell,
                                                                        count=st.min_count), "oa-footnote"))
    return items
