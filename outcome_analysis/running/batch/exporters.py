"""Output formats: a registry of exporters, each turning the executed notebook into one file's bytes.

An exporter is a module-level function (it runs in the worker)::

    exporter(nb, files, *, institution, period, title, lang, template, date) -> bytes

``files`` holds the bytes of the formats rendered before it, so the PDF is made from the very HTML
of the report. Adding a format is one registration, in the order formats are rendered::

    EXPORTERS.register("docx", Exporter(to_docx, needs=("html",)))

Those are per report. What a batch publishes once, beside its reports, is in a second registry,
:data:`BATCH_EXPORTERS`: each entry writes files into a folder from the batch's precomputed
results (``exporter(results, folder, *, lang) -> [paths]``); :func:`export_batch` runs them. The
one registered, ``figures``, is the disclosure-safe table of every published figure for researchers
(:func:`outcome_analysis.presentation.published.write_figures`: ``figures.csv`` with its note
``figures-toelichting.txt``, and ``figures.xlsx`` with the note as a second sheet)::

    for granularity, digest in results.items():      # run_batch, after prepare_once
        if digest:
            export_batch(cache_dir / digest, out / PUBLISHED_DIR / granularity, lang=lang)
"""
from __future__ import annotations

import os
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


# ----------------------------------------------------------------------------------------------
# per batch: files written once from the batch's results, not per report

#: the folder under a batch's output folder that :func:`export_batch` writes to by default.
PUBLISHED_DIR = "cijfers"


@dataclass(frozen=True)
class BatchExporter:
    """``write(results, folder, *, lang) -> list of Path`` writes its files into ``folder``."""

    write: Callable[..., list]


def published_figures(results, folder: Path, *, lang: str = "nl") -> list[Path]:
    """Every published figure, disclosure-safe, as ``figures.csv`` and ``figures.xlsx`` (with their
    note), :func:`outcome_analysis.presentation.published.write_figures`."""
    from outcome_analysis.presentation import published

    return published.write_figures(results, folder, lang)


BATCH_EXPORTERS = Registry("batch export")
BATCH_EXPORTERS.register("figures", BatchExporter(published_figures))


def export_batch(results, folder: str | os.PathLike, *, lang: str = "nl",
                 names: Sequence[str] | None = None) -> list[Path]:
    """Run the per-batch exporters (all of :data:`BATCH_EXPORTERS`, or ``names``) on ``results``.

    Parameters
    ----------
    results : Results or path
        The batch's results (:class:`outcome_analysis.running.results.Results`), or the folder
        they were saved to (the batch's results store ``<cache>/<hash>``, read with
        ``Results.load``); the thresholds
        in force are the results' own settings.
    folder : path
        Where the files go (created when needed), e.g. ``<out>/cijfers/year``.
    lang : {"nl", "en"}
    names : sequence of str, optional
        Which exporters (default: every registered one, in registration order).

    Returns
    -------
    list of Path
        The files written.
    """
    if not hasattr(results, "indicators"):
        from outcome_analysis.running.results import Results

        results = Results.load(results)
    written: list[Path] = []
    for name in (BATCH_EXPORTERS.names() if names is None else names):
        written += BATCH_EXPORTERS.get(name).write(results, Path(folder), lang=lang)
    return written
