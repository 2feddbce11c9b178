"""The plain data the batch passes around: a job, the workers' payload, a job's result, the batch's result."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Job:
    """One report to make. Plain data: it travels to a worker process or a Dask worker."""

    key: str  # "<period>/<slug>" ("<period>/gemeente/<GMcode>-<slug>", "<period>/regio/<slug>"), the output path without extension
    kind: str  # "institution" | "national" | "municipality" | "region"
    institution: str  # the institution, gemeente ("Utrecht (GM0344)") or jeugdregio; "" for the national overview
    period: str
    slug: str
    lang: str
    formats: tuple[str, ...]
    title: str
    notebook: str  # key of the notebook in the payload
    parameters: dict  # papermill parameters (paths relative to the worker's directory)
    input_hash: str
    execution_timeout: float | None = None  # per cell (papermill/nbclient)
    wall_timeout: float | None = None  # whole notebook (kernel killed after this)
    label: str = ""  # the name on the index page ("" : the institution)
    edition: str = "full"  # "full" | "short" (the overview: "full"); the key of a short one ends in ".kort"


@dataclass
class Payload:
    """Everything a worker needs besides the jobs, as bytes: no client-side path in here.

    ``notebooks`` maps a notebook key to its bytes, ``results`` a results folder name to its
    files (relative path -> bytes), ``data`` the data set's files when the data is shipped,
    ``templates`` the templates folder's files, ``settings`` the run's settings as YAML (for
    notebooks that compute their own figures: parameter ``settings_path``), ``reference`` the published
    reference file (shipped only when the notebooks compute their own figures: a results store holds
    the comparison with it; parameter ``reference_path``). ``render`` turns an
    executed notebook into the report files (a module-level function, so it pickles by reference).
    """

    key: str
    notebooks: dict[str, bytes]
    results: dict[str, dict[str, bytes]] = field(default_factory=dict)
    data: dict[str, bytes] | None = None
    data_name: str = "data"
    templates: dict[str, bytes] = field(default_factory=dict)
    render: Callable | None = None
    settings: bytes | None = None
    reference: bytes | None = None  # the published reference file, for notebooks that compute their own figures
    reference_name: str = ""  # its path in the worker's directory (notebook parameter reference_path)
    files: dict[str, bytes] = field(default_factory=dict)  # other files by path in the worker's directory (a mapping)


@dataclass
class JobResult:
    """What a worker sends back: status, the rendered files' bytes, timing, error facts, and the
    ledger of the numbers the report printed (:mod:`outcome_analysis.presentation.ledger`)."""

    key: str
    status: str  # "made" | "too_little_data" | "failed" | "timed_out" (constants.STATUSES)
    files: dict[str, bytes]
    started: float
    finished: float
    error: dict | None = None
    kernel: dict | None = None
    ledger: bytes | None = None  # the report's ledger of printed numbers (JSON), when the notebook kept one

    @property
    def duration(self) -> float:
        return round(self.finished - self.started, 3)


@dataclass
class BatchResult:
    """Outcome of :func:`run_batch`.

    Attributes
    ----------
    out : Path
        The output folder.
    counts : dict
        ``made``, ``too_little_data``, ``failed`` and ``skipped`` report counts of this run (a
        timed-out report counts as failed).
    failures : list of dict
        ``key``, ``institution``, ``period``, ``status`` and ``message`` of each failed report.
    manifest : dict
        The manifest as written.
    interrupted : bool
        The run was stopped by Ctrl-C; what was done is recorded.
    """

    out: Path
    counts: dict
    failures: list[dict]
    manifest: dict
    interrupted: bool = False
    index: Path | None = None  # the index page to open (<out>/index.html)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted

    def summary(self) -> str:
        c = self.counts
        little = f" ({c['too_little_data']} with too little data for a report)" if c.get("too_little_data") else ""
        made = c.get("made", 0) + c.get("too_little_data", 0)
        lines = [f"{made} made{little}, {c['skipped']} unchanged (skipped), {c['failed']} failed -> {self.out}"]
        if self.interrupted:
            lines.append("interrupted: run again to resume")
        for f in self.failures:
            who = f["institution"] or "national overview"
            edition = " (short edition)" if f.get("edition") == "short" else ""
            lines.append(f"  FAILED {f['period']} {who}{edition}: {f['message']}")
        index = self.index or Path(self.out) / "index.html"
        lines.append(f"open {index} to see every report")
        return "\n".join(lines)
