"""The batch, step by step (:func:`run_batch`); the steps live in the modules beside this one."""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from outcome_analysis import __version__

#: Seconds between two saves of the manifest while reports come in (and once at the end, also when
#: interrupted): a killed run re-makes at most the reports of the last few seconds when resumed.
MANIFEST_SAVE_SECONDS = 5.0
from outcome_analysis.settings import Settings, for_delivery
from .constants import (DEFAULT_NATIONAL_NOTEBOOK, DEFAULT_NOTEBOOK, DEFAULT_TEMPLATES, DEFAULT_UNIT_NOTEBOOK,
                        GOOD_STATUSES, REPORT_UNITS, RESULTS_DIR, TOP_PACKAGE, UNITS_DIR)
from . import fingerprint
from .errors import BatchConfigError
from .executors import get_executor, start_early, stop_early
from .exporters import FORMATS
from .hashing import hash_files, hash_path, read_tree
from .index import write_index_pages
from .jobs import BatchResult
from .manifest import failure, load_manifest, now, record_result, save_manifest, split_resumable
from .options import check_edition, check_options
from .plan import plan_jobs, read_notebooks, resolve_periods, select_institutions
from .prepare import (build_payload, check_cache_outside, default_load, make_private_dir, prepare_once,
                      prepare_results, read_actions_once, read_reference_once, reference_hash, remove_leftovers,
                      resolve_cache)


