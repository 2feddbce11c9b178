"""The explorer's control-chart view (issue 16): p-chart per quarter or half-year, VLAD, the date of
an action marked. Expected counts, limits and expected events are made here from the records
(``indicators.records``) and the case-mix fit (``casemix.adjust_records``), never read from the
explorer; hidden periods must be absent from the view and from the drawing."""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from outcome_analysis import casemix, indicators  # noqa: E402
from outcome_analysis.explorer import Explorer  # noqa: E402
from outcome_analysis.settings import DEFAULT  # noqa: E402

INDICATOR, CARE = "jh_uitval", "jeugdhulp"


@pytest.fixture(scope="module")
def settings():
    from conftest import SMALL_MIN_CELL

    return DEFAULT.replace(min_cell=SMALL_MIN_CELL)


@pytest.fixture(scope="module")
def records(small_demo, settings):
    """The counted headline records of uitval in jeugdhulp (window passed, outcome known)."""
    r = indicators.records(small_demo, INDICATOR, settings=settings)
    keep = (r["category"].astype(str) == "") & (r["care_type"].astype(str) == CARE) & ~r["excluded_window"]
    return r.loc[keep & r["outcome"].notna()]


@pytest.fixture(scope="module")
def largest(records):
    return records["institution"].astype(str).value_counts().index[0]


@pytest.fixture(scope="module")
def explorer(small_demo, settings, tmp_path_factory):
    return Explorer(small_demo, settings=settings, export_dir=tmp_path_factory.mktemp("exploration"),
                    precompute=False, indicator=INDICATOR)


def _counts(records, institution, freq):
    """Events and counted records of ``institution`` per quarter ("Q") or half-year, from the records."""
    r = records.loc[records["institution"].astype(str) == institution]
    dates = pd.DatetimeIndex(r["anchor_date"])
    if freq == "Q":
        label = [f"{d.year}Q{d.quarter}" for d in dates]
    else:
        label = [f"{d.year}H{1 if d.month <= 6 else 2}" for d in dates]
    return r.assign(label=label).groupby("label")["outcome"].agg(["sum", "count"])


def _limits(x, n, centre):
    sigma = np.sqrt(centre * (1 - centre) / n)
    return np.clip(centre - 3 * sigma, 0, 1), np.clip(centre + 3 * sigma, 0, 1)


def test_no_institution_no_view(explorer):
    explorer.set(control_institution="")
    assert explorer.control_view() is None and explorer.current_control_figure() is None
    assert explorer.cache_info()["control"] == 0  # nothing computed while the view is closed


@pytest.mark.parametrize("interval, freq", [("quarter", "Q"), ("half_year", "H")])
def test_points_are_the_records_counts_with_their_limits(explorer, records, largest, settings, interval, freq):
    explorer.set(indicator=INDICATOR, care_type=CARE, breakdown="", control_institution=largest,
                 control_interval=interval, control_baseline="first_year")
    view = explorer.control_view()
    pts = view["points"].set_index("period")
    counts = _counts(records, largest, freq)
    assert len(pts) >= 2 and view["interval"] == interval
    # every point shown is the institution's events / counted records of that period
    np.testing.assert_array_equal(pts["numerator"].to_numpy(), counts.loc[pts.index, "sum"].to_numpy())
    np.testing.assert_array_equal(pts["denominator"].to_numpy(), counts.loc[pts.index, "count"].to_numpy())
    np.testing.assert_allclose(pts["p"], counts.loc[pts.index, "sum"] / counts.loc[pts.index, "count"])
    # every period with records is either shown or hidden, in time order
    assert sorted(view["periods"]) == sorted(counts.index) == view["periods"]
    assert set(view["hidden"]) == set(counts.index) - set(pts.index)
    # centre: the pooled share of the first year that has a shown point; limits p ± 3 sqrt(p(1-p)/n)
    first = pts.index.str[:4] == min(pts.index.str[:4])
    centre = pts.loc[first, "numerator"].sum() / pts.loc[first, "denominator"].sum()
    np.testing.assert_allclose(pts["centre"], centre)
    lcl, ucl = _limits(pts["numerator"].to_numpy(), pts["denominator"].to_numpy(float), centre)
    np.testing.assert_allclose(pts["lcl"], lcl)
    np.testing.assert_allclose(pts["ucl"], ucl)
    np.testing.assert_array_equal(pts["outside"], (pts["p"] > ucl) | (pts["p"] < lcl))
    # the other baseline: all points shown
    explorer.set(control_baseline="all")
    pts = explorer.control_view()["points"]
    np.testing.assert_allclose(pts["centre"], pts["numerator"].sum() / pts["denominator"].sum())
    assert explorer.last_update_recomputed is False  # a baseline change only redraws
    explorer.set(control_baseline="first_year")


