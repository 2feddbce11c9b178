"""Fast tests of outcome_analysis.story (the institution report's context: the slice of one institution)
and of its sections (outcome_analysis.presentation.sections.institution): the headline table, the
sections, the dialogue facts and the statuses that replace a report. Expected numbers come from
the small demo's results (the ``small_results`` fixture) and are compared after the report layer's
own formatting (report.fmt_pct)."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from outcome_analysis import registry, report, story
from outcome_analysis.presentation import documents
from outcome_analysis.presentation.sections.institution import (breakdowns, dialogue, indicators, methods, quality, summary,
                                                               too_little, verloop)

JB_INSTITUTION = "Jeugdbescherming Randstad Midden"   # jb and jr, several suppressed breakdown cells
TINY_INSTITUTION = "Jeugdhulp Schiermonnikoog"         # two trajectories in the whole demo


def _html(items) -> str:
    return "".join(str(x) for x in items if isinstance(x, str))


@pytest.fixture(scope="module")
def jb_story(small_results):
    return story.prepare(small_results, JB_INSTITUTION)


def test_defaults_are_the_report_period_and_the_largest_institution(small_results):
    s = story.prepare(small_results)
    q = small_results.quality
    ended = q[(q["scope"] == "institution") & (q["period"] == s.period) & (q["item"] == "end_reason")]
    assert s.period == small_results.meta["periods"][-1]
    assert s.institution == ended.groupby("institution")["denominator"].sum().idxmax()
    assert s.ok


@pytest.mark.parametrize("institution, status", [
    ("Stichting Bestaat Niet", "unknown_institution"),
    (TINY_INSTITUTION, "all_suppressed"),
], ids=["unknown", "too-small"])
def test_no_report_gets_a_status_and_a_short_page(small_results, institution, status):
    s = story.prepare(small_results, institution)
    assert s.status == status and not s.ok
    page = _html(too_little.build(s))
    assert f"Te weinig gegevens voor een rapport over {institution} in {s.period}" in page


def test_care_types_are_those_with_ended_trajectories(jb_story):
    assert jb_story.care_types == ("jb", "jr")
    ids = {e.id for e in jb_story.entries()}
    assert "jbjr_verloop" in ids and "jh_uitval" not in ids


def test_headline_frame_takes_the_figures_from_the_results(jb_story, small_results):
    frame = jb_story.headline_frame()
    # pi07 (regular end of JB episodes) is shown at this GI; jbjr_verloop is a band (18 of 22: remainder 4)
    row = frame[(frame["indicator"] == "pi07_reden_beeindiging_jb") & (frame["care_type"] == "jb")].iloc[0]
    t = small_results.indicators
    expected = t[(t["indicator"] == "pi07_reden_beeindiging_jb") & (t["institution"] == JB_INSTITUTION)
                 & (t["period"] == jb_story.period) & (t["care_type"] == "jb") & (t["category"] == "")].iloc[0]
    assert not expected["suppressed"]
    assert row["value"] == expected["value"] and row["denominator"] == expected["denominator"]
    nat = t[(t["indicator"] == "pi07_reden_beeindiging_jb") & (t["scope"] == "national") & (t["period"] == jb_story.period)
            & (t["care_type"] == "jb") & (t["category"] == "")].iloc[0]
    assert row["national_value"] == nat["value"]
    # its own section shows it in Dutch format; the summary leaves it to that chapter (it restates
    # jbjr_verloop for JB, report.RELATED), so each indicator is counted once there
    assert report.fmt_pct(expected["value"]) in _html(indicators.indicator_section(jb_story, "pi07_reden_beeindiging_jb"))
    assert "Reden beëindiging jeugdbeschermingsmaatregel" not in str(summary.headline_table(jb_story))


def test_windowed_indicator_shows_the_latest_judgeable_period(jb_story):
    entry = registry.get("jbjr_herhaald_beroep")
    assert jb_story.shown_period(entry) == str(int(jb_story.period) - 1)   # 12-month window, ref date 31 Dec
    frame = jb_story.headline_frame()
    shown = frame.loc[frame["indicator"] == "jbjr_herhaald_beroep", "shown_period"].unique().tolist()
    assert shown == [jb_story.shown_period(entry)]
    assert "nog niet voorbij" in _html(summary.build(jb_story))


def test_window_note_names_each_indicator_with_its_own_window(jb_story):
    # settings: herhaald beroep (and pi08, as herhaald beroep) 12 months, recidive 24 months; the demo's
    # reference date is 31 December of the report year, so 12 months shows the year before, 24 two before
    note = summary.window_summary_note(jb_story)
    year = int(jb_story.period)
    assert (f"herhaald beroep en uitblijven nieuwe beschermingsmaatregel: 12 maanden (dus {year - 1})"
            in note)
    assert f"uitblijven recidive: 24 maanden (dus {year - 2})" in note
    assert note in _html(summary.build(jb_story))


def test_in_words_builds_the_subject_from_the_registry(jb_story):
    """Each indicator's section opens with its figure in words; the summary has the table only."""
    html = _html([item for e in jb_story.entries() if indicators.own_section(jb_story, e)
                  for c in jb_story.shown_care_types(e) for item in indicators.in_words(jb_story, e, c)])
    frame = jb_story.headline_frame()
    assert "oa-headlines" not in _html(summary.build(jb_story))  # no second list of the same words
    row = frame[frame["indicator"] == "jb_afname_ontwikkelingsbedreiging"].iloc[0]
    assert report.fmt_pct(row["value"]) in html
    # a share hidden by the two-cell rule is said as its band, never as a number
    hidden = frame[(frame["indicator"] == "jbjr_verloop") & (frame["care_type"] == "jb")].iloc[0]
    n = int(hidden["denominator"])
    assert f"meer dan {n - jb_story.settings.min_cell} van de {n}" in html
    assert report.fmt_pct(hidden["value"]) not in html
    assert "De uitkomst is" not in html
    # windowed indicators say their own window (when shown; at this small GI they are bands, said as such)
    frame_w = frame[frame["indicator"].isin(["jbjr_herhaald_beroep", "pi10_geen_recidive"])]
    for r in frame_w.itertuples(index=False):
        if not r.suppressed:
            assert ("binnen 12 maanden" if r.indicator == "jbjr_herhaald_beroep" else "binnen 24 maanden") in html
    assert "Dit percentage tonen we niet om de privacy te beschermen" in html


