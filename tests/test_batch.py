"""Tests of the batch runner on tiny fixture notebooks (tests/fixtures/batch/).

The fixture notebooks take the real notebook's parameters (data_path, results_path, institution,
period, lang) and do tiny work: print one line from the prepared results, raise for an institution
whose name starts with FAIL, sleep for one starting with SLOW, and print the transport of their own
kernel's connection file. ``load`` and ``prepare`` are fakes (the whole population is four names).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from outcome_analysis import atomic, batch
from outcome_analysis.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "batch"
NOTEBOOK = FIXTURES / "institution_report.ipynb"
NATIONAL = FIXTURES / "national_overview.ipynb"

GOOD = ["Stichting Jeugd Noord", "Jeugd & Zorg Zuid", "../../evil<script>"]
FAILING = "FAIL Stichting Kapot"
POPULATION = GOOD + [FAILING]


def fake_load(path):
    """The data set as far as the batch needs it: the names and the reference date."""
    return SimpleNamespace(institutions=POPULATION, reference_date=pd.Timestamp("2025-03-31"))


def fake_prepare(data, settings, granularity, folder, periods=()):
    """'Compute once': one figure per institution, written as the results store would."""
    figures = {name: 10 * (i + 1) + settings.min_count for i, name in enumerate(data.institutions)}
    (Path(folder) / "figures.json").write_text(json.dumps(figures), encoding="utf-8")


def make_data(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trajectories.csv").write_text("client_id,institution\n1,Stichting Jeugd Noord\n", encoding="utf-8")
    return folder


def run(data, out, **kwargs):
    """The batch on the fixtures; the results cache beside the output folder (never the user's own)."""
    options = dict(periods=["2024"], formats=("html",), lang="nl", jobs=2, notebook=NOTEBOOK,
                   national_notebook=NATIONAL, load=fake_load, prepare=fake_prepare, quiet=True,
                   cache=Path(out).parent / f"{Path(out).name}-cache")
    options.update(kwargs)
    return batch.run_batch(data, out=out, **options)


def without_dates(raw: bytes) -> bytes:
    """Report bytes with dates and times blanked (the cover shows the day it was made)."""
    text = raw.decode("utf-8")
    text = re.sub(r"\d{4}-\d{2}-\d{2}(T[\d:.+]+)?", "<date>", text)
    text = re.sub(r"\b\d{1,2} [a-z]+ \d{4}\b", "<date>", text)
    return text.encode("utf-8")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("batch")
    data = make_data(base / "data")
    out = base / "reports"
    result = run(data, out)
    pages = {p.name: p.read_bytes() for p in (out / "2024").glob("*.html") if p.name != "index.html"}
    return SimpleNamespace(base=base, data=data, out=out, result=result, pages=pages,
                           manifest=json.loads((out / "manifest.json").read_text(encoding="utf-8")))


def test_batch_makes_every_report_the_index_pages_and_the_manifest(first_run):
    out, result, manifest = first_run.out, first_run.result, first_run.manifest
    assert result.counts == {"made": 4, "too_little_data": 0, "failed": 1, "skipped": 0}  # 3 institutions + national; 1 failed
    for name in GOOD:
        html_file = out / "2024" / f"{batch.slugify(name)}.html"
        assert html_file.is_file(), name
    assert (out / "2024" / f"{batch.NATIONAL_SLUG}.html").is_file()
    assert (out / "2024" / "index.html").is_file() and (out / "index.html").is_file()
    assert "2024/index.html" in (out / "index.html").read_text(encoding="utf-8")
    # every report recorded with its inputs' hash, duration and parameters
    assert len(manifest["reports"]) == 5
    for entry in manifest["reports"].values():
        assert entry["duration"] >= 0 and entry["parameters"]["period"] == "2024"
    run_record = manifest["runs"][-1]
    assert run_record["inputs"]["data"]["hash"] and run_record["inputs"]["settings"]["min_count"] == 10
    assert run_record["package_version"] and run_record["finished"] >= run_record["started"]
    # compute once: one results folder in the cache outside the output folder, passed to every
    # notebook as a relative path; nothing of it under the output folder
    cache = first_run.base / "reports-cache"
    results = list(cache.iterdir())
    assert len(results) == 1 and (results[0] / "figures.json").is_file()
    assert run_record["inputs"]["results"]["year"]["path"] == str(results[0])
    assert not (out / ".results").exists() and not list(out.rglob("figures.json"))
    noord = (out / "2024" / f"{batch.slugify('Stichting Jeugd Noord')}.html").read_text(encoding="utf-8")
    assert "n=20" in noord  # 10 * 1 + min_count 10, from the prepared results
    # no temporary files left anywhere
    assert not [p for p in out.rglob("*.tmp")]


def test_a_failing_institution_is_recorded_and_the_others_are_made(first_run):
    out, result, manifest = first_run.out, first_run.result, first_run.manifest
    assert not result.ok
    [failure] = result.failures
    assert failure["institution"] == FAILING
    assert "ValueError: no data for FAIL Stichting Kapot" in failure["message"]
    assert failure["message"].startswith("cell [")  # where it failed, not a traceback
    entry = manifest["reports"][f"2024/{batch.slugify(FAILING)}"]
    assert entry["status"] == "failed" and entry["error"]["ename"] == "ValueError" and entry["files"] == {}
    assert not (out / "2024" / f"{batch.slugify(FAILING)}.html").exists()
    index = (out / "2024" / "index.html").read_text(encoding="utf-8")
    assert "no data for FAIL Stichting Kapot" in index and "mislukt" in index
    assert "Eén rapport per instelling, in HTML." in index  # only the formats this run made
    assert "FAILED 2024 FAIL Stichting Kapot" in result.summary()


def test_a_hostile_name_gets_a_safe_slug_inside_the_period_folder_and_escaped_html(first_run):
    out = first_run.out
    slug = batch.slugify("../../evil<script>")
    assert re.fullmatch(r"[a-z0-9-]+-[0-9a-f]{8}", slug)
    files = [p for p in out.rglob("*.html") if "evil" in p.name]
    assert files == [out / "2024" / f"{slug}.html"]
    index = (out / "2024" / "index.html").read_text(encoding="utf-8")
    assert "../../evil&lt;script&gt;" in index and "<script>" not in index
    assert "evil<script>" not in (out / "index.html").read_text(encoding="utf-8")


def test_kernels_talk_over_ipc_in_a_private_temporary_directory(first_run):
    for entry in first_run.manifest["reports"].values():
        kernel = entry["kernel"]
        assert kernel["transport"] == "ipc"
        private = Path(kernel["private_dir"])
        assert private.name.startswith("oa-k-") and Path(kernel["connection_file"]).parent == private
        assert Path(kernel["ip"]).parent == private
        assert not private.exists()  # removed at kernel shutdown
    dirs = {entry["kernel"]["private_dir"] for entry in first_run.manifest["reports"].values()}
    failed = sum(entry["status"] == "failed" for entry in first_run.manifest["reports"].values())
    # one directory per kernel; a worker keeps its kernel for the next report, and a failed report's
    # kernel is replaced: at most one kernel per worker plus one per failure
    assert len(dirs) < len(first_run.manifest["reports"])
    assert len(dirs) <= first_run.result.manifest["runs"][-1]["parameters"]["jobs"] + failed
    # and the kernel itself read an IPC connection file from such a directory
    noord = (first_run.out / "2024" / f"{batch.slugify('Stichting Jeugd Noord')}.html").read_text(encoding="utf-8")
    assert "transport: ipc | private dir: True" in noord


def test_ipc_kernel_manager_defaults():
    from outcome_analysis.kernels import IPCKernelManager

    km = IPCKernelManager(kernel_name="python3")
    try:
        assert km.transport == "ipc"
        assert km.connection_file == os.path.join(km.private_dir, "kernel.json")
        assert km.ip == os.path.join(km.private_dir, "ipc")
        assert oct(os.stat(km.private_dir).st_mode & 0o777) == "0o700"
    finally:
        os.rmdir(km.private_dir)


def test_a_second_run_skips_unchanged_reports_and_changes_rerun(first_run, tmp_path):
    out, data = first_run.out, first_run.data
    pick = ["Stichting*", "Jeugd & Zorg Zuid", "../../evil<script>"]
    before = {p: p.stat().st_mtime_ns for p in (out / "2024").glob("*.html") if p.name != "index.html"}
    durations = {k: e["duration"] for k, e in first_run.manifest["reports"].items()}

    again = run(data, out, institutions=pick)
    assert again.counts == {"made": 0, "too_little_data": 0, "failed": 0, "skipped": 4}
    after = {p: p.stat().st_mtime_ns for p in before}
    assert after == before  # nothing rewritten
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {k: e["duration"] for k, e in manifest["reports"].items()} == durations
    assert manifest["runs"][-1]["counts"]["skipped"] == 4

    # other settings: new results, every report made again
    changed = run(data, out, institutions=["Stichting*"], settings=Settings(min_count=5))
    assert changed.counts == {"made": 2, "too_little_data": 0, "failed": 0, "skipped": 0}
    noord = (out / "2024" / f"{batch.slugify('Stichting Jeugd Noord')}.html").read_text(encoding="utf-8")
    assert "n=15" in noord

    # another notebook: made again
    notebook = tmp_path / "institution_report.ipynb"
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    nb["cells"][0]["source"] = "# Fixture: institution report, second edition"
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    edited = run(data, out, institutions=["Jeugd*"], notebook=notebook, national_notebook=None)
    assert edited.counts == {"made": 1, "too_little_data": 0, "failed": 0, "skipped": 0}


def test_dask_local_cluster_gives_the_same_reports_as_the_process_pool(first_run):
    out = first_run.base / "reports-dask"
    result = run(first_run.data, out, scheduler="dask-local", institutions=GOOD)
    assert result.counts == {"made": 4, "too_little_data": 0, "failed": 0, "skipped": 0}
    assert sorted(first_run.pages) == sorted(p.name for p in (out / "2024").glob("*.html") if p.name != "index.html")
    for name, raw in first_run.pages.items():  # as the process pool made them in the first run
        assert without_dates((out / "2024" / name).read_bytes()) == without_dates(raw), name


def test_timeout_is_recorded_and_the_batch_goes_on(tmp_path):
    data = make_data(tmp_path / "data")

    def load(path):
        return SimpleNamespace(institutions=["SLOW Stichting", "Stichting Snel"], reference_date=pd.Timestamp("2025-03-31"))

    result = run(data, tmp_path / "out", load=load, timeout=4, national_notebook=None)
    assert result.counts == {"made": 1, "too_little_data": 0, "failed": 1, "skipped": 0}
    [failure] = result.failures
    assert failure["status"] == "timed_out" and "timed out after 4 s" in failure["message"]


def test_an_interrupted_run_keeps_what_was_done_and_resumes(tmp_path, monkeypatch):
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    real_record = batch.record_result
    calls = []

    def record_then_interrupt(*args, **kwargs):
        if calls:
            raise KeyboardInterrupt
        calls.append(args)
        real_record(*args, **kwargs)

    monkeypatch.setattr(batch.run, "record_result", record_then_interrupt)  # where run_batch looks it up
    with pytest.raises(KeyboardInterrupt):
        run(data, out, institutions=GOOD, national_notebook=None)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["runs"][-1]["interrupted"] is True and manifest["runs"][-1]["counts"]["made"] == 1
    assert [e["status"] for e in manifest["reports"].values()] == ["made"]
    assert not [p for p in out.rglob("*.tmp")]

    monkeypatch.setattr(batch.run, "record_result", real_record)
    resumed = run(data, out, institutions=GOOD, national_notebook=None)
    assert resumed.counts == {"made": 2, "too_little_data": 0, "failed": 0, "skipped": 1}


def test_atomic_write_leaves_no_temporary_file_on_failure(tmp_path):
    target = tmp_path / "a.html"
    atomic.write_bytes(target, b"old")

    def half_then_fail(tmp):
        tmp.write_bytes(b"half")
        raise TypeError("not bytes")

    with pytest.raises(TypeError):
        atomic.write_with(target, half_then_fail)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.html"]


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        pytest.param(None, sorted(POPULATION), id="all"),
        pytest.param(["Stichting*"], ["Stichting Jeugd Noord"], id="glob"),
        pytest.param(["Stichting Jeugd Noord,Jeugd & Zorg Zuid"], ["Jeugd & Zorg Zuid", "Stichting Jeugd Noord"], id="comma-list"),
    ],
)
def test_select_institutions(patterns, expected):
    assert batch.select_institutions(POPULATION, patterns) == expected


