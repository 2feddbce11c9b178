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
``unit_records`` (:func:`records`), ``aggregate``, ``tables`` (:func:`compute`), ``suppression`` and ``profile``. This module re-exports the public names
(imported on first use), so ``outcome_analysis.indicators.compute`` and the rest keep working.
"""
from __future__ import annotations

import importlib
import importlib.util

#: public name -> the module of this package that defines it. Imported on first use, so that
#: ``from outcome_analysis.indicators import registry`` (the report layer reads the registry) does not
#: load the engine and its statistics.
_LAZY = {
    **dict.fromkeys(("AGE_GROUPS", "FOLLOW_UP", "MULTI_FAMILIES", "OUTPUT_COLUMNS", "RCI_CLASSES", "RECORD_COLUMNS",
                     "TRANSITION_NONE", "DerivedNormWarning", "IndicatorError", "UnknownInstrumentWarning"), "common"),
    "prepare": "base",
    "builder": "builders", "computable": "builders",
    "compute": "tables",
    "records": "unit_records",
    "resuppress": "suppression",
    "verloop_profile": "profile",
    "derive_missing_norms": "definitions.change",
    "compare_intensity": "definitions.follow_up_weight",
    "_gas_by_position": "definitions.gas", "_gas_by_text": "definitions.gas",
    "_first_appearance": "aggregate",
    "_packed_order": "helpers", "_trajectory_unit": "helpers",
    "schema": None, "DEFAULT": None, "COMPUTABLE": None,
}

__all__ = [
    "AGE_GROUPS", "COMPUTABLE", "FOLLOW_UP", "MULTI_FAMILIES", "OUTPUT_COLUMNS", "RCI_CLASSES", "RECORD_COLUMNS",
    "TRANSITION_NONE", "DerivedNormWarning", "IndicatorError", "UnknownInstrumentWarning", "builder",
    "compare_intensity", "compute", "derive_missing_norms", "prepare", "records", "resuppress",
    "verloop_profile",
]


def __getattr__(name: str):
    if name not in _LAZY:
        if importlib.util.find_spec(f"{__name__}.{name}") is not None:  # a module of the package: registry, ...
            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "schema":
        from outcome_analysis.contract import schema as value
    elif name == "DEFAULT":
        from outcome_analysis.settings import DEFAULT as value
    elif name == "COMPUTABLE":  # the indicators compute() computes by default (context items: context)
        importlib.import_module(f"{__name__}.definitions")  # registers the builders
        value = importlib.import_module(f"{__name__}.builders").computable()
    else:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
