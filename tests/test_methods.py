"""Unit tests of the methods notebook's worked examples (outcome_analysis.presentation.methods) and
its sections (sections/methods), on toy data and the small demo results (tests/conftest.py)."""
from __future__ import annotations

import numpy as np
import pytest

from outcome_analysis import registry
from outcome_analysis.presentation import methods, overview
from outcome_analysis.settings import Settings


@pytest.fixture(scope="module")
def period(small_results):
    return small_results.meta["periods"][-1]


def test_toy_episode_example_one_episode_and_one_herhaald_beroep():
    # vOTS -> OTS -> voogdij (GI Noord -> GI Zuid) is one episode ending 2023-03-31; the OTS of
    # 2023-11-01 starts 7 months later: herhaald beroep (1 of 1) in 2023.
    ex = methods.toy_episode_example(settings=Settings())
    assert ex["n_episodes"] == 2
    assert ex["chain_length"] == 3
    assert ex["end_period"] == "2023"
    assert (ex["herhaald"]["numerator"], ex["herhaald"]["denominator"]) == (1, 1)
    assert ex["trajectories"]["Episode"].tolist() == ["1", "1", "1", "2"]


def test_window_example_excludes_the_last_year(small_results, period):
    table = methods.window_example(small_results)
    last = table.loc[table["period"] == period].iloc[0]
    assert last["denominator"] == 0 and last["excluded_window"] > 0


def test_wilson_example_matches_formula():
    # Wilson for 7/20, z = 1.96: centre 0.3742, half width 0.1930 -> 0.1812 .. 0.5671 (hand computed)
    st = methods.wilson_steps(7, 20)
    assert st["low"] == pytest.approx(0.18119, abs=1e-4)
    assert st["high"] == pytest.approx(0.56715, abs=1e-4)
    assert st["centre"] - st["half"] == pytest.approx(st["low"])
    ex = methods.wilson_example()
    assert (ex["ci_low"] >= 0).all() and (ex["ci_high"] <= 1).all()
    assert (ex["wald_high"] > 1).any()  # Wald leaves [0, 1] at 19/20


def test_disclosure_example_complementary_suppression():
    ex = methods.disclosure_example(settings=Settings()).set_index("category")
    assert ex.loc["externe_omstandigheden", "shown"] == "–*"
    assert ex.loc["voortijdig_client", "shown"] == "–*"  # complementary: next smallest
    assert "aanvullend" in ex.loc["voortijdig_client", "reason"]
    assert ex.loc["volgens_plan", "shown"] == "40"  # 42 rounded to 5


def test_casemix_example_and_mover(small_results, period):
    ind, care, modelled = methods.casemix_example(small_results, period)
    assert (ind, care) == ("jh_uitval", "jeugdhulp")
    summary = small_results.summary(ind, modelled, care)
    facts = methods.model_facts(summary)
    assert facts["value"].iloc[0] == registry.label(ind)
    movers = methods.casemix_mover(small_results, ind, care, period)
    assert (movers["n"] >= small_results.settings.min_denominator).all()
    assert set(movers["raw_signal"]) <= {"higher", "lower", "within", "none"}
    # both verdicts are the comparisons table's, the raw one from its raw_reference rows
    for r in movers.itertuples(index=False):
        raw = small_results.verdict(ind, care, modelled, r.institution, basis="raw_reference", measure="share")
        assert r.raw_signal == (raw["signal"] if raw else "none")
        assert r.raw_reference == pytest.approx(raw["reference_value"], nan_ok=True)
        adjusted = small_results.verdict(ind, care, modelled, r.institution, measure="oe_ratio")
        assert r.signal in (adjusted["signal"], "no_model")
        assert r.moved == (r.raw_signal != r.signal and {r.raw_signal, r.signal} <= {"higher", "lower", "within"})


def test_verdict_and_separation_notes():
    from outcome_analysis.settings import Settings

    nl = methods.verdict_note(Settings())
    assert "W/V ∓ z·√(s² + τ²) bij 99,8% (z = 3,09)" in nl and "aandachtslijn" in nl
    assert "99.8% (z = 3.09)" in methods.verdict_note(Settings(), "en")


