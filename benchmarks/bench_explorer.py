"""Benchmark of the explorer's responsiveness on 1,000,000 demo trajectories (``make_demo(scale=10)``).

Measures the update time of

(a) changes that need no recomputation (indicator, institution, period, care type, raw/adjusted
    once cached): filtering cached frames and redrawing; aim under 0.3 s;
(b) changes of a definition setting that do (follow-up window, granularity; and the first
    case-mix fit of a view): aim under 3 s;
(c) a threshold change (suppression re-marked on the cached table, no recomputation),

against baselines measured in the same run: a full ``indicators.compute`` of every indicator
from scratch (what the explorer would do without caches) and ``compute`` of the one indicator shown.

Run by hand (heavy: about 1.2 GB and a minute or two on two cores; not part of the test suite)::

    .venv/bin/python benchmarks/bench_explorer.py            # scale 10 = 1M trajectories
    .venv/bin/python benchmarks/bench_explorer.py --scale 1  # quick
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time

os.environ.setdefault("MPLBACKEND", "Agg")

AIM_CACHED = 0.3
AIM_RECOMPUTE = 3.0


def _timed(func):
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0, help="demo scale (10 = 1M trajectories)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each cached change (median)")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    from outcome_analysis import indicators
    from outcome_analysis.demo import make_demo
    from outcome_analysis.explorer import Explorer

    t_demo, data = _timed(lambda: make_demo(seed=0, scale=args.scale))
    n = len(data.trajectories)
    print(f"demo: {n:,} trajectories in {t_demo:.1f} s")

    t_full, _ = _timed(lambda: indicators.compute(data))
    t_one, _ = _timed(lambda: indicators.compute(data, "jbjr_herhaald_beroep"))
    print(f"baseline: full compute (all {len(indicators.COMPUTABLE)} indicators) {t_full:.2f} s; "
          f"compute of one indicator (jbjr_herhaald_beroep) {t_one:.2f} s")

    t_start, ex = _timed(lambda: Explorer(data, export_dir=tempfile.mkdtemp(prefix="bench-explorer-"), indicator="jbjr_herhaald_beroep"))
    print(f"explorer start (precompute every indicator + first view): {t_start:.2f} s")
    ex.set(care_type="jb", period="2022")
    institutions = [i for i in ex.institutions if (ex.current_table()["institution"] == i).any()]

    rows = []

    def measure(label, kind, changes):
        """Apply each change in turn; report the median update time (and whether it recomputed)."""
        times, recomputed = [], []
        for change in changes:
            ex.set(**change)
            times.append(ex.last_update_seconds)
            recomputed.append(ex.last_update_recomputed)
        rows.append((label, kind, statistics.median(times), max(times), any(recomputed)))

    r = args.repeat
    measure("indicator (cached)", "a", [{"indicator": i} for i in
                                        ["jbjr_verloop", "jbjr_herhaald_beroep"] * r])
    measure("institution", "a", [{"institutions": [institutions[k % len(institutions)]]} for k in range(2 * r)])
    measure("period", "a", [{"period": p} for p in ["2021", "2022"] * r])
    measure("care type", "a", [{"care_type": c} for c in ["jr", "jb"] * r])
    measure("adjusted, first fit of the view", "b", [{"adjusted": True}])
    measure("raw/adjusted (cached)", "a", [{"adjusted": a} for a in [False, True] * r])
    ex.set(adjusted=False)
    measure("suppression threshold", "c", [{"min_denominator": 25}, {"min_denominator": 10}])
    measure("threshold back (cached)", "a", [{"min_denominator": v} for v in [25, 10] * r])
    measure("window 12 -> 24 months", "b", [{"window": 24}])
    measure("window 24 -> 18 months", "b", [{"window": 18}])
    ex.set(window=12)
    measure("granularity year -> half year", "b", [{"granularity": "half_year"}])
    measure("granularity back to year (cached)", "a", [{"granularity": "year"}])

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{'update':40s} {'kind':>4s} {'median s':>9s} {'max s':>7s} {'recomputed':>10s} "
          f"{'/ full compute':>15s} {'/ one indicator':>16s} {'aim':>6s}")
    for label, kind, med, worst, recomputed in rows:
        aim = AIM_RECOMPUTE if kind == "b" else AIM_CACHED
        ok = "ok" if worst <= aim else "MISSED"
        print(f"{label:40s} {kind:>4s} {med:9.3f} {worst:7.3f} {str(recomputed):>10s} "
              f"{med / t_full:15.4f} {med / t_one:16.3f} {ok:>3s}<{aim:g}")
    print(f"\npeak resident memory: {peak:,.0f} MB; caches: {ex.cache_info()}")
    print("kinds: a = no recomputation (aim < 0.3 s), b = recomputation (aim < 3 s), "
          "c = suppression re-marked only (aim < 0.3 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
