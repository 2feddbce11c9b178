"""Deliveries as they really arrive: every report is made, none fails, none is empty.

Ten deliveries cut from the small demo (``tests/subsets.py``): a GI alone, three institutions, JB
only, JR only, jeugdhulp only, each with and without the optional tables (goals, experience). None
is declared national. ``run_reports.py --formats html`` must exit 0 and make every report; the
HTML never shows a traceback or the error page, never an empty section, says which indicators were
not delivered or do not apply, and calls the pooled figure "alle instellingen in deze levering (N)",
or, with one institution, compares with nothing ("landelijk" never appears).

The ten are spread over two files (this one and ``test_subsets_more.py``) so that the two test
workers (``pytest -n 2 --dist loadfile``) share them. Slow: about a minute and a half per file.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from subsets import GI, JH_INSTITUTION, SUBSETS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
#: the subsets whose overview of all institutions is made too (the rest run with --no-national)
WITH_OVERVIEW = {"one-gi-trajectories-only", "three-trajectories-only", "jr-only-trajectories-only"}
ALONE = "er is geen vergelijking met andere instellingen"
ERROR_PAGE = "Dit rapport kon niet worden gemaakt"


def _text(html: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").get_text(" ")


def empty_sections(html: str) -> list[str]:
    """Headings of the report body directly followed by a heading of the same or a higher level:
    a section with nothing in it."""
    from bs4 import BeautifulSoup

    body = BeautifulSoup(html, "html.parser").find("main") or BeautifulSoup(html, "html.parser")
    blocks = [el for el in body.find_all(["h2", "h3", "h4", "p", "table", "img", "ul", "ol"])
              if el.name.startswith("h") or el.get_text(strip=True) or el.name == "img"]
    empty = []
    for here, after in zip(blocks, blocks[1:] + [None]):
        if not here.name.startswith("h"):
            continue
        if after is None or (after.name.startswith("h") and int(after.name[1]) <= int(here.name[1])):
            empty.append(here.get_text(strip=True))
    return empty


@pytest.fixture(scope="module")
def deliveries(small_demo, tmp_path_factory) -> dict[str, Path]:
    """Every subset written once (Parquet, no settings.yaml: not declared national)."""
    root = tmp_path_factory.mktemp("deliveries")
    return {s.id: s.write(small_demo, root / s.id) for s in SUBSETS}


def make_reports(delivery: Path, out: Path, national: bool) -> tuple[int, dict]:
    """``run_reports.py --formats html --edition full`` in this process (one notebook at a time: the test workers
    already use both cores); the exit status and the manifest."""
    import run_reports

    argv = ["--data", str(delivery), "--out", str(out), "--formats", "html", "--jobs", "1", "--quiet", "--edition", "full",
            "--notebook", str(ROOT / "notebooks" / "institution_report.ipynb")]
    argv += ["--national", str(ROOT / "notebooks" / "national_overview.ipynb")] if national else ["--no-national"]
    status = run_reports.main(argv)
    return status, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def check_delivery(subset_id: str, deliveries: dict, tmp_path: Path) -> dict[str, str]:
    """Make the delivery's reports and check what every delivery must hold; the texts by institution
    (``""`` for the overview)."""
    import sys

    sys.path.insert(0, str(ROOT))
    subset = next(s for s in SUBSETS if s.id == subset_id)
    national = subset_id in WITH_OVERVIEW
    status, manifest = make_reports(deliveries[subset_id], tmp_path / "reports", national)
    assert status == 0, [r.get("error") for r in manifest["reports"].values()]
    reports = manifest["reports"].values()
    assert all(r["status"] == "made" for r in reports)
    made = {r["institution"] for r in reports}
    assert made == set(subset.institutions) | ({""} if national else set())
    # the settings.yaml holds only min_cell: the delivery is not declared national
    assert manifest["runs"][-1]["inputs"]["settings_source"] == "delivery"
    assert manifest["runs"][-1]["inputs"]["settings"]["delivery_scope"] == "delivery"
    texts = {}
    for r in reports:
        path = tmp_path / "reports" / r["files"]["html"]
        html = path.read_text(encoding="utf-8")
        text = _text(html)
        who = r["institution"] or "overview"
        assert "Traceback" not in text and ERROR_PAGE not in text, who
        assert not re.search(r"\b\w*Error\b", text), who
        assert not empty_sections(html), (who, empty_sections(html))
        assert "andelijk" not in text, who  # not declared national: never "landelijk" / "Landelijk"
        if not subset.optional and r["institution"]:
            assert "Niet aangeleverd: deze levering bevat geen ervaringsvragen (tabel experience)." in text, who
        if subset.optional:
            assert "bevat geen ervaringsvragen" not in text and "bevat geen GAS-doelen" not in text, who
        texts[r["institution"]] = text
    return texts


@pytest.mark.parametrize("subset_id", ["three-full", "three-trajectories-only"])
def test_three_institutions_are_compared_with_all_institutions_in_the_delivery(subset_id, deliveries, tmp_path):
    texts = check_delivery(subset_id, deliveries, tmp_path)
    # two jeugdhulp providers: compared with both together; the GI is the only JB/JR institution
    for name in (JH_INSTITUTION, "Opvoedpoli Vlietland"):  # the label says who the group is
        assert "Alle jeugdhulpaanbieders (2)" in texts[name] and ALONE not in texts[name]
        assert "alle jeugdhulpaanbieders in deze levering (2)" in texts[name]
    assert ("Deze levering bevat geen andere instelling voor jeugdbescherming en jeugdreclassering; "
            f"{ALONE}.") in texts[GI] and "Alle instellingen (" not in texts[GI]
    if "" in texts:  # the overview names the delivery (three institutions), not the country
        assert "Overzicht outcome-indicatoren van alle instellingen in deze levering" in texts[""]
        # jeugdhulp is compared (two providers), JB/JR is not (one GI): said, never a column of its own
        assert "Alle jeugdhulpaanbieders (2)" in texts[""] and "Alle instellingen (3)" not in texts[""]
        assert f"Voor jeugdbescherming en jeugdreclassering bevat deze levering één instelling ({GI})" in texts[""]
        assert "Trends van alle instellingen in deze levering samen" in texts[""]
    if subset_id == "three-trajectories-only":
        # GAS rests on the goals table: not delivered, in the summary and in its own section
        assert texts[JH_INSTITUTION].count("Niet aangeleverd: deze levering bevat geen GAS-doelen (tabel goals).") >= 2


@pytest.mark.parametrize("subset_id", ["jeugdhulp-only-full", "jeugdhulp-only-trajectories-only"])
def test_one_jeugdhulp_provider_alone_is_compared_with_nothing(subset_id, deliveries, tmp_path):
    texts = check_delivery(subset_id, deliveries, tmp_path)
    text = texts[JH_INSTITUTION]
    assert f"Deze levering bevat alleen {JH_INSTITUTION}; {ALONE}." in text
    assert "Alle instellingen (" not in text and "Gecorrigeerd" not in text  # no O/E against itself
    assert "Vergelijkingsgroep geen: de levering bevat één instelling" in text
    assert "Niet van toepassing" not in text  # a jeugdhulp provider is not told about JB and JR
