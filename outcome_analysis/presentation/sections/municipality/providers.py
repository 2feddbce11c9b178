"""The providers that serve a gemeente's (jeugdregio's) youths, named (the gemeente contracts them;
``docs/design.md``), side by side: per care type and key indicator each provider's raw figure for
these youths under the disclosure rule (``–*`` where it is hidden, the number counted only where the
figure is shown) and the provider's national adjusted verdict over all its youths, in the words of
the institution report's Kerncijfers. There is no provider x gemeente verdict. The figures come from
the unit store (:mod:`outcome_analysis.running.unit_providers`); numbers only through
:mod:`outcome_analysis.presentation.report`'s formatters (the ledger)."""
from __future__ import annotations

from outcome_analysis.presentation import report
from outcome_analysis.presentation.report import is_missing
from outcome_analysis.presentation.story import esc, para

from .unit import UnitStory

NAME = "providers"

#: column widths (percent of the A4 text width): provider, figure, number, verdict.
WIDTHS = (38, 16, 12, 34)


def verdict_text(story: UnitStory, provider: str, indicator: str, care_type: str) -> str:
    """A provider's national verdict as HTML, in the Kerncijfers' words ("▲ hoger dan verwacht
    (gunstig)", "binnen verwachting", "te weinig gegevens om te vergelijken"); the unit report's
    "geen oordeel" when the store holds no adjusted verdict of the provider."""
    row = story.provider_verdict(provider, indicator, care_type)
    if row is None:
        return esc(story.w["providers_no_verdict"])
    sig = row.get("signal")
    if sig not in ("higher", "lower", "within"):
        return esc(report.ui(story.lang, "verdicts")["too_little"])
    text = report.nowrap(story.t["signal_short_" + sig])
    fav = row.get("favourable")
    if fav is not None and not is_missing(fav):
        text += " " + report.nowrap(f"({story.t['favourable'] if bool(fav) else story.t['unfavourable']})")
    return text


def _indicator_rows(story: UnitStory, care_type: str) -> list[tuple[str, str, object]]:
    """(indicator, label, pair rows) of ``care_type`` in the order of the key figures."""
    from ..institution.summary import row_label, summary_frame

    frame = summary_frame(story)
    out = []
    if frame.empty:
        return out
    for _, r in frame.loc[frame["care_type"] == care_type].iterrows():
        rows = story.provider_figures(r["indicator"], care_type, r["shown_period"])
        if rows is not None and not rows.empty:
            out.append((r["indicator"], row_label(story, r), rows))
    return out


def table(story: UnitStory, care_type: str) -> tuple[str, bool]:
    """The providers' table of ``care_type`` as HTML and whether a figure of it is hidden; ``""``
    when the care type has no provider figure, or none that the rule shows.

    One group of rows per indicator: the providers whose figure for these youths is shown, most
    records first, then one row that counts the providers whose figure the rule hides (a gemeente
    has dozens of providers, most with a handful of its youths: a row of ``–*`` each would fill
    pages and say nothing). An indicator without any shown provider figure is that one row."""
    w, lang = story.w, story.lang
    mark = report.ui(lang)["suppressed_mark"] + "*"
    body, any_hidden, any_shown = [], False, False
    for indicator, label, rows in _indicator_rows(story, care_type):
        body.append(f'<tr class="oa-provider-indicator"><th scope="rowgroup" colspan="4">{esc(label)}</th></tr>')
        hidden = rows["suppressed"].astype(bool).to_numpy()
        shown = rows.loc[~hidden].assign(_n=lambda f: f["denominator"].astype(float),
                                         _name=lambda f: f["provider"].astype(str).str.casefold())
        for r in shown.sort_values(["_n", "_name"], ascending=[False, True], kind="stable").to_dict("records"):
            any_shown = True
            body.append(f'<tr><td>{esc(r["provider"])}</td>'
                        f'<td class="oa-num">{report.nowrap(report.fmt_pct(r["value"], 1, lang))}</td>'
                        f'<td class="oa-num">{report.fmt_int(int(r["denominator"]), lang)}</td>'
                        f'<td>{verdict_text(story, r["provider"], indicator, care_type)}</td></tr>')
        if hidden.any():
            any_hidden = True
            n = report.fmt_int(int(hidden.sum()), lang)
            text = w["providers_others" if len(shown) else "providers_all_hidden"].format(n=n)
            body.append(f'<tr class="oa-provider-others"><td colspan="4">{esc(text)} '
                        f'<span class="nowrap">({esc(mark)})</span></td></tr>')
    if not any_shown:
        return "", any_hidden
    cols = "".join(f'<col style="width:{x}%">' for x in WIDTHS)
    heads = [(w["providers_col_provider"], ""), (w["providers_col_value"], ' class="oa-num"'),
             (w["providers_col_n"], ' class="oa-num"'), (w["providers_col_verdict"], "")]
    head = "".join(f'<th scope="col"{cls}>{esc(h)}</th>' for h, cls in heads)
    caption = w["providers_caption"].format(care_type=story.care_label(care_type), period=story.period_text)
    html = (f'<div class="oa-table-wrap"><table class="oa-table oa-provider-table"><caption>{esc(caption)}</caption>'
            f"<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")
    return html, any_hidden


def build(story: UnitStory) -> list:
    """The heading, the providers named, what the figures are (raw for these youths; the verdict is
    the provider's over all its youths), and per care type the providers' table."""
    w, lang = story.w, story.lang
    title = w["providers_title" if story.unit_kind == "municipality" else "providers_title_region"]
    items = [report.heading(title, 2, id=report.chapter_anchor("providers"), cls="oa-nobreak")]
    names = story.providers
    if not names:
        return items + [para(w["providers_none"])]
    items.append(para(w["providers_intro"].format(unit=story.institution, n=report.fmt_int(len(names), lang))))
    # one paragraph of names (a gemeente has dozens of providers: a list would fill a page)
    items.append(report.HTML('<p class="oa-providers">' + ", ".join(esc(n) for n in names) + ".</p>"))
    tables, any_hidden, none_shown = [], False, []
    for care_type in story.care_types:
        html, hidden = table(story, care_type)
        if html:
            tables.append(report.HTML(html))
            any_hidden |= hidden
        elif hidden:
            none_shown.append(story.care_label(care_type))
    if not tables:
        return items + [para(w["providers_no_figures"])]
    items.append(para(w["providers_raw"]))
    items.extend(tables)
    if none_shown:
        items.append(para(w["providers_care_hidden"].format(care_types=", ".join(none_shown), unit=story.institution)))
    if any_hidden:
        st = story.settings
        items.append(para(report.ui(lang)["suppressed_footnote"].format(n=st.min_denominator, cell=st.min_cell,
                                                                         count=st.min_count), "oa-footnote"))
    return items


__all__ = ["NAME", "build", "table", "verdict_text"]
