"""The national overview and the methods tables as a reader meets them: words instead of codes
(no registry ids, True/False, "missing" or ISO dates), each indicator counted once, no spread of a
handful of institutions, and figures that print legibly (type at least 8 pt at the width they are
placed at, legends beside the data, no trend line through one or two points)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import documents, methods, overview, plots
from outcome_analysis.settings import Settings

PERIOD = "2024"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
CODES = re.compile(r"\b(True|False|missing|NaN|nan|None)\b")


def _ids_in(text: str) -> set[str]:
    words = set(re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text))
    return {w for w in words if w in registry.REGISTRY}


def _visible_text(items) -> str:
    """The text a reader sees of a section's display items (HTML items and plain strings; figures
    are checked below), tags and attributes left out."""
    parts = []
    for item in items:
        if item is None or hasattr(item, "savefig") or hasattr(item, "figure") and not hasattr(item, "_repr_html_"):
            continue
        html = item._repr_html_() if hasattr(item, "_repr_html_") else str(item)
        if html is None:
            continue
        html = re.sub(r"<(style|script)\b.*?</\1>", " ", str(html), flags=re.S)
        parts.append(re.sub(r"<[^>]+>", " ", html))
    return "\n".join(parts)


def _leaks(text: str) -> list[str]:
    found = sorted(_ids_in(text)) + ISO_DATE.findall(text) + CODES.findall(text)
    return found


@pytest.fixture(scope="module")
def ov(small_results):
    return overview.Overview(small_results, PERIOD)


@pytest.fixture(scope="module")
def overview_text(ov):
    import matplotlib.pyplot as plt

    text = "\n".join(_visible_text(documents.section("national", name, ov)) for name in documents.names("national"))
    plt.close("all")
    return text


def test_overview_body_has_no_codes(overview_text):
    assert "Samenvatting" in overview_text  # the text was read
    assert _leaks(overview_text) == []


def test_overview_says_within_as_the_institution_reports(overview_text):
    assert "binnen verwachting" in overview_text
    assert "binnen de grenzen" not in overview_text


def test_methods_tables_have_no_codes(ov):
    import matplotlib.pyplot as plt

    text = "\n".join(_visible_text(documents.section("methods", name, ov)) for name in documents.names("methods"))
    plt.close("all")
    assert "Odds ratio" in text
    assert "t.o.v." in text  # the levels are compared with their reference in words
    assert _leaks(text) == []


def test_model_terms_in_words():
    assert methods.term_label("out_of_home[True]", "out_of_home", "False") == "Uithuisplaatsing: ja (t.o.v. nee)"
    assert methods.term_label("complexity[missing]", "complexity", "meervoudig").endswith("onbekend (t.o.v. meervoudig)")
    assert methods.term_label("out_of_home[True]", "out_of_home", "False", "en").endswith("yes (vs. no)")


def test_summary_counts_each_indicator_once(small_results, ov):
    summary = overview.signal_summary(small_results, PERIOD)
    assert len(summary)
    pairs = list(zip(summary["indicator"], summary["care_type"]))
    assert len(pairs) == len(set(pairs))
    for ind, care in pairs:
        entry = registry.get(ind)
        assert not entry.same_as and not entry.restates.get(care), (ind, care)
    # the total of the summary counts the comparisons with a model, each once
    fitted = int((summary["model"] == "logistic").sum())
    first = overview.summary_sentences(summary)[0]
    assert f"van de {fitted} vergelijkingen" in first
    # and the restated pairs are named where they are shown
    notes = " ".join(overview.restated_notes(small_results, "prestatie"))
    assert "zie daar" in notes


@pytest.fixture(scope="module")
def three_results(small_demo):
    """The small demo cut to three institutions (two jeugdhulp providers and a GI), not declared national."""
    from subsets import THREE, Subset

    from outcome_analysis.results import compute_results

    # a two-cell threshold, so that the two providers' figures are shown (under the suite's five
    # every figure of so small a cut is hidden and there would be no table to judge)
    return compute_results(Subset("three", THREE).cut(small_demo), Settings(min_cell=2))


def test_no_spread_below_five_institutions(three_results):
    import matplotlib.pyplot as plt

    ov3 = overview.Overview(three_results, PERIOD)
    comp = overview.comparisons(three_results, PERIOD)
    assert len(comp), "the cut should still compare its two jeugdhulp providers"
    items = documents.section("national", "jeugdhulp_harmonised", ov3)
    plt.close("all")
    text = _visible_text(items)
    assert "Uitval" in text and "gecorrigeerde cijfers per instelling" in text  # a table to judge
    assert "Laagste" not in text and "1e kwartiel" not in text
    assert "minder dan 5 instellingen" in text, text[-3000:]


def test_trend_with_two_points_draws_no_line():
    rows = []
    for periods in (["2023", "2024"], ["2022", "2023", "2024"]):
        rows.append(pd.DataFrame({"period": periods, "value": np.linspace(0.2, 0.3, len(periods)),
                                  "ci_low": 0.1, "ci_high": 0.4, "institution": "A", "scope": "institution",
                                  "suppressed": False}))
    import matplotlib.pyplot as plt

    short = plots.trend_plot(rows[0], institution="A", national=False, settings=Settings())
    line = next(a for a in short.get_lines() if a.get_gid() == "highlight")
    assert line.get_linestyle() in ("None", "none", "")
    assert not [c for c in short.collections if c.get_gid() == "ci_band"]
    long = plots.trend_plot(rows[1], institution="A", national=False, settings=Settings())
    assert next(a for a in long.get_lines() if a.get_gid() == "highlight").get_linestyle() == "-"
    plt.close("all")
    assert not plots.enough_for_trend(2) and plots.enough_for_trend(3)


def _data_points(ax):
    """Display coordinates of the points and line vertices drawn in ``ax``."""
    pts = []
    for line in ax.get_lines():
        xy = np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) and line.get_gid() not in ("national",) and line.get_transform() == ax.transData:
            pts.append(ax.transData.transform(xy))
    for coll in ax.collections:
        off = np.asarray(coll.get_offsets(), float)
        if off.ndim == 2 and len(off):
            pts.append(coll.get_offset_transform().transform(off))
    return np.vstack(pts) if pts else np.zeros((0, 2))


def _legend_clear_of_data(fig) -> None:
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        frame = ax.get_window_extent(renderer)
        assert box.y1 <= frame.y0 + 1 or box.x0 >= frame.x1 - 1, "legend drawn over the axes"
        pts = _data_points(ax)
        inside = ((pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1))
        assert not inside.any()


@pytest.fixture(scope="module")
def figures(small_results):
    """The figures of the overview and the plot functions (closed by the caller's end)."""
    import matplotlib.pyplot as plt

    r = small_results
    out = {"funnel_pair": overview.funnel_pair(r, "jh_uitval", "jeugdhulp", PERIOD),
           "trends": overview.trend_figure(r, "jeugdhulp_harmonised")}
    adj = overview.adjusted_table(r, "jh_uitval", "jeugdhulp", PERIOD)
    shown = adj.loc[~adj["suppressed"]]
    out["funnel"] = plots.funnel_plot(shown, kind="oe", highlight=shown["institution"].iloc[0], lang="nl",
                                      settings=r.settings).figure
    trend = r.rows("jh_uitval", care_type="jeugdhulp")
    trend = trend.loc[(trend["scope"] == "national") | (trend["institution"] == shown["institution"].iloc[0])]
    out["trend"] = plots.trend_plot(trend, institution=shown["institution"].iloc[0], settings=r.settings).figure
    out["caterpillar"] = plots.caterpillar_plot(shown.assign(value=shown["raw_value"]), highlight=shown["institution"].iloc[0],
                                                national=0.2).figure
    profile = pd.DataFrame({"group": ["A", "A", "Landelijk", "Landelijk"], "category": ["x", "y", "x", "y"],
                            "value": [0.4, 0.6, 0.5, 0.5]})
    out["profile"] = plots.profile_plot(profile).figure
    out["bars"] = plots.comparison_bars(profile).figure
    ind, care, modelled = methods.casemix_example(r, PERIOD)
    out["calibration"] = methods.calibration_plot(r.summary(ind, modelled, care)).figure
    out["shrinkage"] = methods.shrinkage_plot(r, ind, care, PERIOD).figure
    yield out
    plt.close("all")


def test_figure_text_prints_at_least_8pt(figures):
    for name, fig in figures.items():
        assert fig is not None, name
        assert plots.min_printed_pt(fig) >= 8.0, (name, plots.min_printed_pt(fig),
                                                 min(plots.text_sizes(fig), key=lambda t: t[1]))


def test_legends_never_over_data(figures):
    for name, fig in figures.items():
        _legend_clear_of_data(fig)


def test_funnel_verdicts_have_their_own_marks(figures):
    ax = figures["funnel_pair"].axes[1]
    labels = {t.get_text() for t in figures["funnel_pair"].legends[0].get_texts()}
    assert "binnen verwachting" in labels or "geen oordeel" in labels
    markers = {c.get_gid(): c.get_paths()[0].vertices.shape for c in ax.collections if c.get_gid()}
    assert "others" in markers
    for gid in ("signal_higher", "signal_lower"):  # when drawn: a triangle, not the circle of within
        if gid in markers:
            assert markers[gid] != markers["others"]


def test_funnel_label_inside_the_figure(figures):
    fig = figures["funnel"]
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    for text in fig.findobj(lambda a: getattr(a, "get_gid", lambda: None)() == "highlight_label"):
        box = text.get_window_extent(renderer)
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1


def test_overview_html_reads(report_batch):
    html = report_batch.html("national")
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    assert _leaks(body) == []
    assert "binnen de grenzen" not in body


def test_jargon_explained_before_first_use(overview_text):
    """W/V, trechter, interval, overdispersie and empirische Bayes are explained in plain words (the
    reading guide of the summary) before the body first uses them."""
    guide = overview_text.find("Zo lees je dit overzicht")
    assert guide > 0
    for term in ("W/V", "trechter", "interval", "overdispersie", "empirische Bayes"):
        first = overview_text.lower().find(term.lower())
        assert first == -1 or first >= guide, (term, overview_text[max(0, first - 80):first + 40])
