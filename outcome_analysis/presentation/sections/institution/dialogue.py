"""Section 5, Vragen voor het gesprek: questions at the three levels, chosen from the facts the
figures show (:func:`facts`, in the vocabulary of ``data/texts/dialogue.yaml``)."""
from __future__ import annotations

import pandas as pd

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story, para

NAME = "dialogue"


def build(story: Story) -> list:
    """The heading, the introduction and the chosen questions."""
    questions = report.dialogue_questions(facts(story), story.lang)
    return [story.heading("dialogue"), para(story.t["dialogue_intro"].format(institution=story.institution)),
            report.dialogue_html(questions, story.lang)]


def facts(story: Story) -> dict:
    """What the figures show, in the vocabulary of ``data/texts/dialogue.yaml`` (absent when unknown)."""
    out: dict = {"period": story.period}
    if story.compared:  # the words for the pooled figure; without one, no question compares with it
        out["comparator_than"] = story.comparator["than"]
        out["comparator_with"] = story.comparator["with"]
    frame = story.headline_frame()
    visible = frame[~frame["suppressed"]] if len(frame) else frame
    # uitval and satisfaction: the stored raw verdict against the other institutions
    for fact, ids in (("uitval", ("jh_uitval",)), ("satisfaction", ("jh_tevredenheid", "jbjr_clientervaring"))):
        rows = visible[visible["indicator"].isin(ids)] if len(visible) else visible
        said = [r["reference"]["signal"] for _, r in rows.iterrows()
                if r["reference"] is not None and r["reference"]["signal"] in ("higher", "lower", "within")]
        if said:
            out[fact] = said[0]
    # the stored adjusted verdict of the most notable indicator
    if len(visible):
        flagged = visible[visible["signal"].isin(["higher", "lower"])]
        pick = flagged.iloc[0] if len(flagged) else visible.iloc[0]
        out["indicator"] = pick["label"]
        if pick["signal"] in ("higher", "lower", "within"):
            out["signal"] = pick["signal"]
            if pick["favourable"] is not None and not report.is_missing(pick["favourable"]):
                out["favourable"] = bool(pick["favourable"])
        trend = _trend_fact(pick)
        if trend:
            out["trend"] = trend
    # response: the lowest response of the visible headline indicators with missing items
    responses = []
    for _, r in visible.iterrows() if len(visible) else []:
        mine = story.figure(registry.get(r["indicator"]), r["care_type"], r["shown_period"])
        den, miss = float(mine.get("denominator") or 0), float(mine.get("missing") or 0)
        if den + miss > 0 and miss > 0:
            responses.append(den / (den + miss))
    if responses:
        out["response"] = min(responses)
    # onbekend end reasons
    unknown = story.unknown_reason_shares()
    if unknown:
        out["unknown_reasons"] = max(unknown.values())
    # waiting time (median), kwesties
    waits = []
    for care_type in story.care_types:
        w = story.context_rows("ctx_wachttijd", care_type, "institution")
        w = w[(w["category"] == "quantile:p50") & ~w["suppressed"].astype(bool)]
        if len(w):
            waits.append(float(w.iloc[0]["value"]))
        k = story.context_rows("ctx_kwesties", care_type, "institution")
        k = k[~k["suppressed"].astype(bool)].sort_values("value", ascending=False)
        if len(k) and float(k.iloc[0]["value"]) > out.get("kwestie_share", 0):
            out["kwestie"] = registry.category_label(k.iloc[0]["category"], story.lang)
            out["kwestie_share"] = float(k.iloc[0]["value"])
    if waits:
        out["waiting_days"] = max(waits)
    # small numbers: any headline hidden, or most headline denominators below 50
    if len(frame):
        small = frame["suppressed"].any() or (pd.to_numeric(frame["denominator"]) < 50).mean() > 0.5
        out["small_numbers"] = bool(small)
    return out


def _trend_fact(row) -> str | None:
    """``rising``, ``falling`` or ``stable``: the stored verdict of the change from the previous
    period (``raw_previous``; Newcombe's interval excludes 0 or not); ``None`` without one."""
    change = row["change"]
    if change is None or change.get("signal") not in ("higher", "lower", "within"):
        return None
    return {"higher": "rising", "lower": "falling"}.get(change["signal"], "stable")