def test_the_trend_range_bounds_the_points(explorer, largest):
    explorer.set(indicator=INDICATOR, care_type=CARE, control_institution=largest, control_interval="half_year",
                 trend_periods=("2021", "2023"))
    periods = explorer.control_view()["periods"]
    assert periods and all("2021" <= p[:4] <= "2023" for p in periods)
    explorer.set(trend_periods=(explorer.widgets["trend_periods"].options[0],
                                explorer.widgets["trend_periods"].options[-1]))


def test_hidden_points_are_absent(explorer, records, largest, settings):
    explorer.set(indicator=INDICATOR, care_type=CARE, control_institution=largest, control_interval="quarter")
    view = explorer.control_view()
    counts = _counts(records, largest, "Q")
    x, n = counts["sum"], counts["count"]
    # the primary rule: a quarter with a small cell or too few records is never shown
    small = counts.index[(n < settings.min_denominator) | (np.minimum(x, n - x) < settings.min_cell)]
    assert len(small) and set(small) <= set(view["hidden"])
    shown = set(view["points"]["period"])
    assert not shown & set(view["hidden"])
    # within a half-year and within a year a single hidden quarter would follow from the published
    # half-year / year figure: never exactly one hidden among periods with records
    for size in (6, 4):  # "2023H1"-style keys (quarters 1-2, 3-4) and years
        key = (lambda p: p[:4] + ("H1" if p[5] in "12" else "H2")) if size == 6 else (lambda p: p[:4])
        groups = pd.Series(list(counts.index), index=[key(p) for p in counts.index])
        for _g, members in groups.groupby(level=0):
            assert sum(m in view["hidden"] for m in members) != 1, list(members)
    # the drawing: the p line has a value exactly at the shown quarters, a gap at the hidden ones
    ax = explorer.current_control_figure().axes[0]
    line = next(ln for ln in ax.get_lines() if ln.get_gid() == "p")
    y = np.asarray(line.get_ydata(), float)
    assert np.isfinite(y).sum() == len(view["points"])
    np.testing.assert_allclose(np.sort(y[np.isfinite(y)]), np.sort(view["points"]["p"].to_numpy()))
    assert len(y) == len(view["periods"])
    text = explorer.control_widget.value
    assert all(p in text for p in view["hidden"])  # the text alternative names the periods not shown
    # a stricter rule hides more, and only re-marks (no new records)
    explorer.set(min_cell=20)
    assert set(explorer.control_view()["hidden"]) >= set(view["hidden"])
    assert len(explorer.control_view()["points"]) < len(view["points"])
    explorer.set(min_cell=settings.min_cell)


