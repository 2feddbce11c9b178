"""The example case-mix model: facts, odds ratios, calibration by decile, how levels with one outcome
and separation are handled (E = O; Firth with FLIC) and ``min_expected``, and the raw against the
adjusted funnel with the institution whose position changes most highlighted."""
from __future__ import annotations

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import methods, overview, report
from outcome_analysis.presentation.overview import OverviewError

NAME = "casemix"


def build(ov) -> list:
    lang, results, period = ov.lang, ov.results, ov.period
    mt = methods.notes(lang)
    try:
        indicator, care_type, modelled = methods.casemix_example(results, period)
    except OverviewError:
        return [report.note(methods.no_model_note(results, lang))]
    summary = results.summary(indicator, modelled, care_type)
    fc = mt["facts"]
    coefs = summary.coefficients
    items = [
        report.note(mt["model"].format(ind=registry.label(indicator, lang),
                                       care=registry.care_type_label(care_type, lang), p=modelled)),
        report.display_table(methods.model_facts(summary, lang),
                             {"item": (fc["item"], "text"), "value": (fc["value"], "text")}, lang,
                             settings=ov.settings, widths=[50, 50]),
        methods.coefficient_table(coefs.loc[coefs["term"] != "Intercept"], lang, ov.settings),
        overview.figure(methods.calibration_plot(summary, lang).figure),
        report.note(methods.separation_note(results, indicator, care_type, modelled, lang)),
    ]
    institution, text = methods.highlight(results, indicator, care_type, period, lang)
    if institution is not None:
        items.append(report.note(text))
    items.append(overview.figure(overview.funnel_pair(results, indicator, care_type, period, lang,
                                                      highlight=institution)))
    return items
