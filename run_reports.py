#!/usr/bin/env python
"""Make every institution's report (HTML and PDF) for one or more periods, in parallel.

A thin command line over :func:`outcome_analysis.batch.run_batch`; run ``python run_reports.py --help``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXAMPLES = """\
examples:
  python run_reports.py
      every institution, the latest complete year of data/demo, HTML and PDF, into reports/
  python run_reports.py --data data/levering-2025 --period 2024 2024H1 --jobs 4
  python run_reports.py --institutions 'Stichting*' --formats html --lang en
  python run_reports.py --institutions 'Jeugd Noord,Jeugd Zuid' --force
  python run_reports.py --config settings.yaml --timeout 600
  python run_reports.py --scheduler dask-local --jobs 8
  python run_reports.py --scheduler tcp://scheduler.example:8786
  python run_reports.py --edition short
      only the short edition (kerncijfers) of each institution's report

settings: --config FILE, else <data folder>/settings.yaml, else the defaults; manifest.json records
which (inputs.settings_file, inputs.settings_source). Only a delivery whose settings say
delivery_scope: national calls the pooled figure "landelijk"; otherwise it is "alle instellingen in
deze levering (N)", and a delivery of one institution is compared with nothing.

published reference: --reference FILE (docs/published-reference.md) sets every institution's figure
beside a published national figure (e.g. assembled from CBS StatLine), also for a delivery of one
institution; the reports call it "landelijk" and name its source. A file with problems stops the run
before any report, listing them (file, row, column, value).
  python run_reports.py --data data/eigen-levering --reference landelijk_2024.csv

verbeteracties: the actions agreed in earlier conversations (docs/data-contract.md, table actions) are
read from the delivery folder's actions* files, or from --actions PATH (a file or folder); each
institution's report then follows them (section "Verbeteracties"). A file with problems stops the run
before any report, listing them. Beside each institution's report the run writes its dialogue record,
<out>/<period>/acties-<slug>-<period>.xlsx and .csv: fill it in after the conversation and put it in
the next delivery folder.
  python run_reports.py --data data/eigen-levering --actions acties-2023.xlsx

gemeenten and jeugdregio's: --for municipality makes a report per gemeente (the young people it is
responsible for), --for region one per jeugdregio, from the same delivery: files
<out>/<period>/gemeente/<GMcode>-<slug>.html|.pdf and <out>/<period>/regio/<slug>.html|.pdf. The
gemeente mapping (--mapping FILE, docs/gemeente-mapping.md; default gemeenten.csv beside the data, as the demo writes it)
is checked before any report: a problem stops the run, listing each (file, row, column, value).
Records whose gemeente cannot be placed are listed once and counted in "gemeente onbekend".
  python run_reports.py --for municipality --municipalities GM0344 'Amster*'
  python run_reports.py --data data/levering-2025 --for region --mapping mappings/cbs-2025.csv --regions 'Zuid*'

results cache: the figures computed once per run (aggregates only) are kept outside the output
folder, in --cache DIR or by default $XDG_CACHE_HOME/outcome-workbench/<data hash> (~/.cache when
XDG_CACHE_HOME is not set), made readable by you only (mode 0700). A cache inside --out is refused.
  python run_reports.py --data data/levering-2025 --clean-cache
      remove the cache of that delivery (or of --cache DIR) and stop

editions: --edition both (default) makes per institution the full report, <slug>.html|.pdf (methods
in an appendix), and the short edition for the client council, <slug>.kort.html|.pdf (the key figures
in plain Dutch, at most 6 pages), both from the same stored results. The national overview has the
full edition only (it is made when the full edition is asked for).

