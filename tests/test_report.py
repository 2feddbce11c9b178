"""Tests of outcome_analysis.report: number formats, suppression display, headline sentences,
dialogue questions, slugs.

Expected strings are written by hand from the Dutch conventions (decimal comma, thousands point;
Taaladvies.net "Getallen met punt of komma") and from indicators.md (disclosure control: shares with
a denominator below 10 hidden, counts below 10 hidden, shown counts rounded to multiples of 5).
"""
from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from outcome_analysis import report
from outcome_analysis.report import (
    dialogue_questions,
    display_table,
    fmt_ci,
    fmt_count_rounded,
    fmt_int,
    fmt_pct,
    headline_sentence,
    slugify,
)
from outcome_analysis.settings import DEFAULT


@pytest.mark.parametrize(
    ("func", "args", "expected"),
    [
        (fmt_pct, (0.1234,), "12,3%"),
        (fmt_pct, (0.1234, 1, "en"), "12.3%"),
        (fmt_pct, (0.5, 0), "50%"),
        (fmt_pct, (1.0,), "100,0%"),
        (fmt_pct, (float("nan"),), "n.b."),
        (fmt_pct, (None, 1, "en"), "n/a"),
        (fmt_int, (1234,), "1.234"),
        (fmt_int, (1234567,), "1.234.567"),
        (fmt_int, (1234, "en"), "1,234"),
        (fmt_int, (12,), "12"),
        (fmt_int, (-1234,), "-1.234"),
        (report.fmt_number, (1234.56, 1), "1.234,6"),
        (report.fmt_number, (-0.01, 1), "0,0"),
        (report.fmt_ratio, (0.857,), "0,86"),
    ],
    ids=lambda v: repr(v) if not callable(v) else v.__name__,
)
def test_number_formats(func, args, expected):
    assert func(*args) == expected


def test_fmt_ci():
    assert fmt_ci(0.102, 0.145) == "10,2% – 14,5%"
    assert fmt_ci(0.102, 0.145, lang="en") == "10.2% – 14.5%"
    assert fmt_ci(0.85, 1.123, kind="ratio") == "0,85 – 1,12"
    assert fmt_ci(float("nan"), 0.2) == "n.b."


@pytest.mark.parametrize(("n", "expected"), [(3, "–"), (9, "–"), (10, "10"), (12, "10"), (13, "15"),
                                             (1237, "1.235"), (1234567, "1.234.565")])
def test_fmt_count_rounded(n, expected):
    # hand count: hidden below 10, else nearest multiple of 5 (half up)
    assert fmt_count_rounded(n, settings=DEFAULT) == expected


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------
@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame({
        "institution": ["Stichting <b>Noord</b>", "Klein & Fijn", "Groot"],
        "numerator": [123, 7, 4321],
        "denominator": [456, 8, 6543],
        "value": [123 / 456, 7 / 8, 4321 / 6543],
        "ci_low": [0.229, 0.529, 0.649],
        "ci_high": [0.313, 0.978, 0.672],
        "suppressed": [False, True, False],
    })


def test_display_table_never_leaks_suppressed_numbers(table):
    page = display_table(table, ["institution", "numerator", "denominator", "value", "ci"], settings=DEFAULT)
    # the hidden row's numbers in every format they could take
    for leak in ("87,5", "87.5", "0.875", "0,875", ">7<", ">8<", "52,9", "97,8", "0.529", "0.978"):
        assert leak not in page, leak
    assert "–*" in page
    assert "* niet getoond: een percentage alleen als teller en rest elk minstens 10 zijn, een aantal vanaf 10, een gemiddelde bij minstens 10" in page
    assert "title=" not in page and "data-" not in page
    assert "Klein &amp; Fijn" in page  # the row is there, its numbers are not