def test_unknown_pattern_and_options_are_errors_that_name_them(tmp_path):
    with pytest.raises(batch.NoMatchingInstitutionError, match="'Nergens\\*'"):
        batch.select_institutions(POPULATION, ["Nergens*"])
    with pytest.raises(batch.BatchConfigError, match="formats"):
        run(make_data(tmp_path / "d"), tmp_path / "o", formats=("docx",))
    with pytest.raises(batch.BatchConfigError, match="scheduler"):
        run(make_data(tmp_path / "d"), tmp_path / "o", scheduler="yarn")


def test_default_period_is_the_latest_complete_year():
    assert batch.resolve_periods(None, fake_load(None)) == ["2024"]
    assert batch.resolve_periods(["2024H1,2024H2", "2024H1"], None) == ["2024H1", "2024H2"]


def test_the_default_period_says_why_and_how_to_choose_another():
    """A delivery whose latest date is 29 December: 2024 is not complete at that reference date."""
    from outcome_analysis.batch.run import default_period_note

    note = default_period_note("2023", pd.Timestamp("2024-12-29"))
    assert note.startswith("period 2023: the latest complete year at the reference date 29-12-2024")
    assert note.endswith("choose another with --period, e.g. --period 2024")
    assert default_period_note("2024", pd.Timestamp("2024-12-31")).endswith("choose another with --period")


