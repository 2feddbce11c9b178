"""Kernel managers for running many notebooks at once on one machine.

Parallel papermill runs that each start a kernel on TCP ports race for free ports: a port found
free by one kernel manager is taken by another before the kernel binds it, and the kernel dies
with ``zmq.error.ZMQError: Address already in use`` (nteract/papermill#511). With the IPC
transport every kernel talks over Unix domain sockets instead; :class:`IPCKernelManager` puts
those sockets and the connection file in a private temporary directory per kernel (mode 0700), so
no two kernels can share a name and nothing is left behind after shutdown.

papermill hands unknown keyword arguments of ``execute_notebook`` to nbclient's
``NotebookClient``, whose ``kernel_manager_class`` trait picks the manager::

    papermill.execute_notebook(src, dst, parameters=..., kernel_manager_class=IPCKernelManager,
                               shutdown_kernel="immediate")

A kernel dies with the process that started it: jupyter_client starts it in a session of its own
with ``JPY_PARENT_PID`` set to the starting process, and ipykernel's ``ParentPollerUnix`` ends the
kernel within about a second once its parent is gone (also when the parent was SIGKILLed and could
not clean up: a process-pool worker, a ``dask worker --no-nanny`` process; tested in
``tests/test_batch_cleanup.py`` and ``tests/test_dask_cluster.py``). Its private directory is then
left behind; the batch's temporary folder (process pool, ``dask-local``) goes with the batch, and
:func:`cleanup_kernels` removes those of the kernels a living worker started.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import weakref
from collections.abc import Callable

from jupyter_client.manager import AsyncKernelManager

#: Unix socket paths are limited to about 107 bytes; keep the private directory short.
_SOCKET_PATH_LIMIT = 100


#: The kernel managers of this process whose private directory still exists (see :func:`cleanup_kernels`).
_LIVE: "weakref.WeakSet[IPCKernelManager]" = weakref.WeakSet()


def _private_dir() -> str:
    """A new private directory (mode 0700) for one kernel: under the Dask worker's ``local_directory``
    when this runs in a Dask task (the batch's temporary folder on a ``dask-local`` cluster; Dask
    purges a dead worker's directory), else under the temporary directory."""
    base = dask_local_directory()
    if base is None or len(base) > 70 or not os.path.isdir(base):
        base = tempfile.gettempdir()
    if len(base) > 70:  # a long folder would make socket paths too long
        base = "/tmp" if os.path.isdir("/tmp") else base
    return tempfile.mkdtemp(prefix="oa-k-", dir=base)  # mkdtemp creates it with mode 0700


def dask_local_directory() -> str | None:
    """The ``local_directory`` of the Dask worker running this task (``dask worker
    --local-directory``), or ``None`` outside a Dask task (or without distributed installed)."""
    with contextlib.suppress(Exception):
        from distributed import get_worker

        return get_worker().local_directory or None
    return None


class IPCKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` on the IPC transport, its files in a private temporary directory.

    The connection file is ``<dir>/kernel.json`` and the sockets are ``<dir>/ipc-<n>``; the
    directory is removed when nbclient cleans up the kernel's resources (right after execution).
    Explicit ``transport``, ``ip`` or ``connection_file`` arguments are respected.

    Attributes
    ----------
    private_dir : str
        The directory holding this kernel's connection file and sockets.
    on_start : callable or None
        Class attribute: called with the manager after the kernel has started (the batch uses it
        to record the connection info and to arm its wall-clock watchdog). See :func:`watched`.
    """

    on_start: Callable[["IPCKernelManager"], None] | None = None

    def __init__(self, **kwargs):
        self.private_dir = _private_dir()
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("connection_file", os.path.join(self.private_dir, "kernel.json"))
        if kwargs["transport"] == "ipc":
            kwargs.setdefault("ip", os.path.join(self.private_dir, "ipc"))
        try:
            super().__init__(**kwargs)
            if self.transport == "ipc" and len(self.ip) + 8 > _SOCKET_PATH_LIMIT:
                raise ValueError(f"IPC socket path {self.ip!r} is too long for a Unix socket")
        except BaseException:
            shutil.rmtree(self.private_dir, ignore_errors=True)
            raise
        _LIVE.add(self)

    async def _async_post_start_kernel(self, **kw) -> None:
        await super()._async_post_start_kernel(**kw)
        hook = type(self).on_start
        if hook is not None:
            hook(self)

    async def cleanup_resources(self, restart: bool = False) -> None:  # type: ignore[override]
        """Remove the connection file and sockets, and (unless restarting) the private directory."""
        try:
            await self._async_cleanup_resources(restart=restart)
        finally:
            if not restart:
                self.remove_private_dir()

    def remove_private_dir(self) -> None:
        """Remove the connection file, the sockets and the private directory (idempotent)."""
        shutil.rmtree(self.private_dir, ignore_errors=True)
        _LIVE.discard(self)

    def kill_now(self) -> None:
        """Kill the kernel process (if any) and remove its files: for cleaning up in a hurry, from a
        signal handler or at exit, when the event loop that runs the manager cannot be used."""
        pid = self.kernel_pid
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self.remove_private_dir()

    @property
    def launch_cwd(self) -> str | None:
        """The working directory the kernel was started in (nbclient passes the notebook's
        ``resources["metadata"]["path"]``; the batch's materialised payload), if known."""
        cwd = (getattr(self, "_launch_args", None) or {}).get("cwd")
        return os.fspath(cwd) if cwd else None

    @property
    def kernel_pid(self) -> int | None:
        """Process id of the running kernel, if known."""
        process = getattr(self.provisioner, "process", None)
        return getattr(process, "pid", None)

    def connection_summary(self) -> dict:
        """Transport, socket prefix and connection file: what the batch records per report."""
        return {
            "transport": self.transport,
            "ip": self.ip,
            "connection_file": self.connection_file,
            "private_dir": self.private_dir,
        }


def cleanup_kernels(under=None) -> int:
    """Kill every kernel this process started that is still running and remove the private
    directories of all of them (connection files, sockets); the number cleaned up.

    ``under`` (paths, optional) limits it to the kernels started in one of those directories or
    below (:attr:`IPCKernelManager.launch_cwd`): on a shared Dask worker the kernels of one batch
    (started in its materialised payload), not another batch's.

    Normally nbclient shuts a kernel down and :meth:`IPCKernelManager.cleanup_resources` removes
    its directory; this is the fallback when a worker is stopped mid-notebook (Ctrl-C, a batch
    that is left by an exception, a worker process terminated)."""
    managers = list(_LIVE)
    if under is not None:
        roots = [os.path.realpath(os.fspath(p)) for p in under]
        managers = [m for m in managers if m.launch_cwd and any(
            os.path.commonpath([os.path.realpath(m.launch_cwd), root]) == root for root in roots)]
    for manager in managers:
        with contextlib.suppress(Exception):
            manager.kill_now()
    return len(managers)


class KernelWatch:
    """Per-job companion of :func:`watched`: what started, and a wall-clock deadline.

    When the deadline passes the kernel process is killed, so nbclient stops waiting with a
    ``DeadKernelError`` and the job fails with ``timed_out`` set.
    """

    def __init__(self, deadline_seconds: float | None):
        self.deadline_seconds = deadline_seconds
        self.connection: dict | None = None
        self.timed_out = False
        self._timer: threading.Timer | None = None
        self._manager: IPCKernelManager | None = None

    def started(self, manager: IPCKernelManager) -> None:
        self._manager = manager
        self.connection = manager.connection_summary()
        if self.deadline_seconds:
            self._timer = threading.Timer(self.deadline_seconds, self._kill)
            self._timer.daemon = True
            self._timer.start()

    def _kill(self) -> None:
        self.timed_out = True
        pid = self._manager.kernel_pid if self._manager is not None else None
        if pid:
            try:
                os.kill(pid, 9)
            except OSError:
                pass

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def watched(watch: KernelWatch) -> type[IPCKernelManager]:
    """An :class:`IPCKernelManager` subclass that reports its start to ``watch``."""
    return type("WatchedIPCKernelManager", (IPCKernelManager,), {"on_start": staticmethod(watch.started)})
