"""Export executed report notebooks to self-contained HTML and to PDF, written atomically.

The steps of an export read as a list:

1. load the notebook (a path or a ``NotebookNode``) and refuse one that failed
   (:func:`notebook_errors`, :class:`ExportError`) — a traceback never reaches a reader;
2. render HTML with nbconvert and the project's template ``templates/outcome_report``: no code,
   no prompts, no parameter cells, no stderr, a cover and a table of contents (:func:`render_html`);
3. clean the rendered body (no ``<script>``, no event handlers, no external resources) and fill the
   table of contents from the h2/h3 headings;
4. for PDF, lay the HTML out with WeasyPrint and the print stylesheet; nothing is fetched from the
   network (:func:`render_pdf_bytes`);
5. write the file atomically: a temporary file in the same folder, fsync, ``os.replace``
   (:func:`outcome_analysis.atomic.write_bytes`), so a failure never leaves half a file nor
   destroys the previous report.

The batch runner on Dask workers uses :func:`render_html` and :func:`render_pdf_bytes` (bytes, no
files); the client writes them with :func:`outcome_analysis.atomic.write_bytes`.

Example
-------
>>> from outcome_analysis import export
>>> export.to_html("out/report.ipynb", "reports/2024/x.html",
...                institution="Stichting Jeugd Zuid", period="2024")   # doctest: +SKIP
>>> export.to_pdf("reports/2024/x.html", "reports/2024/x.pdf")          # doctest: +SKIP
"""
from __future__ import annotations

import base64
import copy
import datetime as _dt
import html as _html
import os
import re
from pathlib import Path
from typing import Any

import nbformat
from bs4 import BeautifulSoup, Comment, Tag

from outcome_analysis import atomic, texts
from outcome_analysis.errors import OutcomeAnalysisError
from .report import fmt_date, ui

#: folder holding the nbconvert templates of the project.
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
#: the default report template.
DEFAULT_TEMPLATE = "outcome_report"
#: cells with any of these tags never reach a report.
HIDDEN_TAGS = frozenset({"parameters", "injected-parameters", "remove_cell", "remove-cell", "hide"})

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ExportError(OutcomeAnalysisError):
    """A notebook that cannot be exported as a report.

    Attributes
    ----------
    notebook : str
        The notebook's path or name.
    cell_index : int or None
        0-based index of the first failing cell, when known.
    ename, evalue : str
        The exception's class name and message as the kernel reported them (no traceback).
    """

    def __init__(self, message: str, *, notebook: str = "", cell_index: int | None = None,
                 ename: str = "", evalue: str = ""):
        self.notebook = notebook
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue
        super().__init__(message)


# --------------------------------------------------------------------------------------------
# failed notebooks
# --------------------------------------------------------------------------------------------
def _read_notebook(notebook) -> tuple[nbformat.NotebookNode, str]:
    if isinstance(notebook, nbformat.NotebookNode):
        return copy.deepcopy(notebook), str(notebook.metadata.get("papermill", {}).get("output_path") or "<notebook>")
    if isinstance(notebook, dict):
        return nbformat.from_dict(copy.deepcopy(notebook)), "<notebook>"
    path = Path(notebook)
    return nbformat.read(path, as_version=4), str(path)


