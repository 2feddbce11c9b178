"""The providers that serve a gemeente's (jeugdregio's) youths, named: the gemeente contracts them
(``docs/design.md``: a gemeente report names them). Their own figures are in their own reports; a
figure per provider for only these youths is not shown (mostly too small under the disclosure rule)."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import esc, para

from .unit import UnitStory

NAME = "providers"


def build(story: UnitStory) -> list:
    """The heading, one sentence, and the providers as a list (escaped)."""
    w, lang = story.w, story.lang
    title = w["providers_title" if story.unit_kind == "municipality" else "providers_title_region"]
    items = [report.heading(title, 2, id=report.chapter_anchor("providers"), cls="oa-nobreak")]
    names = story.providers
    if not names:
        return items + [para(w["providers_none"])]
    items.append(para(w["providers_intro"].format(unit=story.institution, n=report.fmt_int(len(names), lang))))
    items.append(report.HTML('<ul class="oa-providers">' + "".join(f"<li>{esc(n)}</li>" for n in names) + "</ul>"))
    return items
