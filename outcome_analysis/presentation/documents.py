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
}


def sections(document: str) -> tuple[ModuleType, ...]:
    """The section modules of ``document``, in reading order.

    Raises :class:`~outcome_analysis.presentation.report.ReportError` for an unknown document.
    """
    if document not in DOCUMENTS:
        raise ReportError(f"unknown document {document!r}; there are {sorted(DOCUMENTS)}")
    return tuple(importlib.import_module(DOCUMENTS[document]).SECTIONS)


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
                return list(module.build(ctx))
    raise ReportError(f"document {document!r} has no section {name!r}; there are {names(document)}")


def build(document: str, ctx) -> list:
    """All items of ``document`` for ``ctx``, section after section."""
    return [item for module in sections(document) for item in module.build(ctx)]
