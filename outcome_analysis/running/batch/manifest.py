"""The manifest (``<out>/manifest.json``): what was made from which inputs; resume reads it."""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from outcome_analysis import __version__, atomic
from .constants import MANIFEST_FORMAT, MANIFEST_NAME
from .jobs import Job, JobResult

log = logging.getLogger(__name__)


def record_result(out: Path, manifest: dict, job: Job, result: JobResult) -> None:
    """Write the report's files (atomically) and its manifest entry."""
    files = {}
    for fmt, raw in sorted(result.files.items()):
        rel = f"{job.key}.{fmt}"
        atomic.write_bytes(out / rel, raw)
        files[fmt] = rel
    reports = manifest["reports"]
    for key in [k for k, e in reports.items() if k != job.key and e.get("period") == job.period
                and e.get("kind") == job.kind and e.get("institution") == job.institution]:
        del reports[key]  # the same report under an older file name
    previous = reports.get(job.key, {})
    if result.status != "done":  # keep the last good report's files, if any
        files = previous.get("files", {}) if previous.get("input_hash") == job.input_hash else {}
    reports[job.key] = {
        "institution": job.institution, "kind": job.kind, "period": job.period, "slug": job.slug,
        "status": result.status, "input_hash": job.input_hash if result.status == "done" else previous.get("input_hash"),
        "files": files if result.status == "done" else {},
        "sha256": {fmt: hashlib.sha256(raw).hexdigest() for fmt, raw in sorted(result.files.items())},
        "duration": result.duration,
        "started": iso(result.started), "finished": iso(result.finished),
        "error": result.error, "kernel": result.kernel, "parameters": job.parameters,
        "label": job.label,
    }


def failure(job: Job, result: JobResult) -> dict:
    return {"key": job.key, "institution": job.institution, "period": job.period, "status": result.status,
            "message": (result.error or {}).get("message", result.status)}


def load_manifest(out: Path) -> dict:
    path = out / MANIFEST_NAME
    if path.is_file():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if manifest.get("format") == MANIFEST_FORMAT:
                manifest.setdefault("reports", {})
                return manifest
        except (OSError, ValueError):
            log.warning("unreadable manifest %s: starting afresh", path)
    return {"format": MANIFEST_FORMAT, "created": now(), "package_version": __version__, "runs": [], "reports": {}}


def save_manifest(out: Path, manifest: dict) -> None:
    atomic.write_bytes(out / MANIFEST_NAME, json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def split_resumable(jobs: Sequence[Job], manifest: dict, out: Path, force: bool) -> tuple[list[Job], list[str]]:
    """Jobs to run, and keys of reports whose inputs did not change (their files still there)."""
    if force:
        return list(jobs), []
    todo, skipped = [], []
    for job in jobs:
        entry = manifest["reports"].get(job.key)
        fresh = (
            entry is not None and entry.get("status") == "done" and entry.get("input_hash") == job.input_hash
            and all((out / rel).is_file() for rel in entry.get("files", {}).values())
            and set(entry.get("files", {})) == set(job.formats)
        )
        (skipped.append(job.key) if fresh else todo.append(job))
    return todo, skipped


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat(timespec="seconds")
