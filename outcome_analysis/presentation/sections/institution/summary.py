"""Section 1, Samenvatting: what this report is, how to read it and the headline figures in a table
("Kerncijfers"); each figure in words opens its indicator's section (:func:`sentence`)."""
from __future__ import annotations

from outcome_analysis.contract.periods import parse_period, previous_period
from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report
from outcome_analysis.presentation.report import is_missing
from outcome_analysis.presentation.story import Story, esc, para

NAME = "summary"


def build(story: Story) -> list:
    """The introduction, the Kerncijfers table, the window note and the figures in words."""
    t = story.t
    care = ", ".join(story.care_label(c) for c in story.care_types)
    items = [
        report.heading(t["summary"], 2, id=report.chapter_anchor("summary")),
        para(t["intro"].format(institution=story.institution, period=story.period_text, care_types=care), "oa-lead"),
        para(t["how_to_read" if story.compared else "how_to_read_alone"].format(
            n=story.settings.min_denominator, cell=story.settings.min_cell, r=story.settings.round_to)),
        para(story.comparator["scope_note"]),
        headline_table(story),
    ]
    absent = story.absent_sentence()
    if absent:
        items.append(para(absent))
    note = window_summary_note(story)
    if note:
        items.append(para(note))
    # the figures in words open each indicator's section (indicators.in_words): here the table and
    # the conversation page before it are the digest
    items.append(para(t["summary_more"] if story.compared else t["summary_more_alone"]))
    return items


def summary_frame(story: Story):
    """:meth:`Story.headline_frame` with each indicator counted once: an indicator that restates
    another one of the report (:data:`report.RELATED`, e.g. ``pi07`` beside ``jbjr_verloop``) is
    left to its own chapter."""
    frame = story.headline_frame()
    if frame.empty:
        return frame
    related = {(i, c) for i, (_other, c) in report.RELATED.items()}
    keep = [(i, c) not in related for i, c in zip(frame["indicator"], frame["care_type"])]
    return frame.loc[keep].reset_index(drop=True)


def headline_table(story: Story) -> report.HTML:
    """The compact summary ("Kerncijfers"): per indicator its figure, the pooled figure (with a
    comparison; else the previous period) and the adjusted verdict in words, or across the figure
    columns its status in words ("Niet aangeleverd: ..."). Intervals, counts and W/V stand in the
    indicator's own section (linked from its label)."""
    t = story.t
    frame = summary_frame(story)
    if frame.empty:
        return para(t["reason_all_suppressed"].format(n=story.settings.min_denominator, cell=story.settings.min_cell))
    lang = story.lang
    hidden = report.ui(lang)["suppressed_mark"] + "*"
    heads = [(t["col_indicator"], False), (t["col_value"], True)]
    if story.compared:
        heads += [(t["col_national"], True), (t["col_verdict"], False)]
        widths = [44, 13, 15, 28]
    else:
        heads.append((t["col_previous"], True))
        widths = [60, 20, 20]
    body, any_hidden = [], False
    for _, r in frame.iterrows():
        first = f'<td><a href="#{report.anchor(r["indicator"])}">{esc(row_label(story, r))}</a></td>'
        if r["status"] not in ("getoond", "verborgen"):
            body.append(status_row(first, r["status_text"], len(heads) - 1))
            continue
        shown = not r["suppressed"]
        any_hidden |= not shown
        numbers = [report.fmt_pct(r["value"], 1, lang) if shown else hidden]
        if story.compared:
            numbers.append(story.pct_or_mark(r["national_value"], bool(r["national_hidden"])))
            any_hidden |= bool(r["national_hidden"])
        else:
            prev_hidden = bool(r["previous_suppressed"])
            if is_missing(r["previous_value"]) and not prev_hidden:
                numbers.append(report.MISSING_MARK[lang])
            else:
                numbers.append(story.pct_or_mark(r["previous_value"], prev_hidden or is_missing(r["previous_value"])))
                any_hidden |= prev_hidden
        cells = first + "".join(f'<td class="oa-num">{report.nowrap(c)}</td>' for c in numbers)
        if story.compared:
            cells += f"<td>{verdict_words(story, r)}</td>"
        body.append(f"<tr>{cells}</tr>")
    num_cls = ' class="oa-num"'
    head = "".join(f'<th scope="col"{num_cls if num else ""}>{esc(h)}</th>' for h, num in heads)
    cols = "".join(f'<col style="width:{w}%">' for w in widths)
    table = table_html(story, head, body, any_hidden, colgroup=f"<colgroup>{cols}</colgroup>")
    legend = (t["headline_legend_reference"] if _against_reference(story) else t["headline_legend"]) \
        if story.compared else t["headline_legend_alone"]
    return report.HTML(table + str(para(legend, "oa-footnote")))


def _against_reference(story: Story) -> bool:
    """Whether the Kerncijfers' verdicts are raw comparisons with a published national reference:
    scope ``reference`` and no case-mix model in the results (a delivery of one institution)."""
    return story.comparator["scope"] == "reference" and story.results.casemix.empty


