"""Command line: ``python -m outcome_analysis <command> ...``.

Commands
--------
``validate PATH [--reference-date YYYY-MM-DD] [--csv OUT.csv]``
    Check a delivery against the data contract; print every problem as a table (and write them to
    ``OUT.csv`` for the data supplier); exit 1 when there are problems, 0 when the data is clean.

Other modules add commands by adding a sub-parser in :func:`build_parser` and a handler returning the
exit code.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from . import atomic
from .errors import OutcomeAnalysisError, Problem

PROBLEM_FIELDS = ("severity", "file", "row", "column", "value", "expected")
_MAX_CELL = 60


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m outcome_analysis", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="check a delivery against the data contract",
        description="Check a delivery (a trajectories file or a folder of deliveries) against the data contract.",
    )
    validate.add_argument("path", type=Path, help="trajectories file, or folder with trajectories*/goals*/experience* files")
    validate.add_argument("--reference-date", metavar="YYYY-MM-DD", help="delivery's reference date (default: latest date in the data)")
    validate.add_argument("--csv", type=Path, metavar="OUT.csv", help="also write the problems to this CSV file (for the data supplier)")
    validate.set_defaults(handler=_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except OutcomeAnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _validate(args: argparse.Namespace) -> int:
    from . import io

    data, problems = io.check(args.path, reference_date=args.reference_date)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    if problems:
        print(format_problems(problems))
    if args.csv is not None:
        write_problems_csv(problems, args.csv)
        print(f"{len(problems)} problem(s) written to {args.csv}")
    if errors:
        print(f"{len(errors)} error(s), {len(warnings)} warning(s) in {args.path}: the data does not meet the contract.")
        return 1
    trajectories = data.trajectories
    first = trajectories["start_date"].min()
    last = data.reference_date
    period = f"{first:%d-%m-%Y} to {last:%d-%m-%Y}" if trajectories["start_date"].notna().any() else "no dates"
    print(
        f"OK: {len(trajectories):,} trajectories, {trajectories['institution'].nunique():,} institutions, "
        f"{len(data.goals):,} goals, {len(data.experience):,} experience answers; "
        f"period {period} (reference date {data.reference_date:%Y-%m-%d}); {len(warnings)} warning(s)."
    )
    return 0


def format_problems(problems: list[Problem]) -> str:
    """The problems as an aligned text table with the columns of ``PROBLEM_FIELDS``."""
    rows = [[_cell(getattr(p, name), name != "expected") for name in PROBLEM_FIELDS] for p in problems]
    widths = [max(len(name), *(len(row[i]) for row in rows)) for i, name in enumerate(PROBLEM_FIELDS)]
    lines = ["  ".join(name.ljust(w) for name, w in zip(PROBLEM_FIELDS, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _cell(value, shorten: bool = True) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= _MAX_CELL or not shorten else text[: _MAX_CELL - 3] + "..."


def write_problems_csv(problems: list[Problem], out: Path) -> None:
    """Write the problems to ``out`` (UTF-8 with BOM, so that Excel shows accents), atomically."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(PROBLEM_FIELDS)
            for p in problems:
                writer.writerow(["" if getattr(p, name) is None else getattr(p, name) for name in PROBLEM_FIELDS])

    atomic.write_with(Path(out), write)


if __name__ == "__main__":
    sys.exit(main())
