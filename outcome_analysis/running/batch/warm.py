"""A warm kernel per worker: one IPython kernel runs several reports, its namespace cleaned in between.

Starting a kernel and importing pandas, matplotlib, statsmodels and this package costs about two
seconds per report; a worker that keeps one kernel for the reports of one batch pays it once. The
notebooks still run through papermill: :class:`WarmKernelEngine` is a papermill engine (papermill's
engine interface, ``papermill.engines``) that hands nbclient an already started kernel manager
(``NotebookClient(km=...)``: a client that does not own its manager leaves the kernel running) and
closes the client's channels after each notebook.

Isolation: between two reports the kernel's user namespace is reset (``%reset -f``), every figure is
closed and matplotlib's settings go back to those of the freshly started kernel; a report that
fails, times out or whose kernel dies ends that kernel (the next report gets a new one), and a
kernel is replaced after :data:`MAX_REPORTS` reports to bound its memory. A report made in a reused
kernel is identical to the same report from a fresh kernel (``tests/test_warm_kernel.py``).
"""
from __future__ import annotations

import contextlib
import logging
import os

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args

from outcome_analysis.running.kernels import IPCKernelManager

#: The engine's name in papermill's registry (``papermill.execute_notebook(engine_name=...)``).
ENGINE = "outcome-warm-kernel"

#: Reports one kernel makes before it is replaced by a new one (bounds what a long batch keeps in memory).
MAX_REPORTS = 20

#: Seconds to wait for a new kernel to answer and for the namespace reset.
STARTUP_TIMEOUT = 60.0

#: Run once in a new kernel: the heavy imports every report makes, and matplotlib's settings as a
#: fresh kernel has them after pyplot's first import (the inline backend sets some), kept where
#: ``%reset`` does not reach them.
_WARM_UP = """\
import matplotlib as _oa_mpl
import matplotlib.pyplot as _oa_plt
import pandas as _oa_pd
import outcome_analysis.story as _oa_story
import outcome_analysis.presentation.documents as _oa_documents
_oa_mpl._outcome_fresh_rc = _oa_mpl.rcParams.copy()
del _oa_mpl, _oa_plt, _oa_pd, _oa_story, _oa_documents
"""

#: Run after each report in a kernel that goes on: a clean namespace for the next one.
_RESET = """\
get_ipython().run_line_magic("reset", "-f")
import gc as _oa_gc
import matplotlib as _oa_mpl
import matplotlib.pyplot as _oa_plt
import pandas as _oa_pd
_oa_plt.close("all")
_oa_mpl.rcParams.update(_oa_mpl._outcome_fresh_rc)
_oa_pd.reset_option("all")
del _oa_mpl, _oa_plt, _oa_pd
_oa_gc.collect()
del _oa_gc
"""


class WarmKernelEngine(NBClientEngine):
    """papermill's nbclient engine on a kernel that is already running (keyword ``km``): the
    notebook client neither starts nor stops it, and its channels are closed afterwards."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, **kwargs):
        km = kwargs.pop("km")
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs, timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout, kernel_name=kernel_name, log=logging.getLogger("papermill"),
            log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
        )
        client = PapermillNotebookClient(nb_man, km=km, **final_kwargs)
        try:
            return client.execute()
        finally:
            if client.kc is not None:
                with contextlib.suppress(Exception):
                    client.kc.stop_channels()


papermill_engines.register(ENGINE, WarmKernelEngine)


class WarmKernel:
    """One kernel of a worker, started in ``cwd`` (the materialised payload) and reused.

    ``manager`` is the running :class:`~outcome_analysis.running.kernels.IPCKernelManager`;
    :meth:`done` after each report (``ok=False`` ends the kernel); :meth:`stop` ends it.
    """

    def __init__(self, cwd: str | os.PathLike):
        from jupyter_core.utils import run_sync

        self.cwd = os.fspath(cwd)
        self.reports = 0
        self.manager = IPCKernelManager(kernel_name="python3")
        try:
            run_sync(self.manager.start_kernel)(cwd=self.cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"])
            self._run(_WARM_UP)
        except BaseException:
            self.stop()
            raise

    @property
    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        try:
            return bool(run_sync(self.manager.is_alive)())
        except Exception:  # noqa: BLE001 - a manager that cannot tell is not to be reused
            return False

    def _run(self, code: str) -> None:
        """Execute ``code`` in the kernel and wait for it; ``RuntimeError`` when it fails."""
        from jupyter_core.utils import run_sync

        client = self.manager.client()
        client.start_channels()
        try:
            run_sync(client.wait_for_ready)(timeout=STARTUP_TIMEOUT)
            reply = run_sync(client.execute_interactive)(code, silent=True, store_history=False,
                                                         timeout=STARTUP_TIMEOUT, output_hook=lambda msg: None)
        finally:
            client.stop_channels()
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"kernel set-up failed: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")

    def done(self, ok: bool) -> bool:
        """After a report: reset the namespace and keep the kernel (``True``), or end it (``False``:
        the report failed, the kernel died, the reset failed or the kernel made :data:`MAX_REPORTS`)."""
        self.reports += 1
        if ok and self.reports < MAX_REPORTS and self.alive:
            try:
                self._run(_RESET)
                return True
            except Exception:  # noqa: BLE001 - a kernel that cannot be reset is replaced
                pass
        self.stop()
        return False

    def stop(self) -> None:
        """Shut the kernel down at once and remove its files (idempotent)."""
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):
            if run_sync(self.manager.is_alive)():
                run_sync(self.manager.shutdown_kernel)(now=True)
        with contextlib.suppress(Exception):
            run_sync(self.manager.cleanup_resources)()
        self.manager.kill_now()
