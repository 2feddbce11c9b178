"""Section 2, per indicator set: every applicable indicator with its definition, figures (response,
window), trend and funnel, and the stored verdicts of its figure in words. Its breakdown tables stand
in the appendix "Uitsplitsingen" (:mod:`.breakdowns`), one line here points there; the mean
breakdowns (a sentence each, with their adjusted verdict) stay here."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import ledger, report
from outcome_analysis.presentation.report import is_missing
from outcome_analysis.presentation.story import CARE_TYPE_SHORT, Story, esc, is_suppressed, para, png

NAME = "indicators"


def build(story: Story) -> list:
    """Every indicator set of the report, one after the other."""
    return [item for set_id in story.sets() for item in indicator_set(story, set_id)]


def indicator_set(story: Story, set_id: str) -> list:
    """One set: its heading (the first set: where the numerators and denominators stand, the
    appendix's definitions), the care types it does not speak about, one list of the indicators it
    shares with another chapter of this report (:func:`elsewhere`; no section of their own), and
    every other applicable indicator."""
    items = [set_heading(story, set_id)]
    if set_id == story.sets()[0]:  # the numerator and denominator of each indicator: in the appendix
        link = f'<a class="page-ref" href="#{report.chapter_anchor("definitions")}">{esc(story.t["definitions_link"])}</a>'
        items.append(report.HTML(f'<p class="oa-note">{story.t["counts_where"].format(link=link)}</p>'))
    absent = story.absent_sentence(set_id)
    if absent:
        items.append(para(absent))
    items += elsewhere(story, set_id)
    for entry in story.entries(set_id):
        if own_section(story, entry):
            items += indicator_section(story, entry)
    return items


def set_heading(story: Story, set_id: str) -> report.HTML:
    """The h2 of an indicator set (id :func:`report.chapter_anchor` of the set); only the first set
    starts a new page in the PDF."""
    sets = story.sets()
    cls = "" if not sets or set_id == sets[0] else "oa-nobreak"
    return report.heading(registry.set_label(set_id, story.lang), 2, id=report.chapter_anchor(set_id), cls=cls)


def _restated(story: Story, entry: registry.Entry) -> dict[str, str]:
    """care type -> the indicator ``entry`` restates for it, for the care types this report shows."""
    return {c: entry.restates[c] for c in story.entry_care_types(entry) if entry.restates.get(c)}


def own_section(story: Story, entry: registry.Entry) -> bool:
    """Whether ``entry`` gets a section of its own: not when it is computed as another indicator
    (``same_as``), nor when for every care type of the report it restates another one."""
    if entry.same_as:
        return False
    care_types = story.entry_care_types(entry)
    return not care_types or len(_restated(story, entry)) < len(care_types)


def shown_ids(story: Story) -> set[str]:
    """The ids of the indicators with a section (and so a heading with an id) in this report."""
    return {e.id for e in story.entries() if own_section(story, e)}


def _link(story: Story, indicator_id: str) -> str:
    """A link to an indicator's heading in this report, its label as the text."""
    return (f'<a class="page-ref" href="#{report.anchor(indicator_id)}">'
            f"{esc(registry.label(indicator_id, story.lang))}</a>")


def elsewhere(story: Story, set_id: str) -> list:
    """One short list of the set's indicators that are computed as an indicator of another chapter
    (``same_as``, ``restates``), each with a link to that indicator's heading; an indicator whose
    counterpart is not in this report (e.g. a jeugdhulp indicator in a GI report) is left out. Empty
    when there is none."""
    t, shown = story.t, shown_ids(story)
    lines = []
    for entry in story.entries(set_id):
        if entry.same_as and entry.same_as in shown:
            lines.append(t["elsewhere_same"].format(label=esc(entry.label(story.lang)), other=_link(story, entry.same_as)))
        elif not entry.same_as:
            restated = {c: i for c, i in _restated(story, entry).items() if i in shown}
            if restated and not own_section(story, entry):
                parts = [t["elsewhere_care_item"].format(care_type=esc(story.care_label(c)), other=_link(story, i))
                         for c, i in restated.items()]
                lines.append(t["elsewhere_restates"].format(label=esc(entry.label(story.lang)),
                                                            items="; ".join(parts)))
    if not lines:
        return []
    body = "".join(f"<li>{line}</li>" for line in lines)
    return [report.HTML(f'<p class="oa-note">{esc(t["elsewhere_intro"])}</p><ul class="oa-elsewhere">{body}</ul>')]


def indicator_section(story: Story, entry: registry.Entry | str) -> list:
    """One indicator: definition, figures with response and window, breakdown, trend + funnel,
    the adjusted comparison in words. A pointer only when it restates another indicator.

    With two care types (JB and JR) the layout does not repeat: one figures table and one table
    per breakdown with a care-type column, one figure with a row per care type, then the
    adjusted comparison per care type. The numbers printed are recorded in the ledger under the
    indicator's id (:func:`outcome_analysis.presentation.ledger.context`)."""
    entry = registry.get(entry) if isinstance(entry, str) else entry
    with ledger.context(indicator=entry.id):
        return _indicator_section(story, entry)


def _indicator_section(story: Story, entry: registry.Entry) -> list:
    t = story.t
    items = [report.heading(entry.label(story.lang), 3, id=report.anchor(entry.id))]
    if entry.same_as:
        return items + [report.HTML(f'<p class="oa-note">{t["same_as"].format(other=_link(story, entry.same_as))}</p>')]
    items.append(para(explained(story, entry.definition(story.lang))))
    if entry.id in report.RELATED:
        other, care_type = report.RELATED[entry.id]
        if care_type in story.offered_care_types:
            items.append(report.HTML(f'<p class="oa-note">{t["related_" + entry.id].format(other=_link(story, other))}</p>'))
    if entry.provisional:
        items.append(para(t["provisional"]))
    shown_types, notes = [], []
    several = len(story.entry_care_types(entry)) > 1
    for care_type in story.entry_care_types(entry):
        status = story.indicator_status(entry, care_type)["status"]
        restated = entry.restates.get(care_type)
        if status == "niet_van_toepassing":
            notes.append(para(story.status_text(entry, care_type)))
        elif restated:
            items.append(report.HTML('<p class="oa-note">' + t["restates"].format(
                care_type=esc(story.care_label(care_type)), other=_link(story, restated)) + "</p>"))
        elif status not in ("getoond", "verborgen"):
            notes.append(para(_care_prefix(story, care_type, several) + story.status_text(entry, care_type)))
        else:
            shown_types.append(care_type)
    if not shown_types:
        return items + notes  # every care type said in words: no empty table, no empty figure
    shown = story.shown_period(entry)
    if shown != story.period:
        items.append(para(t["window_note"].format(label=entry.label(story.lang),
                                                  months=story.results.window_months(entry.id),
                                                  period=story.period_text, shown=report.fmt_period(shown, story.lang))))
    items += figures_table(story, entry, shown_types, shown)
    for care_type in shown_types:
        items += in_words(story, entry, care_type, prefix=len(shown_types) > 1)
    items += breakdown_pointer(story, entry, shown_types, shown)
    items += breakdown_means(story, entry, shown_types, shown)
    if entry.headline == "share":
        items += figures(story, entry, shown_types, shown)
        for care_type in shown_types:
            items += adjusted(story, entry, care_type, prefix=len(shown_types) > 1)
    return items + notes


def in_words(story: Story, entry: registry.Entry, care_type: str, prefix: bool = False) -> list:
    """The shown figure in words (:func:`.summary.sentence`: the figure, its adjusted verdict, the
    raw gap with the other institutions and the change from the previous period, each as the
    results store holds it), in the class ``oa-headline``; nothing for an indicator without a share
    headline."""
    from . import summary

    frame = story.headline_frame()
    if frame.empty:
        return []
    rows = frame.loc[(frame["indicator"] == entry.id) & (frame["care_type"] == care_type)]
    if rows.empty or rows.iloc[0]["status"] not in ("getoond", "verborgen"):
        return []
    return [para(_care_prefix(story, care_type, prefix) + summary.sentence(story, rows.iloc[0]), "oa-headline")]


def explained(story: Story, text: str) -> str:
    """``text`` followed by a plain explanation of each technical term in it (report texts ``terms``:
    RCI, T-score, GAS; a key ``"RCI|Reliable Change Index"`` names one term by either name) that this
    report has not explained before."""
    said = story._cache.setdefault(("explained_terms", story.lang), set())
    extra = []
    for names, explanation in story.t.get("terms", {}).items():
        if names not in said and any(name in text for name in names.split("|")):
            extra.append(explanation)
            said.add(names)
    return " ".join([text, *extra])


def _care_prefix(story: Story, care_type: str, several: bool) -> str:
    return f"{story.care_label(care_type).capitalize()}: " if several else ""


def figures_table(story: Story, entry: registry.Entry, care_types: list[str], shown: str) -> list:
    """The headline figure per care type in one table, with response and window in words."""
    t = story.t
    if entry.headline not in ("share", "mean"):
        return []
    several = len(care_types) > 1
    rows, notes = [], []
    months = story.results.window_months(entry.id)
    for care_type in care_types:
        mine = story.figure(entry, care_type, shown)
        if mine is None:
            continue
        nat = story.national(entry, care_type, shown)
        national = ("" if not nat else story.pct_or_mark(nat["value"], nat["hidden"])
                    if not is_suppressed(mine) else report.ui(story.lang)["suppressed_mark"] + "*")
        prefix = _care_prefix(story, care_type, several)
        rate = experience_response(story, entry, care_type, shown)
        rows.append(dict(mine, national_value=national, period_label=report.fmt_period(shown, story.lang),
                         care_label=story.care_label(care_type).capitalize(),
                         response_text=report.fmt_pct(rate, 0, story.lang) if rate is not None
                         else report.MISSING_MARK[story.lang]))
        if rate is not None:
            notes.append(para(prefix + t["experience_response"].format(response=report.fmt_pct(rate, 0, story.lang))
                              + (" " + t["experience_response_low"].format(
                                  limit=report.fmt_pct(report.RESPONSE_CAUTION, 0, story.lang))
                                 if rate < report.RESPONSE_CAUTION else "")))
        if not is_suppressed(mine):
            denominator = float(mine.get("denominator") or 0)
            missing = float(mine.get("missing") or 0)
            # in the indicator's own unit: an answer-based figure counts missing answers, not trajectories
            unit = report.ui(story.lang, "status")["units"].get(entry.unit, entry.unit)
            if 0 < missing < story.settings.min_count:
                notes.append(para(prefix + t["response_few"].format(n=story.settings.min_count, unit=unit)))
            elif missing > 0:
                response = denominator / (denominator + missing) if denominator + missing else np.nan
                notes.append(para(prefix + t["response"].format(
                    unit=unit, missing=report.fmt_count_rounded(missing, story.lang, settings=story.settings),
                    response=report.fmt_pct(response, 0, story.lang))))
        excluded = float(mine.get("excluded_window") or 0)
        if months and excluded > 0:
            notes.append(para(prefix + t["excluded"].format(
                excluded=report.fmt_count_rounded(excluded, story.lang, settings=story.settings), months=months)))
    if not rows:
        return []
    # missing items are said in words below (response), not as a mostly hidden column
    first = ("care_label", (t["col_care_type"], "text")) if several else ("period_label", (t["col_period"], "text"))
    cols = dict([first, ("value", (t["col_value"], "pct")), ("ci", (t["col_ci"], "ci")),
                 ("denominator", (t["col_n"], "count"))])
    widths = [34, 18, 30, 18]
    if story.compared:
        cols["national_value"] = (t["col_national"], "text")  # hidden pooled figures as –*
        widths = [30, 14, 26, 15, 15]
    if entry.unit == "answer":  # experience: the response rate beside the share
        cols["response_text"] = (t["col_response"], "text")
        widths = [26, 13, 24, 13, 12, 12] if story.compared else [28, 16, 26, 16, 14]
    caption = t["figures_caption"].format(period=report.fmt_period(shown, story.lang)) if several else None
    return [report.display_table(pd.DataFrame(rows), cols, story.lang, widths=widths,
                                 caption=caption, settings=story.settings)] + notes


def experience_response(story: Story, entry: registry.Entry, care_type: str, period: str) -> float | None:
    """The response rate of an experience figure (an indicator counting answers, ``unit ==
    "answer"``): the share of the institution's ended trajectories of ``care_type`` in ``period``
    with answers to the experience questions (the data-quality item ``experience``). ``None`` for
    other indicators, when the results hold no such row, or when it counts fewer ended trajectories
    than ``min_denominator`` (the data-quality table does not show it then either)."""
    if entry.unit != "answer":
        return None
    rows = story.results.select("quality", scope="institution", institution=story.institution,
                                period=period, care_type=care_type, item="experience")
    if rows.empty:
        return None
    r = rows.iloc[0]
    if is_missing(r["value"]) or float(r["denominator"]) < story.settings.min_denominator:
        return None
    return float(r["value"])


def _breakdown_families(story: Story, entry: registry.Entry, care_type: str, period: str):
    """Rows of each breakdown family (visible, or all when most are visible), the hidden labels,
    and the mean rows, of one care type."""
    all_rows = story.rows(entry, care_type, period, "institution", category=None)
    nat_rows = story.rows(entry, care_type, period, "national", category=None)
    rows = all_rows[all_rows["category"] != ""]
    if rows.empty:
        return {}, []
    nat = nat_rows.set_index("category")
    share_rows, means = [], []
    for _, r in rows.iterrows():
        family = str(r["category"]).split(":", 1)[0]
        kind = entry.breakdowns.get(family, "share")
        n = nat.loc[r["category"]] if r["category"] in nat.index else None
        if isinstance(n, pd.DataFrame):
            n = n.iloc[0]
        if kind == "mean":
            means.append((r, n))
            continue
        share_rows.append(dict(r.to_dict(), label=registry.category_label(r["category"], story.lang),
                               care_label=CARE_TYPE_SHORT.get(care_type, care_type),
                               national_value=story.pct_or_mark(
                                   n["value"] if n is not None else np.nan,
                                   n is not None and (bool(n["suppressed"]) or is_missing(n["value"])))
                               if n is not None else ""))
    order = {c: i for i, c in enumerate(registry.LABELS["categories"])}
    by_family: dict[str, list[dict]] = {}
    for r in sorted(share_rows, key=lambda r: (order.get(r["category"], len(order)), r["category"])):
        by_family.setdefault(str(r["category"]).split(":", 1)[0], []).append(r)
    out = {}
    for family, fam_rows in by_family.items():
        hidden_labels = [r["label"] for r in fam_rows if bool(r.get("suppressed"))]
        visible = [r for r in fam_rows if not bool(r.get("suppressed"))]
        if len(hidden_labels) > len(visible):
            out[family] = (visible, hidden_labels)
        else:
            out[family] = (fam_rows, [])
    return out, means


def breakdown(story: Story, entry: registry.Entry, care_types: list[str], period: str) -> list:
    """:func:`breakdown_tables` followed by :func:`breakdown_means`."""
    return breakdown_tables(story, entry, care_types, period) + breakdown_means(story, entry, care_types, period)


def breakdown_anchor(indicator_id: str) -> str:
    """The ``id`` of an indicator's heading in the appendix "Uitsplitsingen" (``"bd-" + id``)."""
    return f"bd-{indicator_id}"


def table_families(story: Story, entry: registry.Entry, care_types: list[str], period: str) -> list[str]:
    """The breakdown families (``"reason"``, ``"age_group"``, ...) that :func:`breakdown_tables`
    shows a table for, in its order; empty when it shows none."""
    if not entry.breakdowns:
        return []
    per_type = {c: _breakdown_families(story, entry, c, period)[0] for c in care_types}
    return [f for f in dict.fromkeys(f for fams in per_type.values() for f in fams)
            if any(per_type[c].get(f, ([], []))[0] for c in care_types)]


def breakdown_pointer(story: Story, entry: registry.Entry, care_types: list[str], period: str) -> list:
    """One line in the indicator's section naming its breakdowns, linked to them in the appendix
    "Uitsplitsingen" (with the page in the PDF); nothing when it has no breakdown table."""
    families = table_families(story, entry, care_types, period)
    if not families:
        return []
    names = [registry.family_label(f, story.lang).lower() for f in families]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {story.t['and']} " + names[-1]
    link = (f'<a class="page-ref" href="#{breakdown_anchor(entry.id)}">'
            f"{esc(story.t['breakdowns_appendix'])}</a>")
    return [report.HTML(f'<p class="oa-note">{story.t["breakdown_pointer"].format(families=esc(listed), link=link)}</p>')]


def breakdown_tables(story: Story, entry: registry.Entry, care_types: list[str], period: str) -> list:
    """One table per breakdown family (a care-type column when there are two), the categories it
    hides named in a note."""
    if not entry.breakdowns:
        return []
    t = story.t
    several = len(care_types) > 1
    per_type = {c: _breakdown_families(story, entry, c, period) for c in care_types}
    families = list(dict.fromkeys(f for fams, _m in per_type.values() for f in fams))
    items = []
    for family in families:
        caption = t["breakdown_family"].format(family=registry.family_label(family, story.lang))
        rows, notes = [], []
        for care_type in care_types:
            fam_rows, hidden_labels = per_type[care_type][0].get(family, ([], []))
            rows += fam_rows
            if hidden_labels:
                notes.append(para(_care_prefix(story, care_type, several) + t["hidden_categories"].format(
                    caption=caption, n=story.settings.min_denominator, categories=", ".join(hidden_labels))))
        if rows:
            cols = {"label": (t["col_category"], "text")}
            if several:
                cols["care_label"] = (t["col_care_short"], "text")
            cols.update({"value": (t["col_value"], "pct"), "ci": (t["col_ci"], "ci"),
                         "numerator": (report.ui(story.lang, "columns")["count"], "count")})
            if story.compared:
                cols["national_value"] = (t["col_national"], "text")  # hidden pooled cells as –*
                widths = (32, 8, 12, 24, 11, 13) if several else (36, 13, 25, 12, 14)
            else:
                widths = (36, 9, 14, 27, 14) if several else (40, 15, 30, 15)
            items.append(report.display_table(pd.DataFrame(rows), cols, story.lang, caption=caption,
                                              widths=widths, settings=story.settings))
        items += notes
    return items


def breakdown_means(story: Story, entry: registry.Entry, care_types: list[str], period: str) -> list:
    """The mean breakdowns (e.g. the mean change of a score) in sentences, each with its adjusted
    verdict (:func:`mean_verdict`)."""
    if not entry.breakdowns:
        return []
    several = len(care_types) > 1
    items = []
    for care_type in care_types:
        for r, n in _breakdown_families(story, entry, care_type, period)[1]:
            if is_suppressed(r.to_dict()):
                continue
            national = report.fmt_number(n["value"], 1, story.lang) if n is not None and not bool(n["suppressed"]) \
                else report.MISSING_MARK[story.lang]
            template = story.t["mean_sentence"] if story.compared else story.t["mean_sentence_alone"]
            items.append(para(_care_prefix(story, care_type, several) + template.format(
                label=registry.category_label(r["category"], story.lang).capitalize(),
                value=report.fmt_number(r["value"], 1, story.lang),
                ci=report.fmt_ci(r["ci_low"], r["ci_high"], 1, story.lang, kind="number"),
                national=story.comparator["value"].format(v=national))))
            items += mean_verdict(story, entry, care_type, period, several)
    return items


def mean_verdict(story: Story, entry: registry.Entry, care_type: str, period: str, several: bool) -> list:
    """The adjusted verdict of the mean change (the stored ``adjusted``/``mean`` comparison) in
    words, with the range chance and the usual differences between institutions explain; nothing
    without a comparison, a verdict, or when the stored row is hidden."""
    if not story.compared:
        return []
    row = story.results.verdict(entry.id, care_type, period, story.institution, basis="adjusted", measure="mean")
    if row is None or row.get("text_key") == "suppressed" or row.get("signal") not in ("higher", "lower", "within"):
        return []
    fav = row.get("favourable")
    fav_text = "" if fav is None or is_missing(fav) else story.t["adjusted_favourable" if fav else "adjusted_unfavourable"]
    return [para(_care_prefix(story, care_type, several) + story.t["mean_adjusted"].format(
        range=report.fmt_expected_range(row, story.lang), favourable=fav_text).strip())]


#: a trend is drawn only from this many visible periods of the institution; with fewer the figures
#: are said in one sentence (a line through one or two points suggests a development it cannot show).
MIN_TREND_POINTS = 3


def trend_sentence(story: Story, entry: registry.Entry, care_type: str, visible: pd.DataFrame, several: bool) -> str:
    """The few visible periods of a trend in words ("Eerdere jaren: 2023 61,0%, 2024 64,3%.")."""
    items = [f"{report.fmt_period(r['period'], story.lang)} {report.fmt_pct(r['value'], 1, story.lang)}"
             for _, r in visible.sort_values("period").iterrows()]
    return _care_prefix(story, care_type, several) + story.t["trend_few"].format(
        n=MIN_TREND_POINTS, items=", ".join(items))


def figures(story: Story, entry: registry.Entry, care_types: list[str], period: str) -> list:
    """Trend (left) and funnel (right), one row per care type that has a visible figure, one caption.
    A trend needs :data:`MIN_TREND_POINTS` visible periods; with fewer its figures are said in a
    sentence and only the funnel (if any) is drawn."""
    t = story.t
    panels, sentences = [], []
    several = len(care_types) > 1
    for care_type in care_types:
        trend = story.trend_table(entry, care_type, period)
        inst_visible = trend[(trend["scope"] == "institution") & ~trend["suppressed"].astype(bool)]
        if inst_visible.empty:
            continue
        if len(inst_visible) < MIN_TREND_POINTS:
            sentences.append(para(trend_sentence(story, entry, care_type, inst_visible, several)))
            trend = None
        cm_all = story.casemix_all(entry, care_type)
        has_funnel = (story.compared and not cm_all.empty and (~cm_all["suppressed"]).sum() >= 3
                      and story.institution in set(cm_all.loc[~cm_all["suppressed"], "institution"]))
        if trend is not None or has_funnel:
            panels.append((care_type, trend, cm_all if has_funnel else None))
    if not panels:
        return sentences
    from matplotlib.figure import Figure

    from outcome_analysis.presentation import plots

    any_funnel = any(p[2] is not None for p in panels)
    any_trend = any(p[1] is not None for p in panels)
    ncols = int(any_trend) + int(any_funnel)
    several_rows = len(panels) > 1
    # always the full text width: the page scales images to it, so a narrower figure would only
    # come out taller
    # legends and the note on hidden periods sit below the axes: room for them under each row
    # the trend legend is the same in every row: drawn once, under the last row with a trend
    with_legend = max((i for i, p in enumerate(panels) if p[1] is not None), default=-1)
    height = 2.6 if any_funnel else 2.2
    heights = [height if i == with_legend else height - 0.45 for i in range(len(panels))]
    fig = Figure(figsize=(6.8, sum(heights) + (0.25 if several_rows else 0)), layout="constrained")
    notes = []
    axes = fig.subplots(len(panels), ncols, squeeze=False, gridspec_kw={"height_ratios": heights})
    for row, (care_type, trend, cm_all) in zip(axes, panels):
        if any_trend:
            if trend is None:
                row[0].set_axis_off()
            else:
                plots.trend_plot(trend, institution=story.institution, lang=story.lang, ax=row[0],
                                 settings=story.settings, national=story.compared,
                                 national_label=story.comparator["label"])
                # the note on hidden periods runs wider than a half-width panel (the layout would
                # squeeze both panels) and lands on the legend: it goes into the caption instead
                for text in [x for x in row[0].texts if x.get_gid() == "suppressed_note"]:
                    notes.append(_care_prefix(story, care_type, several_rows) + text.get_text().lstrip("* "))
                    text.remove()
        if several_rows:
            row[0].set_title(story.care_label(care_type).capitalize(), loc="left", fontsize=9,
                             fontweight="bold")
        if any_funnel:
            ax = row[-1]
            if cm_all is None:
                ax.set_axis_off()
                continue
            plots.funnel_plot(cm_all, highlight=story.institution, kind="oe", lang=story.lang, ax=ax,
                              limits_table=_oe_curves(story, entry, care_type, cm_all), settings=story.settings)
            # in its own report the diamond is "deze instelling": a long name was cut short and,
            # once the rows were laid out, ran over the axis label
            for label in [x for x in ax.texts if x.get_gid() == "highlight_label"]:
                label.set_text(t["funnel_me"])
            if ax.get_legend() is not None:
                ax.get_legend().remove()
    if any_trend:  # the legend below the last trend, anchored again to the finished layout (twice: it settles)
        for i, row in enumerate(axes):
            if i != with_legend and row[0].get_legend() is not None:
                row[0].get_legend().remove()
        for _ in range(2):
            row = axes[with_legend]
            if row[0].get_legend() is not None:
                plots.legend_below(row[0], ncols=2).set_gid("legend")
    image = png(fig)
    if any_funnel and any_trend:
        key = "figure_caption"
    elif any_funnel:
        key = "figure_caption_funnel"
    else:
        key = "figure_caption_trend" if story.compared else "figure_caption_alone"
    # the funnel is explained in full under the report's first funnel; later captions say what is
    # left and right and link to that explanation (it read six lines under every figure)
    explained_at = story._cache.get(("funnel_explained", story.lang)) if any_funnel else None
    caption = t[key + "_short"] if explained_at else t[key]
    left_out = sum(int(cm["suppressed"].sum()) for _c, _t, cm in panels if cm is not None)
    if any_funnel and left_out:  # peers are drawn only when their share passes the rule: say how many are not
        caption += " " + t["funnel_left_out"].format(k=report.fmt_int(left_out, story.lang))
    if any_funnel and not explained_at:  # the limits in force (settings.funnel_limits; the signal limit is the outer line)
        signal = story.settings.signal_limit
        attention = [lim for lim in story.settings.funnel_limits if lim != signal] or [signal]
        caption = caption.format(signal_limit=report.fmt_pct(signal, 1, story.lang),
                                 attention_limit=report.fmt_pct(min(attention), 0, story.lang))
    if notes:  # the periods the trend leaves out, marked * on its axis
        caption += " * " + " ".join(n if n.endswith(".") else n + "." for n in notes)
    if not any_funnel:
        return sentences + [image, para(caption, "oa-caption")]
    if explained_at:
        link = f'<a class="page-ref" href="#{explained_at}">{esc(t["funnel_explained_link"])}</a>'
        return sentences + [image, report.HTML(f'<p class="oa-caption">{esc(caption)} {link}</p>')]
    story._cache[("funnel_explained", story.lang)] = FUNNEL_EXPLAINED
    return sentences + [image, report.HTML(f'<p class="oa-caption" id="{FUNNEL_EXPLAINED}">{esc(caption)}</p>')]


#: the ``id`` of the caption that explains the funnel in full (the report's first funnel).
FUNNEL_EXPLAINED = "fig-funnel-explained"


def _oe_curves(story: Story, entry: registry.Entry, care_type: str, cm_all: pd.DataFrame):
    """The O/E funnel's limit curves from the same null variance and overdispersion as the verdicts
    (the overview draws the same), so that the drawn 99.8% line is the signal limit of the text."""
    from outcome_analysis.presentation import overview

    shown = cm_all.loc[~cm_all["suppressed"] & np.isfinite(cm_all["oe_ratio"])]
    model = story.model_row(entry, care_type, str(cm_all["period"].iloc[0])) or {}
    tau2 = float(model.get("tau2", 0.0) or 0.0) if bool(model.get("overdispersion_applied", False)) else 0.0
    return overview.oe_limit_curves(shown if len(shown) else cm_all, tau2, story.settings)


def adjusted(story: Story, entry: registry.Entry, care_type: str, prefix: bool = False) -> list:
    """The case-mix adjusted comparison of the shown figure, as the results store holds it
    (:meth:`Story.verdicts`), with its O/E and the range chance and the usual differences between
    institutions explain, the records the model left out, and the records lacking a covariate. The
    verdicts in words (adjusted, raw gap, change) open the section (:func:`in_words`). An indicator
    without a case-mix model, or one institution, gets nothing here."""
    if not story.compared or not entry.casemix:
        return []  # one institution: never a comparison with itself
    t = story.t
    lead = _care_prefix(story, care_type, prefix)
    mine = story.figure(entry, care_type)
    if mine is None or is_suppressed(mine) or is_missing(mine.get("value")):
        return []
    row = story.verdicts(entry, care_type)["adjusted"]
    items = []
    if row is None:
        items.append(para(lead + t["adjusted_none"].format(reason=t["adjusted_nomodel"])))
    elif row.get("signal") == "none" and row.get("text_key") != "suppressed":
        items.append(para(lead + t["adjusted_too_little"]))  # no verdict, no range: one line
        if entry.id == "jbjr_verloop" and care_type == "jb":  # voogdij apart, verdict or not
            items += fixed_levels(story, entry, care_type, story.model_row(entry, care_type, row["period"]))
    elif row.get("text_key") != "suppressed":
        summary = story.model_row(entry, care_type, row["period"])
        fav = row.get("favourable")
        fav_text = "" if fav is None or is_missing(fav) else t["adjusted_favourable" if fav else "adjusted_unfavourable"]
        # the covariates and what W/V means are said in full once; later sentences with the
        # same covariates say "the same characteristics"
        names = covariates(story, summary)
        said = story._cache.setdefault(("adjusted_explained", story.lang), set())
        key = "adjusted_sentence_again" if names in said else "adjusted_sentence"
        said.add(names)
        items.append(para(lead + t[key].format(
            covariates=names, range=report.fmt_expected_range(row, story.lang),
            favourable=fav_text).strip()))
        items += fixed_levels(story, entry, care_type, summary)
    cm = story.casemix_row(entry, care_type) if row is not None else None
    lacking = (cm or {}).get("n_missing_covariates", 0) or 0
    if lacking >= story.settings.min_count:
        items.append(para(t["adjusted_missing"].format(
            n=report.fmt_count_rounded(lacking, story.lang, settings=story.settings))))
    return items


def fixed_levels(story: Story, entry: registry.Entry, care_type: str, summary) -> list:
    """Records the case-mix model left out because their group has one outcome only (E = O), for
    the regular end of JB episodes: the voogdij sentence (voogdij ends regularly by definition), with
    the number over all institutions rounded (never an exact small count) and the share per care
    form; nothing when the model left nothing out. For other indicators the appendix's model table
    says it."""
    n = None if summary is None else summary.get("n_fixed")
    if n is None or is_missing(n) or float(n) <= 0:
        return []
    t, st = story.t, story.settings
    number = (t["fixed_few"].format(n=st.min_count) if float(n) < st.min_count
              else t["fixed_about"].format(n=report.fmt_count_rounded(n, story.lang, settings=st)))
    if entry.id == "jbjr_verloop" and care_type == "jb":
        return [para(t["fixed_voogdij"].format(n=number))] + by_care_form(story, entry, care_type)
    # elsewhere the groups left out are a detail of the model: the appendix's model table gives
    # their number per indicator (methods.model_sentence)
    return []


def by_care_form(story: Story, entry: registry.Entry, care_type: str) -> list:
    """The regular-end share per care form of this institution (``care_form:*`` rows of
    ``jbjr_verloop``), voogdij marked as regular by definition, hidden figures named without a
    number; nothing when the results hold no such rows."""
    from outcome_analysis.contract import schema

    t = story.t
    rows = story.rows(entry, care_type, category=None)
    rows = rows.loc[rows["category"].astype(str).str.startswith("care_form:")]
    if rows.empty:
        return []
    order = {f: i for i, f in enumerate(schema.CARE_FORMS.get(care_type, ()))}
    items = []
    for r in sorted(rows.to_dict("records"), key=lambda r: order.get(r["category"].split(":", 1)[1], 99)):
        form = registry.category_label(r["category"], story.lang)
        if is_suppressed(r) or is_missing(r.get("value")):
            items.append(t["by_care_form_hidden"].format(form=form))
            continue
        key = "by_care_form_fixed" if r["category"] == "care_form:voogdij" else "by_care_form_item"
        items.append(t[key].format(form=form, value=report.fmt_pct(r["value"], 1, story.lang)))
    return [para(t["by_care_form"].format(items="; ".join(items)))]


def covariates(story: Story, summary) -> str:
    """The covariates of a model summary row (the settings' when there is none), as labels."""
    names = json.loads(summary["covariates"]) if summary is not None else list(story.settings.covariates)
    return ", ".join(registry.covariate_label(c, story.lang) for c in names)
