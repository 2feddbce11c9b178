"""Tests of ``outcome_analysis.counted``: what was counted where, per trajectory and indicator.

Every expected row below is a hand-count on the toy data written in the test, by the rules of
docs/indicators.md (reference date 31-12-2024 unless said otherwise; windows: nieuwe start and
herhaald beroep 12 months, vervolghulp 3, recidive 24; a record starting at most 1 day after the
latest end so far continues the episode).
"""
from __future__ import annotations

import doctest
import re
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from toydata import toy_dataset

from outcome_analysis import counted as counted_mod
from outcome_analysis import indicators, registry
from outcome_analysis.counted import CountedRecordsError, counted_records, write_xlsx

REF = "2024-12-31"
FIELDS = ["trajectory_id", "counted", "period", "outcome", "category", "reason", "counted_with"]


def traj(tid, client, care_type, care_form, start, end=None, reason=None, institution="A", **extra):
    return dict(trajectory_id=tid, client_id=client, institution=institution, care_type=care_type,
                care_form=care_form, start_date=start, end_date=end, end_reason=reason, birth_year=2010, **extra)


def rows_of(frame: pd.DataFrame, indicator: str) -> list[tuple]:
    """The rows of one indicator as tuples of FIELDS (NaN outcome as None)."""
    part = frame[frame["indicator"] == indicator]
    out = []
    for rec in part[FIELDS].to_dict("records"):
        rec["outcome"] = None if pd.isna(rec["outcome"]) else float(rec["outcome"])
        out.append(tuple(rec[f] for f in FIELDS))
    return out


