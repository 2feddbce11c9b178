"""Accessibility of the reports (issue 14, item 5) and the demo mark (item 6), on the suite's shared
report batch: text alternatives of figures, document language, one h1, heading order, ``th scope``,
wide tables in their own scrolling box, colour contrast of the stylesheets, a tagged PDF with
language and title, type sizes measured in the PDF, Dutch dates and "Fictieve gegevens (demo)".

The batch's files are parsed once per module.
"""
from __future__ import annotations

import re
import subprocess

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_notebook, new_output

from outcome_analysis.presentation import alt_text, export

ROLES = ("gi", "jeugdhulp", "smallest", "national")
GENERIC = ("no description has been provided", "figuur", "figure", "")
DUTCH_DATE = re.compile(r"\b\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|"
                        r"november|december) \d{4}\b")


# --------------------------------------------------------------------------------------------
# parsed once per module
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def soups(report_batch) -> dict[str, BeautifulSoup]:
    return {role: BeautifulSoup(report_batch.html(role), "html.parser")
            for role in ROLES if role in report_batch.files}


@pytest.fixture(scope="module")
def gi_pdf(report_batch):
    return report_batch.pdf("gi")


@pytest.fixture(scope="module")
def gi_pages(gi_pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(gi_pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@pytest.fixture(scope="module")
def gi_headers(gi_pdf) -> list[str]:
    """The text of the top 20 mm of every page (the running header)."""
    text = subprocess.run(["pdftotext", "-x", "0", "-y", "0", "-W", "596", "-H", "57", str(gi_pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    return pages[:-1] if pages and pages[-1].strip() == "" else pages


@pytest.fixture(scope="module")
def gi_type_sizes(gi_pdf) -> dict[str, list[float]]:
    """Font sizes in pt of every text run of the GI PDF, by kind: ``table`` (inside a TD/TH/Table
    structure element), ``body`` (other tagged content). The page furniture (running header and
    footer, in the page margins of 22 mm) and artifacts are left out. Read from the content
    streams: ``Tf`` size times the scale of the CTM."""
    import pikepdf

    pdf = pikepdf.open(gi_pdf)
    parent_tree = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
    sizes: dict[str, list[float]] = {"table": [], "body": []}

    def kind_of(element) -> str:
        seen = 0
        while isinstance(element, pikepdf.Dictionary) and seen < 50:
            if str(element.get("/S", "")) in ("/TD", "/TH", "/Table", "/TR"):
                return "table"
            element = element.get("/P")
            seen += 1
        return "body"

    for page in pdf.pages:
        key = page.obj.get("/StructParents")
        elements = parent_tree.get(int(key)) if key is not None and int(key) in parent_tree else None
        scale_stack, scale, size, top = [], 1.0, None, None
        height = float(page.mediabox[3]) - float(page.mediabox[1])
        margin = 22 / 25.4 * 72
        marks: list[int | None] = []
        for operands, op in pikepdf.parse_content_stream(page):
            name = str(op)
            if name == "q":
                scale_stack.append(scale)
            elif name == "Q":
                scale = scale_stack.pop() if scale_stack else 1.0
            elif name == "cm":
                a, b, c, d = (float(x) for x in operands[:4])
                scale *= abs(a * d - b * c) ** 0.5
            elif name == "BDC":
                props = operands[1] if len(operands) > 1 else None
                mcid = props.get("/MCID") if isinstance(props, pikepdf.Dictionary) else None
                marks.append(int(mcid) if mcid is not None and str(operands[0]) != "/Artifact" else None)
            elif name == "BMC":
                marks.append(None)
            elif name == "EMC":
                if marks:
                    marks.pop()
            elif name == "Tf":
                size = float(operands[1])
            elif name == "Tm":
                top = float(operands[5]) * scale  # WeasyPrint draws top-down: distance from the top
            elif name in ("Tj", "TJ", "'", '"') and size is not None:
                mcid = marks[-1] if marks else None
                if mcid is None or elements is None or mcid >= len(elements):
                    continue  # an artifact or untagged
                if top is not None and not margin - 1 < top < height - margin + 1:
                    continue  # the running header and footer (page furniture, 8 pt)
                sizes[kind_of(elements[mcid])].append(round(size * scale, 2))
    return sizes


# --------------------------------------------------------------------------------------------
# figures: text alternatives
# --------------------------------------------------------------------------------------------
def test_every_figure_has_a_specific_text_alternative(soups, report_batch):
    assert soups, "the shared batch made no reports"
    for role, soup in soups.items():
        assert "No description has been provided" not in report_batch.html(role), role
        for img in soup.find_all("img"):
            alt = (img.get("alt") or "").strip()
            assert alt.lower().rstrip(".") not in GENERIC, (role, alt)
            assert len(alt) > 12, (role, alt)
    # the institution reports describe their figures with the data drawn: numbers, in Dutch
    for role in ("gi", "jeugdhulp"):
        alts = [img["alt"] for img in soups[role].find_all("img")]
        assert alts, role
        assert all(re.search(r"\d", a) for a in alts), (role, alts)
        assert any(" van " in a and " naar " in a and "%" in a for a in alts), (role, alts)
        assert not any(re.search(r"\b(from|to)\b", a) for a in alts), (role, alts)


def test_no_generic_description_in_the_pdf_text(gi_pages):
    assert not any("No description" in page for page in gi_pages)


def _trend_figure(values, periods, national=None, labels=("Instelling X", "Landelijk")):
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.plot(range(len(periods)), values, marker="o", label=labels[0])
    if national is not None:
        ax.plot(range(len(periods)), national, marker="s", label=labels[1])
    ax.set_xticks(range(len(periods)))
    ax.set_xticklabels(periods)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v * 100:.0f}%"))
    ax.set_ylabel("Percentage")
    ax.set_title("Uitval", loc="left")
    return fig


def test_alt_text_reads_the_series_drawn_and_leaves_hidden_points_out():
    nan = float("nan")
    fig = _trend_figure([nan, 0.22, 0.24, 0.25], ["2021", "2022", "2023", "2024"], [0.2, 0.2, 0.21, 0.2])
    text = alt_text.describe(fig, "nl")
    assert text.startswith("Uitval 2021–2024") or text.startswith("Uitval 2022–2024"), text
    assert "Instelling X van 22% naar 25%" in text and "Landelijk van 20% naar 20%" in text
    assert "2021" not in text.split(":", 1)[1]  # the hidden first point is not described
    english = alt_text.describe(fig, "en")
    assert "Instelling X from 22% to 25%" in english
    # bars: a value drawn as nothing (hidden) is not named
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    ax.barh([0, 1], [0.3, 0.0], label="Instelling X")
    ax.set_yticks([0, 1])
    ax.set_yticklabels(["thuis", "elders"])
    text = alt_text.describe(fig, "nl")
    assert "thuis" in text and "elders" not in text
    # an empty figure still says what it is, never nbconvert's English default
    assert alt_text.describe(Figure(), "nl").startswith("Figuur")


def test_png_carries_the_alt_text_into_the_html():
    from outcome_analysis.presentation.story import png

    fig = _trend_figure([0.22, 0.25], ["2023", "2024"])
    image = png(fig)
    data, metadata = image._repr_mimebundle_()
    assert "Instelling X van 22% naar 25%" in metadata["image/png"]["alt"]
    assert png(fig, alt="Eigen tekst")._repr_mimebundle_()[1]["image/png"]["alt"] == "Eigen tekst"
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("display_data", data=data, metadata=metadata)])])
    page = export.render_html(nb, institution="Instelling X", period="2024", title="Rapport")
    img = BeautifulSoup(page, "html.parser").find("img")
    assert "Instelling X van 22% naar 25%" in img["alt"]
    assert "No description" not in page


