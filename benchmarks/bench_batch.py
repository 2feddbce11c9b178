"""Benchmark: institution reports (HTML and PDF, full edition, Dutch), the naive way against ``run_reports.py``.

(a) naive: one report after the other, per report a ``papermill`` CLI call on
    ``notebooks/institution_report.ipynb`` (which then computes everything itself), a
    ``jupyter nbconvert --to html --no-input`` call and a ``weasyprint in.html out.pdf`` call;
(b) ``run_reports.py --no-national --edition full`` in this process (``main([...])``), ``--jobs 2``,
    with a cold results cache: the results computed once, warm worker kernels, HTML and PDF rendered
    in the workers, every report's leak audit and fingerprint check, the index pages and the manifest.

Both on the same machine in the same run, on the same institutions of the demo data (built in a
temporary folder), at each size of ``--n`` (default 8 and 24). The naive loop runs once over the
largest size; being one report after the other, its time for a smaller size is the time of that many
first reports of the same loop (each report's time is measured). Prints both times, the ratio and the
time per report, and writes ``benchmarks/output/bench_batch.json``.

    python benchmarks/bench_batch.py [--n 8,24] [--jobs 2] [--scale 0.3] [--keep]
"""
from __future__ import annotations

import argparse
import json
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


def naive(notebook: Path, data: Path, institutions: list[str], period: str, out: Path) -> list[float]:
    """One report after the other, three command-line tools per report; each report's seconds."""
    out.mkdir(parents=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    times = []
    for name in institutions:
        start = time.perf_counter()
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
        times.append(time.perf_counter() - start)
    return times


def batched(notebook: Path, data: Path, institutions: list[str], period: str, out: Path, jobs: int) -> float:
    argv = ["--data", str(data), "--period", period, "--institutions", *institutions, "--formats", "html,pdf",
            "--out", str(out), "--cache", str(out.parent / f"{out.name}-cache"), "--jobs", str(jobs),
            "--notebook", str(notebook), "--no-national", "--edition", "full", "--quiet"]
    start = time.perf_counter()
    status = run_reports.main(argv)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"run_reports.py failed with status {status}; see {out / 'index.html'}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="8,24", help="numbers of institution reports, comma-separated (default 8,24)")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs for run_reports.py (default 2)")
    parser.add_argument("--scale", type=float, default=0.3,
                        help="demo volume (default 0.3, about 30,000 trajectories: the naive way recomputes "
                             "the national figures in every notebook, so it takes minutes)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    sizes = sorted({int(n) for n in args.n.split(",")})

    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        notebook = pick_notebook()
        data = build_data(work, args.scale)
        from outcome_analysis.io import load

        dataset = load(data)
        chosen = dataset.institutions[: sizes[-1]]
        sizes = [n for n in sizes if n <= len(chosen)]
        period = latest_complete_period(dataset.reference_date)
        print(f"{len(chosen)} institutions (HTML + PDF, full edition), period {period}, notebook "
              f"{notebook.relative_to(ROOT)}, {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}")
        batch_times = {}
        for n in sizes:
            batch_times[n] = batched(notebook, data, chosen[:n], period, work / f"batched-{n}", args.jobs)
            print(f"(b) run_reports.py --jobs {args.jobs}, {n} reports: {batch_times[n]:7.1f} s  "
                  f"({batch_times[n] / n:.2f} s per report)")
        per_report = naive(notebook, data, chosen, period, work / "naive")
        rows = []
        for n in sizes:
            t_naive = sum(per_report[:n])
            ratio = t_naive / batch_times[n]
            rows.append({"reports": n, "naive_s": round(t_naive, 1), "batch_s": round(batch_times[n], 1),
                         "ratio": round(ratio, 2)})
            print(f"{n:3d} reports: naive {t_naive:7.1f} s ({t_naive / n:.2f} s per report), batch "
                  f"{batch_times[n]:7.1f} s: {ratio:.2f}x")
        result = {"scale": args.scale, "jobs": args.jobs, "cpus": os.cpu_count(), "period": period,
                  "load_average_end": round(os.getloadavg()[0], 2), "rows": rows,
                  "naive_per_report_s": [round(t, 2) for t in per_report], "institutions": chosen}
        target = ROOT / "benchmarks" / "output" / "bench_batch.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"written {target.relative_to(ROOT)}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
