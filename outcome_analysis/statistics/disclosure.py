"""Disclosure control: the one function every table and plot passes its figures through.

:func:`suppress` only *marks* cells (``suppressed``) and adds the rounded counts a report may show
(``shown_numerator``, ``shown_denominator``); it never changes ``value``, ``ci_low`` or ``ci_high``,
which stay computed from the raw counts. The report layer hides what is marked.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outcome_analysis.errors import OutcomeAnalysisError
from outcome_analysis.settings import DEFAULT, Settings

__all__ = ["DisclosureError", "band", "suppress", "round_count"]

_KINDS = ("share", "mean", "count")


class DisclosureError(OutcomeAnalysisError, ValueError):
    """A table that :func:`suppress` cannot work on (missing columns, unknown kind); the message names it."""


def round_count(n, round_to: int = 5):
    """Round counts to the nearest multiple of ``round_to`` for display (halves round up).

    Parameters
    ----------
    n : int, float, array-like or pandas.Series
        Raw count(s). Missing values stay missing.
    round_to : int, default 5
        The base (``Settings.round_to``). ``1`` leaves counts unchanged.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        In the shape of ``n`` (a Series keeps its index; the dtype is float so that NaN survives).

    Notes
    -----
    Halves round *up* (12.5 -> 15 would only arise for non-integers; for integer counts and base 5,
    ``x`` ending in 3 or 4 rounds up, 1 or 2 down). NumPy's ``round`` rounds halves to even and is
    not used, so that the same count always shows the same way.

    Examples
    --------
    >>> round_count(12), round_count(13), round_count(0)
    (10.0, 15.0, 0.0)
    >>> round_count([7, 22, 1000], round_to=10).tolist()
    [10.0, 20.0, 1000.0]
    """
    if int(round_to) < 1:
        raise DisclosureError(f"round_to must be at least 1, got {round_to!r}")
    base = float(round_to)
    if isinstance(n, pd.Series):
        values = n.astype(float)
        return np.floor(values / base + 0.5) * base
    out = np.floor(np.asarray(n, dtype=float) / base + 0.5) * base
    return float(out) if out.ndim == 0 else out


def band(numerator, denominator, min_cell: int) -> tuple[str, int, int] | None:
    """The band a hidden share is shown as, revealing no more than the threshold: ``("below", k,
    n)`` for "minder dan k van de n" (numerator below ``min_cell``) or ``("above", n - k, n)`` for
    "meer dan n - k van de n" (complement below it); ``None`` when the share passes the two-cell
    rule or the counts are missing.

    >>> band(1, 11, 10), band(10, 11, 10), band(0, 40, 10), band(20, 40, 10)
    (('below', 10, 11), ('above', 1, 11), ('below', 10, 40), None)

    A band of both kinds at once (numerator and complement below the threshold, a denominator
    below ``2 * min_cell``) is given as "below": ``band(5, 12, 10)`` is ``('below', 10, 12)``.
    """
    try:
        x, n = float(numerator), float(denominator)
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(x) and np.isfinite(n)):
        return None
    if x < min_cell:
        return ("below", int(min_cell), int(n))
    if n - x < min_cell:
        return ("above", int(n - min_cell), int(n))
    return None


def _groupings(group) -> list[list[str]]:
    """``group`` as a list of groupings, each a list of column names."""
    if group is None:
        return []
    if isinstance(group, str):
        return [[group]]
    group = list(group)
    if all(isinstance(g, str) for g in group):
        return [group]
    return [[g] if isinstance(g, str) else list(g) for g in group]


def suppress(
    table: pd.DataFrame,
    settings: Settings | None = None,
    *,
    kind: str = "share",
    group: str | Sequence[str] | Sequence[Sequence[str]] | None = None,
    min_denominator: int | None = None,
    min_count: int | None = None,
    round_to: int | None = None,
    min_cell: int | None = None,
) -> pd.DataFrame:
    """Mark the cells of a table that may not be shown (disclosure control of indicators.md).

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy figures with at least ``numerator`` and ``denominator`` (usually also ``value``,
        ``ci_low``, ``ci_high`` and, for distributions, ``category``). Not modified.
    settings : Settings, optional
        Thresholds ``min_denominator``, ``min_count`` and ``round_to``; default ``settings.DEFAULT``.
    kind : {"share", "mean", "count"}, default "share"
        ``"share"``: every row is a share on its own (the two-cell rule). ``"mean"``: every row is
        a mean, median, quartile or other figure of ``denominator`` records (only
        ``min_denominator``). ``"count"``: rows are the cells of distributions (counts per
        ``category`` within a group; ``numerator`` is the cell count, ``denominator`` the group
        total), shown as counts.
    group : str, list of str, or list of lists of str, optional
        For ``kind="count"``: the columns that identify one distribution (e.g.
        ``["indicator", "institution", "period", "care_type"]``); the cells of a group are the
        rows sharing these values. Several groupings (a list of lists) protect the rows *and* the
        columns of a cross table; they are applied in turn until nothing changes. ``None`` treats
        the whole table as one distribution.
    min_denominator, min_count, round_to, min_cell : int, optional
        Override the settings.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with (replacing any existing columns of the same name):

        ``suppressed`` (bool)
            the row may not be shown: value, interval and counts are hidden by the report;
        ``suppression_reason`` (str)
            ``""``, ``"denominator"`` (denominator below ``min_denominator``), ``"cell"`` (a
            share's numerator below ``min_cell``), ``"complement"`` (a share's complement,
            denominator - numerator, below ``min_cell``), ``"count"`` (cell count below
            ``min_count``) or ``"complementary"`` (hidden so that another hidden cell cannot be
            recovered);
        ``shown_numerator``, ``shown_denominator`` (float)
            the counts rounded to multiples of ``round_to`` (:func:`round_count`), NaN where
            suppressed.

        ``value``, ``ci_low`` and ``ci_high`` are never changed.

    Raises
    ------
    DisclosureError
        For an unknown ``kind`` or a missing column (named in the message).

    Notes
    -----
    Rules (thresholds are settings):

    1. **Denominators** (every kind): a row whose ``denominator`` is below ``min_denominator`` (or
       missing) is suppressed. In a distribution this hides every cell of that group. This is the
       whole rule for means, medians and quartiles (``kind="mean"``).
    1b. **The two-cell rule for shares** (``kind="share"``): a share is suppressed when its
       numerator or its complement (denominator - numerator) is below ``min_cell`` (zero
       included): 1 of 11 and 10 of 11 alike would reveal a small group. Everything computed from
       the same cells (interval, O/E, adjusted share, funnel point, sentences) follows the row's
       ``suppressed``; the report shows a band instead (:func:`band`).
    2. **Counts** (``kind="count"``): a cell whose ``numerator`` is below ``min_count`` is suppressed;
       zero counts included (0 is below the threshold).
    3. **Complementary suppression** (``kind="count"``): within each group, when exactly one cell
       is hidden while other cells are visible, its count could be recovered as the group's total
       minus its visible siblings; then the smallest visible cell of that group (ties: the first
       row in table order) is hidden as well. With several groupings this is repeated over all of
       them until every row and column has 0 or at least 2 hidden cells (or only hidden cells).
       A group whose cells are all hidden shows no total either (``shown_denominator`` is NaN on
       each of its rows). Hidden cells whose sum is 0 (all structural zeros) can be inferred to be
       0; knowing that nobody in a group has a category is not treated as a disclosure.

    **Rounding does not replace rule 3.** Shown counts are rounded to multiples of ``round_to``,
    but the total minus the rounded siblings still bounds the hidden cell to a few values (each
    rounding error is at most ``round_to / 2``, and the hidden cell is known to lie in
    ``[0, min_count)``), and the shares shown beside the counts undo the rounding: for a
    rounded total of 85 (true 83-87) a sibling share of 47.1% is an integer count only for a true
    total of 85, which then gives every sibling, and the hidden cell, exactly (worked through in
    ``tests/test_disclosure.py::test_rounding_alone_would_not_protect``). Complementary suppression is therefore applied whether
    or not the total is shown, and regardless of rounding.

    Across tables, :func:`outcome_analysis.indicators.suppression.resuppress` adds what a results
    table needs: a pooled share and its per-informant parts, and the two halves of a year (a half
    is hidden with its twin, since the year report gives H1 + H2; distribution cells use the halves
    as a second grouping of rule 3). Out of scope (said in the report's data-quality section):
    national minus the other institutions, a headline against another indicator's breakdown of the
    same trajectories, and linear-programming attacks on cross tables with several hidden cells per
    row and column.

    All steps are vectorised with ``groupby``; the only loop is over the (few) groupings until a
    fixed point, bounded by the number of rows.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"institution": ["A"] * 4 + ["B"],
    ...                   "category": ["plan", "client", "provider", "unknown", "plan"],
    ...                   "numerator": [40, 12, 30, 3, 9], "denominator": [85, 85, 85, 85, 9]})
    >>> out = suppress(t, kind="count", group="institution")
    >>> out[["category", "suppressed", "suppression_reason", "shown_numerator"]]
       category  suppressed suppression_reason  shown_numerator
    0      plan       False                                40.0
    1    client        True      complementary              NaN
    2  provider       False                                30.0
    3   unknown        True              count              NaN
    4      plan        True        denominator              NaN
    """
    if kind not in _KINDS:
        raise DisclosureError(f"kind must be one of {_KINDS}, got {kind!r}")
    settings = DEFAULT if settings is None else settings
    min_denominator = settings.min_denominator if min_denominator is None else min_denominator
    min_count = settings.min_count if min_count is None else min_count
    round_to = settings.round_to if round_to is None else round_to
    min_cell = settings.min_cell if min_cell is None else min_cell
    groupings = _groupings(group)

    needed = ["numerator", "denominator"] + [c for g in groupings for c in g]
    missing = [c for c in dict.fromkeys(needed) if c not in table.columns]
    if missing:
        raise DisclosureError(
            f"suppress(kind={kind!r}) needs column(s) {missing}; the table has {list(table.columns)}"
        )

    out = table.copy()
    numerator = out["numerator"].astype(float).to_numpy()
    denominator = out["denominator"].astype(float).to_numpy()

    reason = np.full(len(out), "", dtype=object)
    small_den = ~(denominator >= min_denominator)  # NaN denominators are suppressed too
    if kind == "share":
        reason[~(denominator - numerator >= min_cell)] = "complement"
        reason[~(numerator >= min_cell)] = "cell"
    reason[small_den] = "denominator"
    if kind == "count":
        small_count = ~(numerator >= min_count) & ~small_den
        reason[small_count] = "count"
        if not groupings:
            groupings = [[]]
        reason = _complementary(out, reason, numerator, groupings)

    hidden = reason != ""
    out["suppressed"] = hidden
    out["suppression_reason"] = pd.array(reason, dtype="str")
    out["shown_numerator"] = np.where(hidden, np.nan, round_count(numerator, round_to))
    out["shown_denominator"] = np.where(hidden, np.nan, round_count(denominator, round_to))
    return out


def _complementary(table: pd.DataFrame, reason: np.ndarray, numerator: np.ndarray, groupings) -> np.ndarray:
    """Rule 3: hide the smallest visible sibling wherever a group has exactly one hidden cell."""
    reason = reason.copy()
    n = len(table)
    if n == 0:
        return reason
    keys = []
    for cols in groupings:
        if cols:
            keys.append(table.groupby(list(cols), sort=False, dropna=False).ngroup().to_numpy())
        else:
            keys.append(np.zeros(n, dtype=np.int64))
    # smallest first, ties by table order; NaN counts (hidden anyway) last
    order_value = np.where(np.isnan(numerator), np.inf, numerator)
    for _ in range(n + 1):
        changed = False
        for key in keys:
            hidden = reason != ""
            frame = pd.DataFrame({"key": key, "hidden": hidden, "v": order_value, "pos": np.arange(n)})
            n_hidden = frame.groupby("key")["hidden"].transform("sum").to_numpy()
            n_cells = frame.groupby("key")["hidden"].transform("size").to_numpy()
            exposed = (n_hidden == 1) & (n_cells > 1)
            candidates = frame[exposed & ~hidden].sort_values(["key", "v", "pos"], kind="stable")
            first = candidates.drop_duplicates("key", keep="first")["pos"].to_numpy()
            if len(first):
                reason[first] = "complementary"
                changed = True
        if not changed:
            break
    return reason
