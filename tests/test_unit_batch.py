"""Tests of ``run_reports.py --for municipality|region`` (the batch side of the gemeente and jeugdregio
reports) on the small demo (``make_demo(seed=0, scale=0.05)``, ``min_cell: 5``).

The unit notebook is ``notebooks/unit_report.ipynb`` when it is in the tree; otherwise a stand-in
with the contract's parameters cell that prints one shown figure of its unit through ``fmt_pct``
(recorded in the ledger) or the too-little page. The tests that need a report that fails or leaks
use stand-ins of their own. Both unit stores are computed once for the module (the first run) and
reused by every later run with the same mapping.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from outcome_analysis import batch
from outcome_analysis.contract.mapping import DEMO_MAPPING
from outcome_analysis.running import units
from outcome_analysis.running.batch import units as unit_batch
from outcome_analysis.running.batch.constants import GOOD_STATUSES
from outcome_analysis.running.results import Results

ROOT = Path(__file__).resolve().parents[1]
REAL_NOTEBOOK = ROOT / "notebooks" / "unit_report.ipynb"
PERIOD = "2024"

PARAMETERS = '''data_path: str = "../data/demo"
results_path: str = ""
region_results_path: str = ""
unit_kind: str = "municipality"
unit: str = ""
period: str = ""
lang: str = "nl"
mapping_path: str = ""
ledger_path: str = ""'''

STAND_IN = '''from IPython.display import HTML, display
from outcome_analysis.presentation import ledger
from outcome_analysis.presentation.report import fmt_pct
from outcome_analysis.running.results import Results

ledger.begin(ledger_path)
results = Results.load(results_path)
assert region_results_path == "" or Results.load(region_results_path).meta["unit_kind"] == "region"
rows = results.indicators
rows = rows[(rows["scope"] == "institution") & (rows["institution"] == unit) & (rows["period"] == period)]
MODE = "{mode}"
if MODE == "fail" and unit.startswith("Utrecht"):
    raise RuntimeError("this gemeente fails")
if MODE == "leak":  # a hidden share whose printed form no shown figure of the unit prints
    from outcome_analysis.running import audit

    also = audit.unit_comparators(results, Results.load(region_results_path), unit, period)
    forbidden = audit.forbidden_strings(results, unit, results.settings, also_shown=also).values
    rows = rows[rows["suppressed"].astype(bool) & rows["value"].notna()]
    rows = rows[[("pct", audit.value_key(v)) in forbidden for v in rows["value"]]]
else:
    rows = rows[~rows["suppressed"].astype(bool) & rows["value"].notna()]
if rows.empty:
    display(HTML('<div class="oa-too-little" data-report-status="too_little_data"><p>Te weinig gegevens.</p></div>'))
else:
    display(HTML(f"<h2>{{unit}}</h2><p>{{rows.iloc[0]['indicator']}}: {{fmt_pct(rows.iloc[0]['value'], lang=lang)}}</p>"))
_ = ledger.end()'''


def stand_in(path: Path, mode: str = "ok") -> Path:
    """A unit notebook with the contract's parameters: ``mode`` ``ok`` (one shown figure), ``fail``
    (raises for Utrecht) or ``leak`` (prints a hidden figure of its unit)."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(STAND_IN.format(mode=mode)),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from outcome_analysis.demo import make_demo, write_demo

    base = tmp_path_factory.mktemp("unit-batch")
    data = base / "demo"
    write_demo(make_demo(seed=0, scale=0.05), data, "parquet")
    with open(data / "settings.yaml", "a", encoding="utf-8") as fh:
        fh.write("min_cell: 5\n")
    notebook = REAL_NOTEBOOK if REAL_NOTEBOOK.is_file() else stand_in(base / "unit_report.ipynb")
    return base, data, notebook


def cli(demo, out, *args):
    import run_reports

    base, data, notebook = demo
    return run_reports.main(["--data", str(data), "--out", str(out), "--cache", str(base / "cache"),
                             "--formats", "html", "--period", PERIOD, "--jobs", "2", "--quiet",
                             "--unit-notebook", str(notebook), *args])


@pytest.fixture(scope="module")
def first(demo):
    """Two gemeenten (by code and by name) and one jeugdregio into one output folder."""
    import sys

    sys.path.insert(0, str(ROOT))
    base, _, _ = demo
    out = base / "reports"
    status_g = cli(demo, out, "--for", "municipality", "--municipalities", "GM0344", "Amsterdam")
    status_r = cli(demo, out, "--for", "region", "--regions", "Amsterdam-Amstelland")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {"out": out, "status": (status_g, status_r), "manifest": manifest,
            "mtimes": {p: p.stat().st_mtime_ns for p in out.rglob("*.html") if "index" not in p.name}}


