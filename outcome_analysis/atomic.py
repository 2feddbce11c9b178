"""Atomic file writes: the one way this package puts a file in place.

Every writer (deliveries, results store, reports, index pages, manifest, exports) writes into a
temporary file in the target's folder, flushes it to disk and renames it over the target with
``os.replace``. A reader never sees half a file, and a failure never destroys the previous good file:
the temporary file is removed and the error goes on. Temporary files are named ``.<name>.<random>.tmp``
so that a batch can clean up what a killed run left behind.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: mode of a new file: what ``open()`` would give (0o644 under the usual umask 022)
NEW_FILE_MODE = 0o666 & ~_umask()


def write_with(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Put a file at ``path`` atomically; ``write(tmp)`` writes the content to the temporary path.

    The file keeps the mode of the file it replaces (a new one gets :data:`NEW_FILE_MODE`); the
    content and the rename are flushed to disk where the platform allows. Returns ``path``.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> write_with(target, lambda tmp: tmp.write_text("hallo")).read_text()
    'hallo'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def write_bytes(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically (see :func:`write_with`)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return write_with(path, lambda tmp: tmp.write_bytes(data))


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; not possible on every platform."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
