"""What to make: the periods, the institutions, the notebooks and one job per report."""
from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Sequence
from pathlib import Path

from outcome_analysis import __version__, texts
from outcome_analysis.contract.periods import latest_complete_period, parse_period
from outcome_analysis.presentation.report import slugify
from outcome_analysis.settings import Settings
from .constants import EDITION_SUFFIX, NATIONAL_SLUG, SETTINGS_NAME
from .errors import BatchConfigError, MissingParameterError, NoMatchingInstitutionError
from .hashing import hash_json
from .jobs import Job


def resolve_periods(periods: Sequence[str] | None, data) -> list[str]:
    """The periods asked for (comma lists allowed), validated; default the latest complete year."""
    if not periods:
        return [latest_complete_period(data.reference_date, "year")]
    out: list[str] = []
    for item in periods:
        for label in str(item).split(","):
            if label.strip():
                parse_period(label.strip())  # raises PeriodError naming it
                out.append(label.strip())
    return list(dict.fromkeys(out))


def pattern_items(arg: str, whole: bool) -> list[str]:
    """The names or patterns one command-line argument holds: the argument itself when ``whole``
    (it is a known name, and names may hold commas), else its comma list, stripped.

    >>> pattern_items("A, B*", False), pattern_items("B, zuid", True)
    (['A', 'B*'], ['B, zuid'])
    """
    return [str(arg)] if whole else [p.strip() for p in str(arg).split(",") if p.strip()]


def select_institutions(known: Sequence[str], patterns: Sequence[str] | None) -> list[str]:
    """The institutions matching any of the names or glob patterns (each may be a comma list).

    An argument that is exactly an institution's name is taken whole (names may hold commas).

    >>> select_institutions(["A", "B, zuid", "C"], ["B, zuid"])
    ['B, zuid']
    >>> select_institutions(["Jeugd Noord", "Jeugd Zuid", "Zorg"], ["Jeugd*"])
    ['Jeugd Noord', 'Jeugd Zuid']
    """
    known = sorted(known)
    if not patterns:
        return known
    chosen: set[str] = set()
    for arg in patterns:
        for pattern in pattern_items(arg, arg in known):
            hits = [name for name in known if name == pattern or fnmatch.fnmatchcase(name, pattern)]
            if not hits:
                raise NoMatchingInstitutionError(pattern, known)
            chosen.update(hits)
    return [name for name in known if name in chosen]


def read_notebooks(notebook: Path, national: Path | None) -> dict[str, dict]:
    if not notebook.is_file():
        raise BatchConfigError(f"notebook {notebook} does not exist")
    found = {}
    for kind, path in (("institution", notebook), ("national", national)):
        if path is None or not path.is_file():
            continue
        raw = path.read_bytes()
        found[hashlib.sha256(raw).hexdigest()[:16]] = {
            "kind": kind, "path": str(path.resolve()), "bytes": raw, "parameters": notebook_parameters(raw),
        }
    return found


def notebook_parameters(raw: bytes) -> list[str] | None:
    """Names assigned in the notebook's ``parameters`` cell (``None``: no such cell, or not Python).

    Read with :mod:`ast` (papermill's own inspection misses annotated names like
    ``results_path: str | None = None``).

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'period: str = "2024"  # reporting period\\nresults_path: str | None = None\\nlang = "nl"',
    ...     metadata={"tags": ["parameters"]})])
    >>> notebook_parameters(nbformat.writes(nb).encode())
    ['period', 'results_path', 'lang']
    """
    import ast

    import nbformat

    nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None or cell.cell_type != "code":
        return None
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return None
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id not in names:
                    names.append(sub.id)
    return names


