"""The key figures of the short edition: the NJi basisset (JB/JR) for a GI and the harmonised set
for jeugdhulp (not the prestatie-indicatoren), per set one sentence per figure in plain Dutch and a
simple table (figure, this institution, the pooled figure, the verdict in words and a sign that reads
in greyscale: ▲ better, ▼ less good, ● about the same, – cannot say).

The verdict is the stored one the full report's Kerncijfers read (:meth:`Story.verdicts`: the
case-mix adjusted verdict, else the raw comparison); a hidden figure is never printed (only the band
:func:`report.hidden_share_words` allows, and the verdict word); an experience figure has its
response rate beside it."""
from __future__ import annotations

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report
from outcome_analysis.presentation.report import is_missing
from outcome_analysis.presentation.story import Story, deciding_verdict, esc

from ._common import heading, words

NAME = "figures"

#: the indicator sets of the short edition, in reading order.
SETS = ("basisset_jbjr", "jeugdhulp_harmonised")


def build(story: Story) -> list:
    """The heading and, per set the institution has figures of, a sub-heading, the sentences and the table."""
    w = words(story)
    frame = story.headline_frame()
    items = [heading(w["figures_title"])]
    for set_id in SETS:
        ids = {e.id for e in story.entries(set_id)}
        rows = [r for _, r in frame.iterrows() if r["indicator"] in ids] if len(frame) else []
        if not rows:
            continue
        items.append(heading(w["set_titles"][set_id], 3))
        facts = [figure_facts(story, r) for r in rows]
        sentences = "".join(f"<li><strong>{esc(f['label'])}</strong>: {esc(f['sentence'])}</li>" for f in facts)
        items.append(report.HTML(f'<ul class="oa-short-figures">{sentences}</ul>'))
        items.append(table(story, facts))
    if story.compared:
        items.append(report.HTML(f'<p class="oa-footnote">{esc(w["legend"])}</p>'))
    return items


def verdict_key(story: Story, r) -> str:
    """``better`` / ``worse`` / ``same`` / ``unknown`` from the stored verdict of a headline row
    (:func:`~outcome_analysis.presentation.story.deciding_verdict`); ``none`` without a comparison or
    a verdict row."""
    if not story.compared:
        return "none"
    row = deciding_verdict(r["adjusted"], r["reference"])
    if not row:
        return "none" if r["status"] not in ("getoond", "verborgen") else "unknown"
    signal = row.get("signal")
    if signal == "within":
        return "same"
    if signal in ("higher", "lower"):
        fav = row.get("favourable")
        if fav is None or is_missing(fav):
            return "unknown"
        return "better" if fav else "worse"
    return "unknown"


def figure_facts(story: Story, r) -> dict:
    """One headline row as the short edition says it: ``label``, ``sentence`` (plain words, the
    verdict and the response rate), ``value`` and ``national`` (printed, or a word) and ``verdict``
    (sign and word)."""
    w = words(story)
    entry = registry.get(r["indicator"])
    label = plain_label(story, entry, r["care_type"])
    if r["shown_period"] != story.period:
        label += f" ({report.fmt_period(r['shown_period'], story.lang)})"
    key = verdict_key(story, r)
    facts = {"label": label, "value": w["no_figure"], "national": "", "verdict": w["verdict"][key], "response": "",
             "anchor": report.anchor(r["indicator"])}
    comparator = story.comparator.get("than") or story.comparator.get("name", "")
    if r["status"] not in ("getoond", "verborgen"):
        facts["sentence"] = w["status"].get(r["status"], r["status_text"])
        facts["verdict"] = ""
        return facts
    parts: list[str] = []
    if r["suppressed"]:
        facts["value"] = w["hidden_mark"]
        facts["national"] = w["hidden_mark"] if story.compared else ""
        parts.append(w["hidden"])
        unit = w["units"].get(entry.unit, entry.unit)
        band = report.hidden_share_words(r, story.settings, story.lang, unit, w, "hidden")
        if band:
            parts.append(band)
    else:
        value = report.fmt_pct(r["value"], 0, story.lang)
        facts["value"] = value
        parts.append(_capital(w["plain"].get(entry.id, "{value}").format(value=value)))
        if story.compared:
            facts["national"] = (w["hidden_mark"] if r["national_hidden"] or is_missing(r["national_value"])
                                 else report.fmt_pct(r["national_value"], 0, story.lang))
        response = response_rate(story, entry, r)
        if response:
            parts.append(w["response"].format(response=response))
            facts["response"] = w["response_label"].format(response=response)
    if entry.direction == "lower_better":
        parts.append(w["lower_better"])
    # an adjusted verdict compares with what these young people lead one to expect, not with the
    # pooled figure beside it ("53%, landelijk 71%: ongeveer zoals landelijk" misread it)
    adjusted = story.compared and r["adjusted"] is not None
    said = w["verdict_sentence_expected" if adjusted else "verdict_sentence"][key].format(comparator=comparator)
    if said:
        parts.append(said)
    if r["shown_period"] != story.period:
        parts.append(w["shown_year"].format(shown=report.fmt_period(r["shown_period"], story.lang)))
    facts["sentence"] = " ".join(parts)
    return facts


def response_rate(story: Story, entry: registry.Entry, r) -> str:
    """The response of an experience figure printed as a percentage, as the full edition says it
    (:func:`..institution.indicators.experience_response`: the share of ended trajectories with
    answers to the experience questions); empty for other figures, a hidden one, or a response the
    data-quality table does not show."""
    from ..institution.indicators import experience_response

    if r["suppressed"]:
        return ""
    rate = experience_response(story, entry, r["care_type"], r["shown_period"])
    return "" if rate is None else report.fmt_pct(rate, 0, story.lang)


def table(story: Story, facts: list[dict]) -> report.HTML:
    """The set's simple table: figure, this institution, the pooled figure and the verdict (the last
    two only with a comparison)."""
    w = words(story)
    heads = [w["col_figure"], w["col_mine"]] + ([story.comparator["label"], w["col_verdict"]] if story.compared else [])
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in heads)
    body = []
    anchored: set[str] = set()
    for f in facts:
        anchor = f.get("anchor", "")
        row_id = f' id="{esc(anchor)}"' if anchor and anchor not in anchored else ""  # the conversation page links here
        anchored.add(anchor)
        label = esc(f["label"]) + (f'<br><span class="oa-footnote">{esc(f["response"])}</span>' if f["response"] else "")
        cells = [f"<td>{label}</td>", f'<td class="oa-num">{esc(f["value"])}</td>']
        if story.compared:
            cells += [f'<td class="oa-num">{esc(f["national"])}</td>', f"<td>{esc(f['verdict'])}</td>"]
        body.append(f"<tr{row_id}>{''.join(cells)}</tr>")
    return report.HTML(f'<div class="oa-table-wrap"><table class="oa-table oa-short-table"><thead><tr>{head}</tr>'
                       f"</thead><tbody>{''.join(body)}</tbody></table></div>")


def plain_label(story: Story, entry: registry.Entry, care_type: str) -> str:
    """The indicator's plain name (``short.yaml``: ``labels``; the registry's label when it has
    none), with the care type in words when the figure is given for more than one."""
    w = words(story)
    text = w["labels"].get(entry.id) or entry.label(story.lang)
    if len(story.entry_care_types(entry)) > 1:
        text += f" ({w['care_short'].get(care_type, care_type)})"
    return text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
