"""The report fingerprint: what a rendered report says it was made from, checked before it is published.

A report notebook states what it made (:func:`of_document`, emitted by
:func:`outcome_analysis.presentation.documents.section` as an output of mimetype :data:`MIMETYPE` that
no reader sees); the export writes it into the HTML head (``<meta name="oa-fingerprint"
content="{json}">``) and, through WeasyPrint's ``custom_metadata``, into the PDF's document
information (key ``/oafingerprint``). The batch computes the fingerprint each job should carry from
the job and the run's inputs (:func:`expected`), reads the one of each rendered file back from its
bytes (:func:`from_html`, :func:`from_pdf`) and fails a report whose fingerprint is missing or
differs (:func:`checked`): its files are never written, the last good version stays.

A fingerprint is a flat dict of :data:`FIELDS`::

    {"unit_kind": "institution", "unit": "Stichting Delta", "period": "2024", "edition": "full",
     "lang": "nl", "data_hash": "<sha256>", "settings_hash": "<sha256>", "reference_hash": None,
     "mapping_hash": None, "actions_hash": None, "version": "0.9.0"}

The hashes of the data, the gemeente mapping and the verbeteracties files are the batch's own
(:mod:`.hashing`); a results store carries them in ``meta["provenance"]`` (:func:`stamp_store`), a
notebook that computes its own figures records them itself (:func:`stamp_computed`). The settings
hash is that of the settings the figures were computed under, the reference hash that of the
published figures the store was compared with (``meta["reference"]``).
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from outcome_analysis import __version__
from .hashing import hash_files, hash_json, hash_path

#: the fields of a fingerprint, in the order a message names them.
FIELDS = ("unit_kind", "unit", "period", "edition", "lang", "data_hash", "settings_hash", "reference_hash",
          "mapping_hash", "actions_hash", "version")
#: the mimetype of the notebook output that carries it (shown by nothing; the export takes it out).
MIMETYPE = "application/vnd.outcome-fingerprint+json"
#: the name of the HTML ``<meta>`` element that carries it.
META_NAME = "oa-fingerprint"
#: its key in the PDF's document information (WeasyPrint keeps only letters and digits of the name).
PDF_KEY = "/oafingerprint"
#: the results store's ``meta`` key with the hashes of the files it was computed from.
PROVENANCE = "provenance"
#: a document -> (unit kind, edition) of the report it makes (a gemeente/jeugdregio report: its story's kind).
DOCUMENT_KINDS = {"institution": ("institution", "full"), "institution_short": ("institution", "short"),
                  "national": ("national", "full"), "municipality": (None, "full")}


def settings_hash(settings: dict | None) -> str | None:
    """The hash of a settings dict (``Settings.to_dict()``), as the batch and the store compute it."""
    return None if settings is None else hash_json(settings)


def reference_hash_of(meta_reference: dict | None) -> str | None:
    """The hash of a store's ``meta["reference"]`` (the published figures and sources, not the file
    name): equal to :func:`.prepare.reference_hash` of the reference it came from."""
    if not meta_reference:
        return None
    return hash_json({k: v for k, v in meta_reference.items() if k != "file"})


def provenance(data_hash: str | None, mapping_hash: str | None = None, actions_hash: str | None = None) -> dict:
    """What a results store records of the files it was computed from (``meta["provenance"]``)."""
    return {"data_hash": data_hash, "mapping_hash": mapping_hash, "actions_hash": actions_hash}


def stamp_store(folder: str | os.PathLike, record: dict) -> bool:
    """Record ``record`` (:func:`provenance`) in the results store ``folder`` (``meta.json``, key
    :data:`PROVENANCE`), atomically, when the store is made (:func:`.prepare.prepare_once`); nothing
    is written when it is there already or ``folder`` holds no store. The store's key covers the same
    files, so the record never changes for a store. Returns whether it wrote."""
    from outcome_analysis import atomic

    path = Path(folder) / "meta.json"
    if not path.is_file():
        return False
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get(PROVENANCE) == record:
        return False
    meta[PROVENANCE] = record
    atomic.write_bytes(path, json.dumps(meta, indent=1, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
    return True


def stamp_computed(results, data_path: str | os.PathLike, actions_files=(), mapping_files: dict | None = None):
    """``results`` (figures a notebook computed itself from ``data_path``) with their provenance in
    ``meta`` as the batch would record it: the data's hash, the verbeteracties files read
    (``actions_files``: paths; none -> ``None``) and the mapping's files (path in the worker's
    directory -> bytes). Returns ``results`` (its ``meta`` is updated in place)."""
    actions = {Path(f).name: Path(f).read_bytes() for f in actions_files or ()}
    results.meta[PROVENANCE] = provenance(hash_path(Path(data_path)),
                                          hash_files(mapping_files) if mapping_files else None,
                                          hash_files(actions) if actions else None)
    return results


def make(*, unit_kind: str, unit: str, period: str, edition: str, lang: str, data_hash: str | None,
         settings_hash: str | None, reference_hash: str | None = None, mapping_hash: str | None = None,
         actions_hash: str | None = None, version: str = __version__) -> dict:
    """A fingerprint (:data:`FIELDS`), plain JSON values."""
    return {"unit_kind": str(unit_kind), "unit": str(unit or ""), "period": str(period or ""), "edition": str(edition),
            "lang": str(lang), "data_hash": data_hash, "settings_hash": settings_hash,
            "reference_hash": reference_hash, "mapping_hash": mapping_hash, "actions_hash": actions_hash,
            "version": str(version)}


def of_document(document: str, ctx) -> dict | None:
    """The fingerprint of the report ``document`` shows for ``ctx`` (a Story, a UnitStory, an
    Overview): the unit and period the context resolved, the edition of the document, its language,
    and the hashes its results record (``None`` for a document that is no report, the methods)."""
    if document not in DOCUMENT_KINDS:
        return None
    kind, edition = DOCUMENT_KINDS[document]
    results = getattr(ctx, "results", None)
    meta = dict(getattr(results, "meta", None) or {})
    record = dict(meta.get(PROVENANCE) or {})
    if kind is None:
        kind = getattr(ctx, "unit_kind", None) or meta.get("unit_kind") or "municipality"
    try:
        in_force = results.settings.to_dict() if results is not None else None
    except Exception:  # noqa: BLE001 - a store without settings: the fingerprint says so (None)
        in_force = None
    return make(unit_kind=kind, unit="" if kind == "national" else (getattr(ctx, "institution", "") or ""),
                period=getattr(ctx, "period", "") or "", edition=edition, lang=getattr(ctx, "lang", "nl") or "nl",
                data_hash=record.get("data_hash"), settings_hash=settings_hash(in_force),
                reference_hash=reference_hash_of(meta.get("reference")), mapping_hash=record.get("mapping_hash"),
                actions_hash=record.get("actions_hash"))


def expected(job, inputs: dict) -> dict:
    """The fingerprint ``job`` must carry, from the job and the run's ``inputs`` (the manifest's
    ``inputs``: data, settings, reference, mapping and actions hashes)."""
    def digest(name):
        value = inputs.get(name)
        return value.get("hash") if isinstance(value, dict) else None

    per_unit = job.kind in ("municipality", "region")
    return make(unit_kind=job.kind, unit=job.institution, period=job.period, edition=job.edition, lang=job.lang,
                data_hash=digest("data"), settings_hash=settings_hash(inputs.get("settings")),
                reference_hash=digest("reference"), mapping_hash=digest("mapping") if per_unit else None,
                actions_hash=None if per_unit else digest("actions"))


def parse(text: str | None) -> dict | None:
    """A fingerprint from its JSON text (``None`` when missing or not a JSON object)."""
    if not text:
        return None
    try:
        value = json.loads(str(text))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def from_html(raw: bytes | str | None) -> dict | None:
    """The fingerprint in an HTML report's head (``<meta name="oa-fingerprint">``), or ``None``."""
    if not raw:
        return None
    from bs4 import BeautifulSoup

    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    head = text.split("</head>", 1)[0]  # the head only: the body of a report is large
    tag = BeautifulSoup(head, "html.parser").find("meta", attrs={"name": META_NAME})
    return parse(tag.get("content")) if tag is not None else None