# --------------------------------------------------------------------------------------------
# HTML structure
# --------------------------------------------------------------------------------------------
def test_language_one_h1_and_headings_in_order(soups):
    for role, soup in soups.items():
        assert soup.html.get("lang") == "nl", role
        assert len(soup.find_all("h1")) == 1, role
        previous = 0
        for heading in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
            level = int(heading.name[1])
            assert level <= previous + 1, (role, heading.name, heading.get_text(" ", strip=True))
            previous = level


def test_every_th_has_a_scope_and_tables_scroll_in_their_own_box(soups):
    for role, soup in soups.items():
        tables = soup.find_all("table")
        assert tables or role == "smallest", role  # the smallest institution may have too little data
        for th in soup.find_all("th"):
            assert th.get("scope") in ("col", "row"), (role, str(th)[:120])
        for table in tables:
            if table.find_parent("table") is None:
                assert table.find_parent(class_="oa-table-wrap") is not None, (role, str(table)[:120])
    css = _css("report.css")
    wrap = re.search(r"\.oa-table-wrap \{[^}]*\}", css).group(0)
    assert "overflow-x: auto" in wrap
    assert re.search(r"\.oa-table-wrap th:first-child, \.oa-table-wrap td:first-child \{[^}]*position: sticky",
                     css)
    toc = re.search(r"\.oa-toc a \{[^}]*\}", css).group(0)
    assert "underline" in toc and "var(--oa-accent)" in toc  # contents entries look like links


