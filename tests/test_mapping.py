"""The gemeente → jeugdregio mapping (``outcome_analysis.contract.mapping``): reading and checking the
two tables, the gemeenten in force on a date, and resolving the gemeente codes of records.

Every expected value is hand-counted from the toy files written in the test itself; rows are
spreadsheet rows (the header is row 1).
"""
from __future__ import annotations

import string

import pandas as pd
import pytest

from outcome_analysis.contract import demo
from outcome_analysis.contract.mapping import (
    DEMO_MAPPING,
    PROBLEM_TEXTS,
    MappingError,
    check_mapping,
    period_end,
    problem_message,
    read_mapping,
)
from outcome_analysis.errors import DataValidationError

# GM0001 and GM0004 dissolve into GM0002 on 2019-01-01; GM0002 into GM0003 on 2021-01-01 (a chain);
# GM0005 splits into GM0003 and GM0006 on 2020-01-01. GM0006 moves from Regio Zuid to Regio West on 2022-01-01.
GEMEENTEN = """\
municipality,name,region,region_code,valid_from,valid_to,source,as_of
GM0001,Oudedorp,Regio Noord,RN,,2018-12-31,Toy-indeling,2024-01-01
GM0002,Middendorp,Regio Noord,RN,,2020-12-31,,
GM0003,Nieuwstad,Regio Zuid,RZ,,,,
GM0005,Splitsdorp,Regio Zuid,RZ,,2019-12-31,,
GM0006,Westdorp,Regio Zuid,RZ,2020-01-01,2021-12-31,,
GM0006,Westdorp,Regio West,RW,2022-01-01,,,
"""
REORGANISATIONS = """\
old_code,new_code,from_date
GM0001,GM0002,2019-01-01
GM0004,GM0002,2019-01-01
GM0002,GM0003,2021-01-01
GM0005,GM0003,2020-01-01
GM0005,GM0006,2020-01-01
"""


def write(tmp_path, gemeenten: str = GEMEENTEN, reorganisations: str | None = REORGANISATIONS, name: str = "toy.csv"):
    path = tmp_path / name
    path.write_text(gemeenten, encoding="utf-8")
    if reorganisations is not None:
        (tmp_path / f"{path.stem}.reorganisations.csv").write_text(reorganisations, encoding="utf-8")
    return path


def problems_of(path):
    """``(file, row, column, value, kind)`` of each problem ``read_mapping`` raises, in order."""
    with pytest.raises(DataValidationError) as caught:
        read_mapping(path)
    return [(p.file, p.row, p.column, p.value, p.kind) for p in caught.value.problems]


@pytest.fixture
def toy(tmp_path):
    return read_mapping(write(tmp_path))


# ---------------------------------------------------------------------------
# resolving the codes of records
# ---------------------------------------------------------------------------


def test_a_dissolved_code_is_counted_in_its_successor_and_a_chain_is_followed(toy):
    codes, problems = toy.resolve(["GM0001", "GM0004", "GM0002", "GM0003"], "2020-12-31", file="trajectories.csv")
    assert codes.tolist() == ["GM0002", "GM0002", "GM0002", "GM0003"]
    assert problems == []
    # a year later GM0002 is dissolved too: GM0001 -> GM0002 -> GM0003
    codes, problems = toy.resolve(["GM0001", "GM0004", "GM0002"], "2021-12-31", file="trajectories.csv")
    assert codes.tolist() == ["GM0003", "GM0003", "GM0003"]
    assert problems == []
    # before its dissolution a code stays itself
    assert toy.resolve(["GM0001"], "2018-12-31", file="t.csv").codes.tolist() == ["GM0001"]
    assert toy.successor("GM0001", "2021-01-01") == "GM0003"


