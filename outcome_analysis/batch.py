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

Example
-------
>>> from outcome_analysis.batch import run_batch
>>> result = run_batch("data/demo", periods=["2024"], formats=("html", "pdf"))  # doctest: +SKIP
>>> result.ok, result.counts                                                       # doctest: +SKIP
(True, {'done': 24, 'failed': 0, 'skipped': 0})
"""
from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import fnmatch
import hashlib
import html
import importlib
import importlib.util
import json
import logging
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, atomic
from .errors import OutcomeAnalysisError
from .periods import latest_complete_period, parse_period
from .report import slugify  # noqa: F401  (file names of reports; the tests use batch.slugify too)
from .settings import DEFAULT as DEFAULT_SETTINGS
from .settings import Settings, for_delivery

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOK = PROJECT_ROOT / "notebooks" / "institution_report.ipynb"
DEFAULT_NATIONAL_NOTEBOOK = PROJECT_ROOT / "notebooks" / "national_overview.ipynb"
DEFAULT_TEMPLATES = PROJECT_ROOT / "templates"
FORMATS = ("html", "pdf")
LANGS = ("nl", "en")
NATIONAL_SLUG = "national-overview"
MANIFEST_NAME = "manifest.json"
RESULTS_DIR = ".results"
MANIFEST_FORMAT = 1

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class BatchError(OutcomeAnalysisError):
    """Base class of the batch's errors."""


class BatchConfigError(BatchError, ValueError):
    """An option of the batch that does not fit (format, language, scheduler, notebook, ...)."""


class PrepareError(BatchError):
    """The compute-once step failed: no report can be made from these inputs."""

    def __init__(self, granularity: str, cause: BaseException):
        self.granularity = granularity
        self.cause = cause
        super().__init__(f"preparing the results ({granularity}) failed: {type(cause).__name__}: {cause}")


class NoMatchingInstitutionError(BatchError, ValueError):
    """An ``--institutions`` pattern that matches no institution in the data."""

    def __init__(self, pattern: str, known: Sequence[str]):
        self.pattern = pattern
        self.known = list(known)
        shown = ", ".join(self.known[:10]) + (" ..." if len(self.known) > 10 else "")
        super().__init__(f"institution pattern {pattern!r} matches none of the {len(self.known)} institutions ({shown})")


class MissingParameterError(BatchConfigError):
    """The notebook's parameters cell lacks a parameter the batch must pass."""

    def __init__(self, notebook: str, parameter: str):
        self.notebook = notebook
        self.parameter = parameter
        super().__init__(f"notebook {notebook} has no parameter {parameter!r} in its parameters cell")


# --------------------------------------------------------------------------------------------
# Jobs, payload and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One report to make. Plain data: it travels to a worker process or a Dask worker."""

    key: str  # "<period>/<slug>", also the output path without extension
    kind: str  # "institution" | "national"
    institution: str  # "" for the national overview
    period: str
    slug: str
    lang: str
    formats: tuple[str, ...]
    title: str
    notebook: str  # key of the notebook in the payload
    parameters: dict  # papermill parameters (paths relative to the worker's directory)
    input_hash: str
    execution_timeout: float | None = None  # per cell (papermill/nbclient)
    wall_timeout: float | None = None  # whole notebook (kernel killed after this)
    label: str = ""  # the name on the index page ("" : the institution)


@dataclass
class Payload:
    """Everything a worker needs besides the jobs, as bytes: no client-side path in here.

    ``notebooks`` maps a notebook key to its bytes, ``results`` a results folder name to its
    files (relative path -> bytes), ``data`` the data set's files when the data is shipped,
    ``templates`` the templates folder's files. ``render`` turns an executed notebook into the
    report files (a module-level function, so it pickles by reference).
    """

    key: str
    notebooks: dict[str, bytes]
    results: dict[str, dict[str, bytes]] = field(default_factory=dict)
    data: dict[str, bytes] | None = None
    data_name: str = "data"
    templates: dict[str, bytes] = field(default_factory=dict)
    render: Callable | None = None


@dataclass
class JobResult:
    """What a worker sends back: status, the rendered files' bytes, timing, error facts."""

    key: str
    status: str  # "done" | "failed" | "timeout"
    files: dict[str, bytes]
    started: float
    finished: float
    error: dict | None = None
    kernel: dict | None = None

    @property
    def duration(self) -> float:
        return round(self.finished - self.started, 3)


