"""Run every benchmark in this folder, one after the other, each in its own process.

``make bench`` calls this. Each benchmark prints its own figures with the ratio against a baseline
measured in the same run; this script only runs them and reports which ones failed. Heavy: minutes,
and up to a few GiB of memory (the 1,000,000- and 5,000,000-trajectory populations).

    .venv/bin/python benchmarks/run_all.py [NAME ...]     # e.g. load indicators
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not wanted or p.stem.removeprefix("bench_") in wanted)
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} " + "=" * max(0, 60 - len(script.name)), flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"--- {script.name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