def test_a_split_code_without_a_new_code_is_a_problem_naming_file_row_and_value(toy):
    codes, problems = toy.resolve(pd.Series(["GM0003", "GM0005", " GM0005"], index=[10, 11, 12]), "2024-12-31",
                                  file="trajectories.csv", rows=[2, 3, 4], trajectory_ids=["T1", "T2", "T3"])
    assert codes.index.tolist() == [10, 11, 12]
    assert codes.isna().tolist() == [False, True, True] and codes[10] == "GM0003"
    assert [(p.file, p.row, p.column, p.value, p.kind, p.trajectory_id) for p in problems] == [
        ("trajectories.csv", 3, "municipality", "GM0005", "record_code_split", "T2"),
        ("trajectories.csv", 4, "municipality", " GM0005", "record_code_split", "T3"),
    ]
    assert "GM0003, GM0006" in problems[0].expected and "2020-01-01" in problems[0].expected
    assert "gesplitst in GM0003, GM0006" in problem_message(problems[0], "nl")
    # before the split the code is in force and needs nothing
    codes, problems = toy.resolve(["GM0005"], "2019-12-31", file="t.csv")
    assert codes.tolist() == ["GM0005"] and problems == []


def test_a_code_not_in_the_mapping_is_a_problem_and_a_missing_code_is_not(toy):
    codes, problems = toy.resolve(["GM0003", "GM9999", "344", None, "", "GM0003"], "2024-12-31",
                                  file="trajectories.csv", rows=[2, 3, 4, 5, 6, 7])
    assert codes.isna().tolist() == [False, True, True, True, True, False]
    assert [(p.row, p.value, p.kind) for p in problems] == [
        (3, "GM9999", "record_code_unknown"),
        (4, "344", "record_code_format"),
    ]
    assert "toy.csv" in problems[0].expected  # names the mapping used
    with pytest.raises(ValueError, match="rows has 1 values for 2 codes"):
        toy.resolve(["GM0003", "GM0003"], "2024-12-31", file="t.csv", rows=[2])


def test_a_code_not_yet_in_force_is_a_problem(toy):
    # GM0006 starts on 2020-01-01
    codes, problems = toy.resolve(["GM0006"], "2019-06-30", file="t.csv", rows=[2])
    assert codes.isna().all()
    assert [(p.row, p.value, p.kind, dict(p.params)["on"]) for p in problems] == [(2, "GM0006", "record_code_not_in_force", "2019-06-30")]


def test_lookups_of_one_code(toy):
    assert toy.region_of("GM0006", "2021-12-31") == "Regio Zuid"
    assert toy.region_of("GM0006", "2022-01-01") == "Regio West"
    assert toy.region_of("GM0001", "2024-12-31") == "Regio Zuid"  # via GM0002 to GM0003
    assert toy.label("GM0003") == "Nieuwstad (GM0003)"
    assert toy.name_of("GM0001") == "Oudedorp"
    with pytest.raises(MappingError, match="GM0005"):
        toy.region_of("GM0005", "2024-12-31")  # split
    with pytest.raises(MappingError, match="GM0009"):
        toy.name_of("GM0009")
    assert toy.municipalities_of("RZ", "2024-12-31") == ["GM0003"]
    assert toy.describe("nl") == "Toy-indeling (stand 2024-01-01)"
    assert toy.describe("en") == "Toy-indeling (as of 2024-01-01)"


# ---------------------------------------------------------------------------
# the gemeenten in force
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "on, expected",
    [
        ("2018-12-31", ["GM0001", "GM0002", "GM0003", "GM0005"]),
        ("2019-01-01", ["GM0002", "GM0003", "GM0005"]),
        ("2020-06-30", ["GM0002", "GM0003", "GM0006"]),
        ("2024-12-31", ["GM0003", "GM0006"]),
    ],
    ids=["before-merger", "merger-day", "after-split", "now"],
)
def test_in_force_follows_the_validity_dates(toy, on, expected):
    frame = toy.in_force(on)
    assert frame["municipality"].tolist() == expected
    assert list(frame.columns) == ["municipality", "name", "region", "region_code"]


