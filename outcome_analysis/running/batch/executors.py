"""Where the jobs run: a registry of executors, the one place a scheduler is added.

An executor is a context manager made as ``factory(scheduler, jobs, payload)`` whose ``run(todo)``
yields a :class:`JobResult` per job as it comes back, and which stops what still runs when left by
an exception. Registered: ``"local"`` (a process pool), ``"dask-local"`` (a Dask LocalCluster) and
every Dask scheduler address (``tcp://host:8786``, ``tls://...``). Adding one::

    EXECUTORS.register("slurm", SlurmRunner)
    EXECUTORS.register("k8s", K8sRunner, matches=lambda s: s.startswith("k8s://"), description="a k8s:// address")

Every executor runs the same worker function, :func:`outcome_analysis.batch.worker.execute_job`,
so every executor gives the same bytes. Every executor removes what its workers wrote to temporary
directories (the materialised payload, the kernels' connection files) when it is left, also by
an exception or Ctrl-C.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from .errors import BatchConfigError
from .jobs import Job, JobResult, Payload
from .registry import Registry, one_of
from .worker import cleanup_worker, execute_job, init_pool_worker, run_pool_job

#: Seconds a stopped worker gets to remove its files before it is killed.
STOP_GRACE = 10.0

#: Times a Dask job is re-run when it raises (``client.submit(..., retries=...)``). A job whose worker
#: dies is re-run on another worker by the scheduler itself, up to its ``distributed.scheduler.allowed-failures``
#: (default 3) lost workers; a failing notebook never raises (it comes back as a failed result).
DASK_RETRIES = 1


#: What a process-pool worker imports before its first report (:func:`.worker.warm_up`). With the
#: forkserver start method the server imports them once and every worker forked from it has them;
#: :func:`start_early` starts the server at the beginning of a batch, so those imports run on the
#: other core while the client loads the data and computes the results.
WORKER_PRELOAD = ("outcome_analysis.running.batch.worker", "outcome_analysis.running.batch.warm",
                  "outcome_analysis.presentation.export", "nbconvert", "papermill")


def _pool_context():
    """The multiprocessing context of the local pool: forkserver (with :data:`WORKER_PRELOAD`) where
    the platform has it, else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(WORKER_PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


#: The local pool started early (:func:`start_early`): ``(jobs, pool, tempdir, spawner)``, until a
#: :class:`LocalPool` takes it over or :func:`stop_early` stops it.
_EARLY: list = []


def start_early(scheduler: str, jobs: int | None = None) -> None:
    """Start the local pool's workers now, before the prepare step: the forkserver imports what they
    need once, and each worker makes its folder and starts its warm kernel while the client loads
    the data and computes the results (on 2 cores the second core is idle then). The workers are
    started from a thread (starting one waits for the forkserver's imports), so the client goes on at
    once. The next :class:`LocalPool` of ``jobs`` workers takes the pool over; :func:`stop_early`
    stops one that was not taken (a batch that stopped before its reports). A no-op for other
    schedulers."""
    if scheduler != "local" or not jobs or _EARLY:
        return
    tempdir = tempfile.mkdtemp(prefix="oa-batch-")
    try:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=_pool_context(),
                                   initializer=init_pool_worker, initargs=(tempdir,))
        spawner = threading.Thread(target=_spawn, args=(pool, jobs), name="oa-start-workers", daemon=True)
        _EARLY.append((jobs, pool, tempdir, spawner))
        spawner.start()
    except BaseException:  # noqa: BLE001 - Ctrl-C here, or no pool: the pool is made when the reports start
        stop_early()
        shutil.rmtree(tempdir, ignore_errors=True)
        if not isinstance(sys.exc_info()[1], Exception):
            raise


def _spawn(pool: ProcessPoolExecutor, jobs: int) -> None:
    with contextlib.suppress(Exception):  # a pool already shut down
        for _ in range(jobs):  # each submit starts a worker (its initializer starts the kernel)
            pool.submit(_started)


def _started() -> bool:
    return True


def _take_early(jobs: int):
    """The early pool ``(pool, tempdir)`` if one of ``jobs`` workers is there (its workers started),
    else ``None`` (and any other early pool stopped)."""
    if _EARLY and _EARLY[-1][0] == jobs:
        _jobs, pool, tempdir, spawner = _EARLY.pop()
        spawner.join()
        return pool, tempdir
    stop_early()
    return None


def stop_early() -> None:
    """Stop a pool :func:`start_early` started that no :class:`LocalPool` took over (idempotent)."""
    while _EARLY:
        _jobs, pool, tempdir, spawner = _EARLY[-1]
        with contextlib.suppress(RuntimeError):  # a thread that never started
            spawner.join(timeout=60)
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        stop_processes(processes)
        shutil.rmtree(tempdir, ignore_errors=True)
        _EARLY.pop()


