"""Section "Voor het gesprek": the first page after the cover. What goes well, what needs
attention (each with a page reference to its indicator section) and three to five questions
chosen from this institution's own stored verdicts and largest gaps.

Everything said here is read from the figures and verdicts the other sections print
(:meth:`Story.headline_frame <outcome_analysis.presentation.story.Story.headline_frame>`: the
stored comparisons of the results store); numbers go through the formatters of
:mod:`outcome_analysis.presentation.report`, so the leak-audit ledger holds each of them. A figure
hidden by disclosure control is never named with a number. The words live in
``data/texts/conversation.yaml`` (nl and en).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from outcome_analysis import texts
from outcome_analysis.contract.periods import previous_period
from outcome_analysis.indicators import registry
from outcome_analysis.presentation import ledger, report
from outcome_analysis.presentation.report import is_missing
from outcome_analysis.presentation.story import Story, deciding_verdict, esc, is_suppressed

NAME = "conversation"
#: the ``id`` of the section's h2.
ANCHOR = "h-conversation"
#: at most this many points under "what goes well" and under "what needs attention".
MAX_ITEMS = 4
#: the page asks at least and at most this many questions.
MIN_QUESTIONS, MAX_QUESTIONS = 3, 5
#: a measurement filled in for fewer than this share of the trajectories gets a question.
LOW_RESPONSE = 0.5
#: a median wait (days) from registration to first contact from which waiting gets a question.
LONG_WAIT_DAYS = 42
#: a share of end reasons "onbekend" from which recording the reason gets a question.
UNKNOWN_REASONS = 0.1


@dataclass
class Point:
    """One point of the page: an indicator (or topic) with its sentence, its direction and the
    size of its gap (the distance between the two printed shares, 0..1; used to sort)."""

    key: str                 # registry id, or "waiting" / "unknown" / "response:<id>"
    label: str               # the name in words (the indicator's label)
    sentence: str            # plain text, already formatted
    kind: str                # "good", "bad" or "neutral"
    gap: float = 0.0
    family: str = "general"
    care_type: str = ""
    question_key: str = ""   # "bad" / "good" / "neutral" / "worsened"
    extra: dict = field(default_factory=dict)


def texts_for(lang: str) -> dict:
    """The page's texts in ``lang`` (``data/texts/conversation.yaml``)."""
    return texts.for_lang("conversation", lang)


def families() -> dict[str, str]:
    """Indicator id -> question family (``data/texts/conversation.yaml``, ``families``)."""
    return dict(texts.load("conversation")["families"])


def build(story: Story) -> list:
    """The heading (h2 with ``id`` :data:`ANCHOR`), the introduction, what goes well and what needs
    attention (or, without a comparison, the own figures over time), and the questions."""
    t = texts_for(story.lang)
    with ledger.context(section=NAME):
        good, bad, own, neutral = points(story)
        questions = choose_questions(story, good, bad, own, neutral)
    period = story.period_text
    items = [report.HTML(f'<h2 id="{ANCHOR}">{esc(t["heading"])}</h2>')]
    if story.compared:
        items.append(_p(t["intro"].format(institution=story.institution, period=period), "oa-lead"))
        than = story.comparator["than"]
        raw = "" if _has_model(story) else "_raw"  # no expectation without a case-mix model
        items.append(_block(t["good_heading"], [p for p in good if p.kind == "good"][:MAX_ITEMS],
                            t["none_good" + raw].format(than=than), story, t))
        in_line = _in_line(story, t, neutral, raw)
        items.append(_block(t["attention_heading"], bad[:MAX_ITEMS],
                            t["none_attention" + raw].format(than=than), story, t, tail=in_line))
    else:
        items.append(_p(t["intro_alone"].format(institution=story.institution, period=period), "oa-lead"))
        items.append(_block(t["own_heading"], own[:MAX_ITEMS * 2], t["none_own"], story, t, tail=""))
        if bad:
            items.append(_block(t["attention_heading"], bad[:MAX_ITEMS], "", story, t))
    items.append(report.HTML(f"<h3>{esc(t['questions_heading'])}</h3>"))
    lis = "".join(f"<li><strong>{esc(label)}.</strong> {esc(text)}{_ref(key, story, t)}</li>"
                  for key, label, text in questions)
    items.append(report.HTML(f'<ol class="oa-questions oa-conversation-end">{lis}</ol>'))  # CSS: break-after: page
    return items


