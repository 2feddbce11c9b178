"""Privacy by construction: the batch leaves nothing in the system temporary directory and keeps
its results store out of the output folder.

Every test runs with ``TMPDIR`` (and ``tempfile.tempdir``) set to a private, short folder of its
own and ``XDG_CACHE_HOME`` in the test's folder; the fixture notebooks of tests/test_batch.py fail
for an institution whose name starts with FAIL and sleep for one starting with SLOW. After each
batch (failed, timed out, a killed worker, interrupted) no kernel of the test is left: no
``ipykernel_launcher`` process whose ``TMPDIR`` or connection file is in the private folder.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from outcome_analysis import batch
from outcome_analysis.running.batch import prepare as prepare_mod

from test_batch import NATIONAL, NOTEBOOK, ROOT, fake_prepare, make_data

POPULATION = ["Stichting Snel", "FAIL Stichting Kapot", "SLOW Stichting Traag"]


def load_population(path):
    return SimpleNamespace(institutions=POPULATION, reference_date=pd.Timestamp("2025-03-31"))


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """A private system temporary directory (short: kernels' socket paths must fit) and cache home.

    multiprocessing keeps one temporary directory per process (``pymp-*``: the forkserver's socket),
    made on first use and removed when the process exits; it is made here first, outside the
    private folder, because the forkserver outlives the test (the subprocess test sees it go)."""
    import multiprocessing.util

    multiprocessing.util.get_temp_dir()
    folder = Path(tempfile.mkdtemp(prefix="tb", dir="/tmp" if os.path.isdir("/tmp") else None))
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tempfile.gettempdir() == str(folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def kernels_of(folder: Path) -> list[int]:
    """Process ids of the living kernels (``ipykernel_launcher``) that belong to ``folder``: whose
    command line (the connection file) or ``TMPDIR`` lies in it. Zombies count as gone."""
    import psutil

    folder = str(folder)
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
            if "ipykernel_launcher" not in cmdline or process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if folder in cmdline or process.environ().get("TMPDIR", "").startswith(folder):
                found.append(process.info["pid"])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def wait_gone(pids, timeout: float) -> list[int]:
    """The processes of ``pids`` still alive (zombies count as gone) after up to ``timeout`` seconds."""
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def left_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def no_store_under(out: Path) -> bool:
    return not (out / batch.RESULTS_DIR).exists() and not list(out.rglob("figures.json"))


def test_a_failing_and_a_timed_out_report_leave_nothing_in_temp_and_the_store_is_in_the_private_cache(
        private_tmp, tmp_path):
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    (out / batch.RESULTS_DIR / "0123456789abcdef").mkdir(parents=True)  # a store an earlier version left there
    result = batch.run_batch(data, out=out, periods=["2024"], formats=("html",), jobs=3, timeout=4,
                             notebook=NOTEBOOK, national_notebook=NATIONAL, load=load_population,
                             prepare=fake_prepare, quiet=True)
    assert result.counts == {"made": 2, "too_little_data": 0, "failed": 2, "skipped": 0}
    assert sorted(f["status"] for f in result.failures) == ["failed", "timed_out"]
    assert left_in(private_tmp) == []
    assert wait_gone(kernels_of(private_tmp), timeout=5) == []
    assert no_store_under(out)
    # the default cache: $XDG_CACHE_HOME/outcome-workbench/<data hash>, made with mode 0700
    root = tmp_path / "xdg" / "outcome-workbench"
    cache = root / batch.hash_path(data)[:16]
    assert [p.name for p in cache.iterdir()] and (next(cache.iterdir()) / "figures.json").is_file()
    for folder in (tmp_path / "xdg", root, cache):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    recorded = result.manifest["runs"][-1]["inputs"]["results"]["year"]["path"]
    assert Path(recorded).parent == cache


def test_an_interrupted_batch_stops_its_workers_and_kernels_and_leaves_nothing_in_temp(
        private_tmp, tmp_path, monkeypatch):
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    real_record = batch.record_result

    def record_then_interrupt(*args, **kwargs):  # Ctrl-C while SLOW's kernel is still running
        real_record(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(batch.run, "record_result", record_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        batch.run_batch(data, out=out, periods=["2024"], formats=("html",), jobs=2, notebook=NOTEBOOK,
                        national_notebook=None, institutions=["SLOW*", "Stichting Snel"], load=load_population,
                        prepare=fake_prepare, quiet=True, cache=tmp_path / "cache")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["runs"][-1]["interrupted"] is True
    assert left_in(private_tmp) == []
    assert wait_gone(kernels_of(private_tmp), timeout=5) == []
    assert no_store_under(out)


SCRIPT = """
import signal
import sys
# a terminal starts a command with Ctrl-C's default handling; the test worker that launches this
# script may run with SIGINT ignored (an ignored signal is inherited), which would make it deaf to it
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path[:0] = [{tests!r}, {root!r}]
from test_batch_cleanup import load_population
from test_batch import NOTEBOOK, fake_prepare
from outcome_analysis import batch
try:
    batch.run_batch({data!r}, out={out!r}, periods=["2024"], formats=("html",), jobs=2, notebook=NOTEBOOK,
                    national_notebook=None, institutions=["SLOW*"], load=load_population, prepare=fake_prepare,
                    quiet=True)
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_ctrl_c_in_a_terminal_leaves_nothing_in_temp(private_tmp, tmp_path):
    """SIGINT to the whole process group (as a terminal sends it) while a notebook runs."""
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    script = SCRIPT.format(tests=str(ROOT / "tests"), root=str(ROOT), data=str(data), out=str(out))
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], cwd=tmp_path,
                               start_new_session=True, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while not list(private_tmp.glob("oa-batch-*/oa-k-*/kernel.json")):  # a kernel is running
            assert time.monotonic() < deadline and process.poll() is None, "no kernel started"
            time.sleep(0.2)
        time.sleep(0.5)
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=90) == 130, f"SIGINT in the test worker: {signal.getsignal(signal.SIGINT)}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert wait_gone(kernels_of(private_tmp), timeout=5) == []
    assert left_in(private_tmp) == []
    assert no_store_under(out)


