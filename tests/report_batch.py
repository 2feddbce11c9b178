"""The suite's shared report batch: the reports a reader gets, made once per test run.

One ``run_reports.py --edition both`` batch (HTML and PDF, both editions, the national overview
included) over the small demo
(seed 0, scale 0.05, ``conftest.SMALL_MIN_CELL``, declared national as the demo is) for a fixed list of
institutions with different roles:

- ``gi``: a GI with jeugdbescherming and jeugdreclassering (``subsets.GI``);
- ``jeugdhulp``: a jeugdhulp provider with figures to show (``subsets.JH_INSTITUTION``);
- ``smallest``: the institution with the fewest trajectories in the delivery;
- ``national``: the overview of all institutions.

and, in a folder of their own (``unit_out``, the same data and results cache), the gemeente and
jeugdregio reports (``run_reports.py --for municipality|region``, the real unit notebook, the
mapping the batch takes for the demo data, the institution batch's period) of:

- ``gemeente_large``: the gemeente with the most trajectories (HTML and PDF; chosen by its code);
- ``gemeente_small``: the gemeente with the fewest trajectories, at least one (HTML; chosen by its name);
- ``region``: the jeugdregio of ``gemeente_large`` (HTML).

The gemeenten are chosen from the data and the mapping when the batch is built (each trajectory
counted in its gemeente as the unit stores count it, :func:`outcome_analysis.running.units.unit_dataset`),
never by name, so that a changed demo still gives its largest and smallest gemeente.

The batch runs once per test run, also under ``pytest -n 2``: the first worker to ask builds it in
a folder beside the workers' temporary folders, under a file lock; the others wait and read it.
Tests use :func:`report_batch` through the ``report_batch`` fixture of ``conftest.py``.

Files: ``files[role]`` maps ``"html"`` and ``"pdf"`` to the full edition's files and ``"kort.html"``
and ``"kort.pdf"`` to the short edition's (the overview has no short edition);
``ReportBatch.html(role)`` / ``pdf(role)`` are the full edition, ``short_html(role)`` /
``short_pdf(role)`` the short one. A report counts when its status is ``made`` or
``too_little_data`` (``statuses[role]`` gives the full edition's status, ``statuses[role + ".kort"]``
the short one's). The unit roles have the full edition only: ``unit_files[role]`` (``"html"``, and
``"pdf"`` for ``gemeente_large``), ``unit_statuses[role]``, ``units[role]`` (the unit's label,
``"Utrecht (GM0344)"`` or the jeugdregio's name), ``unit_codes[role]``, ``unit_period``,
``unit_manifest`` and ``unit_stores[kind]`` (the folders of the gemeente and jeugdregio stores the
reports were made from, in the shared cache); ``html(role)`` / ``pdf(role)`` read them as well.
"""
from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("gi", "jeugdhulp", "smallest", "national")
UNIT_ROLES = ("gemeente_large", "gemeente_small", "region")
UNIT_KIND = {"gemeente_large": "municipality", "gemeente_small": "municipality", "region": "region"}


@dataclass
class ReportBatch:
    """A finished batch: its output folder, manifest, data folder and results cache, and the files
    of each role (``files[role]["html"|"pdf"]``: the full edition, ``files[role]["kort.html"|"kort.pdf"]``:
    the short edition; paths) and the manifest status of each role's reports."""

    out: Path
    data: Path
    cache: Path
    manifest: dict
    institutions: dict[str, str]  # role -> institution ("" for the overview)
    files: dict[str, dict[str, Path]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)  # role (full) or role + ".kort" (short) -> status
    unit_out: Path | None = None
    unit_cache: Path | None = None  # the unit reports' cache (their own: they run beside the institution batch)
    unit_manifest: dict = field(default_factory=dict)
    unit_period: str = ""
    units: dict[str, str] = field(default_factory=dict)  # unit role -> label
    unit_codes: dict[str, str] = field(default_factory=dict)  # unit role -> code (a jeugdregio's code or name)
    unit_files: dict[str, dict[str, Path]] = field(default_factory=dict)
    unit_statuses: dict[str, str] = field(default_factory=dict)
    unit_stores: dict[str, Path] = field(default_factory=dict)  # "municipality" | "region" -> store folder

    def _files(self, role: str) -> dict[str, Path]:
        return self.unit_files[role] if role in UNIT_ROLES else self.files[role]

    def html(self, role: str) -> str:
        """The full edition's HTML (an institution role or a unit role)."""
        return self._files(role)["html"].read_text(encoding="utf-8")

    def pdf(self, role: str) -> Path:
        """The full edition's PDF (an institution role, or ``gemeente_large``)."""
        return self._files(role)["pdf"]

    def short_html(self, role: str) -> str:
        """The short edition's HTML (``<slug>.kort.html``)."""
        return self.files[role]["kort.html"].read_text(encoding="utf-8")

    def short_pdf(self, role: str) -> Path:
        """The short edition's PDF (``<slug>.kort.pdf``)."""
        return self.files[role]["kort.pdf"]


