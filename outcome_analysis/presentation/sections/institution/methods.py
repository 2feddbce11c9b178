"""Section 7, Verantwoording: definitions from the registry, the settings in force, ROM norms, and
the case-mix models behind the adjusted figures (fit, calibration, odds ratios)."""
from __future__ import annotations

import re

import pandas as pd

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report
from outcome_analysis.presentation.story import Story, para

NAME = "methods"


def build(story: Story) -> list:
    """The section; its tables are set in smaller type (wrapped in ``<div class="oa-methods">``)."""
    return [report.HTML(f'<div class="oa-methods">{x}</div>') if isinstance(x, report.HTML) and "<table" in x else x
            for x in items(story)]


def items(story: Story) -> list:
    """The section's items before its tables are wrapped for the smaller type."""
    t = story.t
    out = [report.heading(t["methods"], 2, id=report.chapter_anchor("methods")), para(t["methods_intro"]),
           report.heading(t["definitions"], 3, id=report.chapter_anchor("definitions"))]
    rows = []
    for entry in story.entries():
        months = story.results.window_months(entry.id)
        rows.append({"label": entry.label(story.lang),
                     "definition": entry.definition(story.lang),
                     "numerator": getattr(entry, f"numerator_{story.lang}"),
                     "denominator": getattr(entry, f"denominator_{story.lang}"),
                     "window": t["months"].format(m=months) if months else ""})
    cols = {"label": (t["col_indicator"], "text"), "definition": (t["col_definition"], "text"),
            "numerator": (t["col_numerator"], "text"), "denominator": (t["col_denominator"], "text"),
            "window": (t["col_window"], "text")}
    # the definition gets the most room; the window is short ("12 maanden")
    out.append(report.display_table(pd.DataFrame(rows), cols, story.lang, widths=(18, 40, 16, 16, 10),
                                    settings=story.settings))
    out += [story.heading("settings", 3), _settings_table(story)]
    out += instrument_notes(story)
    out += [story.heading("models", 3), para(t["models_intro"])]
    models = model_frame(story)
    if models.empty:
        out.append(para(t["no_models"]))
        return out
    cols = {"label": (t["col_indicator"], "text"), "model_text": (t["col_model"], "text"),
            "n_records": (t["col_records"], "int"), "n_lacking_covariates": (t["col_lacking"], "int"),
            "c_text": (t["col_c"], "text"), "phi_text": (t["col_phi"], "text"), "tau2_text": (t["col_tau2"], "text"),
            "applied_text": (t["col_applied"], "text"), "calibration": (t["col_calibration"], "text")}
    out.append(report.display_table(models, cols, story.lang, round_counts=False, settings=story.settings))
    notes = models[models["note"].fillna("") != ""]
    for _, r in notes.iterrows():
        out.append(para(f"{r['label']}: {model_note(story, r['note'])}"))
    odds = odds_ratio_frame(story, models)
    if not odds.empty:
        out += [story.heading("odds_ratios", 3), para(t["odds_intro"])]
        labels = [c for c in odds.columns if c != "term"]
        for start in range(0, len(labels), 4):
            chunk = labels[start:start + 4]
            cols = {"term": (t["col_term"], "text"), **{c: (c, "text") for c in chunk}}
            out.append(report.display_table(odds, cols, story.lang, settings=story.settings))
    return out


def _settings_table(story: Story) -> report.HTML:
    """The settings in force, one line each."""
    t, s, lang = story.t, story.settings, story.lang
    rows = [
        (t["setting_reference_date"], report.fmt_date(story.results.reference_date, lang)),
        (t["setting_min_denominator"], str(s.min_denominator)),
        (t["setting_min_count"], str(s.min_count)),
        (t["setting_round_to"], str(s.round_to)),
        (t["setting_conf"], report.fmt_pct(s.conf, 0, lang)),
        (t["setting_ci_method"], str(s.ci_method)),
        (t["setting_windows"], " / ".join(t["months"].format(m=m) for m in (
            s.window_herhaald_beroep, s.window_nieuwe_start, s.window_vervolghulp, s.window_recidive))),
        (t["setting_continuation_days"], str(s.continuation_days)),
        (t["setting_signal_limit"], report.fmt_pct(s.signal_limit, 1, lang)),
        (t["setting_covariates"], ", ".join(registry.covariate_label(c, lang) for c in s.covariates)),
        (t["setting_comparison"], story.comparator["name"] or _comparison_none(story)),
    ]
    return report.display_table(pd.DataFrame(rows, columns=["item", "value_text"]),
                                {"item": (t["col_item"], "text"), "value_text": ("", "text")}, lang, settings=s)


def _comparison_none(story: Story) -> str:
    """Why there is no comparator: the delivery holds one institution, or none other of this
    report's care types ("geen: de levering bevat geen andere instelling voor jeugdhulp")."""
    t = story.t
    if len(story.results.institutions) < 2:
        return t["comparison_none"]
    return t["comparison_none_in_family"].format(care_types=story.care_list(story.family_care_types))


def instrument_notes(story: Story) -> list:
    """ROM norms taken from the data (instruments without a population norm) and ROM instruments
    unknown to the instrument table (their scores count as missing)."""
    facts = story.results.meta.get("instruments") or {}
    out = []
    for d in facts.get("derived_norms", []):
        out.append(para(story.t["derived_norm"].format(
            instrument=d["instrument"], mean=report.fmt_number(d["norm_mean"], 1, story.lang),
            sd=report.fmt_number(d["norm_sd"], 1, story.lang), n=report.fmt_int(d["n"], story.lang))))
    unknown = facts.get("unknown") or {}
    if unknown:
        listed = ", ".join(f"{k} ({report.fmt_int(v, story.lang)})" for k, v in unknown.items())
        out.append(para(story.t["unknown_instruments"].format(instruments=listed)))
    return out


