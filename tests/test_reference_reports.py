"""A published national reference in the reports (``run_reports.py --reference FILE``): a delivery of
one institution, cut from the small demo, compared with published figures written here.

The comparisons table gets ``raw_reference`` rows against the published value (checked by hand with
the score test and the interval rule); the rendered report shows the published figures and their
source; without ``--reference`` none of it; a bad file stops the run before any report.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from outcome_analysis.indicators.reference import read_reference
from outcome_analysis.running import comparisons

from subsets import GI, Subset

SOURCE = "Testbron landelijke cijfers, tabel T1, geraadpleegd 1 juni 2025"
PERIOD = "2023"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gi_delivery(small_demo, tmp_path_factory):
    """One GI's own delivery (JB and JR), as it arrives: no other institution in it."""
    return Subset("one-gi", institutions=(GI,)).write(small_demo, tmp_path_factory.mktemp("one_gi"))


@pytest.fixture(scope="module")
def gi_results(gi_delivery):
    from outcome_analysis.contract.io import load
    from outcome_analysis.running.results import compute_results
    from outcome_analysis.settings import for_delivery

    return compute_results(load(gi_delivery), for_delivery(gi_delivery)[0], "year", periods=[PERIOD])


def _own(results, indicator, care_type):
    t = results.indicators
    row = t.loc[(t["scope"] == "institution") & (t["indicator"] == indicator) & (t["care_type"] == care_type)
                & (t["period"].astype(str) == PERIOD) & (t["category"] == "")]
    assert len(row) == 1
    return row.iloc[0]