def _smallest(data_folder: Path) -> str:
    from outcome_analysis.contract import io

    data = io.load(data_folder)
    counts = data.trajectories.groupby("institution").size()
    return str(counts.sort_values(kind="stable").index[0])


def choose_units(data_folder: Path, period: str) -> dict:
    """The unit roles of the demo in ``data_folder`` for ``period``: each trajectory counted in its
    gemeente with the mapping the batch takes for these data (``resolve_mapping_path`` without
    ``--mapping``), as the unit stores count it; "gemeente onbekend" left out. Returns ``units``
    (role -> label), ``codes`` (role -> code) and ``mapping`` (the mapping file, as text)."""
    from outcome_analysis.contract import io
    from outcome_analysis.contract.mapping import read_mapping
    from outcome_analysis.running import units
    from outcome_analysis.running.batch import units as unit_batch
    from outcome_analysis.settings import for_delivery

    settings, _ = for_delivery(data_folder)
    path = unit_batch.resolve_mapping_path(None, settings, "municipality", data_folder)
    mapping = read_mapping(path)
    placed = units.unit_dataset(io.load(data_folder), mapping, "municipality", period=period)
    t = placed.trajectories
    t = t[t["institution"] != units.UNKNOWN["municipality"]]
    counts = t.groupby(t["institution"].astype(str)).size()
    counts = counts[counts > 0].sort_index(kind="stable").sort_values(kind="stable")  # ties: by label
    large, small = str(counts.index[-1]), str(counts.index[0])
    codes = placed.meta["units"]["codes"]
    region = units.regions_of_units(mapping, period=period)[large]
    (known,) = [u for u in unit_batch.known_units(mapping, "region", period) if u["label"] == region]
    return {"units": {"gemeente_large": large, "gemeente_small": small, "region": region},
            "codes": {"gemeente_large": codes[large], "gemeente_small": codes[small], "region": known["code"]},
            "names": {"gemeente_small": next(u["name"] for u in unit_batch.known_units(mapping, "municipality", period)
                                             if u["label"] == small)},
            "counts": {"gemeente_large": int(counts.iloc[-1]), "gemeente_small": int(counts.iloc[0])},
            "mapping": str(path)}


def _latest_year(data_folder: Path) -> str:
    """The period both parts of the batch report: the latest complete year of the delivery (the
    batch's own default)."""
    from outcome_analysis.contract import io
    from outcome_analysis.contract.periods import latest_complete_period

    return str(latest_complete_period(io.load(data_folder).reference_date, "year"))


def _run(command: list[str], what: str) -> None:
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        raise RuntimeError(f"the shared report batch ({what}) failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")


