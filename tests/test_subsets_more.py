"""Deliveries as they really arrive, continued (see ``test_subsets.py``): a GI alone, its JB alone and
its JR alone, each with and without goals and experience. A file of its own so that the two test
workers share the ten deliveries."""
from __future__ import annotations

import pytest

from subsets import GI
from test_subsets import ALONE, check_delivery, deliveries  # noqa: F401  (deliveries is a fixture)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("subset_id", ["one-gi-full", "one-gi-trajectories-only"])
def test_a_gi_alone_is_compared_with_nothing(subset_id, deliveries, tmp_path):
    texts = check_delivery(subset_id, deliveries, tmp_path)
    text = texts[GI]
    assert f"Deze levering bevat alleen {GI}; {ALONE}." in text
    assert "Alle instellingen (" not in text
    if "" in texts:  # the overview of a delivery of one institution: its own figures, no funnel
        overview = texts[""]
        assert "Overzicht outcome-indicatoren van deze levering" in overview and ALONE in overview
        assert "Cijfers van deze levering over" in overview
        assert "Niet van toepassing: deze levering bevat geen jeugdhulp." in overview
        assert "Wat deze levering bevat" in overview


@pytest.mark.parametrize("subset_id, offered, absent", [
    ("jb-only-full", "jeugdbescherming", "jeugdreclassering"),
    ("jb-only-trajectories-only", "jeugdbescherming", "jeugdreclassering"),
    ("jr-only-full", "jeugdreclassering", "jeugdbescherming"),
    ("jr-only-trajectories-only", "jeugdreclassering", "jeugdbescherming"),
])
def test_one_care_type_says_the_other_does_not_apply(subset_id, offered, absent, deliveries, tmp_path):
    texts = check_delivery(subset_id, deliveries, tmp_path)
    text = texts[GI]
    # said once (after the Kerncijfers, once per set), not on every row and every section
    assert f"{GI} biedt in deze levering geen {absent}; die cijfers staan daarom niet in dit rapport." in text
    assert f"Niet van toepassing: {GI} biedt geen {absent}." not in text
    assert f"{GI} ({offered}) in " in text  # the report is about what the delivery holds
    if "" in texts:
        assert "Niet van toepassing: deze levering bevat geen jeugdhulp." in texts[""]