def notebook_errors(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """The failures recorded in an executed notebook, first first.

    A failure is an output of type ``error``, or a cell papermill marked with
    ``metadata.papermill.exception``, or the notebook-level papermill exception flag.
    Each item has ``cell_index``, ``ename`` and ``evalue`` (ANSI colour codes removed); no traceback.
    """
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            out = errors[0]
            found.append({"cell_index": index, "ename": _ANSI.sub("", str(out.get("ename", ""))),
                          "evalue": _ANSI.sub("", str(out.get("evalue", "")))})
        elif cell.get("metadata", {}).get("papermill", {}).get("exception"):
            found.append({"cell_index": index, "ename": "", "evalue": ""})
    if not found and nb.metadata.get("papermill", {}).get("exception"):
        found.append({"cell_index": None, "ename": "", "evalue": ""})
    return found


def check_notebook(nb: nbformat.NotebookNode, name: str = "<notebook>") -> None:
    """Raise :class:`ExportError` when ``nb`` recorded a failure (see :func:`notebook_errors`)."""
    errors = notebook_errors(nb)
    if not errors:
        return
    first = errors[0]
    where = f"cell {first['cell_index']}" if first["cell_index"] is not None else "an unknown cell"
    what = f"{first['ename']}: {first['evalue']}".strip(": ") or "an error"
    raise ExportError(
        f"notebook {name} failed in {where} ({what}); a failed notebook is not exported as a report",
        notebook=name, cell_index=first["cell_index"], ename=first["ename"], evalue=first["evalue"])


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------
#: the mimetype of the small output in which a report notebook records the cover facts it resolved
#: itself (``institution=""`` → the largest institution); see :func:`outcome_analysis.story.record`.
REPORT_MIMETYPE = "application/vnd.outcome-report+json"


def _outputs_of(nb: nbformat.NotebookNode, mimetype: str, *, remove: bool = False) -> list:
    """The values of the outputs of ``mimetype`` in ``nb``, in order (JSON strings parsed; an
    unreadable one is ``None``); ``remove=True`` also takes those outputs out of ``nb``."""
    import json

    values = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        keep = []
        for output in cell.get("outputs", []):
            data = output.get("data", {}) if output.get("output_type") in ("display_data", "execute_result") else {}
            if mimetype not in data:
                keep.append(output)
                continue
            value = data[mimetype]
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    value = None
            values.append(value)
        if remove:
            cell.outputs = keep
    return values


def recorded_meta(nb: nbformat.NotebookNode, *, remove: bool = False) -> dict[str, Any]:
    """The cover facts a notebook recorded in outputs of mimetype :data:`REPORT_MIMETYPE` (the last
    one wins); ``remove=True`` also takes those outputs out of ``nb`` (they are not for readers)."""
    found: dict[str, Any] = {}
    for value in _outputs_of(nb, REPORT_MIMETYPE, remove=remove):
        if isinstance(value, dict):
            found.update({k: v for k, v in value.items() if k in _RECORDED_KEYS and v not in (None, "")})
    return found


_RECORDED_KEYS = ("institution", "period", "title", "lang", "demo")


def recorded_fingerprint(nb: nbformat.NotebookNode, *, remove: bool = False) -> dict[str, Any] | None:
    """The fingerprint the report's document emitted (outputs of mimetype
    :data:`outcome_analysis.running.batch.fingerprint.MIMETYPE`, one per section shown:
    :func:`outcome_analysis.presentation.documents.stamp`): ``None`` when there is none,
    ``{"conflicting": [...]}`` when its sections state different ones (a report put together from
    two jobs). ``remove=True`` also takes those outputs out of ``nb`` (no reader sees them)."""
    from outcome_analysis.running.batch.fingerprint import MIMETYPE

    found: list[dict] = []
    for value in _outputs_of(nb, MIMETYPE, remove=remove):
        if isinstance(value, dict) and value not in found:
            found.append(dict(value))
    if not found:
        return None
    return found[0] if len(found) == 1 else {"conflicting": found}


def fingerprint_json(fingerprint: dict[str, Any] | None) -> str:
    """The fingerprint as the ``content`` of ``<meta name="oa-fingerprint">``: compact JSON, ASCII
    only, keys sorted (``""`` without one)."""
    import json

    return "" if fingerprint is None else json.dumps(fingerprint, sort_keys=True, ensure_ascii=True,
                                                     separators=(",", ":"))


def replaces_line(value, lang: str) -> str | None:
    """The cover's line naming the version a re-issued report replaces, from the notebook parameter
    ``replaces`` (``"<ISO date> <data hash>"``, which the batch passes when a report of another
    fingerprint was published at the same path before): "Deze versie vervangt die van 3 november
    2026 (gegevens a1b2c3d4)". ``None`` without one.

    >>> replaces_line("2026-11-03 a1b2c3d4e5f6", "nl")
    'Deze versie vervangt die van 3 november 2026 (gegevens a1b2c3d4)'
    """
    parts = str(value or "").split()
    if not parts:
        return None
    when, digest = parts[0], (parts[1] if len(parts) > 1 else "")
    try:
        when = fmt_date(when[:10], lang)
    except (ValueError, TypeError, KeyError):
        pass
    return ui(lang)["replaces"].format(date=when, hash=digest[:8])

#: the demo mark of a report made from fictitious data (setting ``demo``), per language; the text
#: file ``report.yaml`` may override it with the key ``demo_mark``.
DEMO_MARK = {"nl": "Fictieve gegevens (demo)", "en": "Fictitious data (demo)"}


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "ja")
    return bool(value)


