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

``--compare REV`` also times the loader of another git revision (its ``outcome_analysis/io.py``,
with the rest of the package as it is now) on the same files in the same run, alternating with the
current one ``--repeat`` times; the fastest run of each counts. That is how a change to the loader
shows what it costs.
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


def _io_of(revision: str):
    """``outcome_analysis.io`` as it was at git ``revision`` (the rest of the package as it is now)."""
    import importlib.util
    import tempfile

    source = subprocess.run(
        ["git", "show", f"{revision}:outcome_analysis/io.py"], cwd=HERE.parent, capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "io_compared.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("outcome_analysis._io_compared", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def measure(task: str, folder: str) -> dict:
    """Run one task in this process and return seconds and peak resident memory (MiB).

    ``task`` is ``load``, ``load@REV`` (the loader of git revision REV), ``read_parquet`` or ``read_csv``.
    """
    import pandas as pd

    from outcome_analysis import io

    if task.startswith("load@"):
        io = _io_of(task.split("@", 1)[1])
        task = "load"

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
    parser.add_argument("--compare", metavar="REV", help="also time the loader of this git revision on the same files")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each loader with --compare (the fastest counts)")
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
    if args.compare:
        return compare(folders, args.compare, args.repeat)
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


def compare(folders: dict[str, Path], revision: str, repeat: int) -> int:
    """The current loader against the one of ``revision``, alternating, fastest of ``repeat`` runs each."""
    print(f"{'format':8} {'loader':12} {'seconds':>8} {'CPU s':>6} {'peak MiB':>9}")
    for fmt, folder in folders.items():
        runs: dict[str, list[dict]] = {revision: [], "current": []}
        for _ in range(repeat):
            runs[revision].append(run(f"load@{revision}", folder))
            runs["current"].append(run("load", folder))
        best = {}
        for name, results in runs.items():
            best[name] = {key: min(r[key] for r in results) for key in ("seconds", "cpu_seconds", "peak_mib")}
            print(f"{fmt:8} {name[:12]:12} {best[name]['seconds']:8.2f} {best[name]['cpu_seconds']:6.2f} {best[name]['peak_mib']:9.0f}")
        print(
            f"{fmt:8} current / {revision}: time x{best['current']['seconds'] / best[revision]['seconds']:.3f} "
            f"(CPU x{best['current']['cpu_seconds'] / best[revision]['cpu_seconds']:.3f}), "
            f"peak memory x{best['current']['peak_mib'] / best[revision]['peak_mib']:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
