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


def build(story: UnitStory) -> list:
    """Nothing for a gemeente; for a jeugdregio the heading and one table, the headline indicators
    as rows and its gemeenten as columns (without the gemeente store: the gemeenten named only)."""
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
    rows = []
    for _, r in shown.iterrows():
        row = {"indicator": r["label"]}
        for i, member in enumerate(story.members):
            fig = story.member_figure(member, registry.get(r["indicator"]), r["care_type"], r["shown_period"])
            row[f"m{i}"] = report.MISSING_MARK[lang] if fig is None else story.pct_or_mark(fig.get("value"), fig["hidden"])
        rows.append(row)
    table = pd.DataFrame(rows)
    cols = {"indicator": (w["col_indicator"], "text")}
    cols.update({f"m{i}": (member, "text") for i, member in enumerate(story.members)})
    items.append(report.display_table(table, cols, lang, settings=story.settings))
    if (table == mark).any().any():
        st = story.settings
        items.append(para(report.ui(lang)["suppressed_footnote"].format(n=st.min_denominator, cell=st.min_cell,
                                                                        count=st.min_count), "oa-footnote"))
    return items