def model_frame(story: Story) -> pd.DataFrame:
    """The case-mix models behind this report's adjusted figures (institution's care types)."""
    t = story.t
    out = []
    for entry in story.entries():
        if not entry.casemix or entry.same_as:
            continue
        period = story.shown_period(entry)
        for care_type in story.entry_care_types(entry):
            for kind in ("share", "mean"):
                r = story.model_row(entry, care_type, period, kind)
                if r is None:
                    continue
                label = story.label(entry, care_type) + (f" ({period})" if period != story.period else "")
                if kind == "mean":
                    label += " – " + registry.category_label("mean_change:", story.lang)
                fitted = r["model"] != "none"
                stat = r["c_statistic"] if r["model"] == "logistic" else r["r_squared"]
                out.append({
                    "indicator": entry.id, "care_type": care_type, "period": period, "kind": kind, "label": label,
                    "model_text": t.get(f"model_{r['model']}", r["model"]),
                    "n_records": r["n_records"], "n_lacking_covariates": r["n_lacking_covariates"],
                    "c_text": report.fmt_number(stat, 2, story.lang) if fitted else "",
                    "phi_text": report.fmt_number(r["phi"], 2, story.lang) if fitted else "",
                    "tau2_text": report.fmt_number(r["tau2"], 3, story.lang) if fitted else "",
                    "applied_text": (t["yes"] if r["overdispersion_applied"] else t["no"]) if fitted else "",
                    "calibration": _calibration_text(story, entry.id, care_type, period, kind) if fitted else "",
                    "note": r.get("note") or "",
                })
    return pd.DataFrame(out)


def _calibration_text(story: Story, indicator, care_type, period, kind) -> str:
    """The range of observed/expected over the calibration groups of one fitted model."""
    rows = story.results.model_calibration(indicator, period, care_type, kind)
    if rows.empty or "expected" not in rows:
        return ""
    ratio = (rows["observed"] / rows["expected"].where(rows["expected"] > 0)).dropna()
    if ratio.empty:
        return ""
    return report.fmt_ci(ratio.min(), ratio.max(), lang=story.lang, kind="ratio")


_NOTE_PATTERNS = (
    ("too_few", re.compile(r"no case-mix model: only (?P<n>\d+) records \((?:a model needs )?at least (?P<m>\d+)")),
    ("fixed", re.compile(r"^(?P<n>\d+) records in levels where every record has the same outcome")),
    ("separation", re.compile(r"^\(quasi-\)separation found")),
)


def model_note(story: Story, note: str) -> str:
    """A stored model note (English, parts separated by ``; ``) in the report's words (story texts
    ``model_notes``): "geen correctiemodel: maar 37 records, ..."; parts that only explain a part
    already said (the Firth intervals) are dropped, unknown parts stay as stored."""
    words = story.words.get("model_notes", {})
    out = []
    for part in str(note).split("; "):
        for key, pattern in _NOTE_PATTERNS:
            m = pattern.search(part)
            if m:
                numbers = {k: report.fmt_int(int(v), story.lang) for k, v in m.groupdict().items()}
                text = words[key].format(**numbers)
                if text not in out:
                    out.append(text)
                break
        else:
            if not re.match(r"^(Firth|intervals are Wald)", part) and "Expected values are not given" not in part:
                out.append(part)
    return "; ".join(out) + "."


def level_label(story: Story, covariate: str, level: str) -> str:
    """A level of a case-mix covariate in words: the registry's category label (``care_form:ots`` →
    "OTS"), else the report's words for coded levels (``True`` → "ja", ``missing`` → "ontbreekt",
    ``v`` → "meisje"), else the level as stored (age groups such as ``12-15``)."""
    level = str(level)
    words = story.words.get("covariate_levels", {})
    if level in words:
        return words[level]
    category = f"{covariate}:{level}"
    if category in registry.LABELS["categories"]:
        return registry.category_label(category, story.lang)
    return level


def odds_ratio_frame(story: Story, models: pd.DataFrame) -> pd.DataFrame:
    """Odds ratios with intervals, one column per fitted logistic model, one row per term."""
    versus = story.words["versus_reference"]
    columns = {}
    for _, m in models[(models["kind"] == "share") & (models["c_text"] != "")].iterrows():
        coef = story.results.model_coefficients(m["indicator"], m["period"], m["care_type"], "share")
        rows = coef[coef["term"] != "Intercept"] if "term" in coef else coef
        if rows.empty or "odds_ratio" not in rows:
            continue
        col = {}
        for _, r in rows.iterrows():
            cov = r.get("covariate") or str(r["term"]).split("[", 1)[0]
            level = str(r["term"])[len(str(cov)):].strip("[]")
            ref = r.get("reference")
            name = registry.covariate_label(cov, story.lang) + (f": {level_label(story, cov, level)}" if level else "")
            if isinstance(ref, str) and ref:
                name += versus.format(ref=level_label(story, cov, ref))
            col[name] = (f"{report.fmt_ratio(r['odds_ratio'], 2, story.lang)} "
                         f"({report.fmt_ci(r['ci_low'], r['ci_high'], lang=story.lang, kind='ratio')})")
        columns[m["label"]] = col
    if not columns:
        return pd.DataFrame()
    frame = pd.DataFrame(columns).fillna("")
    frame.index.name = "term"
    return frame.reset_index()
