"""Tests of ``run_reports.py --for municipality|region`` (the batch side of the gemeente and jeugdregio
reports) on the small demo (``make_demo(seed=0, scale=0.05)``, ``min_cell: 5``).

The reports a reader gets are the suite's shared report batch (``tests/report_batch.py``): the
largest gemeente (chosen by its code, HTML and PDF), the smallest (chosen by its name, HTML) and the
largest one's jeugdregio (HTML), made by three ``run_reports.py`` runs into one output folder with
the real unit notebook, both unit stores computed by the first run and reused by the others. The
tests that need a batch of their own (a failing or leaking report, a bad or changed mapping, a rerun)
run one as small as they can: ``--formats html``, a stand-in notebook with the contract's parameters
where the real report is not what is checked, and a private copy of the shared cache (its stores are
then reused, and the shared cache is never written to).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from outcome_analysis import batch
from outcome_analysis.contract.mapping import BESIDE_DATA, DEMO_MAPPING, read_mapping
from outcome_analysis.running import units
from outcome_analysis.running.batch import units as unit_batch
from outcome_analysis.running.batch.constants import GOOD_STATUSES
from outcome_analysis.running.results import Results
from outcome_analysis.settings import for_delivery
from report_batch import UNIT_KIND, UNIT_ROLES

ROOT = Path(__file__).resolve().parents[1]
GEMEENTEN = ("gemeente_large", "gemeente_small")

PARAMETERS = """data_path: str = "../data/demo"
results_path: str = ""
region_results_path: str = ""
unit_kind: str = "municipality"
unit: str = ""
period: str = ""
lang: str = "nl"
mapping_path: str = ""
ledger_path: str = \"\""""

STAND_IN = """from types import SimpleNamespace

from IPython.display import HTML, display
from outcome_analysis.presentation import documents, ledger
from outcome_analysis.presentation.report import fmt_pct
from outcome_analysis.running.results import Results

ledger.begin(ledger_path)
results = Results.load(results_path)
# what it made, as every report states it (the batch checks it before publishing)
documents.stamp("municipality", SimpleNamespace(results=results, institution=unit, period=period, lang=lang,
                                                unit_kind=unit_kind))
assert region_results_path == "" or Results.load(region_results_path).meta["unit_kind"] == (
    "region" if unit_kind == "municipality" else "municipality")
rows = results.indicators
rows = rows[(rows["scope"] == "institution") & (rows["institution"] == unit) & (rows["period"] == period)]
if unit == {fail!r}:
    raise RuntimeError("this gemeente fails")
if unit == {leak!r}:  # a hidden share whose printed form no shown figure of the unit prints
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
_ = ledger.end()"""


