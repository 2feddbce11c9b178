"""End to end: the explorer notebook in a real JupyterLab, driven in Debian's chromium by Playwright.

Starts JupyterLab headless on a free port over a temporary folder holding a copy of
``notebooks/explorer.ipynb`` and the small demo in ``data/demo`` (the notebook's default
``data_path = "../data/demo"``), runs all cells through the Run menu, waits for the widget, picks
another indicator in its dropdown and waits for the table to follow. Never downloads a browser:
without ``/usr/bin/chromium`` the test skips. Every wait is bounded; the Lab server is killed in the
fixture's teardown.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER_TIMEOUT = 60      # seconds for JupyterLab to answer
RENDER_TIMEOUT = 40_000  # milliseconds for the kernel to run the notebook and the widget to render
CHANGE_TIMEOUT = 30_000  # milliseconds for the table to follow a widget change


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path, small_demo):
    """A headless JupyterLab over a copy of the explorer notebook and the small demo; yields its URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed: apt-get install chromium")
    pytest.importorskip("playwright.sync_api", reason="playwright (Python package) not installed in .venv")
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        pytest.skip(f"jupyter not found next to {sys.executable}")
    from outcome_analysis import io

    root = tmp_path / "lab"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "explorer.ipynb", root / "notebooks" / "explorer.ipynb")
    io.write(small_demo, root / "data" / "demo", "parquet")
    token = secrets.token_hex(16)
    port = _free_port()
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(tmp_path / "jconfig"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "jruntime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "jsettings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "jworkspaces"),
               MPLBACKEND="Agg")
    log = open(tmp_path / "lab.log", "wb")
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{(tmp_path / 'lab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_TIMEOUT} s:\n"
                            f"{(tmp_path / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"url": url, "token": token, "log": tmp_path / "lab.log"}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


def _diagnose(page, lab) -> str:
    """What a failure message needs: the cells' outputs, a screenshot path and the server log's tail."""
    shot = lab["log"].with_name("failure.png")
    try:
        page.screenshot(path=str(shot), full_page=True)
        outputs = page.locator(".jp-OutputArea").all_inner_texts()
    except Exception as exc:  # the page itself may be gone
        outputs = [f"(no outputs: {exc})"]
    return (f"outputs: {outputs!r}\nscreenshot: {shot}\nserver log:\n{lab['log'].read_text()[-2000:]}")


def test_explorer_notebook_runs_and_reacts_in_jupyterlab(lab):
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.set_default_timeout(RENDER_TIMEOUT)
            page.goto(f"{lab['url']}/lab/tree/notebooks/explorer.ipynb?token={lab['token']}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=RENDER_TIMEOUT)
            # a fresh Lab (empty settings dir) may ask which kernel to start: take the proposed one
            select_kernel = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
            try:
                select_kernel.wait_for(timeout=10_000)
                select_kernel.click()
            except PlaywrightError:
                pass  # no dialog: the notebook's kernelspec was started directly

            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

            caption = page.locator(".oa-explorer .oa-table caption")
            caption.wait_for(timeout=RENDER_TIMEOUT)
            assert "Verloop van het traject" in caption.inner_text()
            assert page.locator(".oa-explorer img").count() >= 1
            first_table = page.locator(".oa-explorer .oa-table").inner_text()

            select = page.locator(".oa-explorer select:has(option:text-is('6. Herhaald beroep'))")
            select.select_option(label="6. Herhaald beroep")
            page.wait_for_function(
                "() => { const c = document.querySelector('.oa-explorer .oa-table caption');"
                " return c && c.textContent.includes('Herhaald beroep'); }",
                timeout=CHANGE_TIMEOUT)
            assert page.locator(".oa-explorer .oa-table").inner_text() != first_table
            assert "Herhaald beroep" in page.locator(".oa-explorer .oa-table caption").inner_text()
        except (PlaywrightError, AssertionError) as exc:
            pytest.fail(f"{exc}\n{_diagnose(page, lab)}")
        finally:
            browser.close()
