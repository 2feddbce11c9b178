"""The short edition's first page after the cover: what this is, for whom, and how to read the signs."""
from __future__ import annotations

from outcome_analysis.presentation.report import HTML
from outcome_analysis.presentation.story import Story, para

from ._common import heading, words

NAME = "cover"


def build(story: Story) -> list:
    """The heading, who it is for, what is in it, the signs of the verdict and why a figure may be hidden."""
    w = words(story)
    # the marker tells the export that this is the short edition (no contents page, no cover box of
    # the full report's contents)
    items = [HTML('<div class="oa-edition" data-edition="short" hidden></div>'), heading(w["cover_title"]),
             para(w["cover_lead"].format(institution=story.institution, period=story.period_text), "oa-lead"),
             para(w["cover_for"]), para(w["cover_what"]), para(w["cover_full"])]
    if story.compared:
        items += [para(w["cover_compare"].format(others=story.comparator.get("others") or story.comparator["name"])),
                  para(w["legend"])]
    else:
        items.append(para(w["cover_alone"]))
    items.append(para(w["cover_hidden"]))
    return items
