"""Section 6, Datakwaliteit: completeness per item against the pooled figure, onbekend end reasons,
records left out, the note on recovery across tables, and which parts of the data contract the
delivery held."""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcome_analysis.indicators.quality import item_label
from outcome_analysis.presentation import report
from outcome_analysis.presentation.report import is_missing
from outcome_analysis.presentation.story import Story, contract_items, esc, para

NAME = "quality"


def build(story: Story) -> list:
    """Completeness per care type, onbekend, left out, the recovery note and the contract."""
    t = story.t
    items = [report.heading(t["quality"], 2, id=report.chapter_anchor("quality"), cls="oa-nobreak"), para(t["quality_intro"].format(period=story.period_text))]
    items += _completeness(story)
    for care_type, share in story.unknown_reason_shares().items():
        items.append(para(t["unknown_reason"].format(care_type=story.care_label(care_type),
                                                     share=report.fmt_pct(share, 1, story.lang))))
    items += _left_out(story)
    items.append(para(t["recovery_note"]))
    items += contract_items(story.results, story.lang)
    return items


def _completeness(story: Story) -> list:
    """Per care type: the share of records with each item filled in, beside the pooled share."""
    t = story.t
    items = []
    for care_type in story.care_types:
        mine = story.results.select("quality", scope="institution", institution=story.institution,
                                    period=story.period, care_type=care_type)
        nat = story.results.select("quality", scope="national", period=story.period, care_type=care_type)
        if mine.empty:
            continue
        nat_value = nat.set_index("item")["value"]
        frame = mine.assign(label=[item_label(i, story.lang) for i in mine["item"]],
                            national_value=[nat_value.get(i, np.nan) for i in mine["item"]],
                            suppressed=mine["denominator"] < story.settings.min_denominator)
        cols = {"label": (t["col_item"], "text"), "value": (t["completeness"], "pct"), "missing": None}
        if story.compared:
            cols["national_value"] = (t["col_national"], "pct")
        items += [report.HTML(f"<h3>{esc(story.care_label(care_type).capitalize())}</h3>"),
                  report.display_table(frame, cols, story.lang, settings=story.settings)]
    return items


def _left_out(story: Story) -> list:
    """Records left out of each indicator: items missing, or the follow-up window not yet passed."""
    t = story.t
    left = []
    for entry in story.entries():
        if entry.same_as or entry.headline is None:
            continue
        for care_type in story.entry_care_types(entry):
            if entry.restates.get(care_type):
                continue
            row = story.figure(entry, care_type)
            if row is None:
                continue
            left.append({"label": story.label(entry, care_type), "missing": row.get("missing", 0),
                         "excluded_window": row.get("excluded_window", 0) if entry.window_setting else np.nan})
    if not left:
        return []
    frame = pd.DataFrame(left)
    frame = frame[(frame["missing"].fillna(0) > 0) | (frame["excluded_window"].fillna(0) > 0)]
    if not len(frame):
        return []
    # no follow-up window: "n.v.t." (not applicable), not "n.b." (unknown)
    st = story.settings
    frame = frame.assign(excluded_window=[
        report.NOT_APPLICABLE_MARK[story.lang] if is_missing(v)
        else report.fmt_count_rounded(v, story.lang, settings=st)
        for v in frame["excluded_window"]])
    cols = {"label": (t["col_indicator"], "text"), "missing": (t["left_out_missing"], "count"),
            "excluded_window": (t["left_out_window"], "text")}
    return [report.HTML(f"<h3>{esc(t['left_out'])}</h3>"),
            report.display_table(frame, cols, story.lang, settings=story.settings)]
