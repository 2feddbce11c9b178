"""What the published national reference is, beside the summary of the full edition: the column
"Landelijk" of the Kerncijfers, the chapters and the figures is the published figure (``run_reports.py
--reference FILE``: :mod:`outcome_analysis.indicators.reference`, kept in the results'
``meta["reference"]`` by :func:`outcome_analysis.running.comparisons.with_reference`; the story
reads it as its comparator, scope ``reference``). This section names the sources, says how the raw
verdict against it is read, which shares have no published figure, and that a delivery too small for
a case-mix model gets no adjusted comparison. Nothing without a reference."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story

NAME = "reference"


def build(story: Story) -> list:
    """The heading, what the column "Landelijk" is, its sources, how its verdict is read, the
    shares without a published figure, and the sentence on the case-mix model when there is none;
    an empty list without a reference."""
    published = story.results.meta.get("reference")
    if not story.ok or not published:
        return []
    lang, me = story.lang, story.institution
    w = report.ui(lang, "comparator")["reference"]
    fill = lambda text: text.replace("{institution}", me)  # noqa: E731
    out = [report.heading(w["title"], 2, id=report.chapter_anchor("reference"), cls="oa-nobreak"),
           report.note(fill(w["lead"]))]
    out += [report.note(w["source_note"].format(source=source)) for source in published.get("sources") or []]
    out.append(report.note(report.with_conf(fill(w["interval_note"]), story.settings, lang)))
    missing = []
    for entry in story.summary_entries():
        for care_type in story.shown_care_types(entry):
            if not story.published(entry, care_type, story.shown_period(entry)):
                missing.append(story.label(entry, care_type))
    if missing:
        out.append(report.note(w["missing"].format(items=", ".join(missing))))
    if story.results.casemix.empty and story.results.casemix_mean.empty:  # no model: too small a delivery
        n = report.fmt_int(len(story.results.institutions), lang)
        out.append(report.note(w["adjusted_unavailable"].replace("{n}", n)))
    return out
