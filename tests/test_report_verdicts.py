"""The institution report says the verdicts of the results store, and only those: generated
deliveries small enough to count by hand, whose case mix and events are known.

* A heavy case-mix provider without a true effect: the same uitval per complexity level everywhere,
  but mostly complex young people. Its raw uitval is higher than the others', its adjusted verdict
  within; the summary page leads with the adjusted verdict, gives the raw gap as context and never
  says "ongunstig" about uitval.
* Zero events: 12 providers with 40 ended trajectories each, provider A without any uitval, the
  others 12 of 40 (30%): A is lower than expected, "gunstig", and the range printed beside it ends
  below 1; no shrunk O/E anywhere.
* The change from the previous period with Newcombe's interval (checked against the formula), and
  the words for a figure without a verdict.
* Every adjusted verdict shown equals the row of ``Results.comparison``.
"""
from __future__ import annotations

import dataclasses
import math

import pytest
from bs4 import BeautifulSoup

from outcome_analysis import registry, report, story
from outcome_analysis.presentation.sections.institution import indicators, summary
from outcome_analysis.settings import Settings

from toydata import toy_dataset
from toydata import trajectory as T

#: one covariate, so that the model is saturated and E is counted by hand: the uitval rate of each
#: complexity level over all providers.
SETTINGS = Settings(covariates=("complexity",), delivery_scope="delivery")
UITVAL = registry.get("jh_uitval")


def _text(items) -> str:
    return BeautifulSoup("".join(str(x) for x in items if isinstance(x, str)), "html.parser").get_text(" ")


def _ended(inst: str, n: int, events: int, complexity: str, year: int = 2024, tag: str = "") -> list[dict]:
    """``n`` jeugdhulp trajectories of ``inst`` ended in ``year``, the first ``events`` of them early."""
    return [T(f"{inst}{tag}{complexity[0]}{year}-{i}", f"{inst}{tag}{complexity[0]}{year}-{i}", inst, "jeugdhulp",
              "ambulant", f"{year}-01-15", f"{year}-06-15", "voortijdig_client" if i < events else "volgens_plan",
              complexity=complexity) for i in range(n)]


def _uitval_row(s):
    frame = s.headline_frame()
    return frame.loc[frame["indicator"] == "jh_uitval"].iloc[0]


def _results(rows):
    from outcome_analysis.results import compute_results

    return compute_results(toy_dataset(rows, reference_date="2025-06-30"), SETTINGS, periods=["2024"])


# --------------------------------------------------------------------------------------------
# a heavy case mix, no true effect
# --------------------------------------------------------------------------------------------
HEAVY = "Zorg Zwaar"


@pytest.fixture(scope="module")
def heavy():
    """12 providers of 60 ended trajectories; complex: 50% uitval, enkelvoudig: 10%, at every provider.
    HEAVY: 50 complex (25 early) + 10 enkelvoudig (1) = 26/60 = 43,3%; each other provider: 10 complex
    (5) + 50 enkelvoudig (5) = 10/60 = 16,7%, the others together 110/660 = 16,7%. The model is
    saturated in complexity, so E = O = 26 at HEAVY: O/E 1, within."""
    rows = _ended(HEAVY, 50, 25, "complex") + _ended(HEAVY, 10, 1, "enkelvoudig")
    for k in range(11):
        rows += _ended(f"Zorg {k:02d}", 10, 5, "complex") + _ended(f"Zorg {k:02d}", 50, 5, "enkelvoudig")
    return _results(rows)


def test_the_hand_counted_verdicts_of_the_heavy_provider(heavy):
    adjusted = heavy.verdict("jh_uitval", "jeugdhulp", "2024", HEAVY)
    raw = heavy.verdict("jh_uitval", "jeugdhulp", "2024", HEAVY, basis="raw_reference")
    assert adjusted["signal"] == "within" and adjusted["favourable"] is None
    assert adjusted["value"] == pytest.approx(1.0, abs=1e-6)
    assert raw["value"] == pytest.approx(26 / 60) and raw["reference_value"] == pytest.approx(110 / 660)
    assert raw["signal"] == "higher" and raw["text_key"] == "raw_higher_adjusted_within"


