"""The Kerncijfers over the years: per headline indicator a small trend figure of the unit, its
jeugdregio (a gemeente report with the region store) and the national (whole delivery) figure,
drawn by :func:`outcome_analysis.presentation.plots.trend_plot` as in the institution report;
an indicator with too few shown years is said in one sentence."""
from __future__ import annotations

import pandas as pd

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import plots, report
from outcome_analysis.presentation.story import TREND_PERIODS, new_figure, para, png

from ..institution.summary import summary_frame
from .unit import UnitStory

NAME = "trends"


def trend_rows(story: UnitStory, entry, care_type: str, up_to: str) -> pd.DataFrame:
    """The unit's headline rows of the last periods, the pooled ones (when compared) and, for a
    gemeente with the region store, its jeugdregio's (as a further unit)."""
    rows = story.trend_table(entry, care_type, up_to)
    if story.unit_kind == "municipality" and story.region_results is not None and story.region:
        region = story.region_results.trend(entry.id, care_type, story.region, up_to, last=TREND_PERIODS)
        region = region.loc[(region["scope"] == "institution").to_numpy(bool)]
        region = region.loc[region["period"].isin(set(rows["period"])).to_numpy(bool)]
        rows = pd.concat([rows, region], ignore_index=True)
    return rows


def build(story: UnitStory) -> list:
    """The heading, the introduction and one figure per headline indicator with enough years."""
    w, lang = story.w, story.lang
    items = [report.heading(w["trends_title"], 2, id=report.chapter_anchor("trends")),
             para(w["trends_intro"].format(unit=story.institution, national=story.comparator["name"] or "–"))]
    frame = summary_frame(story)
    if frame.empty:
        return items
    for _, r in frame.loc[frame["status"].isin(["getoond", "verborgen"])].iterrows():
        entry = registry.get(r["indicator"])
        rows = trend_rows(story, entry, r["care_type"], r["shown_period"])
        mine = rows.loc[(rows["scope"] == "institution").to_numpy(bool)
                        & (rows["institution"].astype(str) == story.institution).to_numpy(bool)]
        visible = int((~mine["suppressed"].fillna(True).astype(bool)).sum())
        if not plots.enough_for_trend(visible):
            items.append(para(w["trends_few"].format(label=r["label"])))
            continue
        units = [story.institution] + ([story.region] if story.region and (rows["institution"].astype(str)
                                                                           == story.region).any() else [])
        fig, ax = new_figure(6.4, 2.5)
        plots.trend_plot(rows, institution=units, national=story.compared, lang=lang, ax=ax, title=r["label"],
                         settings=story.settings, national_label=story.comparator["label"] or None)
        # as in the institution report: the note on hidden periods goes under the figure (on the
        # axes it lands on the legend), the legend is anchored below the finished layout
        notes = [x.get_text().lstrip("* ") for x in ax.texts if x.get_gid() == "suppressed_note"]
        for x in [x for x in ax.texts if x.get_gid() == "suppressed_note"]:
            x.remove()
        for _ in range(2):
            if ax.get_legend() is not None:
                plots.legend_below(ax, ncols=2)
        items.append(png(fig))
        if notes:
            items.append(para("* " + " ".join(notes), "oa-caption"))
    return items