# --------------------------------------------------------------------------------------------
# the points
# --------------------------------------------------------------------------------------------
def points(story: Story) -> tuple[list[Point], list[Point], list[Point], list[Point]]:
    """The page's points, each list sorted by gap (largest first):

    - ``good``: a favourable stored verdict (against the comparator, after adjustment, or the
      change from the previous period);
    - ``bad``: an unfavourable one, plus a measurement filled in for few trajectories, a long
      wait and many unknown end reasons;
    - ``own``: every shown figure beside its previous period (what to discuss without verdicts);
    - ``neutral``: shown figures whose verdicts are all "within".
    """
    t, lang = texts_for(story.lang), story.lang
    fam = families()
    frame = story.headline_frame()
    good, bad, own, neutral = [], [], [], []
    for _, r in frame.iterrows() if len(frame) else []:
        if r["status"] != "getoond" or r["suppressed"] or is_missing(r["value"]):
            continue
        entry = registry.get(r["indicator"])
        label = plain(r["label"])
        base = dict(key=entry.id, label=label, family=fam.get(entry.id, "general"), care_type=r["care_type"])
        words = {"Label": label, "label": _lower_first(label), "than": story.comparator.get("than", "")}
        with ledger.context(indicator=entry.id, care_type=r["care_type"], period=r["shown_period"]):
            point = _verdict_point(story, r, entry, base, words, t)
            prev_shown = not (r["previous_suppressed"] or is_missing(r["previous_value"]))
            value = report.fmt_pct(r["value"], 1, lang)
            prev_label = report.fmt_period(previous_period(r["shown_period"]), lang)
            if prev_shown:
                ref = report.fmt_pct(r["previous_value"], 1, lang)
                own.append(Point(sentence=t["items"]["own"].format(**words, value=value, ref=ref, period=report.fmt_period(r["shown_period"], lang), previous=prev_label),
                                 kind="neutral", gap=abs(float(r["value"]) - float(r["previous_value"])),
                                 question_key="neutral", **base))
            else:
                own.append(Point(sentence=t["items"]["own_single"].format(**words, value=value, period=report.fmt_period(r["shown_period"], lang), previous=prev_label),
                                 kind="neutral", gap=0.0, question_key="neutral", **base))
            if point is None:
                nat = r["national_value"]
                gap = 0.0 if (r["national_hidden"] or is_missing(nat)) else abs(float(r["value"]) - float(nat))
                neutral.append(Point(sentence="", kind="neutral", gap=gap, question_key="neutral", **base))
            elif point.kind == "good":
                good.append(point)
            else:
                bad.append(point)
            response = _response_point(story, r, entry, base, words, t)
            if response is not None:
                bad.append(response)
    bad += _context_points(story, t)
    key = lambda p: -p.gap  # noqa: E731
    return sorted(good, key=key), sorted(bad, key=key), sorted(own, key=key), sorted(neutral, key=key)