def _write(path: Path, lines: list[str]) -> Path:
    header = "indicator,period,care_type,value,numerator,denominator,ci_low,ci_high,window_months,source"
    path.write_text("\n".join([header] + lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference_file(gi_results, tmp_path_factory):
    """Published figures placed around the GI's own 2023 shares: one fixed value far below its JB
    verloop share, one fixed value inside the interval of its acceptance share, and one with counts
    (an interval) far above its development-threat share; plus a windowed figure of another window."""
    verloop = _own(gi_results, "jbjr_verloop", "jb")
    accept = _own(gi_results, "jb_acceptatie_hulp", "jb")
    threat = _own(gi_results, "jb_afname_ontwikkelingsbedreiging", "jb")
    assert not verloop["suppressed"] and not accept["suppressed"] and not threat["suppressed"]
    below = round(float(verloop["ci_low"]) - 0.15, 2)
    inside = round(float(accept["value"]), 2)
    high = min(0.99, round(float(threat["ci_high"]) + 0.2, 2))
    lines = [
        f"jbjr_verloop,{PERIOD},jb,{below},,,,,,\"{SOURCE}\"",
        f"jb_acceptatie_hulp,{PERIOD},jb,{inside},,,,,,\"{SOURCE}\"",
        f"jb_afname_ontwikkelingsbedreiging,{PERIOD},jb,{high},{round(high * 2000)},2000,,,,\"{SOURCE}\"",
        f"jbjr_herhaald_beroep,{PERIOD},jb,0.15,,,,,99,\"{SOURCE}\"",
    ]
    return _write(tmp_path_factory.mktemp("reference") / "landelijk.csv", lines)


def test_raw_rows_against_the_published_value(gi_results, reference_file):
    """With a reference a single institution gets raw verdicts against the published figures (none
    without: there are no other institutions), read as the score test / the widened interval say."""
    assert (gi_results.comparisons["basis"] == "raw_reference").sum() == 0  # alone: nothing to compare with
    ref = read_reference(reference_file, settings=gi_results.settings)
    compared = comparisons.with_reference(gi_results, ref)
    raw = compared.comparisons.loc[compared.comparisons["basis"] == "raw_reference"].set_index(["indicator", "care_type"])
    assert set(raw.index) == {("jbjr_verloop", "jb"), ("jb_acceptatie_hulp", "jb"),
                              ("jb_afname_ontwikkelingsbedreiging", "jb")}  # not the figure of a 99-month window
    assert compared.meta["reference"]["sources"] == [SOURCE]
    assert compared.casemix.empty  # one institution: no case-mix model is fitted

    # a fixed published value: the score test of the own share against it, by hand
    conf = gi_results.settings.conf
    z_crit = scipy_stats.norm.ppf(0.5 + conf / 2)
    for indicator, expected in (("jbjr_verloop", "higher"), ("jb_acceptatie_hulp", "within")):
        own, row = _own(gi_results, indicator, "jb"), raw.loc[(indicator, "jb")]
        p, n, p0 = float(own["value"]), float(own["denominator"]), float(row["reference_value"])
        z = (p - p0) / math.sqrt(p0 * (1 - p0) / n)
        by_hand = "higher" if z > z_crit else "lower" if z < -z_crit else "within"
        assert row["signal"] == by_hand == expected
        assert row["ci_low"] == pytest.approx(float(own["ci_low"]))  # no interval in the file: the printed one

    # a value with counts: the published figure's interval widens the own one (MOVER), by hand
    own, row = _own(gi_results, "jb_afname_ontwikkelingsbedreiging", "jb"), raw.loc[("jb_afname_ontwikkelingsbedreiging", "jb")]
    figure = ref.figure("jb_afname_ontwikkelingsbedreiging", "jb", PERIOD)
    assert figure["interval"] == "wilson"
    p, low, high = float(own["value"]), float(own["ci_low"]), float(own["ci_high"])
    widened_high = p + math.hypot(high - p, figure["value"] - figure["ci_low"])
    assert row["ci_high"] == pytest.approx(widened_high)
    assert row["ci_high"] > high  # wider than the own interval
    assert row["signal"] == "lower" and row["ci_high"] < row["null_value"] == pytest.approx(figure["value"])


def test_window_of_another_length_is_not_compared(gi_results, tmp_path):
    ref = read_reference(_write(tmp_path / "r.csv", [f"jbjr_herhaald_beroep,{PERIOD},jb,0.15,,,,,99,\"{SOURCE}\""]),
                         settings=gi_results.settings)
    assert comparisons.reference_rows(gi_results.indicators, ref, gi_results.settings).empty


def _batch(data: Path, out: Path, cache: Path, *extra: str) -> int:
    sys.path.insert(0, str(ROOT))
    import run_reports

    return run_reports.main(["--data", str(data), "--out", str(out), "--cache", str(cache), "--formats", "html",
                             "--edition", "full", "--no-national", "--period", PERIOD, "--jobs", "1", "--quiet",
                             "--notebook", str(ROOT / "notebooks/institution_report.ipynb"), *extra])


def _report_text(out: Path) -> str:
    import html
    import re

    files = [f for f in (out / PERIOD).glob("*.html") if f.name != "index.html"]
    assert len(files) == 1
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", files[0].read_text(encoding="utf-8"))))


def test_rendered_report_with_and_without_reference(gi_delivery, gi_results, reference_file, tmp_path):
    from outcome_analysis.presentation import report

    words = report.ui("nl", "comparator")["reference"]
    assert _batch(gi_delivery, tmp_path / "with", tmp_path / "cache", "--reference", str(reference_file)) == 0
    text = _report_text(tmp_path / "with")
    assert words["title"] in text
    assert f"Bron: {SOURCE}" in text
    published = read_reference(reference_file).figure("jbjr_verloop", "jb", PERIOD)["value"]
    assert report.fmt_pct(published, 1, 'nl') in text  # the published figure in the column "Landelijk"
    assert "Landelijk" in text and words["adjusted_unavailable"].split(":")[0] in text
    # the Kerncijfers say the stored raw verdicts against it: verloop JB far below -> "hoger dan landelijk"
    row = gi_results_with(gi_results, reference_file).verdict("jbjr_verloop", "jb", PERIOD, GI, basis="raw_reference")
    assert row["signal"] == "higher"
    assert "▲ hoger dan landelijk" in text and "vergelijkbaar met landelijk" in text
    assert "Het bestand geeft geen landelijk cijfer" in text  # the shares without a published figure named

    # without --reference: nothing of it, compared with nothing as before (the rendered one-GI report
    # without a reference is the subset tests'; here its sections, from the same results)
    from outcome_analysis import story as st
    from outcome_analysis.presentation.sections.institution import reference, summary

    plain_story = st.prepare(gi_results, GI, PERIOD)
    assert plain_story.comparator["scope"] == "none" and reference.build(plain_story) == []
    plain = " ".join(str(x) for x in summary.build(plain_story))
    assert SOURCE not in plain and "Landelijk" not in plain and "Deze levering bevat alleen" in plain


def gi_results_with(results, reference_file):
    return comparisons.with_reference(results, read_reference(reference_file, settings=results.settings))


def test_bad_reference_stops_before_any_report(gi_delivery, tmp_path, capsys):
    bad = _write(tmp_path / "kapot.csv", [f"jbjr_verloop,{PERIOD},jb,82,,,,,,\"{SOURCE}\"",
                                          f"jb_acceptatie_hulp,2023JJ00,jb,0.7,,,,,,"])
    assert _batch(gi_delivery, tmp_path / "out", tmp_path / "cache", "--reference", str(bad)) == 2
    err = capsys.readouterr().err
    assert "kapot.csv, row 2, column 'value': value '82'" in err and "give 0.82" in err
    assert "kapot.csv, row 3, column 'period': value '2023JJ00'" in err
    assert "row 3, column 'source'" in err  # every problem at once, with file, row, column and value
    assert not list(tmp_path.glob("out/**/*.html"))  # no report, no index: nothing half made