def test_run_reports_help_lists_every_option():
    done = subprocess.run([sys.executable, str(ROOT / "run_reports.py"), "--help"], capture_output=True,
                          text=True, cwd=ROOT, check=True)
    for option in ("--data", "--period", "--institutions", "--formats", "--lang", "--out", "--jobs",
                   "--scheduler", "--force", "--config", "--timeout", "--notebook", "--national", "--cache",
                   "--clean-cache", "--edition", "examples:"):
        assert option in done.stdout, option


def test_run_reports_exits_non_zero_with_a_summary_when_a_report_failed(first_run, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))
    import run_reports

    calls = {}

    def fake_run_batch(data, **kwargs):
        calls.update(kwargs, data=data)
        return first_run.result

    monkeypatch.setattr(batch, "run_batch", fake_run_batch)
    status = run_reports.main(["--data", str(first_run.data), "--period", "2024", "--institutions", "Stichting*",
                               "--formats", "html", "--jobs", "3", "--no-national", "--quiet",
                               "--cache", str(first_run.base / "elsewhere")])
    assert status == 1
    assert "FAILED 2024 FAIL Stichting Kapot" in capsys.readouterr().err
    assert calls["periods"] == ["2024"] and calls["formats"] == ["html"] and calls["jobs"] == 3
    assert calls["national_notebook"] is None and calls["institutions"] == ["Stichting*"]
    assert calls["cache"] == str(first_run.base / "elsewhere")


