"""The worker side: one job executed and rendered, in a process-pool worker or on a Dask worker.

Workers never see client-side paths: a job carries its parameters, and the :class:`Payload`
(notebook, templates and stored results as bytes) is materialised once per worker process in a
worker-local temporary directory, removed when the worker stops (:func:`cleanup_worker`: at exit,
when the process pool stops the worker, or when the Dask runner asks its workers). The notebook
runs with papermill on a kernel that talks over IPC sockets in a private temporary directory
(:mod:`outcome_analysis.kernels`); the report's files come back as bytes
(:func:`outcome_analysis.batch.exporters.render_report`).
"""
from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path

from .exporters import render_report
from .jobs import Job, JobResult, Payload
from .constants import PROJECT_ROOT, SETTINGS_NAME, TOO_LITTLE_MARKER, TOP_PACKAGE

_MATERIALISED: dict[str, Path] = {}
_CLEANUP_REGISTERED = False
_WARM: dict = {}  # payload key -> warm.WarmKernel of this worker process

#: Whether a worker keeps one kernel for several reports (:mod:`.warm`); off: a kernel per report.
WARM_KERNELS = os.environ.get("OUTCOME_WARM_KERNELS", "1") != "0"


#: The key under which a process-pool worker keeps its folder and kernel until the batch's payload
#: comes (:func:`init_pool_worker`); the first payload takes them over.
_EARLY = "<started early>"


def init_pool_worker(tempdir: str | None = None) -> None:
    """Initializer of a process-pool worker.

    ``tempdir`` (the batch's own temporary directory) becomes this process's temporary directory
    and its kernels' (``TMPDIR``), so whatever a worker leaves there goes with the batch's directory.
    Ctrl-C is left to the parent (it stops the pool); a terminated worker removes its files first.
    The pool may start before the client has computed the results (:func:`.executors.start_early`):
    the worker makes its folder and starts its warm kernel there now, and its jobs come with the path
    of the payload's file (:func:`run_pool_job`).
    """
    if tempdir:
        os.environ["TMPDIR"] = tempdir
        tempfile.tempdir = tempdir
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    signal.signal(signal.SIGTERM, _terminated)
    _register_cleanup()
    warm_up()
    _start_early()


def _start_early() -> None:
    """A folder for the payload to come and, with warm kernels, the kernel already started in it."""
    root = Path(tempfile.mkdtemp(prefix="oa-worker-", dir=_scratch_dir()))
    _MATERIALISED[_EARLY] = root
    _ensure_importable()
    if WARM_KERNELS:
        from .warm import WarmKernel

        with contextlib.suppress(Exception):  # no kernel now: the first report starts one
            _WARM[_EARLY] = WarmKernel(root)


def _terminated(signum, frame) -> None:  # pragma: no cover - runs in a worker process being stopped
    cleanup_worker()
    os._exit(128 + signum)


def _register_cleanup() -> None:
    """Run :func:`cleanup_worker` when this process ends: ``atexit`` for a normal interpreter exit and
    a multiprocessing finalizer for a pool worker (forkserver children end with ``os._exit``, which
    skips ``atexit``)."""
    global _CLEANUP_REGISTERED
    if _CLEANUP_REGISTERED:
        return
    atexit.register(cleanup_worker)
    with contextlib.suppress(Exception):
        from multiprocessing import util

        util.Finalize(None, cleanup_worker, exitpriority=100)
    _CLEANUP_REGISTERED = True


def cleanup_worker(keys=None, kernels: bool = True) -> int:
    """Stop this process's kernels and remove the temporary directories it made: the kernels'
    private directories and the materialised payloads (those of ``keys``, default all).
    Idempotent; the number of payload directories removed. The Dask runner calls it on each
    worker (``client.run``) at the end of a batch."""
    from outcome_analysis.running.kernels import cleanup_kernels

    stop_warm_kernels(keys)  # the kernels this batch kept warm end with it
    if kernels:
        with contextlib.suppress(Exception):
            cleanup_kernels()
    removed = 0
    for key in list(_MATERIALISED) if keys is None else [k for k in keys if k in _MATERIALISED]:
        shutil.rmtree(_MATERIALISED.pop(key), ignore_errors=True)
        removed += 1
    return removed


