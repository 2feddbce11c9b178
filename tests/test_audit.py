"""The leak audit (outcome_analysis.running.audit) and the ledger of printed numbers
(outcome_analysis.presentation.ledger), on a hand-made results store of one institution.

The store: jh_uitval of "Instelling A" in 2024, 30 of 120 trajectories (25,0%, shown), broken down
by end reason into "a" 21 of 120 (17,5%, shown) and "b" 9 of 120 (7,5%, hidden: 9 < min_cell, and
recoverable as headline minus "a"); a hidden 1 of 11 (9,1%) in 2023; jh_doelrealisatie 3 of 8 in
2024 hidden, with its case-mix row (O/E 0,83, interval 0,31 – 1,71, adjusted 41,2%).
"""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from outcome_analysis import __main__ as cli
from outcome_analysis.presentation import ledger, report
from outcome_analysis.running import audit
from outcome_analysis.running.results import Results
from outcome_analysis.settings import DEFAULT

INST = "Instelling A"


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def figure(indicator, k, n, *, category="", period="2024", scope="institution", institution=INST,
           suppressed=False) -> dict:
    low, high = wilson(k, n)
    return {"indicator": indicator, "scope": scope, "institution": institution, "period": period,
            "care_type": "jeugdhulp", "category": category, "numerator": float(k), "denominator": n,
            "value": k / n, "ci_low": low, "ci_high": high, "missing": 0, "suppressed": suppressed}


def toy_results() -> Results:
    indicators = pd.DataFrame([
        figure("jh_uitval", 30, 120),
        figure("jh_uitval", 21, 120, category="end_reason:a"),
        figure("jh_uitval", 9, 120, category="end_reason:b", suppressed=True),
        figure("jh_uitval", 1, 11, period="2023", suppressed=True),
        figure("jh_doelrealisatie", 3, 8, suppressed=True),
        figure("jh_uitval", 300, 1000, scope="national", institution=""),
        figure("jh_doelrealisatie", 450, 1000, scope="national", institution=""),
    ])
    casemix = pd.DataFrame([{
        "indicator": "jh_doelrealisatie", "report_period": "2024", "period": "2024", "care_type": "jeugdhulp",
        "institution": INST, "n": 8, "observed": 3.0, "expected": 3.6, "oe_ratio": 0.8333,
        "oe_ci_low": 0.3112, "oe_ci_high": 1.7104, "national_value": 0.45, "raw_value": 0.375,
        "adjusted_value": 0.4123,
    }])
    empty = pd.DataFrame()
    return Results(indicators=indicators, context=empty, quality=empty, verloop=empty, casemix=casemix,
                   casemix_mean=empty, model_summaries=empty, coefficients=empty, calibration=empty,
                   meta={"settings": DEFAULT.to_dict(),
                         "institutions": [INST], "periods": ["2024"], "reference_date": "2024-12-31"})


@pytest.fixture(scope="module")
def results():
    return toy_results()


@pytest.fixture(scope="module")
def forbidden(results):
    return audit.forbidden_strings(results, INST, DEFAULT)


def found(text, forbidden) -> list[str]:
    return [leak.text for leak in audit.scan(text, forbidden)]


# --------------------------------------------------------------------------------------------
# (b) forbidden strings
# --------------------------------------------------------------------------------------------
def test_printed_forms_match_the_report_formatting():
    p = 1 / 11
    forms = audit.pct_forms(p)
    for lang in ("nl", "en"):
        for d in (0, 1, 2):
            assert report.fmt_pct(p, d, lang) in forms
    assert audit.ratio_forms(0.857) == [report.fmt_ratio(0.857, 2, "nl"), report.fmt_ratio(0.857, 2, "en")]


def test_hidden_small_share_is_caught(forbidden):
    leaks = audit.scan("In 2023 viel 9,1% van de trajecten uit.", forbidden)
    assert [(x.kind, x.text) for x in leaks] == [("share", "9,1%")]
    assert "jh_uitval" in leaks[0].why and "9,1%" in leaks[0].context
    assert found("In 2023, 9.1% dropped out; rounded 9%, or 9.09%.", forbidden) == ["9.1%", "9%", "9.09%"]


def test_complement_of_hidden_share_is_caught(forbidden):
    leaks = audit.scan("Van de trajecten liep 90,9% volgens plan.", forbidden)
    assert [(x.kind, x.text) for x in leaks] == [("complement", "90,9%")]