def test_a_failing_prepare_step_is_an_error_that_names_it(tmp_path):
    def broken(data, settings, granularity, folder, periods=()):
        raise RuntimeError("model did not converge")

    with pytest.raises(batch.PrepareError, match=r"\(year\) failed: RuntimeError: model did not converge"):
        run(make_data(tmp_path / "d"), tmp_path / "o", prepare=broken)
    assert not [p for p in (tmp_path / "o").rglob("*.tmp")]


def test_the_delivery_folder_settings_are_used_and_recorded(tmp_path):
    data = make_data(tmp_path / "data")
    (data / "settings.yaml").write_text("delivery_scope: national\nmin_count: 5\n", encoding="utf-8")
    out = tmp_path / "out"
    run(data, out, institutions=["Stichting*"])
    inputs = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["runs"][-1]["inputs"]
    assert inputs["settings"]["delivery_scope"] == "national" and inputs["settings"]["min_count"] == 5
    assert inputs["settings_source"] == "delivery" and inputs["settings_file"] == str(data / "settings.yaml")
    assert "Landelijk overzicht" in (out / "2024" / "index.html").read_text(encoding="utf-8")
    noord = (out / "2024" / f"{batch.slugify('Stichting Jeugd Noord')}.html").read_text(encoding="utf-8")
    assert "n=15" in noord  # 10 * 1 + min_count 5: the prepared results used the delivery's settings