def test_in_force_for_a_period_takes_its_last_day(toy):
    assert period_end("2024") == pd.Timestamp("2024-12-31")
    assert period_end("2020-H1") == period_end("2020H1") == pd.Timestamp("2020-06-30")
    assert toy.in_force_for_period("2021-H2").set_index("municipality")["region"].to_dict() == {
        "GM0003": "Regio Zuid", "GM0006": "Regio Zuid"}
    assert toy.in_force_for_period("2022")["region"].tolist() == ["Regio Zuid", "Regio West"]
    regions = toy.regions("2024-12-31")
    assert regions["region"].tolist() == ["Regio West", "Regio Zuid"]
    assert regions["municipalities"].tolist() == [("GM0006",), ("GM0003",)]


# ---------------------------------------------------------------------------
# strict validation
# ---------------------------------------------------------------------------

HEADER = "municipality,name,region,valid_from,valid_to\n"
REORG_HEADER = "old_code,new_code,from_date\n"


@pytest.mark.parametrize(
    "gemeenten, reorganisations, expected",
    [
        pytest.param(HEADER + "GM0001,A,R,,\nGM123,B,R,,\ngm0003,C,R,,\n", None,
                     [("m.csv", 3, "municipality", "GM123", "mapping_code_format"),
                      ("m.csv", 4, "municipality", "gm0003", "mapping_code_format")], id="bad-code"),
        pytest.param(HEADER + "GM0001,A,R,,\nGM0002,B,R,,\nGM0001,A2,R,,\n", None,
                     [("m.csv", 4, "municipality", "GM0001", "mapping_code_repeated")], id="duplicate-code"),
        pytest.param(HEADER + "GM0001,A,R,,2020-12-31\nGM0001,A,S,2020-07-01,\n", None,
                     [("m.csv", 3, "valid_from", "2020-07-01", "mapping_validity_overlap")], id="overlapping-validity"),
        pytest.param(HEADER + "GM0001,A,R,2021-01-01,2020-12-31\n", None,
                     [("m.csv", 2, "valid_to", "2020-12-31", "mapping_validity_reversed")], id="reversed-validity"),
        pytest.param(HEADER + "GM0001,A,R,2023-02-30,\nGM0002,B,R,,31/12/2020\n", None,
                     [("m.csv", 2, "valid_from", "2023-02-30", "mapping_date_invalid"),
                      ("m.csv", 3, "valid_to", "31/12/2020", "mapping_date_invalid")], id="bad-dates"),
        pytest.param(HEADER + "GM0001,,R,,\nGM0002,B,,,\n", None,
                     [("m.csv", 2, "name", None, "mapping_value_missing"),
                      ("m.csv", 3, "region", None, "mapping_value_missing")], id="empty-cells"),
        pytest.param("municipality,name,regio\nGM0001,A,R\n", None,
                     [("m.csv", 1, "region", None, "mapping_column_missing"),
                      ("m.csv", 1, "regio", None, "mapping_column_unknown")], id="columns"),
        pytest.param(HEADER + "GM0001,A,R,,\n", REORG_HEADER + "GM0002,GM0009,2019-01-01\n",
                     [("m.reorganisations.csv", 2, "new_code", "GM0009", "mapping_successor_unknown")],
                     id="successor-unknown"),
        pytest.param(HEADER + "GM0001,A,R,2020-01-01,\n", REORG_HEADER + "GM0002,GM0001,2019-01-01\n",
                     [("m.reorganisations.csv", 2, "new_code", "GM0001", "mapping_successor_not_in_force")],
                     id="successor-not-in-force"),
        pytest.param(HEADER + "GM0001,A,R,,\nGM0002,B,R,,\n", REORG_HEADER + "GM0002,GM0001,2019-01-01\n",
                     [("m.reorganisations.csv", 2, "old_code", "GM0002", "mapping_dissolved_still_in_force")],
                     id="dissolved-still-in-force"),
        pytest.param(HEADER + "GM0001,A,R,,\n", REORG_HEADER + "GM0002,GM0003,2019-01-01\nGM0003,GM0002,2020-01-01\n",
                     [("m.reorganisations.csv", 2, "new_code", "GM0002 → GM0003 → GM0002", "mapping_reorganisation_cycle")],
                     id="cycle"),
        pytest.param(HEADER + "GM0001,A,R,,\n", REORG_HEADER + "GM0002,GM0001,2019-01-01\nGM0002,GM0001,2019-01-01\n",
                     [("m.reorganisations.csv", 3, "new_code", "GM0001", "mapping_reorganisation_repeated")],
                     id="repeated-reorganisation"),
        pytest.param(HEADER + "GM0001,A,R,,\nGM0003,C,R,,\n",
                     REORG_HEADER + "GM0002,GM0001,2019-01-01\nGM0002,GM0003,2020-01-01\n",
                     [("m.reorganisations.csv", 3, "from_date", "2020-01-01", "mapping_from_date_differs")],
                     id="split-with-two-dates"),
        pytest.param(HEADER + "GM0001,A,R,,\n", REORG_HEADER + "GM0002,GM0001,1-1-2019x\nGM02,GM0001,2019-01-01\n",
                     [("m.reorganisations.csv", 3, "old_code", "GM02", "mapping_code_format"),
                      ("m.reorganisations.csv", 2, "from_date", "1-1-2019x", "mapping_date_invalid")],
                     id="reorganisation-bad-code-and-date"),
        pytest.param("municipality,name,region,source\nGM0001,A,R,CBS 2024\nGM0002,B,R,\nGM0003,C,R,CBS 2023\n", None,
                     [("m.csv", 4, "source", "CBS 2023", "mapping_file_value_differs")], id="two-sources"),
    ],
)
def test_each_validation_error_names_file_row_column_and_value(tmp_path, gemeenten, reorganisations, expected):
    assert problems_of(write(tmp_path, gemeenten, reorganisations, name="m.csv")) == expected