def from_pdf(raw: bytes | None) -> dict | None:
    """The fingerprint in a PDF report's document information (:data:`PDF_KEY`), or ``None``."""
    if not raw:
        return None
    import io

    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(raw)) as pdf:
            value = pdf.docinfo.get(PDF_KEY)
            return parse(str(value)) if value is not None else None
    except pikepdf.PdfError:
        return None


def differences(found: dict | None, wanted: dict) -> list[str]:
    """What differs between the fingerprint ``found`` in a report and the one ``wanted``, as phrases
    (``"unit is 'A', expected 'B'"``); ``["missing"]`` without one; ``[]`` when they agree.

    >>> differences({"unit": "A", "period": "2024"}, {"unit": "B", "period": "2024"})
    ["unit is 'A', expected 'B'"]
    """
    if found is None:
        return ["missing"]
    if "conflicting" in found:
        return [f"the report holds {len(found['conflicting'])} different fingerprints"]
    return [f"{name} is {found.get(name)!r}, expected {wanted.get(name)!r}"
            for name in [*FIELDS, *sorted(set(wanted) - set(FIELDS))] if name in wanted and found.get(name) != wanted[name]]


READERS = {"html": from_html, "pdf": from_pdf}


def checked(result, wanted: dict, *, required: bool = True):
    """``result`` (a :class:`~.jobs.JobResult`) as it may be published: unchanged when every rendered
    file of a good result carries ``wanted``; otherwise failed, without files, its message naming the
    format and the fields that differ (``fingerprint: unit is 'Jeugdzorg De Wissel', expected
    'Stichting Delta'``). Results already failed pass unchanged. ``required=False`` (a batch without a
    results store, whose notebooks may state none): a report without any fingerprint passes, one with
    a wrong one still fails."""
    from .constants import GOOD_STATUSES

    if result.status not in GOOD_STATUSES:
        return result
    found: dict[str, str] = {}
    stated = False
    for fmt, raw in sorted(result.files.items()):
        reader = READERS.get(fmt)
        if reader is not None:
            value = reader(raw)
            stated = stated or value is not None
            found[fmt] = "; ".join(differences(value, wanted))
    if not required and not stated:
        return result
    if not any(found.values()):
        return result
    if len(set(found.values())) == 1:  # every format the same: said once
        message = "fingerprint: " + next(iter(found.values()))
    else:
        message = "fingerprint: " + " | ".join(f"{fmt}: {text or 'as expected'}" for fmt, text in found.items())
    error = {"ename": "Fingerprint", "evalue": message, "cell": None, "message": message}
    return dataclasses.replace(result, status="failed", files={}, error=error)