def test_headline_table_gives_the_verdict_in_words(jb_story):
    soup = BeautifulSoup(str(summary.headline_table(jb_story)), "html.parser")
    heads = [th.get_text(strip=True) for th in soup.find_all("th")]
    assert heads == ["Indicator", "Waarde", jb_story.comparator["label"], "Oordeel"]
    cells = {tr.find_all("td")[0].get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
             for tr in soup.find("tbody").find_all("tr")}
    assert "Herhaald beroep (JB) (2023)" in cells
    # an indicator without a figure says its status across the figure columns, in words
    assert cells["Verloop van het traject (JR)"][1] == "Te weinig gegevens: minder dan 10 afgesloten episodes in 2024."
    figures = [tr for tr in soup.find("tbody").find_all("tr") if "oa-status" not in (tr.get("class") or [])]
    signals = {tr.find_all("td")[-1].get_text(strip=True) for tr in figures}
    allowed = ("▲", "▼", "binnen verwachting", "te weinig gegevens om te vergelijken")
    assert all(s == "" or s.startswith(allowed) for s in signals)
    assert "binnen verwachting" in signals
    assert "W/V" not in str(soup.find("table")) and "binnen de grenzen" not in str(soup)
    assert "Oordeel: vergeleken met wat je" in soup.get_text()  # the legend line


def _verloop_breakdowns(story):
    """The breakdown tables of jbjr_verloop as the appendix "Uitsplitsingen" prints them."""
    entry = registry.get("jbjr_verloop")
    return indicators.breakdown_tables(story, entry, story.shown_care_types(entry), story.shown_period(entry))


def test_breakdowns_are_split_by_family(jb_story):
    soup = BeautifulSoup(_html(_verloop_breakdowns(jb_story)), "html.parser")
    captions = [c.get_text(strip=True) for c in soup.find_all("caption")]
    text = soup.get_text()
    for caption in ("Uitsplitsing: Reden van beëindiging", "Uitsplitsing: Overgangen"):
        # a table of its own, or (mostly hidden) a one-line note naming the hidden categories
        assert caption in captions or f"{caption}: niet getoond" in text, caption
    for table in soup.find_all("table"):
        caption = table.find("caption")
        if caption is None or not caption.get_text().startswith("Uitsplitsing"):
            continue
        labels = {tr.find("td").get_text(strip=True) for tr in table.find("tbody").find_all("tr")}
        transitions = {registry.category_label(c) for c in registry.LABELS["categories"] if c.startswith("transition:")}
        if "Overgangen" in caption.get_text():
            assert labels <= transitions
        else:
            assert not labels & transitions


