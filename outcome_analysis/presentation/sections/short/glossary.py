"""The short edition's glossary, "Wat betekent …": the few terms it uses, each in plain words."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story, esc, para

from ._common import heading, words

NAME = "glossary"


def build(story: Story) -> list:
    """The heading, one line, and a definition list of the terms (``short.yaml``: ``glossary``); the
    pooled figure's term is its name in this delivery ("Landelijk" only for a delivery declared
    national) and, like the verdict, is left out when there is nothing to compare with."""
    w = words(story)
    terms = "".join(f"<dt>{esc(term)}</dt><dd>{esc(meaning)}</dd>" for term, meaning in glossary(story).items())
    # one block, kept whole on a page with its heading (it was cut from its heading at a page end)
    return [heading(w["glossary_title"], page_break=False),
            report.HTML(f'<div class="oa-glossary-block">{para(w["glossary_intro"])}'
                        f'<dl class="oa-glossary">{terms}</dl></div>')]


def glossary(story: Story) -> dict[str, str]:
    """Term -> meaning, in reading order, for this report's delivery (the terms of jeugdbescherming
    and jeugdreclassering only for an institution that offers one of them; the pooled figure and
    the verdict only when there is a comparison)."""
    w = words(story)
    jbjr = any(c in ("jb", "jr") for c in story.offered_care_types)
    out = {}
    for term, meaning in w["glossary"].items():
        if term in w["glossary_jbjr"] and not jbjr:
            continue
        if term == w["col_verdict"] and not story.compared:
            continue  # nothing to compare with: the tables have no verdict column to explain
        if term == "{comparator_label}":
            if not story.compared:
                continue
            scope = "national" if story.comparator["scope"] == "national" else "delivery"
            term = story.comparator["label"]
            meaning = meaning.replace("{comparator_meaning}", w["comparator_meaning"][scope])
        out[term] = meaning
    return out
