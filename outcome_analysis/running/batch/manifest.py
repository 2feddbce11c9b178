"""The manifest (``<out>/manifest.json``): what was made from which inputs; resume reads it."""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from outcome_analysis import __version__, atomic
from .constants import GOOD_STATUSES, MANIFEST_FORMAT, MANIFEST_NAME, OLD_STATUSES
from .jobs import Job, JobResult

log = logging.getLogger(__name__)


def record_result(out: Path, manifest: dict, job: Job, result: JobResult, *, fingerprint: dict | None = None,
                  replaces: dict | None = None) -> None:
    """Write the report's files (atomically) and its manifest entry (``reports[job.key]``).

    A report that failed or timed out keeps the files of its last good version when its inputs did
    not change; the entries of the other edition of the same institution are never touched.

    ``fingerprint``: what the published report was checked to carry
    (:mod:`.fingerprint`), kept with the day it was published (``fingerprint``, ``published_on``);
    ``replaces``: the version it replaces (``date``, ``data_hash``, ``fingerprint``:
    :func:`.fingerprint.replaced_version`). A failed report keeps those of the version still
    published at its path."""
    files = {}
    for fmt, raw in sorted(result.files.items()):
        rel = f"{job.key}.{fmt}"
        atomic.write_bytes(out / rel, raw)
        files[fmt] = rel
    reports = manifest["reports"]
    for key in [k for k, e in reports.items() if k != job.key and e.get("period") == job.period
                and e.get("kind") == job.kind and e.get("institution") == job.institution
                and e.get("edition", "full") == job.edition]:
        del reports[key]  # the same report under an older file name
    previous = reports.get(job.key, {})
    good = result.status in GOOD_STATUSES
    if not good:  # keep the last good report's files, if any
        files = previous.get("files", {}) if previous.get("input_hash") == job.input_hash else {}
    reports[job.key] = {
        "institution": job.institution, "kind": job.kind, "period": job.period, "slug": job.slug,
        "edition": job.edition,
        "status": result.status, "input_hash": job.input_hash if good else previous.get("input_hash"),
        "files": files if good else {},
        "sha256": {fmt: hashlib.sha256(raw).hexdigest() for fmt, raw in sorted(result.files.items())},
        "duration": result.duration,
        "started": iso(result.started), "finished": iso(result.finished),
        "error": result.error, "kernel": result.kernel, "parameters": job.parameters,
        "label": job.label,
    }
    kept = ("fingerprint", "published_on", "replaces")
    if good and fingerprint is not None:
        reports[job.key].update(fingerprint=fingerprint, published_on=iso(result.finished)[:10])
        if replaces is not None:
            reports[job.key]["replaces"] = replaces
    elif not good:  # the version on disk is still the last good one
        reports[job.key].update({k: previous[k] for k in kept if k in previous})


def failure(job: Job, result: JobResult) -> dict:
    return {"key": job.key, "institution": job.institution, "period": job.period, "status": result.status,
            "edition": job.edition, "message": (result.error or {}).get("message", result.status)}


def load_manifest(out: Path) -> dict:
    """The manifest of ``out`` (a fresh one when there is none or it is unreadable). Entries written
    by earlier versions are read in today's terms: status ``done`` is ``made``, ``timeout`` is
    ``timed_out``, and an entry without an edition is the full edition."""
    path = out / MANIFEST_NAME
    if path.is_file():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if manifest.get("format") == MANIFEST_FORMAT:
                manifest.setdefault("reports", {})
                for entry in manifest["reports"].values():
                    entry["status"] = normalise_status(entry.get("status"))
                    entry.setdefault("edition", "full")
                return manifest
        except (OSError, ValueError):
            log.warning("unreadable manifest %s: starting afresh", path)
    return {"format": MANIFEST_FORMAT, "created": now(), "package_version": __version__, "runs": [], "reports": {}}


def normalise_status(status: str | None) -> str | None:
    """A status in today's names (:data:`.constants.STATUSES`); earlier names are mapped.

    >>> normalise_status("done"), normalise_status("timeout"), normalise_status("too_little_data")
    ('made', 'timed_out', 'too_little_data')
    """
    return OLD_STATUSES.get(status, status)


def save_manifest(out: Path, manifest: dict) -> None:
    atomic.write_bytes(out / MANIFEST_NAME, json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def split_resumable(jobs: Sequence[Job], manifest: dict, out: Path, force: bool) -> tuple[list[Job], list[str]]:
    """Jobs to run, and keys of reports whose inputs did not change (their files still there).

    Each edition is a job of its own (key ``<period>/<slug>`` or ``<period>/<slug>.kort``), so
    each is skipped or remade on its own; a report ``made`` or ``too_little_data`` counts as good."""
    if force:
        return list(jobs), []
    todo, skipped = [], []
    for job in jobs:
        entry = manifest["reports"].get(job.key)
        fresh = (
            entry is not None and normalise_status(entry.get("status")) in GOOD_STATUSES and entry.get("input_hash") == job.input_hash
            and all((out / rel).is_file() for rel in entry.get("files", {}).values())
            and set(entry.get("files", {})) == set(job.formats)
        )
        (skipped.append(job.key) if fresh else todo.append(job))
    return todo, skipped


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat(timespec="seconds")