@dataclass
class BatchResult:
    """Outcome of :func:`run_batch`.

    Attributes
    ----------
    out : Path
        The output folder.
    counts : dict
        ``done``, ``failed`` and ``skipped`` report counts of this run.
    failures : list of dict
        ``key``, ``institution``, ``period``, ``status`` and ``message`` of each failed report.
    manifest : dict
        The manifest as written.
    interrupted : bool
        The run was stopped by Ctrl-C; what was done is recorded.
    """

    out: Path
    counts: dict
    failures: list[dict]
    manifest: dict
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted

    def summary(self) -> str:
        c = self.counts
        lines = [f"{c['done']} made, {c['skipped']} unchanged (skipped), {c['failed']} failed -> {self.out}"]
        if self.interrupted:
            lines.append("interrupted: run again to resume")
        for f in self.failures:
            who = f["institution"] or "national overview"
            lines.append(f"  FAILED {f['period']} {who}: {f['message']}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The batch
# --------------------------------------------------------------------------------------------


def run_batch(
    data_path: str | os.PathLike,
    *,
    periods: Sequence[str] | None = None,
    institutions: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
    lang: str = "nl",
    out: str | os.PathLike = "reports",
    jobs: int | None = None,
    scheduler: str = "local",
    force: bool = False,
    settings: Settings | None = None,
    settings_file: str | os.PathLike | None = None,
    timeout: float | None = None,
    notebook: str | os.PathLike = DEFAULT_NOTEBOOK,
    national_notebook: str | os.PathLike | None = DEFAULT_NATIONAL_NOTEBOOK,
    templates: str | os.PathLike | None = DEFAULT_TEMPLATES,
    load: Callable | None = None,
    prepare: Callable | None = None,
    render: Callable | None = None,
    ship_data: bool | None = None,
    quiet: bool = False,
) -> BatchResult:
    """Make every institution's report (and the national overview) for each period.

    Parameters
    ----------
    data_path : path
        The data set (a folder or file that ``load`` reads).
    periods : list of str, optional
        ``"2024"``, ``"2024H1"``, ...; default the latest complete year at the data's reference date.
    institutions : list of str, optional
        Names or glob patterns (each may be a comma list); default every institution.
    formats : sequence of {"html", "pdf"}
    lang : {"nl", "en"}
    out : path
        Output folder: ``<out>/<period>/<slug>.html|.pdf``, index pages, ``manifest.json``.
    jobs : int, optional
        Parallel notebooks (default ``os.cpu_count()``).
    scheduler : str
        ``"local"`` (process pool), ``"dask-local"`` (a LocalCluster) or a Dask scheduler address.
    force : bool
        Remake reports whose inputs did not change.
    settings, settings_file
        Definition settings (``settings_file`` is read with ``Settings.from_yaml`` when
        ``settings`` is not given; without either, the delivery's own ``settings.yaml`` when it
        has one, else the defaults: :func:`outcome_analysis.settings.for_delivery`) -- recorded in
        the manifest with the file they came from.
    timeout : float, optional
        Seconds per notebook: papermill's per-cell ``execution_timeout`` and a wall-clock limit
        after which the kernel is killed.
    notebook, national_notebook : path
        The report notebook; the national overview (skipped when the file does not exist).
    templates : path
        Templates folder: hashed for resume and shipped to workers.
    load : callable, optional
        ``load(data_path) -> Dataset`` (default ``outcome_analysis.io.load``).
    prepare : callable, optional
        ``prepare(data, settings, granularity, folder, periods)`` writes the results for the whole
        population into ``folder`` (default :func:`prepare_results`); writing nothing means the
        notebooks compute themselves.
    render : callable, optional
        ``render(nb, *, institution, period, title, lang, formats, templates) -> {format: bytes}``
        (default :func:`render_report`); must be a module-level function.
    ship_data : bool, optional
        Send the data files to the workers (default: only when no results were prepared).
    quiet : bool
        No progress bar.

    Returns
    -------
    BatchResult

    Raises
    ------
    BatchConfigError, NoMatchingInstitutionError
        Before anything runs. A failing notebook never raises: it is recorded.
    KeyboardInterrupt
        After recording what was done (re-run to resume).
    """
    started = _now()
    out = Path(out)
    options = _check_options(formats, lang, scheduler, jobs)
    if settings is not None:
        settings_source = "given"
    elif settings_file:
        settings, settings_source = Settings.from_yaml(settings_file), "config"
    else:  # the delivery's own settings.yaml (the demo's declares it national), else the defaults
        settings, settings_file = for_delivery(data_path)
        settings_source = "delivery" if settings_file else "default"
    notebooks = _read_notebooks(Path(notebook), Path(national_notebook) if national_notebook else None)
    templates_files = read_tree(Path(templates)) if templates and Path(templates).exists() else {}

    data_path = Path(data_path)
    data = (load or _default_load)(data_path)
    data_hash = hash_path(data_path)
    periods = resolve_periods(periods, data)
    selected = select_institutions(data.institutions, institutions)

    _cleanup_temp_files(out)
    results = prepare_once(data, data_hash, settings, periods, out, prepare or prepare_results)
    shipping = ship_data if ship_data is not None else not all(results.values())
    payload = build_payload(notebooks, results, out / RESULTS_DIR, templates_files, data_path if shipping else None, render)
    inputs = {
        "data": {"path": str(data_path.resolve()), "hash": data_hash},
        "notebooks": {k: {"path": v["path"], "hash": k} for k, v in notebooks.items()},
        "templates": {"path": str(Path(templates).resolve()) if templates else None, "hash": hash_files(templates_files)},
        "results": {g: ({"hash": h, "path": str(out / RESULTS_DIR / h)} if h else None) for g, h in results.items()},
        "settings": settings.to_dict(),
        "settings_file": str(settings_file) if settings_file else None,
        # where the settings came from: "config" (--config), "delivery" (the delivery folder's
        # settings.yaml), "given" (a Settings object) or "default"
        "settings_source": settings_source,
    }
    job_list = plan_jobs(
        selected, periods, notebooks, results, inputs, options, lang=lang, timeout=timeout,
        data_param=(f"{payload.data_name}" if shipping else str(data_path.resolve())),
        settings=settings, n_institutions=len(data.institutions),
    )

    manifest = load_manifest(out)
    todo, skipped = split_resumable(job_list, manifest, out, force)
    run = {
        "started": started,
        "parameters": {
            "periods": periods, "institutions": list(institutions or []), "formats": list(options["formats"]),
            "lang": lang, "jobs": options["jobs"], "scheduler": scheduler, "force": force, "timeout": timeout,
        },
        "inputs": inputs,
        "package_version": __version__,
        "python": sys.version.split()[0],
        "versions": _versions(),
    }
    counts = {"done": 0, "failed": 0, "skipped": len(skipped)}
    failures: list[dict] = []
    interrupted = False
    progress = _progress(len(job_list), quiet, initial=len(skipped))
    try:
        with make_executor(scheduler, options["jobs"], payload) as executor:
            by_key = {job.key: job for job in todo}
            for result in executor.run(todo):
                job = by_key[result.key]
                record_result(out, manifest, job, result)
                if result.status == "done":
                    counts["done"] += 1
                else:
                    counts["failed"] += 1
                    failures.append(_failure(job, result))
                progress.set_postfix(done=counts["done"], failed=counts["failed"], skipped=counts["skipped"],
                                     refresh=False)
                progress.update(1)
                save_manifest(out, manifest)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
        run.update(finished=_now(), counts=dict(counts), interrupted=interrupted,
                   failures=[{k: f[k] for k in ("key", "message")} for f in failures])
        manifest.setdefault("runs", []).append(run)
        manifest["runs"] = manifest["runs"][-20:]
        manifest["updated"] = run["finished"]
        manifest["package_version"] = __version__
        for key in skipped:
            manifest["reports"][key]["last_checked"] = run["finished"]
        write_index_pages(out, manifest, lang)
        save_manifest(out, manifest)
    if interrupted:
        raise KeyboardInterrupt
    return BatchResult(out=out, counts=counts, failures=failures, manifest=manifest)


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


def _check_options(formats, lang, scheduler, jobs) -> dict:
    formats = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise BatchConfigError(f"formats must be among {FORMATS}, got {list(formats) or 'none'}")
    if lang not in LANGS:
        raise BatchConfigError(f"lang must be one of {LANGS}, got {lang!r}")
    if not (scheduler in ("local", "dask-local") or re.match(r"^[a-z]+://", scheduler)):
        raise BatchConfigError(
            f"scheduler must be 'local', 'dask-local' or a Dask address like tcp://host:8786, got {scheduler!r}"
        )
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise BatchConfigError(f"jobs must be at least 1, got {jobs}")
    return {"formats": formats, "jobs": int(jobs)}


def _default_load(path: Path):
    from .io import load

    return load(path)


def resolve_periods(periods: Sequence[str] | None, data) -> list[str]:
    """The periods asked for (comma lists allowed), validated; default the latest complete year."""
    if not periods:
        return [latest_complete_period(data.reference_date, "year")]
    out: list[str] = []
    for item in periods:
        for label in str(item).split(","):
            if label.strip():
                parse_period(label.strip())  # raises PeriodError naming it
                out.append(label.strip())
    return list(dict.fromkeys(out))


def select_institutions(known: Sequence[str], patterns: Sequence[str] | None) -> list[str]:
    """The institutions matching any of the names or glob patterns (each may be a comma list).

    An argument that is exactly an institution's name is taken whole (names may hold commas).

    >>> select_institutions(["A", "B, zuid", "C"], ["B, zuid"])
    ['B, zuid']
    >>> select_institutions(["Jeugd Noord", "Jeugd Zuid", "Zorg"], ["Jeugd*"])
    ['Jeugd Noord', 'Jeugd Zuid']
    """
    known = sorted(known)
    if not patterns:
        return known
    chosen: set[str] = set()
    for arg in patterns:
        items = [arg] if arg in known else [p.strip() for p in str(arg).split(",") if p.strip()]
        for pattern in items:
            hits = [name for name in known if name == pattern or fnmatch.fnmatchcase(name, pattern)]
            if not hits:
                raise NoMatchingInstitutionError(pattern, known)
            chosen.update(hits)
    return [name for name in known if name in chosen]


def prepare_results(data, settings: Settings, granularity: str, folder: Path, periods: Sequence[str] = ()) -> None:
    """The default prepare step: ``results.compute_results(...).save(folder)`` once per batch.

    The indicator tables cover every period; the case-mix models are fitted for ``periods`` (the
    batch's report periods of this granularity).
    """
    from .results import compute_results

    compute_results(data, settings, granularity, periods=list(periods) or None).save(folder)


def prepare_once(data, data_hash: str, settings: Settings, periods: Sequence[str], out: Path,
                 prepare: Callable) -> dict[str, str | None]:
    """Run ``prepare`` once per granularity, cached in ``<out>/.results/<hash>/``.

    Returns the results folder name per granularity (``None`` when prepare wrote nothing).
    """
    granularities = sorted({parse_period(p)[2] for p in periods})
    found: dict[str, str | None] = {}
    for granularity in granularities:
        these = sorted(p for p in periods if parse_period(p)[2] == granularity)
        key = _hash_json({
            "data": data_hash, "settings": settings.to_dict(), "granularity": granularity, "periods": these,
            "version": __version__, "prepare": f"{getattr(prepare, '__module__', '')}.{getattr(prepare, '__qualname__', prepare)}",
        })[:16]
        folder = out / RESULTS_DIR / key
        if not folder.exists():
            tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".tmp", dir=_mkdir(out / RESULTS_DIR)))
            try:
                prepare(data, settings, granularity, tmp, these)
                if any(tmp.iterdir()):
                    os.replace(tmp, folder)
            except Exception as exc:
                raise PrepareError(granularity, exc) from exc
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        found[granularity] = key if folder.exists() else None
    return found


