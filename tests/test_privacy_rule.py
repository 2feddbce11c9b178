"""The disclosure rule at its default, end to end: hand-made institutions just above the thresholds
(denominators of 10-15 with 1-3 events, and their complements) go through the batch, and the HTML and
the PDF text of their reports show no share, count, interval or sentence from which a count below the
threshold follows; with every threshold at 20 every threshold text says 20.

Uitval (jeugdhulp, 2024), hand-counted:

- A: 12 ended, 2 drop-outs (16,7%; complement 10): 2 < 10, hidden, said "minder dan 10 van de 12";
- B: 15 ended, 3 drop-outs (20,0%; complement 12): 3 < 10, hidden, said "minder dan 10 van de 15";
- C: 40 ended, 12 drop-outs (30,0%): shown (12 and 28 both reach 10);
- D: 40 ended, 14 drop-outs (35,0%): shown;
- E: 40 ended, 3 drop-outs (7,5%): hidden, said "minder dan 10 van de 40"; its "zonder hulp verder" is
  20 of 40 (shown), so its report has figures beside the band (A and B have nothing to show: a
  one-page report saying so, which must not leak either).
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from outcome_analysis.contract import io
from outcome_analysis.presentation import report
from outcome_analysis.running import audit
from outcome_analysis.statistics import stats
from toydata import toy_dataset
from toydata import trajectory as T

ROOT = Path(__file__).resolve().parents[1]
COUNTS = {"Zorg A": (12, 2), "Zorg B": (15, 3), "Zorg C": (40, 12), "Zorg D": (40, 14), "Zorg E": (40, 3)}
HIDDEN = ("Zorg A", "Zorg B", "Zorg E")


def _delivery():
    rows = []
    for inst, (ended, dropped) in COUNTS.items():
        for i in range(ended):
            reason = "voortijdig_client" if i < dropped else "volgens_plan"
            rows.append(T(f"{inst[-1]}{i}", f"{inst[-1]}k{i}", inst, "jeugdhulp", "ambulant", "2023-09-01",
                          "2024-05-01", reason, complexity="enkelvoudig" if i % 2 else "meervoudig",
                          without_help=(i % 2 == 0) if inst == "Zorg E" else None))
    # one trajectory still running, started on the last day: a delivery's reference date is its latest date
    rows.append(T("Dlast", "Dklast", "Zorg D", "jeugdhulp", "ambulant", "2024-12-31"))
    return toy_dataset(rows, reference_date="2024-12-31")


def _forms(p: float) -> list[str]:
    """Every printed form of a share: 0-2 decimals, Dutch and English."""
    return [f"{p * 100:.{d}f}%".replace(".", sep) for d in (0, 1, 2) for sep in (",", ".")]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """One batch (html and pdf) over the hand-made delivery, default thresholds; its texts by institution."""
    folder = tmp_path_factory.mktemp("privacy_delivery")
    io.write(_delivery(), folder, "parquet")
    out = tmp_path_factory.mktemp("privacy_reports")
    cache = tmp_path_factory.mktemp("privacy_cache")
    done = subprocess.run([sys.executable, str(ROOT / "run_reports.py"), "--data", str(folder), "--out", str(out),
                           "--cache", str(cache), "--edition", "full", "--institutions", *HIDDEN, "--formats", "html,pdf", "--jobs", "1", "--quiet",
                           "--no-national", "--figures"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = {e["institution"]: e["files"] for e in manifest["reports"].values()
             if e["status"] in ("made", "too_little_data")}
    assert set(files) == set(HIDDEN)  # every report passed the batch's leak audit and was published
    texts = {}
    for inst in HIDDEN:
        html = (out / files[inst]["html"]).read_text(encoding="utf-8")
        pdf = audit.text_of_pdf(out / files[inst]["pdf"])  # pdftotext, or pypdf without poppler
        texts[inst] = {"html": re.sub(r"<[^>]+>", " ", html), "pdf": pdf}
    return out, texts, cache


@pytest.mark.parametrize("inst", HIDDEN)
def test_no_share_count_or_interval_of_a_small_cell_is_published(published, inst):
    _, texts, _ = published
    ended, dropped = COUNTS[inst]
    p = dropped / ended
    low, high = stats.proportion_ci(dropped, ended)
    forbidden = _forms(p) + _forms(1 - p) + _forms(float(low)) + _forms(float(high))
    for kind, text in texts[inst].items():
        flat = " ".join(text.split())
        for form in forbidden:  # as a number of its own (not the tail of 58%)
            assert not re.search(rf"(?<![\d.,]){re.escape(form)}", flat), (inst, kind, form)
        # no count of drop-outs below the threshold in a sentence, no exact complement
        assert not re.search(rf"\b{dropped} van de {ended}\b", flat), (inst, kind)
        assert not re.search(rf"\b{ended - dropped} van de {ended}\b", flat), (inst, kind)
    if inst == "Zorg E":  # a report with figures: the band is said instead ("minder dan 10 van de 40")
        assert f"minder dan 10 van de {ended}" in " ".join(texts[inst]["html"].split())
        assert report.fmt_pct(0.5) in texts[inst]["html"]  # zonder hulp verder, 20 of 40, shown


def test_the_batch_published_every_report_and_the_figures_export_hides_them(published):
    import pandas as pd

    out, _, _ = published
    figures = pd.read_csv(next((out / "cijfers").rglob("figures.csv")))
    mine = figures[(figures["institution"].isin(HIDDEN)) & (figures["indicator"] == "jh_uitval")
                   & (figures["period"].astype(str) == "2024") & (figures["category"].fillna("") == "")
                   & (figures["source"] == "indicator")]
    assert len(mine) == 3 and mine["value"].isna().all() and mine["numerator"].isna().all()
    shown = figures[(figures["institution"] == "Zorg C") & (figures["indicator"] == "jh_uitval")
                    & (figures["period"].astype(str) == "2024") & (figures["category"].fillna("") == "")
                    & (figures["source"] == "indicator")]
    assert shown["numerator"].tolist() == [12]  # a share that passes keeps its exact count


def test_every_threshold_text_says_the_thresholds_in_force(tmp_path):
    """A report made with min_denominator, min_count and min_cell at 20: the threshold texts say 20."""
    from outcome_analysis.presentation import story
    from outcome_analysis.running.results import compute_results
    from outcome_analysis.settings import Settings

    settings = Settings(min_denominator=20, min_count=20, min_cell=20)
    results = compute_results(_delivery(), settings)
    s = story.prepare(results, "Zorg C")  # 12 of 40: shown at 10, a band at 20
    from outcome_analysis.presentation.sections.institution import indicators, summary

    # the summary's reading guide names the thresholds; the band stands in the indicator's words
    html = " ".join(re.sub(r"<[^>]+>", " ", "".join(str(i) for i in summary.build(s) + indicators.build(s))).split())
    assert "minder dan 20 van de 40" in html
    assert "minstens 20 trajecten met en 20 zonder" in html
    assert "minder dan 10" not in html
    assert report.fmt_pct(12 / 40) not in html


def test_a_hidden_part_cannot_be_recovered_from_the_pooled_figure():
    """Client experience, hand-counted: pooled 40 of 60, youths 5 of 12 (hidden: 5 < 10), parents 35 of
    48. Shown with the pooled figure, the parents' 35 of 48 would give the youths' 5 of 12 back (40 - 35,
    60 - 48), so the parents' figure is hidden too; the pooled one stays."""
    import pandas as pd

    from outcome_analysis.indicators.suppression import resuppress
    from outcome_analysis.settings import DEFAULT

    def r(category, x, n):
        return {"indicator": "jh_tevredenheid", "scope": "institution", "institution": "A", "period": "2024",
                "care_type": "jeugdhulp", "category": category, "numerator": float(x), "denominator": n,
                "window_months": pd.NA, "suppressed": False}

    t = pd.DataFrame([r("", 40, 60), r("informant:jeugdige", 5, 12), r("informant:ouder", 35, 48)])
    t["window_months"] = t["window_months"].astype("Int64")
    assert resuppress(t, DEFAULT)["suppressed"].tolist() == [False, True, True]
    # both parts pass: nothing more is hidden
    t2 = pd.DataFrame([r("", 40, 80), r("informant:jeugdige", 15, 32), r("informant:ouder", 25, 48)])
    t2["window_months"] = t2["window_months"].astype("Int64")
    assert not resuppress(t2, DEFAULT)["suppressed"].any()


