"""The between-institution variance behind shrinkage (unwinsorised, method of moments; the shrunk O/E
is NaN, not 1, when it is 0), raw against shrunk O/E for the smallest institutions that may be shown,
and the plot."""
from __future__ import annotations

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import methods, overview, report
from outcome_analysis.presentation.overview import OverviewError

NAME = "shrinkage"


def build(ov) -> list:
    lang, results, period = ov.lang, ov.results, ov.period
    mt = methods.notes(lang)
    try:
        indicator, care_type = methods.shrinkage_example(results, period)
    except OverviewError:
        return [report.note(methods.no_model_note(results, lang))]
    comp = overview.comparisons(results, period).set_index(["indicator", "care_type"])
    s = overview.model_row(results, indicator, care_type, comp.loc[(indicator, care_type), "modelled_period"])
    text = mt["shrink"].format(ind=registry.label(indicator, lang), care=registry.care_type_label(care_type, lang),
                               tau2=report.fmt_number(methods.tau2_between(s), 3, lang),
                               n=int(ov.settings.min_denominator))
    table = methods.shrinkage_table(results, indicator, care_type, period)
    table = table.assign(shrunk_ci=[report.fmt_ci(a, b, 2, lang, kind="ratio")
                                    for a, b in zip(table["oe_shrunk_ci_low"], table["oe_shrunk_ci_high"])])
    c = mt["shrink_cols"]
    cols = {"institution": (c["institution"], "text"), "n": (c["n"], "count"), "oe_ratio": (c["oe_ratio"], "ratio"),
            "oe_shrunk": (c["oe_shrunk"], "ratio"), "shrunk_ci": (c["ci"], "text")}
    return [report.note(mt["shrink_between"]), report.note(text),
            report.display_table(table, cols, lang, settings=ov.settings, widths=[38, 14, 12, 14, 22]),
            overview.figure(methods.shrinkage_plot(results, indicator, care_type, period, lang).figure)]
