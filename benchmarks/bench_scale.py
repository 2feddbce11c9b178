"""Benchmark: what the batch needs per report and for its prepare step, at demo scale 1 and 10.

The figures ``docs/scaling.md`` extrapolates to the national batch from. At each ``--scales`` (default
1 and 10: about 100,000 and 1,000,000 trajectories of 47 institutions) it

1. builds the demo delivery (``python -m outcome_analysis.demo --out DIR --scale S``, Parquet) in the
   work folder;
2. runs the **prepare step** in a child process, as ``run_batch`` does it for one year (the latest
   complete one): load the delivery, hash it, read the settings and the verbeteracties, compute the
   institution results store (``prepare.prepare_once`` with ``prepare.prepare_results``, i.e.
   ``results.compute_results(...).save``, plus the course of the actions) and both unit stores
   (gemeenten and jeugdregio's, ``units.prepare_units``). Per stage: wall seconds and the child's peak
   resident memory during that stage (Linux ``VmHWM``, reset between stages through
   ``/proc/self/clear_refs``; the whole child's peak as well). The stores' size on disk;
3. runs ``run_reports.py --jobs 1`` on that cached store (so the prepare step is not counted):
   ``--reports`` institution reports (full edition, HTML + PDF; spread over the institutions by
   trajectories from the largest to the 75th percentile: the smallest get a too-little-data page),
   the short edition of the two smaller ones, and ``--units`` gemeente reports (``--for municipality``).
   Per report the seconds the manifest records (rendering in the worker: kernel run, HTML, PDF; the
   first report of a kernel includes its start); the wall time of the whole call (which adds the
   client's loading and hashing of the delivery, the leak audit, fingerprint check and writing of
   each report, the index pages); and the peak resident memory (``VmHWM``, sampled every 0.2 s from
   ``/proc/<pid>/status``) of the client (``run_reports.py``), of the worker (the process whose child
   is the kernel: it holds the payload and renders HTML and PDF) and of the kernel (``ipykernel``);
4. times the client's own work per report, which no number of workers shortens: the leak audit of
   each made institution report, repeated on its written files (``audit.audit_report`` with its
   ledger), and one save of the manifest grown to the national number of reports
   (:data:`NATIONAL_REPORTS`; the batch saves it after every report).

Every child runs on a copy of the package, notebooks and templates taken at the start: the store's
key covers the package's files, and an edit in the working tree during the run would otherwise make
``run_reports.py`` compute the store again inside the report measurement.

The machine is shared: the 1-minute load average is sampled during each measurement and printed
beside it; wall seconds on a loaded machine are upper bounds, the CPU seconds of the prepare step
are steadier. Prints a table and writes ``benchmarks/output/bench_scale.json``.

    python benchmarks/bench_scale.py [--scales 1,10] [--reports 4] [--units 2] [--work DIR] [--keep]

``--data DIR`` measures that delivery (a real one: run it where the data may be) instead of the demo.
``--merge`` keeps the other scales of an earlier ``bench_scale.json`` (e.g. ``--scales 10 --merge``).
``--work DIR`` keeps (and reuses) the built deliveries there; without it everything is made in a
temporary folder that is removed at the end, unless ``--keep``. Takes about 10 minutes at 1 and
10 on 2 shared cores (the scale-10 unit stores about 3 of them), and up to about 1.5 GiB of memory.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "benchmarks" / "output"
MIB = 1024 * 1024
#: the national batch of docs/scaling.md: 3,000 providers x 2 half-years x 2 editions, 392 gemeenten and
#: jeugdregio's x 2 half-years, 2 national overviews.
NATIONAL_REPORTS = 3000 * 2 * 2 + (350 + 42) * 2 + 2


# --------------------------------------------------------------------------------------------------
# memory of a process
# --------------------------------------------------------------------------------------------------

def vm_hwm_mib(pid: int | str = "self") -> float | None:
    """Peak resident memory (``VmHWM``) of process ``pid`` so far, in MiB; ``None`` when unreadable."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Reset this process's ``VmHWM`` to its current resident size (Linux ``clear_refs`` 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def du_mib(path: Path) -> float:
    """Size of the files under ``path`` in MiB."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / MIB


class LoadSampler:
    """The 1-minute load average, sampled every ``every`` seconds while the ``with`` block runs."""

    def __init__(self, every: float = 2.0):
        self.every, self.samples, self._stop = every, [], threading.Event()

    def __enter__(self):
        self.samples.append(os.getloadavg()[0])
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict:
        return {"min": round(min(self.samples), 2), "mean": round(sum(self.samples) / len(self.samples), 2),
                "max": round(max(self.samples), 2)}


# --------------------------------------------------------------------------------------------------
# the prepare step (runs in a child process: python bench_scale.py --prepare-child DATA CACHE)
# --------------------------------------------------------------------------------------------------

def _prepare_child(data_path: Path, cache: Path, with_units: bool) -> dict:
    stages: dict[str, dict] = {}
    can_reset = reset_peak()

    def stage(name: str, started: float, cpu: float) -> None:
        stages[name] = {"seconds": round(time.perf_counter() - started, 2),
                        "cpu_seconds": round(time.process_time() - cpu, 2),
                        "peak_mib": round(vm_hwm_mib() or 0.0, 1)}
        reset_peak()

    t, c = time.perf_counter(), time.process_time()
    from outcome_analysis.running.batch import units as unit_batch
    from outcome_analysis.running.batch.hashing import hash_path
    from outcome_analysis.running.batch.plan import resolve_periods
    from outcome_analysis.running.batch.prepare import (default_load, make_private_dir, prepare_once,
                                                        prepare_results, read_actions_once)
    from outcome_analysis.settings import for_delivery
    stage("imports", t, c)

    t, c = time.perf_counter(), time.process_time()
    data = default_load(data_path)
    stage("load", t, c)
    t, c = time.perf_counter(), time.process_time()
    data_hash = hash_path(data_path)
    settings, _ = for_delivery(data_path)
    periods = resolve_periods(None, data)
    actions, actions_hash = read_actions_once(None, data_path, data.institutions)
    stage("hash_settings_actions", t, c)

    cache = make_private_dir(cache)
    t, c = time.perf_counter(), time.process_time()
    keys = prepare_once(data, data_hash, settings, periods, cache, prepare_results, actions=actions,
                        actions_hash=actions_hash)
    stage("institution_store", t, c)
    unit_keys = {}
    if with_units:
        t, c = time.perf_counter(), time.process_time()
        mapping, _ = unit_batch.load_mapping(unit_batch.resolve_mapping_path(None, settings, "municipality", data_path))
        unit_keys = unit_batch.prepare_units(data, data_hash, settings, periods, cache, mapping)
        stage("unit_stores", t, c)

    t = data.trajectories
    counts = t["institution"].astype(str).value_counts()
    return {
        "trajectories": int(len(t)), "institutions": int(t["institution"].nunique()),
        "trajectories_by_care_type": {str(k): int(v) for k, v in t["care_type"].astype(str).value_counts().items()},
        "institutions_by_size": [str(name) for name in counts.index],
        "period": periods[0], "stages": stages, "peak_reset_per_stage": can_reset,
        "institution_store_mib": round(sum(du_mib(cache / k) for k in keys.values() if k), 2),
        "unit_stores_mib": round(sum(du_mib(cache / k) for k in unit_keys.values()), 2),
        "delivery_mib": round(du_mib(data_path), 1),
    }


def measure_prepare(code: Path, data: Path, cache: Path, with_units: bool) -> dict:
    """The prepare step in a fresh child process (cache ``cache`` emptied first)."""
    shutil.rmtree(cache, ignore_errors=True)
    started = time.perf_counter()
    with LoadSampler() as load:
        proc = subprocess.run([sys.executable, __file__, "--prepare-child", str(data), str(cache),
                               *(["--units", "1"] if with_units else ["--units", "0"])],
                              cwd=code, env=child_env(code), capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"the prepare step failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    result["load_average"] = load.summary()
    return result


# --------------------------------------------------------------------------------------------------
# reports: run_reports.py --jobs 1 on the cached store, its process tree sampled
# --------------------------------------------------------------------------------------------------

def _children(pid: int) -> dict[int, int]:
    """``{descendant pid: its parent pid}`` of ``pid`` (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = {}, [pid]
    while todo:
        here = todo.pop()
        for child, parent in parents.items():
            if parent == here and child not in found:
                found[child] = here
                todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def run_sampled(argv: list[str], code: Path, every: float = 0.2) -> dict:
    """Run ``argv`` (a ``run_reports.py`` call), sampling the peak memory of its processes."""
    started = time.perf_counter()
    with LoadSampler() as load:
        proc = subprocess.Popen(argv, cwd=code, env=child_env(code), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peaks: dict[int, float] = {}
        parent_of: dict[int, int] = {}
        kinds: dict[int, str] = {}
        out_err: list[str] = []
        reader = threading.Thread(target=lambda: out_err.extend(proc.communicate()), daemon=True)
        reader.start()
        while reader.is_alive():
            for pid, parent in {proc.pid: 0, **_children(proc.pid)}.items():
                hwm = vm_hwm_mib(pid)
                if hwm is None:
                    continue
                peaks[pid] = max(peaks.get(pid, 0.0), hwm)
                parent_of.setdefault(pid, parent)
                if pid not in kinds or kinds[pid] == "other":
                    line = _cmdline(pid)
                    kinds[pid] = "kernel" if "ipykernel" in line else "client" if pid == proc.pid else "other"
            reader.join(every)
    kernels = [p for p, k in kinds.items() if k == "kernel"]
    workers = {parent_of[p] for p in kernels if parent_of.get(p)}
    return {
        "returncode": proc.returncode, "wall_seconds": round(time.perf_counter() - started, 1),
        "stdout": out_err[0] if out_err else "", "stderr": out_err[1] if len(out_err) > 1 else "",
        "client_peak_mib": round(peaks.get(proc.pid, 0.0), 1),
        "worker_peak_mib": round(max((peaks[p] for p in workers if p in peaks), default=0.0), 1),
        "kernel_peak_mib": round(max((peaks[p] for p in kernels), default=0.0), 1),
        "kernels": len(kernels), "load_average": load.summary(),
    }


def measure_reports(code: Path, data: Path, cache: Path, out: Path, period: str, names: list[str], kind: str,
                    edition: str = "full") -> dict:
    """``run_reports.py --jobs 1`` for ``names`` (institutions, or gemeente codes with ``kind``
    ``municipality``) on the cached store; seconds per report from the manifest."""
    shutil.rmtree(out, ignore_errors=True)
    argv = [sys.executable, str(code / "run_reports.py"), "--data", str(data), "--out", str(out), "--cache", str(cache),
            "--period", period, "--formats", "html,pdf", "--jobs", "1", "--no-national", "--quiet"]
    if kind == "institution":
        argv += ["--edition", edition, "--institutions", ",".join(names)]
    else:
        argv += ["--for", kind, "--municipalities", *names]
    run = run_sampled(argv, code)
    if run["returncode"] not in (0, 1) or not (out / "manifest.json").is_file():  # 1: a report failed, listed
        raise SystemExit(f"run_reports.py exited {run['returncode']}:\n{run['stderr'][-4000:]}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    reports = [{"name": e.get("label") or e.get("institution"), "status": e["status"],
                "seconds": round(e["duration"], 2),
                **({"error": (e.get("error") or {}).get("message")} if e["status"] != "made" else {}),
                "kib": {fmt: round((out / rel).stat().st_size / 1024) for fmt, rel in e.get("files", {}).items()}}
               for e in sorted(manifest["reports"].values(), key=lambda e: e.get("started") or "")]
    made = [r for r in reports if r["status"] == "made"]
    times = sorted(r["seconds"] for r in made) or [0.0]
    later = [r["seconds"] for r in made if r is not reports[0]]
    run.pop("stdout")
    run.pop("stderr")
    return {**run, "reports": reports, "n": len(reports), "made": len(made),
            # over the reports with status made (a too_little_data page takes about 2 s)
            "seconds_per_report_mean": round(sum(times) / len(times), 2),
            "seconds_per_report_median": times[len(times) // 2],
            # the first report of the run includes starting the worker's kernel
            "seconds_per_report_warm": round(sum(later) / len(later), 2) if later else None,
            # a report that failed (e.g. its leak audit) took its seconds all the same: counted here
            "seconds_per_report_all": round(sum(r["seconds"] for r in reports) / max(1, len(reports)), 2)}


# --------------------------------------------------------------------------------------------------
# the client's own work per report (python bench_scale.py --client-child OUT CACHE DATA)
# --------------------------------------------------------------------------------------------------

def _client_child(out: Path, cache: Path, data_path: Path) -> dict:
    """Per made institution report of ``out``: the seconds of the leak audit as the client runs it
    after each report (PDF text by pdftotext, HTML text, :func:`audit.audit_report` with its
    ledger), repeated here on the written files; and the seconds of one manifest save (as after
    every report) with the manifest grown to the national number of reports."""
    import io as _io
    import tempfile as _tempfile

    from outcome_analysis.presentation import ledger
    from outcome_analysis.running import audit
    from outcome_analysis.running.batch.manifest import save_manifest
    from outcome_analysis.running.results import Results
    from outcome_analysis.settings import for_delivery

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    settings, _ = for_delivery(data_path)
    stores = {}
    seconds = []
    for key, entry in manifest["reports"].items():
        if entry["status"] != "made" or entry.get("kind") != "institution":
            continue
        digest = next(iter(v["hash"] for v in manifest["runs"][-1]["inputs"]["results"].values() if v))
        store = stores.setdefault(digest, Results.load(cache / digest))
        started = time.perf_counter()
        html = (out / entry["files"]["html"]).read_text(encoding="utf-8")
        pdf_text = audit.text_of_pdf(out / entry["files"]["pdf"])
        path = ledger.ledger_path(cache / digest, key)
        frame = ledger.load(_io.BytesIO(path.read_bytes())) if path.is_file() else None
        audit.audit_report(audit.text_of_html(html), pdf_text, None, store, entry["institution"], settings,
                           ledger_frame=frame)
        seconds.append(round(time.perf_counter() - started, 2))
    entries = list(manifest["reports"].values())
    grown = dict(manifest, reports={f"{i:06d}": entries[i % len(entries)] for i in range(NATIONAL_REPORTS)})
    with _tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        save_manifest(Path(tmp), grown)
        save_s = time.perf_counter() - started
        size = (Path(tmp) / "manifest.json").stat().st_size / MIB
    return {"audit_seconds": seconds, "manifest_reports": NATIONAL_REPORTS, "manifest_mib": round(size, 1),
            "manifest_save_seconds": round(save_s, 2)}


def measure_client(code: Path, out: Path, cache: Path, data: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--client-child", str(out), str(cache), str(data)],
                          cwd=code, env=child_env(code), capture_output=True, text=True)
    if proc.returncode:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------------

def snapshot(folder: Path) -> Path:
    """A copy of the package, the notebooks, the templates and ``run_reports.py`` in ``folder/code``.

    Every child runs on it (``PYTHONPATH``, working folder): the results store's key covers the
    package's files, so an edit in the working tree between the prepare step and the reports would
    make ``run_reports.py`` compute the store again and count it among the reports."""
    code = folder / "code"
    shutil.rmtree(code, ignore_errors=True)
    code.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for name in ("outcome_analysis", "notebooks", "templates"):
        shutil.copytree(ROOT / name, code / name, ignore=ignore)
    shutil.copy2(ROOT / "run_reports.py", code / "run_reports.py")
    return code


def child_env(code: Path) -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))


