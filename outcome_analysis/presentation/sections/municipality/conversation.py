"""Questions for the gemeente-aanbieder conversation, in the three steps of CBS's Benchmark
Jeugdzorg (compare, look into striking differences, learn), chosen from the unit's stored verdicts
(the adjusted verdict where there is one: :func:`outcome_analysis.presentation.story.deciding_verdict`)."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import deciding_verdict, esc, para

from ..institution.summary import summary_frame
from .unit import UnitStory

NAME = "conversation"


def questions(story: UnitStory) -> dict[str, list[str]]:
    """Step key (``step_benchmark``, ``step_differences``, ``step_learn``) -> its questions."""
    w = story.w
    frame = summary_frame(story)
    shown = frame.loc[frame["status"].isin(["getoond", "verborgen"])] if not frame.empty else frame
    hidden = int(shown["suppressed"].sum()) if not shown.empty else 0
    benchmark = [w["q_benchmark_general"].format(comparators=story.comparators_text)]
    if hidden:
        benchmark.append(w["q_benchmark_hidden"].format(n=report.fmt_int(hidden, story.lang)))
    differences = []
    for _, r in shown.iterrows():
        verdict = deciding_verdict(r["adjusted"], r["reference"])
        if verdict is None or verdict.get("signal") not in ("higher", "lower"):
            continue
        fav = verdict.get("favourable")
        if fav is None or report.is_missing(fav):
            continue
        differences.append(w["q_better" if fav else "q_worse"].format(label=r["label"]))
    if not differences:
        differences.append(w["q_no_signal"])
    learn = []
    if story.providers:
        learn.append(w["q_learn_providers"].format(n=report.fmt_int(len(story.providers), story.lang)))
    if story.neighbours:
        learn.append(w["q_learn_neighbours"])
    return {"step_benchmark": benchmark, "step_differences": differences, "step_learn": learn}


def build(story: UnitStory) -> list:
    """The heading, the introduction and the questions per step."""
    w = story.w
    items = [report.heading(w["conversation_title"], 2, id=report.chapter_anchor("conversation")),
             para(w["conversation_intro"].format(unit=story.institution))]
    for step, qs in questions(story).items():
        if not qs:
            continue
        items.append(report.HTML(f"<h3>{esc(w[step])}</h3><ul>" + "".join(f"<li>{esc(q)}</li>" for q in qs)
                                 + "</ul>"))
    return items
