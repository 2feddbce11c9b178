"""The report fingerprint (issue 17): what a report says it was made from, checked before publishing.

The shared batch's reports carry it in their HTML head and PDF document information; a report whose
fingerprint is not its job's is never written (unit test of the check, and a batch on a small
notebook written here whose fingerprint names another institution); a re-issued report names the
version it replaces, a forced re-run with the same inputs does not.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from outcome_analysis import __version__, batch
from outcome_analysis.presentation.report import fmt_date
from outcome_analysis.running.batch import fingerprint
from outcome_analysis.running.batch.hashing import hash_json, hash_path
from outcome_analysis.running.batch.jobs import JobResult
from outcome_analysis.settings import Settings


# -- the shared batch ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["gi", "jeugdhulp", "smallest", "national"])
def test_the_shared_batchs_reports_carry_their_jobs_fingerprint_in_html_and_pdf(report_batch, role):
    name = report_batch.institutions[role]
    (entry,) = [e for e in report_batch.manifest["reports"].values()
                if e["institution"] == name and e.get("edition", "full") == "full"]
    job = SimpleNamespace(kind=entry["kind"], institution=entry["institution"], period=entry["period"],
                          edition="full", lang="nl")
    wanted = fingerprint.expected(job, report_batch.manifest["runs"][-1]["inputs"])
    html = fingerprint.from_html(report_batch.html(role).encode("utf-8"))
    pdf = fingerprint.from_pdf(report_batch.pdf(role).read_bytes())
    assert html == pdf == wanted == entry["fingerprint"]
    assert wanted["unit"] == name and wanted["unit_kind"] == ("national" if role == "national" else "institution")
    assert len(wanted["data_hash"]) == 64 and wanted["settings_hash"] and wanted["version"] == __version__
    # the output that carried it is not part of the report's visible text
    assert "vnd.outcome-fingerprint" not in report_batch.html(role)


@pytest.mark.parametrize("role", ["gemeente_large", "region"])
def test_the_shared_batchs_gemeente_and_jeugdregio_reports_carry_theirs(report_batch, role):
    label = report_batch.units[role]
    (entry,) = [e for e in report_batch.unit_manifest["reports"].values() if e["institution"] == label]
    job = SimpleNamespace(kind=entry["kind"], institution=label, period=entry["period"], edition="full", lang="nl")
    inputs = report_batch.unit_manifest["runs"][-1]["inputs"]
    wanted = fingerprint.expected(job, inputs)
    files = report_batch.unit_files[role]
    assert fingerprint.from_html(files["html"].read_bytes()) == wanted == entry["fingerprint"]
    if "pdf" in files:
        assert fingerprint.from_pdf(files["pdf"].read_bytes()) == wanted
    assert wanted["unit_kind"] == ("region" if role == "region" else "municipality")
    assert wanted["mapping_hash"] == inputs["mapping"]["hash"] and wanted["actions_hash"] is None


# -- the check ------------------------------------------------------------------------------------
def _page(fp: dict | None) -> bytes:
    """A report page whose head carries ``fp`` as the export writes it (none when ``None``)."""
    import html

    from outcome_analysis.presentation.export import fingerprint_json

    meta = "" if fp is None else f'<meta name="oa-fingerprint" content="{html.escape(fingerprint_json(fp))}">'
    return f"<!DOCTYPE html><html><head><title>t</title>{meta}</head><body><p>x</p></body></html>".encode()


WANTED = fingerprint.make(unit_kind="institution", unit="Stichting Delta", period="2024", edition="full", lang="nl",
                          data_hash="d" * 64, settings_hash="s" * 64)


def _result(fp):
    return JobResult("2024/stichting-delta", "made", {"html": _page(fp)}, 0.0, 1.0)


def test_a_report_with_another_jobs_fingerprint_or_none_fails_and_loses_its_files():
    assert fingerprint.checked(_result(WANTED), WANTED) == _result(WANTED)
    swapped = fingerprint.checked(_result(dict(WANTED, unit="Jeugdzorg De Wissel")), WANTED)
    assert swapped.status == "failed" and swapped.files == {}
    assert swapped.error["message"] == "fingerprint: unit is 'Jeugdzorg De Wissel', expected 'Stichting Delta'"
    other = fingerprint.checked(_result(dict(WANTED, data_hash="e" * 64, lang="en")), WANTED)
    assert other.error["message"].startswith("fingerprint: lang is 'en', expected 'nl'; data_hash is 'eeee")
    missing = fingerprint.checked(_result(None), WANTED)
    assert missing.status == "failed" and missing.error["message"] == "fingerprint: missing"
    # without a results store a report that states none passes; a wrong one never does
    assert fingerprint.checked(_result(None), WANTED, required=False).status == "made"
    assert fingerprint.checked(_result(dict(WANTED, period="2023")), WANTED, required=False).status == "failed"


# -- end to end: a batch whose notebook states another institution's fingerprint -------------------
POPULATION = ["Stichting Delta", "Jeugdzorg De Wissel"]

NOTEBOOK_CODE = '''\
import json
from pathlib import Path
from IPython.display import display
spec = json.loads((Path(data_path).parent / "spec.json").read_text())
unit = spec.get("swap", {}).get(institution, institution)
display({"application/vnd.outcome-fingerprint+json": dict(spec["base"], unit=unit, period=period, lang=lang)},
        raw=True)
print(f"Rapport over {institution}")
'''


def _load(path):
    return SimpleNamespace(institutions=POPULATION, reference_date=pd.Timestamp("2025-03-31"))


def _prepare(data, settings, granularity, folder, periods=()):
    (Path(folder) / "figures.json").write_text("{}", encoding="utf-8")


@pytest.fixture
def small_batch(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('data_path: str = ""\nresults_path: str | None = None\ninstitution: str = ""\n'
                                  'period: str = "2024"\nlang: str = "nl"\nreplaces: str = ""',
                                  metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(NOTEBOOK_CODE)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "report.ipynb")
    data = tmp_path / "data"
    data.mkdir()
    (data / "trajectories.csv").write_text("client_id\n1\n", encoding="utf-8")

    def run(swap=None, institutions=("Stichting Delta",), force=False, quiet=True):  # one report: seconds
        base = fingerprint.make(unit_kind="institution", unit="", period="", edition="full", lang="nl",
                                data_hash=hash_path(data), settings_hash=hash_json(Settings().to_dict()))
        (tmp_path / "spec.json").write_text(json.dumps({"base": base, "swap": swap or {}}), encoding="utf-8")
        return batch.run_batch(data, out=tmp_path / "out", periods=["2024"], institutions=institutions,
                               formats=("html",), jobs=1, notebook=tmp_path / "report.ipynb", national_notebook=None,
                               load=_load, prepare=_prepare, settings=Settings(), quiet=quiet, force=force,
                               cache=tmp_path / "cache")

    return SimpleNamespace(run=run, out=tmp_path / "out", data=data)


def _replaces_line(html: str) -> str | None:
    found = re.search(r'<p class="[^"]*oa-cover-replaces[^"]*">([^<]*)</p>', html)
    return found.group(1) if found else None


def test_a_swapped_report_is_not_published_and_a_reissued_one_names_what_it_replaces(small_batch, capsys):
    delta = small_batch.out / "2024" / f"{batch.slugify('Stichting Delta')}.html"
    first = small_batch.run()
    assert first.counts["made"] == 1 and first.ok
    good = delta.read_bytes()
    manifest = json.loads((small_batch.out / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["reports"][f"2024/{batch.slugify('Stichting Delta')}"]
    assert entry["fingerprint"]["unit"] == "Stichting Delta" and entry["published_on"]
    assert _replaces_line(good.decode()) is None  # nothing published there before

    # Stichting Delta's notebook states Jeugdzorg De Wissel's fingerprint: failed, never written
    capsys.readouterr()
    swapped = small_batch.run(swap={"Stichting Delta": "Jeugdzorg De Wissel"}, force=True, quiet=False)
    err = capsys.readouterr().err  # named as it happened, above the progress bar
    assert "FAILED 2024 Stichting Delta: fingerprint: unit is 'Jeugdzorg De Wissel', expected 'Stichting Delta'" in err
    assert swapped.counts["made"] == 0 and swapped.counts["failed"] == 1
    (failure,) = swapped.failures
    assert failure["institution"] == "Stichting Delta"
    assert failure["message"] == "fingerprint: unit is 'Jeugdzorg De Wissel', expected 'Stichting Delta'"
    assert delta.read_bytes() == good  # the last good version stays
    assert not list(small_batch.out.rglob("*.tmp"))

    # other data: the report says which version (date, data hash) it replaces; the manifest keeps it
    old_hash = entry["fingerprint"]["data_hash"]
    (small_batch.data / "extra.csv").write_text("x\n1\n", encoding="utf-8")
    assert small_batch.run().ok
    line = _replaces_line(delta.read_text(encoding="utf-8"))
    assert line == f"Deze versie vervangt die van {fmt_date(entry['published_on'], 'nl')} (gegevens {old_hash[:8]})"
    manifest = json.loads((small_batch.out / "manifest.json").read_text(encoding="utf-8"))
    replaced = manifest["reports"][f"2024/{batch.slugify('Stichting Delta')}"]["replaces"]
    assert replaced["data_hash"] == old_hash and replaced["date"] == entry["published_on"]

    # a forced re-run with the same inputs (the same fingerprint) says nothing: no parameter, no line
    now = manifest["reports"][f"2024/{batch.slugify('Stichting Delta')}"]
    assert fingerprint.replaced_version(now, now["fingerprint"]) is None
    assert fingerprint.replaced_version(now, dict(now["fingerprint"], settings_hash="x"))["data_hash"] == \
        now["fingerprint"]["data_hash"]


def test_the_replaces_line_in_both_languages():
    """A job gets the parameter only when its notebook declares it (or declares none); the line is
    rendered from it, and a report without it has none."""
    from outcome_analysis.presentation.export import replaces_line

    job = batch.Job(key="2024/x", kind="institution", institution="X", period="2024", slug="x", lang="nl",
                    formats=("html",), title="T", notebook="nb", parameters={"period": "2024"}, input_hash="h")
    old = {"date": "2026-11-03", "data_hash": "a1b2c3d4e5f6", "fingerprint": {}}
    assert fingerprint.with_replaces(job, old, {"nb": {"parameters": ["period", "replaces"]}}).parameters == {
        "period": "2024", "replaces": "2026-11-03 a1b2c3d4e5f6"}
    assert fingerprint.with_replaces(job, old, {"nb": {"parameters": ["period"]}}) is job
    assert fingerprint.with_replaces(job, None, {"nb": {"parameters": None}}) is job

    assert replaces_line("2026-11-03 a1b2c3d4e5f6", "nl") == "Deze versie vervangt die van 3 november 2026 (gegevens a1b2c3d4)"
    assert replaces_line("2026-11-03 a1b2c3d4e5f6", "en") == "This version replaces the one of 3 November 2026 (data a1b2c3d4)"
    assert replaces_line("", "nl") is None


def test_the_progress_bars_eta_counts_finished_reports_only():
    """A resumed run's skipped reports are the bar's ``initial``: the rate is that of reports made now."""
    from tqdm.auto import tqdm

    from outcome_analysis.running.batch.run import _progress, failure_line

    bar = _progress(10, quiet=False, initial=8)
    bar.update(1)
    facts = dict(bar.format_dict, elapsed=10.0, rate=None, initial=bar.initial)
    bar.close()
    assert facts["initial"] == 8 and facts["n"] == 9
    assert "00:10<00:10" in tqdm.format_meter(**facts)  # one report in 10 s, one to go: 10 s left, not 1 s
    assert failure_line({"institution": "Stichting Delta", "period": "2024", "status": "failed",
                         "message": "fingerprint: missing"}) == "FAILED 2024 Stichting Delta: fingerprint: missing"
