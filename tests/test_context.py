"""Context items (target group, process indicators, kwesties) counted by hand on a toy delivery."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis import stats
from outcome_analysis import registry
from outcome_analysis.context import CONTEXT_IDS, compute_context
from outcome_analysis.settings import Settings
from toydata import toy_dataset

BASE = dict(client_id="c", institution="A", care_type="jb", care_form="ots", birth_year=2010,
            start_date="2023-02-01")


def rows_for_a():
    """12 jb trajectories at A started in 2023 (so shares are shown at the default threshold 10)."""
    rows = []
    for i in range(12):
        rows.append(dict(
            BASE, trajectory_id=f"a{i}",
            complexity=["complex", "meervoudig", "enkelvoudig"][i % 3] if i < 9 else None,   # 3/3/3, 3 missing
            out_of_home=(i < 4) if i < 10 else None,                                          # 4 of 10 known
            first_contact_date=pd.Timestamp("2023-02-01") + pd.Timedelta(days=i),             # waits 0..11 days
            end_date="2023-12-01", end_reason="volgens_plan",
            working_alliance=float(1 + i % 5) if i < 11 else None,                            # 11 answers
            issues={0: "wachtlijst", 1: "wachtlijst;personeelstekort", 2: "overig"}.get(i),
        ))
    return rows


@pytest.fixture
def table():
    return compute_context(toy_dataset(rows_for_a()))


def pick(table, **where):
    mask = np.logical_and.reduce([table[k] == v for k, v in where.items()])
    assert mask.sum() == 1, where
    return table.loc[mask].iloc[0]


def test_out_of_home_share_with_wilson_interval(table):
    row = pick(table, indicator="ctx_doelgroep", category="", scope="institution", institution="A", period="2023")
    low, high = stats.proportion_ci(4, 10)
    assert (row["numerator"], row["denominator"], row["missing"]) == (4, 10, 2)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
    assert row["suppressed"] and row["suppression_reason"] == "cell"  # the two-cell rule: 4 of 10 is a small cell


def test_complexity_distribution_counts_known_values_and_missing(table):
    sub = table[(table["indicator"] == "ctx_doelgroep") & (table["scope"] == "institution")
                & table["category"].str.startswith("complexity:")]
    assert sorted(sub["numerator"].tolist()) == [3, 3, 3]
    assert set(sub["denominator"]) == {9} and set(sub["missing"]) == {3}
    # every count is below 10: hidden
    assert sub["suppressed"].all()


def test_waiting_time_mean_and_quartiles(table):
    days = np.arange(12)
    row = pick(table, indicator="ctx_wachttijd", category="", scope="institution", institution="A")
    assert row["value"] == pytest.approx(days.mean())
    low, high = stats.mean_ci(days.mean(), days.std(ddof=1), 12)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
    for label, q in (("p25", 0.25), ("p50", 0.5), ("p75", 0.75)):
        row = pick(table, indicator="ctx_wachttijd", category=f"quantile:{label}", scope="institution", institution="A")
        assert row["value"] == np.quantile(days, q)


def test_working_alliance_mean_with_t_interval(table):
    row = pick(table, indicator="ctx_werkrelatie", scope="institution", institution="A")
    scores = np.array([1 + i % 5 for i in range(11)], dtype=float)
    assert row["value"] == pytest.approx(scores.mean())
    assert row["denominator"] == 11 and row["missing"] == 1
    low, high = stats.mean_ci(scores.mean(), scores.std(ddof=1), 11)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))


def test_kwesties_count_each_code_per_trajectory(table):
    sub = table[(table["indicator"] == "ctx_kwesties") & (table["scope"] == "national")].set_index("category")
    assert sub.loc["issue:wachtlijst", "numerator"] == 2
    assert sub.loc["issue:personeelstekort", "numerator"] == 1
    assert sub.loc["issue:wetgeving", "numerator"] == 0
    assert set(sub["denominator"]) == {12}


def test_small_denominators_are_suppressed():
    small = compute_context(toy_dataset(rows_for_a()[:5]))
    assert small.loc[small["indicator"] == "ctx_doelgroep", "suppressed"].all()


def test_thresholds_are_settings():
    lenient = compute_context(toy_dataset(rows_for_a()), settings=Settings(min_count=1, min_denominator=1))
    sub = lenient[(lenient["indicator"] == "ctx_doelgroep") & (lenient["scope"] == "institution")
                  & lenient["category"].str.startswith("complexity:")]
    assert len(sub) == 3 and not sub["suppressed"].any()


def test_labels_in_both_languages():
    assert all(registry.label(i, "nl") and registry.label(i, "en") for i in CONTEXT_IDS)