def _read_notebooks(notebook: Path, national: Path | None) -> dict[str, dict]:
    if not notebook.is_file():
        raise BatchConfigError(f"notebook {notebook} does not exist")
    found = {}
    for kind, path in (("institution", notebook), ("national", national)):
        if path is None or not path.is_file():
            continue
        raw = path.read_bytes()
        found[hashlib.sha256(raw).hexdigest()[:16]] = {
            "kind": kind, "path": str(path.resolve()), "bytes": raw, "parameters": notebook_parameters(raw),
        }
    return found


def notebook_parameters(raw: bytes) -> list[str] | None:
    """Names assigned in the notebook's ``parameters`` cell (``None``: no such cell, or not Python).

    Read with :mod:`ast` (papermill's own inspection misses annotated names like
    ``results_path: str | None = None``).

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'period: str = "2024"  # reporting period\\nresults_path: str | None = None\\nlang = "nl"',
    ...     metadata={"tags": ["parameters"]})])
    >>> notebook_parameters(nbformat.writes(nb).encode())
    ['period', 'results_path', 'lang']
    """
    import ast

    import nbformat

    nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None or cell.cell_type != "code":
        return None
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return None
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id not in names:
                    names.append(sub.id)
    return names


def build_payload(notebooks: dict, results: dict, results_root: Path, templates: dict, data_path: Path | None,
                  render: Callable | None) -> Payload:
    """The bytes the workers need; keyed by their hash so a worker materialises them once."""
    stored = {key: read_tree(results_root / key) for key in results.values() if key}
    data = read_tree(data_path) if data_path is not None else None
    data_name = f"data/{data_path.name}" if data_path is not None else "data"
    key = _hash_json({
        "nb": sorted(notebooks), "results": sorted(k for k in results.values() if k),
        "templates": hash_files(templates), "data": hash_files(data) if data else None,
    })[:16]
    return Payload(key=key, notebooks={k: v["bytes"] for k, v in notebooks.items()}, results=stored,
                   data=data, data_name=data_name, templates=templates, render=render or render_report)


