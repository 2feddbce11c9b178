"""The gemeente and jeugdregio report (document ``municipality``, ``notebooks/unit_report.ipynb``) and
the comparable gemeenten (``outcome_analysis.running.neighbours``).

The unit stores are those the suite's shared report batch (``tests/report_batch.py``) made its
gemeente and jeugdregio reports from: the small demo (``make_demo(seed=0, scale=0.05)``,
``min_cell: 5`` as in conftest), the mapping the batch takes for it, coordinated, for the batch's
period. Expected values come from those stores (the report must print what the store holds) or, for
the neighbours, from hand computations on toy profiles written in the tests; the rendered reports
are the shared batch's.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from outcome_analysis.indicators import registry
from outcome_analysis.presentation import documents, report
from outcome_analysis.presentation.sections.institution.summary import summary_frame
from outcome_analysis.presentation.sections.municipality import SECTIONS, key_figures, too_little
from outcome_analysis.presentation.sections.municipality import unit as U
from outcome_analysis.running import neighbours as nb
from outcome_analysis.running.results import Results
from outcome_analysis.running.units import UNKNOWN

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def stores(report_batch):
    """The shared batch's gemeente and jeugdregio results (coordinated, as the batch saved them) and
    their period."""
    g_path, r_path = report_batch.unit_stores["municipality"], report_batch.unit_stores["region"]
    return {"g": Results.load(g_path), "r": Results.load(r_path), "g_path": g_path, "r_path": r_path,
            "period": report_batch.unit_period}


@pytest.fixture(scope="module")
def largest(stores):
    return U.prepare(stores["g"], "", stores["period"], "nl", region_results=stores["r"])


def text_of(items) -> str:
    """The visible text of section items (tags stripped, entities unescaped)."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", " ", " ".join(str(i) for i in items if isinstance(i, str))))


def built(story) -> str:
    return text_of([x for name in documents.names("municipality") for x in documents.section("municipality", name, story)])


# --------------------------------------------------------------------------------------------------
# comparable gemeenten
# --------------------------------------------------------------------------------------------------


def toy_profile():
    """Six gemeenten: size (youths) and one case-mix share. A and B are alike; C is A's size with an
    other case-mix; D and E are A's case-mix at other sizes; F differs in both."""
    return pd.DataFrame({"n_youths": [100, 100, 100, 200, 1000, 5000],
                         "complexity:complex": [0.50, 0.52, 0.90, 0.50, 0.50, 0.10]},
                        index=["A", "B", "C", "D", "E", "F"])


def test_distance_is_the_documented_weighted_standardised_one():
    p = toy_profile()
    # by hand: z-scores (population sd) of log(size) and of the share; weight 1 each (one category)
    size = np.log(p["n_youths"].to_numpy(float))
    share = p["complexity:complex"].to_numpy(float)
    zs = (size - size.mean()) / size.std()
    zc = (share - share.mean()) / share.std()
    expected_ad = math.sqrt((zs[0] - zs[3]) ** 2 + (zc[0] - zc[3]) ** 2)
    d = nb.distances(p)
    assert d.loc["A", "D"] == pytest.approx(expected_ad)
    assert d.loc["A", "A"] == 0 and d.loc["A", "D"] == pytest.approx(d.loc["D", "A"])


def test_neighbours_are_k_distinct_other_units_closest_first():
    p = toy_profile()
    near = nb.nearest(p, k=3)
    d = nb.distances(p)
    for unit, names in near.items():
        assert len(names) == 3 and len(set(names)) == 3 and unit not in names
        others = d.loc[unit].drop(unit).sort_values()
        assert [d.loc[unit, n] for n in names] == sorted(d.loc[unit, n] for n in names)
        assert d.loc[unit, names[-1]] <= others.iloc[3]  # none left out is closer than the last one taken
    assert near["A"][0] == "B"  # the near twin first
    assert "F" not in near["A"]  # far in size and case-mix


def test_k_below_one_is_an_error():
    with pytest.raises(nb.NeighboursError, match="k must be at least 1"):
        nb.nearest(toy_profile(), k=0)


def test_neighbours_in_the_demo_are_other_gemeenten_never_the_unknown_unit(stores, largest):
    names = largest.neighbours
    assert len(names) == nb.K and len(set(names)) == nb.K
    assert largest.institution not in names and UNKNOWN["municipality"] not in names
    assert set(names) <= set(stores["g"].institutions)