def test_the_overview_is_national_only_for_a_delivery_declared_national():
    national = Settings(delivery_scope="national")
    assert batch.report_title("national", "", "2024", "nl", settings=national, n_institutions=4) == \
        "Landelijk overzicht outcome-indicatoren"
    assert batch.report_title("national", "", "2024", "nl", settings=Settings(), n_institutions=4) == \
        "Overzicht outcome-indicatoren van alle instellingen in deze levering"
    assert batch.overview_label("nl", Settings(), 4) == "Alle instellingen in deze levering"
    assert batch.overview_label("nl", national, 1) == "Overzicht van deze levering"  # one institution
    assert batch.overview_label("en", national, 4) == "National overview"


def test_formats_and_schedulers_come_from_their_registries():
    assert batch.FORMATS == ("html", "pdf") == batch.EXPORTERS.names()
    assert batch.EXECUTORS.get("local") is batch.LocalPool
    assert batch.EXECUTORS.get("dask-local") is batch.DaskRunner
    assert batch.EXECUTORS.get("tcp://host:8786") is batch.DaskRunner and "tls://host:8786" in batch.EXECUTORS
    assert "yarn" not in batch.EXECUTORS and "dask-address" not in batch.EXECUTORS
    with pytest.raises(batch.BatchConfigError) as raised:
        batch.get_executor("yarn", 1, None)
    assert str(raised.value) == ("scheduler must be 'local', 'dask-local' or a Dask address like tcp://host:8786, "
                                 "got 'yarn'")


def test_a_registered_format_is_accepted_and_rendered_after_what_it_needs(monkeypatch):
    from outcome_analysis.batch import exporters, options
    from outcome_analysis.batch.registry import Registry

    registry = Registry("output format")
    seen = []
    registry.register("html", batch.Exporter(lambda nb, files, **kw: b"<p>page</p>"))
    registry.register("txt", batch.Exporter(lambda nb, files, **kw: seen.append(dict(files)) or b"page",
                                            needs=("html",)))
    monkeypatch.setattr(exporters, "EXPORTERS", registry)
    monkeypatch.setattr(options, "EXPORTERS", registry)
    assert options.check_options(["txt"], "nl", "local", 1)["formats"] == ("txt",)
    with pytest.raises(batch.BatchConfigError, match=r"formats must be among \('html', 'txt'\), got \['pdf'\]"):
        options.check_options(["pdf"], "nl", "local", 1)
    files = batch.render_report(None, institution="A", period="2024", title="T", lang="nl", formats=("txt",))
    assert files == {"html": b"<p>page</p>", "txt": b"page"} and seen == [{"html": b"<p>page</p>"}]