def plan_jobs(institutions: Sequence[str], periods: Sequence[str], notebooks: dict, results: dict,
              inputs: dict, options: dict, *, lang: str, timeout: float | None, data_param: str,
              settings: Settings | None = None, n_institutions: int = 2) -> list[Job]:
    """One job per period x institution, plus one national overview per period if its notebook exists.

    ``settings`` and ``n_institutions`` (institutions in the delivery) name the overview: "Landelijk
    overzicht" only for a delivery declared national (:func:`outcome_analysis.report.comparator`)."""
    by_kind = {v["kind"]: (k, v) for k, v in notebooks.items()}
    common_inputs = {
        "data": inputs["data"]["hash"], "settings": inputs["settings"], "templates": inputs["templates"]["hash"],
        "version": __version__,
    }
    jobs: list[Job] = []
    for period in periods:
        granularity = parse_period(period)[2]
        results_key = results.get(granularity)
        base = {
            "data_path": data_param,
            "results_path": f"results/{results_key}" if results_key else None,
            "period": period,
            "lang": lang,
        }
        targets: list[tuple[str, str]] = []
        if "national" in by_kind:
            targets.append(("national", ""))
        targets += [("institution", name) for name in institutions]
        for kind, name in targets:
            nb_key, nb = by_kind[kind]
            params = dict(base, institution=name) if kind == "institution" else dict(base)
            params = _fit_parameters(params, nb, required=("institution",) if kind == "institution" else ())
            slug = NATIONAL_SLUG if kind == "national" else slugify(name)
            jobs.append(Job(
                key=f"{period}/{slug}", kind=kind, institution=name, period=period, slug=slug, lang=lang,
                formats=options["formats"], notebook=nb_key,
                title=report_title(kind, name, period, lang, settings=settings, n_institutions=n_institutions),
                label=overview_label(lang, settings, n_institutions) if kind == "national" else "",
                parameters=params,
                input_hash=_hash_json(dict(common_inputs, notebook=nb_key, parameters=params, kind=kind,
                                           formats=list(options["formats"]))),
                execution_timeout=timeout, wall_timeout=timeout,
            ))
    return jobs


