"""How the figures of a gemeente (jeugdregio) report were computed, in a few sentences (the method
note; the full methods are in the methods document)."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import para

from .unit import UnitStory

NAME = "method"


def build(story: UnitStory) -> list:
    """The heading and the method note."""
    return [report.heading(story.w["method_title"], 2, id=report.chapter_anchor("method")),
            para(story.w["method_text"])]