def test_a_heavy_case_mix_is_never_called_unfavourable(heavy):
    s = story.prepare(heavy, HEAVY)
    page = _text(summary.build(s))
    assert "ongunstig" not in page
    row = _uitval_row(s)
    words = summary.sentence(s, row)
    lead = "Rekening houdend met de problematiek van de jongeren is dit cijfer zoals je mag verwachten."
    context = ("Het ruwe cijfer (43,3%) is hoger dan bij de andere instellingen in deze levering samen (16,7%), "
               "maar past bij de zwaardere problematiek van de jongeren.")
    assert words.index(lead) < words.index(context)  # the adjusted verdict leads, the raw gap follows
    opening = _text(indicators.in_words(s, UITVAL, "jeugdhulp"))  # the words open the indicator's section
    assert lead in opening and context in opening
    # the Kerncijfers cell: the adjusted verdict in words, no favourable word, no number (the O/E and
    # its range stand in the indicator section)
    cell = _kern_cell(s, UITVAL.label("nl"))
    assert cell == "binnen verwachting" and "W/V" not in cell
    # the indicator section says the same, with the range in words
    section = _text(indicators.adjusted(s, UITVAL, "jeugdhulp"))
    assert "W/V 1,00 — binnen verwachting; bij toeval en de gewone verschillen tussen instellingen verwacht tussen" in section
    assert "ongunstig" not in section and "kleine aantallen" not in section
    en = story.prepare(heavy, HEAVY, lang="en")
    en_words = summary.sentence(en, _uitval_row(en))
    assert ("The raw figure (43.3%) is higher than for the other institutions in this delivery together (16.7%), "
            "but in line with the heavier problems of the young people.") in en_words
    assert "unfavourable" not in _text(summary.build(en))


# --------------------------------------------------------------------------------------------
# zero events, the previous period and no verdict
# --------------------------------------------------------------------------------------------
ZERO = "Zorg A"
SMALL = "Zorg Klein"


@pytest.fixture(scope="module")
def zero():
    """12 providers of 40 ended trajectories in 2024 (all meervoudig): ZERO without uitval, the others
    12 of 40. 2023: ZERO 10 of 40. SMALL: 12 trajectories with 3 early, fewer than 5 expected events."""
    rows = _ended(ZERO, 40, 0, "meervoudig") + _ended(ZERO, 40, 10, "meervoudig", year=2023)
    for k in range(11):
        rows += _ended(f"Zorg {k:02d}", 40, 12, "meervoudig")
    rows += _ended(SMALL, 12, 3, "meervoudig")
    return _results(rows)


def test_zero_events_read_lower_and_favourable_with_a_range_below_one(zero):
    row = zero.verdict("jh_uitval", "jeugdhulp", "2024", ZERO)
    assert row["value"] == 0 and row["signal"] == "lower" and row["favourable"] is True
    assert row["ci_high"] < 1 and row["expected_high"] > 1  # the verdict's own interval excludes 1
    s = story.prepare(zero, ZERO)
    page = _text(summary.build(s))
    words = summary.sentence(s, _uitval_row(s))
    # 0 of 40 is a small cell (the two-cell rule): the share is said as its band, its O/E and range are
    # not printed (W/V 0,00 would give O = 0), the verdict word stays
    assert "minder dan 10 van de 40" in words
    assert "Rekening houdend met de problematiek van de jongeren is dit cijfer lager dan je mag verwachten — gunstig." in words
    assert _kern_cell(s, UITVAL.label("nl")) == "▼ lager dan verwacht (gunstig)"
    section = _text(indicators.adjusted(s, UITVAL, "jeugdhulp"))
    assert "W/V 0,00" not in page + section and "0,0%" not in page + section
    report_text = page + section
    assert "kleine aantallen" not in report_text  # the shrunk O/E, in either of its wordings
    assert "niet meer van elkaar verschillen" not in report_text


def _wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_the_change_from_the_previous_period_is_newcombes_interval(zero):
    """0/40 in 2024 against 10/40 in 2023: d = -25 procentpunt; Newcombe's method 10 from the two Wilson
    intervals: d - sqrt((p1 - l1)^2 + (u2 - p2)^2) and d + sqrt((u1 - p1)^2 + (p2 - l2)^2)."""
    (l1, u1), (l2, u2) = _wilson(0, 40), _wilson(10, 40)
    low = -0.25 - math.sqrt((0 - l1) ** 2 + (u2 - 0.25) ** 2)
    high = -0.25 + math.sqrt((u1 - 0) ** 2 + (0.25 - l2) ** 2)
    row = zero.verdict("jh_uitval", "jeugdhulp", "2024", ZERO, basis="raw_previous")
    assert (row["value"], row["ci_low"], row["ci_high"]) == pytest.approx((-0.25, low, high), abs=1e-9)
    # the figure of 2024 is hidden (0 of 40): the stored change has no verdict and is never printed (with
    # last year's 25,0% beside it, "−25,0 procentpunt" would give the hidden 0 back)
    assert high < 0 and row["signal"] == "none" and row["text_key"] == "suppressed"
    s = story.prepare(zero, ZERO)
    words = summary.sentence(s, _uitval_row(s))
    assert "procentpunt" not in words and "25,0%" not in words
    assert words.count("gunstig") == 1  # the adjusted verdict word only
    # the wording of a change that may be shown, worded from a stored row with this interval
    shown = dict(row, signal="lower", favourable=True, text_key="previous_lower")
    change = f"−25,0 procentpunt ({report.fmt_signed(low * 100)} tot {report.fmt_signed(high * 100)})"
    assert report.headline_sentence(0.31, previous=shown, settings=SETTINGS).endswith(
        f"Ten opzichte van vorig jaar (25,0%) gedaald: {change} — gunstig.")