def test_display_table_formats_escapes_and_rounds(table):
    page = display_table(table, {"institution": "Instelling", "denominator": "N", "value": "Aandeel", "ci": None},
                         caption="Tabel <1>", highlight="Groot", settings=DEFAULT)
    assert "Stichting &lt;b&gt;Noord&lt;/b&gt;" in page and "<b>" not in page
    assert "Tabel &lt;1&gt;" in page
    assert "27,0%" in page  # 123/456 = 0.2697
    assert "22,9% – 31,3%" in page
    assert "6.545" in page  # 6543 rounded to a multiple of 5
    assert 'class="oa-highlight"' in page and "▶ Groot" in page
    assert page._repr_html_() == str(page)


def test_display_table_hides_small_counts_of_visible_rows():
    t = pd.DataFrame({"category": ["a", "b"], "count": [4, 250]})
    page = display_table(t, ["category", "count"], lang="en", settings=DEFAULT)
    assert ">4<" not in page and "250" in page
    assert ("* not shown: a percentage only when numerator and remainder are each at least 10, a count from 10, "
            "a mean with at least 10") in page


def test_display_table_takes_thresholds_and_footnote_from_settings(table):
    """Hand-count: with min_count 50 and round_to 10 the count 7 and 8 hide (the row is hidden
    anyway), 123 hides, 456 → 460, 4321 → 4.320; the footnote names min_count 50 and min_denominator 40."""
    import dataclasses

    from outcome_analysis.settings import DEFAULT

    other = dataclasses.replace(DEFAULT, min_denominator=40, min_count=50, round_to=10)
    page = display_table(table, ["institution", "numerator", "denominator"], settings=other)
    assert "een aantal vanaf 50, een gemiddelde bij minstens 40" in page  # the thresholds in force
    assert ">460<" in page and ">4.320<" in page and ">125<" not in page and ">123<" not in page
    # the hidden row stays hidden whatever the settings (the flags come with the frame)
    assert ">7<" not in page and ">8<" not in page
    # default settings unchanged
    assert "* niet getoond: een percentage alleen als teller en rest elk minstens 10 zijn, een aantal vanaf 10, een gemiddelde bij minstens 10" in display_table(table, ["institution", "numerator"], settings=DEFAULT)


def test_display_table_unknown_column(table):
    with pytest.raises(report.ReportError, match="not in the table"):
        display_table(table, ["institution", "nope"], settings=DEFAULT)


def test_note_escapes():
    assert str(report.note("<script>x</script>")) == '<p class="oa-note">&lt;script&gt;x&lt;/script&gt;</p>'


# --------------------------------------------------------------------------------------------
# headline sentences
# --------------------------------------------------------------------------------------------
SUBJECT = "werd de hulp volgens plan afgesloten"


def _row(basis, signal, favourable=None, key=None, **more):
    """A comparison row as Results.comparison holds it (only the columns the words read)."""
    prefix = {"adjusted": "adjusted", "raw_reference": "raw", "raw_previous": "previous"}[basis]
    return dict(basis=basis, signal=signal, favourable=favourable, text_key=key or f"{prefix}_{signal}", **more)


@pytest.mark.parametrize(
    ("reference", "previous", "expected"),
    [
        (_row("raw_reference", "higher", True, reference_value=0.681),
         _row("raw_previous", "within", measure="share_difference", value=0.024, ci_low=-0.03, ci_high=0.08,
              reference_value=0.70),
         "Dat is hoger dan bij de andere instellingen samen (68,1%) — gunstig. "
         "Vergelijkbaar met vorig jaar (70,0%): +2,4 procentpunt (−3,0 tot +8,0)."),
        (_row("raw_reference", "lower", False, reference_value=0.681),
         _row("raw_previous", "lower", False, measure="share_difference", value=-0.15, ci_low=-0.21, ci_high=-0.09,
              reference_value=0.75),
         "Dat is lager dan bij de andere instellingen samen (68,1%) — ongunstig. "
         "Ten opzichte van vorig jaar (75,0%) gedaald: −15,0 procentpunt (−21,0 tot −9,0) — ongunstig."),
        (_row("raw_reference", "within", reference_value=0.681), None,
         "Dat is vergelijkbaar met de andere instellingen samen (68,1%)."),
        # no verdict (too little, or hidden): nothing is claimed
        (_row("raw_reference", "none", reference_value=0.681), _row("raw_previous", "none"), ""),
    ],
    ids=["higher-comparable", "lower-fallen", "within", "none"],
)
def test_headline_sentence_words_the_stored_verdicts(reference, previous, expected):
    sentence = headline_sentence((0.724, 0.69, 0.76), reference=reference, previous=previous, subject=SUBJECT,
                                 settings=DEFAULT)
    first = f"Bij 72,4% van de afgesloten trajecten {SUBJECT}."
    assert sentence == (first + " " + expected).strip()