output: <out>/<period>/<slug>.html|.pdf (and .kort.html|.pdf), <out>/<period>/index.html,
<out>/index.html and <out>/manifest.json. Each report's status there: made, too_little_data (the
institution had too little data: a short page says so), failed or timed_out. A re-run only remakes
reports whose inputs changed (data, settings, notebook, templates, package version), each edition on
its own; a failed edition keeps the last good files of that edition; Ctrl-C keeps what was done.
Exit status: 0 all made, 1 some report failed (listed), 2 bad options, 130 interrupted.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_reports.py",
        description="Make a report per institution and period with papermill, in parallel, "
        "on this machine or a Dask cluster.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", default="data/demo", metavar="PATH",
                        help="data set folder or file (default: data/demo, built with the demo module if missing)")
    parser.add_argument("--period", nargs="+", metavar="PERIOD",
                        help="one or more periods, e.g. 2024 or 2024H1 (default: the latest complete year at "
                        "the data's reference date)")
    parser.add_argument("--institutions", nargs="+", metavar="PATTERN",
                        help="institution names or glob patterns, or a comma list, e.g. 'Stichting*' "
                        "(default: all)")
    parser.add_argument("--for", dest="report_for", default="institution",
                        choices=["institution", "municipality", "region"],
                        help="a report per institution (default), per gemeente or per jeugdregio")
    parser.add_argument("--municipalities", nargs="+", metavar="CODE_OR_NAME",
                        help="with --for municipality: gemeente codes (GM0344), names or glob patterns, or a comma "
                        "list (default: every gemeente with data)")
    parser.add_argument("--regions", nargs="+", metavar="NAME",
                        help="with --for region: jeugdregio names, codes or glob patterns, or a comma list "
                        "(default: every jeugdregio with data)")
    parser.add_argument("--mapping", metavar="FILE",
                        help="the gemeente mapping (code, name, jeugdregio, validity; docs/gemeente-mapping.md) for "
                        "--for municipality|region; default gemeenten.csv beside the data (the demo writes one), else required")
    parser.add_argument("--unit-notebook", default="notebooks/unit_report.ipynb", metavar="PATH",
                        help="the gemeente and jeugdregio report notebook (default: notebooks/unit_report.ipynb)")
    parser.add_argument("--formats", default="html,pdf", metavar="LIST",
                        help="comma list of html and/or pdf (default: html,pdf)")
    parser.add_argument("--lang", default="nl", choices=["nl", "en"], help="report language (default: nl)")
    parser.add_argument("--out", default="reports", metavar="DIR", help="output folder (default: reports/)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), metavar="N",
                        help=f"notebooks run in parallel (default: os.cpu_count() = {os.cpu_count()})")
    parser.add_argument("--scheduler", default="local", metavar="WHERE",
                        help="'local' (process pool, default), 'dask-local' (start a Dask LocalCluster) or a "
                        "Dask scheduler address like tcp://host:8786")
    parser.add_argument("--force", action="store_true", help="remake reports even when their inputs did not change")
    parser.add_argument("--config", metavar="FILE",
                        help="settings YAML (keys as in outcome_analysis.settings.Settings; see "
                        "config/settings.example.yaml). Default: <data folder>/settings.yaml when the delivery "
                        "has one (the demo's declares delivery_scope: national), else the defaults. The settings "
                        "and the file they came from are recorded in the manifest")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="limit per notebook: per cell and wall clock; the report is recorded as timed out")
    parser.add_argument("--notebook", default="notebooks/institution_report.ipynb", metavar="PATH",
                        help="the report notebook (default: notebooks/institution_report.ipynb)")
    national = parser.add_mutually_exclusive_group()
    national.add_argument("--national", default="notebooks/national_overview.ipynb", metavar="PATH",
                          help="national overview notebook, made once per period when it exists "
                          "(default: notebooks/national_overview.ipynb)")
    national.add_argument("--no-national", dest="national", action="store_const", const=None,
                          help="skip the national overview")
    parser.add_argument("--cache", metavar="DIR",
                        help="results cache folder, never inside --out (default: $XDG_CACHE_HOME/outcome-workbench/"
                        "<data hash>, XDG_CACHE_HOME defaulting to ~/.cache; created with mode 0700)")
    parser.add_argument("--figures", action="store_true",
                        help="also write every published figure, disclosure-safe, as CSV and XLSX for researchers "
                             "(<out>/cijfers/<granularity>/figures.csv, .xlsx)")
    parser.add_argument("--clean-cache", action="store_true",
                        help="remove the results cache (--cache DIR, else the default one of --data) and exit")
    parser.add_argument("--edition", default="both", choices=["full", "short", "both"],
                        help="which edition of each institution's report: full (<slug>.html|.pdf), short "
                        "(the key figures, <slug>.kort.html|.pdf) or both (default); the national overview "
                        "is made with the full edition only")
    parser.add_argument("--reference", metavar="FILE",
                        help="a published national reference (CSV, Excel, ...: indicator, period, care_type, value "
                        "and source; docs/published-reference.md): the raw comparison is then against its figures, "
                        "which the reports call 'landelijk' with their source. Checked before any report is made")
    parser.add_argument("--actions", metavar="PATH",
                        help="the verbeteracties (a file, or a folder of actions* files; docs/data-contract.md, "
                        "table actions); default the actions* files of the --data folder. Checked before any "
                        "report is made")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from outcome_analysis import batch
    from outcome_analysis.errors import OutcomeAnalysisError

    data = Path(args.data)
    units = {"municipality": args.municipalities, "region": args.regions}
    wrong = [f"--{name}" for kind, name in (("municipality", "municipalities"), ("region", "regions"))
             if units[kind] and args.report_for != kind]
    if wrong:
        print(f"run_reports.py: error: {wrong[0]} needs --for {'municipality' if wrong[0] == '--municipalities' else 'region'}",
              file=sys.stderr)
        return 2
    if args.clean_cache:
        return clean_cache(data, args.cache)
    try:
        if not data.exists() and args.data == "data/demo":
            batch.ensure_demo_data(data)
        result = batch.run_batch(
            data,
            periods=args.period,
            institutions=args.institutions,
            formats=args.formats.split(","),
            lang=args.lang,
            out=args.out,
            jobs=args.jobs,
            scheduler=args.scheduler,
            force=args.force,
            settings_file=args.config,
            timeout=args.timeout,
            notebook=args.notebook,
            national_notebook=args.national,
            quiet=args.quiet,
            cache=args.cache,
            figures=args.figures,
            edition="full" if args.report_for != "institution" and args.edition == "both" else args.edition,
            reference=args.reference,
            actions=args.actions,
            **({"report_for": args.report_for, "units": units[args.report_for], "mapping": args.mapping,
                "unit_notebook": args.unit_notebook}
               if args.report_for != "institution" else {}),
        )
    except KeyboardInterrupt:
        print("\ninterrupted: finished reports are kept; run again to resume", file=sys.stderr)
        return 130
    except (OutcomeAnalysisError, FileNotFoundError) as exc:  # settings and period errors are in the hierarchy
        print(f"run_reports.py: error: {exc}", file=sys.stderr)
        return 2
    print(result.summary(), file=sys.stderr if result.failures else sys.stdout)
    return 0 if result.ok else 1


def clean_cache(data: Path, cache: str | None) -> int:
    """``--clean-cache``: remove the results stores of ``cache`` (else of the default cache of ``data``)."""
    from outcome_analysis.running.batch.hashing import hash_path
    from outcome_analysis.running.batch.prepare import clean_cache as remove, default_cache_dir

    if cache:
        folder = Path(cache).expanduser()
    elif data.exists():
        folder = default_cache_dir(hash_path(data))
    else:
        print(f"run_reports.py: error: no data at {data}: give --data or --cache to say which cache to remove",
              file=sys.stderr)
        return 2
    if not folder.is_dir():
        print(f"no results cache at {folder}: nothing removed")
        return 0
    removed, left = remove(folder)
    print(f"removed {removed} stored result set(s) from the results cache {folder}"
          + (f"; {left} other entr{'y' if left == 1 else 'ies'} left there untouched" if left else " (and the folder)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