def test_vlad_ends_at_the_sum_of_expected_minus_observed(explorer, records, largest, settings):
    explorer.set(indicator=INDICATOR, care_type=CARE, control_institution=largest, control_interval="half_year")
    years = [o for o in explorer.widgets["trend_periods"].options]
    view = explorer.control_view()
    # a range whose half-years are all shown, so that the VLAD covers every record of those years
    shown_years = sorted({p[:4] for p in view["points"]["period"]} - {p[:4] for p in view["hidden"]})
    assert len(shown_years) >= 3
    explorer.set(trend_periods=(shown_years[0], shown_years[-1]))
    view = explorer.control_view()
    assert not view["hidden"] and view["vlad"] is not None
    vlad = view["vlad"]
    # independently: the case-mix fit per year of all institutions, this institution's E and O
    adj = casemix.adjust_records(records, settings=settings, indicator=INDICATOR)
    mine = adj.loc[(adj["institution"] == largest) & adj["period"].astype(str).between(shown_years[0], shown_years[-1])]
    assert mine["expected"].notna().all()
    np.testing.assert_allclose(vlad["vlad"].iloc[-1], (mine["expected"] - mine["observed"]).sum(), rtol=1e-6)
    # cumulative: each step is the period's E - O, and its O the p-chart's numerator
    np.testing.assert_allclose(np.diff(vlad["vlad"], prepend=0.0), vlad["expected"] - vlad["observed"])
    pts = view["points"].set_index("period")
    np.testing.assert_array_equal(vlad["observed"].to_numpy(), pts.loc[vlad["period"], "numerator"].to_numpy())
    # each year's expected events are the case-mix model's
    by_year = vlad.groupby(vlad["period"].str[:4])["expected"].sum()
    np.testing.assert_allclose(by_year.to_numpy(), mine.set_index(mine["period"].astype(str))
                               .loc[by_year.index, "expected"].to_numpy(), rtol=1e-6)
    ax = explorer.current_control_figure().axes[1]
    line = next(ln for ln in ax.get_lines() if ln.get_gid() == "vlad")
    np.testing.assert_allclose(line.get_ydata(), vlad["vlad"])
    explorer.set(trend_periods=(years[0], years[-1]))


def test_no_vlad_without_a_model(explorer, largest):
    # clientervaring has no case-mix model: the p-chart alone, and the text says why
    explorer.set(indicator="jbjr_clientervaring", care_type="jb")
    inst = explorer.current_table()
    inst = inst.loc[inst["scope"] == "institution"].sort_values("denominator").iloc[-1]["institution"]
    explorer.set(control_institution=inst)
    view = explorer.control_view()
    assert view["vlad"] is None and "Geen VLAD" in explorer.control_widget.value
    explorer.set(indicator=INDICATOR, care_type=CARE)


def test_an_action_is_offered_and_marked(small_demo, settings, largest, tmp_path):
    actions = pd.DataFrame({"institution": [largest, "Elders"], "indicator": [INDICATOR, INDICATOR],
                            "agreed_on": pd.to_datetime(["2022-03-15", "2022-05-01"]),
                            "description": ["<b>Warme overdracht</b>", "elders"]})
    ex = Explorer(small_demo, settings=settings, export_dir=tmp_path, precompute=False, indicator=INDICATOR,
                  actions=actions)
    ex.set(care_type=CARE, control_institution=largest)
    values = [v for _l, v in ex.widgets["control_mark"].options]
    assert values == ["", "2022-03-15"] and not ex.widgets["control_mark"].disabled
    assert "<b>Warme overdracht</b>" in ex.widgets["control_mark"].options[1][0]  # a label, shown as text
    ex.set(control_mark="2022-03-15")
    assert ex.control_view()["mark"] == pd.Timestamp("2022-03-15")
    for ax in ex.current_control_figure().axes:
        marks = [ln for ln in ax.get_lines() if ln.get_gid() == "mark"]
        assert len(marks) == 1
        assert pd.Timestamp(marks[0].get_xdata()[0]) == pd.Timestamp("2022-03-15")
    assert "15 maart 2022" in ex.control_widget.value
    # a date typed wins over the list; the view escapes whatever text it shows
    ex.set(control_date="2023-07-01")
    assert ex.control_view()["mark"] == pd.Timestamp("2023-07-01")
    assert "<b>" not in ex.control_widget.value


def test_the_delivery_folders_actions_are_read(small_demo_path, tmp_path):
    import shutil

    from outcome_analysis.contract.actions import read_actions

    folder = tmp_path / "delivery"
    shutil.copytree(small_demo_path, folder)
    if not any(folder.glob("actions*")):
        pytest.skip("the demo writes no actions file")
    expected, _problems = read_actions(folder)
    ex = Explorer(str(folder), export_dir=tmp_path / "exp", precompute=False, indicator=INDICATOR)
    assert ex.actions is not None and len(ex.actions) == len(expected)
    row = expected.iloc[0]
    ex.set(indicator=str(row["indicator"]), control_institution=str(row["institution"]))
    offered = [v for _l, v in ex.widgets["control_mark"].options]
    assert pd.Timestamp(row["agreed_on"]).strftime("%Y-%m-%d") in offered
