"""Kerncijfers of a gemeente (jeugdregio): per indicator the unit's figure beside its jeugdregio's,
the comparable gemeenten' pooled figure and the national (whole delivery) figure, with the case-mix
adjusted verdict read from the comparisons table (never decided here)."""
from __future__ import annotations

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report
from outcome_analysis.presentation.report import is_missing
from outcome_analysis.presentation.story import esc, para

from ..institution.summary import row_label, status_row, summary_frame, table_html, verdict_words
from .unit import UnitStory

NAME = "key_figures"


def columns(story: UnitStory) -> list[str]:
    """The figure columns of the table, in order: ``unit``, ``region`` (a gemeente with a region
    store), ``neighbours`` (a gemeente with comparable gemeenten), ``national`` (when compared)."""
    cols = ["unit"]
    if story.unit_kind == "municipality" and story.region_results is not None and story.region:
        cols.append("region")
    if story.neighbours:
        cols.append("neighbours")
    if story.compared:
        cols.append("national")
    return cols


def build(story: UnitStory) -> list:
    """The heading, what the figures stand beside, the table and its footnotes."""
    w, t, lang = story.w, story.t, story.lang
    items = [report.heading(w["key_title"], 2, id=report.chapter_anchor("key_figures")),
             para(w["key_intro"].format(unit=story.institution, comparators=story.comparators_text), "oa-lead")]
    frame = summary_frame(story)
    if frame.empty:
        return items + [para(w["no_figures"])]
    cols = columns(story)
    heads = {"unit": w["col_unit"][story.unit_kind], "region": w["col_region"], "neighbours": w["col_neighbours"],
             "national": story.comparator["label"]}
    mark = report.ui(lang)["suppressed_mark"] + "*"
    body, any_hidden, neighbour_gaps = [], False, 0
    # the figures first, then the indicators without one (their status in words)
    order = frame["status"].isin(["getoond", "verborgen"]).map({True: 0, False: 1})
    frame = frame.assign(_order=order.to_numpy()).sort_values("_order", kind="stable")
    for _, r in frame.iterrows():
        entry = registry.get(r["indicator"])
        first = f"<td>{esc(row_label(story, r))}</td>"
        if r["status"] not in ("getoond", "verborgen"):
            body.append(status_row(first, r["status_text"], len(cols) + 1))
            continue
        cells = []
        for col in cols:
            if col == "unit":
                hidden = bool(r["suppressed"])
                cells.append(mark if hidden else report.fmt_pct(r["value"], 1, lang))
            elif col == "region":
                reg = story.region_figure(entry, r["care_type"], r["shown_period"])
                hidden = bool(reg and reg["hidden"])
                cells.append(report.MISSING_MARK[lang] if reg is None or reg.get("missing") else
                             story.pct_or_mark(reg.get("value"), hidden))
            elif col == "neighbours":
                pooled = story.neighbours_figure(entry, r["care_type"], r["shown_period"])
                hidden = bool(pooled["suppressed"]) and pooled["n_units"] > 0
                neighbour_gaps += int(pooled["n_hidden"] > 0)
                cells.append(report.MISSING_MARK[lang] if pooled["n_units"] == 0 else
                             story.pct_or_mark(pooled["value"], hidden))
            else:
                hidden = bool(r["national_hidden"])
                cells.append(report.MISSING_MARK[lang] if is_missing(r["national_value"]) and not hidden else
                             story.pct_or_mark(r["national_value"], hidden))
            any_hidden |= hidden
        row = first + "".join(f'<td class="oa-num">{report.nowrap(c)}</td>' for c in cells)
        row += f"<td>{verdict_words(story, r) if story.compared else ''}</td>"
        body.append(f"<tr>{row}</tr>")
    head = f'<th scope="col">{esc(w["col_indicator"])}</th>'
    head += "".join(f'<th scope="col" class="oa-num">{esc(heads[c])}</th>' for c in cols)
    head += f'<th scope="col">{esc(w["col_verdict"])}</th>'
    items.append(report.HTML(table_html(story, head, body, any_hidden, cls="oa-headline-table oa-unit-key-figures")))
    if neighbour_gaps:
        items.append(para(w["neighbours_hidden"].format(n=report.fmt_int(neighbour_gaps, lang)), "oa-footnote"))
    if story.compared:
        items.append(para(t["headline_legend"], "oa-footnote"))
    return items