def test_headline_sentence_leads_with_the_adjusted_verdict_which_alone_judges():
    adjusted = _row("adjusted", "within")
    reference = _row("raw_reference", "higher", False, "raw_higher_adjusted_within", reference_value=0.242)
    previous = _row("raw_previous", "higher", False, measure="share_difference", value=0.08, ci_low=0.02,
                    ci_high=0.14, reference_value=0.23)
    s = headline_sentence(0.31, adjusted=adjusted, reference=reference, previous=previous, settings=DEFAULT)
    assert s == ("De uitkomst is 31,0%. Rekening houdend met de problematiek van de jongeren is dit cijfer zoals je "
                 "mag verwachten. Het ruwe cijfer (31,0%) is hoger dan bij de andere instellingen samen (24,2%), maar "
                 "past bij de zwaardere problematiek van de jongeren. Ten opzichte van vorig jaar (23,0%) gestegen: "
                 "+8,0 procentpunt (+2,0 tot +14,0).")
    assert "gunstig" not in s  # the adjusted verdict says nothing favourable or not; the raw rows may not either
    # a favourable raw gap that the case mix explains points to the lighter problems
    lighter = _row("raw_reference", "higher", True, "raw_higher_adjusted_within", reference_value=0.242)
    assert "lichtere problematiek" in headline_sentence(0.31, adjusted=adjusted, reference=lighter, settings=DEFAULT)
    worse = headline_sentence(0.31, adjusted=_row("adjusted", "higher", False), settings=DEFAULT)
    assert worse.endswith("is dit cijfer hoger dan je mag verwachten — ongunstig.")
    none = headline_sentence(0.31, adjusted=_row("adjusted", "none"), settings=DEFAULT)
    assert none == "De uitkomst is 31,0%."  # no verdict: not worded in the summary (the section says why)
    en = headline_sentence(0.31, adjusted=adjusted, reference=reference, lang="en", settings=DEFAULT)
    assert en == ("The outcome is 31.0%. Taking the young people's problems into account, this figure is as one may "
                  "expect. The raw figure (31.0%) is higher than for the other institutions together (24.2%), but in "
                  "line with the heavier problems of the young people.")


def test_headline_sentence_hides_suppressed():
    hidden = headline_sentence({"value": 0.123, "ci_low": 0.01, "ci_high": 0.4, "suppressed": True},
                               reference=_row("raw_reference", "lower", reference_value=0.5), settings=DEFAULT)
    assert "12" not in hidden and "minder dan 10" in hidden


def test_the_change_and_the_expected_range_in_words():
    change = {"measure": "share_difference", "value": 0.041, "ci_low": -0.0102, "ci_high": 0.0931}
    assert report.fmt_change(change) == "+4,1 procentpunt (−1,0 tot +9,3)"
    assert report.fmt_change(change, "en") == "+4.1 percentage points (−1.0 to +9.3)"
    assert report.fmt_change({"measure": "mean_difference", "value": 0.4, "ci_low": -0.1, "ci_high": 0.9}) == \
        "+0,4 (−0,1 tot +0,9)"
    row = {"signal": "higher", "measure": "oe_ratio", "value": 1.244, "expected_low": 0.8241, "expected_high": 1.1759}
    text = report.fmt_expected_range(row)
    assert text == ("W/V 1,24 — hoger dan verwacht; bij toeval en de gewone verschillen tussen instellingen verwacht "
                    "tussen 0,82 en 1,18")
    assert "betrouwbaarheid" not in text and "interval" not in text
    assert report.fmt_expected_range(dict(row, signal="none")) == "te weinig gegevens om te vergelijken"


