"""Section 4, context beside the outcomes: target group, waiting time, working alliance, chain
cooperation and kwesties; with two care types in one table and one figure."""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report
from outcome_analysis.presentation.report import is_missing
from outcome_analysis.presentation.story import CARE_TYPE_SHORT, Story, esc, new_figure, para, png, shorten

NAME = "context"

#: the target-group families drawn as small stacked bars, in this order.
TARGET_FAMILIES = ("complexity", "perspective", "age_group")
AGE_ORDER = ["age_group:0-3", "age_group:4-11", "age_group:12-15", "age_group:16-17", "age_group:18+"]


def build(story: Story) -> list:
    """The key figures table, the waiting time in words, the target group figure and the kwesties.
    With two care types (JB and JR) the layout does not repeat: one table with a care-type column,
    one figure with a pair of bars per care type, the waiting time per care type in a sentence."""
    t = story.t
    items = [report.heading(t["context"], 2, id=report.chapter_anchor("context"), cls="oa-nobreak"),
             para(t["context_intro"], "oa-note oa-intro")]
    care_types = list(story.care_types)
    if len(care_types) > 1:
        # the key figures (text, breaks over pages) before the target-group figure (kept whole): a
        # figure first left the rest of the page before it empty
        part = _key_figures(story, care_types)
        part += [x for c in care_types for x in _waiting(story, c, prefix=True)]
        part += _target_group(story, care_types) + _kwesties(story, care_types)
        return items + (part or [para(t["context_none"])])
    for care_type in care_types:
        part = _key_figures(story, [care_type]) + _waiting(story, care_type) + _target_group(story, [care_type])
        part += _kwesties(story, [care_type])
        items.append(report.heading(story.care_label(care_type).capitalize(), 3))
        items += part or [para(t["context_none"])]
    return items


def _group_label(story: Story, name: str, care_type: str, several: bool) -> str:
    return f"{shorten(name, 26)} ({CARE_TYPE_SHORT.get(care_type, care_type)})" if several else name


def _target_group(story: Story, care_types: list[str]) -> list:
    several = len(care_types) > 1
    rows, mine_groups = [], []
    for care_type in care_types:
        mine = story.context_rows("ctx_doelgroep", care_type, "institution")
        nat = story.context_rows("ctx_doelgroep", care_type, "national")
        me = _group_label(story, story.institution, care_type, several)
        groups = ((mine, me), (nat, _group_label(story, story.comparator["label"], care_type, several))) \
            if story.compared else ((mine, me),)
        part_rows = []
        for family in TARGET_FAMILIES:
            for scope_rows, group in groups:
                part = scope_rows[scope_rows["category"].str.startswith(family + ":").fillna(False)]
                for _, r in part.iterrows():
                    part_rows.append({"family": family, "group": group, "category": r["category"],
                                      "value": float(r["value"]), "suppressed": bool(r["suppressed"])})
        mine_rows = [r for r in part_rows if r["group"] == me]
        if mine_rows and not all(r["suppressed"] for r in mine_rows):  # a care type with nothing to show: left out
            rows += part_rows
            mine_groups.append(me)
    frame = pd.DataFrame(rows)
    if frame.empty or not mine_groups:
        return []
    fig = target_group_figure(frame, story.lang, story.words["target_group_titles"])
    return [report.HTML(f"<h4>{esc(story.t['target_group'])}</h4>"), png(fig)]


def _key_figures(story: Story, care_types: list[str]) -> list:
    """Out of home, waiting, alliance, chain: the institution's figure beside the pooled one (a
    care-type column when there are two)."""
    t, lang = story.t, story.lang
    several = len(care_types) > 1
    table = []
    for care_type in care_types:
        for ind, label, kind in (("ctx_doelgroep", t["out_of_home"], "pct"), ("ctx_wachttijd", t["waiting"], "number"),
                                 ("ctx_werkrelatie", t["alliance"], "number"),
                                 ("ctx_ketensamenwerking", t["chain"], "number")):
            m = story.context_rows(ind, care_type, "institution")
            n = story.context_rows(ind, care_type, "national")
            m = m[m["category"].fillna("") == ""]
            n = n[n["category"].fillna("") == ""]
            if m.empty and n.empty:
                continue
            mr = m.iloc[0] if len(m) else None
            nr = n.iloc[0] if len(n) else None
            fmt = (lambda v: report.fmt_pct(v, 1, lang)) if kind == "pct" else \
                  (lambda v: report.fmt_number(v, 1, lang))
            hidden = mr is None or bool(mr["suppressed"]) or is_missing(mr["value"])
            table.append({
                "item": label, "care": CARE_TYPE_SHORT.get(care_type, care_type),
                "mine": (report.ui(lang)["suppressed_mark"] + "*") if (mr is not None and bool(mr["suppressed"]))
                else (report.MISSING_MARK[lang] if hidden else fmt(mr["value"])),
                "ci": "" if hidden else report.fmt_ci(mr["ci_low"], mr["ci_high"], 1, lang,
                                                      kind="pct" if kind == "pct" else "number"),
                "n": report.fmt_count_rounded(mr["denominator"], lang, settings=story.settings) if not hidden else "",
                "national": report.MISSING_MARK[lang] if nr is None or bool(nr["suppressed"]) else fmt(nr["value"]),
            })
    if not table:
        return []
    cols = {"item": (t["col_item"], "text")}
    if several:
        cols["care"] = (t["col_care_short"], "text")
    cols.update({"mine": (t["col_institution"], "text"), "ci": (t["col_ci"], "text"), "n": (t["col_n"], "text")})
    if story.compared:
        cols["national"] = (t["col_national"], "text")
    return [report.display_table(pd.DataFrame(table), cols, lang, settings=story.settings)]


