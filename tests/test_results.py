"""The results store: computed once, saved as Parquet + JSON, read back identically."""
from __future__ import annotations

import json

import pandas as pd
from conftest import SMALL_MIN_CELL
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
    assert again.settings == small_results.settings == DEFAULT.replace(delivery_scope="national", min_cell=SMALL_MIN_CELL)
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


# --------------------------------------------------------------------------------------------
# deliveries without optional parts: statuses computed once, tables that keep their columns
# --------------------------------------------------------------------------------------------
def _partial(demo, institutions=None, care_types=None, optional=False, rom=True):
    """A cut of the demo as a delivery arrives: some institutions or care types, without goals and
    experience, and (``rom=False``) with the ROM columns empty."""
    import dataclasses

    from outcome_analysis import schema

    t = demo.trajectories
    keep = t["institution"].notna()
    if institutions:
        keep &= t["institution"].isin(institutions)
    if care_types:
        keep &= t["care_type"].isin(care_types)
    t = t.loc[keep].reset_index(drop=True)
    if not rom:
        t = t.assign(rom_instrument=pd.NA, rom_start=float("nan"), rom_end=float("nan"))
    ids = t["trajectory_id"]
    return dataclasses.replace(
        demo, trajectories=t,
        goals=demo.goals.loc[demo.goals["trajectory_id"].isin(ids)] if optional else schema.empty_frame("goals"),
        experience=(demo.experience.loc[demo.experience["trajectory_id"].isin(ids)] if optional
                    else schema.empty_frame("experience")))


@pytest.fixture(scope="module")
def trajectories_only(small_demo):
    """Every institution, trajectories only, no ROM scores: a CBS-route delivery."""
    return compute_results(_partial(small_demo, rom=False))


def _status(results, indicator, care_type, institution=""):
    return results.status_of(indicator, care_type, institution)["status"], results.status_of(
        indicator, care_type, institution)["reason"]


def test_statuses_say_what_the_delivery_lacks(trajectories_only):
    r = trajectories_only
    assert r.contract["experience"] is False and r.contract["goals"] is False and r.contract["rom"] is False
    assert r.contract["threat"] is True
    for indicator, care_type, part in [("jbjr_clientervaring", "jb", "experience"), ("jh_tevredenheid", "jeugdhulp", "experience"),
                                       ("pi02_tevredenheid", "jr", "experience"), ("jh_doelrealisatie_gas", "jeugdhulp", "goals"),
                                       ("jh_afname_problematiek", "jeugdhulp", "rom"), ("pi04_vermindering_ernst", "jeugdhulp", "rom")]:
        assert _status(r, indicator, care_type) == ("niet_aangeleverd", part), indicator
        assert _status(r, indicator, care_type, "Jeugdzorg De Wissel" if care_type == "jeugdhulp"
                       else "Jeugdbescherming Randstad Midden") == ("niet_aangeleverd", part)
    assert _status(r, "jh_uitval", "jeugdhulp") == ("getoond", "")
    assert _status(r, "pi04_vermindering_ernst", "jb") == ("getoond", "")  # threat was delivered


def test_statuses_for_care_types_and_small_numbers(small_results):
    r = small_results
    # a jeugdhulp provider offers no JB; the national figure of a care type the delivery holds is shown
    assert _status(r, "jbjr_verloop", "jb", "Jeugdzorg De Wissel") == ("niet_van_toepassing", "")
    # a GI with fewer than 10 (but some) ended JR episodes in 2024, read from the indicators table
    t = r.indicators
    rows = t[(t["indicator"] == "jbjr_verloop") & (t["scope"] == "institution") & (t["period"] == "2024")
             & (t["care_type"] == "jr") & (t["category"] == "")]
    few = rows[(rows["denominator"] > 0) & (rows["denominator"] < r.settings.min_denominator)]
    assert len(few) > 0
    for gi in few["institution"]:
        assert _status(r, "jbjr_verloop", "jr", gi) == ("te_weinig_gegevens", "few")
    # a figure with enough records but a small cell is hidden, not "too few"
    st = r.status
    hidden = st[st["status"] == "verborgen"].iloc[0]
    t = r.indicators
    shown_rows = t[(t["indicator"] == hidden["indicator"]) & (t["institution"] == hidden["institution"])
                   & (t["period"] == hidden["period"]) & (t["care_type"] == hidden["care_type"])]
    assert shown_rows["denominator"].max() >= r.settings.min_denominator and shown_rows["suppressed"].any()
    assert set(st["status"]) <= {"getoond", "verborgen", "te_weinig_gegevens", "niet_van_toepassing", "niet_aangeleverd"}
    # one status per indicator, scope, institution, care type and report period
    assert not st.duplicated(["indicator", "scope", "institution", "care_type", "report_period"]).any()


def test_a_period_without_ended_trajectories_is_too_few_data(small_results):
    # 2030 is after the reference date: nothing ended, every shown status says so
    extra = small_results.status_of("jh_uitval", "jeugdhulp", "Jeugdzorg De Wissel", "2030")
    assert (extra["status"], extra["reason"]) == ("te_weinig_gegevens", "none_ended")


