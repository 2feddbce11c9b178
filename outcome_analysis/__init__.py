"""outcome_analysis: outcome indicators for Dutch youth care (jeugdhulp, jeugdbescherming, jeugdreclassering).

The package is layered (see docs/architecture.md):

- ``outcome_analysis.contract``: the delivery's schema, loading and checking, periods, the demo delivery;
- ``outcome_analysis.indicators``: the indicator engine, the definitions, the registry, episodes, context;
- ``outcome_analysis.statistics``: intervals, funnel limits, case-mix adjustment, survival, disclosure;
- ``outcome_analysis.presentation``: report vocabulary, the report sections and documents, plots, export;
- ``outcome_analysis.running``: results computed once per delivery, the batch, the notebook kernels.

Every module keeps its short path as well (``outcome_analysis.casemix`` is
``outcome_analysis.statistics.casemix``, ``python -m outcome_analysis.demo`` runs the demo generator):
researchers' notebooks import them that way. The public entry points are imported lazily so that
``import outcome_analysis`` stays cheap:

>>> import outcome_analysis as oa
>>> data = oa.load("data/demo")            # doctest: +SKIP
>>> table = oa.compute(data)                # doctest: +SKIP
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"

_EXPORTS = {
    "load": "contract.io",
    "DataValidationError": "errors",
    "OutcomeAnalysisError": "errors",
    "Dataset": "contract.dataset",
    "Settings": "settings",
    "compute": "indicators",
    "REGISTRY": "indicators.registry",
    "Explorer": "presentation.explorer",
}

#: short module path -> the layer it lives in; ``outcome_analysis.<short>`` stays importable.
MOVED = {
    **dict.fromkeys(("schema", "dataset", "io", "periods", "validation", "counted", "problem_texts", "demo"),
                    "contract"),
    **dict.fromkeys(("registry", "episodes", "quality", "context"), "indicators"),
    **dict.fromkeys(("stats", "funnel", "casemix", "survival", "disclosure"), "statistics"),
    **dict.fromkeys(("report", "story", "overview", "plots", "export", "explorer"), "presentation"),
    **dict.fromkeys(("results", "batch", "kernels"), "running"),
}


def _layered(fullname: str) -> str | None:
    """``outcome_analysis.casemix`` -> ``outcome_analysis.statistics.casemix`` (also below a moved package)."""
    parts = fullname.split(".")
    if len(parts) >= 2 and parts[0] == __name__ and parts[1] in MOVED:
        return ".".join([__name__, MOVED[parts[1]], *parts[1:]])
    return None


class _ShortPath(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import a short module path as the layered module itself (one module object, not a copy).

    ``import outcome_analysis.casemix`` binds the very module ``outcome_analysis.statistics.casemix``,
    so attributes set on one (a test's monkeypatch, a researcher's override) are seen through the other.
    ``python -m outcome_analysis.demo`` works too: :meth:`get_code` hands runpy the layered module's code.
    """

    def find_spec(self, fullname, path=None, target=None):
        layered = _layered(fullname)
        if layered is None:
            return None
        real = importlib.util.find_spec(layered)
        if real is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=real.submodule_search_locations is not None)

    def create_module(self, spec):
        module = importlib.import_module(_layered(spec.name))
        spec.loader_state = module.__spec__  # the import system sets the short spec on it; put it back below
        return module

    def exec_module(self, module):
        short = module.__spec__
        module.__spec__ = short.loader_state

    def get_code(self, fullname):
        real = importlib.util.find_spec(_layered(fullname))
        return real.loader.get_code(real.name)

    def is_package(self, fullname):
        return importlib.util.find_spec(_layered(fullname)).submodule_search_locations is not None


if not any(isinstance(finder, _ShortPath) for finder in sys.meta_path):
    sys.meta_path.insert(0, _ShortPath())

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