def _fit_parameters(params: dict, nb: dict, required: Sequence[str]) -> dict:
    declared = nb["parameters"]
    if declared is None:
        return params
    for name in required:
        if name not in declared:
            raise MissingParameterError(nb["path"], name)
    return {k: v for k, v in params.items() if k in declared}


def report_title(kind: str, institution: str, period: str, lang: str, *, settings: Settings | None = None,
                 n_institutions: int = 2) -> str:
    """The cover title. The cover names the institution and the period on lines of their own. The
    overview of all institutions is "Landelijk overzicht ..." only for a delivery declared national."""
    if kind == "national":
        from .overview import report_title as overview_title

        return overview_title("national", lang, settings=settings if settings is not None else DEFAULT_SETTINGS,
                              n_institutions=n_institutions)
    return f"Uitkomsten {period}" if lang == "nl" else f"Outcomes {period}"


def overview_label(lang: str, settings: Settings | None = None, n_institutions: int = 2) -> str:
    """The overview's name on the index pages: "Landelijk overzicht" for a national delivery,
    "Alle instellingen in deze levering" otherwise (:func:`outcome_analysis.report.comparator`)."""
    from .report import comparator

    return comparator(settings if settings is not None else DEFAULT_SETTINGS, n_institutions, lang)["overview_short"]


def split_resumable(jobs: Sequence[Job], manifest: dict, out: Path, force: bool) -> tuple[list[Job], list[str]]:
    """Jobs to run, and keys of reports whose inputs did not change (their files still there)."""
    if force:
        return list(jobs), []
    todo, skipped = [], []
    for job in jobs:
        entry = manifest["reports"].get(job.key)
        fresh = (
            entry is not None and entry.get("status") == "done" and entry.get("input_hash") == job.input_hash
            and all((out / rel).is_file() for rel in entry.get("files", {}).values())
            and set(entry.get("files", {})) == set(job.formats)
        )
        (skipped.append(job.key) if fresh else todo.append(job))
    return todo, skipped


# --------------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------------


def make_executor(scheduler: str, jobs: int, payload: Payload):
    if scheduler == "local":
        return LocalPool(jobs, payload)
    return DaskRunner(scheduler, jobs, payload)


class LocalPool:
    """A process pool; each worker materialises the payload once and keeps its imports warm."""

    def __init__(self, jobs: int, payload: Payload):
        self.jobs = jobs
        self.payload = payload
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self):
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self.pool = ProcessPoolExecutor(
            max_workers=self.jobs, mp_context=multiprocessing.get_context(method),
            initializer=_init_pool_worker, initargs=(self.payload,),
        )
        return self

    def run(self, todo: Sequence[Job]) -> Iterator[JobResult]:
        if not todo:
            return
        pending = {self.pool.submit(_run_pool_job, job): job for job in todo}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                yield _result_or_crash(job, future.result)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.pool.shutdown(wait=True)
            return False
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # running notebooks: stop them now (their kernels follow)
            with contextlib.suppress(Exception):
                process.terminate()
        return False


