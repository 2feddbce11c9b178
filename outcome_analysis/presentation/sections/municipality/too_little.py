"""The page instead of a report for a gemeente (jeugdregio) with too little data: the institution
report's too-little page (:mod:`..institution.too_little`, marked ``too_little_data`` for the
batch) in the unit's words, after the unit named with code and jeugdregio."""
from __future__ import annotations

from outcome_analysis.presentation.story import para

from ..institution import too_little as _institution
from .unit import UnitStory

NAME = "too_little"
STATUS_ATTRIBUTE = _institution.STATUS_ATTRIBUTE


def build(story: UnitStory) -> list:
    """The unit named ("Utrecht (GM0344), jeugdregio ...") and the too-little page."""
    return _institution.build(story) + [para(story.named)]
