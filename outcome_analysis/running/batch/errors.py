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