def test_a_killed_worker_takes_its_kernel_along_and_the_batch_leaves_nothing_in_temp(private_tmp, tmp_path):
    """SIGKILL to the pool's worker while SLOW's notebook runs: the worker cannot clean up, its
    kernel ends by itself (ipykernel's parent poller), the job is recorded as failed, and the batch's
    temporary folder goes with the batch."""
    import psutil

    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    killed: dict = {}

    def kill_the_worker():  # a moment after its kernel started (SLOW's notebook sleeps)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            kernels = kernels_of(private_tmp)
            if kernels:
                time.sleep(1.5)
                with contextlib.suppress(psutil.NoSuchProcess):
                    killed[kernels[0]] = psutil.Process(kernels[0]).ppid()
                    os.kill(killed[kernels[0]], signal.SIGKILL)
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_the_worker, daemon=True)
    killer.start()
    result = batch.run_batch(data, out=out, periods=["2024"], formats=("html",), jobs=1, notebook=NOTEBOOK,
                             national_notebook=None, institutions=["SLOW*"],
                             load=load_population, prepare=fake_prepare, quiet=True, cache=tmp_path / "cache")
    killer.join(timeout=5)
    assert killed and os.getpid() not in killed.values(), "no worker was killed"
    assert result.counts == {"made": 0, "too_little_data": 0, "failed": 1, "skipped": 0}
    [failure] = result.failures
    assert failure["institution"] == "SLOW Stichting Traag"
    assert failure["message"].startswith("worker failed: BrokenProcessPool"), failure["message"]
    assert wait_gone(list(killed), timeout=5) == [], "a killed worker's kernel outlived it"
    assert wait_gone(kernels_of(private_tmp), timeout=5) == []
    assert left_in(private_tmp) == []
    assert no_store_under(out)


def test_a_cache_inside_the_output_folder_is_refused(private_tmp, tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))
    import run_reports

    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    status = run_reports.main(["--data", str(data), "--out", str(out), "--cache", str(out / "cache"),
                               "--formats", "html", "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert f"the results cache {out / 'cache'} is inside the output folder {out}" in err
    assert not out.exists()
    with pytest.raises(batch.BatchConfigError, match="inside the output folder"):
        batch.run_batch(data, out=out, cache=out, periods=["2024"], load=load_population, prepare=fake_prepare,
                        notebook=NOTEBOOK, quiet=True)
    assert not out.exists() and left_in(private_tmp) == []


def test_clean_cache_removes_the_stores_of_the_delivery_and_nothing_else(private_tmp, tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))
    import run_reports

    data = make_data(tmp_path / "data")
    cache = prepare_mod.make_private_dir(prepare_mod.default_cache_dir(batch.hash_path(data)))
    (cache / "0123456789abcdef").mkdir()
    (cache / "0123456789abcdef" / "meta.json").write_text("{}")
    assert run_reports.main(["--data", str(data), "--clean-cache"]) == 0
    assert f"removed 1 stored result set(s) from the results cache {cache}" in capsys.readouterr().out
    assert not cache.exists() and (tmp_path / "xdg" / "outcome-workbench").is_dir()
    assert run_reports.main(["--data", str(data), "--clean-cache"]) == 0
    assert "nothing removed" in capsys.readouterr().out

    mine = tmp_path / "mine"  # a --cache folder with other files: only the stores go
    (mine / "fedcba9876543210").mkdir(parents=True)
    (mine / "notes.txt").write_text("keep")
    assert run_reports.main(["--data", str(data), "--cache", str(mine), "--clean-cache"]) == 0
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_kernels_left_running_are_killed_and_their_files_removed(private_tmp):
    from outcome_analysis.running.kernels import IPCKernelManager, cleanup_kernels

    km = IPCKernelManager(kernel_name="python3")
    assert Path(km.private_dir).parent == private_tmp
    assert cleanup_kernels() >= 1
    assert left_in(private_tmp) == []


def test_a_batch_that_stops_before_its_reports_stops_the_workers_it_started_early(private_tmp, tmp_path):
    """The local pool's workers start (and start their kernels) while the results are computed; when
    that step fails, the batch stops them: no kernel, no folder left, and no report written."""
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    started = threading.Event()

    def failing_prepare(data, settings, granularity, folder, periods=()):
        deadline = time.monotonic() + 30  # until a worker's kernel has started: the case to clean up
        while not list(private_tmp.glob("oa-batch-*/oa-worker-*/oa-k-*/kernel.json")) and \
                not list(private_tmp.glob("oa-batch-*/oa-k-*/kernel.json")):
            assert time.monotonic() < deadline, "no worker started a kernel early"
            time.sleep(0.1)
        started.set()
        raise RuntimeError("the results could not be computed")

    with pytest.raises(batch.BatchError, match="could not be computed"):
        batch.run_batch(data, out=out, periods=["2024"], formats=("html",), jobs=2, notebook=NOTEBOOK,
                        national_notebook=None, load=load_population, prepare=failing_prepare, quiet=True)
    assert started.is_set()
    assert wait_gone(kernels_of(private_tmp), timeout=5) == []
    assert left_in(private_tmp) == []
    assert not list(out.rglob("*.html"))
