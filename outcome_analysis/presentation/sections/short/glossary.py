"""The short edition's glossary, "Wat betekent …": the few terms it uses, each in plain words."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story, esc, para

from ._common import heading, words

NAME = "glossary"


def build(story: Story) -> list:
    """The heading, one line, and a definition list of the terms (``short.yaml``: ``glossary``)."""
    w = words(story)
    terms = "".join(f"<dt>{esc(term)}</dt><dd>{esc(meaning)}</dd>" for term, meaning in w["glossary"].items())
    return [heading(w["glossary_title"], page_break=False), para(w["glossary_intro"]),
            report.HTML(f'<dl class="oa-glossary">{terms}</dl>')]