def test_toc_links_point_to_headings(soups):
    soup = soups["gi"]
    links = soup.select("nav.oa-toc a")
    assert links
    for a in links:
        assert soup.find(id=a["href"][1:]) is not None, a["href"]


# --------------------------------------------------------------------------------------------
# colour contrast (WCAG 2.1: at least 4.5:1 for text)
# --------------------------------------------------------------------------------------------
def _css(name: str) -> str:
    return (export.TEMPLATES_DIR / export.DEFAULT_TEMPLATE / name).read_text(encoding="utf-8")


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_helper():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") < 4.5 < contrast("#555555", "#ffffff")


def test_text_contrast_of_the_stylesheets():
    css = _css("report.css") + "\n" + _css("print.css")
    variables = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})\b", css))
    named = {"white": "#ffffff", "black": "#000000"}

    def resolve(value: str) -> str | None:
        value = value.strip().split()[0] if value.strip() else ""
        var = re.match(r"var\((--[\w-]+)\)", value)
        if var:
            return variables.get(var.group(1))
        if re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value):
            return value
        return named.get(value.lower())

    texts = {resolve(v) for v in re.findall(r"(?<![\w-])color:\s*([^;}]+)", css)} - {None}
    backgrounds = {resolve(v) for v in re.findall(r"background(?:-color)?:\s*([^;}]+)", css)} - {None}
    backgrounds.add("#ffffff")
    assert len(texts) >= 3 and len(backgrounds) >= 3
    for fg in texts:
        for bg in backgrounds:
            assert contrast(fg, bg) >= 4.5, (fg, bg, round(contrast(fg, bg), 2))


# --------------------------------------------------------------------------------------------
# print: tagged PDF, type sizes, hyphenation, page references, running header
# --------------------------------------------------------------------------------------------
def test_pdf_is_tagged_with_language_and_title(gi_pdf, report_batch):
    import pikepdf

    with pikepdf.open(gi_pdf) as pdf:
        root = pdf.Root
        assert bool(root.MarkInfo.Marked) is True
        assert "/StructTreeRoot" in root
        assert str(root.Lang) == "nl"
        title = str(pdf.docinfo.get("/Title", ""))
        if not title:
            with pdf.open_metadata() as xmp:
                title = str(xmp.get("dc:title", ""))
        assert report_batch.institutions["gi"] in title