def test_a_cycle_is_found_whatever_the_gemeenten_say(tmp_path):
    # with the gemeenten of the cycle listed, the cycle itself is the problem reported (a self-loop too)
    gemeenten = HEADER + "GM0002,B,R,,2018-12-31\nGM0003,C,R,2019-01-01,2019-12-31\nGM0007,G,R,,\n"
    reorganisations = REORG_HEADER + "GM0002,GM0003,2019-01-01\nGM0003,GM0002,2020-01-01\nGM0007,GM0007,2021-01-01\n"
    found = problems_of(write(tmp_path, gemeenten, reorganisations, name="m.csv"))
    cycles = [problem for problem in found if problem[4] == "mapping_reorganisation_cycle"]
    assert cycles == [
        ("m.reorganisations.csv", 2, "new_code", "GM0002 → GM0003 → GM0002", "mapping_reorganisation_cycle"),
        ("m.reorganisations.csv", 4, "new_code", "GM0007 → GM0007", "mapping_reorganisation_cycle"),
    ]


def test_every_problem_kind_has_dutch_and_english_texts_with_the_same_placeholders():
    for kind, templates in PROBLEM_TEXTS.items():
        assert set(templates) == {"nl", "en"}, kind
        fields = [{f[1] for f in string.Formatter().parse(templates[lang]) if f[1]} for lang in ("nl", "en")]
        assert fields[0] == fields[1], kind


def test_problems_render_in_both_languages(tmp_path):
    path = write(tmp_path, HEADER + "GM0001,A,R,,2020-12-31\nGM0001,A,S,2020-07-01,\nGM0002,B,R,2021-01-01,2020-01-01\n",
                 REORG_HEADER + "GM0003,GM0009,2019-01-01\n", name="m.csv")
    mapping, problems = check_mapping(path)
    assert mapping is None and len(problems) == 2
    for problem in problems:
        for lang in ("nl", "en"):
            message = problem_message(problem, lang)
            assert message and "{" not in message
    assert sorted(p.kind for p in problems) == ["mapping_validity_overlap", "mapping_validity_reversed"]
    overlap = next(p for p in problems if p.kind == "mapping_validity_overlap")
    assert problem_message(overlap, "nl") == "geldigheid die niet overlapt met rij 2 van GM0001 (… t/m 2020-12-31)"