def test_recoverable_breakdown_cell_is_caught(forbidden):
    # headline 25,0% and end reason a 17,5% are shown; b (7,5%) is hidden: printing it leaks
    assert found("Uitval 25,0%: reden a 17,5%, reden b 7,5%.", forbidden) == ["7,5%"]
    assert found("reason b 7.5% and its complement 92.5%", forbidden) == ["7.5%", "92.5%"]


def test_interval_that_reveals_n_is_caught(forbidden):
    low, high = wilson(1, 11)
    text = f"9,1% is verborgen, maar het interval {report.fmt_ci(low, high, 1, 'nl')} staat er wel."
    leaks = audit.scan(text, forbidden)
    assert [x.kind for x in leaks] == ["share", "interval", "interval"]
    assert [x.text for x in leaks[1:]] == [report.fmt_pct(low, 1, "nl"), report.fmt_pct(high, 1, "nl")]


def test_hidden_case_mix_figures_are_caught(forbidden):
    text = "Doelrealisatie: O/E 0,83 (0,31 – 1,71), gecorrigeerd 41,2%."
    assert [(x.kind, x.text) for x in audit.scan(text, forbidden)] == [
        ("casemix", "0,83"), ("casemix", "0,31"), ("casemix", "1,71"), ("casemix", "41,2%")]


@pytest.mark.parametrize("text", [
    "Bij 3 van de 13 jongeren was de hulp niet afgerond.",
    "3 jongeren vielen uit.",
    "Er waren 7 trajecten met een nieuwe start.",
    "For 3 of the 13 young people the care ended early.",
    "3 young people dropped out.",
    "175 van de 182 trajecten eindigden volgens plan.",   # the complement: 7 did not
])
def test_count_in_a_sentence_is_caught(text, forbidden):
    leaks = audit.scan(text, forbidden)
    assert leaks and {x.kind for x in leaks} == {"count"}


@pytest.mark.parametrize("text", [
    "Op 1 januari 2024 liepen 120 trajecten.",             # dates and shown (rounded) counts
    "Pagina 3 van 12",                                      # page numbers
    "Inhoud ........ 9 Doelen gerealiseerd ........ 11",    # a page number before a heading
    "Het aandeel is 1 van de 8 instellingen het hoogst.",   # institutions are no people
    "minder dan 10 van de 12 jongeren",                    # the band of a hidden share
    "meer dan 110 van de 120 jongeren",
    "In 2024: 25,0% (95%-interval 18,1% – 33,5%); landelijk 30,0%.",
    "De uitval was 19,1% of 9,15%; versie 0.1.0, 10.30 uur.",  # 9,1% only as a whole number
])
def test_harmless_numbers_are_not_flagged(text, forbidden):
    assert audit.scan(text, forbidden) == []


def test_a_clean_report_passes(results):
    low, high = wilson(30, 120)
    page = ("<html><body><h2>Uitval</h2><p>In 2024 viel "
            f"{report.fmt_pct(0.25, 1)} van de trajecten uit (95%-interval {report.fmt_ci(low, high)}); "
            f"landelijk {report.fmt_pct(0.3, 1)}.</p>"
            "<table><tr><td>reden a</td><td>17,5%</td></tr><tr><td>reden b</td><td>–</td></tr></table>"
            "<p>Doelrealisatie: minder dan 10 van de 10 jongeren; niet getoond.</p>"
            "<p>Gemaakt op 29 december 2024, pagina 3 van 12.</p></body></html>")
    result = audit.audit_report(page, "pagina 3 van 12\n25,0%", {"uitval.csv": "jaar;waarde\n2024;0,25\n"},
                                results, INST, DEFAULT)
    assert result.ok, result.to_frame().to_string()
    assert "no leaks" in result.summary


def test_audit_report_reads_html_tags_and_tooltips(results):
    page = ('<html><body><table><tr><td>reden b</td><td>7,5<span>%</span></td></tr></table>'
            '<svg><circle title="Instelling A: 9,1%"/></svg><script>var x = "90,9%";</script></body></html>')
    result = audit.audit_report(page, None, None, results, INST, DEFAULT)
    assert not result.ok
    assert sorted(x.text.replace(" ", "") for x in result.leaks) == ["7,5%", "9,1%"]  # not the script
    assert {x.source for x in result.leaks} == {"html"}
    assert "2 leak(s)" in result.summary


def test_csv_files_are_scanned_for_fractions_too(results):
    result = audit.audit_report(None, None, {"cijfers.csv": "jaar;waarde\n2023;0,0909\n2024;0,25\n"},
                                results, INST, DEFAULT)
    assert [(x.source, x.text) for x in result.leaks] == [("csv:cijfers.csv", "0,0909")]