def run_batch(
    data_path: str | os.PathLike,
    *,
    periods: Sequence[str] | None = None,
    institutions: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
    lang: str = "nl",
    out: str | os.PathLike = "reports",
    jobs: int | None = None,
    scheduler: str = "local",
    force: bool = False,
    settings: Settings | None = None,
    settings_file: str | os.PathLike | None = None,
    timeout: float | None = None,
    notebook: str | os.PathLike = DEFAULT_NOTEBOOK,
    national_notebook: str | os.PathLike | None = DEFAULT_NATIONAL_NOTEBOOK,
    templates: str | os.PathLike | None = DEFAULT_TEMPLATES,
    load: Callable | None = None,
    prepare: Callable | None = None,
    render: Callable | None = None,
    ship_data: bool | None = None,
    quiet: bool = False,
    cache: str | os.PathLike | None = None,
    figures: bool = False,
    edition: str | Sequence[str] = "full",
    reference: str | os.PathLike | None = None,
    report_for: str = "institution",
    units: Sequence[str] | None = None,
    mapping: str | os.PathLike | None = None,
    unit_notebook: str | os.PathLike = DEFAULT_UNIT_NOTEBOOK,
    actions: str | os.PathLike | None = None,
) -> BatchResult:
    """Make every institution's report (and the national overview) for each period.

    Parameters
    ----------
    data_path : path
        The data set (a folder or file that ``load`` reads).
    periods : list of str, optional
        ``"2024"``, ``"2024H1"``, ...; default the latest complete year at the data's reference date.
    institutions : list of str, optional
        Names or glob patterns (each may be a comma list); default every institution.
    formats : sequence of {"html", "pdf"}
    lang : {"nl", "en"}
    out : path
        Output folder: ``<out>/<period>/<slug>.html|.pdf``, index pages, ``manifest.json``.
    jobs : int, optional
        Parallel notebooks (default ``os.cpu_count()``).
    scheduler : str
        ``"local"`` (process pool), ``"dask-local"`` (a LocalCluster) or a Dask scheduler address.
    force : bool
        Remake reports whose inputs did not change.
    settings, settings_file
        Definition settings (``settings_file`` is read with ``Settings.from_yaml`` when
        ``settings`` is not given; without either, the delivery's own ``settings.yaml`` when it
        has one, else the defaults: :func:`outcome_analysis.settings.for_delivery`) -- recorded in
        the manifest with the file they came from.
    timeout : float, optional
        Seconds per notebook: papermill's per-cell ``execution_timeout`` and a wall-clock limit
        after which the kernel is killed.
    notebook, national_notebook : path
        The report notebook; the national overview (skipped when the file does not exist).
    templates : path
        Templates folder: hashed for resume and shipped to workers.
    load : callable, optional
        ``load(data_path) -> Dataset`` (default ``outcome_analysis.io.load``).
    prepare : callable, optional
        ``prepare(data, settings, granularity, folder, periods)`` writes the results for the whole
        population into ``folder`` (default :func:`prepare_results`); writing nothing means the
        notebooks compute themselves.
    render : callable, optional
        ``render(nb, *, institution, period, title, lang, formats, templates) -> {format: bytes}``
        (default :func:`render_report`); must be a module-level function.
    ship_data : bool, optional
        Send the data files to the workers (default: only when no results were prepared).
    quiet : bool
        No progress bar.
    cache : path, optional
        The results cache folder (aggregates only; made with mode 0700). Default
        ``$XDG_CACHE_HOME/outcome-workbench/<data hash>`` (``~/.cache`` when ``XDG_CACHE_HOME`` is not
        set). Never inside ``out``: that is refused (``BatchConfigError``). A results store an
        earlier version left in ``<out>/.results`` is removed.
    figures : bool
        Also write every published figure of the results, disclosure-safe, as CSV and XLSX with a
        note on the thresholds in force (``<out>/cijfers/<granularity>/``;
        :func:`outcome_analysis.presentation.published.write_figures`).
    edition : {"full", "short", "both"} or sequence of them
        Which editions of each institution's report (default ``"full"``; ``run_reports.py``
        defaults to ``"both"``): ``full`` is ``<out>/<period>/<slug>.html|.pdf``, ``short`` (the
        key figures, notebook parameter ``edition="short"``) is ``<slug>.kort.html|.pdf``. Both come
        from the same stored results; each edition is a report of its own in the manifest (resumed,
        remade and kept on failure on its own). The overview is made with the full edition only.
    reference : path, optional
        A published national reference (``docs/published-reference.md``), read once under the
        run's settings before anything else runs. The raw comparison of every institution's share is
        then against the published figure of the same indicator, care type, period and follow-up
        window (:func:`outcome_analysis.running.comparisons.reference_rows`), the results store keeps
        the figures and their sources (``meta["reference"]``) and the reports call them "landelijk"
        and name the source. Recorded in the manifest (``inputs.reference``).
    report_for : {"institution", "municipality", "region"}
        A report per institution (default, with the national overview), per gemeente or per
        jeugdregio (:mod:`.units`). For gemeenten and jeugdregio's the mapping is read and checked
        first (a problem stops the batch before anything else: ``MappingFileError``), both unit stores
        are computed once per period (``<cache>/<key>/units/municipality|region/``) and coordinated,
        and ``unit_notebook`` makes ``<out>/<period>/gemeente/<GMcode>-<slug>.html|.pdf`` or
        ``<out>/<period>/regio/<slug>.html|.pdf`` per unit (never for "gemeente onbekend"), each
        audited against its own unit store. Records whose gemeente cannot be placed are listed once
        on stderr and counted in "gemeente onbekend"; they do not stop the batch. Full edition only.
    units : list of str, optional
        The gemeenten (codes ``GM0344``, names, labels, glob patterns; comma lists) or jeugdregio's
        to report on (``--municipalities`` / ``--regions``); default every unit with data.
        ``NoMatchingUnitError`` for an item that names none.
    mapping : path, optional
        The gemeente mapping (``docs/gemeente-mapping.md``); default the demo mapping for demo data
        (settings ``demo: true``), otherwise required for gemeente and jeugdregio reports.
    unit_notebook : path
        The gemeente and jeugdregio notebook (default ``notebooks/unit_report.ipynb``).
    actions : path, optional
        The verbeteracties (``docs/data-contract.md``, table ``actions``): a file or a folder of
        ``actions*`` files; default the ``actions*`` files of the delivery folder. Read and checked
        once after the data is loaded and before any report (every problem listed in a
        ``DataValidationError``); the results store then holds their course (its key includes the
        files' bytes) and each institution's full report its section "Verbeteracties". Recorded in the
        manifest (``inputs.actions``). Beside each institution's report (either edition) the batch writes its
        dialogue record, ``<out>/<period>/acties-<slug>-<period>.xlsx`` and ``.csv``
        (:func:`outcome_analysis.contract.actions.dialogue_record`, pre-filled with the indicators the
        conversation page asks about; manifest ``reports[key]["dialogue_record"]``), with or without
        actions.

    Returns
    -------
    BatchResult

    Raises
    ------
    BatchConfigError, NoMatchingInstitutionError
        Before anything runs (also: a ``cache`` inside ``out``). A failing notebook never raises: it is recorded.
    DataValidationError
        A reference file with problems, listing every one (file, row, column, value), before
        anything runs: no report is made.
    KeyboardInterrupt
        After recording what was done (re-run to resume).
    """
    started = now()
    out = Path(out)
    options = check_options(formats, lang, scheduler, jobs)
    editions = check_edition(edition)
    if report_for not in REPORT_UNITS:
        raise BatchConfigError(f"reports are made for one of {', '.join(REPORT_UNITS)}; got {report_for!r}")
    per_unit = report_for != "institution"
    if per_unit:
        if "full" not in editions:
            raise BatchConfigError("gemeente and jeugdregio reports have the full edition only: leave --edition out "
                                   "or give --edition full")
        editions = ("full",)
        if institutions:
            raise BatchConfigError(f"--institutions chooses institutions; with --for {report_for} choose with "
                                   + ("--municipalities" if report_for == "municipality" else "--regions"))
        if figures:
            raise BatchConfigError("--figures writes the institutions' figures: run it with --for institution")
    elif units:
        raise BatchConfigError("--municipalities and --regions need --for municipality or --for region")
    if cache:
        check_cache_outside(cache, out)  # before the data is read: the answer does not depend on it
    if settings is not None:
        settings_source = "given"
    elif settings_file:
        settings, settings_source = Settings.from_yaml(settings_file), "config"
    else:  # the delivery's own settings.yaml (the demo's declares it national), else the defaults
        settings, settings_file = for_delivery(data_path)
        settings_source = "delivery" if settings_file else "default"
    published = read_reference_once(reference, settings)  # a bad file stops the batch here, before any report
    the_mapping = None
    if per_unit:  # a bad mapping stops the batch here, before the data is read and before any report
        from . import units as unit_batch

        the_mapping, mapping_warnings = unit_batch.load_mapping(unit_batch.resolve_mapping_path(mapping, settings,
                                                                                                report_for, data_path))
        for problem in mapping_warnings:
            print(f"mapping: {problem}", file=sys.stderr)
        notebooks = unit_batch.read_unit_notebook(Path(unit_notebook))
    else:
        notebooks = read_notebooks(Path(notebook), Path(national_notebook) if national_notebook else None)
    templates_files = read_tree(Path(templates)) if templates and Path(templates).exists() else {}
    start_early(scheduler, options["jobs"])  # the local pool's workers and kernels start beside the prepare step
    try:
        data_path = Path(data_path)
        data = (load or default_load)(data_path)
        data_hash = hash_path(data_path)
        chosen = not periods
        periods = resolve_periods(periods, data)
        if chosen and not quiet:  # say which period the default picked, and why, before the long part
            print(default_period_note(periods[0], data.reference_date), file=sys.stderr)
        if per_unit:  # an unknown name stops the batch before the long part
            chosen_units = {p: unit_batch.select_units(the_mapping, report_for, p, units) for p in periods}
        else:
            selected = select_institutions(data.institutions, institutions)
        # the verbeteracties: a bad file stops the batch here, before the long part and before any report
        the_actions, actions_hash = read_actions_once(actions, data_path, data.institutions) if not per_unit else (None, None)

        cache_dir = make_private_dir(resolve_cache(cache, data_hash, out))
        _cleanup_temp_files(out)
        remove_leftovers(cache_dir)
        shutil.rmtree(out / RESULTS_DIR, ignore_errors=True)  # a store an earlier version kept in the output folder
        inputs = {
            "data": {"path": str(data_path.resolve()), "hash": data_hash},
            "notebooks": {k: {"path": v["path"], "hash": k} for k, v in notebooks.items()},
            "templates": {"path": str(Path(templates).resolve()) if templates else None, "hash": hash_files(templates_files)},
            "settings": settings.to_dict(),
            "settings_file": str(settings_file) if settings_file else None,
            # where the settings came from: "config" (--config), "delivery" (the delivery folder's
            # settings.yaml), "given" (a Settings object) or "default"
            "settings_source": settings_source,
            # the published national reference (--reference): its file, the hash of its figures, its sources
            "reference": ({"path": str(Path(reference).resolve()), "hash": reference_hash(published),
                           "sources": published.sources(), "figures": len(published)} if published is not None else None),
        }
        if per_unit:
            job_list, payload, audit_store = _plan_units(
                report_for, the_mapping, chosen_units, data, data_hash, data_path, settings, periods, cache_dir, published,
                notebooks, templates_files, render, inputs, options, lang=lang, timeout=timeout)
        else:
            results = prepare_once(data, data_hash, settings, periods, cache_dir, prepare or prepare_results,
                                   reference=published, actions=the_actions, actions_hash=actions_hash)
            inputs["actions"] = ({"path": str(Path(actions).resolve()) if actions else str(data_path.resolve()),
                                  "hash": actions_hash, "n": int(len(the_actions))} if actions_hash else None)
            if figures:  # every published figure, disclosure-safe, for researchers (CSV and XLSX)
                from .exporters import PUBLISHED_DIR, export_batch

                for granularity, digest in results.items():
                    if digest:
                        export_batch(cache_dir / digest, out / PUBLISHED_DIR / granularity, lang=lang)
            shipping = ship_data if ship_data is not None else not all(results.values())
            payload = build_payload(notebooks, results, cache_dir, templates_files, data_path if shipping else None, render,
                                    settings=settings,
                                    reference_path=Path(reference) if published is not None and shipping else None)
            # where the results cache is (outside the output folder); the results are never copied there
            inputs["results"] = {g: ({"hash": h, "path": str(cache_dir / h)} if h else None) for g, h in results.items()}
            job_list = plan_jobs(
                selected, periods, notebooks, results, inputs, options, lang=lang, timeout=timeout,
                data_param=(f"{payload.data_name}" if shipping else str(data_path.resolve())),
                settings=settings, n_institutions=len(data.institutions), settings_shipped=payload.settings is not None,
                editions=editions, reference_param=payload.reference_name or None,
            )
            audit_store = _institution_audit(_stores(cache_dir, results), cache_dir, results)

    except BaseException:  # the batch stops before its reports: the pool started early goes too
        stop_early()
        raise

    manifest = load_manifest(out)
    todo, skipped = split_resumable(job_list, manifest, out, force)
    wanted = {job.key: fingerprint.expected(job, inputs) for job in job_list}  # what each report must say it is
    replaced = {job.key: fingerprint.replaced_version(manifest["reports"].get(job.key), wanted[job.key])
                for job in todo}
    todo = [fingerprint.with_replaces(job, replaced[job.key], notebooks) for job in todo]
    todo = longest_first(todo, audit_store)
    run = {
        "started": started,
        "parameters": {
            "periods": periods, "institutions": list(institutions or []), "formats": list(options["formats"]),
            "lang": lang, "jobs": options["jobs"], "scheduler": scheduler, "force": force, "timeout": timeout,
            "editions": list(editions), "for": report_for,
            **({"units": list(units or [])} if per_unit else {}),
        },
        "inputs": inputs,
        "package_version": __version__,
        "python": sys.version.split()[0],
        "versions": _versions(),
    }
    counts = {"made": 0, "too_little_data": 0, "failed": 0, "skipped": len(skipped)}
    failures: list[dict] = []
    interrupted = False
    dialogue_records: dict = {}  # made once per institution, period and language (both editions share one)
    saved = time.monotonic()
    progress = _progress(len(job_list), quiet, initial=len(skipped))
    try:
        with get_executor(scheduler, options["jobs"], payload) as executor:
            by_key = {job.key: job for job in todo}
            for result in executor.run(todo):
                job = by_key[result.key]
                audit = audit_store(job)
                # never publish a report whose content belongs to another job (without a results store
                # only a fingerprint that is there is checked: fixture notebooks state none)
                result = fingerprint.checked(result, wanted[job.key], required=audit[0] is not None)
                result = _audited(job, result, *audit, settings)  # never publish a report that leaks
                record_result(out, manifest, job, result, fingerprint=wanted[job.key], replaces=replaced.get(job.key))
                if job.kind == "institution" and result.status == "made":  # either edition: the same record
                    _write_dialogue_record(out, manifest, job, audit[0], dialogue_records)
                if result.status in GOOD_STATUSES:
                    counts[result.status] += 1
                else:
                    counts["failed"] += 1
                    failures.append(failure(job, result))
                    if not quiet:  # named as it happens, above the progress bar
                        progress.write(failure_line(failures[-1]), file=sys.stderr)
                progress.set_postfix(made=counts["made"] + counts["too_little_data"], failed=counts["failed"],
                                     skipped=counts["skipped"], refresh=False)
                progress.update(1)
                if time.monotonic() - saved >= MANIFEST_SAVE_SECONDS:  # not after every report: at
                    save_manifest(out, manifest)  # 12,000 reports each save rewrites ~30 MB
                    saved = time.monotonic()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stop_early()  # (a pool started early that no executor took over)
        progress.close()
        run.update(finished=now(), counts=dict(counts), interrupted=interrupted,
                   failures=[{k: f[k] for k in ("key", "message")} for f in failures])
        manifest.setdefault("runs", []).append(run)
        manifest["runs"] = manifest["runs"][-20:]
        manifest["updated"] = run["finished"]
        manifest["package_version"] = __version__
        for key in skipped:
            manifest["reports"][key]["last_checked"] = run["finished"]
        write_index_pages(out, manifest, lang)
        save_manifest(out, manifest)
    if interrupted:
        raise KeyboardInterrupt
    return BatchResult(out=out, counts=counts, failures=failures, manifest=manifest, index=out / "index.html")