def test_suppressed_breakdown_cells_are_never_shown(jb_story, small_results):
    t = small_results.indicators
    hidden = t[(t["indicator"] == "jbjr_verloop") & (t["institution"] == JB_INSTITUTION) & (t["period"] == jb_story.period)
               & (t["care_type"] == "jb") & t["category"].str.startswith("end_reason:") & t["suppressed"]]
    assert len(hidden), "the test needs a suppressed cell"
    html = _html(_verloop_breakdowns(jb_story))
    soup = BeautifulSoup(html, "html.parser")
    for _, cell in hidden.iterrows():
        label = registry.category_label(cell["category"])
        rows = [tr for tr in soup.find_all("tr") if tr.find("td") and tr.find("td").get_text(strip=True) == label]
        if not rows:  # left out of the table and named in the "niet getoond" note
            assert "niet getoond" in html and label in soup.get_text()
            continue
        # JB and JR share one table with a care-type column: the JB row of this label
        rows = [tr for tr in rows if [td.get_text(strip=True) for td in tr.find_all("td")][1:2] in (["JB"], [])
                or "oa-num" in (tr.find_all("td")[1].get("class") or [])]
        numbers = [td.get_text(strip=True) for td in rows[0].find_all("td")[1:-1]  # last column: national
                   if "oa-num" in (td.get("class") or [])]
        assert numbers and set(numbers) == {"–*"}, (label, numbers)
        assert report.fmt_pct(cell["value"]) not in rows[0].get_text()


def test_same_as_and_restated_indicators_are_pointers(jb_story):
    html = _html(indicators.indicator_section(jb_story, "pi02_tevredenheid"))
    assert "Wordt berekend als" in html and "<table" not in html
    # pi04 restates the basisset per care type: in the set it is one line of the list of indicators
    # found elsewhere, not a section of its own; pi07 chains JB records on their own: its own section
    assert not indicators.own_section(jb_story, registry.get("pi04_vermindering_ernst"))
    listed = _html(indicators.elsewhere(jb_story, "prestatie"))
    assert "Vermindering ernst problematiek" in listed and 'href="#ind-jb_afname_ontwikkelingsbedreiging"' in listed
    html = _html(indicators.indicator_section(jb_story, "pi07_reden_beeindiging_jb"))
    assert "berekend als" not in html and "Reden beëindiging jeugdbeschermingsmaatregel" in html


def test_dialogue_facts_use_the_question_bank_vocabulary(jb_story):
    facts = dialogue.facts(jb_story)
    known = {"period", "uitval", "response", "signal", "favourable", "trend", "unknown_reasons", "waiting_days",
             "working_alliance", "kwestie", "kwestie_share", "satisfaction", "small_numbers", "indicator",
             "comparator_than", "comparator_with"}
    assert set(facts) <= known
    assert facts.get("trend") in (None, "rising", "falling", "stable")
    questions = report.dialogue_questions(facts)
    assert all(questions[level] for level in report.LEVELS)


@pytest.mark.parametrize("lang, heading", [("nl", "Samenvatting"), ("en", "Summary")])
def test_headings_follow_the_language(small_results, lang, heading):
    s = story.prepare(small_results, JB_INSTITUTION, lang=lang)
    assert f'<h2 id="{report.chapter_anchor("summary")}">{heading}</h2>' in _html(summary.build(s))
    text = _html(methods.build(s))
    assert ("Verantwoording" if lang == "nl" else "Methods") in text


