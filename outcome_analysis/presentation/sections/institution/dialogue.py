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
    # uitval and satisfaction against the pooled figure
    for fact, ids in (("uitval", ("jh_uitval",)), ("satisfaction", ("jh_tevredenheid", "jbjr_clientervaring"))):
        if not story.compared:
            break
        rows = visible[visible["indicator"].isin(ids)] if len(visible) else visible
        if len(rows):
            r = rows.iloc[0]
            out[fact] = report.compare((r["value"], r["ci_low"], r["ci_high"]),
                                       (r["national_value"], r["national_ci_low"], r["national_ci_high"]))
    # adjusted signal of the most notable indicator
    if len(visible):
        flagged = visible[visible["signal"].isin(["higher", "lower"])]
        pick = flagged.iloc[0] if len(flagged) else visible.iloc[0]
        out["indicator"] = pick["label"]
        if pick["signal"] in ("higher", "lower", "within"):
            out["signal"] = pick["signal"]
            fav = registry.favourable(registry.get(pick["indicator"]).direction, pick["signal"])
            if fav is not None:
                out["favourable"] = fav
        trend = _trend_fact(story, pick)
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


def _trend_fact(story: Story, row) -> str | None:
    """``rising``, ``falling`` or ``stable``: the latest visible figure against the one two periods
    before it (``None`` with fewer than three visible periods)."""
    entry = registry.get(row["indicator"])
    trend = story.trend_table(entry, row["care_type"], row["shown_period"])
    mine = trend[(trend["scope"] == "institution") & ~trend["suppressed"].astype(bool)].sort_values("period")
    if len(mine) < 3:
        return None
    first, last = mine.iloc[-3], mine.iloc[-1]
    verdict = report.compare((last["value"], last["ci_low"], last["ci_high"]),
                             (first["value"], first["ci_low"], first["ci_high"]))
    return {"higher": "rising", "lower": "falling"}.get(verdict, "stable")
