"""The batch on a real Dask cluster: ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1,
each a process of its own with its own ``TMPDIR`` and ``--local-directory``, and ``run_reports.py
--scheduler tcp://127.0.0.1:PORT`` as a client with a private ``TMPDIR`` and no folder shared with the
workers but the results cache it reads (the payload travels to the workers as bytes).

One worker is SIGKILLed while its kernel runs a report: its kernel dies with it (ipykernel's parent
poller, ``outcome_analysis.running.kernels``), the scheduler re-runs the job on the other worker, and
every report is still made, its HTML byte-identical to the same report of the suite's shared batch
(made on the process pool) once the generation date is blanked. Afterwards no kernel of the run is
left, the client's ``TMPDIR`` is empty and the surviving worker kept none of the batch's files. Then a
second batch (the fixture notebook of tests/test_batch.py that sleeps) is interrupted with SIGINT
while its kernel runs on the surviving worker: the client exits 130 and that kernel is stopped (on a
cluster not of its own the batch stops its own kernels only), with the same checks.

The shared batch's cache is copied (prepare is reused, its folder is not written); the shared
batch made the same two reports on the process pool. Under 40 s on a quiet machine.

Bounded: every wait has a timeout and every process is killed in a ``finally``; loopback only.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from test_batch import ROOT, without_dates
from test_batch_cleanup import kernels_of, left_in, wait_gone

pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

DASK = Path(sys.executable).with_name("dask")
ROLES = ("gi", "jeugdhulp")  # two full reports of the shared batch, long enough to kill a worker mid-report


INTERRUPTED = """
import signal
import sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal starts a command
sys.path[:0] = [{tests!r}, {root!r}]
from test_batch_cleanup import load_population
from test_batch import NOTEBOOK, fake_prepare, make_data
from pathlib import Path
from outcome_analysis import batch
try:
    batch.run_batch(make_data(Path({data!r})), out={out!r}, periods=["2024"], formats=("html",), jobs=1, notebook=NOTEBOOK,
                    national_notebook=None, institutions=["SLOW*"], load=load_population, prepare=fake_prepare,
                    quiet=True, scheduler={address!r}, cache={cache!r})
