"""Names shared by the indicator engine and the definitions: the records' and the output's columns,
the fixed category lists, and the errors and warnings of the package."""
from __future__ import annotations

from outcome_analysis.errors import OutcomeAnalysisError


RECORD_COLUMNS = (
    "unit_id", "client_id", "institution", "care_type", "care_form", "anchor_date", "period",
    "category", "outcome", "excluded_window", "baseline", "change",
    "complexity", "perspective", "age_group", "sex", "out_of_home", "earlier_trajectories",
)
OUTPUT_COLUMNS = (
    "indicator", "scope", "institution", "period", "care_type", "category", "numerator",
    "denominator", "value", "ci_low", "ci_high", "missing", "window_months", "excluded_window",
    "suppressed",
)
AGE_GROUPS = ("0-3", "4-11", "12-15", "16-17", "18+")
#: breakdown families whose units may fall in several cells (denominator = distinct units).
MULTI_FAMILIES = frozenset({"transition", "issue"})
FOLLOW_UP = ("none", "lighter", "equal", "heavier")
RCI_CLASSES = ("improved", "unchanged", "deteriorated")
TRANSITION_NONE = "none"


class IndicatorError(OutcomeAnalysisError, ValueError):
    """An indicator request that cannot be computed (wrong ``by``, a context item, ...)."""


class DerivedNormWarning(UserWarning):
    """A ROM instrument without a norm mean/SD in the instrument table: derived from the data."""


class UnknownInstrumentWarning(UserWarning):
    """ROM records whose instrument is not in the instrument table (counted as missing)."""