def failure_line(item: dict) -> str:
    """One line for a failed or timed-out report as it happens: its name, edition and message.

    >>> failure_line({"institution": "", "period": "2024", "status": "timed_out", "message": "timed out after 5 s"})
    'TIMED OUT 2024 national overview: timed out after 5 s'
    """
    who = item.get("institution") or "national overview"
    edition = " (short edition)" if item.get("edition") == "short" else ""
    word = "TIMED OUT" if item.get("status") == "timed_out" else "FAILED"
    return f"{word} {item.get('period')} {who}{edition}: {item.get('message')}"


def _write_dialogue_record(out: Path, manifest: dict, job, results, made: dict | None = None) -> None:
    """The dialogue record of one institution's report, beside it: ``<period>/acties-<slug>-<period>.xlsx``
    and ``.csv`` (:func:`outcome_analysis.contract.actions.dialogue_record`), pre-filled with the
    indicators the conversation page asks about (:func:`outcome_analysis.running.actions.dialogue_indicators`,
    from the store; none without one), written atomically and recorded in the report's manifest entry
    (``dialogue_record``: format -> path). A failure here is recorded there, never the report's.
    ``made``: the records this run made so far, by institution, period and language (the full and the
    short edition share one record: it is made once)."""
    import hashlib

    from outcome_analysis import atomic
    from outcome_analysis.contract.actions import dialogue_record, record_file_name
    from outcome_analysis.running.actions import dialogue_indicators

    entry = manifest["reports"].get(job.key)
    if entry is None:
        return
    made = {} if made is None else made
    try:
        key = (job.institution, job.period, job.lang)
        if key not in made:
            indicators = dialogue_indicators(results, job.institution, job.period, job.lang) if results is not None else []
            made[key] = (indicators, dialogue_record(job.institution, job.period, indicators, lang=job.lang))
        indicators, files = made[key]
    except Exception as exc:  # noqa: BLE001 - the report stands; the record's failure is noted
        entry["dialogue_record"] = {"error": f"{type(exc).__name__}: {exc}"}
        return
    folder = Path(job.key).parent
    written = {}
    for fmt, raw in sorted(files.items()):
        name = record_file_name(job.institution, job.period, fmt)
        if Path(name).name != name:  # the slug makes a file name, never a path
            raise BatchConfigError(f"dialogue record name {name!r} is not a file name")
        rel = (folder / name).as_posix()
        atomic.write_bytes(out / rel, raw)
        written[fmt] = rel
    entry["dialogue_record"] = {**written, "sha256": {f: hashlib.sha256(r).hexdigest() for f, r in sorted(files.items())},
                                "indicators": list(indicators)}


