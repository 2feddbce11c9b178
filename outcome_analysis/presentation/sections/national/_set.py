"""One indicator set of the national overview (h2 for the set, h3 per compared indicator and care
type), then the indicators the delivery cannot show, each with its status in words. A delivery of
one institution, or a care-type family with one institution, gets a table of its own figures
instead of funnels."""
from __future__ import annotations

import html as _html

import numpy as np

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import overview, report

CARE_TYPES = ("jeugdhulp", "jb", "jr")


#: a comparison of at most this many shown institutions (fewer than ``overview.MIN_SPREAD``) prints its
#: whole table in the body; a larger one prints the institutions with a signal there and the whole
#: table in the appendix (tables.py).
BODY_ROWS = 4


def adjusted_display(ov, indicator: str, care_type: str, rows, modelled: str, caption_key: str = "table_caption"):
    """The table of adjusted figures of ``rows`` (rows of :func:`overview.adjusted_table`, shown ones):
    the number of the funnels, the institution, its count, raw share, O/E with the decimals of the
    range beside it, that range (what chance and the usual differences explain), the adjusted share
    and the verdict of :meth:`Results.comparison` in words."""
    lang = ov.lang
    t = overview.texts_of(lang)
    entry = registry.get(indicator)
    rows = rows.assign(institution=rows["key"] + ". " + rows["institution"])

    def expected_range(r) -> str:
        if r["signal"] not in ("higher", "lower", "within"):
            return ""
        d = report.range_decimals(r["oe_ratio"], r["expected_low"], r["expected_high"])
        return report.fmt_ci(r["expected_low"], r["expected_high"], d, lang, kind="ratio")

    def oe_text(r) -> str:  # the O/E with the decimals of the range beside it
        if not np.isfinite(r["oe_ratio"]):
            return ""
        d = (report.range_decimals(r["oe_ratio"], r["expected_low"], r["expected_high"])
             if r["signal"] in ("higher", "lower", "within") else 2)
        return report.fmt_ratio(r["oe_ratio"], d, lang)

    rows = rows.assign(expected_range=[expected_range(r) for r in rows.to_dict("records")],
                       oe_text=[oe_text(r) for r in rows.to_dict("records")])
    cols = {"institution": None, "n": (t["col_n"], "count"), "raw_value": (t["col_raw"], "pct"),
            "oe_text": (t["col_oe"], "text"), "expected_range": (t["col_expected"], "text"),
            "adjusted_value": (t["col_adj"], "pct"), "signal_label": (t["col_signal"], "text")}
    caption = t[caption_key].format(ind=entry.label(lang), care=registry.care_type_label(care_type, lang), p=modelled)
    return overview.widths(report.display_table(rows, cols, lang, caption=caption, settings=ov.settings),
                           [30, 10, 9, 8, 16, 11, 16])


def indicator_items(ov, indicator: str, care_type: str) -> list:
    """One indicator and care type: the definition, the funnels, the adjusted table (institutions in
    alphabetical order, each with the verdict of :meth:`Results.comparison` and its own interval), the
    spread with the rankability (and, only when it is high, the caterpillar of the shrunk O/E)."""
    lang, results = ov.lang, ov.results
    t = overview.texts_of(lang)
    entry = registry.get(indicator)
    care = registry.care_type_label(care_type, lang)
    items = [overview.heading(report.with_care_type(entry.label(lang), care_type, lang, sep=" – {care}"), 3)]
    direction = t["direction"].get(entry.direction, "")
    items.append(report.note(overview.plain_ids(entry.definition(lang), lang).rstrip(".") + "."
                             + (f" {direction[0].upper()}{direction[1:]}." if direction else "")))
    adj = overview.adjusted_table(results, indicator, care_type, ov.period, lang)
    modelled = adj["period"].iloc[0] if len(adj) else ov.period
    if modelled != ov.period:
        items.append(report.note(t["modelled_period"].format(p=modelled, m=results.window_months(indicator))))
    raw = overview.raw_table(results, indicator, care_type, modelled)
    if (~adj["suppressed"]).any() or (~raw["suppressed"].astype(bool)).any():
        items.append(overview.figure(overview.funnel_pair(results, indicator, care_type, ov.period, lang)))
    small = adj.loc[adj["suppressed"], "institution"].tolist()
    if small:
        items.append(report.note(t["too_small_list"].format(n=int(ov.settings.min_denominator),
                                                            names=", ".join(small))))
    shown = adj.loc[~adj["suppressed"]]
    if not len(shown):
        return items
    # how to read the numbers and lines of the funnels is said once, in the summary's reading guide
    if len(shown) <= BODY_ROWS:
        items.append(adjusted_display(ov, indicator, care_type, shown, modelled))
    else:
        # many institutions: the body lists those with a signal; every row is in the appendix
        flagged = shown.loc[shown["signal"].isin(["higher", "lower"])]
        if len(flagged):
            items.append(adjusted_display(ov, indicator, care_type, flagged, modelled, caption_key="table_caption_flagged"))
        within = int((shown["signal"] == "within").sum())
        none = len(shown) - len(flagged) - within
        rest = [t["rest_within"].format(k=report.fmt_int(within, lang))] if within else []
        rest += [t["rest_none"].format(m=report.fmt_int(none, lang))] if none else []
        rest = f" {t['and']} ".join(rest)
        items.append(report.note(t["rest_in_appendix"].format(rest=rest[:1].upper() + rest[1:], appendix=t["tables_h"])
                                 if rest else t["rest_in_appendix"].split(". ", 1)[-1].format(appendix=t["tables_h"])))
    table, od = overview.spread(results, indicator, care_type, ov.period, lang)
    if int(table["n"].max()) < overview.MIN_SPREAD:
        # lowest, quartiles and highest of a handful of institutions only repeat the table above
        items.append(report.note(t["no_spread_few"].format(k=overview.MIN_SPREAD)))
    elif len(shown) <= BODY_ROWS:
        items.append(report.note(t["spread_in_appendix"].format(appendix=t["tables_h"])))
    # the spread in words: overdispersion and rankability in one paragraph (the table is in the appendix);
    # spread_items opens with the rankability sentence, then what only some comparisons have
    rest = overview.spread_items(results, indicator, care_type, ov.period, lang)
    rank = overview.rankability(results, indicator, care_type, ov.period, lang)["text"] if rest else ""
    items.append(report.note(" ".join(x for x in (overview.overdispersion_sentence(od, lang), rank) if x)))
    items += rest[1:]
    return items