def _verdict_point(story: Story, r, entry, base: dict, words: dict, t: dict) -> Point | None:
    """The point of one shown figure from its stored verdicts, read as every other section reads
    them (one verdict, :func:`~outcome_analysis.presentation.story.deciding_verdict`): where a
    case-mix model exists its adjusted verdict decides (a raw gap is no point here, also when the
    model cannot judge); without a model the comparison with the comparator; then the change from
    the previous period; ``None`` when all are "within"."""
    lang = story.lang
    value = report.fmt_pct(r["value"], 1, lang)
    ref_row, adj, change = r["reference"], r["adjusted"], r["change"]
    nat = r["national_value"]
    nat_hidden = bool(r["national_hidden"]) or is_missing(nat)
    deciding = deciding_verdict(adj, ref_row)
    if deciding is adj and _decided(adj):
        kind = "good" if adj["favourable"] else "bad"
        sentence = t["items"]["adjusted_" + kind].format(**words, value=value)
        gap = 0.0 if nat_hidden else abs(float(r["value"]) - float(nat))
        return _with_worsened(story, r, Point(sentence=sentence, kind=kind, gap=gap, question_key=kind, **base),
                              words, t)
    if deciding is ref_row and _decided(ref_row):
        kind = "good" if ref_row["favourable"] else "bad"
        if nat_hidden:
            sentence = t["items"][ref_row["signal"] + "_alone"].format(**words, value=value)
            gap = abs(float(r["value"]) - float(ref_row.get("reference_value") or r["value"]))
        else:
            sentence = t["items"][ref_row["signal"]].format(**words, value=value, ref=report.fmt_pct(nat, 1, lang))
            gap = abs(float(r["value"]) - float(nat))
        point = Point(sentence=sentence, kind=kind, gap=gap, question_key=kind, **base)
        return _with_worsened(story, r, point, words, t)
    if _decided(change) and not (r["previous_suppressed"] or is_missing(r["previous_value"])):
        kind = "good" if change["favourable"] else "bad"
        sentence = t["items"]["rising" if change["signal"] == "higher" else "falling"].format(
            **words, value=value, ref=report.fmt_pct(r["previous_value"], 1, lang),
            previous=report.fmt_period(previous_period(r["shown_period"]), lang))
        gap = abs(float(r["value"]) - float(r["previous_value"]))
        return Point(sentence=sentence, kind=kind, gap=gap, question_key=kind, **base)
    return None


def _decided(row) -> bool:
    """A stored verdict that says higher or lower with a known favourable."""
    return (row is not None and row.get("signal") in ("higher", "lower")
            and row.get("favourable") is not None and not is_missing(row.get("favourable")))


def _with_worsened(story: Story, r, point: Point, words: dict, t: dict) -> Point:
    """An unfavourable ROM point gets the share of trajectories whose problems got reliably worse
    beside the pooled share, when both are shown and the institution's is the larger."""
    if point.kind != "bad" or point.family != "rom" or not story.compared:
        return point
    entry = registry.get(r["indicator"])
    mine = story.rows(entry, r["care_type"], r["shown_period"], category="rci:deteriorated")
    pooled = story.rows(entry, r["care_type"], r["shown_period"], scope="national", category="rci:deteriorated")
    if mine.empty or pooled.empty:
        return point
    m, p = mine.iloc[0].to_dict(), pooled.iloc[0].to_dict()
    if is_suppressed(m) or report.figure_hidden(p, story.settings.min_denominator):
        return point
    if is_missing(m.get("value")) or is_missing(p.get("value")) or float(m["value"]) <= float(p["value"]):
        return point
    with ledger.context(category="rci:deteriorated"):
        extra = t["items"]["worsened"].format(value=report.fmt_pct(m["value"], 1, story.lang), than=words["than"],
                                              ref=report.fmt_pct(p["value"], 1, story.lang))
    point.sentence += " " + extra
    point.question_key = "worsened"
    return point


def _response_point(story: Story, r, entry, base: dict, words: dict, t: dict) -> Point | None:
    """A measurement filled in for fewer than :data:`LOW_RESPONSE` of the trajectories."""
    measure = t["measures"].get(entry.id)
    if not measure:
        return None
    mine = story.figure(entry, r["care_type"], r["shown_period"]) or {}
    den, miss = mine.get("denominator"), mine.get("missing")
    if is_missing(den) or is_missing(miss) or float(miss) <= 0:
        return None
    share = float(den) / (float(den) + float(miss))
    if share >= LOW_RESPONSE:
        return None
    sentence = t["items"]["response"].format(Measure=_upper_first(measure), pct=report.fmt_pct(share, 0, story.lang))
    return Point(**dict(base, key="response:" + entry.id, family="response"), sentence=sentence, kind="bad",
                 gap=LOW_RESPONSE - share, question_key="bad", extra={"measure": measure, "indicator": entry.id})


