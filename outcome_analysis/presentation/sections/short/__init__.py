"""The short edition of the institution report (*kerncijfers*, for a client council): at most six
A4 pages in plain Dutch (B1), read from the same stored results as the full report.

Sections, in reading order: :mod:`.cover` (what this is, for whom, how to read the signs), the
conversation page of the full report (:mod:`..institution.conversation`, "Voor het gesprek"),
:mod:`.figures` (the key figures of the NJi basisset JB/JR and the harmonised jeugdhulp set, each in
one sentence and a table with a verdict in words and a sign) and :mod:`.glossary` ("Wat betekent
…"). Every text of this package is in ``data/texts/short.yaml``; every number goes through the
formatting functions of :mod:`outcome_analysis.presentation.report` (the leak-audit ledger).
"""
from __future__ import annotations

from ..institution import conversation
from . import cover, figures, glossary

SECTIONS = (cover, conversation, figures, glossary)

__all__ = ["SECTIONS"]