def plan_jobs(institutions: Sequence[str], periods: Sequence[str], notebooks: dict, results: dict,
              inputs: dict, options: dict, *, lang: str, timeout: float | None, data_param: str,
              settings: Settings, n_institutions: int = 2, settings_shipped: bool = False,
              editions: Sequence[str] = ("full",), reference_param: str | None = None) -> list[Job]:
    """One job per period x institution x edition, plus one national overview per period if its
    notebook exists and the full edition is asked for (the overview has no short edition).

    ``editions``: ``("full",)``, ``("short",)`` or both. An edition is a job of its own with the
    notebook parameter ``edition``; the short edition's key (and file names) end in ``.kort``
    (``2024/jeugdzorg-x.kort``) and its ledger is kept under that key. Asking for the short edition
    of a notebook without an ``edition`` parameter is a :class:`MissingParameterError`.

    ``settings`` (the run's settings) and ``n_institutions`` (institutions in the delivery) name the overview: "Landelijk
    overzicht" only for a delivery declared national (:func:`outcome_analysis.report.comparator`).

    A notebook reads stored results under the settings they were computed with; one that computes
    its own figures (no results for its granularity) gets ``settings_path`` (the run's settings,
    shipped with the data when ``settings_shipped``) so that both use the same settings, and
    ``reference_path`` (``reference_param``: the shipped published reference, when there is one); a
    results store already holds the comparison with the reference (``inputs["reference"]``, whose
    hash is part of every job's input hash)."""
    by_kind = {v["kind"]: (k, v) for k, v in notebooks.items()}
    common_inputs = {
        "data": inputs["data"]["hash"], "settings": inputs["settings"], "templates": inputs["templates"]["hash"],
        "version": __version__,
        **({"reference": inputs["reference"]["hash"]} if inputs.get("reference") else {}),
    }
    jobs: list[Job] = []
    for period in periods:
        granularity = parse_period(period)[2]
        results_key = results.get(granularity)
        base = {
            "data_path": data_param,
            "results_path": f"results/{results_key}" if results_key else None,
            "period": period,
            "lang": lang,
        }
        if settings_shipped and not results_key:
            base["settings_path"] = SETTINGS_NAME
        if reference_param and not results_key:
            base["reference_path"] = reference_param
        targets: list[tuple[str, str, str]] = []
        if "national" in by_kind and "full" in editions:
            targets.append(("national", "", "full"))
        targets += [("institution", name, edition) for name in institutions for edition in editions]
        for kind, name, edition in targets:
            nb_key, nb = by_kind[kind]
            slug = NATIONAL_SLUG if kind == "national" else slugify(name)
            stem = f"{period}/{slug}{EDITION_SUFFIX[edition]}"
            params = dict(base, institution=name, edition=edition) if kind == "institution" else dict(base)
            params["ledger_path"] = f"ledgers/{stem}.json"  # in the worker's directory; read back for the audit
            required = ("institution",) + (("edition",) if edition != "full" else ()) if kind == "institution" else ()
            params = _fit_parameters(params, nb, required=required)
            jobs.append(Job(
                key=stem, kind=kind, institution=name, period=period, slug=slug, lang=lang, edition=edition,
                formats=options["formats"], notebook=nb_key,
                title=report_title(kind, name, period, lang, settings=settings, n_institutions=n_institutions,
                                   edition=edition),
                label=overview_label(lang, settings, n_institutions) if kind == "national" else "",
                parameters=params,
                input_hash=hash_json(dict(common_inputs, notebook=nb_key, parameters=params, kind=kind,
                                           formats=list(options["formats"]))),
                execution_timeout=timeout, wall_timeout=timeout,
            ))
    return jobs


def _fit_parameters(params: dict, nb: dict, required: Sequence[str]) -> dict:
    declared = nb["parameters"]
    if declared is None:
        return params
    for name in required:
        if name not in declared:
            raise MissingParameterError(nb["path"], name)
    return {k: v for k, v in params.items() if k in declared}


def report_title(kind: str, institution: str, period: str, lang: str, *, settings: Settings,
                 n_institutions: int = 2, edition: str = "full") -> str:
    """The cover title. The cover names the institution and the period on lines of their own. The
    overview of all institutions is "Landelijk overzicht ..." only for a delivery declared national
    (``settings``: the run's settings); the short edition is "Kerncijfers {period}"."""
    if kind == "national":
        from outcome_analysis.presentation.overview import report_title as overview_title

        return overview_title("national", lang, settings=settings, n_institutions=n_institutions)
    key = "report_title_short" if edition == "short" else "report_title"
    return texts.for_lang("batch", lang, error=BatchConfigError)[key].format(period=period)


def overview_label(lang: str, settings: Settings, n_institutions: int = 2) -> str:
    """The overview's name on the index pages: "Landelijk overzicht" for a national delivery,
    "Alle instellingen in deze levering" otherwise (:func:`outcome_analysis.report.comparator`)."""
    from outcome_analysis.presentation.report import comparator

    return comparator(settings, n_institutions, lang)["overview_short"]