class DaskRunner:
    """The same jobs on a ``dask.distributed`` cluster: a scheduler address or a LocalCluster.

    The payload is scattered to every worker once; jobs return bytes, so no shared disk is needed.
    """

    def __init__(self, scheduler: str, jobs: int, payload: Payload):
        self.scheduler = scheduler
        self.jobs = jobs
        self.payload = payload
        self.cluster = None
        self.client = None
        self.futures: list = []

    def __enter__(self):
        from distributed import Client, LocalCluster

        if self.scheduler == "dask-local":
            self.cluster = LocalCluster(
                n_workers=self.jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(self.scheduler)
        return self

    def run(self, todo: Sequence[Job]) -> Iterator[JobResult]:
        from distributed import as_completed

        if not todo:
            return
        payload = self.client.scatter(self.payload, broadcast=True, hash=False)
        by_future = {}
        for job in todo:
            future = self.client.submit(execute_job, job, payload, pure=False, key=f"report-{job.key}-{os.urandom(4).hex()}")
            by_future[future] = job
        self.futures = list(by_future)
        for future in as_completed(self.futures):
            job = by_future[future]
            yield _result_or_crash(job, future.result)
            future.release()

    def __exit__(self, exc_type, exc, tb):
        with contextlib.suppress(Exception):
            if exc_type is not None and self.futures:
                self.client.cancel(self.futures)
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
        return False


def _result_or_crash(job: Job, get: Callable[[], JobResult]) -> JobResult:
    """The worker's result, or a failure when the worker itself died."""
    try:
        return get()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a crashed worker process, a lost Dask worker, ...
        now = time.time()
        return JobResult(job.key, "failed", {}, now, now,
                         error={"ename": type(exc).__name__, "evalue": str(exc), "cell": None,
                                "message": f"worker failed: {type(exc).__name__}: {exc}"})


# --------------------------------------------------------------------------------------------
# The worker side
# --------------------------------------------------------------------------------------------

_POOL_PAYLOAD: Payload | None = None
_MATERIALISED: dict[str, Path] = {}


def _init_pool_worker(payload: Payload) -> None:
    global _POOL_PAYLOAD
    _POOL_PAYLOAD = payload
    warm_up()


def _run_pool_job(job: Job) -> JobResult:
    return execute_job(job, _POOL_PAYLOAD)


def warm_up() -> None:
    """Import the heavy modules once per worker process (not once per report)."""
    logging.getLogger("papermill").setLevel(logging.ERROR)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    from . import export  # noqa: F401


def execute_job(job: Job, payload: Payload) -> JobResult:
    """Execute one report notebook and render it; never raises for a failing notebook.

    The kernel runs on IPC sockets in a private temporary directory, in the worker's
    materialised directory (so the parameters hold relative paths: the same bytes on every worker),
    and is shut down right after execution; a wall-clock watchdog kills it after ``wall_timeout``.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from .kernels import KernelWatch, watched

    started = time.time()
    workdir = materialise(payload)
    watch = KernelWatch(job.wall_timeout)
    try:
        nb = papermill.execute_notebook(
            str(workdir / "notebooks" / f"{job.notebook}.ipynb"), None,
            parameters=job.parameters,
            kernel_manager_class=watched(watch),
            shutdown_kernel="immediate",
            execution_timeout=job.execution_timeout,
            resources={"metadata": {"path": str(workdir)}},
            progress_bar=False,
            log_output=False,
        )
        watch.stop()
        files = (payload.render or render_report)(
            nb, institution=job.institution, period=job.period, title=job.title, lang=job.lang, formats=job.formats,
            templates=workdir / "templates",
        )
        return JobResult(job.key, "done", {f: files[f] for f in job.formats}, started, time.time(), kernel=watch.connection)
    except PapermillExecutionError as exc:
        error = {"ename": exc.ename, "evalue": _first_line(exc.evalue), "cell": exc.exec_count,
                 "message": f"cell [{exc.exec_count}]: {exc.ename}: {_first_line(exc.evalue)}"}
        status = "failed"
    except Exception as exc:  # kernel died, cell timeout, rendering failed, ...
        if watch.timed_out or isinstance(exc, TimeoutError):
            limit = job.wall_timeout or job.execution_timeout
            error = {"ename": "Timeout", "evalue": str(exc), "cell": None,
                     "message": f"timed out after {limit:g} s" + (f" ({_first_line(str(exc))})" if str(exc) else "")}
            status = "timeout"
        else:
            error = {"ename": type(exc).__name__, "evalue": _first_line(str(exc)), "cell": None,
                     "message": f"{type(exc).__name__}: {_first_line(str(exc))}"}
            status = "failed"
    finally:
        watch.stop()
    return JobResult(job.key, status, {}, started, time.time(), error=error, kernel=watch.connection)


def _first_line(text: str, limit: int = 300) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text)).strip()
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def materialise(payload: Payload) -> Path:
    """Write the payload into a worker-local temporary directory, once per worker process."""
    if payload.key in _MATERIALISED:
        return _MATERIALISED[payload.key]
    root = Path(tempfile.mkdtemp(prefix="oa-worker-"))
    atexit.register(shutil.rmtree, root, True)
    for key, raw in payload.notebooks.items():
        _write_file(root / "notebooks" / f"{key}.ipynb", raw)
    for key, files in payload.results.items():
        for rel, raw in files.items():
            _write_file(root / "results" / key / rel, raw)
    for rel, raw in (payload.data or {}).items():
        _write_file(root / payload.data_name / rel if rel else root / payload.data_name, raw)
    for rel, raw in payload.templates.items():
        _write_file(root / "templates" / rel, raw)
    _ensure_importable()
    _MATERIALISED[payload.key] = root
    return root


def _write_file(path: Path, raw: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)


def _ensure_importable() -> None:
    """Kernels run in a temporary directory: let them import this package when it is not installed."""
    root = str(PROJECT_ROOT)
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if root not in paths and (PROJECT_ROOT / __package__).is_dir():
        os.environ["PYTHONPATH"] = os.pathsep.join([root] + [p for p in paths if p])


# --------------------------------------------------------------------------------------------
# Rendering (in the worker)
# --------------------------------------------------------------------------------------------


def render_report(nb, *, institution: str, period: str, title: str, lang: str, formats: Sequence[str],
                  templates: Path | None = None, date=None) -> dict[str, bytes]:
    """The report's files: HTML via ``export.render_html``, the PDF from that same HTML.

    ``templates`` is the worker's copy of the templates folder (the export's template is taken
    from there, so a worker needs no checkout). ``date`` is the cover date (the batch passes the
    day it started, so every worker prints the same date).
    """
    from . import export

    template = export.DEFAULT_TEMPLATE
    if templates is not None and (Path(templates) / template).is_dir():
        template = str(Path(templates) / template)
    page = export.render_html(nb, institution=institution, period=period, title=title, lang=lang,
                              template=template, date=date)
    files = {"html": page.encode("utf-8")}
    if "pdf" in formats:
        files["pdf"] = export.render_pdf_bytes(page, template=template)
    return files


# --------------------------------------------------------------------------------------------
# Output: files, manifest, index pages
# --------------------------------------------------------------------------------------------


def record_result(out: Path, manifest: dict, job: Job, result: JobResult) -> None:
    """Write the report's files (atomically) and its manifest entry."""
    files = {}
    for fmt, raw in sorted(result.files.items()):
        rel = f"{job.key}.{fmt}"
        atomic_write(out / rel, raw)
        files[fmt] = rel
    reports = manifest["reports"]
    for key in [k for k, e in reports.items() if k != job.key and e.get("period") == job.period
                and e.get("kind") == job.kind and e.get("institution") == job.institution]:
        del reports[key]  # the same report under an older file name
    previous = reports.get(job.key, {})
    if result.status != "done":  # keep the last good report's files, if any
        files = previous.get("files", {}) if previous.get("input_hash") == job.input_hash else {}
    reports[job.key] = {
        "institution": job.institution, "kind": job.kind, "period": job.period, "slug": job.slug,
        "status": result.status, "input_hash": job.input_hash if result.status == "done" else previous.get("input_hash"),
        "files": files if result.status == "done" else {},
        "sha256": {fmt: hashlib.sha256(raw).hexdigest() for fmt, raw in sorted(result.files.items())},
        "duration": result.duration,
        "started": _iso(result.started), "finished": _iso(result.finished),
        "error": result.error, "kernel": result.kernel, "parameters": job.parameters,
        "label": job.label,
    }


