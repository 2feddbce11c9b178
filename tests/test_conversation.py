"""The institution report's first page, "Voor het gesprek"
(outcome_analysis.presentation.sections.institution.conversation): what goes well, what needs
attention and three to five questions chosen from the institution's own stored verdicts."""
from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from outcome_analysis import registry, story
from outcome_analysis.presentation import documents, ledger, report
from outcome_analysis.presentation.sections.institution import conversation

from subsets import GI, JH_INSTITUTION, Subset

PCT = re.compile(r"\d+(?:[.,]\d+)?\s?%")


def _build(s):
    """The page as parsed HTML and the ledger of the numbers it printed."""
    with ledger.recording() as led:
        items = conversation.build(s)
    return BeautifulSoup("".join(str(i) for i in items), "html.parser"), led


def _questions(soup) -> list[str]:
    return [li.get_text(" ", strip=True) for li in soup.select("ol.oa-questions > li")]


@pytest.fixture(scope="module")
def stories(small_results):
    """Every institution of the small demo with a report, by name."""
    out = {}
    for name in small_results.institutions:
        s = story.prepare(small_results, name)
        if s.ok:
            out[name] = s
    return out


@pytest.fixture(scope="module")
def pages(stories):
    return {name: _build(s) for name, s in stories.items()}


def test_it_is_the_first_section_and_dialogue_is_not_repeated():
    names = documents.names("institution")
    assert names[0] == "conversation" and "dialogue" not in names


def test_the_gap_the_institution_has_gets_its_question(stories, pages):
    # the worst unfavourable verdict of each institution (largest gap first) is asked about first;
    # the GI and the jeugdhulp provider get questions of their own
    asked = 0
    for name in stories:
        _good, bad, _own, _neutral = conversation.points(stories[name])
        verdicts = [p for p in bad if p.key in registry.REGISTRY and p.family not in ("response", "wachttijd", "unknown")]
        questions = _questions(pages[name][0])
        if verdicts:
            assert questions[0].startswith(verdicts[0].label + "."), (name, questions[0])
            asked += 1
    assert asked >= 1
    assert set(_questions(pages[GI][0])).isdisjoint(_questions(pages[JH_INSTITUTION][0]))


def test_institutions_with_different_verdicts_get_different_questions(stories, pages):
    def verdicts(s):
        good, bad, _own, _neutral = conversation.points(s)
        return frozenset((p.key, p.kind) for p in good + bad)

    by_verdicts = {}
    for name, s in stories.items():
        by_verdicts.setdefault(verdicts(s), name)
    names = list(by_verdicts.values())
    assert len(names) >= 3
    for a, b in zip(names, names[1:]):
        assert _questions(pages[a][0]) != _questions(pages[b][0]), (a, b)


def test_three_to_five_questions_each_naming_its_indicator_in_words(pages):
    labels = {conversation.plain(registry.label(i, "nl")) for i in registry.ids()} | {"Wachttijd", "Reden van beëindiging"}
    ids = sorted(registry.ids(), key=len, reverse=True)
    for name, (soup, _led) in pages.items():
        questions = soup.select("ol.oa-questions > li")
        assert 3 <= len(questions) <= 5, name
        for li in questions:
            named = li.find("strong").get_text(strip=True).rstrip(".")
            assert re.sub(r" \((JB|JR)\)$", "", named) in labels, (name, named)
        text = soup.get_text(" ", strip=True)
        assert not [i for i in ids if i in text], name
        assert not re.search(r"\b(True|False|W/V|O/E|interval|significant|funnel|case-mix|odds)\b", text), name


def test_a_gi_is_never_called_aanbieder(stories, pages):
    gis = [n for n, s in stories.items() if set(s.care_types) & {"jb", "jr"}]
    assert GI in gis
    for name in gis:
        text = pages[name][0].get_text(" ", strip=True).lower()
        assert "aanbieder" not in text, name
    assert "gezinsvoogd" in pages[GI][0].get_text(" ", strip=True) or "de GI" in pages[GI][0].get_text(" ")


def test_every_percentage_on_the_page_was_printed_by_the_formatters(pages):
    for name, (soup, led) in pages.items():
        printed = {e.text.replace("\u00a0", " ") for e in led.entries if e.kind == "pct"}
        for pct in PCT.findall(soup.get_text(" ")):
            assert pct in printed, (name, pct)


def test_points_link_to_the_indicator_sections(pages):
    soup = pages[JH_INSTITUTION][0]
    refs = [a["href"] for a in soup.select("a.page-ref")]
    assert "#" + report.anchor("jh_uitval") in refs
    assert all(re.fullmatch(r"#[A-Za-z][\w-]*", h) for h in refs)
    assert soup.find("h2")["id"] == conversation.ANCHOR


