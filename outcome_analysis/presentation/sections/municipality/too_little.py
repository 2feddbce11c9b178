"""The page instead of a report for a gemeente (jeugdregio) with too little data: the institution
report's too-little page (:mod:`..institution.too_little`, marked ``too_little_data`` for the
batch) in the unit's words, after the unit named with code and jeugdregio."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import esc, para

from ..institution import too_little as _institution
from .unit import UnitStory

NAME = "too_little"
STATUS_ATTRIBUTE = _institution.STATUS_ATTRIBUTE


def build(story: UnitStory) -> list:
    """The too-little page, the unit named ("Utrecht (GM0344), jeugdregio ...", marked as a unit
    report so the export leaves out the institution report's cover box) and, for a gemeente, where
    its youths are counted after all: the jeugdregio's report."""
    items = _institution.build(story) + [
        report.HTML(f'<p class="oa-unit-named" data-document="municipality" '
                    f'data-unit-kind="{esc(story.unit_kind)}">{esc(story.named)}</p>')]
    if story.unit_kind == "municipality" and story.region:
        items.append(para(story.w["too_little_region"].format(unit=story.institution, region=story.region)))
    return items
