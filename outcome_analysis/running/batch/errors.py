"""The batch's errors."""
from __future__ import annotations

from collections.abc import Sequence

from outcome_analysis.errors import OutcomeAnalysisError


class BatchError(OutcomeAnalysisError):
    """Base class of the batch's errors."""


class BatchConfigError(BatchError, ValueError):
    """An option of the batch that does not fit (format, language, scheduler, notebook, ...)."""


class PrepareError(BatchError):
    """The compute-once step failed: no report can be made from these inputs."""

    def __init__(self, granularity: str, cause: BaseException):
        self.granularity = granularity
        self.cause = cause
        super().__init__(f"preparing the results ({granularity}) failed: {type(cause).__name__}: {cause}")


class NoMatchingInstitutionError(BatchError, ValueError):
    """An ``--institutions`` pattern that matches no institution in the data."""

    def __init__(self, pattern: str, known: Sequence[str]):
        self.pattern = pattern
        self.known = list(known)
        shown = ", ".join(self.known[:10]) + (" ..." if len(self.known) > 10 else "")
        super().__init__(f"institution pattern {pattern!r} matches none of the {len(self.known)} institutions ({shown})")


class MissingParameterError(BatchConfigError):
    """The notebook's parameters cell lacks a parameter the batch must pass."""

    def __init__(self, notebook: str, parameter: str):
        self.notebook = notebook
        self.parameter = parameter
        super().__init__(f"notebook {notebook} has no parameter {parameter!r} in its parameters cell")


class NoMatchingUnitError(BatchError, ValueError):
    """A ``--municipalities`` or ``--regions`` item that names no gemeente or jeugdregio of the mapping in
    force; ``suggestions`` holds the closest names, when any."""

    def __init__(self, kind: str, item: str, known: Sequence[str], where: str, suggestions: Sequence[str] = ()):
        self.kind = kind
        self.item = item
        self.known = list(known)
        self.suggestions = list(suggestions)
        word, words = ("gemeente", "gemeenten") if kind == "municipality" else ("jeugdregio", "jeugdregio's")
        shown = ", ".join(self.known[:8]) + (" ..." if len(self.known) > 8 else "")
        hint = f"; did you mean {' or '.join(repr(s) for s in self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"{word} {item!r} matches none of the {len(self.known)} {words} of {where}{hint} "
                         f"(known: {shown})")


class MappingFileError(BatchError, ValueError):
    """The gemeente mapping of ``--mapping`` cannot be used: missing, not given where it is needed, or with
    problems (``problems``: every :class:`~outcome_analysis.errors.Problem`, with file, row, column and value).
    Raised before any report is made."""

    def __init__(self, message: str, problems: Sequence = ()):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"... and {len(self.problems) - 50} more problem(s)")
        super().__init__(message + ("".join(f"\n  {line}" for line in lines) if lines else ""))
