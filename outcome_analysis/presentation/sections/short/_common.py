"""What the short edition's sections share: its texts and plain headings."""
from __future__ import annotations

from outcome_analysis import texts
from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story


def words(story: Story) -> dict:
    """The texts of ``data/texts/short.yaml`` in the report's language."""
    return story._cached(("short_texts", story.lang), lambda: texts.for_lang("short", story.lang))


def heading(text: str, level: int = 2, page_break: bool = True) -> report.HTML:
    """An ``h2``/``h3`` heading; an ``h2`` without ``page_break`` does not start a new PDF page."""
    return report.heading(text, level, cls="" if page_break or level != 2 else "oa-nobreak")