def test_pooled_neighbours_count_only_shown_figures(stores, largest):
    """The pooled figure is the sum of the shown neighbours' numerators over their denominators."""
    g = stores["g"]
    hits = 0
    for _, r in summary_frame(largest).iterrows():
        entry = registry.get(r["indicator"])
        if entry.headline != "share" or r["status"] not in ("getoond", "verborgen"):
            continue
        pooled = largest.neighbours_figure(entry, r["care_type"], r["shown_period"])
        rows = g.rows(entry.id, care_type=r["care_type"], period=r["shown_period"], scope="institution", category="")
        rows = rows[rows["institution"].isin(largest.neighbours)]
        shown = rows[~rows["suppressed"].astype(bool)]
        assert pooled["n_hidden"] == int(rows["suppressed"].astype(bool).sum())
        assert pooled["n_units"] == len(shown)
        if len(shown):
            assert pooled["numerator"] == shown["numerator"].sum()
            assert pooled["denominator"] == shown["denominator"].sum()
            hits += 1
    assert hits


# --------------------------------------------------------------------------------------------------
# the report's sections
# --------------------------------------------------------------------------------------------------


def test_the_document_is_registered_and_the_notebook_shows_each_section():
    assert documents.names("municipality") == [s.NAME for s in SECTIONS]
    nb_json = json.loads((ROOT / "notebooks" / "unit_report.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb_json["cells"] if c["cell_type"] == "code")
    for name in documents.names("municipality"):
        assert f'documents.section("municipality", "{name}", story)' in code
    assert all(not c.get("outputs") for c in nb_json["cells"] if c["cell_type"] == "code")  # clean in git
    params = next(c for c in nb_json["cells"] if "parameters" in c["metadata"].get("tags", []))
    for p in ('data_path: str = "../data/demo"', 'results_path: str = ""', 'region_results_path: str = ""',
              'unit_kind: str = "municipality"', 'unit: str = ""', 'period: str = ""', 'lang: str = "nl"',
              'mapping_path: str = ""', 'ledger_path: str = ""'):
        assert p in "".join(params["source"])


def test_the_default_unit_is_the_largest_and_never_the_unknown_one(stores, largest):
    assert largest.institution != UNKNOWN["municipality"] and largest.ok
    assert U.prepare(stores["g"], UNKNOWN["municipality"], stores["period"]).status == "unknown_institution"


def test_the_gemeente_is_named_with_code_region_mapping_and_unknown_count(stores, largest):
    text = text_of(documents.section("municipality", "cover", largest))
    code = stores["g"].meta["units"]["codes"][largest.institution]
    region = stores["g"].meta["units"]["regions"][largest.institution]
    assert re.search(rf"\({code}\)", largest.institution)
    assert f"{largest.institution}, jeugdregio {region}" in text
    assert stores["g"].meta["units"]["mapping"] in text
    n = stores["g"].meta["units"]["n_unknown"]
    assert f"gemeente onbekend: {report.fmt_count_rounded(n, settings=stores['g'].settings)}" in text
    assert text.count("gemeente onbekend:") == 1


def key_rows(story) -> dict[str, list[str]]:
    """The key-figures table as label -> cell texts."""
    html = "".join(str(x) for x in documents.section("municipality", "key_figures", story))
    table = re.search(r"<table.*?</table>", html, re.S).group(0)
    out = {}
    for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        cells = [text_of([c]).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        out[cells[0]] = cells[1:]
    return out


def test_key_figures_show_the_region_neighbours_and_national_figures_from_the_stores(stores, largest):
    g, r = stores["g"], stores["r"]
    assert key_figures.columns(largest) == ["unit", "region", "neighbours", "national"]
    rows = key_rows(largest)
    checked = 0
    for _, f in summary_frame(largest).iterrows():
        if f["status"] not in ("getoond", "verborgen"):
            continue
        label = f["label"] + (f" ({report.fmt_period(f['shown_period'])})" if f["shown_period"] != stores["period"] else "")
        cells = rows[label]
        region = r.headline(f["indicator"], f["care_type"], f["shown_period"], "institution", institution=largest.region)
        national = g.headline(f["indicator"], f["care_type"], f["shown_period"], "national")
        if not region["suppressed"]:
            assert cells[1] == report.fmt_pct(region["value"], 1)
        else:
            assert cells[1].startswith("–")
        if not national["suppressed"]:
            assert cells[3] == report.fmt_pct(national["value"], 1)
        if f["suppressed"]:
            assert cells[0] == "–*"
        else:
            assert cells[0] == report.fmt_pct(f["value"], 1)
        checked += 1
    assert checked >= 3


def test_the_verdict_is_the_stored_one(stores, largest):
    g = stores["g"]
    rows = key_rows(largest)
    words = {"higher": "signal_short_higher", "lower": "signal_short_lower", "within": "signal_short_within"}
    seen = 0
    for _, f in summary_frame(largest).iterrows():
        if f["status"] not in ("getoond", "verborgen"):
            continue
        stored = g.verdict(f["indicator"], f["care_type"], f["shown_period"], largest.institution, basis="adjusted",
                           measure="oe_ratio", unit_kind="municipality")
        label = f["label"] + (f" ({report.fmt_period(f['shown_period'])})" if f["shown_period"] != stores["period"] else "")
        cell = rows[label][-1]
        if stored is not None and stored["signal"] in words and registry.get(f["indicator"]).casemix:
            assert cell.startswith(largest.t[words[stored["signal"]]]), (label, stored["signal"], cell)
            seen += 1
        elif stored is None:
            assert cell == ""
    assert seen >= 1


def test_a_tiny_gemeente_gets_the_too_little_page(stores):
    g = stores["g"]
    ended = g.select("quality", scope="institution", period=stores["period"], item="end_reason")
    sizes = ended[ended["institution"] != UNKNOWN["municipality"]].groupby("institution", observed=True)["denominator"].sum()
    tiny = U.prepare(g, str(sizes.sort_values(kind="stable").index[0]), stores["period"])  # the smallest gemeente
    assert tiny.status in U.NOT_OK
    html = "".join(str(x) for x in too_little.build(tiny))
    assert too_little.STATUS_ATTRIBUTE in html and tiny.named in text_of([html])
    region = g.meta['units']['regions'][tiny.institution]
    assert f"jeugdregio {region}" in text_of([html])
    # marked as a unit report (the export drops the institution report's cover box) and pointing to
    # the report in which its youths do count: the jeugdregio's
    assert 'data-document="municipality"' in html
    assert f"tellen mee in de cijfers van jeugdregio {region}" in text_of([html])


INSTITUTION_WORDING = re.compile(r"\b(deze|alle|andere|de|tussen) (instelling|instellingen|aanbieder)\b", re.I)


def visible_text(html: str) -> str:
    """The text a reader sees in a rendered report (no style, script or head)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.select("style, script, head"):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


def test_no_institution_wording_where_it_should_say_gemeente(report_batch):
    """The rendered gemeente and jeugdregio reports of the shared batch (built from this document's
    sections) speak of the gemeente or jeugdregio, never of "the institution"."""
    text = visible_text(report_batch.html("gemeente_large"))
    assert not INSTITUTION_WORDING.search(text), INSTITUTION_WORDING.search(text)
    assert "Deze gemeente" in text  # the reused context section's column, in the unit's words
    text = visible_text(report_batch.html("region"))
    assert not INSTITUTION_WORDING.search(text), INSTITUTION_WORDING.search(text)


def test_a_region_report_sets_its_gemeenten_side_by_side_without_a_region_column(stores):
    story = U.prepare(stores["r"], "", stores["period"], region_results=stores["g"])
    assert "region" not in key_figures.columns(story) and story.neighbours == []
    text = text_of(documents.section("municipality", "members", story))
    members = stores["r"].meta["units"]["regions"][story.institution]
    assert members and all(m in text for m in members)


def test_the_english_report_uses_english_unit_words(stores):
    story = U.prepare(stores["g"], "", stores["period"], "en", region_results=stores["r"])
    text = built(story)
    assert "youth care region" in text and "this institution" not in text.lower()


# --------------------------------------------------------------------------------------------------
# the notebook (as the shared batch ran it)
# --------------------------------------------------------------------------------------------------


def test_the_notebook_reports_a_gemeente_and_a_region(report_batch, stores):
    """The unit notebook, run by the shared batch with the contract's parameters, reports the largest
    gemeente (key figures, comparable gemeenten, its ledger written) and its jeugdregio."""
    period, unit, region = stores["period"], report_batch.units["gemeente_large"], report_batch.units["region"]
    story = U.prepare(stores["g"], unit, period, region_results=stores["r"])
    assert story.ok and story.region == region
    text = visible_text(report_batch.html("gemeente_large"))
    assert story.named in text and "Kerncijfers" in text and "Vergelijkbare gemeenten" in text
    (entry,) = [e for e in report_batch.unit_manifest["reports"].values() if e["institution"] == unit]
    ledger = stores["g_path"] / entry["parameters"]["ledger_path"]
    assert ledger.is_file() and ledger.stat().st_size > 0
    text = visible_text(report_batch.html("region"))
    assert f"Jeugdregio {region}" in text and "De gemeenten van de regio naast elkaar" in text
    # the batch hands a jeugdregio report the gemeente store: its gemeenten are columns of tables of
    # at most five (not only named), every gemeente of the region once
    from bs4 import BeautifulSoup

    from outcome_analysis.presentation.sections.municipality import members as members_section

    soup = BeautifulSoup(report_batch.html("region"), "html.parser")
    heads = [th.get_text(" ", strip=True) for table in soup.find_all("table") for th in table.find_all("th")]
    gemeenten = stores["r"].meta["units"]["regions"][region]
    assert gemeenten and all(heads.count(g) == 1 for g in gemeenten)
    per_table = [sum(th.get_text(" ", strip=True) in gemeenten for th in t.find_all("th")) for t in soup.find_all("table")]
    assert max(per_table) <= members_section.PER_TABLE and sum(per_table) == len(gemeenten)
