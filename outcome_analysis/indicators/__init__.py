"""Computation of every indicator of the registry, vectorised over the whole population.

Two public functions, one code path:

- :func:`records` builds the unit-level frame behind one indicator (one row per counted unit and
  category: a trajectory, an episode, a youth or an experience answer, as the registry says);
- :func:`compute` aggregates :func:`records` of every requested indicator into one tidy table of
  numerators, denominators, values, intervals, missing counts, follow-up windows and suppression
  flags, for institutions and nationally, per period and care type.

How rows aggregate is read from the registry (``headline`` and ``breakdowns`` of each entry):

- category ``""`` is the headline: a share (numerator = units with outcome 1, denominator = units
  with the outcome known) or a mean (numerator = sum of the values, denominator = number of values);
- category ``"family:code"`` is a breakdown row; its family's type in the registry says whether it
  is a share within the category (``informant:jeugdige``), a mean (``mean_change:``) or a cell of a
  distribution (``end_reason:onbekend``, ``follow_up:heavier``: numerator = units in the cell,
  denominator = units in the distribution);
- a row of category ``"family:"`` (empty code) is a unit whose distribution item is missing or whose
  window has not passed: it only feeds ``missing`` / ``excluded_window``;
- category ``"window:24"`` (herhaald beroep) is the headline at the second window: it is reported
  with category ``""`` and ``window_months = 24``.

Decisions where indicators.md leaves a choice open are listed in :func:`compute`'s Notes.

The package: ``base`` (the shared per-trajectory arrays of a computation, :func:`prepare`),
``parts`` (unit rows as arrays), ``builders`` (the builders by registry id), ``definitions`` (one
decorated builder per indicator, grouped by kind; ``helpers`` holds what several of them share),
``records``, ``aggregate``, ``compute``, ``suppression`` and ``profile``. This module re-exports the public names, so
``outcome_analysis.indicators.compute`` and the rest keep working.
"""
from __future__ import annotations

from . import registry  # noqa: F401 (reachable as indicators.registry / indicators.schema)
from outcome_analysis.contract import schema  # noqa: F401
from outcome_analysis.settings import DEFAULT  # noqa: F401
from . import definitions  # noqa: F401 (registers the builders)
from .aggregate import _first_appearance  # noqa: F401
from .base import prepare
from .builders import builder, computable
from .common import AGE_GROUPS, FOLLOW_UP, MULTI_FAMILIES, OUTPUT_COLUMNS, RCI_CLASSES, RECORD_COLUMNS, TRANSITION_NONE, DerivedNormWarning, IndicatorError, UnknownInstrumentWarning
from .compute import compute
from .definitions.change import derive_missing_norms
from .definitions.follow_up_weight import compare_intensity
from .definitions.gas import _gas_by_position, _gas_by_text  # noqa: F401
from .helpers import _packed_order, _trajectory_unit  # noqa: F401
from .profile import verloop_profile
from .records import records
from .suppression import resuppress

#: the indicators :func:`compute` computes by default (context items are computed by ``context``).
COMPUTABLE = computable()

__all__ = [
    "AGE_GROUPS", "COMPUTABLE", "FOLLOW_UP", "MULTI_FAMILIES", "OUTPUT_COLUMNS", "RCI_CLASSES", "RECORD_COLUMNS",
    "TRANSITION_NONE", "DerivedNormWarning", "IndicatorError", "UnknownInstrumentWarning", "builder",
    "compare_intensity", "compute", "derive_missing_norms", "prepare", "records", "resuppress",
    "verloop_profile",
]