def _demo_from_parameters(nb, template: str | os.PathLike | None) -> bool:
    """Whether the settings a notebook ran under mark its data as demo data (setting ``demo``).

    Read from the papermill parameters: the stored results (``results_path``/``meta.json``), else
    ``settings_path``, else the delivery's own ``settings.yaml`` beside ``data_path``. Relative paths
    are tried against the working directory, the folder that holds the template folder (a batch
    worker's folder) and the notebook's own folder. ``False`` when nothing can be read.
    """
    import json

    from outcome_analysis import settings as _settings

    params = dict(nb.metadata.get("papermill", {}).get("parameters", {}) or {})
    bases = [Path.cwd()]
    if template is not None and Path(template).is_dir():
        bases.append(Path(template).resolve().parent.parent)
    for key in ("input_path", "output_path"):
        where = nb.metadata.get("papermill", {}).get(key)
        if where:
            bases.append(Path(where).resolve().parent)

    def found(rel) -> Path | None:
        if not rel:
            return None
        path = Path(str(rel))
        for candidate in ([path] if path.is_absolute() else [b / path for b in bases]):
            if candidate.exists():
                return candidate
        return None

    try:
        results = found(params.get("results_path"))
        if results is not None and (results / "meta.json").is_file():
            meta = json.loads((results / "meta.json").read_text(encoding="utf-8"))
            return _truthy((meta.get("settings") or {}).get("demo", False))
        source = found(params.get("settings_path"))
        if source is None:
            data = found(params.get("data_path"))
            source = _settings.delivery_settings_file(data) if data is not None else None
        if source is not None and Path(source).is_file():
            return bool(_settings.Settings.from_yaml(source).demo)
    except (OSError, ValueError):
        return False
    return False


def _report_meta(nb, *, institution, period, title, lang, date, template=None) -> dict[str, Any]:
    """Cover facts: arguments first, then ``nb.metadata.outcome_report``, then what the notebook
    recorded itself (:func:`recorded_meta`), then papermill parameters. Empty values count as absent
    (a standalone run has ``institution=""`` and resolves the name itself). ``demo`` is what the
    notebook recorded, else what its settings say (:func:`_demo_from_parameters`). The date is
    always written in words ("29 november 2026"), never ISO."""
    stored = {k: v for k, v in dict(nb.metadata.get("outcome_report", {}) or {}).items() if v not in (None, "")}
    recorded = recorded_meta(nb)
    params = {k: v for k, v in dict(nb.metadata.get("papermill", {}).get("parameters", {}) or {}).items()
              if v not in (None, "")}
    stored = {**params, **recorded, **stored}
    lang = lang or stored.get("lang") or "nl"
    texts.check_lang(lang, ExportError)
    labels = ui(lang)
    if date is None:
        date = stored.get("date") or _dt.date.today()
    date = fmt_date(date.isoformat() if isinstance(date, _dt.date) else date, lang)
    demo = _truthy(stored["demo"]) if "demo" in stored else _demo_from_parameters(nb, template)
    replaces = replaces_line(stored.get("replaces"), lang)

    def pick(value, key):
        value = value if value not in (None, "") else stored.get(key)
        return None if value is None else str(value)

    return {
        "institution": pick(institution, "institution"),
        "period": pick(period, "period"),
        "title": pick(title, "title") or labels["title"],
        "lang": lang,
        "date": str(date),
        "demo": bool(demo),
        **({"replaces": replaces} if replaces else {}),
        "labels": {"demo_mark": DEMO_MARK[lang] if lang in DEMO_MARK else DEMO_MARK["en"],
                   **{k: v for k, v in labels.items()
                      if isinstance(v, str) or (k.startswith("cover_") and isinstance(v, list))}},
    }


def _b64(text: str | bytes) -> str:
    if isinstance(text, str):
        text = text.encode("utf-8")
    return base64.b64encode(text).decode("ascii")