# --------------------------------------------------------------------------------------------
# dialogue questions
# --------------------------------------------------------------------------------------------
def test_question_bank_is_valid():
    bank = report.question_bank()
    assert {q["level"] for q in bank} == set(report.LEVELS)
    assert all(q["nl"] and q["en"] for q in bank)


def test_high_uitval_and_low_response_ask_different_questions():
    uitval = dialogue_questions({"uitval": "higher"})
    response = dialogue_questions({"response": 0.3})
    assert set(uitval) == set(report.LEVELS) == set(response)
    for level in report.LEVELS:
        assert uitval[level] and response[level]
        assert not set(uitval[level]) & set(response[level]), level
    assert any("voortijdig" in q for q in uitval["client_professional"])
    assert any("helft" in q for q in response["organisation"])


def test_no_facts_give_general_questions_only():
    general = dialogue_questions({})
    assert all(len(general[level]) == 1 for level in report.LEVELS)
    assert dialogue_questions({"response": 0.9}) == general  # good response triggers nothing


@pytest.mark.parametrize(
    ("facts", "level", "fragment"),
    [
        ({"waiting_days": 60.0}, "client_professional", "mediaan 60 dagen"),
        ({"kwestie": "huiselijk geweld", "kwestie_share": 0.3}, "organisation", "'huiselijk geweld'"),
        ({"trend": "falling", "indicator": "Doelrealisatie"}, "organisation", "Doelrealisatie is gedaald"),
        ({"signal": "lower", "favourable": False, "indicator": "Uitval"}, "organisation", "ongunstig"),
        ({"unknown_reasons": 0.25}, "organisation", "'onbekend'"),
        ({"working_alliance": 0.5}, "client_professional", "gehoord"),
        ({"small_numbers": True}, "external", "meerdere jaren"),
    ],
    ids=["waiting", "kwestie", "trend", "signal", "onbekend", "alliance", "small"],
)
def test_questions_follow_the_facts(facts, level, fragment):
    assert any(fragment in q for q in dialogue_questions(facts)[level])


def test_questions_english_and_capped():
    facts = {"uitval": "higher", "response": 0.2, "trend": "rising", "indicator": "Dropout",
             "unknown_reasons": 0.3, "small_numbers": True, "favourable": False}
    questions = dialogue_questions(facts, "en", max_per_level=2)
    assert all(len(qs) <= 2 for qs in questions.values())
    assert all(re.search(r"[a-z]", q) for qs in questions.values() for q in qs)
    html = report.dialogue_html(questions, "en")
    assert "Client and professional" in html


# --------------------------------------------------------------------------------------------
# slugs
# --------------------------------------------------------------------------------------------
NASTY_NAMES = [
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "CON",
    "",
    "x" * 500,
    "Zorggroep 't Anker & Partners",
    "..",
    "a/b\\c:d*e?f\"g<h>i|j",
    "   ",
    "Ünïcödé — 日本語",
    "NUL.txt",
]


@pytest.mark.parametrize("name", NASTY_NAMES, ids=lambda n: repr(n[:20]))
def test_slugify_is_safe(name):
    slug = slugify(name)
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*-[0-9a-f]{8}", slug), slug
    assert "/" not in slug and "\\" not in slug and ".." not in slug
    assert len(slug) <= report.SLUG_MAX + 9
    stem = slug.rsplit("-", 1)[0]
    assert stem.upper() not in {"CON", "PRN", "AUX", "NUL"} or slug != stem