_PAYLOAD_FILES: dict[str, Payload] = {}


def run_pool_job(job: Job, payload_file: str) -> JobResult:
    """A process-pool job, its payload read once from ``payload_file`` (a pickle the pool wrote in
    the batch's private temporary folder)."""
    if payload_file not in _PAYLOAD_FILES:
        import pickle

        with open(payload_file, "rb") as fh:
            _PAYLOAD_FILES[payload_file] = pickle.load(fh)
    return execute_job(job, _PAYLOAD_FILES[payload_file])


def warm_up() -> None:
    """Import the heavy modules once per worker process (not once per report)."""
    logging.getLogger("papermill").setLevel(logging.ERROR)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    from outcome_analysis.presentation import export  # noqa: F401


def execute_job(job: Job, payload: Payload) -> JobResult:
    """Execute one report notebook and render it; never raises for a failing notebook.

    The kernel runs on IPC sockets in a private temporary directory, in the worker's
    materialised directory (so the parameters hold relative paths: the same bytes on every worker).
    The worker keeps one warm kernel per payload for several reports (:mod:`.warm`: namespace reset
    in between; a failed, timed-out or dead kernel is ended and the next report gets a new one);
    with :data:`WARM_KERNELS` off every report gets a kernel of its own, shut down right after it. A
    wall-clock watchdog kills the kernel after ``wall_timeout``.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from outcome_analysis.running.kernels import KernelWatch, watched

    started = time.time()
    workdir = materialise(payload)
    watch = KernelWatch(job.wall_timeout)
    warm = None
    ok = False
    try:
        if WARM_KERNELS:
            from . import warm as warm_kernels

            warm = _warm_kernel(payload.key, workdir)
            watch.started(warm.manager)
            kernel = {"engine_name": warm_kernels.ENGINE, "km": warm.manager}
        else:
            kernel = {"kernel_manager_class": watched(watch), "shutdown_kernel": "immediate"}
        nb = papermill.execute_notebook(
            str(workdir / "notebooks" / f"{job.notebook}.ipynb"), None,
            parameters=job.parameters,
            execution_timeout=job.execution_timeout,
            resources={"metadata": {"path": str(workdir)}},
            progress_bar=False,
            log_output=False,
            **kernel,
        )
        watch.stop()
        files = (payload.render or render_report)(
            nb, institution=job.institution, period=job.period, title=job.title, lang=job.lang, formats=job.formats,
            templates=workdir / "templates",
        )
        ok = True  # the kernel stays warm for the next report
        return JobResult(job.key, report_status(files.get("html")), {f: files[f] for f in job.formats}, started, time.time(),
                         kernel=watch.connection, ledger=_take_ledger(workdir, job))
    except PapermillExecutionError as exc:
        error = {"ename": exc.ename, "evalue": _first_line(exc.evalue), "cell": exc.exec_count,
                 "message": f"cell [{exc.exec_count}]: {exc.ename}: {_first_line(exc.evalue)}"}
        status = "failed"
    except Exception as exc:  # kernel died, cell timeout, rendering failed, ...
        if watch.timed_out or isinstance(exc, TimeoutError):
            limit = job.wall_timeout or job.execution_timeout
            error = {"ename": "Timeout", "evalue": str(exc), "cell": None,
                     "message": f"timed out after {limit:g} s" + (f" ({_first_line(str(exc))})" if str(exc) else "")}
            status = "timed_out"
        else:
            error = {"ename": type(exc).__name__, "evalue": _first_line(str(exc)), "cell": None,
                     "message": f"{type(exc).__name__}: {_first_line(str(exc))}"}
            status = "failed"
    finally:
        watch.stop()
        if warm is not None and not warm.done(ok and not watch.timed_out):
            _WARM.pop(payload.key, None)
    _take_ledger(workdir, job)
    return JobResult(job.key, status, {}, started, time.time(), error=error, kernel=watch.connection)


def _warm_kernel(key: str, workdir: Path):
    """This worker's kernel for payload ``key``, started in ``workdir`` when there is none."""
    from .warm import WarmKernel

    kernel = _WARM.get(key)
    if kernel is None:
        kernel = _WARM[key] = WarmKernel(workdir)
    return kernel