def longest_first(todo: list, audit_store: Callable) -> list:
    """The jobs in the order the workers should take them: the longest first (the national overview,
    then full editions, then short ones, each by the unit's trajectories in the store, most first),
    so that no worker starts a long report when the others are done (longest-processing-time
    order). Units without trajectories in the store (a too-little page) come last; ties keep the
    planned order."""
    def size(job) -> float:
        results = audit_store(job)[0]
        if results is None or not job.institution:
            return 0.0
        table = getattr(results, "indicators", None)
        if table is None or table.empty or "denominator" not in table.columns:
            return 0.0
        mine = table.loc[(table["institution"] == job.institution) & (table["category"] == "")
                         & (table["period"].astype(str) == str(job.period))]
        return float(mine["denominator"].sum())

    def rank(item):
        index, job = item
        kind = 0 if job.kind == "national" else 1 if job.edition == "full" else 2
        return (kind, -size(job), index)

    return [job for _, job in sorted(enumerate(todo), key=rank)]


def _stores(cache_dir: Path, results: dict) -> dict:
    """The results of each granularity, read once for the leak audit (empty without a store)."""
    from outcome_analysis.running.results import Results, ResultsError

    stores = {}
    for granularity, digest in results.items():
        if digest:
            try:
                stores[granularity] = Results.load(cache_dir / digest)
            except (ResultsError, OSError):
                continue
    return stores


