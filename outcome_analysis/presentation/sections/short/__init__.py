"""The short edition of the institution report (*kerncijfers*, for a client council): at most six
A4 pages in plain Dutch (B1), read from the same stored results as the full report.

Sections, in reading order: :mod:`.cover` (what this is, for whom, how to read the signs), the
conversation page of the full report (``sections.institution.conversation``, NAME
``"conversation"``: listed here when that module exists, see :func:`conversation_section`),
:mod:`.figures` (the key figures of the NJi basisset JB/JR and the harmonised jeugdhulp set, each in
one sentence and a table with a verdict in words and a sign) and :mod:`.glossary` ("Wat betekent
…"). Every text is in ``data/texts/short.yaml``; every number goes through the formatting functions
of :mod:`outcome_analysis.presentation.report` (the leak-audit ledger).
"""
from __future__ import annotations

import importlib
from types import ModuleType

from . import cover, figures, glossary


def conversation_section() -> ModuleType | None:
    """The conversation page of the institution report
    (``outcome_analysis.presentation.sections.institution.conversation``), or ``None`` while that
    module does not exist: its place in :data:`SECTIONS` is right after the cover."""
    try:
        return importlib.import_module("outcome_analysis.presentation.sections.institution.conversation")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith("conversation"):
            return None
        raise


SECTIONS = tuple(m for m in (cover, conversation_section(), figures, glossary) if m is not None)

__all__ = ["SECTIONS", "conversation_section"]
