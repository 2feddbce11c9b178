"""Unit tests of the national overview (outcome_analysis.presentation.overview and its sections,
sections/national) on the small demo results (tests/conftest.py) and cut deliveries. The methods
notebook's worked examples are tested in tests/test_methods.py."""
from __future__ import annotations

import numpy as np
import pytest

from outcome_analysis import overview, registry
from outcome_analysis.settings import Settings


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
    cm = small_results.casemix_rows("jh_uitval", "jeugdhulp", period).set_index("institution")
    st = small_results.settings
    events = cm.loc[adj["institution"], "observed"].to_numpy()
    # the disclosure rule on the O/E's own cells: the denominator, and the two-cell rule on the events
    small = ((adj["n"] < st.min_denominator) | (events < st.min_cell) | (adj["n"] - events < st.min_cell)).to_numpy()
    assert small.any() and (~small).any()  # the small demo has both
    assert (adj["suppressed"] == small).all()
    assert (adj.loc[small, "signal_label"] == "te klein").all()
    assert (adj.loc[small, "signal"] == "too_small").all()
    assert adj.loc[small, "n_shown"].isna().all()
    assert (adj.loc[small, "key"] == "").all()
    # alphabetical (never by signal): shown ones are numbered 1..k in table order
    assert adj["institution"].str.casefold().is_monotonic_increasing
    assert adj.loc[~small, "key"].tolist() == [str(i) for i in range(1, (~small).sum() + 1)]


def test_adjusted_table_counts_rounded_to_five(small_results, period):
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period)
    shown = adj.loc[~adj["suppressed"]]
    assert (shown["n_shown"] % 5 == 0).all()
    assert (abs(shown["n_shown"] - shown["n"]) <= 2.5).all()


def test_adjusted_table_english_labels(small_results, period):
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period, lang="en")
    assert set(adj["signal_label"]) <= {"higher than expected", "lower than expected", "within expectation",
                                        "too small", "no model", "no verdict (too few expected)"}


def test_signal_summary_counts_add_up(small_results, period):
    summary = overview.signal_summary(small_results, period)
    assert len(summary) == len(overview.comparisons(small_results, period))
    for r in summary.itertuples(index=False):
        adj = overview.adjusted_table(small_results, r.indicator, r.care_type, period)
        assert r.compared == (~adj["suppressed"]).sum()
        assert r.higher + r.lower + r.within + r.none + r.too_small == len(adj)
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


def test_funnel_pair_draws_no_suppressed_institution(small_results, period):
    import matplotlib.pyplot as plt

    fig = overview.funnel_pair(small_results, "jh_uitval", "jeugdhulp", period)
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period)
    labels = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "institution_key"]
    shown = set(adj.loc[~adj["suppressed"], "key"])
    assert set(labels) <= shown
    oe_points = [c for c in fig.axes[1].collections if c.get_gid() in ("others", "signal_higher", "signal_lower")]
    drawn = adj.loc[~adj["suppressed"] & np.isfinite(adj["oe_ratio"])]
    assert sum(len(c.get_offsets()) for c in oe_points) == len(drawn)
    plt.close(fig)


def test_unknown_language():
    with pytest.raises(overview.OverviewError, match="'fr'"):
        overview.signal_label("higher", "fr")
    with pytest.raises(overview.OverviewError, match="'fr'"):
        overview.load("", "", "", lang="fr")
    with pytest.raises(overview.OverviewError, match="'fr'"):
        overview.report_title("methods", "fr", settings=Settings())


def test_texts_agree_in_both_languages():
    from outcome_analysis import texts

    for area in ("overview", "methods"):
        assert texts.languages_agree(texts.load(area)) == [], area
    assert overview.texts_of("en")["summary_h"] == "Summary" and overview.texts_of("nl")["summary_h"] == "Samenvatting"
    assert overview.report_title("methods", settings=Settings()) == "Verantwoording en methoden"
    assert overview.report_title("methods", "en", settings=Settings()) == "Methods and definitions"


def test_the_national_document_lists_the_notebook_sections_in_order():
    from outcome_analysis.presentation import documents

    assert documents.names("national") == ["summary", "basisset_jbjr", "jeugdhulp_harmonised", "prestatie",
                                           "trends", "method_note", "tables"]
    for module in documents.sections("national"):
        assert callable(module.build) and module.NAME


def test_sections_return_items_and_leave_no_open_figure(small_results, period):
    import matplotlib.pyplot as plt
    from IPython.display import Image

    from outcome_analysis.presentation import documents

    before = set(plt.get_fignums())
    ov = overview.Overview(results=small_results, period=period)
    items = documents.section("national", "jeugdhulp_harmonised", ov)
    assert items and all(isinstance(i, (str, Image)) for i in items)
    assert sum(isinstance(i, Image) and bool(i.alt) for i in items) >= 1  # the funnels, described
    assert set(plt.get_fignums()) == before  # shown once, where the section puts them
    assert str(items[0]).startswith("<h2>")
    en = _text(documents.section("national", "summary", overview.Overview(results=small_results, period=period,
                                                                         lang="en")))
    assert "Summary" in en and "not a ranking" in en