def _institution_audit(stores: dict, cache_dir: Path, digests: dict) -> Callable:
    """``job -> (results store, folder its ledgers are kept beside, ())`` for institution reports and the
    overview: the store of the period's granularity (``(None, None, ())`` without one)."""
    from outcome_analysis.contract.periods import parse_period

    def lookup(job):
        try:
            granularity = parse_period(job.period)[2]
        except ValueError:
            return None, None, ()
        digest = (digests or {}).get(granularity)
        return stores.get(granularity), (cache_dir / digest if digest else None), ()

    return lookup


def _plan_units(kind, mapping, chosen_units, data, data_hash, data_path, settings, periods, cache_dir, published,
                notebooks, templates_files, render, inputs, options, *, lang, timeout):
    """The gemeente or jeugdregio side of :func:`run_batch`: both unit stores once per period
    (:func:`.units.prepare_units`), the records that could not be placed listed once, the jobs
    (every unit with data when none were chosen; never the unknown unit), the payload (the stores of
    both kinds and the mapping) and the audit lookup (each report against its own unit store).
    Records in ``inputs`` the mapping and, per period, the stores."""
    from outcome_analysis.running import units as unit_results
    from outcome_analysis.running.results import Results
    from . import units as unit_batch

    keys = unit_batch.prepare_units(data, data_hash, settings, periods, cache_dir, mapping, reference=published,
                                    reference_hash=reference_hash(published))
    stores = {(p, k): Results.load(unit_batch.store_dir(cache_dir, keys[p], k)) for p in periods
              for k in unit_batch.UNIT_KINDS}
    chosen, codes, unknown = {}, {}, {}
    for period in periods:
        store = stores[(period, kind)]
        facts = store.meta.get("units") or {}
        message = unit_batch.unplaced_message(stores[(period, "municipality")], period)
        if message:  # listed once; those records are counted in "gemeente onbekend"
            print(message, file=sys.stderr)
        with_data = [u for u in store.meta.get("institutions", []) if u != unit_results.UNKNOWN[kind]]
        named = chosen_units.get(period)
        chosen[period] = sorted(with_data if named is None else named, key=str.casefold)
        codes[period] = {**{u["label"]: u["code"] for u in unit_batch.known_units(mapping, kind, period)},
                         **(facts.get("codes") or {})}
        unknown[period] = int(facts.get("n_unknown", 0) or 0)
    files = unit_batch.mapping_files(mapping)
    payload = build_payload(notebooks, {}, cache_dir, templates_files, None, render, files=files)
    payload.results = {f"{keys[p]}/{UNITS_DIR}/{k}": {rel: raw for rel, raw in
                                                      read_tree(unit_batch.store_dir(cache_dir, keys[p], k)).items()
                                                      if not rel.startswith("ledgers/")}
                       for p in periods for k in unit_batch.UNIT_KINDS}
    payload.key = hash_files({"payload": payload.key.encode(), **{f"results/{k}": k.encode() for k in payload.results}})[:16]
    inputs["mapping"] = {"path": str(Path(mapping.file).resolve()), "hash": hash_files(files),
                         "source": mapping.source, "as_of": None if mapping.as_of is None else f"{mapping.as_of:%Y-%m-%d}"}
    inputs["units"] = {p: {"kind": kind, "hash": keys[p], "n_unknown": unknown[p],
                           **{k: str(unit_batch.store_dir(cache_dir, keys[p], k)) for k in unit_batch.UNIT_KINDS}}
                       for p in periods}
    job_list = unit_batch.plan_unit_jobs(
        kind, chosen, codes, notebooks, keys, inputs, options, lang=lang, timeout=timeout,
        data_param=str(data_path.resolve()), mapping_param=next(iter(files)))

    def lookup(job):  # its own unit store; its comparators' shown figures (a gemeente's jeugdregio, a region's gemeenten)
        from outcome_analysis.running.audit import unit_comparators

        own = stores.get((job.period, job.kind))
        other = stores.get((job.period, "region" if job.kind == "municipality" else "municipality"))
        return own, unit_batch.store_dir(cache_dir, keys[job.period], job.kind), unit_comparators(
            own, other, job.institution, job.period)

    return job_list, payload, lookup


