"""The methods notebook (``notebooks/methods.ipynb``): its sections in reading order.

Each section module has ``NAME`` and ``build(ov) -> list`` of display items for an
:class:`~outcome_analysis.presentation.overview.Overview` (results, period, language); the
explanations in prose are the notebook's markdown cells, the sections are its worked examples
(:mod:`outcome_analysis.presentation.methods`)::

    show(documents.section("methods", "wilson", ov))
"""
from . import casemix, catalogue, disclosure, episodes, overdispersion, rci_gas, shrinkage, wilson, windows

SECTIONS = (catalogue, episodes, windows, wilson, disclosure, casemix, overdispersion, shrinkage, rci_gas)