def test_type_sizes_of_body_and_table_text(gi_type_sizes):
    body, table = gi_type_sizes["body"], gi_type_sizes["table"]
    assert len(body) > 200 and len(table) > 200
    assert min(table) >= 9.0 - 0.01, sorted(table)[:5]
    # running text: the usual size is at least 10 pt, and nothing outside tables is smaller than 9 pt
    body_sorted = sorted(body)
    assert body_sorted[len(body_sorted) // 2] >= 10.0 - 0.01
    small = [s for s in body if s < 10.0 - 0.01]
    assert len(small) <= 0.05 * len(body), sorted(set(small))
    assert min(body) >= 8.0, sorted(body)[:5]


def test_print_css_rules():
    css = export.print_css()
    assert "hyphens: auto" not in css  # no "binnen de gren-zen", no "Zonderc-statis-kenmerk tiek"
    assert re.search(r"a\.page-ref::after \{ content: \" \(p\. \" target-counter\(attr\(href\), page\) \"\)\"; \}", css)
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    sizes = [float(s) for s in re.findall(r"table[^{]*\{[^}]*font-size:\s*([\d.]+)pt", css)]
    assert sizes and min(sizes) >= 9
    assert not re.search(r"(?m)^h2 \{[^}]*break-before: page", css)  # no forced break before every h2
    assert "string(oa-demo)" in css and "string(oa-institution)" in css and "string(oa-period)" in css


def test_page_references_get_page_numbers():
    page = ('<!DOCTYPE html><html lang="nl"><head><title>t</title></head><body>'
            '<p>Zie <a class="page-ref" href="#doel">de uitval</a>.</p>'
            '<div style="break-before: page"><h2 id="doel">Uitval</h2></div></body></html>')
    from pypdf import PdfReader
    import io

    text = PdfReader(io.BytesIO(export.render_pdf_bytes(page))).pages[0].extract_text()
    assert re.search(r"de uitval \(p\. 2\)", text), text


# --------------------------------------------------------------------------------------------
# demo mark and dates
# --------------------------------------------------------------------------------------------
def test_demo_mark_on_the_cover_and_in_every_running_header(soups, gi_pages, gi_headers):
    for role, soup in soups.items():
        cover = soup.find(class_="oa-cover")
        assert "Fictieve gegevens (demo)" in cover.get_text(" ", strip=True), role
    assert "Fictieve gegevens (demo)" in gi_pages[0]
    assert len(gi_headers) == len(gi_pages) > 2
    for number, header in enumerate(gi_headers[1:], start=2):
        assert "FICTIEVE GEGEVENS (DEMO)" in header.upper(), (number, header)


def test_dutch_dates_on_the_cover_and_in_the_footer(soups, gi_pages):
    for role, soup in soups.items():
        made = soup.find(class_="oa-cover-date").get_text(" ", strip=True)
        assert DUTCH_DATE.search(made) and not re.search(r"\d{4}-\d{2}-\d{2}", made), (role, made)
    footers = [page.strip().splitlines()[-1] for page in gi_pages[1:] if page.strip()]
    assert all(DUTCH_DATE.search(line) for line in footers), footers[:3]


def _plain(meta: dict | None = None, params: dict | None = None) -> nbformat.NotebookNode:
    outputs = [new_output("display_data", data={export.REPORT_MIMETYPE: meta})] if meta else []
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("display_data", data={"text/html": "<h2>Inhoud</h2><p>Tekst.</p>"}), *outputs])])
    nb.metadata["papermill"] = {"parameters": params or {}}
    return nb


def test_demo_mark_only_for_demo_data(tmp_path):
    plain = export.render_html(_plain(params={"institution": "X", "period": "2024"}))
    assert "Fictieve gegevens" not in plain
    recorded = export.render_html(_plain({"institution": "X", "period": "2024", "demo": True}))
    assert "Fictieve gegevens (demo)" in recorded
    english = export.render_html(_plain({"institution": "X", "period": "2024", "demo": True}), lang="en")
    assert "Fictitious data (demo)" in english
    # read from the settings the notebook ran under (the delivery's settings.yaml)
    (tmp_path / "settings.yaml").write_text("demo: true\n", encoding="utf-8")
    from_settings = export.render_html(_plain(params={"institution": "X", "data_path": str(tmp_path)}))
    assert "Fictieve gegevens (demo)" in from_settings
    (tmp_path / "settings.yaml").write_text("demo: false\n", encoding="utf-8")
    assert "Fictieve gegevens" not in export.render_html(_plain(params={"data_path": str(tmp_path)}))


def test_demo_setting_is_validated_and_the_demo_writer_sets_it(tmp_path):
    from outcome_analysis.contract.demo import DEMO_SETTINGS_YAML
    from outcome_analysis.settings import Settings, SettingsError

    assert Settings().demo is False
    with pytest.raises(SettingsError, match="demo"):
        Settings(demo="yes")
    (tmp_path / "s.yaml").write_text(DEMO_SETTINGS_YAML, encoding="utf-8")
    assert Settings.from_yaml(tmp_path / "s.yaml").demo is True
