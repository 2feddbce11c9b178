"""Execute the national overview and methods notebooks (one cell per section of the documents
"national" and "methods") with papermill on the small demo, export them to HTML and PDF, and read
the results as a reader would. Slow: about a minute."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _text(html: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").get_text(" ")


@pytest.fixture(scope="module")
def results_dir(small_results, tmp_path_factory):
    return small_results.save(tmp_path_factory.mktemp("results"))


def _run(name, out_dir, **params):
    import papermill as pm

    out = out_dir / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters=params, cwd=str(NOTEBOOKS),
                        progress_bar=False, kernel_name="python3")
    return out


@pytest.fixture(scope="module")
def national(small_demo_path, results_dir, tmp_path_factory):
    from outcome_analysis import export, overview
    from outcome_analysis.settings import for_delivery

    out_dir = tmp_path_factory.mktemp("national")
    nb = _run("national_overview", out_dir, data_path=str(small_demo_path), results_path=str(results_dir),
              period="", lang="nl", institution="ignored")
    settings = for_delivery(small_demo_path)[0]  # the demo declares itself national
    html = export.to_html(nb, out_dir / "national.html", title=overview.report_title("national", settings=settings),
                          lang="nl")
    pdf = export.to_pdf(html, out_dir / "national.pdf")
    return nb, html.read_text(encoding="utf-8"), pdf


@pytest.fixture(scope="module")
def methods(small_demo_path, results_dir, tmp_path_factory):
    from outcome_analysis import export, overview
    from outcome_analysis.settings import for_delivery

    out_dir = tmp_path_factory.mktemp("methods")
    nb = _run("methods", out_dir, data_path=str(small_demo_path), results_path=str(results_dir), lang="nl")
    html = export.to_html(nb, out_dir / "methods.html",
                          title=overview.report_title("methods", settings=for_delivery(small_demo_path)[0]), lang="nl")
    pdf = export.to_pdf(html, out_dir / "methods.pdf")
    return nb, html.read_text(encoding="utf-8"), pdf


@pytest.mark.parametrize("name", ["national_overview", "methods"])
def test_committed_clean(name):
    import nbformat

    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for p in ("data_path: str", "results_path: str", "period: str", "lang: str", "institution: str"):
        assert p in params[0].source


@pytest.mark.parametrize("name,document", [("national_overview", "national"), ("methods", "methods")])
def test_one_cell_per_section_in_document_order(name, document):
    """Each section of the document is shown by its own cell, in the document's order."""
    import nbformat

    from outcome_analysis.presentation import documents

    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [c.source.strip() for c in nb.cells if c.cell_type == "code"]
    loop = rf'for name in documents\.names\("{document}"\):\s+show\(documents\.section\("{document}", name, ov\)\)'
    if any(re.fullmatch(loop, c) for c in code):  # the overview shows every section its document lists
        assert not any(re.search(rf'documents\.section\("{document}", "\w+"', c) for c in code)
        return
    # the methods notebook pairs each section with its prose: one cell per section, in the document's order
    shown = [m.group(1) for c in code
             for m in [re.fullmatch(rf'show\(documents\.section\("{document}", "(\w+)", ov\)\)', c)] if m]
    assert shown == documents.names(document)


def test_national_overview_names_institutions(national, small_results):
    from outcome_analysis import overview

    _nb, html, _pdf = national
    text = _text(html)
    period = small_results.meta["periods"][-1]
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period)
    for name in adj.loc[~adj["suppressed"], "institution"]:
        assert name in text
    assert "te klein" in text.lower()


def test_national_overview_headings(national):
    _nb, html, _pdf = national
    for heading in ("Samenvatting", "Basisset outcome jeugdbescherming en jeugdreclassering",
                    "Geharmoniseerde outcome-indicatoren jeugdhulp", "Tien prestatie-indicatoren jeugdzorg",
                    "Uitval – jeugdhulp", "Landelijke trends", "Bijlage: Over deze cijfers",
                    "Bijlage: Cijfers per instelling"):
        assert re.search(rf"<h[23][^>]*>\s*{re.escape(heading)}", html), heading
    text = _text(html)
    assert "geen rangorde" in text and "alfabetische volgorde" in text
    assert "Rangschikbaarheid" in text and "Bij toeval verwacht (W/V)" in text
    assert "W/V rekening houdend met kleine aantallen" not in text or "andere vraag" in text  # never beside a verdict


@pytest.mark.parametrize("which", ["national", "methods"])
def test_no_code_no_traceback(which, request):
    _nb, html, _pdf = request.getfixturevalue(which)
    text = _text(html)
    assert "Traceback" not in text
    assert "overview.load(" not in text and "import " not in text
    assert "results_path" not in text  # the parameters cell is hidden


def test_suppressed_institution_shows_no_number(national, small_results):
    """An institution below the threshold appears only by name in the 'te klein' list: its row is
    not in the table, and no cell of the table carries its raw share."""
    from bs4 import BeautifulSoup

    from outcome_analysis import overview

    _nb, html, _pdf = national
    period = small_results.meta["periods"][-1]
    adj = overview.adjusted_table(small_results, "jh_uitval", "jeugdhulp", period)
    small = adj.loc[adj["suppressed"]]
    assert len(small)
    soup = BeautifulSoup(html, "html.parser")
    rows = [tr.get_text(" ") for tr in soup.find_all("tr")]
    from outcome_analysis import report

    for name, raw in zip(small["institution"], small["raw_value"]):
        # never a table row with its uitval figure (it may have rows of other indicators that pass the rule)
        assert not any(name in r and report.fmt_pct(raw) in r for r in rows), name
        assert name in soup.get_text(" ")              # but listed as too small


def test_pdf_readable(national, methods):
    from pypdf import PdfReader

    for _nb, _html, pdf in (national, methods):
        reader = PdfReader(str(pdf))
        assert len(reader.pages) > 3
        text = " ".join(p.extract_text() or "" for p in reader.pages[:4])
        assert "Inhoud" in text
    text = " ".join(p.extract_text() or "" for p in PdfReader(str(national[2])).pages[:4])
    assert "Samenvatting" in text and "Landelijk overzicht" in text


def test_methods_sections(methods):
    _nb, html, _pdf = methods
    text = _text(html)
    for heading in ("De drie indicatorsets", "Episodes en vervolg", "Perioden en volgtermijnen",
                    "Betrouwbaarheidsintervallen (Wilson)", "Onthullingsbeheersing", "Case-mix-correctie",
                    "Overdispersie", "Krimp voor kleine instellingen", "Betrouwbare verandering (RCI)"):
        assert re.search(rf"<h2[^>]*>\s*{re.escape(heading)}", html), heading
    assert "herhaald beroep" in text.lower()
    assert "RCI = (58 − 68)" in text
    assert "odds ratio" in text.lower()
    assert "W/V ∓ z·√(s² + τ²) bij 99,8%" in text and "FLIC" in text and "niet 1" in text


def test_national_overview_in_english(small_demo_path, results_dir, tmp_path):
    from outcome_analysis import export

    nb = _run("national_overview", tmp_path, data_path=str(small_demo_path), results_path=str(results_dir),
              lang="en")
    text = _text(export.render_html(nb, lang="en"))
    assert "Summary" in text and "not a ranking" in text and "too small" in text.lower()
    assert "Samenvatting" not in text
