"""The comparisons table (outcome_analysis.running.comparisons): hand-made tables, hand-counted verdicts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report
from outcome_analysis.running import comparisons
from outcome_analysis.settings import DEFAULT
from outcome_analysis.statistics import stats


def _table(counts, indicator="jh_uitval", period="2024", care_type="jeugdhulp"):
    """Indicator rows (headline share) of institutions ``{name: (numerator, denominator)}`` with Wilson intervals."""
    rows = []
    for name, (x, n) in counts.items():
        low, high = stats.proportion_ci(x, n)
        rows.append({"indicator": indicator, "scope": "institution", "institution": name, "period": period,
                     "care_type": care_type, "category": "", "numerator": float(x), "denominator": n,
                     "value": x / n, "ci_low": float(low), "ci_high": float(high), "missing": 0,
                     "window_months": pd.NA, "excluded_window": 0, "suppressed": n < DEFAULT.min_denominator})
    return pd.DataFrame(rows)


def test_raw_reference_is_the_score_test_against_the_others_read_from_the_printed_interval():
    # A: 30/100 against the others 60/400 = 15%: the Wilson interval of A (21,9% - 39,6%) excludes 15%
    t = _table({"A": (30, 100), "B": (20, 200), "C": (40, 200)})
    out = comparisons.build(t, pd.DataFrame(), pd.DataFrame(), DEFAULT)
    rows = out.loc[out["basis"] == "raw_reference"].set_index("unit")
    assert rows.loc["A", "reference_value"] == pytest.approx(0.15)
    assert rows.loc["A", "signal"] == "higher" and rows.loc["A", "ci_low"] > 0.15
    # B: 10% against 70/300 = 23,3%: lower; C: 20% against 50/300 = 16,7%, inside C's interval: within
    assert rows.loc["B", "signal"] == "lower" and rows.loc["C", "signal"] == "within"
    assert rows.loc["A", "favourable"] is False  # uitval: lower is better


def test_no_raw_reference_against_a_single_other_institution():
    rows = comparisons.raw_reference_rows(_table({"A": (30, 100), "B": (10, 100)}), DEFAULT)
    assert (rows["signal"] == "none").all() and rows["reference_value"].isna().all()


def test_the_change_from_the_previous_period_is_newcombes_interval():
    t = pd.concat([_table({"A": (56, 70), "B": (10, 50), "C": (10, 50)}),
                   _table({"A": (48, 80), "B": (10, 50), "C": (10, 50)}, period="2023")])
    row = comparisons.raw_previous_rows(t, DEFAULT).set_index("unit").loc["A"]
    # Newcombe (1998), table II (a): 56/70 - 48/80 = 0.2000, method 10: 0.0524 to 0.3339
    assert (row["value"], round(row["ci_low"], 4), round(row["ci_high"], 4)) == (pytest.approx(0.2), 0.0524, 0.3339)
    assert row["signal"] == "higher" and row["reference_value"] == pytest.approx(0.6)


def _casemix(expected_share, n=100):
    return pd.DataFrame({"indicator": "jh_uitval", "report_period": "2024", "period": "2024", "care_type": "jeugdhulp",
                         "institution": "A", "n": n, "observed": 30.0, "expected": expected_share * n,
                         "oe_ratio": 0.3 / expected_share, "oe_ci_low": 0.5, "oe_ci_high": 1.5, "oe_ci_level": 0.998,
                         "funnel_low": 0.6, "funnel_high": 1.4, "signal": "within"}, index=[0])


@pytest.mark.parametrize("expected_share, key", [
    (0.28, "raw_higher_adjusted_within"),         # the model expects 28%: 13 of the 15 points explained
    (0.20, "raw_higher_adjusted_within_chance"),  # 5 of 15 points explained: chance, not the case mix
    (0.12, "raw_higher_adjusted_within_chance"),  # the model expects less than the others: the other side
])
def test_the_case_mix_is_named_only_when_it_explains_the_raw_gap(expected_share, key):
    t = _table({"A": (30, 100), "B": (20, 200), "C": (40, 200)})  # A 30% against the others 15%
    cm = _casemix(expected_share)
    out = comparisons.build(t, cm, pd.DataFrame(), DEFAULT)
    row = out.loc[(out["unit"] == "A") & (out["basis"] == "raw_reference")].iloc[0]
    assert row["text_key"] == key
    text = report.verdict_sentences(0.30, adjusted={"signal": "within", "text_key": "adjusted_within"},
                                    reference=row.to_dict())["reference"]
    assert ("past bij" in text) == (key == "raw_higher_adjusted_within")


def test_a_hidden_row_of_another_window_does_not_hide_the_verdict():
    """Herhaald beroep is stored for the window in force (12 months) and the longer one (24 months);
    a suppressed 24-month row must not take the 12-month figure's verdict away."""
    entry = registry.get("jbjr_herhaald_beroep")
    months = entry.window_months(DEFAULT)
    inforce = _table({"A": (12, 100), "B": (20, 200), "C": (40, 200)}, indicator=entry.id, care_type="jb")
    inforce["window_months"] = months
    other = inforce.assign(window_months=24, numerator=0.0, denominator=0, suppressed=True)
    cm = _casemix(0.12).assign(indicator=entry.id, care_type="jb", signal="lower", oe_ci_high=0.9)
    out = comparisons.build(pd.concat([inforce, other], ignore_index=True), cm, pd.DataFrame(), DEFAULT)
    row = out.loc[(out["basis"] == "adjusted")].iloc[0]
    assert row["signal"] == "lower" and row["text_key"] == "adjusted_lower"


def test_a_verdict_never_stands_beside_a_figure_printed_equal_to_its_bound():
    row = {"signal": "lower", "measure": "oe_ratio", "value": 0.5963, "expected_low": 0.6035, "expected_high": 1.3965}
    text = report.fmt_expected_range(row)
    assert "W/V 0,596" in text and "0,604 en 1,397" in text  # at two decimals both would read 0,60
    change = report.fmt_change({"measure": "share_difference", "signal": "lower", "value": -0.09, "ci_low": -0.18,
                                "ci_high": -0.0004})
    assert change == "−9,00 procentpunt (−18,00 tot −0,04)"
    assert np.isclose(report.apart_decimals([(1.24, 1.18)], 2), 2)
