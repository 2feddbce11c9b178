"""Reports per gemeente and per jeugdregio (``run_reports.py --for municipality|region``): the mapping
read once, the units chosen, both unit stores computed once per period, one job per unit.

The steps :func:`~outcome_analysis.running.batch.run.run_batch` takes for ``report_for="municipality"``
or ``"region"``::

    mapping   = load_mapping(resolve_mapping_path(...))      # checked before anything else: exit 2
    chosen    = select_units(mapping, kind, period, names)    # --municipalities / --regions, per period
    stores    = prepare_units(...)                            # <cache>/<key>/units/municipality|region/
    problems  = unplaced_problems(store)                      # listed once; counted in "gemeente onbekend"
    jobs      = plan_unit_jobs(...)                           # never for units.UNKNOWN

Both stores (gemeenten and jeugdregio's) are computed whichever kind is reported, because a gemeente
report sets its gemeente beside its jeugdregio and :func:`outcome_analysis.running.units.coordinate`
settles the disclosure of a jeugdregio of one gemeente between the two. The store key covers the
data, the settings, the period, the mapping's bytes (both files), the published reference and the
package's code: a changed mapping or delivery gives new stores.
"""
from __future__ import annotations

import difflib
import fnmatch
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from outcome_analysis import __version__
from outcome_analysis.contract.periods import parse_period
from outcome_analysis.presentation.report import slugify
from outcome_analysis.settings import Settings
from .constants import UNIT_FOLDER, UNITS_DIR
from .errors import BatchConfigError, MappingFileError, MissingParameterError, NoMatchingUnitError, PrepareError
from .hashing import hash_files, hash_json
from .jobs import Job
from .plan import pattern_items

#: the kinds of unit report, as ``--for`` names them.
UNIT_KINDS = tuple(UNIT_FOLDER)
#: the parameters the unit notebook must declare (the contract's; the rest are passed when declared).
REQUIRED_PARAMETERS = ("results_path", "unit_kind", "unit", "period")
#: the folder of the shipped mapping in a worker's directory (notebook parameter ``mapping_path``).
MAPPING_DIR = "mapping"


def check_kind(kind: str) -> str:
    """``kind`` when it is ``"municipality"`` or ``"region"``; ``BatchConfigError`` otherwise."""
    if kind not in UNIT_KINDS:
        raise BatchConfigError(f"unit reports are for one of {', '.join(UNIT_KINDS)}; got {kind!r}")
    return kind


def resolve_mapping_path(mapping: str | os.PathLike | None, settings: Settings, kind: str,
                         data: str | os.PathLike | None = None) -> Path:
    """The mapping file to read: ``mapping``; without it the mapping delivered beside the data
    (``<data>/gemeenten.csv``, :data:`~outcome_analysis.contract.mapping.BESIDE_DATA`; the demo writes
    one), else the shipped demo mapping for demo data (settings ``demo: true``); otherwise
    :class:`MappingFileError` saying that ``--mapping FILE`` is needed."""
    from outcome_analysis.contract.mapping import BESIDE_DATA, DEMO_MAPPING

    if mapping is not None and str(mapping) != "":
        return Path(mapping).expanduser()
    if data is not None and Path(data).is_dir() and (Path(data) / BESIDE_DATA).is_file():
        return Path(data) / BESIDE_DATA
    if getattr(settings, "demo", False):
        return DEMO_MAPPING
    raise MappingFileError(
        f"--for {kind} needs the gemeente mapping: give --mapping FILE (gemeente code, name, jeugdregio and "
        f"validity dates; docs/gemeente-mapping.md) or put it beside the data as {BESIDE_DATA}")


def load_mapping(path: Path):
    """The mapping of ``path`` (:func:`outcome_analysis.contract.mapping.check_mapping`), read once.

    Returns ``(mapping, warnings)``. Raises :class:`MappingFileError` listing every problem (file,
    row, column, value) when the file does not exist or has errors: no report is made."""
    from outcome_analysis.contract.mapping import check_mapping

    path = Path(path)
    if not path.is_file():
        raise MappingFileError(f"the mapping file {path} does not exist; no report was made")
    mapping, problems = check_mapping(path)
    errors = [p for p in problems if p.severity == "error"]
    if errors or mapping is None:
        errors = errors or problems
        raise MappingFileError(f"the gemeente mapping {path} has {len(errors)} problem(s); no report was made:", errors)
    return mapping, [p for p in problems if p.severity != "error"]


