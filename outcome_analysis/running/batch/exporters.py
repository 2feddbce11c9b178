"""Output formats: a registry of exporters, each turning the executed notebook into one file's bytes.

An exporter is a module-level function (it runs in the worker)::

    exporter(nb, files, *, institution, period, title, lang, template, date) -> bytes

``files`` holds the bytes of the formats rendered before it, so the PDF is made from the very HTML
of the report. Adding a format is one registration, in the order formats are rendered::

    EXPORTERS.register("docx", Exporter(to_docx, needs=("html",)))
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .registry import Registry


@dataclass(frozen=True)
class Exporter:
    """``render`` makes the bytes; ``needs`` are the formats it is made from (rendered first)."""

    render: Callable[..., bytes]
    needs: tuple[str, ...] = ()


def html_from_notebook(nb, files: dict[str, bytes], *, institution: str, period: str, title: str, lang: str,
                       template: str, date=None) -> bytes:
    """The report page: ``export.render_html`` of the executed notebook."""
    from outcome_analysis.presentation import export

    page = export.render_html(nb, institution=institution, period=period, title=title, lang=lang,
                              template=template, date=date)
    return page.encode("utf-8")


def pdf_from_html(nb, files: dict[str, bytes], *, template: str, **_context) -> bytes:
    """The PDF of the report page (``export.render_pdf_bytes`` of the HTML rendered before it)."""
    from outcome_analysis.presentation import export

    return export.render_pdf_bytes(files["html"].decode("utf-8"), template=template)


EXPORTERS = Registry("output format")
EXPORTERS.register("html", Exporter(html_from_notebook))
EXPORTERS.register("pdf", Exporter(pdf_from_html, needs=("html",)))

FORMATS = EXPORTERS.names()  # ("html", "pdf"): the default of run_batch


def render_report(nb, *, institution: str, period: str, title: str, lang: str, formats: Sequence[str],
                  templates: Path | None = None, date=None) -> dict[str, bytes]:
    """The report's files: each format asked for, and the formats it is made from (the HTML always,
    the PDF from that same HTML).

    ``templates`` is the worker's copy of the templates folder (the export's template is taken
    from there, so a worker needs no checkout). ``date`` is the cover date (the batch passes the
    day it started, so every worker prints the same date).
    """
    from outcome_analysis.presentation import export

    template = export.DEFAULT_TEMPLATE
    if templates is not None and (Path(templates) / template).is_dir():
        template = str(Path(templates) / template)
    wanted = _with_needs(("html", *formats))
    files: dict[str, bytes] = {}
    for name in EXPORTERS.names():  # registration order: what a format needs comes first
        if name in wanted:
            files[name] = EXPORTERS.get(name).render(nb, files, institution=institution, period=period,
                                                      title=title, lang=lang, template=template, date=date)
    return files


def _with_needs(formats: Sequence[str]) -> set[str]:
    wanted: set[str] = set()
    todo = [f for f in formats if f in EXPORTERS]
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(EXPORTERS.get(name).needs)
    return wanted