def stop_warm_kernels(keys=None) -> int:
    """Kill the warm kernels of payloads ``keys`` (default all) and remove their files; the number
    ended. Safe from a signal handler and from a Dask ``client.run`` (no event loop used)."""
    ended = 0
    for key in list(_WARM) if keys is None else [k for k in keys if k in _WARM]:
        with contextlib.suppress(Exception):
            _WARM.pop(key).manager.kill_now()
        ended += 1
    return ended


def report_status(html: bytes | None) -> str:
    """``"too_little_data"`` when the rendered report is the too-little-data page (it carries
    :data:`.constants.TOO_LITTLE_MARKER` on its wrapper, ``sections/institution/too_little.py``),
    else ``"made"``.

    >>> report_status(b'<div class="oa-too-little" data-report-status="too_little_data">'), report_status(b"<h2>")
    ('too_little_data', 'made')
    """
    return "too_little_data" if html and TOO_LITTLE_MARKER.encode() in html else "made"


def _take_ledger(workdir: Path, job: Job) -> bytes | None:
    """The ledger file the notebook wrote (parameter ``ledger_path``), read and removed."""
    rel = job.parameters.get("ledger_path")
    if not rel:
        return None
    path = workdir / rel
    try:
        return path.read_bytes()
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def _first_line(text: str, limit: int = 300) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text)).strip()
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def materialise(payload: Payload) -> Path:
    """Write the payload into a worker-local temporary directory, once per worker process."""
    if payload.key in _MATERIALISED:
        return _MATERIALISED[payload.key]
    _register_cleanup()
    if _EARLY in _MATERIALISED:  # the folder made (and the kernel started) before the payload was known
        root = _MATERIALISED.pop(_EARLY)
        if _EARLY in _WARM:
            _WARM[payload.key] = _WARM.pop(_EARLY)
    else:
        root = Path(tempfile.mkdtemp(prefix="oa-worker-", dir=_scratch_dir()))
    _MATERIALISED[payload.key] = root  # registered first: removed at the end whatever happens
    try:
        for key, raw in payload.notebooks.items():
            _write_file(root / "notebooks" / f"{key}.ipynb", raw)
        for key, files in payload.results.items():
            for rel, raw in files.items():
                _write_file(root / "results" / key / rel, raw)
        for rel, raw in (payload.data or {}).items():
            _write_file(root / payload.data_name / rel if rel else root / payload.data_name, raw)
        for rel, raw in payload.templates.items():
            _write_file(root / "templates" / rel, raw)
        if payload.settings is not None:
            _write_file(root / SETTINGS_NAME, payload.settings)
        if payload.reference is not None and payload.reference_name:
            _write_file(root / payload.reference_name, payload.reference)
        for rel, raw in (getattr(payload, "files", None) or {}).items():
            _write_file(root / rel, raw)
    except BaseException:
        _MATERIALISED.pop(payload.key, None)
        kernel = _WARM.pop(payload.key, None)  # started in that folder
        if kernel is not None:
            kernel.manager.kill_now()
        shutil.rmtree(root, ignore_errors=True)
        raise
    _ensure_importable()
    return root


def _scratch_dir() -> str | None:
    """Where a worker writes its files: a Dask worker's ``local_directory`` (``dask worker
    --local-directory``, removed with the worker's files), else the temporary directory (a process-pool
    worker's is the batch's own ``oa-batch-*``, :func:`init_pool_worker`)."""
    from outcome_analysis.running.kernels import dask_local_directory

    return dask_local_directory()


def _write_file(path: Path, raw: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)


def _ensure_importable() -> None:
    """Kernels run in a temporary directory: let them import this package when it is not installed."""
    root = str(PROJECT_ROOT)
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if root not in paths and (PROJECT_ROOT / TOP_PACKAGE).is_dir():
        os.environ["PYTHONPATH"] = os.pathsep.join([root] + [p for p in paths if p])