def mapping_files(mapping) -> dict[str, bytes]:
    """The mapping's files (the gemeenten file first, its reorganisations file when there is one) by
    their path in a worker's directory: ``mapping/<name>``."""
    return {f"{MAPPING_DIR}/{Path(f).name}": Path(f).read_bytes() for f in mapping.files}


def known_units(mapping, kind: str, period: str) -> list[dict]:
    """The units of the mapping in force on the last day of ``period``: ``label`` (as the stores and
    reports name them: ``"Utrecht (GM0344)"``, a jeugdregio by its name), ``code`` (``GM0344``; a
    jeugdregio's code, else its name) and ``name``; sorted by label."""
    g = mapping.in_force_for_period(period)
    if kind == "municipality":
        rows = [{"label": f"{n} ({c})", "code": str(c), "name": str(n)} for c, n in zip(g["municipality"], g["name"])]
    else:
        rows = []
        for region, group in g.groupby("region", sort=True):
            code = group["region_code"].dropna()
            rows.append({"label": str(region), "code": str(code.iloc[0]) if len(code) else str(region),
                         "name": str(region)})
    return sorted(rows, key=lambda r: r["label"].casefold())


def _matches(unit: dict, pattern: str) -> bool:
    p = pattern.casefold()
    return any(fnmatch.fnmatchcase(unit[k].casefold(), p) for k in ("label", "code", "name"))


def select_units(mapping, kind: str, period: str, patterns: Sequence[str] | None) -> list[str] | None:
    """The unit labels that ``patterns`` name (``--municipalities`` / ``--regions``), or ``None`` for
    all (the batch then takes every unit with data in the store).

    Each item is a code (``GM0344``, a jeugdregio's code), a name (``Utrecht``), a label
    (``"Utrecht (GM0344)"``) or a glob pattern on any of them (``'GM03*'``, ``'Zuid*'``), compared
    without regard to case; an argument may be a comma list, unless it is a name whole (names may
    hold commas). An item that names no unit of the mapping in force on the last day of ``period``
    is a :class:`NoMatchingUnitError` with the closest names.

    >>> from outcome_analysis.contract.mapping import DEMO_MAPPING, read_mapping
    >>> select_units(read_mapping(DEMO_MAPPING), "municipality", "2024", ["GM0344,amsterdam"])
    ['Amsterdam (GM0363)', 'Utrecht (GM0344)']
    """
    if not patterns:
        return None
    known = known_units(mapping, check_kind(kind), period)
    chosen: set[str] = set()
    for arg in patterns:
        whole = any(str(arg).casefold() in (u["label"].casefold(), u["name"].casefold()) for u in known)
        for item in pattern_items(arg, whole):
            hits = [u["label"] for u in known if _matches(u, item)]
            if not hits:
                words = [u["label"] for u in known] + [u["name"] for u in known]
                close = difflib.get_close_matches(item.casefold(), [w.casefold() for w in words], n=3, cutoff=0.6)
                suggestions = list(dict.fromkeys(next(w for w in words if w.casefold() == c) for c in close))
                where = f"the mapping {mapping.file.name} in force on {parse_period(period)[1]:%d-%m-%Y}"
                raise NoMatchingUnitError(kind, item, [u["label"] for u in known], where, suggestions)
            chosen.update(hits)
    return [u["label"] for u in known if u["label"] in chosen]


