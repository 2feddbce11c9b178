"""The gemeente and jeugdregio report (``notebooks/unit_report.ipynb``, document ``municipality``) as
sections, in reading order, for funders: a gemeente's youths (*woonplaatsbeginsel*) against its
jeugdregio, comparable gemeenten and the national figure, following the three steps of CBS's
Benchmark Jeugdzorg (compare, look into striking differences, learn).

Each module has ``NAME`` and ``build(story) -> list``; ``story`` is a
:class:`~.unit.UnitStory` (:func:`.unit.prepare`), a :class:`~outcome_analysis.presentation.story.Story`
of unit results. A jeugdregio report is the same document: its key figures have no region column and
:mod:`.members` shows its gemeenten side by side. Reused from the institution report: the context
section, the Kerncijfers' frame and verdict words and the too-little page (:mod:`.too_little`, shown
instead of the report, not listed). Texts: ``data/texts/municipality.yaml``.
"""
from . import conversation, context, cover, key_figures, members, method, providers, too_little, trends

SECTIONS = (cover, key_figures, members, trends, providers, context, conversation, method)

__all__ = ["SECTIONS", "too_little"]
