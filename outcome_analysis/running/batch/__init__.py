"""Batch: every institution and period in one command, in parallel, on one machine or a Dask cluster.

:func:`run_batch` reads as its steps::

    data      = load the data set once; hash it
    periods   = the periods asked for (default: the latest complete year)
    prepare   = compute the results for the whole population once per granularity (cached)
    plan      = one job per institution x period (+ the national overview per period)
    resume    = skip the jobs whose inputs did not change since their report was made
    execute   = run the jobs on a local process pool or a Dask cluster, writing each report as it
                comes back; a failed report is recorded and the batch goes on
    publish   = the index pages and the manifest

Workers never see client-side paths: a job carries its parameters, and the :class:`Payload`
(notebook, templates and stored results as bytes) is materialised once per worker process in a
worker-local temporary directory. The worker executes the notebook with papermill on a kernel that
talks over IPC sockets in a private temporary directory (:mod:`outcome_analysis.kernels`), renders
it to HTML (and PDF from that same HTML) and returns the bytes; the client writes every file,
atomically. The same worker function serves the process pool and Dask, so both give the same bytes.

Reports per gemeente or jeugdregio (``run_batch(..., report_for="municipality"|"region")``) take
the same steps with the gemeente mapping read and checked first, both unit stores computed once per
period and one job per unit (:mod:`.units`).

Modules: :mod:`.run` (the steps above), :mod:`.units`, :mod:`.options`, :mod:`.plan`, :mod:`.prepare`,
:mod:`.manifest` (resume), :mod:`.hashing`, :mod:`.index`, :mod:`.worker`, and two registries,
the one place to add a scheduler or an output format:

- :data:`.executors.EXECUTORS`: ``EXECUTORS.register("local", LocalPool)``; a family of names
  (Dask addresses ``tcp://...``) is registered with ``matches=``; :func:`get_executor`.
- :data:`.exporters.EXPORTERS`: ``EXPORTERS.register("pdf", Exporter(pdf_from_html, needs=("html",)))``;
  :data:`FORMATS` lists them in order.

Example
-------
>>> from outcome_analysis.batch import run_batch
>>> result = run_batch("data/demo", periods=["2024"], formats=("html", "pdf"))  # doctest: +SKIP
>>> result.ok, result.counts                                                       # doctest: +SKIP
(True, {'done': 24, 'failed': 0, 'skipped': 0})
"""
from __future__ import annotations

import sys as _sys

# nbformat validates notebooks with jsonschema, whose format checkers import ``rfc3987_syntax`` when it
# is installed (it comes with jsonschema[format-nongpl] through the Jupyter packages); that module
# compiles some forty Lark grammars at import, about 1.7 s in every process of a batch (the client
# and each worker), for the "iri" formats no notebook schema uses (python-jsonschema/jsonschema#1428,
# opendatahub-io/notebooks#3532). Here it is not imported: jsonschema then skips those two formats.
_sys.modules.setdefault("rfc3987_syntax", None)

from outcome_analysis.presentation.report import slugify  # file names of reports
from .constants import DEFAULT_NATIONAL_NOTEBOOK, DEFAULT_NOTEBOOK, DEFAULT_TEMPLATES, DEFAULT_UNIT_NOTEBOOK, LANGS, MANIFEST_FORMAT, MANIFEST_NAME, NATIONAL_SLUG, PROJECT_ROOT, RESULTS_DIR
from .errors import (BatchConfigError, BatchError, MappingFileError, MissingParameterError, NoMatchingInstitutionError,
                     NoMatchingUnitError, PrepareError)
from .executors import EXECUTORS, DaskRunner, LocalPool, get_executor
from .executors import get_executor as make_executor  # its earlier name
from .exporters import EXPORTERS, FORMATS, Exporter, render_report
from .hashing import hash_files, hash_path, read_tree
from .index import write_index_pages
from .jobs import BatchResult, Job, JobResult, Payload
from .manifest import load_manifest, record_result, save_manifest, split_resumable
from .plan import notebook_parameters, overview_label, plan_jobs, report_title, resolve_periods, select_institutions
from .prepare import build_payload, prepare_once, prepare_results
from .run import ensure_demo_data, run_batch
from .worker import execute_job, materialise, warm_up

__all__ = [
    "DEFAULT_NATIONAL_NOTEBOOK", "DEFAULT_NOTEBOOK", "DEFAULT_TEMPLATES", "DEFAULT_UNIT_NOTEBOOK", "EXECUTORS", "EXPORTERS", "FORMATS", "LANGS",
    "MANIFEST_FORMAT", "MANIFEST_NAME", "NATIONAL_SLUG", "PROJECT_ROOT", "RESULTS_DIR",
    "BatchConfigError", "BatchError", "BatchResult", "DaskRunner", "Exporter", "Job", "JobResult", "LocalPool",
    "MappingFileError", "MissingParameterError", "NoMatchingInstitutionError", "NoMatchingUnitError", "Payload",
    "PrepareError",
    "build_payload", "ensure_demo_data", "execute_job", "get_executor", "make_executor", "hash_files", "hash_path", "load_manifest",
    "materialise", "notebook_parameters", "overview_label", "plan_jobs", "prepare_once", "prepare_results",
    "read_tree", "record_result", "render_report", "report_title", "resolve_periods", "run_batch", "save_manifest",
    "select_institutions", "slugify", "split_resumable", "warm_up", "write_index_pages",
]
