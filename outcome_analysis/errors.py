"""The package's exceptions: one base class, specific children that carry the facts."""
from __future__ import annotations

from dataclasses import dataclass, field


class OutcomeAnalysisError(Exception):
    """Base class of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a delivered file.

    ``row`` is 1-based as a spreadsheet shows it, counting the header (the first data row is 2);
    ``None`` when the problem concerns the whole file or a column.

    ``expected`` is the English text (kept for logs and developers). ``kind`` names the message in
    the problem catalogue ``outcome_analysis/data/texts/problems.yaml`` and ``params`` fills its
    placeholders, so that :meth:`message` can say the same in Dutch (the default for data
    suppliers) or English. ``trajectory_id`` is set on every row problem of a table that has one, so
    that a supplier can find the record in its own system.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str
    severity: str = "error"  # "error" or "warning"
    trajectory_id: str | None = None
    kind: str | None = None
    params: tuple = field(default=(), compare=False)  # ((name, value), ...): hashable

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        if self.trajectory_id is not None:
            where += f" (trajectory_id {self.trajectory_id!r})"
        value = "" if self.value is None else f": value {self.value!r}"
        return f"{where}{value}: {self.expected}"

    def message(self, lang: str = "nl") -> str:
        """What is expected, in ``lang`` (``"nl"`` or ``"en"``), from the problem catalogue.

        Falls back to ``expected`` when the problem has no ``kind`` or the catalogue lacks it.
        """
        from .contract import problem_texts  # late: the catalogue is read only when a message is shown

        return problem_texts.render(self, lang)


class DataValidationError(OutcomeAnalysisError, ValueError):
    """Delivered data that breaks the contract. ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem], max_listed: int = 50):
        self.problems = list(problems)
        n = len(self.problems)
        lines = [str(p) for p in self.problems[:max_listed]]
        if n > max_listed:
            lines.append(f"... and {n - max_listed} more problem(s)")
        super().__init__(f"{n} problem(s) in the delivered data:\n  " + "\n  ".join(lines))


class UnknownIndicatorError(OutcomeAnalysisError, KeyError):
    """An indicator id that is not in the registry."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""