def test_shown_value_equal_to_a_hidden_one_is_not_forbidden(results):
    other = toy_results()
    other.indicators = pd.concat([other.indicators, pd.DataFrame([figure("jh_nieuw", 20, 220)])],
                                 ignore_index=True)  # 9,1% shown for another indicator
    forbidden = audit.forbidden_strings(other, INST, DEFAULT)
    assert "9,1%" not in forbidden and "90,9%" not in forbidden and "7,5%" in forbidden


def test_national_overview_looks_for_every_institution(results):
    forbidden = audit.forbidden_strings(results, "", DEFAULT)
    assert "9,1%" in forbidden and "(Instelling A)" in forbidden.percentages["9,1%"][1]


# --------------------------------------------------------------------------------------------
# the ledger, (a) and (c)
# --------------------------------------------------------------------------------------------
def test_formatting_inside_recording_is_recorded_and_outside_not():
    report.fmt_pct(0.5)  # no ledger: nothing happens
    assert ledger.active() is None
    with ledger.recording() as led:
        report.fmt_pct(1 / 11)
        report.fmt_ci(0.1, 0.2, 1, "en")
        report.fmt_count_rounded(1237, settings=DEFAULT)
        with ledger.context(indicator="jh_uitval", period="2024"):
            report.fmt_ratio(0.857)
    report.fmt_pct(0.7)
    frame = led.to_frame()
    assert list(frame["kind"]) == ["pct", "pct", "pct", "count", "ratio"]  # fmt_pct via fmt_number: one entry
    assert list(frame["text"]) == ["9,1%", "10.0%", "20.0%", "1.235", "0,86"]
    assert list(frame["decimals"]) == [1, 1, 1, 0, 2]
    assert list(frame["lang"]) == ["nl", "en", "en", "nl", "nl"]
    assert frame["indicator"].tolist()[-1] == "jh_uitval" and pd.isna(frame["indicator"].iloc[0])
    assert ledger.active() is None


def test_ledger_saves_and_loads(tmp_path):
    with ledger.recording() as led, ledger.context(unit=INST):
        report.fmt_int(1234, "en")
        report.fmt_pct(float("nan"))
    path = led.save(ledger.ledger_path(tmp_path, "2024/instelling-a"))
    assert path == tmp_path / "ledgers" / "2024" / "instelling-a.json"
    again = ledger.load(path)
    assert again["text"].tolist() == ["1,234", "n.b."] and again["unit"].tolist() == [INST, INST]
    assert pd.isna(again["value"].iloc[1])


def test_check_ledger_flags_recorded_hidden_values(results):
    with ledger.recording() as led:
        report.fmt_pct(0.25)
        with ledger.context(indicator="jh_uitval", category="end_reason:b"):
            report.fmt_pct(9 / 120)
        report.fmt_ratio(0.8333)
    leaks = audit.check_ledger(led.to_frame(), results, INST, DEFAULT)
    assert [(x.kind, x.text) for x in leaks] == [("ledger", "7,5%"), ("ledger", "0,83")]
    assert "end_reason:b" in leaks[0].context


def test_percentages_not_in_ledger_are_flagged():
    with ledger.recording() as led:
        report.fmt_pct(0.25)
        report.fmt_pct(0.95, 0)
    text = "Uitval 25,0% (95%-interval); elders 12,3% en 12.3 %."
    leaks = audit.percentages_not_in_ledger(text, led.to_frame())
    assert [x.text for x in leaks] == ["12,3%", "12.3 %"]
    assert {x.kind for x in leaks} == {"unrecorded"}


# --------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------
def published(tmp_path, page: str, led: ledger.Ledger | None = None):
    out = tmp_path / "reports"
    (out / "2024").mkdir(parents=True)
    (out / "2024" / "instelling-a.html").write_text(page, encoding="utf-8")
    manifest = {"format": 1, "runs": [], "reports": {"2024/instelling-a": {
        "institution": INST, "kind": "institution", "period": "2024", "slug": "instelling-a", "status": "done",
        "files": {"html": "2024/instelling-a.html"}}}}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    store = toy_results().save(tmp_path / "store")
    if led is not None:
        led.save(ledger.ledger_path(store, "2024/instelling-a"))
    return out, store