def _failure(job: Job, result: JobResult) -> dict:
    return {"key": job.key, "institution": job.institution, "period": job.period, "status": result.status,
            "message": (result.error or {}).get("message", result.status)}


def load_manifest(out: Path) -> dict:
    path = out / MANIFEST_NAME
    if path.is_file():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if manifest.get("format") == MANIFEST_FORMAT:
                manifest.setdefault("reports", {})
                return manifest
        except (OSError, ValueError):
            log.warning("unreadable manifest %s: starting afresh", path)
    return {"format": MANIFEST_FORMAT, "created": _now(), "package_version": __version__, "runs": [], "reports": {}}


def save_manifest(out: Path, manifest: dict) -> None:
    atomic_write(out / MANIFEST_NAME, json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8"))


_LABELS = {
    "nl": {"reports": "Rapportages", "period": "Periode", "institution": "Instelling", "status": "Status",
           "files": "Bestanden", "duration": "Duur (s)", "error": "Fout", "done": "gereed", "failed": "mislukt",
           "timeout": "time-out", "national": "Landelijk overzicht", "back": "Alle perioden", "count": "Aantal",
           "updated": "Bijgewerkt", "summary": "{done} gereed, {failed} mislukt",
           "intro": "Eén rapport per instelling, in HTML en PDF. Mislukte rapporten staan bovenaan, met de reden; "
                    "een eerder gemaakt goed rapport blijft dan staan."},
    "en": {"reports": "Reports", "period": "Period", "institution": "Institution", "status": "Status",
           "files": "Files", "duration": "Duration (s)", "error": "Error", "done": "done", "failed": "failed",
           "timeout": "timed out", "national": "National overview", "back": "All periods", "count": "Count",
           "updated": "Updated", "summary": "{done} done, {failed} failed",
           "intro": "One report per institution, in HTML and PDF. Failed reports come first, with the reason; "
                    "a good report made earlier is then kept."},
}

_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:"DejaVu Sans",system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1a1a1a;line-height:1.4}}
h1{{border-bottom:3px solid #0072B2;padding-bottom:.3rem}}
table{{border-collapse:collapse;width:100%;font-size:.95rem}}
th{{background:#eef3f8;text-align:left}}
td,th{{border-bottom:1px solid #d0d7de;padding:.35rem .6rem;vertical-align:top}}
tr:nth-child(even) td{{background:#fafbfc}}
td.num{{text-align:right;font-variant-numeric:tabular-nums}}
.status-failed td,.status-timeout td{{background:#fff4e5}}
.status-failed .status,.status-timeout .status{{font-weight:bold;color:#a33c00}}
.summary{{font-size:1.05rem}}
td.status{{white-space:nowrap}}
</style></head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


_STATUS_MARK = {"done": "✓", "failed": "✗", "timeout": "✗"}


def write_index_pages(out: Path, manifest: dict, lang: str) -> None:
    """``<out>/<period>/index.html`` per period and ``<out>/index.html``; every name escaped.

    Failed reports are listed first with their reason; status is given in words and a mark
    (never colour alone).
    """
    t = _LABELS[lang]
    e = html.escape
    by_period: dict[str, list[dict]] = {}
    for entry in manifest["reports"].values():
        by_period.setdefault(entry["period"], []).append(entry)
    rows_top = []
    for period in sorted(by_period, reverse=True):
        entries = sorted(by_period[period], key=lambda r: (r["status"] == "done", r["kind"] != "national",
                                                           r["institution"].casefold()))
        rows = []
        for r in entries:
            name = (r.get("label") or t["national"]) if r["kind"] == "national" else r["institution"]
            links = " ".join(
                f'<a href="{e(urllib.parse.quote(Path(rel).name))}">{e(fmt.upper())}</a>'
                for fmt, rel in sorted(r.get("files", {}).items())
            )
            message = (r.get("error") or {}).get("message", "") if r["status"] != "done" else ""
            status = f'{_STATUS_MARK.get(r["status"], "")} {t.get(r["status"], r["status"])}'.strip()
            rows.append(
                f'<tr class="status-{e(r["status"])}"><td>{e(name)}</td><td class="status">{e(status)}</td>'
                f'<td>{links}</td><td class="num">{r.get("duration", 0):.1f}</td><td>{e(message)}</td></tr>'
            )
        done = sum(r["status"] == "done" for r in entries)
        failed = len(entries) - done
        body = (f'<p><a href="../index.html">{e(t["back"])}</a></p>\n'
                f'<p class="summary">{e(t["summary"].format(done=done, failed=failed))}</p>\n<p>{e(t["intro"])}</p>\n'
                f'<table>\n<tr><th>{e(t["institution"])}</th><th>{e(t["status"])}</th><th>{e(t["files"])}</th>'
                f'<th>{e(t["duration"])}</th><th>{e(t["error"])}</th></tr>\n' + "\n".join(rows) + "\n</table>")
        title = f"{t['reports']} {period}"
        atomic_write(out / period / "index.html", _PAGE.format(lang=e(lang), title=e(title), body=body).encode("utf-8"))
        rows_top.append(f'<tr><td><a href="{e(urllib.parse.quote(period))}/index.html">{e(period)}</a></td>'
                        f'<td class="num">{done}</td><td class="num">{failed}</td></tr>')
    body = (f'<table>\n<tr><th>{e(t["period"])}</th><th>{e(t["done"])}</th><th>{e(t["failed"])}</th></tr>\n'
            + "\n".join(rows_top) + f"\n</table>\n<p>{e(t['updated'])}: {e(manifest.get('updated') or _now())}</p>")
    atomic_write(out / "index.html", _PAGE.format(lang=e(lang), title=e(t["reports"]), body=body).encode("utf-8"))


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def atomic_write(path: Path, raw: bytes) -> None:
    """Write ``raw`` (bytes only: reports and pages are encoded by their makers) to ``path``
    atomically (:func:`outcome_analysis.atomic.write_bytes`)."""
    if not isinstance(raw, bytes):
        raise TypeError(f"atomic_write takes bytes, got {type(raw).__name__}")
    atomic.write_bytes(path, raw)


def _cleanup_temp_files(out: Path) -> None:
    """Remove temporary files a killed earlier run left behind."""
    if not out.is_dir():
        return
    for path in out.rglob(".*.tmp"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


def read_tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (relative POSIX path -> bytes); a single file maps ``""``."""
    path = Path(path)
    if path.is_file():
        return {"": path.read_bytes()}
    if not path.is_dir():
        return {}
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and "__pycache__" not in p.parts}


def hash_path(path: Path) -> str:
    """:func:`hash_files` of :func:`read_tree`, one file in memory at a time."""
    path = Path(path)
    names = {"": path} if path.is_file() else {
        p.relative_to(path).as_posix(): p for p in sorted(path.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and "__pycache__" not in p.parts
    } if path.is_dir() else {}
    digest = hashlib.sha256()
    for rel in sorted(names):
        file_digest = hashlib.sha256()
        with open(names[rel], "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                file_digest.update(block)
        digest.update(rel.encode("utf-8") + b"\0" + file_digest.digest())
    return digest.hexdigest()


def hash_files(files: dict[str, bytes] | None) -> str:
    digest = hashlib.sha256()
    for rel in sorted(files or {}):
        digest.update(rel.encode("utf-8") + b"\0" + hashlib.sha256(files[rel]).digest())
    return digest.hexdigest()


def _hash_json(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat(timespec="seconds")


def _versions() -> dict:
    out = {}
    for name in ("papermill", "nbclient", "jupyter_client", "nbconvert", "distributed"):
        with contextlib.suppress(Exception):
            out[name] = importlib.import_module(name).__version__
    return out


def _progress(total: int, quiet: bool, initial: int = 0):
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=initial, disable=quiet, unit="report", desc="reports", dynamic_ncols=True)
    bar.set_postfix(done=0, failed=0, skipped=initial)
    return bar


def ensure_demo_data(path: Path) -> Path:
    """Build the demo data set at ``path`` with ``python -m outcome_analysis.demo`` if it is missing."""
    import subprocess

    if not Path(path).exists():
        subprocess.run([sys.executable, "-m", f"{__package__}.demo", "--out", str(path)], check=True)
    return Path(path)