def test_alone_in_the_delivery_it_speaks_of_the_own_figures_over_time(small_demo):
    from outcome_analysis.results import compute_results
    from outcome_analysis.settings import Settings

    from conftest import SMALL_MIN_CELL

    alone = Subset("alone", institutions=(JH_INSTITUTION,)).cut(small_demo)
    s = story.prepare(compute_results(alone, Settings(min_cell=SMALL_MIN_CELL)), JH_INSTITUTION)
    assert s.ok and not s.compared
    soup, _led = _build(s)
    text = soup.get_text(" ", strip=True)
    assert "Er is geen andere instelling om mee te vergelijken" in text
    assert "De eigen cijfers door de tijd" in text
    assert "landelijk" not in text.lower() and "Wat goed gaat" not in text
    assert 3 <= len(_questions(soup)) <= 5
    # the short edition's glossary explains neither the verdict nor the pooled figure: there are none
    from outcome_analysis.presentation.sections.short import glossary

    terms = glossary.glossary(s)
    assert "Oordeel" not in terms and "Traject" in terms and not any("andelijk" in t for t in terms)
    en = story.prepare(compute_results(alone, Settings(min_cell=SMALL_MIN_CELL)), JH_INSTITUTION, lang="en")
    assert "Verdict" not in glossary.glossary(en)


def test_the_page_follows_the_cover_in_the_rendered_report(report_batch):
    for role in ("gi", "jeugdhulp"):
        soup = BeautifulSoup(report_batch.html(role), "html.parser")
        cover = soup.find(class_="oa-cover")
        assert cover is not None
        first = [h for h in soup.find_all("h2") if not h.find_parent(class_="oa-cover")
                 and not h.find_parent(class_="oa-toc")][0]
        assert first.get_text(strip=True) == "Voor het gesprek", role
        assert first.get("id") == conversation.ANCHOR
        assert len(first.find_all_next("ol", class_="oa-questions", limit=1)) == 1


def test_the_page_reads_the_verdict_every_other_section_reads(stories):
    """One verdict: where a case-mix model exists, its adjusted verdict decides what goes well or
    needs attention; a raw gap is not called good or bad here, also not when the model cannot judge
    (too few expected), as the Kerncijfers and the short edition say."""
    checked = 0
    for s in stories.values():
        good, bad, _own, _neutral = conversation.points(s)
        said = {(p.key, p.care_type): p.kind for p in good + bad if p.key in registry.REGISTRY}
        for _, r in s.headline_frame().iterrows():
            adj = r["adjusted"]
            if adj is None:
                continue
            kind = said.get((r["indicator"], r["care_type"]))
            if adj.get("signal") not in ("higher", "lower"):  # within, or a model that cannot judge
                change = r["change"]
                assert kind is None or (change is not None and change.get("signal") in ("higher", "lower")), \
                    (s.institution, r["indicator"])
            elif kind is not None:
                assert kind == ("good" if adj["favourable"] else "bad"), (s.institution, r["indicator"])
            checked += 1
    assert checked > 10


def test_the_page_names_no_method_abbreviation(pages):
    """The page is also the short edition's: "Doelen gerealiseerd", not "... (GAS)"; no (ROM), (RCI)."""
    for name, (soup, _led) in pages.items():
        text = soup.get_text(" ")
        assert not re.search(r"\((?:GAS|ROM|RCI)\)", text), name


def test_the_short_edition_words_an_adjusted_verdict_against_the_expectation(stories):
    """In the short edition, a verdict that takes the young people into account (case-mix) is said
    against what one may expect for them, never as "about the same as nationally" beside a pooled
    figure it may differ from; a raw verdict (no model) is said against the pooled figure."""
    from outcome_analysis.presentation.sections.short import figures

    seen = set()
    for s in stories.values():
        frame = s.headline_frame()
        for _, r in frame.iterrows():
            if r["status"] not in ("getoond", "verborgen"):
                continue
            key = figures.verdict_key(s, r)
            if key not in ("better", "worse", "same"):
                continue
            sentence = figures.figure_facts(s, r)["sentence"]
            if r["adjusted"] is not None:
                assert "je bij deze jongeren mag verwachten" in sentence, sentence
                assert "landelijk" not in sentence.lower() and "zoals alle" not in sentence, sentence
                seen.add("adjusted")
            else:
                assert "mag verwachten" not in sentence, sentence
                seen.add("raw")
    assert "adjusted" in seen
