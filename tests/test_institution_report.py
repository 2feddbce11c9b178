"""End-to-end tests of notebooks/institution_report.ipynb: executed with papermill on the small demo,
exported with outcome_analysis.export, and read back as a stakeholder would (HTML text, PDF text
via pypdf). Module fixtures execute each notebook once; the tests check many things on it."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

papermill = pytest.importorskip("papermill")
pypdf = pytest.importorskip("pypdf")
from bs4 import BeautifulSoup  # noqa: E402

from outcome_analysis import export, registry, report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "institution_report.ipynb"
INSTITUTION = "Jeugdbescherming Randstad Midden"   # jb + jr, with suppressed cells
EVIL = "<script>alert(1)</script> ../../Jeugd"


def _execute(out_dir: Path, name: str, **parameters) -> Path:
    out = out_dir / f"{name}.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(out), parameters=parameters, kernel_name="python3",
                               progress_bar=False, log_output=False, cwd=str(NOTEBOOK.parent))
    return out


def _render(nb: Path, institution: str, period: str, lang: str = "nl") -> dict:
    html_path = export.to_html(nb, nb.with_suffix(".html"), institution=institution, period=period, lang=lang)
    pdf_path = export.to_pdf(html_path, nb.with_suffix(".pdf"))
    reader = pypdf.PdfReader(str(pdf_path))
    pages = [p.extract_text() or "" for p in reader.pages]
    html = html_path.read_text(encoding="utf-8")
    return {"html": html, "text": BeautifulSoup(html, "html.parser").get_text(" "), "pages": pages,
            "pdf": "\n".join(pages), "html_path": html_path, "pdf_path": pdf_path}


@pytest.fixture(scope="module")
def stored(small_results, tmp_path_factory) -> Path:
    return small_results.save(tmp_path_factory.mktemp("results"))


@pytest.fixture(scope="module")
def period(small_results) -> str:
    return small_results.meta["periods"][-1]


@pytest.fixture(scope="module")
def normal(stored, period, tmp_path_factory, small_demo_path):
    folder = tmp_path_factory.mktemp("normal")
    nb = _execute(folder, "report", data_path=str(small_demo_path), results_path=str(stored),
                  institution=INSTITUTION, period=period)
    return _render(nb, INSTITUTION, period)


@pytest.fixture(scope="module")
def english_computed(small_demo_path, period, tmp_path_factory):
    """(b) without results_path: the notebook computes itself (and in English)."""
    folder = tmp_path_factory.mktemp("computed")
    nb = _execute(folder, "report", data_path=str(small_demo_path), results_path="", institution=INSTITUTION,
                  period=period, lang="en")
    return _render(nb, INSTITUTION, period, lang="en")


@pytest.fixture(scope="module")
def unknown(stored, period, tmp_path_factory, small_demo_path):
    folder = tmp_path_factory.mktemp("unknown")
    nb = _execute(folder, "report", data_path=str(small_demo_path), results_path=str(stored),
                  institution="Stichting Bestaat Niet", period=period)
    return _render(nb, "Stichting Bestaat Niet", period)


@pytest.fixture(scope="module")
def evil(small_demo, period, tmp_path_factory):
    """A copy of the small demo where one institution is called ``<script>...`` with ``../``."""
    from outcome_analysis.results import compute_results

    t = small_demo.trajectories.copy()
    t["institution"] = t["institution"].astype(str).replace({INSTITUTION: EVIL})
    data = dataclasses.replace(small_demo, trajectories=t)
    results = compute_results(data).save(tmp_path_factory.mktemp("evil_results"))
    folder = tmp_path_factory.mktemp("evil")
    nb = _execute(folder, "report", results_path=str(results), institution=EVIL, period=period)
    out = folder / report.slugify(EVIL)
    html = export.to_html(nb, out.with_suffix(".html"), institution=EVIL, period=period)
    pdf = export.to_pdf(html, out.with_suffix(".pdf"))
    return {"html": html.read_text(encoding="utf-8"), "html_path": html, "pdf_path": pdf, "folder": folder,
            "pdf": "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(str(pdf)).pages)}


def test_committed_notebook_is_clean():
    import json

    nb = json.loads(NOTEBOOK.read_text())
    assert not [i for i, c in enumerate(nb["cells"]) if c.get("outputs") or c.get("execution_count")]
    params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    source = "".join(params[0]["source"])
    for line in ('data_path: str = "../data/demo"', 'results_path: str = ""', 'institution: str = ""',
                 'period: str = ""', 'lang: str = "nl"'):
        assert line in source


def test_report_names_the_institution_and_its_figures(normal, small_results, period):
    t = small_results.indicators
    # pi07 (regular end of JB episodes) passes the two-cell rule at this GI; jbjr_verloop is a band
    row = t[(t["indicator"] == "pi07_reden_beeindiging_jb") & (t["institution"] == INSTITUTION) & (t["period"] == period)
            & (t["care_type"] == "jb") & (t["category"] == "")].iloc[0]
    assert not row["suppressed"]
    assert INSTITUTION in normal["text"]
    assert report.fmt_pct(row["value"]) in normal["text"]
    assert report.fmt_ci(row["ci_low"], row["ci_high"]) in normal["text"]
    assert report.fmt_pct(row["value"]) in normal["pdf"]


def test_the_report_shows_the_stored_adjusted_verdicts(normal, small_results, period):
    """Every adjusted O/E verdict of the institution in the period its figure is shown is in the report
    as the results store holds it: its verdict, O/E and expected range (or "te weinig gegevens"). (The
    adjusted mean change of the change indicators is not worded in the institution report.)"""
    from outcome_analysis import story

    s = story.prepare(small_results, INSTITUTION, period)
    text = " ".join(normal["text"].split())
    shown = 0
    rows = small_results.comparison(None, None, None, basis="adjusted", unit=INSTITUTION, measure="oe_ratio")
    for _, row in rows.iterrows():
        entry = registry.get(row["indicator"])
        if row["care_type"] not in s.shown_care_types(entry) or s.shown_period(entry) != row["period"]:
            continue
        if row["text_key"] == "suppressed":
            continue
        assert report.fmt_expected_range(row.to_dict()) in text, (row["indicator"], row["care_type"])
        shown += 1
    assert shown


def test_pdf_has_the_sections_and_page_numbers(normal):
    pdf = normal["pdf"]
    for heading in ("Samenvatting", "Basisset outcome jeugdbescherming en jeugdreclassering", "Verloop van de trajecten",
                    "Context bij de uitkomsten", "Vragen voor het gesprek", "Datakwaliteit", "Verantwoording"):
        assert heading in pdf, heading
    n = len(normal["pages"])
    assert n >= 8
    assert f"pagina 2 van {n}" in normal["pages"][1]
    assert "Inhoud" in normal["pages"][1]


#: pages of the small-demo report of INSTITUTION before the JB/JR tables were combined and the page
#: breaks were limited to the main chapters (measured on commit cf6cd52).
PAGES_BEFORE = 28


def test_report_is_shorter_than_before(normal):
    """JB and JR in one table per indicator (a care type with too few records said in one line),
    later sets and data quality without a page break, smaller methods tables: clearly fewer pages,
    the content is all there."""
    n = len(normal["pages"])
    assert n <= PAGES_BEFORE - 3, n
    pdf = normal["pdf"]
    for text in ("Rekening houdend met de problematiek van de jongeren", "Kaplan",
                 "Jeugdreclassering: Te weinig gegevens", "Tien prestatie-indicatoren"):
        assert text in pdf, text
    assert "kleine aantallen" not in pdf  # the shrunk O/E is never printed beside a verdict


def test_no_code_and_no_traceback(normal):
    for text in (normal["html"], normal["pdf"]):
        assert "Traceback" not in text
        assert "st.show(" not in text and "import " not in text and "story.ok" not in text
    assert "results_path" not in normal["text"]


def test_suppressed_cells_are_absent(normal, small_results, period):
    t = small_results.indicators
    hidden = t[(t["indicator"] == "jbjr_verloop") & (t["institution"] == INSTITUTION) & (t["period"] == period)
               & (t["care_type"] == "jb") & t["category"].str.startswith("end_reason:") & t["suppressed"]]
    assert len(hidden), "needs an institution with suppressed cells"
    soup = BeautifulSoup(normal["html"], "html.parser")
    checked = 0
    for _, cell in hidden.iterrows():
        label = registry.category_label(cell["category"])
        for tr in soup.find_all("tr"):
            tds = tr.find_all("td")
            if tds and tds[0].get_text(strip=True) == label:
                assert {td.get_text(strip=True) for td in tds[1:-1]} == {"–*"}, label
                assert report.fmt_pct(cell["value"]) not in tr.get_text()
                checked += 1
        if label in normal["text"]:
            checked += 1
        # nor in the PDF next to its label
        assert not re.search(re.escape(label) + r"\s+" + re.escape(report.fmt_pct(cell["value"])), normal["pdf"])
    assert checked
    assert "niet getoond: een percentage alleen als teller en rest elk minstens 5 zijn" in " ".join(normal["pdf"].split())


def test_other_institutions_are_never_named(normal, small_results):
    others = [n for n in small_results.institutions if n != INSTITUTION and n not in INSTITUTION]
    for text in (normal["text"], normal["pdf"]):
        assert not [n for n in others if n in text]


def test_notebook_computes_itself_and_speaks_english(english_computed):
    pdf = english_computed["pdf"]
    for heading in ("For the conversation", "Summary", "Course of the trajectories", "Data quality", "Methods"):
        assert heading in pdf, heading
    assert "Samenvatting" not in pdf and "Verantwoording" not in pdf
    assert INSTITUTION in english_computed["text"]


def test_unknown_institution_gets_the_short_page(unknown, period):
    assert f"Te weinig gegevens voor een rapport over Stichting Bestaat Niet in {period}" in unknown["pdf"]
    assert "Traceback" not in unknown["html"]
    assert len(unknown["pages"]) <= 3


def test_hostile_institution_name_is_escaped_and_harmless(evil):
    html = evil["html"]
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "alert(1)" in evil["pdf"]                 # shown as text
    assert evil["html_path"].parent == evil["folder"]  # the name never became a path
    assert re.fullmatch(r"[a-z0-9-]+\.html", evil["html_path"].name)
