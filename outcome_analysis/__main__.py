"""Command line: ``python -m outcome_analysis <command> ...``.

Commands
--------
``validate PATH [--reference-date YYYY-MM-DD] [--lang nl|en] [--problems OUT.csv|OUT.xlsx] [--records OUT.xlsx]``
    Check a delivery (a trajectories file or a folder of deliveries) against the data contract, for
    the data supplier: every problem at once, grouped by file, column and kind of problem, at most
    100 columns wide, in Dutch (``--lang en`` for English). Exit 1 when there are errors, 0 when
    the data meets the contract (warnings allowed), 2 when the command itself cannot run.

    ``--problems OUT.csv`` writes every problem for Dutch Excel (``;`` separated, UTF-8 with BOM);
    ``OUT.xlsx`` writes an Excel sheet. ``--csv OUT`` is the older name of ``--problems``.

    ``--records OUT.xlsx`` writes, when the delivery has no errors, what was counted where: per
    trajectory and indicator whether it was counted, in which period, and why not
    (:mod:`outcome_analysis.counted`). That file is record-level: it is made only on this request,
    only to the path given, and is for the supplier's own check; it must not be shared.
    ``--settings FILE`` and ``--granularity`` set the counting rules as for the reports.

``audit DIR [--cache CACHE] [--lang nl|en]``
    Read every report of a published folder (``DIR/manifest.json`` names the institution of each
    ``<period>/<slug>.html`` / ``.pdf``) and look for what disclosure control hid
    (:mod:`outcome_analysis.running.audit`): hidden shares, their complements and intervals, hidden
    O/E figures, counts below ``min_cell`` in sentences. ``--cache`` is the results cache of the
    batch (``run_reports.py --cache``, holding the stores by hash) or one results store (a folder
    with ``meta.json``); default the stores the folder's manifest names. The batch keeps the ledger
    of printed numbers of every report it published, in ``<store>/ledgers/<period>/<slug>.json``;
    it is checked too, and every percentage in the report must be in it. Prints a table of leaks; exit 1 when there is any, 0 when there is
    none, 2 when the command itself cannot run.

Other modules add commands by adding a sub-parser in :func:`build_parser` and a handler returning the
exit code.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import texts
from .errors import DataValidationError, OutcomeAnalysisError
from .contract.validation import LANGS, PROBLEM_FILE_SUFFIXES

_SLOW_ROWS = 200_000  # above this many rows, say that writing the xlsx takes a while


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m outcome_analysis", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="check a delivery against the data contract",
        description="Check a delivery (a trajectories file or a folder of deliveries) against the data contract. "
                    "The output is for the data supplier: Dutch by default, English with --lang en.",
    )
    validate.add_argument("path", type=Path, help="trajectories file, or folder with trajectories*/goals*/experience* files")
    validate.add_argument("--reference-date", metavar="YYYY-MM-DD", help="delivery's reference date (default: latest date in the data)")
    validate.add_argument("--lang", choices=LANGS, default="nl", help="language of the output and files (default: nl)")
    validate.add_argument("--problems", type=Path, metavar="OUT.csv|OUT.xlsx",
                          help="write every problem to this file: .csv for Dutch Excel (';', UTF-8 with BOM) or .xlsx")
    validate.add_argument("--csv", type=Path, dest="problems", metavar="OUT.csv", help="the older name of --problems")
    validate.add_argument("--records", type=Path, metavar="OUT.xlsx",
                          help="when the delivery has no errors, write what was counted where, per trajectory and "
                               "indicator (record-level: for the supplier's own check, never to be shared)")
    validate.add_argument("--settings", type=Path, metavar="SETTINGS.yaml",
                          help="settings (follow-up windows, regular ends, ...) for --records; default the delivery folder's "
                          "settings.yaml when it has one, else the built-in ones (as run_reports.py decides)")
    validate.add_argument("--granularity", choices=("year", "half_year"), default="year",
                          help="periods of --records (default: year)")
    validate.set_defaults(handler=_validate)

    audit = commands.add_parser(
        "audit",
        help="look in published reports for figures that disclosure control hid",
        description="Look in every report of a published folder (its manifest.json) for hidden shares, their "
                    "complements and intervals, hidden O/E figures and small counts in sentences. Exit 1 when "
                    "any report leaks, 0 when none does.",
    )
    audit.add_argument("folder", type=Path, metavar="DIR",
                       help="published folder with manifest.json (run_reports.py --out)")
    audit.add_argument("--cache", type=Path, metavar="CACHE",
                       help="the batch's results cache (run_reports.py --cache) or one results store (folder with "
                            "meta.json); default the stores named by the folder's manifest; the reports' ledgers are "
                            "read from <store>/ledgers/")
    audit.add_argument("--lang", choices=LANGS, default="nl", help="language of the output (default: nl)")
    audit.set_defaults(handler=_audit)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a supplier's odd character never stops the report
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError):
            pass
    if args.command == "validate":
        if args.problems is not None and args.problems.suffix.lower() not in PROBLEM_FILE_SUFFIXES:
            parser.error(f"--problems must name a .csv or .xlsx file, not {args.problems.name!r}")
        if args.records is not None and args.records.suffix.lower() != ".xlsx":
            parser.error(f"--records must name a .xlsx file, not {args.records.name!r}")
    try:
        return args.handler(args)
    except BrokenPipeError:  # the reader stopped reading (``| head``): no error of the command
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except DataValidationError as exc:  # e.g. an unreadable --reference-date: said like any problem
        from .contract import validation

        lang = getattr(args, "lang", "en")
        print(validation.format_problems(exc.problems, lang), file=sys.stderr)
        return 2
    except (OutcomeAnalysisError, OSError) as exc:  # SettingsError and PeriodError included
        label = texts.for_lang("cli", getattr(args, "lang", "en"))["error"]
        print(f"{label}: {exc}", file=sys.stderr)
        return 2


def _validate(args: argparse.Namespace) -> int:
    from .contract import io, validation
    from .settings import for_delivery

    lang = args.lang
    settings, _ = for_delivery(args.path, args.settings)  # --settings, else the delivery's settings.yaml
    data, problems = io.check(args.path, reference_date=args.reference_date, settings=settings)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    if problems:
        print(validation.format_problems(problems, lang, problems_file=args.problems))
        print()
    if args.problems is not None:
        validation.write_problems(problems, args.problems, lang)
        what = validation.counted(len(problems), "problem", "problems", lang)
        print(validation.paragraph(validation.text("written", lang, n=what, file=args.problems)))
    if errors:
        print(validation.summary_not_ok(len(errors), len(warnings), args.path, lang))
        if args.records is not None:
            print(validation.paragraph(texts.for_lang("cli", lang)["records"]["skipped"]))
        return 1
    print(validation.summary_ok(data, len(warnings), lang))
    if args.records is not None:
        _write_records(data, args, settings, lang)
    return 0


def _write_records(data, args: argparse.Namespace, settings, lang: str) -> None:
    import warnings

    from .contract import counted, validation
    from .presentation import report

    with warnings.catch_warnings():  # norm and instrument remarks belong to the reports, not here
        warnings.simplefilter("ignore")
        frame = counted.counted_records(data, settings, args.granularity, lang=lang)
    said = texts.for_lang("cli", lang)["records"]
    rows = report.fmt_int(len(frame), lang)
    if len(frame) > _SLOW_ROWS:
        print(validation.paragraph(said["slow"].format(rows=rows)), flush=True)
    counted.write_xlsx(frame, args.records, lang=lang, reference_date=data.reference_date,
                       granularity=args.granularity, source=str(args.path), settings=settings)
    print(validation.paragraph(said["written"].format(file=args.records, rows=rows)))


def _audit(args: argparse.Namespace) -> int:
    from .running import audit
    from .running.results import Results

    said = texts.for_lang("cli", args.lang)["audit"]
    stores = audit.stores_for(args.folder, args.cache)
    if not stores:
        print(said["no_store"].format(folder=args.folder), file=sys.stderr)
        return 2
    reports = audit.published_reports(args.folder)  # reads the manifest first: a wrong DIR says so
    if not reports:
        print(said["no_reports"].format(folder=args.folder), file=sys.stderr)
        return 2
    print(said["header"].format(folder=args.folder, n=len(reports), store=", ".join(str(p) for p in stores.values())))
    outcome = audit.audit_folder(args.folder, stores)
    with_ledger = sum(1 for r in reports for p in stores.values() if ledger_file(p, r["key"]).is_file())
    if with_ledger:
        print(said["ledgers"].format(n=with_ledger))
    rows = [(key, leak) for key, result in outcome.items() for leak in result.leaks]
    if not rows:
        print(said["ok"].format(n=len(reports)))
        return 0
    print()
    print(_leak_table(rows, said))
    print()
    print(said["leaks"].format(leaks=len(rows), reports=len({k for k, _ in rows}), n=len(reports)))
    return 1


def ledger_file(store: Path, key: str) -> Path:
    from .presentation.ledger import ledger_path

    return ledger_path(store, key)


def _leak_table(rows, said: dict, context_width: int = 60) -> str:
    """One line per leak: report, file, kind, text, surrounding text, what it reveals."""
    cols = said["columns"]
    table = [(cols["report"], cols["source"], cols["kind"], cols["text"], cols["context"], cols["why"])]
    for key, leak in rows:
        context = leak.context if len(leak.context) <= context_width else leak.context[:context_width - 1] + "…"
        table.append((key, leak.source, said["kinds"].get(leak.kind, leak.kind), leak.text, context, leak.why))
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5] for r in table)


if __name__ == "__main__":
    sys.exit(main())