def unit_stem(kind: str, label: str, code: str | None) -> str:
    """The file stem of a unit's report: a gemeente ``<GMcode>-<slug of its name>`` (the code makes
    it unique), a jeugdregio :func:`~outcome_analysis.presentation.report.slugify` of its name (with
    the name's hash). Never the raw name.

    >>> unit_stem("municipality", "'s-Gravenhage (GM0518)", "GM0518")
    'GM0518-s-gravenhage'
    >>> unit_stem("region", "Amsterdam-Amstelland", "R01")[:21]
    'amsterdam-amstelland-'
    """
    if kind == "municipality":
        code = str(code or "")
        name = label[: -len(f" ({code})")] if code and label.endswith(f" ({code})") else label
        if not code or not code.replace("GM", "").isdigit():
            return slugify(label)
        return f"{code}-{slugify(name, hashed=False, fallback='gemeente')}"
    return slugify(label, fallback="regio")


def store_key(data_hash: str, settings: Settings, period: str, mapping_hash: str, reference_hash: str | None) -> str:
    """The results key of the unit stores of one period (16 hex digits): data, settings, period,
    mapping, published reference, package version and code."""
    from .prepare import package_hash

    return hash_json({
        "data": data_hash, "settings": settings.to_dict(), "period": period, "granularity": parse_period(period)[2],
        "units": list(UNIT_KINDS), "mapping": mapping_hash, "version": __version__, "code": package_hash(),
        "prepare": "outcome_analysis.running.units.compute_unit_results",
        **({"reference": reference_hash} if reference_hash else {}),
    })[:16]


def store_dir(cache: Path, key: str, kind: str) -> Path:
    """``<cache>/<key>/units/<kind>/``: where a unit store lies."""
    return Path(cache) / key / UNITS_DIR / kind


def compute_stores(data, mapping, settings: Settings, period: str, reference=None, institution_results=None):
    """Both unit stores of ``period``: :func:`~outcome_analysis.running.units.compute_unit_results` for
    gemeenten and jeugdregio's, :func:`~outcome_analysis.running.units.coordinate` between them and,
    with a published ``reference``, the comparison with it. Returns ``{kind: Results}``.

    Each store also holds its providers' figures for each unit's youths and their national verdicts
    (``providers``, ``provider_verdicts``: :mod:`outcome_analysis.running.unit_providers`). The
    verdicts come from ``institution_results`` (the institution results of the same delivery,
    settings and period, e.g. the batch's cached institution store: :func:`cached_institution_results`);
    without it they are computed here once (:func:`~outcome_analysis.running.results.compute_results`)."""
    from outcome_analysis.running import unit_providers, units
    from outcome_analysis.running.comparisons import with_reference

    granularity = parse_period(period)[2]
    stores = {kind: units.compute_unit_results(data, mapping, kind, settings, period=period, granularity=granularity,
                                               periods=[period]) for kind in UNIT_KINDS}
    units.coordinate(stores["municipality"], stores["region"], mapping, settings)
    if reference is not None:
        for kind, results in stores.items():
            results = with_reference(results, reference)
            if "unit_kind" in results.comparisons.columns:
                results.comparisons = results.comparisons.assign(unit_kind=kind)
            stores[kind] = results
    pairs = unit_providers.compute_unit_pairs(data, mapping, settings, period=period, granularity=granularity)
    if institution_results is None:
        from outcome_analysis.running.results import compute_results

        institution_results = compute_results(data, settings, granularity, [period])
    for kind, results in stores.items():
        providers = sorted({p for names in ((results.meta.get("units") or {}).get("providers") or {}).values()
                            for p in names})
        results.providers = pairs[kind]
        results.provider_verdicts = unit_providers.provider_verdicts(institution_results, providers, period)
    return stores


def cached_institution_results(cache: Path, data_hash: str, settings: Settings, period: str, periods: Sequence[str],
                               reference=None):
    """The institution results store an institution batch of the same data, settings and reference
    left in ``cache`` for ``period`` (its key as :func:`~outcome_analysis.running.batch.prepare.prepare_once`
    makes it, for ``[period]`` or for the ``periods`` of its granularity), loaded; ``None`` when there
    is none (or it cannot be read)."""
    from outcome_analysis.running.results import Results
    from .prepare import _step_name, package_hash, prepare_results, reference_hash

    granularity = parse_period(period)[2]
    same = sorted(p for p in periods if parse_period(p)[2] == granularity)
    for these in ([str(period)], same):
        key = hash_json({
            "data": data_hash, "settings": settings.to_dict(), "granularity": granularity, "periods": these,
            "version": __version__, "code": package_hash(), "prepare": _step_name(prepare_results),
            **({"reference": reference_hash(reference)} if reference is not None else {}),
        })[:16]
        folder = Path(cache) / key
        if (folder / "meta.json").is_file():
            try:
                return Results.load(folder)
            except Exception:  # a half or older store: compute the verdicts instead
                return None
    return None