def build(root: Path, small_demo) -> ReportBatch:
    """Make (or, when a finished one is there, read) the shared batch under ``root``."""
    from outcome_analysis.demo import write_demo

    from conftest import SMALL_MIN_CELL
    from subsets import GI, JH_INSTITUTION

    root.mkdir(parents=True, exist_ok=True)
    data, out, cache, unit_out = root / "data", root / "reports", root / "cache", root / "unit_reports"
    unit_cache = root / "unit_cache"
    done_marker = root / "done.json"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; the other workers wait here
        if not done_marker.is_file():
            write_demo(small_demo, data, "parquet")
            with open(data / "settings.yaml", "a", encoding="utf-8") as fh:
                fh.write(f"min_cell: {SMALL_MIN_CELL}\n")
            institutions = {"gi": GI, "jeugdhulp": JH_INSTITUTION, "smallest": _smallest(data), "national": ""}
            period = _latest_year(data)
            chosen = choose_units(data, period)
            # the gemeente and jeugdregio reports run beside the institution batch, in a process and a
            # cache of their own (a cache is one batch's at a time): mostly one report at a time, they
            # would leave a core idle after it
            common = ["--data", str(data), "--out", str(unit_out), "--cache", str(unit_cache), "--period", period,
                      "--jobs", "2", "--quiet"]
            # the largest gemeente (by its code) and the smallest (by its name) in one run, in HTML and
            # PDF; the largest one's jeugdregio in HTML. Two run_reports.py runs in one process.
            runs = [common + ["--formats", "html,pdf", "--for", "municipality", "--municipalities",
                              f"{chosen['codes']['gemeente_large']},{chosen['names']['gemeente_small']}"],
                    common + ["--formats", "html", "--for", "region", "--regions", chosen["units"]["region"]]]
            unit_log = open(root / "unit_batch.log", "w+", encoding="utf-8")
            unit_run = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), json.dumps(runs)], cwd=ROOT,
                                        stdout=unit_log, stderr=subprocess.STDOUT, text=True)
            command = [sys.executable, str(ROOT / "run_reports.py"), "--data", str(data), "--out", str(out),
                       "--cache", str(cache), "--formats", "html,pdf", "--jobs", "2", "--quiet", "--edition", "both",
                       "--institutions", ",".join(v for v in institutions.values() if v), "--period", period]
            try:
                _run(command, "institutions")
            finally:
                status = unit_run.wait(timeout=900)
                unit_log.seek(0)
                text = unit_log.read()
                unit_log.close()
            if status != 0:
                raise RuntimeError(f"the shared report batch (gemeenten and jeugdregio) failed:\n{text[-5000:]}")
            done_marker.write_text(json.dumps({"institutions": institutions, "period": period, **chosen}),
                                   encoding="utf-8")
        done = json.loads(done_marker.read_text(encoding="utf-8"))
    institutions = done["institutions"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    unit_manifest = json.loads((unit_out / "manifest.json").read_text(encoding="utf-8"))
    batch = ReportBatch(out=out, data=data, cache=cache, manifest=manifest, institutions=institutions,
                        unit_out=unit_out, unit_cache=unit_cache, unit_manifest=unit_manifest,
                        unit_period=done["period"],
                        units=done["units"], unit_codes=done["codes"])
    for role, label in batch.units.items():
        for entry in unit_manifest["reports"].values():
            if entry["kind"] != UNIT_KIND[role] or entry["institution"] != label:
                continue
            batch.unit_statuses[role] = entry["status"]
            if entry["status"] in ("made", "too_little_data"):
                batch.unit_files[role] = {fmt: unit_out / rel for fmt, rel in entry["files"].items()}
    (units_input,) = [run["inputs"]["units"][done["period"]] for run in unit_manifest["runs"][-1:]]
    batch.unit_stores = {kind: Path(units_input[kind]) for kind in ("municipality", "region")}
    good = ("made", "too_little_data")
    for role, name in institutions.items():
        for entry in manifest["reports"].values():
            if entry["institution"] != name:
                continue
            short = entry.get("edition", "full") == "short"
            batch.statuses[role + (".kort" if short else "")] = entry["status"]
            if entry["status"] in good:
                batch.files.setdefault(role, {}).update(
                    {("kort." if short else "") + fmt: out / rel for fmt, rel in entry["files"].items()})
    return batch


def _run_reports(runs: list[list[str]]) -> int:
    """``run_reports.main`` for each argument list in turn, in this process (one start-up for all);
    the first non-zero exit status, else 0."""
    sys.path.insert(0, str(ROOT))
    import run_reports

    for args in runs:
        status = run_reports.main(args)
        if status != 0:
            print(f"run_reports.py {' '.join(args)} exited with {status}", file=sys.stderr)
            return status
    return 0


if __name__ == "__main__":  # python tests/report_batch.py '[[run_reports.py arguments], ...]'
    sys.exit(_run_reports(json.loads(sys.argv[1])))