def test_one_institution_fits_no_model_and_its_tables_keep_their_columns(small_demo):
    r = compute_results(_partial(small_demo, institutions=["Jeugdzorg De Wissel"]))
    assert r.institutions == ["Jeugdzorg De Wissel"]
    assert r.casemix.empty and r.model_summaries.empty and r.coefficients.empty
    # an empty selection on an empty table is empty, never a KeyError
    for table, columns in ((r.casemix, ("institution", "n", "oe_ratio", "signal", "report_period")),
                           (r.casemix_mean, ("institution", "adjusted_mean")),
                           (r.coefficients, ("term", "odds_ratio", "ci_low")), (r.calibration, ("decile", "expected"))):
        assert set(columns) <= set(table.columns)
    assert r.care_types_of("Jeugdzorg De Wissel") == ["jeugdhulp"] and r.care_types_of() == ["jeugdhulp"]
    assert _status(r, "jbjr_verloop", "jb") == ("niet_van_toepassing", "")


def test_status_table_is_stored_and_read_back(trajectories_only, tmp_path):
    again = Results.load(trajectories_only.save(tmp_path / "r"))
    pd.testing.assert_frame_equal(again.status, trajectories_only.status, check_dtype=False)
    assert again.contract == trajectories_only.contract


def test_too_little_data_names_the_records_not_the_ended_trajectories(small_results):
    """ROM (and any figure on a subset of the ended trajectories): enough ended, too few with the
    measurements: the sentence says so, not "fewer than 10 ended trajectories"."""
    from outcome_analysis import report
    from outcome_analysis.results import indicator_status

    period = small_results.meta["periods"][-1]
    inst = "Jeugdzorg De Wissel"
    t = small_results.indicators.copy()
    sel = ((t["indicator"] == "jh_afname_problematiek") & (t["scope"] == "institution") & (t["institution"] == inst)
           & (t["period"] == period) & (t["care_type"] == "jeugdhulp") & (t["category"] == ""))
    assert sel.any()
    t.loc[sel, "denominator"] = 9  # 9 with begin and end measurement
    st = indicator_status(t, small_results.quality, meta=small_results.meta, settings=small_results.settings,
                          periods=[period])
    row = st.loc[(st["indicator"] == "jh_afname_problematiek") & (st["institution"] == inst)
                 & (st["care_type"] == "jeugdhulp")].iloc[0]
    assert (row["status"], row["reason"]) == ("te_weinig_gegevens", "few_with_data")
    unit = registry.get("jh_afname_problematiek").unit
    settings = small_results.settings
    assert report.status_sentence(row["status"], reason=row["reason"], period=period, unit=unit,
                                  settings=settings) == \
        f"Te weinig gegevens: minder dan 10 afgesloten trajecten met gegevens voor dit cijfer in {period}."
    assert report.status_sentence(row["status"], "en", reason=row["reason"], period=period, unit=unit,
                                  settings=settings) == \
        f"Too little data: fewer than 10 ended trajectories with data for this figure in {period}."
    # none ended keeps its own words
    assert "geen afgesloten trajecten" in report.status_sentence("te_weinig_gegevens", reason="none_ended",
                                                                 care_type="jeugdhulp", period=period,
                                                                 settings=settings)


def test_family_institutions_follow_the_care_type_families(small_results):
    from outcome_analysis.results import care_type_family

    assert care_type_family("jb") == care_type_family("jr") == ("jb", "jr")
    assert care_type_family("jeugdhulp") == ("jeugdhulp",)
    jbjr = small_results.family_institutions("jr")
    assert jbjr == small_results.family_institutions(("jb", "jr")) and "Jeugdbescherming Randstad Midden" in jbjr
    assert not set(jbjr) & set(small_results.family_institutions("jeugdhulp"))
    assert len(jbjr) + len(small_results.family_institutions("jeugdhulp")) == len(small_results.institutions)


def test_compute_results_builds_each_indicator_once(monkeypatch):
    """Each indicator's unit rows are built once per compute_results (one builder call each): the
    case-mix models get the records of the same build as the table, for every report period and
    kind, and the verloop profile shares the same arrays (one base)."""
    from outcome_analysis.indicators import base as base_mod
    from outcome_analysis.indicators import builders
    from toydata import toy_dataset
    from toydata import trajectory as T

    rows = []
    for inst in ("A", "B"):
        for i in range(12):
            rows.append(T(f"{inst}h{i}", f"{inst}k{i}", inst, "jeugdhulp", "ambulant", "2022-02-01",
                          f"2023-0{1 + i % 9}-15", "voortijdig_client" if i % 3 == 0 else "volgens_plan",
                          complexity="complex",
                          rom_instrument="sdq_total", rom_start=20.0, rom_end=12.0 + i))
            rows.append(T(f"{inst}j{i}", f"{inst}y{i}", inst, "jb", "ots", "2021-03-01", f"2022-0{1 + i % 9}-10",
                          "volgens_plan", threat_start=3, threat_end=1 + i % 3))
    data = toy_dataset(rows, reference_date="2024-12-31")
    calls: dict[str, int] = {}
    for indicator, build in list(builders._BUILDERS.items()):
        def counted(b, entry, build=build):
            calls[entry.id] = calls.get(entry.id, 0) + 1
            return build(b, entry)
        monkeypatch.setitem(builders._BUILDERS, indicator, counted)
    bases = []
    made = base_mod._Base.__init__
    monkeypatch.setattr(base_mod._Base, "__init__", lambda self, *a, **k: (bases.append(1), made(self, *a, **k))[1])
    r = compute_results(data, periods=["2022", "2023"])
    assert calls == {i: 1 for i in builders.computable()}
    assert len(bases) == 1
    assert {"jh_uitval", "jh_afname_problematiek", "jbjr_herhaald_beroep"} <= set(r.casemix["indicator"])
    assert set(r.casemix["report_period"]) == {"2022", "2023"}
    assert "jh_afname_problematiek" in set(r.casemix_mean["indicator"])