def test_shrinkage_table_only_shown_institutions(small_results, period):
    ind, care = methods.shrinkage_example(small_results, period)
    table = methods.shrinkage_table(small_results, ind, care, period)
    assert (table["n"] >= small_results.settings.min_denominator).all()
    assert table["n"].is_monotonic_increasing


def test_rci_and_gas_examples():
    # RCI = (58 - 68) / (sqrt 2 * 10 * sqrt(0.1)) = -2.236; higher is worse -> improved
    r = methods.rci_example()
    assert r["rci"] == pytest.approx(-2.2360680)
    assert r["class"] == "improved"
    # GAS: sum wx = 3, sum w2 = 7, sum w = 5, rho .3: T = 50 + 30 / sqrt(.7*7 + .3*25) = 58.519
    g = methods.gas_example(settings=Settings())
    assert g["t"] == pytest.approx(50 + 30 / np.sqrt(0.7 * 7 + 0.3 * 25))


def test_catalogue_from_registry():
    cat = methods.indicator_catalogue("prestatie", settings=Settings())
    assert len(cat) == 10
    assert cat["number"].tolist() == [str(i) for i in range(1, 11)]
    en = methods.indicator_catalogue("basisset_jbjr", lang="en", settings=Settings())
    assert registry.label("jbjr_herhaald_beroep", "en") in en["indicator"].tolist()


def test_worked_examples_follow_the_settings_they_are_given():
    ex = methods.disclosure_example(settings=Settings(round_to=1)).set_index("category")
    assert ex.loc["volgens_plan", "shown"] == "42"  # not rounded to 5
    assert ex.loc["externe_omstandigheden", "shown"] == "–*"
    assert methods.gas_example(settings=Settings(gas_rho=0.0))["t"] == pytest.approx(50 + 30 / np.sqrt(7))
    assert methods.toy_episode_example(settings=Settings())["window_months"] == 12
    cat = methods.indicator_catalogue("basisset_jbjr", settings=Settings(window_herhaald_beroep=24))
    assert "24 mnd" in cat["window"].tolist()


def test_window_choice_and_highlight(small_results, period):
    indicator, care_type, table = methods.window_choice(small_results)
    assert (indicator, care_type) == methods.WINDOW_EXAMPLES[0]
    assert (table["window_months"] == small_results.window_months(indicator)).all()
    ind, care, _modelled = methods.casemix_example(small_results, period)
    institution, text = methods.highlight(small_results, ind, care, period)
    assert institution in set(methods.casemix_mover(small_results, ind, care, period)["institution"])
    assert institution in text


def test_overdispersion_table_one_row_per_fitted_model(small_results, period):
    table = methods.overdispersion_table(small_results, period, "en")
    fitted = overview.comparisons(small_results, period)
    assert len(table) == (fitted["model"] == "logistic").sum()
    assert set(table["applied"]) <= {"yes", "no"}


def test_the_methods_document_lists_the_notebook_sections_in_order(small_results, period):
    from IPython.display import Image

    from outcome_analysis.presentation import documents

    assert documents.names("methods") == ["catalogue", "episodes", "windows", "wilson", "disclosure", "casemix",
                                          "overdispersion", "shrinkage", "rci_gas"]
    ov = overview.Overview(results=small_results, period=period)
    items = documents.section("methods", "casemix", ov)
    # calibration and the funnel pair, each an embedded image with its text alternative
    assert sum(isinstance(i, Image) and bool(i.alt) for i in items) == 2
    text = " ".join(str(i) for i in documents.section("methods", "rci_gas", ov))
    assert "RCI = (58 − 68)" in text
    en = " ".join(str(i) for i in documents.section("methods", "wilson", overview.Overview(small_results, period,
                                                                                          lang="en")))
    assert "Example: 7 of 20" in en


def test_the_worked_examples_need_the_settings_in_force():
    for call in (lambda: methods.disclosure_example(), lambda: methods.gas_example(),
                 lambda: methods.toy_episode_example(), lambda: methods.indicator_catalogue("prestatie")):
        with pytest.raises(TypeError):
            call()