def test_cli_audit_fails_a_leaking_folder(tmp_path, capsys):
    out, store = published(tmp_path, "<p>Reden b: 7,5% van de trajecten; 3 van de 13 jongeren.</p>")
    assert cli.main(["audit", str(out), "--cache", str(store)]) == 1
    said = capsys.readouterr().out
    assert "2024/instelling-a" in said and "7,5%" in said and "3 van de 13" in said
    assert "2 lekken in 1 rapporten (van 1)" in said


def test_cli_audit_passes_a_clean_folder_and_reads_the_ledger(tmp_path, capsys):
    with ledger.recording() as led:
        report.fmt_pct(0.25)
    out, store = published(tmp_path, "<p>Uitval 25,0%; landelijk 30,0%.</p>", led)
    assert cli.main(["audit", str(out), "--cache", str(store), "--lang", "en"]) == 1  # 30,0% not in the ledger
    said = capsys.readouterr().out
    assert "With a ledger of printed numbers: 1 reports" in said and "30,0%" in said and "not in ledger" in said
    with ledger.recording(led):
        report.fmt_pct(0.3)
    led.save(ledger.ledger_path(store, "2024/instelling-a"))
    assert cli.main(["audit", str(out), "--cache", str(store), "--lang", "en"]) == 0
    assert "No leaks found in 1 reports." in capsys.readouterr().out


def test_cli_audit_without_a_store_cannot_run(tmp_path, capsys):
    out, _ = published(tmp_path, "<p>niets</p>")
    assert cli.main(["audit", str(out)]) == 2  # the manifest names no results store
    assert "--cache" in capsys.readouterr().err


def test_a_hidden_longer_window_does_not_hide_the_modelled_figure():
    """Herhaald beroep has follow-up windows of 12 and 24 months; the model uses the window in force
    (12). A hidden 24-month figure must not make the shown 12-month O/E a forbidden number."""
    from outcome_analysis.indicators import registry

    assert registry.get("jbjr_herhaald_beroep").window_months(DEFAULT) == 12
    rows = [dict(figure("jbjr_herhaald_beroep", 20, 80), care_type="jb", window_months=12),
            dict(figure("jbjr_herhaald_beroep", 3, 40), care_type="jb", window_months=24, suppressed=True)]
    casemix = pd.DataFrame([{
        "indicator": "jbjr_herhaald_beroep", "report_period": "2024", "period": "2024", "care_type": "jb",
        "institution": INST, "n": 80, "observed": 20.0, "expected": 18.0, "oe_ratio": 1.1111,
        "oe_ci_low": 0.72, "oe_ci_high": 1.64, "national_value": 0.225, "raw_value": 0.25, "adjusted_value": 0.25,
    }])
    empty = pd.DataFrame()
    store = Results(indicators=pd.DataFrame(rows), context=empty, quality=empty, verloop=empty, casemix=casemix,
                    casemix_mean=empty, model_summaries=empty, coefficients=empty, calibration=empty,
                    meta=toy_results().meta)
    forbidden = audit.forbidden_strings(store, INST, DEFAULT)
    assert "1,11" not in forbidden.numbers and "0,72" not in forbidden.numbers
    assert report.fmt_pct(3 / 40) in forbidden.percentages  # the hidden 24-month share itself stays forbidden


def test_the_printed_response_caution_level_is_no_hidden_figure():
    """"De respons is laag (minder dan 30%)": the fixed level is printed whatever the figures are. A
    hidden share of 70% (7 of 10) has the complement 30%; the level must not fail the report (found on
    a demo report of a GI), while that hidden share itself is still caught."""
    results = toy_results()
    hidden = figure("jh_uitval", 7, 10, period="2023", category="end_reason:a", suppressed=True)
    national = (results.indicators["scope"] == "national") & (results.indicators["indicator"] == "jh_uitval")
    results.indicators.loc[national, ["numerator", "value"]] = [310.0, 0.31]  # no shown 30% or 70% here
    results.indicators = pd.concat([results.indicators, pd.DataFrame([hidden])], ignore_index=True)
    assert report.RESPONSE_CAUTION == pytest.approx(1 - 7 / 10)
    with ledger.recording() as led:
        report.fmt_pct(report.RESPONSE_CAUTION, 0)
    frame = led.to_frame()
    assert audit.check_ledger(frame, results, INST, DEFAULT) == []
    checked = audit.audit_report("<p>De respons is laag (minder dan 30%).</p>", None, None, results, INST, DEFAULT,
                                 ledger_frame=frame)
    assert checked.ok, checked.summary
    with ledger.recording() as led:
        report.fmt_pct(7 / 10, 0)
    assert [x.text for x in audit.check_ledger(led.to_frame(), results, INST, DEFAULT)] == ["70%"]
