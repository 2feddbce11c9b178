"""The institution report (``notebooks/institution_report.ipynb``) as sections, in reading order.

Each module has ``NAME`` and ``build(story) -> list`` of display items; ``story`` is the
:class:`~outcome_analysis.presentation.story.Story` of one institution and period. The page for an
institution with too little data (:mod:`.too_little`) is a section of its own, shown instead of the
report, so it is not listed here.
"""
from . import context, dialogue, indicators, methods, quality, summary, too_little, verloop

SECTIONS = (summary, indicators, verloop, context, dialogue, quality, methods)

__all__ = ["SECTIONS", "too_little"]