def _exporter(template: str):
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    template_path = Path(template)
    if template_path.is_dir():
        basedirs, name = [str(template_path.parent)], template_path.name
    else:
        basedirs, name = [str(TEMPLATES_DIR)], template
        if not (TEMPLATES_DIR / template).is_dir():
            raise ExportError(f"unknown report template {template!r}; templates live in {TEMPLATES_DIR}")
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(HIDDEN_TAGS)
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.exclude_anchor_links = True
    c.HTMLExporter.embed_images = True
    exporter = HTMLExporter(config=c, template_name=name, extra_template_basedirs=basedirs)
    exporter.register_filter("oa_b64", _b64)
    return exporter


def _strip_stderr(nb: nbformat.NotebookNode) -> None:
    """Remove stderr streams (warnings, progress bars) and error outputs from every code cell."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                            and o.get("output_type") != "error"]


def render_html(notebook, *, template: str = DEFAULT_TEMPLATE, institution: str | None = None,
                period: str | None = None, title: str | None = None, lang: str | None = "nl",
                date: str | _dt.date | None = None) -> str:
    """Render an executed notebook as one self-contained HTML document (a string).

    Parameters
    ----------
    notebook : path or NotebookNode
        An executed report notebook. It is not modified.
    template : str
        Name of a template folder under ``templates/`` or a path to a template folder.
    institution, period, title, lang, date
        The cover. Missing values come from ``nb.metadata.outcome_report``, then from what the
        notebook recorded in an output of mimetype :data:`REPORT_MIMETYPE` (a standalone run that
        picked the default institution), then from the papermill parameters of the same name;
        ``date`` defaults to today.

    Raises
    ------
    ExportError
        The notebook recorded an error (the message names the cell, not the traceback).
    """
    nb, name = _read_notebook(notebook)
    check_notebook(nb, name)
    meta = _report_meta(nb, institution=institution, period=period, title=title, lang=lang, date=date,
                        template=template)
    fingerprint = recorded_fingerprint(nb, remove=True)
    if fingerprint is not None:  # what the report was made from: <meta name="oa-fingerprint"> in the head
        meta["fingerprint"] = fingerprint_json(fingerprint)
    nb.metadata["outcome_report"] = meta
    recorded_meta(nb, remove=True)
    _strip_stderr(nb)
    body, _ = _exporter(template).from_notebook_node(nb, resources={"outcome_report": meta})
    return finish_html(body)


# -- cleaning and table of contents --------------------------------------------------------------
_DROP_ELEMENTS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "link", "meta",
                  "base", "form", "input", "button", "textarea", "select", "noscript", "template",
                  "animate", "set", "animatetransform", "animatemotion", "foreignobject", "portal"}
_URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "background", "poster", "srcset",
              "data", "lowsrc", "dynsrc", "ping", "cite", "longdesc", "manifest", "codebase"}
_FETCHED_ATTRS = {"src", "srcset", "background", "poster", "lowsrc", "dynsrc", "data", "xlink:href"}
_BAD_CSS = re.compile(r"url\s*\(|@import|expression\s*\(|behavior\s*:|-moz-binding|javascript:", re.I)


def _url_ok(attr: str, value: str, tag: str) -> bool:
    v = re.sub(r"[\x00-\x20]+", "", value).lower()
    if v.startswith(("javascript:", "vbscript:", "livescript:")):
        return False
    if v.startswith("data:"):
        return tag == "img" and attr == "src" and v.startswith(("data:image/png", "data:image/jpeg",
                                                               "data:image/gif", "data:image/svg+xml"))
    if attr in _FETCHED_ATTRS or (tag in ("use", "image") and attr == "href"):
        return False  # a self-contained report fetches nothing
    return True


def sanitize_fragment(soup_or_html):
    """Remove what could run or fetch: script-like elements, ``on*`` handlers, ``javascript:`` and
    external URLs in fetched attributes, CSS with ``url()``/``@import``, HTML comments.

    Accepts an HTML string (returns a string) or a BeautifulSoup tree (cleans it in place).
    Tables, headings, images as data URIs and plain markup pass unchanged.
    """
    as_string = isinstance(soup_or_html, str)
    soup = BeautifulSoup(soup_or_html, "html.parser") if as_string else soup_or_html
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        name = tag.name.lower()
        if name in _DROP_ELEMENTS:
            tag.decompose()
            continue
        if name == "style" and _BAD_CSS.search(tag.get_text()):
            tag.decompose()
            continue
        for attr in list(tag.attrs):
            a = attr.lower()
            value = tag.attrs[attr]
            value = " ".join(value) if isinstance(value, list) else str(value)
            if a.startswith("on") or a in ("formaction", "srcdoc"):
                del tag.attrs[attr]
            elif a == "style" and _BAD_CSS.search(value):
                del tag.attrs[attr]
            elif (a in _URL_ATTRS or a.endswith(":href")) and not _url_ok(a, value, name):
                del tag.attrs[attr]
    return str(soup) if as_string else soup


def finish_html(document: str) -> str:
    """Clean the body of a rendered report and fill its table of contents.

    The ``<head>`` comes from our template and is kept as is; everything inside ``<body>`` is
    passed through :func:`sanitize_fragment`. The placeholder ``<!--OA-TOC:title-->`` becomes a
    ``<nav class="oa-toc">`` listing every h2/h3 of the body (ids are added where missing; an
    appendix, ``h2.oa-appendix``, by its chapter headings only), or disappears when there are no such
    headings. A short edition (an element with ``data-edition="short"``, which its first section
    writes) gets no contents page, no cover box listing the full report's contents (nor does a
    gemeente or jeugdregio report, marked ``data-document="municipality"``) and no page
    break after its conversation page (the key figures follow on); page
    references to headings the document lacks are removed (:func:`_drop_dangling_page_refs`).
    """
    match = re.search(r"<!--OA-TOC:(.*?)-->", document)
    toc_title = _html.unescape(match.group(1)) if match else None
    soup = BeautifulSoup(document, "html.parser")
    body = soup.body
    if body is None:
        return sanitize_fragment(document)
    sanitize_fragment(body)  # also removes the placeholder comment
    lang = (soup.html.get("lang") if soup.html is not None else None) or "nl"
    accessible_structure(body, lang)
    entries = []
    used = {tag["id"] for tag in soup.find_all(attrs={"id": True})}
    in_appendix = False
    for number, heading in enumerate(body.find_all(["h2", "h3"]), start=1):
        if heading.find_parent(class_="oa-cover"):
            continue
        if heading.name == "h2":
            in_appendix = "oa-appendix" in heading.get("class", [])
        if any(c.startswith("oa-was-h") and c[-1] in "456" for c in heading.get("class", [])):
            continue  # a figure's or table's own heading, moved up a level only to keep the order
        if not heading.get("id"):
            candidate = f"oa-sec-{number}"
            while candidate in used:
                candidate += "-x"
            heading["id"] = candidate
            used.add(candidate)
        for anchor in heading.find_all("a", class_="anchor-link"):
            anchor.decompose()
        text = heading.get_text(" ", strip=True)
        if text and not (in_appendix and heading.name == "h3"):  # an appendix is listed by its chapters only
            entries.append((heading.name, heading["id"], text))
    _drop_dangling_page_refs(body, used | {h["id"] for h in body.find_all(["h2", "h3"]) if h.get("id")})
    short = body.find(attrs={"data-edition": "short"}) is not None
    if body.find(attrs={"data-document": "municipality"}) is not None:
        # a gemeente or jeugdregio report: the cover box lists an institution report's parts and
        # readers; its own first section says what it holds, for whom
        for box in body.find_all(class_="oa-cover-box"):
            box.decompose()
    if short:  # the short edition: its own first page says what is in it; no contents page
        for box in body.find_all(class_="oa-cover-box"):
            box.decompose()
        toc_title = None
        # the conversation page ends a page in the full report; here the key figures follow on
        for end in body.find_all(class_="oa-conversation-end"):
            end["class"] = [c for c in end.get("class", []) if c != "oa-conversation-end"]
    main = body.find("main") or body
    first_h2 = main.find("h2")
    if first_h2 is not None:  # the contents page already broke the page: no empty page before it
        first_h2["class"] = [*first_h2.get("class", []), "oa-nobreak"]
    cover = body.find(class_="oa-cover")
    if toc_title is not None and entries and cover is not None:
        nav = soup.new_tag("nav", attrs={"class": "oa-toc", "id": "oa-toc"})
        head = soup.new_tag("h2", attrs={"class": "oa-nobreak"})
        head.string = toc_title
        nav.append(head)
        ol = soup.new_tag("ol")
        for level, anchor_id, text in entries:
            li = soup.new_tag("li", attrs={"class": f"oa-toc-{level}"})
            a = soup.new_tag("a", attrs={"href": f"#{anchor_id}"})
            a.string = text
            li.append(a)
            ol.append(li)
        nav.append(ol)
        cover.insert_after(nav)
    return str(soup)


def _drop_dangling_page_refs(body, ids: set[str]) -> None:
    """A page reference (``a.page-ref``) to a heading this document does not have (the short edition
    reuses the conversation page, whose references point into the full report) would print as "(p. ":
    its "Zie …" phrase (``span.oa-see``) is removed, or the link alone becomes plain text."""
    for link in body.find_all("a", class_="page-ref"):
        href = link.get("href", "")
        if not href.startswith("#") or href[1:] in ids:
            continue
        phrase = link.find_parent("span", class_="oa-see")
        if phrase is not None:
            phrase.decompose()
        else:
            link.unwrap()


#: alt texts that say nothing about a figure: nbconvert's English default and our bare label.
GENERIC_ALT = ("no description has been provided for this image", "figuur", "figure", "image", "")


def _heading_before(tag) -> str:
    """The text of the nearest heading (h2-h6) before ``tag`` in document order, or ``""``."""
    heading = tag.find_previous(["h2", "h3", "h4", "h5", "h6"])
    return heading.get_text(" ", strip=True) if heading is not None else ""


def accessible_structure(body, lang: str = "nl") -> None:
    """Make a rendered report body meet the structural accessibility rules (in place):

    - every ``<img>`` has a text alternative: a generic one (nbconvert's "No description has been
      provided for this image", a bare "Figuur") becomes "Figuur: <nearest heading>"; a
      data-driven one (:mod:`outcome_analysis.presentation.alt_text`) gets that heading in front
      when it does not name it already;
    - one ``h1`` (the cover's); any other ``h1`` becomes ``h2``, and heading levels never skip
      (an ``h4`` right after an ``h2`` becomes ``h3``);
    - every ``th`` has ``scope``: ``col`` in a header row (``thead``, or a row of ``th`` only), ``row``
      for a row label in the body;
    - every table sits in a ``div.oa-table-wrap`` (a wide table scrolls in its own box on screen).
    """
    figure_word = ui(lang).get("figure_alt", "Figuur") if lang in ("nl", "en") else "Figuur"
    for img in body.find_all("img"):
        alt = (img.get("alt") or "").strip()
        heading = _heading_before(img)
        if alt.lower().rstrip(".") in GENERIC_ALT:
            img["alt"] = f"{figure_word}: {heading}" if heading else figure_word
        elif heading and heading.lower() not in alt.lower():
            img["alt"] = f"{heading} – {alt}"
    cover_h1 = None
    previous = 0
    for heading in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        level = int(heading.name[1])
        if level == 1:
            if cover_h1 is None:
                cover_h1 = heading
                previous = 1
                continue
            level = 2
        if previous and level > previous + 1:
            level = previous + 1
        level = max(level, 2)
        if heading.name != f"h{level}":
            heading["class"] = [*heading.get("class", []), f"oa-was-{heading.name}"]
            heading.name = f"h{level}"
        previous = level
    for table in body.find_all("table"):
        for row in table.find_all("tr"):
            cells = _cells(row)
            header_row = row.find_parent("thead") is not None or all(c.name == "th" for c in cells)
            for cell in cells:
                if cell.name == "th" and not cell.get("scope"):
                    cell["scope"] = "col" if header_row else "row"
        if table.find_parent("table") is None and table.find_parent(class_="oa-table-wrap") is None:
            table.wrap(Tag(name="div", attrs={"class": "oa-table-wrap"}))


def _cells(row):
    return row.find_all(["th", "td"], recursive=False)


def split_wide_tables(soup, max_columns: int = 10) -> None:
    """Make wide tables fit an A4 page (in place): tables with more than 6 columns get the class
    ``oa-wide`` (smaller type); simple tables with more than ``max_columns`` data columns are split
    into several tables of at most ``max_columns`` columns, each repeating the row labels (the
    leading ``<th>`` cells, as pandas writes its index). Tables with merged cells are only shrunk.
    """
    for table in soup.find_all("table"):
        if table.find_parent("table") is not None:
            continue
        rows = table.find_all("tr")
        if not rows:
            continue
        width = max(len(_cells(r)) for r in rows)
        if width > 6:
            table["class"] = [*table.get("class", []), "oa-wide"]
        merged = any(c.get("colspan", "1") not in ("1", 1) or c.get("rowspan", "1") not in ("1", 1)
                     for r in rows for c in _cells(r))
        body_rows = [r for r in rows if r.find_parent("thead") is None]
        if merged or not body_rows:
            continue
        lead = 0
        for cell in _cells(body_rows[0]):
            if cell.name != "th":
                break
            lead += 1
        data_width = width - lead
        if data_width <= max_columns or any(len(_cells(r)) != width for r in rows):
            continue
        chunks = [(start, min(start + max_columns, width)) for start in range(lead, width, max_columns)]
        previous = table
        colgroup = table.find("colgroup")
        if colgroup is not None:  # widths of the whole table do not fit its parts
            colgroup.decompose()
        for part, (start, stop) in enumerate(chunks):
            piece = copy.copy(table)
            if part:
                caption = piece.find("caption")
                if caption is not None:
                    caption.decompose()
            for row in piece.find_all("tr"):
                for index, cell in enumerate(_cells(row)):
                    if index >= lead and not (start <= index < stop):
                        cell.decompose()
            piece["class"] = [*piece.get("class", []), "oa-split"]
            previous.insert_after(piece)
            previous = piece
        table.decompose()


def prepare_for_print(document: str, max_columns: int = 10) -> str:
    """The HTML as WeasyPrint should lay it out: wide tables shrunk or split (:func:`split_wide_tables`)."""
    soup = BeautifulSoup(document, "html.parser")
    split_wide_tables(soup, max_columns)
    return str(soup)


def to_html(notebook, out_path: str | os.PathLike, *, template: str = DEFAULT_TEMPLATE,
            institution: str | None = None, period: str | None = None, title: str | None = None,
            lang: str | None = "nl", date: str | _dt.date | None = None) -> Path:
    """Render ``notebook`` (see :func:`render_html`) and write it atomically to ``out_path``.

    Nothing is written when rendering fails; a previous file at ``out_path`` stays intact.
    """
    document = render_html(notebook, template=template, institution=institution, period=period,
                           title=title, lang=lang, date=date)
    return atomic.write_bytes(out_path, document)


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------
def print_css(template: str = DEFAULT_TEMPLATE) -> str:
    """The print stylesheet of a template (``templates/<template>/print.css``)."""
    folder = Path(template) if Path(template).is_dir() else TEMPLATES_DIR / template
    return (folder / "print.css").read_text(encoding="utf-8")


def _url_fetcher(base_dir: Path):
    """A WeasyPrint URL fetcher that allows ``data:`` and files inside ``base_dir`` only."""
    from weasyprint.urls import URLFetcher

    base = base_dir.resolve()

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                from urllib.parse import unquote, urlparse

                target = Path(unquote(urlparse(url).path)).resolve()
                if target == base or base in target.parents:
                    return super().fetch(url, headers)
            raise ValueError(f"report rendering fetches nothing from outside: refused {url[:80]!r}")

    return LocalOnlyFetcher(allowed_protocols={"data", "file"}, timeout=1)


#: WeasyPrint options of every report PDF: a tagged PDF (structure tree, ``/MarkInfo /Marked``) of the
#: PDF/UA-1 variant; the document language comes from ``<html lang>``, the title from ``<title>``; the
#: ``<meta>`` elements of the head go into the document information (``custom_metadata``): the report's
#: fingerprint as ``/oafingerprint``.
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True, "custom_metadata": True}


def render_pdf_bytes(html: str, *, template: str = DEFAULT_TEMPLATE, base_url: str | os.PathLike | None = None) -> bytes:
    """Lay out an HTML report with WeasyPrint and the template's print stylesheet; return the PDF,
    tagged for accessibility (:data:`PDF_OPTIONS`: PDF/UA-1, with language and title).

    ``base_url`` (default: the template folder) resolves relative references; the URL fetcher
    refuses http(s) and every file outside that folder, so rendering never touches the network.
    """
    from weasyprint import CSS, HTML

    base = Path(base_url) if base_url is not None else (
        Path(template) if Path(template).is_dir() else TEMPLATES_DIR / template)
    fetcher = _url_fetcher(base)
    document = HTML(string=prepare_for_print(html), base_url=str(base) + os.sep, url_fetcher=fetcher)
    stylesheet = CSS(string=print_css(template), base_url=str(base) + os.sep, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[stylesheet], **PDF_OPTIONS)


def _looks_like_html(source) -> bool:
    return isinstance(source, str) and source.lstrip()[:1] == "<"


def to_pdf(source, out_path: str | os.PathLike, *, template: str = DEFAULT_TEMPLATE,
           institution: str | None = None, period: str | None = None, title: str | None = None,
           lang: str | None = "nl", date: str | _dt.date | None = None) -> Path:
    """Write a PDF report atomically.

    ``source`` is a notebook (path to ``.ipynb`` or ``NotebookNode``; rendered with
    :func:`render_html`), an HTML string, or a path to an ``.html`` file (used as is; the cover
    arguments are then ignored).
    """
    if _looks_like_html(source):
        document = source
    elif isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() in (".html", ".htm"):
        document = Path(source).read_text(encoding="utf-8")
    else:
        document = render_html(source, template=template, institution=institution, period=period,
                               title=title, lang=lang, date=date)
    return atomic.write_bytes(out_path, render_pdf_bytes(document, template=template))


# --------------------------------------------------------------------------------------------
# the page shown instead of a report that could not be made
# --------------------------------------------------------------------------------------------
def error_page(institution: str | None, period: str | None, message: str, lang: str = "nl", *,
               template: str = DEFAULT_TEMPLATE) -> str:
    """A short, self-contained HTML page saying in plain words that a report could not be made.

    ``message`` should be a plain sentence (e.g. "Er zijn voor deze periode geen afgesloten
    trajecten."); only its first line is used, ANSI codes are removed and it is escaped, so a
    traceback passed by mistake does not end up on the page. Render it to PDF with
    :func:`to_pdf` / :func:`render_pdf_bytes`, write it with :func:`outcome_analysis.atomic.write_bytes`.
    """
    t = ui(lang)
    folder = Path(template) if Path(template).is_dir() else TEMPLATES_DIR / template
    css = (folder / "report.css").read_text(encoding="utf-8")
    first_line = next((line.strip() for line in _ANSI.sub("", str(message)).splitlines() if line.strip()), "")
    if len(first_line) > 400:
        first_line = first_line[:399] + "…"
    e = _html.escape
    inst = f'<p class="oa-cover-institution"><span class="oa-run-institution">{e(institution)}</span></p>' if institution else ""
    per = (f'<p class="oa-cover-period">{e(t["period"])}: <span class="oa-run-period">{e(str(period))}</span></p>'
           if period else "")
    date = fmt_date(_dt.date.today(), lang)
    return f"""<!DOCTYPE html>
<html lang="{e(lang)}">
<head>
<meta charset="utf-8">
<title>{e(t["error_title"])}</title>
<style type="text/css">
{css}
</style>
<style type="text/css">
@media print {{
@page {{ size: A4; margin: 22mm 18mm; }}
body.oa-report {{ max-width: none; margin: 0; padding: 0; }}
}}
</style>
</head>
<body class="oa-report">
<header class="oa-cover oa-error-cover">
<div class="oa-cover-top">{e(t["kicker"])}</div>
<h1 class="oa-cover-title">{e(t["error_title"])}</h1>
{inst}
{per}
<p class="oa-cover-date">{e(t["made_on"])} {e(date)}</p>
<p class="oa-confidential">{e(t["confidential"])}</p>
</header>
<main class="oa-body">
<div class="oa-error">
<p>{e(t["error_intro"])}</p>
<p><strong>{e(t["error_what"])}:</strong> {e(first_line)}</p>
<p>{e(t["error_next"])}</p>
</div>
</main>
</body>
</html>
"""