def prepare_units(data, data_hash: str, settings: Settings, periods: Sequence[str], cache: Path, mapping,
                  reference=None, reference_hash: str | None = None) -> dict[str, str]:
    """Compute both unit stores once per period, cached under ``<cache>/<key>/units/<kind>/``
    (:func:`store_key`); a store already there is reused. Returns ``{period: key}``.

    Raises :class:`PrepareError` naming the period when computing fails (nothing is left behind)."""
    from . import fingerprint
    from .prepare import make_private_dir, store_tmp_prefix

    mapping_hash = hash_files(mapping_files(mapping))
    keys: dict[str, str] = {}
    for period in periods:
        key = store_key(data_hash, settings, period, mapping_hash, reference_hash)
        folder = Path(cache) / key
        if not all((store_dir(cache, key, kind) / "meta.json").is_file() for kind in UNIT_KINDS):
            tmp = Path(tempfile.mkdtemp(prefix=store_tmp_prefix(key), suffix=".tmp", dir=make_private_dir(Path(cache))))
            try:
                institution = cached_institution_results(cache, data_hash, settings, period, periods, reference)
                for kind, results in compute_stores(data, mapping, settings, period, reference, institution).items():
                    # what it was computed from, for the reports' fingerprint
                    results.meta[fingerprint.PROVENANCE] = fingerprint.provenance(data_hash, mapping_hash, None)
                    results.save(tmp / UNITS_DIR / kind)
                shutil.rmtree(folder, ignore_errors=True)  # a half store of an earlier version
                os.replace(tmp, folder)
            except Exception as exc:
                raise PrepareError(f"gemeenten and jeugdregio's, {period}", exc) from exc
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        keys[period] = key
    return keys


def unplaced_message(results, period: str) -> str | None:
    """The problems of the records whose gemeente code could not be placed (split code without a new
    code, a code not in the mapping), once, as lines for the terminal; ``None`` when there are none.
    Those records are counted in "gemeente onbekend" and do not stop the batch.

    One line per file, value and problem (a code is often on many records), naming the file, the
    rows (as a spreadsheet shows them; the first ten, then ``...``), the column, the value, the
    number of records and their first trajectory ids, and what was expected::

        trajectories.csv, row 14, column 'municipality': value 'GM9999' (1 record(s), trajectory_id T13): ...
    """
    from outcome_analysis.contract.readers import rows_listed
    from outcome_analysis.running import units

    problems = units.unit_problems(results)
    if not problems:
        return None
    facts = results.meta.get("units") or {}
    groups: dict[tuple, list] = {}  # one line per file, column, value and problem: a code is often on many records
    for p in problems:
        groups.setdefault((p.file, p.column, p.value, p.expected), []).append(p)
    shown = []
    for (file, column, value, expected), same in list(groups.items())[:20]:
        ids = [str(p.trajectory_id) for p in same if p.trajectory_id is not None]
        rows = sorted(int(p.row) for p in same if p.row is not None)
        where = str(file) + (f", row {rows[0]}" if len(rows) == 1 else f", rows {rows_listed(rows)}" if rows else "")
        where += f", column {column!r}" if column else ""
        records = f"{len(same)} record(s)" + (f", trajectory_id {', '.join(ids[:3])}{' ...' if len(ids) > 3 else ''}"
                                              if ids else "")
        shown.append(f"  {where}: value {value!r} ({records}): {expected}")
    if len(groups) > 20:
        shown.append(f"  ... and {len(groups) - 20} more value(s)")
    return (f"period {period}: {len(problems)} record(s) with a gemeente code the mapping cannot place; they are "
            f"counted in {facts.get('unknown', units.UNKNOWN['municipality'])!r} "
            f"({facts.get('n_unknown', 0)} record(s) there in all):\n" + "\n".join(shown))