def build(folder: Path, scale: float) -> tuple[Path, float | None]:
    """The demo delivery at ``scale`` in ``folder`` (built when it is missing); seconds to build."""
    data = folder / f"demo_scale{scale:g}"
    if (data / "settings.yaml").is_file() and (data / "trajectories.parquet").is_file():
        return data, None
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "outcome_analysis.demo", "--out", str(data), "--scale", f"{scale:g}"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return data, round(time.perf_counter() - started, 1)


def pick(by_size: list[str], n: int) -> list[str]:
    """``n`` institutions spread over the sizes (largest first, down to the 75th percentile of the
    ranking): the smallest ones get a short too-little-data page, which is not a report's cost."""
    n = max(1, min(n, len(by_size)))
    upto = max(n, int(len(by_size) * 0.75))
    return [by_size[round(i * (upto - 1) / max(1, n - 1))] for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10", help="demo scales, comma-separated (default 1,10)")
    parser.add_argument("--reports", type=int, default=4, help="institution reports per scale (default 4)")
    parser.add_argument("--units", type=int, default=2, help="gemeente reports per scale (default 2; 0: none, "
                                                             "and no unit stores in the prepare step)")
    parser.add_argument("--units-up-to", type=float, default=10.0,
                        help="unit stores and gemeente reports only at scales up to this one (default 10)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the scales of the existing bench_scale.json that this run does not measure "
                             "(each scale records its own date)")
    parser.add_argument("--data", type=Path,
                        help="measure this delivery folder (e.g. a real one) instead of the demo scales; its "
                             "results in bench_scale.json under scale 0")
    parser.add_argument("--work", type=Path, help="work folder, kept (deliveries reused); default a temporary one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    parser.add_argument("--prepare-child", nargs=2, metavar=("DATA", "CACHE"), help=argparse.SUPPRESS)
    parser.add_argument("--client-child", nargs=3, metavar=("OUT", "CACHE", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare_child:
        print(json.dumps(_prepare_child(Path(args.prepare_child[0]), Path(args.prepare_child[1]), args.units > 0)))
        return 0
    if args.client_child:
        print(json.dumps(_client_child(*(Path(a) for a in args.client_child))))
        return 0

    scales = [0.0] if args.data else [float(s) for s in args.scales.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    gemeenten = ["GM0363", "GM0437", "GM0344", "GM0599"][: max(0, args.units)]  # Amsterdam, Ouder-Amstel, ...
    result = {
        "date": _dt.date.today().isoformat(), "machine": {
            "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3, 1),
            "note": "shared machine: other work ran at the same time (see load_average per measurement)"},
        "method": "prepare: one child process, per-stage peak VmHWM; reports: run_reports.py --jobs 1 on the "
                  "cached store, full edition, HTML + PDF, per-report seconds from the manifest, peak VmHWM "
                  "of client, worker and kernel sampled every 0.2 s",
        "scales": [],
    }
    print(f"{os.cpu_count()} CPU(s), shared machine: load average {os.getloadavg()[0]:.1f} at the start; "
          f"wall seconds are upper bounds.", flush=True)
    code = snapshot(work)
    try:
        for scale in scales:
            units_here = args.units > 0 and (scale <= args.units_up_to or args.data is not None)
            data, built = (args.data.resolve(), None) if args.data else build(work, scale)
            cache = work / f"cache_scale{scale:g}"
            print(f"\n--- scale {scale:g}: {data}" + (f" (built in {built} s)" if built else ""), flush=True)
            prep = measure_prepare(code, data, cache, units_here)
            print(f"prepare: {prep['trajectories']:,} trajectories, {prep['institutions']} institutions, period "
                  f"{prep['period']}, {prep['wall_seconds']} s, load average {prep['load_average']['mean']}", flush=True)
            chosen = pick(prep["institutions_by_size"], args.reports)
            inst = measure_reports(code, data, cache, work / f"out_scale{scale:g}", prep["period"], chosen, "institution")
            for failed in (r for r in inst["reports"] if r["status"] not in ("made", "too_little_data")):
                print(f"  {failed['status']}: {failed['name']}: {failed.get('error')}", flush=True)
            print(f"{inst['made']} of {inst['n']} institution reports made: {inst['seconds_per_report_mean']} s each (mean), "
                  f"load average {inst['load_average']['mean']}", flush=True)
            inst["client"] = measure_client(code, work / f"out_scale{scale:g}", cache, data)
            print(f"client per report: audit {inst['client'].get('audit_seconds')} s; one manifest save at "
                  f"{NATIONAL_REPORTS:,} reports: {inst['client'].get('manifest_save_seconds')} s", flush=True)
            short = measure_reports(code, data, cache, work / f"out_short_scale{scale:g}", prep["period"],
                                    chosen[-2:], "institution", edition="short")
            print(f"{short['made']} of {short['n']} short-edition reports made: {short['seconds_per_report_mean']} s "
                  f"each (mean), load average {short['load_average']['mean']}", flush=True)
            entry = {"scale": scale, "date": _dt.datetime.now().isoformat(timespec="minutes"), "build_seconds": built,
                     "prepare": prep, "institution_reports": inst, "short_edition_reports": short}
            if gemeenten and units_here:
                units = measure_reports(code, data, cache, work / f"out_units_scale{scale:g}", prep["period"], gemeenten,
                                        "municipality")
                print(f"{units['n']} gemeente reports: {units['seconds_per_report_mean']} s each (mean), "
                      f"load average {units['load_average']['mean']}", flush=True)
                entry["municipality_reports"] = units
            entry["prepare"].pop("institutions_by_size")
            entry["institutions_reported"] = chosen
            result["scales"].append(entry)
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif args.work is None:
            print(f"kept {work}")

    target = OUTPUT / "bench_scale.json"
    if args.merge and target.is_file():
        measured = {s["scale"] for s in result["scales"]}
        kept = [s for s in json.loads(target.read_text(encoding="utf-8")).get("scales", []) if s["scale"] not in measured]
        result["scales"] = sorted(kept + result["scales"], key=lambda s: s["scale"])
    print_table(result)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {target.relative_to(ROOT)}")
    return 0


def print_table(result: dict) -> None:
    rows = []
    for s in result["scales"]:
        p = s["prepare"]
        load = p["load_average"]["mean"]
        for name, st in p["stages"].items():
            rows.append((f"{s['scale']:g}", f"prepare: {name}", f"{st['seconds']:.1f}", f"{st['cpu_seconds']:.1f}",
                         f"{st['peak_mib']:.0f}", "", "", f"{load:.1f}"))
        rows.append((f"{s['scale']:g}", "  stores on disk (MiB)", "", "", "", "", "",
                     f"inst {p['institution_store_mib']:.1f}, units {p['unit_stores_mib']:.1f}"))
        for key, label in (("institution_reports", "institution report"), ("short_edition_reports", "short edition"),
                           ("municipality_reports", "gemeente report")):
            r = s.get(key)
            if r:
                rows.append((f"{s['scale']:g}", f"{label} (x{r['n']}, mean)", f"{r['seconds_per_report_mean']:.1f}", "",
                             f"{r['client_peak_mib']:.0f}", f"{r['worker_peak_mib']:.0f}", f"{r['kernel_peak_mib']:.0f}",
                             f"{r['load_average']['mean']:.1f}"))
    head = ("scale", "step", "wall s", "cpu s", "peak MiB (client)", "worker MiB", "kernel MiB", "load avg")
    widths = [max(len(str(row[i])) for row in (head, *rows)) for i in range(len(head))]
    print()
    for row in (head, *rows):
        print("  ".join(str(v).ljust(w) if i < 2 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths))))
    print(f"(machine: {result['machine']['cpus']} CPUs, shared; load average is the 1-minute mean during the step)")


if __name__ == "__main__":
    sys.exit(main())
