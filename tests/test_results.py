"""The results store: computed once, saved as Parquet + JSON, read back identically."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from outcome_analysis import registry
from outcome_analysis.results import TABLES, Results, ResultsError, compute_results, modelled_period
from outcome_analysis.settings import DEFAULT, Settings


@pytest.mark.parametrize(
    "indicator, period, reference, expected",
    [
        ("jh_uitval", "2024", "2024-12-31", "2024"),               # no window: the period itself
        ("jbjr_herhaald_beroep", "2024", "2024-12-31", "2023"),    # 12 months: 2023 ends have passed
        ("jbjr_herhaald_beroep", "2024", "2025-12-31", "2024"),
        ("pi10_geen_recidive", "2024", "2024-12-31", "2022"),      # 24 months
        ("jh_geen_nieuwe_start", "2024H2", "2024-12-31", "2023H2"),
        ("jh_geen_nieuwe_start", "2024H1", "2025-06-30", "2024H1"),
    ],
)
def test_modelled_period_is_latest_with_window_passed(indicator, period, reference, expected):
    assert modelled_period(registry.get(indicator), period, reference, DEFAULT) == expected


def test_results_cover_every_casemix_indicator(small_results):
    r = small_results
    assert r.meta["periods"] == ["2024"]
    modelled = set(r.casemix["indicator"])
    expected = {e.id for e in registry.REGISTRY.values() if e.casemix and not e.same_as and e.kind != "context"}
    assert modelled <= expected and len(modelled) >= len(expected) - 2
    change = {e.id for e in registry.REGISTRY.values() if "mean_change" in e.breakdowns}
    assert set(r.casemix_mean["indicator"]) <= change and "jh_afname_problematiek" in change
    # herhaald beroep is modelled for 2023, the latest year whose 12-month window has passed
    assert set(r.casemix.loc[r.casemix["indicator"] == "jbjr_herhaald_beroep", "period"]) <= {"2023"}
    assert len(r.model_summaries) >= len(modelled)


def test_results_hold_only_aggregates(small_results, small_demo):
    ids = set(small_demo.trajectories["trajectory_id"]) | set(small_demo.trajectories["client_id"])
    for name in TABLES:
        frame = getattr(small_results, name)
        for col in frame.columns:
            if frame[col].dtype == object or str(frame[col].dtype).startswith(("str", "string")):
                assert not ids & set(frame[col].dropna().astype(str)), f"record ids in {name}.{col}"


def test_save_and_load_round_trip(small_results, tmp_path):
    small_results.save(tmp_path / "r")
    again = Results.load(tmp_path / "r")
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(small_results, name), check_dtype=False)
    assert again.meta == json.loads(json.dumps(small_results.meta, default=str))
    assert again.settings == small_results.settings == DEFAULT.replace(delivery_scope="national")
    assert not list((tmp_path / "r").glob("*.tmp"))


def test_summary_is_rebuilt_from_the_tables(small_results):
    row = small_results.model_summaries.iloc[0]
    s = small_results.summary(row["indicator"], row["period"], row["care_type"], row["kind"])
    assert s.n_records == row["n_records"] and s.indicator == row["indicator"]
    assert small_results.summary("jh_uitval", "1900", "jeugdhulp") is None


def test_load_names_what_is_missing(tmp_path):
    with pytest.raises(ResultsError, match="indicators.parquet"):
        Results.load(tmp_path)


def test_settings_travel_with_the_results(small_demo):
    r = compute_results(small_demo, settings=Settings(min_denominator=20), periods=["2023"])
    assert r.settings.min_denominator == 20 and r.meta["periods"] == ["2023"]


def test_instrument_facts_record_derived_norms_and_unknown_instruments(small_demo):
    import dataclasses

    from outcome_analysis.results import instrument_facts

    facts = instrument_facts(small_demo)
    derived = {d["instrument"]: d for d in facts["derived_norms"]}
    # HoNOSCA has no population norm in the instrument table: mean and SD of all its start scores
    t = small_demo.trajectories
    starts = t.loc[t["rom_instrument"] == "honosca_total", "rom_start"].dropna().astype(float)
    assert derived["honosca_total"]["n"] == len(starts)
    assert derived["honosca_total"]["norm_mean"] == pytest.approx(starts.mean())
    assert derived["honosca_total"]["norm_sd"] == pytest.approx(starts.std(ddof=1))
    assert facts["unknown"] == {}

    odd = t.copy()
    odd.loc[odd.index[:3], "rom_instrument"] = "eigen_lijst"
    assert instrument_facts(dataclasses.replace(small_demo, trajectories=odd))["unknown"] == {"eigen_lijst": 3}
