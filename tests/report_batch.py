"""The suite's shared report batch: the reports a reader gets, made once per test run.

One ``run_reports.py --edition both`` batch (HTML and PDF, both editions, the national overview
included) over the small demo
(seed 0, scale 0.05, ``conftest.SMALL_MIN_CELL``, declared national as the demo is) for a fixed list of
institutions with different roles:

- ``gi``: a GI with jeugdbescherming and jeugdreclassering (``subsets.GI``);
- ``jeugdhulp``: a jeugdhulp provider with figures to show (``subsets.JH_INSTITUTION``);
- ``smallest``: the institution with the fewest trajectories in the delivery;
- ``national``: the overview of all institutions.

The batch runs once per test run, also under ``pytest -n 2``: the first worker to ask builds it in
a folder beside the workers' temporary folders, under a file lock; the others wait and read it.
Tests use :func:`report_batch` through the ``report_batch`` fixture of ``conftest.py``.

Files: ``files[role]`` maps ``"html"`` and ``"pdf"`` to the full edition's files and ``"kort.html"``
and ``"kort.pdf"`` to the short edition's (the overview has no short edition);
``ReportBatch.html(role)`` / ``pdf(role)`` are the full edition, ``short_html(role)`` /
``short_pdf(role)`` the short one. A report counts when its status is ``made`` or
``too_little_data`` (``statuses[role]`` gives the full edition's status, ``statuses[role + ".kort"]``
the short one's).
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

    def html(self, role: str) -> str:
        """The full edition's HTML."""
        return self.files[role]["html"].read_text(encoding="utf-8")

    def pdf(self, role: str) -> Path:
        """The full edition's PDF."""
        return self.files[role]["pdf"]

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


def build(root: Path, small_demo) -> ReportBatch:
    """Make (or, when a finished one is there, read) the shared batch under ``root``."""
    from outcome_analysis.demo import write_demo

    from conftest import SMALL_MIN_CELL
    from subsets import GI, JH_INSTITUTION

    root.mkdir(parents=True, exist_ok=True)
    data, out, cache = root / "data", root / "reports", root / "cache"
    done_marker = root / "done.json"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; the other workers wait here
        if not done_marker.is_file():
            write_demo(small_demo, data, "parquet")
            with open(data / "settings.yaml", "a", encoding="utf-8") as fh:
                fh.write(f"min_cell: {SMALL_MIN_CELL}\n")
            institutions = {"gi": GI, "jeugdhulp": JH_INSTITUTION, "smallest": _smallest(data), "national": ""}
            command = [sys.executable, str(ROOT / "run_reports.py"), "--data", str(data), "--out", str(out),
                       "--cache", str(cache), "--formats", "html,pdf", "--jobs", "2", "--quiet", "--edition", "both",
                       "--institutions", ",".join(v for v in institutions.values() if v)]
            run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
            if run.returncode != 0:
                raise RuntimeError(f"the shared report batch failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
            done_marker.write_text(json.dumps(institutions), encoding="utf-8")
        institutions = json.loads(done_marker.read_text(encoding="utf-8"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    batch = ReportBatch(out=out, data=data, cache=cache, manifest=manifest, institutions=institutions)
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
