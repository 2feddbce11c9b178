"""The national overview (``notebooks/national_overview.ipynb``): its sections in reading order.

Each section module has ``NAME`` and ``build(ov) -> list`` of display items for an
:class:`~outcome_analysis.presentation.overview.Overview` (results, period, language)::

    show(documents.section("national", "summary", ov))
"""
from . import basisset_jbjr, jeugdhulp_harmonised, method_note, prestatie, summary, tables, trends

#: ``tables`` (every institution's figures) is the appendix (``documents.APPENDIX``).
SECTIONS = (summary, basisset_jbjr, jeugdhulp_harmonised, prestatie, trends, method_note, tables)
