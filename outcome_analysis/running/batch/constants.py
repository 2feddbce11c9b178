"""The batch's fixed names: default notebooks and templates, languages, output file names."""
from __future__ import annotations

from pathlib import Path

from outcome_analysis.texts import LANGS  # noqa: F401 - the report languages, one list

TOP_PACKAGE = __name__.split(".")[0]  # "outcome_analysis"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_NOTEBOOK = PROJECT_ROOT / "notebooks" / "institution_report.ipynb"
DEFAULT_NATIONAL_NOTEBOOK = PROJECT_ROOT / "notebooks" / "national_overview.ipynb"
DEFAULT_TEMPLATES = PROJECT_ROOT / "templates"
NATIONAL_SLUG = "national-overview"
MANIFEST_NAME = "manifest.json"
RESULTS_DIR = ".results"  # where earlier versions kept the results store, inside the output folder: removed on a run
SETTINGS_NAME = "settings.yaml"  # the run's settings in a worker's directory (with the data shipped)
CACHE_APP = "outcome-workbench"  # the results store: $XDG_CACHE_HOME/outcome-workbench/<data hash>/
MANIFEST_FORMAT = 1