def test_stored_results_are_not_reused_by_another_version_of_the_code(tmp_path, monkeypatch):
    """The results cache key covers the package's own files: a changed indicator definition (or
    indicators.yaml) computes again instead of reading what the old code stored."""
    from outcome_analysis.running.batch import prepare as prepare_mod

    calls = []

    def step(data, settings, granularity, folder, periods):
        calls.append(granularity)
        (folder / "meta.json").write_text("{}")

    assert re.fullmatch(r"[0-9a-f]{64}", prepare_mod.package_hash())
    first = prepare_mod.prepare_once(None, "d", Settings(), ["2024"], tmp_path, step)
    again = prepare_mod.prepare_once(None, "d", Settings(), ["2024"], tmp_path, step)
    assert first == again and calls == ["year"]  # the same code reuses its results
    monkeypatch.setattr(prepare_mod, "package_hash", lambda: "another version")
    changed = prepare_mod.prepare_once(None, "d", Settings(), ["2024"], tmp_path, step)
    assert changed["year"] != first["year"] and calls == ["year", "year"]


def test_the_package_hash_sees_a_change_of_a_definition_file(tmp_path):
    from outcome_analysis.running.batch.hashing import hash_path

    package = tmp_path / "pkg"
    (package / "data").mkdir(parents=True)
    (package / "data" / "indicators.yaml").write_text("a: 1\n")
    before = hash_path(package)
    (package / "data" / "indicators.yaml").write_text("a: 2\n")
    assert hash_path(package) != before


def test_a_notebook_that_computes_its_own_figures_gets_the_runs_settings(tmp_path):
    """Stored results carry the settings they were computed under; without them (data shipped) the
    run's settings go along as settings.yaml and a notebook that declares settings_path gets it."""
    from outcome_analysis.running.batch import worker

    declared = ["data_path", "results_path", "institution", "period", "lang", "settings_path"]
    notebooks = {"nb": {"kind": "institution", "path": "nb.ipynb", "bytes": b"{}", "parameters": declared}}
    inputs = {"data": {"hash": "d"}, "settings": {}, "templates": {"hash": "t"}}
    common = dict(lang="nl", timeout=None, data_param="data/d", settings=Settings())
    [job] = batch.plan_jobs(["A"], ["2024"], notebooks, {"year": None}, inputs, {"formats": ("html",)},
                            settings_shipped=True, **common)
    assert job.parameters["settings_path"] == "settings.yaml" and job.parameters["results_path"] is None
    [stored] = batch.plan_jobs(["A"], ["2024"], notebooks, {"year": "abc"}, inputs, {"formats": ("html",)},
                               settings_shipped=True, **common)
    assert "settings_path" not in stored.parameters  # the store's settings are in force

    payload = batch.build_payload(notebooks, {"year": None}, tmp_path, {}, make_data(tmp_path / "d"), None,
                                  settings=Settings(min_count=7))
    root = worker.materialise(payload)
    try:
        assert Settings.from_yaml(root / "settings.yaml").min_count == 7
    finally:
        assert worker.cleanup_worker([payload.key]) == 1
    assert not root.exists()


@pytest.mark.parametrize("outcome, status", [("ok", 0), ("too_little", 0), ("config", 2), ("interrupt", 130)])
def test_run_reports_exit_status_follows_the_batch(outcome, status, tmp_path, monkeypatch, capsys):
    """0 when every report is made or has too little data, 2 for bad options, 130 when interrupted
    (1 for a failed report: above); no report is made."""
    monkeypatch.syspath_prepend(str(ROOT))
    import run_reports

    def fake_run_batch(data, **kwargs):
        if outcome == "config":
            raise batch.BatchConfigError("formats must be among ('html', 'pdf')")
        if outcome == "interrupt":
            raise KeyboardInterrupt
        counts = {"made": 1, "too_little_data": int(outcome == "too_little"), "failed": 0, "skipped": 0}
        return batch.BatchResult(out=tmp_path, counts=counts, failures=[], manifest={})

    monkeypatch.setattr(batch, "run_batch", fake_run_batch)
    assert run_reports.main(["--data", str(tmp_path), "--out", str(tmp_path / "out"), "--quiet"]) == status
    err = capsys.readouterr().err
    assert ("interrupted" in err) == (outcome == "interrupt") and ("error:" in err) == (outcome == "config")
