"""Tests of outcome_analysis.plots: every plot returns its Axes, marks the highlighted institution
distinctly (colour, marker and label), leaves others unnamed when anonymised, uses the Okabe–Ito
palette, never draws a suppressed value and leaves matplotlib's global settings alone."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from outcome_analysis import plots  # noqa: E402
from outcome_analysis.settings import DEFAULT  # noqa: E402

HL = "Stichting Hoog"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture
def institutions() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = rng.integers(12, 400, 20)
    t = pd.DataFrame({"institution": [f"Instelling {i:02d}" for i in range(19)] + [HL], "denominator": n,
                      "numerator": rng.binomial(n, 0.6)})
    t["value"] = t["numerator"] / t["denominator"]
    se = np.sqrt(t["value"] * (1 - t["value"]) / t["denominator"])
    t["ci_low"], t["ci_high"] = t["value"] - 1.96 * se, t["value"] + 1.96 * se
    t["suppressed"] = False
    t.loc[0, ["denominator", "suppressed"]] = [6, True]
    return t


@pytest.fixture
def limits() -> pd.DataFrame:
    x = np.arange(10, 401, 10, dtype=float)
    se = np.sqrt(0.6 * 0.4 / x)
    rows = [pd.DataFrame({"denominator": x, "limit": lim, "low": 0.6 - z * se, "high": 0.6 + z * se})
            for lim, z in ((0.95, 1.96), (0.998, 3.09))]
    return pd.concat(rows, ignore_index=True).assign(target=0.6)


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts] + [t.get_text() for t in ax.get_yticklabels()] + \
           [t.get_text() for t in ax.get_xticklabels()]


def _by_gid(ax, gid):
    return [a for a in ax.findobj() if getattr(a, "get_gid", lambda: None)() == gid]


def test_funnel_plot(institutions, limits):
    ax = plots.funnel_plot(institutions, highlight=HL, limits_table=limits, settings=DEFAULT)
    assert isinstance(ax, matplotlib.axes.Axes)
    hl = _by_gid(ax, "highlight")[0]
    others = _by_gid(ax, "others")[0]
    assert to_hex(hl.get_facecolor()[0]) == plots.HIGHLIGHT.lower()
    assert to_hex(others.get_facecolor()[0]) == plots.OTHERS.lower()
    assert plots.HIGHLIGHT in plots.OKABE_ITO and plots.OTHERS in plots.OKABE_ITO
    assert hl.get_sizes()[0] > others.get_sizes()[0]  # not colour alone: size, marker, label
    labels = _texts(ax)
    assert HL in labels
    assert not any(name.startswith("Instelling") for name in labels)
    # the suppressed institution is not drawn; others sit on rounded denominators
    assert len(others.get_offsets()) == len(institutions) - 2
    assert all(x % 5 == 0 for x in others.get_offsets()[:, 0])
    assert _by_gid(ax, "limit_95") and _by_gid(ax, "limit_99_8")
    styles = {_by_gid(ax, "limit_95")[0].get_linestyle(), _by_gid(ax, "limit_99_8")[0].get_linestyle()}
    assert len(styles) == 2


def test_funnel_plot_named_and_oe(institutions):
    t = institutions.assign(expected=institutions["denominator"] * 0.6,
                            oe_ratio=institutions["value"] / 0.6)
    wide = pd.DataFrame({"expected": [10.0, 100.0, 300.0], "target": 1.0, "low_95": [0.4, 0.8, 0.89],
                         "high_95": [1.7, 1.2, 1.11], "low_99_8": [0.2, 0.7, 0.83], "high_99_8": [2.1, 1.3, 1.18]})
    ax = plots.funnel_plot(t, highlight=HL, kind="oe", limits_table=wide, anonymise=False, lang="en", settings=DEFAULT)
    assert "Instelling 05" in _texts(ax)
    assert ax.get_ylabel() == "Observed / expected"
    assert _by_gid(ax, "limit_99_8")


def test_funnel_plot_draws_into_given_axes(institutions, limits):
    fig, axes = plt.subplots(1, 2)
    ax = plots.funnel_plot(institutions, highlight=HL, limits_table=limits, ax=axes[1], settings=DEFAULT)
    assert ax is axes[1]
    assert len(fig.axes) == 2


def test_trend_plot_gap_for_suppressed_period():
    t = pd.DataFrame({
        "scope": ["institution"] * 4 + ["national"] * 4,
        "institution": [HL] * 4 + [""] * 4,
        "period": ["2021", "2022", "2023", "2024"] * 2,
        "value": [0.61, 0.987654, 0.66, 0.70, 0.60, 0.61, 0.62, 0.63],
        "ci_low": [0.5, 0.9, 0.56, 0.6, 0.59, 0.6, 0.61, 0.62],
        "ci_high": [0.7, 1.0, 0.76, 0.8, 0.61, 0.62, 0.63, 0.64],
        "suppressed": [False, True, False, False] + [False] * 4,
    })
    ax = plots.trend_plot(t, institution=HL, settings=DEFAULT)
    line = _by_gid(ax, "highlight")[0]
    y = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(y[1]) and not np.isnan(y[0])  # a gap, never the hidden value
    assert 0.987654 not in y
    note = _by_gid(ax, "suppressed_note")[0].get_text()
    assert "2022" in note and "minder dan 10" in note
    national = _by_gid(ax, "national")[0]
    assert national.get_linestyle() != line.get_linestyle() and national.get_marker() != line.get_marker()
    assert to_hex(line.get_color()) in [c.lower() for c in plots.OKABE_ITO]


def test_caterpillar_plot_anonymised(institutions):
    ax = plots.caterpillar_plot(institutions, highlight=HL, national=0.6)
    assert [t.get_text() for t in ax.get_yticklabels()] == [HL]
    hl = _by_gid(ax, "highlight")[0]
    assert hl.get_marker() == "D" and to_hex(hl.get_color()) == plots.HIGHLIGHT.lower()
    named = plots.caterpillar_plot(institutions, highlight=HL, anonymise=False)
    assert "Instelling 05" in [t.get_text() for t in named.get_yticklabels()]


def test_profile_plot_labels_and_hatches():
    t = pd.DataFrame({"group": [HL] * 3 + ["Landelijk"] * 3,
                      "category": ["volgens_plan", "voortijdig", "onbekend"] * 2,
                      "value": [0.6, 0.3, 0.1, 0.7, 0.2, 0.1]})
    ax = plots.profile_plot(t, labels={"volgens_plan": "Volgens plan"})
    texts = [x.get_text() for x in ax.texts]
    assert "60%" in texts and "30%" in texts
    hatches = {p.get_hatch() for p in ax.patches}
    assert len(hatches) >= 3  # categories differ by pattern, not by colour alone
    assert "Volgens plan" in [x.get_text() for x in ax.get_legend().get_texts()]


def test_distribution_bar_hides_and_rounds():
    t = pd.DataFrame({"category": ["0-3", "4-11", "12-15"], "value": [7, 123, 48],
                      "suppressed": [True, False, False]})
    ax = plots.distribution_bar(t, kind="count", highlight="4-11", settings=DEFAULT)
    texts = [x.get_text() for x in ax.texts]
    assert "–*" in texts and "125" in texts and "50" in texts
    assert "7" not in texts and "123" not in texts
    assert ax.patches[0].get_width() == 0


def test_plots_do_not_change_global_rcparams(institutions, limits):
    before = dict(matplotlib.rcParams)
    plots.funnel_plot(institutions, highlight=HL, limits_table=limits, settings=DEFAULT)
    plots.caterpillar_plot(institutions, highlight=HL)
    after = dict(matplotlib.rcParams)
    changed = {k for k in before if before[k] != after[k] and not (
        isinstance(before[k], float) and np.isnan(before[k]))}
    assert not changed


def test_plots_keep_interactive_mode(institutions):
    # the inline backend turns interactive mode on at the first pyplot import; a plot call must not
    # turn it off again, or the figures of later notebook cells are not shown
    was = matplotlib.is_interactive()
    try:
        matplotlib.interactive(True)
        plots.caterpillar_plot(institutions, highlight=HL)
        assert matplotlib.is_interactive()
    finally:
        matplotlib.interactive(was)


def test_default_figure_is_a4_width(institutions, limits):
    ax = plots.funnel_plot(institutions, highlight=HL, limits_table=limits, settings=DEFAULT)
    width, height = ax.figure.get_size_inches()
    assert (width, height) == pytest.approx(plots.FIGSIZE)


def test_trend_plot_legend_below_and_rotated_periods():
    periods = [str(y) for y in range(2019, 2025)]
    t = pd.DataFrame({"scope": ["institution"] * 6 + ["national"] * 6, "institution": [HL] * 6 + [""] * 6,
                      "period": periods * 2, "value": np.linspace(0.5, 0.7, 12),
                      "ci_low": np.linspace(0.4, 0.6, 12), "ci_high": np.linspace(0.6, 0.8, 12)})
    ax = plots.trend_plot(t, institution=HL, settings=DEFAULT)
    legend = ax.get_legend()
    assert legend is not None and legend.get_bbox_to_anchor().y0 < ax.get_window_extent().y0  # under the axes
    assert all(label.get_rotation() == 45 for label in ax.get_xticklabels())


def test_funnel_label_stays_inside_and_is_shortened(institutions):
    long_name = "Stichting Jeugdbescherming en Jeugdreclassering Randstad Midden"
    t = institutions.assign(institution=institutions["institution"].replace({HL: long_name}))
    t.loc[t["institution"] == long_name, "denominator"] = 1000  # far right: the label goes left
    _fig, axes = plt.subplots(1, 2, figsize=(6.8, 2.7), layout="constrained")  # as in a report
    ax = plots.funnel_plot(t, highlight=long_name, ax=axes[1], settings=DEFAULT)
    label = _by_gid(ax, "highlight_label")[0]
    assert label.get_text().endswith("…") and len(label.get_text()) <= plots.LABEL_MAX
    assert HL in _texts(plots.funnel_plot(institutions, highlight=HL, settings=DEFAULT))  # a short name stays whole
    ax.figure.canvas.draw()
    box, axes_box = label.get_window_extent(), ax.get_window_extent()
    assert box.x0 >= axes_box.x0 - 1 and box.x1 <= axes_box.x1 + 1


def test_funnel_oe_expected_counts_are_not_rounded(institutions):
    t = institutions.assign(expected=[1.3, 2.2, 3.7, 4.1, 6.6] + list(np.linspace(8, 300, 15)),
                            oe_ratio=1.0)
    ax = plots.funnel_plot(t, highlight=HL, kind="oe", settings=DEFAULT)
    xs = _by_gid(ax, "others")[0].get_offsets()[:, 0]
    assert 2.2 in xs and 3.7 in xs  # model sums, placed where they are (denominators would be rounded)


def test_funnel_and_trend_highlight_several_institutions(institutions):
    """A list highlights several: the first as the diamond, the others labelled in their own style."""
    second, third = "Instelling 03", "Instelling 07"
    ax = plots.funnel_plot(institutions, highlight=[HL, second, third], kind="share", target=0.6, settings=DEFAULT)
    assert len(_by_gid(ax, "highlight")) == 1
    selected = _by_gid(ax, "selected")
    assert len(selected) == 2
    labels = {t.get_text() for t in ax.texts}
    assert {second, third} <= labels
    assert "Instelling 05" not in labels  # still anonymised otherwise
    # a str is as before
    ax1 = plots.funnel_plot(institutions, highlight=HL, kind="share", target=0.6, settings=DEFAULT)
    assert not _by_gid(ax1, "selected")
    # a suppressed institution is never drawn, even when named
    ax2 = plots.funnel_plot(institutions, highlight=[HL, "Instelling 00"], kind="share", target=0.6, settings=DEFAULT)
    assert not _by_gid(ax2, "selected") and "Instelling 00" not in {t.get_text() for t in ax2.texts}

    periods = ["2021", "2022", "2023"]
    trend = pd.DataFrame([{"period": p, "institution": name, "scope": "institution", "value": v,
                           "ci_low": v - 0.05, "ci_high": v + 0.05, "suppressed": name == second and p == "2022"}
                          for name, v in ((HL, 0.5), (second, 0.6), (third, 0.7)) for p in periods])
    tax = plots.trend_plot(trend, highlight=[HL, second, third], settings=DEFAULT)
    lines = {line.get_label(): line for line in tax.get_lines()}
    assert lines[HL].get_gid() == "highlight"
    assert lines[second].get_gid() == "selected" and lines[third].get_gid() == "selected"
    assert np.isnan(lines[second].get_ydata()[1])  # the hidden period is a gap
    note = [t.get_text() for t in tax.texts if t.get_gid() == "suppressed_note"]
    assert note and "2022" in note[0]


def test_trend_note_and_caterpillar_label_follow_settings(institutions):
    import dataclasses

    from outcome_analysis.settings import DEFAULT

    trend = pd.DataFrame({"period": ["2022", "2023"], "institution": HL, "scope": "institution",
                          "value": [0.5, 0.6], "ci_low": [0.4, 0.5], "ci_high": [0.6, 0.7], "suppressed": [True, False]})
    ax = plots.trend_plot(trend, institution=HL, settings=dataclasses.replace(DEFAULT, min_cell=25))
    note = [t.get_text() for t in ax.texts if t.get_gid() == "suppressed_note"][0]
    assert "minder dan 25" in note  # the two-cell threshold in force
    ax = plots.trend_plot(trend, institution=HL, settings=DEFAULT)
    assert "minder dan 10" in [t.get_text() for t in ax.texts if t.get_gid() == "suppressed_note"][0]

    means = institutions.assign(value=institutions["value"] * 10, ci_low=institutions["ci_low"] * 10,
                                ci_high=institutions["ci_high"] * 10)
    cat = plots.caterpillar_plot(means, highlight=HL, kind="mean")
    assert cat.get_xlabel() == "Gemiddelde" and "%" not in "".join(t.get_text() for t in cat.get_xticklabels())
    cat = plots.caterpillar_plot(means, highlight=HL, kind="mean", value_label="Gemiddelde verandering", lang="en")
    assert cat.get_xlabel() == "Gemiddelde verandering"
    with pytest.raises(ValueError, match="kind"):
        plots.caterpillar_plot(means, kind="median")


def test_comparison_bars_draw_overlapping_categories_side_by_side():
    import matplotlib.pyplot as plt

    from outcome_analysis.plots import comparison_bars

    table = pd.DataFrame({
        "group": ["Instelling A"] * 3 + ["Landelijk"] * 3,
        "category": ["transition:vots_ots", "transition:ots_voogdij", "transition:none"] * 2,
        "value": [0.6, 0.3, 0.2, 0.5, 0.25, 0.3],
        "suppressed": [False, True, False, False, False, False],
    })
    fig, ax = plt.subplots()
    comparison_bars(table, lang="nl", ax=ax)
    bars = [p for p in ax.patches if p.get_width() > 0]
    assert len(bars) == 5                                   # the suppressed cell has no bar
    texts = [t.get_text() for t in ax.texts]
    assert "–*" in texts and "60%" in texts and "30%" not in texts[:3]
    assert sum(b.get_width() for b in bars[:2]) > 0.5       # not normalised to a 100% stack
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Instelling A", "Landelijk"]
    plt.close(fig)


def test_profile_plot_never_draws_two_categories_alike():
    import matplotlib.pyplot as plt

    from outcome_analysis.plots import profile_plot

    cats = [f"end_reason:c{i}" for i in range(12)]
    table = pd.DataFrame({"group": ["A"] * 12, "category": cats, "value": [1 / 12] * 12, "suppressed": [False] * 12})
    fig, ax = plt.subplots()
    profile_plot(table, order=cats, ax=ax)
    looks = [(tuple(p.get_facecolor()), p.get_hatch()) for p in ax.patches]
    assert len(set(looks)) == 12
    plt.close(fig)


def test_the_pooled_line_is_named_by_the_comparator():
    t = pd.DataFrame({
        "scope": ["institution"] * 2 + ["national"] * 2, "institution": [HL] * 2 + [""] * 2,
        "period": ["2023", "2024"] * 2, "value": [0.6, 0.7, 0.5, 0.55], "ci_low": [0.5, 0.6, 0.45, 0.5],
        "ci_high": [0.7, 0.8, 0.55, 0.6], "suppressed": [False] * 4,
    })
    ax = plots.trend_plot(t, institution=HL, national_label="Alle instellingen (12)", settings=DEFAULT)
    assert "Alle instellingen (12)" in [x.get_text() for x in ax.get_legend().get_texts()]
    # a delivery of one institution: no pooled line at all
    ax = plots.trend_plot(t, institution=HL, national=False, settings=DEFAULT)
    assert not _by_gid(ax, "national")
    assert "Landelijk" not in [x.get_text() for x in ax.get_legend().get_texts()]
    shares = pd.DataFrame({"institution": ["A", "B", "C"], "denominator": [40, 120, 300], "value": [0.5, 0.62, 0.58]})
    ax = plots.funnel_plot(shares, highlight="A", target=0.58, national_label="Alle instellingen (3)", settings=DEFAULT)
    assert "Alle instellingen (3)" in [x.get_text() for x in ax.get_legend().get_texts()]


def test_funnel_points_coloured_by_the_given_verdict(institutions):
    """The points carry the table's ``signal`` (the comparisons' verdict): higher and lower as their own
    markers beyond the signal limit, a point without a verdict open; the 95% line is a line of attention."""
    t = institutions.assign(expected=institutions["denominator"] * 0.6, oe_ratio=institutions["value"] / 0.6)
    visible = np.flatnonzero(~t["suppressed"].fillna(False).astype(bool).to_numpy()) if "suppressed" in t else np.arange(len(t))
    signals = np.array(["within"] * len(t), dtype=object)
    signals[visible[:3]] = ["higher", "lower", "none"]
    t = t.assign(signal=signals)
    ax = plots.funnel_plot(t, kind="oe", settings=DEFAULT)
    drawn = plots._visible(t)
    for sig in ("higher", "lower"):
        arts = _by_gid(ax, f"signal_{sig}")
        assert sum(len(a.get_offsets()) for a in arts) == (drawn["signal"] == sig).sum()
    others = _by_gid(ax, "others")[0]
    faces = others.get_facecolors()
    assert len(others.get_offsets()) == drawn["signal"].isin(["within", "none"]).sum()
    white = [tuple(np.round(f[:3], 3)) == (1.0, 1.0, 1.0) for f in faces]
    assert sum(white) == (drawn["signal"] == "none").sum()
    labels = [x.get_text() for x in ax.get_legend().get_texts()]
    assert "95%-aandachtslijn" in labels and "99,8%-signaalgrens" in labels
    assert "hoger dan verwacht (signaal)" in labels
    plt.close(ax.figure)