def test_unreadable_and_missing_files_are_problems(tmp_path):
    assert problems_of(tmp_path / "none.csv") == [("none.csv", None, None, None, "path_missing")]
    (tmp_path / "empty.csv").write_bytes(b"")
    assert problems_of(tmp_path / "empty.csv") == [("empty.csv", None, None, None, "file_empty")]
    (tmp_path / "header.csv").write_text(HEADER, encoding="utf-8")
    assert problems_of(tmp_path / "header.csv") == [("header.csv", None, None, None, "mapping_no_rows")]
    # a reorganisations file with a header only: no reorganisations
    assert read_mapping(write(tmp_path, HEADER + "GM0001,A,R,,\n", REORG_HEADER, name="one.csv")).reorganisations.empty
    path = write(tmp_path, HEADER + "GM0001,A,R,,\n", REORG_HEADER, name="two.csv")
    (tmp_path / "two.reorganisations.xlsx").write_bytes(b"")
    assert [p[4] for p in problems_of(path)] == ["mapping_reorganisations_ambiguous"]


def test_a_mapping_without_reorganisations_and_in_excel(tmp_path):
    gemeenten = pd.DataFrame({
        "municipality": ["GM0001", "GM0002"], "name": ["A", "B"], "region": ["R", "R"],
        "valid_from": [pd.NaT, pd.Timestamp("2019-01-01")],
    })
    gemeenten.to_excel(tmp_path / "m.xlsx", index=False)
    mapping = read_mapping(tmp_path / "m.xlsx")
    assert mapping.reorganisations.empty and mapping.files == (tmp_path / "m.xlsx",)
    assert mapping.source == "m.xlsx" and mapping.as_of is None
    assert mapping.in_force("2018-12-31")["municipality"].tolist() == ["GM0001"]
    pd.DataFrame({"old_code": ["GM0003"], "new_code": ["GM0002"], "from_date": [pd.Timestamp("2020-01-01")]}).to_excel(
        tmp_path / "m.reorganisations.xlsx", index=False)
    mapping = read_mapping(tmp_path / "m.xlsx")
    assert mapping.resolve(["GM0003"], "2020-01-01", file="t.csv").codes.tolist() == ["GM0002"]
    # an Excel date cell before valid_from: a problem at the sheet's row
    pd.DataFrame({"old_code": ["GM0003"], "new_code": ["GM0002"], "from_date": [pd.Timestamp("2018-01-01")]}).to_excel(
        tmp_path / "m.reorganisations.xlsx", index=False)
    assert problems_of(tmp_path / "m.xlsx") == [
        ("m.reorganisations.xlsx", 2, "new_code", "GM0002", "mapping_successor_not_in_force")]


# ---------------------------------------------------------------------------
# the demo mapping
# ---------------------------------------------------------------------------


def test_the_demo_mapping_reads_cleanly_and_covers_every_demo_code():
    mapping, problems = check_mapping(DEMO_MAPPING)
    assert problems == []
    now = mapping.in_force("2024-12-31").set_index("municipality")
    assert set(demo.MUNICIPALITIES) == set(now.index)
    # each demo region is one jeugdregio, twelve different ones
    regions = [set(now.loc[list(demo.MUNICIPALITIES[demo.MUNICIPALITY_REGION == i]), "region"])
               for i in range(demo.N_REGIONS)]
    assert all(len(r) == 1 for r in regions)
    assert len(set.union(*regions)) == demo.N_REGIONS == 12
    assert mapping.label("GM0344") == "Utrecht (GM0344)"
    assert "demo" in mapping.source.lower() and mapping.as_of == pd.Timestamp("2024-01-01")
    # it holds a merger into one of the demo codes and a split
    reorganisations = mapping.reorganisations
    merged = reorganisations.groupby("old_code")["new_code"].agg(list)
    assert any(len(new) == 1 and new[0] in set(demo.MUNICIPALITIES) for new in merged)
    assert any(len(new) > 1 for new in merged)
    codes, problems = mapping.resolve(["GM0017", "GM0140"], "2024-12-31", file="t.csv", rows=[2, 3])
    assert codes.tolist()[0] == "GM0014" and [(p.row, p.kind) for p in problems] == [(3, "record_code_split")]


def test_the_module_examples_run():
    import doctest

    from outcome_analysis.contract import mapping

    result = doctest.testmod(mapping)
    assert result.attempted >= 5 and result.failed == 0