def _waiting(story: Story, care_type: str, prefix: bool = False) -> list:
    """The mean and median waiting time in one sentence (the pooled median beside them); with
    ``prefix`` led by the care type ("Jeugdreclassering: ...")."""
    t, lang = story.t, story.lang
    w = story.context_rows("ctx_wachttijd", care_type, "institution")
    wn = story.context_rows("ctx_wachttijd", care_type, "national")
    p50 = w[w["category"] == "quantile:p50"]
    mean = w[w["category"].fillna("") == ""]
    p50n = wn[wn["category"] == "quantile:p50"]
    if not (len(p50) and len(mean) and not bool(p50.iloc[0]["suppressed"]) and not bool(mean.iloc[0]["suppressed"])):
        return []
    national = report.fmt_number(p50n.iloc[0]["value"], 0, lang) if len(p50n) else report.MISSING_MARK[lang]
    template = t["waiting_sentence"] if story.compared else t["waiting_sentence_alone"]
    lead = f"{story.care_label(care_type).capitalize()}: " if prefix else ""
    return [para(lead + template.format(
        mean=report.fmt_number(mean.iloc[0]["value"], 0, lang),
        median=report.fmt_number(p50.iloc[0]["value"], 0, lang),
        national_median=story.comparator["value"].format(v=national)))]


def _kwesties(story: Story, care_types: list[str]) -> list:
    """The kwesties professionals report, most frequent first (a care-type column when there are
    two); when most are hidden, the shown ones and the others named without a number."""
    t, lang = story.t, story.lang
    several = len(care_types) > 1
    items = [report.HTML(f"<h4>{esc(t['kwesties'])}</h4>")]
    frames, notes = [], []
    for care_type in care_types:
        k = story.context_rows("ctx_kwesties", care_type, "institution")
        kn = story.context_rows("ctx_kwesties", care_type, "national").set_index("category")
        if k.empty or k["suppressed"].all():
            if several:
                notes.append(para(f"{story.care_label(care_type).capitalize()}: {t['kwesties_none']}"))
            continue
        frame = k.assign(label=[registry.category_label(c, lang) for c in k["category"]],
                         care=CARE_TYPE_SHORT.get(care_type, care_type),
                         national_value=[kn.loc[c, "value"] if c in kn.index else np.nan for c in k["category"]])
        frame = frame.sort_values("value", ascending=False)
        hidden = frame.loc[frame["suppressed"].astype(bool), "label"].tolist()
        if len(hidden) > len(frame) - len(hidden):  # mostly hidden: the shown rows, the others named
            frame = frame.loc[~frame["suppressed"].astype(bool)]
            lead = f"{story.care_label(care_type).capitalize()}: " if several else ""
            notes.append(para(lead + t["kwesties_hidden"].format(n=story.settings.min_denominator,
                                                                  kwesties=", ".join(hidden))))
        frames.append(frame)
    if not frames:
        return items + [para(t["kwesties_none"])]
    cols = {"label": (t["col_category"], "text")}
    if several:
        cols["care"] = (t["col_care_short"], "text")
    cols.update({"numerator": (t["col_n"], "count"), "value": (t["col_value"], "pct")})
    if story.compared:
        cols["national_value"] = (t["col_national"], "pct")
    return items + [report.display_table(pd.concat(frames, ignore_index=True), cols, lang,
                                         settings=story.settings)] + notes


def target_group_figure(frame: pd.DataFrame, lang: str, titles: dict):
    """Three small stacked bars (complexity, perspective, age), institution vs national; ``titles``
    per family (``data/texts/story.yaml``, ``target_group_titles``)."""
    from outcome_analysis.presentation import plots

    families = [f for f in TARGET_FAMILIES if f in set(frame["family"])]
    # one percentage axis, under the last panel: the panels share it (it was drawn three times);
    # each panel as tall as its bars (two per care type)
    per_family = 0.35 + 0.3 * frame["group"].nunique()
    fig, axes = new_figure(6.8, per_family * len(families) + 0.3)
    if len(families) == 1:
        axes = [axes]
    else:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.8, per_family * len(families) + 0.3), layout="constrained")
        axes = fig.subplots(len(families), 1, sharex=True)
    order_of = {"age_group": AGE_ORDER}
    for ax, family in zip(axes, families):
        part = frame[frame["family"] == family]
        cats = order_of.get(family) or list(dict.fromkeys(part["category"]))
        cats = [c for c in cats if c in set(part["category"])]
        plots.profile_plot(part, order=cats, labels={c: registry.category_label(c, lang) for c in cats}, lang=lang,
                           ax=ax, title=titles[family])
        ax.set_yticklabels([shorten(g, 34) for g in part["group"].drop_duplicates()])
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=8)
    for ax in axes[:-1]:
        ax.tick_params(axis="x", labelbottom=False)
        ax.set_xlabel("")
    return fig
