"""Results per gemeente and per jeugdregio (outcome_analysis.running.units) and the disclosure control
coordinated across the gemeenten of a jeugdregio (resuppress ``regions=``).

Toy mapping (written in tmp_path): region Noord = Aadorp (GM0001, merged into Beedorp GM0002 on
2019-01-01), Beedorp, Ceestad (GM0003); region Zuid = Deedorp (GM0004), Eestad (GM0005), Splitsdorp
(GM0006, split over GM0004 and GM0005 on 2020-01-01); region West = Eenling (GM0007) alone.
Expected figures are hand counts on the records built in each test.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis.contract.mapping import read_mapping
from outcome_analysis.indicators import episodes
from outcome_analysis.indicators.suppression import resuppress
from outcome_analysis.running.units import (PROVIDER, UNKNOWN, UnitError, compute_unit_results, coordinate,
                                            regions_of_units, unit_dataset, unit_problems)
from outcome_analysis.settings import DEFAULT
from toydata import toy_dataset
from toydata import trajectory as T

GEMEENTEN = """municipality,name,region,region_code,valid_from,valid_to,source,as_of
GM0001,Aadorp,Noord,RN,,2018-12-31,Toy-indeling,2024-01-01
GM0002,Beedorp,Noord,RN,,,,
GM0003,Ceestad,Noord,RN,,,,
GM0004,Deedorp,Zuid,RZ,,,,
GM0005,Eestad,Zuid,RZ,,,,
GM0006,Splitsdorp,Zuid,RZ,,2019-12-31,,
GM0007,Eenling,West,RW,,,,
"""
REORGANISATIONS = """old_code,new_code,from_date
GM0001,GM0002,2019-01-01
GM0006,GM0004,2020-01-01
GM0006,GM0005,2020-01-01
"""
REF = "2025-12-31"


@pytest.fixture
def mapping(tmp_path):
    (tmp_path / "toy.csv").write_text(GEMEENTEN, encoding="utf-8")
    (tmp_path / "toy.reorganisations.csv").write_text(REORGANISATIONS, encoding="utf-8")
    return read_mapping(tmp_path / "toy.csv")


def ended(tid, client, inst, municipality, reason="volgens_plan", end="2024-06-30"):
    """An ambulant jeugdhulp trajectory ended in 2024 (reason as given)."""
    return T(tid, client, inst, "jeugdhulp", "ambulant", "2024-01-01", end, reason, municipality=municipality)


# --------------------------------------------------------------------------------------------------
# placing records in a gemeente
# --------------------------------------------------------------------------------------------------


def test_records_are_placed_in_the_gemeente_in_force_at_the_period_end(mapping):
    data = toy_dataset([
        ended("t1", "k1", "P", "GM0001"),   # dissolved: counted in its successor Beedorp
        ended("t2", "k2", "Q", "GM0002"),
        ended("t3", "k3", "P", "GM0006"),   # split without a new code: a problem, gemeente onbekend
        ended("t4", "k4", "P", "GM9999"),   # not in the mapping: a problem, gemeente onbekend
        ended("t5", "k5", "Q", None),       # no gemeente: gemeente onbekend, no problem
        ended("t6", "k6", "Q", " GM0007 "),  # spaces ignored
    ], reference_date=REF)
    units = unit_dataset(data, mapping, "municipality", period="2024")
    t = units.trajectories
    assert t["institution"].tolist() == ["Beedorp (GM0002)", "Beedorp (GM0002)", "gemeente onbekend",
                                         "gemeente onbekend", "gemeente onbekend", "Eenling (GM0007)"]
    assert t[PROVIDER].tolist() == ["P", "Q", "P", "P", "Q", "Q"]
    assert t["unit_code"].tolist()[:2] == ["GM0002", "GM0002"] and pd.isna(t["unit_code"].iloc[2])
    facts = units.meta["units"]
    assert (facts["n_unknown"], facts["n_unplaced"], facts["on"]) == (3, 2, "2024-12-31")
    problems = facts["problems"]
    assert [(p.kind, p.value, p.trajectory_id, p.file) for p in problems] == [
        ("record_code_split", "GM0006", "t3", "trajectories"), ("record_code_unknown", "GM9999", "t4", "trajectories")]
    assert "GM0004" in dict(problems[0].params)["new_codes"]
    # the input is left as it was
    assert data.trajectories["institution"].tolist() == ["P", "Q", "P", "P", "Q", "Q"]


def _delivered(folder, name, rows, fmt="csv", blank_after=None):
    """``rows`` written as ``<name>.csv`` (or .xlsx) in ``folder``; with ``blank_after`` (a record's
    position) an empty line after that record in the CSV file."""
    from outcome_analysis.contract import io

    (file,) = io.write(toy_dataset(rows, reference_date=REF), folder / name, fmt)
    target = folder / f"{name}{file.suffix}"
    file.rename(target)
    (folder / name).rmdir()
    if blank_after is not None:
        lines = target.read_text(encoding="utf-8").splitlines()
        lines.insert(blank_after + 2, "")
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def test_an_unplaceable_code_names_the_file_row_and_value_it_was_read_from(mapping, tmp_path):
    """A delivery of two files, read by the loader: each problem names the file and row of the record
    (after an empty line; a record replaced by the later delivery has the later file's row), the
    column and the value; the batch's listing names them too, also from the stored results."""
    from outcome_analysis.contract import io
    from outcome_analysis.running.batch.units import unplaced_message
    from outcome_analysis.running.results import Results

    folder = tmp_path / "delivery"
    folder.mkdir()
    _delivered(folder, "trajectories_2024a", [
        ended("t1", "k1", "P", "GM0002"),
        ended("t2", "k2", "P", "GM0003"),
        ended("t3", "k3", "P", "GM0005"),  # replaced below by a record with a split code
        ended("t4", "k4", "P", "GM9999"),  # row 6: after the empty line (row 4)
    ], blank_after=1)
    _delivered(folder, "trajectories_2024b", [
        ended("t5", "k5", "Q", "GM0004", end="2024-09-30"),
        ended("t3", "k3", "P", "GM0006", end="2024-09-30"),  # row 3 of the later delivery
        ended("t6", "k6", "Q", "GM9999", end="2024-09-30"),
    ], fmt="xlsx")
    data = io.load(folder)
    units = unit_dataset(data, mapping, "municipality", period="2024")
    got = sorted((p.file, p.row, p.column, p.value, p.kind, p.trajectory_id) for p in units.meta["units"]["problems"])
    assert got == [
        ("trajectories_2024a.csv", 6, "municipality", "GM9999", "record_code_unknown", "t4"),
        ("trajectories_2024b.xlsx", 3, "municipality", "GM0006", "record_code_split", "t3"),
        ("trajectories_2024b.xlsx", 4, "municipality", "GM9999", "record_code_unknown", "t6"),
    ]
    assert units.origin is data.origin
    # what the batch prints, from the results as the cache stores them
    settings = DEFAULT.replace(min_denominator=3, min_cell=1, min_count=1)
    stored = Results.load(compute_unit_results(data, mapping, "municipality", settings, period="2024")
                          .save(tmp_path / "store"))
    assert sorted((p.file, p.row, p.value) for p in unit_problems(stored)) == [g[:2] + (g[3],) for g in got]
    message = unplaced_message(stored, "2024")
    assert "trajectories_2024a.csv, row 6, column 'municipality': value 'GM9999' (1 record(s), trajectory_id t4)" in message
    assert "trajectories_2024b.xlsx, row 3, column 'municipality': value 'GM0006' (1 record(s), trajectory_id t3)" in message
    assert "trajectories_2024b.xlsx, row 4, column 'municipality': value 'GM9999'" in message
    assert message.startswith("period 2024: 3 record(s) with a gemeente code the mapping cannot place")


def test_the_listing_names_every_row_of_a_code_on_many_records(mapping):
    """One line per file and value, with the rows (the first ten, then ...) and the first trajectory ids."""
    from types import SimpleNamespace

    from outcome_analysis.running.batch.units import unplaced_message

    data = toy_dataset([ended(f"t{i}", f"k{i}", "P", "GM9999") for i in range(12)], reference_date=REF)
    data.origin = pd.DataFrame({"file": pd.Categorical(["d.csv"] * 12), "row": np.arange(12) * 2 + 2},
                               index=pd.Index([f"t{i}" for i in range(12)], name="trajectory_id"))
    problems = unit_dataset(data, mapping, "municipality", period="2024").meta["units"]["problems"]
    assert [p.row for p in problems] == list(range(2, 26, 2))
    from outcome_analysis.running.units import _problem_record

    results = SimpleNamespace(meta={"units": {"problems": [_problem_record(p) for p in problems], "n_unknown": 12,
                                              "unknown": UNKNOWN["municipality"]}})
    lines = unplaced_message(results, "2024").splitlines()
    assert lines[1] == ("  d.csv, rows 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, ..., column 'municipality': value 'GM9999' "
                        "(12 record(s), trajectory_id t0, t1, t2 ...): " + problems[0].expected)
    assert len(lines) == 2


def test_a_period_before_the_merger_keeps_the_dissolved_gemeente(mapping):
    data = toy_dataset([ended("t1", "k1", "P", "GM0001", end="2018-06-30")], reference_date=REF)
    units = unit_dataset(data, mapping, "municipality", period="2018")
    assert units.trajectories["institution"].tolist() == ["Aadorp (GM0001)"]
    assert unit_dataset(data, mapping, "region", period="2018").trajectories["institution"].tolist() == ["Noord"]


def test_region_units_and_unknown_region(mapping):
    data = toy_dataset([ended("t1", "k1", "P", "GM0001"), ended("t2", "k2", "P", "GM0005"),
                        ended("t3", "k3", "P", None)], reference_date=REF)
    units = unit_dataset(data, mapping, "region", period="2024")
    assert units.trajectories["institution"].tolist() == ["Noord", "Zuid", UNKNOWN["region"]]
    assert units.trajectories["unit_code"].tolist()[:2] == ["RN", "RZ"]


def test_unknown_unit_kind_and_missing_column_are_errors(mapping):
    data = toy_dataset([ended("t1", "k1", "P", "GM0002")], reference_date=REF)
    with pytest.raises(UnitError):
        unit_dataset(data, mapping, "province", period="2024")
    data.trajectories = data.trajectories.drop(columns="municipality")
    with pytest.raises(UnitError, match="municipality"):
        unit_dataset(data, mapping, "municipality", period="2024")


# --------------------------------------------------------------------------------------------------
# per-unit figures
# --------------------------------------------------------------------------------------------------


def _uitval_data():
    """Uitval (voortijdig_client / voortijdig_aanbieder) per gemeente, by hand:
    Beedorp (GM0001 x6 + GM0002 x6, providers P and Q): 4 uitval of 12;
    Ceestad: 2 of 11; Deedorp: 1 of 12; Eestad: 6 of 12; Eenling: 3 of 12;
    gemeente onbekend (no code x2, split code x1): 1 of 3."""
    rows, n = [], 0

    def add(count, code, inst, uitval):
        nonlocal n
        for i in range(count):
            n += 1
            reason = "voortijdig_client" if i < uitval else "volgens_plan"
            rows.append(ended(f"t{n}", f"k{n}", inst, code, reason))

    add(6, "GM0001", "P", 3)
    add(6, "GM0002", "Q", 1)
    add(11, "GM0003", "P", 2)
    add(12, "GM0004", "Q", 1)
    add(12, "GM0005", "P", 6)
    add(12, "GM0007", "Q", 3)
    add(2, None, "P", 1)
    add(1, "GM0006", "Q", 0)
    return toy_dataset(rows, reference_date=REF)


def _headline(results, unit, indicator="jh_uitval", period="2024"):
    t = results.indicators
    hit = t[(t["indicator"] == indicator) & (t["institution"] == unit) & (t["period"] == period)
            & (t["category"] == "") & (t["care_type"] == "jeugdhulp")]
    assert len(hit) == 1, unit
    return hit.iloc[0]


def test_per_unit_figures_equal_hand_counts(mapping, tmp_path):
    settings = DEFAULT.replace(min_denominator=3, min_cell=1, min_count=1)
    results = compute_unit_results(_uitval_data(), mapping, "municipality", settings, period="2024")
    expected = {"Beedorp (GM0002)": (4, 12), "Ceestad (GM0003)": (2, 11), "Deedorp (GM0004)": (1, 12),
                "Eestad (GM0005)": (6, 12), "Eenling (GM0007)": (3, 12), "gemeente onbekend": (1, 3)}
    for unit, (num, den) in expected.items():
        r = _headline(results, unit)
        assert (float(r["numerator"]), int(r["denominator"])) == (num, den), unit
    national = _headline(results, "")
    assert (float(national["numerator"]), int(national["denominator"])) == (17, 62)
    assert results.meta["unit_kind"] == "municipality"
    assert sorted(results.meta["institutions"]) == sorted(expected)
    facts = results.meta["units"]
    assert facts["providers"]["Beedorp (GM0002)"] == ["P", "Q"]
    assert facts["regions"]["Eenling (GM0007)"] == "West"
    assert facts["codes"]["Beedorp (GM0002)"] == "GM0002"
    assert [p.kind for p in unit_problems(results)] == ["record_code_split"]
    assert set(results.comparisons["unit_kind"]) == {"municipality"}
    assert set(results.comparisons["unit"]) <= set(expected)
    assert len(results.comparisons)
    # the facts survive the store (JSON), problems included
    from outcome_analysis.running.results import Results
    stored = Results.load(results.save(tmp_path / "store"))
    assert stored.meta["units"]["providers"] == facts["providers"]
    assert [(p.kind, p.value, p.trajectory_id) for p in unit_problems(stored)] == [("record_code_split", "GM0006", "t62")]


def test_region_results_pool_their_gemeenten(mapping):
    settings = DEFAULT.replace(min_denominator=3, min_cell=1, min_count=1)
    results = compute_unit_results(_uitval_data(), mapping, "region", settings, period="2024")
    for unit, (num, den) in {"Noord": (6, 23), "Zuid": (7, 24), "West": (3, 12), "regio onbekend": (1, 3)}.items():
        r = _headline(results, unit)
        assert (float(r["numerator"]), int(r["denominator"])) == (num, den), unit
    assert results.meta["unit_kind"] == "region"
    assert set(results.comparisons["unit_kind"]) == {"region"}
    # the gemeenten in force at the period's end (Aadorp was dissolved in 2019)
    assert sorted(results.meta["units"]["regions"]["Noord"]) == ["Beedorp (GM0002)", "Ceestad (GM0003)"]


# --------------------------------------------------------------------------------------------------
# episodes: chained per youth before the unit is assigned
# --------------------------------------------------------------------------------------------------


def _jb_youths():
    """k1: vOTS at GI1 (Beedorp), OTS at GI2 after a move to Eestad, chained (one episode, a GI
    transfer), ended 2024; k2: OTS at GI1 in Ceestad then at GI2 in Ceestad (a GI transfer within one
    gemeente), ended 2024; k3: OTS at GI1 that moves from Deedorp to Eestad within GI1 (no transfer)."""
    def jb(tid, client, inst, form, start, end, reason, code):
        return T(tid, client, inst, "jb", form, start, end, reason, municipality=code)
    return toy_dataset([
        jb("a", "k1", "GI1", "vots", "2023-01-01", "2023-03-01", "volgens_plan", "GM0002"),
        jb("b", "k1", "GI2", "ots", "2023-03-02", "2024-05-31", "niet_verlengd", "GM0005"),
        jb("c", "k2", "GI1", "ots", "2023-01-01", "2023-12-31", "volgens_plan", "GM0003"),
        jb("d", "k2", "GI2", "ots", "2024-01-01", "2024-08-31", "niet_verlengd", "GM0003"),
        jb("e", "k3", "GI1", "ots", "2023-01-01", "2023-12-31", "volgens_plan", "GM0004"),
        jb("f", "k3", "GI1", "ots", "2024-01-01", "2024-09-30", "niet_verlengd", "GM0005"),
    ], reference_date=REF)


def test_episodes_are_chained_per_youth_as_before(mapping):
    data = _jb_youths()
    units = unit_dataset(data, mapping, "municipality", period="2024")
    before, after = episodes.chain(data.trajectories), episodes.chain(units.trajectories)
    # the same episodes: one per youth, the same first and last record
    assert before.record_episode.tolist() == after.record_episode.tolist() == [0, 0, 1, 1, 2, 2]
    keys = ["client_id", "first_trajectory_id", "trajectory_id", "n_records", "vots_ots"]
    assert before.episodes[keys].values.tolist() == after.episodes[keys].values.tolist()
    # each episode counted in the gemeente of its counted (last-ending) record
    assert after.episodes["institution"].tolist() == ["Eestad (GM0005)", "Ceestad (GM0003)", "Eestad (GM0005)"]
    # and in the indicator table: three ended episodes, one per gemeente of its last record
    settings = DEFAULT.replace(min_denominator=1, min_cell=1, min_count=1)
    results = compute_unit_results(data, mapping, "municipality", settings, period="2024")
    t = results.indicators
    head = t[(t["indicator"] == "jbjr_verloop") & (t["category"] == "") & (t["period"] == "2024")
             & (t["scope"] == "institution")]
    assert dict(zip(head["institution"], head["denominator"].astype(int))) == {"Eestad (GM0005)": 2,
                                                                               "Ceestad (GM0003)": 1}
    national = t[(t["indicator"] == "jbjr_verloop") & (t["category"] == "") & (t["period"] == "2024")
                 & (t["scope"] == "national")]
    assert national["denominator"].astype(int).tolist() == [3]


def test_a_transfer_between_gis_stays_a_transfer(mapping):
    data = _jb_youths()
    units = unit_dataset(data, mapping, "municipality", period="2024")
    before, after = episodes.chain(data.trajectories), episodes.chain(units.trajectories)
    # k1 and k2 moved to another GI; k3 stayed at GI1 (it moved house, not GI)
    assert before.episodes["transfer_gi"].tolist() == [True, True, False]
    assert after.episodes["transfer_gi"].tolist() == before.episodes["transfer_gi"].tolist()


# --------------------------------------------------------------------------------------------------
# disclosure coordinated across the gemeenten of a region
# --------------------------------------------------------------------------------------------------


def _share_table(denominators, period="2024"):
    """Institution rows of one share (numerator: half the records, rounded down)."""
    names = list(denominators)
    den = np.array([denominators[n] for n in names])
    return pd.DataFrame({
        "indicator": "jh_uitval", "scope": "institution", "institution": names, "period": period,
        "care_type": "jeugdhulp", "category": "", "numerator": (den // 2).astype(float), "denominator": den,
        "window_months": pd.array([pd.NA] * len(names), dtype="Int64"), "suppressed": False})


SETTINGS = DEFAULT.replace(min_denominator=5, min_cell=1, min_count=1)
REGIONS = {"A": "R1", "B": "R1", "C": "R1", "D": "R2", "E": "R2", "F": "R2", "G": "R3"}


def _hidden(table):
    return sorted(table.loc[table["suppressed"], "institution"])


def test_one_hidden_gemeente_in_a_region_hides_the_next_smallest():
    t = _share_table({"A": 3, "B": 20, "C": 30, "D": 25, "E": 40})
    assert _hidden(resuppress(t, SETTINGS)) == ["A"]  # without regions: no pooled row, nothing more
    assert _hidden(resuppress(t, SETTINGS, regions=REGIONS)) == ["A", "B"]  # R2 has none hidden: untouched


def test_regions_are_coordinated_independently():
    t = _share_table({"A": 3, "B": 20, "C": 30, "D": 25, "E": 40, "F": 2, "G": 4, "X": 1})
    # R1: A hidden -> B; R2: F hidden -> D (its smallest visible); R3 is G alone: nothing to add;
    # X is in no region (gemeente onbekend): nothing to add
    assert _hidden(resuppress(t, SETTINGS, regions=REGIONS)) == ["A", "B", "D", "F", "G", "X"]
    # two hidden in a region already: nothing more
    t2 = _share_table({"A": 3, "B": 4, "C": 30, "D": 25, "E": 40})
    assert _hidden(resuppress(t2, SETTINGS, regions=REGIONS)) == ["A", "B"]


def test_region_coordination_runs_per_figure_and_period():
    t = pd.concat([_share_table({"A": 3, "B": 20, "C": 30}), _share_table({"A": 8, "B": 20, "C": 6}, "2023")],
                  ignore_index=True)
    out = resuppress(t, SETTINGS, regions=REGIONS)
    assert sorted(zip(out.loc[out["suppressed"], "period"], out.loc[out["suppressed"], "institution"])) == [
        ("2024", "A"), ("2024", "B")]


def test_distribution_cells_are_coordinated_within_a_region():
    # pi03 end-reason cells per gemeente: A's 'voortijdig_client' cell (2) is below min_count 3
    rows = []
    for inst, cells in {"A": (2, 9), "B": (6, 8), "C": (7, 9), "D": (4, 9), "E": (5, 9)}.items():
        for cat, n in zip(("end_reason:voortijdig_client", "end_reason:volgens_plan"), cells):
            rows.append({"indicator": "pi03_reden_beeindiging_hulp", "scope": "institution", "institution": inst,
                         "period": "2024", "care_type": "jeugdhulp", "category": cat, "numerator": float(n),
                         "denominator": sum(cells), "suppressed": False})
    t = pd.DataFrame(rows).assign(window_months=pd.array([pd.NA] * len(rows), dtype="Int64"))
    settings = DEFAULT.replace(min_denominator=1, min_cell=1, min_count=3)
    plain = resuppress(t, settings)
    coordinated = resuppress(t, settings, regions=REGIONS)
    hidden = lambda out: sorted(zip(out.loc[out["suppressed"], "institution"], out.loc[out["suppressed"], "category"]))  # noqa: E731
    both = lambda *insts: sorted((i, c) for i in insts  # noqa: E731
                                 for c in ("end_reason:voortijdig_client", "end_reason:volgens_plan"))
    # without regions: A's small cell, its row complement (A's other cell), the column complements
    # among all gemeenten (D's 4 for 'voortijdig_client', B's 8 for 'volgens_plan') and their rows
    assert hidden(plain) == both("A", "B", "D")
    # with regions: R1 already has two hidden gemeenten (A, B); in R2 only D is hidden, so R2's
    # 'voortijdig_client' column (D + E = Zuid's cell) needs E hidden too, and then E's other cell
    assert hidden(coordinated) == both("A", "B", "D", "E")
    # C (R1) stays: R1's columns have two hidden cells each
    assert ("C", "end_reason:volgens_plan") not in hidden(coordinated)


def test_gemeente_results_are_coordinated_across_the_region(mapping):
    # jh_uitval per gemeente: Ceestad has 3 ended trajectories (hidden), so in Noord the next smallest,
    # Beedorp (12), is hidden too; Zuid has no hidden gemeente
    rows, n = [], 0
    for code, count in {"GM0002": 12, "GM0003": 3, "GM0004": 20, "GM0005": 25, "GM0007": 30}.items():
        for i in range(count):
            n += 1
            rows.append(ended(f"t{n}", f"k{n}", "P", code, "voortijdig_client" if i % 3 == 0 else "volgens_plan"))
    data = toy_dataset(rows, reference_date=REF)
    settings = DEFAULT.replace(min_denominator=5, min_cell=1, min_count=1)
    results = compute_unit_results(data, mapping, "municipality", settings, period="2024")
    assert bool(_headline(results, "Ceestad (GM0003)")["suppressed"])
    assert bool(_headline(results, "Beedorp (GM0002)")["suppressed"])
    assert not bool(_headline(results, "Deedorp (GM0004)")["suppressed"])
    assert not bool(_headline(results, "Eestad (GM0005)")["suppressed"])
    # the statuses and verdicts read the coordinated marks
    st = results.status
    beedorp = st[(st["indicator"] == "jh_uitval") & (st["institution"] == "Beedorp (GM0002)")
                 & (st["care_type"] == "jeugdhulp")]
    assert beedorp["status"].tolist() == ["verborgen"]
    c = results.comparisons
    raw = c[(c["unit"] == "Beedorp (GM0002)") & (c["indicator"] == "jh_uitval") & (c["basis"] == "raw_reference")]
    assert raw["text_key"].tolist() == ["suppressed"]
    assert regions_of_units(mapping, period="2024")["Beedorp (GM0002)"] == "Noord"


def test_a_region_of_one_gemeente_hides_what_its_gemeente_hides(mapping):
    # gemeente onbekend (2) is hidden in both stores. Gemeente store: the pooled figure minus the
    # others would give it back, so the smallest gemeente, Beedorp (6), is hidden, and then Noord's
    # next smallest, Ceestad; Eenling (10) stays. Region store: the smallest region, West (10 =
    # Eenling), is hidden. West's figure is Eenling's: shown in one store and hidden in the other
    # would give 'regio onbekend' back (national minus Noord, Zuid and West), so Eenling is hidden too.
    # (Only jh_uitval has figures here: every other indicator is empty for these records.)
    rows, n = [], 0
    for code, count in {None: 2, "GM0002": 6, "GM0003": 7, "GM0004": 20, "GM0005": 20, "GM0007": 10}.items():
        for i in range(count):
            n += 1
            rows.append(ended(f"t{n}", f"k{n}", "P", code, "voortijdig_client" if i % 2 == 0 else "volgens_plan"))
    data = toy_dataset(rows, reference_date=REF)
    settings = DEFAULT.replace(min_denominator=5, min_cell=1, min_count=1)
    gemeenten = compute_unit_results(data, mapping, "municipality", settings, period="2024")
    regions = compute_unit_results(data, mapping, "region", settings, period="2024")

    def hidden(results):
        t = results.indicators
        t = t[(t["indicator"] == "jh_uitval") & (t["period"] == "2024") & (t["category"] == "")
              & (t["scope"] == "institution") & (t["care_type"] == "jeugdhulp")]
        return sorted(t.loc[t["suppressed"].astype(bool), "institution"])

    assert hidden(gemeenten) == ["Beedorp (GM0002)", "Ceestad (GM0003)", "gemeente onbekend"]
    assert hidden(regions) == ["West", "regio onbekend"]
    assert coordinate(gemeenten, regions, mapping, settings) >= 1

    def marks(results, unit):
        t = results.indicators
        t = t[t["institution"] == unit]
        keys = zip(t["indicator"], t["period"], t["care_type"], t["category"], t["window_months"].astype(str))
        return dict(zip(keys, t["suppressed"].astype(bool)))

    # every figure of Eenling is hidden exactly where West's is (uitval, its end-reason cells, ...)
    assert marks(gemeenten, "Eenling (GM0007)") == marks(regions, "West")
    # Eenling hidden with gemeente onbekend: two hidden gemeenten settle the pooled figure, so the
    # complements Beedorp and Ceestad are no longer needed (Noord = Beedorp + Ceestad is shown anyway)
    assert hidden(gemeenten) == ["Eenling (GM0007)", "gemeente onbekend"]
    assert hidden(regions) == ["West", "regio onbekend"]
    st = gemeenten.status
    assert st.loc[(st["indicator"] == "jh_uitval") & (st["institution"] == "Eenling (GM0007)")
                  & (st["care_type"] == "jeugdhulp"), "status"].tolist() == ["verborgen"]
    assert coordinate(gemeenten, regions, mapping, settings) == 0  # a fixed point
    with pytest.raises(UnitError):
        coordinate(regions, gemeenten, mapping, settings)
