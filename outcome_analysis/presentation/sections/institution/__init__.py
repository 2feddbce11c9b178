"""The institution report (``notebooks/institution_report.ipynb``) as sections, in reading order.

Each module has ``NAME`` and ``build(story) -> list`` of display items; ``story`` is the
:class:`~outcome_analysis.presentation.story.Story` of one institution and period. The page for an
institution with too little data (:mod:`.too_little`) is a section of its own, shown instead of the
report, so it is not listed here.
"""
from . import (actions, breakdowns, context, conversation, dialogue, indicators, methods, quality, reference,
               summary, too_little, verloop)

#: ``dialogue`` (the questions at three levels) is not listed: the questions are asked once, on
#: the conversation page, chosen from the institution's own verdicts; the module stays for its facts.
#: ``actions`` (the verbeteracties and their course) follows the indicator sections, before the appendices;
#: ``actions.NOTES``, the printed page for the conversation's notes and the actions agreed, is the last
#: page (a form to print and fill in at the table, not part of the reading).
SECTIONS = (conversation, summary, reference, indicators, verloop, context, actions, breakdowns, quality, methods,
            actions.NOTES)

__all__ = ["SECTIONS", "too_little"]