def replaced_version(entry: dict | None, wanted: dict) -> dict | None:
    """The version a report replaces: the manifest ``entry`` of the report published at the same path
    before, when its fingerprint differs from ``wanted`` (other data, settings, reference, ...):
    ``{"date": "2026-11-03", "data_hash": ..., "fingerprint": {...}}``. ``None`` when nothing was
    published there, or a version without a fingerprint, or one of the same fingerprint (a forced
    re-run says nothing)."""
    if not entry:
        return None
    old = entry.get("fingerprint")
    if not isinstance(old, dict) or old == wanted or not entry.get("published_on"):
        return None
    return {"date": str(entry["published_on"])[:10], "data_hash": old.get("data_hash"), "fingerprint": old}


def with_replaces(job, replaced: dict | None, notebooks: dict):
    """``job`` with the notebook parameter ``replaces`` (``"<ISO date> <data hash>"``) when it replaces
    a version (``replaced``: :func:`replaced_version`) and its notebook declares the parameter (or
    declares none); otherwise ``job`` unchanged. Its input hash is left as it is: the line is not an
    input of the figures."""
    if replaced is None:
        return job
    declared = (notebooks.get(job.notebook) or {}).get("parameters")
    if declared is not None and "replaces" not in declared:
        return job
    value = f"{replaced['date']} {replaced.get('data_hash') or ''}".strip()
    return dataclasses.replace(job, parameters={**job.parameters, "replaces": value})