def test_reports_are_written_per_gemeente_and_jeugdregio_with_codes_and_slugs(first):
    out = first["out"]
    assert first["status"] == (0, 0)
    region = unit_batch.unit_stem("region", "Amsterdam-Amstelland", "R01")
    assert re.fullmatch(r"amsterdam-amstelland-[0-9a-f]{8}", region)
    expected = {f"{PERIOD}/gemeente/GM0344-utrecht.html", f"{PERIOD}/gemeente/GM0363-amsterdam.html",
                f"{PERIOD}/regio/{region}.html"}
    made = {p.relative_to(out).as_posix() for p in out.rglob("*.html") if p.name != "index.html"}
    assert made == expected  # nothing for "gemeente onbekend", no institution report, no overview
    reports = first["manifest"]["reports"]
    assert set(reports) == {k[: -len(".html")] for k in expected}
    utrecht = reports[f"{PERIOD}/gemeente/GM0344-utrecht"]
    assert (utrecht["kind"], utrecht["institution"], utrecht["status"]) == ("municipality", "Utrecht (GM0344)",
                                                                               utrecht["status"])
    assert all(r["status"] in GOOD_STATUSES for r in reports.values())
    assert reports[f"{PERIOD}/regio/{region}"]["kind"] == "region"
    params = utrecht["parameters"]
    assert params["unit_kind"] == "municipality" and params["unit"] == "Utrecht (GM0344)"
    assert params["results_path"].endswith("/units/municipality")
    assert params["region_results_path"].endswith("/units/region")
    assert reports[f"{PERIOD}/regio/{region}"]["parameters"]["region_results_path"] == ""