def test_slugify_examples_and_uniqueness():
    assert slugify("Zorggroep 't Anker & Partners").startswith("zorggroep-t-anker-en-partners-")
    assert slugify("Stichting Jeugd Zuid") == "stichting-jeugd-zuid-9051453c"
    # same ASCII form, different names: the hash keeps them apart
    assert slugify("Café") != slugify("Cafe")
    assert slugify("") == "instelling-e3b0c442"  # sha256 of the empty string starts e3b0c442
    with pytest.raises(report.ReportError):
        slugify(None)


@pytest.mark.parametrize("period, lang, expected", [
    ("2024", "nl", "2024"), ("2024H1", "nl", "het eerste halfjaar van 2024"),
    ("2023H2", "nl", "het tweede halfjaar van 2023"), ("2024H2", "en", "the second half of 2024"),
], ids=["year", "h1-nl", "h2-nl", "h2-en"])
def test_periods_read_as_words_in_prose(period, lang, expected):
    assert report.fmt_period(period, lang) == expected


# --------------------------------------------------------------------------------------------
# the comparator (one rule) and statuses in words
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scope", "n", "expected"),
    [("national", 12, "national"), ("delivery", 12, "delivery"), ("national", 1, "none"), ("delivery", 1, "none"),
     ("delivery", 0, "none")],
    ids=["declared-national", "delivery", "national-but-alone", "alone", "empty"],
)
def test_comparison_scope_is_one_rule(scope, n, expected):
    from outcome_analysis.settings import Settings

    assert report.comparison_scope(Settings(delivery_scope=scope), n) == expected


def test_comparator_words_name_the_delivery_unless_declared_national():
    from outcome_analysis.settings import Settings

    national = report.comparator(Settings(delivery_scope="national"), 12)
    delivery = report.comparator(Settings(), 12)
    alone = report.comparator(Settings(), 1, institution="Jeugdzorg Zuid")
    assert (national["label"], national["name"]) == ("Landelijk", "landelijk")
    assert (delivery["label"], delivery["name"]) == ("Alle instellingen (12)", "alle instellingen in deze levering (12)")
    assert "andelijk" not in " ".join(v for v in delivery.values() if isinstance(v, str))
    assert alone["label"] == "" and alone["scope_note"] == (
        "Deze levering bevat alleen Jeugdzorg Zuid; er is geen vergelijking met andere instellingen.")
    assert report.comparator(Settings(), 3, "en")["name"] == "all institutions in this delivery (3)"


def test_headline_sentence_follows_the_comparator():
    from outcome_analysis.settings import Settings

    me, ref = (0.60, 0.50, 0.70), _row("raw_reference", "higher", reference_value=0.40)
    delivery = headline_sentence(me, reference=ref, comparator=report.comparator(Settings(), 12), settings=DEFAULT)
    assert delivery == "De uitkomst is 60,0%. Dat is hoger dan bij de andere instellingen in deze levering samen (40,0%)."
    alone = headline_sentence(me, reference=ref, adjusted=_row("adjusted", "higher"),
                              comparator=report.comparator(Settings(), 1), settings=DEFAULT)
    assert alone == "De uitkomst is 60,0%."  # never compared with itself
    # the default words are the national ones
    assert "hoger dan bij de andere instellingen samen" in headline_sentence(me, reference=ref, settings=DEFAULT)