def test_the_query_api_gives_the_rows_the_hand_filters_gave(small_results, period):
    """raw_table and national_trends read through Results.rows: the rows of the window in force."""
    raw = overview.raw_table(small_results, "jbjr_herhaald_beroep", "jb", str(int(period) - 1))
    t = small_results.indicators
    hand = t.loc[(t["indicator"] == "jbjr_herhaald_beroep") & (t["scope"] == "institution") & (t["care_type"] == "jb")
                 & (t["period"] == str(int(period) - 1)) & (t["category"] == "")
                 & (t["window_months"] == 12).fillna(False)]
    assert len(raw) == len(hand) and sorted(raw["institution"]) == sorted(hand["institution"])
    assert (raw["window_months"] == 12).all()


# --------------------------------------------------------------------------------------------
# a delivery of one institution, a delivery not declared national
# --------------------------------------------------------------------------------------------
def _text(items) -> str:
    """The text a reader sees in a section's items (figures and other objects left out)."""
    from bs4 import BeautifulSoup

    return BeautifulSoup("".join(str(x) for x in items if isinstance(x, str)), "html.parser").get_text(" ")


def _shown(ov, document: str, *names: str) -> str:
    """The text of the named sections of ``document`` built for ``ov`` (all of them without names)."""
    from outcome_analysis.presentation import documents

    names = names or tuple(documents.names(document))
    return _text([item for name in names for item in documents.section(document, name, ov)])


def test_overview_of_one_institution_compares_nothing(small_demo):
    import dataclasses

    from outcome_analysis import schema
    from outcome_analysis.results import compute_results

    t = small_demo.trajectories
    data = dataclasses.replace(small_demo, trajectories=t.loc[t["institution"] == "Jeugdzorg De Wissel"].reset_index(drop=True),
                               goals=schema.empty_frame("goals"), experience=schema.empty_frame("experience"))
    results = compute_results(data)
    ov = overview.Overview(results=results, period="2024")
    text = _shown(ov, "national") + _shown(ov, "methods", "windows", "casemix", "overdispersion", "shrinkage")
    assert "Deze levering bevat alleen Jeugdzorg De Wissel; er is geen vergelijking met andere instellingen." in text
    assert "andelijk" not in text and "Alle instellingen" not in text
    assert "Cijfers van deze levering over 2024" in text
    assert "Niet van toepassing: deze levering bevat geen jeugdbescherming en jeugdreclassering." in text
    assert "Niet aangeleverd: deze levering bevat geen GAS-doelen (tabel goals)." in text
    assert "Geen voorbeeld uit deze levering: er is geen case-mix-model geschat" in text
    assert "Wat deze levering bevat" in text and "Trends in deze levering" in text
    assert overview.report_title("national", settings=results.settings, n_institutions=1) == (
        "Overzicht outcome-indicatoren van deze levering")


def test_overview_of_a_delivery_not_declared_national(small_results, period):
    import dataclasses

    meta = dict(small_results.meta, settings=dict(small_results.meta["settings"], delivery_scope="delivery"))
    results = dataclasses.replace(small_results, meta=meta)
    ov = overview.Overview(results=results, period=period)
    text = _shown(ov, "national", "summary", "trends", "method_note")
    assert "andelijk" not in text
    assert "Trends van alle instellingen in deze levering samen" in text and "Alle instellingen (46)" in text
    assert "het percentage van alle instellingen in deze levering samen" in text
    national = _shown(overview.Overview(results=small_results, period=period), "national", "trends")
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


def _captured(ov, names) -> list[str]:
    """The section items as text, a figure as ``<figure>``."""
    import re

    from outcome_analysis.presentation import documents

    return [re.sub(r"<[^>]+>", " ", str(o)) if isinstance(o, str) else "<figure>"
            for name in names for o in documents.section("national", name, ov)]


def test_a_family_with_one_institution_is_never_compared_with_itself(two_families):
    from subsets import GI, JH_INSTITUTION

    r = two_families
    period = r.meta["periods"][-1]
    assert r.family_institutions("jr") == [GI] and r.family_institutions("jeugdhulp") == [JH_INSTITUTION]
    assert not overview.compared(r, "jb") and not overview.compared(r, "jeugdhulp")
    # no pooled column, no funnel, no O/E, no quartiles: nothing is compared
    assert overview.comparisons(r, period).empty and overview.signal_summary(r, period).empty
    ov = overview.Overview(results=r, period=period)
    out = _captured(ov, ["summary", *overview.SETS_SHOWN])
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


def test_a_casemix_row_is_hidden_when_its_indicator_row_is(small_results, period):
    """One rule: a figure hidden only by secondary suppression (its own cells pass: here marked by
    hand, as the rule between institutions or the halves of a year would) has its O/E hidden too,
    wherever the case-mix rows are drawn or printed."""
    import dataclasses

    marked = small_results.casemix_rows(None, None, period, marked=True)
    row = marked.loc[~marked["suppressed"]].iloc[0]
    ind = small_results.indicators.copy()
    mine = ((ind["indicator"] == row["indicator"]) & (ind["care_type"] == row["care_type"])
            & (ind["institution"] == row["institution"]) & (ind["period"].astype(str) == str(row["period"]))
            & (ind["category"].fillna("") == ""))
    assert mine.any()
    ind.loc[mine, "suppressed"] = True
    hidden = dataclasses.replace(small_results, indicators=ind)
    again = hidden.casemix_rows(row["indicator"], row["care_type"], period, row["institution"], marked=True)
    assert again["suppressed"].all() and again["shown_numerator"].isna().all()
    others = hidden.casemix_rows(row["indicator"], row["care_type"], period, marked=True)
    assert others["suppressed"].sum() == marked.loc[(marked["indicator"] == row["indicator"])
                                                    & (marked["care_type"] == row["care_type"]), "suppressed"].sum() + 1
