"""The batch's fixed names: default notebooks and templates, languages, output file names."""
from __future__ import annotations

from pathlib import Path

from outcome_analysis.texts import LANGS  # noqa: F401 - the report languages, one list

TOP_PACKAGE = __name__.split(".")[0]  # "outcome_analysis"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_NOTEBOOK = PROJECT_ROOT / "notebooks" / "institution_report.ipynb"
DEFAULT_NATIONAL_NOTEBOOK = PROJECT_ROOT / "notebooks" / "national_overview.ipynb"
DEFAULT_TEMPLATES = PROJECT_ROOT / "templates"
#: the gemeente and jeugdregio report (``run_reports.py --for municipality|region``)
DEFAULT_UNIT_NOTEBOOK = PROJECT_ROOT / "notebooks" / "unit_report.ipynb"
#: what ``--for`` accepts: a report per institution (default), per gemeente, per jeugdregio.
REPORT_UNITS = ("institution", "municipality", "region")
#: the folder of a period's gemeente and jeugdregio reports: ``<out>/<period>/gemeente/<GMcode>-<slug>.html``
#: and ``<out>/<period>/regio/<slug>.html``; also the prefix of their manifest keys.
UNIT_FOLDER = {"municipality": "gemeente", "region": "regio"}
#: where the unit stores of one results key lie in the cache: ``<cache>/<key>/units/<kind>/``.
UNITS_DIR = "units"
NATIONAL_SLUG = "national-overview"
MANIFEST_NAME = "manifest.json"
RESULTS_DIR = ".results"  # where earlier versions kept the results store, inside the output folder: removed on a run
SETTINGS_NAME = "settings.yaml"  # the run's settings in a worker's directory (with the data shipped)
CACHE_APP = "outcome-workbench"  # the results store: $XDG_CACHE_HOME/outcome-workbench/<data hash>/
MANIFEST_FORMAT = 1

#: the editions of an institution's report: ``full`` (every section, methods in an appendix) and
#: ``short`` (the key figures for a client council, at most 6 pages). The overview has ``full`` only.
EDITIONS = ("full", "short")
#: the file-name tail of an edition: ``<period>/<slug>.html`` (full), ``<period>/<slug>.kort.html`` (short).
EDITION_SUFFIX = {"full": "", "short": ".kort"}
#: what ``--edition`` accepts, and the editions each means.
EDITION_CHOICES = {"full": ("full",), "short": ("short",), "both": ("full", "short")}

#: a report's status in the manifest: made; made, but the institution had too little data for a
#: report (the short page instead); failed (a cell raised, rendering failed, the leak audit refused
#: it); timed out.
STATUSES = ("made", "too_little_data", "failed", "timed_out")
#: the statuses whose files are published (a resumed run skips them when nothing changed).
GOOD_STATUSES = ("made", "too_little_data")
#: the status names of manifests written before these: read as the new ones.
OLD_STATUSES = {"done": "made", "timeout": "timed_out"}
#: the marker a rendered report carries when it is the too-little-data page
#: (``sections/institution/too_little.py``): the batch records ``too_little_data``.
TOO_LITTLE_MARKER = 'data-report-status="too_little_data"'
