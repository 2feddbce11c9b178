"""Documents as ordered lists of sections.

A *section* is a module with ``build(ctx) -> list`` of display items (HTML strings, tables, figures;
:func:`outcome_analysis.presentation.story.show` displays them) and a ``NAME``. A *document* is a
package under :mod:`outcome_analysis.presentation.sections` whose ``SECTIONS`` is the ordered tuple of
its section modules. ``ctx`` is what every section of that document reads: the institution report's
:class:`~outcome_analysis.presentation.story.Story`, the national overview's
:class:`~outcome_analysis.presentation.overview.Overview`.

A new section is one module and one line in its document's ``SECTIONS``; a new document (an
edition, a gemeente report) is one package listing the sections it reuses.

The notebooks show one section per cell, so a reader of the executed notebook sees each heading
where it belongs::

    show(documents.section("institution", "summary", story))

Two documents are editions of the same report, both read from the same stored results:
``institution`` (the full report; its methods section is an appendix, "Bijlage: Verantwoording", at
the end: :data:`APPENDIX`) and ``institution_short`` (the key figures for a client council, at most
six pages, in plain Dutch: :mod:`outcome_analysis.presentation.sections.short`). The report notebook
picks one with its parameter ``edition`` (:data:`EDITIONS`).

Every section a notebook shows also states what the report was made from: :func:`section` emits the
report's fingerprint (:func:`stamp`; unit kind, unit, period, edition, language and the hashes of the
data, settings, reference, mapping and actions its results record:
:mod:`outcome_analysis.running.batch.fingerprint`) as an output no reader sees; the export moves it
into the HTML head and the PDF's document information, and the batch checks it before publishing.
A page shown without a section (the too-little page) is stamped by the notebook itself::

    documents.stamp(documents.for_edition(edition), story)
"""
from __future__ import annotations

import importlib
from types import ModuleType

from outcome_analysis.presentation.report import ReportError

#: document id -> the package that lists its sections.
DOCUMENTS = {
    "institution": "outcome_analysis.presentation.sections.institution",
    "national": "outcome_analysis.presentation.sections.national",
    "methods": "outcome_analysis.presentation.sections.methods",
    "institution_short": "outcome_analysis.presentation.sections.short",
    "municipality": "outcome_analysis.presentation.sections.municipality",
}

#: sections a document shows besides those its package lists: document -> ``(after, "module:attribute")``
#: pairs, each inserted after the section named ``after`` (at the end when there is none). The short
#: edition's verbeteracties (one line per action) follow its key figures.
ADDED = {"institution_short": (("figures", "outcome_analysis.presentation.sections.institution.actions:SHORT"),)}

#: the report notebook's ``edition`` parameter -> the document it shows.
EDITIONS = {"full": "institution", "short": "institution_short"}

#: document -> the sections printed as an appendix ("Bijlage") at its end: their first heading
#: reads "Bijlage: <heading>" and carries the class ``oa-appendix``.
APPENDIX = {"institution": ("breakdowns", "quality", "methods", "notes"), "national": ("method_note", "tables")}


def for_edition(edition: str) -> str:
    """The document of a report edition: ``"full"`` -> ``"institution"``, ``"short"`` ->
    ``"institution_short"``; :class:`ReportError` for another edition.

    >>> for_edition("short")
    'institution_short'
    """
    if edition not in EDITIONS:
        raise ReportError(f"unknown report edition {edition!r}; there are {sorted(EDITIONS)}")
    return EDITIONS[edition]


def sections(document: str) -> tuple[ModuleType, ...]:
    """The section modules of ``document``, in reading order.

    Raises :class:`~outcome_analysis.presentation.report.ReportError` for an unknown document.
    """
    if document not in DOCUMENTS:
        raise ReportError(f"unknown document {document!r}; there are {sorted(DOCUMENTS)}")
    listed = list(importlib.import_module(DOCUMENTS[document]).SECTIONS)
    for after, target in ADDED.get(document, ()):
        module, _, attribute = target.partition(":")
        extra = getattr(importlib.import_module(module), attribute)
        if any(s.NAME == extra.NAME for s in listed):
            continue  # the package lists it itself
        names_ = [s.NAME for s in listed]
        listed.insert(names_.index(after) + 1 if after in names_ else len(listed), extra)
    return tuple(listed)


def names(document: str) -> list[str]:
    """The section names of ``document`` in reading order."""
    return [s.NAME for s in sections(document)]


def section(document: str, name: str, ctx) -> list:
    """The items of one section of ``document`` built for ``ctx``; the numbers it prints are recorded
    in the ledger in force (:mod:`outcome_analysis.presentation.ledger`) with the document, the
    section, the unit (the institution; ``""`` for an overview) and the period."""
    from outcome_analysis.presentation import ledger

    for module in sections(document):
        if module.NAME == name:
            with ledger.context(document=document, section=name, unit=getattr(ctx, "institution", "") or "",
                                period=getattr(ctx, "period", None)):
                items = list(module.build(ctx))
            if name in APPENDIX.get(document, ()):
                items = as_appendix(items, getattr(ctx, "lang", "nl"))
            stamp(document, ctx)
            return items
    raise ReportError(f"document {document!r} has no section {name!r}; there are {names(document)}")


def stamp(document: str, ctx) -> dict | None:
    """Emit the fingerprint of the report ``document`` shows for ``ctx``
    (:func:`outcome_analysis.running.batch.fingerprint.of_document`) as a display output of mimetype
    ``application/vnd.outcome-fingerprint+json`` only, which no reader sees (the export takes it out
    and puts it in the HTML head and the PDF's metadata). Only inside a running kernel: elsewhere
    (tests, scripts) nothing is displayed. Returns the fingerprint (``None`` for a document that is
    no report)."""
    from outcome_analysis.running.batch import fingerprint

    found = fingerprint.of_document(document, ctx)
    if found is None:
        return None
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency
        shell = None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display

        display({fingerprint.MIMETYPE: found}, raw=True)
    return found


def build(document: str, ctx) -> list:
    """All items of ``document`` for ``ctx``, section after section (appendix sections as such)."""
    return [item for name in names(document) for item in section(document, name, ctx)]


def as_appendix(items: list, lang: str = "nl") -> list:
    """``items`` of a section with its first ``<h2>`` made the appendix heading: "Bijlage:
    Verantwoording" (en "Appendix: ..."), class ``oa-appendix``. Items without an h2 are returned
    unchanged.

    >>> from outcome_analysis.presentation.report import HTML
    >>> as_appendix([HTML("<h2>Verantwoording</h2>"), "x"])[0]
    '<h2 class="oa-appendix">Bijlage: Verantwoording</h2>'
    """
    import re

    from outcome_analysis import texts
    from outcome_analysis.presentation.report import HTML

    word = texts.for_lang("short", lang)["appendix"]
    out, done = [], False
    for item in items:
        if not done and isinstance(item, str) and "<h2" in item:
            item = HTML(re.sub(r"<h2(?P<attrs>[^>]*)>",
                               lambda m: _with_class(m.group("attrs"), "oa-appendix") + f"{word}: ", item, count=1))
            done = True
        out.append(item)
    return out


def _with_class(attrs: str, cls: str) -> str:
    import re

    if re.search(r'class="', attrs):
        return "<h2" + re.sub(r'class="', f'class="{cls} ', attrs, count=1) + ">"
    return f'<h2{attrs} class="{cls}">'

