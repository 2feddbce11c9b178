"""Compute once, ship to every worker: the data loaded, the results prepared, the workers' payload."""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from outcome_analysis import __version__
from outcome_analysis.contract.periods import parse_period
from outcome_analysis.settings import Settings
from .constants import RESULTS_DIR
from .errors import PrepareError
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


def prepare_once(data, data_hash: str, settings: Settings, periods: Sequence[str], out: Path,
                 prepare: Callable) -> dict[str, str | None]:
    """Run ``prepare`` once per granularity, cached in ``<out>/.results/<hash>/``.

    The hash covers the data, the settings, the periods, the prepare step and the package's own
    code and data files (indicator definitions, ``indicators.yaml``, texts): results computed by
    another version of the workbench are never reused, ``--force`` or not.

    Returns the results folder name per granularity (``None`` when prepare wrote nothing).
    """
    granularities = sorted({parse_period(p)[2] for p in periods})
    found: dict[str, str | None] = {}
    for granularity in granularities:
        these = sorted(p for p in periods if parse_period(p)[2] == granularity)
        key = hash_json({
            "data": data_hash, "settings": settings.to_dict(), "granularity": granularity, "periods": these,
            "version": __version__, "code": package_hash(), "prepare": _step_name(prepare),
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
                  render: Callable | None) -> Payload:
    """The bytes the workers need; keyed by their hash so a worker materialises them once."""
    stored = {key: read_tree(results_root / key) for key in results.values() if key}
    data = read_tree(data_path) if data_path is not None else None
    data_name = f"data/{data_path.name}" if data_path is not None else "data"
    key = hash_json({
        "nb": sorted(notebooks), "results": sorted(k for k in results.values() if k),
        "templates": hash_files(templates), "data": hash_files(data) if data else None,
    })[:16]
    return Payload(key=key, notebooks={k: v["bytes"] for k, v in notebooks.items()}, results=stored,
                   data=data, data_name=data_name, templates=templates, render=render or render_report)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
