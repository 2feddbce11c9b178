"""Unit tests of outcome_analysis.overview on the small demo results (tests/conftest.py) and toy data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis import overview, registry


@pytest.fixture(scope="module")
def period(small_results):
    return small_results.meta["periods"][-1]


def test_load_uses_given_data(small_demo, small_results):
    ov = overview.load(data=small_demo)
    assert ov.period == small_results.meta["periods"][-1]
    assert set(ov.results.casemix["indicator"]) == set(small_results.casemix["indicator"])


def test_load_needs_data_or_results():
    with pytest.raises(overview.OverviewError, match="data_path"):
        overview.load("", "", "")


def test_load_stored_results_without_the_period_names_it(small_results, tmp_path):
    small_results.save(tmp_path)
    with pytest.raises(overview.OverviewError, match="'2019'"):
        overview.load("", str(tmp_path), "2019")


def test_comparisons_follow_registry_order_and_windows(small_results, period):
    comp = overview.comparisons(small_results, period)
    order = list(registry.REGISTRY)
    assert comp["indicator"].map(order.index).is_monotonic_increasing
    hb = comp.loc[comp["indicator"] == "jbjr_herhaald_beroep", "modelled_period"]
    assert (hb == str(int(period) - 1)).all()  # 12-month window: the year before is the latest judgeable
    assert not comp["indicator"].isin(["pi02_tevredenheid", "pi05_geen_nieuw_beroep"]).any()  # same_as


def test_adjusted_table_one_row_per_institution(small_results, period):
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period)
    cm = small_results.casemix
    expected = cm.loc[(cm["indicator"] == "jh_uitval") & (cm["report_period"] == period)
                      & (cm["care_type"] == "jeugdhulp"), "institution"]
    assert sorted(adj["institution"]) == sorted(expected)
    assert adj["institution"].is_unique
    for col in ("institution", "n", "n_shown", "raw_value", "oe_ratio", "oe_ci_low", "oe_ci_high",
                "adjusted_value", "signal", "signal_label", "suppressed", "key"):
        assert col in adj.columns, col


def test_adjusted_table_suppresses_small_institutions(small_results, period):
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period)
    small = adj["n"] < small_results.settings.min_denominator
    assert small.any() and (~small).any()  # the small demo has both
    assert (adj["suppressed"] == small).all()
    assert (adj.loc[small, "signal_label"] == "te klein").all()
    assert (adj.loc[small, "signal"] == "too_small").all()
    assert adj.loc[small, "n_shown"].isna().all()
    assert (adj.loc[small, "key"] == "").all()
    # too small institutions come last; shown ones are numbered 1..k in table order
    assert not adj["suppressed"].iloc[: (~small).sum()].any()
    assert adj.loc[~small, "key"].tolist() == [str(i) for i in range(1, (~small).sum() + 1)]


def test_adjusted_table_counts_rounded_to_five(small_results, period):
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period)
    shown = adj.loc[~adj["suppressed"]]
    assert (shown["n_shown"] % 5 == 0).all()
    assert (abs(shown["n_shown"] - shown["n"]) <= 2.5).all()


def test_adjusted_table_english_labels(small_results, period):
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period, lang="en")
    assert set(adj["signal_label"]) <= {"higher than expected", "lower than expected", "within limits",
                                        "too small", "no model"}


def test_signal_summary_counts_add_up(small_results, period):
    summary = overview.signal_summary(small_results, period)
    assert len(summary) == len(overview.comparisons(small_results, period))
    for r in summary.itertuples(index=False):
        adj = overview.adjusted_table(small_results, r.indicator, r.care_type, period)
        assert r.compared == (~adj["suppressed"]).sum()
        assert r.higher + r.lower + r.within + r.too_small <= len(adj)
        assert r.too_small == adj["suppressed"].sum()
    sentences = overview.summary_sentences(summary)
    assert sentences[0].startswith("Bij ")


def test_spread_uses_shown_institutions_only(small_results, period):
    table, od = overview.spread(small_results, "jh_uitval", "jeugdhulp", period)
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period)
    shown = adj.loc[~adj["suppressed"], "raw_value"]
    raw = table.iloc[0]
    assert raw["n"] == len(shown)
    assert raw["min"] == pytest.approx(shown.min()) and raw["max"] == pytest.approx(shown.max())
    assert raw["iqr"] == pytest.approx(raw["q3"] - raw["q1"])
    assert set(od) >= {"phi", "tau2", "applied"}
    assert np.isfinite(od["phi"])


def test_national_trends_one_row_per_period(small_results):
    trends = overview.national_trends(small_results, "jeugdhulp_harmonised")
    uitval = trends.loc[trends["indicator"] == "jh_uitval"]
    assert uitval["period"].is_unique and len(uitval) >= 5
    hb = overview.national_trends(small_results, "basisset_jbjr")
    assert (hb.loc[hb["indicator"] == "jbjr_herhaald_beroep", "window_months"] == 12).all()


def test_toy_episode_example_one_episode_and_one_herhaald_beroep():
    # vOTS -> OTS -> voogdij (GI Noord -> GI Zuid) is one episode ending 2023-03-31; the OTS of
    # 2023-11-01 starts 7 months later: herhaald beroep (1 of 1) in 2023.
    ex = overview.toy_episode_example()
    assert ex["n_episodes"] == 2
    assert ex["chain_length"] == 3
    assert ex["end_period"] == "2023"
    assert (ex["herhaald"]["numerator"], ex["herhaald"]["denominator"]) == (1, 1)
    assert ex["trajectories"]["Episode"].tolist() == ["1", "1", "1", "2"]


def test_window_example_excludes_the_last_year(small_results, period):
    table = overview.window_example(small_results)
    last = table.loc[table["period"] == period].iloc[0]
    assert last["denominator"] == 0 and last["excluded_window"] > 0


def test_wilson_example_matches_formula():
    # Wilson for 7/20, z = 1.96: centre 0.3742, half width 0.1930 -> 0.1812 .. 0.5671 (hand computed)
    st = overview.wilson_steps(7, 20)
    assert st["low"] == pytest.approx(0.18119, abs=1e-4)
    assert st["high"] == pytest.approx(0.56715, abs=1e-4)
    assert st["centre"] - st["half"] == pytest.approx(st["low"])
    ex = overview.wilson_example()
    assert (ex["ci_low"] >= 0).all() and (ex["ci_high"] <= 1).all()
    assert (ex["wald_high"] > 1).any()  # Wald leaves [0, 1] at 19/20


def test_disclosure_example_complementary_suppression():
    ex = overview.disclosure_example().set_index("category")
    assert ex.loc["externe_omstandigheden", "shown"] == "–*"
    assert ex.loc["voortijdig_client", "shown"] == "–*"  # complementary: next smallest
    assert "aanvullend" in ex.loc["voortijdig_client", "reason"]
    assert ex.loc["volgens_plan", "shown"] == "40"  # 42 rounded to 5


def test_casemix_example_and_mover(small_results, period):
    ind, care, modelled = overview.casemix_example(small_results, period)
    assert (ind, care) == ("jh_uitval", "jeugdhulp")
    summary = small_results.summary(ind, modelled, care)
    facts = overview.model_facts(summary)
    assert facts["value"].iloc[0] == registry.label(ind)
    movers = overview.casemix_mover(small_results, ind, care, period)
    assert (movers["n"] >= small_results.settings.min_denominator).all()
    assert set(movers["raw_signal"]) <= {"higher", "lower", "within"}


def test_shrinkage_table_only_shown_institutions(small_results, period):
    ind, care = overview.shrinkage_example(small_results, period)
    table = overview.shrinkage_table(small_results, ind, care, period)
    assert (table["n"] >= small_results.settings.min_denominator).all()
    assert table["n"].is_monotonic_increasing


def test_rci_and_gas_examples():
    # RCI = (58 - 68) / (sqrt 2 * 10 * sqrt(0.1)) = -2.236; higher is worse -> improved
    r = overview.rci_example()
    assert r["rci"] == pytest.approx(-2.2360680)
    assert r["class"] == "improved"
    # GAS: sum wx = 3, sum w2 = 7, sum w = 5, rho .3: T = 50 + 30 / sqrt(.7*7 + .3*25) = 58.519
    g = overview.gas_example()
    assert g["t"] == pytest.approx(50 + 30 / np.sqrt(0.7 * 7 + 0.3 * 25))


def test_funnel_pair_draws_no_suppressed_institution(small_results, period):
    import matplotlib.pyplot as plt

    fig = overview.funnel_pair(small_results, "jh_uitval", "jeugdhulp", period)
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period)
    labels = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "institution_key"]
    shown = set(adj.loc[~adj["suppressed"], "key"])
    assert set(labels) <= shown
    oe_points = [c for c in fig.axes[1].collections if c.get_gid() == "others"][0]
    assert len(oe_points.get_offsets()) == len(shown)
    plt.close(fig)


def test_catalogue_from_registry():
    cat = overview.indicator_catalogue("prestatie")
    assert len(cat) == 10
    assert cat["number"].tolist() == [str(i) for i in range(1, 11)]
    en = overview.indicator_catalogue("basisset_jbjr", lang="en")
    assert registry.label("jbjr_herhaald_beroep", "en") in en["indicator"].tolist()


def test_unknown_language():
    with pytest.raises(overview.OverviewError, match="'fr'"):
        overview.care_type_label("jb", "fr")


# --------------------------------------------------------------------------------------------
# a delivery of one institution, a delivery not declared national
# --------------------------------------------------------------------------------------------
def _shown(monkeypatch, calls) -> str:
    """Run the display helpers, collecting what they display, and return it as text."""
    from bs4 import BeautifulSoup

    shown = []
    monkeypatch.setattr(overview, "_display", lambda obj: shown.append(obj))
    monkeypatch.setattr(overview, "_show_figure", lambda fig: shown.append("<figure>") if fig is not None else None)
    for fn, *args in calls:
        fn(*args)
    return BeautifulSoup("".join(str(x) for x in shown if isinstance(x, str)), "html.parser").get_text(" ")


def test_overview_of_one_institution_compares_nothing(small_demo, monkeypatch):
    import dataclasses

    from outcome_analysis import schema
    from outcome_analysis.results import compute_results

    t = small_demo.trajectories
    data = dataclasses.replace(small_demo, trajectories=t.loc[t["institution"] == "Jeugdzorg De Wissel"].reset_index(drop=True),
                               goals=schema.empty_frame("goals"), experience=schema.empty_frame("experience"))
    results = compute_results(data)
    ov = overview.Overview(results=results, period="2024")
    text = _shown(monkeypatch, [(overview.show_summary, ov), *[(overview.show_set, ov, s) for s in overview.SETS_SHOWN],
                                (overview.show_trends, ov), (overview.show_method_note, ov),
                                (overview.show_window_example, results), (overview.show_casemix_example, results, "2024"),
                                (overview.show_overdispersion, results, "2024"), (overview.show_shrinkage, results, "2024")])
    assert "Deze levering bevat alleen Jeugdzorg De Wissel; er is geen vergelijking met andere instellingen." in text
    assert "andelijk" not in text and "Alle instellingen" not in text
    assert "Cijfers van deze levering over 2024" in text
    assert "Niet van toepassing: deze levering bevat geen jeugdbescherming en jeugdreclassering." in text
    assert "Niet aangeleverd: deze levering bevat geen GAS-doelen (tabel goals)." in text
    assert "Geen voorbeeld uit deze levering: er is geen case-mix-model geschat" in text
    assert "Wat deze levering bevat" in text and "Trends in deze levering" in text
    assert overview.report_title("national", settings=results.settings, n_institutions=1) == (
        "Overzicht outcome-indicatoren van deze levering")


def test_overview_of_a_delivery_not_declared_national(small_results, period, monkeypatch):
    import dataclasses

    meta = dict(small_results.meta, settings=dict(small_results.meta["settings"], delivery_scope="delivery"))
    results = dataclasses.replace(small_results, meta=meta)
    ov = overview.Overview(results=results, period=period)
    text = _shown(monkeypatch, [(overview.show_summary, ov), (overview.show_trends, ov), (overview.show_method_note, ov)])
    assert "andelijk" not in text
    assert "Trends van alle instellingen in deze levering samen" in text and "Alle instellingen (46)" in text
    assert "het percentage van alle instellingen in deze levering samen" in text
    national = _shown(monkeypatch, [(overview.show_trends, overview.Overview(results=small_results, period=period))])
    assert "Landelijke trends" in national


# ---------------------------------------------------------------------------------------------
# the comparator rule per care-type family, and the disclosure rule for the pooled figure
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_families(small_demo, demo_settings):
    """A jeugdhulp provider and a GI: each care-type family has one institution (declared national)."""
    from subsets import GI, JH_INSTITUTION, Subset

    from outcome_analysis.results import compute_results

    data = Subset("two", institutions=(JH_INSTITUTION, GI)).cut(small_demo)
    return compute_results(data, demo_settings)


def _captured(monkeypatch) -> list[str]:
    import re

    out: list[str] = []
    monkeypatch.setattr(overview, "_display", lambda o: out.append(re.sub(r"<[^>]+>", " ", str(o))))
    monkeypatch.setattr(overview, "_show_figure", lambda f: out.append("<figure>") if f is not None else None)
    return out


def test_a_family_with_one_institution_is_never_compared_with_itself(two_families, monkeypatch):
    from subsets import GI, JH_INSTITUTION

    r = two_families
    period = r.meta["periods"][-1]
    assert r.family_institutions("jr") == [GI] and r.family_institutions("jeugdhulp") == [JH_INSTITUTION]
    assert not overview.compared(r, "jb") and not overview.compared(r, "jeugdhulp")
    # no pooled column, no funnel, no O/E, no quartiles: nothing is compared
    assert overview.comparisons(r, period).empty and overview.signal_summary(r, period).empty
    ov = overview.Overview(results=r, period=period)
    out = _captured(monkeypatch)
    overview.show_summary(ov)
    for set_id in overview.SETS_SHOWN:
        overview.show_set(ov, set_id)
    text = " ".join(out)
    assert "Elk cijfer staat naast" not in text and "<figure>" not in text
    assert "W/V" not in text and "kwartiel" not in text and "Mediaan" not in text
    assert f"Voor jeugdhulp bevat deze levering één instelling ({JH_INSTITUTION}); er is daarom geen " \
           "vergelijking tussen instellingen." in text
    assert f"Voor jeugdbescherming en jeugdreclassering bevat deze levering één instelling ({GI})" in text
    en = overview.alone_families(r, "en")
    assert all("holds one institution" in s and "no comparison" in s for s in en) and len(en) == 2


def test_the_pooled_figure_in_the_summary_follows_the_disclosure_rule(small_results):
    import dataclasses

    period = small_results.meta["periods"][-1]
    before = overview.signal_summary(small_results, period)
    row = before.dropna(subset=["national_value"]).iloc[0]
    t = small_results.indicators.copy()
    sel = ((t["indicator"] == row["indicator"]) & (t["care_type"] == row["care_type"]) & (t["scope"] == "national")
           & (t["period"] == row["modelled_period"]) & (t["category"] == ""))
    # a pooled figure with a denominator below the threshold (as a family's one small institution)
    t.loc[sel, "denominator"] = 8
    after = overview.signal_summary(dataclasses.replace(small_results, indicators=t), period)
    hit = after.loc[(after["indicator"] == row["indicator"]) & (after["care_type"] == row["care_type"])]
    assert np.isnan(hit["national_value"].iloc[0])
    t = small_results.indicators.copy()
    t.loc[sel, "suppressed"] = True
    after = overview.signal_summary(dataclasses.replace(small_results, indicators=t), period)
    hit = after.loc[(after["indicator"] == row["indicator"]) & (after["care_type"] == row["care_type"])]
    assert np.isnan(hit["national_value"].iloc[0])
