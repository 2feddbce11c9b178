"""outcome_analysis: outcome indicators for Dutch youth care (jeugdhulp, jeugdbescherming, jeugdreclassering).

The public entry points are imported lazily so that ``import outcome_analysis`` stays cheap:

>>> import outcome_analysis as oa
>>> data = oa.load("data/demo")            # doctest: +SKIP
>>> table = oa.compute(data)                # doctest: +SKIP
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load": "io",
    "DataValidationError": "errors",
    "OutcomeAnalysisError": "errors",
    "Dataset": "dataset",
    "Settings": "settings",
    "compute": "indicators",
    "REGISTRY": "registry",
    "Explorer": "explorer",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'outcome_analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