class LocalPool:
    """A process pool; each worker materialises the payload once and keeps its imports warm.

    The workers' temporary files (payload, kernel connection files) live in one directory of the
    batch (``oa-batch-*``), removed when the pool is left: normally, by an exception or by Ctrl-C
    (the workers ignore SIGINT; the parent terminates them, they clean up, then the directory goes).
    """

    def __init__(self, scheduler: str, jobs: int, payload: Payload):
        self.scheduler = scheduler
        self.jobs = jobs
        self.payload = payload
        self.pool: ProcessPoolExecutor | None = None
        self.tempdir: str | None = None
        self.payload_file: str | None = None

    def __enter__(self):
        early = _take_early(self.jobs)  # started while the results were computed
        if early is not None:
            self.pool, self.tempdir = early
        else:
            self.tempdir = tempfile.mkdtemp(prefix="oa-batch-")
            try:
                self.pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=_pool_context(),
                                                initializer=init_pool_worker, initargs=(self.tempdir,))
            except BaseException:
                shutil.rmtree(self.tempdir, ignore_errors=True)
                raise
        try:  # the payload once, in the batch's private folder: each worker reads it once
            import pickle

            fd, self.payload_file = tempfile.mkstemp(prefix="payload-", suffix=".pickle", dir=self.tempdir)
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(self.payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def run(self, todo: Sequence[Job]) -> Iterator[JobResult]:
        if not todo:
            return
        pending = {self.pool.submit(run_pool_job, job, self.payload_file): job for job in todo}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                yield result_or_crash(job, future.result)

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.pool.shutdown(wait=True)  # workers end normally and clean up (finalizer)
            else:
                processes = list((getattr(self.pool, "_processes", None) or {}).values())
                self.pool.shutdown(wait=False, cancel_futures=True)
                stop_processes(processes)
        finally:
            if self.tempdir:
                shutil.rmtree(self.tempdir, ignore_errors=True)
        return False


def stop_processes(processes, grace: float = STOP_GRACE) -> None:
    """Terminate the pool's worker processes (running notebooks: their kernels are killed and their
    files removed by the worker's SIGTERM handler), wait up to ``grace`` seconds, then kill."""
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1.0)


class DaskRunner:
    """The same jobs on a ``dask.distributed`` cluster: a scheduler address or a LocalCluster.

    The payload is scattered to every worker once; jobs return bytes, so no shared disk is needed.
    A job whose worker dies (a kernel that dies with it, :mod:`outcome_analysis.running.kernels`) is
    re-run on another worker (the scheduler's ``allowed-failures``); a job that raises is re-run
    :data:`DASK_RETRIES` times. When the runner is left, every worker still there removes this
    batch's materialised payload and stops this batch's kernels (those started in that payload),
    also after a worker was lost, a job failed or timed out, or Ctrl-C: on a cluster of its own it
    stops every kernel, on an address (a shared cluster) only this batch's. ``dask-local`` puts the
    workers' ``local_directory`` and the scheduler's scratch space in a temporary folder of the batch,
    removed at the end.
    """

    def __init__(self, scheduler: str, jobs: int, payload: Payload):
        self.scheduler = scheduler
        self.jobs = jobs
        self.payload = payload
        self.cluster = None
        self.client = None
        self.futures: list = []
        self.tempdir: str | None = None  # dask-local: the workers' scratch space, removed at the end

    def __enter__(self):
        from distributed import Client, LocalCluster

        if self.scheduler == "dask-local":
            import dask

            self.tempdir = tempfile.mkdtemp(prefix="oa-batch-")
            with dask.config.set({"temporary-directory": self.tempdir}):  # the scheduler's scratch space too
                self.cluster = LocalCluster(
                    n_workers=self.jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR, local_directory=self.tempdir,
                    env={"TMPDIR": self.tempdir},  # the workers' and their kernels' temporary files go with the batch
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
            future = self.client.submit(execute_job, job, payload, pure=False, retries=DASK_RETRIES,
                                        key=f"report-{job.key}-{os.urandom(4).hex()}")
            by_future[future] = job
        self.futures = list(by_future)
        for future in as_completed(self.futures):
            job = by_future[future]
            yield result_or_crash(job, future.result)
            future.release()

    def __exit__(self, exc_type, exc, tb):
        with contextlib.suppress(Exception):
            if exc_type is not None and self.futures:
                self.client.cancel(self.futures)
        with contextlib.suppress(Exception):
            # every worker still there removes this batch's materialised payload and stops this batch's
            # kernels (a shared cluster may run other batches' notebooks); a worker lost during the run
            # is skipped, not waited for
            self.client.run(cleanup_batch, [self.payload.key], self.cluster is not None, on_error="ignore",
                            wait=True)
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
        if self.tempdir:
            shutil.rmtree(self.tempdir, ignore_errors=True)
        return False


def cleanup_batch(keys: Sequence[str], every_kernel: bool = False) -> int:
    """On a worker: stop the kernels of the batches ``keys`` (those started in their materialised
    payload; every kernel of this process when ``every_kernel``), then remove the payloads
    (:func:`.worker.cleanup_worker`). The number of payload directories removed."""
    from outcome_analysis.running.kernels import cleanup_kernels

    from . import worker

    with contextlib.suppress(Exception):
        cleanup_kernels(None if every_kernel else [worker._MATERIALISED[k] for k in keys if k in worker._MATERIALISED])
    return cleanup_worker(list(keys), kernels=False)


def result_or_crash(job: Job, get: Callable[[], JobResult]) -> JobResult:
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


EXECUTORS = Registry("scheduler")
EXECUTORS.register("local", LocalPool)
EXECUTORS.register("dask-local", DaskRunner)
EXECUTORS.register("dask-address", DaskRunner, matches=lambda s: re.match(r"^[a-z]+://", s) is not None,
                   description="a Dask address like tcp://host:8786")


def check_scheduler(scheduler: str) -> None:
    """``BatchConfigError`` naming the schedulers when none is registered for ``scheduler``."""
    if scheduler not in EXECUTORS:
        raise BatchConfigError(f"scheduler must be {one_of(EXECUTORS.choices())}, got {scheduler!r}")


def get_executor(scheduler: str, jobs: int, payload: Payload):
    """The executor registered for ``scheduler``, made for ``jobs`` parallel jobs and ``payload``."""
    check_scheduler(scheduler)
    return EXECUTORS.get(scheduler)(scheduler, jobs, payload)
