"""Tests of outcome_analysis.export: the report template, HTML/PDF export, atomic writes, escaping,
failed notebooks.

One small notebook is built with nbformat and executed once with papermill (module fixture); its
HTML and PDF are rendered once and shared by the tests that read them.
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from outcome_analysis import atomic, export
from outcome_analysis.settings import DEFAULT
from outcome_analysis.errors import OutcomeAnalysisError

INSTITUTION = "Stichting Jeugd & Gezin Zuid"
PERIOD = "2024"
TITLE = "Outcome-rapportage testinstelling"


def _source_notebook() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell('institution = "Voorbeeld"  # institution\nperiod = "2023"  # reporting period')
    params.metadata["tags"] = ["parameters"]
    hidden = new_code_cell('print("SECRET-HIDDEN-CELL-OUTPUT")')
    hidden.metadata["tags"] = ["remove_cell"]
    nb.cells = [
        new_markdown_cell("# Rapport"),
        params,
        new_markdown_cell("## Resultaten\n\nDe uitkomsten van de periode."),
        new_code_cell(
            "import warnings\n"
            'warnings.warn("WARNING-SHOULD-NOT-SHOW")\n'
            "import pandas as pd\n"
            "from IPython.display import HTML, display\n"
            'df = pd.DataFrame({"instelling": [institution], "waarde": [0.5]})\n'
            'print("STDOUT-LINE")\n'
            "display(HTML(df.to_html()))\n"
            'display(HTML("<p>data</p><script>alert(\'XSS-IN-OUTPUT\')</script><img src=x onerror=alert(2)>"))'
        ),
        new_markdown_cell("### Figuur"),
        new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots(figsize=(6.5, 3.5))\n"
            "ax.plot([1, 2, 3], [2, 1, 3])\n"
            "plt.show()"
        ),
        hidden,
        new_markdown_cell("## Brede tabel"),
        new_code_cell(
            "import numpy as np\n"
            "wide = pd.DataFrame(np.arange(75).reshape(3, 25), columns=[f'kolom_{i}' for i in range(25)])\n"
            "display(HTML(wide.to_html()))"
        ),
    ]
    return nb


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> Path:
    papermill = pytest.importorskip("papermill")
    folder = tmp_path_factory.mktemp("nb")
    source = folder / "report.ipynb"
    nbformat.write(_source_notebook(), source)
    out = folder / "report.out.ipynb"
    papermill.execute_notebook(str(source), str(out), parameters={"institution": INSTITUTION, "period": PERIOD},
                               kernel_name="python3", progress_bar=False, log_output=False,
                               cwd=str(folder))
    return out


@pytest.fixture(scope="module")
def rendered(executed, tmp_path_factory):
    folder = tmp_path_factory.mktemp("out")
    html_path = export.to_html(executed, folder / "report.html", title=TITLE)
    pdf_path = export.to_pdf(html_path, folder / "report.pdf")
    return html_path, pdf_path


@pytest.fixture(scope="module")
def html_text(rendered) -> str:
    return rendered[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pdf_pages(rendered) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(rendered[1]).pages]


def test_cover_has_title_institution_period_and_confidential(html_text):
    cover = html_text.split('<header class="oa-cover"', 1)[1].split("</header>", 1)[0]
    assert TITLE in cover
    assert "Stichting Jeugd &amp; Gezin Zuid" in cover  # escaped
    assert PERIOD in cover
    assert "Vertrouwelijk" in cover


def test_no_code_parameters_stderr_or_hidden_cells(html_text):
    assert "print(" not in html_text
    assert "import pandas" not in html_text
    assert "injected-parameters" not in html_text
    assert "Voorbeeld" not in html_text  # the default in the parameters cell
    assert "WARNING-SHOULD-NOT-SHOW" not in html_text
    assert "SECRET-HIDDEN-CELL-OUTPUT" not in html_text
    assert "Traceback" not in html_text
    assert "In&nbsp;[" not in html_text and "Out[" not in html_text
    assert "STDOUT-LINE" in html_text  # stdout stays: it is output


def test_self_contained_no_external_references(html_text):
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", html_text, flags=re.I)
    assert not [t for t in tags if re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", t, flags=re.I)]
    assert "require.js" not in html_text and "mathjax" not in html_text.lower()
    assert "<img" in html_text and "data:image/png;base64," in html_text  # the figure is embedded


def test_scripts_from_outputs_are_removed(html_text):
    assert re.search(r"<script\b", html_text, flags=re.I) is None
    assert "onerror" not in html_text
    assert "XSS-IN-OUTPUT" not in html_text
    assert "<p>data</p>" in html_text


def test_table_of_contents_lists_headings(html_text):
    nav = html_text.split('<nav class="oa-toc"', 1)[1].split("</nav>", 1)[0]
    for heading in ("Resultaten", "Figuur", "Brede tabel"):
        assert heading in nav
    for anchor in re.findall(r'href="#([^"]+)"', nav):
        assert f'id="{anchor}"' in html_text


def test_pdf_text_institution_page_numbers_and_page_count(pdf_pages):
    text = "\n".join(pdf_pages)
    assert INSTITUTION in text
    assert 3 <= len(pdf_pages) <= 8
    n = len(pdf_pages)
    assert f"pagina 2 van {n}" in text
    assert f"pagina {n} van {n}" in text
    assert "print(" not in text and "Traceback" not in text
    # running header on a later page
    assert INSTITUTION in pdf_pages[-1] and PERIOD in pdf_pages[-1]
    # the wide table was split, not clipped: its last column is in the PDF
    assert "kolom_24" in text and "kolom_0" in text


def test_render_pdf_bytes_for_workers(html_text):
    data = export.render_pdf_bytes(export.error_page("X", "2024", "Geen gegevens."))
    assert data.startswith(b"%PDF")


def test_pdf_refuses_network(tmp_path):
    fetched = []
    page = ('<html><body><h1>x</h1><img src="http://example.invalid/a.png">'
            '<link rel="stylesheet" href="https://example.invalid/s.css"></body></html>')
    fetcher = export._url_fetcher(export.TEMPLATES_DIR / "outcome_report")
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch("https://example.invalid/s.css")
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch("file:///etc/passwd")
    assert export.render_pdf_bytes(page).startswith(b"%PDF")
    assert not fetched


def test_english_labels(executed):
    page = export.render_html(executed, lang="en", title="Report")
    assert "Confidential" in page and "Contents" in page
    assert "page &quot;" not in page
    assert '"page " counter(page) " of " counter(pages)' in page


# --------------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------------
def _failed_notebook() -> nbformat.NotebookNode:
    nb = new_notebook()
    cell = new_code_cell("1/0")
    cell.outputs = [new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                               traceback=["Traceback (most recent call last):", "ZeroDivisionError: division by zero"])]
    nb.cells = [new_markdown_cell("## Titel"), cell]
    return nb


def test_failed_render_keeps_previous_report(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("OLD GOOD REPORT", encoding="utf-8")
    with pytest.raises(export.ExportError):
        export.to_html(_failed_notebook(), target, institution="X", period="2024")
    assert target.read_text(encoding="utf-8") == "OLD GOOD REPORT"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_failed_write_keeps_previous_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"OLD")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_bytes(target, b"NEW" * 1000)
    assert target.read_bytes() == b"OLD"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_failed_pdf_render_keeps_previous_pdf(tmp_path, monkeypatch):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"OLD PDF")

    def broken(*args, **kwargs):
        raise RuntimeError("layout failed")

    monkeypatch.setattr(export, "render_pdf_bytes", broken)
    with pytest.raises(RuntimeError):
        export.to_pdf("<html><body>x</body></html>", target)
    assert target.read_bytes() == b"OLD PDF"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_atomic_write_replaces_and_new_files_are_readable(tmp_path):
    target = tmp_path / "sub" / "a.html"
    atomic.write_bytes(target, "één")
    assert target.read_text(encoding="utf-8") == "één"
    assert target.stat().st_mode & 0o777 == 0o644
    atomic.write_bytes(target, b"twee")
    assert target.read_bytes() == b"twee"
    assert [p.name for p in target.parent.iterdir()] == ["a.html"]


# --------------------------------------------------------------------------------------------
# escaping and failed notebooks
# --------------------------------------------------------------------------------------------
NASTY = "<script>alert(1)</script> ../../etc/passwd"


def _plain_notebook() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.cells = [new_markdown_cell("## Resultaten\n\nTekst.")]
    return nb


def test_institution_name_is_escaped_everywhere():
    page = export.render_html(_plain_notebook(), institution=NASTY, period="2024", title=NASTY)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert re.search(r"<script\b", page) is None


def test_error_page_is_escaped_and_plain():
    page = export.error_page(NASTY, "2024", "Traceback (most recent call last):\n  File x\nValueError: <b>", "nl")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "File x" not in page  # only the first line of a message is shown
    assert "Dit rapport kon niet worden gemaakt" in page
    english = export.error_page("Inst", None, "No ended trajectories in this period.", "en")
    assert "This report could not be made" in english and "No ended trajectories" in english


def test_error_page_pdf_is_one_page(tmp_path):
    from pypdf import PdfReader

    out = export.to_pdf(export.error_page("Stichting X", "2024", "Er zijn geen afgesloten trajecten.", "nl"),
                        tmp_path / "fout.pdf")
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    assert "Stichting X" in reader.pages[0].extract_text()


def test_failed_notebook_raises_export_error_without_traceback():
    with pytest.raises(export.ExportError) as info:
        export.render_html(_failed_notebook())
    error = info.value
    assert isinstance(error, OutcomeAnalysisError)
    assert error.cell_index == 1 and error.ename == "ZeroDivisionError"
    assert "cell 1" in str(error) and "Traceback" not in str(error)


def test_papermill_exception_flag_is_a_failure():
    nb = _plain_notebook()
    nb.metadata["papermill"] = {"exception": True}
    with pytest.raises(export.ExportError):
        export.render_html(nb)


def test_unknown_template_and_language():
    with pytest.raises(export.ExportError, match="unknown report template"):
        export.render_html(_plain_notebook(), template="nope")
    with pytest.raises(export.ExportError, match="language"):
        export.render_html(_plain_notebook(), lang="de")


def test_split_wide_tables_keeps_every_column():
    header = "".join(f"<th>c{i}</th>" for i in range(23))
    row = "<tr><th>r</th>" + "".join(f"<td>{i}</td>" for i in range(23)) + "</tr>"
    page = f"<html><body><table><thead><tr><th></th>{header}</tr></thead><tbody>{row}</tbody></table></body></html>"
    out = export.prepare_for_print(page, max_columns=10)
    assert out.count("<table") == 3
    assert all(f">c{i}<" in out for i in range(23))
    assert out.count("<th>r</th>") == 3  # row labels repeated in every part


# --------------------------------------------------------------------------------------------
# language, hyphenation, cover facts recorded by the notebook, national running header
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_html_root_has_the_language_and_tables_never_hyphenate(executed, lang):
    page = export.render_html(executed, lang=lang, title="Rapport")
    assert re.search(rf'<html lang="{lang}"', page)
    css = export.print_css()
    rule = re.search(r"\bth, td \{[^}]*\}", css).group(0)
    # cells and headers wrap at spaces only: no "binnen de gren-zen", no "Zonderc-statis-kenmerk tiek"
    assert "hyphens: manual" in rule and "hyphens: auto" not in css and "overflow-wrap: normal" in rule
    assert "anywhere" not in css and "break-all" not in css  # never a break inside a word without a hyphen


def test_pdf_tables_break_words_only_with_a_hyphen():
    from outcome_analysis import report
    import pandas as pd

    frame = pd.DataFrame({"label": ["Uitblijven nieuwe beschermingsmaatregel", "Afname ontwikkelingsbedreiging"],
                          "value": [0.5, 0.25], "ci_low": [0.4, 0.2], "ci_high": [0.6, 0.3], "denominator": [100, 80],
                          "national_value": [0.5, 0.2], "previous": ["x", "y"], "adjusted": ["a", "b"]})
    table = report.display_table(frame, {"label": ("Indicator", "text"), "value": None, "ci": None,
                                         "denominator": None, "national_value": None,
                                         "previous": ("Vorige", "text"), "adjusted": ("Gecorrigeerd", "text")}, settings=DEFAULT)
    assert "<colgroup>" in table
    page = f'<!DOCTYPE html><html lang="nl"><body>{table}</body></html>'
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(export.render_pdf_bytes(page))).pages[0].extract_text()
    long_words = ("beschermingsmaatregel", "ontwikkelingsbedreiging")
    for line in text.splitlines():
        for word in line.split():
            if word.rstrip("‐-") != word:  # a fragment with a hyphen (U+2010 or -) is fine
                continue
            # a fragment of a long word without a hyphen is a break inside the word
            assert not any(w.startswith(word) and word != w and len(word) >= 4 for w in long_words), line
    joined = re.sub(r"[‐-]\s*\n\s*", "", text)
    assert all(w in joined for w in long_words)


def _standalone_notebook(executed) -> nbformat.NotebookNode:
    """The executed test notebook as a standalone run left it: institution "" in the parameters, and
    the resolved facts recorded in an output of the report mimetype."""
    nb = nbformat.read(executed, as_version=4)
    nb.metadata["papermill"]["parameters"] = {"institution": "", "period": ""}
    nb.metadata.pop("outcome_report", None)
    cell = nb.cells[-1]
    cell.outputs.append(new_output("display_data", data={
        export.REPORT_MIMETYPE: {"institution": "Jeugdzorg <Resolved> & Co", "period": "2023H2", "lang": "nl"}}))
    return nb


def test_cover_takes_what_the_notebook_recorded(executed):
    nb = _standalone_notebook(executed)
    assert export.recorded_meta(nb)["institution"] == "Jeugdzorg <Resolved> & Co"
    page = export.render_html(nb, title="Rapport")
    cover = page.split('<header class="oa-cover"', 1)[1].split("</header>", 1)[0]
    assert "Jeugdzorg &lt;Resolved&gt; &amp; Co" in cover and "2023H2" in cover
    assert export.REPORT_MIMETYPE not in page  # the record itself is not for readers
    # arguments still come first
    page = export.render_html(nb, institution="Gegeven", period="2024", title="Rapport")
    cover = page.split('<header class="oa-cover"', 1)[1].split("</header>", 1)[0]
    assert "Gegeven" in cover and "Resolved" not in cover


def test_cover_box_for_an_institution_and_national_running_header(executed):
    page = export.render_html(executed, title="Rapport")
    assert "Wat staat in dit rapport" in page and "cliëntenraad" in page
    nb = nbformat.read(executed, as_version=4)
    nb.metadata["papermill"]["parameters"] = {"period": "2024"}
    national = export.render_html(nb, title="Landelijk overzicht outcome-indicatoren")
    assert "Wat staat in dit rapport" not in national
    from pypdf import PdfReader

    pages = [p.extract_text() for p in PdfReader(io.BytesIO(export.render_pdf_bytes(national))).pages]
    assert "Landelijk overzicht" in pages[-1] and "2024" in pages[-1]
    assert "·  2024" not in pages[-1].replace("Landelijk overzicht  ·  2024", "")


def test_a_page_reference_to_a_heading_the_document_lacks_is_dropped():
    from bs4 import BeautifulSoup

    from outcome_analysis.presentation import export

    page = ('<html lang="nl"><body><main><h2 id="h-a">A</h2>'
            '<p>Eén.<span class="oa-see"> Zie <a class="page-ref" href="#ind-x">X</a>.</span></p>'
            '<p>Twee.<span class="oa-see"> Zie <a class="page-ref" href="#ind-y">Y</a>.</span></p>'
            '<table><tr id="ind-y"><td>Y</td></tr></table></main></body></html>')
    soup = BeautifulSoup(export.finish_html(page), "html.parser")
    assert [a["href"] for a in soup.select("a.page-ref")] == ["#ind-y"]  # the one with a target stays
    assert "Zie X" not in soup.get_text(" ") and "Eén." in soup.get_text(" ")


def test_a_gemeente_report_has_no_cover_box_of_an_institution_report():
    """The cover box lists the institution report's parts and readers; a gemeente or jeugdregio
    report (its first section marked data-document="municipality") says its own."""
    from outcome_analysis.presentation.export import finish_html

    cover = ('<div class="oa-cover"><h1>Uitkomsten 2024</h1><div class="oa-cover-box">Wat staat in dit rapport'
             '</div></div>')
    page = f"<html><body>{cover}<main><p data-document=\"municipality\" data-unit-kind=\"municipality\">x</p>" \
           "<h2>Kerncijfers</h2></main></body></html>"
    assert "Wat staat in dit rapport" not in finish_html(page)
    institution = f"<html><body>{cover}<main><h2>Samenvatting</h2></main></body></html>"
    assert "Wat staat in dit rapport" in finish_html(institution)
