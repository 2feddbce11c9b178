"""Data-quality completeness, counted by hand on a toy delivery."""
from __future__ import annotations

import pandas as pd
import pytest

from outcome_analysis.quality import ITEMS, completeness, item_label
from toydata import toy_dataset


BASE = dict(client_id="c", institution="A", care_type="jeugdhulp", care_form="ambulant", birth_year=2010)


@pytest.fixture
def data():
    rows = [
        # three ended jeugdhulp trajectories at A in 2023: t1 complete-ish, t2 onbekend, t3 sparse
        dict(BASE, trajectory_id="t1", start_date="2022-01-01", end_date="2023-03-01", end_reason="volgens_plan",
             sex="v", goals_realised="geheel", rom_instrument="sdq_total", rom_start=20, rom_end=10),
        dict(BASE, trajectory_id="t2", start_date="2022-01-01", end_date="2023-05-01", end_reason="onbekend",
             sex="m", rom_instrument="sdq_total", rom_start=20),
        dict(BASE, trajectory_id="t3", start_date="2022-01-01", end_date="2023-06-01", end_reason="voortijdig_client"),
        # running: never counted
        dict(BASE, trajectory_id="t4", start_date="2023-01-01", sex="v"),
        # a jb trajectory at B, ended 2023
        dict(BASE, trajectory_id="t5", institution="B", care_type="jb", care_form="ots", start_date="2021-01-01",
             end_date="2023-02-01", end_reason="volgens_plan", threat_start=4, threat_end=2),
    ]
    goals = [dict(trajectory_id="t1", goal_id="g1", score=1.0)]
    experience = [dict(trajectory_id="t2", informant="professional", helped=True),
                  dict(trajectory_id="t3", informant="ouder", helped=False)]
    return toy_dataset(rows, goals, experience)


def pick(table, **where):
    mask = pd.Series(True, index=table.index)
    for k, v in where.items():
        mask &= table[k] == v
    assert mask.sum() == 1, where
    return table.loc[mask].iloc[0]


@pytest.mark.parametrize(
    "item, numerator, denominator",
    [
        ("end_reason", 2, 3),      # t1, t3 known; t2 onbekend
        ("sex", 2, 3),             # t1, t2
        ("goals_realised", 1, 3),  # t1
        ("rom", 1, 3),             # t1 has both scores; t2 only the start
        ("gas", 1, 3),             # t1 has a goal
        ("experience", 1, 3),      # t3's parent; t2's professional answer is not client experience
    ],
    ids=lambda v: str(v),
)
def test_completeness_counts_ended_trajectories_by_hand(data, item, numerator, denominator):
    row = pick(completeness(data), scope="institution", institution="A", period="2023", care_type="jeugdhulp", item=item)
    assert (row["numerator"], row["denominator"], row["missing"]) == (numerator, denominator, denominator - numerator)
    assert row["value"] == pytest.approx(numerator / denominator)


def test_items_apply_only_to_their_care_types(data):
    table = completeness(data)
    jb_items = set(table.loc[table["care_type"] == "jb", "item"])
    assert "threat" in jb_items and "rom" not in jb_items and "risk" not in jb_items
    assert pick(table, scope="institution", institution="B", item="threat")["numerator"] == 1


def test_national_rows_add_up_institutions(data):
    table = completeness(data)
    national = pick(table, scope="national", period="2023", care_type="jeugdhulp", item="sex")
    assert national["institution"] == "" and national["denominator"] == 3


def test_half_year_periods(data):
    table = completeness(data, granularity="half_year")
    assert set(table["period"]) == {"2023H1"}


def test_every_item_has_labels():
    assert all(item_label(i, "nl") and item_label(i, "en") for i in ITEMS)


def test_item_labels_come_from_the_text_file_and_the_language_is_checked():
    from outcome_analysis.indicators.quality import QualityError
    from outcome_analysis.texts import for_lang

    assert set(for_lang("quality", "nl")["items"]) == set(ITEMS)
    assert item_label("end_reason", "nl") == "reden beëindiging bekend"
    assert item_label("end_reason", "en") == "end reason known"
    with pytest.raises(QualityError):
        item_label("end_reason", "de")
    with pytest.raises(ValueError):
        item_label("no_such_item", "en")