except KeyboardInterrupt:
    sys.exit(130)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(command: list, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as fh:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        process.wait(timeout=10)


@contextlib.contextmanager
def dask_cluster(base: Path, n_workers: int = 2, timeout: float = 60):
    """A scheduler and ``n_workers`` single-threaded workers (``--no-nanny``), separate processes on
    127.0.0.1, each worker with ``TMPDIR`` ``<base>/t<i>`` and ``--local-directory <base>/w<i>``;
    yields the address and the workers, and kills them all when left."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    processes = []
    try:
        processes.append(_start([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                env, base / "scheduler.log"))
        workers = []
        for i in (1, 2)[:n_workers]:
            tmp, local = base / f"t{i}", base / f"w{i}"
            tmp.mkdir()
            process = _start([str(DASK), "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                              "--no-dashboard", "--local-directory", str(local)],
                             dict(env, TMPDIR=str(tmp)), base / f"worker{i}.log")
            processes.append(process)
            workers.append(SimpleNamespace(process=process, tmp=tmp, local=local))
        with Client(address, timeout=timeout) as client:
            client.wait_for_workers(n_workers, timeout=timeout)
        yield SimpleNamespace(address=address, workers=workers)
    finally:
        for process in reversed(processes):
            _kill(process)


def first_difference(a: bytes, b: bytes, context: int = 150) -> tuple[bytes, bytes]:
    """The bytes around the first place where ``a`` and ``b`` differ."""
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return a[max(0, i - context):i + context], b[max(0, i - context):i + context]


def kernel_on(worker) -> int | None:
    """The pid of a kernel the worker process started, if one runs."""
    with contextlib.suppress(psutil.NoSuchProcess):
        for child in psutil.Process(worker.process.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                if "ipykernel_launcher" in " ".join(child.cmdline()):
                    return child.pid
    return None


def test_a_batch_on_a_dask_cluster_survives_a_killed_worker_and_leaves_nothing_behind(report_batch):
    base = Path(tempfile.mkdtemp(prefix="dc", dir="/tmp" if os.path.isdir("/tmp") else None))  # short: socket paths
    run = None
    try:
        cache = base / "cache"
        shutil.copytree(report_batch.cache, cache)  # the shared batch's results store: prepare is reused
        client_tmp, out = base / "ct", base / "out"
        client_tmp.mkdir()
        names = [report_batch.institutions[role] for role in ROLES]
        with dask_cluster(base) as cluster:
            run = _start([sys.executable, str(ROOT / "run_reports.py"), "--data", str(report_batch.data),
                          "--out", str(out), "--cache", str(cache), "--formats", "html", "--edition", "full",
                          "--no-national", "--institutions", ",".join(names), "--period", report_batch.unit_period,
                          "--scheduler", cluster.address, "--quiet"],
                         dict(os.environ, TMPDIR=str(client_tmp)), base / "client.log")
            # kill the first worker whose kernel has started a report, a moment into the report
            deadline = time.monotonic() + 60
            victim = kernel = None
            while victim is None:
                assert time.monotonic() < deadline and run.poll() is None, (base / "client.log").read_text()
                for worker in cluster.workers:
                    kernel = kernel_on(worker)
                    if kernel:
                        victim = worker
                        break
                time.sleep(0.1)
            time.sleep(2.0)  # the kernel has started (and warmed up): the report runs
            assert run.poll() is None and psutil.pid_exists(kernel)
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait(timeout=10)
            assert wait_gone([kernel], timeout=5) == [], "the killed worker's kernel outlived it"

            status = run.wait(timeout=150)
            log = (base / "client.log").read_text(errors="replace")
            assert status == 0, log
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            entries = {e["institution"]: e for e in manifest["reports"].values()}
            assert sorted(entries) == sorted(names)
            for role, name in zip(ROLES, names):
                assert entries[name]["status"] == "made", entries[name]
                html = (out / entries[name]["files"]["html"]).read_bytes()
                expected = without_dates(report_batch.html(role).encode("utf-8"))
                assert without_dates(html) == expected, (role, first_difference(without_dates(html), expected))
            # nothing left behind: no kernel of the run, the client's TMPDIR empty, the surviving
            # worker kept none of the batch's files (payload, kernels' directories)
            assert wait_gone(kernels_of(base), timeout=5) == []
            assert left_in(client_tmp) == []
            (survivor,) = [w for w in cluster.workers if w is not victim]
            assert survivor.process.poll() is None
            assert [p for p in survivor.local.rglob("oa-*")] == [] and left_in(survivor.tmp) == []

            # Ctrl-C in the client while a (fixture) notebook that sleeps runs on the cluster: the
            # client exits 130 and the worker's kernel of that batch is stopped
            script = INTERRUPTED.format(tests=str(ROOT / "tests"), root=str(ROOT), data=str(base / "fdata"),
                                        out=str(base / "fout"), address=cluster.address, cache=str(base / "fcache"))
            run = _start([sys.executable, "-c", script], dict(os.environ, TMPDIR=str(client_tmp)), base / "client2.log")
            deadline = time.monotonic() + 60
            while not (kernel := kernel_on(survivor)):
                assert time.monotonic() < deadline and run.poll() is None, (base / "client2.log").read_text()
                time.sleep(0.1)
            time.sleep(0.5)
            os.killpg(run.pid, signal.SIGINT)
            assert run.wait(timeout=60) == 130, (base / "client2.log").read_text()
            assert wait_gone([kernel], timeout=5) == [], "the interrupted batch's kernel still runs"
            assert wait_gone(kernels_of(base), timeout=5) == []
            assert left_in(client_tmp) == []
            assert [p for p in survivor.local.rglob("oa-*")] == [] and left_in(survivor.tmp) == []
    finally:
        if run is not None:
            _kill(run)
        shutil.rmtree(base, ignore_errors=True)
