"""The first page of a gemeente (jeugdregio) report: which unit (name, code, jeugdregio), which youths,
the mapping used, the records without a gemeente, the comparable gemeenten and the three steps."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import esc, para

from .unit import UnitStory

NAME = "cover"


def build(story: UnitStory) -> list:
    """Title, "Utrecht (GM0344), jeugdregio ...", the introduction, the three steps, the comparable
    gemeenten, the mapping used and "gemeente onbekend: N" (rounded by the disclosure rule)."""
    w, lang = story.w, story.lang
    care = ", ".join(story.care_label(c) for c in story.care_types)
    intro = w["intro" if story.unit_kind == "municipality" else "intro_region"]
    items = [
        report.heading(w["title"][story.unit_kind].format(unit=story.institution), 2,
                       id=report.chapter_anchor("cover"), cls="oa-nobreak"),
        # marked with the document and unit kind, so the export can tell a unit report from an
        # institution report (its cover box "Wat staat in dit rapport" lists the institution's sections)
        report.HTML(f'<p class="oa-lead oa-unit-named" data-document="municipality" '
                    f'data-unit-kind="{esc(story.unit_kind)}">{esc(story.named)}</p>'),
        para(intro.format(unit=story.institution, period=story.period_text, care_types=care), "oa-lead"),
        para(w["steps"].format(comparators=story.comparators_text)),
    ]
    if story.unit_kind == "municipality":
        names = story.neighbours
        items.append(report.HTML(f"<h3>{esc(w['neighbours_title'])}</h3>"))
        if names:
            items.append(para(w["neighbours_text"].format(k=report.fmt_int(len(names), lang), unit=story.institution,
                                                          names=", ".join(names))))
        else:
            items.append(para(w["neighbours_none"]))
    facts = story.facts
    if facts.get("mapping"):
        as_of = w["mapping_as_of"].format(date=report.fmt_date(facts["mapping_as_of"], lang)) \
            if facts.get("mapping_as_of") else ""
        items.append(para(w["mapping_used"].format(source=facts["mapping"], as_of=as_of)))
    if facts.get("n_unknown"):
        items.append(para(w["unknown_count"].format(
            unknown=w["unknown_name"][story.unit_kind], n=report.fmt_count_rounded(facts["n_unknown"], lang,
                                                                         settings=story.settings))))
    return items