def records_quietly(data, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown-instrument / derived-norm remarks of the indicators
        return counted_records(data, **kwargs)


# ------------------------------------------------------------------------------------------------
# Jeugdhulp: an episode of two records, a running record, the youth counted once
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jeugdhulp():
    """J1 -> J2 is one episode (J2 starts the day after J1 ends: a change of care form). J3 ended
    with an unknown reason; J4 of the same youth still runs. Youth C3 had two episodes at B in 2022
    (J5, J6): per youth, institution and period only the last one counts."""
    rows = [
        traj("J1", "C1", "jeugdhulp", "ambulant", "2023-01-01", "2023-06-30", "volgens_plan",
             without_help=True, goals_realised="geheel"),
        traj("J2", "C1", "jeugdhulp", "daghulp", "2023-07-01", "2023-12-31", "voortijdig_client"),
        traj("J3", "C2", "jeugdhulp", "ambulant", "2024-01-01", "2024-03-31", "onbekend"),
        traj("J4", "C2", "jeugdhulp", "ambulant", "2024-05-01"),
        traj("J5", "C3", "jeugdhulp", "ambulant", "2022-01-01", "2022-03-31", "volgens_plan", institution="B"),
        traj("J6", "C3", "jeugdhulp", "ambulant", "2022-06-01", "2022-09-30", "volgens_plan", institution="B"),
    ]
    return records_quietly(toy_dataset(rows, reference_date=REF))


def test_uitval_counts_each_ended_trajectory_and_says_why_not(jeugdhulp):
    # J1 volgens plan (0), J2 voortijdig client (1: uitval), J3 onbekend (left out), J4 running
    assert rows_of(jeugdhulp, "jh_uitval") == [
        ("J1", True, "2023", 0.0, None, "counted", None),
        ("J2", True, "2023", 1.0, None, "counted", None),
        ("J3", False, "2024", None, None, "end_reason_unknown", None),
        ("J4", False, None, None, None, "not_ended", None),
        ("J5", True, "2022", 0.0, None, "counted", None),
        ("J6", True, "2022", 0.0, None, "counted", None),
    ]


def test_geen_nieuwe_start_counts_the_youth_once_with_the_last_record(jeugdhulp):
    # episode J1+J2 ends 31-12-2023; window until 31-12-2024 = the reference date: passed; no new
    # jeugdhulp after it -> 1. J3's window runs until 31-03-2025: not passed. C3's earlier episode
    # (J5) in 2022 at B gives way to the last one (J6), which had no new start -> 1.
    assert rows_of(jeugdhulp, "jh_geen_nieuwe_start") == [
        ("J1", False, "2023", None, None, "not_last_record", "J2"),
        ("J2", True, "2023", 1.0, None, "counted", None),
        ("J3", False, "2024", None, None, "window_not_passed", None),
        ("J4", False, None, None, None, "not_ended", None),
        ("J5", False, "2022", None, None, "not_last_episode", "J6"),
        ("J6", True, "2022", 1.0, None, "counted", None),
    ]
    rows = jeugdhulp[jeugdhulp["indicator"] == "jh_geen_nieuwe_start"].set_index("trajectory_id")["explanation"]
    assert rows["J1"] == "niet het laatste traject van de episode; de episode is geteld met traject J2"
    assert rows["J3"] == ("de follow-upperiode van 12 maanden was op de peildatum nog niet voorbij "
                          "(loopt tot 31-03-2025)")
    assert rows["J5"] == ("de jongere telt één keer per instelling en periode, met de laatste episode die daar "
                          "eindigde (traject J6)")
    assert rows["J2"] == ""


def test_zwaarte_vervolghulp_is_a_distribution_cell(jeugdhulp):
    # per trajectory, the next one of the same youth within 3 months: J1 -> J2 (ambulant -> daghulp)
    # heavier; J3 -> J4 (01-05-2024, within 3 months of 31-03-2024) equal; J5 -> J6 (01-06-2022,
    # within 3 months of 31-03-2022) equal; J2 and J6 none.
    heavier, equal, none = (registry.category_label(f"follow_up:{c}") for c in ("heavier", "equal", "none"))
    assert rows_of(jeugdhulp, "pi06_zwaarte_vervolghulp") == [
        ("J1", True, "2023", None, heavier, "counted", None),
        ("J2", True, "2023", None, none, "counted", None),
        ("J3", True, "2024", None, equal, "counted", None),
        ("J4", False, None, None, None, "not_ended", None),
        ("J5", True, "2022", None, equal, "counted", None),
        ("J6", True, "2022", None, none, "counted", None),
    ]


def test_items_missing_are_named(jeugdhulp):
    rows = jeugdhulp[jeugdhulp["indicator"] == "jh_zonder_hulp_verder"].set_index("trajectory_id")
    assert rows.loc["J1", "counted"] and rows.loc["J1", "outcome"] == 1.0
    assert rows.loc["J2", "reason"] == "item_missing"
    assert rows.loc["J2", "explanation"] == "item ontbreekt: without_help"
    rom = jeugdhulp[jeugdhulp["indicator"] == "jh_afname_problematiek"].set_index("trajectory_id")
    assert rom.loc["J1", "explanation"] == "item ontbreekt: rom_instrument, rom_start, rom_end"


# ------------------------------------------------------------------------------------------------
# JB and JR: episodes across measures, youths, windows, deceased, a running episode
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jbjr():
    """C4: vOTS K1 then OTS K2 from the next day (one JB episode, ended 31-12-2022), then a JR
    measure K3 in 2023 (a new JB/JR episode). C5: voogdij K4 ended by death. C6: vOTS K5 followed
    by an OTS K6 that still runs."""
    rows = [
        traj("K1", "C4", "jb", "vots", "2022-01-01", "2022-03-01", "volgens_plan"),
        traj("K2", "C4", "jb", "ots", "2022-03-02", "2022-12-31", "niet_verlengd", threat_start=4, threat_end=2),
        traj("K3", "C4", "jr", "tb_vrijwillig", "2023-06-01", "2023-12-31", "volgens_plan",
             risk_start="hoog", risk_end="laag", recidivism=False),
        traj("K4", "C5", "jb", "voogdij", "2020-01-01", "2023-05-01", "overleden"),
        traj("K5", "C6", "jb", "vots", "2024-01-01", "2024-02-01", "volgens_plan"),
        traj("K6", "C6", "jb", "ots", "2024-02-02"),
    ]
    return records_quietly(toy_dataset(rows, reference_date=REF))


def test_verloop_counts_each_episode_once_with_its_last_record(jbjr):
    # K1+K2: regular end (niet verlengd) -> 1, counted with K2; K3 its own episode, volgens plan
    # -> 1; K4 overleden is left out of the denominator; K5's episode goes on in K6.
    assert rows_of(jbjr, "jbjr_verloop") == [
        ("K1", False, "2022", None, None, "not_last_record", "K2"),
        ("K2", True, "2022", 1.0, None, "counted", None),
        ("K3", True, "2023", 1.0, None, "counted", None),
        ("K4", False, "2023", None, None, "deceased", None),
        ("K5", False, "2024", None, None, "episode_running", "K6"),
        ("K6", False, None, None, None, "not_ended", None),
    ]
    k5 = jbjr[(jbjr["indicator"] == "jbjr_verloop") & (jbjr["trajectory_id"] == "K5")]["explanation"].item()
    assert k5 == "de episode is niet beëindigd: traject K6 van dezelfde jongere loopt nog"


def test_herhaald_beroep_and_new_measure_per_youth(jbjr):
    # herhaald beroep (JB and JR together): C4's episode K1+K2 ended 31-12-2022 and K3 started
    # within 12 months -> 1; K3's episode (ended 31-12-2023) had no new measure by 31-12-2024 -> 0;
    # K4 (ended 01-05-2023, window passed) no new measure -> 0.
    assert rows_of(jbjr, "jbjr_herhaald_beroep") == [
        ("K1", False, "2022", None, None, "not_last_record", "K2"),
        ("K2", True, "2022", 1.0, None, "counted", None),
        ("K3", True, "2023", 0.0, None, "counted", None),
        ("K4", True, "2023", 0.0, None, "counted", None),
        ("K5", False, "2024", None, None, "episode_running", "K6"),
        ("K6", False, None, None, None, "not_ended", None),
    ]
    # pi08 chains JB alone: K3 (JR) is no new protection measure -> 1 for C4; JR records are not concerned
    assert rows_of(jbjr, "pi08_geen_nieuwe_maatregel") == [
        ("K1", False, "2022", None, None, "not_last_record", "K2"),
        ("K2", True, "2022", 1.0, None, "counted", None),
        ("K4", True, "2023", 1.0, None, "counted", None),
        ("K5", False, "2024", None, None, "episode_running", "K6"),
        ("K6", False, None, None, None, "not_ended", None),
    ]


def test_jr_indicators(jbjr):
    assert rows_of(jbjr, "pi09_reden_beeindiging_jr") == [
        ("K3", True, "2023", None, registry.category_label("end_reason:volgens_plan"), "counted", None),
    ]
    # recidive: 24 months after 31-12-2023 is 31-12-2025, after the reference date
    assert rows_of(jbjr, "pi10_geen_recidive") == [("K3", False, "2023", None, None, "window_not_passed", None)]
    assert rows_of(jbjr, "jr_afname_criminogene_factoren") == [("K3", True, "2023", 1.0, None, "counted", None)]
    assert rows_of(jbjr, "jb_afname_ontwikkelingsbedreiging")[:2] == [
        ("K1", False, "2022", None, None, "item_missing", None),
        ("K2", True, "2022", 1.0, None, "counted", None),
    ]


def test_the_episode_of_a_not_counted_last_record_says_so():
    # T2 ends the episode T1+T2 in 2024 with an unknown reason: the episode is judged by T2 and not counted
    rows = [traj("T1", "C1", "jb", "vots", "2024-01-01", "2024-02-01", "volgens_plan"),
            traj("T2", "C1", "jb", "ots", "2024-02-02", "2024-10-01", "onbekend")]
    frame = records_quietly(toy_dataset(rows, reference_date=REF))
    assert rows_of(frame, "jbjr_verloop") == [
        ("T1", False, "2024", None, None, "not_last_record_uncounted", "T2"),
        ("T2", False, "2024", None, None, "end_reason_unknown", None),
    ]


# ------------------------------------------------------------------------------------------------
# Experience answers, goals, ROM
# ------------------------------------------------------------------------------------------------


def test_answers_goals_and_rom_reasons():
    rows = [
        traj("E1", "C1", "jeugdhulp", "ambulant", "2023-01-01", "2023-06-30", "volgens_plan",
             rom_instrument="eigen_lijst", rom_start=20.0, rom_end=10.0),
        traj("E2", "C2", "jeugdhulp", "ambulant", "2023-01-01", "2023-06-30", "volgens_plan",
             rom_instrument="sdq_total", rom_start=20.0),
        traj("E3", "C3", "jeugdhulp", "ambulant", "2023-01-01", "2023-06-30", "volgens_plan"),
        traj("E4", "C4", "jeugdhulp", "ambulant", "2023-01-01", "2023-06-30", "volgens_plan"),
        traj("E5", "C5", "jeugdhulp", "ambulant", "2024-01-01"),
    ]
    experience = [
        dict(trajectory_id="E1", informant="ouder", helped=True),
        dict(trajectory_id="E1", informant="jeugdige", helped=False),
        dict(trajectory_id="E1", informant="professional", helped=True),  # never pooled
        dict(trajectory_id="E2", informant="professional", helped=True),
        dict(trajectory_id="E3", informant="ouder", helped=None),
        dict(trajectory_id="E5", informant="ouder", helped=True),  # running: not counted yet
    ]
    goals = [
        dict(trajectory_id="E1", goal_id="g1", score=1.0, weight=1.0, informant="gezamenlijk"),  # T = 60
        dict(trajectory_id="E2", goal_id="g1", score=1.0, weight=1.0, informant="jeugdige"),
    ]
    frame = records_quietly(toy_dataset(rows, goals=goals, experience=experience, reference_date=REF))
    assert rows_of(frame, "jh_tevredenheid") == [
        ("E1", True, "2023", 0.5, None, "counted_answers", None),
        ("E2", False, "2023", None, None, "professional_only", None),
        ("E3", False, "2023", None, None, "item_missing", None),
        ("E4", False, "2023", None, None, "no_answers", None),
        ("E5", False, None, None, None, "not_ended", None),
    ]
    text = frame[frame["indicator"] == "jh_tevredenheid"].set_index("trajectory_id")["explanation"]
    assert text["E1"] == "antwoorden van jeugdigen en ouders: 2, waarvan 'geholpen': 1"
    assert text["E3"] == "item ontbreekt: helped"
    gas = frame[frame["indicator"] == "jh_doelrealisatie_gas"].set_index("trajectory_id")
    assert gas["reason"].to_dict() == {"E1": "counted", "E2": "no_joint_goals", "E3": "no_goals",
                                       "E4": "no_goals", "E5": "not_ended"}
    assert gas.loc["E1", "outcome"] == 1.0
    rom = frame[frame["indicator"] == "jh_afname_problematiek"].set_index("trajectory_id")
    assert rom.loc["E1", "reason"] == "rom_unknown_instrument"
    assert rom.loc["E1", "explanation"] == "ROM-instrument eigen_lijst staat niet in de instrumententabel"
    assert rom.loc["E2", "explanation"] == "item ontbreekt: rom_end"


# ------------------------------------------------------------------------------------------------
# Shape, language, consistency with the indicators
# ------------------------------------------------------------------------------------------------


def test_one_row_per_trajectory_and_indicator_of_its_care_type(jbjr, jeugdhulp):
    for frame in (jbjr, jeugdhulp):
        for care_type, part in frame.groupby("care_type"):
            expected = [i for i in indicators.COMPUTABLE if care_type in registry.get(i).care_types]
            for _, rows in part.groupby("trajectory_id"):
                assert rows["indicator"].tolist() == expected
    assert list(jbjr.columns) == list(counted_mod.COLUMNS)
    assert jbjr["trajectory_id"].tolist() == sorted(jbjr["trajectory_id"])  # delivery order, K1..K6
    assert set(jbjr["indicator_name"]) == {registry.label(i) for i in jbjr["indicator"]}


def test_english():
    rows = [traj("J1", "C1", "jeugdhulp", "ambulant", "2024-01-01", "2024-03-31", "onbekend")]
    frame = records_quietly(toy_dataset(rows, reference_date=REF), lang="en")
    text = frame.set_index("indicator")["explanation"]
    assert text["jh_uitval"] == "end reason unknown"
    assert text["jh_geen_nieuwe_start"] == ("the follow-up window of 12 months had not passed at the reference "
                                            "date (it runs until 2025-03-31)")
    assert frame.set_index("indicator").loc["jh_uitval", "indicator_name"] == registry.label("jh_uitval", "en")
    with pytest.raises(ValueError, match="lang"):
        counted_records(toy_dataset(rows), lang="de")


def test_repeated_trajectory_ids_are_refused():
    rows = [traj("T1", "C1", "jeugdhulp", "ambulant", "2024-01-01"), traj("T1", "C2", "jeugdhulp", "ambulant", "2024-01-01")]
    with pytest.raises(CountedRecordsError, match="unique"):
        counted_records(toy_dataset(rows, reference_date=REF))


def test_counted_rows_add_up_to_the_indicators_denominators(small_demo):
    """On the small demo: per indicator, the counted trajectories are exactly the units the
    indicator's headline (or distribution) counts, summed over institutions, periods and care types;
    and every trajectory left out has a specific reason."""
    periods = ["2023", "2024"]
    frame = records_quietly(small_demo)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = indicators.compute(small_demo, by=("institution",), periods=periods)
    assert frame["reason"].isin(list(counted_mod.REASONS)).all()
    frame = frame[frame["period"].isin(periods)]
    table = table[(table["scope"] == "institution")]
    for ind in indicators.COMPUTABLE:
        entry = registry.get(ind)
        mine = frame[frame["indicator"] == ind]
        if entry.unit == "answer":  # answers: sum of the answers behind the counted trajectories
            answers = mine["explanation"].str.extract(r": (\d+),", expand=False).dropna().astype(int).sum()
            head = table[(table["indicator"] == ind) & (table["category"] == "")]
            assert answers == head["denominator"].sum(), ind
            continue
        rows = table[table["indicator"] == ind]
        if entry.headline is None:
            family = next(f for f, k in entry.breakdowns.items() if k == "distribution")
            cells = rows[rows["category"].astype(str).str.startswith(f"{family}:")]
            denominator = cells.groupby(["institution", "period", "care_type"])["denominator"].first().sum()
        else:
            head = rows[rows["category"] == ""]
            if entry.extra_window_setting:
                head = head[head["window_months"] == entry.window_months(counted_mod.DEFAULT)]
            denominator = head["denominator"].sum()
        assert mine["counted"].sum() == denominator, ind
    left_out = frame[~frame["counted"]]
    assert not left_out["reason"].isin(["not_counted", "outcome_unknown"]).any()
    assert (left_out["explanation"].str.len() > 0).all()


def test_nothing_but_the_validator_calls_it():
    package = Path(counted_mod.__file__).parents[1]
    callers = [p.name for p in package.rglob("*.py")
               if p.name != "counted.py" and re.search(r"\bcounted\b.*import|import.*\bcounted\b", p.read_text(encoding="utf-8"))]
    assert callers == ["__main__.py"]


# ------------------------------------------------------------------------------------------------
# The xlsx
# ------------------------------------------------------------------------------------------------


def test_xlsx_for_the_supplier(jbjr, tmp_path):
    frame = jbjr.copy()
    frame.loc[0, "trajectory_id"] = "=HYPERLINK(\"x\")"  # text from a delivery is never a formula
    out = write_xlsx(frame, tmp_path / "out" / "geteld.xlsx", reference_date=REF)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Tellingen", "Toelichting"]
    ws = wb["Tellingen"]
    header = [c.value for c in ws[1]]
    assert header == [counted_mod.HEADERS[c][0] for c in counted_mod.HEADERS]
    assert header[:4] == ["trajectory_id", "client_id", "instelling", "zorgsoort"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:M{len(frame) + 1}"
    assert ws.max_row == len(frame) + 1
    first = [c.value for c in ws[2]]
    assert first[0] == "=HYPERLINK(\"x\")" and ws["A2"].data_type == "s"
    col = {h: i for i, h in enumerate(header)}
    body = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[col["geteld"]] for r in body] == ["ja" if c else "nee" for c in frame["counted"]]
    k2 = next(r for r in body if r[0] == "K2" and r[col["indicator"]] == "jbjr_verloop")
    assert (k2[col["periode"]], k2[col["uitkomst"]], k2[col["eenheid"]]) == ("2022", 1, "episode")
    notes = " ".join(str(v) for row in wb["Toelichting"].iter_rows(values_only=True) for v in row if v)
    assert "recordniveau" in notes and "Deel het niet" in notes and "31-12-2024" in notes
    assert "geteld met traject" in notes


def test_xlsx_continues_on_a_next_sheet_when_one_is_full(jbjr, tmp_path, monkeypatch):
    monkeypatch.setattr(counted_mod, "_EXCEL_MAX_ROWS", 20)  # as if a sheet held 20 rows
    out = write_xlsx(jbjr, tmp_path / "geteld.xlsx", reference_date=REF)
    wb = openpyxl.load_workbook(out)
    sheets = [f"Tellingen {k}" if k > 1 else "Tellingen" for k in range(1, -(-len(jbjr) // 20) + 1)]
    assert wb.sheetnames == sheets + ["Toelichting"]
    body = []
    for name in sheets:
        rows = list(wb[name].iter_rows(values_only=True))
        assert rows[0][0] == "trajectory_id" and wb[name].freeze_panes == "A2"
        body += rows[1:]
    assert [r[0] for r in body] == jbjr["trajectory_id"].tolist()


def test_xlsx_in_english(jbjr, tmp_path):
    english = records_quietly(toy_dataset([traj("T1", "C1", "jr", "stp", "2023-01-01", "2023-06-01", "volgens_plan")],
                                          reference_date=REF), lang="en")
    out = write_xlsx(english, tmp_path / "counted.xlsx", lang="en", reference_date=REF)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Counts", "Explanation"]
    assert [c.value for c in wb["Counts"][1]][2:4] == ["institution", "care type"]
    assert {r[8] for r in wb["Counts"].iter_rows(min_row=2, values_only=True)} <= {"yes", "no"}


def test_docstring_examples():
    assert doctest.testmod(counted_mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE).failed == 0
