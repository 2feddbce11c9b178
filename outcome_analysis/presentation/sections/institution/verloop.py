"""Section 3, Verloop: end reasons, transitions and duration (JB/JR); end reasons (jeugdhulp); the
weight of the follow-up care."""
from __future__ import annotations

import math

import pandas as pd

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report
from outcome_analysis.presentation.report import is_missing
from outcome_analysis.presentation.story import Story, esc, is_suppressed, new_figure, para, png, shorten

NAME = "verloop"


def build(story: Story) -> list:
    """Per care type of the report: its profiles and, for JB and JR, the duration table."""
    t = story.t
    items = [report.heading(t["verloop"], 2, id=report.chapter_anchor("verloop"))]
    for care_type in story.care_types:
        part = []
        if care_type in ("jb", "jr"):
            part += _profile(story, "jbjr_verloop", care_type, "end_reason", t["end_reasons"])
            part += _profile(story, "jbjr_verloop", care_type, "transition", t["transitions"])
            part += _duration(story, care_type)
        else:
            part += _profile(story, "jh_uitval", care_type, "end_reason", t["end_reasons"])
        part += _profile(story, "pi06_zwaarte_vervolghulp", care_type, "follow_up", t["follow_up"])
        if not part:  # every profile hidden: say so, never an empty heading
            part = [para(t["verloop_none"].format(n=story.settings.min_denominator, period=story.period_text))]
        items += [report.heading(story.care_label(care_type).capitalize(), 3), *part]
    return items


def _profile(story: Story, entry_id: str, care_type: str, family: str, title: str) -> list:
    """The distribution of one breakdown family, institution beside the pooled figure."""
    from outcome_analysis.indicators import MULTI_FAMILIES
    from outcome_analysis.presentation import plots

    entry = registry.get(entry_id)
    period = story.shown_period(entry)
    rows = []
    inst_label = story.institution
    groups = [("institution", inst_label)]
    if story.compared:
        groups.append(("national", story.comparator["label"]))
    for scope, label in groups:
        part = story.rows(entry, care_type, period, scope, category=None)
        part = part[part["category"].str.startswith(family + ":")]
        for _, r in part.iterrows():
            rows.append({"group": label, "category": r["category"], "value": r["value"],
                         "suppressed": bool(r["suppressed"])})
    frame = pd.DataFrame(rows)
    if frame.empty or frame[(frame["group"] == inst_label)]["suppressed"].all():
        return []
    labels = {c: registry.category_label(c, story.lang) for c in frame["category"].unique()}
    order = list(dict.fromkeys(frame.sort_values("category")["category"]))
    n_cats = len(order)
    frame["group"] = frame["group"].map(lambda g: shorten(g, 28))
    if family in MULTI_FAMILIES:
        # overlapping categories (one episode can have several transitions): bars side by side,
        # never a stacked 100% bar
        fig, ax = new_figure(6.8, 0.7 + 0.26 * n_cats)
        plots.comparison_bars(frame, order=order, labels=labels, lang=story.lang, ax=ax)
        return [report.HTML(f"<h4>{esc(title)}</h4>"), png(fig), para(story.t["overlapping_categories"])]
    fig, ax = new_figure(6.8, 1.5 + 0.25 * math.ceil(n_cats / 3))
    plots.profile_plot(frame, order=order, labels=labels, lang=story.lang, ax=ax)
    return [report.HTML(f"<h4>{esc(title)}</h4>"), png(fig)]


def duration_frame(story: Story, care_type: str) -> pd.DataFrame:
    """The duration and waiting-time rows of one care type from ``results.verloop``: ended
    episodes of the period (``duration_days``), the Kaplan–Meier quartiles of the period's start
    cohort with running episodes censored (``duration_km_days``) and the waiting time
    (``waiting_days``), each with the national median beside it. Rows whose institution figure
    is suppressed are left out.

    Columns: ``measure``, ``label``, ``n``, ``q1``, ``median``, ``q3`` (texts, "nog niet bereikt"
    for a Kaplan–Meier quartile that is not reached), ``national`` (text).
    """
    t = story.t
    if "measure" not in story.results.verloop:
        return pd.DataFrame()
    out = []
    labels = {"duration_days": t["km_ended"], "duration_km_days": t["km_started"], "waiting_days": t["km_waiting"]}
    for measure, label in labels.items():
        where = dict(period=story.period, care_type=care_type, measure=measure)
        mine = story.results.select("verloop", scope="institution", institution=story.institution, **where)
        nat = story.results.select("verloop", scope="national", **where)
        if mine.empty:
            continue
        r = mine.iloc[0]
        n = r.get("n")
        if is_suppressed(r.to_dict()) or is_missing(n) or float(n) < story.settings.min_denominator:
            continue
        km = measure == "duration_km_days"

        def days(x, km=km):
            if is_missing(x):
                return t["km_not_reached"] if km else report.MISSING_MARK[story.lang]
            return report.fmt_int(x, story.lang)

        national = report.MISSING_MARK[story.lang]
        if len(nat) and not is_suppressed(nat.iloc[0].to_dict()):
            national = days(nat.iloc[0]["median"])
        out.append({"measure": measure, "label": label.format(period=story.period),
                    "n": report.fmt_count_rounded(n, story.lang, settings=story.settings),
                    "q1": days(r["q1"]), "median": days(r["median"]), "q3": days(r["q3"]), "national": national})
    return pd.DataFrame(out)


def _duration(story: Story, care_type: str) -> list:
    t = story.t
    frame = duration_frame(story, care_type)
    if frame.empty:
        return []
    cols = {"label": (t["km_measure"], "text"), "n": (t["col_n"], "text"), "q1": (t["q1"], "text"),
            "median": (t["median"], "text"), "q3": (t["q3"], "text")}
    widths = (40, 15, 15, 15, 15)
    if story.compared:
        cols["national"] = (t["km_national"], "text")
        widths = (34, 12, 13, 13, 13, 15)
    items = [report.HTML(f"<h4>{esc(t['km_title'])}</h4>"),
             report.display_table(frame, cols, story.lang, widths=widths, settings=story.settings)]
    said = story._cache.setdefault(("km_note_said", story.lang), set())
    if story.period_text not in said:  # how to read the table: under the first one only
        said.add(story.period_text)
        items.append(para(t["km_note"].format(period=story.period_text), "oa-footnote"))
    return items