def test_the_batch_keeps_each_reports_ledger_and_the_audit_reads_it(published, tmp_path):
    """(a) and (c) of the leak audit: the batch keeps every published report's ledger of printed
    numbers beside its results store; none of it is a hidden figure, every percentage of the report
    is in it, and a percentage planted in a published page is caught by ``audit DIR --cache CACHE``."""
    import json
    import shutil

    from outcome_analysis.presentation import ledger

    out, _, cache = published
    stores = audit.stores_for(out, cache)
    assert list(stores) == ["year"] and stores["year"].parent == cache
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for key, entry in manifest["reports"].items():
        frame = ledger.load(ledger.ledger_path(stores["year"], key))
        assert len(frame) > 0
        if "unit" in frame:  # a "too little data" page prints outside the sections
            assert set(frame["unit"].dropna()) <= {entry["institution"]}
        ended, dropped = COUNTS[entry["institution"]]
        hidden = set(_forms(dropped / ended) + _forms(1 - dropped / ended))
        assert not hidden & set(frame["text"]), key  # the ledger printed no hidden share
        if entry["institution"] == "Zorg E":  # the figures it shows are recorded with their indicator
            shown = frame[frame["indicator"].fillna("") == "jh_zonder_hulp_verder"]
            assert report.fmt_pct(0.5) in set(shown["text"])
    # the published folder passes, with the ledgers; a planted percentage fails it
    command = [sys.executable, "-m", "outcome_analysis", "audit", str(out), "--cache", str(cache)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Met register van getoonde getallen: 3 rapporten" in done.stdout
    planted = tmp_path / "planted"
    shutil.copytree(out, planted)
    page = planted / next(e for e in manifest["reports"].values() if e["institution"] == "Zorg E")["files"]["html"]
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", "<p>Tevredenheid 83,4%</p></body>"),
                    encoding="utf-8")
    done = subprocess.run([*command[:4], str(planted), *command[5:]], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1 and "83,4%" in done.stdout, done.stdout + done.stderr
