"""The institution report as a reader meets it: related indicators once, experience figures with their
response rate, tables a reader can read (no words drawn over each other in the PDF), labels instead of
codes, Dutch dates, and headings with stable ids the conversation page can link to.

Fast checks build sections from the small demo's results (``small_results``, as ``test_story.py``);
the rendered checks read the suite's shared report batch (``report_batch``: a GI and a jeugdhulp
provider, HTML and PDF)."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from bs4 import BeautifulSoup

from outcome_analysis import indicators as indicator_tables
from outcome_analysis.dataset import Dataset
from outcome_analysis.indicators import registry
from outcome_analysis.presentation import report, story
from outcome_analysis.presentation.sections.institution import indicators, summary

from subsets import GI, JH_INSTITUTION

#: a registry id in running text (``jh_afname_problematiek``, ``pi07_reden_beeindiging_jb``)
REGISTRY_ID = re.compile(r"\b(?:jh|jb|jr|jbjr|pi\d\d|ctx)_[a-z0-9_]+\b")
ISO_DATE = re.compile(r"\b(?:19|20)\d\d-[01]\d-[0-3]\d\b")
TRUE_FALSE = re.compile(r"\b(?:True|False)\b")


def _html(items) -> str:
    return "".join(str(x) for x in items if isinstance(x, str))


def _visible_text(html: str) -> str:
    """The text a reader sees: no style, script, attributes or link targets."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["style", "script", "head"]):
        tag.decompose()
    return soup.get_text(" ")


@pytest.fixture(scope="module")
def gi_story(small_results):
    return story.prepare(small_results, GI)


@pytest.fixture(scope="module")
def jh_story(small_results):
    return story.prepare(small_results, JH_INSTITUTION)


# -------------------------------------------------------------------------------- related indicators
def test_pi07_and_the_course_of_jb_agree_on_a_delivery_without_jr(small_demo):
    """pi07 chains the JB measures alone, jbjr_verloop chains JB and JR together: without any JR
    record the two regular-end shares (and counts) must be the same for every institution and year."""
    t = small_demo.trajectories
    jb_only = Dataset(t.loc[t["care_type"] == "jb"].reset_index(drop=True), small_demo.goals.iloc[0:0],
                      small_demo.experience.iloc[0:0], reference_date=small_demo.reference_date)
    table = indicator_tables.compute(jb_only, ["jbjr_verloop", "pi07_reden_beeindiging_jb"])
    keys = ["scope", "institution", "period", "care_type"]
    head = table.loc[table["category"] == ""]
    verloop = head.loc[(head["indicator"] == "jbjr_verloop") & (head["care_type"] == "jb")].set_index(keys)
    pi07 = head.loc[head["indicator"] == "pi07_reden_beeindiging_jb"].set_index(keys)
    assert len(verloop) > 10 and set(verloop.index) == set(pi07.index)
    both = verloop[["numerator", "denominator", "value"]].join(pi07[["numerator", "denominator", "value"]],
                                                               rsuffix="_pi07")
    assert (both["denominator"] == both["denominator_pi07"]).all()
    assert np.allclose(both["numerator"], both["numerator_pi07"])
    assert np.allclose(both["value"], both["value_pi07"], equal_nan=True)


def test_the_demo_with_jr_makes_the_two_differ_somewhere(small_demo):
    """The check above can fail: with JR records in the delivery the chains differ for some units."""
    table = indicator_tables.compute(small_demo, ["jbjr_verloop", "pi07_reden_beeindiging_jb"], by=())
    head = table.loc[(table["category"] == "") & (table["care_type"] == "jb")]
    a = head.loc[head["indicator"] == "jbjr_verloop"].set_index("period")["denominator"]
    b = head.loc[head["indicator"] == "pi07_reden_beeindiging_jb"].set_index("period")["denominator"]
    assert (a.reindex(b.index) != b).any()


def test_pi07_is_only_in_its_chapter_and_says_how_it_differs(gi_story):
    frame = summary.summary_frame(gi_story)
    assert "pi07_reden_beeindiging_jb" not in set(frame["indicator"])
    assert "jbjr_verloop" in set(frame["indicator"])
    html = _html(indicators.indicator_section(gi_story, "pi07_reden_beeindiging_jb"))
    assert f'id="{report.anchor("pi07_reden_beeindiging_jb")}"' in html
    assert f'href="#{report.anchor("jbjr_verloop")}"' in html
    assert "alleen de JB-maatregelen" in html and "gelijk" in html


def test_the_summary_counts_each_indicator_once(gi_story, jh_story):
    for s in (gi_story, jh_story):
        frame = summary.summary_frame(s)
        pairs = list(zip(frame["indicator"], frame["care_type"]))
        assert len(pairs) == len(set(pairs))
        shown = set(frame["indicator"])
        for entry in registry.REGISTRY.values():
            if entry.same_as:
                assert not ({entry.id, entry.same_as} <= shown)
        table = BeautifulSoup(str(summary.headline_table(s)), "html.parser")
        assert len(table.find("tbody").find_all("tr")) == len(frame)


def test_same_as_pairs_are_shown_once_and_links_point_to_headings_that_exist(report_batch):
    """On the rendered full reports of the shared batch (the sections as a reader gets them)."""
    for role in ("gi", "jeugdhulp"):
        soup = BeautifulSoup(report_batch.html(role), "html.parser")
        ids = {tag["id"] for tag in soup.find_all(id=True)}
        for a in soup.find_all("a", href=lambda h: h and h.startswith("#")):
            assert a["href"].lstrip("#") in ids, (role, a)
        h3 = [h.get_text(strip=True) for h in soup.find_all("h3") if h.get("id", "").startswith("ind-")]
        assert len(h3) == len(set(h3)), role
        for entry in registry.REGISTRY.values():
            if entry.same_as:
                assert report.anchor(entry.id) not in ids, (role, entry.id)  # no stub section of its own
    jh_html = report_batch.html("jeugdhulp")
    # the jeugdhulp report names pi02/pi05 once, in one list, linking to the indicator they equal
    main = jh_html.split('class="oa-elsewhere"', 1)
    assert len(main) == 2 and f'href="#{report.anchor("jh_tevredenheid")}"' in main[1].split("</ul>", 1)[0]


