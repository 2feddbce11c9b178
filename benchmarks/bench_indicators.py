"""Benchmark of indicators.compute: the full catalogue at 1M and 5M demo trajectories, and herhaald
beroep against the same definition written as a DuckDB SQL query (same numbers, time ratio).

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/bench_indicators.py            # scales 10 and 50
    .venv/bin/python benchmarks/bench_indicators.py --scale 1  # quick
    .venv/bin/python benchmarks/bench_indicators.py --scale 1 --results  # + results.compute_results

With ``--results`` it also times ``results.compute_results`` (the table, context, quality, verloop
and every case-mix model) and counts the builder calls per indicator during it (one each: the
case-mix models get the records of the same build as the table).  To compare two versions of the
package, run this script with ``PYTHONPATH`` pointing at the other checkout.

Each measurement runs in its own subprocess. After the demo data is built, the process frees what it
can (``gc.collect``, ``malloc_trim``) and resets its resident-memory high-water mark (Linux
``/proc/self/clear_refs``), so ``peak`` is the highest resident memory *during* the measurement
(data included) and ``extra`` = peak minus the resident memory just before it.  The input size is
the deep memory usage of the trajectories frame; the memory ratio printed is peak / input (and
extra / input).
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import resource
import subprocess
import sys
import time

SQL_HERHAALD_BEROEP = """
WITH o AS (
    SELECT client_id, institution, care_type, CAST(start_date AS DATE) AS start_date,
           COALESCE(CAST(end_date AS DATE), DATE '9999-12-31') AS e
    FROM traj WHERE care_type IN ('jb', 'jr')
), m AS (  -- running max of end over the youth's earlier JB/JR records
    SELECT *, MAX(e) OVER (PARTITION BY client_id ORDER BY start_date, e
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max
    FROM o
), g AS (
    SELECT *, SUM(CASE WHEN prev_max IS NULL OR start_date > prev_max + INTERVAL 1 DAY THEN 1 ELSE 0 END)
              OVER (PARTITION BY client_id ORDER BY start_date, e ROWS UNBOUNDED PRECEDING) AS ep
    FROM m
), r AS (  -- the last-ending record of each episode gives its institution and care type
    SELECT *, MIN(start_date) OVER (PARTITION BY client_id, ep) AS ep_start,
              MAX(e) OVER (PARTITION BY client_id, ep) AS ep_end,
              ROW_NUMBER() OVER (PARTITION BY client_id, ep ORDER BY e DESC, start_date DESC) AS rn
    FROM g
), ep AS (
    SELECT client_id, ep, care_type, institution, ep_start, ep_end,
           LEAD(ep_start) OVER (PARTITION BY client_id ORDER BY ep_start) AS next_start
    FROM r WHERE rn = 1
), ended AS (
    SELECT *, CAST(year(ep_end) AS VARCHAR) AS period,
           ep_end + INTERVAL 12 MONTH > DATE '{ref}' AS excluded,
           COALESCE(next_start <= ep_end + INTERVAL 12 MONTH, FALSE) AS new_start,
           ROW_NUMBER() OVER (PARTITION BY client_id, year(ep_end) ORDER BY ep_end DESC, ep DESC) AS last_in_period
    FROM ep WHERE ep_end < DATE '9999-12-31'
)
SELECT period, care_type,
       SUM(CASE WHEN NOT excluded AND new_start THEN 1 ELSE 0 END) AS numerator,
       SUM(CASE WHEN NOT excluded THEN 1 ELSE 0 END) AS denominator,
       SUM(CASE WHEN excluded THEN 1 ELSE 0 END) AS excluded_window
FROM ended WHERE last_in_period = 1
GROUP BY period, care_type ORDER BY period, care_type
"""


def _rss_mb(field: str) -> float:
    """``VmRSS`` / ``VmHWM`` of this process in MB (ru_maxrss as a fallback)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the resident-memory high-water mark (VmHWM)
    except OSError:
        pass


def _demo(scale: float):
    from outcome_analysis.demo import make_demo
    return make_demo(seed=0, scale=scale)


def measure(what: str, scale: float) -> dict:
    """One measurement in this process (called in a subprocess)."""
    import pandas as pd

    from outcome_analysis import indicators

    data = _demo(scale)
    t = data.trajectories
    input_mb = t.memory_usage(deep=True).sum() / 2**20
    _reset_peak()
    rss_before = _rss_mb("VmRSS")
    t0 = time.perf_counter()
    if what == "catalogue":
        out = indicators.compute(data)
        result = {"rows_out": len(out)}
    elif what == "herhaald":
        out = indicators.compute(data, "jbjr_herhaald_beroep", by=())
        head = out[(out["category"] == "") & (out["window_months"] == 12)]
        result = {"table": head[["period", "care_type", "numerator", "denominator", "excluded_window"]]
                  .astype({"numerator": int}).sort_values(["period", "care_type"]).values.tolist()}
    elif what == "duckdb":
        import duckdb
        con = duckdb.connect()
        traj = t[["client_id", "institution", "care_type", "start_date", "end_date"]].astype(
            {"client_id": str, "institution": str, "care_type": str})
        con.register("traj", traj)
        ref = pd.Timestamp(data.reference_date).strftime("%Y-%m-%d")
        res = con.execute(SQL_HERHAALD_BEROEP.format(ref=ref)).fetchall()
        result = {"table": [[p, c, int(n), int(d), int(x)] for p, c, n, d, x in res]}
    elif what == "results":
        from outcome_analysis.indicators import builders
        from outcome_analysis.running import results

        calls: dict[str, int] = {}
        for ident, build in list(builders._BUILDERS.items()):
            def counted(b, entry, build=build):
                calls[entry.id] = calls.get(entry.id, 0) + 1
                return build(b, entry)
            builders._BUILDERS[ident] = counted
        t0 = time.perf_counter()  # the wrapping is not timed
        out = results.compute_results(data)
        result = {"casemix_rows": len(out.casemix), "builder_calls": sum(calls.values()),
                  "indicators_built": len(calls), "most_builds": max(calls.values(), default=0)}
    else:
        raise ValueError(what)
    seconds = time.perf_counter() - t0
    peak = _rss_mb("VmHWM")
    return {"what": what, "scale": scale, "n": len(t), "seconds": seconds, "input_mb": input_mb,
            "rss_before_mb": rss_before, "peak_mb": peak, "extra_mb": peak - rss_before, **result}


def run(what: str, scale: float) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--one", what, "--scale", str(scale)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, action="append", help="demo scale(s); default 10 and 50")
    parser.add_argument("--results", action="store_true", help="also time results.compute_results")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.scale[0]), default=str))
        return
    for scale in args.scale or [10, 50]:
        if args.results:
            res = run("results", scale)
            print(f"scale {scale:g}: results.compute_results {res['seconds']:.1f} s, peak RSS {res['peak_mb']:.0f} MB "
                  f"(+{res['extra_mb']:.0f} MB); {res['builder_calls']} builder calls for {res['indicators_built']} "
                  f"indicators (at most {res['most_builds']} for one); {res['casemix_rows']} case-mix rows")
        cat = run("catalogue", scale)
        hb = run("herhaald", scale)
        db = run("duckdb", scale)
        same = hb["table"] == db["table"]
        print(f"scale {scale:g}: {cat['n']:,} trajectories, input frame {cat['input_mb']:.0f} MB")
        print(f"  full catalogue: {cat['seconds']:.1f} s, {cat['rows_out']:,} output rows, "
              f"peak RSS {cat['peak_mb']:.0f} MB = {cat['peak_mb'] / cat['input_mb']:.2f}x the input frame "
              f"(process with data loaded {cat['rss_before_mb']:.0f} MB; +{cat['extra_mb']:.0f} MB during the "
              f"computation = {cat['extra_mb'] / cat['input_mb']:.2f}x input)")
        print(f"  herhaald beroep: ours {hb['seconds']:.2f} s (+{hb['extra_mb']:.0f} MB), "
              f"DuckDB {db['seconds']:.2f} s (+{db['extra_mb']:.0f} MB), ratio {hb['seconds'] / db['seconds']:.2f}, "
              f"same numbers: {same}; peak RSS ours {hb['peak_mb']:.0f} MB "
              f"({hb['peak_mb'] / hb['input_mb']:.2f}x input), DuckDB {db['peak_mb']:.0f} MB")
        if not same:
            print("   ours  :", hb["table"])
            print("   duckdb:", db["table"])


if __name__ == "__main__":
    main()