def read_unit_notebook(path: Path) -> dict[str, dict]:
    """The unit notebook as :func:`~outcome_analysis.running.batch.plan.read_notebooks` reads notebooks
    (key -> kind ``"unit"``, path, bytes, parameters); :class:`BatchConfigError` when it does not exist,
    :class:`MissingParameterError` when its parameters cell lacks one of :data:`REQUIRED_PARAMETERS`."""
    import hashlib

    from .plan import notebook_parameters

    path = Path(path)
    if not path.is_file():
        raise BatchConfigError(f"the gemeente and jeugdregio notebook {path} does not exist")
    raw = path.read_bytes()
    parameters = notebook_parameters(raw)
    for name in REQUIRED_PARAMETERS:
        if parameters is not None and name not in parameters:
            raise MissingParameterError(str(path), name)
    return {hashlib.sha256(raw).hexdigest()[:16]: {"kind": "unit", "path": str(path.resolve()), "bytes": raw,
                                                    "parameters": parameters}}


def plan_unit_jobs(kind: str, chosen: dict[str, list[str]], codes: dict[str, dict[str, str]], notebooks: dict,
                   keys: dict[str, str], inputs: dict, options: dict, *, lang: str, timeout: float | None,
                   data_param: str, mapping_param: str) -> list[Job]:
    """One job per period and unit: key ``<period>/gemeente/<GMcode>-<slug>`` or ``<period>/regio/<slug>``.

    ``chosen``: period -> unit labels; ``codes``: period -> label -> code; ``keys``: period -> the
    unit stores' key (:func:`prepare_units`). The notebook gets the contract's parameters: the store
    of its kind (``results_path``), the other unit store (``region_results_path``: a gemeente report
    the jeugdregio store, a jeugdregio report the gemeente store), ``unit_kind``, ``unit``, ``period``, ``lang``, ``mapping_path``,
    ``data_path`` and ``ledger_path``; those its parameters cell does not declare are left out."""
    from .plan import report_title

    (nb_key, nb), = notebooks.items()
    declared = nb["parameters"]
    common = {
        "data": inputs["data"]["hash"], "settings": inputs["settings"], "templates": inputs["templates"]["hash"],
        "version": __version__, "mapping": inputs["mapping"]["hash"],
        **({"reference": inputs["reference"]["hash"]} if inputs.get("reference") else {}),
    }
    jobs: list[Job] = []
    for period, labels in chosen.items():
        for label in labels:
            stem = unit_stem(kind, label, codes.get(period, {}).get(label))
            key = f"{period}/{UNIT_FOLDER[kind]}/{stem}"
            params = {
                "data_path": data_param,
                "results_path": f"results/{keys[period]}/{UNITS_DIR}/{kind}",
                # the other unit store: a gemeente's jeugdregio, a jeugdregio's gemeenten side by side
                "region_results_path": f"results/{keys[period]}/{UNITS_DIR}/"
                                       f"{'region' if kind == 'municipality' else 'municipality'}",
                "unit_kind": kind, "unit": label, "period": period, "lang": lang, "mapping_path": mapping_param,
                "ledger_path": f"ledgers/{key}.json",
            }
            if declared is not None:
                params = {k: v for k, v in params.items() if k in declared}
            jobs.append(Job(
                key=key, kind=kind, institution=label, period=period, slug=stem, lang=lang, edition="full",
                formats=options["formats"], notebook=nb_key,
                title=report_title("institution", label, period, lang, settings=None),
                parameters=params,
                input_hash=hash_json(dict(common, store=keys[period], notebook=nb_key, parameters=params, kind=kind,
                                          formats=list(options["formats"]))),
                execution_timeout=timeout, wall_timeout=timeout,
            ))
    return jobs