def test_the_index_lists_gemeenten_and_jeugdregios_in_groups_of_their_own(first):
    page = (first["out"] / PERIOD / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="municipality">Gemeenten</h2>' in page and '<h2 id="region">Jeugdregio&#x27;s</h2>' in page
    assert page.index("Utrecht (GM0344)") < page.index('id="region"') < page.index("Amsterdam-Amstelland")
    for href in re.findall(r'href="([^"]+\.html)"', page):
        if href != "../index.html":
            assert (first["out"] / PERIOD / href).is_file(), href


def test_both_unit_stores_are_computed_once_and_kept_in_the_cache(first, demo):
    base, _, _ = demo
    stores = [p for p in (base / "cache").iterdir() if re.fullmatch(r"[0-9a-f]{16}", p.name)]
    assert len(stores) == 1  # the region run reused the gemeente run's stores
    g = Results.load(stores[0] / "units" / "municipality")
    r = Results.load(stores[0] / "units" / "region")
    assert (g.meta["unit_kind"], r.meta["unit_kind"]) == ("municipality", "region")
    assert units.UNKNOWN["municipality"] in g.meta["institutions"]
    run = first["manifest"]["runs"][-1]
    assert run["inputs"]["units"][PERIOD]["hash"] == stores[0].name
    assert run["inputs"]["mapping"]["path"] == str(DEMO_MAPPING)
    ledgers = list((stores[0] / "units" / "municipality" / "ledgers").rglob("*.json"))
    assert {p.stem for p in ledgers} >= {"GM0344-utrecht", "GM0363-amsterdam"}


def test_a_rerun_skips_unchanged_reports(first, demo, capsys):
    out = first["out"]
    capsys.readouterr()
    assert cli(demo, out, "--for", "municipality", "--municipalities", "GM0344,GM0363") == 0
    last = capsys.readouterr().out.strip().splitlines()
    assert last[0].startswith("0 made") and "2 unchanged (skipped)" in last[0]
    assert last[-1] == f"open {out / 'index.html'} to see every report"  # the last line names the index
    assert {p: p.stat().st_mtime_ns for p in first["mtimes"]} == first["mtimes"]


def test_a_bad_mapping_stops_before_any_report_and_lists_its_problems(demo, tmp_path, capsys):
    bad = tmp_path / "gemeenten.csv"
    bad.write_text("municipality,name,region\nGM0344,Utrecht,Midden-Utrecht\nGM34,Ergens,Nergens\n"
                   "GM0363,Amsterdam,\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli(demo, out, "--for", "municipality", "--mapping", str(bad)) == 2
    err = capsys.readouterr().err
    assert "gemeenten.csv" in err and "no report was made" in err
    assert re.search(r"gemeenten\.csv, row 3, column 'municipality'.*'GM34'", err)
    assert re.search(r"gemeenten\.csv, row 4, column 'region'", err)
    assert not out.exists()
    assert cli(demo, out, "--for", "region", "--mapping", str(tmp_path / "missing.csv")) == 2
    assert "missing.csv does not exist" in capsys.readouterr().err and not out.exists()


def test_an_unknown_gemeente_is_a_clear_error(demo, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli(demo, out, "--for", "municipality", "--municipalities", "Utrech") == 2
    err = capsys.readouterr().err
    assert "gemeente 'Utrech' matches none of the" in err and "did you mean 'Utrecht'" in err
    assert not out.exists()
    assert cli(demo, out, "--municipalities", "GM0344") == 2  # without --for municipality
    assert "--municipalities needs --for municipality" in capsys.readouterr().err


def test_a_real_delivery_needs_a_mapping(tmp_path):
    from outcome_analysis.settings import Settings

    with pytest.raises(batch.BatchError, match="needs the gemeente mapping: give --mapping FILE"):
        unit_batch.resolve_mapping_path(None, Settings(), "municipality")
    assert unit_batch.resolve_mapping_path(None, Settings(demo=True), "region") == DEMO_MAPPING


def test_a_failing_or_leaking_unit_is_recorded_and_the_batch_goes_on(first, demo, tmp_path):
    base, data, _ = demo
    out = tmp_path / "out"
    options = dict(periods=[PERIOD], formats=("html",), jobs=2, quiet=True, cache=base / "cache",
                   report_for="municipality", units=["GM0344", "GM0362"])  # not the first run's Amsterdam:
    # a report's ledger is kept beside the shared store under its key, so another folder's Amsterdam would replace it
    failing = batch.run_batch(data, out=out, unit_notebook=stand_in(tmp_path / "fail.ipynb", "fail"), **options)
    assert failing.counts["failed"] == 1 and failing.counts["made"] + failing.counts["too_little_data"] == 1
    entry = failing.manifest["reports"][f"{PERIOD}/gemeente/GM0344-utrecht"]
    assert entry["status"] == "failed" and "this gemeente fails" in entry["error"]["message"]
    assert (out / PERIOD / "gemeente" / "GM0362-amstelveen.html").is_file()
    assert not (out / PERIOD / "gemeente" / "GM0344-utrecht.html").exists()

    store = Results.load(base / "cache" / failing.manifest["runs"][-1]["inputs"]["units"][PERIOD]["hash"]
                         / "units" / "municipality")
    t = store.indicators
    hidden = t[(t["scope"] == "institution") & (t["period"] == PERIOD) & t["suppressed"].astype(bool)
               & t["value"].notna() & (t["institution"] != units.UNKNOWN["municipality"])]
    gemeente = hidden["institution"].value_counts().index[0]  # the gemeente with the most hidden figures
    leaking = batch.run_batch(data, out=tmp_path / "leak", unit_notebook=stand_in(tmp_path / "leak.ipynb", "leak"),
                              **dict(options, units=[gemeente]))
    (entry,) = leaking.manifest["reports"].values()
    assert entry["status"] == "failed" and entry["error"]["message"].startswith("leak audit:")
    assert not [p for p in (tmp_path / "leak").rglob("*.html") if p.name != "index.html"]


def test_records_the_mapping_cannot_place_are_listed_once_and_counted_as_unknown(first, demo, tmp_path, capsys):
    """A mapping without Utrecht: its records cannot be placed (listed once, counted in "gemeente
    onbekend"), the batch goes on, and the changed mapping gives new stores."""
    base, _, _ = demo
    mapping = pd.read_csv(DEMO_MAPPING, dtype=str)
    short = tmp_path / "zonder-utrecht.csv"
    mapping[mapping["municipality"] != "GM0344"].to_csv(short, index=False)
    capsys.readouterr()
    # the stand-in notebook: what is checked here is the batch's listing and its stores, not a report
    assert cli(demo, tmp_path / "out", "--for", "municipality", "--municipalities", "Amsterdam",
               "--mapping", str(short), "--unit-notebook", str(stand_in(tmp_path / "ok.ipynb"))) == 0
    err = capsys.readouterr().err
    assert err.count("cannot place") == 1 and "GM0344" in err and "'gemeente onbekend'" in err
    stores = [p for p in (base / "cache").iterdir() if re.fullmatch(r"[0-9a-f]{16}", p.name)]
    assert len(stores) == 2
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["runs"][-1]["inputs"]["units"][PERIOD]["n_unknown"] > \
        first["manifest"]["runs"][-1]["inputs"]["units"][PERIOD]["n_unknown"]


def test_the_folder_audit_checks_each_unit_report_against_its_own_unit_store(first, tmp_path):
    import shutil

    from outcome_analysis.running import audit

    out = tmp_path / "copy"
    shutil.copytree(first["out"], out)
    stores = audit.stores_for(out)
    assert set(stores) == {f"{PERIOD}:municipality", f"{PERIOD}:region"}
    outcome = audit.audit_folder(out)
    assert set(outcome) == set(first["manifest"]["reports"]) and all(r.ok for r in outcome.values())

    store = Results.load(stores[f"{PERIOD}:municipality"])
    forbidden = audit.forbidden_strings(store, "Utrecht (GM0344)", store.settings).percentages
    hidden = next(iter(forbidden))  # a printed form of a hidden figure of Utrecht (a share, its complement or interval)
    page = out / PERIOD / "gemeente" / "GM0344-utrecht.html"
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", f"<p>{hidden}</p></body>"), encoding="utf-8")
    after = audit.audit_folder(out)
    assert not after[f"{PERIOD}/gemeente/GM0344-utrecht"].ok
    assert after[f"{PERIOD}/gemeente/GM0363-amsterdam"].ok


def _figures(rows):
    """A results stand-in with an indicators table only (the audit reads the rest as absent)."""
    from types import SimpleNamespace

    table = pd.DataFrame(rows, columns=["scope", "institution", "indicator", "care_type", "period", "category",
                                        "value", "numerator", "denominator", "suppressed"])
    return SimpleNamespace(indicators=table, context=None, quality=None, casemix=None, comparisons=None,
                           meta={"unit_kind": "municipality", "units": {"regions": {"A (GM0001)": "Regio"}}})


def test_a_gemeente_report_may_print_its_jeugdregios_figure_unless_it_is_the_hidden_one():
    """The leak audit of a gemeente report vouches for its jeugdregio's shown figures (a region's
    312/384 = 81,25% is no leak of the gemeente's hidden 3/16, whose complement is 13/16 = 81,25%),
    but not for a region figure with the very counts of the hidden one (then it *is* the gemeente's)."""
    from outcome_analysis.running import audit
    from outcome_analysis.settings import Settings

    settings = Settings(min_cell=5)
    gemeente = _figures([("institution", "A (GM0001)", "x", "jb", "2024", "", 3 / 16, 3, 16, True)])
    coincidence = _figures([("institution", "Regio", "y", "jb", "2024", "", 312 / 384, 312, 384, False)])
    same = _figures([("institution", "Regio", "x", "jb", "2024", "", 3 / 16, 3, 16, False)])
    ledger = pd.DataFrame({"value": [13 / 16], "kind": ["pct"], "text": ["81,3%"]})
    also = audit.unit_comparators(gemeente, coincidence, "A (GM0001)")
    assert also == [(coincidence, "Regio")]
    assert audit.check_ledger(ledger, gemeente, "A (GM0001)", settings)  # against its own store alone: flagged
    assert not audit.check_ledger(ledger, gemeente, "A (GM0001)", settings, also_shown=also)
    leaked = audit.check_ledger(ledger, gemeente, "A (GM0001)", settings,
                                also_shown=audit.unit_comparators(gemeente, same, "A (GM0001)"))
    assert leaked and "complement" in leaked[0].why


def test_the_comparable_gemeenten_pooled_figures_count_as_shown_in_a_gemeente_audit(first):
    from outcome_analysis.running import audit, neighbours

    stores = audit.stores_for(first["out"])
    g, r = Results.load(stores[f"{PERIOD}:municipality"]), Results.load(stores[f"{PERIOD}:region"])
    also = audit.unit_comparators(g, r, "Amsterdam (GM0363)", PERIOD)
    assert [unit for _, unit in also] == [g.meta["units"]["regions"]["Amsterdam (GM0363)"], audit.NEIGHBOURS]
    table = also[1][0].indicators
    near = neighbours.neighbours_of(g, "Amsterdam (GM0363)", PERIOD)
    row = table.iloc[0]
    expected = neighbours.pooled(g, near, row["indicator"], row["care_type"], row["period"])
    assert (row["numerator"], row["denominator"]) == (expected["numerator"], expected["denominator"])
    assert row["ci_low"] == pytest.approx(expected["ci_low"]) and row["value"] == pytest.approx(expected["value"])
