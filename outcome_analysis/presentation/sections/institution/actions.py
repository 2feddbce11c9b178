"""Section "Verbeteracties": the actions agreed in earlier conversations, each with its course.

Read from the results store's optional tables (:mod:`outcome_analysis.running.actions`): per action
agreed before the end of the report period its description (free text, always escaped: never
trusted as HTML), owner, status and review date, the before/after judgement in plain Dutch ("Na de
afspraak daalde de uitval van 24% naar 17%; dat is meer dan toeval"), a p-chart per quarter (per
half-year where the rule hides quarters) with the date of the agreement marked and, where a case-mix
model exists, the VLAD. Actions agreed within the report period are listed with the mark "Te vroeg
om te beoordelen" (no charts: there is no after-window yet). A share the disclosure rule hides is never printed, and no verdict is given on it.

Besides :func:`build` (the full edition, after the indicator sections), this module holds two more
sections: :data:`SHORT` (one line per action, for the short edition) and :data:`NOTES` (a printed page
with ruled space for the conversation's notes and the actions agreed, after the conversation page).
Every number goes through :mod:`outcome_analysis.presentation.report`'s formatters (the leak-audit
ledger); the words are in ``data/texts/actions.yaml``.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd

from outcome_analysis import texts
from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story, esc, para, png

NAME = "actions"
#: the ``id`` of the section's h2.
ANCHOR = "h-actions"
#: rows of the printed table for the actions agreed, on the notes page.
NOTE_ROWS = 5
#: ruled lines for notes on the notes page.
NOTE_LINES = 12


def words(lang: str) -> dict:
    """The texts of ``data/texts/actions.yaml`` in ``lang``."""
    return texts.for_lang("actions", lang)


def course(story: Story) -> pd.DataFrame:
    """The institution's actions in the story's report period (``action_course`` rows), by agreement
    date; empty when the store holds none."""
    table = getattr(story.results, "action_course", None)
    if table is None or table.empty:
        return pd.DataFrame(columns=[] if table is None else table.columns)
    mine = table.loc[(table["institution"].astype(str) == story.institution)
                     & (table["report_period"].astype(str) == str(story.period))]
    return mine.sort_values(["agreed_on", "action"], kind="stable")


def _label(indicator: str, lang: str) -> str:
    try:
        return registry.get(indicator).label(lang)
    except Exception:  # an id the registry no longer has: the id itself
        return indicator


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def judgement(row, story: Story) -> tuple[str, str]:
    """``(kind, sentence)`` of one action: kind ``judged`` | ``too_early`` | ``hidden`` | ``no_data``; the
    sentence is plain text (escape it for HTML), its numbers printed by the formatters."""
    w, lang, s = words(story.lang), story.lang, story.settings
    label = _lower_first(_label(str(row["indicator"]), lang))
    kind = str(row["judgement"])
    if kind == "too_early":
        reason = str(row["reason"]) or "in_period"
        tail = w["too_early"].get(reason, w["too_early"]["in_period"]).format(
            period=story.period_text, lag=report.fmt_int(s.action_lag_months, lang),
            months=report.fmt_int(math.floor(float(row["after_months"] or 0)), lang),
            min_months=report.fmt_int(6, lang))
        return "too_early", f"{w['too_early_mark']}: {tail}"
    if kind != "judged":
        return "no_data", w["no_data"].get(str(row["reason"]), w["no_data"]["none_after"]).format(
            institution=story.institution)
    if bool(row["hidden_before"]) or bool(row["hidden_after"]) or report.is_missing(row["p_before"]) \
            or report.is_missing(row["p_after"]):
        return "hidden", w["hidden"].format(n=report.fmt_int(s.min_cell, lang))
    change = str(row["change"]) if str(row["change"]) in w["went"] else "no_change"
    sentence = w["went"][change].format(label=label, before=report.fmt_pct(row["p_before"], 0, lang),
                                        after=report.fmt_pct(row["p_after"], 0, lang))
    direction = registry.get(str(row["indicator"])).direction
    if change in ("lower", "higher") and direction in ("lower_better", "higher_better"):
        good = (change == "lower") == (direction == "lower_better")
        sentence += " " + (w["better"] if good else w["worse"])
    if str(row["method"]) == "oe_ratio" and not report.is_missing(row["estimate"]):
        sentence += " " + w["adjusted"].format(ratio=report.fmt_ratio(row["estimate"], 2, lang),
                                               ci=report.fmt_ci(row["ci_low"], row["ci_high"], 2, lang, kind="ratio"))
    elif str(row["method"]) == "newcombe" and not report.is_missing(row["estimate"]):
        sentence += " " + w["difference"].format(
            diff=report.fmt_signed(100 * float(row["estimate"]), 1, lang),
            ci=report.fmt_ci(100 * float(row["ci_low"]), 100 * float(row["ci_high"]), 1, lang, kind="number"))
    return "judged", sentence


def build(story: Story) -> list:
    """The heading, the introduction and per action: its heading, what was agreed (escaped), the
    judgement, the p-chart and (with a model) the VLAD; a sentence when there is no action."""
    w, lang = words(story.lang), story.lang
    out = [report.heading(w["title"], 2, id=ANCHOR)]
    mine = course(story)
    if mine.empty:
        return out + [para(w["none"].format(institution=story.institution, period=story.period_text))]
    out.append(para(w["lead"].format(lag=report.fmt_int(story.settings.action_lag_months, lang),
                                     period=story.period_text)))
    said: set[str] = set()  # how to read the charts: under the first chart of each kind only
    recent = mine["reason"].astype(str).eq("in_period").to_numpy()
    for _, row in mine.loc[~recent].iterrows():
        out += _action(story, row, w, said)
    if recent.any():  # agreed in the report period: too early to judge, listed together in one table
        out += _recent(story, mine.loc[recent], w)
    return out


def _recent(story: Story, rows: pd.DataFrame, w: dict) -> list:
    """The actions agreed in the report period, too early to judge: one heading, one sentence and one
    table (indicator, what was agreed and when, who and status), every text escaped."""
    lang = story.lang
    body = []
    for _, row in rows.iterrows():
        follow = [str(row.get(c) or "") for c in ("owner",)] + [
            w["statuses"].get(str(row.get("status") or ""), str(row.get("status") or ""))]
        if row.get("review_on") is not None and not pd.isna(row.get("review_on")):
            follow.append(w["review_line"].format(date=report.fmt_date(row["review_on"], lang)))
        body.append(f"<tr><td>{esc(_label(str(row['indicator']), lang))}</td>"
                    f"<td>{esc(str(row['description'] or ''))}</td>"
                    f"<td>{esc(report.fmt_date(row['agreed_on'], lang))}</td>"
                    f"<td>{esc(' · '.join(f for f in follow if f))}</td></tr>")
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in w["recent_cols"])
    return [report.heading(w["recent_heading"].format(period=story.period_text), 3),
            para(w["recent_lead"].format(period=story.period_text), "oa-note oa-too-early"),
            report.HTML('<table class="oa-action oa-actions-recent" style="width: 100%;"><colgroup>'
                        '<col style="width: 24%;"><col style="width: 42%;"><col style="width: 14%;">'
                        f'<col style="width: 20%;"></colgroup><thead><tr>{head}</tr></thead>'
                        f'<tbody>{"".join(body)}</tbody></table>')]


def _action(story: Story, row, w: dict, said: set[str]) -> list:
    lang = story.lang
    label = _label(str(row["indicator"]), lang)
    items = [report.heading(w["action_heading"].format(label=label, date=report.fmt_date(row["agreed_on"], lang)), 3)]
    facts = [(w["description"], str(row["description"] or ""))]
    follow = []  # who, status and review date on one line
    if str(row.get("owner") or ""):
        follow.append(str(row["owner"]))
    if str(row.get("status") or ""):
        follow.append(w["statuses"].get(str(row["status"]), str(row["status"])))
    if row.get("review_on") is not None and not pd.isna(row.get("review_on")):
        follow.append(w["review_line"].format(date=report.fmt_date(row["review_on"], lang)))
    if follow:
        facts.append((w["follow"], " · ".join(follow)))
    items.append(report.HTML('<table class="oa-action" style="width: 100%;"><colgroup><col style="width: 22%;">'
                             '<col style="width: 78%;"></colgroup><tbody>' + "".join(
                                 f'<tr><th scope="row" style="text-align: left; font-weight: 600;">{esc(k)}</th>'
                                 f"<td>{esc(v)}</td></tr>" for k, v in facts) + "</tbody></table>"))
    kind, sentence = judgement(row, story)
    items.append(para(sentence, "oa-note oa-action-judgement" + (" oa-too-early" if kind == "too_early" else "")))
    if not (kind == "too_early" and str(row["reason"]) == "in_period"):  # agreed in the period: listed only
        items += _charts(story, row, label, w, said)
    return items


def _charts(story: Story, row, label: str, w: dict, said: set[str] | None = None) -> list:
    """The p-chart and (with a model) the VLAD of one action, side by side in one figure, and one note
    on how to read them; a note naming the points the rule hides."""
    from outcome_analysis.presentation import control_plots

    def mine(table: pd.DataFrame) -> pd.DataFrame:
        if table is None or table.empty:
            return pd.DataFrame()
        return table.loc[(table["action"] == row["action"])
                         & (table["report_period"].astype(str) == str(row["report_period"]))]

    points, vlad = mine(story.results.action_points), mine(story.results.action_vlad)
    drawn = points if len(points) and not points["hidden"].astype(bool).all() else None
    curve = vlad.sort_values("month_end") if len(vlad) >= 2 else None
    fig, alt = control_plots.action_figure(drawn, curve, agreed_on=row["agreed_on"], label=label, lang=story.lang)
    if fig is None:
        return []
    said = set() if said is None else said
    notes = [w[key] for key, frame in (("pchart_note", drawn), ("vlad_note", curve))
             if frame is not None and key not in said]
    said.update(key for key, frame in (("pchart_note", drawn), ("vlad_note", curve)) if frame is not None)
    hidden = [str(x) for x, h in zip(points["label"], points["hidden"].astype(bool)) if h] if drawn is not None else []
    if hidden:
        notes.append(w["hidden_points"].format(labels=", ".join(hidden)))
    return [png(fig, alt=alt)] + ([para(" ".join(notes), "oa-footnote")] if notes else [])


def build_short(story: Story) -> list:
    """The short edition's form: a heading and one line per action (indicator, date, the judgement in
    a few words); nothing when the institution has no action."""
    mine = course(story)
    if mine.empty:
        return []
    w, lang = words(story.lang), story.lang
    lines = []
    for _, row in mine.iterrows():
        kind, sentence = judgement(row, story)
        if kind == "judged":
            change = str(row["change"]) if str(row["change"]) in w["short_judged"] else "no_change"
            said = w["short_judged"][change].format(before=report.fmt_pct(row["p_before"], 0, lang),
                                                    after=report.fmt_pct(row["p_after"], 0, lang))
        elif kind == "too_early":
            said = w["too_early_mark"].lower()
        else:
            said = w["short_other"]
        head = f"{_label(str(row['indicator']), lang)} ({report.fmt_date(row['agreed_on'], lang)})"
        lines.append(f"<li><strong>{esc(head)}</strong>: {esc(str(row['description'] or ''))} "
                     f"&ndash; {esc(said)}</li>")
    return [report.heading(w["short_title"], 2, id=ANCHOR, cls="oa-nobreak"), para(w["short_lead"]),
            report.HTML('<ul class="oa-actions-short">' + "".join(lines) + "</ul>")]


def build_notes(story: Story) -> list:
    """A printed page for the conversation: the date and who were present, ruled lines for notes, and a
    table with empty rows for the actions agreed, with the name of the action file to copy them into."""
    w = words(story.lang)
    from outcome_analysis.contract.actions import record_file_name

    file = record_file_name(story.institution, story.period, "xlsx")
    lines = "".join('<div class="oa-ruled" style="border-bottom: 0.6pt solid #888; height: 8mm;"></div>'
                    for _ in range(NOTE_LINES))
    cells = "".join(f"<th>{esc(c)}</th>" for c in w["notes_cols"])
    rows = "".join("<tr>" + "".join('<td style="height: 10mm;">&nbsp;</td>' for _ in w["notes_cols"]) + "</tr>"
                   for _ in range(NOTE_ROWS))
    return [
        report.HTML(f'<h2 id="h-notes" class="oa-notes" style="break-before: page; page-break-before: always;">'
                    f'{esc(w["notes_title"])}</h2>'),
        para(w["notes_meta"]),
        report.HTML(f"<h3>{esc(w['notes_space'])}</h3>"),
        para(w["notes_space_hint"]),
        report.HTML(f'<div class="oa-notes-space">{lines}</div>'),
        report.HTML(f"<h3>{esc(w['notes_actions'])}</h3>"
                    f'<table class="oa-notes-actions" style="width: 100%;"><thead><tr>{cells}</tr></thead>'
                    f"<tbody>{rows}</tbody></table>"),
        para(w["notes_file"].format(file=file), "oa-footnote"),
    ]


#: the short edition's section (``documents.ADDED``): one line per action.
SHORT = SimpleNamespace(NAME="actions", build=build_short, __doc__=build_short.__doc__)
#: the notes page of the full edition, after the conversation page.
NOTES = SimpleNamespace(NAME="notes", build=build_notes, __doc__=build_notes.__doc__)