def test_the_report_is_its_sections_and_the_notebook_shows_every_one():
    """The notebook shows whatever the document lists, so a new section needs no notebook cell."""
    import json
    from pathlib import Path

    names = ["conversation", "summary", "reference", "indicators", "verloop", "context", "actions",
             "breakdowns", "quality", "methods", "notes"]
    assert documents.names("institution") == names
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "institution_report.ipynb"
    cells = ["".join(c["source"]) for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code"]
    assert re.search(r'for name in documents\.names\("institution"\):\s+st\.show\(documents\.section\("institution", name, story\)\)',
                     cells[-2])
    assert cells[-1].startswith("_ = ledger.end()")  # the last cell writes the ledger of printed numbers
    assert not any(re.search(r'documents\.section\("institution", "\w+"', c) for c in cells)
    assert too_little.NAME not in names and "too_little.build(story)" in cells[1]


def test_a_section_added_to_the_document_is_built(monkeypatch, jb_story):
    import types

    from outcome_analysis.presentation.sections import institution

    extra = types.SimpleNamespace(NAME="extra", build=lambda story: [f"extra for {story.institution}"])
    monkeypatch.setattr(institution, "SECTIONS", (*institution.SECTIONS, extra))
    assert documents.names("institution")[-1] == "extra"
    assert documents.build("institution", jb_story)[-1] == f"extra for {jb_story.institution}"


def test_the_story_texts_have_both_languages(small_results):
    from outcome_analysis import texts

    raw = texts.load("story")
    assert set(raw) == {"nl", "en"} and texts.languages_agree(raw) == []
    with pytest.raises(story.StoryError, match="unknown report language 'fr'"):
        story.prepare(small_results, JB_INSTITUTION, lang="fr")


def test_sections_build_without_error_and_carry_no_other_names(jb_story, small_results):
    html = _html(documents.build("institution", jb_story))
    others = [n for n in small_results.institutions if n != JB_INSTITUTION and n not in JB_INSTITUTION]
    assert not [n for n in others if report.HTML(n) in html or n.replace("&", "&amp;") in html]
    assert "Traceback" not in html


def _renamed(results, old: str, new: str):
    tables = {}
    for f in dataclasses.fields(results):
        value = getattr(results, f.name)
        if isinstance(value, pd.DataFrame) and "institution" in value.columns:
            value = value.assign(institution=value["institution"].replace({old: new}))
        tables[f.name] = value
    meta = dict(results.meta, institutions=[new if n == old else n for n in results.meta["institutions"]])
    tables["meta"] = meta
    return type(results)(**tables)


def test_institution_names_are_escaped(small_results):
    name = "<script>alert(1)</script> ../Jeugd & Co"
    results = _renamed(small_results, JB_INSTITUTION, name)
    s = story.prepare(results, name)
    assert s.ok
    html = _html(summary.build(s) + dialogue.build(s) + too_little.build(s))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ../Jeugd &amp; Co" in html
    assert re.fullmatch(r"[a-z0-9-]+", report.slugify(name))


def test_the_adjusted_comparison_prints_the_stored_verdict_and_its_range_never_the_shrunk_oe(jb_story, small_results):
    """Beside the adjusted verdict stands the range chance and the usual differences between
    institutions explain (the row's expected_low/high), not a confidence interval and not the
    empirical-Bayes O/E."""
    judged = []
    for entry in jb_story.entries():
        for care_type in jb_story.shown_care_types(entry):
            row = jb_story.verdicts(entry, care_type)["adjusted"]
            stored = small_results.verdict(entry.id, care_type, jb_story.shown_period(entry), JB_INSTITUTION)
            assert (row is None) == (stored is None or not entry.casemix)
            if row is None:
                continue
            assert (row["signal"], row["text_key"]) == (stored["signal"], stored["text_key"])
            text = BeautifulSoup(_html(indicators.adjusted(jb_story, entry, care_type)), "html.parser").get_text()
            assert "kleine aantallen" not in text and "interval" not in text
            if row["text_key"] == "suppressed":
                continue
            assert report.fmt_expected_range(row) in text
            if row["signal"] != "none":
                judged.append(entry.id)
                low, high = report.fmt_ratio(row["expected_low"]), report.fmt_ratio(row["expected_high"])
                assert f"verwacht tussen {low} en {high}" in text
    assert judged  # the demo GI has adjusted verdicts to show
    assert "kleine aantallen" not in _html(methods.build(jb_story))
    assert not hasattr(indicators, "shrunk_text")


def test_voogdij_is_said_to_end_regularly_by_definition_with_a_rounded_count(jb_story, small_results):
    entry = registry.get("jbjr_verloop")
    row = jb_story.verdicts(entry, "jb")["adjusted"]
    summary_row = jb_story.model_row(entry, "jb", row["period"])
    n_fixed = summary_row["n_fixed"]
    # the section's sentence on the groups left out of the model (shown whenever the figure is)
    text = BeautifulSoup(_html(indicators.fixed_levels(jb_story, entry, "jb", summary_row)), "html.parser").get_text()
    if n_fixed >= jb_story.settings.min_count:
        rounded = report.fmt_count_rounded(n_fixed, settings=jb_story.settings)
        assert "Voogdij-episodes eindigen per definitie regulier." in text
        assert f"ongeveer {rounded} episodes" in text and "waargenomen = verwacht" in text
        if n_fixed % jb_story.settings.round_to:
            assert f" {report.fmt_int(n_fixed)} " not in text  # never the exact count
    en = story.prepare(small_results, JB_INSTITUTION, lang="en")
    assert "by definition" in _html(indicators.fixed_levels(en, entry, "jb", summary_row)) \
        or n_fixed < jb_story.settings.min_count

def test_duration_table_has_kaplan_meier_and_not_reached(small_results):
    """results.verloop rows, hand-made: a start cohort whose median is not reached reads
    "nog niet bereikt"; a suppressed row is left out; the national median stands beside it."""
    s = story.prepare(small_results, JB_INSTITUTION)
    v = small_results.verloop
    keep = v[~((v["period"] == s.period) & (v["care_type"] == "jb"))]
    nan = float("nan")
    rows = pd.DataFrame([
        {"scope": "institution", "institution": JB_INSTITUTION, "period": s.period, "care_type": "jb",
         "measure": "duration_days", "n": 123, "q1": 100.0, "median": 400.0, "q3": 900.0, "suppressed": False},
        {"scope": "national", "institution": "", "period": s.period, "care_type": "jb",
         "measure": "duration_days", "n": 900, "q1": 90.0, "median": 1234.0, "q3": 800.0, "suppressed": False},
        {"scope": "institution", "institution": JB_INSTITUTION, "period": s.period, "care_type": "jb",
         "measure": "duration_km_days", "n": 80, "q1": 363.0, "median": nan, "q3": nan, "suppressed": False,
         "events": 20.0, "censored": 60.0},
        {"scope": "national", "institution": "", "period": s.period, "care_type": "jb",
         "measure": "duration_km_days", "n": 700, "q1": nan, "median": nan, "q3": nan, "suppressed": False},
        {"scope": "institution", "institution": JB_INSTITUTION, "period": s.period, "care_type": "jb",
         "measure": "waiting_days", "n": 7, "q1": 1.0, "median": 3.0, "q3": 5.0, "suppressed": True},
    ])
    results = dataclasses.replace(small_results, verloop=pd.concat([keep, rows], ignore_index=True))
    s = story.prepare(results, JB_INSTITUTION)
    frame = verloop.duration_frame(s, "jb").set_index("measure")
    assert list(frame.index) == ["duration_days", "duration_km_days"]  # waiting: suppressed, left out
    assert frame.loc["duration_days", ["n", "q1", "median", "q3", "national"]].tolist() == \
        ["125", "100", "400", "900", "1.234"]
    assert frame.loc["duration_km_days", ["q1", "median", "q3", "national"]].tolist() == \
        ["363", "nog niet bereikt", "nog niet bereikt", "nog niet bereikt"]
    html = _html(verloop.build(s))
    assert "Kaplan–Meier" in html and "nog niet bereikt" in html
    assert ">3<" not in html.split("Duur van de episodes")[1].split("</table>")[0]


def test_a_care_type_without_enough_records_is_said_in_words(jb_story):
    soup = BeautifulSoup(_html(indicators.indicator_section(jb_story, "pi04_vermindering_ernst")), "html.parser")
    # pi04 restates other indicators per care type: pointers, no figures
    assert not soup.find_all("table") and "Bij jeugdbescherming berekend als" in soup.get_text()
    soup = BeautifulSoup(_html(indicators.indicator_section(jb_story, "jbjr_verloop")), "html.parser")
    tables = soup.find_all("table")
    # JB has a figure; JR (fewer than 10 ended episodes) is said in words, never an empty row
    assert [tr.find("td").get_text(strip=True) for tr in tables[0].find("tbody").find_all("tr")] == ["2024"]
    assert "Jeugdreclassering: Te weinig gegevens: minder dan 10 afgesloten episodes in 2024." in soup.get_text()


def test_jb_and_jr_share_one_table_per_indicator(small_demo, demo_settings):
    # in the small demo no GI has ten ended JR episodes; with a threshold of 3 one has both
    from outcome_analysis.results import compute_results

    results = compute_results(small_demo, demo_settings.replace(min_denominator=3, min_count=3, round_to=1))
    s = story.prepare(results, JB_INSTITUTION)
    soup = BeautifulSoup(_html(indicators.indicator_section(s, "jbjr_verloop")), "html.parser")
    figures = [tb for tb in soup.find_all("table") if tb.find("caption") and
               tb.find("caption").get_text(strip=True).startswith("Cijfers")]
    assert len(figures) == 1
    rows = [tr.find("td").get_text(strip=True) for tr in figures[0].find("tbody").find_all("tr")]
    assert rows == ["Jeugdbescherming", "Jeugdreclassering"]
    # the breakdowns stand in the appendix, one line in the section points there
    assert not [tb for tb in soup.find_all("table") if tb.find("caption") and
                tb.find("caption").get_text(strip=True).startswith("Uitsplitsing")]
    pointer = soup.find("a", href="#" + indicators.breakdown_anchor("jbjr_verloop"))
    assert pointer is not None and "Uitgesplitst naar reden van beëindiging" in pointer.parent.get_text()
    appendix = BeautifulSoup(_html(breakdowns.build(s)), "html.parser")
    assert appendix.find("h3", id=indicators.breakdown_anchor("jbjr_verloop")) is not None
    verloop = BeautifulSoup(_html(_verloop_breakdowns(s)), "html.parser")
    tables = [tb for tb in verloop.find_all("table") if tb.find("caption") and
              tb.find("caption").get_text(strip=True).startswith("Uitsplitsing")]
    assert len(tables) <= len(appendix.find_all("table"))
    assert tables
    for table in tables:
        assert [th.get_text(strip=True) for th in table.find_all("th")][1] == "Zorgsoort"
    assert len(soup.find_all("img")) <= 1


def test_data_quality_note_names_recovery_across_tables(jb_story):
    text = _html(quality.build(jb_story))
    # what is protected across tables (the halves of a year, the parts of a pooled figure) and what is not
    for fragment in ("Ook tussen tabellen", "het andere halfjaar", "jongeren en ouders", "alle instellingen samen min",
                     "twee leveringen", "uitsplitsing van een andere indicator"):
        assert fragment in text, fragment


def test_methods_say_which_rom_norms_come_from_the_data(small_results):
    jh = story.prepare(small_results, "Behandelcentrum De Linde")
    html = _html(methods.instrument_notes(jh))
    assert "honosca_total" in html and "geen normgroep in de instrumententabel" in html
    en = _html(methods.instrument_notes(story.prepare(small_results, "Behandelcentrum De Linde", lang="en")))
    assert "no norm group for honosca_total" in en


# --------------------------------------------------------------------------------------------
# the comparator and the statuses in the institution report
# --------------------------------------------------------------------------------------------
def _all_sections(s) -> str:
    return _html(documents.build("institution", s))


@pytest.fixture(scope="module")
def gi_alone(small_demo):
    """The GI's own trajectories, without goals and experience, not declared national."""
    import dataclasses

    from outcome_analysis import schema
    from outcome_analysis.results import compute_results

    from conftest import SMALL_MIN_CELL
    from outcome_analysis.settings import Settings

    t = small_demo.trajectories
    data = dataclasses.replace(small_demo, trajectories=t.loc[t["institution"] == JB_INSTITUTION].reset_index(drop=True),
                               goals=schema.empty_frame("goals"), experience=schema.empty_frame("experience"))
    return compute_results(data, Settings(min_cell=SMALL_MIN_CELL))


def test_one_institution_is_compared_with_nothing(gi_alone):
    s = story.prepare(gi_alone)
    assert s.ok and s.institution == JB_INSTITUTION and not s.compared
    html = _all_sections(s)
    text = BeautifulSoup(html, "html.parser").get_text(" ")
    assert f"Deze levering bevat alleen {JB_INSTITUTION}; er is geen vergelijking met andere instellingen." in text
    assert "andelijk" not in text and "Alle instellingen" not in text and "Gecorrigeerd" not in text
    assert "Niet aangeleverd: deze levering bevat geen ervaringsvragen (tabel experience)." in text
    frame = s.headline_frame()
    assert frame["national_value"].isna().all() and frame["signal"].isna().all()
    # the summary lists every indicator: its figure or its status
    heads = BeautifulSoup(str(summary.headline_table(s)), "html.parser")
    labels = [tr.find("td").get_text(strip=True) for tr in heads.find("tbody").find_all("tr")]
    assert len(labels) == len(summary.summary_frame(s)) and "Cliëntervaring (JB)" in labels
    assert "Vorige periode" in [th.get_text(strip=True) for th in heads.find_all("th")]
    assert not [th for th in heads.find_all("th") if th.get_text(strip=True) in ("Landelijk", "Gecorrigeerd")]


def test_the_comparator_of_a_delivery_not_declared_national(small_results):
    meta = dict(small_results.meta, settings=dict(small_results.meta["settings"], delivery_scope="delivery"))
    s = story.prepare(dataclasses.replace(small_results, meta=meta), JB_INSTITUTION)
    # the pooled JB/JR figure comes from the 12 GIs of the 46 institutions in the demo
    # the label says what the group is: the GIs (JB and JR institutions), not "alle instellingen"
    assert s.comparator["scope"] == "delivery" and s.t["col_national"] == "Alle GI's (12)"
    text = BeautifulSoup(_html(summary.build(s)), "html.parser").get_text(" ")
    assert ("Elk cijfer staat naast dat van alle instellingen voor jeugdbescherming en jeugdreclassering "
            "in deze levering (12) samen.") in text
    assert "andelijk" not in text
    words = BeautifulSoup(_html(indicators.build(s)), "html.parser").get_text(" ")  # the figures in words
    assert "de andere instellingen voor jeugdbescherming en jeugdreclassering in deze levering samen" in words
    facts = dialogue.facts(s)
    assert facts["comparator_than"] == ("bij alle 12 instellingen voor jeugdbescherming en jeugdreclassering "
                                        "in deze levering samen")
    jh = story.prepare(dataclasses.replace(small_results, meta=meta), "Jeugdzorg De Wissel")
    assert jh.t["col_national"] == "Alle jeugdhulpaanbieders (34)"
    assert jh.comparator["name"] == "alle jeugdhulpaanbieders in deze levering (34)"
    en = story.prepare(dataclasses.replace(small_results, meta=meta), JB_INSTITUTION, lang="en")
    assert en.comparator["name"] == "all institutions for child protection and youth probation in this delivery (12)"
    # the demo itself is declared national
    national = story.prepare(small_results, JB_INSTITUTION)
    assert national.t["col_national"] == "Landelijk" and "Landelijk" in str(summary.headline_table(national))


def test_a_gi_with_only_jb_hears_that_jr_does_not_apply(small_demo):
    import dataclasses as dc

    from outcome_analysis.results import compute_results

    t = small_demo.trajectories
    data = dc.replace(small_demo, trajectories=t.loc[(t["care_type"] == "jb")].reset_index(drop=True))
    s = story.prepare(compute_results(data), JB_INSTITUTION)
    assert s.care_types == ("jb",) and s.family_care_types == ("jb", "jr") and s.offered_care_types == ("jb",)
    # JR is said once, after the Kerncijfers and once per set, never per row or per indicator
    frame = s.headline_frame()
    assert len(frame) and (frame["care_type"] == "jb").all()
    once = f"{JB_INSTITUTION} biedt in deze levering geen jeugdreclassering; die cijfers staan daarom niet in dit rapport."
    text = BeautifulSoup(_html(summary.build(s)), "html.parser").get_text()
    assert text.count(once) == 1 and "Niet van toepassing" not in text
    assert "(JB)" not in text  # one care type: labels need no care type
    section = BeautifulSoup(_html(indicators.indicator_set(s, "basisset_jbjr")), "html.parser").get_text()
    assert section.count(once) == 1 and "Niet van toepassing" not in section


# ---------------------------------------------------------------------------------------------
# the pooled figure, the adjusted verdict and the comparator group: one rule each
# ---------------------------------------------------------------------------------------------
def _kern_row(html: str, label: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    for tr in soup.find("tbody").find_all("tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no Kerncijfers row {label!r}")


def test_a_hidden_pooled_figure_is_never_printed(small_results):
    s = story.prepare(small_results, JB_INSTITUTION)
    entry = registry.get("jbjr_verloop")
    shown = s.shown_period(entry)
    nat = s.figure(entry, "jb", shown, scope="national")
    t = small_results.indicators.copy()
    sel = ((t["indicator"] == "jbjr_verloop") & (t["scope"] == "national") & (t["care_type"] == "jb")
           & (t["period"] == shown) & (t["category"] == ""))
    t.loc[sel, "denominator"] = 8  # as the pooled figure of a family with one small institution
    s2 = story.prepare(dataclasses.replace(small_results, indicators=t), JB_INSTITUTION)
    row = _kern_row(str(summary.headline_table(s2)), s2.label(entry, "jb"))
    assert row[2] == "–*" and report.fmt_pct(nat["value"], 1, "nl") not in row
    assert s2.national(entry, "jb", shown)["hidden"]
    table = BeautifulSoup(_html(indicators.figures_table(s2, entry, ["jb"], shown)), "html.parser")
    assert report.fmt_pct(nat["value"], 1, "nl") not in table.get_text()


def test_kerncijfers_and_the_section_read_the_same_adjusted_verdict(small_results):
    s = story.prepare(small_results, JB_INSTITUTION)
    entry = registry.get("jb_afname_ontwikkelingsbedreiging")
    c = small_results.comparisons.copy()
    sel = ((c["indicator"] == entry.id) & (c["care_type"] == "jb") & (c["basis"] == "adjusted")
           & (c["unit"] == JB_INSTITUTION))
    # no verdict (fewer than min_expected expected events): no interval, no range
    c.loc[sel, ["ci_low", "ci_high", "expected_low", "expected_high"]] = np.nan
    c.loc[sel, ["signal", "text_key"]] = ["none", "adjusted_none"]
    c.loc[sel, "favourable"] = None
    s2 = story.prepare(dataclasses.replace(small_results, comparisons=c), JB_INSTITUTION)
    assert s2.verdicts(entry, "jb")["adjusted"]["signal"] == "none"
    row = _kern_row(str(summary.headline_table(s2)), s2.label(entry, "jb"))
    assert row[-1] == "te weinig gegevens om te vergelijken"
    text = BeautifulSoup(_html(indicators.adjusted(s2, entry, "jb")), "html.parser").get_text()
    assert "te weinig gegevens om te vergelijken" in text and "binnen verwachting" not in text
    # no adjusted row at all: the Kerncijfers cell is empty and the section says there is no model
    s3 = story.prepare(dataclasses.replace(small_results, comparisons=c.loc[~sel]), JB_INSTITUTION)
    assert _kern_row(str(summary.headline_table(s3)), s3.label(entry, "jb"))[-1] == ""
    assert "geen gecorrigeerde vergelijking" in _html(indicators.adjusted(s3, entry, "jb"))


def test_methods_name_the_family_without_a_comparator_and_write_dates_in_words(small_demo):
    from subsets import GI, JH_INSTITUTION, Subset

    from outcome_analysis.results import compute_results

    r = compute_results(Subset("two", institutions=(JH_INSTITUTION, GI)).cut(small_demo))
    s = story.prepare(r, GI)
    text = BeautifulSoup(_html(methods.items(s)), "html.parser").get_text(" ")
    assert "geen: de levering bevat geen andere instelling voor jeugdbescherming en jeugdreclassering" in text
    assert "bevat één instelling" not in text
    ref = r.reference_date
    assert report.fmt_date(ref, "nl") in text and f"{ref:%Y-%m-%d}" not in text
    en = BeautifulSoup(_html(methods.items(story.prepare(r, JH_INSTITUTION, lang="en"))), "html.parser").get_text(" ")
    assert "none: the delivery holds no other institution for youth care" in en


def test_left_out_says_not_applicable_for_an_indicator_without_a_window(jb_story):
    soup = BeautifulSoup(_html(quality.build(jb_story)), "html.parser")
    tables = [tb for tb in soup.find_all("table") if "volgtermijn nog niet voorbij" in tb.get_text()]
    assert tables
    cells = [tr.find_all("td") for tr in tables[0].find("tbody").find_all("tr")]
    window_cells = [c[-1].get_text(strip=True) for c in cells]
    assert "n.b." not in window_cells and "n.v.t." in window_cells


def test_hidden_pooled_breakdown_cells_are_marked_hidden_not_unknown(jb_story):
    entry = registry.get("jbjr_verloop")
    html = _html(indicators.breakdown(jb_story, entry, jb_story.shown_care_types(entry), jb_story.shown_period(entry)))
    assert "n.b." not in BeautifulSoup(html, "html.parser").get_text()


def test_the_interval_level_named_is_the_one_in_force(small_results):
    """With ``conf: 0.9`` every interval the report names is a 90% interval: the reading guide,
    the figures table's column, the trend's band in the legend; the funnel's 95% line of attention
    (a funnel limit, not conf) keeps its name."""
    meta = dict(small_results.meta, settings=dict(small_results.meta["settings"], conf=0.9))
    s = story.prepare(dataclasses.replace(small_results, meta=meta), JB_INSTITUTION)
    assert s.settings.conf == 0.9
    text = BeautifulSoup(_html(summary.build(s) + indicators.build(s)), "html.parser").get_text(" ")
    assert "90%-interval" in text and "95%-interval" not in text
    assert "95%" not in s.t["how_to_read"] and "90%" in s.t["how_to_read"]
    headers = [th.get_text(strip=True) for th in
               BeautifulSoup(_html(indicators.build(s)), "html.parser").find_all("th")]
    assert "90%-interval" in headers and "95%-interval" not in headers
    from outcome_analysis.presentation import plots

    trend = pd.DataFrame({"period": [str(y) for y in range(2020, 2025)], "value": [0.5, 0.55, 0.6, 0.58, 0.62],
                          "ci_low": [0.4, 0.45, 0.5, 0.48, 0.52], "ci_high": [0.6, 0.65, 0.7, 0.68, 0.72],
                          "institution": "A", "scope": "institution", "suppressed": False})
    fig, ax = story.new_figure(6, 3)
    plots.trend_plot(trend, institution="A", national=False, ax=ax, settings=s.settings)
    assert "90%-betrouwbaarheidsinterval" in ax.get_legend_handles_labels()[1]
    # at the default the words are as written
    assert "95%-interval" in story.prepare(small_results, JB_INSTITUTION).t["col_ci"]
