"""The short page instead of a report (an unknown institution, no ended trajectories, every figure
hidden): what is missing, and what to do.

The page marks itself: its items sit in ``<div class="oa-too-little" data-report-status="too_little_data">``,
which the batch reads from the rendered HTML to record the report as ``too_little_data``
(:func:`outcome_analysis.running.batch.worker.report_status`)."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story, esc, para

NAME = "too_little"
#: the wrapper's attribute the batch looks for (``running.batch.constants.TOO_LITTLE_MARKER``).
STATUS_ATTRIBUTE = 'data-report-status="too_little_data"'


def build(story: Story) -> list:
    """The heading, why there is no report, and what to do next, in one marked wrapper
    (:data:`STATUS_ATTRIBUTE`)."""
    t = story.t
    reason = t.get(f"reason_{story.status}", "").format(n=story.settings.min_denominator,
                                                         cell=story.settings.min_cell)
    parts = [f"<h2>{esc(t['too_little_title'])}</h2>",
             para(t["too_little"].format(institution=story.institution or "–", period=story.period_text), "oa-lead"),
             para(reason), para(t["too_little_next"])]
    return [report.HTML(f'<div class="oa-too-little" {STATUS_ATTRIBUTE}>' + "".join(str(p) for p in parts) + "</div>")]