def test_a_comparable_change_says_comparable_with_its_interval():
    prev = {"signal": "within", "favourable": None, "text_key": "previous_within", "measure": "share_difference",
            "value": 0.041, "ci_low": -0.0102, "ci_high": 0.0931, "reference_value": 0.269}
    text = report.headline_sentence(0.31, previous=prev, settings=SETTINGS)
    assert text.endswith("Vergelijkbaar met vorig jaar (26,9%): +4,1 procentpunt (−1,0 tot +9,3).")
    assert "gestegen" not in text and "gunstig" not in text
    en = report.headline_sentence(0.31, previous=prev, lang="en", settings=SETTINGS)
    assert en.endswith("Similar to last year (26.9%): +4.1 percentage points (−1.0 to +9.3).")


def test_a_figure_without_a_verdict_says_too_little_to_compare(zero):
    row = zero.verdict("jh_uitval", "jeugdhulp", "2024", SMALL)
    assert row["signal"] == "none"  # E = 12 x 135/492 < 5: no verdict
    # a figure the rule shows, without a verdict: the Kerncijfers cell and the section say so
    c = zero.comparisons.copy()
    c.loc[(c["unit"] == SMALL) & (c["basis"] == "adjusted"), "text_key"] = "adjusted_none"
    st = zero.status.copy()
    st.loc[st["institution"] == SMALL, "status"] = "getoond"
    shown = dataclasses.replace(zero, indicators=zero.indicators.assign(suppressed=False), comparisons=c, status=st)
    s = story.prepare(shown, SMALL)
    page = _text(summary.build(s))
    assert "te weinig gegevens om te vergelijken" in page
    assert "W/V" not in _text([summary.headline_table(s)]).split("Beter is:")[0]  # no O/E without a verdict
    section = _text(indicators.adjusted(s, UITVAL, "jeugdhulp"))
    assert "te weinig gegevens om te vergelijken" in section and "verwacht tussen" not in section
    en = story.prepare(shown, SMALL, lang="en")
    assert "too little data to compare" in _text(summary.build(en))


# --------------------------------------------------------------------------------------------
def _kern_cell(s, label: str) -> str:
    """The verdict cell of the Kerncijfers row ``label``, its words joined by spaces."""
    html = BeautifulSoup(str(summary.headline_table(s)), "html.parser")
    for tr in html.find("tbody").find_all("tr"):
        cells = tr.find_all("td")
        if cells[0].get_text(strip=True) == label:
            return cells[-1].get_text(" ", strip=True)
    raise AssertionError(f"no Kerncijfers row {label!r}")


# the report shows the stored verdict, for every adjusted row
# --------------------------------------------------------------------------------------------
CELL = {"higher": "▲ hoger dan verwacht", "lower": "▼ lager dan verwacht", "within": "binnen verwachting",
        "none": "te weinig gegevens om te vergelijken"}


@pytest.mark.parametrize("fixture", ["heavy", "zero"])
def test_every_adjusted_verdict_shown_is_the_stored_one(fixture, request):
    results = request.getfixturevalue(fixture)
    rows = results.comparison(None, None, None, basis="adjusted")
    checked, stories = 0, {}
    for _, row in rows.iterrows():
        if row["unit"] not in stories:
            stories[row["unit"]] = story.prepare(results, row["unit"])
        s = stories[row["unit"]]
        entry = registry.get(row["indicator"])
        if s.shown_period(entry) != row["period"] or row["text_key"] == "suppressed":
            continue
        html = BeautifulSoup(str(summary.headline_table(s)), "html.parser")
        cells = [tr.find_all("td") for tr in html.find("tbody").find_all("tr")]
        label = s.label(entry) + (f" ({row['period']})" if row["period"] != s.period else "")
        cell = next(c[-1].get_text(" ", strip=True) for c in cells if c[0].get_text(strip=True) == label)
        assert cell.startswith(CELL[row["signal"]])
        section = _text(indicators.adjusted(s, entry, row["care_type"]))
        assert report.fmt_expected_range(row.to_dict()) in section
        if row["signal"] != "none":  # the numbers stand in the section, never in the Kerncijfers
            assert report.fmt_ratio(row["value"]) in section and "W/V" not in cell
        checked += 1
    assert checked == len(rows.loc[rows["text_key"] != "suppressed"]) > 0