def stand_in(path: Path, fail: str = "", leak: str = "") -> Path:
    """A unit notebook with the contract's parameters that prints one shown figure of its unit
    through ``fmt_pct`` (recorded in the ledger) or the too-little page; it raises for the unit
    ``fail`` and prints a hidden figure of the unit ``leak``."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(STAND_IN.format(fail=fail, leak=leak)),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def private_cache(report_batch, tmp_path: Path) -> Path:
    """A copy of the shared batch's results cache (its institution and unit stores, a few MB): a
    batch of a test reuses the stores without writing into the shared cache."""
    cache = tmp_path / "cache"
    shutil.copytree(report_batch.unit_cache, cache, ignore=shutil.ignore_patterns(".*"))
    return cache


def cli(data, cache, out, period, *args):
    """``run_reports.main`` in this process: ``--formats html``, two jobs, quiet, the real unit
    notebook; ``args`` last (a later ``--unit-notebook`` wins)."""
    import sys

    sys.path.insert(0, str(ROOT))
    import run_reports

    return run_reports.main(["--data", str(data), "--out", str(out), "--cache", str(cache), "--formats", "html",
                             "--period", period, "--jobs", "2", "--quiet",
                             "--unit-notebook", str(ROOT / "notebooks" / "unit_report.ipynb"), *args])


def unit_stores(cache: Path) -> list[Path]:
    """The unit store folders (``<key>`` holding ``units/``) in a results cache."""
    return [p for p in cache.iterdir() if re.fullmatch(r"[0-9a-f]{16}", p.name) and (p / "units").is_dir()]


def stem(report_batch, role: str) -> str:
    return unit_batch.unit_stem(UNIT_KIND[role], report_batch.units[role], report_batch.unit_codes[role])


def test_reports_are_written_per_gemeente_and_jeugdregio_with_codes_and_slugs(report_batch):
    b, out, period = report_batch, report_batch.unit_out, report_batch.unit_period
    assert unit_batch.unit_stem("municipality", "Utrecht (GM0344)", "GM0344") == "GM0344-utrecht"
    assert re.fullmatch(r"amsterdam-amstelland-[0-9a-f]{8}", unit_batch.unit_stem("region", "Amsterdam-Amstelland", "R01"))
    assert b.units["gemeente_large"] != b.units["gemeente_small"]
    for role in GEMEENTEN:  # named by name and code; the file by code and a slug of the name
        code = b.unit_codes[role]
        assert re.fullmatch(r"GM\d{4}", code) and b.units[role].endswith(f" ({code})")
        assert re.fullmatch(rf"{code}-[a-z0-9]+(-[a-z0-9]+)*", stem(b, role))
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{8}", stem(b, "region"))
    keys = {role: f"{period}/{'regio' if role == 'region' else 'gemeente'}/{stem(b, role)}" for role in UNIT_ROLES}
    made = {p.relative_to(out).as_posix() for p in out.rglob("*.html") if p.name != "index.html"}
    assert made == {k + ".html" for k in keys.values()}  # nothing for "gemeente onbekend", no institution report, no overview
    assert {p.relative_to(out).as_posix() for p in out.rglob("*.pdf")} == {keys[g] + ".pdf" for g in GEMEENTEN}
    assert b.pdf("gemeente_large").read_bytes()[:5] == b"%PDF-"
    reports = b.unit_manifest["reports"]
    assert set(reports) == set(keys.values())
    assert all(r["status"] in GOOD_STATUSES for r in reports.values())
    for role, key in keys.items():
        assert (reports[key]["kind"], reports[key]["institution"]) == (UNIT_KIND[role], b.units[role])
        assert b.unit_statuses[role] == reports[key]["status"]
    params = reports[keys["gemeente_large"]]["parameters"]
    assert params["unit_kind"] == "municipality" and params["unit"] == b.units["gemeente_large"]
    assert params["results_path"].endswith("/units/municipality")
    assert params["region_results_path"].endswith("/units/region")
    assert reports[keys["region"]]["parameters"]["region_results_path"].endswith("/units/municipality")


def test_the_largest_gemeente_is_named_with_its_jeugdregio_and_the_smallest_hides_its_figures(report_batch):
    """The largest gemeente's report names it with its code and its jeugdregio; the smallest gives
    the too-little page or hidden figures ("–*"), never a crash."""
    b = report_batch
    store = Results.load(b.unit_stores["municipality"])
    large = b.html("gemeente_large")
    assert b.unit_statuses["gemeente_large"] == "made"
    assert b.units["gemeente_large"] in large and f"jeugdregio {b.units['region']}" in large
    small = b.html("gemeente_small")
    assert b.units["gemeente_small"] in small
    assert b.unit_statuses["gemeente_small"] == "too_little_data" and 'data-report-status="too_little_data"' in small \
        or b.unit_statuses["gemeente_small"] == "made" and "–*" in small
    assert store.meta["units"]["regions"][b.units["gemeente_large"]] == b.units["region"]


def test_the_index_lists_gemeenten_and_jeugdregios_in_groups_of_their_own(report_batch):
    b = report_batch
    page = (b.unit_out / b.unit_period / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="municipality">Gemeenten</h2>' in page and '<h2 id="region">Jeugdregio&#x27;s</h2>' in page
    group = page.index('id="region"')
    assert page.index(b.units["gemeente_large"]) < group and page.index(b.units["gemeente_small"]) < group
    assert page.rindex(b.units["region"]) > group
    for href in re.findall(r'href="([^"]+\.html)"', page):
        if href != "../index.html":
            assert (b.unit_out / b.unit_period / href).is_file(), href


def test_both_unit_stores_are_computed_once_and_kept_in_the_cache(report_batch):
    b, period = report_batch, report_batch.unit_period
    stores = unit_stores(b.unit_cache)
    assert len(stores) == 1  # the region run reused the gemeente run's stores
    assert b.unit_stores == {kind: stores[0] / "units" / kind for kind in ("municipality", "region")}
    g = Results.load(stores[0] / "units" / "municipality")
    r = Results.load(stores[0] / "units" / "region")
    assert (g.meta["unit_kind"], r.meta["unit_kind"]) == ("municipality", "region")
    assert units.UNKNOWN["municipality"] in g.meta["institutions"]
    runs = b.unit_manifest["runs"]
    assert len(runs) == 2 and all(run["inputs"]["units"][period]["hash"] == stores[0].name for run in runs)
    mapping = b.data / BESIDE_DATA if (b.data / BESIDE_DATA).is_file() else DEMO_MAPPING  # beside the data, else shipped
    assert runs[-1]["inputs"]["mapping"]["path"] == str(mapping)
    ledgers = list((stores[0] / "units" / "municipality" / "ledgers").rglob("*.json"))
    assert {p.stem for p in ledgers} >= {stem(b, role) for role in GEMEENTEN}


def test_a_rerun_skips_unchanged_reports(report_batch, tmp_path, capsys):
    b = report_batch
    out = tmp_path / "reports"
    shutil.copytree(b.unit_out, out)  # keeps the files' times
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.html") if "index" not in p.name}
    capsys.readouterr()
    # the smallest gemeente as the batch made it (HTML and PDF), now by its code
    assert cli(b.data, private_cache(b, tmp_path), out, b.unit_period, "--for", "municipality",
               "--municipalities", b.unit_codes["gemeente_small"], "--formats", "html,pdf") == 0
    last = capsys.readouterr().out.strip().splitlines()
    assert last[0].startswith("0 made") and "1 unchanged (skipped)" in last[0]
    assert last[-1] == f"open {out / 'index.html'} to see every report"  # the last line names the index
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes


def test_a_bad_mapping_stops_before_any_report_and_lists_its_problems(small_demo_path, tmp_path, capsys):
    bad = tmp_path / "gemeenten.csv"
    bad.write_text("municipality,name,region\nGM0344,Utrecht,Midden-Utrecht\nGM34,Ergens,Nergens\n"
                   "GM0363,Amsterdam,\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli(small_demo_path, tmp_path / "cache", out, "2024", "--for", "municipality", "--mapping", str(bad)) == 2
    err = capsys.readouterr().err
    assert "gemeenten.csv" in err and "no report was made" in err
    assert re.search(r"gemeenten\.csv, row 3, column 'municipality'.*'GM34'", err)
    assert re.search(r"gemeenten\.csv, row 4, column 'region'", err)
    assert not out.exists()
    assert cli(small_demo_path, tmp_path / "cache", out, "2024", "--for", "region",
               "--mapping", str(tmp_path / "missing.csv")) == 2
    assert "missing.csv does not exist" in capsys.readouterr().err and not out.exists()


def test_an_unknown_gemeente_is_a_clear_error(small_demo_path, tmp_path, capsys):
    settings, _ = for_delivery(small_demo_path)
    mapping = read_mapping(unit_batch.resolve_mapping_path(None, settings, "municipality", small_demo_path))
    names = mapping.in_force_for_period("2024")["name"]
    name = max((n for n in names if "," not in n), key=len)  # one letter short of the longest name (a comma splits)
    out = tmp_path / "out"
    assert cli(small_demo_path, tmp_path / "cache", out, "2024", "--for", "municipality",
               "--municipalities", name[:-1]) == 2
    err = capsys.readouterr().err
    assert f"gemeente {name[:-1]!r} matches none of the" in err
    assert re.search(rf"did you mean [^?]*{re.escape(repr(name))}", err)
    assert not out.exists()
    code = mapping.in_force_for_period("2024")["municipality"].iloc[0]
    assert cli(small_demo_path, tmp_path / "cache", out, "2024", "--municipalities", code) == 2  # without --for municipality
    assert "--municipalities needs --for municipality" in capsys.readouterr().err


def test_a_real_delivery_needs_a_mapping(tmp_path):
    from outcome_analysis.settings import Settings

    with pytest.raises(batch.BatchError, match="needs the gemeente mapping: give --mapping FILE"):
        unit_batch.resolve_mapping_path(None, Settings(), "municipality")
    assert unit_batch.resolve_mapping_path(None, Settings(demo=True), "region") == DEMO_MAPPING


def test_a_failing_or_leaking_unit_is_recorded_and_the_batch_goes_on(report_batch, tmp_path):
    """One batch of three gemeenten (none of the shared batch's): one fails, one prints a hidden
    figure (the leak audit fails it), one is made; the failing and leaking ones leave no file."""
    b, period = report_batch, report_batch.unit_period
    store = Results.load(b.unit_stores["municipality"])
    t = store.indicators
    others = t["institution"].isin([units.UNKNOWN["municipality"], *b.units.values()])
    hidden = t[(t["scope"] == "institution") & (t["period"] == period) & t["suppressed"].astype(bool)
               & t["value"].notna() & ~others]
    leak = str(hidden["institution"].value_counts().index[0])  # the gemeente with the most hidden figures
    fail, ok = sorted(u for u in store.meta["institutions"]
                      if u not in (units.UNKNOWN["municipality"], leak, *b.units.values()))[:2]
    out = tmp_path / "out"
    result = batch.run_batch(b.data, out=out, periods=[period], formats=("html",), jobs=2, quiet=True,
                             cache=private_cache(b, tmp_path), report_for="municipality", units=[fail, leak, ok],
                             unit_notebook=stand_in(tmp_path / "stand_in.ipynb", fail=fail, leak=leak))
    assert result.counts["failed"] == 2 and result.counts["made"] + result.counts["too_little_data"] == 1
    entries = {e["institution"]: e for e in result.manifest["reports"].values()}
    assert entries[fail]["status"] == "failed" and "this gemeente fails" in entries[fail]["error"]["message"]
    assert entries[leak]["status"] == "failed" and entries[leak]["error"]["message"].startswith("leak audit:")
    made = {p.relative_to(out).as_posix() for p in out.rglob("*.html") if p.name != "index.html"}
    assert made == {k + ".html" for k, e in result.manifest["reports"].items() if e["institution"] == ok}


def test_records_the_mapping_cannot_place_are_listed_once_and_counted_as_unknown(report_batch, tmp_path, capsys):
    """A mapping without the largest gemeente: its records cannot be placed (listed once, counted in
    "gemeente onbekend"), the batch goes on, and the changed mapping gives new stores."""
    b, period = report_batch, report_batch.unit_period
    code = b.unit_codes["gemeente_large"]
    mapping = pd.read_csv(b.unit_manifest["runs"][-1]["inputs"]["mapping"]["path"], dtype=str)
    short = tmp_path / "zonder-grootste.csv"
    mapping[mapping["municipality"] != code].to_csv(short, index=False)
    cache = private_cache(b, tmp_path)
    capsys.readouterr()
    # the stand-in notebook: what is checked here is the batch's listing and its stores, not a report
    assert cli(b.data, cache, tmp_path / "out", period, "--for", "municipality", "--municipalities",
               b.unit_codes["gemeente_small"], "--mapping", str(short),
               "--unit-notebook", str(stand_in(tmp_path / "ok.ipynb"))) == 0
    err = capsys.readouterr().err
    assert err.count("cannot place") == 1 and code in err and "'gemeente onbekend'" in err
    assert len(unit_stores(cache)) == 2  # the shared batch's and this mapping's
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["runs"][-1]["inputs"]["units"][period]["n_unknown"] > \
        b.unit_manifest["runs"][-1]["inputs"]["units"][period]["n_unknown"]


def test_the_folder_audit_checks_each_unit_report_against_its_own_unit_store(report_batch, tmp_path):
    from outcome_analysis.running import audit

    b, period = report_batch, report_batch.unit_period
    out = tmp_path / "copy"
    shutil.copytree(b.unit_out, out)
    stores = audit.stores_for(out)
    assert set(stores) == {f"{period}:municipality", f"{period}:region"}
    outcome = audit.audit_folder(out)
    assert set(outcome) == set(b.unit_manifest["reports"]) and all(r.ok for r in outcome.values())

    store = Results.load(stores[f"{period}:municipality"])
    # a printed form of a hidden figure (a share, its complement or interval) of a gemeente that has one
    forbidden = {role: audit.forbidden_strings(store, b.units[role], store.settings).percentages for role in GEMEENTEN}
    role = next((role for role in GEMEENTEN if forbidden[role]), None)
    assert role is not None, "neither gemeente of the shared batch has a hidden figure"
    hidden = next(iter(forbidden[role]))
    key = {r: f"{period}/gemeente/{stem(b, r)}" for r in GEMEENTEN}
    page = out / f"{key[role]}.html"
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", f"<p>{hidden}</p></body>"), encoding="utf-8")
    after = audit.audit_folder(out)
    assert not after[key[role]].ok
    (other,) = set(GEMEENTEN) - {role}
    assert after[key[other]].ok


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


def test_the_comparable_gemeenten_pooled_figures_count_as_shown_in_a_gemeente_audit(report_batch):
    from outcome_analysis.running import audit, neighbours

    period, large = report_batch.unit_period, report_batch.units["gemeente_large"]
    stores = audit.stores_for(report_batch.unit_out)
    g, r = Results.load(stores[f"{period}:municipality"]), Results.load(stores[f"{period}:region"])
    also = audit.unit_comparators(g, r, large, period)
    assert [unit for _, unit in also] == [g.meta["units"]["regions"][large], audit.NEIGHBOURS]
    table = also[1][0].indicators
    near = neighbours.neighbours_of(g, large, period)
    row = table.iloc[0]
    expected = neighbours.pooled(g, near, row["indicator"], row["care_type"], row["period"])
    assert (row["numerator"], row["denominator"]) == (expected["numerator"], expected["denominator"])
    assert row["ci_low"] == pytest.approx(expected["ci_low"]) and row["value"] == pytest.approx(expected["value"])