def verdict_words(story: Story, r) -> str:
    """The Kerncijfers' verdict cell as HTML: the stored adjusted verdict in words with its
    favourable word ("▲ hoger dan verwacht (gunstig)"), each part unbreakable; "te weinig gegevens om
    te vergelijken" for a verdict ``none``; empty without an adjusted row, except against a published
    reference without a model: its raw verdict ("▼ lager dan landelijk (ongunstig)"). Never a number: the O/E and
    its range stand in the indicator's section."""
    row, key = r["adjusted"], "signal_short_"
    if row is None and _against_reference(story):  # no model: the raw verdict against the published figure
        row, key = r["reference"], "signal_reference_"
        if row is None or row.get("text_key") == "suppressed" or row.get("signal") not in ("higher", "lower", "within"):
            return ""
    if row is None or (r["suppressed"] and row.get("signal") not in ("higher", "lower", "within")):
        return ""
    sig = row.get("signal")
    if sig not in ("higher", "lower", "within"):
        return esc(report.ui(story.lang, "verdicts")["too_little"])
    text = report.nowrap(story.t[key + sig])
    fav = row.get("favourable")
    if fav is not None and not is_missing(fav):
        text += " " + report.nowrap(f"({story.t['favourable'] if fav else story.t['unfavourable']})")
    return text


def row_label(story: Story, r) -> str:
    """The label of a headline row, with the period it shows when that is not the report period
    ("Herhaald beroep (JB) (2023)")."""
    return r["label"] + (f" ({report.fmt_period(r['shown_period'], story.lang)})"
                         if r["shown_period"] != story.period else "")


def status_row(first_cell: str, status_text: str, span: int) -> str:
    """A key-figures row whose figure columns (``span`` of them) say the indicator's status in
    words ("Niet aangeleverd: ...") instead of numbers."""
    return (f'<tr class="oa-status">{first_cell}<td colspan="{span}" class="oa-status-text">'
            f"{esc(status_text)}</td></tr>")


def table_html(story: Story, head: str, body: list[str], any_hidden: bool, *, cls: str = "oa-headline-table",
               colgroup: str = "") -> str:
    """A key-figures table: the caption "Kerncijfers <period>", the header cells ``head``, the rows
    ``body``, and the note on hidden figures (the thresholds in force) when ``any_hidden``."""
    st = story.settings
    caption = story.t["headline_table_caption"].format(period=story.period_text)
    table = (f'<div class="oa-table-wrap"><table class="oa-table {cls}"><caption>{esc(caption)}</caption>'
             f"{colgroup}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    if any_hidden:
        note = report.ui(story.lang)["suppressed_footnote"].format(n=st.min_denominator, cell=st.min_cell,
                                                                    count=st.min_count)
        table += f'<p class="oa-footnote">{esc(note)}</p>'
    return table + "</div>"


def sentence(story: Story, r) -> str:
    """One row of :meth:`Story.headline_frame` in words: its status sentence, or its figure with the
    adjusted verdict first, the raw gap with the other institutions as context and the change from
    the previous period. The indicator's section opens with it (:func:`.indicators.in_words`)."""
    if r["status"] not in ("getoond", "verborgen"):
        return r["status_text"]
    me = {"value": r["value"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "suppressed": r["suppressed"],
          "numerator": r.get("numerator"), "denominator": r.get("denominator")}  # a hidden share: its band
    label_prev = None
    if parse_period(r["shown_period"])[2] != "year" or r["shown_period"] != story.period:
        label_prev = report.fmt_period(previous_period(r["shown_period"]), story.lang)
    entry = registry.get(r["indicator"])
    return report.headline_sentence(me, adjusted=r["adjusted"], reference=r["reference"], previous=r["change"],
                                    lang=story.lang, previous_label=label_prev,
                                    unit=report.ui(story.lang, "status")["units"].get(entry.unit),
                                    template=entry.sentence(story.lang, settings=story.settings),
                                    comparator=story.comparator, settings=story.settings)


def window_summary_note(story: Story) -> str:
    """One sentence naming each windowed indicator of the summary with its own window and the
    period shown, e.g. "herhaald beroep en uitblijven nieuwe beschermingsmaatregel: 12 maanden
    (dus 2023); uitblijven recidive: 24 maanden (dus 2022)"; empty when no figure is from an
    earlier period."""
    t = story.t
    groups: dict[tuple[int, str], list[str]] = {}
    for entry in story.summary_entries():
        shown = story.shown_period(entry)
        months = story.results.window_months(entry.id)
        if shown == story.period or not months:
            continue
        if not any(story.figure(entry, c, shown) is not None for c in story.entry_care_types(entry)):
            continue
        groups.setdefault((months, shown), []).append(_lower_first(entry.label(story.lang)))
    if not groups:
        return ""
    parts = [t["window_item"].format(labels=f" {t['and']} ".join(labels), months=months, shown=shown)
             for (months, shown), labels in sorted(groups.items())]
    return t["window_summary"].format(period=story.period_text, items="; ".join(parts))


def _lower_first(text: str) -> str:
    """``Herhaald beroep`` → ``herhaald beroep`` (not ``GAS`` → ``gAS``)."""
    return text[:1].lower() + text[1:] if len(text) > 1 and text[1:2].islower() else text
