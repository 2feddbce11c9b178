"""The short page instead of a report (an unknown institution, no ended trajectories, every figure
hidden): what is missing, and what to do."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story, esc, para

NAME = "too_little"


def build(story: Story) -> list:
    """The heading, why there is no report, and what to do next."""
    t = story.t
    reason = t.get(f"reason_{story.status}", "").format(n=story.settings.min_denominator,
                                                         cell=story.settings.min_cell)
    return [report.HTML(f"<h2>{esc(t['too_little_title'])}</h2>"),
            para(t["too_little"].format(institution=story.institution or "–", period=story.period_text), "oa-lead"),
            para(reason), para(t["too_little_next"])]
