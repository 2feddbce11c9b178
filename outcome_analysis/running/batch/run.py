"""The batch, step by step (:func:`run_batch`); the steps live in the modules beside this one."""
from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from outcome_analysis import __version__
from outcome_analysis.settings import Settings, for_delivery
from .constants import (DEFAULT_NATIONAL_NOTEBOOK, DEFAULT_NOTEBOOK, DEFAULT_TEMPLATES, GOOD_STATUSES, RESULTS_DIR,
                        TOP_PACKAGE)
from .executors import get_executor
from .exporters import FORMATS
from .hashing import hash_files, hash_path, read_tree
from .index import write_index_pages
from .jobs import BatchResult
from .manifest import failure, load_manifest, now, record_result, save_manifest, split_resumable
from .options import check_edition, check_options
from .plan import plan_jobs, read_notebooks, resolve_periods, select_institutions
from .prepare import (build_payload, check_cache_outside, default_load, make_private_dir, prepare_once,
                      prepare_results, read_reference_once, reference_hash, remove_leftovers, resolve_cache)


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
    notebooks = read_notebooks(Path(notebook), Path(national_notebook) if national_notebook else None)
    templates_files = read_tree(Path(templates)) if templates and Path(templates).exists() else {}

    data_path = Path(data_path)
    data = (load or default_load)(data_path)
    data_hash = hash_path(data_path)
    chosen = not periods
    periods = resolve_periods(periods, data)
    if chosen and not quiet:  # say which period the default picked, and why, before the long part
        print(default_period_note(periods[0], data.reference_date), file=sys.stderr)
    selected = select_institutions(data.institutions, institutions)

    cache_dir = make_private_dir(resolve_cache(cache, data_hash, out))
    _cleanup_temp_files(out)
    remove_leftovers(cache_dir)
    shutil.rmtree(out / RESULTS_DIR, ignore_errors=True)  # a store an earlier version kept in the output folder
    results = prepare_once(data, data_hash, settings, periods, cache_dir, prepare or prepare_results,
                           reference=published)
    if figures:  # every published figure, disclosure-safe, for researchers (CSV and XLSX)
        from .exporters import PUBLISHED_DIR, export_batch

        for granularity, digest in results.items():
            if digest:
                export_batch(cache_dir / digest, out / PUBLISHED_DIR / granularity, lang=lang)
    shipping = ship_data if ship_data is not None else not all(results.values())
    payload = build_payload(notebooks, results, cache_dir, templates_files, data_path if shipping else None, render,
                            settings=settings, reference_path=Path(reference) if published is not None and shipping else None)
    inputs = {
        "data": {"path": str(data_path.resolve()), "hash": data_hash},
        "notebooks": {k: {"path": v["path"], "hash": k} for k, v in notebooks.items()},
        "templates": {"path": str(Path(templates).resolve()) if templates else None, "hash": hash_files(templates_files)},
        # where the results cache is (outside the output folder); the results are never copied there
        "results": {g: ({"hash": h, "path": str(cache_dir / h)} if h else None) for g, h in results.items()},
        "settings": settings.to_dict(),
        "settings_file": str(settings_file) if settings_file else None,
        # where the settings came from: "config" (--config), "delivery" (the delivery folder's
        # settings.yaml), "given" (a Settings object) or "default"
        "settings_source": settings_source,
        # the published national reference (--reference): its file, the hash of its figures, its sources
        "reference": ({"path": str(Path(reference).resolve()), "hash": reference_hash(published),
                       "sources": published.sources(), "figures": len(published)} if published is not None else None),
    }
    job_list = plan_jobs(
        selected, periods, notebooks, results, inputs, options, lang=lang, timeout=timeout,
        data_param=(f"{payload.data_name}" if shipping else str(data_path.resolve())),
        settings=settings, n_institutions=len(data.institutions), settings_shipped=payload.settings is not None,
        editions=editions, reference_param=payload.reference_name or None,
    )

    manifest = load_manifest(out)
    todo, skipped = split_resumable(job_list, manifest, out, force)
    stores = _stores(cache_dir, results)
    run = {
        "started": started,
        "parameters": {
            "periods": periods, "institutions": list(institutions or []), "formats": list(options["formats"]),
            "lang": lang, "jobs": options["jobs"], "scheduler": scheduler, "force": force, "timeout": timeout,
            "editions": list(editions),
        },
        "inputs": inputs,
        "package_version": __version__,
        "python": sys.version.split()[0],
        "versions": _versions(),
    }
    counts = {"made": 0, "too_little_data": 0, "failed": 0, "skipped": len(skipped)}
    failures: list[dict] = []
    interrupted = False
    progress = _progress(len(job_list), quiet, initial=len(skipped))
    try:
        with get_executor(scheduler, options["jobs"], payload) as executor:
            by_key = {job.key: job for job in todo}
            for result in executor.run(todo):
                job = by_key[result.key]
                result = _audited(job, result, stores, settings, cache_dir, results)  # never publish a report that leaks
                record_result(out, manifest, job, result)
                if result.status in GOOD_STATUSES:
                    counts[result.status] += 1
                else:
                    counts["failed"] += 1
                    failures.append(failure(job, result))
                progress.set_postfix(made=counts["made"] + counts["too_little_data"], failed=counts["failed"],
                                     skipped=counts["skipped"], refresh=False)
                progress.update(1)
                save_manifest(out, manifest)
    except KeyboardInterrupt:
        interrupted = True
    finally:
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


def _audited(job, result, stores: dict, settings, cache_dir: Path | None = None, digests: dict | None = None):
    """The leak audit of :mod:`outcome_analysis.running.audit` on a rendered report before it is
    written: a report whose HTML or PDF text shows a figure the disclosure rule hides (a hidden share,
    its complement or interval, a small count in a sentence), or whose ledger of printed numbers
    records one, or whose text holds a percentage no formatting function printed, is recorded as
    failed and its files are not written (the last good version stays). The ledger of a report that
    passes is kept beside its results store (``<cache>/<digest>/ledgers/<period>/<slug>.json``), where
    ``python -m outcome_analysis audit`` finds it; the short edition's under its own key
    (``<period>/<slug>.kort``). Reports of a batch without a results store pass."""
    import dataclasses
    import io
    import tempfile

    from outcome_analysis.contract.periods import parse_period
    from outcome_analysis.presentation import ledger
    from outcome_analysis.running import audit

    if result.status not in GOOD_STATUSES or not stores:
        return result
    try:
        granularity = parse_period(job.period)[2]
    except ValueError:
        return result
    results = stores.get(granularity)
    if results is None:
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
                                 results, job.institution or None, settings, ledger_frame=frame, periods=periods)
    if checked.ok:
        if result.ledger and cache_dir is not None and (digests or {}).get(granularity):
            from outcome_analysis import atomic

            path = ledger.ledger_path(cache_dir / digests[granularity], job.key)
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
    out = {}
    for name in ("papermill", "nbclient", "jupyter_client", "nbconvert", "distributed"):
        with contextlib.suppress(Exception):
            out[name] = importlib.import_module(name).__version__
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