def _context_points(story: Story, t: dict) -> list[Point]:
    """A long median wait and many unknown end reasons (visible rows only)."""
    out = []
    waits = []
    for care_type in story.care_types:
        w = story.context_rows("ctx_wachttijd", care_type, "institution")
        if len(w):
            w = w[(w["category"] == "quantile:p50") & ~w["suppressed"].astype(bool)]
            waits += [float(v) for v in w["value"] if not is_missing(v)]
    if waits and max(waits) >= LONG_WAIT_DAYS:
        with ledger.context(indicator="ctx_wachttijd"):
            days = report.fmt_number(max(waits), 0, story.lang)
        out.append(Point(key="ctx_wachttijd", label=t["labels"]["waiting"], family="wachttijd",
                         sentence=t["items"]["waiting"].format(days=days), kind="bad", gap=0.0, question_key="bad"))
    unknown = story.unknown_reason_shares()
    if unknown and max(unknown.values()) >= UNKNOWN_REASONS:
        care_type = max(unknown, key=unknown.get)
        ind = "jh_uitval" if care_type == "jeugdhulp" else "jbjr_verloop"
        with ledger.context(indicator=ind, care_type=care_type, category="end_reason:onbekend"):
            pct = report.fmt_pct(unknown[care_type], 1, story.lang)
        out.append(Point(key=ind, label=t["labels"]["unknown"], family="unknown", care_type=care_type,
                         sentence=t["items"]["unknown"].format(pct=pct), kind="bad", gap=0.0, question_key="bad"))
    return out


# --------------------------------------------------------------------------------------------
# the questions
# --------------------------------------------------------------------------------------------
def choose_questions(story: Story, good: list[Point], bad: list[Point], own: list[Point],
                     neutral: list[Point]) -> list[tuple[str, str, str]]:
    """Three to five questions ``(indicator key, label, question)``: the worst unfavourable points
    first (up to three), the best favourable one, then the remaining unfavourable and favourable
    points, then (to reach three) the figures with the largest gaps or changes. One question per
    indicator."""
    t = texts_for(story.lang)
    bad_verdicts = [p for p in bad if p.family not in ("response", "wachttijd", "unknown")]
    others = [p for p in bad if p.family in ("response", "wachttijd", "unknown")]
    order = bad_verdicts[:3] + good[:1] + others[:1] + bad_verdicts[3:] + good[1:] + others[1:]
    fill = own if not story.compared else neutral
    order += [p for p in fill]
    out, seen = [], set()
    for p in order:
        if len(out) >= MAX_QUESTIONS:
            break
        if (p.family, p.key) in seen or any(k == p.key and p.family != "response" for k, _, _ in out):
            continue
        if p.question_key == "neutral" and any(f == p.family for f, _ in seen):
            continue  # a figure in line gets a question only for a topic not asked about yet
        text = _question(story, p, t)
        if text:
            seen.add((p.family, p.key))
            out.append((p.key.split(":", 1)[-1], p.label, text))
    # too few: the indicators without a figure to show (too little data, or hidden), then the
    # general question on the shown figures not asked about yet
    for p in _few_points(story, t) + [dict(key=p.key, label=p.label, text=t["questions"]["general"]["neutral"])
                                      for p in own + neutral]:
        if len(out) >= MIN_QUESTIONS:
            break
        if not any(k == p["key"] for k, _, _ in out):
            out.append((p["key"], plain(p["label"]), p["text"]))
    return out


def _few_points(story: Story, t: dict) -> list[dict]:
    """A question per headline indicator whose figure is not shown (too little data, or hidden by
    disclosure control): how to get enough measurements. No number of it is said."""
    frame = story.headline_frame()
    out = []
    for _, r in frame.iterrows() if len(frame) else []:
        if r["status"] not in ("te_weinig_gegevens", "verborgen"):
            continue
        measure = t["measures"].get(r["indicator"])
        words = _care_words(story, r["care_type"], t)
        text = (t["questions"]["few"]["measure"].format(measure=measure, label=_lower_first(plain(r["label"])), **words)
                if measure else t["questions"]["few"]["plain"].format(label=_lower_first(plain(r["label"])), **words))
        out.append(dict(key=r["indicator"], label=plain(r["label"]), text=text))
    return out


