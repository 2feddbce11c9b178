"""One verdict per comparison in the national overview: every verdict its tables, summary and funnels
show is the row of Results.comparison; institutions are listed alphabetically; the rankability is
printed with its band (or why not), and only a high one adds the caterpillar of the shrunk O/E, which
is never printed beside a verdict. On the small demo results (tests/conftest.py) and hand-made
copies of their model and case-mix rows."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from outcome_analysis import overview
from outcome_analysis.presentation.sections.national import _set

IND, CARE = "jh_uitval", "jeugdhulp"


@pytest.fixture(scope="module")
def period(small_results):
    return small_results.meta["periods"][-1]


def _ov(results, period, lang="nl"):
    return overview.Overview(results=results, period=period, lang=lang)


def _tables(items) -> list:
    from bs4 import BeautifulSoup

    return [t for i in items if isinstance(i, str) and "<table" in i
            for t in BeautifulSoup(str(i), "html.parser").find_all("table")]


def _figures(items) -> list:
    return [i for i in items if hasattr(i, "savefig")]


@pytest.fixture(autouse=True)
def _figures_as_drawn(monkeypatch):
    """The sections hand their figures over as images (``overview.figure`` -> ``story.png``); these
    tests read the matplotlib figures themselves (gids, axes), so the figure is handed over as drawn."""
    import matplotlib.pyplot as plt

    def drawn(fig):
        if fig is not None:
            plt.close(fig)
        return fig

    monkeypatch.setattr(overview, "figure", drawn)


def _with_model(results, period, **values):
    """The results with the model row of (IND, CARE) changed by hand."""
    models = results.model_summaries.copy()
    modelled = str(results.casemix_rows(IND, CARE, period)["period"].iloc[0])
    mask = ((models["indicator"] == IND) & (models["care_type"] == CARE) & (models["kind"] == "share")
            & (models["period"].astype(str) == modelled))
    assert mask.sum() == 1
    for k, v in values.items():
        models.loc[mask, k] = v
    return dataclasses.replace(results, model_summaries=models)


def test_every_shown_verdict_is_the_comparison_row(small_results, period):
    """All compared indicators and care types, every institution: the adjusted table's verdict and its
    interval are those of Results.comparison; a hidden figure shows no verdict."""
    comp = overview.comparisons(small_results, period)
    assert len(comp) > 5
    seen = 0
    for c in comp.itertuples(index=False):
        adj = overview.adjusted_table(small_results, c.indicator, c.care_type, period)
        for r in adj.itertuples(index=False):
            row = small_results.verdict(c.indicator, c.care_type, r.period, r.institution, measure="oe_ratio")
            assert row is not None, (c.indicator, r.institution)
            if r.suppressed:
                assert r.signal == "too_small"
                continue
            expected = row["signal"] if np.isfinite(r.oe_ratio) else "no_model"
            assert r.signal == expected or (expected == "no_model" and row["signal"] == "none")
            assert r.signal_label == overview.signal_label(r.signal)
            np.testing.assert_allclose([r.oe_ci_low, r.oe_ci_high], [row["ci_low"], row["ci_high"]])
            seen += 1
    assert seen > 50


def test_summary_counts_are_the_comparisons(small_results, period):
    summary = overview.signal_summary(small_results, period)
    for s in summary.itertuples(index=False):
        adj = overview.adjusted_table(small_results, s.indicator, s.care_type, period)
        shown = adj.loc[~adj["suppressed"]]
        rows = small_results.comparison(s.indicator, s.care_type, None, measure="oe_ratio", report_period=period)
        rows = rows.loc[rows["unit"].isin(shown["institution"])]
        for sig in ("higher", "lower", "within"):
            assert getattr(s, sig) == (rows["signal"] == sig).sum(), (s.indicator, sig)


def test_rendered_table_alphabetical_with_the_comparisons_verdict(small_results, period):
    from outcome_analysis.presentation.sections.national import tables as appendix

    ov = _ov(small_results, period)
    # the whole table: in the body for a handful of institutions, else in the appendix (the body lists
    # the institutions with a signal)
    body = [t for t in _tables(_set.indicator_items(ov, IND, CARE)) if "Signaal" in t.get_text()]
    tables = [t for t in body + _tables(appendix.build(ov))
              if "Signaal" in t.get_text() and "Uitval (jeugdhulp)" in t.get_text()
              and "gecorrigeerde cijfers per instelling" in t.get_text()]
    assert len(tables) == 1
    assert all("instellingen met een signaal" in t.get_text() for t in body)
    head = [th.get_text(" ", strip=True) for th in tables[0].find("thead").find_all("th")]
    assert "Bij toeval verwacht (W/V)" in head and "Signaal" in head  # the range, as in the reports
    assert not any("kleine aantallen" in h for h in head)  # the shrunk O/E never beside a verdict
    names, words = [], []
    for tr in tables[0].find("tbody").find_all("tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all(["th", "td"])]
        names.append(cells[0].split(". ", 1)[1])
        words.append(cells[-1])
    assert names == sorted(names, key=str.casefold)  # alphabetical, never by signal
    modelled = str(small_results.casemix_rows(IND, CARE, period)["period"].iloc[0])
    for name, word in zip(names, words):
        row = small_results.verdict(IND, CARE, modelled, name, measure="oe_ratio")
        assert word == overview.signal_label(row["signal"]), name


def test_funnel_points_carry_the_comparisons_verdict(small_results, period):
    import matplotlib.pyplot as plt

    fig = overview.funnel_pair(small_results, IND, CARE, period)
    adj = overview.adjusted_table(small_results, IND, CARE, period)
    drawn = adj.loc[~adj["suppressed"] & np.isfinite(adj["oe_ratio"])]
    oe = fig.axes[1]
    for sig in ("higher", "lower"):
        arts = [c for c in oe.collections if c.get_gid() == f"signal_{sig}"]
        assert sum(len(a.get_offsets()) for a in arts) == (drawn["signal"] == sig).sum()
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert "95%-aandachtslijn" in labels and "99,8%-signaalgrens" in labels
    plt.close(fig)


def test_rankability_band_in_words(small_results, period):
    r = overview.rankability(_with_model(small_results, period, rankability=0.62), IND, CARE, period)
    assert r["band"] == "moderate"
    assert r["text"].startswith("Rangschikbaarheid 0,62 (matig): het deel van de verschillen tussen instellingen")
    assert "Lingsma et al. 2010" in r["text"]
    en = overview.rankability(_with_model(small_results, period, rankability=0.62), IND, CARE, period, "en")
    assert en["text"].startswith("Rankability 0.62 (moderate)")


def test_fewer_than_ten_judged_gives_the_reason_not_a_number(small_results, period):
    results = _with_model(small_results, period, rankability=np.nan)
    items = _set.indicator_items(_ov(results, period), IND, CARE)
    text = " ".join(str(i) for i in items if isinstance(i, str))
    assert "Rangschikbaarheid niet berekend: minder dan 10 instellingen met genoeg verwachte uitkomsten" in text
    assert "Rangschikbaarheid 0" not in text and "Rangschikbaarheid 1" not in text
    assert not any(f.get_gid() == "caterpillar" for f in _figures(items))


@pytest.mark.parametrize("rho,shown", [(0.9, True), (0.3, False), (0.62, False)])
def test_caterpillar_only_when_rankability_is_high(small_results, period, rho, shown):
    results = _with_model(small_results, period, rankability=rho, tau2_between=0.05)
    items = _set.indicator_items(_ov(results, period), IND, CARE)
    caterpillars = [f for f in _figures(items) if f.get_gid() == "caterpillar"]
    text = " ".join(str(i) for i in items if isinstance(i, str))
    assert bool(caterpillars) == shown
    assert ("hoe groot is het verschil waarschijnlijk, rekening houdend met kleine aantallen" in text) == shown
    if shown:  # sorted by the shrunk O/E, each with its interval, named; no verdict colours
        ax = caterpillars[0].axes[0]
        assert not any(str(c.get_gid()).startswith("signal_") for c in ax.collections)
        adj = overview.adjusted_table(results, IND, CARE, period)
        assert len(ax.get_yticklabels()) == len(adj.loc[~adj["suppressed"]])


def test_no_between_variance_says_so_only_in_the_spread_part(small_results, period):
    """oe_shrunk NaN (between-institution variance 0): the spread part says the institutions do not
    differ more than chance; no caterpillar even with a high rankability, nothing beside a verdict."""
    results = _with_model(small_results, period, rankability=0.9, tau2_between=0.0)
    cm = results.casemix.copy()
    mask = (cm["indicator"] == IND) & (cm["care_type"] == CARE)
    cm.loc[mask, ["oe_shrunk", "oe_shrunk_ci_low", "oe_shrunk_ci_high"]] = np.nan
    results = dataclasses.replace(results, casemix=cm)
    items = _set.indicator_items(_ov(results, period), IND, CARE)
    notes = [str(i) for i in items if isinstance(i, str) and "<table" not in str(i)]
    assert sum("niet meer van elkaar dan toeval" in n for n in notes) == 1
    assert not any(f.get_gid() == "caterpillar" for f in _figures(items))
    for table in _tables(items):
        assert "niet meer van elkaar dan toeval" not in table.get_text()


def test_texts_in_english(small_results, period):
    results = _with_model(small_results, period, rankability=0.9, tau2_between=0.05)
    from outcome_analysis.presentation.sections.national import tables as appendix

    ov = _ov(results, period, "en")
    items = _set.indicator_items(ov, IND, CARE) + appendix.build(ov)  # the whole table may be in the appendix
    text = " ".join(str(i) for i in items if isinstance(i, str))
    assert "Rankability 0.90 (high)" in text
    assert "how large is the difference probably, taking small numbers into account" in text
    assert "Expected by chance (O/E)" in text