@pytest.mark.parametrize(
    ("status", "kwargs", "expected"),
    [
        ("niet_aangeleverd", {"reason": "experience"},
         "Niet aangeleverd: deze levering bevat geen ervaringsvragen (tabel experience)."),
        ("niet_aangeleverd", {"reason": "goals"}, "Niet aangeleverd: deze levering bevat geen GAS-doelen (tabel goals)."),
        ("niet_van_toepassing", {"institution": "GI Zuid", "care_type": "jr"},
         "Niet van toepassing: GI Zuid biedt geen jeugdreclassering."),
        ("niet_van_toepassing", {"care_type": "jeugdhulp"}, "Niet van toepassing: deze levering bevat geen jeugdhulp."),
        ("te_weinig_gegevens", {"reason": "few", "period": "2024", "unit": "episode"},
         "Te weinig gegevens: minder dan 10 afgesloten episodes in 2024."),
        ("te_weinig_gegevens", {"reason": "none_ended", "period": "2024H1", "care_type": "jb"},
         "Te weinig gegevens: geen afgesloten trajecten (jeugdbescherming) in het eerste halfjaar van 2024."),
        ("verborgen", {}, "Verborgen (minder dan 10): om de privacy van jongeren en ouders te beschermen tonen we "
                          "dit cijfer niet."),
        ("getoond", {}, ""),
    ],
    ids=["no-experience", "no-goals", "not-offered", "not-in-delivery", "few", "none-ended", "hidden", "shown"],
)
def test_status_sentences(status, kwargs, expected):
    assert report.status_sentence(status, **kwargs, settings=DEFAULT) == expected


def test_status_sentences_in_english():
    assert report.status_sentence("niet_aangeleverd", "en", reason="rom", settings=DEFAULT) == (
        "Not delivered: this delivery holds no ROM scores (columns rom_instrument, rom_start, rom_end).")
    assert report.status_word("te_weinig_gegevens", "en") == "too little data"


def test_questions_name_the_comparator_or_are_not_asked():
    national = {"uitval": "lower", "comparator_than": "landelijk", "comparator_with": "landelijk"}
    assert any("lager dan landelijk" in q for q in dialogue_questions(national)["organisation"])
    delivery = {"uitval": "lower", "comparator_than": "bij alle 12 instellingen in deze levering samen"}
    assert any("lager dan bij alle 12 instellingen" in q for q in dialogue_questions(delivery)["organisation"])
    # without a comparator (one institution) a question that names it is not asked
    assert not any("lager dan" in q for qs in dialogue_questions({"uitval": "lower"}).values() for q in qs)


def test_the_comparator_names_its_group_when_the_delivery_holds_both_families():
    from outcome_analysis.settings import Settings

    assert report.comparison_group(("jb", "jr"), ("jeugdhulp", "jb", "jr")) == "jbjr"
    assert report.comparison_group(("jeugdhulp",), ("jeugdhulp", "jr")) == "jeugdhulp"
    assert report.comparison_group(("jb", "jr"), ("jb", "jr")) == ""  # all institutions are GIs
    gi = report.comparator(Settings(), 12, group="jbjr")
    assert gi["name"] == "alle instellingen voor jeugdbescherming en jeugdreclassering in deze levering (12)"
    assert gi["label"] == "Alle GI's (12)"
    jh = report.comparator(Settings(), 35, group="jeugdhulp")
    assert jh["name"] == "alle jeugdhulpaanbieders in deze levering (35)"
    assert report.comparator(Settings(), 35, "en", group="jeugdhulp")["name"] == \
        "all youth care providers in this delivery (35)"
    assert report.comparator(Settings(), 47)["name"] == "alle instellingen in deze levering (47)"
    assert report.comparator(Settings(delivery_scope="national"), 12, group="jbjr")["label"] == "Landelijk"


def test_dates_in_prose_are_written_in_words():
    assert report.fmt_date("2024-12-29") == "29 december 2024"
    assert report.fmt_date(pd.Timestamp("2024-03-01"), "en") == "1 March 2024"
    assert report.fmt_date(None) == report.MISSING_MARK["nl"]


def test_a_label_that_names_its_care_type_does_not_repeat_it():
    assert report.with_care_type("Reden beëindiging jeugdreclassering", "jr") == "Reden beëindiging jeugdreclassering"
    assert report.with_care_type("Cliëntervaring", "jr") == "Cliëntervaring (jeugdreclassering)"
    assert report.with_care_type("Uitval", "jeugdhulp", sep=" – {care}") == "Uitval – jeugdhulp"
    assert report.NOT_APPLICABLE_MARK["nl"] == "n.v.t." and report.MISSING_MARK["nl"] == "n.b."