def _question(story: Story, p: Point, t: dict) -> str:
    bank = t["questions"].get(p.family) or t["questions"]["general"]
    text = bank.get(p.question_key) or bank.get("bad" if p.question_key == "worsened" else "") \
        or t["questions"]["general"].get(p.question_key if p.question_key != "worsened" else "bad")
    if not text:
        return ""
    indicator = p.extra.get("indicator", p.key)
    measure = p.extra.get("measure") or t["measures"].get(indicator, "")
    words = _care_words(story, p.care_type, t)
    try:
        return text.format(measure=measure, Measure=_upper_first(measure), **words)
    except (KeyError, IndexError):
        return ""


def _care_words(story: Story, care_type: str, t: dict) -> dict:
    """{who}, {Who}, {worker}: a GI's words when the institution has JB or JR trajectories (never
    "aanbieder"), else a jeugdhulp provider's."""
    if care_type == "jr" or (not care_type and story.care_types == ("jr",)):
        return dict(t["words"]["gi_jr"])
    if care_type == "jb" or any(c in ("jb", "jr") for c in story.care_types):
        return dict(t["words"]["gi"])
    return dict(t["words"]["jeugdhulp"])


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------
def _block(heading: str, pts: list[Point], empty: str, story: Story, t: dict, tail: str = "") -> report.HTML:
    html = f"<h3>{esc(heading)}</h3>"
    if pts:
        lis = "".join(f"<li>{esc(p.sentence)}{_ref(p.key.split(':', 1)[-1], story, t)}</li>" for p in pts)
        html += f'<ul class="oa-points">{lis}</ul>'
    elif empty:
        html += f'<p class="oa-note">{esc(empty)}</p>'
    if tail:
        html += f'<p class="oa-note">{esc(tail)}</p>'
    return report.HTML(html)


def _in_line(story: Story, t: dict, neutral: list[Point], raw: str = "") -> str:
    n = len(neutral)
    if not n:
        return ""
    than = story.comparator["than"]
    return t["in_line_one" + raw].format(than=than) if n == 1 else t["in_line" + raw].format(n=n, than=than)


def _has_model(story: Story) -> bool:
    """Whether any shown figure of the report has a case-mix adjusted verdict (a stored
    ``adjusted`` row): only then do the page's summary lines speak of what one may expect."""
    return any(story.verdicts(e, c)["adjusted"] is not None
               for e in story.entries() if e.headline == "share" for c in story.shown_care_types(e))


def _ref(key: str, story: Story, t: dict) -> str:
    """`` Zie <a class="page-ref" href="#ind-...">Uitval</a>.`` for an indicator with a section in
    this report; empty for a topic without one."""
    if key not in registry.REGISTRY:
        return ""
    entry = registry.get(key)
    target = entry.same_as or entry.id
    label = plain(registry.label(target, story.lang))
    before, _, after = t["see"].partition("{label}")
    return (f' <span class="oa-see">{esc(_upper_first(before))}<a class="page-ref" href="#{esc(report.anchor(target))}">'
            f"{esc(label)}</a>{esc(after)}.</span>")


_ABBREVIATION = re.compile(r"\s*\((?:GAS|ROM|RCI|LIJ|GI|JB|JR)\)")


def plain(label: str) -> str:
    """An indicator's label without the abbreviation of its method in brackets, as the page speaks
    plain Dutch (it is also the first page of the short edition): "Doelen gerealiseerd (GAS)" ->
    "Doelen gerealiseerd"; the method is named in the indicator's own section.

    >>> plain("Afname problematiek (ROM)")
    'Afname problematiek'
    """
    return _ABBREVIATION.sub("", str(label))


def _p(text: str, cls: str = "oa-note") -> report.HTML:
    return report.HTML(f'<p class="{cls}">{esc(text)}</p>')


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if len(text) > 1 and text[1:2].islower() else text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]