def spread_display(ov, indicator: str, care_type: str):
    """The spread between the shown institutions (lowest, quartiles, highest; raw and adjusted) as a
    table, or ``None`` below :data:`overview.MIN_SPREAD` institutions (it would repeat their figures)."""
    lang = ov.lang
    t = overview.texts_of(lang)
    table, _od = overview.spread(ov.results, indicator, care_type, ov.period, lang)
    if int(table["n"].max()) < overview.MIN_SPREAD:
        return None
    sc = t["spread_cols"]
    scols = {"measure": (sc["measure"], "text"), "n": (sc["n"], "int"), "min": (sc["min"], "pct"),
             "q1": (sc["q1"], "pct"), "median": (sc["median"], "pct"), "q3": (sc["q3"], "pct"),
             "max": (sc["max"], "pct"), "iqr": (sc["iqr"], "pct")}
    return overview.widths(report.display_table(table.assign(suppressed=False), scols, lang, settings=ov.settings),
                           [20, 10, 10, 10, 10, 10, 10, 10])


def build_set(ov, set: str) -> list:
    """The items of the set ``set`` (a key of :data:`outcome_analysis.registry.SETS`)."""
    lang, results = ov.lang, ov.results
    t = overview.texts_of(lang)
    items = [overview.heading(registry.set_label(set, lang), 2)]
    alone = overview.comparator(results, lang)["scope"] == "none"
    comp = overview.comparisons(results, ov.period)
    comp = comp.loc[comp["set"] == set]
    statuses = overview.set_statuses(results, set, ov.period, lang)
    held = results.care_types_of()
    set_types = {c for e in registry.REGISTRY.values() if e.set == set for c in e.care_types}
    absent = [c for c in CARE_TYPES if c not in held and c in set_types]
    if len(absent) == len(set_types):
        # the delivery holds none of the set's care types: say so, never an empty chapter
        items.append(report.note(report.status_sentence("niet_van_toepassing", lang, care_type=tuple(absent),
                                                        settings=ov.settings)))
        return items
    lonely = [c for c in held if c in set_types and not overview.compared(results, c)]
    if lonely and not alone:
        # a care-type family with one institution: its figures as they are, never compared
        items += [report.note(s) for s in overview.alone_families(results, lang, only=lonely)]
    if alone or lonely:
        figures = overview.delivery_figures(results, set, ov.period, lang)
        if not alone:
            figures = figures.loc[figures["care_type"].isin(lonely)]
        if len(figures):
            cols = {"label": (t["col_indicator"], "text"), "care_label": (t["col_care"], "text"),
                    "period": None, "value": None, "ci": None, "denominator": (t["col_n"], "count")}
            items.append(report.display_table(figures, cols, lang, caption=t["alone_figures"].format(p=ov.period),
                                              settings=ov.settings))
        if alone:
            comp = comp.iloc[:0]
    elif comp.empty and statuses.empty:
        items.append(report.note(t["none_in_set"].format(p=ov.period)))
    for c in comp.itertuples(index=False):
        items += indicator_items(ov, c.indicator, c.care_type)
    if len(statuses):
        items.append(overview.heading(t["not_shown_h"], 3))
        lines = "".join(f"<li><strong>{_html.escape(r.label)}</strong>: {_html.escape(r.text)}</li>"
                        for r in statuses.itertuples(index=False))
        items.append(report.HTML(f'<ul class="oa-statuses">{lines}</ul>'))
    items += [report.note(sentence) for sentence in overview.restated_notes(results, set, lang)]
    if t["sort_note"] and not comp.empty:
        items.append(report.note(t["sort_note"]))
    if len(items) == 1:  # nothing to show (e.g. every figure of a delivery's one institution hidden): say so
        items.append(report.note(t["none_in_set"].format(p=ov.period)))
    return items
