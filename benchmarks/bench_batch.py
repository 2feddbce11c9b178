"""Benchmark: N institution reports (HTML and PDF), the naive way against ``run_reports.py``.

(a) naive: one report after the other, per report a ``papermill`` CLI call, a
    ``jupyter nbconvert --to html`` CLI call and a ``weasyprint in.html out.pdf`` call;
(b) ``run_reports.py`` in this process (``main([...])``), ``--jobs 2``: results computed once,
    warm worker processes, kernels on IPC sockets, HTML and PDF rendered in the workers.

Both on the same machine in the same run, on the same N institutions of the demo data (built in a
temporary folder). Uses ``notebooks/institution_report.ipynb`` when it exists, else the fixture
notebook of the tests. Prints both times, the ratio and the time per report.

    python benchmarks/bench_batch.py [--n 24] [--jobs 2] [--keep]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import run_reports  # noqa: E402
from outcome_analysis import batch  # noqa: E402
from outcome_analysis.periods import latest_complete_period  # noqa: E402

BIN = Path(sys.executable).parent


def pick_notebook() -> Path:
    real = ROOT / "notebooks" / "institution_report.ipynb"
    return real if real.is_file() else ROOT / "tests" / "fixtures" / "batch" / "institution_report.ipynb"


def build_data(folder: Path, scale: float) -> Path:
    data = folder / "demo"
    subprocess.run([sys.executable, "-m", "outcome_analysis.demo", "--out", str(data), "--scale", str(scale)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return data


def naive(notebook: Path, data: Path, institutions: list[str], period: str, out: Path) -> float:
    """One report after the other, three command-line tools per report."""
    out.mkdir(parents=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    start = time.perf_counter()
    for name in institutions:
        slug = batch.slugify(name)
        executed = out / f"{slug}.ipynb"
        subprocess.run([str(BIN / "papermill"), str(notebook), str(executed), "--no-progress-bar",
                        "-p", "data_path", str(data), "-p", "institution", name, "-p", "period", period,
                        "-p", "lang", "nl"],
                       check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)],
                       check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([str(BIN / "weasyprint"), str(out / f"{slug}.html"), str(out / f"{slug}.pdf")],
                       check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def batched(notebook: Path, data: Path, institutions: list[str], period: str, out: Path, jobs: int) -> float:
    argv = ["--data", str(data), "--period", period, "--institutions", *institutions, "--formats", "html,pdf",
            "--out", str(out), "--jobs", str(jobs), "--notebook", str(notebook), "--no-national", "--quiet"]
    start = time.perf_counter()
    status = run_reports.main(argv)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"run_reports.py failed with status {status}; see {out / 'index.html'}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="number of institution reports (default 24)")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs for run_reports.py (default 2)")
    parser.add_argument("--scale", type=float, default=0.3,
                        help="demo volume (default 0.3, about 30,000 trajectories: the naive way recomputes "
                             "the national figures in every notebook, so it takes minutes)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        notebook = pick_notebook()
        data = build_data(work, args.scale)
        from outcome_analysis.io import load

        dataset = load(data)
        institutions = dataset.institutions[: args.n]
        period = latest_complete_period(dataset.reference_date)
        n = len(institutions)
        print(f"{n} reports (HTML + PDF), period {period}, notebook {notebook.relative_to(ROOT)}, "
              f"{os.cpu_count()} CPU(s)")

        t_batch = batched(notebook, data, institutions, period, work / "batched", args.jobs)
        print(f"(b) run_reports.py --jobs {args.jobs}: {t_batch:7.1f} s  ({t_batch / n:.2f} s per report)")
        t_naive = naive(notebook, data, institutions, period, work / "naive")
        print(f"(a) naive, one CLI chain per report: {t_naive:7.1f} s  ({t_naive / n:.2f} s per report)")
        print(f"speed-up: {t_naive / t_batch:.1f}x")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
