"""Control charts and the before/after judgement of an improvement action.

Pure functions, arrays or frames in, frames/arrays/dicts out; no data access, no formatting.

- :func:`p_chart` -- Shewhart p-chart with limits that vary with the denominator of each point
  (Montgomery, *Introduction to Statistical Quality Control*, ch. 7, "control chart for fraction
  nonconforming" with variable sample size; NHS England, *Making data count*).
- :func:`vlad` -- variable life-adjusted display: cumulative expected minus observed events
  (Lovegrove, Valencia, Treasure, Sherlaw-Johnson & Gallivan 1997, *Lancet* 350:1128-1130).
- :func:`risk_adjusted_cusum` -- the risk-adjusted log-likelihood-ratio CUSUM of Steiner, Cook,
  Farewell & Treasure (2000), *Biostatistics* 1(4):441-452.
- :func:`before_after` -- the judgement of one action: the ratio of O/E after to O/E before with a
  log-scale interval (risk-adjusted), or the difference of shares with Newcombe's hybrid score
  interval (Newcombe 1998, *Statistics in Medicine* 17:873-890, method 10).

All shares are fractions (0.25, not 25). Input that is out of the domain raises
:class:`outcome_analysis.statistics.stats.StatsInputError` (a ``ValueError``) naming the argument.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from outcome_analysis.statistics.stats import StatsInputError
from outcome_analysis.statistics.verdict import read, share_change

__all__ = [
    "CHANGES",
    "METHODS",
    "p_chart",
    "vlad",
    "risk_adjusted_cusum",
    "before_after",
]

#: The values of ``before_after(...)["change"]``.
CHANGES = ("lower", "higher", "no_change", "too_early")
#: The values of ``before_after(...)["method"]``.
METHODS = ("oe_ratio", "newcombe")
#: ``verdict.read`` (the one place a verdict is read from an interval) in the words of a change.
_CHANGE_OF_SIGNAL = {"lower": "lower", "higher": "higher", "within": "no_change"}


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _vector(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"{name} must be numeric, got {values!r}") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise StatsInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _index_of(*values):
    for v in values:
        if isinstance(v, pd.Series):
            return v.index
    return None


def _same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise StatsInputError(f"{name_a} and {name_b} must have the same length, got {a.size} and {b.size}")


def _check_conf(conf: float) -> float:
    conf = float(conf)
    if not 0 < conf < 1:
        raise StatsInputError(f"conf must be a fraction between 0 and 1 (0.95, not 95), got {conf!r}")
    return conf


# --------------------------------------------------------------------------------------------------
# p-chart
# --------------------------------------------------------------------------------------------------


def p_chart(numerator, denominator, *, baseline: float | None = None) -> pd.DataFrame:
    """Shewhart p-chart (fraction chart) with limits per point for varying denominators.

    Per point ``i``: ``p_i = x_i / n_i``; the centre line ``p̄`` is ``baseline`` when given (e.g. the
    share of the 12 months before an action), else the pooled share ``Σx / Σn`` over the points that
    have both a numerator and a denominator; the 3-sigma limits are
    ``p̄ ± 3 sqrt(p̄ (1 − p̄) / n_i)``, clipped to ``[0, 1]``.

    Parameters
    ----------
    numerator : array_like or Series, shape (k,)
        Events per point (counts >= 0). NaN marks a point that is not shown (e.g. hidden by the
        disclosure rule): its ``p`` is NaN and it is never ``outside``; it does not count towards
        the pooled centre.
    denominator : array_like or Series, shape (k,)
        Records per point (counts >= 0). A point with ``n_i = 0`` or NaN has NaN ``p`` and limits.
    baseline : float, optional
        Fixed centre line, a fraction in ``[0, 1]``.

    Returns
    -------
    pandas.DataFrame
        One row per point (the index of a Series argument, else 0..k-1) with float columns ``p``,
        ``centre``, ``lcl``, ``ucl`` (fractions) and bool ``outside`` (``p > ucl`` or ``p < lcl``,
        strictly beyond a limit, as in Montgomery's rule 1).

    Raises
    ------
    StatsInputError
        Different lengths, negative counts, a numerator above its denominator, a baseline outside
        ``[0, 1]``, or no point with a denominator when no baseline is given.

    Examples
    --------
    >>> p_chart([3, 5, 2], [20, 25, 10]).round(4)
          p  centre  lcl     ucl  outside
    0  0.15  0.1818  0.0  0.4405    False
    1  0.20  0.1818  0.0  0.4132    False
    2  0.20  0.1818  0.0  0.5477    False
    """
    index = _index_of(numerator, denominator)
    x = _vector(numerator, "numerator")
    n = _vector(denominator, "denominator")
    _same_length(x, n, "numerator", "denominator")
    if np.any(x[np.isfinite(x)] < 0):
        raise StatsInputError(f"numerator must be >= 0, got {x[np.isfinite(x) & (x < 0)][0]!r}")
    if np.any(n[np.isfinite(n)] < 0):
        raise StatsInputError(f"denominator must be >= 0, got {n[np.isfinite(n) & (n < 0)][0]!r}")
    both = np.isfinite(x) & np.isfinite(n)
    if np.any(x[both] > n[both]):
        i = int(np.flatnonzero(both & (x > n))[0])
        raise StatsInputError(f"numerator {x[i]!r} is above its denominator {n[i]!r} (point {i})")
    if baseline is None:
        pooled = both & (n > 0)
        if not pooled.any():
            raise StatsInputError("p_chart needs at least one point with a denominator > 0 when no baseline is given")
        centre = float(x[pooled].sum() / n[pooled].sum())
    else:
        centre = float(baseline)
        if not 0 <= centre <= 1:
            raise StatsInputError(f"baseline must be a fraction in [0, 1], got {baseline!r}")
    has_n = np.isfinite(n) & (n > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(both & has_n, x / n, np.nan)
        sigma = np.where(has_n, np.sqrt(centre * (1 - centre) / n), np.nan)
    lcl = np.clip(centre - 3 * sigma, 0.0, 1.0)
    ucl = np.clip(centre + 3 * sigma, 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        outside = np.isfinite(p) & ((p > ucl) | (p < lcl))
    return pd.DataFrame(
        {"p": p, "centre": np.full(x.shape, centre), "lcl": lcl, "ucl": ucl, "outside": outside.astype(bool)},
        index=index,
    )


# --------------------------------------------------------------------------------------------------
# VLAD and CUSUM
# --------------------------------------------------------------------------------------------------


def _observed_expected(observed, expected) -> tuple[np.ndarray, np.ndarray]:
    o = _vector(observed, "observed")
    e = _vector(expected, "expected")
    _same_length(o, e, "observed", "expected")
    if not np.all(np.isfinite(o)):
        raise StatsInputError("observed must not contain missing values")
    if not np.all(np.isfinite(e)):
        raise StatsInputError("expected must not contain missing values")
    if np.any(o < 0):
        raise StatsInputError(f"observed must be >= 0, got {o[o < 0][0]!r}")
    if np.any(e < 0):
        raise StatsInputError(f"expected must be >= 0, got {e[e < 0][0]!r}")
    return o, e


def vlad(observed, expected) -> np.ndarray:
    """Variable life-adjusted display: the running sum of expected minus observed events.

    ``VLAD_t = Σ_{i<=t} (E_i − O_i)`` in the order given (the caller sorts the records by end date,
    or passes per-period totals in time order). For an unwanted outcome (uitval) a rising line means
    fewer events than the case-mix model expects ("events saved"). Lovegrove et al. (1997),
    *Lancet* 350:1128-1130.

    Parameters
    ----------
    observed : array_like, shape (k,)
        Observed events per record (0/1) or per period (counts >= 0), no missing values.
    expected : array_like, shape (k,)
        Expected events per record (model probability in [0, 1]) or per period (sum of probabilities).

    Returns
    -------
    numpy.ndarray, shape (k,)
        The cumulative ``E − O`` after each record (events; float).

    Raises
    ------
    StatsInputError
        Different lengths, missing or negative values.

    Examples
    --------
    >>> vlad([0, 1, 1, 0], [0.2, 0.5, 0.4, 0.3]).round(2).tolist()
    [0.2, -0.3, -0.9, -0.6]
    """
    o, e = _observed_expected(observed, expected)
    return np.cumsum(e - o)


def risk_adjusted_cusum(observed, expected, *, odds_ratio: float = 2.0, reset: float | None = None) -> np.ndarray:
    """Risk-adjusted CUSUM (Steiner, Cook, Farewell & Treasure 2000).

    A log-likelihood-ratio CUSUM of binary outcomes against the case-mix probabilities ``p_t``: it
    tests the odds ratio ``R_0 = 1`` (the model holds) against ``R_A = odds_ratio``. Each record adds
    the weight ``W_t = y_t log(R_A) − log(1 − p_t + R_A p_t)`` and the chart is
    ``X_t = max(0, X_{t−1} + W_t)`` with ``X_0 = 0``. ``odds_ratio > 1`` (default 2, doubling of
    the odds) detects a rise of the event rate, ``odds_ratio < 1`` (e.g. 0.5) a fall. The chart
    signals when ``X_t`` crosses a threshold ``h`` chosen for an acceptable run length (Steiner et
    al. use h between 2 and 5); pass ``reset=h`` to restart at 0 after each crossing.

    Parameters
    ----------
    observed : array_like, shape (k,)
        Observed outcome per record, 0 or 1, in end-date order.
    expected : array_like, shape (k,)
        Model probability per record, in ``[0, 1]``.
    odds_ratio : float
        The alternative odds ratio ``R_A`` (> 0, != 1).
    reset : float, optional
        Threshold ``h`` (> 0) after which the chart restarts at 0.

    Returns
    -------
    numpy.ndarray, shape (k,)
        ``X_t`` after each record (log-likelihood ratio units, >= 0).

    Raises
    ------
    StatsInputError
        Different lengths, missing values, outcomes other than 0/1, probabilities outside [0, 1],
        ``odds_ratio <= 0`` or ``== 1``, ``reset <= 0``.

    Examples
    --------
    >>> risk_adjusted_cusum([1, 1, 0], [0.5, 0.5, 0.5]).round(4).tolist()
    [0.2877, 0.5754, 0.1699]
    """
    o, e = _observed_expected(observed, expected)
    if not np.all((o == 0) | (o == 1)):
        raise StatsInputError("observed must be 0 or 1 per record for the risk-adjusted CUSUM")
    if np.any(e > 1):
        raise StatsInputError(f"expected must be probabilities in [0, 1], got {e[e > 1][0]!r}")
    ra = float(odds_ratio)
    if not (ra > 0 and ra != 1):
        raise StatsInputError(f"odds_ratio must be > 0 and not 1, got {odds_ratio!r}")
    if reset is not None and not float(reset) > 0:
        raise StatsInputError(f"reset must be > 0, got {reset!r}")
    weights = o * np.log(ra) - np.log(1 - e + ra * e)
    out = np.empty_like(weights)
    level = 0.0
    for i, w in enumerate(weights):
        level = max(0.0, level + w)
        out[i] = level
        if reset is not None and level > reset:
            level = 0.0
    return out


# --------------------------------------------------------------------------------------------------
# before/after
# --------------------------------------------------------------------------------------------------


def _totals(side, name: str) -> dict[str, float]:
    """Sum ``events``, ``n`` and (optional) ``expected`` of a dict or a frame."""
    if isinstance(side, pd.DataFrame):
        cols = side.columns
        get = {c: float(pd.to_numeric(side[c]).sum(min_count=1)) for c in ("events", "n", "expected") if c in cols}
    elif isinstance(side, Mapping):
        get = {}
        for c in ("events", "n", "expected"):
            if c in side and side[c] is not None:
                v = np.asarray(side[c], dtype=float)
                get[c] = float(np.nansum(v)) if v.size and not np.all(np.isnan(v)) else np.nan
    else:
        raise StatsInputError(f"{name} must be a dict or a DataFrame with events and n, got {type(side).__name__}")
    for c in ("events", "n"):
        if c not in get:
            raise StatsInputError(f"{name} needs '{c}'")
        if not np.isfinite(get[c]) or get[c] < 0:
            raise StatsInputError(f"{name}['{c}'] must be a count >= 0, got {get[c]!r}")
    if get["events"] > get["n"]:
        raise StatsInputError(f"{name}: events {get['events']!r} above n {get['n']!r}")
    if "expected" in get and np.isfinite(get["expected"]) and get["expected"] < 0:
        raise StatsInputError(f"{name}['expected'] must be >= 0, got {get['expected']!r}")
    if "expected" in get and not np.isfinite(get["expected"]):
        del get["expected"]
    return get


def before_after(before, after, *, conf: float = 0.95, min_expected: float = 5.0) -> dict:
    """Judge the change of an event share between the window before an action and the window after.

    Two methods, chosen by the input:

    - **oe_ratio** (both sides have ``expected``, the events the case-mix model expects):
      ``R = (O_a / E_a) / (O_b / E_b)`` with the log-scale interval
      ``exp(log R ± z sqrt(1/O_a + 1/O_b))`` (the expected counts are treated as fixed and the
      observed ones as Poisson; Breslow & Day 1987, *Statistical Methods in Cancer Research* II,
      ch. 2-3, comparison of two SMRs; ``statsmodels.stats.rates.confint_poisson_2indep`` method
      ``"wald-log"``, W3A in Gu, Ng, Tang & Schucany 2008, *Biometrical Journal* 50:2). When an
      observed count is 0 the log interval is undefined; then 0.5 is added to both observed counts
      for the interval (method ``"waldcc"`` of the same function) while ``ratio`` stays the raw
      estimate (0, or ``inf`` when ``O_b = 0``). ``change`` reads the interval against 1.
    - **newcombe** (otherwise): the difference of shares ``p_a − p_b`` with Newcombe's hybrid score
      interval (Newcombe 1998, *Stat Med* 17:873-890, method 10; ``statsmodels``
      ``confint_proportions_2indep(method="newcomb", compare="diff")``, through
      :func:`outcome_analysis.statistics.verdict.share_change`), read against 0.

    The interval is read by :func:`outcome_analysis.statistics.verdict.read` (``within`` is
    ``no_change`` here).

    ``change`` is ``"too_early"`` (and the interval NaN) when the events expected after the action
    are below ``min_expected``: ``E_a`` with a model, else ``n_a · p_b`` (the after-window's size
    times the share before, i.e. the events expected if nothing changed); always when the after
    window has no records (or ``E_a = 0``), whatever ``min_expected``; also when the before
    window has no records (or, with a model, ``E_b = 0``): there is nothing to compare with
    (``reason`` says which).

    Parameters
    ----------
    before, after : dict or pandas.DataFrame
        ``events`` (observed events O, count), ``n`` (records), optionally ``expected`` (E, the sum
        of the model probabilities). Scalars or arrays (summed), or a frame whose columns are summed
        (e.g. one row per quarter or per record). A missing/NaN ``expected`` on either side means
        no model: the Newcombe route.
    conf : float
        Level of the interval (fraction), default 0.95.
    min_expected : float
        Fewest expected events after the action for a judgement (events), default 5.

    Returns
    -------
    dict
        ``method`` ("oe_ratio" | "newcombe"), ``change`` ("lower" | "higher" | "no_change" |
        "too_early"), ``reason`` (None, "after_expected_below_min" or "no_baseline"), ``conf``,
        ``estimate`` (the ratio R or the difference p_a − p_b), ``ci_low``, ``ci_high`` (NaN when
        too early), ``events_before``, ``n_before``, ``share_before``, ``events_after``, ``n_after``,
        ``share_after`` (fractions; NaN when n = 0), ``expected_after_events`` (E_a, or n_a·p_b);
        with a model also ``expected_before``, ``expected_after``, ``oe_before``, ``oe_after``,
        ``ratio``; without: ``difference``.

    Raises
    ------
    StatsInputError
        A side without ``events``/``n``, negative counts, events above n, conf outside (0, 1).

    Examples
    --------
    >>> r = before_after({"events": 48, "n": 80}, {"events": 56, "n": 70})
    >>> r["method"], round(r["estimate"], 4), round(r["ci_low"], 4), round(r["ci_high"], 4), r["change"]
    ('newcombe', 0.2, 0.0524, 0.3339, 'higher')
    """
    conf = _check_conf(conf)
    b = _totals(before, "before")
    a = _totals(after, "after")
    ob, nb, oa, na = b["events"], b["n"], a["events"], a["n"]
    share_b = ob / nb if nb > 0 else np.nan
    share_a = oa / na if na > 0 else np.nan
    out: dict = {
        "conf": float(conf),
        "events_before": ob, "n_before": nb, "share_before": share_b,
        "events_after": oa, "n_after": na, "share_after": share_a,
        "reason": None,
    }
    model = "expected" in b and "expected" in a
    if model:
        eb, ea = b["expected"], a["expected"]
        oe_b = ob / eb if eb > 0 else np.nan
        oe_a = oa / ea if ea > 0 else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = float(np.float64(oe_a) / np.float64(oe_b)) if eb > 0 and ea > 0 else np.nan
        out.update(method="oe_ratio", expected_before=eb, expected_after=ea, oe_before=oe_b, oe_after=oe_a,
                   ratio=ratio, estimate=ratio, expected_after_events=ea)
        no_baseline = nb == 0 or eb <= 0
        early = not ea >= min_expected or ea <= 0 or na == 0
    else:
        diff = share_a - share_b
        expected_after = na * share_b if nb > 0 else np.nan
        out.update(method="newcombe", difference=diff, estimate=diff, expected_after_events=expected_after)
        no_baseline = nb == 0
        early = not expected_after >= min_expected or na == 0
    if no_baseline or early:
        out.update(change="too_early", ci_low=np.nan, ci_high=np.nan,
                   reason="no_baseline" if no_baseline else "after_expected_below_min")
        return out
    if model:
        from statsmodels.stats.rates import confint_poisson_2indep

        method = "wald-log" if oa > 0 and ob > 0 else "waldcc"
        low, high = confint_poisson_2indep(oa, ea, ob, eb, method=method, compare="ratio", alpha=1 - conf)
        low, high = float(low), float(high)
        signal = str(read(low, high, 1.0)[0])
    else:
        newcombe = share_change(oa, na, ob, nb, conf)  # the same Newcombe interval as every change
        low, high = float(newcombe["ci_low"][0]), float(newcombe["ci_high"][0])
        signal = str(newcombe["signal"][0])
    out.update(ci_low=low, ci_high=high, change=_CHANGE_OF_SIGNAL[signal])
    return out
