"""Benchmark of ``outcome_analysis.io.load`` on about a million trajectories.

Run as ``.venv/bin/python benchmarks/bench_load.py [--scale 10] [--rebuild]``.

The first run builds the demo delivery (``outcome_analysis.demo.make_demo(seed=0, scale=...)``;
scale 10 gives about a million trajectories) and writes it with ``io.write`` as Parquet and as CSV
into ``benchmarks/output/``; later runs reuse it. Each measurement runs in a fresh subprocess, so
that its peak memory is its own: the peak resident set size (Linux ``VmHWM`` from
``/proc/self/status``, else ``resource.getrusage(...).ru_maxrss``), which includes the interpreter and
the imported libraries (shown separately as "imports MiB"). Wall-clock and CPU seconds are both
shown: on a shared machine the CPU time is the steadier figure. The baseline, measured in the same run on the same files, is a plain
read without parsing or checks: ``pd.read_parquet`` of the Parquet file and ``pd.read_csv(...,
engine="pyarrow")`` of the CSV file.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "output"
sys.path.insert(0, str(HERE.parent))


def build(scale: float, rebuild: bool = False) -> dict[str, Path]:
    """The cached delivery folders (parquet, csv) of the demo at ``scale``; built when missing."""
    folders = {fmt: OUTPUT / f"demo_scale{scale:g}_{fmt}" for fmt in ("parquet", "csv")}
    if rebuild or not all((folder / f"trajectories.{fmt}").exists() for fmt, folder in folders.items()):
        # in a subprocess, so that this process (whose children are measured) stays small
        subprocess.run([sys.executable, __file__, "--build", str(scale)], check=True)
    return folders


def _build_here(scale: float) -> None:
    from outcome_analysis import demo, io

    started = time.perf_counter()
    data = demo.make_demo(seed=0, scale=scale)
    print(f"built demo: {len(data.trajectories):,} trajectories in {time.perf_counter() - started:.1f} s")
    for fmt in ("parquet", "csv"):
        started = time.perf_counter()
        io.write(data, OUTPUT / f"demo_scale{scale:g}_{fmt}", fmt)
        print(f"wrote {fmt} in {time.perf_counter() - started:.1f} s")


def peak_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(task: str, folder: str) -> dict:
    """Run one task in this process and return seconds and peak resident memory (MiB)."""
    import pandas as pd

    from outcome_analysis import io

    folder = Path(folder)
    before = peak_mib()
    started = time.perf_counter()
    cpu_started = time.process_time()
    if task == "load":
        data = io.load(folder)
        rows = len(data.trajectories) + len(data.goals) + len(data.experience)
    elif task == "read_parquet":
        rows = sum(len(pd.read_parquet(f)) for f in sorted(folder.glob("*.parquet")))
    elif task == "read_csv":
        rows = sum(len(pd.read_csv(f, engine="pyarrow")) for f in sorted(folder.glob("*.csv")))
    else:
        raise ValueError(f"unknown task {task!r}")
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak = peak_mib()
    return {"task": task, "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mib": peak, "imports_mib": before, "rows": rows}


def run(task: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", task, str(folder)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0, help="demo scale (10 = about a million trajectories)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached demo files")
    parser.add_argument("--measure", nargs=2, metavar=("TASK", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--build", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build is not None:
        _build_here(args.build)
        return 0
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0

    folders = build(args.scale, args.rebuild)
    print(f"{'format':8} {'task':13} {'seconds':>8} {'CPU s':>6} {'peak MiB':>9} {'imports MiB':>12} {'rows':>10}")
    for fmt, folder in folders.items():
        baseline = run("read_parquet" if fmt == "parquet" else "read_csv", folder)
        loaded = run("load", folder)
        for result in (baseline, loaded):
            print(
                f"{fmt:8} {result['task']:13} {result['seconds']:8.2f} {result['cpu_seconds']:6.2f} {result['peak_mib']:9.0f} "
                f"{result['imports_mib']:12.0f} {result['rows']:10,}"
            )
        print(
            f"{fmt:8} load / baseline: time x{loaded['seconds'] / baseline['seconds']:.1f} "
            f"(CPU x{loaded['cpu_seconds'] / baseline['cpu_seconds']:.1f}), "
            f"peak memory x{loaded['peak_mib'] / baseline['peak_mib']:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