def _audited(job, result, results, ledger_store: Path | None, also_shown, settings):
    """The leak audit of :mod:`outcome_analysis.running.audit` on a rendered report before it is
    written, against ``results`` (the store the report was made from; a gemeente or jeugdregio
    report: its own unit store, the unit in the place of the institution): a report whose HTML or
    PDF text shows a figure the disclosure rule hides (a hidden share, its complement or interval, a
    small count in a sentence), or whose ledger of printed numbers records one, or whose text holds a
    percentage no formatting function printed, is recorded as failed and its files are not written
    (the last good version stays). The ledger of a report that passes is kept beside its results
    store (``<ledger_store>/ledgers/<key>.json``), where ``python -m outcome_analysis audit`` finds
    it; the short edition's under its own key (``<period>/<slug>.kort``). Reports of a batch without
    a results store pass. ``also_shown``: the units whose shown figures the report prints beside its
    own (:func:`outcome_analysis.running.audit.unit_comparators`; none for an institution report)."""
    import dataclasses
    import io
    import tempfile

    from outcome_analysis.presentation import ledger
    from outcome_analysis.running import audit

    if result.status not in GOOD_STATUSES or results is None:
        return result
    html = result.files.get("html")
    pdf = result.files.get("pdf")
    pdf_text = None
    if pdf:
        with tempfile.TemporaryDirectory(prefix="oa-audit-") as tmp:
            path = Path(tmp) / "report.pdf"
            path.write_bytes(pdf)
            pdf_text = audit.text_of_pdf(path)
    periods = None if job.institution else audit.overview_periods(job.period)  # an overview: its institutions
    frame = None
    if result.ledger:
        try:
            frame = ledger.load(io.BytesIO(result.ledger))
        except (ValueError, KeyError, TypeError):
            frame = None
    checked = audit.audit_report(audit.text_of_html(html.decode("utf-8")) if html else None, pdf_text, None,
                                 results, job.institution or None, settings, ledger_frame=frame, periods=periods,
                                 also_shown=also_shown)
    if checked.ok:
        if result.ledger and ledger_store is not None:
            from outcome_analysis import atomic

            path = ledger.ledger_path(ledger_store, job.key)
            with contextlib.suppress(OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic.write_bytes(path, result.ledger)
        return result
    error = {"ename": "LeakAudit", "evalue": checked.summary, "cell": None,
             "message": f"leak audit: {checked.summary}"}
    return dataclasses.replace(result, status="failed", files={}, error=error)


def _cleanup_temp_files(out: Path) -> None:
    """Remove temporary files a killed earlier run left behind."""
    if not out.is_dir():
        return
    for path in out.rglob(".*.tmp"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


def _versions() -> dict:
    """The installed versions of the packages that make the reports, from their metadata (importing
    them only to read ``__version__`` cost the client a second)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("papermill", "nbclient", "jupyter_client", "nbconvert", "distributed"):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


def _progress(total: int, quiet: bool, initial: int = 0):
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=initial, disable=quiet, unit="report", desc="reports", dynamic_ncols=True)
    bar.set_postfix(made=0, failed=0, skipped=initial)
    return bar


def ensure_demo_data(path: Path) -> Path:
    """Build the demo data set at ``path`` with ``python -m outcome_analysis.demo`` if it is missing."""
    import subprocess

    if not Path(path).exists():
        subprocess.run([sys.executable, "-m", f"{TOP_PACKAGE}.demo", "--out", str(path)], check=True)
    return Path(path)


def default_period_note(period: str, reference_date) -> str:
    """Why the default period is ``period``: the latest complete year at the reference date.

    >>> default_period_note("2023", "2024-12-29")
    'period 2023: the latest complete year at the reference date 29-12-2024 (the latest date in the data unless given); choose another with --period, e.g. --period 2024'
    """
    import pandas as pd

    ref = pd.Timestamp(reference_date)
    note = (f"period {period}: the latest complete year at the reference date {ref:%d-%m-%Y} "
            "(the latest date in the data unless given); choose another with --period")
    if str(ref.year) != period:
        note += f", e.g. --period {ref.year}"
    return note
