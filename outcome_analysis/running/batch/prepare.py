"""Compute once, ship to every worker: the data loaded, the results prepared, the workers' payload.

The results store (aggregates only) is a cache outside the output folder, which people share:
``$XDG_CACHE_HOME/outcome-workbench/<data hash>/<results key>/`` by default (``~/.cache`` when
``XDG_CACHE_HOME`` is not set), or the folder given as ``--cache``; created with mode 0700, and a
cache inside the output folder is refused (:func:`resolve_cache`).
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from outcome_analysis import __version__
from outcome_analysis.contract.periods import parse_period
from outcome_analysis.settings import Settings
from .constants import CACHE_APP, SETTINGS_NAME
from .errors import BatchConfigError, PrepareError
from . import fingerprint
from .exporters import render_report
from .hashing import hash_files, hash_json, hash_path, read_tree
from .jobs import Payload


def default_load(path: Path):
    from outcome_analysis.contract.io import load

    return load(path)


def prepare_results(data, settings: Settings, granularity: str, folder: Path, periods: Sequence[str] = ()) -> None:
    """The default prepare step: ``results.compute_results(...).save(folder)`` once per batch.

    The indicator tables cover every period; the case-mix models are fitted for ``periods`` (the
    batch's report periods of this granularity).
    """
    from outcome_analysis.running.results import compute_results

    compute_results(data, settings, granularity, periods=list(periods) or None).save(folder)


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/outcome-workbench`` (``~/.cache/outcome-workbench`` when it is not set or not
    an absolute path, as the XDG base directory specification says)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if base and os.path.isabs(base) else Path.home() / ".cache") / CACHE_APP


def default_cache_dir(data_hash: str) -> Path:
    """The results cache of one delivery: ``<cache_root()>/<first 16 hex digits of its hash>``."""
    return cache_root() / data_hash[:16]


def check_cache_outside(cache: str | os.PathLike, out: str | os.PathLike) -> None:
    """``BatchConfigError`` naming both when the results cache is the output folder or inside it."""
    c, o = Path(cache).expanduser().resolve(), Path(out).expanduser().resolve()
    if c == o or o in c.parents:
        raise BatchConfigError(
            f"the results cache {cache} is inside the output folder {out}: the output folder is for sharing "
            "and the cache must stay private; choose a --cache outside it (or leave --cache out for the "
            f"default under {cache_root()})")


def resolve_cache(cache: str | os.PathLike | None, data_hash: str, out: str | os.PathLike) -> Path:
    """The results cache folder of this batch (``cache``, else :func:`default_cache_dir`), checked to
    lie outside ``out``; not created (:func:`make_private_dir`)."""
    folder = Path(cache).expanduser() if cache else default_cache_dir(data_hash)
    check_cache_outside(folder, out)
    return folder


def make_private_dir(path: Path) -> Path:
    """Create ``path`` and the parents that do not exist yet with mode 0700 (whatever the umask);
    folders that already exist are left as they are."""
    path = Path(path)
    missing = []
    here = path
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)
    if not path.is_dir():
        raise BatchConfigError(f"the results cache {path} is not a folder")
    return path


_STORE = re.compile(r"^[0-9a-f]{16}$")  # a results store: <cache>/<key>
_STORE_TMP = re.compile(r"^\.[0-9a-f]{16}\..+\.tmp$")  # one being written: <cache>/.<key>.<pid>-<random>.tmp
_WRITER = re.compile(r"^\.[0-9a-f]{16}\.(\d+)-")  # the process writing it


def store_tmp_prefix(key: str) -> str:
    """The name a store being written starts with: its key and the writing process's id."""
    return f".{key}.{os.getpid()}-"


def remove_leftovers(cache: Path) -> None:
    """Remove the stores half-written by a killed earlier run (only those: the folder may be the
    user's own ``--cache``). A store another running batch is writing into the same cache (its
    process still alive, on this machine) is left alone."""
    if Path(cache).is_dir():
        for entry in Path(cache).iterdir():
            if _STORE_TMP.match(entry.name) and entry.is_dir() and not entry.is_symlink() \
                    and not _writer_alive(entry.name):
                shutil.rmtree(entry, ignore_errors=True)


def _writer_alive(name: str) -> bool:
    """Whether the process that is writing store ``name`` is still running (the name says which)."""
    match = _WRITER.match(name)
    if not match or int(match.group(1)) == os.getpid():
        return False  # an older name, or this very process (then it is a leftover of this process)
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def clean_cache(cache: Path) -> tuple[int, int]:
    """Remove the results stores in the cache folder ``cache`` (the folders this batch writes there,
    and leftovers of interrupted runs), then the folder itself when that leaves it empty.

    Nothing else is touched: a ``--cache`` given by mistake (a home folder) loses no other file.
    Returns ``(stores removed, other entries left)``.
    """
    cache = Path(cache)
    if not cache.is_dir():
        return 0, 0
    removed = left = 0
    for entry in sorted(cache.iterdir()):
        if (_STORE.match(entry.name) or _STORE_TMP.match(entry.name)) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed += not entry.name.startswith(".")
        else:
            left += 1
    if not left:
        with contextlib.suppress(OSError):
            cache.rmdir()
    return removed, left


def read_reference_once(path, settings: Settings):
    """The published national reference of ``--reference`` (:func:`outcome_analysis.indicators.reference.read_reference`
    under the run's settings), or ``None`` without one. Read once, before anything runs: a file that
    does not exist is a :class:`BatchConfigError`, a file with problems the ``DataValidationError``
    that lists every one (file, row, column, value)."""
    if path is None or str(path) == "":
        return None
    from outcome_analysis.indicators.reference import read_reference

    if not Path(path).is_file():
        raise BatchConfigError(f"the reference file {path} does not exist")
    return read_reference(path, settings=settings)


def reference_hash(reference) -> str | None:
    """A hash of a reference's checked figures and sources (``None`` without one): what the results
    store and the reports depend on, not the file's layout."""
    if reference is None:
        return None
    from outcome_analysis.running.comparisons import reference_meta

    return fingerprint.reference_hash_of(reference_meta(reference))


def apply_reference(folder: Path, reference) -> None:
    """Compare the results store in ``folder`` with ``reference``
    (:func:`outcome_analysis.running.comparisons.with_reference`) and write it back."""
    from outcome_analysis.running.comparisons import with_reference
    from outcome_analysis.running.results import Results

    with_reference(Results.load(folder), reference).save(folder)


def read_actions_once(path, data_path, institutions: Sequence[str]):
    """The verbeteracties of the batch (:func:`outcome_analysis.contract.actions.read_actions`): the
    file or folder ``path`` (``--actions``), else the ``actions*`` files of the delivery folder
    ``data_path`` (none when the delivery is one file). Returns ``(actions, hash)``: the actions
    (empty frame and ``None`` without any) and a hash of the bytes of the files read (part of the
    results store's key). Read once, before any report: a ``path`` that does not exist is a
    :class:`BatchConfigError`; any error in the files the ``DataValidationError`` listing every problem
    (file, row, column, value); warnings are printed on stderr."""
    import sys

    from outcome_analysis.contract.actions import action_files, empty_actions, read_actions
    from outcome_analysis.errors import DataValidationError

    if path is not None and str(path) != "":
        if not Path(path).exists():
            raise BatchConfigError(f"the actions file or folder {path} does not exist")
        where = Path(path)
    elif Path(data_path).is_dir():
        where = Path(data_path)
    else:
        return empty_actions(), None
    files = action_files(where) if where.is_dir() else [where]
    if not files:
        return empty_actions(), None
    actions, problems = read_actions(where, institutions=list(institutions))
    errors = [p for p in problems if getattr(p, "severity", "error") == "error"]
    if errors:
        raise DataValidationError(problems)
    for problem in problems:
        print(f"actions: {problem}", file=sys.stderr)
    if actions.empty:
        return actions, None
    return actions, hash_files({f.name: f.read_bytes() for f in files})


def apply_actions(folder: Path, data, actions, settings: Settings, periods: Sequence[str]) -> None:
    """Add the course of the verbeteracties (:func:`outcome_analysis.running.actions.action_course`, with
    the data in memory) to the results store in ``folder`` and write it back."""
    from outcome_analysis.running import actions as action_tables
    from outcome_analysis.running.results import Results

    results = Results.load(folder)
    action_tables.attach(results, action_tables.action_course(data, results, actions, settings, list(periods))).save(folder)


def prepare_once(data, data_hash: str, settings: Settings, periods: Sequence[str], cache: Path,
                 prepare: Callable, reference=None, actions=None, actions_hash: str | None = None) -> dict[str, str | None]:
    """Run ``prepare`` once per granularity, cached in ``<cache>/<hash>/`` (the results cache folder,
    outside the output folder: :func:`resolve_cache`).

    The hash covers the data, the settings, the periods, the prepare step, the published reference
    (``reference``: a :class:`~outcome_analysis.indicators.reference.Reference`, whose figures then
    replace the other institutions as the raw comparison's reference in the store:
    :func:`apply_reference`) and the package's own code and data files (indicator definitions,
    ``indicators.yaml``, texts): results computed by another version of the workbench are never
    reused, ``--force`` or not. With verbeteracties (``actions``, read by :func:`read_actions_once`;
    ``actions_hash`` the hash of their files' bytes, part of the key) the store also holds their
    course (:func:`apply_actions`).

    Returns the results folder name per granularity (``None`` when prepare wrote nothing).
    """
    granularities = sorted({parse_period(p)[2] for p in periods})
    found: dict[str, str | None] = {}
    for granularity in granularities:
        these = sorted(p for p in periods if parse_period(p)[2] == granularity)
        key = hash_json({
            "data": data_hash, "settings": settings.to_dict(), "granularity": granularity, "periods": these,
            "version": __version__, "code": package_hash(), "prepare": _step_name(prepare),
            **({"reference": reference_hash(reference)} if reference is not None else {}),
            **({"actions": actions_hash} if actions_hash else {}),
        })[:16]
        folder = Path(cache) / key
        if not folder.exists():
            tmp = Path(tempfile.mkdtemp(prefix=store_tmp_prefix(key), suffix=".tmp", dir=make_private_dir(Path(cache))))
            try:
                prepare(data, settings, granularity, tmp, these)
                if reference is not None and (tmp / "meta.json").is_file():
                    apply_reference(tmp, reference)
                if actions is not None and len(actions) and (tmp / "meta.json").is_file():
                    apply_actions(tmp, data, actions, settings, these)
                # what it was computed from, for the reports' fingerprint (the key covers the same files)
                fingerprint.stamp_store(tmp, fingerprint.provenance(data_hash, None, actions_hash))
                if any(tmp.iterdir()):
                    os.replace(tmp, folder)
            except Exception as exc:
                raise PrepareError(granularity, exc) from exc
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        found[granularity] = key if folder.exists() else None
    return found


@functools.lru_cache(maxsize=1)
def package_hash() -> str:
    """SHA-256 of every file of the installed package (code, ``indicators.yaml``, instruments, texts)."""
    return hash_path(Path(__file__).resolve().parents[2])


def _step_name(prepare: Callable) -> str:
    """The prepare step's name in the cache key."""
    if prepare is prepare_results:
        return "outcome_analysis.running.batch.prepare_results"
    return f"{getattr(prepare, '__module__', '')}.{getattr(prepare, '__qualname__', prepare)}"


def build_payload(notebooks: dict, results: dict, results_root: Path, templates: dict, data_path: Path | None,
                  render: Callable | None, settings: Settings | None = None,
                  reference_path: Path | None = None, files: dict[str, bytes] | None = None) -> Payload:
    """The bytes the workers need; keyed by their hash and a random part of this run, so a worker
    materialises them once per batch, and two batches of the same inputs at once on one shared Dask
    cluster never share (or remove) each other's folders and kernels.

    The stored results are read from ``results_root`` (the cache) into memory: nothing is copied
    to the output folder, and a worker's copy lives in its temporary directory until it stops.
    With the data shipped, ``settings`` go along as ``settings.yaml`` (:data:`SETTINGS_NAME`): a
    notebook that computes its own figures does so under the run's settings, not the delivery's.
    ``reference_path``: the published reference file, shipped for notebooks that compute their own
    figures (parameter ``reference_path``); a results store already holds the comparison with it.
    """
    stored = {key: read_tree(results_root / key) for key in results.values() if key}
    data = read_tree(data_path) if data_path is not None else None
    data_name = f"data/{data_path.name}" if data_path is not None else "data"
    key = hash_json({
        "nb": sorted(notebooks), "results": sorted(k for k in results.values() if k),
        "templates": hash_files(templates), "data": hash_files(data) if data else None,
        "settings": settings.to_dict() if settings is not None and data else None,
        "reference": hash_files({"r": Path(reference_path).read_bytes()}) if reference_path else None,
        **({"files": hash_files(files)} if files else {}),
    })[:16] + "-" + os.urandom(4).hex()
    settings_yaml = None
    if settings is not None and data is not None:
        import yaml

        settings_yaml = yaml.safe_dump(settings.to_dict(), sort_keys=True, allow_unicode=True).encode("utf-8")
    return Payload(key=key, notebooks={k: v["bytes"] for k, v in notebooks.items()}, results=stored,
                   data=data, data_name=data_name, templates=templates, render=render or render_report,
                   settings=settings_yaml,
                   reference=Path(reference_path).read_bytes() if reference_path else None,
                   reference_name=f"reference/{Path(reference_path).name}" if reference_path else "",
                   files=dict(files or {}))