# -------------------------------------------------------------------------------- experience figures
def test_experience_figures_show_their_response_rate(jh_story):
    entry = registry.get("jh_tevredenheid")
    rate = indicators.experience_response(jh_story, entry, "jeugdhulp", jh_story.shown_period(entry))
    assert rate is not None and 0 < rate < 1
    html = _html(indicators.indicator_section(jh_story, entry))
    soup = BeautifulSoup(html, "html.parser")
    heads = [th.get_text(strip=True) for th in soup.find_all("th")]
    assert "Respons" in heads
    row = soup.find("tbody").find("tr")
    assert report.fmt_pct(rate, 0) in row.get_text(" ")
    assert f"bij {report.fmt_pct(rate, 0)} van de afgesloten trajecten" in soup.get_text(" ")
    caution = "Lees dit cijfer daarom met voorzichtigheid"
    assert (caution in html) == (rate < report.RESPONSE_CAUTION)


def test_a_non_experience_figure_has_no_response_column(jh_story):
    html = _html(indicators.indicator_section(jh_story, "jh_uitval"))
    assert "Respons" not in [th.get_text(strip=True) for th in BeautifulSoup(html, "html.parser").find_all("th")]


# -------------------------------------------------------------------------------- tables and headings
def test_the_summary_table_is_four_columns_with_widths_and_unbreakable_verdicts(gi_story):
    soup = BeautifulSoup(str(summary.headline_table(gi_story)), "html.parser")
    heads = [th.get_text(strip=True) for th in soup.find_all("th")]
    assert heads[0] == "Indicator" and heads[-1] == "Oordeel" and len(heads) == 4
    widths = [float(c["style"].split(":")[1].rstrip("%")) for c in soup.find_all("col")]
    assert len(widths) == 4 and abs(sum(widths) - 100) < 0.5
    assert "W/V" not in soup.get_text() and "95%-interval" not in heads
    verdicts = soup.select("tbody td:nth-of-type(4)")
    words = [td for td in verdicts if td.get_text(strip=True)]
    assert words and all(td.find("span", class_="nowrap") for td in words)


def test_every_indicator_heading_has_its_stable_id(gi_story, jh_story):
    assert report.anchor("jh_uitval") == "ind-jh_uitval"
    for s in (gi_story, jh_story):
        soup = BeautifulSoup(_html(indicators.build(s)), "html.parser")
        for h3 in soup.find_all("h3"):
            assert h3.get("id", "").startswith("ind-")
            assert registry.get(h3["id"][4:]).label("nl") == h3.get_text(strip=True)
        assert all(h2.get("id", "").startswith("h-") for h2 in soup.find_all("h2"))


def test_odds_ratio_levels_are_words(gi_story):
    from outcome_analysis.presentation.sections.institution import methods

    assert methods.level_label(gi_story, "out_of_home", "True") == "ja"
    assert methods.level_label(gi_story, "care_form", "tb_gedwongen") == "toezicht en begeleiding (gedwongen)"
    text = _visible_text(_html(methods.build(gi_story)))
    assert not TRUE_FALSE.search(text) and "missing" not in text


def test_definitions_name_other_indicators_by_label():
    text = registry.get("pi04_vermindering_ernst").definition("nl")
    assert not REGISTRY_ID.search(text) and "‘Afname problematiek" in text


# -------------------------------------------------------------------------------- rendered reports
@pytest.mark.parametrize("role", ["gi", "jeugdhulp"])
def test_rendered_report_has_no_codes_iso_dates_or_true_false(report_batch, role):
    text = _visible_text(report_batch.html(role))
    assert not REGISTRY_ID.findall(text)
    assert not TRUE_FALSE.findall(text)
    assert not ISO_DATE.findall(text)
    soup = BeautifulSoup(report_batch.html(role), "html.parser")
    assert soup.find(id=report.chapter_anchor("summary")) is not None
    assert soup.find_all("h3", id=re.compile(r"^ind-"))


def overlapping_words(pdf) -> list[tuple[int, str, str]]:
    """Pairs of words drawn over each other: (page, word, word) for every two word boxes of a page
    (``pdftotext -bbox-layout``) that intersect by more than a point vertically and half a point
    horizontally. Table headers crushed into narrow columns ("Zonder kenmerk" over "c-statistiek")
    show up here; text in figures is not text in the PDF and is not checked."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    bad = []
    for number, page in enumerate(BeautifulSoup(xml, "html.parser").find_all("page"), 1):
        words = sorted((float(w["xmin"]), float(w["ymin"]), float(w["xmax"]), float(w["ymax"]), w.get_text())
                       for w in page.find_all("word"))
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                if b[0] >= a[2] - 0.5:
                    break  # sorted by left edge: no later word starts inside this one
                if min(a[3], b[3]) - max(a[1], b[1]) > 1.0 and min(a[2], b[2]) - max(a[0], b[0]) > 0.5:
                    bad.append((number, a[4], b[4]))
    return bad


def test_no_words_overlap_in_the_gi_pdf(report_batch):
    assert overlapping_words(report_batch.pdf("gi")) == []
