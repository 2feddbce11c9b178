"""The institution's shares beside a published national reference ("landelijk", with its source),
right after the summary of the full edition; nothing
without a reference (``run_reports.py --reference FILE``: :mod:`outcome_analysis.indicators.reference`,
kept in the results' ``meta["reference"]`` by :func:`outcome_analysis.running.comparisons.with_reference`).

The verdicts are the stored ``raw_reference`` rows of the comparisons table; a delivery too small for
a case-mix model says so (no model is fitted on one institution)."""
from __future__ import annotations

import html as _html

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story

NAME = "reference"


def build(story: Story) -> list:
    """The heading, what the table is, one row per share with a published counterpart (label,
    period, own figure or "verborgen", published figure marked with its source, verdict in words),
    the sources, how the verdict is read, and the sentence on the case-mix model when there is
    none; an empty list without a reference."""
    published = story.results.meta.get("reference")
    if not story.ok or not published:
        return []
    lang, me = story.lang, story.institution
    w = report.ui(lang, "comparator")["reference"]
    fill = lambda text: text.replace("{institution}", me)  # noqa: E731
    rows, used = [], []
    for entry in story.entries():
        if entry.headline != "share" or entry.same_as or entry.restates:
            continue
        for care_type in story.entry_care_types(entry):
            period = story.shown_period(entry)
            row = story.results.verdict(entry.id, care_type, period, me, basis="raw_reference", measure="share")
            figure = next((f for f in published["figures"] if (f["indicator"], f["care_type"], f["period"])
                           == (entry.id, care_type, period)), None)
            if row is None or figure is None:
                continue
            hidden = row.get("text_key") == "suppressed"
            own = w["verdict_suppressed"] if hidden else report.fmt_pct(row["value"], 1, lang)
            said = "suppressed" if hidden else row.get("signal")
            verdict = w.get(f"verdict_{said}", w["verdict_none"])
            used.append(figure["source"])
            marks = "¹" * (list(dict.fromkeys(used)).index(figure["source"]) + 1)
            cells = [story.label(entry, care_type), report.fmt_period(period, lang), own,
                     report.fmt_pct(figure["value"], 1, lang) + marks, verdict]
            rows.append("<tr>" + "".join(f"<td>{_html.escape(str(c))}</td>" for c in cells) + "</tr>")
    heads = [w["column_indicator"], w["column_period"], fill(w["column_own"]), w["column_reference"].rstrip("¹"),
             w["column_verdict"]]
    out = [report.heading(w["title"], 2, id=report.chapter_anchor("reference")), report.note(fill(w["lead"]))]
    if rows:
        out.append(report.HTML('<div class="oa-table-wrap"><table class="oa-table oa-reference"><thead><tr>'
                               + "".join(f'<th scope="col">{_html.escape(h)}</th>' for h in heads)
                               + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"))
        for i, source in enumerate(dict.fromkeys(used)):
            out.append(report.note(w["source_note"].replace("¹", "¹" * (i + 1)).format(source=source)))
        out.append(report.note(report.with_conf(fill(w["interval_note"]), story.settings, lang)))
    else:
        out.append(report.note(w["none_matching"]))
    if story.results.casemix.empty and story.results.casemix_mean.empty:  # no model: too small a delivery
        n = report.fmt_int(len(story.results.institutions), lang)
        out.append(report.note(w["adjusted_unavailable"].replace("{n}", n)))
    return out
